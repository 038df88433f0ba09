//! PHP 8 operator semantics (scripting.md §4.6–4.9).

use crate::callable::CallError;
use crate::objects::markup_text;
use katabox_value::convert::{self, Number};
use katabox_value::{Array, PStr, Value, compare};
use std::cmp::Ordering;
use std::sync::Arc;

type R<T> = Result<T, CallError>;

/// PHP truthiness.
#[inline]
pub fn truthy(v: &Value) -> bool {
    convert::truthy(v)
}

/// PHP string conversion; objects that refuse give PHP's error.
pub fn to_pstr(v: &Value) -> R<PStr> {
    convert::to_pstr(v).map_err(|e| CallError::Php(e.0))
}

fn unsupported(a: &Value, op: &str, b: &Value) -> CallError {
    CallError::Php(format!(
        "Unsupported operand types: {} {op} {}",
        a.type_name(),
        b.type_name()
    ))
}

/// An arithmetic operand, or PHP's type error.
fn operand(v: &Value, a: &Value, op: &str, b: &Value) -> R<Number> {
    let v = match markup_text(v) {
        Some(t) => &Value::Str(t.clone()),
        None => v,
    };
    match v {
        Value::Null => Ok(Number::Int(0)),
        Value::Bool(x) => Ok(Number::Int(i64::from(*x))),
        Value::Int(i) => Ok(Number::Int(*i)),
        Value::Float(f) => Ok(Number::Float(*f)),
        Value::Str(s) => {
            convert::parse_leading_numeric(s.as_bytes()).ok_or_else(|| unsupported(a, op, b))
        }
        Value::Array(_) | Value::Object(_) => Err(unsupported(a, op, b)),
    }
}

fn num_value(n: Number) -> Value {
    n.to_value()
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
}

/// `a + b`, `a - b`, `a * b`.
pub fn arith(op: Arith, a: &Value, b: &Value) -> R<Value> {
    let sym = match op {
        Arith::Add => "+",
        Arith::Sub => "-",
        Arith::Mul => "*",
    };
    if op == Arith::Add
        && let (Value::Array(x), Value::Array(y)) = (a, b)
    {
        // Array union: keys of the left win.
        let mut out: Array = (**x).clone();
        for (k, v) in y.iter() {
            if !out.contains_key(k) {
                out.insert(k.clone(), v.clone());
            }
        }
        return Ok(Value::Array(Arc::new(out)));
    }
    let x = operand(a, a, sym, b)?;
    let y = operand(b, a, sym, b)?;
    Ok(match (x, y) {
        (Number::Int(i), Number::Int(j)) => {
            let r = match op {
                Arith::Add => i.checked_add(j),
                Arith::Sub => i.checked_sub(j),
                Arith::Mul => i.checked_mul(j),
            };
            match r {
                Some(r) => Value::Int(r),
                None => Value::Float(float_op(op, i as f64, j as f64)),
            }
        }
        _ => Value::Float(float_op(op, x.as_f64(), y.as_f64())),
    })
}

fn float_op(op: Arith, x: f64, y: f64) -> f64 {
    match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
    }
}

/// `a / b`.
pub fn div(a: &Value, b: &Value) -> R<Value> {
    let x = operand(a, a, "/", b)?;
    let y = operand(b, a, "/", b)?;
    if y.as_f64() == 0.0 {
        return Err(CallError::Php("Division by zero".into()));
    }
    if let (Number::Int(i), Number::Int(j)) = (x, y)
        && let Some(0) = i.checked_rem(j)
        && let Some(q) = i.checked_div(j)
    {
        return Ok(Value::Int(q));
    }
    Ok(Value::Float(x.as_f64() / y.as_f64()))
}

/// `a // b`: `(int) floor(a / b)`.
pub fn floor_div(a: &Value, b: &Value) -> R<Value> {
    let q = div(a, b)?;
    Ok(match q {
        Value::Int(i) => Value::Int(i),
        Value::Float(f) => Value::Int(convert::float_to_int(f.floor())),
        other => other,
    })
}

fn int_operand(v: &Value, a: &Value, op: &str, b: &Value) -> R<i64> {
    let from_text = matches!(v, Value::Str(_)) || markup_text(v).is_some();
    Ok(match operand(v, a, op, b)? {
        Number::Int(i) => i,
        // A numeric string's float saturates; a float wraps (PHP 8, 64-bit).
        Number::Float(f) if from_text => convert::float_to_int_cap(f),
        Number::Float(f) => convert::float_to_int(f),
    })
}

/// `a % b`.
pub fn modulo(a: &Value, b: &Value) -> R<Value> {
    let x = int_operand(a, a, "%", b)?;
    let y = int_operand(b, a, "%", b)?;
    if y == 0 {
        return Err(CallError::Php("Modulo by zero".into()));
    }
    Ok(Value::Int(x.checked_rem(y).unwrap_or(0)))
}

/// `a ** b`.
pub fn pow(a: &Value, b: &Value) -> R<Value> {
    let x = operand(a, a, "**", b)?;
    let y = operand(b, a, "**", b)?;
    if let (Number::Int(base), Number::Int(exp)) = (x, y)
        && exp >= 0
    {
        if let Ok(e) = u32::try_from(exp)
            && let Some(r) = base.checked_pow(e)
        {
            return Ok(Value::Int(r));
        }
        return Ok(Value::Float((base as f64).powf(exp as f64)));
    }
    Ok(Value::Float(x.as_f64().powf(y.as_f64())))
}

/// Unary minus: multiplication by -1.
pub fn neg(v: &Value) -> R<Value> {
    if let Value::Int(i) = v {
        return Ok(match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::Float(-(*i as f64)),
        });
    }
    arith(Arith::Mul, v, &Value::Int(-1))
}

/// Unary plus: conversion to number.
pub fn pos(v: &Value) -> R<Value> {
    let n = operand(v, v, "*", &Value::Int(1))?;
    Ok(num_value(n))
}

/// Bitwise operators. Two strings combine byte by byte, as in PHP: `|`
/// keeps the longer string's tail, `&` and `^` stop at the shorter one.
pub fn bitwise(op: &str, a: &Value, b: &Value) -> R<Value> {
    let text = |v: &Value| match v {
        Value::Str(s) => Some(s.clone()),
        other => markup_text(other).cloned(),
    };
    if let (Some(x), Some(y)) = (text(a), text(b)) {
        let (x, y) = (x.as_bytes(), y.as_bytes());
        let (long, short) = if x.len() >= y.len() { (x, y) } else { (y, x) };
        let out: Vec<u8> = match op {
            "|" => long
                .iter()
                .enumerate()
                .map(|(i, c)| c | short.get(i).copied().unwrap_or(0))
                .collect(),
            "&" => short.iter().zip(long).map(|(p, q)| p & q).collect(),
            _ => short.iter().zip(long).map(|(p, q)| p ^ q).collect(),
        };
        return Ok(Value::Str(PStr::from(out)));
    }
    let x = int_operand(a, a, op, b)?;
    let y = int_operand(b, a, op, b)?;
    Ok(Value::Int(match op {
        "&" => x & y,
        "|" => x | y,
        _ => x ^ y,
    }))
}

/// `a ~ b`, bounded by `max` bytes.
pub fn concat(a: &Value, b: &Value, max: usize) -> R<Value> {
    let x = to_pstr(a)?;
    let y = to_pstr(b)?;
    if x.len() + y.len() > max {
        return Err(CallError::Limit(format!(
            "A string exceeded the limit of {max} bytes"
        )));
    }
    if y.is_empty() {
        return Ok(Value::Str(x));
    }
    if x.is_empty() {
        return Ok(Value::Str(y));
    }
    let mut out = Vec::with_capacity(x.len() + y.len());
    out.extend_from_slice(x.as_bytes());
    out.extend_from_slice(y.as_bytes());
    Ok(Value::Str(PStr::from(out)))
}

/// Loose comparison results.
pub fn compare(op: crate::ast::BinOp, a: &Value, b: &Value) -> Value {
    use crate::ast::BinOp;
    use crate::library::datetime::DateTime;
    // DateTime objects compare by instant.
    if let (Some(x), Some(y)) = (DateTime::from_value(a), DateTime::from_value(b)) {
        let (x, y) = (Value::Int(x.ts), Value::Int(y.ts));
        return compare(op, &x, &y);
    }
    let v = match op {
        BinOp::Eq => compare::loose_eq(a, b),
        BinOp::Ne => !compare::loose_eq(a, b),
        BinOp::Lt => compare::loose_cmp(a, b) == Some(Ordering::Less),
        BinOp::Gt => compare::loose_cmp(a, b) == Some(Ordering::Greater),
        BinOp::Le => matches!(
            compare::loose_cmp(a, b),
            Some(Ordering::Less | Ordering::Equal)
        ),
        BinOp::Ge => matches!(
            compare::loose_cmp(a, b),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        BinOp::Spaceship => return Value::Int(compare::spaceship(a, b)),
        _ => false,
    };
    Value::Bool(v)
}

/// `a in b` (Twig's `twig_in_filter`).
pub fn contains(value: &Value, haystack: &Value) -> bool {
    let value_m;
    let value = match markup_text(value) {
        Some(t) => {
            value_m = Value::Str(t.clone());
            &value_m
        }
        None => value,
    };
    let hay_m;
    let haystack = match markup_text(haystack) {
        Some(t) => {
            hay_m = Value::Str(t.clone());
            &hay_m
        }
        None => haystack,
    };
    match haystack {
        Value::Str(h) => match value {
            Value::Str(s) => s.is_empty() || find(h.as_bytes(), s.as_bytes()),
            Value::Int(_) | Value::Float(_) => {
                let s = convert::to_pstr(value).unwrap_or_default();
                find(h.as_bytes(), s.as_bytes())
            }
            _ => false,
        },
        Value::Array(a) => {
            if let Value::Object(_) = value {
                return a.values().any(|v| compare::strict_eq(v, value));
            }
            a.values()
                .any(|v| compare::loose_cmp(value, v) == Some(Ordering::Equal))
        }
        _ => false,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || (hay.len() >= needle.len() && hay.windows(needle.len()).any(|w| w == needle))
}

/// `a starts with b` / `a ends with b`: only for two strings.
pub fn affix(a: &Value, b: &Value, start: bool) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            if start {
                x.as_bytes().starts_with(y.as_bytes())
            } else {
                x.as_bytes().ends_with(y.as_bytes())
            }
        }
        _ => false,
    }
}

/// `a .. b`: PHP 8.2's `range(a, b)` with step 1, bounded by `max`
/// elements (after PHP's own size check).
pub fn range(a: &Value, b: &Value, max: usize) -> R<Value> {
    let limit = |n: f64| -> R<()> {
        if n > max as f64 {
            return Err(CallError::Limit(format!(
                "A range exceeded the limit of {max} elements"
            )));
        }
        Ok(())
    };
    let too_big = |lo: String, hi: String| {
        CallError::Php(format!(
            "The supplied range exceeds the maximum array size: start={lo} end={hi}"
        ))
    };
    let step_error = || {
        CallError::Php("range(): Argument #3 ($step) must not exceed the specified range".into())
    };
    // PHP's HT_MAX_SIZE on 64-bit.
    const HT_MAX_SIZE: u64 = 0x4000_0000;
    let mut double = matches!(a, Value::Float(_)) || matches!(b, Value::Float(_));
    if let (Value::Str(x), Value::Str(y)) = (a, b)
        && !x.is_empty()
        && !y.is_empty()
    {
        let (tx, ty) = (
            convert::parse_numeric(x.as_bytes()),
            convert::parse_numeric(y.as_bytes()),
        );
        if matches!(tx, Some(Number::Float(_))) || matches!(ty, Some(Number::Float(_))) {
            double = true;
        } else if tx.is_none() && ty.is_none() {
            // Two non-numeric strings: characters.
            let (s, e) = (x.as_bytes()[0], y.as_bytes()[0]);
            let items: Vec<Value> = if s <= e {
                (s..=e).map(|c| Value::bytes([c])).collect()
            } else {
                (e..=s).rev().map(|c| Value::bytes([c])).collect()
            };
            return Ok(Value::list(items));
        }
    }
    if !double {
        let (s, e) = (convert::to_int(a), convert::to_int(b));
        let diff = (i128::from(e) - i128::from(s)).unsigned_abs();
        if diff >= u128::from(HT_MAX_SIZE - 1) {
            return Err(too_big(s.min(e).to_string(), s.max(e).to_string()));
        }
        limit(diff as f64 + 1.0)?;
        let items: Vec<Value> = if s <= e {
            (s..=e).map(Value::Int).collect()
        } else {
            (e..=s).rev().map(Value::Int).collect()
        };
        return Ok(Value::list(items));
    }
    let (s, e) = (convert::to_float(a), convert::to_float(b));
    if s.is_nan() || e.is_nan() || s.is_infinite() || e.is_infinite() {
        return Err(CallError::Php(format!(
            "Invalid range supplied: start={} end={}",
            fixed0(s),
            fixed0(e)
        )));
    }
    if s == e {
        return Ok(Value::list([Value::Float(s)]));
    }
    let diff = (e - s).abs();
    if diff < 1.0 {
        return Err(step_error());
    }
    let count = diff + 1.0;
    if count >= HT_MAX_SIZE as f64 {
        return Err(too_big(fixed0(s.min(e)), fixed0(s.max(e))));
    }
    limit(count.floor())?;
    let n = count as usize;
    let step = if s <= e { 1.0 } else { -1.0 };
    Ok(Value::list(
        (0..n).map(|i| Value::Float(s + step * i as f64)),
    ))
}

/// C's `%0.0f`.
fn fixed0(f: f64) -> String {
    format!("{f:.0}")
}
