//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, each `v1` an
//! HMAC-SHA256 of `"{t}.{body}"`; any matching `v1` is accepted (Stripe
//! sends several while a secret is being rolled). Delivery id = the event's
//! `id` in the JSON body.

use super::{JsonIdField, NamedKey, json_body_id};
use crate::config::{HmacAlgorithm, VerifiedDelivery};
use crate::crypto::hmac_matches;
use crate::error::VerifyError;
use crate::request::RequestParts;
use crate::timestamp::{check_tolerance, parse_unix_seconds};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";
/// At most this many `v1` entries are tried.
const MAX_SIGNATURES: usize = 16;

/// Verifies a Stripe delivery against any of `keys`, holding `t` to
/// `tolerance` seconds around `now`.
pub fn verify(
    req: &RequestParts<'_>,
    keys: &[NamedKey<'_>],
    tolerance: u64,
    now: i64,
) -> Result<VerifiedDelivery, VerifyError> {
    let malformed = || VerifyError::MalformedHeader(SIGNATURE_HEADER.to_string());
    let header = req.required_header(SIGNATURE_HEADER)?;
    let mut timestamp: Option<(&str, i64)> = None;
    let mut signatures: Vec<Vec<u8>> = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            continue;
        };
        match key.trim() {
            "t" => {
                let text = value.trim();
                let parsed = parse_unix_seconds(text).ok_or_else(malformed)?;
                if timestamp.is_some() {
                    return Err(malformed());
                }
                timestamp = Some((text, parsed));
            }
            "v1" if signatures.len() < MAX_SIGNATURES => {
                // An undecodable entry cannot match; other entries may.
                if let Ok(sig) = hex::decode(value.trim()) {
                    signatures.push(sig);
                }
            }
            _ => {}
        }
    }
    let (t_text, t) = timestamp.ok_or_else(malformed)?;
    let matched = signatures.iter().any(|sig| {
        keys.iter().any(|key| {
            hmac_matches(
                HmacAlgorithm::Sha256,
                key.secret.expose(),
                &[t_text.as_bytes(), b".", req.body],
                sig,
            )
        })
    });
    if !matched {
        return Err(VerifyError::SignatureMismatch);
    }
    check_tolerance(t, now, tolerance)?;
    Ok(VerifiedDelivery {
        delivery_id: json_body_id(req.body, JsonIdField::Id),
        timestamp: Some(t),
    })
}
