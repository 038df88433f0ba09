//! Deleting expired data: automation resources (`file.write`, large
//! `http.request` bodies), `storage.*` keys and `await` continuations are
//! filtered out on read once expired, and this deletes them for good, in
//! bounded batches (one short write transaction each) so that the space is
//! reused and a sweep never holds the writer for long. `serve` sweeps at
//! start and then periodically (`--sweep-interval-ms`).

use super::StoreResult;
use super::redb_store::RedbStore;
use super::tables::{CONTINUATIONS, RESOURCE_META, RESOURCES, STORAGE};
use redb::{ReadableTable, TableDefinition};

/// A table of byte values keyed by text.
type Table = TableDefinition<'static, &'static str, &'static [u8]>;
/// Reads the expiry (Unix seconds, 0: never) out of a stored value.
type Expiry = fn(&[u8]) -> Option<i64>;

/// Entries deleted per transaction.
pub const SWEEP_BATCH: usize = 256;

/// What one sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Automation resources.
    pub resources: usize,
    /// `storage.*` keys.
    pub storage: usize,
    /// `await` continuations.
    pub continuations: usize,
}

impl SweepReport {
    /// Entries deleted in all.
    pub fn total(&self) -> usize {
        self.resources + self.storage + self.continuations
    }
}

/// The expiry of a packed value (8 bytes big-endian, then the value).
fn packed_expiry(bytes: &[u8]) -> Option<i64> {
    let head: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some(i64::from_be_bytes(head))
}

/// The expiry in a resource's JSON metadata.
fn meta_expiry(bytes: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Meta {
        expires_at: i64,
    }
    serde_json::from_slice::<Meta>(bytes)
        .ok()
        .map(|m| m.expires_at)
}

fn expired(expires_at: Option<i64>, now: i64) -> bool {
    matches!(expires_at, Some(at) if at != 0 && at <= now)
}

impl RedbStore {
    /// Deletes everything that expired at or before `now` (Unix seconds),
    /// `batch` entries per write transaction.
    pub fn sweep_expired(&self, now: i64, batch: usize) -> StoreResult<SweepReport> {
        let batch = batch.max(1);
        let mut report = SweepReport::default();
        // (the table read for the expiry, how to read it, a table keyed the
        // same whose entries go too, the count).
        let sweeps: [(Table, Expiry, Option<Table>, &mut usize); 3] = [
            (
                RESOURCE_META,
                meta_expiry,
                Some(RESOURCES),
                &mut report.resources,
            ),
            (STORAGE, packed_expiry, None, &mut report.storage),
            (
                CONTINUATIONS,
                packed_expiry,
                None,
                &mut report.continuations,
            ),
        ];
        for (table, expiry, paired, count) in sweeps {
            loop {
                let n = self.sweep_batch(table, expiry, paired, now, batch)?;
                *count += n;
                if n < batch {
                    break;
                }
            }
        }
        Ok(report)
    }

    /// Deletes up to `batch` expired entries of `table` (and the same keys
    /// of `paired`) in one write transaction; returns how many.
    fn sweep_batch(
        &self,
        table: Table,
        expiry: Expiry,
        paired: Option<Table>,
        now: i64,
        batch: usize,
    ) -> StoreResult<usize> {
        let txn = self.db().begin_write()?;
        let doomed = {
            let t = txn.open_table(table)?;
            let mut doomed = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                if expired(expiry(v.value()), now) {
                    doomed.push(k.value().to_string());
                    if doomed.len() == batch {
                        break;
                    }
                }
            }
            doomed
        };
        if doomed.is_empty() {
            txn.abort()?;
            return Ok(0);
        }
        {
            let mut t = txn.open_table(table)?;
            let mut other = paired.map(|p| txn.open_table(p)).transpose()?;
            for key in &doomed {
                t.remove(key.as_str())?;
                if let Some(o) = &mut other {
                    o.remove(key.as_str())?;
                }
            }
        }
        txn.commit()?;
        Ok(doomed.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::data::{DataStore, Resource};
    use katabox_value::Value;

    fn resource(token: &str, expires_at: i64) -> Resource {
        Resource {
            token: token.into(),
            name: None,
            mime_type: "text/plain".into(),
            expires_at,
            bytes: vec![7u8; 1024],
        }
    }

    #[test]
    fn expired_entries_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store =
            RedbStore::open(dir.path(), crate::store::StoreConfig::default()).expect("open");
        for i in 0..600 {
            store
                .resource_write(resource(&format!("old{i}"), 100))
                .expect("write");
        }
        store.resource_write(resource("forever", 0)).expect("write");
        store.resource_write(resource("later", 500)).expect("write");
        store.storage_set("gone", Value::Int(1), 100).expect("set");
        store.storage_set("kept", Value::Int(2), 0).expect("set");
        store
            .continuation_save("c1", Value::Int(3), 99)
            .expect("save");
        let report = store.sweep_expired(200, 64).expect("sweep");
        assert_eq!(
            report,
            SweepReport {
                resources: 600,
                storage: 1,
                continuations: 1
            }
        );
        assert!(store.resource_read("forever", 200).expect("read").is_some());
        assert!(store.resource_read("later", 200).expect("read").is_some());
        assert!(store.resource_read("old5", 0).expect("read").is_none());
        assert_eq!(
            store.storage_get("kept", 200).expect("get"),
            Some(Value::Int(2))
        );
        assert_eq!(store.storage_get("gone", 0).expect("get"), None);
        assert_eq!(store.sweep_expired(200, 64).expect("again").total(), 0);
        assert_eq!(store.sweep_expired(600, 64).expect("later").resources, 1);
    }
}
