//! The runtime component: exports the WIT `run` interface, forwarding
//! gated commands and logs to the world's imports (wasm32 only).

use crate::{Host, LogLevel, RunRequest};
use katabox_guest::bindings::exports::katabox::automation::run::{Guest, Outcome, Request};
use katabox_guest::command::Gated;
use katabox_guest::host::Imports;
use katabox_value::Value;

/// The runtime's [`Host`]: the world's imports.
struct ImportsHost(Imports);

impl Host for ImportsHost {
    fn call(&mut self, command: &str, node_id: &str, inputs: Value) -> Result<Value, String> {
        match Gated::from_name(command) {
            Some(g) => self.0.call(g, node_id, &inputs),
            None => Err(format!("`{command}` is not available in katabox")),
        }
    }

    fn log(&mut self, level: LogLevel, node_id: &str, message: &str) {
        self.0.log(level, node_id, message);
    }
}

struct Runtime;

/// The Twig engine, kept for the life of the instance: the host reuses warm
/// instances, so compiled templates (keyed by their text, never by a run's
/// data) survive from one run to the next.
fn engine() -> &'static katabox_twig::Engine {
    static ENGINE: std::sync::OnceLock<katabox_twig::Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| {
        // The host passes `serve --public-url` as a WASI variable.
        if let Ok(url) = std::env::var("KATABOX_PUBLIC_URL") {
            katabox_twig::set_public_url(&url);
        }
        katabox_twig::Engine::new(katabox_twig::Config::default())
    })
}

impl Guest for Runtime {
    fn run(request: Request) -> Outcome {
        let dict = match katabox_guest::decode(&request.dict) {
            Ok(v) => v,
            Err(e) => {
                return Outcome {
                    dict: katabox_guest::encode(&Value::empty_array()),
                    failure: Some(e.to_string()),
                };
            }
        };
        let mut host = ImportsHost(Imports);
        let outcome = crate::run(
            RunRequest {
                trigger: request.trigger,
                automation: request.automation,
                script: request.script,
                dict,
            },
            &mut host,
            engine(),
        );
        Outcome {
            dict: katabox_guest::encode(&outcome.dict),
            failure: outcome.failure,
        }
    }
}

katabox_guest::bindings::export!(Runtime);
