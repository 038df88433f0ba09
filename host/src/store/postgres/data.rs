//! The sandbox's data ([`DataStore`]), webhook dedupe and the expiry sweep
//! on PostgreSQL. A delivery is claimed with `INSERT … ON CONFLICT DO
//! NOTHING`, so two hosts receiving the same delivery at once run it once.

use super::{PgStore, exec, get, next_ids, one, opt, rows};
use crate::capabilities::data::{DataError, DataStore, QueueMessage, Resource};
use crate::store::{Backend, StoreResult, SweepReport};
use katabox_value::{Value, wire};
use katabox_verify::{DedupeDecision, DedupeKey, DedupeRecord, StoredResponse};
use std::collections::BTreeMap;

fn live(expires_at: i64, now: i64) -> bool {
    expires_at == 0 || expires_at > now
}

fn decode(bytes: &[u8]) -> Result<Value, DataError> {
    wire::decode(bytes).map_err(|e| DataError(format!("store: {e}")))
}

/// The listener id a dedupe key starts with (`<id>:<hash>`).
fn key_listener(key: &DedupeKey) -> i64 {
    key.as_str()
        .split(':')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}

impl DataStore for PgStore {
    fn storage_get(&self, key: &str, now: i64) -> Result<Option<Value>, DataError> {
        self.live_value(
            "SELECT value, expires_at FROM kb_storage WHERE key = $1",
            key,
            now,
        )
    }

    fn storage_set(&self, key: &str, value: Value, expires_at: i64) -> Result<(), DataError> {
        let bytes = wire::encode(&value);
        self.execute(
            "INSERT INTO kb_storage (key, expires_at, value) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at, value = EXCLUDED.value",
            &[&key, &expires_at, &bytes],
        )?;
        Ok(())
    }

    fn storage_delete(&self, key: &str) -> Result<(), DataError> {
        self.execute("DELETE FROM kb_storage WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn queue_exists(&self, queue: &str) -> Result<bool, DataError> {
        let found = self.query_opt(
            "SELECT 1 FROM kb_queue_defs WHERE name = $1",
            &[&queue],
            |_| Ok(()),
        )?;
        Ok(found.is_some())
    }

    fn queue_push(&self, queue: &str, messages: Vec<QueueMessage>) -> Result<(), DataError> {
        let known = in_tx!(self, |tx| {
            if opt(tx, "SELECT 1 FROM kb_queue_defs WHERE name = $1", &[&queue])
                .await?
                .is_none()
            {
                return Ok(false);
            }
            if messages.is_empty() {
                return Ok(true);
            }
            let first = next_ids(tx, "queue", messages.len() as u64).await? as i64;
            let mut seqs = Vec::new();
            let mut ids = Vec::new();
            let mut at = Vec::new();
            let mut data = Vec::new();
            for (n, m) in messages.iter().enumerate() {
                seqs.push(first + n as i64);
                ids.push(m.id.clone());
                at.push(m.available_at);
                data.push(wire::encode(&m.data));
            }
            exec(
                tx,
                "INSERT INTO kb_queue_items (queue, seq, id, available_at, data) \
                 SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::bigint[], $5::bytea[])",
                &[&queue, &seqs, &ids, &at, &data],
            )
            .await?;
            Ok(true)
        })?;
        if known {
            Ok(())
        } else {
            Err(DataError(format!("Unknown queue `{queue}`")))
        }
    }

    fn queue_pop(
        &self,
        queue: &str,
        limit: usize,
        now: i64,
    ) -> Result<Vec<QueueMessage>, DataError> {
        let limit = limit as i64;
        let mut popped = self.with(|c| async move {
            rows(
                &c,
                "DELETE FROM kb_queue_items WHERE (queue, seq) IN (SELECT queue, seq FROM kb_queue_items \
                 WHERE queue = $1 AND available_at <= $2 ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING seq, id, available_at, data",
                &[&queue, &now, &limit],
            )
            .await?
            .iter()
            .map(|r| {
                Ok((
                    get::<i64>(r, 0)?,
                    get::<String>(r, 1)?,
                    get::<i64>(r, 2)?,
                    get::<Vec<u8>>(r, 3)?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()
        })?;
        popped.sort_by_key(|p| p.0);
        popped
            .into_iter()
            .map(|(_, id, available_at, data)| {
                Ok(QueueMessage {
                    id,
                    data: decode(&data)?,
                    available_at,
                })
            })
            .collect()
    }

    fn metric_dimensions(&self, metric: &str) -> Result<Option<Vec<String>>, DataError> {
        let found = self.query_opt(
            "SELECT dimensions FROM kb_metric_defs WHERE name = $1",
            &[&metric],
            |r| get::<String>(r, 0),
        )?;
        found
            .map(|d| serde_json::from_str(&d).map_err(|e| DataError(format!("store: {e}"))))
            .transpose()
    }

    fn metric_increment(
        &self,
        metric: &str,
        dimensions: &BTreeMap<String, String>,
        value: f64,
        timestamp: i64,
    ) -> Result<(), DataError> {
        let dims = serde_json::to_string(dimensions).map_err(|e| DataError(e.to_string()))?;
        self.execute(
            "INSERT INTO kb_metrics (metric, dimensions, ts, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (metric, dimensions, ts) DO UPDATE SET value = kb_metrics.value + EXCLUDED.value",
            &[&metric, &dims, &timestamp, &value],
        )?;
        Ok(())
    }

    fn resource_read(&self, token: &str, now: i64) -> Result<Option<Resource>, DataError> {
        let found = self.query_opt(
            "SELECT name, mime_type, expires_at, bytes FROM kb_resources WHERE token = $1",
            &[&token],
            |r| {
                Ok(Resource {
                    token: token.to_string(),
                    name: get(r, 0)?,
                    mime_type: get(r, 1)?,
                    expires_at: get(r, 2)?,
                    bytes: get(r, 3)?,
                })
            },
        )?;
        Ok(found.filter(|r| live(r.expires_at, now)))
    }

    fn resource_write(&self, resource: Resource) -> Result<(), DataError> {
        self.execute(
            "INSERT INTO kb_resources (token, name, mime_type, expires_at, bytes) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token) DO UPDATE SET \
             name = EXCLUDED.name, mime_type = EXCLUDED.mime_type, \
             expires_at = EXCLUDED.expires_at, bytes = EXCLUDED.bytes",
            &[
                &resource.token,
                &resource.name,
                &resource.mime_type,
                &resource.expires_at,
                &resource.bytes,
            ],
        )?;
        Ok(())
    }

    fn continuation_save(
        &self,
        token: &str,
        dict: Value,
        expires_at: i64,
    ) -> Result<(), DataError> {
        let bytes = wire::encode(&dict);
        self.execute(
            "INSERT INTO kb_continuations (token, expires_at, value) VALUES ($1, $2, $3) \
             ON CONFLICT (token) DO UPDATE SET expires_at = EXCLUDED.expires_at, value = EXCLUDED.value",
            &[&token, &expires_at, &bytes],
        )?;
        Ok(())
    }

    fn continuation_load(&self, token: &str, now: i64) -> Result<Option<Value>, DataError> {
        self.live_value(
            "SELECT value, expires_at FROM kb_continuations WHERE token = $1",
            token,
            now,
        )
    }
}

impl PgStore {
    /// The value `sql` (selecting `value, expires_at` by one key) finds,
    /// unless it expired by `now`.
    fn live_value(&self, sql: &str, key: &str, now: i64) -> Result<Option<Value>, DataError> {
        let found = self.query_opt(sql, &[&key], |r| {
            Ok((get::<Vec<u8>>(r, 0)?, get::<i64>(r, 1)?))
        })?;
        match found {
            Some((bytes, exp)) if live(exp, now) => Ok(Some(decode(&bytes)?)),
            _ => Ok(None),
        }
    }
}

impl crate::sandbox::AutomationSource for PgStore {
    fn automation(&self, name: &str) -> Option<crate::sandbox::AutomationRecord> {
        crate::store::Store::automation(self, name)
            .ok()
            .flatten()
            .map(|row| crate::server::record_of(&row))
    }
}

impl Backend for PgStore {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn automation_source(
        self: std::sync::Arc<Self>,
    ) -> std::sync::Arc<dyn crate::sandbox::AutomationSource> {
        self
    }

    fn claim_delivery(
        &self,
        key: &DedupeKey,
        delivery_id: &str,
        now: i64,
    ) -> StoreResult<DedupeDecision> {
        let claim = key.claim(delivery_id, now);
        let encoded = claim.encode();
        let listener = key_listener(key);
        let k = key.as_str();
        // The common case, a new delivery, is one statement.
        let inserted = self.with(|c| async move {
            exec(
                &c,
                "INSERT INTO kb_webhook_deliveries (key, listener_id, expires_at, record) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
                &[&k, &listener, &claim.expires_at, &encoded],
            )
            .await
        })?;
        if inserted == 1 {
            return Ok(DedupeDecision::Run);
        }
        in_tx!(self, |tx| {
            let record = opt(
                tx,
                "SELECT record FROM kb_webhook_deliveries WHERE key = $1 FOR UPDATE",
                &[&k],
            )
            .await?
            .and_then(|r| get::<Vec<u8>>(&r, 0).ok())
            .and_then(|b| DedupeRecord::decode(&b));
            let decision = DedupeRecord::decide(record.as_ref(), now);
            if decision == DedupeDecision::Run {
                let claim = key.claim(delivery_id, now);
                exec(
                    tx,
                    "INSERT INTO kb_webhook_deliveries (key, listener_id, expires_at, record) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE SET \
                     expires_at = EXCLUDED.expires_at, record = EXCLUDED.record",
                    &[&k, &listener, &claim.expires_at, &claim.encode()],
                )
                .await?;
            }
            Ok(decision)
        })
    }

    fn complete_delivery(
        &self,
        key: &DedupeKey,
        response: Option<StoredResponse>,
    ) -> StoreResult<()> {
        let k = key.as_str();
        let keep = response.filter(|r| {
            r.is_replayable() && r.body.len() <= crate::store::deliveries::MAX_STORED_BODY
        });
        in_tx!(self, |tx| {
            let record = opt(
                tx,
                "SELECT record FROM kb_webhook_deliveries WHERE key = $1 FOR UPDATE",
                &[&k],
            )
            .await?
            .and_then(|r| get::<Vec<u8>>(&r, 0).ok())
            .and_then(|b| DedupeRecord::decode(&b));
            match (record, keep) {
                (Some(mut record), Some(response)) => {
                    record.complete(response);
                    exec(
                        tx,
                        "UPDATE kb_webhook_deliveries SET record = $2 WHERE key = $1",
                        &[&k, &record.encode()],
                    )
                    .await?;
                }
                _ => {
                    exec(
                        tx,
                        "DELETE FROM kb_webhook_deliveries WHERE key = $1",
                        &[&k],
                    )
                    .await?;
                }
            }
            Ok(())
        })
    }

    fn purge_deliveries(&self, now: i64) -> StoreResult<u64> {
        self.with(|c| async move {
            exec(
                &c,
                "DELETE FROM kb_webhook_deliveries WHERE expires_at <= $1",
                &[&now],
            )
            .await
        })
    }

    fn delivery_count(&self) -> StoreResult<u64> {
        self.with(|c| async move {
            let r = one(&c, "SELECT count(*) FROM kb_webhook_deliveries", &[]).await?;
            Ok(get::<i64>(&r, 0)? as u64)
        })
    }

    fn packages(&self) -> StoreResult<Vec<crate::store::PackageRecord>> {
        self.with(|c| async move {
            rows(&c, "SELECT doc FROM kb_packages ORDER BY key", &[])
                .await?
                .iter()
                .map(|r| super::json(get::<&str>(r, 0)?))
                .collect()
        })
    }

    fn sweep_expired(&self, now: i64, batch: usize) -> StoreResult<SweepReport> {
        let batch = batch.max(1) as i64;
        let mut report = SweepReport::default();
        for (table, key, count) in [
            ("kb_resources", "token", &mut report.resources),
            ("kb_storage", "key", &mut report.storage),
            ("kb_continuations", "token", &mut report.continuations),
        ] {
            let sql = format!(
                "DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} \
                 WHERE expires_at <> 0 AND expires_at <= $1 LIMIT $2)"
            );
            loop {
                let sql = sql.as_str();
                let n = self.with(|c| async move { exec(&c, sql, &[&now, &batch]).await })?;
                *count += n as usize;
                if n < batch as u64 {
                    break;
                }
            }
        }
        Ok(report)
    }

    fn flush_history(&self) {
        self.history.stop();
    }

    fn history_queue_depth(&self) -> usize {
        self.history.depth()
    }

    fn define_queue(&self, name: &str) -> Result<(), DataError> {
        self.with(|c| async move {
            exec(
                &c,
                "INSERT INTO kb_queue_defs (name) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&name],
            )
            .await
        })?;
        Ok(())
    }

    fn define_metric(&self, name: &str, dimensions: &[&str]) -> Result<(), DataError> {
        let dims = serde_json::to_string(dimensions).map_err(|e| DataError(e.to_string()))?;
        self.with(|c| async move {
            exec(
                &c,
                "INSERT INTO kb_metric_defs (name, dimensions) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET dimensions = EXCLUDED.dimensions",
                &[&name, &dims],
            )
            .await
        })?;
        Ok(())
    }

    fn metric_total(&self, metric: &str) -> Result<f64, DataError> {
        Ok(self.with(|c| async move {
            let r = one(
                &c,
                "SELECT coalesce(sum(value), 0)::double precision FROM kb_metrics WHERE metric = $1",
                &[&metric],
            )
            .await?;
            get::<f64>(&r, 0)
        })?)
    }
}
