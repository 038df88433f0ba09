//! A small [`Env`] for unit tests: arrow functions are Rust closures.

use crate::callable::{Args, CallError, Env};
use crate::limits::Limits;
use katabox_value::{Object, PStr, Value};
use std::any::Any;
use std::sync::Arc;

/// The closure type behind a test arrow function.
pub type ArrowFn = Box<dyn Fn(&[Value]) -> Value + Send + Sync>;

/// A test closure usable as an arrow-function value.
pub struct Arrow(pub ArrowFn);

impl std::fmt::Debug for Arrow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Arrow")
    }
}

impl Object for Arrow {
    fn class_name(&self) -> &str {
        "Closure"
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Wraps a closure as an arrow-function value.
pub fn arrow(f: impl Fn(&[Value]) -> Value + Send + Sync + 'static) -> Value {
    Value::Object(Arc::new(Arrow(Box::new(f))))
}

/// A captured string ("Markup") for tests.
#[derive(Debug)]
pub struct Markup(pub String);

impl Object for Markup {
    fn class_name(&self) -> &str {
        "Twig\\Markup"
    }
    fn to_pstr(&self) -> Result<PStr, String> {
        Ok(PStr::from(self.0.as_str()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The test environment.
pub struct TestEnv {
    pub limits: Limits,
    pub now: i64,
    pub tz: String,
    pub dict: Value,
    pub steps: u64,
}

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv {
            limits: Limits::default(),
            now: 1_700_000_000,
            tz: "UTC".into(),
            dict: Value::empty_array(),
            steps: 0,
        }
    }
}

impl Env for TestEnv {
    fn call(&mut self, callable: &Value, args: &[Value]) -> Result<Value, CallError> {
        match callable {
            Value::Object(o) => match o.as_any().downcast_ref::<Arrow>() {
                Some(a) => Ok((a.0)(args)),
                None => Err(CallError::Twig("not callable.".into())),
            },
            _ => Err(CallError::Twig("not callable.".into())),
        }
    }
    fn charge(&mut self, units: u64) -> Result<(), CallError> {
        self.steps += units;
        if self.steps > self.limits.max_steps {
            return Err(CallError::Limit("step limit exceeded".into()));
        }
        Ok(())
    }
    fn limits(&self) -> &Limits {
        &self.limits
    }
    fn timezone(&self) -> &str {
        &self.tz
    }
    fn now(&self) -> i64 {
        self.now
    }
    fn dict(&self) -> &Value {
        &self.dict
    }
}

/// Parses JSON test data into a value.
pub fn j(text: &str) -> Value {
    katabox_value::json::decode(text.as_bytes()).unwrap_or(Value::str("<bad json>"))
}

/// JSON-encodes a value (PHP defaults, slashes unescaped for readability).
pub fn je(v: &Value) -> String {
    let opts = katabox_value::json::JsonOptions {
        escape_slashes: false,
        escape_unicode: false,
        ..katabox_value::json::JsonOptions::php()
    };
    katabox_value::json::encode(v, &opts).unwrap_or_else(|e| format!("<{e}>"))
}

/// Positional arguments.
pub fn a(values: Vec<Value>) -> Args {
    Args::positional(values)
}

/// Prints a value as PHP would (for assertions).
pub fn p(v: &Value) -> String {
    v.to_string_lossy()
}

/// Runs a filter; its result as text, or the error's debug form.
pub fn st(f: crate::callable::FilterFn, v: Value, args: Vec<Value>) -> String {
    match f(&mut TestEnv::default(), v, &a(args)) {
        Ok(r) => r.to_string_lossy(),
        Err(e) => format!("{e:?}"),
    }
}

/// Runs a filter; its result as JSON, or the error's debug form.
pub fn js(f: crate::callable::FilterFn, v: Value, args: Vec<Value>) -> String {
    match f(&mut TestEnv::default(), v, &a(args)) {
        Ok(r) => je(&r),
        Err(e) => format!("{e:?}"),
    }
}
