//! The three record types a package may create, their fields and Cerb's
//! validation messages (packages.md §6, §8).

use serde_json::{Map, Value as Json};

/// Triggers this host knows (an automation's `extension_id`).
pub const TRIGGERS: &[&str] = &[
    "cerb.trigger.webhook.respond",
    "cerb.trigger.automation.function",
    "cerb.trigger.automation.timer",
];

/// Largest script / policy text (16 MiB).
pub const MAX_SCRIPT: usize = 16 * 1024 * 1024;

/// A record type a package may create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    Automation,
    WebhookListener,
    AutomationTimer,
}

impl RecordType {
    /// The type named by a `_context` (alias or full id).
    pub fn from_context(ctx: &str) -> Option<RecordType> {
        match ctx.to_ascii_lowercase().as_str() {
            "automation" | "automations" | "cerb.contexts.automation" => {
                Some(RecordType::Automation)
            }
            "webhook_listener"
            | "webhook"
            | "webhooks"
            | "webhook listener"
            | "webhook listeners"
            | "cerberusweb.contexts.webhook_listener" => Some(RecordType::WebhookListener),
            "automation_timer"
            | "automation timer"
            | "automation timers"
            | "timer"
            | "timers"
            | "cerb.contexts.automation.timer" => Some(RecordType::AutomationTimer),
            _ => None,
        }
    }

    /// The full record type id.
    pub fn full_id(self) -> &'static str {
        match self {
            RecordType::Automation => "cerb.contexts.automation",
            RecordType::WebhookListener => "cerberusweb.contexts.webhook_listener",
            RecordType::AutomationTimer => "cerb.contexts.automation.timer",
        }
    }

    /// The short alias.
    pub fn alias(self) -> &'static str {
        match self {
            RecordType::Automation => "automation",
            RecordType::WebhookListener => "webhook_listener",
            RecordType::AutomationTimer => "automation_timer",
        }
    }

    /// The id-counter kind in the store.
    pub fn counter(self) -> &'static str {
        match self {
            RecordType::Automation => "automation",
            RecordType::WebhookListener => "listener",
            RecordType::AutomationTimer => "timer",
        }
    }

    fn fields(self) -> &'static [(&'static str, Field)] {
        use Field::*;
        match self {
            RecordType::Automation => &[
                ("name", Text),
                ("extension_id", Text),
                ("description", Text),
                ("script", Text),
                ("policy_kata", Text),
                ("component_base64", Text),
                ("created_at", Timestamp),
                ("updated_at", Timestamp),
            ],
            RecordType::WebhookListener => &[
                ("name", Text),
                ("guid", Text),
                ("automations_kata", Text),
                ("updated_at", Timestamp),
            ],
            RecordType::AutomationTimer => &[
                ("name", Text),
                ("automations_kata", Text),
                ("next_run_at", Timestamp),
                ("is_disabled", Bit),
                ("is_recurring", Bit),
                ("recurring_patterns", Text),
                ("recurring_timezone", Text),
                ("last_ran_at", Timestamp),
                ("created_at", Timestamp),
                ("updated_at", Timestamp),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Text,
    Timestamp,
    Bit,
}

/// PHP's `gettype` of a JSON value.
fn php_type(j: &Json) -> &'static str {
    match j {
        Json::Null => "NULL",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(_) => "double",
        Json::String(_) => "string",
        Json::Array(_) | Json::Object(_) => "array",
    }
}

/// Whether a value still holds an unrendered package template.
pub fn is_template(j: &Json) -> bool {
    j.as_str().is_some_and(|s| s.contains("{{{"))
}

/// How validation runs: as a creation (validation pass) or an update (import pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// The numeric value of a timestamp/bit field, or Cerb's error.
fn number_of(key: &str, v: &Json) -> Result<i64, String> {
    let n = match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        Json::Null => Some(0),
        _ => None,
    };
    n.ok_or_else(|| format!("'{key}' must be a number ({}: {}).", php_type(v), v))
}

/// The text value of a text field, or Cerb's error.
pub fn text_of(key: &str, v: &Json) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Null => Ok(String::new()),
        other => Err(format!("'{key}' must be a string ({}).", php_type(other))),
    }
}

/// Checks one record's fields (messages without the `Error … record (UID): ` prefix).
/// `name_taken(name)` reports whether another automation already has `name`.
pub fn validate(
    rt: RecordType,
    rec: &Map<String, Json>,
    mode: Mode,
    name_taken: &mut dyn FnMut(&str) -> Result<bool, String>,
) -> Result<(), String> {
    let fields = rt.fields();
    for key in rec.keys() {
        if key == "uid" || key == "_context" || key.contains("{{{") {
            continue;
        }
        if key == "id" {
            return Err("'id' is not editable.".into());
        }
        if !fields.iter().any(|(f, _)| f == key) {
            return Err(format!("'{key}' is not an editable field."));
        }
    }
    // Required fields (creation only; templates count as present).
    if mode == Mode::Create {
        let required: &[(&str, &str)] = match rt {
            RecordType::Automation => &[("extension_id", "Trigger")],
            RecordType::WebhookListener => &[("name", "name")],
            RecordType::AutomationTimer => &[("name", "name")],
        };
        for (field, label) in required {
            let present = rec.get(*field).is_some_and(|v| match v {
                Json::Null => false,
                Json::String(s) => !s.is_empty(),
                _ => true,
            });
            if !present {
                return Err(format!("'{label}' is required."));
            }
        }
    }
    for (key, kind) in fields {
        let Some(v) = rec.get(*key) else { continue };
        if mode == Mode::Create && is_template(v) {
            continue;
        }
        match kind {
            Field::Timestamp => {
                let n = number_of(key, v)?;
                if !(0..=4_294_967_295).contains(&n) {
                    return Err(format!("'{key}' must be between 0 and 4294967295."));
                }
            }
            Field::Bit => {
                if matches!(v, Json::Bool(_)) {
                    return Err(format!(
                        "'{key}' must be a number ({}: {}).",
                        php_type(v),
                        v
                    ));
                }
                let n = number_of(key, v)?;
                if n != 0 && n != 1 {
                    return Err(format!("'{key}' must be 0 or 1."));
                }
            }
            Field::Text => {
                let s = text_of(key, v)?;
                check_text(rt, key, &s, mode, name_taken)?;
            }
        }
    }
    Ok(())
}

fn check_text(
    rt: RecordType,
    key: &str,
    s: &str,
    mode: Mode,
    name_taken: &mut dyn FnMut(&str) -> Result<bool, String>,
) -> Result<(), String> {
    match (rt, key) {
        (RecordType::Automation, "name") => {
            if s.chars().count() > 255 {
                return Err("'name' must be shorter than 255 characters.".into());
            }
            if !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
            {
                return Err("'name' may only contain letters, numbers, dashes, and dots".into());
            }
            if !s.is_empty() && name_taken(s)? {
                return Err(format!(
                    "A record already exists with this 'name' ({s}). It must be unique."
                ));
            }
        }
        (RecordType::Automation, "extension_id") => {
            if s.is_empty() {
                return Err("'Trigger' is required.".into());
            }
            if !TRIGGERS.contains(&s) {
                return Err(format!(
                    "'Trigger' ({s}) is not a valid extension ID on (cerb.automation.trigger)."
                ));
            }
        }
        (RecordType::Automation, "script" | "policy_kata") if s.len() > MAX_SCRIPT => {
            return Err(format!(
                "'{key}' must be shorter than {MAX_SCRIPT} characters."
            ));
        }
        (RecordType::WebhookListener | RecordType::AutomationTimer, "name")
            if mode == Mode::Update && s.is_empty() =>
        {
            return Err("'name' must not be blank.".into());
        }
        (RecordType::AutomationTimer, "recurring_timezone")
            if !s.is_empty() && s.parse::<chrono_tz::Tz>().is_err() =>
        {
            return Err(format!(
                "'recurring_timezone' ({s}) is not a valid timezone. Format like: America/Los_Angeles"
            ));
        }
        _ => {}
    }
    Ok(())
}
