//! PHP `json_encode` with its option flags (the shared encoder covers the
//! default options; the `json_encode` filter accepts any flag combination).

use katabox_value::convert::{Number, format_float_json, parse_numeric};
use katabox_value::{Array, Key, PStr, Value};

/// JSON_HEX_TAG.
const HEX_TAG: i64 = 1;
/// JSON_HEX_AMP.
const HEX_AMP: i64 = 2;
/// JSON_HEX_APOS.
const HEX_APOS: i64 = 4;
/// JSON_HEX_QUOT.
const HEX_QUOT: i64 = 8;
/// JSON_FORCE_OBJECT.
const FORCE_OBJECT: i64 = 16;
/// JSON_NUMERIC_CHECK.
const NUMERIC_CHECK: i64 = 32;
/// JSON_UNESCAPED_SLASHES.
const UNESCAPED_SLASHES: i64 = 64;
/// JSON_PRETTY_PRINT.
const PRETTY: i64 = 128;
/// JSON_UNESCAPED_UNICODE.
const UNESCAPED_UNICODE: i64 = 256;
/// JSON_PARTIAL_OUTPUT_ON_ERROR.
const PARTIAL: i64 = 512;
/// JSON_PRESERVE_ZERO_FRACTION.
const ZERO_FRACTION: i64 = 1024;
/// JSON_UNESCAPED_LINE_TERMINATORS.
const LINE_TERMINATORS: i64 = 2048;
/// JSON_INVALID_UTF8_IGNORE.
const UTF8_IGNORE: i64 = 1_048_576;
/// JSON_INVALID_UTF8_SUBSTITUTE.
const UTF8_SUBSTITUTE: i64 = 2_097_152;

/// Why an encoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// PHP's `json_encode` returns false (INF/NAN, invalid UTF-8, depth).
    Invalid,
    /// The output would pass the size limit.
    TooLong,
}

struct Enc {
    flags: i64,
    depth_limit: usize,
    out: String,
    max_len: usize,
}

/// Encodes `v` as `json_encode($v, $flags, $depth)`; `Failed::Invalid`
/// where PHP returns false. `max_len` bounds the output size.
pub fn encode(v: &Value, flags: i64, depth: usize, max_len: usize) -> Result<String, Failed> {
    let mut e = Enc {
        flags,
        depth_limit: depth,
        out: String::new(),
        max_len,
    };
    e.value(v, 0)?;
    if e.out.len() > max_len {
        return Err(Failed::TooLong);
    }
    Ok(e.out)
}

/// The filter result: the JSON text, `false` where PHP fails, or a limit error.
pub fn encode_value(
    v: &Value,
    flags: i64,
    depth: usize,
    max_len: usize,
) -> Result<Value, crate::callable::CallError> {
    match encode(v, flags, depth, max_len) {
        Ok(s) => Ok(Value::str(s)),
        Err(Failed::Invalid) => Ok(Value::Bool(false)),
        Err(Failed::TooLong) => Err(crate::callable::CallError::Limit(format!(
            "json_encode: string size limit ({max_len} bytes) exceeded"
        ))),
    }
}

impl Enc {
    fn has(&self, f: i64) -> bool {
        self.flags & f != 0
    }

    fn newline(&mut self, depth: usize) {
        if self.has(PRETTY) {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str("    ");
            }
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), Failed> {
        if self.out.len() > self.max_len {
            return Err(Failed::TooLong);
        }
        match v {
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => self.out.push_str(&i.to_string()),
            Value::Float(f) => self.float(*f)?,
            Value::Str(s) => {
                if self.has(NUMERIC_CHECK)
                    && let Some(n) = parse_numeric(s.as_bytes())
                {
                    match n {
                        Number::Int(i) => self.out.push_str(&i.to_string()),
                        Number::Float(f) => self.float(f)?,
                    }
                } else {
                    self.string(s)?;
                }
            }
            Value::Array(a) => self.array(a, depth)?,
            Value::Object(o) => {
                if let Ok(s) = o.to_pstr()
                    && crate::library::util::is_markup_class(o.class_name())
                {
                    return self.string(&s);
                }
                let inner = o.to_json_value();
                match &inner {
                    Value::Array(a) if a.is_empty() => {
                        if depth >= self.depth_limit {
                            return Err(Failed::Invalid);
                        }
                        self.out.push_str("{}");
                    }
                    Value::Array(a) => self.object_array(a, depth)?,
                    other => self.value(other, depth)?,
                }
            }
        }
        Ok(())
    }

    fn float(&mut self, f: f64) -> Result<(), Failed> {
        match format_float_json(f) {
            Some(t) => {
                self.out.push_str(&t);
                if self.has(ZERO_FRACTION) && !t.contains(['.', 'e', 'E']) {
                    self.out.push_str(".0");
                }
                Ok(())
            }
            None if self.has(PARTIAL) => {
                self.out.push('0');
                Ok(())
            }
            None => Err(Failed::Invalid),
        }
    }

    fn array(&mut self, a: &Array, depth: usize) -> Result<(), Failed> {
        if depth >= self.depth_limit {
            return Err(Failed::Invalid);
        }
        let as_list = a.is_list() && !self.has(FORCE_OBJECT);
        if a.is_empty() {
            self.out.push_str(if as_list { "[]" } else { "{}" });
            return Ok(());
        }
        if !as_list {
            return self.object_array(a, depth);
        }
        self.out.push('[');
        for (i, v) in a.values().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            self.value(v, depth + 1)?;
        }
        self.newline(depth);
        self.out.push(']');
        Ok(())
    }

    fn object_array(&mut self, a: &Array, depth: usize) -> Result<(), Failed> {
        if depth >= self.depth_limit {
            return Err(Failed::Invalid);
        }
        self.out.push('{');
        for (i, (k, v)) in a.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            let key = match k {
                Key::Int(n) => PStr::from(n.to_string()),
                Key::Str(s) => s.clone(),
            };
            self.string(&key)?;
            self.out.push(':');
            if self.has(PRETTY) {
                self.out.push(' ');
            }
            self.value(v, depth + 1)?;
        }
        self.newline(depth);
        self.out.push('}');
        Ok(())
    }

    fn string(&mut self, s: &PStr) -> Result<(), Failed> {
        let text: std::borrow::Cow<'_, str> = match s.as_str() {
            Some(t) => t.into(),
            None if self.has(UTF8_SUBSTITUTE) => s.to_string_lossy(),
            None if self.has(UTF8_IGNORE) => String::from_utf8_lossy(s.as_bytes())
                .replace('\u{FFFD}', "")
                .into(),
            None if self.has(PARTIAL) => {
                self.out.push_str("null");
                return Ok(());
            }
            None => return Err(Failed::Invalid),
        };
        self.out.push('"');
        for c in text.chars() {
            match c {
                '"' if self.has(HEX_QUOT) => self.out.push_str("\\u0022"),
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '/' if !self.has(UNESCAPED_SLASHES) => self.out.push_str("\\/"),
                '<' if self.has(HEX_TAG) => self.out.push_str("\\u003C"),
                '>' if self.has(HEX_TAG) => self.out.push_str("\\u003E"),
                '&' if self.has(HEX_AMP) => self.out.push_str("\\u0026"),
                '\'' if self.has(HEX_APOS) => self.out.push_str("\\u0027"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                c if (c as u32) < 0x20 => self.out.push_str(&format!("\\u{:04x}", c as u32)),
                '\u{2028}' | '\u{2029}'
                    if self.has(UNESCAPED_UNICODE) && !self.has(LINE_TERMINATORS) =>
                {
                    self.out.push_str(&format!("\\u{:04x}", c as u32));
                }
                c if !c.is_ascii() && !self.has(UNESCAPED_UNICODE) => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        self.out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::j;

    #[test]
    fn size_limit() {
        assert_eq!(
            encode(&j("[\"aaaaaaaaaaaaaaaa\"]"), 0, 512, 8),
            Err(Failed::TooLong)
        );
        assert!(matches!(
            encode_value(&j("[1,2,3,4,5,6,7,8,9]"), 0, 512, 4),
            Err(crate::callable::CallError::Limit(_))
        ));
    }

    #[test]
    fn flags() {
        let v = j(r#"{"a":"x/y","b":"é","c":1.0,"e":[],"f":{}}"#);
        assert_eq!(
            encode(&v, 0, 512, 1 << 20).as_deref(),
            Ok(r#"{"a":"x\/y","b":"\u00e9","c":1,"e":[],"f":[]}"#)
        );
        assert_eq!(
            encode(&v, 64 | 256, 512, 1 << 20).as_deref(),
            Ok(r#"{"a":"x/y","b":"é","c":1,"e":[],"f":[]}"#)
        );
        assert_eq!(
            encode(&Value::Float(1.0), 1024, 512, 100).as_deref(),
            Ok("1.0")
        );
        assert_eq!(
            encode(&j("[1,2]"), 16, 512, 100).as_deref(),
            Ok(r#"{"0":1,"1":2}"#)
        );
        assert_eq!(
            encode(&j(r#"["12","x"]"#), 32, 512, 100).as_deref(),
            Ok(r#"[12,"x"]"#)
        );
        assert_eq!(encode(&j("[[1]]"), 0, 1, 100), Err(Failed::Invalid));
        assert_eq!(
            encode(&Value::Float(f64::NAN), 0, 512, 100),
            Err(Failed::Invalid)
        );
    }
}
