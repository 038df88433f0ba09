//! Scrubbing secret values out of run records before they are stored.

use crate::store::RunRecord;
use katabox_verify::Secrets;

/// Replaces every configured secret value in the run's error, logs,
/// request path and payload (but the request body) with `<redacted:NAME>` (see [`Secrets::redact`]).
pub fn redact_run(secrets: &Secrets, run: &mut RunRecord) {
    if secrets.is_empty() {
        return;
    }
    if let Some(error) = &mut run.error {
        redact_string(secrets, error);
    }
    redact_string(secrets, &mut run.request_path);
    for entry in &mut run.logs {
        redact_json(secrets, entry, 0);
    }
    // The payload: header values, inputs, return and the response body.
    // The request body is kept exactly (a replay sends it again).
    if let Some(p) = &mut run.payload {
        if let Some(req) = &mut p.request {
            req.headers
                .values_mut()
                .for_each(|v| redact_string(secrets, v));
            if let Some(q) = &mut req.query {
                redact_string(secrets, q);
            }
        }
        if let Some(resp) = &mut p.response {
            resp.headers
                .values_mut()
                .for_each(|v| redact_string(secrets, v));
            if let Some(body) = &mut resp.body.body {
                redact_string(secrets, body);
            }
        }
        for v in [&mut p.inputs, &mut p.returned].into_iter().flatten() {
            redact_json(secrets, v, 0);
        }
    }
    for child in &mut run.children {
        redact_run(secrets, &mut child.run);
    }
}

/// Replaces each of `values` (a request's credential header values) with
/// `[redacted]` wherever the run echoes them: error, logs, return, inputs,
/// the response's headers and text body.
pub fn scrub_values(run: &mut RunRecord, values: &[String]) {
    if values.is_empty() {
        return;
    }
    let scrub = |s: &mut String| {
        for v in values {
            if s.contains(v.as_str()) {
                *s = s.replace(v.as_str(), super::capture::REDACTED);
            }
        }
    };
    fn walk(v: &mut serde_json::Value, scrub: &dyn Fn(&mut String), depth: usize) {
        match v {
            serde_json::Value::String(s) => scrub(s),
            serde_json::Value::Array(items) if depth < 64 => {
                items.iter_mut().for_each(|i| walk(i, scrub, depth + 1))
            }
            serde_json::Value::Object(map) if depth < 64 => {
                map.values_mut().for_each(|i| walk(i, scrub, depth + 1))
            }
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                *v = serde_json::Value::Null
            }
            _ => {}
        }
    }
    if let Some(e) = &mut run.error {
        scrub(e);
    }
    for entry in &mut run.logs {
        walk(entry, &scrub, 0);
    }
    if let Some(p) = &mut run.payload {
        if let Some(resp) = &mut p.response {
            resp.headers.values_mut().for_each(scrub);
            if let Some(body) = &mut resp.body.body {
                scrub(body);
            }
        }
        for v in [&mut p.inputs, &mut p.returned].into_iter().flatten() {
            walk(v, &scrub, 0);
        }
    }
    for child in &mut run.children {
        scrub_values(&mut child.run, values);
    }
}

/// Redacts every string (and object key) inside a JSON value. Depth is
/// bounded: deeper parts are replaced by `null` rather than left unchecked.
pub fn redact_json(secrets: &Secrets, value: &mut serde_json::Value, depth: usize) {
    const MAX_DEPTH: usize = 64;
    if depth > MAX_DEPTH {
        *value = serde_json::Value::Null;
        return;
    }
    match value {
        serde_json::Value::String(s) => redact_string(secrets, s),
        serde_json::Value::Array(items) => {
            for item in items {
                redact_json(secrets, item, depth + 1);
            }
        }
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (mut key, mut item) in entries {
                redact_string(secrets, &mut key);
                redact_json(secrets, &mut item, depth + 1);
                map.insert(key, item);
            }
        }
        _ => {}
    }
}

/// Redacts one string in place.
pub fn redact_string(secrets: &Secrets, text: &mut String) {
    if let std::borrow::Cow::Owned(clean) = secrets.redact(text) {
        *text = clean;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        let _ = s.insert("hook", katabox_verify::Secret::new("s3cr3t-value"));
        s
    }

    #[test]
    fn scrubs_error_path_and_nested_log_strings_and_keys() {
        let mut run = RunRecord {
            error: Some("bad s3cr3t-value here".into()),
            request_path: "x/s3cr3t-value".into(),
            logs: vec![serde_json::json!({
                "message": "got s3cr3t-value",
                "nested": [{"s3cr3t-value": ["deep s3cr3t-value"]}],
                "n": 5,
            })],
            ..RunRecord::default()
        };
        redact_run(&secrets(), &mut run);
        let all = serde_json::to_string(&run).unwrap_or_default();
        assert!(!all.contains("s3cr3t-value"), "{all}");
        assert_eq!(run.error.as_deref(), Some("bad <redacted:hook> here"));
        assert_eq!(run.request_path, "x/<redacted:hook>");
        assert_eq!(run.logs[0]["n"], 5);
    }

    #[test]
    fn very_deep_logs_are_cut_rather_than_left_unchecked() {
        let mut value = serde_json::json!("s3cr3t-value");
        for _ in 0..100 {
            value = serde_json::json!([value]);
        }
        redact_json(&secrets(), &mut value, 0);
        assert!(!value.to_string().contains("s3cr3t-value"));
    }
}
