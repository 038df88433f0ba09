//! Event KATA: choosing the automation a request runs (webhooks.md §4).

use super::lang;
use crate::store::AutomationRow;
use katabox_value::{Array, Value};
use std::sync::{Arc, OnceLock};

/// The trigger a webhook automation must have.
pub const WEBHOOK_TRIGGER: &str = "cerb.trigger.webhook.respond";

/// Why the event KATA could not be used (HTTP 500 in Cerb).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Parsing or evaluating the document failed.
    #[error("event KATA: {0}")]
    Evaluate(String),
    /// A handler's value is text, not a map.
    #[error("event KATA: handler `{0}` is not a map")]
    NotAMap(String),
}

/// One handler: its type (`automation`), name and evaluated map.
#[derive(Debug, Clone)]
pub struct Handler {
    pub kind: String,
    pub name: String,
    pub value: Array,
}

/// The selected automation and the `inputs` to pass (if the handler has any).
#[derive(Debug, Clone)]
pub struct Selection {
    pub automation: AutomationRow,
    pub inputs: Option<Value>,
}

/// Evaluates the event KATA against `dict` and collects the handlers,
/// keyed by name (a later handler with the same name replaces the
/// earlier one at the earlier one's position).
pub fn handlers(event_kata: &str, dict: &Value) -> Result<Vec<Handler>, EventError> {
    if event_kata.trim().is_empty() {
        return Ok(Vec::new());
    }
    let tree = lang::eval_kata(event_kata, dict).map_err(EventError::Evaluate)?;
    handlers_of(&tree)
}

/// The handlers of an evaluated event-KATA document.
fn handlers_of(tree: &Value) -> Result<Vec<Handler>, EventError> {
    let Some(top) = tree.as_array() else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Handler> = Vec::new();
    for (key, value) in top.iter() {
        let key = key.to_string_lossy();
        let (kind, name) = match key.split_once('/') {
            Some((k, n)) => (k.to_string(), n.to_string()),
            None => (key.clone(), String::new()),
        };
        let map = match value {
            Value::Array(a) => (**a).clone(),
            _ => return Err(EventError::NotAMap(key)),
        };
        let h = Handler {
            kind,
            name,
            value: map,
        };
        match out.iter_mut().find(|o| o.name == h.name) {
            Some(slot) => *slot = h,
            None => out.push(h),
        }
    }
    Ok(out)
}

/// The enabled check (§4 step 3): the first true `enabled`/`disabled` key
/// decides; when none is true the handler is enabled.
pub fn is_enabled(handler: &Handler) -> bool {
    for (key, value) in handler.value.iter() {
        let key = key.to_string_lossy();
        let kind = key.split('/').next().unwrap_or("").to_ascii_lowercase();
        if kind != "enabled" && kind != "disabled" {
            continue;
        }
        let on = match value {
            Value::Bool(b) => *b,
            other => lang::kata_truthy(other),
        };
        if on {
            return kind == "enabled";
        }
    }
    true
}

/// Record types a `cerb:` URI may name.
const KNOWN_RECORD_TYPES: &[&str] = &[
    "automation",
    "automations",
    "cerb.contexts.automation",
    "resource",
    "automation_resource",
    "webhook_listener",
    "automation_timer",
];

/// The automation name a handler's `uri` names, or `None` when malformed.
pub fn automation_name(uri: &str) -> Option<String> {
    if let Some(rest) = uri.strip_prefix("cerb:") {
        let parts: Vec<&str> = rest.split(':').collect();
        if !(1..=2).contains(&parts.len()) {
            return None;
        }
        if !KNOWN_RECORD_TYPES.contains(&parts[0].to_ascii_lowercase().as_str()) {
            return None;
        }
        return Some(parts.get(1).copied().unwrap_or("").to_string());
    }
    Some(uri.to_string())
}

/// Selects the first enabled `automation` handler whose `uri` resolves to
/// an automation with `trigger` (§4 step 4). `Ok(None)`: nothing to run.
pub fn select(
    event_kata: &str,
    dict: &Value,
    trigger: &str,
    find: &dyn Fn(&str) -> Option<AutomationRow>,
) -> Result<Option<Selection>, EventError> {
    select_from(handlers(event_kata, dict)?, trigger, find)
}

/// Event-KATA evaluations that needed more than the inline budget running
/// at once: half the cores (at least one), so a listener whose event KATA
/// burns its steps cannot take every core from the others.
fn slow_evaluations() -> Arc<tokio::sync::Semaphore> {
    static SLOW: OnceLock<Arc<tokio::sync::Semaphore>> = OnceLock::new();
    SLOW.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Arc::new(tokio::sync::Semaphore::new((cores / 2).max(1)))
    })
    .clone()
}

/// [`select`] without holding up the async worker (issue 20): the document
/// is first evaluated inline with a small step budget
/// ([`lang::INLINE_EVENT_STEPS`], well under a millisecond); one that needs
/// more is evaluated again with the full budget ([`lang::EVENT_STEPS`]) on
/// the blocking pool, at most [`slow_evaluations`] at a time.
pub async fn select_off_workers<F>(
    event_kata: &str,
    dict: &Value,
    trigger: &str,
    find: F,
) -> Result<Option<Selection>, EventError>
where
    F: Fn(&str) -> Option<AutomationRow> + Send + 'static,
{
    if event_kata.trim().is_empty() {
        return Ok(None);
    }
    match lang::eval_event_inline(event_kata, dict) {
        Ok(tree) => return select_from(handlers_of(&tree)?, trigger, &find),
        Err(lang::BudgetedError::Failed(m)) => return Err(EventError::Evaluate(m)),
        Err(lang::BudgetedError::Steps(_)) => {}
    }
    // The semaphore is never closed: `acquire` cannot fail.
    let _permit = slow_evaluations().acquire_owned().await.ok();
    let (text, dict, trigger) = (event_kata.to_string(), dict.clone(), trigger.to_string());
    tokio::task::spawn_blocking(move || select(&text, &dict, &trigger, &find))
        .await
        .unwrap_or_else(|e| Err(EventError::Evaluate(format!("evaluation failed: {e}"))))
}

fn select_from(
    handlers: Vec<Handler>,
    trigger: &str,
    find: &dyn Fn(&str) -> Option<AutomationRow>,
) -> Result<Option<Selection>, EventError> {
    for handler in handlers {
        if handler.kind != "automation" || !is_enabled(&handler) {
            continue;
        }
        let Some(uri) = handler.value.get_str("uri") else {
            continue;
        };
        let Some(name) = uri.as_pstr().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(name) = automation_name(&name) else {
            continue;
        };
        let Some(automation) = find(&name) else {
            continue;
        };
        if automation.extension_id != trigger {
            continue;
        }
        let inputs = handler.value.get_str("inputs").cloned();
        return Ok(Some(Selection { automation, inputs }));
    }
    Ok(None)
}
