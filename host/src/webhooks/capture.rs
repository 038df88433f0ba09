//! What the run history keeps of a request and its response, and the
//! request a replay sends again.
//!
//! Bodies are kept up to the history's body limit (UTF-8 as text, anything
//! else exactly, as base64). Credentials never reach the store:
//! `Authorization`, `Cookie`, `Proxy-Authorization` and the listener's
//! signature headers are kept as `"[redacted]"`.

use super::{WebhookRequest, WebhookResponse};
use crate::store::{HeaderList, RecordedBody, RecordedRequest, RecordedResponse};
use katabox_verify::{Preset, VerifyConfig};

/// What a redacted header's value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Headers that carry credentials whatever the listener.
const CREDENTIAL_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// The headers carrying a listener's signature (lower case).
pub fn signature_headers(verify: Option<&VerifyConfig>) -> Vec<String> {
    let Some(v) = verify else {
        return Vec::new();
    };
    let names: &[&str] = match v.preset {
        Preset::Github => &["x-hub-signature-256", "x-hub-signature"],
        Preset::Stripe => &["stripe-signature"],
        Preset::StandardWebhooks => &["webhook-signature", "svix-signature"],
        Preset::Twilio => &["x-twilio-signature"],
        Preset::Slack => &["x-slack-signature"],
        Preset::Hmac | Preset::None => &[],
    };
    let mut out: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    if let Some(h) = &v.header {
        out.push(h.to_ascii_lowercase());
    }
    out
}

/// The values of the request's credential and signature headers (what
/// [`request`] redacts), to be scrubbed wherever else a run echoes them.
pub fn credential_values(req: &WebhookRequest, verify: Option<&VerifyConfig>) -> Vec<String> {
    let secret = signature_headers(verify);
    let mut out: Vec<String> = req
        .headers
        .iter()
        .filter(|(n, _)| {
            let n = n.to_ascii_lowercase();
            CREDENTIAL_HEADERS.contains(&n.as_str()) || secret.contains(&n)
        })
        .map(|(_, v)| String::from_utf8_lossy(v).trim().to_string())
        // Very short values would scrub innocent text.
        .filter(|v| v.len() >= 6)
        .collect();
    // Longest first, so that a value containing another is replaced whole.
    out.sort_by_key(|v| std::cmp::Reverse(v.len()));
    out
}

/// The request as the history keeps it.
pub fn request(
    req: &WebhookRequest,
    verify: Option<&VerifyConfig>,
    body_limit: usize,
) -> RecordedRequest {
    let secret = signature_headers(verify);
    let mut headers = HeaderList::default();
    for (name, value) in &req.headers {
        let name = name.to_ascii_lowercase();
        if CREDENTIAL_HEADERS.contains(&name.as_str()) || secret.contains(&name) {
            if headers.get(&name).is_none() {
                headers.add(name, REDACTED.to_string());
            }
        } else {
            headers.add(name, String::from_utf8_lossy(value).into_owned());
        }
    }
    RecordedRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers,
        body: RecordedBody::keep(&req.body, body_limit),
    }
}

/// The response as the history keeps it.
pub fn response(resp: &WebhookResponse, body_limit: usize) -> RecordedResponse {
    let mut headers = HeaderList::default();
    for (name, value) in &resp.headers {
        headers.add(name.to_ascii_lowercase(), value.clone());
    }
    RecordedResponse {
        status: resp.status,
        headers,
        body: RecordedBody::keep(&resp.body, body_limit),
    }
}

/// The request a replay sends: the recorded one (redacted headers are
/// sent as recorded, which is why a replay skips signature checks).
pub fn replay_request(recorded: &RecordedRequest) -> WebhookRequest {
    WebhookRequest {
        method: recorded.method.clone(),
        path: recorded.path.clone(),
        query: recorded.query.clone(),
        headers: recorded
            .headers
            .0
            .iter()
            .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
            .collect(),
        body: recorded.body.bytes(),
        peer: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)], body: &[u8]) -> WebhookRequest {
        WebhookRequest {
            method: "POST".into(),
            path: "/webhooks/g/x".into(),
            query: Some("a=1".into()),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: body.to_vec(),
            peer: None,
        }
    }

    #[test]
    fn credentials_and_signatures_are_redacted_other_headers_kept() {
        let v = VerifyConfig::new(Preset::Github, &["gh"]);
        let l = Some(&v);
        let r = request(
            &req(
                &[
                    ("Authorization", "Bearer abc"),
                    ("Cookie", "s=1"),
                    ("Proxy-Authorization", "Basic x"),
                    ("X-Hub-Signature-256", "sha256=00"),
                    ("X-Custom", "a"),
                    ("x-custom", "b"),
                ],
                b"{}",
            ),
            l,
            1024,
        );
        for h in [
            "authorization",
            "cookie",
            "proxy-authorization",
            "x-hub-signature-256",
        ] {
            assert_eq!(r.headers.get(h), Some(REDACTED), "{h}");
        }
        assert_eq!(r.headers.get("x-custom"), Some("a, b"));
        // In the order sent.
        let names: Vec<&str> = r.headers.0.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[0], "authorization");
        assert_eq!(names[4], "x-custom");
        assert_eq!(r.body.body.as_deref(), Some("{}"));
        assert_eq!(r.query.as_deref(), Some("a=1"));
    }

    #[test]
    fn bodies_are_capped_and_binary_kept_exactly_as_base64() {
        let r = request(&req(&[], b"abcdef"), None, 4);
        assert_eq!(r.body.body.as_deref(), Some("abcd"));
        assert!(r.body.body_truncated);
        assert_eq!(r.body.body_size, 6);
        let bin = [0u8, 159, 146, 150, 255];
        let r = request(&req(&[], &bin), None, 1024);
        assert_eq!(r.body.body, None);
        assert_eq!(r.body.bytes(), bin);
        assert!(!r.body.body_truncated);
        // A UTF-8 body cut inside a character stays text.
        let r = request(&req(&[], "ééé".as_bytes()), None, 3);
        assert_eq!(r.body.body.as_deref(), Some("é"));
        assert!(r.body.body_truncated);
    }

    #[test]
    fn a_replayed_request_carries_the_recorded_one() {
        let recorded = request(&req(&[("X-A", "1")], b"payload"), None, 1024);
        let again = replay_request(&recorded);
        assert_eq!(again.body, b"payload");
        assert_eq!(again.path, "/webhooks/g/x");
        assert_eq!(again.headers, vec![("x-a".to_string(), b"1".to_vec())]);
    }
}
