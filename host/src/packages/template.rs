//! `{{{ }}}` template substitution and `_exclude` (packages.md §7).

use crate::webhooks::lang;
use katabox_value::Value;
use serde_json::Value as Json;

/// Whether a string is a package template.
pub fn has_template(s: &str) -> bool {
    s.contains("{{{") || s.contains("{{%") || s.contains("{{#")
}

/// Renders one string; a render error gives JSON `false` (§7.2).
fn render(s: &str, placeholders: &Value) -> Json {
    match lang::render_package(s, placeholders) {
        Ok(out) => Json::String(out),
        Err(_) => Json::Bool(false),
    }
}

/// Substitutes templates in keys and string values at any depth (§7.2).
pub fn substitute(v: &Json, placeholders: &Value, depth: usize) -> Json {
    if depth > 256 {
        return v.clone();
    }
    match v {
        Json::String(s) if has_template(s) => render(s, placeholders),
        Json::Array(a) => Json::Array(
            a.iter()
                .map(|x| substitute(x, placeholders, depth + 1))
                .collect(),
        ),
        Json::Object(o) => {
            let mut out = serde_json::Map::new();
            for (k, x) in o {
                let key = if has_template(k) {
                    match render(k, placeholders) {
                        Json::String(s) => s,
                        _ => String::new(),
                    }
                } else {
                    k.clone()
                };
                out.insert(key, substitute(x, placeholders, depth + 1));
            }
            Json::Object(out)
        }
        other => other.clone(),
    }
}

/// Whether an element's `_exclude` template says to drop it (§7.3).
/// `uid` names the element in the error text.
pub fn excluded(template: &Json, placeholders: &Value, uid: &str) -> Result<bool, String> {
    let text = match template {
        Json::String(s) => s.clone(),
        Json::Null => return Ok(false),
        Json::Bool(b) => return Ok(*b),
        other => other.to_string(),
    };
    let out = lang::render_package(&text, placeholders)
        .map_err(|e| format!("Invalid _exclude template: record ({uid}) {e}"))?;
    Ok(!(out.is_empty() || out == "0"))
}
