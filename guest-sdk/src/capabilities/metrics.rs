//! `metric.increment:`.

use super::{call, map};
use crate::Error;
use crate::command::Gated;
use katabox_value::{Array, Value};

/// Adds `value` to `metric_name` with optional `dimensions`.
///
/// ```no_run
/// use katabox_guest::{Array, Value, capabilities::metrics};
/// let mut dims = Array::new();
/// dims.insert("event", Value::str("push"));
/// metrics::increment("example.webhooks", 1.0, dims)?;
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn increment(metric_name: &str, value: f64, dimensions: Array) -> Result<Value, Error> {
    call(
        Gated::MetricIncrement,
        map([
            ("metric_name", Value::str(metric_name)),
            ("values", Value::Float(value)),
            ("dimensions", Value::array(dimensions)),
        ]),
    )
}
