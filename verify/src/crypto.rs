//! HMAC and signature primitives; every comparison is constant-time.

use crate::config::HmacAlgorithm;
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// Whether `expected` is the HMAC of the concatenated `parts` under `key`.
pub(crate) fn hmac_matches(
    algorithm: HmacAlgorithm,
    key: &[u8],
    parts: &[&[u8]],
    expected: &[u8],
) -> bool {
    fn check<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
        let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(key) else {
            return false;
        };
        for part in parts {
            mac.update(part);
        }
        mac.verify_slice(expected).is_ok()
    }
    match algorithm {
        HmacAlgorithm::Sha1 => check::<Hmac<sha1::Sha1>>(key, parts, expected),
        HmacAlgorithm::Sha256 => check::<Hmac<sha2::Sha256>>(key, parts, expected),
        HmacAlgorithm::Sha512 => check::<Hmac<sha2::Sha512>>(key, parts, expected),
    }
}

/// Constant-time equality of two byte strings (lengths may leak).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Whether `signature` is a valid ed25519 signature of `message` under `key`.
pub(crate) fn ed25519_matches(
    key: &ed25519_dalek::VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(message, &signature).is_ok()
}

/// Lower-case hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// Decodes standard base64 (padded or not); `None` when invalid.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let text = text.trim();
    STANDARD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .ok()
}
