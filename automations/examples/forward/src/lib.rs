//! Forwarder: reshapes a JSON payload `{"user":{"name":..},"action":..}`
//! into `{"who":..,"did":..,"source":"katabox"}` and forwards it with
//! `http.request` to `inputs.target` (default `http://127.0.0.1:9/`), the
//! one host its policy allows. Answers with the upstream's status and body.

use katabox_guest::capabilities::http::Request;
use katabox_guest::katabox_value::json::{self, JsonOptions};
use katabox_guest::{Array, Error, Output, Value};

fn run(_trigger: &str, dict: Value) -> Result<Output, Error> {
    let body = dict
        .get("request_body")
        .and_then(Value::as_pstr)
        .map(|p| p.as_bytes().to_vec())
        .unwrap_or_default();
    let Some(payload) = json::decode(&body) else {
        return Ok(Output::new().status_code(400).body("Expected a JSON body"));
    };
    let mut reshaped = Array::new();
    reshaped.insert(
        "who",
        payload
            .get_path(["user", "name"])
            .cloned()
            .unwrap_or(Value::Null),
    );
    reshaped.insert("did", payload.get("action").cloned().unwrap_or(Value::Null));
    reshaped.insert("source", Value::str("katabox"));
    let text = json::encode(&Value::array(reshaped), &JsonOptions::plain())
        .map_err(|e| Error::new(e.to_string()))?;
    let target = dict
        .get_path(["request_params", "target"])
        .map(Value::to_string_lossy)
        .unwrap_or_else(|| "http://127.0.0.1:9/".to_string());
    let response = Request::post(&target)
        .header("Content-Type", "application/json")
        .body(text)
        .timeout_secs(5)
        .send()?;
    Ok(Output::new()
        .status_code(if response.status_code < 400 { 200 } else { 502 })
        .header("Content-Type", "text/plain")
        .body(format!("forwarded: {}", response.status_code)))
}

katabox_guest::automation!(run);
