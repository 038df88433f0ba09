//! HTTP request → the webhook dictionary (webhooks.md §2–3). Pure functions.

use super::params::{MAX_INPUT_VARS, merge_normalised, parse_str_into, register};
use crate::store::ListenerRecord;
use katabox_value::{Array, Value};
use std::net::IpAddr;

/// The parts of an HTTP request a listener sees.
#[derive(Debug, Clone, Default)]
pub struct WebhookRequest {
    /// The method as received (`GET`, `post`, …).
    pub method: String,
    /// The raw (still percent-encoded) path, e.g. `/webhooks/GUID/some/folder`.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// Header names as received with their values, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The request body bytes.
    pub body: Vec<u8>,
    /// The peer address.
    pub peer: Option<IpAddr>,
}

/// Splits a raw request path into the guid and `request_path` (§2 steps
/// 2–5). `None` when there is no guid.
pub fn split_path(raw_path: &str) -> Option<(String, String)> {
    let trimmed = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let mut segments: Vec<&str> = trimmed.split('/').collect();
    if segments.last().is_some_and(|s| s.trim().is_empty()) {
        segments.pop();
    }
    let guid = segments.get(1).copied().unwrap_or("");
    if guid.is_empty() {
        return None;
    }
    let rest = segments.get(2..).map(|s| s.join("/")).unwrap_or_default();
    Some((guid.to_string(), rest))
}

/// A header name as Cerb sees it: lower-cased, `-` replaced by `_`.
pub fn normalise_header_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

/// The `request_headers` map (§3.2): normalised names, repeated headers
/// joined with `", "`, `cookie` removed; a later colliding name wins.
pub fn headers_map(headers: &[(String, Vec<u8>)]) -> Array {
    let mut joined: Vec<(String, Vec<u8>)> = Vec::new();
    // Repeated headers (same name, any case) are joined first, as web servers do.
    for (name, value) in headers {
        let lname = name.to_ascii_lowercase();
        if let Some((_, v)) = joined.iter_mut().find(|(n, _)| *n == lname) {
            v.extend_from_slice(b", ");
            v.extend_from_slice(value);
        } else {
            joined.push((lname, value.clone()));
        }
    }
    let mut out = Array::new();
    for (lname, value) in joined {
        let key = lname.replace('-', "_");
        if key == "cookie" {
            continue;
        }
        out.insert(key.as_str(), Value::bytes(value));
    }
    out
}

/// The value of a header (first occurrence, any case).
pub fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// The media type of a Content-Type value, lower-cased, without parameters.
fn media_type(content_type: &[u8]) -> String {
    let s = String::from_utf8_lossy(content_type);
    s.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether the body is `multipart/form-data` (Cerb then sees an empty body).
pub fn is_multipart(req: &WebhookRequest) -> bool {
    header(&req.headers, "content-type").is_some_and(|ct| media_type(ct) == "multipart/form-data")
}

/// The form fields of a POST body (urlencoded or multipart), parsed with
/// PHP's rules (before Cerb's key normalisation).
pub fn form_params(req: &WebhookRequest, count: &mut usize) -> Array {
    let mut out = Array::new();
    if !req.method.eq_ignore_ascii_case("POST") {
        return out;
    }
    let Some(ct) = header(&req.headers, "content-type") else {
        return out;
    };
    match media_type(ct).as_str() {
        "application/x-www-form-urlencoded" => parse_str_into(&req.body, &mut out, count),
        "multipart/form-data" => multipart_fields(ct, &req.body, &mut out, count),
        _ => {}
    }
    out
}

/// Reads the non-file fields of a multipart body (files go to PHP's `$_FILES`).
fn multipart_fields(content_type: &[u8], body: &[u8], out: &mut Array, count: &mut usize) {
    use futures_util::FutureExt;
    let Ok(ct) = std::str::from_utf8(content_type) else {
        return;
    };
    let Ok(boundary) = multer::parse_boundary(ct) else {
        return;
    };
    let data = bytes::Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(data) });
    let mut mp = multer::Multipart::new(stream, boundary);
    // The whole body is in memory, so every future is ready at once.
    while let Some(Ok(Some(field))) = mp.next_field().now_or_never() {
        if *count >= MAX_INPUT_VARS {
            break;
        }
        let name = field.name().map(str::to_string);
        let is_file = field.file_name().is_some();
        let Some(Ok(bytes)) = field.bytes().now_or_never() else {
            break;
        };
        if let (Some(name), false) = (name, is_file)
            && register(out, name.as_bytes(), Value::bytes(&bytes))
        {
            *count += 1;
        }
    }
}

/// `request_params` (§3.3): query parameters, then form fields, with
/// Cerb's top-level key normalisation.
pub fn params_map(req: &WebhookRequest) -> Array {
    let mut count = 0;
    let mut query = Array::new();
    if let Some(q) = &req.query {
        parse_str_into(q.as_bytes(), &mut query, &mut count);
    }
    let form = form_params(req, &mut count);
    merge_normalised([&query, &form])
}

/// Which peers may set the client address through `X-Forwarded-For`.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<(IpAddr, u8)>,
}

impl TrustedProxies {
    /// Parses a comma-separated list of addresses or CIDR networks
    /// (`127.0.0.1, 10.0.0.0/8, ::1`).
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, prefix) = match item.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (item, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("invalid trusted proxy address: {item}"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| format!("invalid trusted proxy prefix: {item}"))?,
                None => max,
            };
            nets.push((ip, prefix));
        }
        Ok(TrustedProxies { nets })
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets
            .iter()
            .any(|(net, prefix)| in_net(ip, *net, *prefix))
    }
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    fn masked(bits: u128, total: u32, prefix: u8) -> u128 {
        if prefix == 0 {
            0
        } else {
            bits >> (total - u32::from(prefix))
        }
    }
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            masked(u128::from(u32::from(a)), 32, prefix)
                == masked(u128::from(u32::from(b)), 32, prefix)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            masked(u128::from(a), 128, prefix) == masked(u128::from(b), 128, prefix)
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|v4| in_net(IpAddr::V4(v4), net, prefix)),
        _ => false,
    }
}

/// `request_client_ip` (§3): the peer address; when the peer is a trusted
/// proxy, the address an appending proxy chain recorded for the client:
/// the `X-Forwarded-For` items (every such header, in order) are read from
/// the right, trusted proxies are skipped, and the first address that is
/// not a trusted proxy is the client. An item that is not an IP address
/// ends the walk: the client is then the last trusted hop (at worst the
/// peer). Everything left of the client's item is whatever the client sent
/// and is never used. When every item is a trusted proxy, the left-most.
pub fn client_ip(req: &WebhookRequest, trusted: &TrustedProxies) -> String {
    let canonical = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    let Some(peer) = req.peer.map(canonical) else {
        return String::new();
    };
    if !trusted.contains(peer) {
        return peer.to_string();
    }
    let forwarded: Vec<String> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("x-forwarded-for"))
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|item| item.trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut client = peer;
    for item in forwarded.iter().rev() {
        let Ok(ip) = item.parse::<IpAddr>().map(canonical) else {
            break;
        };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    client.to_string()
}

/// The listener's dictionary keys with the `webhook_` prefix (§1).
pub fn listener_keys(listener: &ListenerRecord, base_url: &str, out: &mut Array) {
    let p = "webhook_";
    out.insert(
        format!("{p}_context").as_str(),
        Value::str("cerberusweb.contexts.webhook_listener"),
    );
    out.insert(format!("{p}_label").as_str(), Value::str(&listener.name));
    out.insert(format!("{p}_loaded").as_str(), Value::Bool(true));
    out.insert(format!("{p}_type").as_str(), Value::str("webhook_listener"));
    out.insert(format!("{p}id").as_str(), Value::Int(listener.id as i64));
    out.insert(format!("{p}name").as_str(), Value::str(&listener.name));
    out.insert(format!("{p}guid").as_str(), Value::str(&listener.guid));
    out.insert(
        format!("{p}automations_kata").as_str(),
        Value::str(&listener.automations_kata),
    );
    out.insert(
        format!("{p}updated_at").as_str(),
        Value::Int(listener.updated_at),
    );
    out.insert(
        format!("{p}record_url").as_str(),
        Value::str(format!(
            "{base_url}profiles/webhook_listener/{}",
            listener.id
        )),
    );
}

/// The whole initial dictionary (§3) for a request to `listener`.
pub fn request_dict(
    req: &WebhookRequest,
    request_path: &str,
    listener: &ListenerRecord,
    trusted: &TrustedProxies,
    base_url: &str,
) -> Value {
    let mut d = Array::new();
    d.insert(
        "request_method",
        Value::str(req.method.to_ascii_uppercase()),
    );
    d.insert("request_path", Value::str(request_path));
    d.insert("request_headers", Value::array(headers_map(&req.headers)));
    d.insert("request_params", Value::array(params_map(req)));
    let body = if is_multipart(req) {
        Vec::new()
    } else {
        req.body.clone()
    };
    d.insert("request_body", Value::bytes(body));
    d.insert("request_client_ip", Value::str(client_ip(req, trusted)));
    listener_keys(listener, base_url, &mut d);
    Value::array(d)
}
