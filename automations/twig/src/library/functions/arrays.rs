//! Cerb's `array_*` functions.

use crate::callable::{Args, CallError, Env};
use crate::library::filters::arrays::array_column as column_of;
use crate::library::tests::wildcard_match;
use crate::library::util::{self, charge_for, to_str};
use katabox_value::compare::loose_cmp;
use katabox_value::convert::{self, Number};
use katabox_value::{Array, Key, PStr, Value};
use std::cmp::Ordering;
use std::collections::HashSet;

fn arr(v: &Value) -> Option<&Array> {
    v.as_array()
}

/// A value used as an array key by `array_combine` / `array_fill_keys`.
fn key_from(v: &Value) -> Result<Key, CallError> {
    Ok(match v {
        Value::Int(i) => Key::Int(*i),
        other => Key::from_pstr(&to_str(other)?),
    })
}

/// `array_column(array, column_key, index_key=null)`.
pub fn array_column(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let a = args.required(0)?;
    let col = args.required(1)?;
    if !matches!(col, Value::Str(_)) {
        return Ok(Value::empty_array());
    }
    Ok(column_of(a, col, util::opt(args, 2)).map_or(Value::empty_array(), Value::array))
}

/// `array_combine(keys, values)`.
pub fn array_combine(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let (Some(k), Some(v)) = (arr(args.required(0)?), arr(args.required(1)?)) else {
        return Ok(Value::empty_array());
    };
    if k.len() != v.len() {
        return Err(CallError::Php(
            "array_combine(): Argument #1 ($keys) and argument #2 ($values) must have the same number of elements".into(),
        ));
    }
    let mut out = Array::new();
    for (key, val) in k.values().zip(v.values()) {
        out.insert(key_from(key)?, val.clone());
    }
    Ok(Value::array(out))
}

/// `array_count_values(values)`.
pub fn array_count_values(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(a) = arr(args.required(0)?) else {
        return Ok(Value::empty_array());
    };
    let mut out = Array::new();
    for v in a.values() {
        let k = match v {
            Value::Int(i) => Key::Int(*i),
            Value::Str(s) => Key::from_pstr(s),
            _ => continue,
        };
        let n = out.get(&k).map_or(0, convert::to_int);
        out.insert(k, Value::Int(n + 1));
    }
    Ok(Value::array(out))
}

fn string_set(a: &Array) -> Result<HashSet<PStr>, CallError> {
    a.values().map(to_str).collect()
}

fn diff_or_intersect(args: &Args, keep_if_found: bool, bad: Value) -> Result<Value, CallError> {
    let a1 = args.required(0)?;
    let a2 = args.required(1)?;
    let empty = Array::new();
    let pick = |v: &Value| -> Option<Array> {
        match v {
            Value::Null => Some(empty.clone()),
            Value::Array(a) => Some((**a).clone()),
            _ => None,
        }
    };
    let (Some(x), Some(y)) = (pick(a1), pick(a2)) else {
        return Ok(bad);
    };
    let set = string_set(&y)?;
    let mut out = Array::new();
    for (k, v) in x.iter() {
        if set.contains(&to_str(v)?) == keep_if_found {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::array(out))
}

/// `array_diff(arr1, arr2)`.
pub fn array_diff(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    charge_for(
        env,
        args.rest(0)
            .filter_map(Value::as_array)
            .map(Array::len)
            .sum(),
    )?;
    diff_or_intersect(args, false, Value::empty_array())
}

/// `array_intersect(arr1, arr2)`.
pub fn array_intersect(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    charge_for(
        env,
        args.rest(0)
            .filter_map(Value::as_array)
            .map(Array::len)
            .sum(),
    )?;
    diff_or_intersect(args, true, Value::Null)
}

/// `array_extract_keys(array, keys)`.
pub fn array_extract_keys(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(rows) = arr(args.required(0)?) else {
        return Ok(Value::empty_array());
    };
    let keys: Vec<Key> = match args.required(1)? {
        Value::Array(k) => k.values().map(key_from).collect::<Result<_, _>>()?,
        _ => return Ok(Value::empty_array()),
    };
    let mut out = Array::new();
    for (rk, row) in rows.iter() {
        let row_arr = match row {
            Value::Array(a) => (**a).clone(),
            Value::Str(_) | Value::Int(_) | Value::Float(_) => Array::from_iter([row.clone()]),
            other => match other.as_array() {
                Some(a) => a.clone(),
                None => match &other {
                    Value::Object(o) => o.to_json_value().as_array().cloned().unwrap_or_default(),
                    _ => Array::new(),
                },
            },
        };
        let mut r = Array::new();
        for k in &keys {
            r.insert(k.clone(), row_arr.get(k).cloned().unwrap_or(Value::Null));
        }
        out.insert(rk.clone(), Value::array(r));
    }
    Ok(Value::array(out))
}

/// `array_fill_keys(keys, value=null)`.
pub fn array_fill_keys(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(keys) = arr(args.required(0)?) else {
        return Ok(Value::empty_array());
    };
    let val = args.get(1).cloned().unwrap_or(Value::Null);
    let mut out = Array::new();
    for k in keys.values() {
        out.insert(key_from(k)?, val.clone());
    }
    Ok(Value::array(out))
}

/// `array_matches(array, patterns)`.
pub fn array_matches(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let values: Vec<Value> = match args.required(0)? {
        Value::Array(a) => a.values().cloned().collect(),
        other => vec![util::unmark(other.clone())],
    };
    let patterns: Vec<Value> = match args.required(1)? {
        Value::Array(a) => a.values().cloned().collect(),
        other => vec![util::unmark(other.clone())],
    };
    let text_len = |v: &Value| util::scalar_str(v).map_or(1, |s| s.len() + 1);
    let work: usize = patterns
        .iter()
        .map(text_len)
        .sum::<usize>()
        .saturating_mul(values.iter().map(text_len).sum());
    env.charge((work / 64) as u64 + 1)?;
    let mut out = Vec::new();
    for p in &patterns {
        let Some(p) = util::scalar_str(p) else {
            continue;
        };
        for v in &values {
            if let Some(s) = util::scalar_str(v)
                && wildcard_match(p.as_bytes(), s.as_bytes())
            {
                out.push(v.clone());
            }
        }
    }
    Ok(Value::list(out))
}

fn key_cmp(a: &Key, b: &Key) -> Ordering {
    match (a, b) {
        (Key::Int(x), Key::Int(y)) => x.cmp(y),
        (Key::Int(_), Key::Str(s)) if convert::parse_numeric(s.as_bytes()).is_none() => {
            Ordering::Less
        }
        (Key::Str(s), Key::Int(_)) if convert::parse_numeric(s.as_bytes()).is_none() => {
            Ordering::Greater
        }
        _ => loose_cmp(&a.to_value(), &b.to_value()).unwrap_or(Ordering::Equal),
    }
}

/// `array_sort_keys(arr)`.
pub fn array_sort_keys(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(a) = arr(args.required(0)?) else {
        return Ok(Value::Null);
    };
    charge_for(env, a.len().saturating_mul(8))?;
    let items: Vec<(Key, Value)> = a.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let sorted = crate::library::sort::merge_sort::<_, CallError>(items, &mut |x, y| {
        Ok(key_cmp(&x.0, &y.0))
    })?;
    Ok(Value::array(sorted.into_iter().collect()))
}

/// `array_sum(arr)`.
pub fn array_sum(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(a) = arr(args.required(0)?) else {
        return Ok(Value::Bool(false));
    };
    let mut total = super::super::util::PhpSum::default();
    for v in a.values() {
        let n = match v {
            Value::Array(_) | Value::Object(_) => continue,
            other => convert::to_number(other).unwrap_or(Number::Int(0)),
        };
        total.add(n);
    }
    Ok(match total.value() {
        Number::Int(i) => Value::Int(i),
        Number::Float(f) => Value::Float(f),
    })
}

/// `array_unique(arr)`.
pub fn array_unique(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(a) = arr(args.required(0)?) else {
        return Ok(Value::Null);
    };
    let mut seen = HashSet::new();
    let mut out = Array::new();
    for (k, v) in a.iter() {
        if seen.insert(to_str(v)?) {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::array(out))
}

/// `array_values(arr)`.
pub fn array_values(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    Ok(arr(args.required(0)?).map_or(Value::Null, |a| Value::array(a.values_list())))
}

/// `shuffle(array)`.
pub fn shuffle(_env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(a) = arr(args.required(0)?) else {
        return Ok(Value::Bool(false));
    };
    let mut items: Vec<Value> = a.values().cloned().collect();
    fastrand::shuffle(&mut items);
    Ok(Value::list(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, j, je};

    fn js(f: crate::callable::FunctionFn, args: Vec<Value>) -> String {
        match f(&mut TestEnv::default(), &a(args)) {
            Ok(r) => je(&r),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn array_functions() {
        assert_eq!(
            js(array_combine, vec![j(r#"["a","b"]"#), j("[1,2]")]),
            r#"{"a":1,"b":2}"#
        );
        assert!(
            js(array_combine, vec![j(r#"["a"]"#), j("[1,2]")]).contains("same number of elements")
        );
        assert_eq!(
            js(array_count_values, vec![j(r#"[1,2,"1","a","a"]"#)]),
            r#"{"1":2,"2":1,"a":2}"#
        );
        assert_eq!(
            js(array_diff, vec![j(r#"["a","b","c"]"#), j(r#"["b"]"#)]),
            r#"{"0":"a","2":"c"}"#
        );
        assert_eq!(
            js(
                array_intersect,
                vec![j(r#"["a","b","c"]"#), j(r#"["c","a"]"#)]
            ),
            r#"{"0":"a","2":"c"}"#
        );
        assert_eq!(js(array_intersect, vec![Value::str("x"), j("[]")]), "null");
        assert_eq!(
            js(
                array_extract_keys,
                vec![
                    j(r#"[{"id":1,"s":"a","x":9},{"id":2}]"#),
                    j(r#"["id","s"]"#)
                ]
            ),
            r#"[{"id":1,"s":"a"},{"id":2,"s":null}]"#
        );
        assert_eq!(
            js(array_fill_keys, vec![j("[1,2,3]"), Value::Bool(true)]),
            r#"{"1":true,"2":true,"3":true}"#
        );
        assert_eq!(
            js(
                array_matches,
                vec![
                    j(r#"["sales@x.example","c@x.example"]"#),
                    Value::str("sales@*")
                ]
            ),
            r#"["sales@x.example"]"#
        );
        assert_eq!(
            js(array_sort_keys, vec![j(r#"{"z":1,"a":2,"m":3}"#)]),
            r#"{"a":2,"m":3,"z":1}"#
        );
        assert_eq!(js(array_sum, vec![j("[1,2,3.5]")]), "6.5");
        assert_eq!(js(array_sum, vec![j("[]")]), "0");
        assert_eq!(js(array_sum, vec![Value::str("x")]), "false");
        assert_eq!(
            js(array_unique, vec![j(r#"[1,"1",2,2,"a"]"#)]),
            r#"{"0":1,"2":2,"4":"a"}"#
        );
        assert_eq!(js(array_values, vec![j(r#"{"a":1}"#)]), "[1]");
        assert_eq!(
            js(
                array_column,
                vec![j(r#"[{"a":1,"b":"x"},{"a":2,"b":"y"}]"#), Value::str("b")]
            ),
            r#"["x","y"]"#
        );
        assert_eq!(js(shuffle, vec![j("[1]")]), "[1]");
    }
}
