//! Verified webhooks for katabox: the checks the host runs on a webhook
//! request before any automation sees it.
//!
//! - [`Secrets`] / [`Secret`]: named secrets from the operator's
//!   configuration (`secrets.toml` / `secrets.json` in the data directory and
//!   `KATABOX_SECRET_<NAME>` environment variables), redacted in every
//!   `Debug`/`Display`, zeroized on drop, never serialized.
//! - [`VerifyConfig`]: a listener's `verify` block (serde), naming a
//!   [`Preset`] (GitHub, Stripe, Standard Webhooks, Twilio, Slack, generic
//!   HMAC), its secret names and options; [`VerifyConfig::verify`] checks a
//!   [`RequestParts`] and yields a [`VerifiedDelivery`] or a [`VerifyError`]
//!   with a short reason.
//! - [`DedupeKey`] / [`DedupeRecord`]: what the host stores so that a
//!   delivery id seen again within the window gets the first response.
//! - [`outbound::Accounts`]: the header `http.request`'s `authentication:`
//!   injects, built from a named secret the script never sees.
//! - [`Secrets::redact`]: scrubs secret values out of text before it is
//!   logged or recorded.
//!
//! Everything here is pure: no I/O except [`Secrets::load`], and the clock
//! is a parameter (`now`, Unix seconds).

mod config;
mod crypto;
mod dedupe;
mod error;
pub mod outbound;
pub mod presets;
mod request;
mod secret;
mod timestamp;

pub use config::{
    DEFAULT_DEDUPE_WINDOW_SECS, DEFAULT_TOLERANCE_SECS, DedupeConfig, HmacAlgorithm, HmacEncoding,
    MAX_DEDUPE_WINDOW_SECS, MAX_TOLERANCE_SECS, Preset, SecretNames, VerifiedDelivery,
    VerifyConfig,
};
pub use dedupe::{DedupeDecision, DedupeKey, DedupeRecord, PENDING_TIMEOUT_SECS, StoredResponse};
pub use error::{ConfigError, VerifyError};
pub use request::RequestParts;
pub use secret::{
    LoadedSecrets, MIN_REDACT_LEN, SECRETS_ENV_PREFIX, Secret, SecretLoadError, Secrets,
};
