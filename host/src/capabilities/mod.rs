//! One module per capability (http, storage, queue, automations, metrics,
//! files, secrets, log). Each gated call goes through [`dispatch`]: split
//! the payload, validate the inputs (Cerb's texts), ask the policy (a command
//! that no rule can allow is denied without evaluating anything), act.
//!
//! **Payload convention.** A guest passes each gated command either its
//! evaluated `inputs` map, or the command's parameter map
//! `{inputs, output, uri}` (an "envelope": a map with an `inputs` or `uri`
//! key and no keys other than `inputs`, `output`, `uri`). `function` needs
//! the envelope (for `uri`); the envelope also gives policies `output`.

pub mod automations;
pub mod data;
pub mod files;
pub mod http;
pub mod inputs;
pub mod log;
pub mod metrics;
pub mod queue;
pub mod secrets;
pub mod storage;

pub use data::{DataError, DataStore, MemoryStore, QueueMessage, Resource};

use crate::policy::{self, Policy};
use crate::sandbox::Sandbox;
use katabox_value::Value;

/// The parts of a gated command's payload.
#[derive(Debug, Clone)]
pub struct Payload {
    /// The evaluated `inputs:` map (an empty array when absent).
    pub inputs: Value,
    /// The `output:` name, if the guest sent it.
    pub output: Option<String>,
    /// The `uri:` parameter (`function`).
    pub uri: Option<String>,
}

impl Payload {
    /// Splits a payload per the module's convention.
    pub fn split(value: Value) -> Payload {
        let is_envelope = value.as_array().is_some_and(|a| {
            !a.is_empty()
                && (a.get_str("inputs").is_some() || a.get_str("uri").is_some())
                && a.keys()
                    .all(|k| matches!(k.to_string_lossy().as_str(), "inputs" | "output" | "uri"))
        });
        if !is_envelope {
            let inputs = if value.is_null() {
                Value::empty_array()
            } else {
                value
            };
            return Payload {
                inputs,
                output: None,
                uri: None,
            };
        }
        let text = |k: &str| {
            value
                .get(k)
                .filter(|v| !v.is_null())
                .map(|v| v.to_string_lossy())
        };
        Payload {
            inputs: value
                .get("inputs")
                .cloned()
                .unwrap_or_else(Value::empty_array),
            output: text("output"),
            uri: text("uri"),
        }
    }
}

/// What a gated call may use: the run's policy, the sandbox (for
/// `function:`, data and HTTP), and the calling run's nesting depth.
pub struct CallContext<'a> {
    /// The running automation's policy.
    pub policy: &'a Policy,
    /// The sandbox (services, nested runs).
    pub sandbox: &'a Sandbox,
    /// Nesting depth of the calling run (0 = top level).
    pub depth: u32,
    /// The calling run's number in its request (0: the top-level run).
    pub seq: usize,
    /// The running automation's name.
    pub automation: &'a str,
    /// What the run's request shares with its nested calls (group,
    /// memory budget); `None` outside a run.
    pub request: Option<std::sync::Arc<crate::sandbox::RequestBudget>>,
}

/// The gated commands this host implements.
pub const COMMANDS: &[&str] = &[
    "http.request",
    "storage.get",
    "storage.set",
    "storage.delete",
    "queue.push",
    "queue.pop",
    "function",
    "metric.increment",
    "file.read",
    "file.write",
];

/// Runs one gated command: validate, ask the policy, act. `Err` is the
/// command error (Cerb's message).
pub async fn dispatch(
    ctx: &CallContext<'_>,
    command: &str,
    node_id: &str,
    payload: Value,
) -> Result<Value, String> {
    let mut p = Payload::split(payload);
    // 1. Validate (validation errors come before a policy denial).
    match command {
        "http.request" => http::validate(&mut p.inputs)?,
        "storage.get" | "storage.set" | "storage.delete" => {
            storage::validate(command, &mut p.inputs)?
        }
        "queue.push" | "queue.pop" => queue::validate(command, &mut p.inputs)?,
        "function" => automations::validate(&p)?,
        "metric.increment" => metrics::validate(&mut p.inputs)?,
        "file.read" | "file.write" => files::validate(command, &mut p.inputs)?,
        other => return Err(format!("`{other}` is not available in katabox")),
    }
    // 2. Policy.
    if !ctx.policy.may_allow(command) {
        return Err(denied(command));
    }
    let placeholders = policy::placeholders(
        node_id,
        command,
        &p.inputs,
        p.output.as_deref(),
        p.uri.as_deref(),
    );
    if !ctx
        .policy
        .allows(command, &placeholders, ctx.sandbox.scripting())
    {
        return Err(denied(command));
    }
    // 3. Act.
    let services = ctx.sandbox.services();
    match command {
        "http.request" => {
            // Each redirect hop is a new URL the policy must allow.
            let hop_allowed = |url: &str| {
                let mut inputs = p.inputs.clone();
                inputs::set(&mut inputs, "url", Value::str(url));
                let placeholders =
                    policy::placeholders(node_id, command, &inputs, p.output.as_deref(), None);
                ctx.policy
                    .allows(command, &placeholders, ctx.sandbox.scripting())
            };
            http::request(
                &services.http,
                &p.inputs,
                services.data.as_ref(),
                &hop_allowed,
            )
            .await
        }
        "storage.get" => storage::get(services.data.as_ref(), &p.inputs),
        "storage.set" => storage::set(services.data.as_ref(), &p.inputs),
        "storage.delete" => storage::delete(services.data.as_ref(), &p.inputs),
        "queue.push" => queue::push(services.data.as_ref(), &p.inputs),
        "queue.pop" => queue::pop(services.data.as_ref(), &p.inputs),
        "function" => automations::call(ctx, &p).await,
        "metric.increment" => metrics::increment(services.data.as_ref(), &p.inputs),
        "file.read" => files::read(services.data.as_ref(), &p.inputs),
        "file.write" => files::write(services.data.as_ref(), &p.inputs),
        other => Err(format!("`{other}` is not available in katabox")),
    }
}

/// Counts a policy denial (the command is one of [`COMMANDS`]) and gives
/// its message.
fn denied(command: &str) -> String {
    if let Some(known) = COMMANDS.iter().copied().find(|c| *c == command) {
        crate::metrics::policy_denial(known);
    }
    policy::denial_message(command)
}

/// The current Unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
