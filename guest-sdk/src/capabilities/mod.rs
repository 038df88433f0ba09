//! Typed functions for the host's capabilities. Each builds the command's
//! `inputs` map as KATA would, sends it to the matching import, and returns
//! the output or an [`Error`] with the host's (Cerb's) message. The
//! automation's policy gates every call, under node ids such as
//! `start:http.request/rust:`.
//!
//! Outside the sandbox (a non-wasm build, e.g. unit tests of a guest's
//! logic) every call fails with [`NOT_IN_SANDBOX`].

pub mod files;
pub mod function;
pub mod http;
pub mod log;
pub mod metrics;
pub mod queue;
pub mod secrets;
pub mod storage;

use crate::Error;
use crate::command::Gated;
use katabox_value::{Array, Value};

/// The error of a capability call made outside the sandbox.
pub const NOT_IN_SANDBOX: &str = "katabox capabilities are only available inside the sandbox";

/// The node id the SDK reports for `command` (`start:<command>/rust:`).
pub fn node_id(command: Gated) -> String {
    format!("start:{}/rust:", command.name())
}

/// Runs gated `command` with the evaluated `inputs` map, under node
/// [`node_id`]. The typed functions of the submodules use it; call it
/// directly for inputs they do not cover.
///
/// ```no_run
/// use katabox_guest::{Array, Value, command::Gated, capabilities};
/// let mut inputs = Array::new();
/// inputs.insert("key", Value::str("visits"));
/// let visits = capabilities::call(Gated::StorageGet, inputs)?;
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn call(command: Gated, inputs: Array) -> Result<Value, Error> {
    let mut envelope = Array::new();
    envelope.insert("inputs", Value::array(inputs));
    send(command, &node_id(command), &Value::array(envelope))
}

#[cfg(target_arch = "wasm32")]
fn send(command: Gated, node_id: &str, envelope: &Value) -> Result<Value, Error> {
    crate::host::Imports
        .call(command, node_id, envelope)
        .map_err(Error::new)
}

#[cfg(not(target_arch = "wasm32"))]
fn send(_command: Gated, _node_id: &str, _envelope: &Value) -> Result<Value, Error> {
    Err(Error::new(NOT_IN_SANDBOX))
}

/// A map from `(key, value)` pairs.
pub(crate) fn map<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Array {
    let mut a = Array::new();
    for (k, v) in pairs {
        a.insert(k, v);
    }
    a
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn calls_outside_the_sandbox_fail_with_a_clear_message() {
        let err = call(Gated::StorageGet, Array::new()).err();
        assert_eq!(
            err.map(|e| e.message().to_string()),
            Some(NOT_IN_SANDBOX.to_string())
        );
    }

    #[test]
    fn node_ids_name_the_command() {
        assert_eq!(node_id(Gated::HttpRequest), "start:http.request/rust:");
    }
}
