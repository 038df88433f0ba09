//! Loading the package JSON and checking its requirements (packages.md §3).

use serde_json::Value as Json;

/// The Cerb version this host is compatible with.
pub const CERB_VERSION: &str = "10.4.10";

/// Plugins this host provides.
pub const PLUGINS: &[&str] = &["cerberusweb.core", "cerb.webhooks"];

/// Decodes the package text with PHP's `json_decode` error texts.
pub fn decode(text: &[u8]) -> Result<Json, String> {
    if std::str::from_utf8(text).is_err() {
        return Err(
            "Invalid JSON: Malformed UTF-8 characters, possibly incorrectly encoded".into(),
        );
    }
    let json: Json = serde_json::from_slice(text).map_err(|e| {
        let msg = e.to_string();
        let php = if msg.contains("control character") {
            "Control character error, possibly incorrectly encoded"
        } else if msg.contains("recursion limit") {
            "Maximum stack depth exceeded"
        } else {
            "Syntax error"
        };
        format!("Invalid JSON: {php}")
    })?;
    let falsy = match &json {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::String(s) => s.is_empty() || s == "0",
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
    };
    if falsy {
        return Err("Invalid JSON: No error".into());
    }
    Ok(json)
}

/// PHP's `version_compare` on dot-separated numbers (missing parts are lower).
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<i64> {
        s.split(['.', '-', '+', '_'])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().unwrap_or(0)
            })
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        match (pa.get(i), pb.get(i)) {
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            _ => {}
        }
    }
    std::cmp::Ordering::Equal
}

/// Checks `package.requires` (§3 step 3).
pub fn check_requires(package: &Json) -> Result<(), String> {
    let Some(req) = package.get("requires").and_then(Json::as_object) else {
        return Ok(());
    };
    if let Some(v) = req.get("cerb_version").and_then(Json::as_str)
        && !v.is_empty()
        && version_cmp(CERB_VERSION, v) == std::cmp::Ordering::Less
    {
        return Err(format!("This package requires Cerb version {v} or later."));
    }
    if let Some(plugins) = req.get("plugins").and_then(Json::as_array) {
        for p in plugins {
            let id = match p {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !PLUGINS.contains(&id.as_str()) {
                return Err(format!(
                    "This package requires the {id} plugin to be installed and enabled."
                ));
            }
        }
    }
    Ok(())
}
