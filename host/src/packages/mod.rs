//! Package import (Cerb's JSON package format, packages.md).
//!
//! The pipeline follows Cerb's (§1) with deliberate deviations, documented
//! here and in docs/:
//! - **All or nothing.** The whole import runs in one store write
//!   transaction ([`Store::write`]); any failure rolls everything back
//!   (Cerb leaves the empty records of §8.2 behind).
//! - **Listener guids.** A blank guid is generated (40 lowercase hex
//!   characters from a CSPRNG), and a guid another listener already has is
//!   refused (Cerb requires the guid and does not check uniqueness).
//! - **Timers** are stored, but no scheduler runs them yet.
//! - Helpdesk sections (`bots`, `workspaces`, …, `events`, `toolbars`) are
//!   refused with a clear error; `settings` and `worker_preferences` are ignored.
//! - `data_query` placeholders are refused.

pub mod load;
pub mod prompts;
pub mod records;
pub mod template;

use crate::store::{
    AutomationRow, CreatedRecord, ListenerRecord, PackageRecord, Store, StoreError, TimerRecord,
    WriteTx, generate_guid, now_unix,
};
use katabox_value::{Array, Value};
use records::{Mode, RecordType};
use serde_json::{Map, Value as Json};

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The package was refused; the message is Cerb's text.
    #[error("{0}")]
    Refused(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PackageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(m) => PackageError::Refused(m),
            other => PackageError::Store(other),
        }
    }
}

/// Import settings.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// `default.base_url` (ending in `/`).
    pub base_url: String,
    /// Skip (without error) a package whose key was already imported.
    pub skip_if_imported: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            base_url: "http://127.0.0.1:8080/".into(),
            skip_if_imported: false,
        }
    }
}

/// What an import produced.
#[derive(Debug, Clone)]
pub struct ImportResult {
    /// The package key (`name#revision`).
    pub key: String,
    /// False when the package was already imported and skipped.
    pub imported: bool,
    /// The created records, in package order; each a JSON object with
    /// `_context` (alias), `id`, `uid`, `name` and the record's fields.
    pub records: Vec<Json>,
    /// Cerb's `records_created` map.
    pub records_created: Json,
}

const HELPDESK_SECTIONS: &[&str] = &[
    "custom_fieldsets",
    "bots",
    "behaviors",
    "behavior_nodes",
    "workspaces",
    "portals",
    "saved_searches",
    "calendars",
    "classifiers",
    "project_boards",
    "events",
    "toolbars",
];

/// The key that identifies a package for `--package` re-runs.
pub fn package_key(package: &Json, text: &[u8]) -> String {
    let name = package.get("name").and_then(Json::as_str).unwrap_or("");
    let revision = match package.get("revision") {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    if name.is_empty() {
        // FNV-1a of the text: stable across runs and builds.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        return format!("#{h:016x}");
    }
    format!("{name}#{revision}")
}

struct Prepared {
    key: String,
    name: String,
    revision: String,
    records: Vec<Json>,
    placeholders: Array,
}

/// Steps before the store is touched (§3–§7.3): decode, requires,
/// prompts, placeholders, `_exclude`.
fn prepare(text: &[u8], prompts: &Json) -> Result<Prepared, String> {
    let doc = load::decode(text)?;
    let package = match doc.get("package") {
        None | Some(Json::Null) => return Err("Invalid package JSON".into()),
        Some(p) => p.clone(),
    };
    load::check_requires(&package)?;
    let configure = package.get("configure").cloned().unwrap_or(Json::Null);
    let mut placeholders = Array::new();
    prompts::apply_prompts(&configure, prompts, &mut placeholders)?;
    prompts::apply_placeholders(&configure, &mut placeholders)?;

    if let Some(obj) = doc.as_object() {
        for section in HELPDESK_SECTIONS {
            if obj.get(*section).is_some_and(|v| match v {
                Json::Array(a) => !a.is_empty(),
                Json::Object(o) => !o.is_empty(),
                Json::Null => false,
                _ => true,
            }) {
                return Err(format!(
                    "The package section '{section}' is not supported by katabox (only records: automation, webhook_listener, automation_timer)."
                ));
            }
        }
    }

    let ph_value = Value::array(placeholders.clone());
    let mut records = Vec::new();
    let list: Vec<Json> = match doc.get("records") {
        Some(Json::Array(a)) => a.clone(),
        Some(Json::Object(o)) => o.values().cloned().collect(),
        _ => Vec::new(),
    };
    for rec in list {
        let mut rec = rec;
        if let Some(obj) = rec.as_object_mut()
            && let Some(tpl) = obj.remove("_exclude")
        {
            let uid = obj.get("uid").map(json_text).unwrap_or_default();
            if template::excluded(&tpl, &ph_value, &uid)? {
                continue;
            }
        }
        records.push(rec);
    }
    let name = package
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    let revision = match package.get("revision") {
        Some(Json::Null) | None => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    Ok(Prepared {
        key: package_key(&package, text),
        name,
        revision,
        records,
        placeholders,
    })
}

fn json_text(j: &Json) -> String {
    match j {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// Imports a package. Everything happens in one write transaction.
pub fn import(
    store: &dyn Store,
    text: &[u8],
    prompts: &Json,
    opts: &ImportOptions,
) -> Result<ImportResult, PackageError> {
    let prep = prepare(text, prompts).map_err(PackageError::Refused)?;
    let mut result: Option<ImportResult> = None;
    store.write(&mut |tx| {
        let r = import_in(tx, &prep, opts).map_err(|e| match e {
            PackageError::Refused(m) => StoreError::Rejected(m),
            PackageError::Store(s) => s,
        })?;
        result = Some(r);
        Ok(())
    })?;
    result.ok_or_else(|| PackageError::Refused("An unexpected error occurred.".into()))
}

fn rejected(e: StoreError) -> String {
    e.to_string()
}

/// The record's uid and type (validation pass step 1–2).
fn identify(rec: &Json) -> Result<(String, RecordType, Map<String, Json>), String> {
    let obj = rec.as_object().cloned().unwrap_or_default();
    let uid = obj.get("uid").filter(|v| !v.is_null()).map(json_text);
    let ctx = obj.get("_context").filter(|v| !v.is_null()).map(json_text);
    let mut missing = Vec::new();
    if uid.is_none() {
        missing.push("uid");
    }
    if ctx.is_none() {
        missing.push("_context");
    }
    let uid_text = uid.clone().unwrap_or_default();
    if !missing.is_empty() {
        return Err(format!(
            "Invalid JSON: record ({uid_text}) is missing properties ({})",
            missing.join(", ")
        ));
    }
    let ctx = ctx.unwrap_or_default();
    let rt = RecordType::from_context(&ctx)
        .ok_or_else(|| format!("Unknown context '{ctx}' on record ({uid_text})."))?;
    Ok((uid_text, rt, obj))
}

fn import_in(
    tx: &mut dyn WriteTx,
    prep: &Prepared,
    opts: &ImportOptions,
) -> Result<ImportResult, PackageError> {
    let refused = PackageError::Refused;
    if opts.skip_if_imported && tx.package_exists(&prep.key)? {
        return Ok(ImportResult {
            key: prep.key.clone(),
            imported: false,
            records: Vec::new(),
            records_created: Json::Object(Map::new()),
        });
    }
    // §8.1 validation pass.
    let mut identified = Vec::new();
    for rec in &prep.records {
        let (uid, rt, obj) = identify(rec).map_err(refused)?;
        let mut taken = |name: &str| -> Result<bool, String> {
            tx.automation(name).map(|a| a.is_some()).map_err(rejected)
        };
        records::validate(rt, &obj, Mode::Create, &mut taken)
            .map_err(|e| refused(format!("Error validating record ({uid}): {e}")))?;
        identified.push((uid, rt));
    }
    // §8.2 empty records: uid → id.
    let now = now_unix();
    let mut uid_ids: Vec<(String, RecordType, u64)> = Vec::new();
    for (uid, rt) in &identified {
        if uid_ids.iter().any(|(u, _, _)| u == uid) {
            continue;
        }
        let id = tx.next_id(rt.counter())?;
        uid_ids.push((uid.clone(), *rt, id));
    }
    // §7.2 substitution.
    let mut ph = prep.placeholders.clone();
    let mut uid_map = Array::new();
    for (uid, _, id) in &uid_ids {
        uid_map.insert(uid.as_str(), Value::str(id.to_string()));
    }
    ph.insert("uid", Value::array(uid_map));
    let mut defaults = Array::new();
    defaults.insert("base_url", Value::str(&opts.base_url));
    for k in [
        "group_id",
        "bucket_id",
        "replyto_id",
        "mail_transport_id",
        "replyto_email",
    ] {
        defaults.insert(k, Value::Int(0));
    }
    ph.insert("default", Value::array(defaults));
    let ph = Value::array(ph);
    let rendered: Vec<Json> = prep
        .records
        .iter()
        .map(|r| template::substitute(r, &ph, 0))
        .collect();

    // §8.3 import pass.
    let mut created: Vec<(String, RecordType, u64, String, Json)> = Vec::new();
    for rec in &rendered {
        let (uid, rt, obj) = identify(rec).map_err(refused)?;
        let id = uid_ids
            .iter()
            .find(|(u, _, _)| *u == uid)
            .map(|(_, _, id)| *id)
            .ok_or_else(|| refused(format!("Error importing record ({uid}): unknown uid")))?;
        let fail = |e: String| refused(format!("Error importing record ({uid}): {e}"));
        let mut taken = |name: &str| -> Result<bool, String> {
            tx.automation(name)
                .map(|a| a.is_some_and(|a| a.id != id))
                .map_err(rejected)
        };
        records::validate(rt, &obj, Mode::Update, &mut taken).map_err(fail)?;
        let text = |k: &str| {
            obj.get(k)
                .map(|v| records::text_of(k, v).unwrap_or_default())
        };
        let num = |k: &str| {
            obj.get(k).and_then(|v| match v {
                Json::Number(n) => n.as_i64(),
                Json::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
                _ => None,
            })
        };
        let (label, fields) = match rt {
            RecordType::Automation => {
                // A missing or empty name is generated, and every name,
                // generated or not, must be free: an import never replaces
                // an automation it did not create.
                let name = text("name")
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("automation_{id}"));
                if taken(&name).map_err(fail)? {
                    return Err(fail(format!(
                        "A record already exists with this 'name' ({name}). It must be unique."
                    )));
                }
                let row = AutomationRow {
                    id,
                    name,
                    extension_id: text("extension_id").unwrap_or_default(),
                    description: text("description").unwrap_or_default(),
                    script: text("script").unwrap_or_default(),
                    policy_kata: text("policy_kata").unwrap_or_default(),
                    created_at: num("created_at").unwrap_or(now),
                    updated_at: num("updated_at").unwrap_or(now),
                    component_base64: text("component_base64").unwrap_or_default(),
                    version: 1,
                };
                if !row.component_base64.is_empty() {
                    crate::sandbox::GuestComponent::from_base64(&row.component_base64)
                        .map_err(|e| fail(format!("Automation component: {e}")))?;
                }
                crate::webhooks::lang::check_automation_script(&row.script)
                    .map_err(|e| fail(format!("Automation: {e}")))?;
                crate::webhooks::lang::check_kata(&row.policy_kata)
                    .map_err(|e| fail(format!("Automation policy: {e}")))?;
                tx.put_automation(&row)?;
                let mut shown = serde_json::to_value(&row).unwrap_or(Json::Null);
                // The report names the component by hash instead of echoing it.
                if let Some(obj) = shown.as_object_mut()
                    && obj.remove("component_base64").is_some()
                    && let Ok(c) =
                        crate::sandbox::GuestComponent::from_base64(&row.component_base64)
                {
                    obj.insert("component_sha256".into(), Json::String(c.sha256()));
                }
                (row.name.clone(), shown)
            }
            RecordType::WebhookListener => {
                let guid = text("guid").unwrap_or_default();
                let guid = if guid.trim().is_empty() {
                    generate_guid()
                } else {
                    crate::store::truncate_cerb(&guid, 40)
                };
                if tx.guid_owner(&guid)?.is_some_and(|owner| owner != id) {
                    return Err(fail(format!(
                        "A webhook listener already exists with this 'guid' ({guid}). It must be unique."
                    )));
                }
                let rec = ListenerRecord {
                    id,
                    name: crate::store::truncate_cerb(&text("name").unwrap_or_default(), 255),
                    guid,
                    automations_kata: text("automations_kata").unwrap_or_default(),
                    updated_at: num("updated_at").unwrap_or(now),
                    body_limit: None,
                    verify: None,
                    is_disabled: false,
                };
                tx.put_listener(&rec)?;
                (
                    rec.name.clone(),
                    serde_json::to_value(&rec).unwrap_or(Json::Null),
                )
            }
            RecordType::AutomationTimer => {
                let rec = TimerRecord {
                    id,
                    name: text("name").unwrap_or_else(|| format!("timer_{id}")),
                    automations_kata: text("automations_kata").unwrap_or_default(),
                    next_run_at: num("next_run_at").unwrap_or(0),
                    is_disabled: num("is_disabled").unwrap_or(0) == 1,
                    is_recurring: num("is_recurring").unwrap_or(0) == 1,
                    recurring_patterns: text("recurring_patterns").unwrap_or_default(),
                    recurring_timezone: text("recurring_timezone").unwrap_or_default(),
                    last_ran_at: num("last_ran_at").unwrap_or(0),
                    created_at: num("created_at").unwrap_or(now),
                    updated_at: num("updated_at").unwrap_or(now),
                    ..TimerRecord::default()
                };
                tx.put_timer(&rec)?;
                (
                    rec.name.clone(),
                    serde_json::to_value(&rec).unwrap_or(Json::Null),
                )
            }
        };
        // A duplicate uid updates the same record: the later entry wins.
        created.retain(|(u, _, _, _, _)| *u != uid);
        created.push((uid, rt, id, label, fields));
    }

    let mut records_created = Map::new();
    let mut out = Vec::new();
    let mut package_records = Vec::new();
    for (uid, rt, id, label, fields) in created {
        let entry = records_created
            .entry(rt.full_id().to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if let Some(m) = entry.as_object_mut() {
            m.insert(uid.clone(), serde_json::json!({"id": id, "label": label}));
        }
        let mut obj = fields.as_object().cloned().unwrap_or_default();
        obj.insert("_context".into(), Json::String(rt.alias().into()));
        obj.insert("uid".into(), Json::String(uid.clone()));
        obj.insert("id".into(), Json::from(id));
        out.push(Json::Object(obj));
        package_records.push(CreatedRecord {
            context: rt.full_id().into(),
            uid,
            id,
            label,
        });
    }
    tx.put_package(&PackageRecord {
        key: prep.key.clone(),
        name: prep.name.clone(),
        revision: prep.revision.clone(),
        imported_at: now,
        records: package_records,
    })?;
    Ok(ImportResult {
        key: prep.key.clone(),
        imported: true,
        records: out,
        records_created: Json::Object(records_created),
    })
}
