//! `http.request` with a 4xx/5xx answer: Cerb's HTTP client (Guzzle, with
//! `http_errors` on) raises, so the command takes `on_error:` with the
//! response plus Guzzle's message in `error`.

use katabox_value::{Value, convert};

/// Longest body excerpt Guzzle puts in the message.
const SUMMARY_MAX: usize = 120;

/// The error message for a response map, if it is a failed response: the
/// host's `error` key, or Guzzle's message built from `status_code`.
pub fn failed_response(method: &str, result: &Value) -> Option<String> {
    if let Some(e @ (Value::Str(_) | Value::Int(_))) = result.get("error") {
        return Some(e.to_string_lossy());
    }
    let status = result.get("status_code").map(convert::to_int)?;
    let label = match status {
        400..=499 => "Client error",
        500..=599 => "Server error",
        _ => return None,
    };
    let url = result
        .get("url")
        .map(Value::to_string_lossy)
        .unwrap_or_default();
    let mut message = format!(
        "{label}: `{method} {url}` resulted in a `{status} {}` response",
        reason(status)
    );
    if let Some(summary) = result.get("body").and_then(summary) {
        message.push_str(":\n");
        message.push_str(&summary);
        message.push('\n');
    }
    Some(message)
}

/// Guzzle's body summary: the first 120 bytes of a printable body, with
/// ` (truncated...)` when cut; nothing for empty or binary bodies.
fn summary(body: &Value) -> Option<String> {
    let text = body.as_str()?;
    if text.is_empty() || text.starts_with("data:") || text.starts_with("cerb:") {
        return None;
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return None;
    }
    if text.len() <= SUMMARY_MAX {
        return Some(text.to_string());
    }
    let mut cut = SUMMARY_MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(format!("{} (truncated...)", &text[..cut]))
}

/// The reason phrase Guzzle's PSR-7 response knows for a status.
fn reason(status: i64) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use katabox_value::Array;

    fn response(status: i64, body: &str) -> Value {
        let mut a = Array::new();
        a.insert("status_code", Value::Int(status));
        a.insert("body", Value::str(body));
        a.insert("url", Value::str("https://api.example/x"));
        Value::array(a)
    }

    #[test]
    fn client_and_server_errors_get_guzzles_message() {
        assert_eq!(
            failed_response("GET", &response(404, "not here")).as_deref(),
            Some(
                "Client error: `GET https://api.example/x` resulted in a `404 Not Found` response:\nnot here\n"
            )
        );
        assert_eq!(
            failed_response("POST", &response(503, "")).as_deref(),
            Some(
                "Server error: `POST https://api.example/x` resulted in a `503 Service Unavailable` response"
            )
        );
    }

    #[test]
    fn successes_and_redirects_are_not_errors() {
        assert_eq!(failed_response("GET", &response(200, "ok")), None);
        assert_eq!(failed_response("GET", &response(302, "")), None);
    }

    #[test]
    fn long_bodies_are_truncated_in_the_message() {
        let body = "x".repeat(200);
        let msg = failed_response("GET", &response(500, &body)).unwrap_or_default();
        assert!(
            msg.ends_with(&format!("{} (truncated...)\n", "x".repeat(120))),
            "{msg}"
        );
    }

    #[test]
    fn a_host_error_key_wins() {
        let mut a = Array::new();
        a.insert("error", Value::str("Could not resolve host"));
        assert_eq!(
            failed_response("GET", &Value::array(a)).as_deref(),
            Some("Could not resolve host")
        );
    }
}
