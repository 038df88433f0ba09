//! The run history's reads and writes: runs written a batch at a time
//! into the newest segment's log (`segments.rs`, `run_log.rs`), pages read
//! by filter through postings (never a scan of the whole history).
//!
//! A page is ordered by `(at_ms, id)`, newest first. Its runs come from
//! the postings of the most selective filter (the parent's, the
//! automation's, the listener's, the exit's, or time's when none of those
//! is filtered) of each segment, merged: a posting is opened only once
//! its newest run may come before every run already taken. The other
//! filters are checked on the runs the postings yield. A cursor is the
//! `(at_ms, id)` of the last run of a page; runs that arrive while a client
//! pages are newer than its cursor and never shift the pages after it.

use super::payloads;
use super::run_log::{self, LogReader};
use super::segments::{self, Horizon, SegmentNames, def};
use super::tables::*;
use super::{RunPayload, RunRecord, StoreResult, now_unix_ms};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};
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

/// A run as the redb history stores it, encoded where the run was built
/// (see `history.rs`), numbered when it is queued (the JSON's `id` may be
/// 0: the log's directory numbers it). One allocation holds the JSON
/// summary, the encoded payload and the automation and exit the postings
/// need, so the writer frees one buffer per run.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct EncodedRun {
    pub id: u64,
    pub at_ms: i64,
    pub listener_id: Option<u64>,
    pub parent_id: Option<u64>,
    /// The summary, the payload, the automation, the exit, in this order.
    bytes: Vec<u8>,
    /// Where the summary, the payload and the automation end in `bytes`.
    ends: [usize; 3],
    has_payload: bool,
    has_automation: bool,
}

impl EncodedRun {
    /// Encodes `run` (numbered or not).
    pub(super) fn new(run: &RunRecord) -> StoreResult<EncodedRun> {
        let mut bytes = Vec::with_capacity(4096);
        serde_json::to_writer(&mut bytes, run)?;
        let doc_end = bytes.len();
        if let Some(p) = &run.payload {
            payloads::encode_into(&mut bytes, p)?;
        }
        let payload_end = bytes.len();
        let automation = run.automation.as_deref();
        bytes.extend_from_slice(automation.unwrap_or("").as_bytes());
        let automation_end = bytes.len();
        bytes.extend_from_slice(run.exit.as_bytes());
        Ok(EncodedRun {
            id: run.id,
            at_ms: run.at_ms,
            listener_id: run.listener_id,
            parent_id: run.parent_id,
            bytes,
            ends: [doc_end, payload_end, automation_end],
            has_payload: run.payload.is_some(),
            has_automation: automation.is_some(),
        })
    }

    /// The JSON summary.
    pub(super) fn doc(&self) -> &[u8] {
        &self.bytes[..self.ends[0]]
    }

    /// The encoded payload, if the run has one.
    pub(super) fn payload(&self) -> Option<&[u8]> {
        self.has_payload
            .then(|| &self.bytes[self.ends[0]..self.ends[1]])
    }

    /// The automation that ran, if one did.
    pub(super) fn automation(&self) -> Option<&str> {
        self.has_automation
            .then(|| std::str::from_utf8(&self.bytes[self.ends[1]..self.ends[2]]).unwrap_or(""))
    }

    /// How the run ended.
    pub(super) fn exit(&self) -> &str {
        std::str::from_utf8(&self.bytes[self.ends[2]..]).unwrap_or("")
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
    // Batches written with given ids can interleave, so neighbouring
    // segments may overlap.
    for segment in segments::list(txn)?.iter().rev().filter(|s| s.may_hold(id)) {
        let mut log = LogReader::open(txn, segment, true)?;
        let Some(mut run) = log.run(id)? else {
            continue;
        };
        if !horizon.shows(id, run.at_ms) {
            return Ok(None);
        }
        if horizon.shows_payload(run.at_ms) {
            run.payload = log.payload(id)?;
        }
        return Ok(Some(run));
    }
    Ok(None)
}

/// Every stored run past the count horizon, oldest segment first, with
/// its payload (what a transfer copies).
pub(super) fn for_each_kept(
    txn: &ReadTransaction,
    mut each: impl FnMut(RunRecord, Option<RunPayload>) -> StoreResult<()>,
) -> StoreResult<()> {
    let first_id = segments::kept_from(txn)?;
    for segment in segments::list(txn)? {
        LogReader::open(txn, &segment, true)?.for_each(first_id, &mut each)?;
    }
    Ok(())
}

type Postings = std::iter::Peekable<
    std::iter::Rev<redb::Range<'static, (&'static str, i64, u64), &'static [u8]>>,
>;

/// One segment's postings in a page's range, and its log.
struct Source {
    postings: Postings,
    log: LogReader,
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
    let key = posting_key(filter);
    let mut sources = Vec::new();
    for segment in segments::list(txn)? {
        if !horizon.keeps(&segment) || segment.max_at_ms < lo.0 || segment.min_at_ms > hi.0 {
            continue;
        }
        let names = SegmentNames::of(segment.number);
        let postings = txn.open_table(def::<(&str, i64, u64), &[u8]>(&names.postings))?;
        // A posting's key is its newest run: one newer than the page's end
        // by more than the segment's spread holds none of the page.
        let top = hi.0.saturating_add(segment.spread_ms);
        let range = postings.range((key.as_str(), lo.0, 0)..=(key.as_str(), top, u64::MAX))?;
        sources.push(Source {
            postings: range.rev().peekable(),
            log: LogReader::open(txn, &segment, false)?,
        });
    }
    let mut page = RunPage::default();
    let mut taken = std::collections::BinaryHeap::new();
    let mut scanned = 0;
    loop {
        if let Some(source) = next_posting(&mut sources, taken.peek())? {
            if let Some(item) = sources[source].postings.next() {
                let (_, v) = item?;
                for at_id in run_log::posting(v.value())? {
                    if lo <= at_id && at_id <= hi {
                        taken.push((at_id, source));
                    }
                }
            }
            continue;
        }
        let Some(((at, id), source)) = taken.pop() else {
            break;
        };
        scanned += 1;
        if id >= horizon.first_id
            && let Some(run) = sources[source].log.run(id)?
            && filter.matches(&run)
        {
            if page.runs.len() == limit {
                // One more exists: the page ends at its last run.
                page.next_cursor = page.runs.last().map(cursor_of);
                return Ok(page);
            }
            page.runs.push(run);
        }
        if scanned >= SCAN_LIMIT {
            page.next_cursor = Some(match page.runs.len() == limit {
                true => page
                    .runs
                    .last()
                    .map(cursor_of)
                    .unwrap_or(RunCursor { at_ms: at, id }),
                false => RunCursor { at_ms: at, id },
            });
            return Ok(page);
        }
    }
    Ok(page)
}

fn cursor_of(run: &RunRecord) -> RunCursor {
    RunCursor {
        at_ms: run.at_ms,
        id: run.id,
    }
}

/// The source whose next posting must be opened before the newest run
/// taken so far can be given out: the one whose next posting's newest run
/// is the newest, when it is not older than `newest_taken`.
fn next_posting(
    sources: &mut [Source],
    newest_taken: Option<&((i64, u64), usize)>,
) -> StoreResult<Option<usize>> {
    let mut best: Option<(usize, i64)> = None;
    for (i, source) in sources.iter_mut().enumerate() {
        match source.postings.peek() {
            None => {}
            Some(Err(_)) => {
                if let Some(Err(e)) = source.postings.next() {
                    return Err(e.into());
                }
            }
            Some(Ok((k, _))) => {
                let newest = k.value().1;
                if best.is_none_or(|(_, b)| newest > b) {
                    best = Some((i, newest));
                }
            }
        }
    }
    Ok(best
        .filter(|(_, newest)| newest_taken.is_none_or(|((at, _), _)| newest >= at))
        .map(|(i, _)| i))
}

/// The posting key of the most selective filter.
fn posting_key(filter: &RunFilter) -> String {
    use run_log::PostingKey;
    let key = if let Some(p) = filter.parent {
        PostingKey::Parent(p)
    } else if let Some(a) = &filter.automation {
        PostingKey::Automation(a)
    } else if let Some(l) = filter.listener {
        PostingKey::Listener(l)
    } else if let Some(e) = &filter.exit {
        PostingKey::Exit(e)
    } else {
        PostingKey::Time
    };
    key.name()
}
