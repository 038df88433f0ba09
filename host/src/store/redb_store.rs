//! The redb backend of [`Store`].

use super::history::HistoryWriter;
use super::lookup_cache::LookupCache;
use super::runs::{EncodedRun, HistoryConfig, RunFilter, RunPage};
use super::tables::*;
use super::{
    AutomationChange, AutomationRow, ListenerInput, ListenerRecord, PackageRecord, RunRecord,
    Store, StoreError, StoreResult, TimerContinuation, TimerRecord, TimerUpdate, WriteTx,
    generate_guid, now_unix,
};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Tunables of the redb store.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// What the run history keeps and for how long.
    pub history: HistoryConfig,
}

/// The store in a data directory: `katabox.redb` plus `files/`.
pub struct RedbStore {
    db: Arc<Database>,
    dir: PathBuf,
    config: StoreConfig,
    history: HistoryWriter<EncodedRun>,
    lookups: LookupCache,
    /// The last run id handed out: runs are numbered when queued, so the
    /// request log can name a run before the writer commits it.
    run_ids: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore").field("dir", &self.dir).finish()
    }
}

fn to_json<T: Serialize>(v: &T) -> StoreResult<Vec<u8>> {
    Ok(serde_json::to_vec(v)?)
}

fn from_json<T: DeserializeOwned>(b: &[u8]) -> StoreResult<T> {
    Ok(serde_json::from_slice(b)?)
}

impl RedbStore {
    /// Opens (creating when needed) the store in `dir`. Fails when another
    /// process holds the database.
    pub fn open(dir: &Path, config: StoreConfig) -> StoreResult<RedbStore> {
        private_dir(dir)?;
        private_dir(&dir.join("files"))?;
        let path = dir.join("katabox.redb");
        private_file(&path)?;
        let db = Database::create(&path)?;
        let txn = db.begin_write()?;
        {
            txn.open_table(LISTENERS)?;
            txn.open_table(LISTENER_GUIDS)?;
            txn.open_table(AUTOMATIONS)?;
            txn.open_table(AUTOMATION_IDS)?;
            txn.open_table(TIMERS)?;
            txn.open_table(PACKAGES)?;
            txn.open_table(STORAGE)?;
            txn.open_table(QUEUE_ITEMS)?;
            txn.open_table(CONTINUATIONS)?;
            txn.open_table(RESOURCES)?;
            txn.open_table(RESOURCE_META)?;
            txn.open_table(NAMED_RESOURCES)?;
            txn.open_table(QUEUE_DEFS)?;
            txn.open_table(METRIC_DEFS)?;
            txn.open_table(METRICS)?;
            txn.open_table(COUNTERS)?;
            txn.open_table(WEBHOOK_DELIVERIES)?;
            txn.open_table(AUTOMATION_VERSIONS)?;
            txn.open_table(TIMER_CONTINUATIONS)?;
            super::segments::upgrade(&txn)?;
            index_timers_if_needed(&txn)?;
        }
        let last_run = txn
            .open_table(COUNTERS)?
            .get("run")?
            .map(|v| v.value())
            .unwrap_or(0);
        txn.commit()?;
        let db = Arc::new(db);
        let history = HistoryWriter::start(db.clone(), config.history.clone())?;
        Ok(RedbStore {
            db,
            dir: dir.to_path_buf(),
            config,
            history,
            lookups: LookupCache::default(),
            run_ids: std::sync::atomic::AtomicU64::new(last_run),
        })
    }

    /// Commits the runs queued by [`Store::queue_run`] and stops the
    /// history writer; later runs are written directly. Call before the
    /// process exits (dropping the store does the same).
    pub fn flush_history(&self) {
        self.history.stop();
    }

    /// The next run id (ids grow; the writer keeps the stored counter at
    /// the highest id it committed).
    fn next_run_id(&self) -> u64 {
        self.run_ids
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .saturating_add(1)
    }

    /// Queues `run` for the writer, numbered in queue order (and waits
    /// for its commit when `wait`); written directly (numbered from the
    /// stored counter) once the writer stopped.
    fn enqueue(&self, run: EncodedRun, wait: bool) -> StoreResult<u64> {
        let mut id = 0;
        let number = |run: &mut EncodedRun| {
            run.id = self.next_run_id();
            id = run.id;
        };
        let queued = match wait {
            true => self.history.push_and_wait(run, number),
            false => self.history.push(run, number).map(|()| true),
        };
        match queued {
            Ok(true) => Ok(id),
            Ok(false) => Err(StoreError::Db(
                "the run history could not commit the run (the server log has the reason)".into(),
            )),
            Err(run) => {
                let mut run = *run;
                run.id = 0;
                let mut runs = [run];
                let ids = super::history::write_encoded(&self.db, &mut runs, &self.config.history)?;
                ids.first()
                    .copied()
                    .ok_or_else(|| StoreError::Db("the run was not numbered".into()))
            }
        }
    }

    /// Runs queued for the history and not yet committed.
    pub fn history_queue_depth(&self) -> usize {
        self.history.depth()
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The `files/` folder of the data directory as a capability: paths
    /// opened through it cannot escape it.
    pub fn files_dir(&self) -> StoreResult<cap_std::fs::Dir> {
        Ok(cap_std::fs::Dir::open_ambient_dir(
            self.dir.join("files"),
            cap_std::ambient_authority(),
        )?)
    }

    /// The listener with `guid`, read from the database.
    fn read_listener_by_guid(&self, guid: &str) -> StoreResult<Option<ListenerRecord>> {
        let txn = self.db.begin_read()?;
        let guids = txn.open_table(LISTENER_GUIDS)?;
        let Some(id) = guids.get(guid)?.map(|v| v.value()) else {
            return Ok(None);
        };
        let listeners = txn.open_table(LISTENERS)?;
        let found = listeners
            .get(id)?
            .map(|v| from_json(v.value()))
            .transpose()?;
        Ok(found)
    }

    pub(super) fn db(&self) -> &Database {
        &self.db
    }

    fn read_json<K, T>(
        &self,
        def: redb::TableDefinition<K, &[u8]>,
        key: K::SelfType<'_>,
    ) -> StoreResult<Option<T>>
    where
        K: redb::Key + 'static,
        T: DeserializeOwned,
    {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(def)?;
        match table.get(key)? {
            Some(v) => Ok(Some(from_json(v.value())?)),
            None => Ok(None),
        }
    }

    /// Every imported package, by key (the console's packages page).
    pub fn packages(&self) -> StoreResult<Vec<PackageRecord>> {
        self.read_all(PACKAGES)
    }

    fn read_all<K, T>(&self, def: redb::TableDefinition<K, &[u8]>) -> StoreResult<Vec<T>>
    where
        K: redb::Key + 'static,
        T: DeserializeOwned,
    {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(def)?;
        let mut out = Vec::new();
        for item in table.iter()? {
            let (_, v) = item?;
            out.push(from_json(v.value())?);
        }
        Ok(out)
    }
}

/// The write-transaction wrapper handed to [`Store::write`] callers.
struct RedbTx<'a> {
    txn: &'a WriteTransaction,
}

pub(super) fn next_counter(txn: &WriteTransaction, kind: &str) -> StoreResult<u64> {
    let mut t = txn.open_table(COUNTERS)?;
    let next = t.get(kind)?.map(|v| v.value()).unwrap_or(0) + 1;
    t.insert(kind, next)?;
    Ok(next)
}

impl WriteTx for RedbTx<'_> {
    fn next_id(&mut self, kind: &str) -> StoreResult<u64> {
        next_counter(self.txn, kind)
    }

    fn automation(&mut self, name: &str) -> StoreResult<Option<AutomationRow>> {
        let t = self.txn.open_table(AUTOMATIONS)?;
        let found = t.get(name)?.map(|v| from_json(v.value())).transpose()?;
        Ok(found)
    }

    fn guid_owner(&mut self, guid: &str) -> StoreResult<Option<u64>> {
        let t = self.txn.open_table(LISTENER_GUIDS)?;
        let found = t.get(guid)?.map(|v| v.value());
        Ok(found)
    }

    fn put_automation(&mut self, row: &AutomationRow) -> StoreResult<()> {
        let mut ids = self.txn.open_table(AUTOMATION_IDS)?;
        let mut autos = self.txn.open_table(AUTOMATIONS)?;
        // Never replace another record's row under the same name.
        let owner: Option<AutomationRow> = autos
            .get(row.name.as_str())?
            .map(|v| from_json(v.value()))
            .transpose()?;
        if owner.is_some_and(|o| o.id != row.id) {
            return Err(StoreError::Rejected(format!(
                "A record already exists with this 'name' ({}). It must be unique.",
                row.name
            )));
        }
        let old = ids.get(row.id)?.map(|v| v.value().to_string());
        if let Some(old) = old
            && old != row.name
        {
            autos.remove(old.as_str())?;
        }
        ids.insert(row.id, row.name.as_str())?;
        autos.insert(row.name.as_str(), to_json(row)?.as_slice())?;
        Ok(())
    }

    fn put_listener(&mut self, rec: &ListenerRecord) -> StoreResult<()> {
        put_listener(self.txn, rec)
    }

    fn put_timer(&mut self, rec: &TimerRecord) -> StoreResult<()> {
        super::timers::put(self.txn, rec)
    }

    fn package_exists(&mut self, key: &str) -> StoreResult<bool> {
        let t = self.txn.open_table(PACKAGES)?;
        let found = t.get(key)?.is_some();
        Ok(found)
    }

    fn put_package(&mut self, rec: &PackageRecord) -> StoreResult<()> {
        let mut t = self.txn.open_table(PACKAGES)?;
        t.insert(rec.key.as_str(), to_json(rec)?.as_slice())?;
        Ok(())
    }
}

/// Creates a directory (and its missing parents) readable by this user
/// only (mode 0700 whatever the umask); an existing one keeps its mode.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Creates an empty file with mode 0600 unless it exists (the database
/// is then opened in it, keeping that mode).
fn private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Fills the due index of timers stored before it existed.
fn index_timers_if_needed(txn: &WriteTransaction) -> StoreResult<()> {
    let mut due = txn.open_table(TIMERS_DUE)?;
    let timers = txn.open_table(TIMERS)?;
    if !due.is_empty()? || timers.is_empty()? {
        return Ok(());
    }
    for item in timers.iter()? {
        let (_, v) = item?;
        let t: TimerRecord = from_json(v.value())?;
        if !t.is_disabled {
            due.insert((t.next_run_at, t.id), ())?;
        }
    }
    Ok(())
}

fn put_listener(txn: &WriteTransaction, rec: &ListenerRecord) -> StoreResult<()> {
    let mut listeners = txn.open_table(LISTENERS)?;
    let mut guids = txn.open_table(LISTENER_GUIDS)?;
    let old: Option<ListenerRecord> = listeners
        .get(rec.id)?
        .map(|v| from_json(v.value()))
        .transpose()?;
    if let Some(old) = old
        && old.guid != rec.guid
    {
        guids.remove(old.guid.as_str())?;
    }
    if !rec.guid.is_empty() {
        guids.insert(rec.guid.as_str(), rec.id)?;
    }
    listeners.insert(rec.id, to_json(rec)?.as_slice())?;
    Ok(())
}

/// Truncates to `max` characters the way Cerb does (max − 3 plus `...`).
pub fn truncate_cerb(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// Checks and normalises a listener input (name required, guid generated
/// when blank, lengths as Cerb truncates them).
pub(super) fn listener_from_input(id: u64, input: ListenerInput) -> StoreResult<ListenerRecord> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(StoreError::Rejected("'name' is required.".into()));
    }
    let guid = if input.guid.trim().is_empty() {
        generate_guid()
    } else {
        truncate_cerb(&input.guid, 40)
    };
    Ok(ListenerRecord {
        id,
        name: truncate_cerb(&name, 255),
        guid,
        automations_kata: input.automations_kata,
        updated_at: now_unix(),
        body_limit: input.body_limit,
        verify: input.verify,
        is_disabled: input.is_disabled.unwrap_or(false),
    })
}

pub(super) fn duplicate_guid(guid: &str) -> StoreError {
    StoreError::Rejected(format!(
        "A webhook listener already exists with this 'guid' ({guid}). It must be unique."
    ))
}

impl Store for RedbStore {
    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()> {
        let txn = self.db.begin_write()?;
        let result = {
            let mut tx = RedbTx { txn: &txn };
            f(&mut tx)
        };
        match result {
            Ok(()) => {
                txn.commit()?;
                self.lookups.invalidate();
                Ok(())
            }
            Err(e) => {
                txn.abort()?;
                Err(e)
            }
        }
    }

    fn listener_by_guid(&self, guid: &str) -> StoreResult<Option<ListenerRecord>> {
        self.lookups
            .listener(guid, || self.read_listener_by_guid(guid))
    }

    fn listener(&self, id: u64) -> StoreResult<Option<ListenerRecord>> {
        self.read_json(LISTENERS, id)
    }

    fn listeners(&self) -> StoreResult<Vec<ListenerRecord>> {
        self.read_all(LISTENERS)
    }

    fn create_listener(&self, input: ListenerInput) -> StoreResult<ListenerRecord> {
        let txn = self.db.begin_write()?;
        let id = next_counter(&txn, "listener")?;
        let rec = listener_from_input(id, input)?;
        if txn
            .open_table(LISTENER_GUIDS)?
            .get(rec.guid.as_str())?
            .is_some()
        {
            txn.abort()?;
            return Err(duplicate_guid(&rec.guid));
        }
        put_listener(&txn, &rec)?;
        txn.commit()?;
        self.lookups.invalidate();
        Ok(rec)
    }

    fn update_listener(
        &self,
        id: u64,
        input: ListenerInput,
    ) -> StoreResult<Option<ListenerRecord>> {
        let txn = self.db.begin_write()?;
        let existing: Option<ListenerRecord> = txn
            .open_table(LISTENERS)?
            .get(id)?
            .map(|v| from_json(v.value()))
            .transpose()?;
        let Some(existing) = existing else {
            txn.abort()?;
            return Ok(None);
        };
        let mut input = input;
        if input.guid.trim().is_empty() {
            input.guid = existing.guid.clone();
        }
        if input.is_disabled.is_none() {
            input.is_disabled = Some(existing.is_disabled);
        }
        let rec = listener_from_input(id, input)?;
        let owner = txn
            .open_table(LISTENER_GUIDS)?
            .get(rec.guid.as_str())?
            .map(|v| v.value());
        if owner.is_some_and(|o| o != id) {
            txn.abort()?;
            return Err(duplicate_guid(&rec.guid));
        }
        put_listener(&txn, &rec)?;
        txn.commit()?;
        self.lookups.invalidate();
        Ok(Some(rec))
    }

    fn delete_listener(&self, id: u64) -> StoreResult<bool> {
        let txn = self.db.begin_write()?;
        let removed = {
            let mut listeners = txn.open_table(LISTENERS)?;
            let old: Option<ListenerRecord> = listeners
                .remove(id)?
                .map(|v| from_json(v.value()))
                .transpose()?;
            if let Some(old) = &old {
                txn.open_table(LISTENER_GUIDS)?.remove(old.guid.as_str())?;
                super::deliveries::remove_listener_deliveries(&txn, id)?;
            }
            old.is_some()
        };
        txn.commit()?;
        self.lookups.invalidate();
        Ok(removed)
    }

    fn automation(&self, name: &str) -> StoreResult<Option<AutomationRow>> {
        self.lookups
            .automation(name, || self.read_json(AUTOMATIONS, name))
    }

    fn automations(&self) -> StoreResult<Vec<AutomationRow>> {
        self.read_all(AUTOMATIONS)
    }

    fn timers(&self) -> StoreResult<Vec<TimerRecord>> {
        self.read_all(TIMERS)
    }

    fn package(&self, key: &str) -> StoreResult<Option<PackageRecord>> {
        self.read_json(PACKAGES, key)
    }

    fn record_run(&self, run: RunRecord) -> StoreResult<u64> {
        // Recorded means committed: the writer commits it at once.
        self.enqueue(EncodedRun::new(&run)?, true)
    }

    fn queue_run(&self, run: RunRecord) -> Option<u64> {
        if !self.config.history.save.keeps(&run) {
            return None;
        }
        // Encoded here, on the request's worker, which built the run.
        let encoded = EncodedRun::new(&run);
        drop(run);
        match encoded.and_then(|encoded| self.enqueue(encoded, false)) {
            Ok(id) => Some(id),
            Err(e) => {
                eprintln!("katabox: warning: a run was not recorded in the history: {e}");
                None
            }
        }
    }

    fn runs(&self, limit: usize) -> StoreResult<Vec<RunRecord>> {
        Ok(self.query_runs(&RunFilter::default(), limit, None)?.runs)
    }

    fn query_runs(
        &self,
        filter: &RunFilter,
        limit: usize,
        cursor: Option<super::RunCursor>,
    ) -> StoreResult<RunPage> {
        self.history.flush();
        let txn = self.db.begin_read()?;
        super::runs::page(&txn, filter, limit, cursor, &self.config.history)
    }

    fn run(&self, id: u64) -> StoreResult<Option<RunRecord>> {
        self.history.flush();
        let txn = self.db.begin_read()?;
        super::runs::get(&txn, id, &self.config.history)
    }

    fn update_automation(
        &self,
        name: &str,
        change: &AutomationChange,
    ) -> StoreResult<Option<AutomationRow>> {
        let txn = self.db.begin_write()?;
        let updated = {
            let mut autos = txn.open_table(AUTOMATIONS)?;
            let current: Option<AutomationRow> =
                autos.get(name)?.map(|v| from_json(v.value())).transpose()?;
            match current {
                None => None,
                Some(current) => {
                    let next = change.apply(&current, now_unix());
                    let mut versions = txn.open_table(AUTOMATION_VERSIONS)?;
                    versions.insert((name, current.version), to_json(&current)?.as_slice())?;
                    autos.insert(name, to_json(&next)?.as_slice())?;
                    Some(next)
                }
            }
        };
        if updated.is_some() {
            txn.commit()?;
            self.lookups.invalidate();
        }
        Ok(updated)
    }

    fn automation_versions(&self, name: &str) -> StoreResult<Vec<AutomationRow>> {
        let txn = self.db.begin_read()?;
        let autos = txn.open_table(AUTOMATIONS)?;
        let Some(current) = autos
            .get(name)?
            .map(|v| from_json::<AutomationRow>(v.value()))
        else {
            return Ok(Vec::new());
        };
        let mut out = vec![current?];
        let versions = txn.open_table(AUTOMATION_VERSIONS)?;
        for item in versions.range((name, 0)..=(name, u64::MAX))?.rev() {
            let (_, v) = item?;
            out.push(from_json(v.value())?);
        }
        Ok(out)
    }

    fn automation_version(&self, name: &str, version: u64) -> StoreResult<Option<AutomationRow>> {
        let txn = self.db.begin_read()?;
        let autos = txn.open_table(AUTOMATIONS)?;
        let current: Option<AutomationRow> =
            autos.get(name)?.map(|v| from_json(v.value())).transpose()?;
        if let Some(current) = current
            && current.version == version
        {
            return Ok(Some(current));
        }
        let versions = txn.open_table(AUTOMATION_VERSIONS)?;
        let found = versions
            .get((name, version))?
            .map(|v| from_json(v.value()))
            .transpose()?;
        Ok(found)
    }

    fn timer(&self, id: u64) -> StoreResult<Option<TimerRecord>> {
        self.read_json(TIMERS, id)
    }

    fn save_timer(&self, rec: &TimerRecord) -> StoreResult<TimerRecord> {
        let txn = self.db.begin_write()?;
        let saved = super::timers::save(&txn, rec, || next_counter(&txn, "timer"), now_unix())?;
        let Some(saved) = saved else {
            return Err(StoreError::Rejected(format!("no timer with id {}", rec.id)));
        };
        txn.commit()?;
        Ok(saved)
    }

    fn claim_timer(
        &self,
        id: u64,
        owner: &str,
        now: i64,
        lease_until: i64,
        force: bool,
    ) -> StoreResult<Option<TimerRecord>> {
        let txn = self.db.begin_write()?;
        let claimed = super::timers::claim(&txn, id, owner, now, lease_until, force)?;
        txn.commit()?;
        Ok(claimed)
    }

    fn delete_timer(&self, id: u64) -> StoreResult<bool> {
        let txn = self.db.begin_write()?;
        let deleted = super::timers::delete(&txn, id)?;
        txn.commit()?;
        Ok(deleted)
    }

    fn due_timers(&self, now: i64, limit: usize) -> StoreResult<Vec<TimerRecord>> {
        let txn = self.db.begin_read()?;
        super::timers::due(&txn, now, limit)
    }

    fn timer_continuation(&self, token: &str) -> StoreResult<Option<TimerContinuation>> {
        let txn = self.db.begin_read()?;
        super::timers::continuation(&txn, token)
    }

    fn apply_timer_update(
        &self,
        id: u64,
        fence: u64,
        update: &TimerUpdate,
        now: i64,
    ) -> StoreResult<bool> {
        let txn = self.db.begin_write()?;
        let applied = super::timers::apply(&txn, id, fence, update, now)?;
        txn.commit()?;
        Ok(applied)
    }

    fn resource(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(NAMED_RESOURCES)?;
        let found = t.get(name)?.map(|v| v.value().to_vec());
        Ok(found)
    }

    fn put_resource(&self, name: &str, bytes: &[u8]) -> StoreResult<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(NAMED_RESOURCES)?.insert(name, bytes)?;
        txn.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_queued_from_many_threads_are_numbered_in_queue_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = RedbStore::open(dir.path(), StoreConfig::default()).expect("open");
        let ids: Vec<u64> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..8)
                .map(|t| {
                    let store = &store;
                    s.spawn(move || {
                        (0..300)
                            .filter_map(|i| {
                                store.queue_run(RunRecord {
                                    at_ms: super::super::now_unix_ms(),
                                    request_path: format!("/t{t}/{i}"),
                                    exit: "return".into(),
                                    ..RunRecord::default()
                                })
                            })
                            .collect::<Vec<u64>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("worker"))
                .collect()
        });
        assert_eq!(ids.len(), 2400);
        store.history.flush();
        let txn = store.db.begin_read().expect("read");
        let segments = super::super::segments::list(&txn).expect("segments");
        assert!(
            segments.iter().all(|s| !s.interleaved),
            "every batch holds ids above the last one's: {segments:?}"
        );
        drop(txn);
        for id in ids {
            let run = store.run(id).expect("run").expect("stored");
            assert_eq!(run.id, id);
        }
        let page = store.runs(5000).expect("runs");
        assert_eq!(page.len(), 2400);
    }
}
