//! `http.request` (automations.md §13.2): reqwest with rustls, Cerb's input
//! handling and output shape, a response size cap, SSRF checks after DNS
//! resolution and on every redirect hop ([`address`]), and a fixtures mode
//! ([`fixtures`]) that opens no connection.

pub mod address;
mod encode;
pub mod fixtures;
mod redirect;

use super::data::{DataStore, Resource};
use super::inputs::{self, object};
use super::now;
use crate::metrics::Outbound;
use address::AddressPolicy;
use base64::Engine as _;
use fixtures::Fixture;
use katabox_value::{Array, Value};
use std::sync::Arc;
use std::time::Duration;

/// Bodies larger than this are stored as an automation resource (Cerb).
pub const RESOURCE_THRESHOLD: usize = 1_024_000;
const METHODS: [&str; 7] = ["GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS", "HEAD"];

/// Outbound HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Exceptions to the address check (default: none).
    pub addresses: AddressPolicy,
    /// When set, requests are answered from these and never sent.
    pub fixtures: Option<Vec<Fixture>>,
    /// Connect timeout. Default 10 s (Cerb).
    pub connect_timeout: Duration,
    /// Total timeout unless the command gives `timeout`. Default 30 s (Cerb).
    pub timeout: Duration,
    /// Largest response body read, in bytes; larger is a command error. Default 16 MiB.
    pub max_response_bytes: usize,
    /// Most redirects followed. Default 10.
    pub max_redirects: usize,
    /// The operator's accounts and secrets for `authentication:` (Cerb's
    /// connected accounts): the host adds the header, the script never sees
    /// the value. Default: none.
    pub auth: OutboundAuth,
}

/// Accounts and the secrets they name, for `http.request`'s `authentication:`.
#[derive(Debug, Clone, Default)]
pub struct OutboundAuth {
    /// The accounts (`accounts.toml`).
    pub accounts: Arc<katabox_verify::outbound::Accounts>,
    /// The named secrets.
    pub secrets: Arc<katabox_verify::Secrets>,
}

impl OutboundAuth {
    /// The header to add for an `authentication:` reference
    /// (`cerb:connected_account:NAME`) on a request to `host`, or the error
    /// text (Cerb's, or a refusal when the account is bound to other hosts).
    fn header(&self, reference: &str, host: &str) -> Result<(String, String), String> {
        if let Some(account) = self.accounts.by_reference(reference)
            && !account.allows_host(host)
        {
            return Err(format!(
                "The account ({reference}) may not be used with the host {host}"
            ));
        }
        let (name, value) = self
            .accounts
            .authorization(reference, &self.secrets)
            .map_err(|e| e.to_string())?;
        let value = value
            .expose_str()
            .ok_or_else(|| format!("Failed to authenticate with account ({reference})"))?
            .to_string();
        Ok((name, value))
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            addresses: AddressPolicy::default(),
            fixtures: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_response_bytes: 16 << 20,
            max_redirects: 10,
            auth: OutboundAuth::default(),
        }
    }
}

/// A client built once per sandbox.
#[derive(Clone)]
pub struct HttpClient {
    config: Arc<HttpConfig>,
    client: reqwest::Client,
}

struct CheckedResolver {
    policy: AddressPolicy,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed_name = policy.host_allowed(&host);
            let ok: Vec<std::net::SocketAddr> = addrs
                .into_iter()
                .filter(|a| allowed_name || policy.ip_allowed(a.ip()))
                .collect();
            if ok.is_empty() {
                return Err(address::blocked(&host).into());
            }
            let it: reqwest::dns::Addrs = Box::new(ok.into_iter());
            Ok(it)
        })
    }
}

impl HttpClient {
    /// Builds the client (rustls, checked resolver, no proxy). Redirects are
    /// followed by [`request`] itself, one checked hop at a time.
    pub fn new(config: HttpConfig) -> Result<HttpClient, String> {
        let policy = config.addresses.clone();
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { policy }))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(HttpClient {
            config: Arc::new(config),
            client,
        })
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }
}

/// Validates and normalises the inputs (url required and http(s); method
/// defaulted to GET, upper-cased, checked).
pub fn validate(inputs: &mut Value) -> Result<(), String> {
    let url = inputs::required_str(inputs, "url")?;
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err("'inputs:url:' is invalid. The URL must start with http:// or https://".into());
    }
    let method = inputs::opt_str(inputs, "method")
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "GET".into())
        .to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(format!(
            "'inputs:method:' must be one of: {}",
            METHODS.join(", ")
        ));
    }
    inputs::set(inputs, "method", Value::str(method));
    Ok(())
}

/// Lower-cases header names and keeps the first value of each.
fn request_headers(inputs: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| {
        let k = k.trim().to_ascii_lowercase();
        if !k.is_empty() && !out.iter().any(|(n, _)| *n == k) {
            out.push((k, v.trim().to_string()));
        }
    };
    match inputs.get("headers") {
        Some(Value::Array(a)) => {
            for (k, v) in a.iter() {
                add(&k.to_string_lossy(), v.to_string_lossy());
            }
        }
        Some(v) if !v.is_null() => {
            for line in v.to_string_lossy().lines() {
                if let Some((k, val)) = line.split_once(':') {
                    add(k, val.to_string());
                }
            }
        }
        _ => {}
    }
    out
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    url: String,
}

/// Asks the automation's policy whether a redirect hop to this URL is
/// allowed (the policy evaluated again with the hop as `inputs.url`).
pub type HopCheck<'a> = &'a (dyn Fn(&str) -> bool + Sync);

/// Runs `http.request`; `hop_allowed` is asked before each redirect hop.
pub async fn request(
    client: &HttpClient,
    inputs: &Value,
    data: &dyn DataStore,
    hop_allowed: HopCheck<'_>,
) -> Result<Value, String> {
    let url = inputs::opt_str(inputs, "url").unwrap_or_default();
    let method = inputs::opt_str(inputs, "method").unwrap_or_else(|| "GET".into());
    let mut headers = request_headers(inputs);
    let body = encode::body(inputs.get("body"), &mut headers)?;
    let mut injected = None;
    if let Some(reference) = inputs::opt_str(inputs, "authentication").filter(|r| !r.is_empty()) {
        // The header is added here, after the policy check, on the outgoing
        // request only: it is never logged nor returned to the guest.
        let host = url::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let (name, value) = client.config.auth.header(&reference, &host)?;
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
        headers.push((name.clone(), value));
        injected = client
            .config
            .auth
            .accounts
            .by_reference(&reference)
            .map(|account| redirect::Injected {
                name,
                account: account.clone(),
            });
    }
    let response = if let Some(fixtures) = &client.config.fixtures {
        let f = fixtures::find(fixtures, &method, &url)
            .ok_or_else(|| format!("No HTTP fixture matches {method} {url}"))?;
        Response {
            status: f.status,
            headers: f.header_pairs(),
            body: f.body.clone().into_bytes(),
            url: url.clone(),
        }
    } else {
        let request = Outgoing {
            method,
            headers,
            body,
            injected,
        };
        let sent = send(client, inputs, &url, request, hop_allowed).await;
        crate::metrics::http_outbound(match &sent {
            Ok(_) => Outbound::Ok,
            Err((_, kind)) => *kind,
        });
        sent.map_err(|(message, _)| message)?
    };
    Ok(output(response, data))
}

/// The request as it is sent, changed by each redirect hop.
struct Outgoing {
    method: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    injected: Option<redirect::Injected>,
}

async fn send(
    client: &HttpClient,
    inputs: &Value,
    url: &str,
    mut out: Outgoing,
    hop_allowed: HopCheck<'_>,
) -> Result<Response, (String, Outbound)> {
    let mut url = url::Url::parse(url).map_err(|e| (format!("{e}"), Outbound::Error))?;
    let timeout = inputs
        .get("timeout")
        .map(katabox_value::convert::to_float)
        .filter(|t| *t > 0.0 && t.is_finite())
        .map(|t| Duration::from_secs_f64(t.min(3_600.0)))
        .unwrap_or(client.config.timeout);
    // One deadline for the request and all its redirect hops.
    let deadline = tokio::time::Instant::now() + timeout;
    let mut hops = 0;
    let mut resp = loop {
        address::check_host(&client.config.addresses, url.host_str().unwrap_or(""))
            .map_err(|e| (e, Outbound::RefusedAddress))?;
        let m = reqwest::Method::from_bytes(out.method.as_bytes())
            .map_err(|e| (e.to_string(), Outbound::Error))?;
        let mut req = client.client.request(m, url.clone());
        for (k, v) in &out.headers {
            req = req.header(k, v);
        }
        if let Some(b) = &out.body {
            req = req.body(b.clone());
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(("operation timed out".into(), Outbound::Timeout));
        }
        let resp = req.timeout(left).send().await.map_err(classified)?;
        let location = resp.headers().get(reqwest::header::LOCATION);
        let Some(next) = redirect::next(
            resp.status(),
            location.map(|l| l.as_bytes()),
            &url,
            &out.method,
        ) else {
            break resp;
        };
        let next = next.map_err(|e| (e, Outbound::Error))?;
        hops += 1;
        if hops > client.config.max_redirects {
            let message = format!(
                "Will not follow more than {} redirects",
                client.config.max_redirects
            );
            return Err((message, Outbound::Error));
        }
        let host = next.url.host_str().unwrap_or("").to_string();
        if !hop_allowed(next.url.as_str()) {
            crate::metrics::policy_denial("http.request");
            let message = format!(
                "The automation policy does not allow this command (http.request): redirect to {host}."
            );
            return Err((message, Outbound::Error));
        }
        if !redirect::same_origin(&url, &next.url) {
            redirect::strip_credentials(&mut out.headers, out.injected.as_ref(), &host);
        }
        if !next.keep_body {
            out.body = None;
            redirect::drop_body_headers(&mut out.headers);
        }
        out.method = next.method;
        url = next.url;
    };
    let status = resp.status().as_u16();
    let final_url = resp.url().to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    for (k, v) in resp.headers() {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        if let Some(slot) = headers.iter_mut().find(|(n, _)| n == k.as_str()) {
            slot.1.push_str(", ");
            slot.1.push_str(&v);
        } else {
            headers.push((k.as_str().to_string(), v));
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(classified)? {
        if body.len() + chunk.len() > client.config.max_response_bytes {
            let message = format!(
                "The response body is larger than {} bytes",
                client.config.max_response_bytes
            );
            return Err((message, Outbound::Error));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body,
        url: final_url,
    })
}

/// The error text and how the call ended, for the metrics.
fn classified(e: reqwest::Error) -> (String, Outbound) {
    let timeout = e.is_timeout();
    let text = error_text(e);
    let kind = if timeout {
        Outbound::Timeout
    } else if text.contains(address::BLOCKED_MARK) {
        Outbound::RefusedAddress
    } else {
        Outbound::Error
    };
    (text, kind)
}

fn error_text(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

fn output(r: Response, data: &dyn DataStore) -> Value {
    let content_type_full = r
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let content_type = content_type_full
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut hdrs = Array::new();
    for (k, v) in &r.headers {
        hdrs.insert(k.to_ascii_lowercase().as_str(), Value::str(v));
    }
    let mut out = object([
        ("status_code", Value::Int(r.status as i64)),
        ("content_type", Value::str(&content_type)),
        ("headers", Value::array(hdrs)),
    ]);
    if r.body.len() > RESOURCE_THRESHOLD {
        let token = uuid::Uuid::new_v4().to_string();
        let expires = now() + 900;
        let stored = data.resource_write(Resource {
            token: token.clone(),
            name: None,
            mime_type: content_type.clone(),
            expires_at: expires,
            bytes: r.body,
        });
        if stored.is_ok() {
            inputs::set(
                &mut out,
                "body",
                Value::str(format!("cerb:automation_resource:{token}")),
            );
            inputs::set(
                &mut out,
                "content_type",
                Value::str("application/vnd.cerb.uri"),
            );
            inputs::set(&mut out, "is_cerb_uri", Value::Bool(true));
            inputs::set(&mut out, "content_type_original", Value::str(&content_type));
            inputs::set(&mut out, "resource_expires", Value::Int(expires));
        }
    } else {
        match String::from_utf8(r.body) {
            Ok(s) => inputs::set(&mut out, "body", Value::str(s)),
            Err(e) => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(e.as_bytes());
                inputs::set(
                    &mut out,
                    "body",
                    Value::str(format!("data:{content_type};base64,{b64}")),
                );
                inputs::set(&mut out, "is_data_uri", Value::Bool(true));
            }
        }
    }
    inputs::set(&mut out, "url", Value::str(&r.url));
    out
}
