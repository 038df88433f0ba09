//! `queue.push`, `queue.pop` (automations.md §13.2).

use super::data::{DataStore, QueueMessage};
use super::inputs::{self, object};
use super::now;
use katabox_value::{Array, Value, convert};

/// Most messages one `queue.pop` may return.
pub const MAX_POP: usize = 1_000;

/// Validates the inputs of a queue command.
pub fn validate(command: &str, inputs: &mut Value) -> Result<(), String> {
    inputs::required_str(inputs, "queue_name")?;
    if command == "queue.push" {
        match inputs.get("messages") {
            None => return Err("`inputs:messages:` is required.".into()),
            Some(Value::Array(a)) if !a.is_empty() => {}
            Some(Value::Array(_)) => return Err("'inputs:messages:' must not be blank.".into()),
            Some(_) => return Err("'inputs:messages:' must be an array.".into()),
        }
    }
    Ok(())
}

/// `queue.push`: output the list of message ids.
pub fn push(data: &dyn DataStore, inputs: &Value) -> Result<Value, String> {
    let queue = inputs::opt_str(inputs, "queue_name").unwrap_or_default();
    if !data.queue_exists(&queue).map_err(|e| e.to_string())? {
        return Err(format!("Unknown queue `{queue}`"));
    }
    let available_at = inputs
        .get("available_at")
        .map(convert::to_int)
        .unwrap_or_else(now);
    let messages: Vec<QueueMessage> = inputs
        .get("messages")
        .and_then(Value::as_array)
        .map(|a| {
            a.values()
                .map(|m| QueueMessage {
                    id: uuid::Uuid::new_v4().to_string(),
                    data: m.clone(),
                    available_at,
                })
                .collect()
        })
        .unwrap_or_default();
    let ids = Value::list(messages.iter().map(|m| Value::str(&m.id)));
    data.queue_push(&queue, messages)
        .map_err(|e| e.to_string())?;
    Ok(ids)
}

/// `queue.pop`: output `{consumer_id, messages: {uuid: {queue, data, available_at}}}`.
pub fn pop(data: &dyn DataStore, inputs: &Value) -> Result<Value, String> {
    let queue = inputs::opt_str(inputs, "queue_name").unwrap_or_default();
    let limit = inputs
        .get("limit")
        .map(convert::to_int)
        .unwrap_or(1)
        .clamp(0, MAX_POP as i64) as usize;
    let popped = data
        .queue_pop(&queue, limit, now())
        .map_err(|e| e.to_string())?;
    let mut messages = Array::new();
    for m in popped {
        messages.insert(
            m.id.as_str(),
            object([
                ("queue", Value::str(&queue)),
                ("data", m.data),
                ("available_at", Value::Int(m.available_at)),
            ]),
        );
    }
    Ok(object([
        ("consumer_id", Value::str(uuid::Uuid::new_v4().to_string())),
        ("messages", Value::array(messages)),
    ]))
}
