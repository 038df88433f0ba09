//! Engine-specific PHP objects carried inside a [`crate::Value`].

use crate::{PStr, Value};
use std::any::Any;
use std::fmt::Debug;

/// A PHP object kind that an engine defines (a DateTime, a captured string,
/// ...). The value model only needs these few behaviours.
pub trait Object: Debug + Send + Sync {
    /// PHP class name, used in error messages.
    fn class_name(&self) -> &str;
    /// PHP string conversion; an error carries PHP's message
    /// (`Object of class X could not be converted to string`).
    fn to_pstr(&self) -> Result<PStr, String> {
        Err(format!(
            "Object of class {} could not be converted to string",
            self.class_name()
        ))
    }
    /// How `json_encode` writes this object.
    fn to_json_value(&self) -> Value {
        Value::empty_array()
    }
    /// PHP truthiness (objects are always true in PHP).
    fn truthy(&self) -> bool {
        true
    }
    /// Downcasting support.
    fn as_any(&self) -> &dyn Any;
}
