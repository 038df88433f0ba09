//! A listener's `verify` block: which preset, which secrets, which options.

use crate::error::{ConfigError, VerifyError};
use crate::presets::{self, HmacOptions, NamedKey, PayloadTemplate};
use crate::request::RequestParts;
use crate::secret::Secrets;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The replay window of timestamped schemes when `tolerance` is not set.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;
/// The largest `tolerance` accepted (7 days).
pub const MAX_TOLERANCE_SECS: u64 = 7 * 24 * 3600;
/// The dedupe window when `dedupe.window` is not set (24 hours).
pub const DEFAULT_DEDUPE_WINDOW_SECS: u64 = 24 * 3600;
/// The largest dedupe window accepted (30 days).
pub const MAX_DEDUPE_WINDOW_SECS: u64 = 30 * 24 * 3600;
/// At most this many secrets per listener (key rotation needs two or three).
const MAX_SECRETS: usize = 8;
/// Longest accepted delivery id; longer ids are ignored (no dedupe).
const MAX_DELIVERY_ID_LEN: usize = 256;

/// The signature scheme a listener expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body)>`.
    Github,
    /// Stripe: `Stripe-Signature: t=…,v1=…` over `"{t}.{body}"`.
    Stripe,
    /// Standard Webhooks: `webhook-id`/`-timestamp`/`-signature`, v1 and v1a.
    #[serde(
        alias = "standard-webhooks",
        alias = "standardwebhooks",
        alias = "svix"
    )]
    StandardWebhooks,
    /// Twilio: `X-Twilio-Signature` over the public URL and POST params.
    Twilio,
    /// Slack: `X-Slack-Signature: v0=…` over `"v0:{ts}:{body}"`.
    Slack,
    /// A generic HMAC over the body (or a payload template).
    #[serde(alias = "generic")]
    Hmac,
    /// No signature check (dedupe only). Must be chosen explicitly.
    None,
}

impl Preset {
    /// The preset's configuration name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Github => "github",
            Preset::Stripe => "stripe",
            Preset::StandardWebhooks => "standard_webhooks",
            Preset::Twilio => "twilio",
            Preset::Slack => "slack",
            Preset::Hmac => "hmac",
            Preset::None => "none",
        }
    }

    /// Whether the scheme signs a timestamp (so `tolerance` applies).
    fn has_timestamp(self, config: &VerifyConfig) -> bool {
        match self {
            Preset::Stripe | Preset::StandardWebhooks | Preset::Slack => true,
            Preset::Hmac => config.timestamp_header.is_some(),
            Preset::Github | Preset::Twilio | Preset::None => false,
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = String;

    /// Parses a preset name as the configuration spells it (with aliases).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Preset::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name))
            .map_err(|_| format!("unknown verify preset {name:?}"))
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// HMAC digest for the generic preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HmacAlgorithm {
    /// HMAC-SHA1 (20 bytes).
    Sha1,
    /// HMAC-SHA256 (32 bytes).
    #[default]
    Sha256,
    /// HMAC-SHA512 (64 bytes).
    Sha512,
}

impl HmacAlgorithm {
    /// The digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HmacAlgorithm::Sha1 => 20,
            HmacAlgorithm::Sha256 => 32,
            HmacAlgorithm::Sha512 => 64,
        }
    }
}

/// How the generic preset's signature is written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HmacEncoding {
    /// Hexadecimal, either case.
    #[default]
    Hex,
    /// Base64 (standard or URL-safe, padding optional).
    Base64,
}

/// One secret name or several (key rotation: any one may match).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretNames(pub Vec<String>);

impl SecretNames {
    /// Whether no name is given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for SecretNames {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SecretNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(name) => SecretNames(vec![name]),
            OneOrMany::Many(names) => SecretNames(names),
        })
    }
}

/// Replay protection by delivery id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeConfig {
    /// How long (seconds) a delivery id is remembered.
    #[serde(default = "default_dedupe_window")]
    pub window: u64,
    /// A header carrying the delivery id, replacing the preset's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

fn default_dedupe_window() -> u64 {
    DEFAULT_DEDUPE_WINDOW_SECS
}

/// A listener's verification settings (its `verify` block).
///
/// Which options apply depends on the preset; [`VerifyConfig::validate`]
/// rejects missing and inapplicable ones, so a typo cannot silently weaken
/// a check. Unknown fields are rejected when deserializing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyConfig {
    /// The signature scheme.
    pub preset: Preset,
    /// Secret name(s) from the operator's secrets; several for rotation.
    #[serde(
        default,
        alias = "secrets",
        skip_serializing_if = "SecretNames::is_empty"
    )]
    pub secret: SecretNames,
    /// Replay window in seconds for timestamped schemes (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<u64>,
    /// Twilio: the public base URL senders call (e.g.
    /// `https://hooks.example.com`); the request path and query are appended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Generic HMAC: the header carrying the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Generic HMAC: `sha1`, `sha256` (default) or `sha512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<HmacAlgorithm>,
    /// Generic HMAC: `hex` (default) or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<HmacEncoding>,
    /// Generic HMAC: text before the signature in the header, e.g. `sha256=`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Generic HMAC: a header carrying a Unix timestamp to hold to `tolerance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// Generic HMAC: what is signed, with `{body}` (exactly once) and
    /// `{timestamp}`; default `{body}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Replay protection by delivery id; off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<DedupeConfig>,
}

/// What a successful verification learned about the delivery.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VerifiedDelivery {
    /// The sender's delivery/event id, when the scheme (or the configured
    /// dedupe header) carries one.
    pub delivery_id: Option<String>,
    /// The signed timestamp (Unix seconds), for timestamped schemes.
    pub timestamp: Option<i64>,
}

impl VerifyConfig {
    /// A configuration with only the preset and secret names set.
    pub fn new(preset: Preset, secrets: &[&str]) -> Self {
        VerifyConfig {
            preset,
            secret: SecretNames(secrets.iter().map(|s| s.to_string()).collect()),
            tolerance: None,
            public_url: None,
            header: None,
            algorithm: None,
            encoding: None,
            prefix: None,
            timestamp_header: None,
            payload: None,
            dedupe: None,
        }
    }

    /// Parses a `verify` block written as JSON (starting with `{`) or TOML
    /// (a `--verify-file`), then validates it. The error text is for the
    /// operator; it never contains a secret (the block holds names only).
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: VerifyConfig = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else {
            toml::from_str(text).map_err(|e| e.message().to_string())?
        };
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// The replay window in seconds.
    pub fn tolerance(&self) -> u64 {
        self.tolerance.unwrap_or(DEFAULT_TOLERANCE_SECS)
    }

    /// Checks that the options fit the preset (no secrets are looked up).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let preset = self.preset.name();
        let unsupported = |option| Err(ConfigError::UnsupportedOption { preset, option });
        let invalid = |option, reason: &str| {
            Err(ConfigError::InvalidOption {
                option,
                reason: reason.to_string(),
            })
        };

        match (self.preset, self.secret.0.len()) {
            (Preset::None, 0) => {}
            (Preset::None, _) => return unsupported("secret"),
            (_, 0) => {
                return Err(ConfigError::MissingOption {
                    preset,
                    option: "secret",
                });
            }
            (_, n) if n > MAX_SECRETS => return invalid("secret", "at most 8 secret names"),
            _ => {}
        }
        if self.secret.0.iter().any(|n| n.trim().is_empty()) {
            return invalid("secret", "a secret name is blank");
        }

        if let Some(tolerance) = self.tolerance {
            if !self.preset.has_timestamp(self) {
                return unsupported("tolerance");
            }
            if tolerance == 0 || tolerance > MAX_TOLERANCE_SECS {
                return invalid("tolerance", "must be 1 to 604800 seconds");
            }
        }

        if let Some(url) = &self.public_url {
            if self.preset != Preset::Twilio {
                return unsupported("public_url");
            }
            if presets::twilio::split_origin(url).is_none() {
                return invalid("public_url", "must be an absolute http(s) URL");
            }
        }

        let hmac_only: [(&'static str, bool); 6] = [
            ("header", self.header.is_some()),
            ("algorithm", self.algorithm.is_some()),
            ("encoding", self.encoding.is_some()),
            ("prefix", self.prefix.is_some()),
            ("timestamp_header", self.timestamp_header.is_some()),
            ("payload", self.payload.is_some()),
        ];
        if self.preset == Preset::Hmac {
            self.hmac_options()?;
        } else if let Some((option, _)) = hmac_only.iter().find(|(_, set)| *set) {
            return unsupported(option);
        }

        if let Some(dedupe) = &self.dedupe {
            if dedupe.window == 0 || dedupe.window > MAX_DEDUPE_WINDOW_SECS {
                return invalid("dedupe.window", "must be 1 to 2592000 seconds");
            }
            if let Some(header) = &dedupe.header {
                check_header_name("dedupe.header", header)?;
            }
        }
        Ok(())
    }

    /// Verifies a request. `now` is the current Unix time in seconds.
    pub fn verify(
        &self,
        req: &RequestParts<'_>,
        secrets: &Secrets,
        now: i64,
    ) -> Result<VerifiedDelivery, VerifyError> {
        self.validate()?;
        let keys = self.resolve_secrets(secrets)?;
        let tolerance = self.tolerance();
        let mut delivery = match self.preset {
            Preset::Github => presets::github::verify(req, &keys)?,
            Preset::Stripe => presets::stripe::verify(req, &keys, tolerance, now)?,
            Preset::StandardWebhooks => {
                presets::standard_webhooks::verify(req, &keys, tolerance, now)?
            }
            Preset::Twilio => {
                let base = self.public_url.as_deref().or(req.public_base_url).ok_or(
                    ConfigError::MissingOption {
                        preset: "twilio",
                        option: "public_url",
                    },
                )?;
                presets::twilio::verify(req, &keys, base)?
            }
            Preset::Slack => presets::slack::verify(req, &keys, tolerance, now)?,
            Preset::Hmac => {
                presets::hmac::verify(req, &keys, &self.hmac_options()?, tolerance, now)?
            }
            Preset::None => VerifiedDelivery::default(),
        };
        if let Some(header) = self.dedupe.as_ref().and_then(|d| d.header.as_deref()) {
            delivery.delivery_id = req.header_str(header)?.map(str::to_string);
        }
        if delivery
            .delivery_id
            .as_ref()
            .is_some_and(|id| id.len() > MAX_DELIVERY_ID_LEN)
        {
            delivery.delivery_id = None;
        }
        Ok(delivery)
    }

    /// The named secrets, in configuration order.
    fn resolve_secrets<'a>(
        &'a self,
        secrets: &'a Secrets,
    ) -> Result<Vec<NamedKey<'a>>, ConfigError> {
        self.secret
            .0
            .iter()
            .map(|name| {
                secrets
                    .get(name)
                    .map(|secret| NamedKey { name, secret })
                    .ok_or_else(|| ConfigError::UnknownSecret(name.clone()))
            })
            .collect()
    }

    /// The generic preset's options, checked.
    fn hmac_options(&self) -> Result<HmacOptions, ConfigError> {
        let header = self.header.clone().ok_or(ConfigError::MissingOption {
            preset: "hmac",
            option: "header",
        })?;
        check_header_name("header", &header)?;
        if let Some(ts) = &self.timestamp_header {
            check_header_name("timestamp_header", ts)?;
        }
        let payload = PayloadTemplate::parse(self.payload.as_deref().unwrap_or("{body}"))?;
        if payload.uses_timestamp() && self.timestamp_header.is_none() {
            return Err(ConfigError::MissingOption {
                preset: "hmac",
                option: "timestamp_header",
            });
        }
        if self.prefix.as_ref().is_some_and(|p| p.len() > 64) {
            return Err(ConfigError::InvalidOption {
                option: "prefix",
                reason: "at most 64 bytes".to_string(),
            });
        }
        Ok(HmacOptions {
            header,
            algorithm: self.algorithm.unwrap_or_default(),
            encoding: self.encoding.unwrap_or_default(),
            prefix: self.prefix.clone().unwrap_or_default(),
            timestamp_header: self.timestamp_header.clone(),
            payload,
        })
    }
}

/// An HTTP header name: 1–128 token characters.
fn check_header_name(option: &'static str, name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidOption {
            option,
            reason: "not a valid header name".to_string(),
        })
    }
}
