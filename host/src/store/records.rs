//! The records the store keeps (serialised as JSON inside redb).

use serde::{Deserialize, Serialize};

/// A webhook listener (webhooks.md §1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerRecord {
    pub id: u64,
    pub name: String,
    pub guid: String,
    pub automations_kata: String,
    pub updated_at: i64,
    /// Per-listener request body limit in bytes (None: the server default).
    #[serde(default)]
    pub body_limit: Option<u64>,
    /// Signature verification and dedupe (secret names only, never values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<katabox_verify::VerifyConfig>,
}

/// The fields a caller supplies to create or replace a listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerInput {
    pub name: String,
    /// Blank: a fresh guid is generated.
    #[serde(default)]
    pub guid: String,
    #[serde(default)]
    pub automations_kata: String,
    #[serde(default)]
    pub body_limit: Option<u64>,
    /// Signature verification and dedupe (validated by the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<katabox_verify::VerifyConfig>,
}

/// An automation (automations.md §1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationRow {
    pub id: u64,
    pub name: String,
    pub extension_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub script: String,
    #[serde(default)]
    pub policy_kata: String,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
    /// A guest component (standard base64 of its `.wasm`) run instead of
    /// `script`; empty for KATA automations (docs/guest-sdk.md).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub component_base64: String,
}

/// An automation timer (packages.md §6.3). Stored only; no scheduler yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRecord {
    pub id: u64,
    pub name: String,
    pub automations_kata: String,
    pub next_run_at: i64,
    pub is_disabled: bool,
    pub is_recurring: bool,
    pub recurring_patterns: String,
    pub recurring_timezone: String,
    pub last_ran_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One record a package created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedRecord {
    /// The full record type id, e.g. `cerb.contexts.automation`.
    pub context: String,
    pub uid: String,
    pub id: u64,
    pub label: String,
}

/// An imported package and the records it created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRecord {
    /// `name` + `#` + `revision` (the identity `--package` uses to skip re-imports).
    pub key: String,
    pub name: String,
    pub revision: String,
    pub imported_at: i64,
    pub records: Vec<CreatedRecord>,
}

/// One entry of the run history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Assigned by the store (grows with time).
    #[serde(default)]
    pub id: u64,
    /// Unix time in milliseconds.
    pub at_ms: i64,
    pub listener_id: Option<u64>,
    pub automation: Option<String>,
    pub request_method: String,
    pub request_path: String,
    pub client_ip: String,
    pub status: u16,
    /// `return`, `await`, `exit`, `error`, or empty when no automation ran.
    pub exit: String,
    pub error: Option<String>,
    pub logs: Vec<serde_json::Value>,
    pub duration_us: u64,
    pub fuel_used: u64,
}
