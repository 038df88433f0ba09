//! The errors a verification can end in.

use thiserror::Error;

/// Why a request was not accepted.
///
/// [`VerifyError::status`] tells the host what to answer: rejections of the
/// request itself are `401` with the `Display` text as the short reason;
/// [`VerifyError::Config`] is the operator's mistake and answers `500`.
/// No variant ever carries a secret or a header value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// A header the scheme needs is absent (or empty).
    #[error("missing {0} header")]
    MissingHeader(String),
    /// A header is present but cannot be parsed (not UTF-8, wrong shape,
    /// bad hex/base64, wrong digest length, unparsable timestamp).
    #[error("malformed {0} header")]
    MalformedHeader(String),
    /// No signature in the request matches any configured secret.
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The signed timestamp is too old or too far in the future.
    #[error("timestamp outside tolerance")]
    TimestampOutsideTolerance,
    /// Twilio JSON deliveries: the `bodySHA256` query parameter does not
    /// match the body.
    #[error("body hash mismatch")]
    BodyHashMismatch,
    /// The listener's configuration or the operator's secrets are wrong.
    #[error("verification misconfigured: {0}")]
    Config(#[from] ConfigError),
}

impl VerifyError {
    /// The HTTP status the host answers with: 401, or 500 for a
    /// configuration error.
    pub fn status(&self) -> u16 {
        match self {
            VerifyError::Config(_) => 500,
            _ => 401,
        }
    }

    /// Whether the request (rather than the configuration) was at fault.
    pub fn is_rejection(&self) -> bool {
        !matches!(self, VerifyError::Config(_))
    }
}

/// A mistake in a [`crate::VerifyConfig`] or in the secrets it names.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The config names a secret the operator has not configured.
    #[error("unknown secret {0}")]
    UnknownSecret(String),
    /// A secret exists but has the wrong shape for the preset.
    #[error("secret {name} is not {expected}")]
    InvalidSecret {
        /// The secret's name (never its value).
        name: String,
        /// What the preset expected, e.g. "a base64 whsec_ key".
        expected: &'static str,
    },
    /// The preset needs an option that is not set.
    #[error("the {preset} preset needs `{option}`")]
    MissingOption {
        /// The preset's name.
        preset: &'static str,
        /// The missing option.
        option: &'static str,
    },
    /// An option was set that the preset does not use.
    #[error("`{option}` does not apply to the {preset} preset")]
    UnsupportedOption {
        /// The preset's name.
        preset: &'static str,
        /// The option that does not apply.
        option: &'static str,
    },
    /// An option has an invalid value.
    #[error("invalid `{option}`: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why it is invalid.
        reason: String,
    },
}
