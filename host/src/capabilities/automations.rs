//! `function:`: runs another automation through the same sandbox
//! (automations.md §13.2; the callee's own policy and time limit). The
//! callee's `callers:` rules are checked with the calling automation's
//! name as the caller (policy.md §7; Cerb applies them to interactions only).

use super::{CallContext, Payload};
use crate::sandbox::RunOptions;
use crate::sandbox::children::ChildRun;
use katabox_value::{Array, Value};

/// The trigger a callee must have.
pub const FUNCTION_TRIGGER: &str = "cerb.trigger.automation.function";

/// Validates `uri` (required).
pub fn validate(p: &Payload) -> Result<(), String> {
    match p.uri.as_deref() {
        None => Err("`uri:` is required.".into()),
        Some("") => Err("'uri:' must not be blank.".into()),
        Some(_) => Ok(()),
    }
}

/// The dictionary a callee's `callers:` rules see: `caller_name` (the
/// calling automation, as in Cerb's interaction state) and the call's
/// `inputs`.
pub fn caller_dict(caller: &str, inputs: &Value) -> Value {
    let mut dict = Array::new();
    dict.insert("caller_name", Value::str(caller));
    dict.insert("inputs", inputs.clone());
    Value::array(dict)
}

/// Runs the callee with `{inputs}`; the output is its `__return`.
pub async fn call(ctx: &CallContext<'_>, p: &Payload) -> Result<Value, String> {
    let uri = p.uri.clone().unwrap_or_default();
    let name = uri.strip_prefix("cerb:automation:").unwrap_or(&uri);
    let not_function = || format!("Function ({uri}) must be an automation.function");
    let record = ctx
        .sandbox
        .services()
        .source
        .automation(name)
        .ok_or_else(not_function)?;
    if record.extension_id != FUNCTION_TRIGGER {
        return Err(not_function());
    }
    // The callee's `callers:` decide whether this automation may start it
    // (a katabox deviation: Cerb checks callers only for interactions). A
    // callee policy that does not parse fails in its own run below.
    if let Ok(policy) = ctx.sandbox.policy(&record.policy_kata) {
        let dict = caller_dict(ctx.automation, &p.inputs);
        if !policy.allows_caller(ctx.automation, &dict, ctx.sandbox.scripting()) {
            return Err(crate::policy::caller_denial_message(ctx.automation));
        }
    }
    if ctx.depth + 1 > ctx.sandbox.config().max_call_depth {
        return Err(format!(
            "Function ({uri}) exceeds the nesting limit of {} calls",
            ctx.sandbox.config().max_call_depth
        ));
    }
    let mut dict = Array::new();
    dict.insert("inputs", p.inputs.clone());
    let seq = ctx.request.as_ref().map_or(0, |r| r.children.begin());
    let opts = RunOptions {
        depth: ctx.depth + 1,
        request: ctx.request.clone(),
        seq,
        ..RunOptions::default()
    };
    let at_ms = crate::store::now_unix_ms();
    let result = Box::pin(ctx.sandbox.run(&record, Value::array(dict), opts)).await;
    if let Some(request) = &ctx.request {
        // Kept for the history: the callee's run, linked to this caller.
        request.children.finish(ChildRun {
            seq,
            parent_seq: ctx.seq,
            at_ms,
            automation: record.name.clone(),
            exit: result.exit.clone(),
            error: result.error_message(),
            logs: result.logs.clone(),
            duration: result.duration,
            fuel_used: result.fuel_used,
            memory_peak: result.memory_peak,
            inputs: p.inputs.clone(),
            returned: result.returned().cloned(),
        });
    }
    if let Some(f) = result.failure {
        return Err(f);
    }
    if result.exit == "error" {
        let msg = result
            .dict
            .get("__error")
            .map(|e| e.to_string_lossy())
            .unwrap_or_default();
        return Err(msg);
    }
    Ok(result.dict.get("__return").cloned().unwrap_or(Value::Null))
}
