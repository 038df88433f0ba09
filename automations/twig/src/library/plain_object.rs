//! PHP's `stdClass`: what `dict_set` / `dict_unset` return for an empty
//! non-array start value (scripting.md §8.2). It JSON-encodes as a hash but
//! is opaque to attribute access and iteration.

use katabox_value::{Array, Object, Value};
use std::any::Any;
use std::sync::Arc;

/// A plain PHP object with properties.
#[derive(Debug, Clone, Default)]
pub struct PlainObject(pub Array);

impl PlainObject {
    /// Wraps properties as a value.
    pub fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    /// The properties of a plain object value.
    pub fn from_value(v: &Value) -> Option<&PlainObject> {
        match v {
            Value::Object(o) => o.as_any().downcast_ref::<PlainObject>(),
            _ => None,
        }
    }
}

impl Object for PlainObject {
    fn class_name(&self) -> &str {
        "stdClass"
    }
    fn to_json_value(&self) -> Value {
        Value::array(self.0.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}
