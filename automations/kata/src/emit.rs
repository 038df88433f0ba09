//! Tree → KATA text (kata.md §13).

use katabox_value::Value;
use katabox_value::convert::{format_float, format_float_json};

/// Nesting deeper than this is emitted as `Array`, like PHP's string form.
const MAX_EMIT_DEPTH: usize = 256;

/// Emits a value (normally a map) as KATA text with 2-space indentation.
/// A non-array input gives an empty document.
pub fn emit(v: &Value) -> String {
    let mut out = String::new();
    emit_map(v, 0, &mut out);
    out.trim_end_matches([' ', '\t', '\n', '\r', '\0', '\x0b'])
        .to_owned()
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Float(f) => format_float_json(*f).unwrap_or_else(|| format_float(*f)),
        Value::Object(o) => o
            .to_pstr()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        other => other.to_string_lossy(),
    }
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn emit_map(v: &Value, indent: usize, out: &mut String) {
    let converted;
    let v = match v {
        Value::Object(o) => {
            converted = o.to_json_value();
            &converted
        }
        other => other,
    };
    let Some(a) = v.as_array() else {
        return;
    };
    for (k, item) in a.iter() {
        let key = k.to_string_lossy();
        let owned;
        let item = match item {
            Value::Object(o) if o.to_pstr().is_err() => {
                owned = o.to_json_value();
                &owned
            }
            other => other,
        };
        match item {
            Value::Array(child) if !child.is_empty() && child.is_list() => {
                pad(out, indent);
                out.push_str(&key);
                out.push_str("@list:\n");
                for li in child.values() {
                    pad(out, indent + 1);
                    out.push_str(&scalar_text(li));
                    out.push('\n');
                }
            }
            Value::Array(_) => {
                pad(out, indent);
                out.push_str(&key);
                out.push_str(":\n");
                if indent < MAX_EMIT_DEPTH {
                    emit_map(item, indent + 1, out);
                }
            }
            Value::Int(i) => {
                pad(out, indent);
                out.push_str(&format!("{key}@int: {i}\n"));
            }
            other => {
                let text = scalar_text(other);
                pad(out, indent);
                out.push_str(&key);
                if text.is_empty() && matches!(other, Value::Str(_)) {
                    out.push_str("@text:\n");
                } else if text.contains('\n') {
                    out.push_str("@text:\n");
                    for line in text.replace("\r\n", "\n").split('\n') {
                        pad(out, indent + 1);
                        out.push_str(line);
                        out.push('\n');
                    }
                } else {
                    out.push_str(": ");
                    out.push_str(&text);
                    out.push('\n');
                }
            }
        }
    }
}
