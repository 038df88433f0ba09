//! The gated commands (§13.2), sent to [`crate::Host::call`] after their
//! parameters are validated, and the helpdesk-only commands katabox lacks.

use super::{on_error, on_error_with, on_success, output_key};
use crate::engine::{Failure, Flow, Machine};
use crate::validate::{Field, Ty, check, opt, req};
use katabox_value::{Array, Value};

/// Commands that only exist inside Cerb's helpdesk.
pub(super) const UNAVAILABLE: &[&str] = &[
    "api.command",
    "data.query",
    "decrypt.pgp",
    "email.parse",
    "encrypt.pgp",
    "record.create",
    "record.delete",
    "record.get",
    "record.search",
    "record.update",
    "record.upsert",
];

/// How a gated command validates and picks its events.
pub(super) struct Gated {
    params: &'static [Field],
    /// `on_success` must sit directly under the action.
    direct_success: bool,
    /// `on_error` must sit directly under the action.
    direct_error: bool,
    /// The error map is written even without `output:` (to the key `""`).
    error_without_output: bool,
}

const INPUTS_OUTPUT_REQ: &[Field] = &[req("inputs", Ty::Map), req("output", Ty::Str)];
const HTTP: &[Field] = &[opt("inputs", Ty::Map), req("output", Ty::Str)];
const FUNCTION: &[Field] = &[
    req("uri", Ty::Str),
    opt("inputs", Ty::Map),
    opt("output", Ty::Str),
];
const INPUTS_REQ: &[Field] = &[req("inputs", Ty::Map), opt("output", Ty::Str)];

pub(super) fn spec(command: &str) -> Option<Gated> {
    let g = |params, direct_success, direct_error, error_without_output| Gated {
        params,
        direct_success,
        direct_error,
        error_without_output,
    };
    Some(match command {
        "http.request" => g(HTTP, false, false, false),
        "function" => g(FUNCTION, true, true, false),
        "storage.get" => g(INPUTS_OUTPUT_REQ, false, false, false),
        "storage.set" | "storage.delete" | "file.read" | "file.write" => {
            g(INPUTS_REQ, false, false, false)
        }
        "metric.increment" => g(INPUTS_REQ, true, false, true),
        "queue.push" | "queue.pop" => g(INPUTS_OUTPUT_REQ, true, false, true),
        _ => return None,
    })
}

/// A gated command: validate the parameters, then ask the host.
pub(super) fn call(
    m: &mut Machine<'_>,
    idx: usize,
    command: &str,
    g: &Gated,
) -> Result<Flow, Failure> {
    let params = m.eval_node(idx);
    let output = output_key(&params);
    if let Err(message) = check(&params, "", g.params) {
        return on_error(
            m,
            idx,
            output,
            g.error_without_output,
            message,
            g.direct_error,
        );
    }
    let inputs = match params.get_str("inputs") {
        Some(v @ Value::Array(_)) => v.clone(),
        _ => Value::empty_array(),
    };
    let mut payload = Array::new();
    payload.insert("inputs", inputs);
    if let Some(out) = &output {
        payload.insert("output", Value::str(out));
    }
    if command == "function" {
        payload.insert("uri", params.get_str("uri").cloned().unwrap_or_default());
    }
    let payload = Value::array(payload);
    let node_id = m
        .tree
        .nodes
        .get(idx)
        .map(|n| n.id.clone())
        .unwrap_or_default();
    match m.host.call(command, &node_id, payload) {
        Ok(result) => match failed_response(command, &params, &result) {
            Some(message) => on_error_with(
                m,
                idx,
                output,
                g.error_without_output,
                message,
                result,
                g.direct_error,
            ),
            None => Ok(on_success(m, idx, output, result, g.direct_success)),
        },
        Err(message) => on_error(
            m,
            idx,
            output,
            g.error_without_output,
            message,
            g.direct_error,
        ),
    }
}

/// The error of an `http.request` result that is a failed (4xx/5xx)
/// response; other commands' results are never errors.
fn failed_response(command: &str, params: &Array, result: &Value) -> Option<String> {
    if command != "http.request" {
        return None;
    }
    let method = params
        .get_str("inputs")
        .and_then(|i| i.get("method"))
        .map(|m| m.to_string_lossy().to_uppercase())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "GET".into());
    super::http_errors::failed_response(&method, result)
}
