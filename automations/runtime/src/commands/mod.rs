//! The commands (automations.md §13): dispatch and the standard command
//! contract (§8.2). State commands live in [`vars`], flow commands in
//! [`flow`], `kata.parse` in [`kata_parse`], and the gated ones (sent to
//! [`crate::Host::call`]) in [`gated`].

mod flow;
mod gated;
mod http_errors;
mod kata_parse;
mod vars;

use crate::LogLevel;
use crate::engine::{Failure, Flow, Machine};
use crate::paths;
use crate::tree::Event;
use katabox_value::{Array, Key, Value};

/// Runs the action `command` at node `idx` (its first activation).
pub fn run(m: &mut Machine<'_>, idx: usize, command: &str) -> Result<Flow, Failure> {
    let tree = m.tree;
    let Some(node) = tree.nodes.get(idx) else {
        return Ok(Flow::Stop);
    };
    if node.key.contains('@') && !(command == "return" && is_return_key(&node.key)) {
        return Err(Failure::new(
            idx,
            format!(
                "Annotations other than `return@key` are not allowed on commands (`{}:`)",
                node.key
            ),
        ));
    }
    match command {
        "set" => vars::set(m, idx),
        "var.set" => standard(m, idx, vars::var_set),
        "var.unset" => standard(m, idx, vars::var_unset),
        "var.push" => standard(m, idx, vars::var_push),
        "var.expand" => standard(m, idx, vars::var_expand),
        "kata.parse" => standard(m, idx, kata_parse::kata_parse),
        "return" | "await" => flow::finish(m, idx, command),
        "error" => Err(flow::error(m, idx)),
        "log" => flow::log(m, idx, LogLevel::Debug),
        "log.warn" => flow::log(m, idx, LogLevel::Warn),
        "log.error" => flow::log(m, idx, LogLevel::Error),
        "log.alert" => flow::log(m, idx, LogLevel::Alert),
        "simulate.success" => flow::simulate(m, idx, command, Event::Success),
        "simulate.error" => flow::simulate(m, idx, command, Event::Error),
        c if gated::UNAVAILABLE.contains(&c) => {
            let params = m.eval_node(idx);
            let output = output_key(&params);
            on_error(
                m,
                idx,
                output,
                false,
                format!("`{c}` is not available in katabox"),
                false,
            )
        }
        c => match gated::spec(c) {
            Some(g) => gated::call(m, idx, c, &g),
            None => Err(Failure::new(
                idx,
                format!("Unexpected command `{}:`", node.id),
            )),
        },
    }
}

/// True for `return@key` (also when named: `return/x@key`).
pub(super) fn is_return_key(key: &str) -> bool {
    key.split_once('@').is_some_and(|(_, ann)| ann == "key")
}

/// The `output:` key, when it is a string (or number).
pub(super) fn output_key(params: &Array) -> Option<String> {
    match params.get_str("output") {
        Some(v @ (Value::Str(_) | Value::Int(_) | Value::Float(_))) => Some(v.to_string_lossy()),
        _ => None,
    }
}

/// A command error (§8.2 step 5): with an `on_error` event, write
/// `{error}` into the output and go there; otherwise fail.
pub(super) fn on_error(
    m: &mut Machine<'_>,
    idx: usize,
    output: Option<String>,
    error_without_output: bool,
    message: String,
    direct: bool,
) -> Result<Flow, Failure> {
    let mut err = Array::new();
    err.insert("error", Value::str(&message));
    on_error_with(
        m,
        idx,
        output,
        error_without_output,
        message,
        Value::array(err),
        direct,
    )
}

/// Like [`on_error`], with the value to write into the output.
pub(super) fn on_error_with(
    m: &mut Machine<'_>,
    idx: usize,
    output: Option<String>,
    error_without_output: bool,
    message: String,
    error_value: Value,
    direct: bool,
) -> Result<Flow, Failure> {
    let Some(ev) = m.tree.event(idx, Event::Error, direct) else {
        return Err(Failure::new(idx, message));
    };
    let key = output.or_else(|| error_without_output.then(String::new));
    if let Some(key) = key {
        m.set_key(Key::from(key.as_str()), error_value);
    }
    Ok(Flow::Go(ev))
}

/// Success (§8.2 step 6): store the result, then `on_success` or the parent.
pub(super) fn on_success(
    m: &mut Machine<'_>,
    idx: usize,
    output: Option<String>,
    result: Value,
    direct: bool,
) -> Flow {
    if let Some(key) = output {
        m.set_key(Key::from(key.as_str()), result);
    }
    match m.tree.event(idx, Event::Success, direct) {
        Some(ev) => Flow::Go(ev),
        None => parent(m, idx),
    }
}

pub(super) fn parent(m: &Machine<'_>, idx: usize) -> Flow {
    match m.tree.nodes.get(idx).and_then(|n| n.parent) {
        Some(p) => Flow::Go(p),
        None => Flow::Stop,
    }
}

/// What an ungated command's body returns.
pub(super) type Body = fn(&mut Machine<'_>, usize, &Array) -> Result<Value, String>;

/// The standard contract for ungated commands with `inputs`/`output`.
fn standard(m: &mut Machine<'_>, idx: usize, body: Body) -> Result<Flow, Failure> {
    let params = m.eval_node(idx);
    let output = output_key(&params);
    match body(m, idx, &params) {
        Ok(result) => Ok(on_success(m, idx, output, result, false)),
        Err(message) => on_error(m, idx, output, false, message, false),
    }
}

pub(super) fn inputs_of(params: &Array) -> Array {
    match params.get_str("inputs") {
        Some(Value::Array(a)) => (**a).clone(),
        _ => Array::new(),
    }
}

pub(super) fn text(v: Option<&Value>) -> String {
    v.map(Value::to_string_lossy).unwrap_or_default()
}

/// Splits a `var.*` key on `:` when it contains one.
pub(super) fn colon_path(key: &str) -> Vec<&str> {
    paths::split(key, ":")
}
