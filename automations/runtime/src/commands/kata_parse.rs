//! `kata.parse:` (§13.2): parse and evaluate KATA against its own `dict`.

use super::{inputs_of, text};
use crate::engine::Machine;
use crate::validate::{Ty, check, opt, req, req_empty};
use katabox_value::{Array, Value};

pub(super) fn kata_parse(m: &mut Machine<'_>, idx: usize, params: &Array) -> Result<Value, String> {
    check(
        params,
        "",
        &[opt("inputs", Ty::Map), req("output", Ty::Str)],
    )?;
    let inputs = inputs_of(params);
    check(
        &inputs,
        "inputs:",
        &[
            req_empty("kata", Ty::StrOrMap),
            opt("dict", Ty::Map),
            opt("schema", Ty::Map),
        ],
    )?;
    let at = m
        .tree
        .nodes
        .get(idx)
        .map(|n| n.id.clone())
        .unwrap_or_default();
    let located = |msg: String| format!("{msg} at {at}:inputs:kata:");
    let kata = match inputs.get_str("kata") {
        Some(v @ Value::Array(_)) => katabox_kata::emit(v),
        other => text(other),
    };
    let dict = match inputs.get_str("dict") {
        Some(v @ Value::Array(_)) => v.clone(),
        _ => Value::empty_array(),
    };
    if let Some(schema @ Value::Array(_)) = inputs.get_str("schema") {
        let mut wrapped = Array::new();
        wrapped.insert("schema", schema.clone());
        let schema_text = katabox_kata::emit(&Value::array(wrapped));
        katabox_kata::validate(&kata, &schema_text, Some(&dict), m.scripting).map_err(located)?;
    }
    let tree = katabox_kata::parse(&kata).map_err(|e| located(e.to_string()))?;
    katabox_kata::evaluate(&tree, Some(&dict), m.scripting).map_err(|e| located(e.to_string()))
}
