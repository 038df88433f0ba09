//! Twig's array filters: batch, column, filter, first, last, join, keys,
//! length, map, merge, reduce, reverse, slice, sort.

use crate::callable::{Args, CallError, Env};
use crate::library::sort::merge_sort;
use crate::library::util::{
    self, charge_for, check_array_len, check_str_len, gettype, is_markup_class, mb_chars, opt,
    to_str,
};
use katabox_value::compare::spaceship;
use katabox_value::convert;
use katabox_value::{Array, Key, Value};
use std::cmp::Ordering;

fn not_iterable(filter: &str, v: &Value) -> CallError {
    CallError::Twig(format!(
        "The \"{filter}\" filter expects an array or \"Traversable\", got \"{}\".",
        util::type_or_class(v)
    ))
}

/// `batch(size, fill=null, preserve_keys=true)`.
pub fn batch(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let a = v.as_array().ok_or_else(|| not_iterable("batch", &v))?;
    let size_f = convert::to_float(args.required(0)?).ceil();
    if size_f.is_nan() || size_f < 1.0 {
        return Err(CallError::Php(
            "array_chunk(): Argument #2 ($length) must be greater than 0".into(),
        ));
    }
    let size = if size_f > 1e15 {
        usize::MAX
    } else {
        size_f as usize
    };
    let preserve = util::bool_arg(args, 2, true);
    charge_for(env, a.len())?;
    let mut chunks: Vec<Array> = Vec::new();
    for (k, item) in a.iter() {
        if chunks.last().is_none_or(|c| c.len() >= size) {
            chunks.push(Array::new());
        }
        if let Some(c) = chunks.last_mut() {
            if preserve {
                c.insert(k.clone(), item.clone());
            } else {
                c.push(item.clone());
            }
        }
    }
    if let Some(fill) = opt(args, 1)
        && let Some(last) = chunks.last_mut()
    {
        let missing = size.saturating_sub(last.len());
        check_array_len(env, missing, "batch")?;
        charge_for(env, missing)?;
        for _ in 0..missing {
            last.push(fill.clone());
        }
    }
    Ok(Value::list(chunks.into_iter().map(Value::array)))
}

/// PHP `array_column` over rows; `None` when `v` is not an array.
pub fn array_column(v: &Value, name: &Value, index: Option<&Value>) -> Option<Array> {
    let a = v.as_array()?;
    let name_key = if name.is_null() {
        None
    } else {
        Some(util::key_of(name)?)
    };
    let index_key = match index {
        Some(i) if !i.is_null() => Some(util::key_of(i)?),
        _ => None,
    };
    let mut out = Array::new();
    for row in a.values() {
        let Some(r) = row.as_array() else { continue };
        let val = match &name_key {
            Some(k) => match r.get(k) {
                Some(x) => x.clone(),
                None => continue,
            },
            None => row.clone(),
        };
        match index_key
            .as_ref()
            .and_then(|ik| r.get(ik))
            .and_then(|iv| match iv {
                Value::Str(_) | Value::Int(_) => Key::from_value(iv),
                _ => None,
            }) {
            Some(k) => out.insert(k, val),
            None => out.push(val),
        }
    }
    Some(out)
}

/// `column(name, index=null)`.
pub fn column(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let name = args.required(0)?;
    match array_column(&v, name, opt(args, 1)) {
        Some(a) => Ok(Value::array(a)),
        None if v.as_array().is_some() => Ok(Value::empty_array()),
        None => Err(CallError::Twig(format!(
            "The column filter only works with arrays or \"Traversable\", got \"{}\" as first argument.",
            gettype(&v)
        ))),
    }
}

/// `filter(arrow)`: keys preserved.
pub fn filter(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let arrow = args.required(0)?.clone();
    let a = v.as_array().ok_or_else(|| not_iterable("filter", &v))?;
    util::check_arrow(&arrow, "filter")?;
    let mut out = Array::new();
    for (k, item) in a.iter() {
        env.charge(1)?;
        if env.call(&arrow, &[item.clone(), k.to_value()])?.truthy() {
            out.insert(k.clone(), item.clone());
        }
    }
    Ok(Value::array(out))
}

/// `map(arrow)`: same keys, mapped values.
pub fn map(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let arrow = args.required(0)?.clone();
    util::check_arrow(&arrow, "map")?;
    let Some(a) = v.as_array() else {
        return Ok(Value::empty_array());
    };
    let mut out = Array::new();
    for (k, item) in a.iter() {
        env.charge(1)?;
        let r = env.call(&arrow, &[item.clone(), k.to_value()])?;
        out.insert(k.clone(), r);
    }
    Ok(Value::array(out))
}

/// `reduce(arrow, initial=null)`.
pub fn reduce(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let arrow = args.required(0)?.clone();
    util::check_arrow(&arrow, "reduce")?;
    let Some(a) = v.as_array() else {
        return Err(CallError::Twig(format!(
            "The \"reduce\" filter only works with arrays or \"Traversable\", got \"{}\" as first argument.",
            gettype(&v)
        )));
    };
    let mut carry = args.get(1).cloned().unwrap_or(Value::Null);
    for (k, item) in a.iter() {
        env.charge(1)?;
        carry = env.call(&arrow, &[carry, item.clone(), k.to_value()])?;
    }
    Ok(carry)
}

/// Twig's `slice` on any value (also used by `first` / `last`).
pub fn slice_value(
    v: &Value,
    start: i64,
    length: Option<i64>,
    preserve: bool,
) -> Result<Value, CallError> {
    if let Some(a) = v.as_array() {
        return Ok(Value::array(array_slice(a, start, length, preserve)));
    }
    let s = to_str(&util::unmark(v.clone()))?;
    let chars = mb_chars(s.as_bytes());
    let (from, to) = slice_bounds(chars.len(), start, length);
    Ok(Value::bytes(chars[from..to].concat()))
}

/// Start and end positions of PHP's slice semantics over `n` items.
pub fn slice_bounds(n: usize, start: i64, length: Option<i64>) -> (usize, usize) {
    let n_i = n as i64;
    let mut from = if start < 0 {
        (n_i + start).max(0)
    } else {
        start.min(n_i)
    };
    if from > n_i {
        from = n_i;
    }
    let to = match length {
        None => n_i,
        Some(l) if l < 0 => (n_i + l).max(from),
        Some(l) => from.saturating_add(l).min(n_i),
    };
    (from as usize, to.max(from) as usize)
}

/// PHP `array_slice`.
pub fn array_slice(a: &Array, start: i64, length: Option<i64>, preserve: bool) -> Array {
    let (from, to) = slice_bounds(a.len(), start, length);
    let mut out = Array::new();
    for (k, v) in a.iter().skip(from).take(to - from) {
        match k {
            Key::Int(_) if !preserve => out.push(v.clone()),
            _ => out.insert(k.clone(), v.clone()),
        }
    }
    out
}

/// `slice(start, length=null, preserve_keys=false)`.
pub fn slice(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    // `array_slice` for arrays, `mb_substr` for the rest: PHP's int params.
    let func = if v.as_array().is_some() {
        ("array_slice", "offset", "length")
    } else {
        ("mb_substr", "start", "length")
    };
    let start = util::int_param(func.0, 2, func.1, false, args.required(0)?)?.unwrap_or(0);
    let length = match opt(args, 1) {
        Some(l) => util::int_param(func.0, 3, func.2, true, l)?,
        None => None,
    };
    slice_value(&v, start, length, util::bool_arg(args, 2, false))
}

fn first_or_last(v: &Value, start: i64) -> Result<Value, CallError> {
    let sliced = slice_value(v, start, Some(1), false)?;
    Ok(match sliced {
        Value::Array(a) => a.values().next().cloned().unwrap_or(Value::Bool(false)),
        other => other,
    })
}

/// `first`.
pub fn first(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    first_or_last(&v, 0)
}

/// `last`.
pub fn last(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    first_or_last(&v, -1)
}

/// `join(glue='', and=null)`.
pub fn join(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let items: Vec<Value> = match &v {
        Value::Array(a) => a.values().cloned().collect(),
        Value::Null => Vec::new(),
        // PHP's `(array)` cast of an object: its properties (a captured
        // string has its text and charset).
        Value::Object(o) if is_markup_class(o.class_name()) => {
            vec![util::unmark(v.clone()), Value::str("UTF-8")]
        }
        Value::Object(o) => match o.to_json_value() {
            Value::Array(props) => props.values().cloned().collect(),
            other => vec![other],
        },
        other => vec![other.clone()],
    };
    let glue = util::str_arg(args, 0, "")?;
    let and = opt(args, 1).map(to_str).transpose()?;
    if items.is_empty() {
        return Ok(Value::str(""));
    }
    charge_for(env, items.len())?;
    let mut parts = Vec::with_capacity(items.len());
    for it in &items {
        parts.push(to_str(it)?);
    }
    let and = match and {
        Some(a) if a != glue => a,
        _ => {
            return concat_checked(env, &parts, glue.as_bytes(), None);
        }
    };
    if items.len() == 1 {
        return Ok(items[0].clone());
    }
    concat_checked(env, &parts, glue.as_bytes(), Some(and.as_bytes()))
}

fn concat_checked(
    env: &mut dyn Env,
    parts: &[katabox_value::PStr],
    glue: &[u8],
    and: Option<&[u8]>,
) -> Result<Value, CallError> {
    let total: usize = parts.iter().map(|p| p.len()).sum::<usize>()
        + glue.len().saturating_mul(parts.len())
        + and.map_or(0, <[u8]>::len);
    check_str_len(env, total, "join")?;
    charge_for(env, total)?;
    let mut out = Vec::with_capacity(total);
    let n = parts.len();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            match and {
                Some(a) if i == n - 1 => out.extend_from_slice(a),
                _ => out.extend_from_slice(glue),
            }
        }
        out.extend_from_slice(p.as_bytes());
    }
    Ok(Value::bytes(out))
}

/// `keys`.
pub fn keys(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(match v.as_array() {
        Some(a) => Value::list(a.keys().map(Key::to_value)),
        None => Value::empty_array(),
    })
}

/// `length`.
pub fn length(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let n = match &v {
        Value::Null => 0,
        Value::Array(a) => a.len(),
        Value::Object(_) if crate::library::xml::XmlElement::from_value(&v).is_some() => {
            crate::library::xml::XmlElement::from_value(&v).map_or(0, |x| x.count())
        }
        Value::Object(o) => match o.to_pstr() {
            Ok(s) if is_markup_class(o.class_name()) => mb_chars(s.as_bytes()).len(),
            _ => {
                let j = o.to_json_value();
                match (j.as_array(), o.to_pstr()) {
                    (_, Ok(s)) => mb_chars(s.as_bytes()).len(),
                    (Some(a), _) if o.class_name() != "DateTime" => a.len(),
                    _ => 1,
                }
            }
        },
        other => mb_chars(to_str(other)?.as_bytes()).len(),
    };
    Ok(Value::Int(n as i64))
}

/// PHP `array_merge`.
pub fn array_merge(a: &Array, b: &Array) -> Array {
    let mut out = Array::with_capacity(a.len() + b.len());
    for (k, v) in a.iter().chain(b.iter()) {
        match k {
            Key::Int(_) => out.push(v.clone()),
            Key::Str(_) => out.insert(k.clone(), v.clone()),
        }
    }
    out
}

/// `merge(arr2)`.
pub fn merge(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let other = args.required(0)?;
    let Some(a) = v.as_array() else {
        return Err(CallError::Twig(format!(
            "The merge filter only works with arrays or \"Traversable\", got \"{}\" as first argument.",
            gettype(&v)
        )));
    };
    let Some(b) = other.as_array() else {
        return Err(CallError::Twig(format!(
            "The merge filter only works with arrays or \"Traversable\", got \"{}\" as second argument.",
            gettype(other)
        )));
    };
    check_array_len(env, a.len() + b.len(), "merge")?;
    charge_for(env, a.len() + b.len())?;
    Ok(Value::array(array_merge(a, b)))
}

/// PHP `array_reverse`.
pub fn array_reverse(a: &Array, preserve: bool) -> Array {
    let mut out = Array::with_capacity(a.len());
    for (k, v) in a.iter().rev() {
        match k {
            Key::Int(_) if !preserve => out.push(v.clone()),
            _ => out.insert(k.clone(), v.clone()),
        }
    }
    out
}

/// `reverse(preserve_keys=false)`.
pub fn reverse(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    if let Some(a) = v.as_array() {
        return Ok(Value::array(array_reverse(
            a,
            util::bool_arg(args, 0, false),
        )));
    }
    let s = to_str(&v)?;
    let mut chars = mb_chars(s.as_bytes());
    chars.reverse();
    Ok(Value::bytes(chars.concat()))
}

/// Sorts entries by a fallible comparator, keys kept.
pub fn sort_entries(
    env: &mut dyn Env,
    a: &Array,
    arrow: Option<&Value>,
) -> Result<Array, CallError> {
    let items: Vec<(Key, Value)> = a.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    charge_for(env, items.len().saturating_mul(8))?;
    let sorted = match arrow {
        Some(f) => {
            let f = f.clone();
            merge_sort(items, &mut |x: &(Key, Value), y: &(Key, Value)| {
                env.charge(1)?;
                let r = env.call(&f, &[x.1.clone(), y.1.clone()])?;
                Ok(convert::to_int(&r).cmp(&0))
            })?
        }
        None => merge_sort::<_, CallError>(items, &mut |x, y| Ok(spaceship(&x.1, &y.1).cmp(&0)))?,
    };
    Ok(sorted.into_iter().collect())
}

/// `sort(arrow=null)`.
pub fn sort(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(a) = v.as_array() else {
        return Err(CallError::Twig(format!(
            "The sort filter only works with arrays or \"Traversable\", got \"{}\".",
            gettype(&v)
        )));
    };
    if let Some(f) = opt(args, 0) {
        util::check_arrow(f, "sort")?;
    }
    Ok(Value::array(sort_entries(env, a, opt(args, 0))?))
}

/// Orders values as PHP's default sort does.
pub fn php_cmp(a: &Value, b: &Value) -> Ordering {
    spaceship(a, b).cmp(&0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, arrow, j, je, p};

    fn run(f: crate::callable::FilterFn, v: Value, args: Vec<Value>) -> Result<Value, CallError> {
        f(&mut TestEnv::default(), v, &a(args))
    }

    fn ok(f: crate::callable::FilterFn, v: &str, args: Vec<Value>) -> String {
        match run(f, j(v), args) {
            Ok(r) => je(&r),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn batch_keeps_keys() {
        assert_eq!(
            ok(batch, "[1,2,3,4,5]", vec![Value::Int(2)]),
            r#"[[1,2],{"2":3,"3":4},{"4":5}]"#
        );
        assert_eq!(
            ok(batch, "[1,2,3]", vec![Value::Int(2), Value::str("x")]),
            r#"[[1,2],{"2":3,"3":"x"}]"#
        );
        assert!(ok(batch, r#""s""#, vec![Value::Int(2)]).contains("got \\\"string\\\""));
    }

    #[test]
    fn column_and_merge() {
        assert_eq!(
            ok(
                column,
                r#"[{"a":1,"b":"x"},{"a":2,"b":"y"}]"#,
                vec![Value::str("b"), Value::str("a")]
            ),
            r#"{"1":"x","2":"y"}"#
        );
        assert_eq!(
            ok(merge, r#"{"a":1}"#, vec![j(r#"{"b":2,"a":3}"#)]),
            r#"{"a":3,"b":2}"#
        );
        assert_eq!(
            ok(merge, r#"{"0":"a","5":"b"}"#, vec![j(r#"["c"]"#)]),
            r#"["a","b","c"]"#
        );
        assert_eq!(
            run(merge, Value::Null, vec![j("[1]")]),
            Err(CallError::Twig(
                "The merge filter only works with arrays or \"Traversable\", got \"NULL\" as first argument.".into()
            ))
        );
    }

    #[test]
    fn arrows() {
        let gt1 = arrow(|v| Value::Bool(convert::to_int(&v[0]) > 1));
        assert_eq!(ok(filter, "[1,2,3]", vec![gt1]), r#"{"1":2,"2":3}"#);
        let kv = arrow(|v| Value::str(format!("{}{}", p(&v[1]), p(&v[0]))));
        assert_eq!(
            ok(map, r#"{"a":1,"b":2}"#, vec![kv]),
            r#"{"a":"a1","b":"b2"}"#
        );
        let add = arrow(|v| Value::Int(convert::to_int(&v[0]) + convert::to_int(&v[1])));
        assert_eq!(ok(reduce, "[1,2,3]", vec![add, Value::Int(10)]), "16");
    }

    #[test]
    fn arrows_must_be_closures() {
        let e = run(map, j("[1]"), vec![Value::str("strtoupper")]);
        assert_eq!(
            e,
            Err(CallError::Twig(
                "The callable passed to the \"map\" filter must be a Closure in sandbox mode."
                    .into()
            ))
        );
        assert!(run(sort, j("[1]"), vec![Value::str("x")]).is_err());
        assert!(run(sort, j("[2,1]"), vec![]).is_ok());
    }

    #[test]
    fn first_last_slice() {
        assert_eq!(ok(first, r#"{"a":9,"b":8}"#, vec![]), "9");
        assert_eq!(ok(first, r#""abc""#, vec![]), r#""a""#);
        assert_eq!(
            p(&run(first, Value::Int(5), vec![]).unwrap_or_default()),
            "5"
        );
        assert_eq!(ok(first, "[]", vec![]), "false");
        assert_eq!(ok(last, r#""été""#, vec![]), r#""é""#);
        assert_eq!(
            ok(slice, "[1,2,3,4,5]", vec![Value::Int(1), Value::Int(2)]),
            "[2,3]"
        );
        assert_eq!(
            ok(slice, r#""hello""#, vec![Value::Int(-3), Value::Int(2)]),
            r#""ll""#
        );
        assert_eq!(
            ok(slice, r#""Hello""#, vec![Value::Int(1), Value::Int(-1)]),
            r#""ell""#
        );
        assert_eq!(
            ok(
                slice,
                r#"{"a":1,"b":2,"c":3}"#,
                vec![Value::Int(1), Value::Int(1)]
            ),
            r#"{"b":2}"#
        );
    }

    #[test]
    fn join_and_length() {
        assert_eq!(
            ok(join, "[1,2,3]", vec![Value::str(", "), Value::str(" and ")]),
            r#""1, 2 and 3""#
        );
        assert_eq!(
            ok(join, "[true,false,null,1.0]", vec![Value::str(",")]),
            r#""1,,,1""#
        );
        assert_eq!(ok(join, r#""abc""#, vec![Value::str(",")]), r#""abc""#);
        let m = Value::Object(std::sync::Arc::new(crate::library::test_env::Markup(
            "abc".into(),
        )));
        assert_eq!(
            p(&run(join, m, vec![Value::str(",")]).unwrap_or_default()),
            "abc,UTF-8"
        );
        assert_eq!(ok(length, r#""été""#, vec![]), "3");
        assert_eq!(ok(length, "1.5", vec![]), "3");
        assert_eq!(ok(length, "null", vec![]), "0");
        assert_eq!(ok(keys, r#"{"a":1,"b":2}"#, vec![]), r#"["a","b"]"#);
    }

    #[test]
    fn sort_and_reverse() {
        assert_eq!(ok(sort, "[3,1,2]", vec![]), r#"{"1":1,"2":2,"0":3}"#);
        assert_eq!(
            ok(sort, r#"["b","a","C"]"#, vec![]),
            r#"{"2":"C","1":"a","0":"b"}"#
        );
        assert_eq!(ok(reverse, r#""été""#, vec![]), r#""été""#);
        assert_eq!(ok(reverse, "123", vec![]), r#""321""#);
        assert_eq!(ok(reverse, r#"{"a":1,"b":2}"#, vec![]), r#"{"b":2,"a":1}"#);
    }
}
