//! Dev tool for `scripts/oracle-diff.py`: runs automation cases natively.
//!
//! Reads one JSON case per stdin line (`{"id", "script", "inputs",
//! "trigger"}`) and prints one `{"id", "exit", "return", "error"}` line per
//! case. Every gated command is denied, as the oracle does without a
//! policy. The sandbox is not involved, so this is only a fast first check;
//! committed vectors go through the real binary.

use std::io::{BufRead, Write};

use katabox_runtime::{Host, LogLevel, RunRequest};
use katabox_value::Value;
use katabox_value::json::{from_serde, to_serde};

struct DenyAll;

impl Host for DenyAll {
    fn call(&mut self, command: &str, _node_id: &str, _payload: Value) -> Result<Value, String> {
        Err(format!("The command `{command}` is not allowed by policy."))
    }
    fn log(&mut self, _level: LogLevel, _node_id: &str, _message: &str) {}
}

fn main() -> std::io::Result<()> {
    let engine = katabox_twig::Engine::new(katabox_twig::Config::default());
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let Ok(case) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let text = |k: &str| {
            case.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        let inputs = case.get("inputs").map(from_serde).unwrap_or(Value::Null);
        let trigger = match text("trigger") {
            t if t.is_empty() => "cerb.trigger.automation.function".to_owned(),
            t => t,
        };
        let outcome = katabox_runtime::run(
            RunRequest {
                trigger,
                automation: "oracle".into(),
                script: text("script"),
                dict: inputs,
            },
            &mut DenyAll,
            &engine,
        );
        let result = serde_json::json!({
            "id": case.get("id").cloned().unwrap_or(serde_json::Value::Null),
            "exit": outcome.exit(),
            "return": outcome.returned().map(to_serde),
            "error": outcome.failure,
        });
        writeln!(out, "{result}")?;
    }
    Ok(())
}
