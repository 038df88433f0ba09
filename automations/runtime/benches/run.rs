//! Native cost of one interpreter run (parse, build, run) for the seed's
//! webhook automation and an empty `start:`.

use criterion::{Criterion, criterion_group, criterion_main};
use katabox_runtime::{Host, LogLevel, RunRequest};
use katabox_value::{Array, Value};
use std::hint::black_box;

struct NoHost;

impl Host for NoHost {
    fn call(&mut self, command: &str, _node_id: &str, _payload: Value) -> Result<Value, String> {
        Err(format!(
            "The automation policy does not allow this command ({command})."
        ))
    }
    fn log(&mut self, _level: LogLevel, _node_id: &str, _message: &str) {}
}

const SEED: &str = "start:\n  set:\n    response:\n      http:\n        method@key: request_method\n        path@key: request_path\n        headers@key: request_headers\n        params@key: request_params\n      client:\n        ip@key: request_client_ip\n  return:\n    status_code: 200\n    headers:\n      Content-Type: application/json\n    body@text: {{response|json_encode|json_pretty}}";

fn request_dict() -> Value {
    let mut headers = Array::new();
    headers.insert("content_type", Value::str("application/json"));
    headers.insert("user_agent", Value::str("curl/8.0"));
    let mut params = Array::new();
    params.insert("name", Value::str("Joe Customer"));
    params.insert("age", Value::str("37"));
    let mut d = Array::new();
    d.insert("request_method", Value::str("POST"));
    d.insert("request_path", Value::str("some/folder"));
    d.insert("request_headers", Value::array(headers));
    d.insert("request_params", Value::array(params));
    d.insert("request_client_ip", Value::str("203.0.113.7"));
    d.insert("request_body", Value::str("{\"a\": 1}"));
    Value::array(d)
}

fn bench(c: &mut Criterion) {
    let engine = katabox_twig::Engine::new(katabox_twig::Config::default());
    let dict = request_dict();
    c.bench_function("run seed webhook automation", |b| {
        b.iter(|| {
            let out = katabox_runtime::run(
                RunRequest {
                    trigger: "cerb.trigger.webhook.respond".into(),
                    automation: "example.webhook.respond".into(),
                    script: SEED.into(),
                    dict: dict.clone(),
                },
                &mut NoHost,
                &engine,
            );
            black_box(out)
        });
    });
    c.bench_function("parts: parse the seed script", |b| {
        b.iter(|| black_box(katabox_kata::parse(black_box(SEED)).is_ok()));
    });
    let mut response = Array::new();
    response.insert("http", dict.clone());
    let response_dict = {
        let mut d = Array::new();
        d.insert("response", Value::array(response));
        Value::array(d)
    };
    c.bench_function("parts: render the seed body template", |b| {
        b.iter(|| {
            black_box(katabox_kata::Scripting::render(
                &engine,
                "{{response|json_encode|json_pretty}}",
                &response_dict,
            ))
        });
    });
    c.bench_function("run empty start", |b| {
        b.iter(|| {
            let out = katabox_runtime::run(
                RunRequest {
                    script: "start:\n".into(),
                    ..RunRequest::default()
                },
                &mut NoHost,
                &engine,
            );
            black_box(out)
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
