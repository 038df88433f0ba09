//! PHP 8 comparison: loose (`==`, `<`, `<=>`) and strict (`===`).

use crate::convert::{Number, format_float, parse_numeric, truthy};
use crate::{Array, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// Strict identity (`===`): same type and same value; arrays by key/value
/// pairs in order; objects by identity.
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            Arc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter()
                        .zip(y.iter())
                        .all(|((ka, va), (kb, vb))| ka == kb && strict_eq(va, vb)))
        }
        (Value::Object(x), Value::Object(y)) => std::ptr::addr_eq(Arc::as_ptr(x), Arc::as_ptr(y)),
        _ => false,
    }
}

/// Loose equality (`==`).
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    if let (Value::Array(x), Value::Array(y)) = (a, b) {
        return x.len() == y.len()
            && x.iter()
                .all(|(k, v)| y.get(k).is_some_and(|w| loose_eq(v, w)));
    }
    loose_cmp(a, b) == Some(Ordering::Equal)
}

/// The spaceship operator `<=>`: -1, 0 or 1 (uncomparable arrays give 1).
pub fn spaceship(a: &Value, b: &Value) -> i64 {
    match loose_cmp(a, b) {
        Some(Ordering::Less) => -1,
        Some(Ordering::Equal) => 0,
        Some(Ordering::Greater) | None => 1,
    }
}

fn cmp_f64(x: f64, y: f64) -> Option<Ordering> {
    x.partial_cmp(&y)
}

fn cmp_numbers(x: Number, y: Number) -> Option<Ordering> {
    match (x, y) {
        (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
        _ => cmp_f64(x.as_f64(), y.as_f64()),
    }
}

fn as_number(v: &Value) -> Option<Number> {
    match v {
        Value::Int(i) => Some(Number::Int(*i)),
        Value::Float(f) => Some(Number::Float(*f)),
        _ => None,
    }
}

fn number_to_bytes(n: Number) -> Vec<u8> {
    match n {
        Number::Int(i) => i.to_string().into_bytes(),
        Number::Float(f) => format_float(f).into_bytes(),
    }
}

fn object_text(v: &Value) -> Option<Value> {
    match v {
        Value::Object(o) => o.to_pstr().ok().map(Value::Str),
        _ => None,
    }
}

/// Loose ordering as PHP 8 defines it; `None` when uncomparable (NAN, or
/// arrays whose keys differ).
pub fn loose_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    // Objects that have a string form (captured strings) compare as text.
    if let Some(t) = object_text(a) {
        return loose_cmp(&t, b);
    }
    if let Some(t) = object_text(b) {
        return loose_cmp(a, &t);
    }
    match (a, b) {
        (Value::Bool(_), _) | (_, Value::Bool(_)) => Some(truthy(a).cmp(&truthy(b))),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Null, Value::Str(s)) => Some(b"".as_slice().cmp(s.as_bytes())),
        (Value::Str(s), Value::Null) => Some(s.as_bytes().cmp(b"".as_slice())),
        (Value::Null, _) | (_, Value::Null) => Some(truthy(a).cmp(&truthy(b))),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            cmp_numbers(as_number(a)?, as_number(b)?)
        }
        (Value::Int(_) | Value::Float(_), Value::Str(s)) => {
            let n = as_number(a)?;
            match parse_numeric(s.as_bytes()) {
                Some(m) => cmp_numbers(n, m),
                None => Some(number_to_bytes(n).as_slice().cmp(s.as_bytes())),
            }
        }
        (Value::Str(_), Value::Int(_) | Value::Float(_)) => loose_cmp(b, a).map(Ordering::reverse),
        (Value::Str(x), Value::Str(y)) => {
            match (parse_numeric(x.as_bytes()), parse_numeric(y.as_bytes())) {
                (Some(m), Some(n)) => cmp_numbers(m, n),
                _ => Some(x.as_bytes().cmp(y.as_bytes())),
            }
        }
        (Value::Array(x), Value::Array(y)) => cmp_arrays(x, y),
        (Value::Array(_), _) => Some(Ordering::Greater),
        (_, Value::Array(_)) => Some(Ordering::Less),
        (Value::Object(x), Value::Object(y)) => {
            std::ptr::addr_eq(Arc::as_ptr(x), Arc::as_ptr(y)).then_some(Ordering::Equal)
        }
        (Value::Object(_), _) => Some(Ordering::Greater),
        (_, Value::Object(_)) => Some(Ordering::Less),
    }
}

fn cmp_arrays(x: &Array, y: &Array) -> Option<Ordering> {
    match x.len().cmp(&y.len()) {
        Ordering::Equal => {}
        other => return Some(other),
    }
    for (k, v) in x {
        let w = y.get(k)?;
        match loose_cmp(v, w)? {
            Ordering::Equal => {}
            other => return Some(other),
        }
    }
    Some(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn php8_loose_equality_table() {
        let yes = [
            (Value::Int(0), s("0")),
            (s("1"), s("01")),
            (s("1"), s("1.0")),
            (Value::Int(100), s("1e2")),
            (s(" 1"), Value::Int(1)),
            (s("1 "), Value::Int(1)),
            (Value::Null, Value::Int(0)),
            (Value::Null, s("")),
            (Value::Null, Value::empty_array()),
            (Value::Null, Value::Bool(false)),
            (s("0"), Value::Bool(false)),
            (s("a"), Value::Bool(true)),
        ];
        for (a, b) in &yes {
            assert!(loose_eq(a, b), "{a:?} == {b:?}");
        }
        let no = [
            (Value::Int(0), s("")),
            (Value::Int(0), s("a")),
            (s("1abc"), Value::Int(1)),
            (Value::Null, s("0")),
            (s("0.0"), Value::Bool(false)),
            (s("abc"), s("abc ")),
        ];
        for (a, b) in &no {
            assert!(!loose_eq(a, b), "{a:?} != {b:?}");
        }
    }

    #[test]
    fn ordering_rules() {
        assert_eq!(
            loose_cmp(&s("abc"), &Value::Int(5)),
            Some(Ordering::Greater)
        );
        assert_eq!(loose_cmp(&s("2"), &s("10")), Some(Ordering::Less));
        assert_eq!(
            loose_cmp(&Value::Null, &Value::Int(-1)),
            Some(Ordering::Less)
        );
        assert_eq!(spaceship(&Value::Int(1), &Value::Int(2)), -1);
    }
}
