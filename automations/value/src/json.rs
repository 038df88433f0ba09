//! Cerb's JSON: PHP's `json_encode` / `json_decode` over the value model.

use crate::convert::format_float_json;
use crate::{Array, Key, PStr, Value};
use thiserror::Error;

/// Why an encoding failed (PHP's `json_encode` returns false).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    /// INF or NAN.
    #[error("Inf and NaN cannot be JSON encoded")]
    InfOrNan,
    /// Invalid UTF-8 in a string.
    #[error("Malformed UTF-8 characters, possibly incorrectly encoded")]
    Utf8,
    /// Nesting deeper than the limit.
    #[error("Maximum stack depth exceeded")]
    Depth,
    /// An object that cannot be encoded.
    #[error("{0}")]
    Object(String),
}

/// Encoding flags (PHP's JSON_* options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonOptions {
    /// JSON_PRETTY_PRINT: 4-space indentation, `": "`.
    pub pretty: bool,
    /// Write `/` as `\/` (PHP's default).
    pub escape_slashes: bool,
    /// Write non-ASCII as `\uXXXX` (PHP's default).
    pub escape_unicode: bool,
    /// Replace invalid UTF-8 by U+FFFD instead of failing.
    pub substitute_invalid_utf8: bool,
    /// Maximum nesting depth (PHP's default is 512).
    pub max_depth: usize,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            pretty: false,
            escape_slashes: true,
            escape_unicode: true,
            substitute_invalid_utf8: false,
            max_depth: 512,
        }
    }
}

impl JsonOptions {
    /// PHP's `json_encode($v)` defaults.
    pub fn php() -> Self {
        Self::default()
    }

    /// Cerb's `json_pretty`: pretty, slashes unescaped, invalid UTF-8
    /// substituted.
    pub fn pretty() -> Self {
        JsonOptions {
            pretty: true,
            escape_slashes: false,
            substitute_invalid_utf8: true,
            ..Self::default()
        }
    }

    /// Plain UTF-8 JSON for APIs and the CLI (slashes and Unicode unescaped).
    pub fn plain() -> Self {
        JsonOptions {
            escape_slashes: false,
            escape_unicode: false,
            substitute_invalid_utf8: true,
            ..Self::default()
        }
    }
}

/// Encodes a value as PHP's `json_encode` would with the given options.
pub fn encode(v: &Value, opts: &JsonOptions) -> Result<String, JsonError> {
    let mut out = String::new();
    encode_into(v, opts, 0, &mut out)?;
    Ok(out)
}

fn newline(out: &mut String, opts: &JsonOptions, depth: usize) {
    if opts.pretty {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("    ");
        }
    }
}

fn encode_into(
    v: &Value,
    opts: &JsonOptions,
    depth: usize,
    out: &mut String,
) -> Result<(), JsonError> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float_json(*f).ok_or(JsonError::InfOrNan)?),
        Value::Str(s) => encode_str(s, opts, out)?,
        Value::Array(a) => {
            if depth >= opts.max_depth {
                return Err(JsonError::Depth);
            }
            encode_array(a, opts, depth, out)?;
        }
        Value::Object(o) => {
            if depth >= opts.max_depth {
                return Err(JsonError::Depth);
            }
            encode_into(&o.to_json_value(), opts, depth, out)?;
        }
    }
    Ok(())
}

fn encode_array(
    a: &Array,
    opts: &JsonOptions,
    depth: usize,
    out: &mut String,
) -> Result<(), JsonError> {
    if a.is_empty() {
        out.push_str("[]");
        return Ok(());
    }
    let list = a.is_list();
    out.push(if list { '[' } else { '{' });
    for (i, (k, v)) in a.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, opts, depth + 1);
        if !list {
            let key = match k {
                Key::Int(n) => PStr::from(n.to_string()),
                Key::Str(s) => s.clone(),
            };
            encode_str(&key, opts, out)?;
            out.push(':');
            if opts.pretty {
                out.push(' ');
            }
        }
        encode_into(v, opts, depth + 1, out)?;
    }
    newline(out, opts, depth);
    out.push(if list { ']' } else { '}' });
    Ok(())
}

fn encode_str(s: &PStr, opts: &JsonOptions, out: &mut String) -> Result<(), JsonError> {
    let text = match s.as_str() {
        Some(t) => std::borrow::Cow::Borrowed(t),
        None if opts.substitute_invalid_utf8 => s.to_string_lossy(),
        None => return Err(JsonError::Utf8),
    };
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if opts.escape_slashes => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if !c.is_ascii() && opts.escape_unicode => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

/// Decodes JSON text as PHP's `json_decode($s, true)`: objects become
/// arrays (keys normalised), big integers become floats. `None` when the
/// text is not valid JSON (PHP returns null).
pub fn decode(text: &[u8]) -> Option<Value> {
    let v: serde_json::Value = serde_json::from_slice(text).ok()?;
    Some(from_serde(&v))
}

/// Converts a `serde_json::Value` into the value model.
pub fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(items) => Value::list(items.iter().map(from_serde)),
        serde_json::Value::Object(map) => {
            let mut a = Array::with_capacity(map.len());
            for (k, v) in map {
                a.insert(Key::from(k.as_str()), from_serde(v));
            }
            Value::array(a)
        }
    }
}

/// Converts a value into a `serde_json::Value` with Cerb's shapes (lists for
/// 0..n keys and the empty array, objects otherwise). INF/NAN become null,
/// invalid UTF-8 is replaced.
pub fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                serde_json::Value::from(*f as i64)
            } else {
                serde_json::Number::from_f64(*f)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
        Value::Str(s) => serde_json::Value::String(s.to_string_lossy().into_owned()),
        Value::Array(a) => {
            if a.is_list() {
                serde_json::Value::Array(a.values().map(to_serde).collect())
            } else {
                serde_json::Value::Object(
                    a.iter()
                        .map(|(k, v)| (k.to_string_lossy(), to_serde(v)))
                        .collect(),
                )
            }
        }
        Value::Object(o) => to_serde(&o.to_json_value()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_php() {
        let v =
            decode(br#"{"a":"x/y","b":"\u00e9","c":1.0,"d":0.1,"e":[],"f":{},"g":null,"h":true}"#)
                .unwrap_or_default();
        let s = encode(&v, &JsonOptions::php()).unwrap_or_default();
        assert_eq!(
            s,
            r#"{"a":"x\/y","b":"\u00e9","c":1,"d":0.1,"e":[],"f":[],"g":null,"h":true}"#
        );
    }

    #[test]
    fn object_with_list_keys_becomes_list() {
        let v = decode(br#"{"0":"a","1":"b"}"#).unwrap_or_default();
        assert_eq!(
            encode(&v, &JsonOptions::php()).as_deref(),
            Ok(r#"["a","b"]"#)
        );
    }

    #[test]
    fn pretty_uses_four_spaces() {
        let v = decode(br#"{"a":1,"b":[1,2],"c":"x/y"}"#).unwrap_or_default();
        assert_eq!(
            encode(&v, &JsonOptions::pretty()).as_deref(),
            Ok(
                "{\n    \"a\": 1,\n    \"b\": [\n        1,\n        2\n    ],\n    \"c\": \"x/y\"\n}"
            )
        );
    }

    #[test]
    fn failures() {
        assert_eq!(
            encode(&Value::Float(f64::NAN), &JsonOptions::php()),
            Err(JsonError::InfOrNan)
        );
        assert_eq!(
            encode(&Value::bytes([0xff]), &JsonOptions::php()),
            Err(JsonError::Utf8)
        );
        assert!(decode(b"nope").is_none());
        assert_eq!(
            encode(&Value::str("\u{1F600}"), &JsonOptions::php()).as_deref(),
            Ok("\"\\ud83d\\ude00\"")
        );
    }
}
