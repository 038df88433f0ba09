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
    /// A disabled listener answers 404 like a missing one (the console's
    /// enable/disable; absent in older records: enabled).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_disabled: bool,
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
    /// Disable (or enable) the listener; `None`: keep it as it is
    /// (enabled when created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_disabled: Option<bool>,
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
    /// Grows by one with every change (`PUT /api/automations/{name}`);
    /// earlier versions are kept.
    #[serde(default = "first_version")]
    pub version: u64,
}

fn first_version() -> u64 {
    1
}

/// A change to an automation: the fields given replace the current ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationChange {
    pub script: Option<String>,
    pub policy_kata: Option<String>,
    pub description: Option<String>,
}

impl AutomationChange {
    /// The next version of `current`: the given fields replaced, the
    /// version one up, `updated_at` set to `now`.
    pub fn apply(&self, current: &AutomationRow, now: i64) -> AutomationRow {
        let mut next = current.clone();
        if let Some(script) = &self.script {
            next.script = script.clone();
        }
        if let Some(policy) = &self.policy_kata {
            next.policy_kata = policy.clone();
        }
        if let Some(description) = &self.description {
            next.description = description.clone();
        }
        next.version = current.version + 1;
        next.updated_at = now;
        next
    }
}

/// An automation timer (packages.md §6.3), run by the scheduler
/// (`host/src/timers`).
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
    /// The token of the continuation an `await` left (empty: none).
    #[serde(default)]
    pub continuation_id: String,
    /// The scheduler holding the timer while it runs (empty: none).
    #[serde(default)]
    pub lease_owner: String,
    /// When that claim lapses (Unix seconds); a crashed run's timer is
    /// picked again after it.
    #[serde(default)]
    pub lease_expires_at: i64,
    /// Bumped on every claim; an outcome is applied only with the fence
    /// of the claim it came from.
    #[serde(default)]
    pub fence: u64,
}

/// An awaiting timer run, saved as Cerb saves it: the dictionary with its
/// resume point (`__state`), the automation (and version) it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerContinuation {
    pub token: String,
    pub timer_id: u64,
    pub automation: String,
    pub automation_version: u64,
    /// `await`.
    pub state: String,
    /// The dictionary in the value model's wire encoding, standard base64.
    pub dict_wire: String,
    /// `__return.until` of the await (Unix seconds).
    pub until: i64,
    /// `until` + 7 days, as Cerb.
    pub expires_at: i64,
    pub updated_at: i64,
}

/// What a timer run changes, applied in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerUpdate {
    /// Delete the timer (and its continuation).
    Delete,
    /// Update the timer.
    Set {
        next_run_at: i64,
        /// Set `is_disabled` (never cleared here).
        disable: bool,
        last_ran_at: i64,
        continuation: ContinuationChange,
    },
}

/// What happens to a timer's continuation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContinuationChange {
    Keep,
    /// Saved (committed with the timer's new `next_run_at`).
    Save(Box<TimerContinuation>),
    Discard,
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

/// One entry of the run history (docs/operator-guide.md, "Run history").
///
/// The summary fields are listed by `GET /api/runs`; the payload
/// (request, response, inputs, return) is stored beside it and shown by
/// `GET /api/runs/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Assigned by the store (grows with time).
    #[serde(default)]
    pub id: u64,
    /// Unix time in milliseconds when the request arrived (the run started).
    pub at_ms: i64,
    /// What started the run: `webhook`, `replay`, `timer`, `cli`.
    #[serde(default = "webhook_trigger")]
    pub trigger: String,
    pub listener_id: Option<u64>,
    pub automation: Option<String>,
    /// The automation's version that ran.
    #[serde(default)]
    pub automation_version: Option<u64>,
    /// The run this one replayed.
    #[serde(default)]
    pub replay_of: Option<u64>,
    /// The timer that started the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_id: Option<u64>,
    pub request_method: String,
    /// The path after the listener's guid (`request_path` of the dictionary).
    pub request_path: String,
    pub client_ip: String,
    /// The HTTP status answered (webhook and replay runs).
    pub status: u16,
    /// `return`, `await`, `exit`, `error`, or empty when no automation ran.
    pub exit: String,
    pub error: Option<String>,
    pub logs: Vec<serde_json::Value>,
    pub duration_us: u64,
    pub fuel_used: u64,
    /// The guest's linear memory at the end of the run, in bytes.
    #[serde(default)]
    pub memory_peak: u64,
    /// The run whose `function:` call started this one (`trigger:
    /// "function"`); its callees name it the same way.
    #[serde(default)]
    pub parent_id: Option<u64>,
    /// Request, response, inputs and return (absent from listings, and
    /// once the payload expired).
    #[serde(skip)]
    pub payload: Option<RunPayload>,
    /// The `function:` runs inside this one, not stored yet
    /// ([`super::store_with_children`] stores them after it, linked).
    #[serde(skip)]
    pub children: Vec<ChildRecord>,
}

/// A nested run waiting to be stored with its top-level run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChildRecord {
    /// Its number in the request (1, 2, ... callers before callees).
    pub seq: usize,
    /// Its caller's number (0: the top-level run).
    pub parent_seq: usize,
    /// The run (its `parent_id` is set when stored).
    pub run: RunRecord,
}

fn webhook_trigger() -> String {
    "webhook".into()
}

/// What a run received and answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunPayload {
    pub request: Option<RecordedRequest>,
    pub response: Option<RecordedResponse>,
    /// The `inputs:` the event KATA gave the automation.
    pub inputs: Option<serde_json::Value>,
    /// The automation's `__return` value.
    #[serde(rename = "return")]
    pub returned: Option<serde_json::Value>,
}

/// A body as the history keeps it: UTF-8 text in `body`, anything else
/// exactly, as standard base64 in `body_base64` (`body` is then null);
/// cut at the history's body limit (`body_truncated`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedBody {
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    pub body_truncated: bool,
    /// The whole body's length in bytes.
    #[serde(default)]
    pub body_size: u64,
}

impl RecordedBody {
    /// Keeps at most `limit` bytes of `bytes`.
    pub fn keep(bytes: &[u8], limit: usize) -> RecordedBody {
        let truncated = bytes.len() > limit;
        let cut = &bytes[..bytes.len().min(limit)];
        let (body, body_base64) = match std::str::from_utf8(cut) {
            Ok(text) => (Some(text.to_string()), None),
            // A UTF-8 body cut inside a character stays text.
            Err(e) if truncated && std::str::from_utf8(bytes).is_ok() => (
                Some(String::from_utf8_lossy(&cut[..e.valid_up_to()]).into_owned()),
                None,
            ),
            Err(_) => {
                use base64::Engine;
                (
                    None,
                    Some(base64::engine::general_purpose::STANDARD.encode(cut)),
                )
            }
        };
        RecordedBody {
            body,
            body_base64,
            body_truncated: truncated,
            body_size: bytes.len() as u64,
        }
    }

    /// The kept bytes.
    pub fn bytes(&self) -> Vec<u8> {
        use base64::Engine;
        match (&self.body, &self.body_base64) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }
}

/// A recorded webhook request (secret headers kept as `"[redacted]"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    /// The whole URL path, `/webhooks/GUID/...`.
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderList,
    #[serde(flatten)]
    pub body: RecordedBody,
}

/// A recorded response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: HeaderList,
    #[serde(flatten)]
    pub body: RecordedBody,
}

/// Headers in the order they were sent, shown as a JSON object: lower-case
/// names, a repeated header's values joined with `, `.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderList(pub Vec<(String, String)>);

impl HeaderList {
    /// The value of `name` (lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Adds a header, joining it to an earlier one of the same name.
    pub fn add(&mut self, name: String, value: String) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => self.0.push((name, value)),
        }
    }

    /// Every value, to rewrite in place.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut String> {
        self.0.iter_mut().map(|(_, v)| v)
    }
}

impl Serialize for HeaderList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = HeaderList;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of header names and values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<HeaderList, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(HeaderList(out))
            }
        }
        d.deserialize_map(Visit)
    }
}
