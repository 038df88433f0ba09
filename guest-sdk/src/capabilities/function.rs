//! `function:`: runs another automation by name and returns its `__return`.

use super::map;
use crate::Error;
use crate::command::Gated;
use katabox_value::{Array, Value};

/// Runs the automation `uri` (`cerb:automation:<name>` or the bare name)
/// with `inputs`; the result is its `__return`, or an error with its
/// failure message.
///
/// ```no_run
/// use katabox_guest::{Array, Value, capabilities::function};
/// let mut inputs = Array::new();
/// inputs.insert("name", Value::str("Kina"));
/// let greeting = function::call("cerb:automation:example.greet", inputs)?;
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn call(uri: &str, inputs: Array) -> Result<Value, Error> {
    let mut envelope = map([("inputs", Value::array(inputs))]);
    envelope.insert("uri", Value::str(uri));
    super::send(
        Gated::Function,
        &super::node_id(Gated::Function),
        &Value::array(envelope),
    )
}
