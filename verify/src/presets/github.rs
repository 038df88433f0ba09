//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`,
//! delivery id from `X-GitHub-Delivery`.

use super::NamedKey;
use crate::config::{HmacAlgorithm, VerifiedDelivery};
use crate::crypto::hmac_matches;
use crate::error::VerifyError;
use crate::request::RequestParts;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";
/// The delivery id header.
pub const DELIVERY_HEADER: &str = "X-GitHub-Delivery";

/// Verifies a GitHub delivery against any of `keys`.
pub fn verify(
    req: &RequestParts<'_>,
    keys: &[NamedKey<'_>],
) -> Result<VerifiedDelivery, VerifyError> {
    let malformed = || VerifyError::MalformedHeader(SIGNATURE_HEADER.to_string());
    let header = req.required_header(SIGNATURE_HEADER)?;
    let (scheme, digest) = header.split_once('=').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("sha256") {
        return Err(malformed());
    }
    let expected = hex::decode(digest).map_err(|_| malformed())?;
    if expected.len() != HmacAlgorithm::Sha256.output_len() {
        return Err(malformed());
    }
    let matched = keys.iter().any(|key| {
        hmac_matches(
            HmacAlgorithm::Sha256,
            key.secret.expose(),
            &[req.body],
            &expected,
        )
    });
    if !matched {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(VerifiedDelivery {
        delivery_id: req.header_str(DELIVERY_HEADER)?.map(str::to_string),
        timestamp: None,
    })
}
