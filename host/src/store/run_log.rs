//! How one history segment stores its runs: a log of chunks written a
//! batch at a time, and postings that index whole batches.
//!
//! A batch of runs (one writer transaction) is written as
//! - doc chunks ([`DOC_CHUNK`] bytes at most each): the runs' JSON
//!   summaries, keyed by the chunk's smallest run id;
//! - payload chunks ([`PAYLOAD_CHUNK`] bytes at most): their encoded
//!   payloads (`payloads.rs`), in a table of their own so that payloads can
//!   expire before the runs;
//! - one posting per index key and batch: the `(at_ms, id)` of the batch's
//!   runs with that key (all of them for time, or an automation, a
//!   listener, an exit, a parent), newest first, keyed
//!   `(index key, newest at_ms, smallest id)`.
//!
//! A chunk is one redb value: the runs' bytes, then a directory of
//! `(id, offset, length)` sorted by id and its length, compressed with
//! LZ4 (runs of one webhook repeat their headers, their JSON keys, often
//! their bodies). A posting
//! is its `(at_ms, id)` pairs as deltas, a varint each. Writing a run
//! costs copies into a chunk instead of seven B-tree inserts (a summary
//! row, a payload row and five index rows), and the disk gets a fraction
//! of its bytes: what the history cost the request path was mostly its
//! writes (docs/performance.md, "Session 8").
//!
//! Run ids grow in the order runs are queued (`history.rs` numbers them
//! as it queues them), so batches and their chunks hold increasing,
//! disjoint id ranges and the chunk holding a run is the last one keyed at
//! or before its id. A segment whose batches were written out of order
//! (only possible through [`super::history::write_batch`] with given ids) is
//! marked `interleaved`, and its chunks are searched one by one.

use super::runs::EncodedRun;
use super::segments::{Segment, SegmentNames, def};
use super::{RunPayload, RunRecord, StoreError, StoreResult};
use redb::{ReadTransaction, Table, WriteTransaction};
use std::collections::HashMap;

/// A doc chunk is closed once it holds this many bytes.
pub(super) const DOC_CHUNK: usize = 64 * 1024;
/// A payload chunk is closed once it holds this many bytes (a larger
/// payload gets a chunk of its own), so reading one run's payload reads
/// little more than it.
pub(super) const PAYLOAD_CHUNK: usize = 256 * 1024;

/// Bytes of a chunk's count, and of one directory entry.
const COUNT_LEN: usize = 4;
const ENTRY_LEN: usize = 8 + 4 + 4;
/// LZ4 expands a block at most this many times (a longer claim is corrupt).
const LZ4_MAX_RATIO: usize = 255;

/// Separates an index's name from its key in a posting's key.
const SEP: char = '\u{1f}';

/// What a posting indexes: every run (time), or the runs with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum PostingKey<'a> {
    Time,
    Automation(&'a str),
    Listener(u64),
    Exit(&'a str),
    /// The `function:` runs run `id` started.
    Parent(u64),
}

impl PostingKey<'_> {
    /// The key as stored (the first part of a posting's key).
    pub(super) fn name(&self) -> String {
        match self {
            PostingKey::Time => "t".to_string(),
            PostingKey::Automation(a) => format!("a{SEP}{a}"),
            PostingKey::Listener(l) => format!("l{SEP}{l}"),
            PostingKey::Exit(e) => format!("e{SEP}{e}"),
            PostingKey::Parent(p) => format!("p{SEP}{p}"),
        }
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("run history: {what}"))
}

/// Builds one chunk: `(id, bytes)` added in increasing id order.
#[derive(Default)]
struct ChunkBuilder {
    entries: Vec<(u64, u32, u32)>,
    bytes: Vec<u8>,
}

impl ChunkBuilder {
    /// A builder for about `bytes` bytes (a small batch allocates little).
    fn with_capacity(bytes: usize) -> ChunkBuilder {
        ChunkBuilder {
            entries: Vec::new(),
            bytes: Vec::with_capacity(bytes),
        }
    }

    fn push(&mut self, id: u64, bytes: &[u8]) -> StoreResult<()> {
        let too_big = || corrupt("a run is larger than 4 GiB");
        let offset = u32::try_from(self.bytes.len()).map_err(|_| too_big())?;
        let len = u32::try_from(bytes.len()).map_err(|_| too_big())?;
        self.entries.push((id, offset, len));
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The chunk's key (its smallest id) and its value, compressed.
    fn finish(&mut self) -> Option<(u64, Vec<u8>)> {
        let first = self.entries.first()?.0;
        let out = &mut self.bytes;
        for (id, offset, len) in &self.entries {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&offset.to_be_bytes());
            out.extend_from_slice(&len.to_be_bytes());
        }
        out.extend_from_slice(&(self.entries.len() as u32).to_be_bytes());
        let packed = lz4_flex::block::compress_prepend_size(out);
        self.entries.clear();
        self.bytes.clear();
        Some((first, packed))
    }
}

/// A chunk's value decompressed.
pub(super) fn unpack(value: &[u8]) -> StoreResult<Vec<u8>> {
    let bad = |e: lz4_flex::block::DecompressError| corrupt(&format!("a chunk: {e}"));
    let (size, block) = lz4_flex::block::uncompressed_size(value).map_err(bad)?;
    if size > block.len().saturating_mul(LZ4_MAX_RATIO).saturating_add(16) {
        return Err(corrupt("a chunk claims more bytes than it can hold"));
    }
    lz4_flex::block::decompress(block, size).map_err(bad)
}

/// A stored chunk (decompressed), read in place.
#[derive(Clone, Copy)]
pub(super) struct Chunk<'a> {
    raw: &'a [u8],
    count: usize,
    /// Where the directory starts (the bytes end).
    directory: usize,
}

impl<'a> Chunk<'a> {
    /// Checks the directory's size against the value.
    pub(super) fn parse(raw: &'a [u8]) -> StoreResult<Chunk<'a>> {
        let count_at = raw
            .len()
            .checked_sub(COUNT_LEN)
            .ok_or_else(|| corrupt("a chunk is cut short"))?;
        let count = raw
            .get(count_at..)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(|| corrupt("a chunk is cut short"))? as usize;
        let directory = count
            .checked_mul(ENTRY_LEN)
            .and_then(|len| count_at.checked_sub(len))
            .ok_or_else(|| corrupt("a chunk's directory is cut short"))?;
        Ok(Chunk {
            raw,
            count,
            directory,
        })
    }

    fn entry(&self, i: usize) -> (u64, u32, u32) {
        let at = self.directory + i * ENTRY_LEN;
        let e = &self.raw[at..at + ENTRY_LEN];
        let id = u64::from_be_bytes(e[0..8].try_into().unwrap_or_default());
        let offset = u32::from_be_bytes(e[8..12].try_into().unwrap_or_default());
        let len = u32::from_be_bytes(e[12..16].try_into().unwrap_or_default());
        (id, offset, len)
    }

    fn bytes(&self, offset: u32, len: u32) -> StoreResult<&'a [u8]> {
        let (start, end) = (offset as usize, offset as usize + len as usize);
        if end > self.directory {
            return Err(corrupt("a chunk entry points past its end"));
        }
        Ok(&self.raw[start..end])
    }

    /// Its largest id.
    pub(super) fn last_id(&self) -> Option<u64> {
        self.count.checked_sub(1).map(|i| self.entry(i).0)
    }

    /// Run `id`'s bytes, when the chunk holds them.
    pub(super) fn get(&self, id: u64) -> StoreResult<Option<&'a [u8]>> {
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (at, offset, len) = self.entry(mid);
            match at.cmp(&id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.bytes(offset, len).map(Some),
            }
        }
        Ok(None)
    }

    /// Every `(id, bytes)`, in id order.
    pub(super) fn entries(&self) -> impl Iterator<Item = StoreResult<(u64, &'a [u8])>> + '_ {
        (0..self.count).map(|i| {
            let (id, offset, len) = self.entry(i);
            self.bytes(offset, len).map(|b| (id, b))
        })
    }
}

/// Appends `v` as a LEB128 varint.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint at `*at`.
fn get_varint(raw: &[u8], at: &mut usize) -> StoreResult<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *raw
            .get(*at)
            .ok_or_else(|| corrupt("a posting is cut short"))?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(v);
        }
    }
    Err(corrupt("a posting holds an overlong number"))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Encodes `(at_ms, id)` pairs (newest first): each as the difference to
/// the one before (the first to zero), zigzag varints.
pub(super) fn encode_posting(entries: &[(i64, u64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 3 + 16);
    let (mut at, mut id) = (0i64, 0u64);
    for &(a, i) in entries {
        put_varint(&mut out, zigzag(a.wrapping_sub(at)));
        put_varint(&mut out, zigzag(i.wrapping_sub(id) as i64));
        (at, id) = (a, i);
    }
    out
}

/// Decodes a posting: its `(at_ms, id)` pairs, newest first.
pub(super) fn posting(raw: &[u8]) -> StoreResult<Vec<(i64, u64)>> {
    let mut out = Vec::new();
    let (mut at, mut id, mut pos) = (0i64, 0u64, 0usize);
    while pos < raw.len() {
        at = at.wrapping_add(unzigzag(get_varint(raw, &mut pos)?));
        id = id.wrapping_add(unzigzag(get_varint(raw, &mut pos)?) as u64);
        out.push((at, id));
    }
    Ok(out)
}

/// One batch's postings: by key, its runs' `(at_ms, id)`.
fn postings_of<'a>(runs: &[&'a EncodedRun]) -> HashMap<PostingKey<'a>, Vec<(i64, u64)>> {
    let mut out: HashMap<PostingKey<'a>, Vec<(i64, u64)>> = HashMap::new();
    for run in runs {
        let key = (run.at_ms, run.id);
        out.entry(PostingKey::Time).or_default().push(key);
        if let Some(a) = run.automation() {
            out.entry(PostingKey::Automation(a)).or_default().push(key);
        }
        if let Some(l) = run.listener_id {
            out.entry(PostingKey::Listener(l)).or_default().push(key);
        }
        out.entry(PostingKey::Exit(run.exit()))
            .or_default()
            .push(key);
        if let Some(p) = run.parent_id {
            out.entry(PostingKey::Parent(p)).or_default().push(key);
        }
    }
    out
}

/// The log tables of one segment in a write transaction.
pub(super) struct LogTables<'t> {
    docs: Table<'t, u64, &'static [u8]>,
    payloads: Table<'t, u64, &'static [u8]>,
    postings: Table<'t, (&'static str, i64, u64), &'static [u8]>,
}

impl<'t> LogTables<'t> {
    /// Opens (creating) the log tables of the segment named `names`.
    pub(super) fn open(txn: &'t WriteTransaction, names: &SegmentNames) -> StoreResult<Self> {
        Ok(LogTables {
            docs: txn.open_table(def(&names.docs))?,
            payloads: txn.open_table(def(&names.payload_log))?,
            postings: txn.open_table(def(&names.postings))?,
        })
    }

    /// Writes one batch (numbered runs, any order). Returns the widest
    /// span of `at_ms` in one posting.
    pub(super) fn append(&mut self, runs: &[EncodedRun]) -> StoreResult<i64> {
        let mut sorted: Vec<&EncodedRun> = runs.iter().collect();
        sorted.sort_by_key(|r| r.id);
        let doc_bytes: usize = sorted.iter().map(|r| r.doc().len()).sum();
        let payload_bytes: usize = sorted
            .iter()
            .filter_map(|r| r.payload())
            .map(<[u8]>::len)
            .sum();
        let mut docs = ChunkBuilder::with_capacity(doc_bytes.min(DOC_CHUNK) + 1024);
        let mut payloads = ChunkBuilder::with_capacity(payload_bytes.min(PAYLOAD_CHUNK) + 1024);
        for run in &sorted {
            docs.push(run.id, run.doc())?;
            if docs.bytes.len() >= DOC_CHUNK {
                self.put_chunk(true, &mut docs)?;
            }
            if let Some(p) = run.payload() {
                if !payloads.is_empty() && payloads.bytes.len() + p.len() > PAYLOAD_CHUNK {
                    self.put_chunk(false, &mut payloads)?;
                }
                payloads.push(run.id, p)?;
            }
        }
        self.put_chunk(true, &mut docs)?;
        self.put_chunk(false, &mut payloads)?;
        let mut spread = 0i64;
        for (key, mut entries) in postings_of(&sorted) {
            entries.sort_unstable_by(|a, b| b.cmp(a));
            let (newest, oldest) = match (entries.first(), entries.last()) {
                (Some(n), Some(o)) => (n.0, o.0),
                _ => continue,
            };
            spread = spread.max(newest.saturating_sub(oldest));
            let first_id = entries.iter().map(|e| e.1).min().unwrap_or(0);
            let value = encode_posting(&entries);
            let name = key.name();
            self.postings
                .insert((name.as_str(), newest, first_id), value.as_slice())?;
        }
        Ok(spread)
    }

    fn put_chunk(&mut self, docs: bool, chunk: &mut ChunkBuilder) -> StoreResult<()> {
        if let Some((key, value)) = chunk.finish() {
            let table = if docs {
                &mut self.docs
            } else {
                &mut self.payloads
            };
            table.insert(key, value.as_slice())?;
        }
        Ok(())
    }
}

/// One table of chunks in a read transaction, with the last chunk read.
struct ChunkReader {
    table: redb::ReadOnlyTable<u64, &'static [u8]>,
    interleaved: bool,
    /// The last chunk read: its first and last id, and its bytes.
    last: Option<(u64, u64, Vec<u8>)>,
}

impl ChunkReader {
    fn open(txn: &ReadTransaction, name: &str, interleaved: bool) -> StoreResult<ChunkReader> {
        Ok(ChunkReader {
            table: txn.open_table(def(name))?,
            interleaved,
            last: None,
        })
    }

    /// Loads the chunk that holds `id` into `last`; false when none does.
    fn load(&mut self, id: u64) -> StoreResult<bool> {
        if let Some((first, last, plain)) = &self.last
            && *first <= id
            && id <= *last
        {
            // Only interleaved chunks can leave an id in the range to another.
            let found = Chunk::parse(plain)?.get(id)?.is_some();
            if found || !self.interleaved {
                return Ok(found);
            }
        }
        for item in self.table.range(..=id)?.rev() {
            let (k, v) = item?;
            let plain = unpack(v.value())?;
            let chunk = Chunk::parse(&plain)?;
            let last = chunk.last_id().unwrap_or(0);
            if id <= last && chunk.get(id)?.is_some() {
                self.last = Some((k.value(), last, plain));
                return Ok(true);
            }
            if !self.interleaved {
                break;
            }
        }
        Ok(false)
    }

    /// Run `id`'s bytes, in the chunk that holds them.
    fn find(&mut self, id: u64) -> StoreResult<Option<&[u8]>> {
        if !self.load(id)? {
            return Ok(None);
        }
        match &self.last {
            Some((_, _, plain)) => Chunk::parse(plain)?.get(id),
            None => Ok(None),
        }
    }
}

/// The log of one segment in a read transaction.
pub(super) struct LogReader {
    docs: ChunkReader,
    payloads: Option<ChunkReader>,
}

impl LogReader {
    /// Opens `segment`'s log; its payloads too when `payloads` (and it
    /// still has them).
    pub(super) fn open(
        txn: &ReadTransaction,
        segment: &Segment,
        payloads: bool,
    ) -> StoreResult<LogReader> {
        let names = SegmentNames::of(segment.number);
        let chunks = |name: &str| ChunkReader::open(txn, name, segment.interleaved);
        Ok(LogReader {
            docs: chunks(&names.docs)?,
            payloads: match payloads && segment.payloads {
                true => Some(chunks(&names.payload_log)?),
                false => None,
            },
        })
    }

    /// Run `id`'s summary (without its payload).
    pub(super) fn run(&mut self, id: u64) -> StoreResult<Option<RunRecord>> {
        self.docs
            .find(id)?
            .map(|doc| decode_doc(id, doc))
            .transpose()
    }

    /// Run `id`'s payload, when the segment still keeps payloads.
    pub(super) fn payload(&mut self, id: u64) -> StoreResult<Option<RunPayload>> {
        match &mut self.payloads {
            Some(p) => p.find(id)?.map(super::payloads::decode).transpose(),
            None => Ok(None),
        }
    }

    /// Every run of the segment from `first_id` on, in id order, with its
    /// payload when the log was opened with them.
    pub(super) fn for_each(
        &mut self,
        first_id: u64,
        mut each: impl FnMut(RunRecord, Option<RunPayload>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        // The chunk that may hold `first_id`, then every later one.
        let start = match self.docs.interleaved {
            true => 0,
            false => match self.docs.table.range(..=first_id)?.next_back() {
                Some(item) => item?.0.value(),
                None => 0,
            },
        };
        for item in self.docs.table.range(start..)? {
            let (_, v) = item?;
            let plain = unpack(v.value())?;
            for entry in Chunk::parse(&plain)?.entries() {
                let (id, doc) = entry?;
                if id >= first_id {
                    let payload = self.payload(id)?;
                    each(decode_doc(id, doc)?, payload)?;
                }
            }
        }
        Ok(())
    }
}

/// A summary as stored: its JSON, numbered by the directory (the JSON is
/// encoded before the run is numbered).
fn decode_doc(id: u64, doc: &[u8]) -> StoreResult<RunRecord> {
    let mut run: RunRecord = serde_json::from_slice(doc)?;
    run.id = id;
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk_of(entries: &[(u64, &[u8])]) -> Vec<u8> {
        let mut b = ChunkBuilder::default();
        for (id, bytes) in entries {
            b.push(*id, bytes).expect("push");
        }
        unpack(&b.finish().expect("not empty").1).expect("unpack")
    }

    #[test]
    fn a_chunk_gives_back_each_run_exactly_and_nothing_else() {
        let raw = chunk_of(&[(3, b"three"), (5, b""), (9, &[0xff, 0, 1])]);
        let chunk = Chunk::parse(&raw).expect("parse");
        assert_eq!(chunk.get(3).expect("get"), Some(&b"three"[..]));
        assert_eq!(chunk.get(5).expect("get"), Some(&b""[..]));
        assert_eq!(chunk.get(9).expect("get"), Some(&[0xff, 0, 1][..]));
        for missing in [0, 4, 10, u64::MAX] {
            assert_eq!(chunk.get(missing).expect("get"), None, "id {missing}");
        }
        assert_eq!(chunk.last_id(), Some(9));
        let ids: Vec<u64> = chunk.entries().map(|e| e.expect("entry").0).collect();
        assert_eq!(ids, [3, 5, 9]);
    }

    #[test]
    fn a_cut_chunk_or_posting_is_named_corrupt() {
        let raw = chunk_of(&[(1, b"abcdef"), (2, b"ghijkl")]);
        for cut in [0, 3, 10, raw.len() - 1] {
            let result = Chunk::parse(&raw[..cut]).and_then(|c| {
                c.entries().collect::<StoreResult<Vec<_>>>()?;
                Ok(())
            });
            assert!(
                matches!(result, Err(StoreError::Corrupt(_))),
                "cut at {cut}"
            );
        }
        assert!(matches!(posting(&[0x80]), Err(StoreError::Corrupt(_))));
        assert!(matches!(posting(&[0xff; 11]), Err(StoreError::Corrupt(_))));
        assert_eq!(posting(&[]).expect("empty"), []);
    }

    #[test]
    fn a_chunk_that_claims_more_than_lz4_can_hold_is_refused_before_it_is_allocated() {
        let mut b = ChunkBuilder::default();
        b.push(1, &[7u8; 10_000]).expect("push");
        let (_, packed) = b.finish().expect("chunk");
        assert!(
            packed.len() < 200,
            "repeated bytes compress: {}",
            packed.len()
        );
        let mut lying = packed.clone();
        lying[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(unpack(&lying), Err(StoreError::Corrupt(_))));
        assert!(matches!(unpack(&packed[..3]), Err(StoreError::Corrupt(_))));
        let cut = unpack(&packed[..packed.len() - 2]);
        assert!(matches!(cut, Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn postings_round_trip_through_deltas() {
        let entries = [
            (i64::MAX, u64::MAX),
            (5000, 7),
            (5000, 3),
            (10, 9),
            (-20, 0),
            (i64::MIN, 1),
        ];
        let raw = encode_posting(&entries);
        assert_eq!(posting(&raw).expect("decode"), entries);
        let close: Vec<(i64, u64)> = (0..100).map(|i| (1_000_000 - i, 500 - i as u64)).collect();
        assert_eq!(
            encode_posting(&close).len(),
            3 + 2 + 99 * 2,
            "small steps take a byte each"
        );
    }

    #[test]
    fn postings_index_every_key_of_a_batch_newest_first() {
        let run = |id: u64, at_ms: i64, automation: &str, exit: &str| {
            EncodedRun::new(&RunRecord {
                id,
                at_ms,
                automation: Some(automation.into()),
                listener_id: Some(7),
                exit: exit.into(),
                ..RunRecord::default()
            })
            .expect("encode")
        };
        let runs = [
            run(1, 100, "a", "return"),
            run(2, 50, "b", "error"),
            run(3, 300, "a", "error"),
        ];
        let refs: Vec<&EncodedRun> = runs.iter().collect();
        let mut postings = postings_of(&refs);
        for list in postings.values_mut() {
            list.sort_unstable_by(|a, b| b.cmp(a));
        }
        assert_eq!(postings[&PostingKey::Time], [(300, 3), (100, 1), (50, 2)]);
        assert_eq!(postings[&PostingKey::Automation("a")], [(300, 3), (100, 1)]);
        assert_eq!(postings[&PostingKey::Exit("error")], [(300, 3), (50, 2)]);
        assert_eq!(postings[&PostingKey::Listener(7)].len(), 3);
        assert!(!postings.contains_key(&PostingKey::Parent(1)));
        assert_eq!(PostingKey::Automation("a").name(), "a\u{1f}a");
    }
}
