//! Moving an install: `katabox store migrate --to postgres://…` copies a
//! redb data directory into PostgreSQL in one transaction (all or
//! nothing), and `katabox store check` counts what each backend holds.
//!
//! The copy is idempotent: every row is written by its key (`ON CONFLICT
//! … DO UPDATE`), and id counters only move forward, so a second copy of
//! the same directory leaves the database as the first one did. A target
//! that already holds data is refused unless the caller says `force`.

use super::{PgStore, exec, get, one, pg_err, put_timer, trip};
use crate::store::redb_store::RedbStore;
use crate::store::tables::*;
use crate::store::{RunRecord, StoreError, StoreResult, TimerRecord};
use deadpool_postgres::GenericClient;
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde::Serialize;

/// How many records of each kind a store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub listeners: u64,
    pub automations: u64,
    pub automation_versions: u64,
    pub packages: u64,
    pub timers: u64,
    pub timer_continuations: u64,
    pub storage_keys: u64,
    pub queues: u64,
    pub queue_items: u64,
    pub continuations: u64,
    pub resources: u64,
    pub named_resources: u64,
    pub metric_definitions: u64,
    pub metric_points: u64,
    pub runs: u64,
    pub webhook_deliveries: u64,
}

impl Inventory {
    /// Records of every kind together.
    pub fn total(&self) -> u64 {
        self.listeners
            + self.automations
            + self.automation_versions
            + self.packages
            + self.timers
            + self.timer_continuations
            + self.storage_keys
            + self.queues
            + self.queue_items
            + self.continuations
            + self.resources
            + self.named_resources
            + self.metric_definitions
            + self.metric_points
            + self.runs
            + self.webhook_deliveries
    }
}

fn redb_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

impl RedbStore {
    /// What the data directory holds.
    pub fn inventory(&self) -> StoreResult<Inventory> {
        let txn = self.db().begin_read()?;
        macro_rules! len {
            ($t:expr) => {
                txn.open_table($t).map_err(redb_err)?.len()?
            };
        }
        Ok(Inventory {
            listeners: len!(LISTENERS),
            automations: len!(AUTOMATIONS),
            automation_versions: len!(AUTOMATION_VERSIONS),
            packages: len!(PACKAGES),
            timers: len!(TIMERS),
            timer_continuations: len!(TIMER_CONTINUATIONS),
            storage_keys: len!(STORAGE),
            queues: len!(QUEUE_DEFS),
            queue_items: len!(QUEUE_ITEMS),
            continuations: len!(CONTINUATIONS),
            resources: len!(RESOURCE_META),
            named_resources: len!(NAMED_RESOURCES),
            metric_definitions: len!(METRIC_DEFS),
            metric_points: len!(METRICS),
            runs: crate::store::segments::count_kept(&txn)?,
            webhook_deliveries: len!(WEBHOOK_DELIVERIES),
        })
    }
}

const TABLES: [&str; 16] = [
    "kb_listeners",
    "kb_automations",
    "kb_automation_versions",
    "kb_packages",
    "kb_timers",
    "kb_timer_continuations",
    "kb_storage",
    "kb_queue_defs",
    "kb_queue_items",
    "kb_continuations",
    "kb_resources",
    "kb_named_resources",
    "kb_metric_defs",
    "kb_metrics",
    "kb_runs",
    "kb_webhook_deliveries",
];

impl PgStore {
    /// What the database holds.
    pub fn inventory(&self) -> StoreResult<Inventory> {
        let n = self.with(|c| async move {
            let mut n = Vec::new();
            for t in TABLES {
                let r = one(&c, &format!("SELECT count(*) FROM {t}"), &[]).await?;
                n.push(get::<i64>(&r, 0)? as u64);
            }
            Ok(n)
        })?;
        Ok(Inventory {
            listeners: n[0],
            automations: n[1],
            automation_versions: n[2],
            packages: n[3],
            timers: n[4],
            timer_continuations: n[5],
            storage_keys: n[6],
            queues: n[7],
            queue_items: n[8],
            continuations: n[9],
            resources: n[10],
            named_resources: n[11],
            metric_definitions: n[12],
            metric_points: n[13],
            runs: n[14],
            webhook_deliveries: n[15],
        })
    }

    /// Copies everything in `src` into this database, in one transaction;
    /// refuses a database that holds data unless `force`. Returns what
    /// was copied.
    pub fn copy_from(&self, src: &RedbStore, force: bool) -> StoreResult<Inventory> {
        src.flush_history();
        let held = self.inventory()?;
        if held.total() > 0 && !force {
            return Err(StoreError::Rejected(format!(
                "{} already holds {} records: pass --force to copy into it anyway (rows with the same keys are replaced)",
                self.url().redacted(),
                held.total()
            )));
        }
        let rows = Snapshot::read(src)?;
        let copied = src.inventory()?;
        in_tx!(self, |tx| {
            rows.write(tx).await?;
            Ok(())
        })?;
        self.invalidate_caches();
        Ok(copied)
    }
}

/// A resource: token, name, MIME type, expiry, bytes.
type ResourceRow = (String, Option<String>, String, i64, Vec<u8>);
/// A queue item: queue, sequence, id, available at, data.
type QueueRow = (String, i64, String, i64, Vec<u8>);

/// Every row of a redb store, read in one read transaction.
#[derive(Default)]
struct Snapshot {
    listeners: Vec<(i64, String, String)>,
    automations: Vec<(i64, String, String)>,
    versions: Vec<(String, i64, String)>,
    packages: Vec<(String, String)>,
    timers: Vec<TimerRecord>,
    timer_continuations: Vec<(String, String)>,
    storage: Vec<(String, i64, Vec<u8>)>,
    queues: Vec<String>,
    queue_items: Vec<QueueRow>,
    continuations: Vec<(String, i64, Vec<u8>)>,
    resources: Vec<ResourceRow>,
    named_resources: Vec<(String, Vec<u8>)>,
    metric_defs: Vec<(String, String)>,
    metrics: Vec<(String, String, i64, f64)>,
    runs: Vec<(RunRecord, String, Option<String>)>,
    deliveries: Vec<(String, i64, i64, Vec<u8>)>,
    counters: Vec<(String, i64)>,
}

fn text(bytes: &[u8]) -> StoreResult<String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// 8 bytes of big-endian expiry, then the wire value.
fn unpack(bytes: &[u8]) -> StoreResult<(i64, Vec<u8>)> {
    let head: [u8; 8] = bytes
        .get(..8)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| StoreError::Corrupt("a packed value is truncated".into()))?;
    Ok((i64::from_be_bytes(head), bytes[8..].to_vec()))
}

impl Snapshot {
    fn read(src: &RedbStore) -> StoreResult<Snapshot> {
        #[derive(serde::Deserialize)]
        struct QueueEntry {
            id: String,
            available_at: i64,
            data: Vec<u8>,
        }
        #[derive(serde::Deserialize)]
        struct ResourceMeta {
            name: Option<String>,
            mime_type: String,
            expires_at: i64,
        }
        #[derive(serde::Deserialize)]
        struct Named {
            id: u64,
        }
        #[derive(serde::Deserialize)]
        struct Guid {
            guid: String,
        }
        let txn = src.db().begin_read()?;
        let mut s = Snapshot::default();
        for item in txn.open_table(LISTENERS).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            let doc = text(v.value())?;
            let g: Guid = serde_json::from_str(&doc)?;
            s.listeners.push((k.value() as i64, g.guid, doc));
        }
        for item in txn.open_table(AUTOMATIONS).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            let doc = text(v.value())?;
            let n: Named = serde_json::from_str(&doc)?;
            s.automations
                .push((n.id as i64, k.value().to_string(), doc));
        }
        for item in txn
            .open_table(AUTOMATION_VERSIONS)
            .map_err(redb_err)?
            .iter()?
        {
            let (k, v) = item?;
            let (name, version) = k.value();
            s.versions
                .push((name.to_string(), version as i64, text(v.value())?));
        }
        for item in txn.open_table(PACKAGES).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            s.packages.push((k.value().to_string(), text(v.value())?));
        }
        for item in txn.open_table(TIMERS).map_err(redb_err)?.iter()? {
            let (_, v) = item?;
            s.timers.push(serde_json::from_slice(v.value())?);
        }
        for item in txn
            .open_table(TIMER_CONTINUATIONS)
            .map_err(redb_err)?
            .iter()?
        {
            let (k, v) = item?;
            s.timer_continuations
                .push((k.value().to_string(), text(v.value())?));
        }
        for item in txn.open_table(STORAGE).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            let (exp, value) = unpack(v.value())?;
            s.storage.push((k.value().to_string(), exp, value));
        }
        for item in txn.open_table(QUEUE_DEFS).map_err(redb_err)?.iter()? {
            let (k, _) = item?;
            s.queues.push(k.value().to_string());
        }
        for item in txn.open_table(QUEUE_ITEMS).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            let (queue, seq) = k.value();
            let e: QueueEntry = serde_json::from_slice(v.value())?;
            s.queue_items
                .push((queue.to_string(), seq as i64, e.id, e.available_at, e.data));
        }
        for item in txn.open_table(CONTINUATIONS).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            let (exp, value) = unpack(v.value())?;
            s.continuations.push((k.value().to_string(), exp, value));
        }
        let bytes = txn.open_table(RESOURCES).map_err(redb_err)?;
        for item in txn.open_table(RESOURCE_META).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            let m: ResourceMeta = serde_json::from_slice(v.value())?;
            let b = bytes
                .get(k.value())?
                .map(|b| b.value().to_vec())
                .unwrap_or_default();
            s.resources
                .push((k.value().to_string(), m.name, m.mime_type, m.expires_at, b));
        }
        for item in txn.open_table(NAMED_RESOURCES).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            s.named_resources
                .push((k.value().to_string(), v.value().to_vec()));
        }
        for item in txn.open_table(METRIC_DEFS).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            s.metric_defs
                .push((k.value().to_string(), text(v.value())?));
        }
        for item in txn.open_table(METRICS).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            let key = k.value();
            let mut parts = key.rsplitn(2, '\u{1f}');
            let ts = parts.next().and_then(|t| t.parse::<i64>().ok());
            let head = parts.next().and_then(|h| h.split_once('\u{1f}'));
            if let (Some(ts), Some((metric, dims))) = (ts, head) {
                s.metrics
                    .push((metric.to_string(), dims.to_string(), ts, v.value()));
            }
        }
        crate::store::runs::for_each_kept(&txn, |run, payload| {
            let doc = serde_json::to_string(&run)?;
            let payload = payload.map(|p| serde_json::to_string(&p)).transpose()?;
            s.runs.push((run, doc, payload));
            Ok(())
        })?;
        for item in txn
            .open_table(WEBHOOK_DELIVERIES)
            .map_err(redb_err)?
            .iter()?
        {
            let (k, v) = item?;
            let key = k.value().to_string();
            let listener = key
                .split(':')
                .next()
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let expires = katabox_verify::DedupeRecord::decode(v.value())
                .map(|r| r.expires_at)
                .unwrap_or(0);
            s.deliveries
                .push((key, listener, expires, v.value().to_vec()));
        }
        for item in txn.open_table(COUNTERS).map_err(redb_err)?.iter()? {
            let (k, v) = item?;
            s.counters.push((k.value().to_string(), v.value() as i64));
        }
        Ok(s)
    }

    async fn write<C: GenericClient>(&self, c: &C) -> StoreResult<()> {
        for (id, guid, doc) in &self.listeners {
            exec(c, "INSERT INTO kb_listeners (id, guid, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET guid = EXCLUDED.guid, doc = EXCLUDED.doc", &[id, guid, doc]).await?;
        }
        for (id, name, doc) in &self.automations {
            exec(c, "INSERT INTO kb_automations (id, name, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, doc = EXCLUDED.doc", &[id, name, doc]).await?;
        }
        for (name, version, doc) in &self.versions {
            exec(c, "INSERT INTO kb_automation_versions (name, version, doc) VALUES ($1, $2, $3) ON CONFLICT (name, version) DO UPDATE SET doc = EXCLUDED.doc", &[name, version, doc]).await?;
        }
        for (key, doc) in &self.packages {
            exec(c, "INSERT INTO kb_packages (key, doc) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET doc = EXCLUDED.doc", &[key, doc]).await?;
        }
        for t in &self.timers {
            put_timer(c, t).await?;
        }
        for (token, doc) in &self.timer_continuations {
            exec(c, "INSERT INTO kb_timer_continuations (token, doc) VALUES ($1, $2) ON CONFLICT (token) DO UPDATE SET doc = EXCLUDED.doc", &[token, doc]).await?;
        }
        for (key, exp, value) in &self.storage {
            exec(c, "INSERT INTO kb_storage (key, expires_at, value) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at, value = EXCLUDED.value", &[key, exp, value]).await?;
        }
        for name in &self.queues {
            exec(
                c,
                "INSERT INTO kb_queue_defs (name) VALUES ($1) ON CONFLICT DO NOTHING",
                &[name],
            )
            .await?;
        }
        for (queue, seq, id, at, data) in &self.queue_items {
            exec(c, "INSERT INTO kb_queue_items (queue, seq, id, available_at, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (queue, seq) DO UPDATE SET id = EXCLUDED.id, available_at = EXCLUDED.available_at, data = EXCLUDED.data", &[queue, seq, id, at, data]).await?;
        }
        for (token, exp, value) in &self.continuations {
            exec(c, "INSERT INTO kb_continuations (token, expires_at, value) VALUES ($1, $2, $3) ON CONFLICT (token) DO UPDATE SET expires_at = EXCLUDED.expires_at, value = EXCLUDED.value", &[token, exp, value]).await?;
        }
        for (token, name, mime, exp, bytes) in &self.resources {
            exec(c, "INSERT INTO kb_resources (token, name, mime_type, expires_at, bytes) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token) DO UPDATE SET name = EXCLUDED.name, mime_type = EXCLUDED.mime_type, expires_at = EXCLUDED.expires_at, bytes = EXCLUDED.bytes", &[token, name, mime, exp, bytes]).await?;
        }
        for (name, bytes) in &self.named_resources {
            exec(c, "INSERT INTO kb_named_resources (name, bytes) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET bytes = EXCLUDED.bytes", &[name, bytes]).await?;
        }
        for (name, dims) in &self.metric_defs {
            exec(c, "INSERT INTO kb_metric_defs (name, dimensions) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET dimensions = EXCLUDED.dimensions", &[name, dims]).await?;
        }
        for (metric, dims, ts, value) in &self.metrics {
            // Replaced, not added: a second copy changes nothing.
            exec(c, "INSERT INTO kb_metrics (metric, dimensions, ts, value) VALUES ($1, $2, $3, $4) ON CONFLICT (metric, dimensions, ts) DO UPDATE SET value = EXCLUDED.value", &[metric, dims, ts, value]).await?;
        }
        for chunk in self.runs.chunks(500) {
            let ids: Vec<i64> = chunk.iter().map(|r| r.0.id as i64).collect();
            let at: Vec<i64> = chunk.iter().map(|r| r.0.at_ms).collect();
            let automation: Vec<Option<String>> =
                chunk.iter().map(|r| r.0.automation.clone()).collect();
            let listener: Vec<Option<i64>> = chunk
                .iter()
                .map(|r| r.0.listener_id.map(|l| l as i64))
                .collect();
            let exit: Vec<String> = chunk.iter().map(|r| r.0.exit.clone()).collect();
            let status: Vec<i32> = chunk.iter().map(|r| i32::from(r.0.status)).collect();
            let trigger: Vec<String> = chunk.iter().map(|r| r.0.trigger.clone()).collect();
            let doc: Vec<String> = chunk.iter().map(|r| r.1.clone()).collect();
            let payload: Vec<Option<String>> = chunk.iter().map(|r| r.2.clone()).collect();
            let parent: Vec<Option<i64>> = chunk
                .iter()
                .map(|r| r.0.parent_id.map(|p| p as i64))
                .collect();
            exec(
                c,
                "INSERT INTO kb_runs (id, at_ms, automation, listener_id, exit, status, trigger, doc, payload, parent_id) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], \
                 $6::integer[], $7::text[], $8::text[], $9::text[], $10::bigint[]) \
                 ON CONFLICT (id) DO UPDATE SET at_ms = EXCLUDED.at_ms, automation = EXCLUDED.automation, \
                 listener_id = EXCLUDED.listener_id, exit = EXCLUDED.exit, status = EXCLUDED.status, \
                 trigger = EXCLUDED.trigger, doc = EXCLUDED.doc, payload = EXCLUDED.payload, \
                 parent_id = EXCLUDED.parent_id",
                &[
                    &ids,
                    &at,
                    &automation,
                    &listener,
                    &exit,
                    &status,
                    &trigger,
                    &doc,
                    &payload,
                    &parent,
                ],
            )
            .await?;
        }
        for (key, listener, exp, record) in &self.deliveries {
            exec(c, "INSERT INTO kb_webhook_deliveries (key, listener_id, expires_at, record) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET listener_id = EXCLUDED.listener_id, expires_at = EXCLUDED.expires_at, record = EXCLUDED.record", &[key, listener, exp, record]).await?;
        }
        for (kind, value) in &self.counters {
            exec(c, "INSERT INTO kb_counters (kind, value) VALUES ($1, $2) ON CONFLICT (kind) DO UPDATE SET value = GREATEST(kb_counters.value, EXCLUDED.value)", &[kind, value]).await?;
        }
        // Every host drops its caches.
        trip();
        c.execute("SELECT pg_notify('katabox_changes', 'migrate')", &[])
            .await
            .map_err(pg_err)?;
        Ok(())
    }
}
