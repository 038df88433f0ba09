//! Small helpers shared by the filters, functions and tests.

use crate::callable::{Args, CallError, Env};
use katabox_value::convert;
use katabox_value::{Key, PStr, Value};

/// Class names of the engine's "captured string" objects (Twig's `Markup`).
pub(crate) fn is_markup_class(name: &str) -> bool {
    name == "Twig\\Markup" || name == "Markup"
}

/// PHP string conversion; objects that refuse give their PHP error.
pub(crate) fn to_str(v: &Value) -> Result<PStr, CallError> {
    convert::to_pstr(v).map_err(|e| CallError::Php(e.0))
}

/// A PHP `string` parameter (non-strict mode): scalars convert, null is
/// `''`, arrays and objects without a string form are a `TypeError`
/// (`{func}(): Argument #{pos} (${name}) must be of type string, array given`).
pub(crate) fn string_param(func: &str, pos: u8, name: &str, v: &Value) -> Result<PStr, CallError> {
    let refuse = |t: &str| {
        CallError::Php(format!(
            "{func}(): Argument #{pos} (${name}) must be of type string, {t} given"
        ))
    };
    match v {
        Value::Array(_) => Err(refuse("array")),
        Value::Object(o) => o.to_pstr().map_err(|_| refuse(o.class_name())),
        other => to_str(other),
    }
}

/// The string a Cerb filter sees: strings and captured strings; anything
/// else (numbers included) is `None`.
/// A PHP `int` (or `?int` with `nullable`) parameter in weak mode: numeric
/// strings and in-range floats convert (truncating), anything else is
/// PHP 8's `TypeError`. Null gives `None`.
pub(crate) fn int_param(
    func: &str,
    pos: u8,
    name: &str,
    nullable: bool,
    v: &Value,
) -> Result<Option<i64>, CallError> {
    let bad = |given: &str| {
        let q = if nullable { "?" } else { "" };
        CallError::Php(format!(
            "{func}(): Argument #{pos} (${name}) must be of type {q}int, {given} given"
        ))
    };
    let fits = |f: f64| {
        f.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f)
    };
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(i64::from(*b))),
        Value::Int(i) => Ok(Some(*i)),
        Value::Float(f) if fits(*f) => Ok(Some(*f as i64)),
        Value::Float(_) => Err(bad("float")),
        Value::Str(s) => match katabox_value::convert::parse_numeric(s.as_bytes()) {
            Some(katabox_value::convert::Number::Int(i)) => Ok(Some(i)),
            Some(katabox_value::convert::Number::Float(f)) if fits(f) => Ok(Some(f as i64)),
            _ => Err(bad("string")),
        },
        other => Err(bad(&type_or_class(other))),
    }
}

pub(crate) fn cerb_str(v: &Value) -> Option<PStr> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Object(o) if is_markup_class(o.class_name()) => o.to_pstr().ok(),
        _ => None,
    }
}

/// A string, number or captured string as text (`None` for other kinds).
pub(crate) fn scalar_str(v: &Value) -> Option<PStr> {
    match v {
        Value::Int(_) | Value::Float(_) => convert::to_pstr(v).ok(),
        _ => cerb_str(v),
    }
}

/// Replaces a captured string by its plain string.
pub(crate) fn unmark(v: Value) -> Value {
    match &v {
        Value::Object(o) if is_markup_class(o.class_name()) => match o.to_pstr() {
            Ok(s) => Value::Str(s),
            Err(_) => v,
        },
        _ => v,
    }
}

/// `get_class()` for objects, else `gettype()` (Twig's "got X" for
/// `batch`, `filter`, `replace`).
pub(crate) fn type_or_class(v: &Value) -> String {
    match v {
        Value::Object(o) => o.class_name().to_string(),
        other => gettype(other).to_string(),
    }
}

/// Twig's sandbox check on arrow arguments: only closures may be called.
pub(crate) fn check_arrow(arrow: &Value, filter: &str) -> Result<(), CallError> {
    if arrow.type_name() == "Closure" {
        return Ok(());
    }
    Err(CallError::Twig(format!(
        "The callable passed to the \"{filter}\" filter must be a Closure in sandbox mode."
    )))
}

/// PHP `gettype()` names, used by Twig's "got X" messages.
pub(crate) fn gettype(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "double",
        Value::Str(_) => "string",
        Value::Array(_) => "array",
        Value::Object(o) if is_markup_class(o.class_name()) => "object",
        Value::Object(_) => "object",
    }
}

/// The optional argument `i`, treating an explicit `null` like an absent one.
pub(crate) fn opt(args: &Args, i: usize) -> Option<&Value> {
    match args.get(i) {
        Some(Value::Null) | None => None,
        Some(v) => Some(v),
    }
}

/// Argument `i` as a string (PHP conversion), or `default`.
pub(crate) fn str_arg(args: &Args, i: usize, default: &str) -> Result<PStr, CallError> {
    match args.get(i) {
        Some(v) => to_str(v),
        None => Ok(PStr::from(default)),
    }
}

/// Argument `i` truthiness, or `default`.
pub(crate) fn bool_arg(args: &Args, i: usize, default: bool) -> bool {
    args.get(i).map_or(default, Value::truthy)
}

/// Fails when an array would exceed the array-length limit.
pub(crate) fn check_array_len(env: &dyn Env, n: usize, what: &str) -> Result<(), CallError> {
    if n > env.limits().max_array_len {
        return Err(CallError::Limit(format!(
            "{what}: array length limit ({}) exceeded",
            env.limits().max_array_len
        )));
    }
    Ok(())
}

/// Fails when a string would exceed the string-size limit.
pub(crate) fn check_str_len(env: &dyn Env, n: usize, what: &str) -> Result<(), CallError> {
    if n > env.limits().max_string_bytes {
        return Err(CallError::Limit(format!(
            "{what}: string size limit ({} bytes) exceeded",
            env.limits().max_string_bytes
        )));
    }
    Ok(())
}

/// Charges work proportional to `n` items or bytes (1 unit per 64).
pub(crate) fn charge_for(env: &mut dyn Env, n: usize) -> Result<(), CallError> {
    env.charge((n as u64) / 64 + 1)
}

/// Unicode characters of a byte string, treating each invalid byte as one
/// character (as `mb_*` functions do).
pub(crate) fn mb_chars(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        let len = match std::str::from_utf8(rest) {
            Ok(s) => s.chars().next().map_or(1, char::len_utf8),
            Err(e) if e.valid_up_to() > 0 => {
                let valid = &rest[..e.valid_up_to()];
                std::str::from_utf8(valid)
                    .ok()
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8)
            }
            Err(_) => 1,
        };
        let len = len.min(rest.len()).max(1);
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

/// The key of a value as PHP would use it, or `None` for arrays/objects.
pub(crate) fn key_of(v: &Value) -> Option<Key> {
    Key::from_value(&unmark(v.clone()))
}
