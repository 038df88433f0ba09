//! The run history in segments: runs are appended to the newest segment, a
//! set of tables of its own (a run log: `run_log.rs`), and retention drops
//! whole segments with `delete_table` instead of deleting runs one by one.
//!
//! Deleting rows from the front of a redb B-tree rebuilds a leaf page for
//! most deletions once the page is less than half full; pruning run by run
//! cost the writer as much as writing (docs/performance.md, "Session 7").
//! Dropping a table frees its pages without touching its rows.
//!
//! What is kept is exact all the same: a [`Horizon`] hides the runs that
//! retention removed but whose segment still holds newer runs: runs below
//! the count horizon (the oldest id kept, in [`COUNTERS`] as
//! `run_horizon`), runs older than `--history-days`, payloads older than
//! `--history-payload-days`. A segment is dropped once the horizon hides
//! all of it, so the file holds at most the kept runs plus one segment.
//!
//! Data directories written before the run log hold segments of one row
//! per run (`runs`, `run_payloads`, `runs_by_time`, ...; segment 0 is the
//! tables written before segments existed): [`upgrade`] rewrites them into
//! the log when the store is opened.

use super::run_log::{self, LogTables};
use super::runs::{EncodedRun, HistoryConfig};
use super::tables::*;
use super::{RunRecord, StoreError, StoreResult};
use redb::{
    ReadTransaction, ReadableTable, TableDefinition, TableError, TableHandle, WriteTransaction,
};
use serde::{Deserialize, Serialize};

/// Segments the kept history is spread over (a segment holds
/// `max_runs / SEGMENTS` runs, plus the rest of its last batch).
const SEGMENTS: usize = 8;

/// The counter holding the oldest run id kept.
const HORIZON_KEY: &str = "run_horizon";

/// One segment's place in the history (a row of [`RUN_SEGMENTS`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Segment {
    /// Its number: its tables' names end in `@number` (0: the old names).
    #[serde(skip)]
    pub number: u64,
    pub first_id: u64,
    pub last_id: u64,
    pub count: u64,
    /// When its oldest run started.
    pub min_at_ms: i64,
    pub max_at_ms: i64,
    /// Whether its payload tables are still there.
    pub payloads: bool,
    /// Whether it is a run log (false: the layout before it, until
    /// [`upgrade`] rewrites it).
    #[serde(default)]
    pub log: bool,
    /// The widest span of `at_ms` in one of its postings: a posting whose
    /// newest run started more than this after a page's end holds none of
    /// the page's runs.
    #[serde(default)]
    pub spread_ms: i64,
    /// Whether two of its batches hold interleaved ids (see `run_log.rs`).
    #[serde(default)]
    pub interleaved: bool,
}

impl Segment {
    fn empty(number: u64) -> Segment {
        Segment {
            number,
            first_id: u64::MAX,
            last_id: 0,
            count: 0,
            min_at_ms: i64::MAX,
            max_at_ms: i64::MIN,
            payloads: true,
            log: true,
            spread_ms: 0,
            interleaved: false,
        }
    }

    /// Whether run `id` may be in this segment.
    pub(super) fn may_hold(&self, id: u64) -> bool {
        self.first_id <= id && id <= self.last_id
    }

    fn add(&mut self, runs: &[EncodedRun], spread_ms: i64) {
        let lowest = runs.iter().map(|r| r.id).min().unwrap_or(u64::MAX);
        self.interleaved |= self.count > 0 && lowest <= self.last_id;
        self.spread_ms = self.spread_ms.max(spread_ms);
        for run in runs {
            self.first_id = self.first_id.min(run.id);
            self.last_id = self.last_id.max(run.id);
            self.min_at_ms = self.min_at_ms.min(run.at_ms);
            self.max_at_ms = self.max_at_ms.max(run.at_ms);
        }
        self.count += runs.len() as u64;
    }
}

/// The names of one segment's tables.
#[derive(Debug, Clone)]
pub(super) struct SegmentNames {
    pub docs: String,
    pub payload_log: String,
    pub postings: String,
    // The layout before the run log.
    pub runs: String,
    pub payloads: String,
    pub blobs: String,
    /// Only segment 0 has it (blob reference counts, before segments).
    pub blob_refs: String,
    pub by_time: String,
    pub by_automation: String,
    pub by_listener: String,
    pub by_exit: String,
    pub by_parent: String,
}

impl SegmentNames {
    /// The tables of segment `number`.
    pub(super) fn of(number: u64) -> SegmentNames {
        let name = |base: &str| match number {
            0 => base.to_string(),
            n => format!("{base}@{n}"),
        };
        SegmentNames {
            docs: name(RUN_DOCS.name()),
            payload_log: name(RUN_PAYLOAD_LOG.name()),
            postings: name(RUN_POSTINGS.name()),
            runs: name(RUNS.name()),
            payloads: name(RUN_PAYLOADS.name()),
            blobs: name(RUN_PAYLOAD_BLOBS.name()),
            blob_refs: name(RUN_PAYLOAD_BLOB_REFS.name()),
            by_time: name(RUNS_BY_TIME.name()),
            by_automation: name(RUNS_BY_AUTOMATION.name()),
            by_listener: name(RUNS_BY_LISTENER.name()),
            by_exit: name(RUNS_BY_EXIT.name()),
            by_parent: name(RUNS_BY_PARENT.name()),
        }
    }

    fn payload_tables(&self) -> [&str; 4] {
        [
            &self.payload_log,
            &self.payloads,
            &self.blobs,
            &self.blob_refs,
        ]
    }

    /// The tables of the layout before the run log.
    fn before_log(&self) -> [&str; 9] {
        [
            &self.runs,
            &self.payloads,
            &self.blobs,
            &self.blob_refs,
            &self.by_time,
            &self.by_automation,
            &self.by_listener,
            &self.by_exit,
            &self.by_parent,
        ]
    }

    /// Every table a segment may have, in either layout.
    fn all(&self) -> impl Iterator<Item = &str> {
        [self.docs.as_str(), &self.payload_log, &self.postings]
            .into_iter()
            .chain(self.before_log())
    }
}

/// A table's definition by name (the names of [`SegmentNames`]).
pub(super) fn def<K: redb::Key + 'static, V: redb::Value + 'static>(
    name: &str,
) -> TableDefinition<'_, K, V> {
    TableDefinition::new(name)
}

/// What retention hides from readers (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Horizon {
    /// The oldest run id kept.
    pub first_id: u64,
    /// Runs that started before this are gone.
    pub min_at_ms: i64,
    /// Payloads of runs that started before this are gone.
    pub payload_min_at_ms: i64,
}

impl Horizon {
    /// What `config` keeps at `now_ms`, past the stored count horizon.
    pub(super) fn read(
        txn: &ReadTransaction,
        config: &HistoryConfig,
        now_ms: i64,
    ) -> StoreResult<Horizon> {
        Ok(Horizon::at(kept_from(txn)?, config, now_ms))
    }

    fn at(first_id: u64, config: &HistoryConfig, now_ms: i64) -> Horizon {
        Horizon {
            first_id,
            min_at_ms: now_ms.saturating_sub(config.max_age_ms),
            payload_min_at_ms: now_ms.saturating_sub(config.payload_age_ms),
        }
    }

    /// Whether run `id`, started at `at_ms`, is kept.
    pub(super) fn shows(&self, id: u64, at_ms: i64) -> bool {
        id >= self.first_id && at_ms >= self.min_at_ms
    }

    /// Whether a kept run started at `at_ms` still has its payload.
    pub(super) fn shows_payload(&self, at_ms: i64) -> bool {
        at_ms >= self.payload_min_at_ms
    }

    /// Whether any run of `segment` is kept.
    pub(super) fn keeps(&self, segment: &Segment) -> bool {
        segment.last_id >= self.first_id && segment.max_at_ms >= self.min_at_ms
    }
}

/// The oldest run id kept by count (the stored horizon).
pub(super) fn kept_from(txn: &ReadTransaction) -> StoreResult<u64> {
    match txn.open_table(COUNTERS) {
        Ok(t) => stored_horizon(&t),
        Err(TableError::TableDoesNotExist(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

fn stored_horizon(counters: &impl ReadableTable<&'static str, u64>) -> StoreResult<u64> {
    Ok(counters.get(HORIZON_KEY)?.map(|v| v.value()).unwrap_or(0))
}

fn decode(number: u64, raw: &[u8]) -> StoreResult<Segment> {
    let mut segment: Segment = serde_json::from_slice(raw)
        .map_err(|e| StoreError::Corrupt(format!("run history segment {number}: {e}")))?;
    segment.number = number;
    Ok(segment)
}

fn read_all(table: &impl ReadableTable<u64, &'static [u8]>) -> StoreResult<Vec<Segment>> {
    let mut out = Vec::new();
    for item in table.iter()? {
        let (k, v) = item?;
        out.push(decode(k.value(), v.value())?);
    }
    Ok(out)
}

/// The segments, oldest first.
pub(super) fn list(txn: &ReadTransaction) -> StoreResult<Vec<Segment>> {
    match txn.open_table(RUN_SEGMENTS) {
        Ok(t) => read_all(&t),
        Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Runs one segment holds at most before the next is started.
fn segment_size(config: &HistoryConfig) -> u64 {
    (config.max_runs / SEGMENTS).max(1) as u64
}

/// How long one segment may span before the next is started: an eighth
/// of the shorter age limit, so that what expired leaves the file at most
/// that much later (payloads must not outstay `--history-payload-days` on
/// disk when traffic is too low to fill segments by count); but at least
/// 1/64 of `--history-days`, so that age alone keeps at most ≈ 65 segments.
fn segment_span_ms(config: &HistoryConfig) -> i64 {
    let shorter = config.max_age_ms.min(config.payload_age_ms) / SEGMENTS as i64;
    shorter.max(config.max_age_ms / 64).max(1000)
}

/// Whether `segment` takes `runs` too.
fn takes(segment: &Segment, runs: &[EncodedRun], config: &HistoryConfig) -> bool {
    let newest = runs.iter().map(|r| r.at_ms).max().unwrap_or(i64::MIN);
    segment.number > 0
        && segment.payloads
        && segment.count < segment_size(config)
        && newest.saturating_sub(segment.min_at_ms) <= segment_span_ms(config)
}

/// Appends `runs` (numbered) to the newest segment, or to a new one when
/// the newest is full.
pub(super) fn append(
    txn: &WriteTransaction,
    runs: &[EncodedRun],
    config: &HistoryConfig,
) -> StoreResult<()> {
    if runs.is_empty() {
        return Ok(());
    }
    let mut table = txn.open_table(RUN_SEGMENTS)?;
    let newest = match table.last()? {
        Some((k, v)) => Some(decode(k.value(), v.value())?),
        None => None,
    };
    let mut segment = match newest {
        Some(s) if takes(&s, runs, config) => s,
        Some(s) => Segment::empty(s.number + 1),
        None => Segment::empty(1),
    };
    let spread = LogTables::open(txn, &SegmentNames::of(segment.number))?.append(runs)?;
    segment.add(runs, spread);
    table.insert(segment.number, serde_json::to_vec(&segment)?.as_slice())?;
    Ok(())
}

/// Applies retention at `now_ms`: raises the count horizon so that at
/// most `max_runs` runs are kept, drops the segments the horizon hides
/// entirely, and the payload tables of segments whose payloads all
/// expired. Returns whether anything changed.
pub(super) fn retain(
    txn: &WriteTransaction,
    config: &HistoryConfig,
    now_ms: i64,
) -> StoreResult<bool> {
    let mut table = txn.open_table(RUN_SEGMENTS)?;
    let segments = read_all(&table)?;
    let mut counters = txn.open_table(COUNTERS)?;
    let stored = stored_horizon(&counters)?;
    let newest = segments.iter().map(|s| s.last_id).max().unwrap_or(0);
    let by_count = (newest + 1).saturating_sub(config.max_runs.max(1) as u64);
    let mut changed = false;
    if by_count > stored {
        counters.insert(HORIZON_KEY, by_count)?;
        changed = true;
    }
    let horizon = Horizon::at(by_count.max(stored), config, now_ms);
    for mut segment in segments {
        let names = SegmentNames::of(segment.number);
        if !horizon.keeps(&segment) {
            for name in names.all() {
                txn.delete_table(def::<u64, ()>(name))?;
            }
            table.remove(segment.number)?;
            changed = true;
        } else if segment.payloads && !horizon.shows_payload(segment.max_at_ms) {
            for name in names.payload_tables() {
                txn.delete_table(def::<u64, ()>(name))?;
            }
            segment.payloads = false;
            table.insert(segment.number, serde_json::to_vec(&segment)?.as_slice())?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Brings a data directory's history to the run log when the store is
/// opened: every segment still in the layout before the log, and the
/// tables written before segments (as segment 0), is rewritten into it,
/// each run with its payload, then its old tables are deleted.
pub(super) fn upgrade(txn: &WriteTransaction) -> StoreResult<()> {
    let mut old: Vec<Segment> = read_all(&txn.open_table(RUN_SEGMENTS)?)?
        .into_iter()
        .filter(|s| !s.log)
        .collect();
    let legacy = SegmentNames::of(0).runs;
    if txn.list_tables()?.any(|t| t.name() == legacy) && !old.iter().any(|s| s.number == 0) {
        old.insert(0, Segment::empty(0));
    }
    for segment in old {
        rewrite_into_log(txn, segment.number, segment.payloads)?;
    }
    Ok(())
}

/// Rewrites segment `number`, in the layout before the log (its payloads
/// still there when `payloads`), into the log: its row is computed anew
/// from the runs it holds, or dropped with its tables when none is left.
fn rewrite_into_log(txn: &WriteTransaction, number: u64, payloads: bool) -> StoreResult<()> {
    let names = SegmentNames::of(number);
    let mut runs = Vec::new();
    let mut unreadable = 0;
    {
        let docs = txn.open_table(def::<u64, &[u8]>(&names.runs))?;
        let payloads = match payloads {
            true => Some((
                txn.open_table(def::<u64, &[u8]>(&names.payloads))?,
                txn.open_table(def::<u64, &[u8]>(&names.blobs))?,
            )),
            false => None,
        };
        for item in docs.iter()? {
            let (k, v) = item?;
            let Ok(mut run) = serde_json::from_slice::<RunRecord>(v.value()) else {
                unreadable += 1;
                continue;
            };
            run.id = k.value();
            // A payload that cannot be read was never shown: the run keeps
            // its summary, as when its payload expired.
            run.payload = match &payloads {
                Some((rows, blobs)) => match rows.get(k.value())? {
                    Some(row) => super::payloads::resolve(row.value(), blobs)
                        .and_then(|bytes| super::payloads::decode(&bytes))
                        .ok(),
                    None => None,
                },
                None => None,
            };
            runs.push(EncodedRun::new(&run)?);
        }
    }
    if unreadable > 0 {
        eprintln!(
            "katabox: warning: {unreadable} unreadable runs of history segment {number} were dropped"
        );
    }
    let mut table = txn.open_table(RUN_SEGMENTS)?;
    if runs.is_empty() {
        for name in names.all() {
            txn.delete_table(def::<u64, ()>(name))?;
        }
        table.remove(number)?;
        return Ok(());
    }
    let mut rewritten = Segment {
        payloads,
        ..Segment::empty(number)
    };
    {
        let mut log = LogTables::open(txn, &names)?;
        for batch in runs.chunks(super::history::BATCH) {
            let spread = log.append(batch)?;
            rewritten.add(batch, spread);
        }
    }
    for name in names.before_log() {
        txn.delete_table(def::<u64, ()>(name))?;
    }
    if !payloads {
        txn.delete_table(def::<u64, ()>(&names.payload_log))?;
    }
    table.insert(number, serde_json::to_vec(&rewritten)?.as_slice())?;
    Ok(())
}

/// Stored runs past the count horizon, in every segment (what a transfer
/// copies), counted from the time postings.
pub(super) fn count_kept(txn: &ReadTransaction) -> StoreResult<u64> {
    let first_id = kept_from(txn)?;
    let mut count = 0;
    for segment in list(txn)? {
        if segment.first_id >= first_id {
            count += segment.count;
            continue;
        }
        if segment.last_id < first_id {
            continue;
        }
        let names = SegmentNames::of(segment.number);
        let postings = txn.open_table(def::<(&str, i64, u64), &[u8]>(&names.postings))?;
        let time = run_log::PostingKey::Time.name();
        let range = (time.as_str(), i64::MIN, 0)..=(time.as_str(), i64::MAX, u64::MAX);
        for item in postings.range(range)? {
            let (_, v) = item?;
            count += run_log::posting(v.value())?
                .iter()
                .filter(|(_, id)| *id >= first_id)
                .count() as u64;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::super::history::write_batch;
    use super::super::runs::{RunFilter, get, page};
    use super::super::{RecordedBody, RecordedRequest, RunPayload, RunRecord};
    use super::*;
    use redb::{Database, ReadableDatabase};

    fn config(max_runs: usize) -> HistoryConfig {
        HistoryConfig {
            max_runs,
            max_age_ms: i64::MAX,
            payload_age_ms: i64::MAX,
            ..HistoryConfig::default()
        }
    }

    fn run(id: u64, at_ms: i64) -> RunRecord {
        RunRecord {
            id,
            at_ms,
            exit: "return".into(),
            payload: Some(RunPayload {
                request: Some(RecordedRequest {
                    body: RecordedBody::keep(format!("body {id}").as_bytes(), usize::MAX),
                    ..RecordedRequest::default()
                }),
                ..RunPayload::default()
            }),
            ..RunRecord::default()
        }
    }

    fn write(db: &Database, runs: Vec<RunRecord>, config: &HistoryConfig) {
        let mut runs = runs;
        write_batch(db, &mut runs, config).expect("batch");
    }

    fn ids(db: &Database, config: &HistoryConfig, limit: usize) -> Vec<u64> {
        let txn = db.begin_read().expect("read");
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let p = page(&txn, &RunFilter::default(), limit, cursor, config).expect("page");
            out.extend(p.runs.iter().map(|r| r.id));
            match p.next_cursor {
                Some(c) => cursor = Some(c),
                None => return out,
            }
        }
    }

    fn tables(db: &Database) -> usize {
        db.begin_write()
            .expect("txn")
            .list_tables()
            .expect("tables")
            .filter(|t| t.name().contains('@'))
            .count()
    }

    #[test]
    fn the_newest_runs_are_kept_exactly_and_hidden_segments_are_dropped() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = Database::create(dir.path().join("s.redb")).expect("db");
        let keep = config(16); // segments of 2 runs: every batch starts one
        for batch in 0..10u64 {
            let runs = (1..=5).map(|i| run(batch * 5 + i, 1000 + (batch * 5 + i) as i64));
            write(&db, runs.collect(), &keep);
        }
        assert_eq!(ids(&db, &keep, 5), (35..=50).rev().collect::<Vec<_>>());
        let txn = db.begin_read().expect("read");
        let live = list(&txn).expect("segments");
        // 16 kept runs span the 4 newest batches: 31..=35 is half hidden.
        assert_eq!(
            live.iter().map(|s| s.number).collect::<Vec<_>>(),
            [7, 8, 9, 10]
        );
        assert_eq!(tables(&db), 4 * 3, "a dropped segment's tables are gone");
        assert!(
            get(&txn, 34, &keep).expect("get").is_none(),
            "hidden by count"
        );
        let kept = get(&txn, 35, &keep).expect("get").expect("kept");
        let body = kept.payload.and_then(|p| p.request).map(|r| r.body);
        assert_eq!(body, Some(RecordedBody::keep(b"body 35", usize::MAX)));
    }

    #[test]
    fn pages_merge_segments_newest_first_when_batches_interleave() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = Database::create(dir.path().join("s.redb")).expect("db");
        let keep = config(8); // one segment per batch
        write(&db, vec![run(1, 100), run(3, 500), run(5, 300)], &keep);
        write(&db, vec![run(2, 200), run(4, 600), run(6, 400)], &keep);
        assert_eq!(ids(&db, &keep, 4), [4, 3, 6, 5, 2, 1]);
        assert_eq!(ids(&db, &keep, 1), [4, 3, 6, 5, 2, 1], "one run a page");
        let txn = db.begin_read().expect("read");
        for id in 1..=6 {
            let found = get(&txn, id, &keep).expect("get").map(|r| r.id);
            assert_eq!(found, Some(id));
        }
    }

    #[test]
    fn age_hides_payloads_then_runs_and_drops_their_tables() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = Database::create(dir.path().join("s.redb")).expect("db");
        let now = super::super::now_unix_ms();
        let old = now - 3 * super::super::DAY_MS;
        let mut keep = config(8); // one segment per batch
        write(&db, vec![run(1, old)], &keep);
        write(&db, vec![run(2, now)], &keep);
        keep.payload_age_ms = super::super::DAY_MS;
        let txn = db.begin_write().expect("txn");
        assert!(retain(&txn, &keep, now).expect("retain"));
        txn.commit().expect("commit");
        let txn = db.begin_read().expect("read");
        let first = get(&txn, 1, &keep).expect("get").expect("run 1 is kept");
        assert_eq!(first.payload, None, "its payload expired");
        assert!(
            get(&txn, 2, &keep)
                .expect("get")
                .and_then(|r| r.payload)
                .is_some()
        );
        drop(txn);
        assert_eq!(tables(&db), 3 + 2, "segment 1 lost its payload table");

        keep.max_age_ms = 2 * super::super::DAY_MS;
        assert_eq!(ids(&db, &keep, 10), [2], "hidden before it is dropped");
        let txn = db.begin_write().expect("txn");
        assert!(retain(&txn, &keep, now).expect("retain"));
        txn.commit().expect("commit");
        assert_eq!(tables(&db), 3);
        assert_eq!(ids(&db, &keep, 10), [2]);
    }

    #[test]
    fn a_segment_spans_at_most_an_eighth_of_the_shorter_age_limit() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = Database::create(dir.path().join("s.redb")).expect("db");
        let now = super::super::now_unix_ms();
        let keep = HistoryConfig {
            max_age_ms: 64_000,
            payload_age_ms: 16_000, // segments span at most 2 s
            ..config(1_000_000)
        };
        for (id, at) in [(1, now - 5000), (2, now - 3500), (3, now - 2500), (4, now)] {
            write(&db, vec![run(id, at)], &keep);
        }
        let txn = db.begin_read().expect("read");
        let spans: Vec<(u64, u64)> = list(&txn)
            .expect("segments")
            .iter()
            .map(|s| (s.first_id, s.last_id))
            .collect();
        // A quiet history still leaves the file soon after it expires.
        assert_eq!(spans, [(1, 2), (3, 3), (4, 4)]);
    }

    #[test]
    fn expiring_payloads_at_once_does_not_start_a_segment_a_second() {
        let day = super::super::DAY_MS;
        let keep = HistoryConfig {
            max_age_ms: 14 * day,
            payload_age_ms: 0,
            ..config(1_000_000)
        };
        assert_eq!(segment_span_ms(&keep), 14 * day / 64);
        let default = HistoryConfig::default();
        assert_eq!(segment_span_ms(&default), 14 * day / 8);
    }

    #[test]
    fn tables_written_before_segments_become_segment_zero() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = Database::create(dir.path().join("s.redb")).expect("db");
        // The layout of earlier versions: runs and payloads without indexes.
        let txn = db.begin_write().expect("txn");
        {
            let mut runs = txn.open_table(RUNS).expect("runs");
            let mut payloads = txn.open_table(RUN_PAYLOADS).expect("payloads");
            for id in 1..=3u64 {
                let r = run(id, 1000 + id as i64);
                runs.insert(id, serde_json::to_vec(&r).expect("json").as_slice())
                    .expect("insert");
                let json = serde_json::to_vec(&r.payload).expect("json");
                payloads.insert(id, json.as_slice()).expect("insert");
            }
        }
        txn.commit().expect("commit");
        let txn = db.begin_write().expect("txn");
        upgrade(&txn).expect("upgrade");
        txn.commit().expect("commit");

        let keep = config(4);
        assert_eq!(ids(&db, &keep, 10), [3, 2, 1], "rewritten and listed");
        write(&db, vec![run(4, 2000), run(5, 2001)], &keep);
        assert_eq!(ids(&db, &keep, 10), [5, 4, 3, 2]);
        let txn = db.begin_read().expect("read");
        let two = get(&txn, 2, &keep).expect("get").expect("run 2");
        assert!(two.payload.is_some(), "a legacy payload row is read");
        drop(txn);
        write(&db, vec![run(6, 2002), run(7, 2003)], &keep);
        let txn = db.begin_read().expect("read");
        assert!(list(&txn).expect("list").iter().all(|s| s.number > 0));
        assert!(txn.open_table(RUNS).is_err(), "segment 0 was dropped");
    }

    #[test]
    fn batches_that_interleave_in_one_segment_are_still_found() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = Database::create(dir.path().join("s.redb")).expect("db");
        let keep = config(1_000_000); // one segment
        write(&db, vec![run(1, 100), run(3, 500), run(5, 300)], &keep);
        write(&db, vec![run(2, 200), run(4, 600), run(6, 400)], &keep);
        let txn = db.begin_read().expect("read");
        let segments = list(&txn).expect("segments");
        assert_eq!(segments.len(), 1);
        assert!(segments[0].interleaved);
        for id in 1..=6 {
            let found = get(&txn, id, &keep).expect("get").map(|r| r.id);
            assert_eq!(found, Some(id));
        }
        drop(txn);
        assert_eq!(ids(&db, &keep, 2), [4, 3, 6, 5, 2, 1]);
    }

    #[test]
    fn a_page_takes_runs_from_a_batch_that_started_long_before_it_ended() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = Database::create(dir.path().join("s.redb")).expect("db");
        let keep = config(1_000_000);
        // Run 3 started long before the runs queued with it (a slow run).
        write(&db, vec![run(1, 1000), run(2, 1001)], &keep);
        write(&db, vec![run(3, 10), run(4, 5000), run(5, 5001)], &keep);
        write(&db, vec![run(6, 9000)], &keep);
        assert_eq!(ids(&db, &keep, 1), [6, 5, 4, 2, 1, 3]);
        let txn = db.begin_read().expect("read");
        let before = super::super::runs::RunCursor { at_ms: 1001, id: 2 };
        let p = page(&txn, &RunFilter::default(), 10, Some(before), &keep).expect("page");
        let got: Vec<u64> = p.runs.iter().map(|r| r.id).collect();
        assert_eq!(
            got,
            [1, 3],
            "the cursor is older than the batch's newest run"
        );
    }

    #[test]
    fn segments_in_the_layout_before_the_log_are_rewritten_with_their_payloads() {
        use super::super::payloads::PayloadTables;
        let dir = tempfile::tempdir().expect("tmp");
        let db = Database::create(dir.path().join("s.redb")).expect("db");
        let names = SegmentNames::of(1);
        let mut segment = Segment::empty(1);
        let runs: Vec<RunRecord> = (1..=4u64).map(|id| run(id, 1000 + id as i64)).collect();
        let txn = db.begin_write().expect("txn");
        {
            let mut docs = txn.open_table(def::<u64, &[u8]>(&names.runs)).expect("t");
            let encoded: Vec<(u64, Vec<u8>)> = runs
                .iter()
                .map(|r| {
                    (
                        r.id,
                        super::super::payloads::encode(r.payload.as_ref().expect("p")).expect("e"),
                    )
                })
                .collect();
            for r in &runs {
                let doc = RunRecord {
                    payload: None,
                    ..r.clone()
                };
                docs.insert(r.id, serde_json::to_vec(&doc).expect("json").as_slice())
                    .expect("insert");
            }
            let rows: Vec<(u64, &[u8])> = encoded.iter().map(|(i, b)| (*i, b.as_slice())).collect();
            PayloadTables::open(&txn, &names)
                .expect("payloads")
                .insert_all(&rows)
                .expect("insert");
            for name in [&names.by_time, &names.by_exit] {
                txn.open_table(def::<u64, ()>(name)).expect("index");
            }
            segment.first_id = 1;
            segment.last_id = 4;
            segment.count = 4;
            segment.min_at_ms = 1001;
            segment.max_at_ms = 1004;
            // A row as that layout wrote it: without the log's fields.
            let mut row = serde_json::to_value(segment).expect("json");
            for field in ["log", "spread_ms", "interleaved"] {
                row.as_object_mut().expect("object").remove(field);
            }
            let mut t = txn.open_table(RUN_SEGMENTS).expect("segments");
            t.insert(1, serde_json::to_vec(&row).expect("json").as_slice())
                .expect("insert");
        }
        txn.commit().expect("commit");
        let txn = db.begin_write().expect("txn");
        upgrade(&txn).expect("upgrade");
        txn.commit().expect("commit");

        let keep = config(100);
        assert_eq!(ids(&db, &keep, 3), [4, 3, 2, 1]);
        assert_eq!(tables(&db), 3, "only the log's tables are left");
        let txn = db.begin_read().expect("read");
        assert!(list(&txn).expect("list")[0].log);
        for r in &runs {
            let got = get(&txn, r.id, &keep).expect("get").expect("kept");
            assert_eq!(got.payload, r.payload, "run {}", r.id);
            assert_eq!(got.at_ms, r.at_ms);
        }
        assert_eq!(count_kept(&txn).expect("count"), 4);
    }
}
