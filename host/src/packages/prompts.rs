//! Prompts and configured placeholders (packages.md §4–5).

use katabox_value::json::from_serde;
use katabox_value::{Array, Value, compare};
use serde_json::Value as Json;

/// The 33-character alphabet of Cerb's random codes.
pub const RANDOM_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ123456789";
/// The longest random placeholder this host generates.
pub const MAX_RANDOM_LENGTH: usize = 4096;

fn required(label: &str, key: &str) -> String {
    format!("'{label}' ({key}) is required.")
}

fn text_of(j: &Json) -> String {
    match j {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// Reads the prompts in document order, checks the supplied values and
/// adds the placeholders they set to `out`.
pub fn apply_prompts(configure: &Json, supplied: &Json, out: &mut Array) -> Result<(), String> {
    let Some(prompts) = configure.get("prompts").and_then(Json::as_array) else {
        return Ok(());
    };
    for prompt in prompts {
        let Some(key) = prompt.get("key").filter(|k| !k.is_null()).map(text_of) else {
            return Err("Prompt key is missing.".into());
        };
        let kind = prompt.get("type").and_then(Json::as_str).unwrap_or("");
        let label = prompt.get("label").map(text_of).unwrap_or_default();
        let params = prompt.get("params").cloned().unwrap_or(Json::Null);
        let value = supplied.get(&key).cloned().unwrap_or(Json::Null);
        match kind {
            "text" => {
                let ok = match &value {
                    Json::Null | Json::Array(_) | Json::Object(_) => false,
                    Json::String(s) => !s.is_empty(),
                    _ => true,
                };
                if !ok {
                    return Err(required(&label, &key));
                }
                out.insert(key.as_str(), from_serde(&value));
            }
            "picklist" => {
                let options: Vec<Value> = match params.get("options") {
                    Some(Json::Array(a)) => a.iter().map(from_serde).collect(),
                    Some(Json::Object(o)) => o.values().map(from_serde).collect(),
                    _ => Vec::new(),
                };
                let multiple = params.get("multiple").is_some_and(json_truthy);
                let candidates: Vec<Value> = match (&value, multiple) {
                    (Json::Array(a), true) => a.iter().map(from_serde).collect(),
                    (Json::Null, _) => Vec::new(),
                    (v, _) => vec![from_serde(v)],
                };
                let valid = !candidates.is_empty()
                    && candidates
                        .iter()
                        .all(|c| options.iter().any(|o| compare::loose_eq(c, o)));
                if !valid {
                    return Err(required(&label, &key));
                }
                if !multiple {
                    out.insert(key.as_str(), from_serde(&value));
                }
            }
            "chooser" => {
                let single = params.get("single").is_some_and(json_truthy);
                let ok = if single {
                    match &value {
                        Json::String(s) => !s.is_empty(),
                        Json::Number(_) => true,
                        _ => false,
                    }
                } else {
                    match &value {
                        Json::Array(a) => !a.is_empty(),
                        _ => false,
                    }
                };
                if !ok {
                    return Err(required(&label, &key));
                }
                out.insert(key.as_str(), from_serde(&value));
                if single
                    && let (Some(prefix), Some(ctx)) = (
                        key.strip_suffix("_id"),
                        params.get("context").and_then(Json::as_str),
                    )
                {
                    out.insert(format!("{prefix}__context").as_str(), Value::str(ctx));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn json_truthy(j: &Json) -> bool {
    match j {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !(s.is_empty() || s == "0"),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

/// A random code from [`RANDOM_ALPHABET`] (CSPRNG).
pub fn random_code(length: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..length.min(MAX_RANDOM_LENGTH))
        .map(|_| RANDOM_ALPHABET[rng.random_range(0..RANDOM_ALPHABET.len())] as char)
        .collect()
}

/// Generates the configured placeholders into `out`.
pub fn apply_placeholders(configure: &Json, out: &mut Array) -> Result<(), String> {
    let Some(list) = configure.get("placeholders").and_then(Json::as_array) else {
        return Ok(());
    };
    for ph in list {
        let Some(key) = ph.get("key").filter(|k| !k.is_null()).map(text_of) else {
            return Err("Placeholder key is missing.".into());
        };
        match ph.get("type").and_then(Json::as_str).unwrap_or("") {
            "random" => {
                let length = ph
                    .get("params")
                    .and_then(|p| p.get("length"))
                    .and_then(|l| match l {
                        Json::Number(n) => n.as_u64(),
                        Json::String(s) => s.trim().parse().ok(),
                        _ => None,
                    })
                    .unwrap_or(8) as usize;
                out.insert(key.as_str(), Value::str(random_code(length)));
            }
            "data_query" => {
                return Err(format!(
                    "Placeholder '{key}': data_query placeholders are not available in katabox."
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
