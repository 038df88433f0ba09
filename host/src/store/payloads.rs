//! Run payloads: how they are encoded (MessagePack), and how the layout
//! before the run log (`run_log.rs`) stored them, which the upgrade of an
//! older data directory reads (`segments::upgrade`).
//!
//! Before the run log, the encoded payloads of one history batch were
//! stored together as one value ("blob") of [`RUN_PAYLOAD_BLOBS`], and
//! [`RUN_PAYLOADS`] mapped each run to its slice of a blob; rows written
//! before blobs existed hold the JSON itself (it starts with `{`).
//!
//! [`RUN_PAYLOADS`]: super::tables::RUN_PAYLOADS
//! [`RUN_PAYLOAD_BLOBS`]: super::tables::RUN_PAYLOAD_BLOBS

#[cfg(test)]
use super::segments::{SegmentNames, def};
use super::{RunPayload, StoreError, StoreResult};
use redb::ReadableTable;
#[cfg(test)]
use redb::{Table, WriteTransaction};

/// A blob was closed once it held this many bytes (a larger payload got
/// a blob of its own).
#[cfg(test)]
pub(super) const BLOB_BYTES: usize = 256 * 1024;

/// The first byte of a reference row (a JSON payload starts with `{`).
const REF_TAG: u8 = 0;
/// Tag, blob key, offset, length.
#[cfg(test)]
const REF_LEN: usize = 1 + 8 + 8 + 8;

/// Where a run's payload is: `len` bytes at `offset` of blob `blob`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PayloadRef {
    blob: u64,
    offset: u64,
    len: u64,
}

impl PayloadRef {
    #[cfg(test)]
    fn encode(&self) -> [u8; REF_LEN] {
        let mut out = [0u8; REF_LEN];
        out[0] = REF_TAG;
        out[1..9].copy_from_slice(&self.blob.to_be_bytes());
        out[9..17].copy_from_slice(&self.offset.to_be_bytes());
        out[17..25].copy_from_slice(&self.len.to_be_bytes());
        out
    }

    /// The reference in a row, or `None` for a row holding the JSON itself.
    fn decode(row: &[u8]) -> StoreResult<Option<PayloadRef>> {
        if row.first() != Some(&REF_TAG) {
            return Ok(None);
        }
        let field = |at: usize| -> StoreResult<u64> {
            row.get(at..at + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| StoreError::Corrupt("a run payload reference is cut short".into()))
        };
        Ok(Some(PayloadRef {
            blob: field(1)?,
            offset: field(9)?,
            len: field(17)?,
        }))
    }
}

/// [`encode_into`] a new buffer.
#[cfg(test)]
pub(super) fn encode(payload: &RunPayload) -> StoreResult<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(&mut out, payload)?;
    Ok(out)
}

/// Encodes a payload as MessagePack, appending to `out`: strings are kept
/// as they are (a JSON body escaped inside JSON cost the request path more
/// than twice as much: docs/performance.md, "Session 7").
pub(super) fn encode_into(out: &mut Vec<u8>, payload: &RunPayload) -> StoreResult<()> {
    rmp_serde::encode::write_named(out, payload)
        .map_err(|e| StoreError::Corrupt(format!("run payload: {e}")))
}

/// Decodes what [`encode_into`] wrote, or the JSON payloads of rows written
/// before (a JSON object starts with `{`, a MessagePack map never does).
pub(super) fn decode(bytes: &[u8]) -> StoreResult<RunPayload> {
    match bytes.first() {
        Some(b'{') => Ok(serde_json::from_slice(bytes)?),
        _ => rmp_serde::from_slice(bytes)
            .map_err(|e| StoreError::Corrupt(format!("run payload: {e}"))),
    }
}

/// The encoded payload a payload row stands for.
pub(super) fn resolve(
    row: &[u8],
    blobs: &impl ReadableTable<u64, &'static [u8]>,
) -> StoreResult<Vec<u8>> {
    let Some(r) = PayloadRef::decode(row)? else {
        return Ok(row.to_vec());
    };
    let missing = || StoreError::Corrupt(format!("run payload blob {} is missing", r.blob));
    let blob = blobs.get(r.blob)?.ok_or_else(missing)?;
    let (start, end) = (r.offset as usize, (r.offset + r.len) as usize);
    blob.value()
        .get(start..end)
        .map(<[u8]>::to_vec)
        .ok_or_else(missing)
}

/// The payload tables of a segment as written before the run log
/// (`run_log.rs`): kept for the tests that build such data directories.
#[cfg(test)]
pub(super) struct PayloadTables<'t> {
    rows: Table<'t, u64, &'static [u8]>,
    blobs: Table<'t, u64, &'static [u8]>,
}

#[cfg(test)]
impl<'t> PayloadTables<'t> {
    /// Opens (creating) the payload tables named in `names`.
    pub(super) fn open(
        txn: &'t WriteTransaction,
        names: &SegmentNames,
    ) -> StoreResult<PayloadTables<'t>> {
        Ok(PayloadTables {
            rows: txn.open_table(def(&names.payloads))?,
            blobs: txn.open_table(def(&names.blobs))?,
        })
    }

    /// Stores the payloads of a batch, `(run id, encoded)` each, in blobs of
    /// at most [`BLOB_BYTES`] (a bigger payload gets a blob of its own).
    pub(super) fn insert_all(&mut self, payloads: &[(u64, &[u8])]) -> StoreResult<()> {
        let (mut start, mut size) = (0, 0);
        for (i, (_, json)) in payloads.iter().enumerate() {
            if i > start && size + json.len() > BLOB_BYTES {
                self.insert_blob(&payloads[start..i])?;
                (start, size) = (i, 0);
            }
            size += json.len();
        }
        self.insert_blob(&payloads[start..])
    }

    fn insert_blob(&mut self, chunk: &[(u64, &[u8])]) -> StoreResult<()> {
        // Keyed by its smallest run id: unique, since a run id is in one blob.
        let Some(key) = chunk.iter().map(|(id, _)| *id).min() else {
            return Ok(());
        };
        let size = chunk.iter().map(|(_, json)| json.len()).sum();
        let mut blob = Vec::with_capacity(size);
        for (id, json) in chunk {
            let r = PayloadRef {
                blob: key,
                offset: blob.len() as u64,
                len: json.len() as u64,
            };
            blob.extend_from_slice(json);
            self.rows.insert(*id, r.encode().as_slice())?;
        }
        self.blobs.insert(key, blob.as_slice())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, ReadableDatabase, ReadableTableMetadata};

    fn names() -> SegmentNames {
        SegmentNames::of(1)
    }

    fn db(dir: &std::path::Path) -> Database {
        let db = Database::create(dir.join("p.redb")).expect("db");
        let txn = db.begin_write().expect("txn");
        PayloadTables::open(&txn, &names()).expect("tables");
        txn.commit().expect("commit");
        db
    }

    /// Runs `change` on the payload tables in one committed transaction.
    fn write<T>(db: &Database, change: impl FnOnce(&mut PayloadTables) -> T) -> T {
        let txn = db.begin_write().expect("txn");
        let out = change(&mut PayloadTables::open(&txn, &names()).expect("tables"));
        txn.commit().expect("commit");
        out
    }

    fn read(db: &Database, id: u64) -> Option<Vec<u8>> {
        let txn = db.begin_read().expect("read");
        let n = names();
        let rows = txn
            .open_table(def::<u64, &[u8]>(&n.payloads))
            .expect("rows");
        let blobs = txn.open_table(def::<u64, &[u8]>(&n.blobs)).expect("blobs");
        rows.get(id)
            .expect("get")
            .map(|row| resolve(row.value(), &blobs).expect("resolve"))
    }

    fn blob_count(db: &Database) -> u64 {
        let txn = db.begin_read().expect("read");
        txn.open_table(def::<u64, &[u8]>(&names().blobs))
            .expect("blobs")
            .len()
            .expect("len")
    }

    #[test]
    fn each_run_reads_back_exactly_its_payload_and_big_ones_get_their_own_blob() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = db(dir.path());
        let big = vec![b'b'; BLOB_BYTES + 10];
        let batch: Vec<(u64, Vec<u8>)> = vec![
            (3, b"{\"a\":1}".to_vec()),
            (1, b"{\"b\":\"two\"}".to_vec()),
            (2, big.clone()),
            (4, b"{}".to_vec()),
        ];
        let rows: Vec<(u64, &[u8])> = batch.iter().map(|(id, j)| (*id, j.as_slice())).collect();
        write(&db, |t| t.insert_all(&rows)).expect("insert");
        for (id, json) in &batch {
            assert_eq!(read(&db, *id).as_ref(), Some(json), "run {id}");
        }
        // [3, 1] fit one blob, the big one closes it and stands alone, then [4].
        assert_eq!(blob_count(&db), 3);
        assert_eq!(read(&db, 5), None);
    }

    #[test]
    fn payloads_round_trip_through_messagepack_and_old_json_still_reads() {
        use super::super::{HeaderList, RecordedBody, RecordedRequest, RecordedResponse};
        let payload = RunPayload {
            request: Some(RecordedRequest {
                method: "POST".into(),
                path: "/webhooks/abc".into(),
                query: Some("a=1&b=\"2\"".into()),
                headers: HeaderList(vec![
                    ("x-b".into(), "2".into()),
                    ("x-a".into(), "[redacted]".into()),
                ]),
                body: RecordedBody::keep(&[0xff, 0x00, 0x80], usize::MAX),
            }),
            response: Some(RecordedResponse {
                status: 201,
                headers: HeaderList(vec![("content-type".into(), "text/plain".into())]),
                body: RecordedBody::keep("line\n\"quoted\" é".as_bytes(), 8),
            }),
            inputs: Some(serde_json::json!({"z": [1, 2.5, null, true], "a": {"k": "v"}})),
            returned: Some(serde_json::json!("done")),
        };
        let bytes = encode(&payload).expect("encode");
        assert_ne!(bytes.first(), Some(&b'{'));
        assert_eq!(decode(&bytes).expect("decode"), payload);
        let json = serde_json::to_vec(&payload).expect("json");
        assert_eq!(decode(&json).expect("decode json"), payload);
        assert!(matches!(decode(&[0xc1]), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn rows_that_hold_their_json_are_read_as_they_are() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = db(dir.path());
        // A row as written before blobs: the JSON itself.
        write(&db, |t| {
            t.rows
                .insert(7, b"{\"legacy\":true}".as_slice())
                .map(|_| ())
        })
        .expect("insert");
        assert_eq!(read(&db, 7), Some(b"{\"legacy\":true}".to_vec()));
    }

    #[test]
    fn a_cut_reference_is_named_corrupt() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = db(dir.path());
        let txn = db.begin_read().expect("read");
        let blobs = txn
            .open_table(def::<u64, &[u8]>(&names().blobs))
            .expect("blobs");
        let err = resolve(&[0, 1, 2], &blobs).expect_err("cut");
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
        let dangling = PayloadRef {
            blob: 9,
            offset: 0,
            len: 3,
        }
        .encode();
        assert!(matches!(
            resolve(&dangling, &blobs),
            Err(StoreError::Corrupt(_))
        ));
    }
}
