//! Dedupe: what the host stores per delivery id, and what a repeat gets.
//!
//! The host keeps one [`DedupeRecord`] per [`DedupeKey`] (listener id +
//! delivery id). The first delivery claims the key with a pending record
//! before it runs, then stores its response; a repeat within the window
//! gets that stored response instead of a second run.

use crate::config::{VerifiedDelivery, VerifyConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a pending claim holds before a repeat may run again (a run
/// that crashed never stores its response).
pub const PENDING_TIMEOUT_SECS: i64 = 300;

/// The store key for one delivery of one listener.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupeKey {
    key: String,
    window: u64,
}

impl DedupeKey {
    /// The key for `delivery` to `listener_id`, or `None` when the listener
    /// has no dedupe or the delivery carries no id.
    ///
    /// The key is `"<listener id>:<hex SHA-256 of the delivery id>"`: fixed
    /// length whatever the sender put in the id, and prefix-scannable per
    /// listener.
    pub fn new(
        listener_id: u64,
        config: &VerifyConfig,
        delivery: &VerifiedDelivery,
    ) -> Option<Self> {
        let dedupe = config.dedupe.as_ref()?;
        let id = delivery.delivery_id.as_deref()?;
        let digest = hex::encode(Sha256::digest(id.as_bytes()));
        Some(DedupeKey {
            key: format!("{listener_id}:{digest}"),
            window: dedupe.window,
        })
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The window in seconds.
    pub fn window(&self) -> u64 {
        self.window
    }

    /// A fresh pending record for a first delivery at `now`.
    pub fn claim(&self, delivery_id: &str, now: i64) -> DedupeRecord {
        DedupeRecord {
            delivery_id: delivery_id.to_string(),
            first_seen: now,
            expires_at: now.saturating_add(i64::try_from(self.window).unwrap_or(i64::MAX)),
            response: None,
        }
    }
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers, in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Response body.
    #[serde(default, with = "base64_bytes")]
    pub body: Vec<u8>,
}

impl StoredResponse {
    /// Whether a repeat should get this response: not for 5xx, which the
    /// sender retries precisely so that the delivery runs again.
    pub fn is_replayable(&self) -> bool {
        self.status < 500
    }
}

/// The stored state of one delivery id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupeRecord {
    /// The sender's delivery id (for operators reading the table).
    pub delivery_id: String,
    /// When the first delivery arrived (Unix seconds).
    pub first_seen: i64,
    /// When the record stops counting (Unix seconds).
    pub expires_at: i64,
    /// The first delivery's response; `None` while it is still running.
    pub response: Option<StoredResponse>,
}

/// What to do with a delivery, given its stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DedupeDecision {
    /// Not seen (or expired, or its first run died): claim the key and run.
    Run,
    /// Seen: answer with the first delivery's response, run nothing.
    Replay(StoredResponse),
    /// The first delivery is still running: answer 409 with `Retry-After`.
    InProgress,
}

impl DedupeRecord {
    /// The record as stored (JSON).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A stored record; `None` when the bytes are not one (treat as absent).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    /// Whether the record no longer counts at `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }

    /// Stores the first delivery's response.
    pub fn complete(&mut self, response: StoredResponse) {
        self.response = Some(response);
    }

    /// What a delivery with this key should get at `now`.
    pub fn decide(record: Option<&DedupeRecord>, now: i64) -> DedupeDecision {
        let Some(record) = record else {
            return DedupeDecision::Run;
        };
        if record.is_expired(now) {
            return DedupeDecision::Run;
        }
        match &record.response {
            Some(response) if response.is_replayable() => DedupeDecision::Replay(response.clone()),
            Some(_) => DedupeDecision::Run,
            None if now.saturating_sub(record.first_seen) > PENDING_TIMEOUT_SECS => {
                DedupeDecision::Run
            }
            None => DedupeDecision::InProgress,
        }
    }
}

/// `Vec<u8>` as a base64 string in JSON.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
