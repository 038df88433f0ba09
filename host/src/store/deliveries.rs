//! Webhook dedupe records (table `webhook_deliveries`): claim, complete,
//! expire. Each call is one write transaction, so the read, the decision
//! and the claim of a delivery cannot interleave with a concurrent copy.

use super::StoreResult;
use super::redb_store::RedbStore;
use super::tables::WEBHOOK_DELIVERIES;
use katabox_verify::{DedupeDecision, DedupeKey, DedupeRecord, StoredResponse};
use redb::{ReadableTable, WriteTransaction};

/// Largest response body kept for replay.
pub const MAX_STORED_BODY: usize = 1024 * 1024;

impl RedbStore {
    /// Looks the delivery up and decides; on [`DedupeDecision::Run`] the key
    /// is claimed (a pending record) in the same transaction.
    pub fn claim_delivery(
        &self,
        key: &DedupeKey,
        delivery_id: &str,
        now: i64,
    ) -> StoreResult<DedupeDecision> {
        let txn = self.db().begin_write()?;
        let decision = {
            let mut table = txn.open_table(WEBHOOK_DELIVERIES)?;
            let record = table
                .get(key.as_str())?
                .and_then(|v| DedupeRecord::decode(v.value()));
            let decision = DedupeRecord::decide(record.as_ref(), now);
            if decision == DedupeDecision::Run {
                let claim = key.claim(delivery_id, now);
                table.insert(key.as_str(), claim.encode().as_slice())?;
            }
            decision
        };
        txn.commit()?;
        Ok(decision)
    }

    /// Stores the first delivery's response for replay, or removes the
    /// claim when the response must not be replayed (5xx, a body over
    /// [`MAX_STORED_BODY`], or `None`: the run produced no answer).
    pub fn complete_delivery(
        &self,
        key: &DedupeKey,
        response: Option<StoredResponse>,
    ) -> StoreResult<()> {
        let txn = self.db().begin_write()?;
        {
            let mut table = txn.open_table(WEBHOOK_DELIVERIES)?;
            let record = table
                .get(key.as_str())?
                .and_then(|v| DedupeRecord::decode(v.value()));
            let keep = response.filter(|r| r.is_replayable() && r.body.len() <= MAX_STORED_BODY);
            match (record, keep) {
                (Some(mut record), Some(response)) => {
                    record.complete(response);
                    table.insert(key.as_str(), record.encode().as_slice())?;
                }
                _ => {
                    table.remove(key.as_str())?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Removes expired dedupe records (and unreadable ones); returns how
    /// many were removed.
    pub fn purge_deliveries(&self, now: i64) -> StoreResult<u64> {
        let txn = self.db().begin_write()?;
        let mut removed = 0u64;
        {
            let mut table = txn.open_table(WEBHOOK_DELIVERIES)?;
            table.retain(|_, v| {
                let keep = DedupeRecord::decode(v).is_some_and(|r| !r.is_expired(now));
                if !keep {
                    removed += 1;
                }
                keep
            })?;
        }
        txn.commit()?;
        Ok(removed)
    }

    /// The number of dedupe records (for tests and operators).
    pub fn delivery_count(&self) -> StoreResult<u64> {
        use redb::{ReadableDatabase, ReadableTableMetadata};
        let txn = self.db().begin_read()?;
        Ok(txn.open_table(WEBHOOK_DELIVERIES)?.len()?)
    }
}

/// Removes every dedupe record of listener `id` (keys `"<id>:…"`).
pub(super) fn remove_listener_deliveries(txn: &WriteTransaction, id: u64) -> StoreResult<()> {
    let prefix = format!("{id}:");
    // ':' + 1 == ';': the range covers exactly the keys starting with the prefix.
    let end = format!("{id};");
    let mut table = txn.open_table(WEBHOOK_DELIVERIES)?;
    table.retain_in(prefix.as_str()..end.as_str(), |_, _| false)?;
    Ok(())
}
