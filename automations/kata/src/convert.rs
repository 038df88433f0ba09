//! Conversion helpers used by the annotations (kata.md §11).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use katabox_value::convert::{float_to_int_cap, parse_leading_numeric, to_pstr};
use katabox_value::{Array, Key, PStr, Value};

use crate::tree::split_csv_indexed;

/// KATA truthiness (§11.1): trimmed, lower-cased text is false when it is
/// `""`, `0`, `false`, `no`, `n` or `off`; null is false; arrays are false
/// when empty; everything else is true.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Array(a) => !a.is_empty(),
        other => match to_pstr(other) {
            Ok(s) => {
                // Cerb's `toBool`: a loose `in_array` against
                // `[false, 'false', '0', '', 'no', 'n', 'off', null]`, so any
                // numeric string equal to 0 (`0.0`, `00`, `-0`) is false too.
                let t = trim_bytes(s.as_bytes()).to_ascii_lowercase();
                let zero =
                    katabox_value::convert::parse_numeric(&t).is_some_and(|n| n.as_f64() == 0.0);
                !(zero || matches!(t.as_slice(), b"" | b"false" | b"no" | b"n" | b"off"))
            }
            Err(_) => other.truthy(),
        },
    }
}

/// PHP `trim()` on bytes.
pub(crate) fn trim_bytes(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0 | 0x0b);
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// The PHP type error for a function that needs a string but got an array.
pub(crate) fn type_error(func: &str, v: &Value) -> String {
    format!(
        "{func}(): Argument #1 ($string) must be of type string, {} given",
        v.type_name()
    )
}

/// PHP string conversion for a function that refuses arrays.
pub(crate) fn string_arg(func: &str, v: &Value) -> Result<PStr, String> {
    match v {
        Value::Array(_) => Err(type_error(func, v)),
        other => to_pstr(other).map_err(|e| e.0),
    }
}

/// `@csv` (§11.4): a list that keeps holes where empty tokens were dropped.
pub fn csv_list(v: &Value) -> Value {
    let Value::Str(s) = v else {
        return Value::empty_array();
    };
    let text = s.to_string_lossy();
    let mut out = Array::new();
    for (i, tok) in split_csv_indexed(&text) {
        out.insert(
            Key::Int(i64::try_from(i).unwrap_or(i64::MAX)),
            Value::str(tok),
        );
    }
    Value::array(out)
}

/// `@list` (§11.4): trimmed non-empty lines, keeping holes.
pub fn lines_list(s: &[u8]) -> Value {
    let mut out = Array::new();
    let text = String::from_utf8_lossy(s).replace("\r\n", "\n");
    for (i, line) in text.split(['\n', '\r']).enumerate() {
        let t = line.trim_matches(crate::tree::is_php_ws);
        if !t.is_empty() {
            out.insert(
                Key::Int(i64::try_from(i).unwrap_or(i64::MAX)),
                Value::str(t),
            );
        }
    }
    Value::array(out)
}

/// PHP's lenient `base64_decode`: characters outside the alphabet are
/// skipped and padding is optional.
pub fn base64_lenient(s: &[u8]) -> Vec<u8> {
    let mut clean: Vec<u8> = s
        .iter()
        .copied()
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .collect();
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    engine.decode(&clean).unwrap_or_default()
}

/// `intval(trim(v))` on text.
pub fn int_of(s: &[u8]) -> i64 {
    match parse_leading_numeric(trim_bytes(s)) {
        Some(katabox_value::convert::Number::Int(i)) => i,
        Some(katabox_value::convert::Number::Float(f)) => float_to_int_cap(f),
        None => 0,
    }
}

/// `floatval(trim(v))` on text.
pub fn float_of(s: &[u8]) -> f64 {
    // `floatval` is `strtod` on the numeric prefix: `"-0"` gives -0.0.
    let t = trim_bytes(s);
    match parse_leading_numeric(t) {
        Some(katabox_value::convert::Number::Int(0)) if t.first() == Some(&b'-') => -0.0,
        Some(n) => n.as_f64(),
        None => 0.0,
    }
}

/// True when the text contains scripting tags (`{{`, `{%` or `{#`).
pub(crate) fn has_tags(s: &str) -> bool {
    // One pass over the bytes (three `contains` calls each build a searcher).
    s.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'{' && matches!(w[1], b'{' | b'%' | b'#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_bool_is_a_loose_in_array() {
        for f in ["", " ", "0", "0.0", "00", "-0", "No", " off ", "N", "false"] {
            assert!(!truthy(&Value::str(f)), "{f:?} should be false");
        }
        for t in ["yes", "0.1", "null", "nil", "2", "abc", "[]"] {
            assert!(truthy(&Value::str(t)), "{t:?} should be true");
        }
    }
}
