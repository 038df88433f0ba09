//! Cerb's stats service (`_DevblocksStatsService`) behind the `stat`
//! filter: PHP's own `max`, `min`, `sort`, `array_sum`,
//! `array_count_values` and operators, and the service's `?float` return
//! types (coercive mode: a leading-numeric string or an array is a
//! `TypeError`).

use std::cmp::Ordering;

use crate::callable::CallError;
use crate::eval::ops::{self, Arith};
use crate::library::util;
use katabox_value::compare::spaceship;
use katabox_value::convert::{self, Number};
use katabox_value::{Array, Key, Value};

type R<T> = Result<T, CallError>;

/// One measure over `values` (an array's values in order); `None` for an
/// unknown measure. The result is before the filter's rounding.
pub fn measure(name: &str, values: &[Value]) -> R<Option<Value>> {
    let n = values.len();
    Ok(Some(match name {
        "count" => Value::Int(n as i64),
        "max" | "min" => {
            if n == 0 {
                return Ok(Some(Value::Null));
            }
            let want = if name == "max" { 1 } else { -1 };
            let mut best = &values[0];
            for v in &values[1..] {
                if spaceship(v, best) == want {
                    best = v;
                }
            }
            ret_float(name, best)?
        }
        "mean" => mean(values)?.map_or(Value::Null, Value::Float),
        "median" => median(values)?,
        "mode" => mode(values)?,
        "sum" => Value::Float(sum(values)),
        "varp" | "stdevp" | "vars" | "stdevs" => {
            let sample = name.ends_with('s');
            match variance(values, sample)? {
                None => Value::Null,
                Some(v) if name.starts_with("stdev") => Value::Float(v.sqrt()),
                Some(v) => Value::Float(v),
            }
        }
        _ => return Ok(None),
    }))
}

/// The `?float` return type in coercive mode.
fn ret_float(func: &str, v: &Value) -> R<Value> {
    let bad = |t: &str| {
        CallError::Php(format!(
            "_DevblocksStatsService::{func}(): Return value must be of type ?float, {t} returned"
        ))
    };
    match util::unmark(v.clone()) {
        Value::Null => Ok(Value::Null),
        Value::Bool(b) => Ok(Value::Float(if b { 1.0 } else { 0.0 })),
        Value::Int(i) => Ok(Value::Float(i as f64)),
        Value::Float(f) => Ok(Value::Float(f)),
        Value::Str(s) => match convert::parse_numeric(s.as_bytes()) {
            Some(n) => Ok(Value::Float(n.as_f64())),
            None => Err(bad("string")),
        },
        Value::Array(_) => Err(bad("array")),
        Value::Object(o) => Err(bad(o.class_name())),
    }
}

/// PHP 8.2 `array_sum`: arrays and objects skipped, other values by their
/// numeric prefix.
fn sum(values: &[Value]) -> f64 {
    let mut int_sum: Option<i64> = Some(0);
    let mut float_sum = 0.0f64;
    for v in values {
        let n = match util::unmark(v.clone()) {
            Value::Array(_) | Value::Object(_) => continue,
            Value::Str(s) => convert::parse_leading_numeric(s.as_bytes()).unwrap_or(Number::Int(0)),
            other => convert::to_number(&other).unwrap_or(Number::Int(0)),
        };
        match (n, int_sum) {
            (Number::Int(i), Some(s)) => match s.checked_add(i) {
                Some(t) => int_sum = Some(t),
                None => {
                    float_sum = s as f64 + i as f64;
                    int_sum = None;
                }
            },
            (n, Some(s)) => {
                float_sum = s as f64 + n.as_f64();
                int_sum = None;
            }
            (n, None) => float_sum += n.as_f64(),
        }
    }
    int_sum.map_or(float_sum, |i| i as f64)
}

fn mean(values: &[Value]) -> R<Option<f64>> {
    if values.is_empty() {
        return Ok(None);
    }
    Ok(Some(sum(values) / values.len() as f64))
}

fn median(values: &[Value]) -> R<Value> {
    let n = values.len();
    if n == 0 {
        return Ok(Value::Float(0.0));
    }
    if n == 1 {
        return ret_float("median", &values[0]);
    }
    let sorted = crate::library::sort::merge_sort::<_, CallError>(values.to_vec(), &mut |x, y| {
        Ok(spaceship(x, y).cmp(&0))
    })?;
    if n % 2 == 1 {
        return ret_float("median", &sorted[n / 2]);
    }
    let s = ops::arith(Arith::Add, &sorted[n / 2 - 1], &sorted[n / 2])?;
    let half = ops::div(&s, &Value::Int(2))?;
    ret_float("median", &half)
}

/// `array_count_values` then `arsort` (stable) and the first key.
fn mode(values: &[Value]) -> R<Value> {
    let mut counts = Array::new();
    for v in values {
        let k = match util::unmark(v.clone()) {
            Value::Int(i) => Key::Int(i),
            Value::Str(s) => Key::from_pstr(&s),
            _ => continue,
        };
        let c = counts.get(&k).map_or(0, convert::to_int);
        counts.insert(k, Value::Int(c + 1));
    }
    let entries: Vec<(Key, i64)> = counts
        .iter()
        .map(|(k, v)| (k.clone(), convert::to_int(v)))
        .collect();
    let sorted = crate::library::sort::merge_sort::<_, CallError>(entries, &mut |x, y| {
        Ok(y.1.cmp(&x.1).then(Ordering::Equal))
    })?;
    match sorted.first() {
        None => Ok(Value::Null),
        Some((Key::Int(i), _)) => Ok(Value::Float(*i as f64)),
        Some((k, _)) => ret_float("mode", &k.to_value()),
    }
}

/// Population (`sample = false`) or sample variance, PHP's operators on
/// each value minus the mean.
fn variance(values: &[Value], sample: bool) -> R<Option<f64>> {
    let Some(m) = mean(values)? else {
        return Ok(None);
    };
    let mut squares = Vec::with_capacity(values.len());
    for v in values {
        let d = ops::arith(Arith::Sub, v, &Value::Float(m))?;
        squares.push(Value::Float(convert::to_float(&d).powi(2)));
    }
    let total = sum(&squares);
    let n = values.len() as f64;
    let d = if sample { n - 1.0 } else { n };
    if d == 0.0 {
        return Err(CallError::Php("Division by zero".into()));
    }
    Ok(Some(total / d))
}
