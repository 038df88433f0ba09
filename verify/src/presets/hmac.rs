//! Generic HMAC: a signature header with a configurable algorithm,
//! encoding and prefix, over the raw body or a payload template such as
//! `{timestamp}.{body}`; optionally a timestamp header held to a tolerance.

use super::NamedKey;
use crate::config::{HmacAlgorithm, HmacEncoding, VerifiedDelivery};
use crate::crypto::{decode_base64, hmac_matches};
use crate::error::{ConfigError, VerifyError};
use crate::request::RequestParts;
use crate::timestamp::{check_tolerance, parse_unix_seconds};

/// One piece of a payload template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Body,
    Timestamp,
}

/// What the generic preset signs: literal text with `{body}` (exactly once)
/// and `{timestamp}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadTemplate {
    pieces: Vec<Piece>,
}

impl PayloadTemplate {
    /// Parses a template; only `{body}` and `{timestamp}` are placeholders,
    /// and `{body}` must occur exactly once.
    pub fn parse(template: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidOption {
            option: "payload",
            reason: reason.to_string(),
        };
        if template.len() > 256 {
            return Err(invalid("at most 256 bytes"));
        }
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            let (literal, tail) = rest.split_at(start);
            if !literal.is_empty() {
                pieces.push(Piece::Literal(literal.to_string()));
            }
            let end = tail.find('}').ok_or_else(|| invalid("unclosed `{`"))?;
            pieces.push(match &tail[..=end] {
                "{body}" => Piece::Body,
                "{timestamp}" => Piece::Timestamp,
                _ => return Err(invalid("only {body} and {timestamp} are placeholders")),
            });
            rest = &tail[end + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_string()));
        }
        if pieces.iter().filter(|p| **p == Piece::Body).count() != 1 {
            return Err(invalid("must contain {body} exactly once"));
        }
        Ok(PayloadTemplate { pieces })
    }

    /// Whether the template signs the timestamp.
    pub fn uses_timestamp(&self) -> bool {
        self.pieces.contains(&Piece::Timestamp)
    }

    fn parts<'a>(&'a self, body: &'a [u8], timestamp: &'a str) -> Vec<&'a [u8]> {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(text) => text.as_bytes(),
                Piece::Body => body,
                Piece::Timestamp => timestamp.as_bytes(),
            })
            .collect()
    }
}

/// The generic preset's checked options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacOptions {
    /// The signature header.
    pub header: String,
    /// The digest.
    pub algorithm: HmacAlgorithm,
    /// The signature's encoding.
    pub encoding: HmacEncoding,
    /// Text before the signature (matched ignoring ASCII case); may be empty.
    pub prefix: String,
    /// A header carrying a Unix timestamp in seconds.
    pub timestamp_header: Option<String>,
    /// What is signed.
    pub payload: PayloadTemplate,
}

/// Verifies a request signed with a generic HMAC against any of `keys`.
pub fn verify(
    req: &RequestParts<'_>,
    keys: &[NamedKey<'_>],
    options: &HmacOptions,
    tolerance: u64,
    now: i64,
) -> Result<VerifiedDelivery, VerifyError> {
    let timestamp = match &options.timestamp_header {
        Some(name) => {
            let text = req.required_header(name)?;
            let ts = parse_unix_seconds(text)
                .ok_or_else(|| VerifyError::MalformedHeader(name.clone()))?;
            Some((text, ts))
        }
        None => None,
    };
    let malformed = || VerifyError::MalformedHeader(options.header.clone());
    let header = req.required_header(&options.header)?;
    let prefix_len = options.prefix.len();
    let has_prefix = header
        .get(..prefix_len)
        .is_some_and(|p| p.eq_ignore_ascii_case(&options.prefix));
    if !has_prefix {
        return Err(malformed());
    }
    let encoded = header.get(prefix_len..).unwrap_or_default().trim();
    let expected = match options.encoding {
        HmacEncoding::Hex => hex::decode(encoded).ok(),
        HmacEncoding::Base64 => decode_base64(encoded),
    }
    .ok_or_else(malformed)?;
    if expected.len() != options.algorithm.output_len() {
        return Err(malformed());
    }
    let ts_text = timestamp.map(|(text, _)| text).unwrap_or_default();
    let parts = options.payload.parts(req.body, ts_text);
    let matched = keys
        .iter()
        .any(|key| hmac_matches(options.algorithm, key.secret.expose(), &parts, &expected));
    if !matched {
        return Err(VerifyError::SignatureMismatch);
    }
    if let Some((_, ts)) = timestamp {
        check_tolerance(ts, now, tolerance)?;
    }
    Ok(VerifiedDelivery {
        delivery_id: None,
        timestamp: timestamp.map(|(_, ts)| ts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert!(PayloadTemplate::parse("{body}").is_ok());
        let t = PayloadTemplate::parse("v0:{timestamp}:{body}").expect("valid");
        assert!(t.uses_timestamp());
        assert_eq!(t.parts(b"B", "7").concat(), b"v0:7:B");
        assert!(PayloadTemplate::parse("{timestamp}").is_err());
        assert!(PayloadTemplate::parse("{body}{body}").is_err());
        assert!(PayloadTemplate::parse("{body}{id}").is_err());
        assert!(PayloadTemplate::parse("{body").is_err());
    }
}
