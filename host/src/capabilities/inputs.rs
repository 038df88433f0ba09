//! Input validation helpers with Cerb's messages (automations.md §8.2).

use katabox_value::{Array, Value};

/// The inputs as a map, or Cerb's `'inputs:' must be an array.`
pub fn map(inputs: &Value) -> Result<&Array, String> {
    match inputs {
        Value::Array(a) => Ok(a),
        Value::Null => Err("`inputs:` is required.".into()),
        _ => Err("'inputs:' must be an array.".into()),
    }
}

/// A required string input: `` `inputs:KEY:` is required.`` when missing,
/// `'inputs:KEY:' must not be blank.` when empty.
pub fn required_str(inputs: &Value, key: &str) -> Result<String, String> {
    let a = map(inputs)?;
    match a.get_str(key) {
        None => Err(format!("`inputs:{key}:` is required.")),
        Some(Value::Array(_)) => Err(format!("'inputs:{key}:' must be a string (array).")),
        Some(v) => {
            let s = v.to_string_lossy();
            if s.is_empty() {
                Err(format!("'inputs:{key}:' must not be blank."))
            } else {
                Ok(s)
            }
        }
    }
}

/// An optional string input.
pub fn opt_str(inputs: &Value, key: &str) -> Option<String> {
    inputs
        .get(key)
        .filter(|v| !v.is_null() && v.as_array().is_none())
        .map(|v| v.to_string_lossy())
}

/// Sets a key in the inputs map (after validation normalised it).
pub fn set(inputs: &mut Value, key: &str, v: Value) {
    if let Some(a) = inputs.as_array_mut() {
        a.insert(key, v);
    }
}

/// A map from string pairs.
pub fn object(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    let mut a = Array::new();
    for (k, v) in pairs {
        a.insert(k, v);
    }
    Value::array(a)
}
