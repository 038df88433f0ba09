//! Every redb table the store uses, in one place.
//!
//! Records are stored as JSON documents (serde) keyed by their id; side
//! tables index them by name or guid. Values that cross into automations
//! (storage, queues, continuations) use the value model's wire encoding.

use redb::TableDefinition;

/// Webhook listeners by id (JSON [`super::ListenerRecord`]).
pub const LISTENERS: TableDefinition<u64, &[u8]> = TableDefinition::new("listeners");
/// Listener id by guid (unique).
pub const LISTENER_GUIDS: TableDefinition<&str, u64> = TableDefinition::new("listener_guids");
/// Automations by name (JSON [`super::AutomationRow`]).
pub const AUTOMATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("automations");
/// Automation name by id.
pub const AUTOMATION_IDS: TableDefinition<u64, &str> = TableDefinition::new("automation_ids");
/// Automation timers by id (JSON [`super::TimerRecord`]).
pub const TIMERS: TableDefinition<u64, &[u8]> = TableDefinition::new("timers");
/// Enabled timers by (next_run_at, id): what the scheduler picks.
pub const TIMERS_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("timers_due");
/// Timer continuations by token (JSON [`super::TimerContinuation`]).
pub const TIMER_CONTINUATIONS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("timer_continuations");
/// Imported packages by key (JSON [`super::PackageRecord`]).
pub const PACKAGES: TableDefinition<&str, &[u8]> = TableDefinition::new("packages");
/// `storage.*` keys: 8 bytes of big-endian expiry (0 = never) + wire value.
pub const STORAGE: TableDefinition<&str, &[u8]> = TableDefinition::new("storage");
/// Queue items by (queue name, sequence number): wire values.
pub const QUEUE_ITEMS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queue_items");
/// Saved continuations by token: wire values.
pub const CONTINUATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("continuations");
/// Queue definitions (operator-defined queue names).
pub const QUEUE_DEFS: TableDefinition<&str, u64> = TableDefinition::new("queue_defs");
/// Automation resources (`cerb:automation_resource:TOKEN`) by token: raw bytes.
pub const RESOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("resources");
/// Automation resource metadata by token (JSON: name, mime_type, expires_at).
pub const RESOURCE_META: TableDefinition<&str, &[u8]> = TableDefinition::new("resource_meta");
/// Named resources (`cerb:resource:NAME`): raw bytes.
pub const NAMED_RESOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("named_resources");
/// Metric definitions by name: JSON list of dimension names.
pub const METRIC_DEFS: TableDefinition<&str, &[u8]> = TableDefinition::new("metric_defs");
/// Metric totals by `metric \x1f dimensions-json \x1f timestamp`.
pub const METRICS: TableDefinition<&str, f64> = TableDefinition::new("metrics");
/// The run history's segments by number (JSON: id range, count, oldest
/// and newest start, whether payloads are kept); see `segments.rs`.
/// Segment `n`'s tables have the names below with `@n` appended (segment 0,
/// written before segments existed, has them without).
pub const RUN_SEGMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("run_segments");
/// A segment's run summaries in chunks (`run_log.rs`), by the chunk's
/// smallest run id.
pub const RUN_DOCS: TableDefinition<u64, &[u8]> = TableDefinition::new("run_docs");
/// A segment's encoded run payloads in chunks, by the chunk's smallest run id.
pub const RUN_PAYLOAD_LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("run_payload_log");
/// A segment's postings: by (index key, newest `at_ms`, smallest id), the
/// `(at_ms, id)` of one batch's runs with that key.
pub const RUN_POSTINGS: TableDefinition<(&str, i64, u64), &[u8]> =
    TableDefinition::new("run_postings");
/// The tables below are the layout before the run log: a segment still in
/// it is rewritten into the log when the data directory is opened.
/// Run history by run id (JSON [`super::RunRecord`], without its payload);
/// ids grow with time.
pub const RUNS: TableDefinition<u64, &[u8]> = TableDefinition::new("runs");
/// Run payloads by run id: request, response, inputs, return. A row is a
/// reference into [`RUN_PAYLOAD_BLOBS`] (or, when written before blobs
/// existed, the JSON [`super::RunPayload`] itself); see `payloads.rs`.
/// They may expire before the run itself.
pub const RUN_PAYLOADS: TableDefinition<u64, &[u8]> = TableDefinition::new("run_payloads");
/// The encoded payloads of one history batch (`payloads::encode_into`),
/// concatenated, by the batch's smallest run id.
pub const RUN_PAYLOAD_BLOBS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("run_payload_blobs");
/// How many runs still refer to each blob of [`RUN_PAYLOAD_BLOBS`]
/// (segment 0 only: later segments drop their blobs all at once).
pub const RUN_PAYLOAD_BLOB_REFS: TableDefinition<u64, u64> =
    TableDefinition::new("run_payload_blob_refs");
/// Runs by (at_ms, id): the history in time order.
pub const RUNS_BY_TIME: TableDefinition<(i64, u64), ()> = TableDefinition::new("runs_by_time");
/// Runs by (automation, at_ms, id).
pub const RUNS_BY_AUTOMATION: TableDefinition<(&str, i64, u64), ()> =
    TableDefinition::new("runs_by_automation");
/// Runs by (listener id, at_ms, id).
pub const RUNS_BY_LISTENER: TableDefinition<(u64, i64, u64), ()> =
    TableDefinition::new("runs_by_listener");
/// Runs by (exit, at_ms, id).
pub const RUNS_BY_EXIT: TableDefinition<(&str, i64, u64), ()> =
    TableDefinition::new("runs_by_exit");
/// `function:` runs by the run that called them: `(parent_id, at_ms, id)`.
pub const RUNS_BY_PARENT: TableDefinition<(u64, i64, u64), ()> =
    TableDefinition::new("runs_by_parent");
/// Earlier versions of automations by (name, version) (JSON
/// [`super::AutomationRow`]); the current version is in [`AUTOMATIONS`].
pub const AUTOMATION_VERSIONS: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("automation_versions");
/// Counters for id allocation (`listener`, `automation`, `timer`, `run`, `queue`).
pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
/// Webhook dedupe records by `<listener id>:<hex sha256 of the delivery id>`
/// (JSON [`katabox_verify::DedupeRecord`]).
pub const WEBHOOK_DELIVERIES: TableDefinition<&str, &[u8]> =
    TableDefinition::new("webhook_deliveries");
