//! Run result → HTTP response (webhooks.md §6). Pure functions.

use base64::Engine as _;
use katabox_value::{Value, convert};

/// The response a listener sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: u16,
    /// Header names as the automation wrote them, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Cerb's default content type when the automation sends none.
pub const DEFAULT_CONTENT_TYPE: &str = "text/html; charset=UTF-8";

impl WebhookResponse {
    /// A response with no automation headers (the default content type is
    /// added when sent).
    pub fn plain(status: u16, body: impl Into<Vec<u8>>) -> WebhookResponse {
        WebhookResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// The empty 404 that most failure paths give.
    pub fn not_found() -> WebhookResponse {
        WebhookResponse::plain(404, Vec::new())
    }

    /// 503 with `Retry-After: 1`: the run could not get an instance (the
    /// host's or the listener's share was in use).
    pub fn busy() -> WebhookResponse {
        WebhookResponse {
            status: 503,
            headers: vec![
                ("Retry-After".into(), "1".into()),
                ("Content-Type".into(), "text/plain; charset=UTF-8".into()),
            ],
            body: b"Server busy, try again later".to_vec(),
        }
    }

    /// The value of a header (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds the default content type, and PHP's `;charset=UTF-8` on `text/*`
    /// types without a charset (§6.2 steps 4–5).
    pub fn finish_content_type(&mut self) {
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            None => self
                .headers
                .push(("Content-Type".into(), DEFAULT_CONTENT_TYPE.into())),
            Some((_, v)) => {
                let lower = v.to_ascii_lowercase();
                if lower.trim_start().starts_with("text/") && !lower.contains("charset") {
                    v.push_str(";charset=UTF-8");
                }
            }
        }
    }
}

/// How a run ended, as far as the response is concerned.
#[derive(Debug, Clone)]
pub enum RunEnd {
    /// The run failed (`error:`, an unhandled command error, a parse,
    /// build or input error, an invalid policy).
    Failed,
    /// The run finished with this `__exit` and final dictionary.
    Finished { exit: String, dict: Value },
}

/// The status a `status_code` value gives, or `None` for PHP's uncaught
/// TypeError (→ 500).
pub fn status_from(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) if f.is_finite() => Some(convert::float_to_int(*f)),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Str(s) => {
            let n = convert::parse_numeric(s.as_bytes())
                .or_else(|| convert::parse_leading_numeric(s.as_bytes()))?;
            Some(match n {
                convert::Number::Int(i) => i,
                convert::Number::Float(f) => convert::float_to_int(f),
            })
        }
        _ => None,
    }
}

/// Builds the response (§6.1–6.2). `resolve` maps a `cerb:` body URI to
/// its bytes (None: the body is empty).
pub fn build_response(end: &RunEnd, resolve: &dyn Fn(&str) -> Option<Vec<u8>>) -> WebhookResponse {
    let mut resp = build_inner(end, resolve);
    resp.finish_content_type();
    resp
}

fn build_inner(end: &RunEnd, resolve: &dyn Fn(&str) -> Option<Vec<u8>>) -> WebhookResponse {
    let (exit, dict) = match end {
        RunEnd::Failed => return WebhookResponse::not_found(),
        RunEnd::Finished { exit, dict } => (exit.as_str(), dict),
    };
    if exit != "return" && exit != "await" {
        return WebhookResponse::plain(200, Vec::new());
    }
    let Some(ret) = dict.get("__return").and_then(Value::as_array) else {
        return WebhookResponse::plain(200, Vec::new());
    };

    let mut status: i64 = 200;
    if let Some(code) = ret.get_str("status_code").filter(|c| !c.is_null()) {
        match status_from(code) {
            Some(s) if (100..=999).contains(&s) => status = s,
            _ => return WebhookResponse::plain(500, Vec::new()),
        }
    }

    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(Value::Array(h)) = ret.get_str("headers") {
        for (name, value) in h.iter() {
            let name = name.to_string_lossy();
            let value = match value {
                Value::Array(_) | Value::Object(_) => "Array".to_string(),
                other => other.to_string_lossy(),
            };
            if value.contains('\r') || value.contains('\n') || !valid_header_name(&name) {
                continue;
            }
            match headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            {
                Some(slot) => *slot = (name, value),
                None => headers.push((name, value)),
            }
        }
    }
    if headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("location"))
        && status != 201
        && !(300..400).contains(&status)
    {
        status = 302;
    }

    let body = if let Some(b64) = ret.get_str("body@base64") {
        let text = b64.to_string_lossy();
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .unwrap_or_default()
    } else if let Some(body) = ret.get_str("body") {
        match body {
            Value::Str(s) if s.as_bytes().starts_with(b"cerb:") => {
                resolve(&s.to_string_lossy()).unwrap_or_default()
            }
            Value::Array(_) => b"Array".to_vec(),
            other => other
                .to_pstr()
                .map(|p| p.as_bytes().to_vec())
                .unwrap_or_default(),
        }
    } else {
        Vec::new()
    };

    WebhookResponse {
        status: status as u16,
        headers,
        body,
    }
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A parsed `cerb:` resource URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceUri {
    /// `cerb:automation_resource:TOKEN`.
    AutomationResource(String),
    /// `cerb:resource:NAME`.
    Resource(String),
}

/// Parses a body `cerb:` URI; `None` when it does not parse.
pub fn parse_resource_uri(uri: &str) -> Option<ResourceUri> {
    let rest = uri.strip_prefix("cerb:")?;
    let (kind, id) = rest.split_once(':')?;
    if id.is_empty() || id.contains(':') {
        return None;
    }
    match kind {
        "automation_resource" => Some(ResourceUri::AutomationResource(id.to_string())),
        "resource" => Some(ResourceUri::Resource(id.to_string())),
        _ => None,
    }
}
