//! `queue.push:`, `queue.pop:` (automation queues).

use super::{call, map};
use crate::Error;
use crate::command::Gated;
use katabox_value::Value;

/// Pushes `messages` onto `queue_name`.
///
/// ```no_run
/// use katabox_guest::{Value, capabilities::queue};
/// queue::push("jobs", vec![Value::str("job-1"), Value::str("job-2")])?;
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn push(queue_name: &str, messages: Vec<Value>) -> Result<Value, Error> {
    call(
        Gated::QueuePush,
        map([
            ("queue_name", Value::str(queue_name)),
            ("messages", Value::list(messages)),
        ]),
    )
}

/// Pops up to `limit` messages from `queue_name`; the output has
/// `consumer_id` and `messages` (each with `queue`, `data`, `available_at`).
///
/// ```no_run
/// let out = katabox_guest::capabilities::queue::pop("jobs", 10)?;
/// let messages = out.get("messages");
/// # Ok::<(), katabox_guest::Error>(())
/// ```
pub fn pop(queue_name: &str, limit: i64) -> Result<Value, Error> {
    call(
        Gated::QueuePop,
        map([
            ("queue_name", Value::str(queue_name)),
            ("limit", Value::Int(limit)),
        ]),
    )
}
