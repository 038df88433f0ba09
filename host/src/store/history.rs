//! The run-history writer: runs are queued and written by one background
//! thread, in batches of one durable write transaction each (group commit).
//!
//! A webhook request pays a channel send instead of a redb commit; under
//! load the batches grow, so one fsync covers many runs. The redb store
//! queues runs already encoded ([`EncodedRun`]): the request's worker
//! serialises what it just built, while it is in its cache, and frees it
//! itself. [`HistoryWriter::push`] numbers a run while it holds the queue,
//! so ids grow in queue order and every batch holds ids above the last
//! one's (what the run log's lookups rely on: `run_log.rs`). Reading the
//! history ([`RedbStore::runs`](super::RedbStore)) first waits for
//! everything queued before it, so a run is visible as soon as its request
//! has been answered.
//! Stopping the writer (dropping the store, or [`HistoryWriter::stop`])
//! commits what is queued. A batch gathers runs for `batch_window` (default
//! 10 ms), so a crash loses only the runs answered in the last window.

use super::StoreResult;
use super::runs::{EncodedRun, HistoryConfig, allocate_ids, raise_counter};
use super::segments;
use redb::Database;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Runs the queue holds before senders wait for the writer (backpressure).
const QUEUE: usize = 8192;
/// Runs one transaction writes at most.
pub(super) const BATCH: usize = 1024;
/// Runs (and, separately, payloads) one PostgreSQL prune deletes at most.
pub(super) const PRUNE_BATCH: usize = 2000;
/// How often an idle writer prunes by age.
const IDLE_PRUNE: Duration = Duration::from_secs(60);

enum Msg<T> {
    /// A run, and whom to answer (whether its batch was committed) once
    /// it is written (then the writer commits at once instead of
    /// gathering a batch).
    Run(Box<T>, Option<SyncSender<bool>>),
    /// Answered once every message before it is written.
    Flush(SyncSender<bool>),
}

/// The background writer of the run history, queueing runs as `T`.
pub(super) struct HistoryWriter<T: Send + Default + 'static> {
    queue: Mutex<Option<SyncSender<Msg<T>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Runs queued and not yet committed (the metrics' queue depth).
    depth: Arc<AtomicUsize>,
}

/// Where a [`HistoryWriter`] commits its batches of `T` (redb or PostgreSQL).
pub(super) trait HistorySink<T>: Send + 'static {
    /// Appends `runs` in one durable transaction, numbering them.
    fn write(&self, runs: &mut [T]) -> StoreResult<Vec<u64>>;
    /// One bounded prune by age and count.
    fn prune(&self) -> StoreResult<()>;
}

struct RedbSink {
    db: Arc<Database>,
    config: HistoryConfig,
}

impl HistorySink<EncodedRun> for RedbSink {
    fn write(&self, runs: &mut [EncodedRun]) -> StoreResult<Vec<u64>> {
        write_encoded(&self.db, runs, &self.config)
    }
    fn prune(&self) -> StoreResult<()> {
        prune(&self.db, &self.config)
    }
}

impl HistoryWriter<EncodedRun> {
    /// Starts the writer thread on `db`, keeping what `config` says.
    pub(super) fn start(
        db: Arc<Database>,
        config: HistoryConfig,
    ) -> std::io::Result<HistoryWriter<EncodedRun>> {
        let window = config.batch_window;
        HistoryWriter::start_with(Box::new(RedbSink { db, config }), window)
    }
}

impl<T: Send + Default + 'static> HistoryWriter<T> {
    /// Starts the writer thread on any sink, gathering runs for `window`.
    pub(super) fn start_with(
        sink: Box<dyn HistorySink<T>>,
        window: Duration,
    ) -> std::io::Result<HistoryWriter<T>> {
        let (tx, rx) = sync_channel(QUEUE);
        let depth = Arc::new(AtomicUsize::new(0));
        let written = depth.clone();
        let thread = std::thread::Builder::new()
            .name("katabox-history".into())
            .spawn(move || write_loop(sink.as_ref(), &rx, window, &written))?;
        Ok(HistoryWriter {
            queue: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            depth,
        })
    }

    /// Queues `run`, numbered by `number` while the queue is held (so in
    /// queue order); gives it back when the writer has stopped.
    pub(super) fn push(&self, run: T, number: impl FnOnce(&mut T)) -> Result<(), Box<T>> {
        self.send(run, number, None)
    }

    /// Queues `run` like [`push`](Self::push) and waits until it is
    /// written, which the writer does at once: `Ok(false)` when its batch
    /// could not be committed.
    pub(super) fn push_and_wait(
        &self,
        run: T,
        number: impl FnOnce(&mut T),
    ) -> Result<bool, Box<T>> {
        let (done, wait) = sync_channel(1);
        self.send(run, number, Some(done))?;
        Ok(wait.recv().unwrap_or(false))
    }

    fn send(
        &self,
        run: T,
        number: impl FnOnce(&mut T),
        done: Option<SyncSender<bool>>,
    ) -> Result<(), Box<T>> {
        let mut run = Box::new(run);
        let Ok(queue) = self.queue.lock() else {
            return Err(run);
        };
        match queue.as_ref() {
            Some(tx) => {
                number(&mut run);
                self.depth.fetch_add(1, Ordering::Relaxed);
                tx.send(Msg::Run(run, done)).map_err(|e| {
                    self.depth.fetch_sub(1, Ordering::Relaxed);
                    match e.0 {
                        Msg::Run(run, _) => run,
                        Msg::Flush(_) => Box::default(),
                    }
                })
            }
            None => Err(run),
        }
    }

    /// Runs queued and not yet committed.
    pub(super) fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Waits until every run queued before this call is committed.
    pub(super) fn flush(&self) {
        let (done, wait) = sync_channel(1);
        let sent = match self.queue.lock() {
            Ok(queue) => queue
                .as_ref()
                .is_some_and(|tx| tx.send(Msg::Flush(done)).is_ok()),
            Err(_) => false,
        };
        if sent {
            let _ = wait.recv();
        }
    }

    /// Commits what is queued and stops the thread (idempotent).
    pub(super) fn stop(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl<T: Send + Default + 'static> Drop for HistoryWriter<T> {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_loop<T: 'static>(
    sink: &dyn HistorySink<T>,
    rx: &Receiver<Msg<T>>,
    window: Duration,
    depth: &AtomicUsize,
) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut runs = Vec::new();
    let mut flushes = Vec::new();
    loop {
        let first = match rx.recv_timeout(IDLE_PRUNE) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                // No traffic: runs still age out.
                if let Err(e) = sink.prune() {
                    eprintln!("katabox: warning: pruning the run history failed: {e}");
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        // Let runs gather for the window, then take what is queued (up to a
        // full batch) into one transaction: one fsync for many runs. The
        // writer sleeps instead of waiting on the channel meanwhile, so a
        // request that queues a run does not have to wake it.
        let urgent = matches!(first, Msg::Flush(_) | Msg::Run(_, Some(_)));
        take(first, &mut runs, &mut flushes);
        if !urgent {
            std::thread::sleep(window);
        }
        while runs.len() < BATCH {
            match rx.try_recv() {
                Ok(msg) => take(msg, &mut runs, &mut flushes),
                Err(_) => break,
            }
        }
        let mut committed = true;
        if !runs.is_empty() {
            let count = runs.len();
            if let Err(e) = sink.write(&mut runs) {
                // Never the run's data: only the count and the store's error.
                eprintln!("katabox: warning: {count} runs were not recorded in the history: {e}");
                committed = false;
            }
            runs.clear();
            depth.fetch_sub(count, Ordering::Relaxed);
        }
        for done in flushes.drain(..) {
            let _ = done.send(committed);
        }
    }
}

/// Retention in its own transaction.
fn prune(db: &Database, config: &HistoryConfig) -> StoreResult<()> {
    let txn = db.begin_write()?;
    if segments::retain(&txn, config, super::now_unix_ms())? {
        txn.commit()?;
    } else {
        txn.abort()?;
    }
    Ok(())
}

fn take<T>(msg: Msg<T>, runs: &mut Vec<T>, flushes: &mut Vec<SyncSender<bool>>) {
    match msg {
        Msg::Run(run, done) => {
            runs.push(*run);
            flushes.extend(done);
        }
        Msg::Flush(done) => flushes.push(done),
    }
}

/// Appends `runs` in one durable transaction, numbering those without an
/// id from the stored counter, then drops what `config` no longer keeps
/// (the tests' way of writing runs with given ids and times).
#[cfg(test)]
pub(super) fn write_batch(
    db: &Database,
    runs: &mut [super::RunRecord],
    config: &HistoryConfig,
) -> StoreResult<Vec<u64>> {
    let mut encoded = runs
        .iter()
        .map(EncodedRun::new)
        .collect::<StoreResult<Vec<_>>>()?;
    let ids = write_encoded(db, &mut encoded, config)?;
    for (run, id) in runs.iter_mut().zip(&ids) {
        run.id = *id;
    }
    Ok(ids)
}

/// Appends `runs` in one durable transaction, numbering those without an
/// id (0) from the stored counter in the same transaction, then drops what
/// `config` no longer keeps (whole segments: `segments.rs`).
pub(super) fn write_encoded(
    db: &Database,
    runs: &mut [EncodedRun],
    config: &HistoryConfig,
) -> StoreResult<Vec<u64>> {
    let txn = db.begin_write()?;
    let unnumbered = runs.iter().filter(|r| r.id == 0).count() as u64;
    if unnumbered > 0 {
        let first = allocate_ids(&txn, unnumbered)?;
        for (id, run) in (first..).zip(runs.iter_mut().filter(|r| r.id == 0)) {
            run.id = id;
        }
    }
    segments::append(&txn, runs, config)?;
    if let Some(highest) = runs.iter().map(|r| r.id).max() {
        raise_counter(&txn, highest)?;
    }
    segments::retain(&txn, config, super::now_unix_ms())?;
    txn.commit()?;
    Ok(runs.iter().map(|r| r.id).collect())
}

#[cfg(test)]
mod tests {
    use super::super::RunRecord;
    use super::*;

    /// Run `id` (numbered as the store numbers it when queueing).
    fn run(id: u64, path: &str) -> EncodedRun {
        let run = RunRecord {
            id,
            at_ms: crate::store::now_unix_ms(),
            request_path: path.into(),
            ..RunRecord::default()
        };
        EncodedRun::new(&run).expect("encode")
    }

    fn keep(max_runs: usize) -> HistoryConfig {
        HistoryConfig {
            max_runs,
            ..HistoryConfig::default()
        }
    }

    fn open(dir: &std::path::Path) -> Arc<Database> {
        Arc::new(Database::create(dir.join("h.redb")).expect("db"))
    }

    /// The kept runs, oldest first: `(id, path)`.
    fn stored(db: &Database) -> Vec<(u64, String)> {
        use redb::ReadableDatabase;
        let txn = db.begin_read().expect("read");
        let mut out = Vec::new();
        super::super::runs::for_each_kept(&txn, |r, _| {
            out.push((r.id, r.request_path));
            Ok(())
        })
        .expect("runs");
        out
    }

    #[test]
    fn queued_runs_are_visible_after_flush_in_order() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = open(dir.path());
        let w = HistoryWriter::start(db.clone(), keep(100)).expect("start");
        for i in 0..50 {
            w.push(run(i + 1, &format!("r{i}")), |_| {})
                .expect("queued");
        }
        w.flush();
        let rows = stored(&db);
        assert_eq!(rows.len(), 50);
        assert_eq!(rows[0], (1, "r0".to_string()));
        assert_eq!(rows[49], (50, "r49".to_string()));
    }

    #[test]
    fn retention_keeps_the_newest_runs_across_batches() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = open(dir.path());
        let w = HistoryWriter::start(db.clone(), keep(10)).expect("start");
        for i in 0..35 {
            w.push(run(i + 1, &format!("r{i}")), |_| {})
                .expect("queued");
            if i % 7 == 0 {
                w.flush();
            }
        }
        w.stop();
        let rows = stored(&db);
        let ids: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(ids, (26..=35).collect::<Vec<_>>());
    }

    #[test]
    fn runs_without_an_id_are_numbered_after_the_stored_counter() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = open(dir.path());
        let w = HistoryWriter::start(db.clone(), keep(100)).expect("start");
        w.push(run(7, "queued"), |_| {}).expect("queued");
        w.stop();
        let mut direct = [RunRecord::default(), RunRecord::default()];
        direct
            .iter_mut()
            .for_each(|r| r.at_ms = crate::store::now_unix_ms());
        let ids = write_batch(&db, &mut direct, &keep(100)).expect("write");
        assert_eq!(ids, [8, 9]);
        let ids: Vec<u64> = stored(&db).iter().map(|r| r.0).collect();
        assert_eq!(ids, [7, 8, 9]);
    }

    #[test]
    fn stop_commits_what_is_queued_and_later_pushes_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = open(dir.path());
        let w = HistoryWriter::start(db.clone(), keep(100)).expect("start");
        for i in 0..20 {
            w.push(run(i + 1, &format!("r{i}")), |_| {})
                .expect("queued");
        }
        w.stop();
        assert_eq!(stored(&db).len(), 20);
        let back = w.push(run(21, "late"), |_| {}).expect_err("stopped");
        assert_eq!(back.id, 21);
        w.flush(); // returns at once
    }
}
