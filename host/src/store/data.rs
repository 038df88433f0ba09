//! The sandbox's data trait ([`DataStore`]: storage, queues, metrics,
//! resources, continuations) on redb. One write transaction per call.

use super::StoreError;
use super::redb_store::{RedbStore, next_counter};
use super::tables::*;
use crate::capabilities::data::{DataError, DataStore, QueueMessage, Resource};
use katabox_value::{Value, wire};
use redb::{ReadableDatabase, ReadableTable};
use std::collections::BTreeMap;

impl From<StoreError> for DataError {
    fn from(e: StoreError) -> Self {
        DataError(e.to_string())
    }
}

fn db_err(e: impl std::fmt::Display) -> DataError {
    DataError(format!("store: {e}"))
}

fn live(expires_at: i64, now: i64) -> bool {
    expires_at == 0 || expires_at > now
}

/// 8 bytes of big-endian expiry followed by the wire-encoded value.
fn pack(value: &Value, expires_at: i64) -> Vec<u8> {
    let mut out = expires_at.to_be_bytes().to_vec();
    wire::encode_into(value, &mut out);
    out
}

fn unpack(bytes: &[u8]) -> Result<(Value, i64), DataError> {
    if bytes.len() < 8 {
        return Err(DataError("store: truncated value".into()));
    }
    let mut exp = [0u8; 8];
    exp.copy_from_slice(&bytes[..8]);
    let v = wire::decode(&bytes[8..]).map_err(db_err)?;
    Ok((v, i64::from_be_bytes(exp)))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct QueueEntry {
    id: String,
    available_at: i64,
    data: Vec<u8>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ResourceMeta {
    name: Option<String>,
    mime_type: String,
    expires_at: i64,
}

impl RedbStore {
    /// Defines a queue (queues are operator-defined).
    pub fn define_queue(&self, name: &str) -> Result<(), DataError> {
        let txn = self.db().begin_write().map_err(db_err)?;
        txn.open_table(QUEUE_DEFS)
            .map_err(db_err)?
            .insert(name, 1)
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// Defines a metric and its dimension names.
    pub fn define_metric(&self, name: &str, dimensions: &[&str]) -> Result<(), DataError> {
        let dims = serde_json::to_vec(dimensions).map_err(db_err)?;
        let txn = self.db().begin_write().map_err(db_err)?;
        txn.open_table(METRIC_DEFS)
            .map_err(db_err)?
            .insert(name, dims.as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// The sum of all increments of `metric`.
    pub fn metric_total(&self, metric: &str) -> Result<f64, DataError> {
        let txn = self.db().begin_read().map_err(db_err)?;
        let t = txn.open_table(METRICS).map_err(db_err)?;
        let prefix = format!("{metric}\u{1f}");
        let mut total = 0.0;
        for item in t.range(prefix.as_str()..).map_err(db_err)? {
            let (k, v) = item.map_err(db_err)?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            total += v.value();
        }
        Ok(total)
    }
}

impl DataStore for RedbStore {
    fn storage_get(&self, key: &str, now: i64) -> Result<Option<Value>, DataError> {
        let txn = self.db().begin_read().map_err(db_err)?;
        let t = txn.open_table(STORAGE).map_err(db_err)?;
        let Some(raw) = t.get(key).map_err(db_err)? else {
            return Ok(None);
        };
        let (v, exp) = unpack(raw.value())?;
        Ok(live(exp, now).then_some(v))
    }

    fn storage_set(&self, key: &str, value: Value, expires_at: i64) -> Result<(), DataError> {
        let txn = self.db().begin_write().map_err(db_err)?;
        txn.open_table(STORAGE)
            .map_err(db_err)?
            .insert(key, pack(&value, expires_at).as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    fn storage_delete(&self, key: &str) -> Result<(), DataError> {
        let txn = self.db().begin_write().map_err(db_err)?;
        txn.open_table(STORAGE)
            .map_err(db_err)?
            .remove(key)
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    fn queue_exists(&self, queue: &str) -> Result<bool, DataError> {
        let txn = self.db().begin_read().map_err(db_err)?;
        let t = txn.open_table(QUEUE_DEFS).map_err(db_err)?;
        Ok(t.get(queue).map_err(db_err)?.is_some())
    }

    fn queue_push(&self, queue: &str, messages: Vec<QueueMessage>) -> Result<(), DataError> {
        let txn = self.db().begin_write().map_err(db_err)?;
        if txn
            .open_table(QUEUE_DEFS)
            .map_err(db_err)?
            .get(queue)
            .map_err(db_err)?
            .is_none()
        {
            txn.abort().map_err(db_err)?;
            return Err(DataError(format!("Unknown queue `{queue}`")));
        }
        for m in messages {
            let seq = next_counter(&txn, "queue")?;
            let entry = QueueEntry {
                id: m.id,
                available_at: m.available_at,
                data: wire::encode(&m.data),
            };
            let bytes = serde_json::to_vec(&entry).map_err(db_err)?;
            txn.open_table(QUEUE_ITEMS)
                .map_err(db_err)?
                .insert((queue, seq), bytes.as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    fn queue_pop(
        &self,
        queue: &str,
        limit: usize,
        now: i64,
    ) -> Result<Vec<QueueMessage>, DataError> {
        let txn = self.db().begin_write().map_err(db_err)?;
        let mut out = Vec::new();
        {
            let mut t = txn.open_table(QUEUE_ITEMS).map_err(db_err)?;
            let mut taken = Vec::new();
            for item in t.range((queue, 0)..=(queue, u64::MAX)).map_err(db_err)? {
                if out.len() >= limit {
                    break;
                }
                let (k, v) = item.map_err(db_err)?;
                let entry: QueueEntry = serde_json::from_slice(v.value()).map_err(db_err)?;
                if entry.available_at > now {
                    continue;
                }
                taken.push(k.value().1);
                out.push(QueueMessage {
                    id: entry.id,
                    data: wire::decode(&entry.data).map_err(db_err)?,
                    available_at: entry.available_at,
                });
            }
            for seq in taken {
                t.remove((queue, seq)).map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(out)
    }

    fn metric_dimensions(&self, metric: &str) -> Result<Option<Vec<String>>, DataError> {
        let txn = self.db().begin_read().map_err(db_err)?;
        let t = txn.open_table(METRIC_DEFS).map_err(db_err)?;
        match t.get(metric).map_err(db_err)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value()).map_err(db_err)?)),
            None => Ok(None),
        }
    }

    fn metric_increment(
        &self,
        metric: &str,
        dimensions: &BTreeMap<String, String>,
        value: f64,
        timestamp: i64,
    ) -> Result<(), DataError> {
        let dims = serde_json::to_string(dimensions).map_err(db_err)?;
        let key = format!("{metric}\u{1f}{dims}\u{1f}{timestamp}");
        let txn = self.db().begin_write().map_err(db_err)?;
        {
            let mut t = txn.open_table(METRICS).map_err(db_err)?;
            let cur = t
                .get(key.as_str())
                .map_err(db_err)?
                .map(|v| v.value())
                .unwrap_or(0.0);
            t.insert(key.as_str(), cur + value).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    fn resource_read(&self, token: &str, now: i64) -> Result<Option<Resource>, DataError> {
        let txn = self.db().begin_read().map_err(db_err)?;
        let meta_t = txn.open_table(RESOURCE_META).map_err(db_err)?;
        let Some(meta) = meta_t.get(token).map_err(db_err)? else {
            return Ok(None);
        };
        let meta: ResourceMeta = serde_json::from_slice(meta.value()).map_err(db_err)?;
        if !live(meta.expires_at, now) {
            return Ok(None);
        }
        let bytes_t = txn.open_table(RESOURCES).map_err(db_err)?;
        let bytes = bytes_t
            .get(token)
            .map_err(db_err)?
            .map(|v| v.value().to_vec())
            .unwrap_or_default();
        Ok(Some(Resource {
            token: token.to_string(),
            name: meta.name,
            mime_type: meta.mime_type,
            expires_at: meta.expires_at,
            bytes,
        }))
    }

    fn resource_write(&self, resource: Resource) -> Result<(), DataError> {
        let meta = serde_json::to_vec(&ResourceMeta {
            name: resource.name,
            mime_type: resource.mime_type,
            expires_at: resource.expires_at,
        })
        .map_err(db_err)?;
        let txn = self.db().begin_write().map_err(db_err)?;
        txn.open_table(RESOURCE_META)
            .map_err(db_err)?
            .insert(resource.token.as_str(), meta.as_slice())
            .map_err(db_err)?;
        txn.open_table(RESOURCES)
            .map_err(db_err)?
            .insert(resource.token.as_str(), resource.bytes.as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    fn continuation_save(
        &self,
        token: &str,
        dict: Value,
        expires_at: i64,
    ) -> Result<(), DataError> {
        let txn = self.db().begin_write().map_err(db_err)?;
        txn.open_table(CONTINUATIONS)
            .map_err(db_err)?
            .insert(token, pack(&dict, expires_at).as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    fn continuation_load(&self, token: &str, now: i64) -> Result<Option<Value>, DataError> {
        let txn = self.db().begin_read().map_err(db_err)?;
        let t = txn.open_table(CONTINUATIONS).map_err(db_err)?;
        let Some(raw) = t.get(token).map_err(db_err)? else {
            return Ok(None);
        };
        let (v, exp) = unpack(raw.value())?;
        Ok(live(exp, now).then_some(v))
    }
}

impl crate::sandbox::AutomationSource for RedbStore {
    fn automation(&self, name: &str) -> Option<crate::sandbox::AutomationRecord> {
        use super::Store;
        Store::automation(self, name)
            .ok()
            .flatten()
            .map(|row| crate::server::record_of(&row))
    }
}
