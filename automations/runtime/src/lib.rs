//! The automation interpreter: runs an automation's KATA script the way
//! Cerb's engine does (automations.md), against a [`Host`] that performs the
//! gated commands.
//!
//! - [`run`] / [`run_with`]: parse, validate `inputs:` (§4), build the node
//!   tree (§5), run the state machine (§6–12) and return the final
//!   dictionary and the failure message, if any.
//! - [`Host`]: the gated world (policy-checked by the host): `http.request`,
//!   `storage.*`, `queue.*`, `function`, `metric.increment`, `file.*`, and
//!   the log.
//!
//! On wasm32 the crate is the runtime component: `guest` exports the WIT
//! `run` interface over the guest-sdk imports.

mod commands;
mod dates;
mod engine;
mod inputs;
mod paths;
mod prepared;
mod tree;
mod validate;

#[cfg(target_arch = "wasm32")]
mod guest;

pub use katabox_guest::command::LogLevel;
pub use katabox_kata::Scripting;
use katabox_value::Value;

/// The gated world: implemented by the wasm imports, or by a test double.
pub trait Host {
    /// Runs gated `command` (`http.request`, `storage.get`, `function`, ...)
    /// for node `node_id`. `payload` is the envelope
    /// `{inputs, output?, uri?}`: the evaluated `inputs:` map (always
    /// present), the `output:` name when given (policies see it), and `uri:`
    /// for `function`. `Err` is the command error message (Cerb's text, e.g.
    /// a policy denial). An `http.request` result with a 4xx/5xx
    /// `status_code` (or an `error` key) is a command error whose output is
    /// the response map plus `error` (Guzzle's message), as in Cerb.
    fn call(&mut self, command: &str, node_id: &str, payload: Value) -> Result<Value, String>;
    /// Writes a line to the automation log.
    fn log(&mut self, level: LogLevel, node_id: &str, message: &str);
}

/// One run of an automation.
#[derive(Clone, Debug, Default)]
pub struct RunRequest {
    /// The trigger's extension id, e.g. `cerb.trigger.webhook.respond`.
    pub trigger: String,
    /// The automation's name.
    pub automation: String,
    /// The automation's KATA script.
    pub script: String,
    /// The initial dictionary (trigger keys, `inputs`, `__state` to resume).
    pub dict: Value,
}

/// What a run gives back.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The final dictionary, with `__exit`, `__return`, `__error`, `__state`.
    pub dict: Value,
    /// Cerb's failure message when the run failed (`__exit` is then `error`).
    pub failure: Option<String>,
}

impl Outcome {
    /// The exit state (`return`, `await`, `exit` or `error`).
    pub fn exit(&self) -> &str {
        self.dict
            .get("__exit")
            .and_then(Value::as_str)
            .unwrap_or("error")
    }

    /// The `__return` map, if any.
    pub fn returned(&self) -> Option<&Value> {
        self.dict.get("__return")
    }
}

/// The interpreter's own bounds (the host's sandbox adds time, fuel and
/// memory limits on top).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Node activations before the run stops in the `error` state.
    pub max_steps: u64,
    /// Nesting depth of the script's command tree.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 5_000_000,
            max_depth: 128,
        }
    }
}

/// Runs an automation with the default [`Limits`].
pub fn run(req: RunRequest, host: &mut dyn Host, scripting: &dyn Scripting) -> Outcome {
    run_with(req, host, scripting, &Limits::default())
}

/// Runs an automation with explicit [`Limits`].
pub fn run_with(
    req: RunRequest,
    host: &mut dyn Host,
    scripting: &dyn Scripting,
    limits: &Limits,
) -> Outcome {
    engine::run(req, host, scripting, limits)
}
