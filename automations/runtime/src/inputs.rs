//! The `inputs:` section (automations.md §4): declared inputs, checked once
//! on the first run, with Cerb's messages.

use katabox_kata::{Node, Scripting, Tree};
use katabox_value::{Array, Key, Value, convert};

/// Widest text input without `type:` (display columns).
const TEXT_MAX: usize = 255;

/// Validates the caller's `inputs` against the declarations and writes the
/// final values (defaults, conversions) back into `dict["inputs"]`.
pub fn validate(
    decls: Vec<Node>,
    dict: &mut Array,
    scripting: &dyn Scripting,
) -> Result<(), String> {
    let tree = Tree { nodes: decls };
    let decls = &tree.nodes;
    let initial = Value::array(dict.clone());
    let evaluated =
        katabox_kata::evaluate(&tree, Some(&initial), scripting).map_err(|e| e.to_string())?;
    let given = match dict.get_str("inputs") {
        Some(Value::Array(a)) => (**a).clone(),
        _ => Array::new(),
    };
    let unknown: Vec<String> = given
        .keys()
        .map(Key::to_string_lossy)
        .filter(|k| !decls.iter().any(|d| d.label() == Some(k.as_str())))
        .collect();
    if !unknown.is_empty() {
        return Err(format!("Unknown inputs: {}", unknown.join(", ")));
    }
    let mut out = given.clone();
    for decl in decls {
        let ty = decl.kind();
        let Some(name) = decl.label() else {
            return Err(format!("Missing input name `{ty}:`"));
        };
        let opts = evaluated
            .get(decl.name())
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let value = given.get_str(name).cloned().unwrap_or(Value::Null);
        let result = match ty {
            "text" => text(name, value, &opts)?,
            "array" => array(name, value, &opts)?,
            "record" | "records" => {
                return Err(format!(
                    "`inputs:{name}` has the type `{ty}`, which is not available in katabox"
                ));
            }
            other => return Err(format!("`inputs:{name}` has an unknown type `{other}`")),
        };
        match result {
            Some(v) => out.insert(name, v),
            None => {
                out.remove(&Key::from(name));
            }
        }
    }
    // Cerb writes only the inputs it sets: a given `inputs: null` stays null.
    if !out.is_empty() || matches!(dict.get_str("inputs"), Some(Value::Array(_))) {
        dict.insert("inputs", Value::array(out));
    }
    Ok(())
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn required(opts: &Array) -> bool {
    opts.get_str("required").is_some_and(katabox_kata::truthy)
}

fn blank_error(name: &str) -> String {
    format!("'inputs:{name}' must not be blank.")
}

fn array(name: &str, mut value: Value, opts: &Array) -> Result<Option<Value>, String> {
    if value.is_null() {
        value = opts.get_str("default").cloned().unwrap_or(Value::Null);
    }
    if required(opts) && is_blank(&value) {
        return Err(blank_error(name));
    }
    match value {
        Value::Null => Ok(None),
        Value::Array(_) => Ok(Some(value)),
        _ => Err(format!("'inputs:{name}' must be an array.")),
    }
}

fn text(name: &str, mut value: Value, opts: &Array) -> Result<Option<Value>, String> {
    let ty = opts
        .get_str("type")
        .map(Value::to_string_lossy)
        .filter(|t| !t.is_empty());
    let Some(ty) = ty else {
        if value.is_null() {
            value = opts.get_str("default").cloned().unwrap_or(Value::Null);
        }
        if required(opts) && is_blank(&value) {
            return Err(blank_error(name));
        }
        return match value {
            Value::Null => Ok(None),
            Value::Str(s) => {
                let text = strip_4byte(&s.to_string_lossy());
                Ok(Some(Value::str(truncate(&text, TEXT_MAX))))
            }
            Value::Int(_) | Value::Float(_) => Ok(Some(value)),
            _ => Err(format!("'inputs:{name}' is not a string.")),
        };
    };
    if let Value::Bool(b) = value {
        value = Value::str(if b { "yes" } else { "no" });
    }
    if matches!(&value, Value::Str(s) if s.is_empty()) {
        value = Value::Null;
    }
    if value.is_null() {
        value = opts.get_str("default").cloned().unwrap_or(Value::Null);
    }
    if required(opts) && is_blank(&value) {
        return Err(blank_error(name));
    }
    if value.is_null() {
        return Ok(None);
    }
    typed(name, &ty, value, opts).map(Some)
}

/// The `type:` checks of a text input (§4.1 table).
fn typed(name: &str, ty: &str, value: Value, opts: &Array) -> Result<Value, String> {
    let label = format!("'inputs:{name}'");
    if ty == "bool" {
        return Ok(Value::Bool(katabox_kata::truthy(&value)));
    }
    let text = match &value {
        Value::Str(s) => s.to_string_lossy().into_owned(),
        Value::Int(_) | Value::Float(_) => value.to_string_lossy(),
        other => {
            return Err(format!(
                "{label} must be a string ({}).",
                crate::validate::php_type(other)
            ));
        }
    };
    let ok = match ty {
        "date" => {
            if is_date(&text) {
                return Ok(value);
            }
            return Err(format!(
                "{label} ({text}) is not a valid date string. Format like: tomorrow 8am"
            ));
        }
        "decimal" => {
            if convert::parse_numeric(text.trim().as_bytes()).is_some() {
                return Ok(value);
            }
            return Err(format!(
                "{label} must be a decimal ({}: {}).",
                crate::validate::php_type(&value),
                json(&value)
            ));
        }
        "number" => {
            if convert::parse_numeric(text.trim().as_bytes()).is_some() {
                return Ok(value);
            }
            return Err(format!(
                "{label} must be a number ({}: {}).",
                crate::validate::php_type(&value),
                json(&value)
            ));
        }
        "freeform" => return freeform(&label, &text, opts),
        "email" => is_email(&text),
        "geopoint" => is_geopoint(&text),
        "ip" | "ipv4" | "ipv6" => {
            if text.trim().parse::<std::net::IpAddr>().is_ok() {
                return Ok(value);
            }
            return Err(format!(
                "{label} ({text}) is not a valid IPv4 or IPv6 address. Format like: 1.2.3.4"
            ));
        }
        "record_type" => {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._".contains(c))
        }
        "timestamp" => text
            .trim()
            .parse::<i64>()
            .is_ok_and(|n| (0..=4_294_967_295).contains(&n)),
        "uri" => {
            text.len() < 128
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._".contains(c))
        }
        "url" => {
            text.len() <= 2048 && (text.starts_with("http://") || text.starts_with("https://"))
        }
        other => return Err(format!("Unknown text type `{other}` for input `{name}`")),
    };
    if ok {
        Ok(value)
    } else {
        Err(format!("{label} ({text}) is not a valid {ty}."))
    }
}

fn json(v: &Value) -> String {
    katabox_value::json::encode(v, &katabox_value::json::JsonOptions::php()).unwrap_or_default()
}

fn freeform(label: &str, text: &str, opts: &Array) -> Result<Value, String> {
    let type_options = opts.get_str("type_options").and_then(Value::as_array);
    let max = type_options
        .and_then(|o| o.get_str("max_length"))
        .map(convert::to_int)
        .filter(|n| *n > 0)
        .unwrap_or(1024);
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let truncate_ok = type_options
        .and_then(|o| o.get_str("truncate"))
        .is_none_or(katabox_kata::truthy);
    if text.chars().count() <= max {
        return Ok(Value::str(text));
    }
    if truncate_ok {
        Ok(Value::str(truncate(text, max)))
    } else {
        Err(format!("{label} must be no longer than {max} characters."))
    }
}

/// Removes characters that take 4 bytes in UTF-8 (emoji and other
/// supplementary-plane characters), as Cerb's text validation does.
pub fn strip_4byte(s: &str) -> String {
    s.chars().filter(|c| c.len_utf8() < 4).collect()
}

/// Cerb's truncation: over `max` display columns keeps the first `max - 6`
/// columns and adds `...`.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(6);
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > keep {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push_str("...");
    out
}

/// Display width as PHP's `mb_strwidth` counts it.
fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// East Asian wide and fullwidth characters take two columns.
fn char_width(c: char) -> usize {
    let wide = matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2329..=0x232A
        | 0x2E80..=0x303E
        | 0x3040..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE10..=0xFE19
        | 0xFE30..=0xFE6F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x2FFFD
        | 0x30000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

fn is_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

fn is_geopoint(s: &str) -> bool {
    match s.split_once(',') {
        Some((lat, long)) => {
            let lat = lat.trim().parse::<f64>();
            let long = long.trim().parse::<f64>();
            matches!((lat, long), (Ok(a), Ok(b)) if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&b))
        }
        None => false,
    }
}

fn is_date(s: &str) -> bool {
    crate::dates::parses(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_max_minus_six_plus_dots() {
        let long = "x".repeat(300);
        let t = truncate(&long, TEXT_MAX);
        assert_eq!(t.chars().count(), 252);
        assert!(t.ends_with("..."));
        assert_eq!(truncate("short", TEXT_MAX), "short");
    }

    #[test]
    fn wide_characters_count_two_columns() {
        let wide = "漢".repeat(200);
        let t = truncate(&wide, TEXT_MAX);
        assert_eq!(t.chars().count(), 124 + 3);
        assert_eq!(truncate(&"漢".repeat(127), TEXT_MAX), "漢".repeat(127));
    }

    #[test]
    fn four_byte_characters_are_removed() {
        assert_eq!(strip_4byte("hi 😀!"), "hi !");
        assert_eq!(strip_4byte("café"), "café");
    }
}
