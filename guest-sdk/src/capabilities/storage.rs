//! `storage.get:`, `storage.set:`, `storage.delete:` (the automation key/value store).

use super::{call, map};
use crate::Error;
use crate::command::Gated;
use katabox_value::Value;

/// The value stored under `key`, or `default` when there is none.
///
/// ```no_run
/// use katabox_guest::{Value, capabilities::storage};
/// let visits = storage::get("visits", Value::Int(0))?;
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn get(key: &str, default: Value) -> Result<Value, Error> {
    call(
        Gated::StorageGet,
        map([("key", Value::str(key)), ("default", default)]),
    )
}

/// Stores `value` under `key`; `expires` is Cerb's relative time
/// (`"1 hour"`, `"30 min"`) or `None` to keep it.
///
/// ```no_run
/// use katabox_guest::{Value, capabilities::storage};
/// storage::set("visits", Value::Int(1), Some("1 day"))?;
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn set(key: &str, value: Value, expires: Option<&str>) -> Result<Value, Error> {
    let mut inputs = map([("key", Value::str(key)), ("value", value)]);
    if let Some(e) = expires {
        inputs.insert("expires", Value::str(e));
    }
    call(Gated::StorageSet, inputs)
}

/// Deletes `key`.
///
/// ```no_run
/// katabox_guest::capabilities::storage::delete("visits")?;
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn delete(key: &str) -> Result<Value, Error> {
    call(Gated::StorageDelete, map([("key", Value::str(key))]))
}
