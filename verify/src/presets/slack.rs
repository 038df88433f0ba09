//! Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">` with
//! the timestamp in `X-Slack-Request-Timestamp`. Delivery id = the Events
//! API `event_id` in a JSON body, when present.

use super::{JsonIdField, NamedKey, json_body_id};
use crate::config::{HmacAlgorithm, VerifiedDelivery};
use crate::crypto::hmac_matches;
use crate::error::VerifyError;
use crate::request::RequestParts;
use crate::timestamp::{check_tolerance, parse_unix_seconds};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Slack-Signature";
/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";

/// Verifies a Slack request against any of `keys` (signing secrets).
pub fn verify(
    req: &RequestParts<'_>,
    keys: &[NamedKey<'_>],
    tolerance: u64,
    now: i64,
) -> Result<VerifiedDelivery, VerifyError> {
    let ts_text = req.required_header(TIMESTAMP_HEADER)?;
    let ts = parse_unix_seconds(ts_text)
        .ok_or_else(|| VerifyError::MalformedHeader(TIMESTAMP_HEADER.to_string()))?;
    let malformed = || VerifyError::MalformedHeader(SIGNATURE_HEADER.to_string());
    let header = req.required_header(SIGNATURE_HEADER)?;
    let digest = header.strip_prefix("v0=").ok_or_else(malformed)?;
    let expected = hex::decode(digest).map_err(|_| malformed())?;
    if expected.len() != HmacAlgorithm::Sha256.output_len() {
        return Err(malformed());
    }
    let matched = keys.iter().any(|key| {
        hmac_matches(
            HmacAlgorithm::Sha256,
            key.secret.expose(),
            &[b"v0:", ts_text.as_bytes(), b":", req.body],
            &expected,
        )
    });
    if !matched {
        return Err(VerifyError::SignatureMismatch);
    }
    check_tolerance(ts, now, tolerance)?;
    Ok(VerifiedDelivery {
        delivery_id: json_body_id(req.body, JsonIdField::EventId),
        timestamp: Some(ts),
    })
}
