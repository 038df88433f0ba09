//! The entry point plumbing behind [`automation!`](crate::automation).

use crate::{Error, Output};
use katabox_value::{Array, Value};

/// The final dictionary and failure of a run that started with `dict` and
/// ended with `result`: `__exit = return` and `__return` on success; on an
/// error `__exit = error`, `__error = {message}`, `__return = {error}` and
/// the message as the failure.
///
/// ```
/// use katabox_guest::{Error, Output, Value, entry::finish};
/// let (dict, failure) = finish(Value::empty_array(), Ok(Output::new().status_code(204)));
/// assert_eq!(dict.get("__exit").and_then(|v| v.as_str()), Some("return"));
/// assert_eq!(failure, None);
/// let (_, failure) = finish(Value::empty_array(), Err(Error::new("Bad signature")));
/// assert_eq!(failure.as_deref(), Some("Bad signature"));
/// ```
pub fn finish(dict: Value, result: Result<Output, Error>) -> (Value, Option<String>) {
    let mut dict = match dict {
        Value::Array(a) => (*a).clone(),
        _ => Array::new(),
    };
    match result {
        Ok(out) => {
            dict.insert("__exit", Value::str("return"));
            dict.insert("__return", out.into_value());
            (Value::array(dict), None)
        }
        Err(e) => {
            let mut err = Array::new();
            err.insert("message", Value::str(e.message()));
            let mut ret = Array::new();
            ret.insert("error", Value::str(e.message()));
            dict.insert("__exit", Value::str("error"));
            dict.insert("__error", Value::array(err));
            dict.insert("__return", Value::array(ret));
            (Value::array(dict), Some(e.message().to_string()))
        }
    }
}

/// Runs `f` for a run request: decodes the dictionary, calls
/// `f(trigger, dict)` and encodes the outcome (used by
/// [`automation!`](crate::automation)).
#[cfg(target_arch = "wasm32")]
pub fn run_with(
    request: crate::bindings::exports::katabox::automation::run::Request,
    f: impl FnOnce(&str, Value) -> Result<Output, Error>,
) -> crate::bindings::exports::katabox::automation::run::Outcome {
    let (dict, failure) = match crate::decode(&request.dict) {
        Ok(dict) => {
            let result = f(&request.trigger, dict.clone());
            finish(dict, result)
        }
        Err(e) => finish(Value::empty_array(), Err(Error::from(e))),
    };
    crate::host::outcome(&dict, failure)
}

/// Exports `run` — a `fn(trigger: &str, dict: Value) -> Result<Output,
/// Error>` — as the guest's entry point. `dict` is the run's initial
/// dictionary: the trigger's keys (for webhooks `request_body`,
/// `request_headers`, `request_method`, ...) and `inputs`. Returning
/// `Ok(output)` ends the run with `__exit = return` and `__return =
/// output`; `Err(e)` ends it in `error` with `e`'s message.
///
/// ```ignore
/// use katabox_guest::{Error, Output, Value};
///
/// fn run(_trigger: &str, _dict: Value) -> Result<Output, Error> {
///     Ok(Output::new().status_code(200).body("hello"))
/// }
///
/// katabox_guest::automation!(run);
/// ```
///
/// (Expands to nothing outside wasm32, so a guest crate's unit tests build
/// on the host.)
#[macro_export]
macro_rules! automation {
    ($run:path) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct KataboxGuestEntry;
            impl $crate::bindings::exports::katabox::automation::run::Guest for KataboxGuestEntry {
                fn run(
                    request: $crate::bindings::exports::katabox::automation::run::Request,
                ) -> $crate::bindings::exports::katabox::automation::run::Outcome {
                    $crate::entry::run_with(request, $run)
                }
            }
    $crate::bindings::export!(KataboxGuestEntry with_types_in $crate::bindings);
        };
    };
}
