//! PHP conversions: to string, to bool, numeric strings, float formatting.

use crate::{PStr, Value};
use thiserror::Error;

/// A conversion PHP refuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ConvertError(pub String);

/// A PHP number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Number {
    /// As a float.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// As a value.
    pub fn to_value(self) -> Value {
        match self {
            Number::Int(i) => Value::Int(i),
            Number::Float(f) => Value::Float(f),
        }
    }
}

/// PHP string conversion. Arrays give `"Array"` (PHP warns and goes on);
/// objects may refuse.
pub fn to_pstr(v: &Value) -> Result<PStr, ConvertError> {
    Ok(match v {
        Value::Null | Value::Bool(false) => PStr::default(),
        Value::Bool(true) => PStr::from("1"),
        Value::Int(i) => PStr::from(i.to_string()),
        Value::Float(f) => PStr::from(format_float(*f)),
        Value::Str(s) => s.clone(),
        Value::Array(_) => PStr::from("Array"),
        Value::Object(o) => return o.to_pstr().map_err(ConvertError),
    })
}

/// PHP truthiness: false for null, false, 0, 0.0, "", "0" and the empty array.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !(s.is_empty() || s.as_bytes() == b"0"),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => o.truthy(),
    }
}

/// Float to string as PHP prints it (`precision = 14`): 14 significant
/// digits, trailing zeros dropped, scientific form (`1.0E+14`) when the
/// exponent is below -4 or at least 14.
pub fn format_float(f: f64) -> String {
    format_float_digits(f, 14, 'E', -4, 14)
}

/// Float as PHP's JSON encoder writes it (`serialize_precision = -1`): the
/// shortest round-tripping digits, plain when the exponent is in [-4, 16),
/// else `d.ddde+X`. Returns `None` for INF and NAN.
pub fn format_float_json(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    if f == 0.0 {
        return Some(if f.is_sign_negative() { "-0" } else { "0" }.into());
    }
    // Rust's `{:e}` gives the shortest round-trip digits; PHP's dtoa (mode
    // 0) breaks an exact tie between two shortest candidates toward the even
    // last digit, Rust does not always.
    let sci = shortest_even(f);
    Some(layout_scientific(&sci, 'e', -4, 17))
}

/// The shortest round-trip digits of `f` as `d.ddde±X`, an exact tie
/// between two candidates going to the even last digit (dtoa mode 0).
fn shortest_even(f: f64) -> String {
    let sci = format!("{f:e}");
    let (mantissa, _) = sci.split_once('e').unwrap_or((&sci, "0"));
    let neg = mantissa.starts_with('-');
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let n = digits.len();
    // A tie needs the exact expansion to be those n digits (give or take
    // one in the last place) followed by exactly one 5.
    let probe = format!("{:.*e}", n + 20, f.abs());
    let probe_digits: Vec<u8> = probe
        .split_once('e')
        .map_or("", |(m, _)| m)
        .bytes()
        .filter(u8::is_ascii_digit)
        .collect();
    if probe_digits.get(n) != Some(&b'5') || probe_digits[n + 1..].iter().any(|d| *d != b'0') {
        return sci;
    }
    let exact = format!("{:.*e}", 800, f.abs());
    let (em, ee) = exact.split_once('e').unwrap_or((&exact, "0"));
    let exact_digits: Vec<u8> = em.bytes().filter(u8::is_ascii_digit).collect();
    if exact_digits.get(n) != Some(&b'5') || exact_digits[n + 1..].iter().any(|d| *d != b'0') {
        return sci;
    }
    // Candidates: the truncation and one more in the last place.
    let low = exact_digits[..n].to_vec();
    let mut high = low.clone();
    let mut i = n;
    while i > 0 {
        i -= 1;
        if high[i] == b'9' {
            high[i] = b'0';
        } else {
            high[i] += 1;
            break;
        }
        if i == 0 {
            return sci;
        }
    }
    let pick = if (low[n - 1] - b'0').is_multiple_of(2) {
        low
    } else {
        high
    };
    let mut m = String::new();
    if neg {
        m.push('-');
    }
    m.push(char::from(pick[0]));
    if n > 1 {
        m.push('.');
        m.extend(pick[1..].iter().map(|d| char::from(*d)));
    }
    let out = format!("{m}e{ee}");
    if out.parse::<f64>().ok() == Some(f) {
        out
    } else {
        sci
    }
}

/// Formats with `digits` significant digits, PHP style.
fn format_float_digits(f: f64, digits: usize, e_char: char, low: i32, high: i32) -> String {
    if f.is_nan() {
        return "NAN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "INF" } else { "-INF" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", digits.saturating_sub(1), f);
    if digits == 14
        && let Some(kept) = small_integer_tie(f)
    {
        // dtoa's "small integer" path rounds an exact tie down without
        // dropping the zeros it wrote: 100000000000005 → 1.0000000000000E+14.
        return layout_keep_zeros(&kept, e_char);
    }
    layout_scientific(&sci, e_char, low, high)
}

/// For PHP's `precision = 14`: an integral `f` with 15 digits whose last
/// digit is 5 and whose 14th is even is rounded down by dtoa's small
/// integer path, which keeps the trailing zeros. Gives the 14 digits.
fn small_integer_tie(f: f64) -> Option<String> {
    let a = f.abs();
    if f.fract() != 0.0 || !(1e14..1e15).contains(&a) {
        return None;
    }
    let i = a as u64;
    if i % 10 != 5 || !(i / 10).is_multiple_of(2) {
        return None;
    }
    let sign = if f < 0.0 { "-" } else { "" };
    Some(format!("{sign}{}", i / 10))
}

/// `d.ddddE+14` from 14 digits (with an optional sign), zeros kept.
fn layout_keep_zeros(digits: &str, e_char: char) -> String {
    let (sign, d) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits),
    };
    format!("{sign}{}.{}{e_char}+14", &d[..1], &d[1..])
}

/// Turns Rust's `d.ddde±X` into PHP's plain or scientific layout.
fn layout_scientific(sci: &str, e_char: char, low: i32, high: i32) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let mut digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < low || exp >= high {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push(e_char);
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&exp.abs().to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = usize::try_from(exp).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// PHP's float-to-int cast (`zend_dval_to_lval`, 64-bit): truncation
/// toward zero; NAN and the infinities give 0; finite values outside the
/// `i64` range wrap modulo 2^64.
pub fn float_to_int(f: f64) -> i64 {
    if !f.is_finite() {
        return 0;
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&f) {
        return f as i64;
    }
    let two_64 = TWO_63 * 2.0;
    // `f` is integral here (its magnitude is at least 2^63), so the
    // remainder is exact.
    let mut m = f.trunc() % two_64;
    if m < 0.0 {
        m += two_64;
    }
    if m >= TWO_63 {
        (m - two_64) as i64
    } else {
        m as i64
    }
}

/// PHP's saturating conversion of a numeric string's float value to int
/// (`zend_dval_to_lval_cap`): NAN and the infinities give 0, values out of
/// range the nearest bound.
pub fn float_to_int_cap(f: f64) -> i64 {
    if !f.is_finite() {
        return 0;
    }
    // `as` truncates toward zero and saturates.
    f as i64
}

fn is_php_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Length of the numeric prefix `[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?`
/// starting at `s[0]`, and whether it is integral (no `.` and no exponent).
fn numeric_prefix(s: &[u8]) -> Option<(usize, bool)> {
    let mut i = 0;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut integral = true;
    if i < s.len() && s[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if int_digits > 0 || j > frac_start {
            i = j;
            integral = false;
        }
    }
    if int_digits == 0 && integral {
        return None;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < s.len() && s[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
            integral = false;
        }
    }
    Some((i, integral))
}

fn number_from(text: &[u8], integral: bool) -> Number {
    let t = std::str::from_utf8(text).unwrap_or("0");
    if integral && let Ok(i) = t.parse::<i64>() {
        return Number::Int(i);
    }
    Number::Float(t.parse::<f64>().unwrap_or(0.0))
}

/// PHP 8 numeric string (`is_numeric`): optional surrounding whitespace
/// around a decimal number. Returns its int or float value.
pub fn parse_numeric(s: &[u8]) -> Option<Number> {
    let start = s.iter().position(|b| !is_php_space(*b))?;
    let (len, integral) = numeric_prefix(&s[start..])?;
    let rest = &s[start + len..];
    if !rest.iter().all(|b| is_php_space(*b)) {
        return None;
    }
    Some(number_from(&s[start..start + len], integral))
}

/// The numeric prefix of a leading-numeric string (`"12abc"` → 12), after
/// leading whitespace. `None` when there is no numeric prefix at all.
pub fn parse_leading_numeric(s: &[u8]) -> Option<Number> {
    let start = s.iter().position(|b| !is_php_space(*b))?;
    let (len, integral) = numeric_prefix(&s[start..])?;
    Some(number_from(&s[start..start + len], integral))
}

/// Converts a value to a number as PHP arithmetic does, or `None` where PHP
/// raises a type error (non-numeric strings, arrays, objects).
pub fn to_number(v: &Value) -> Option<Number> {
    match v {
        Value::Null => Some(Number::Int(0)),
        Value::Bool(b) => Some(Number::Int(i64::from(*b))),
        Value::Int(i) => Some(Number::Int(*i)),
        Value::Float(f) => Some(Number::Float(*f)),
        Value::Str(s) => parse_leading_numeric(s.as_bytes()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// `(int)$v` as PHP casts: strings by their numeric prefix, arrays 0/1.
pub fn to_int(v: &Value) -> i64 {
    match v {
        Value::Null => 0,
        Value::Bool(b) => i64::from(*b),
        Value::Int(i) => *i,
        Value::Float(f) => float_to_int(*f),
        Value::Str(s) => match parse_leading_numeric(s.as_bytes()) {
            Some(Number::Int(i)) => i,
            Some(Number::Float(f)) => float_to_int_cap(f),
            None => 0,
        },
        Value::Array(a) => i64::from(!a.is_empty()),
        Value::Object(_) => 1,
    }
}

/// `(float)$v` as PHP casts.
pub fn to_float(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        Value::Str(s) => parse_leading_numeric(s.as_bytes()).map_or(0.0, Number::as_f64),
        other => to_int(other) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_at_precision_14() {
        let cases: &[(f64, &str)] = &[
            (0.1 + 0.2, "0.3"),
            ((0.1 + 0.7) * 10.0, "8"),
            (1.0 / 3.0, "0.33333333333333"),
            (3.5, "3.5"),
            (1.0, "1"),
            (1e14, "1.0E+14"),
            (1e13, "10000000000000"),
            (1.234_567_890_123_456_7, "1.2345678901235"),
            (0.0001, "0.0001"),
            (0.00001, "1.0E-5"),
            (-1.5e-7, "-1.5E-7"),
            (1e22, "1.0E+22"),
            (9223372036854775808.0, "9.2233720368548E+18"),
            (-0.0, "-0"),
            (f64::INFINITY, "INF"),
            (f64::NEG_INFINITY, "-INF"),
            (f64::NAN, "NAN"),
        ];
        for (f, s) in cases {
            assert_eq!(format_float(*f), *s, "{f:?}");
        }
    }

    #[test]
    fn floats_in_json_are_shortest() {
        assert_eq!(
            format_float_json(0.1 + 0.2).as_deref(),
            Some("0.30000000000000004")
        );
        assert_eq!(format_float_json(1e17).as_deref(), Some("1.0e+17"));
        assert_eq!(
            format_float_json(1e16).as_deref(),
            Some("10000000000000000")
        );
        assert_eq!(format_float_json(1.5e-5).as_deref(), Some("1.5e-5"));
        assert_eq!(format_float_json(1.0).as_deref(), Some("1"));
        assert_eq!(format_float_json(f64::NAN), None);
    }

    #[test]
    fn numeric_strings_follow_php8() {
        assert_eq!(parse_numeric(b" 5"), Some(Number::Int(5)));
        assert_eq!(parse_numeric(b"5 "), Some(Number::Int(5)));
        assert_eq!(parse_numeric(b"1e3"), Some(Number::Float(1000.0)));
        assert_eq!(parse_numeric(b".5"), Some(Number::Float(0.5)));
        assert_eq!(parse_numeric(b"5."), Some(Number::Float(5.0)));
        for s in [&b"0x1A"[..], b"1_000", b"", b".", b"12abc", b"abc"] {
            assert_eq!(parse_numeric(s), None);
        }
        assert_eq!(parse_leading_numeric(b"12abc"), Some(Number::Int(12)));
        assert_eq!(parse_leading_numeric(b"0x1A"), Some(Number::Int(0)));
        assert_eq!(parse_leading_numeric(b"abc"), None);
    }

    #[test]
    fn truthiness_is_php() {
        assert!(!truthy(&Value::str("0")));
        assert!(truthy(&Value::str("0.0")));
        assert!(!truthy(&Value::empty_array()));
        assert!(truthy(&Value::Float(f64::NAN)));
    }

    #[test]
    fn floats_wrap_to_int_and_numeric_strings_saturate() {
        assert_eq!(float_to_int(1e25), 1_590_897_979_265_384_448);
        assert_eq!(float_to_int(-2.5), -2);
        assert_eq!(float_to_int(f64::INFINITY), 0);
        assert_eq!(float_to_int_cap(1e25), i64::MAX);
        assert_eq!(to_int(&Value::str("1e19")), i64::MAX);
    }

    #[test]
    fn json_floats_break_ties_to_even_and_precision_14_keeps_tie_zeros() {
        assert_eq!(
            format_float_json(1000000000000000.2).as_deref(),
            Some("1000000000000000.2")
        );
        assert_eq!(
            format_float_json(0.1 + 0.2).as_deref(),
            Some("0.30000000000000004")
        );
        assert_eq!(format_float(100000000000005.0), "1.0000000000000E+14");
        assert_eq!(format_float(100000000000015.0), "1.0000000000002E+14");
        assert_eq!(format_float(100000000000001.0), "1.0E+14");
    }
}
