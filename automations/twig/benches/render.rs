//! Render speed of katabox-twig against minijinja on equivalent templates:
//! (a) a filter chain, (b) a for-loop over 100 items, (c) JSON encoding and
//! pretty printing of a nested dictionary. minijinja is a dev-dependency
//! used only here, as a yardstick.

use criterion::{Criterion, criterion_group, criterion_main};
use katabox_twig::{Config, Engine};
use serde_json::json;
use std::hint::black_box;

fn data() -> serde_json::Value {
    let items: Vec<serde_json::Value> = (0..100)
        .map(|i| json!({"name": format!("item {i}"), "price": i * 3, "tags": ["a", "b"]}))
        .collect();
    json!({
        "name": "  Kina Halpue  ",
        "items": items,
        "data": {
            "user": {"id": 42, "name": "Kina", "roles": ["admin", "agent"], "active": true},
            "org": {"id": 7, "name": "Cerb", "address": {"city": "Los Angeles", "zip": "90001"}},
            "history": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "score": 3.25,
        },
    })
}

const CASES: &[(&str, &str, &str)] = &[
    (
        "filter_chain",
        "{{ name|trim|lower|upper|default('none')|length }}",
        "{{ name|trim|lower|upper|default('none')|length }}",
    ),
    (
        "for_loop_100",
        "{% for item in items %}{{ loop.index }}: {{ item.name }} ({{ item.price }})\n{% endfor %}",
        "{% for item in items %}{{ loop.index }}: {{ item.name }} ({{ item.price }})\n{% endfor %}",
    ),
    (
        "json_pretty",
        "{{ data|json_encode|json_pretty }}",
        "{{ data|tojson(indent=4) }}",
    ),
];

fn bench(c: &mut Criterion) {
    let json = data();
    let dict = katabox_value::json::from_serde(&json);
    let engine = Engine::new(Config::default());
    // minijinja gets its context converted once, as katabox does.
    let mj_ctx = minijinja::Value::from_serialize(&json);
    let mut env = minijinja::Environment::new();
    for (name, _, mj) in CASES {
        if let Err(e) = env.add_template(name, mj) {
            eprintln!("minijinja template {name}: {e}");
        }
    }
    for (name, twig, _) in CASES {
        let Ok(compiled) = engine.compile(twig) else {
            eprintln!("katabox template {name} does not compile");
            continue;
        };
        let mut g = c.benchmark_group(*name);
        g.bench_function("katabox", |b| {
            b.iter(|| {
                black_box(
                    engine
                        .render_template(&compiled, black_box(&dict))
                        .map(|s| s.len()),
                )
            })
        });
        if let Ok(t) = env.get_template(name) {
            g.bench_function("minijinja", |b| {
                b.iter(|| black_box(t.render(black_box(&mj_ctx)).map(|s| s.len())))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
