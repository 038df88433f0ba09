//! The embedded store (redb) behind a trait.
//!
//! [`Store`] is the boundary the server, the admin API and package import
//! use; [`RedbStore`] is the one backend. Every logical change is one write
//! transaction: a package import runs entirely inside [`Store::write`], so a
//! failed (or killed) import leaves nothing behind.
//!
//! Files that automations or packages may name live under `files/` in the
//! data directory and are reached only through a cap-std [`cap_std::fs::Dir`]
//! ([`RedbStore::files_dir`]), never through an ambient path.
//!
//! Deliberate deviations from Cerb (webhooks.md §1): a listener created
//! with a blank guid gets 40 lowercase hex characters from a CSPRNG, and a
//! guid another listener already holds is refused (Cerb requires the guid
//! and does not check uniqueness). Guids are looked up exactly (Cerb's
//! database compares case-insensitively).
//!
//! The run history (`runs.rs`) keeps runs by count and age, with
//! indexes for its filters; automations keep their earlier versions.
//! Webhook runs are queued ([`Store::queue_run`]) and committed durably in
//! batches by a background thread (`history.rs`); reading the history waits
//! for the queue, and a crash loses at most the batch being written.

mod data;
pub(crate) mod deliveries;
pub(crate) mod history;
pub(crate) mod lookup_cache;
mod payloads;
pub mod postgres;
mod records;
mod redb_store;
mod run_log;
pub(crate) mod runs;
mod segments;
mod sweep;
pub mod tables;
mod timers;

pub use postgres::{Inventory, PgStore, StoreUrl};
pub use records::{
    AutomationChange, AutomationRow, ChildRecord, ContinuationChange, CreatedRecord, HeaderList,
    ListenerInput, ListenerRecord, PackageRecord, RecordedBody, RecordedRequest, RecordedResponse,
    RunPayload, RunRecord, TimerContinuation, TimerRecord, TimerUpdate,
};
pub use redb_store::{RedbStore, StoreConfig, truncate_cerb};
pub use runs::{BATCH_WINDOW, DAY_MS, HistoryConfig, HistorySave, RunCursor, RunFilter, RunPage};
pub use sweep::{SWEEP_BATCH, SweepReport};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database itself failed (I/O, corruption, a held lock).
    #[error("store: {0}")]
    Db(String),
    /// A stored document could not be decoded.
    #[error("store: corrupt record: {0}")]
    Corrupt(String),
    /// A change was refused (the message is meant for the user).
    #[error("{0}")]
    Rejected(String),
}

macro_rules! db_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self { StoreError::Db(e.to_string()) }
        }
    )*};
}
db_error_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError,
    std::io::Error
);

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// Stores `run` with `put`, then its pending `function:` runs, each with
/// `parent_id` set to its caller's new id; returns the run's id. A child
/// whose caller was not stored is not stored either.
pub fn store_with_children(
    mut run: RunRecord,
    mut put: impl FnMut(RunRecord) -> Option<u64>,
) -> Option<u64> {
    let mut children = std::mem::take(&mut run.children);
    let id = put(run)?;
    children.sort_by_key(|c| c.seq);
    let mut ids = std::collections::HashMap::from([(0usize, id)]);
    for child in children {
        let Some(&parent) = ids.get(&child.parent_seq) else {
            continue;
        };
        let mut rec = child.run;
        rec.parent_id = Some(parent);
        if let Some(child_id) = put(rec) {
            ids.insert(child.seq, child_id);
        }
    }
    Some(id)
}

/// The operations available inside one write transaction ([`Store::write`]).
pub trait WriteTx {
    /// Allocates the next id of a kind (`listener`, `automation`, `timer`).
    fn next_id(&mut self, kind: &str) -> StoreResult<u64>;
    /// The automation with this name, if any (including ones written in this transaction).
    fn automation(&mut self, name: &str) -> StoreResult<Option<AutomationRow>>;
    /// The listener id holding this guid, if any.
    fn guid_owner(&mut self, guid: &str) -> StoreResult<Option<u64>>;
    /// Inserts or replaces an automation (by id; its name index follows).
    fn put_automation(&mut self, row: &AutomationRow) -> StoreResult<()>;
    /// Inserts or replaces a listener (by id; its guid index follows).
    fn put_listener(&mut self, rec: &ListenerRecord) -> StoreResult<()>;
    /// Inserts or replaces a timer.
    fn put_timer(&mut self, rec: &TimerRecord) -> StoreResult<()>;
    /// Whether a package with this key was imported.
    fn package_exists(&mut self, key: &str) -> StoreResult<bool>;
    /// Records an imported package.
    fn put_package(&mut self, rec: &PackageRecord) -> StoreResult<()>;
}

/// The store boundary (one backend today: [`RedbStore`]).
pub trait Store: Send + Sync {
    /// Runs `f` inside one write transaction: committed when `f` returns
    /// `Ok`, rolled back entirely otherwise.
    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()>;

    /// The listener with exactly this guid.
    fn listener_by_guid(&self, guid: &str) -> StoreResult<Option<ListenerRecord>>;
    /// The listener with this id.
    fn listener(&self, id: u64) -> StoreResult<Option<ListenerRecord>>;
    /// Every listener, by id.
    fn listeners(&self) -> StoreResult<Vec<ListenerRecord>>;
    /// Creates a listener (generating the guid when blank; duplicates refused).
    fn create_listener(&self, input: ListenerInput) -> StoreResult<ListenerRecord>;
    /// Replaces a listener's fields; `None` when there is no such id.
    fn update_listener(&self, id: u64, input: ListenerInput)
    -> StoreResult<Option<ListenerRecord>>;
    /// Deletes a listener; false when there was none.
    fn delete_listener(&self, id: u64) -> StoreResult<bool>;

    /// The automation with this name.
    fn automation(&self, name: &str) -> StoreResult<Option<AutomationRow>>;
    /// Every automation, by name.
    fn automations(&self) -> StoreResult<Vec<AutomationRow>>;
    /// Every timer, by id.
    fn timers(&self) -> StoreResult<Vec<TimerRecord>>;
    /// The imported package with this key.
    fn package(&self, key: &str) -> StoreResult<Option<PackageRecord>>;

    /// Appends to the run history (keeping the newest N), durably, now;
    /// returns the run id.
    fn record_run(&self, run: RunRecord) -> StoreResult<u64>;
    /// Appends to the run history in the background (the request path uses
    /// this); [`Store::runs`] sees it. Failures are logged, never returned.
    fn queue_run(&self, run: RunRecord) -> Option<u64> {
        self.record_run(run).ok()
    }
    /// The newest `limit` runs, newest first.
    fn runs(&self, limit: usize) -> StoreResult<Vec<RunRecord>>;
    /// A page of runs passing `filter`, newest first, after `cursor`.
    fn query_runs(
        &self,
        filter: &RunFilter,
        limit: usize,
        cursor: Option<RunCursor>,
    ) -> StoreResult<RunPage>;
    /// One run with its payload.
    fn run(&self, id: u64) -> StoreResult<Option<RunRecord>>;

    /// Changes an automation, keeping its previous version; `None` when
    /// there is no such automation.
    fn update_automation(
        &self,
        name: &str,
        change: &AutomationChange,
    ) -> StoreResult<Option<AutomationRow>>;
    /// Every version of an automation, newest (the current one) first.
    fn automation_versions(&self, name: &str) -> StoreResult<Vec<AutomationRow>>;
    /// One version of an automation (the current one included).
    fn automation_version(&self, name: &str, version: u64) -> StoreResult<Option<AutomationRow>>;

    /// The timer with this id.
    fn timer(&self, id: u64) -> StoreResult<Option<TimerRecord>>;
    /// Creates (id 0) or replaces a timer's own fields (the scheduler's
    /// continuation, lease and fence are kept); returns it as stored.
    fn save_timer(&self, rec: &TimerRecord) -> StoreResult<TimerRecord>;
    /// Claims timer `id` for `owner` until `lease_until` (bumping its
    /// fence) when it is enabled, unleased and — unless `force` — due.
    fn claim_timer(
        &self,
        id: u64,
        owner: &str,
        now: i64,
        lease_until: i64,
        force: bool,
    ) -> StoreResult<Option<TimerRecord>>;
    /// Deletes a timer and its continuation; false when there was none.
    fn delete_timer(&self, id: u64) -> StoreResult<bool>;
    /// Enabled timers due at `now` (`next_run_at <= now`), soonest first.
    fn due_timers(&self, now: i64, limit: usize) -> StoreResult<Vec<TimerRecord>>;
    /// A timer continuation by token.
    fn timer_continuation(&self, token: &str) -> StoreResult<Option<TimerContinuation>>;
    /// Applies a timer run's outcome in one transaction, when `fence` is
    /// still the timer's; false (nothing changed) otherwise.
    fn apply_timer_update(
        &self,
        id: u64,
        fence: u64,
        update: &TimerUpdate,
        now: i64,
    ) -> StoreResult<bool>;

    /// A stored resource's bytes.
    fn resource(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Stores a resource.
    fn put_resource(&self, name: &str, bytes: &[u8]) -> StoreResult<()>;
}

/// Everything the server needs of its store: the [`Store`] boundary, the
/// sandbox's [`DataStore`](crate::capabilities::DataStore), automation
/// lookups, and the few operations around them (dedupe, the expiry
/// sweep, the history queue). [`RedbStore`] and [`PgStore`] implement it;
/// the server holds an `Arc<dyn Backend>`.
pub trait Backend: Store + crate::capabilities::DataStore + Send + Sync {
    /// `redb` or `postgres` (for logs and `/metrics`).
    fn kind(&self) -> &'static str;
    /// The store as the sandbox's source of automations (`automation.*`).
    fn automation_source(
        self: std::sync::Arc<Self>,
    ) -> std::sync::Arc<dyn crate::sandbox::AutomationSource>;
    /// Looks a webhook delivery up and decides; on `Run` the key is claimed.
    fn claim_delivery(
        &self,
        key: &katabox_verify::DedupeKey,
        delivery_id: &str,
        now: i64,
    ) -> StoreResult<katabox_verify::DedupeDecision>;
    /// Stores the first delivery's response for replay, or releases the claim.
    fn complete_delivery(
        &self,
        key: &katabox_verify::DedupeKey,
        response: Option<katabox_verify::StoredResponse>,
    ) -> StoreResult<()>;
    /// Removes expired dedupe records; returns how many.
    fn purge_deliveries(&self, now: i64) -> StoreResult<u64>;
    /// The number of dedupe records.
    fn delivery_count(&self) -> StoreResult<u64>;
    /// Every imported package, by key.
    fn packages(&self) -> StoreResult<Vec<PackageRecord>>;
    /// Deletes expired resources, storage keys and continuations.
    fn sweep_expired(&self, now: i64, batch: usize) -> StoreResult<SweepReport>;
    /// Commits the queued history runs and stops the writer.
    fn flush_history(&self);
    /// Runs queued for the history and not yet committed.
    fn history_queue_depth(&self) -> usize;
    /// Defines a queue (queues are operator-defined).
    fn define_queue(&self, name: &str) -> Result<(), crate::capabilities::DataError>;
    /// Defines a metric and its dimension names.
    fn define_metric(
        &self,
        name: &str,
        dimensions: &[&str],
    ) -> Result<(), crate::capabilities::DataError>;
    /// The sum of all increments of `metric`.
    fn metric_total(&self, metric: &str) -> Result<f64, crate::capabilities::DataError>;
}

impl Backend for RedbStore {
    fn kind(&self) -> &'static str {
        "redb"
    }
    fn automation_source(
        self: std::sync::Arc<Self>,
    ) -> std::sync::Arc<dyn crate::sandbox::AutomationSource> {
        self
    }
    fn claim_delivery(
        &self,
        key: &katabox_verify::DedupeKey,
        delivery_id: &str,
        now: i64,
    ) -> StoreResult<katabox_verify::DedupeDecision> {
        RedbStore::claim_delivery(self, key, delivery_id, now)
    }
    fn complete_delivery(
        &self,
        key: &katabox_verify::DedupeKey,
        response: Option<katabox_verify::StoredResponse>,
    ) -> StoreResult<()> {
        RedbStore::complete_delivery(self, key, response)
    }
    fn purge_deliveries(&self, now: i64) -> StoreResult<u64> {
        RedbStore::purge_deliveries(self, now)
    }
    fn delivery_count(&self) -> StoreResult<u64> {
        RedbStore::delivery_count(self)
    }
    fn packages(&self) -> StoreResult<Vec<PackageRecord>> {
        RedbStore::packages(self)
    }
    fn sweep_expired(&self, now: i64, batch: usize) -> StoreResult<SweepReport> {
        RedbStore::sweep_expired(self, now, batch)
    }
    fn flush_history(&self) {
        RedbStore::flush_history(self)
    }
    fn history_queue_depth(&self) -> usize {
        RedbStore::history_queue_depth(self)
    }
    fn define_queue(&self, name: &str) -> Result<(), crate::capabilities::DataError> {
        RedbStore::define_queue(self, name)
    }
    fn define_metric(
        &self,
        name: &str,
        dimensions: &[&str],
    ) -> Result<(), crate::capabilities::DataError> {
        RedbStore::define_metric(self, name, dimensions)
    }
    fn metric_total(&self, metric: &str) -> Result<f64, crate::capabilities::DataError> {
        RedbStore::metric_total(self, metric)
    }
}

/// Opens the store `serve` was given: PostgreSQL when `url` is set (see
/// [`StoreUrl`]), else redb in `data_dir`.
pub fn open_backend(
    url: Option<&StoreUrl>,
    data_dir: &std::path::Path,
    config: StoreConfig,
) -> StoreResult<std::sync::Arc<dyn Backend>> {
    Ok(match url {
        Some(url) => std::sync::Arc::new(PgStore::open(url, config)?),
        None => std::sync::Arc::new(RedbStore::open(data_dir, config)?),
    })
}

/// Current Unix time in seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Current Unix time in milliseconds.
pub fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh listener guid: 40 lowercase hex characters from the OS CSPRNG.
pub fn generate_guid() -> String {
    use rand::Rng;
    let mut bytes = [0u8; 20];
    // ThreadRng is a CSPRNG (ChaCha, seeded and reseeded from the OS).
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
