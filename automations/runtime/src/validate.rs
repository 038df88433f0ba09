//! Cerb's command parameter validation (automations.md §8.2): unknown
//! fields, required fields, blank values and types, with Cerb's texts.

use katabox_value::{Array, Value};

/// The type a field accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A string or a number.
    Str,
    /// A map or list.
    Map,
    /// A string, number, map or list.
    StrOrMap,
    /// Anything.
    Any,
}

/// One allowed field.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// A required field that may be present but empty.
    pub may_be_empty: bool,
}

/// An optional field.
pub const fn opt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: false,
        may_be_empty: true,
    }
}

/// A required field that must not be blank.
pub const fn req(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: true,
        may_be_empty: false,
    }
}

/// A required field that may be empty.
pub const fn req_empty(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: true,
        may_be_empty: true,
    }
}

/// PHP's `gettype` names, as Cerb's messages print them.
pub fn php_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "double",
        Value::Str(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Validates `map` against `fields`; `prefix` is `""` for a command's
/// parameters and `inputs:` for its inputs.
pub fn check(map: &Array, prefix: &str, fields: &[Field]) -> Result<(), String> {
    for key in map.keys() {
        let k = key.to_string_lossy();
        if !fields.iter().any(|f| f.name == k) {
            return Err(format!("`{k}` is an unknown field."));
        }
    }
    for f in fields {
        let label = format!("{prefix}{}:", f.name);
        let Some(v) = map.get_str(f.name) else {
            if f.required {
                return Err(format!("`{label}` is required."));
            }
            continue;
        };
        if f.required && !f.may_be_empty && is_blank(v) {
            return Err(format!("'{label}' must not be blank."));
        }
        if v.is_null() {
            continue;
        }
        let ok = match f.ty {
            Ty::Str => matches!(v, Value::Str(_) | Value::Int(_) | Value::Float(_)),
            Ty::Map => matches!(v, Value::Array(_)),
            Ty::StrOrMap => matches!(
                v,
                Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Array(_)
            ),
            Ty::Any => true,
        };
        if !ok {
            return Err(match f.ty {
                Ty::Map => format!("'{label}' must be an array."),
                Ty::StrOrMap => format!("'{label}' must be a string or array ({}).", php_type(v)),
                _ => format!("'{label}' must be a string ({}).", php_type(v)),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> Array {
        let mut a = Array::new();
        for (k, v) in pairs {
            a.insert(*k, v.clone());
        }
        a
    }

    #[test]
    fn messages_follow_cerb() {
        let fields = [opt("inputs", Ty::Map), req("output", Ty::Str)];
        assert_eq!(
            check(&map(&[]), "", &fields),
            Err("`output:` is required.".into())
        );
        assert_eq!(
            check(&map(&[("bogus", Value::Null)]), "", &fields),
            Err("`bogus` is an unknown field.".into())
        );
        assert_eq!(
            check(&map(&[("output", Value::empty_array())]), "", &fields),
            Err("'output:' must not be blank.".into())
        );
        assert_eq!(
            check(&map(&[("output", Value::Bool(true))]), "", &fields),
            Err("'output:' must be a string (boolean).".into())
        );
        assert_eq!(
            check(
                &map(&[("output", Value::str("x")), ("inputs", Value::str("y"))]),
                "",
                &fields
            ),
            Err("'inputs:' must be an array.".into())
        );
        let inputs = [req("key", Ty::Str)];
        assert_eq!(
            check(&map(&[]), "inputs:", &inputs),
            Err("`inputs:key:` is required.".into())
        );
    }
}
