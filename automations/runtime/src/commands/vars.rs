//! `set:`, `var.set:`, `var.unset:`, `var.push:`, `var.expand:` (§13.1).

use super::{colon_path, inputs_of, parent, text};
use crate::engine::{Failure, Flow, Machine};
use crate::paths;
use crate::validate::{Ty, check, opt, req, req_empty};
use katabox_value::{Array, Key, Value};
use std::sync::Arc;

/// `set:` evaluates and assigns its keys one by one (§7).
pub(super) fn set(m: &mut Machine<'_>, idx: usize) -> Result<Flow, Failure> {
    let tree = m.tree;
    let Some(node) = tree.nodes.get(idx) else {
        return Ok(Flow::Stop);
    };
    for p in &node.params {
        let path = format!("{}:{}", node.id, p.name());
        let evaluated = m.eval(std::slice::from_ref(p), &path);
        if let Value::Array(a) = evaluated {
            for (k, v) in a.iter() {
                m.set_key(k.clone(), v.clone());
            }
        }
    }
    Ok(parent(m, idx))
}

pub(super) fn var_set(m: &mut Machine<'_>, _idx: usize, params: &Array) -> Result<Value, String> {
    check(
        params,
        "",
        &[req("inputs", Ty::Map), opt("output", Ty::Str)],
    )?;
    let inputs = inputs_of(params);
    check(
        &inputs,
        "inputs:",
        &[
            req("key", Ty::Str),
            req_empty("value", Ty::Any),
            opt("delimiter", Ty::Str),
        ],
    )?;
    let key = text(inputs.get_str("key"));
    let value = inputs.get_str("value").cloned().unwrap_or_default();
    let delimiter = inputs
        .get_str("delimiter")
        .map(Value::to_string_lossy)
        .unwrap_or_else(|| ":".into());
    let segments = paths::split(&key, &delimiter);
    if paths::set(m.dict_mut(), &segments, value.clone()) {
        Ok(value)
    } else {
        Ok(Value::Bool(false))
    }
}

pub(super) fn var_unset(m: &mut Machine<'_>, _idx: usize, params: &Array) -> Result<Value, String> {
    check(
        params,
        "",
        &[req("inputs", Ty::Map), opt("output", Ty::Str)],
    )?;
    let inputs = inputs_of(params);
    check(&inputs, "inputs:", &[req("key", Ty::Any)])?;
    match inputs.get_str("key") {
        Some(Value::Array(keys)) => {
            let mut out = Array::new();
            for k in keys.values() {
                let k = k.to_string_lossy();
                let existed = paths::unset(m.dict_mut(), &colon_path(&k));
                out.insert(Key::from(k.as_str()), Value::Bool(existed));
            }
            Ok(Value::array(out))
        }
        other => {
            let k = text(other);
            Ok(Value::Bool(paths::unset(m.dict_mut(), &colon_path(&k))))
        }
    }
}

pub(super) fn var_push(m: &mut Machine<'_>, _idx: usize, params: &Array) -> Result<Value, String> {
    check(
        params,
        "",
        &[req("inputs", Ty::Map), opt("output", Ty::Str)],
    )?;
    let inputs = inputs_of(params);
    check(
        &inputs,
        "inputs:",
        &[req("key", Ty::Str), opt("value", Ty::Any)],
    )?;
    let key = text(inputs.get_str("key"));
    let segments = colon_path(&key);
    let current = paths::get(&m.dict_value(), &segments).cloned();
    let mut list = match current {
        None | Some(Value::Null) => Array::new(),
        Some(Value::Array(a)) => Arc::unwrap_or_clone(a),
        Some(scalar) => Array::from_iter([scalar]),
    };
    match inputs.get_str("value") {
        Some(Value::Array(v)) if v.is_empty() => {}
        Some(Value::Array(v)) if !v.is_list() => {
            for (k, val) in v.iter() {
                list.insert(k.clone(), val.clone());
            }
        }
        other => list.push(other.cloned().unwrap_or_default()),
    }
    let result = Value::array(list);
    paths::set(m.dict_mut(), &segments, result.clone());
    Ok(result)
}

pub(super) fn var_expand(
    _m: &mut Machine<'_>,
    _idx: usize,
    params: &Array,
) -> Result<Value, String> {
    check(
        params,
        "",
        &[req("inputs", Ty::Map), opt("output", Ty::Str)],
    )?;
    let inputs = inputs_of(params);
    check(
        &inputs,
        "inputs:",
        &[opt("key", Ty::Str), req("paths", Ty::StrOrMap)],
    )?;
    Ok(Value::Bool(true))
}
