//! [`Output`]: what a run returns (the `__return` map).

use katabox_value::{Array, Value};

/// The `__return` map of a run. For `cerb.trigger.webhook.respond` the
/// keys `status_code`, `headers` and `body` make the HTTP response.
///
/// ```
/// use katabox_guest::Output;
/// let out = Output::new()
///     .status_code(201)
///     .header("Content-Type", "application/json")
///     .body(r#"{"ok":true}"#);
/// assert_eq!(out.get("status_code"), Some(&katabox_guest::Value::Int(201)));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Output {
    map: Array,
}

impl Output {
    /// An empty `__return` map.
    pub fn new() -> Output {
        Output::default()
    }

    /// Sets `status_code`.
    pub fn status_code(self, code: i64) -> Output {
        self.set("status_code", Value::Int(code))
    }

    /// Adds a response header (under `headers`).
    pub fn header(mut self, name: &str, value: &str) -> Output {
        let mut headers = match self.map.get_str("headers") {
            Some(Value::Array(h)) => (**h).clone(),
            _ => Array::new(),
        };
        headers.insert(name, Value::str(value));
        self.map.insert("headers", Value::array(headers));
        self
    }

    /// Sets `body`.
    pub fn body(self, body: impl AsRef<[u8]>) -> Output {
        self.set("body", Value::bytes(body.as_ref()))
    }

    /// Sets any key.
    pub fn set(mut self, key: &str, value: Value) -> Output {
        self.map.insert(key, value);
        self
    }

    /// A key's value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get_str(key)
    }

    /// The map as a value.
    pub fn into_value(self) -> Value {
        Value::array(self.map)
    }
}

impl From<Array> for Output {
    fn from(map: Array) -> Output {
        Output { map }
    }
}
