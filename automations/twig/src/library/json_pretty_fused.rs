//! The fused chain `X|json_encode|json_pretty` (json_encode without
//! arguments): the pretty text straight from the value, skipping the JSON
//! text → decode → re-encode round trip that `json_pretty` does on its own.
//!
//! # Why the result is identical to the unfused chain
//!
//! The unfused chain is `pretty(decode(compact(v)))`, where `compact` is
//! `json_encode($v)` (flags 0) and `pretty` is `json_encode` with
//! PRETTY | UNESCAPED_SLASHES | INVALID_UTF8_SUBSTITUTE. The fast path is
//! `pretty'(v)` with PRETTY | UNESCAPED_SLASHES, taken only for values
//! [`fusable`] accepts; everything else runs the unfused chain. For an
//! accepted value `decode(compact(v)) == v`, node by node:
//!
//! - null, booleans, integers and UTF-8 strings are written and read back
//!   exactly (serde_json reads integers that fit i64 as integers and undoes
//!   every escape `compact` writes);
//! - a float is accepted only after checking that its own text decodes and
//!   re-encodes to the same text (this covers `1.0` → `1` → int 1, `-0`, and
//!   any parse rounding); INF and NAN have no text and are refused;
//! - an array is a list exactly when its keys are 0..n-1 in order; a list is
//!   written `[...]` and read back as the same list (the empty array is `[]`
//!   both ways); any other array is written `{"k":...}` and each key is read
//!   back with the same PHP normalisation, so integer keys come back as the
//!   same integers and string keys, accepted only when already normalised,
//!   come back as the same strings, in the same order (`preserve_order`);
//! - objects are refused (an empty object would come back as `[]`, an
//!   object over a list as a list), and nesting is bounded well below both
//!   serde_json's recursion limit (128) and json_encode's depth (512).
//!
//! Since `pretty` never sees invalid UTF-8 after a decode, SUBSTITUTE has no
//! effect and `pretty'` equals `pretty`. Errors are never produced here: an
//! encoding failure (INF/NAN/invalid UTF-8 → `false` → `json_pretty` gives
//! `''`), an output over the size limit (a limit error in `json_encode`)
//! and any refused value all fall back to the unfused chain, which then
//! gives its own result. The evaluation budget is charged for the compact
//! text's length, as `json_encode` does; that length is derived exactly
//! from the pretty text (see [`compact_len`]).

use super::filters::encoding;
use super::json_enc;
use super::util::charge_for;
use crate::callable::{Args, CallError, Env};
use katabox_value::{Array, Key, Value};

/// JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES.
const PRETTY_FLAGS: i64 = 128 | 64;
/// Deepest array nesting the fast path takes.
const MAX_FUSED_DEPTH: usize = 64;

/// `v|json_encode|json_pretty`, through the fast path where it applies.
pub fn json_encode_pretty(env: &mut dyn Env, v: Value) -> Result<Value, CallError> {
    if let Some(out) = fused(env, &v)? {
        return Ok(out);
    }
    unfused(env, v)
}

/// The chain as two separate filter calls.
pub fn unfused(env: &mut dyn Env, v: Value) -> Result<Value, CallError> {
    let none = Args::default();
    let text = encoding::json_encode(env, v, &none)?;
    encoding::json_pretty(env, text, &none)
}

/// The fast path: `None` when the value or its output needs the unfused chain.
fn fused(env: &mut dyn Env, v: &Value) -> Result<Option<Value>, CallError> {
    if !fusable(v, 0) {
        return Ok(None);
    }
    let max_len = env.limits().max_string_bytes;
    let Ok(pretty) = json_enc::encode(v, PRETTY_FLAGS, 512, max_len) else {
        return Ok(None);
    };
    let compact = compact_len(&pretty);
    if compact > max_len {
        return Ok(None);
    }
    charge_for(env, compact)?;
    Ok(Some(Value::str(pretty)))
}

/// True when `decode(json_encode(v)) == v` holds by construction.
fn fusable(v: &Value, depth: usize) -> bool {
    match v {
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Str(_) => true,
        Value::Float(f) => float_round_trips(*f),
        Value::Array(a) => depth < MAX_FUSED_DEPTH && array_fusable(a, depth),
        Value::Object(_) => false,
    }
}

fn array_fusable(a: &Array, depth: usize) -> bool {
    a.iter().all(|(k, v)| {
        let key_ok = match k {
            Key::Int(_) => true,
            Key::Str(s) => s.as_str().is_some_and(|t| Key::from(t) == *k),
        };
        key_ok && fusable(v, depth + 1)
    })
}

/// The float's JSON text decodes to a value with the same text.
fn float_round_trips(f: f64) -> bool {
    let Some(text) = katabox_value::convert::format_float_json(f) else {
        return false;
    };
    katabox_value::json::decode(text.as_bytes())
        .and_then(|back| json_enc::encode(&back, 0, 1, 64).ok())
        .is_some_and(|again| again == text)
}

/// The length `json_encode` without flags gives for the value whose
/// PRETTY | UNESCAPED_SLASHES text is `pretty`: the compact form has no
/// whitespace outside strings and writes each `/` inside strings as `\/`;
/// every other byte is the same.
fn compact_len(pretty: &str) -> usize {
    let mut len = 0;
    let mut in_string = false;
    let mut escaped = false;
    for &b in pretty.as_bytes() {
        if in_string {
            len += 1;
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            } else if b == b'/' {
                len += 1;
            }
        } else if b != b' ' && b != b'\n' {
            len += 1;
            in_string = b == b'"';
        }
    }
    len
}

#[cfg(test)]
mod fused_tests;
