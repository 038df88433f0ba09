//! Twilio: `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, URL + params)),
//! where URL is the exact public URL the request was sent to and params are,
//! for form POSTs, every POST parameter sorted by name, each written as
//! name + value. JSON deliveries instead carry `bodySHA256=<hex>` in the
//! query and sign the URL alone. Like Twilio's own validators, the URL is
//! tried as given, without its port and with the scheme's default port.
//! Delivery id = `I-Twilio-Idempotency-Token`, when sent.

use super::NamedKey;
use crate::config::{HmacAlgorithm, VerifiedDelivery};
use crate::crypto::{ct_eq, decode_base64, hmac_matches, sha256_hex};
use crate::error::VerifyError;
use crate::request::RequestParts;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";
/// The idempotency header Twilio repeats on retries.
pub const DELIVERY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// A base URL split into scheme, host, optional port and path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: Option<&'a str>,
    pub prefix: &'a str,
}

/// Splits `scheme://host[:port][/prefix]`; `None` unless it is an absolute
/// http(s) URL without query, fragment, user info or whitespace.
pub(crate) fn split_origin(url: &str) -> Option<Origin<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    if rest
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || matches!(b, b'?' | b'#' | b'@'))
    {
        return None;
    }
    let (authority, prefix) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // The port follows the last ':' unless that ':' is inside `[v6]`.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => {
            let port = &authority[i + 1..];
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (&authority[..i], Some(port))
        }
        _ => (authority, None),
    };
    if host.is_empty() {
        return None;
    }
    Some(Origin {
        scheme,
        host,
        port,
        prefix: prefix.trim_end_matches('/'),
    })
}

/// The URL variants Twilio may have signed: as configured, without the
/// port, and with the scheme's default port.
fn url_candidates(base: &str, req: &RequestParts<'_>) -> Option<Vec<String>> {
    let origin = split_origin(base)?;
    let mut tail = String::from(origin.prefix);
    if !req.path.starts_with('/') {
        tail.push('/');
    }
    tail.push_str(req.path);
    if let Some(query) = req.query {
        tail.push('?');
        tail.push_str(query);
    }
    let with_port = |port: Option<&str>| match port {
        Some(p) => format!("{}://{}:{}{}", origin.scheme, origin.host, p, tail),
        None => format!("{}://{}{}", origin.scheme, origin.host, tail),
    };
    let default_port = if origin.scheme.eq_ignore_ascii_case("https") {
        "443"
    } else {
        "80"
    };
    let mut urls = vec![with_port(origin.port)];
    match origin.port {
        Some(_) => urls.push(with_port(None)),
        None => urls.push(with_port(Some(default_port))),
    }
    Some(urls)
}

/// The POST parameters as Twilio concatenates them: names sorted, each
/// name's distinct values sorted, every pair written as name + value.
fn form_params_string(body: &[u8]) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs.dedup();
    let mut out = String::new();
    for (name, value) in pairs {
        out.push_str(&name);
        out.push_str(&value);
    }
    out
}

/// Verifies a Twilio request against any of `keys` (auth tokens), with the
/// request's public URL built from `public_base_url` + path + query.
pub fn verify(
    req: &RequestParts<'_>,
    keys: &[NamedKey<'_>],
    public_base_url: &str,
) -> Result<VerifiedDelivery, VerifyError> {
    let malformed = || VerifyError::MalformedHeader(SIGNATURE_HEADER.to_string());
    let header = req.required_header(SIGNATURE_HEADER)?;
    let expected = decode_base64(header).ok_or_else(malformed)?;
    if expected.len() != HmacAlgorithm::Sha1.output_len() {
        return Err(malformed());
    }
    let urls =
        url_candidates(public_base_url, req).ok_or(crate::error::ConfigError::InvalidOption {
            option: "public_url",
            reason: "must be an absolute http(s) URL".to_string(),
        })?;

    let is_form = req.method.eq_ignore_ascii_case("POST")
        && req.media_type() == "application/x-www-form-urlencoded";
    let params = if is_form {
        form_params_string(req.body)
    } else {
        let body_hash = req.query.and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "bodySHA256")
                .map(|(_, v)| v.into_owned())
        });
        match body_hash {
            Some(hash) => {
                let actual = sha256_hex(req.body);
                if !ct_eq(actual.as_bytes(), hash.to_ascii_lowercase().as_bytes()) {
                    return Err(VerifyError::BodyHashMismatch);
                }
            }
            // A body neither signed as params nor hashed is not covered.
            None if !req.body.is_empty() => return Err(VerifyError::BodyHashMismatch),
            None => {}
        }
        String::new()
    };

    let matched = urls.iter().any(|url| {
        keys.iter().any(|key| {
            hmac_matches(
                HmacAlgorithm::Sha1,
                key.secret.expose(),
                &[url.as_bytes(), params.as_bytes()],
                &expected,
            )
        })
    });
    if !matched {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(VerifiedDelivery {
        delivery_id: req.header_str(DELIVERY_HEADER)?.map(str::to_string),
        timestamp: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_origins() {
        let o = split_origin("https://example.com:8443/hooks/").expect("valid");
        assert_eq!(
            (o.scheme, o.host, o.port, o.prefix),
            ("https", "example.com", Some("8443"), "/hooks")
        );
        let o = split_origin("http://[::1]:80").expect("valid");
        assert_eq!((o.host, o.port), ("[::1]", Some("80")));
        let o = split_origin("http://[::1]").expect("valid");
        assert_eq!((o.host, o.port), ("[::1]", None));
        assert!(split_origin("ftp://x").is_none());
        assert!(split_origin("https://").is_none());
        assert!(split_origin("https://x/?a=1").is_none());
        assert!(split_origin("https://user@x").is_none());
        assert!(split_origin("example.com").is_none());
    }

    #[test]
    fn params_sorted_by_name_then_value() {
        assert_eq!(form_params_string(b"b=2&a=1&a=0&c=%2B1+2"), "a0a1b2c+1 2");
    }
}
