//! Engine objects carried in values: captured strings ("Markup") and arrow
//! functions.

use crate::ast::Arrow;
use katabox_value::{Object, PStr, Value};
use std::any::Any;
use std::sync::Arc;

/// A captured string (`{% set x %}…{% endset %}`, `apply`): prints,
/// concatenates and compares as its text, but is always truthy and never
/// identical (`same as`) to a string (scripting.md §5.3).
#[derive(Debug)]
pub struct Markup(pub PStr);

impl Object for Markup {
    fn class_name(&self) -> &str {
        "Twig\\Markup"
    }
    fn to_pstr(&self) -> Result<PStr, String> {
        Ok(self.0.clone())
    }
    fn to_json_value(&self) -> Value {
        Value::Str(self.0.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The text of a captured string value, if `v` is one.
pub fn markup_text(v: &Value) -> Option<&PStr> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<Markup>().map(|m| &m.0),
        _ => None,
    }
}

/// An arrow function value (`v => v * 2`), callable through `Env::call`.
#[derive(Debug)]
pub struct ArrowFn(pub Arc<Arrow>);

impl Object for ArrowFn {
    fn class_name(&self) -> &str {
        "Closure"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The `loop` variable of a `for` iteration, materialised as an array only
/// when used as a whole (attribute reads are answered directly).
#[derive(Debug)]
pub struct LoopVar {
    /// 0-based index.
    pub index0: usize,
    /// Number of items.
    pub length: usize,
    /// The context before the loop (`loop.parent`).
    pub parent: Value,
}

impl LoopVar {
    /// One attribute (`index`, `first`...), `None` when absent.
    pub fn attribute(&self, name: &[u8]) -> Option<Value> {
        let n = |x: usize| Value::Int(i64::try_from(x).unwrap_or(i64::MAX));
        let (i, len) = (self.index0, self.length);
        Some(match name {
            b"parent" => self.parent.clone(),
            b"index0" => n(i),
            b"index" => n(i + 1),
            b"first" => Value::Bool(i == 0),
            b"revindex0" => n(len.saturating_sub(i + 1)),
            b"revindex" => n(len.saturating_sub(i)),
            b"length" => n(len),
            b"last" => Value::Bool(i + 1 == len),
            _ => return None,
        })
    }

    /// The PHP array Twig builds.
    pub fn to_array(&self) -> Value {
        let mut a = katabox_value::Array::with_capacity(8);
        for k in [
            "parent",
            "index0",
            "index",
            "first",
            "revindex0",
            "revindex",
            "length",
            "last",
        ] {
            if let Some(v) = self.attribute(k.as_bytes()) {
                a.insert(k, v);
            }
        }
        Value::array(a)
    }
}

impl Object for LoopVar {
    fn class_name(&self) -> &str {
        "array"
    }
    fn to_pstr(&self) -> Result<PStr, String> {
        Ok(PStr::from("Array"))
    }
    fn to_json_value(&self) -> Value {
        self.to_array()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Replaces a `loop` variable by its array form.
pub fn materialize(v: Value) -> Value {
    match &v {
        Value::Object(o) => match o.as_any().downcast_ref::<LoopVar>() {
            Some(l) => l.to_array(),
            None => v,
        },
        _ => v,
    }
}
