//! The one value model of katabox: PHP values as Cerb sees them.
//!
//! Cerb is written in PHP, so every dictionary, KATA tree, template value and
//! automation result is a PHP value: `null`, `bool`, `int`, `float`, a byte
//! string, or the PHP *array* — an ordered map whose keys are integers or
//! strings, serving both as list and as dictionary. Scripting, KATA, the
//! automation runtime, the host and the guest SDK all share this type.
//!
//! Modules:
//! - [`array`]: the ordered PHP array and its key normalisation;
//! - [`convert`]: PHP string conversion (floats at precision 14), truthiness,
//!   numeric strings;
//! - [`compare`]: PHP 8 loose comparison (`==`, `<`, `<=>`);
//! - [`json`]: Cerb's JSON encoding (and pretty printing) and decoding.
//! - [`wire`]: the compact binary form in which values cross the WIT boundary.

pub mod array;
pub mod compare;
pub mod convert;
pub mod date;
pub mod json;
mod object;
mod pstr;
pub mod wire;

pub use array::{Array, Key};
pub use object::Object;
pub use pstr::PStr;

use std::sync::Arc;

/// A PHP value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// PHP `null`.
    #[default]
    Null,
    /// PHP `bool`.
    Bool(bool),
    /// PHP `int` (signed 64-bit).
    Int(i64),
    /// PHP `float` (IEEE double; may be INF or NAN).
    Float(f64),
    /// PHP string: a byte string, normally UTF-8.
    Str(PStr),
    /// PHP array (copy-on-write).
    Array(Arc<Array>),
    /// An engine-specific object (a DateTime, a captured string, ...).
    Object(Arc<dyn Object>),
}

impl Value {
    /// An empty PHP array.
    pub fn empty_array() -> Value {
        Value::Array(Arc::new(Array::new()))
    }

    /// Wraps an [`Array`].
    pub fn array(a: Array) -> Value {
        Value::Array(Arc::new(a))
    }

    /// A string value from UTF-8 text.
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::Str(PStr::from(s.as_ref()))
    }

    /// A string value from raw bytes.
    pub fn bytes(b: impl AsRef<[u8]>) -> Value {
        Value::Str(PStr::from_bytes(b.as_ref()))
    }

    /// A list (keys 0..n) from values.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::array(items.into_iter().collect())
    }

    /// PHP's type name as used in error messages (`null`, `bool`, `int`,
    /// `float`, `string`, `array`, or the object's class).
    pub fn type_name(&self) -> &str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "array",
            Value::Object(o) => o.class_name(),
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Mutable access to the array (cloning it if shared), if this is one.
    pub fn as_array_mut(&mut self) -> Option<&mut Array> {
        match self {
            Value::Array(a) => Some(Arc::make_mut(a)),
            _ => None,
        }
    }

    /// The string bytes, if this is a string.
    pub fn as_pstr(&self) -> Option<&PStr> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The string as UTF-8 text, if this is a string holding valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_pstr().and_then(|s| s.as_str())
    }

    /// PHP string conversion (see [`convert::to_pstr`]); arrays give `"Array"`.
    pub fn to_pstr(&self) -> Result<PStr, convert::ConvertError> {
        convert::to_pstr(self)
    }

    /// PHP string conversion as (lossy) UTF-8 text; errors give an empty string.
    pub fn to_string_lossy(&self) -> String {
        match convert::to_pstr(self) {
            Ok(s) => s.to_string_lossy().into_owned(),
            Err(_) => String::new(),
        }
    }

    /// PHP truthiness (`(bool)$v`).
    pub fn truthy(&self) -> bool {
        convert::truthy(self)
    }

    /// Looks up `key` (normalised as PHP does) when this is an array.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_array().and_then(|a| a.get_str(key))
    }

    /// Walks a path of keys through nested arrays with Cerb's quirk: if the
    /// walk meets a non-array before the path ends, that value is returned.
    /// A missing key gives `None`.
    pub fn get_path<'a>(&self, path: impl IntoIterator<Item = &'a str>) -> Option<&Value> {
        let mut cur = self;
        for seg in path {
            match cur {
                Value::Array(a) => cur = a.get_str(seg)?,
                other => return Some(other),
            }
        }
        Some(cur)
    }
}

impl PartialEq for Value {
    /// Strict structural equality (PHP `===` for scalars and arrays; objects
    /// compare by identity).
    fn eq(&self, other: &Value) -> bool {
        compare::strict_eq(self, other)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::str(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(PStr::from(v))
    }
}
impl From<PStr> for Value {
    fn from(v: PStr) -> Self {
        Value::Str(v)
    }
}
impl From<Array> for Value {
    fn from(v: Array) -> Self {
        Value::array(v)
    }
}
