//! The production [`AutomationRunner`]: the wasm sandbox.

use crate::sandbox::{AutomationRecord, RunOptions, Sandbox};
use crate::store::AutomationRow;
use crate::webhooks::{AutomationRunner, BoxFuture, RunOutcome};
use katabox_value::Value;

/// Runs automations in the sandbox.
#[derive(Clone)]
pub struct SandboxRunner {
    sandbox: Sandbox,
}

impl SandboxRunner {
    /// Wraps a sandbox.
    pub fn new(sandbox: Sandbox) -> SandboxRunner {
        SandboxRunner { sandbox }
    }
}

/// The sandbox's view of a stored automation.
pub fn record_of(row: &AutomationRow) -> AutomationRecord {
    AutomationRecord {
        name: row.name.clone(),
        extension_id: row.extension_id.clone(),
        script: row.script.clone(),
        policy_kata: row.policy_kata.clone(),
    }
}

impl AutomationRunner for SandboxRunner {
    fn run<'a>(&'a self, automation: &'a AutomationRow, dict: Value) -> BoxFuture<'a, RunOutcome> {
        Box::pin(async move {
            let record = record_of(automation);
            let r = self.sandbox.run(&record, dict, RunOptions::default()).await;
            RunOutcome {
                exit: r.exit,
                dict: r.dict,
                failure: r.failure,
                logs: r
                    .logs
                    .iter()
                    .map(|l| {
                        serde_json::json!({
                            "level": format!("{:?}", l.level).to_ascii_lowercase(),
                            "node_id": l.node_id,
                            "message": l.message,
                        })
                    })
                    .collect(),
                duration: r.duration,
                fuel_used: r.fuel_used,
            }
        })
    }
}
