//! The data the capabilities keep between runs, behind one trait.
//!
//! [`DataStore`] is what `storage.*`, `queue.*`, `metric.increment`,
//! `file.*` and continuations use. The server implements it on its durable
//! store; [`MemoryStore`] keeps everything in memory (tests and the CLI).
//!
//! Times are Unix timestamps in seconds. Values are the value model's
//! [`Value`]; a store that persists them may use `katabox_value::wire`.

use katabox_value::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

/// A store failure (I/O, corruption). Capabilities report it as a command error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

/// One queued message as `queue.pop` returns it.
#[derive(Debug, Clone)]
pub struct QueueMessage {
    /// The message id (a UUID).
    pub id: String,
    /// The message body as pushed.
    pub data: Value,
    /// Unix time from which the message may be popped.
    pub available_at: i64,
}

/// A stored blob (an automation resource, `cerb:automation_resource:TOKEN`).
#[derive(Debug, Clone)]
pub struct Resource {
    /// The resource token (a UUID).
    pub token: String,
    /// Optional file name.
    pub name: Option<String>,
    /// MIME type.
    pub mime_type: String,
    /// Unix time after which the resource is gone (0 = never).
    pub expires_at: i64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Everything the capabilities keep between runs. All methods take `&self`
/// and must be safe to call from many runs at once.
pub trait DataStore: Send + Sync {
    /// `storage.get`: the value under `key`, or `None` if missing or expired
    /// at `now`.
    fn storage_get(&self, key: &str, now: i64) -> Result<Option<Value>, DataError>;
    /// `storage.set`: stores `value` under `key`; `expires_at` 0 = never.
    fn storage_set(&self, key: &str, value: Value, expires_at: i64) -> Result<(), DataError>;
    /// `storage.delete`: removes `key` (no error when missing).
    fn storage_delete(&self, key: &str) -> Result<(), DataError>;

    /// Whether a queue with this name exists (queues are defined by the operator).
    fn queue_exists(&self, queue: &str) -> Result<bool, DataError>;
    /// `queue.push`: appends messages, returns nothing; ids are chosen by the caller.
    fn queue_push(&self, queue: &str, messages: Vec<QueueMessage>) -> Result<(), DataError>;
    /// `queue.pop`: removes and returns up to `limit` messages available at `now`, oldest first.
    fn queue_pop(
        &self,
        queue: &str,
        limit: usize,
        now: i64,
    ) -> Result<Vec<QueueMessage>, DataError>;

    /// The dimension names of a defined metric, or `None` if the metric is unknown.
    fn metric_dimensions(&self, metric: &str) -> Result<Option<Vec<String>>, DataError>;
    /// `metric.increment`: adds `value` to the metric at `timestamp` for `dimensions`.
    fn metric_increment(
        &self,
        metric: &str,
        dimensions: &BTreeMap<String, String>,
        value: f64,
        timestamp: i64,
    ) -> Result<(), DataError>;

    /// `file.read`: a resource by token, or `None` if missing or expired at `now`.
    fn resource_read(&self, token: &str, now: i64) -> Result<Option<Resource>, DataError>;
    /// `file.write`: stores (or replaces) a resource.
    fn resource_write(&self, resource: Resource) -> Result<(), DataError>;

    /// Saves an awaiting run's dictionary under `token` (continuations).
    fn continuation_save(&self, token: &str, dict: Value, expires_at: i64)
    -> Result<(), DataError>;
    /// Loads a saved continuation, or `None` if missing or expired at `now`.
    fn continuation_load(&self, token: &str, now: i64) -> Result<Option<Value>, DataError>;
}

/// A metric counter's key: metric, dimensions, timestamp.
type CounterKey = (String, Vec<(String, String)>, i64);

#[derive(Default)]
struct MemoryInner {
    storage: HashMap<String, (Value, i64)>,
    queues: HashMap<String, VecDeque<QueueMessage>>,
    metrics: HashMap<String, Vec<String>>,
    counters: HashMap<CounterKey, f64>,
    resources: HashMap<String, Resource>,
    continuations: HashMap<String, (Value, i64)>,
}

/// An in-memory [`DataStore`] for tests and the CLI. Queues and metrics
/// must be defined with [`MemoryStore::define_queue`] / [`MemoryStore::define_metric`].
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

fn live(expires_at: i64, now: i64) -> bool {
    expires_at == 0 || expires_at > now
}

impl MemoryStore {
    /// An empty store with no queues and no metrics.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, MemoryInner>, DataError> {
        self.inner
            .lock()
            .map_err(|_| DataError("the in-memory store is poisoned".into()))
    }

    /// Defines a queue.
    pub fn define_queue(&self, name: &str) {
        if let Ok(mut g) = self.lock() {
            g.queues.entry(name.to_string()).or_default();
        }
    }

    /// Defines a metric with its dimension names.
    pub fn define_metric(&self, name: &str, dimensions: &[&str]) {
        if let Ok(mut g) = self.lock() {
            g.metrics.insert(
                name.to_string(),
                dimensions.iter().map(|d| d.to_string()).collect(),
            );
        }
    }

    /// The sum of all increments of `metric` (for tests).
    pub fn metric_total(&self, metric: &str) -> f64 {
        self.lock()
            .map(|g| {
                g.counters
                    .iter()
                    .filter(|((m, _, _), _)| m == metric)
                    .map(|(_, v)| *v)
                    .sum()
            })
            .unwrap_or(0.0)
    }
}

impl DataStore for MemoryStore {
    fn storage_get(&self, key: &str, now: i64) -> Result<Option<Value>, DataError> {
        let g = self.lock()?;
        Ok(g.storage
            .get(key)
            .filter(|(_, exp)| live(*exp, now))
            .map(|(v, _)| v.clone()))
    }

    fn storage_set(&self, key: &str, value: Value, expires_at: i64) -> Result<(), DataError> {
        self.lock()?
            .storage
            .insert(key.to_string(), (value, expires_at));
        Ok(())
    }

    fn storage_delete(&self, key: &str) -> Result<(), DataError> {
        self.lock()?.storage.remove(key);
        Ok(())
    }

    fn queue_exists(&self, queue: &str) -> Result<bool, DataError> {
        Ok(self.lock()?.queues.contains_key(queue))
    }

    fn queue_push(&self, queue: &str, messages: Vec<QueueMessage>) -> Result<(), DataError> {
        let mut g = self.lock()?;
        let q = g
            .queues
            .get_mut(queue)
            .ok_or_else(|| DataError(format!("Unknown queue `{queue}`")))?;
        q.extend(messages);
        Ok(())
    }

    fn queue_pop(
        &self,
        queue: &str,
        limit: usize,
        now: i64,
    ) -> Result<Vec<QueueMessage>, DataError> {
        let mut g = self.lock()?;
        let Some(q) = g.queues.get_mut(queue) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut keep = VecDeque::with_capacity(q.len());
        while let Some(m) = q.pop_front() {
            if out.len() < limit && m.available_at <= now {
                out.push(m);
            } else {
                keep.push_back(m);
            }
        }
        *q = keep;
        Ok(out)
    }

    fn metric_dimensions(&self, metric: &str) -> Result<Option<Vec<String>>, DataError> {
        Ok(self.lock()?.metrics.get(metric).cloned())
    }

    fn metric_increment(
        &self,
        metric: &str,
        dimensions: &BTreeMap<String, String>,
        value: f64,
        timestamp: i64,
    ) -> Result<(), DataError> {
        let dims: Vec<(String, String)> = dimensions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        *self
            .lock()?
            .counters
            .entry((metric.to_string(), dims, timestamp))
            .or_insert(0.0) += value;
        Ok(())
    }

    fn resource_read(&self, token: &str, now: i64) -> Result<Option<Resource>, DataError> {
        Ok(self
            .lock()?
            .resources
            .get(token)
            .filter(|r| live(r.expires_at, now))
            .cloned())
    }

    fn resource_write(&self, resource: Resource) -> Result<(), DataError> {
        self.lock()?
            .resources
            .insert(resource.token.clone(), resource);
        Ok(())
    }

    fn continuation_save(
        &self,
        token: &str,
        dict: Value,
        expires_at: i64,
    ) -> Result<(), DataError> {
        self.lock()?
            .continuations
            .insert(token.to_string(), (dict, expires_at));
        Ok(())
    }

    fn continuation_load(&self, token: &str, now: i64) -> Result<Option<Value>, DataError> {
        Ok(self
            .lock()?
            .continuations
            .get(token)
            .filter(|(_, exp)| live(*exp, now))
            .map(|(v, _)| v.clone()))
    }
}
