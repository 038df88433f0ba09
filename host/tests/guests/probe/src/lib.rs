//! Probe guest: `script` is one command per line.
//!
//! - `spin`: loops forever; `alloc`: grows memory without bound;
//! - `trap`: hits `unreachable`; `burn N`: N iterations of busy work;
//! - `call COMMAND`: calls the gated import (`http.request`, `storage.get`,
//!   ..., `secrets.hmac` with `{secret, algorithm, data}`)
//!   with `dict.payload`, storing the answer in `dict.result` or the command
//!   error in `dict.error`;
//! - `log MESSAGE`: writes an info log line;
//! - `fail MESSAGE`: ends with a failure;
//! - `return`: sets `__exit = return` and `__return = dict.payload`.
//!
//! Without `return` the run ends with `__exit = exit`.

wit_bindgen::generate!({
    path: "../../../../guest-sdk/wit",
    world: "automation",
});

use exports::katabox::automation::run::{Guest, Outcome, Request};
use katabox::automation::types::CommandError;
use katabox_value::{Value, wire};

struct Probe;

fn call(command: &str, node: &str, inputs: Vec<u8>) -> Result<Vec<u8>, CommandError> {
    use katabox::automation::*;
    match command {
        "http.request" => http::request(node, &inputs),
        "storage.get" => storage::get(node, &inputs),
        "storage.set" => storage::set(node, &inputs),
        "storage.delete" => storage::delete(node, &inputs),
        "queue.push" => queue::push(node, &inputs),
        "queue.pop" => queue::pop(node, &inputs),
        "function" => automations::call(node, &inputs),
        "metric.increment" => metrics::increment(node, &inputs),
        "file.read" => files::read(node, &inputs),
        "file.write" => files::write(node, &inputs),
        // payload: {secret, algorithm, data}; the answer is the digest's bytes.
        "secrets.hmac" => {
            let v = wire::decode(&inputs).unwrap_or(Value::Null);
            let text = |k: &str| v.get(k).map(|x| x.to_string_lossy()).unwrap_or_default();
            secrets::hmac(node, &text("secret"), &text("algorithm"), text("data").as_bytes())
                .map(|digest| wire::encode(&Value::bytes(digest)))
        }
        other => Err(CommandError { message: format!("probe: unknown command {other}") }),
    }
}

#[inline(never)]
fn busy(n: u64) -> u64 {
    let mut x = 1u64;
    for i in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        core::hint::black_box(&x);
    }
    x
}

impl Guest for Probe {
    fn run(request: Request) -> Outcome {
        let mut dict = wire::decode(&request.dict).unwrap_or_else(|_| Value::empty_array());
        if dict.as_array().is_none() {
            dict = Value::empty_array();
        }
        let mut exit = "exit";
        for line in request.script.lines() {
            let line = line.trim();
            let (cmd, arg) = line.split_once(' ').unwrap_or((line, ""));
            match cmd {
                "spin" => loop {
                    busy(1000);
                },
                "alloc" => {
                    let mut hoard: Vec<Vec<u8>> = Vec::new();
                    loop {
                        hoard.push(vec![1u8; 1 << 20]);
                        core::hint::black_box(&hoard);
                    }
                }
                "trap" => core::arch::wasm32::unreachable(),
                "burn" => {
                    busy(arg.parse().unwrap_or(0));
                }
                "log" => katabox::automation::log::write(
                    katabox::automation::log::Level::Info,
                    "start:log",
                    arg,
                ),
                "fail" => {
                    return Outcome { dict: wire::encode(&dict), failure: Some(arg.to_string()) };
                }
                "call" => {
                    let payload = dict.get("payload").cloned().unwrap_or(Value::Null);
                    let node = format!("start:{arg}");
                    let answer = call(arg, &node, wire::encode(&payload));
                    if let Some(a) = dict.as_array_mut() {
                        match answer {
                            Ok(bytes) => a.insert("result", wire::decode(&bytes).unwrap_or(Value::Null)),
                            Err(e) => a.insert("error", Value::str(e.message)),
                        }
                    }
                }
                "return" => {
                    exit = "return";
                    let payload = dict.get("payload").cloned().unwrap_or(Value::Null);
                    if let Some(a) = dict.as_array_mut() {
                        a.insert("__return", payload);
                    }
                    break;
                }
                _ => {}
            }
        }
        if let Some(a) = dict.as_array_mut() {
            a.insert("__exit", Value::str(exit));
        }
        Outcome { dict: wire::encode(&dict), failure: None }
    }
}

export!(Probe);
