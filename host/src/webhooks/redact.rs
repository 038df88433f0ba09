//! Scrubbing secret values out of run records before they are stored.

use crate::store::RunRecord;
use katabox_verify::Secrets;

/// Replaces every configured secret value in the run's error, logs and
/// request path with `<redacted:NAME>` (see [`Secrets::redact`]).
pub fn redact_run(secrets: &Secrets, run: &mut RunRecord) {
    if secrets.is_empty() {
        return;
    }
    if let Some(error) = &mut run.error {
        redact_string(secrets, error);
    }
    redact_string(secrets, &mut run.request_path);
    for entry in &mut run.logs {
        redact_json(secrets, entry, 0);
    }
}

/// Redacts every string (and object key) inside a JSON value. Depth is
/// bounded: deeper parts are replaced by `null` rather than left unchecked.
pub fn redact_json(secrets: &Secrets, value: &mut serde_json::Value, depth: usize) {
    const MAX_DEPTH: usize = 64;
    if depth > MAX_DEPTH {
        *value = serde_json::Value::Null;
        return;
    }
    match value {
        serde_json::Value::String(s) => redact_string(secrets, s),
        serde_json::Value::Array(items) => {
            for item in items {
                redact_json(secrets, item, depth + 1);
            }
        }
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (mut key, mut item) in entries {
                redact_string(secrets, &mut key);
                redact_json(secrets, &mut item, depth + 1);
                map.insert(key, item);
            }
        }
        _ => {}
    }
}

/// Redacts one string in place.
pub fn redact_string(secrets: &Secrets, text: &mut String) {
    if let std::borrow::Cow::Owned(clean) = secrets.redact(text) {
        *text = clean;
    }
}
