//! Standard Webhooks (standardwebhooks.com): `webhook-id`,
//! `webhook-timestamp` and `webhook-signature`, a space-separated list of
//! `v1,<base64 HMAC-SHA256>` and `v1a,<base64 ed25519>` signatures of
//! `"{id}.{timestamp}.{body}"`. Several entries allow key rotation.
//!
//! Secrets: `whsec_<base64>` (or bare base64) is an HMAC key; `whpk_<base64>`
//! is a sender's 32-byte ed25519 public key.

use super::NamedKey;
use crate::config::{HmacAlgorithm, VerifiedDelivery};
use crate::crypto::{decode_base64, ed25519_matches, hmac_matches};
use crate::error::{ConfigError, VerifyError};
use crate::request::RequestParts;
use crate::timestamp::{check_tolerance, parse_unix_seconds};
use zeroize::Zeroizing;

/// The delivery id header.
pub const ID_HEADER: &str = "webhook-id";
/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The signature header.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// At most this many signature entries are tried.
const MAX_SIGNATURES: usize = 16;

/// A decoded verification key.
enum Key {
    Symmetric(Zeroizing<Vec<u8>>),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// Decodes a configured secret into a key.
fn decode_key(key: &NamedKey<'_>) -> Result<Key, ConfigError> {
    let invalid = |expected| ConfigError::InvalidSecret {
        name: key.name.to_string(),
        expected,
    };
    let text = key
        .secret
        .expose_str()
        .ok_or_else(|| invalid("a whsec_ or whpk_ key"))?
        .trim();
    if let Some(public) = text.strip_prefix("whpk_") {
        let bytes = decode_base64(public).ok_or_else(|| invalid("a base64 whpk_ public key"))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| invalid("a 32-byte ed25519 public key"))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map_err(|_| invalid("a valid ed25519 public key"))?;
        return Ok(Key::Ed25519(key));
    }
    let encoded = text.strip_prefix("whsec_").unwrap_or(text);
    let bytes = decode_base64(encoded).ok_or_else(|| invalid("a base64 whsec_ key"))?;
    if bytes.is_empty() {
        return Err(invalid("a non-empty whsec_ key"));
    }
    Ok(Key::Symmetric(Zeroizing::new(bytes)))
}

/// Verifies a Standard Webhooks delivery against any of `keys`.
pub fn verify(
    req: &RequestParts<'_>,
    keys: &[NamedKey<'_>],
    tolerance: u64,
    now: i64,
) -> Result<VerifiedDelivery, VerifyError> {
    let decoded = keys.iter().map(decode_key).collect::<Result<Vec<_>, _>>()?;
    let id = req.required_header(ID_HEADER)?;
    let ts_text = req.required_header(TIMESTAMP_HEADER)?;
    let ts = parse_unix_seconds(ts_text)
        .ok_or_else(|| VerifyError::MalformedHeader(TIMESTAMP_HEADER.to_string()))?;
    let header = req.required_header(SIGNATURE_HEADER)?;

    let signed: [&[u8]; 5] = [id.as_bytes(), b".", ts_text.as_bytes(), b".", req.body];
    // ed25519 needs the message in one piece: build it once, only if needed.
    let has_public_key = decoded.iter().any(|k| matches!(k, Key::Ed25519(_)));
    let message = if has_public_key {
        signed.concat()
    } else {
        Vec::new()
    };
    let mut entries = 0;
    let mut matched = false;
    for entry in header.split_ascii_whitespace().take(MAX_SIGNATURES) {
        let Some((version, encoded)) = entry.split_once(',') else {
            continue;
        };
        entries += 1;
        let Some(signature) = decode_base64(encoded) else {
            continue;
        };
        matched = decoded.iter().any(|key| match (version, key) {
            ("v1", Key::Symmetric(k)) => {
                hmac_matches(HmacAlgorithm::Sha256, k, &signed, &signature)
            }
            ("v1a", Key::Ed25519(k)) => ed25519_matches(k, &message, &signature),
            _ => false,
        });
        if matched {
            break;
        }
    }
    if entries == 0 {
        return Err(VerifyError::MalformedHeader(SIGNATURE_HEADER.to_string()));
    }
    if !matched {
        return Err(VerifyError::SignatureMismatch);
    }
    check_tolerance(ts, now, tolerance)?;
    Ok(VerifiedDelivery {
        delivery_id: Some(id.to_string()),
        timestamp: Some(ts),
    })
}
