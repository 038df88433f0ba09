//! Denied: tries `storage.set`, which its policy denies, and answers 403
//! with the host's denial message (Cerb's text).

use katabox_guest::capabilities::storage;
use katabox_guest::{Error, Output, Value};

fn run(_trigger: &str, _dict: Value) -> Result<Output, Error> {
    match storage::set("secret_plans", Value::str("world domination"), None) {
        Ok(_) => Ok(Output::new()
            .status_code(200)
            .body("stored (the policy allowed it)")),
        Err(denied) => Ok(Output::new()
            .status_code(403)
            .header("Content-Type", "text/plain")
            .body(denied.message())),
    }
}

katabox_guest::automation!(run);
