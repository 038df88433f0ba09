//! `http.request:`: an outbound HTTP request, gated by the policy and the
//! operator's address allow-list.

use crate::Error;
use crate::command::Gated;
use katabox_value::{Array, Value};

/// An `http.request:` being built.
///
/// ```no_run
/// use katabox_guest::capabilities::http::Request;
/// let response = Request::post("https://api.example.com/events")
///     .header("Content-Type", "application/json")
///     .body(r#"{"event":"push"}"#)
///     .timeout_secs(10)
///     .send()?;
/// if response.status_code >= 400 {
///     // a 4xx/5xx answer is still Ok: decide here
/// }
/// # Ok::<(), katabox_guest::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    url: String,
    headers: Array,
    body: Option<Vec<u8>>,
    timeout: Option<i64>,
}

impl Request {
    /// A request with `method` (`GET`, `POST`, ...) to `url`.
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            method: method.to_ascii_uppercase(),
            url: url.to_string(),
            headers: Array::new(),
            body: None,
            timeout: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }

    /// A `POST` request.
    pub fn post(url: &str) -> Request {
        Request::new("POST", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.insert(name, Value::str(value));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl AsRef<[u8]>) -> Request {
        self.body = Some(body.as_ref().to_vec());
        self
    }

    /// Sets the timeout in seconds.
    pub fn timeout_secs(mut self, secs: i64) -> Request {
        self.timeout = Some(secs);
        self
    }

    /// The command's `inputs` map (`method`, `url`, `headers`, `body`, `timeout`).
    ///
    /// ```
    /// use katabox_guest::capabilities::http::Request;
    /// let inputs = Request::get("http://127.0.0.1/").header("Accept", "*/*").inputs();
    /// assert_eq!(inputs.get_str("method").and_then(|m| m.as_str()), Some("GET"));
    /// ```
    pub fn inputs(&self) -> Array {
        let mut a = Array::new();
        a.insert("method", Value::str(&self.method));
        a.insert("url", Value::str(&self.url));
        if !self.headers.is_empty() {
            a.insert("headers", Value::array(self.headers.clone()));
        }
        if let Some(b) = &self.body {
            a.insert("body", Value::bytes(b));
        }
        if let Some(t) = self.timeout {
            a.insert("timeout", Value::Int(t));
        }
        a
    }

    /// Sends the request. Refusals (policy, address allow-list, network
    /// errors) are errors with the host's message; an answer with any
    /// status, 4xx/5xx included, is a [`Response`].
    pub fn send(&self) -> Result<Response, Error> {
        let out = super::call(Gated::HttpRequest, self.inputs())?;
        Ok(Response::from_value(&out))
    }
}

/// The answer to an `http.request:`.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// The HTTP status.
    pub status_code: i64,
    /// The `Content-Type` (without parameters as Cerb reports it).
    pub content_type: String,
    /// The response headers (lower-case names).
    pub headers: Array,
    /// The body.
    pub body: Vec<u8>,
    /// The whole output map (with `error` on a 4xx/5xx, ...).
    pub raw: Value,
}

impl Response {
    /// Reads the command's output map.
    pub fn from_value(out: &Value) -> Response {
        let text = |k: &str| out.get(k).map(|v| v.to_string_lossy()).unwrap_or_default();
        Response {
            status_code: match out.get("status_code") {
                Some(Value::Int(n)) => *n,
                Some(v) => v.to_string_lossy().parse().unwrap_or(0),
                None => 0,
            },
            content_type: text("content_type"),
            headers: out
                .get("headers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            body: out
                .get("body")
                .and_then(Value::as_pstr)
                .map(|p| p.as_bytes().to_vec())
                .unwrap_or_default(),
            raw: out.clone(),
        }
    }

    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
