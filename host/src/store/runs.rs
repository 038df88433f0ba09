//! The run history's tables: runs written with their indexes into the
//! newest segment (`segments.rs`), pages read by filter through an index
//! (never a scan of the whole history).
//!
//! Every index is keyed `(…, at_ms, id)`, so a page is a reverse range
//! over one index of each segment (the automation's, the listener's, the
//! exit's, or time's when none of those is filtered), merged newest first.
//! The other filters are checked on the runs the ranges yield. A cursor is
//! the `(at_ms, id)` of the last run of a page; runs that arrive while a
//! client pages are newer than its cursor and never shift the pages after
//! it.

use super::payloads::{self, PayloadTables, resolve};
use super::segments::{self, Horizon, SegmentNames, def};
use super::tables::*;
use super::{RunPayload, RunRecord, StoreError, StoreResult, now_unix_ms};
use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, Table, WriteTransaction};
use std::fmt;
use std::str::FromStr;

/// What the history keeps and for how long (`serve --history-*`).
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    /// Runs kept at most (default 100,000): the oldest are pruned.
    pub max_runs: usize,
    /// Runs older than this are pruned (default 14 days).
    pub max_age_ms: i64,
    /// Payloads (request, response, inputs, return) older than this are
    /// pruned while the run's summary stays (default 14 days).
    pub payload_age_ms: i64,
    /// Which webhook runs are saved at all.
    pub save: HistorySave,
    /// How long the writer gathers runs before one durable commit (a crash
    /// loses at most the runs answered in the last window).
    pub batch_window: std::time::Duration,
}

/// The default [`HistoryConfig::batch_window`].
pub const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(10);

/// A day in milliseconds.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            max_runs: 100_000,
            max_age_ms: 14 * DAY_MS,
            payload_age_ms: 14 * DAY_MS,
            save: HistorySave::All,
            batch_window: BATCH_WINDOW,
        }
    }
}

/// `--history-save`: which runs the request path records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistorySave {
    /// Every run.
    #[default]
    All,
    /// Runs that ended in `error`, failed, or answered 5xx.
    Errors,
    /// None (replays are still recorded: they are asked for).
    None,
}

impl FromStr for HistorySave {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(HistorySave::All),
            "errors" => Ok(HistorySave::Errors),
            "none" => Ok(HistorySave::None),
            _ => Err(format!("expected all, errors or none, not {s:?}")),
        }
    }
}

impl HistorySave {
    /// Whether a run of the request path is recorded.
    pub fn keeps(self, run: &RunRecord) -> bool {
        match self {
            HistorySave::All => true,
            HistorySave::Errors => run.exit == "error" || run.error.is_some() || run.status >= 500,
            HistorySave::None => false,
        }
    }
}

/// The filters of `GET /api/runs` (all optional, combined with "and").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub automation: Option<String>,
    pub listener: Option<u64>,
    pub exit: Option<String>,
    pub status: Option<u16>,
    pub trigger: Option<String>,
    /// Runs at or after this Unix time in ms.
    pub since_ms: Option<i64>,
    /// Runs at or before this Unix time in ms.
    pub until_ms: Option<i64>,
    /// The `function:` runs this run started.
    pub parent: Option<u64>,
}

impl RunFilter {
    /// Whether `run` passes every filter.
    pub fn matches(&self, run: &RunRecord) -> bool {
        self.automation
            .as_deref()
            .is_none_or(|a| run.automation.as_deref() == Some(a))
            && self.listener.is_none_or(|l| run.listener_id == Some(l))
            && self.parent.is_none_or(|p| run.parent_id == Some(p))
            && self.exit.as_deref().is_none_or(|e| run.exit == e)
            && self.status.is_none_or(|s| run.status == s)
            && self.trigger.as_deref().is_none_or(|t| run.trigger == t)
            && self.since_ms.is_none_or(|s| run.at_ms >= s)
            && self.until_ms.is_none_or(|u| run.at_ms <= u)
    }
}

/// Where the next page starts: the `(at_ms, id)` of the last run shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunCursor {
    pub at_ms: i64,
    pub id: u64,
}

impl fmt::Display for RunCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.at_ms, self.id)
    }
}

impl FromStr for RunCursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("Invalid cursor {s:?}.");
        let (at, id) = s.split_once('.').ok_or_else(bad)?;
        Ok(RunCursor {
            at_ms: at.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// One page of runs, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunPage {
    pub runs: Vec<RunRecord>,
    /// Set when more runs may follow.
    pub next_cursor: Option<RunCursor>,
}

/// Index entries one page may look at before it answers (with fewer runs
/// than asked and a cursor to go on from) when the filters are rare.
const SCAN_LIMIT: usize = 20_000;

/// A run as the redb history stores it: its index keys and its JSON,
/// encoded where the run was built (see `history.rs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct EncodedRun {
    pub id: u64,
    pub at_ms: i64,
    pub automation: Option<String>,
    pub listener_id: Option<u64>,
    pub exit: String,
    pub parent_id: Option<u64>,
    /// The JSON [`RunRecord`] (without its payload).
    pub doc: Vec<u8>,
    /// The [`RunPayload`], encoded by `payloads::encode`.
    pub payload: Option<Vec<u8>>,
}

impl EncodedRun {
    /// Encodes `run` (numbered: its id is part of the JSON).
    pub(super) fn new(run: &RunRecord) -> StoreResult<EncodedRun> {
        Ok(EncodedRun {
            id: run.id,
            at_ms: run.at_ms,
            automation: run.automation.clone(),
            listener_id: run.listener_id,
            exit: run.exit.clone(),
            parent_id: run.parent_id,
            doc: serde_json::to_vec(run)?,
            payload: run.payload.as_ref().map(payloads::encode).transpose()?,
        })
    }
}

/// The tables of one history segment in a write transaction.
pub(super) struct RunTables<'t> {
    runs: Table<'t, u64, &'static [u8]>,
    payloads: PayloadTables<'t>,
    by_time: Table<'t, (i64, u64), ()>,
    by_automation: Table<'t, (&'static str, i64, u64), ()>,
    by_listener: Table<'t, (u64, i64, u64), ()>,
    by_exit: Table<'t, (&'static str, i64, u64), ()>,
    by_parent: Table<'t, (u64, i64, u64), ()>,
}

impl<'t> RunTables<'t> {
    /// Opens (creating) the tables of segment `segment`.
    pub(super) fn open(txn: &'t WriteTransaction, segment: u64) -> StoreResult<RunTables<'t>> {
        let n = SegmentNames::of(segment);
        Ok(RunTables {
            runs: txn.open_table(def(&n.runs))?,
            payloads: PayloadTables::open(txn, &n)?,
            by_time: txn.open_table(def(&n.by_time))?,
            by_automation: txn.open_table(def(&n.by_automation))?,
            by_listener: txn.open_table(def(&n.by_listener))?,
            by_exit: txn.open_table(def(&n.by_exit))?,
            by_parent: txn.open_table(def(&n.by_parent))?,
        })
    }

    /// Stores `runs` (already numbered) with their index entries, and
    /// their payloads together (see `payloads.rs`).
    pub(super) fn insert_all(&mut self, runs: &[EncodedRun]) -> StoreResult<()> {
        let mut payloads = Vec::new();
        for run in runs {
            self.runs.insert(run.id, run.doc.as_slice())?;
            if let Some(payload) = &run.payload {
                payloads.push((run.id, payload.as_slice()));
            }
            self.index(run)?;
        }
        self.payloads.insert_all(&payloads)
    }

    fn index(&mut self, run: &EncodedRun) -> StoreResult<()> {
        let (at, id) = (run.at_ms, run.id);
        self.by_time.insert((at, id), ())?;
        if let Some(a) = &run.automation {
            self.by_automation.insert((a.as_str(), at, id), ())?;
        }
        if let Some(l) = run.listener_id {
            self.by_listener.insert((l, at, id), ())?;
        }
        self.by_exit.insert((run.exit.as_str(), at, id), ())?;
        if let Some(p) = run.parent_id {
            self.by_parent.insert((p, at, id), ())?;
        }
        Ok(())
    }

    /// Rebuilds the index entries of every stored run (a data directory
    /// written before the indexes existed).
    pub(super) fn reindex_if_needed(&mut self) -> StoreResult<()> {
        if !self.by_time.is_empty()? || self.runs.is_empty()? {
            return Ok(());
        }
        let mut all = Vec::new();
        for item in self.runs.iter()? {
            let (_, v) = item?;
            if let Ok(run) = serde_json::from_slice::<RunRecord>(v.value()) {
                all.push(run);
            }
        }
        for run in &all {
            self.index(&EncodedRun::new(run)?)?;
        }
        Ok(())
    }
}

/// Allocates `n` consecutive run ids; returns the first.
pub(super) fn allocate_ids(txn: &WriteTransaction, n: u64) -> StoreResult<u64> {
    let mut t = txn.open_table(COUNTERS)?;
    let first = t.get("run")?.map(|v| v.value()).unwrap_or(0) + 1;
    t.insert("run", first + n.saturating_sub(1))?;
    Ok(first)
}

/// Raises the stored run counter to `id` (never lowers it).
pub(super) fn raise_counter(txn: &WriteTransaction, id: u64) -> StoreResult<()> {
    let mut t = txn.open_table(COUNTERS)?;
    let current = t.get("run")?.map(|v| v.value()).unwrap_or(0);
    if id > current {
        t.insert("run", id)?;
    }
    Ok(())
}

/// One kept run with its payload (when kept too).
pub(super) fn get(
    txn: &ReadTransaction,
    id: u64,
    config: &HistoryConfig,
) -> StoreResult<Option<RunRecord>> {
    let horizon = Horizon::read(txn, config, now_unix_ms())?;
    if id < horizon.first_id {
        return Ok(None);
    }
    // Batches can interleave ids, so neighbouring segments may overlap.
    for segment in segments::list(txn)?.iter().rev().filter(|s| s.may_hold(id)) {
        let names = SegmentNames::of(segment.number);
        let runs = txn.open_table(def::<u64, &[u8]>(&names.runs))?;
        let Some(raw) = runs.get(id)? else {
            continue;
        };
        let mut run: RunRecord = serde_json::from_slice(raw.value())?;
        if !horizon.shows(id, run.at_ms) {
            return Ok(None);
        }
        if segment.payloads && horizon.shows_payload(run.at_ms) {
            run.payload = PayloadReader::open(txn, &names)?.get(id)?;
        }
        return Ok(Some(run));
    }
    Ok(None)
}

/// A segment's payload tables in a read transaction, opened once.
struct PayloadReader {
    rows: redb::ReadOnlyTable<u64, &'static [u8]>,
    blobs: redb::ReadOnlyTable<u64, &'static [u8]>,
}

impl PayloadReader {
    fn open(txn: &ReadTransaction, names: &SegmentNames) -> StoreResult<PayloadReader> {
        Ok(PayloadReader {
            rows: txn.open_table(def(&names.payloads))?,
            blobs: txn.open_table(def(&names.blobs))?,
        })
    }

    /// Run `id`'s payload.
    fn get(&self, id: u64) -> StoreResult<Option<RunPayload>> {
        match self.rows.get(id)? {
            Some(row) => Ok(Some(payloads::decode(&resolve(row.value(), &self.blobs)?)?)),
            None => Ok(None),
        }
    }
}

/// Every stored run past the count horizon, oldest segment first, with
/// its stored JSON and its payload (what a transfer copies).
pub(super) fn for_each_kept(
    txn: &ReadTransaction,
    mut each: impl FnMut(u64, &[u8], Option<RunPayload>) -> StoreResult<()>,
) -> StoreResult<()> {
    let first_id = segments::kept_from(txn)?;
    for segment in segments::list(txn)? {
        let names = SegmentNames::of(segment.number);
        let runs = txn.open_table(def::<u64, &[u8]>(&names.runs))?;
        let payloads = match segment.payloads {
            true => Some(PayloadReader::open(txn, &names)?),
            false => None,
        };
        for item in runs.range(first_id..)? {
            let (k, v) = item?;
            let payload = match &payloads {
                Some(p) => p.get(k.value())?,
                None => None,
            };
            each(k.value(), v.value(), payload)?;
        }
    }
    Ok(())
}

type Keys = std::iter::Peekable<Box<dyn Iterator<Item = StoreResult<(i64, u64)>>>>;

/// One segment's keys in a page's range, and its runs.
struct Source {
    keys: Keys,
    runs: redb::ReadOnlyTable<u64, &'static [u8]>,
}

/// The newest `limit` kept runs passing `filter`, before `cursor`.
pub(super) fn page(
    txn: &ReadTransaction,
    filter: &RunFilter,
    limit: usize,
    cursor: Option<RunCursor>,
    config: &HistoryConfig,
) -> StoreResult<RunPage> {
    let limit = limit.max(1);
    let horizon = Horizon::read(txn, config, now_unix_ms())?;
    let since = filter.since_ms.unwrap_or(i64::MIN).max(horizon.min_at_ms);
    let lo = (since, 0u64);
    let mut hi = (filter.until_ms.unwrap_or(i64::MAX), u64::MAX);
    if let Some(c) = cursor {
        // Exclusive of the cursor itself.
        let before = if c.id > 0 {
            (c.at_ms, c.id - 1)
        } else if c.at_ms > i64::MIN {
            (c.at_ms - 1, u64::MAX)
        } else {
            return Ok(RunPage::default());
        };
        hi = hi.min(before);
    }
    if lo > hi {
        return Ok(RunPage::default());
    }
    let mut sources = Vec::new();
    for segment in segments::list(txn)? {
        if !horizon.keeps(&segment) || segment.max_at_ms < lo.0 {
            continue;
        }
        let names = SegmentNames::of(segment.number);
        sources.push(Source {
            keys: keys(txn, &names, filter, lo, hi)?,
            runs: txn.open_table(def(&names.runs))?,
        });
    }
    let mut page = RunPage::default();
    let mut scanned = 0;
    while let Some((source, (at, id))) = newest(&mut sources)? {
        scanned += 1;
        if id >= horizon.first_id
            && let Some(raw) = sources[source].runs.get(id)?
        {
            let run: RunRecord = serde_json::from_slice(raw.value())?;
            if filter.matches(&run) {
                if page.runs.len() == limit {
                    // One more exists: the page ends at its last run.
                    page.next_cursor = page.runs.last().map(|r| RunCursor {
                        at_ms: r.at_ms,
                        id: r.id,
                    });
                    return Ok(page);
                }
                page.runs.push(run);
            }
        }
        if scanned >= SCAN_LIMIT {
            page.next_cursor = Some(match page.runs.len() == limit {
                true => page
                    .runs
                    .last()
                    .map(|r| RunCursor {
                        at_ms: r.at_ms,
                        id: r.id,
                    })
                    .unwrap_or(RunCursor { at_ms: at, id }),
                false => RunCursor { at_ms: at, id },
            });
            return Ok(page);
        }
    }
    Ok(page)
}

/// Takes the newest key of all sources: which source, and the key.
fn newest(sources: &mut [Source]) -> StoreResult<Option<(usize, (i64, u64))>> {
    let mut best: Option<(usize, (i64, u64))> = None;
    for (i, source) in sources.iter_mut().enumerate() {
        match source.keys.peek() {
            None => {}
            Some(Err(_)) => {
                if let Some(Err(e)) = source.keys.next() {
                    return Err(e);
                }
            }
            Some(Ok(key)) if best.is_none_or(|(_, b)| *key > b) => best = Some((i, *key)),
            Some(Ok(_)) => {}
        }
    }
    if let Some((i, _)) = best {
        sources[i].keys.next();
    }
    Ok(best)
}

/// A segment's index keys in `lo..=hi`, newest first, through the most
/// selective index.
fn keys(
    txn: &ReadTransaction,
    names: &SegmentNames,
    filter: &RunFilter,
    lo: (i64, u64),
    hi: (i64, u64),
) -> StoreResult<Keys> {
    fn boxed<K: redb::Key + 'static>(
        range: redb::Range<'static, K, ()>,
        key: fn(K::SelfType<'_>) -> (i64, u64),
    ) -> Keys {
        let keys: Box<dyn Iterator<Item = StoreResult<(i64, u64)>>> =
            Box::new(range.rev().map(move |item| {
                item.map(|(k, _)| key(k.value()))
                    .map_err(|e| StoreError::Db(e.to_string()))
            }));
        keys.peekable()
    }
    if let Some(p) = filter.parent {
        let t = txn.open_table(def::<(u64, i64, u64), ()>(&names.by_parent))?;
        let range = t.range((p, lo.0, lo.1)..=(p, hi.0, hi.1))?;
        return Ok(boxed(range, |(_, at, id)| (at, id)));
    }
    if let Some(a) = &filter.automation {
        let t = txn.open_table(def::<(&str, i64, u64), ()>(&names.by_automation))?;
        let range = t.range((a.as_str(), lo.0, lo.1)..=(a.as_str(), hi.0, hi.1))?;
        return Ok(boxed(range, |(_, at, id)| (at, id)));
    }
    if let Some(l) = filter.listener {
        let t = txn.open_table(def::<(u64, i64, u64), ()>(&names.by_listener))?;
        let range = t.range((l, lo.0, lo.1)..=(l, hi.0, hi.1))?;
        return Ok(boxed(range, |(_, at, id)| (at, id)));
    }
    if let Some(e) = &filter.exit {
        let t = txn.open_table(def::<(&str, i64, u64), ()>(&names.by_exit))?;
        let range = t.range((e.as_str(), lo.0, lo.1)..=(e.as_str(), hi.0, hi.1))?;
        return Ok(boxed(range, |(_, at, id)| (at, id)));
    }
    let t = txn.open_table(def::<(i64, u64), ()>(&names.by_time))?;
    let range = t.range(lo..=hi)?;
    Ok(boxed(range, |k| k))
}
