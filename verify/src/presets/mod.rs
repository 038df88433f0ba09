//! The verification presets, each a pure function of the request, the
//! secrets and (for timestamped schemes) the clock.

pub mod github;
pub mod hmac;
pub mod slack;
pub mod standard_webhooks;
pub mod stripe;
pub mod twilio;

pub use self::hmac::{HmacOptions, PayloadTemplate};

use crate::secret::Secret;

/// A configured secret with the name it was configured under.
#[derive(Debug, Clone, Copy)]
pub struct NamedKey<'a> {
    /// The name in the listener's configuration.
    pub name: &'a str,
    /// The secret.
    pub secret: &'a Secret,
}

impl<'a> NamedKey<'a> {
    /// A key for direct calls to a preset function.
    pub fn new(name: &'a str, secret: &'a Secret) -> Self {
        NamedKey { name, secret }
    }
}

/// Which top-level member of a JSON body carries the delivery id.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JsonIdField {
    /// `id` (Stripe events).
    Id,
    /// `event_id` (Slack Events API).
    EventId,
}

/// The delivery id in a JSON object body, or `None` when the body is not
/// such an object or the member is not a non-empty string. Other members
/// are skipped without being kept in memory.
pub(crate) fn json_body_id(body: &[u8], field: JsonIdField) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithId {
        id: Option<serde_json::Value>,
    }
    #[derive(serde::Deserialize)]
    struct WithEventId {
        event_id: Option<serde_json::Value>,
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    let value = match field {
        JsonIdField::Id => serde_json::from_slice::<WithId>(body).ok()?.id,
        JsonIdField::EventId => serde_json::from_slice::<WithEventId>(body).ok()?.event_id,
    };
    match value? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}
