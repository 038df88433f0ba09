//! `storage.get`, `storage.set`, `storage.delete` (automations.md §13.2).

use super::data::DataStore;
use super::inputs::{self, object};
use super::now;
use katabox_value::Value;

/// Validates the inputs of a storage command.
pub fn validate(command: &str, inputs: &mut Value) -> Result<(), String> {
    inputs::required_str(inputs, "key")?;
    if command == "storage.set" {
        match inputs.get("value") {
            None => return Err("`inputs:value:` is required.".into()),
            Some(v) if is_blank(v) => return Err("'inputs:value:' must not be blank.".into()),
            Some(_) => {}
        }
        if let Some(exp) = inputs::opt_str(inputs, "expires").filter(|s| !s.is_empty()) {
            let at = parse_expiry(&exp, now())
                .ok_or_else(|| format!("'inputs:expires:' ({exp}) is not a valid date string. Format like: tomorrow 8am"))?;
            inputs::set(inputs, "expires", Value::Int(at));
        }
    }
    Ok(())
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Str(s) => s.as_bytes().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// A subset of PHP `strtotime` for expiry dates: a Unix timestamp, or
/// `+N unit` / `N units` (seconds, minutes, hours, days, weeks).
pub fn parse_expiry(text: &str, now: i64) -> Option<i64> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<i64>() {
        return Some(ts);
    }
    let t = t.strip_prefix('+').unwrap_or(t).trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.trim_end_matches('s');
    let secs = match unit {
        "sec" | "second" => 1,
        "min" | "minute" => 60,
        "hour" | "hr" => 3_600,
        "day" => 86_400,
        "week" => 604_800,
        _ => return None,
    };
    Some(now.saturating_add(n.saturating_mul(secs)))
}

fn key(inputs: &Value) -> String {
    inputs::opt_str(inputs, "key").unwrap_or_default()
}

/// `storage.get`: the value, the `default` when missing, or Cerb's error.
pub fn get(data: &dyn DataStore, inputs: &Value) -> Result<Value, String> {
    let key = key(inputs);
    let found = data.storage_get(&key, now()).map_err(|e| e.to_string())?;
    match found {
        // A stored `false` looks like a missing key (Cerb quirk).
        Some(Value::Bool(false)) | None => match inputs.get("default") {
            Some(d) => Ok(d.clone()),
            None => Err(format!("Failed to load the key (`{key}`)")),
        },
        Some(v) => Ok(v),
    }
}

/// `storage.set`: stores the value; output `{key, expires}`.
pub fn set(data: &dyn DataStore, inputs: &Value) -> Result<Value, String> {
    let key = key(inputs);
    let value = inputs.get("value").cloned().unwrap_or(Value::Null);
    let expires = match inputs.get("expires") {
        Some(Value::Int(n)) => *n,
        _ => 0,
    };
    data.storage_set(&key, value, expires)
        .map_err(|e| e.to_string())?;
    Ok(object([
        ("key", Value::str(&key)),
        ("expires", Value::Int(expires)),
    ]))
}

/// `storage.delete`: output `true`.
pub fn delete(data: &dyn DataStore, inputs: &Value) -> Result<Value, String> {
    data.storage_delete(&key(inputs))
        .map_err(|e| e.to_string())?;
    Ok(Value::Bool(true))
}
