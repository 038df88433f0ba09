//! GitHub webhook receiver: verifies `X-Hub-Signature-256` (HMAC-SHA256 of
//! the raw body with the operator's secret `github_webhook`, computed by the
//! host and compared in constant time), then routes on `X-GitHub-Event`.
//!
//! Answers: 401 on a missing or bad signature; 200 `{"pong":true}` for
//! `ping`; 200 `{"event":"push","ref":..,"commits":N}` for `push`; 202
//! `{"ignored":"<event>"}` for other events.

use katabox_guest::capabilities::{log, secrets};
use katabox_guest::katabox_value::json::{self, JsonOptions};
use katabox_guest::{Array, Error, Output, Value};

/// The name of the operator's secret (never seen by this guest).
const SECRET: &str = "github_webhook";

fn header(dict: &Value, name: &str) -> String {
    dict.get_path(["request_headers", name])
        .map(Value::to_string_lossy)
        .unwrap_or_default()
}

fn json_answer(status: i64, body: Array) -> Result<Output, Error> {
    let text = json::encode(&Value::array(body), &JsonOptions::plain())
        .map_err(|e| Error::new(e.to_string()))?;
    Ok(Output::new()
        .status_code(status)
        .header("Content-Type", "application/json")
        .body(text))
}

fn pairs(items: &[(&str, Value)]) -> Array {
    let mut a = Array::new();
    for (k, v) in items {
        a.insert(*k, v.clone());
    }
    a
}

fn run(_trigger: &str, dict: Value) -> Result<Output, Error> {
    let body = dict
        .get("request_body")
        .and_then(Value::as_pstr)
        .map(|p| p.as_bytes().to_vec())
        .unwrap_or_default();
    let digest = secrets::hmac(SECRET, "sha256", &body)?;
    let expected = format!("sha256={}", secrets::hex(&digest));
    let given = header(&dict, "x_hub_signature_256");
    if !secrets::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        log::warn("rejected a delivery with a bad signature");
        return json_answer(401, pairs(&[("error", Value::str("Bad signature"))]));
    }
    let event = header(&dict, "x_github_event");
    match event.as_str() {
        "ping" => json_answer(200, pairs(&[("pong", Value::Bool(true))])),
        "push" => {
            let payload = json::decode(&body).unwrap_or_default();
            let git_ref = payload.get("ref").cloned().unwrap_or(Value::Null);
            let commits = payload
                .get("commits")
                .and_then(Value::as_array)
                .map_or(0, |c| c.len() as i64);
            log::info(&format!(
                "push to {} with {commits} commits",
                git_ref.to_string_lossy()
            ));
            json_answer(
                200,
                pairs(&[
                    ("event", Value::str("push")),
                    ("ref", git_ref),
                    ("commits", Value::Int(commits)),
                ]),
            )
        }
        other => json_answer(202, pairs(&[("ignored", Value::str(other))])),
    }
}

katabox_guest::automation!(run);
