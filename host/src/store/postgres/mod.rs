//! The PostgreSQL backend of [`Store`] (`serve --store postgres://…`):
//! several hosts share one database (docs/scale-out.md).
//!
//! Connections come from a deadpool pool of async tokio-postgres clients
//! that lives on a small runtime of its own (two threads, `katabox-pg`).
//! The [`Store`] and [`DataStore`] traits are synchronous; a call waits
//! for its query on that runtime: directly on a plain or `spawn_blocking`
//! thread, inside `tokio::task::block_in_place` on a worker of a
//! multi-threaded runtime (the sandbox's host calls and the webhook path
//! run there), and on a scoped helper thread inside a current-thread
//! runtime. No sync client is ever driven inside a runtime, and a worker
//! never blocks without telling tokio.
//!
//! The schema is versioned: [`migrations`](self::MIGRATIONS) embedded in
//! the binary are applied at start under `pg_advisory_lock`, so hosts that
//! start together migrate once. Listener and automation lookups are cached
//! in each host; a change commits with `NOTIFY katabox_changes`, which
//! every host `LISTEN`s to (and a periodic re-check of a generation counter
//! catches a missed notification). Timers are claimed with `FOR UPDATE
//! SKIP LOCKED` against the database's clock (`now()`), never a host's.

/// Runs `$body` (async, with `$tx` the transaction) in one transaction
/// from synchronous code: committed when it yields `Ok`.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:block) => {{
        let inner = &$store.inner;
        inner.bridge.block(async move {
            let mut client = inner.client().await?;
            $crate::store::postgres::trip();
            let transaction = client.transaction().await.map_err($crate::store::postgres::pg_err)?;
            let outcome: $crate::store::StoreResult<_> = {
                let $tx = &transaction;
                async $body.await
            };
            $crate::store::postgres::trip();
            match outcome {
                Ok(v) => {
                    transaction.commit().await.map_err($crate::store::postgres::pg_err)?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = transaction.rollback().await;
                    Err(e)
                }
            }
        })
    }};
}

mod data;
mod history;
mod notify;
mod transfer;

pub use transfer::Inventory;

use super::history::HistoryWriter;
use super::lookup_cache::LookupCache;
use super::redb_store::{duplicate_guid, listener_from_input};
use super::runs::{RunCursor, RunFilter, RunPage};
use super::{
    AutomationChange, AutomationRow, ContinuationChange, ListenerInput, ListenerRecord,
    PackageRecord, RunRecord, Store, StoreConfig, StoreError, StoreResult, TimerContinuation,
    TimerRecord, TimerUpdate, WriteTx, now_unix,
};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// The schema migrations, in order: (version, name, SQL).
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("migrations/0001_initial.sql")),
    (
        2,
        "run parents",
        include_str!("migrations/0002_run_parents.sql"),
    ),
];

/// The advisory lock key the migrations run under.
const MIGRATION_LOCK: i64 = 0x6b61_7461_626f_7801;

/// The channel of cache invalidations.
pub(super) const CHANNEL: &str = "katabox_changes";

/// Connections per host.
const POOL_SIZE: usize = 16;

/// How long a call waits for a connection (or to connect) before it fails:
/// with the database down, requests fail fast instead of queueing.
const POOL_TIMEOUT: Duration = Duration::from_secs(2);

/// Run ids a host reserves at a time: runs are numbered when queued (the
/// request log names them) without a round trip per request. Ids are
/// unique across hosts; listings order by time, then id.
pub const RUN_ID_BLOCK: u64 = 1000;

static ROUND_TRIPS: AtomicU64 = AtomicU64::new(0);

/// Statements this process has executed on PostgreSQL (every query,
/// `BEGIN` and `COMMIT`; a statement's first preparation on a connection
/// is not counted). `/metrics` shows it as `katabox_store_round_trips_total`.
pub fn round_trips() -> u64 {
    ROUND_TRIPS.load(Ordering::Relaxed)
}

fn trip() {
    ROUND_TRIPS.fetch_add(1, Ordering::Relaxed);
}

/// A PostgreSQL connection string: `postgres://USER[:PASS]@HOST:PORT/DB`
/// (or `postgresql://`), with libpq parameters in the query
/// (`?host=/socket/dir`). Shown and logged with the password replaced by
/// `***`.
#[derive(Clone)]
pub struct StoreUrl {
    config: tokio_postgres::Config,
    shown: String,
}

impl StoreUrl {
    /// Parses a URL; the error never contains the password.
    pub fn parse(url: &str) -> StoreResult<StoreUrl> {
        let shown = redact(url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Rejected(format!(
                "--store {shown}: expected postgres://USER[:PASS]@HOST:PORT/DB"
            )));
        }
        let config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
            StoreError::Rejected(format!("--store {shown}: {}", scrub(&e.to_string(), url)))
        })?;
        Ok(StoreUrl { config, shown })
    }

    /// The URL with its password hidden.
    pub fn redacted(&self) -> &str {
        &self.shown
    }

    pub(super) fn pg(&self) -> &tokio_postgres::Config {
        &self.config
    }
}

impl std::str::FromStr for StoreUrl {
    type Err = StoreError;
    fn from_str(s: &str) -> StoreResult<StoreUrl> {
        StoreUrl::parse(s)
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// The URL with the password of its user info and any `password=`
/// parameter replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let rest = &out[start..];
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            out.replace_range(start + colon + 1..start + at, "***");
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let parts: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out = format!("{head}{}", parts.join("&"));
    }
    out
}

/// `msg` with any password of `url` hidden (error texts of the driver).
fn scrub(msg: &str, url: &str) -> String {
    let mut msg = msg.to_string();
    if let Ok(c) = url.parse::<tokio_postgres::Config>()
        && let Some(pw) = c.get_password()
        && !pw.is_empty()
    {
        let pw = String::from_utf8_lossy(pw).into_owned();
        msg = msg.replace(&pw, "***");
    }
    msg
}

pub(super) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Db(format!("postgres: {}", db.message())),
        None => StoreError::Db(format!("postgres: {e}")),
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Db(format!("postgres unavailable: {e}"))
}

fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(m) if m.contains("duplicate key"))
}

pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// One statement (prepared once per connection), counted as a round trip.
pub(super) async fn rows<C: GenericClient>(
    c: &C,
    sql: &str,
    p: Params<'_>,
) -> StoreResult<Vec<Row>> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    trip();
    c.query(&st, p).await.map_err(pg_err)
}

pub(super) async fn opt<C: GenericClient>(
    c: &C,
    sql: &str,
    p: Params<'_>,
) -> StoreResult<Option<Row>> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    trip();
    c.query_opt(&st, p).await.map_err(pg_err)
}

pub(super) async fn one<C: GenericClient>(c: &C, sql: &str, p: Params<'_>) -> StoreResult<Row> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    trip();
    c.query_one(&st, p).await.map_err(pg_err)
}

pub(super) async fn exec<C: GenericClient>(c: &C, sql: &str, p: Params<'_>) -> StoreResult<u64> {
    let st = c.prepare_cached(sql).await.map_err(pg_err)?;
    trip();
    c.execute(&st, p).await.map_err(pg_err)
}

pub(super) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    i: usize,
) -> StoreResult<T> {
    row.try_get(i)
        .map_err(|e| StoreError::Corrupt(format!("postgres column {i}: {e}")))
}

pub(super) fn json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    Ok(serde_json::from_str(text)?)
}

pub(super) fn to_text<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    Ok(serde_json::to_string(v)?)
}

/// Allocates `n` consecutive ids of `kind`; returns the first.
pub(super) async fn next_ids<C: GenericClient>(c: &C, kind: &str, n: u64) -> StoreResult<u64> {
    let n = n.max(1) as i64;
    let row = one(
        c,
        "INSERT INTO kb_counters (kind, value) VALUES ($1, $2) \
         ON CONFLICT (kind) DO UPDATE SET value = kb_counters.value + EXCLUDED.value \
         RETURNING value",
        &[&kind, &n],
    )
    .await?;
    let last: i64 = get(&row, 0)?;
    Ok((last - n + 1) as u64)
}

/// Bumps the generation of listeners and automations and notifies every
/// host (delivered when the transaction commits).
async fn changed<C: GenericClient>(c: &C) -> StoreResult<()> {
    rows(
        c,
        "WITH g AS (INSERT INTO kb_counters (kind, value) VALUES ('generation', 1) \
         ON CONFLICT (kind) DO UPDATE SET value = kb_counters.value + 1 RETURNING value) \
         SELECT pg_notify('katabox_changes', value::text) FROM g",
        &[],
    )
    .await?;
    Ok(())
}

/// Where a synchronous call is made from.
enum Caller {
    /// No runtime: block on the store's runtime directly.
    Plain,
    /// A multi-threaded runtime (worker or blocking thread).
    MultiThread,
    /// A current-thread runtime: it cannot lend its thread.
    CurrentThread,
}

fn caller() -> Caller {
    match Handle::try_current() {
        Err(_) => Caller::Plain,
        Ok(h) => match h.runtime_flavor() {
            RuntimeFlavor::CurrentThread => Caller::CurrentThread,
            _ => Caller::MultiThread,
        },
    }
}

/// The store's own runtime (the pool's connections live on it).
pub(super) struct Bridge {
    rt: Option<tokio::runtime::Runtime>,
    handle: Handle,
}

impl Bridge {
    fn new() -> StoreResult<Bridge> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("katabox-pg")
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        Ok(Bridge {
            rt: Some(rt),
            handle,
        })
    }

    /// Runs `fut` to completion from synchronous code (see the module docs).
    pub(super) fn block<F>(&self, fut: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        match caller() {
            Caller::Plain => self.handle.block_on(fut),
            Caller::MultiThread => tokio::task::block_in_place(|| self.handle.block_on(fut)),
            Caller::CurrentThread => {
                std::thread::scope(|s| match s.spawn(|| self.handle.block_on(fut)).join() {
                    Ok(v) => v,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
            }
        }
    }

    /// Runs `f`, which blocks on the store's runtime, where that is allowed;
    /// `None` inside a current-thread runtime.
    fn blocking_section<T>(&self, f: impl FnOnce() -> T) -> Option<T> {
        match caller() {
            Caller::Plain => Some(f()),
            Caller::MultiThread => Some(tokio::task::block_in_place(f)),
            Caller::CurrentThread => None,
        }
    }

    pub(super) fn spawn<F>(&self, fut: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.handle.spawn(fut)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Dropping a runtime inside another one would panic.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// What the history writer and the invalidation listener share.
pub(super) struct Inner {
    pub(super) bridge: Bridge,
    pub(super) pool: Pool,
    pub(super) config: StoreConfig,
    pub(super) lookups: Arc<LookupCache>,
    /// When the history was last pruned by count, and runs written since.
    pub(super) count_prune: std::sync::Mutex<(std::time::Instant, usize)>,
}

impl Inner {
    pub(super) async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// The store on a shared PostgreSQL database.
pub struct PgStore {
    // Field order is drop order: the writer commits its queue first.
    history: HistoryWriter<RunRecord>,
    /// This host's block of run ids: `[next, end)`.
    run_ids: std::sync::Mutex<(u64, u64)>,
    listener: tokio::task::JoinHandle<()>,
    inner: Arc<Inner>,
    url: StoreUrl,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.url.redacted())
            .finish()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Applies the embedded migrations under the advisory lock; returns how
/// many this call applied.
async fn migrate(client: &mut deadpool_postgres::Object) -> StoreResult<usize> {
    trip();
    client
        .query("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err)?;
    let result = apply_migrations(client).await;
    trip();
    let unlocked = client
        .query("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err);
    let applied = result?;
    unlocked?;
    Ok(applied)
}

async fn apply_migrations(client: &mut deadpool_postgres::Object) -> StoreResult<usize> {
    trip();
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS kb_schema_migrations (\
             version bigint PRIMARY KEY, name text NOT NULL, \
             applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(pg_err)?;
    let done: Vec<i64> = rows(&*client, "SELECT version FROM kb_schema_migrations", &[])
        .await?
        .iter()
        .map(|r| get(r, 0))
        .collect::<StoreResult<_>>()?;
    let latest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if let Some(newest) = done.iter().max()
        && *newest > latest
    {
        return Err(StoreError::Rejected(format!(
            "the database's schema is version {newest}, newer than this katabox knows ({latest}): upgrade katabox"
        )));
    }
    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        let tx = client.transaction().await.map_err(pg_err)?;
        trip();
        tx.batch_execute(sql).await.map_err(pg_err)?;
        exec(
            &tx,
            "INSERT INTO kb_schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await?;
        trip();
        tx.commit().await.map_err(pg_err)?;
        applied += 1;
    }
    Ok(applied)
}

impl PgStore {
    /// Connects, applies the schema migrations (once, under an advisory
    /// lock) and starts the history writer and the invalidation listener.
    pub fn open(url: &StoreUrl, config: StoreConfig) -> StoreResult<PgStore> {
        let bridge = Bridge::new()?;
        let manager = Manager::from_config(
            url.pg().clone(),
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Db(format!("postgres pool: {e}")))?;
        let shown = url.redacted().to_string();
        bridge
            .block(async {
                let mut client = pool.get().await.map_err(|e| {
                    // The driver's reasons name hosts and ports, never the password.
                    StoreError::Db(format!("connecting to {shown}: {e}"))
                })?;
                migrate(&mut client).await
            })
            .map_err(|e| match e {
                StoreError::Db(m) if !m.contains(&shown) => StoreError::Db(format!("{shown}: {m}")),
                other => other,
            })?;
        let lookups = Arc::new(LookupCache::default());
        let window = config.history.batch_window;
        let inner = Arc::new(Inner {
            bridge,
            pool,
            config,
            lookups: lookups.clone(),
            count_prune: std::sync::Mutex::new((std::time::Instant::now(), 0)),
        });
        let listener =
            inner
                .bridge
                .spawn(notify::listen(url.pg().clone(), lookups, notify::RECHECK));
        let history = HistoryWriter::start_with(Box::new(history::PgSink(inner.clone())), window)?;
        Ok(PgStore {
            history,
            run_ids: std::sync::Mutex::new((0, 0)),
            listener,
            inner,
            url: url.clone(),
        })
    }

    /// The database URL (password hidden).
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// Runs `f` with a pooled client, from synchronous code.
    pub(super) fn with<T, F>(
        &self,
        f: impl FnOnce(deadpool_postgres::Object) -> F + Send,
    ) -> StoreResult<T>
    where
        F: Future<Output = StoreResult<T>> + Send,
        T: Send,
    {
        let inner = &self.inner;
        inner.bridge.block(async move {
            let client = inner.client().await?;
            f(client).await
        })
    }

    /// Runs one statement on a pooled connection; the rows it changed.
    pub(super) fn execute(&self, sql: &str, p: Params<'_>) -> StoreResult<u64> {
        self.with(|c| async move { exec(&c, sql, p).await })
    }

    /// The row one query finds, if any, through `map`.
    pub(super) fn query_opt<T: Send>(
        &self,
        sql: &str,
        p: Params<'_>,
        map: impl FnOnce(&Row) -> StoreResult<T> + Send,
    ) -> StoreResult<Option<T>> {
        self.with(|c| async move { opt(&c, sql, p).await?.map(|r| map(&r)).transpose() })
    }

    /// The next run id from this host's block (a new block of
    /// [`RUN_ID_BLOCK`] ids is reserved when it runs out).
    fn next_run_id(&self) -> StoreResult<u64> {
        let mut ids = self
            .run_ids
            .lock()
            .map_err(|_| StoreError::Db("the run id block is poisoned".into()))?;
        if ids.0 >= ids.1 {
            let first = self.with(|c| async move { next_ids(&c, "run", RUN_ID_BLOCK).await })?;
            *ids = (first, first + RUN_ID_BLOCK);
        }
        let id = ids.0;
        ids.0 += 1;
        Ok(id)
    }

    /// The schema versions applied to the database.
    pub fn schema_versions(&self) -> StoreResult<Vec<i64>> {
        self.with(|c| async move {
            rows(
                &c,
                "SELECT version FROM kb_schema_migrations ORDER BY version",
                &[],
            )
            .await?
            .iter()
            .map(|r| get(r, 0))
            .collect()
        })
    }

    /// Forgets the cached listeners and automations (what a notification does).
    pub fn invalidate_caches(&self) {
        self.inner.lookups.invalidate();
    }

    fn read_listener_by_guid(&self, guid: &str) -> StoreResult<Option<ListenerRecord>> {
        self.with(|c| async move {
            match opt(&c, "SELECT doc FROM kb_listeners WHERE guid = $1", &[&guid]).await? {
                Some(r) => Ok(Some(json(get::<&str>(&r, 0)?)?)),
                None => Ok(None),
            }
        })
    }

    fn read_automation(&self, name: &str) -> StoreResult<Option<AutomationRow>> {
        self.with(|c| async move { automation_in(&c, name).await })
    }
}

async fn automation_in<C: GenericClient>(c: &C, name: &str) -> StoreResult<Option<AutomationRow>> {
    match opt(
        c,
        "SELECT doc FROM kb_automations WHERE name = $1",
        &[&name],
    )
    .await?
    {
        Some(r) => Ok(Some(json(get::<&str>(&r, 0)?)?)),
        None => Ok(None),
    }
}

async fn put_listener<C: GenericClient>(c: &C, rec: &ListenerRecord) -> StoreResult<()> {
    let id = rec.id as i64;
    let doc = to_text(rec)?;
    exec(
        c,
        "INSERT INTO kb_listeners (id, guid, doc) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET guid = EXCLUDED.guid, doc = EXCLUDED.doc",
        &[&id, &rec.guid, &doc],
    )
    .await?;
    Ok(())
}

async fn guid_owner<C: GenericClient>(c: &C, guid: &str) -> StoreResult<Option<u64>> {
    Ok(
        match opt(c, "SELECT id FROM kb_listeners WHERE guid = $1", &[&guid]).await? {
            Some(r) => Some(get::<i64>(&r, 0)? as u64),
            None => None,
        },
    )
}

async fn put_automation<C: GenericClient>(c: &C, row: &AutomationRow) -> StoreResult<()> {
    if let Some(r) = opt(
        c,
        "SELECT id FROM kb_automations WHERE name = $1",
        &[&row.name],
    )
    .await?
        && get::<i64>(&r, 0)? as u64 != row.id
    {
        return Err(StoreError::Rejected(format!(
            "A record already exists with this 'name' ({}). It must be unique.",
            row.name
        )));
    }
    let id = row.id as i64;
    let doc = to_text(row)?;
    exec(
        c,
        "INSERT INTO kb_automations (id, name, doc) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, doc = EXCLUDED.doc",
        &[&id, &row.name, &doc],
    )
    .await?;
    Ok(())
}

/// The columns a timer is read with.
const TIMER_COLS: &str = "doc, lease_owner, lease_expires_at, fence";

fn timer_of(row: &Row) -> StoreResult<TimerRecord> {
    let mut t: TimerRecord = json(get::<&str>(row, 0)?)?;
    t.lease_owner = get(row, 1)?;
    t.lease_expires_at = get(row, 2)?;
    t.fence = get::<i64>(row, 3)? as u64;
    Ok(t)
}

pub(super) async fn put_timer<C: GenericClient>(c: &C, rec: &TimerRecord) -> StoreResult<()> {
    let id = rec.id as i64;
    let fence = rec.fence as i64;
    let doc = to_text(rec)?;
    exec(
        c,
        "INSERT INTO kb_timers (id, next_run_at, is_disabled, lease_owner, lease_expires_at, fence, doc) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
         next_run_at = EXCLUDED.next_run_at, is_disabled = EXCLUDED.is_disabled, \
         lease_owner = EXCLUDED.lease_owner, lease_expires_at = EXCLUDED.lease_expires_at, \
         fence = EXCLUDED.fence, doc = EXCLUDED.doc",
        &[
            &id,
            &rec.next_run_at,
            &rec.is_disabled,
            &rec.lease_owner,
            &rec.lease_expires_at,
            &fence,
            &doc,
        ],
    )
    .await?;
    Ok(())
}

async fn timer_for_update<C: GenericClient>(c: &C, id: u64) -> StoreResult<Option<TimerRecord>> {
    let id = id as i64;
    let sql = format!("SELECT {TIMER_COLS} FROM kb_timers WHERE id = $1 FOR UPDATE");
    opt(c, &sql, &[&id])
        .await?
        .map(|r| timer_of(&r))
        .transpose()
}

async fn delete_timer_in<C: GenericClient>(c: &C, id: u64) -> StoreResult<bool> {
    let id = id as i64;
    let Some(r) = opt(
        c,
        "DELETE FROM kb_timers WHERE id = $1 RETURNING doc",
        &[&id],
    )
    .await?
    else {
        return Ok(false);
    };
    let old: TimerRecord = json(get::<&str>(&r, 0)?)?;
    if !old.continuation_id.is_empty() {
        exec(
            c,
            "DELETE FROM kb_timer_continuations WHERE token = $1",
            &[&old.continuation_id],
        )
        .await?;
    }
    Ok(true)
}

/// [`WriteTx`] on a PostgreSQL transaction (a package import).
struct PgTx<'a, 'c> {
    handle: &'a Handle,
    tx: &'a deadpool_postgres::Transaction<'c>,
}

impl PgTx<'_, '_> {
    fn run<T>(&self, fut: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        // Inside `Bridge::blocking_section`: blocking here is allowed.
        self.handle.block_on(fut)
    }
}

impl WriteTx for PgTx<'_, '_> {
    fn next_id(&mut self, kind: &str) -> StoreResult<u64> {
        self.run(next_ids(self.tx, kind, 1))
    }
    fn automation(&mut self, name: &str) -> StoreResult<Option<AutomationRow>> {
        self.run(automation_in(self.tx, name))
    }
    fn guid_owner(&mut self, guid: &str) -> StoreResult<Option<u64>> {
        self.run(guid_owner(self.tx, guid))
    }
    fn put_automation(&mut self, row: &AutomationRow) -> StoreResult<()> {
        self.run(put_automation(self.tx, row))
    }
    fn put_listener(&mut self, rec: &ListenerRecord) -> StoreResult<()> {
        self.run(put_listener(self.tx, rec))
    }
    fn put_timer(&mut self, rec: &TimerRecord) -> StoreResult<()> {
        self.run(put_timer(self.tx, rec))
    }
    fn package_exists(&mut self, key: &str) -> StoreResult<bool> {
        self.run(async {
            Ok(
                opt(self.tx, "SELECT 1 FROM kb_packages WHERE key = $1", &[&key])
                    .await?
                    .is_some(),
            )
        })
    }
    fn put_package(&mut self, rec: &PackageRecord) -> StoreResult<()> {
        self.run(async {
            let doc = to_text(rec)?;
            exec(
                self.tx,
                "INSERT INTO kb_packages (key, doc) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET doc = EXCLUDED.doc",
                &[&rec.key, &doc],
            )
            .await?;
            Ok(())
        })
    }
}

impl Store for PgStore {
    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()> {
        let inner = &self.inner;
        let handle = &inner.bridge.handle;
        let result = inner.bridge.blocking_section(|| {
            let mut client = handle.block_on(inner.client())?;
            trip();
            let tx = handle.block_on(client.transaction()).map_err(pg_err)?;
            let outcome = {
                let mut w = PgTx { handle, tx: &tx };
                f(&mut w).and_then(|()| w.run(changed(&tx)))
            };
            trip();
            match outcome {
                Ok(()) => handle.block_on(tx.commit()).map_err(pg_err),
                Err(e) => {
                    let _ = handle.block_on(tx.rollback());
                    Err(e)
                }
            }
        });
        let result = result.unwrap_or_else(|| {
            Err(StoreError::Db(
                "the postgres store cannot run a write transaction on a current-thread runtime"
                    .into(),
            ))
        });
        if result.is_ok() {
            inner.lookups.invalidate();
        }
        result
    }

    fn listener_by_guid(&self, guid: &str) -> StoreResult<Option<ListenerRecord>> {
        self.inner
            .lookups
            .listener(guid, || self.read_listener_by_guid(guid))
    }

    fn listener(&self, id: u64) -> StoreResult<Option<ListenerRecord>> {
        let id = id as i64;
        self.with(|c| async move {
            match opt(&c, "SELECT doc FROM kb_listeners WHERE id = $1", &[&id]).await? {
                Some(r) => Ok(Some(json(get::<&str>(&r, 0)?)?)),
                None => Ok(None),
            }
        })
    }

    fn listeners(&self) -> StoreResult<Vec<ListenerRecord>> {
        self.with(|c| async move {
            rows(&c, "SELECT doc FROM kb_listeners ORDER BY id", &[])
                .await?
                .iter()
                .map(|r| json(get::<&str>(r, 0)?))
                .collect()
        })
    }

    fn create_listener(&self, input: ListenerInput) -> StoreResult<ListenerRecord> {
        let created = in_tx!(self, |tx| {
            let id = next_ids(tx, "listener", 1).await?;
            let rec = listener_from_input(id, input)?;
            if guid_owner(tx, &rec.guid).await?.is_some() {
                return Err(duplicate_guid(&rec.guid));
            }
            put_listener(tx, &rec).await?;
            changed(tx).await?;
            Ok(rec)
        });
        let created = match created {
            // Another host took the guid at the same moment.
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Rejected(
                    "A webhook listener already exists with this 'guid'. It must be unique.".into(),
                ));
            }
            other => other?,
        };
        self.inner.lookups.invalidate();
        Ok(created)
    }

    fn update_listener(
        &self,
        id: u64,
        input: ListenerInput,
    ) -> StoreResult<Option<ListenerRecord>> {
        let updated = in_tx!(self, |tx| {
            let key = id as i64;
            let Some(r) = opt(
                tx,
                "SELECT doc FROM kb_listeners WHERE id = $1 FOR UPDATE",
                &[&key],
            )
            .await?
            else {
                return Ok(None);
            };
            let existing: ListenerRecord = json(get::<&str>(&r, 0)?)?;
            let mut input = input;
            if input.guid.trim().is_empty() {
                input.guid = existing.guid.clone();
            }
            if input.is_disabled.is_none() {
                input.is_disabled = Some(existing.is_disabled);
            }
            let rec = listener_from_input(id, input)?;
            if guid_owner(tx, &rec.guid).await?.is_some_and(|o| o != id) {
                return Err(duplicate_guid(&rec.guid));
            }
            put_listener(tx, &rec).await?;
            changed(tx).await?;
            Ok(Some(rec))
        })?;
        self.inner.lookups.invalidate();
        Ok(updated)
    }

    fn delete_listener(&self, id: u64) -> StoreResult<bool> {
        let removed = in_tx!(self, |tx| {
            let key = id as i64;
            let n = exec(tx, "DELETE FROM kb_listeners WHERE id = $1", &[&key]).await?;
            if n > 0 {
                exec(
                    tx,
                    "DELETE FROM kb_webhook_deliveries WHERE listener_id = $1",
                    &[&key],
                )
                .await?;
                changed(tx).await?;
            }
            Ok(n > 0)
        })?;
        self.inner.lookups.invalidate();
        Ok(removed)
    }

    fn automation(&self, name: &str) -> StoreResult<Option<AutomationRow>> {
        self.inner
            .lookups
            .automation(name, || self.read_automation(name))
    }

    fn automations(&self) -> StoreResult<Vec<AutomationRow>> {
        self.with(|c| async move {
            rows(&c, "SELECT doc FROM kb_automations ORDER BY name", &[])
                .await?
                .iter()
                .map(|r| json(get::<&str>(r, 0)?))
                .collect()
        })
    }

    fn timers(&self) -> StoreResult<Vec<TimerRecord>> {
        self.with(|c| async move {
            let sql = format!("SELECT {TIMER_COLS} FROM kb_timers ORDER BY id");
            rows(&c, &sql, &[]).await?.iter().map(timer_of).collect()
        })
    }

    fn package(&self, key: &str) -> StoreResult<Option<PackageRecord>> {
        self.with(|c| async move {
            match opt(&c, "SELECT doc FROM kb_packages WHERE key = $1", &[&key]).await? {
                Some(r) => Ok(Some(json(get::<&str>(&r, 0)?)?)),
                None => Ok(None),
            }
        })
    }

    fn record_run(&self, run: RunRecord) -> StoreResult<u64> {
        let mut run = run;
        if run.id == 0 {
            run.id = self.next_run_id()?;
        }
        let mut runs = [run];
        let ids = self
            .inner
            .bridge
            .block(history::write_batch(&self.inner, &mut runs))?;
        ids.first()
            .copied()
            .ok_or_else(|| StoreError::Db("the run was not numbered".into()))
    }

    fn queue_run(&self, mut run: RunRecord) -> Option<u64> {
        if !self.inner.config.history.save.keeps(&run) {
            return None;
        }
        // Numbered now (from this host's block: no round trip on the
        // request path but one per RUN_ID_BLOCK runs); the writer numbers
        // the run itself if no id could be had.
        run.id = self.next_run_id().unwrap_or(0);
        let id = (run.id > 0).then_some(run.id);
        if let Err(run) = self.history.push(run, |_| {}) {
            return self.record_run(*run).ok();
        }
        id
    }

    fn runs(&self, limit: usize) -> StoreResult<Vec<RunRecord>> {
        Ok(self.query_runs(&RunFilter::default(), limit, None)?.runs)
    }

    fn query_runs(
        &self,
        filter: &RunFilter,
        limit: usize,
        cursor: Option<RunCursor>,
    ) -> StoreResult<RunPage> {
        self.history.flush();
        self.with(|c| async move { history::page(&c, filter, limit, cursor).await })
    }

    fn run(&self, id: u64) -> StoreResult<Option<RunRecord>> {
        self.history.flush();
        self.with(|c| async move { history::get_run(&c, id).await })
    }

    fn update_automation(
        &self,
        name: &str,
        change: &AutomationChange,
    ) -> StoreResult<Option<AutomationRow>> {
        let updated = in_tx!(self, |tx| {
            let Some(r) = opt(
                tx,
                "SELECT doc FROM kb_automations WHERE name = $1 FOR UPDATE",
                &[&name],
            )
            .await?
            else {
                return Ok(None);
            };
            let current: AutomationRow = json(get::<&str>(&r, 0)?)?;
            let next = change.apply(&current, now_unix());
            let version = current.version as i64;
            let old = to_text(&current)?;
            exec(
                tx,
                "INSERT INTO kb_automation_versions (name, version, doc) VALUES ($1, $2, $3) \
                 ON CONFLICT (name, version) DO UPDATE SET doc = EXCLUDED.doc",
                &[&name, &version, &old],
            )
            .await?;
            let doc = to_text(&next)?;
            exec(
                tx,
                "UPDATE kb_automations SET doc = $2 WHERE name = $1",
                &[&name, &doc],
            )
            .await?;
            changed(tx).await?;
            Ok(Some(next))
        })?;
        if updated.is_some() {
            self.inner.lookups.invalidate();
        }
        Ok(updated)
    }

    fn automation_versions(&self, name: &str) -> StoreResult<Vec<AutomationRow>> {
        self.with(|c| async move {
            let Some(current) = automation_in(&c, name).await? else {
                return Ok(Vec::new());
            };
            let mut out = vec![current];
            for r in rows(
                &c,
                "SELECT doc FROM kb_automation_versions WHERE name = $1 ORDER BY version DESC",
                &[&name],
            )
            .await?
            {
                out.push(json(get::<&str>(&r, 0)?)?);
            }
            Ok(out)
        })
    }

    fn automation_version(&self, name: &str, version: u64) -> StoreResult<Option<AutomationRow>> {
        self.with(|c| async move {
            if let Some(current) = automation_in(&c, name).await?
                && current.version == version
            {
                return Ok(Some(current));
            }
            let v = version as i64;
            match opt(
                &c,
                "SELECT doc FROM kb_automation_versions WHERE name = $1 AND version = $2",
                &[&name, &v],
            )
            .await?
            {
                Some(r) => Ok(Some(json(get::<&str>(&r, 0)?)?)),
                None => Ok(None),
            }
        })
    }

    fn timer(&self, id: u64) -> StoreResult<Option<TimerRecord>> {
        let id = id as i64;
        self.with(|c| async move {
            let sql = format!("SELECT {TIMER_COLS} FROM kb_timers WHERE id = $1");
            opt(&c, &sql, &[&id])
                .await?
                .map(|r| timer_of(&r))
                .transpose()
        })
    }

    fn save_timer(&self, rec: &TimerRecord) -> StoreResult<TimerRecord> {
        in_tx!(self, |tx| {
            let now = now_unix();
            let mut rec = rec.clone();
            rec.updated_at = now;
            if rec.id == 0 {
                rec.id = next_ids(tx, "timer", 1).await?;
                rec.created_at = now;
            } else {
                let Some(old) = timer_for_update(tx, rec.id).await? else {
                    return Err(StoreError::Rejected(format!("no timer with id {}", rec.id)));
                };
                rec.continuation_id = old.continuation_id;
                rec.lease_owner = old.lease_owner;
                rec.lease_expires_at = old.lease_expires_at;
                rec.fence = old.fence;
                rec.last_ran_at = old.last_ran_at;
                rec.created_at = old.created_at;
            }
            put_timer(tx, &rec).await?;
            Ok(rec)
        })
    }

    /// Claims with the database's clock: `now` is ignored and the lease
    /// lasts `lease_until - now` seconds from the database's `now()`.
    fn claim_timer(
        &self,
        id: u64,
        owner: &str,
        now: i64,
        lease_until: i64,
        force: bool,
    ) -> StoreResult<Option<TimerRecord>> {
        let id = id as i64;
        let lease = lease_until.saturating_sub(now).max(1);
        self.with(|c| async move {
            let sql = format!(
                "WITH clock AS (SELECT extract(epoch FROM now())::bigint AS now), \
                 pick AS (SELECT t.id FROM kb_timers t, clock WHERE t.id = $1 \
                   AND NOT (t.lease_owner <> '' AND t.lease_expires_at > clock.now) \
                   AND ($4 OR (NOT t.is_disabled AND t.next_run_at <= clock.now)) \
                   FOR UPDATE OF t SKIP LOCKED) \
                 UPDATE kb_timers t SET lease_owner = $2, \
                   lease_expires_at = (SELECT now FROM clock) + $3, fence = t.fence + 1 \
                 FROM pick WHERE t.id = pick.id RETURNING {}",
                "t.doc, t.lease_owner, t.lease_expires_at, t.fence"
            );
            opt(&c, &sql, &[&id, &owner, &lease, &force])
                .await?
                .map(|r| timer_of(&r))
                .transpose()
        })
    }

    fn delete_timer(&self, id: u64) -> StoreResult<bool> {
        in_tx!(self, |tx| { delete_timer_in(tx, id).await })
    }

    /// Due by the database's clock (`now` is ignored), unleased, soonest first.
    fn due_timers(&self, _now: i64, limit: usize) -> StoreResult<Vec<TimerRecord>> {
        let limit = limit as i64;
        self.with(|c| async move {
            let sql = format!(
                "SELECT {TIMER_COLS} FROM kb_timers WHERE NOT is_disabled \
                 AND next_run_at <= extract(epoch FROM now())::bigint \
                 AND (lease_owner = '' OR lease_expires_at <= extract(epoch FROM now())::bigint) \
                 ORDER BY next_run_at, id LIMIT $1"
            );
            rows(&c, &sql, &[&limit])
                .await?
                .iter()
                .map(timer_of)
                .collect()
        })
    }

    fn timer_continuation(&self, token: &str) -> StoreResult<Option<TimerContinuation>> {
        self.with(|c| async move {
            match opt(
                &c,
                "SELECT doc FROM kb_timer_continuations WHERE token = $1",
                &[&token],
            )
            .await?
            {
                Some(r) => Ok(Some(json(get::<&str>(&r, 0)?)?)),
                None => Ok(None),
            }
        })
    }

    fn apply_timer_update(
        &self,
        id: u64,
        fence: u64,
        update: &TimerUpdate,
        now: i64,
    ) -> StoreResult<bool> {
        in_tx!(self, |tx| {
            let Some(mut timer) = timer_for_update(tx, id).await? else {
                return Ok(false);
            };
            if timer.fence != fence {
                return Ok(false);
            }
            match update {
                TimerUpdate::Delete => {
                    delete_timer_in(tx, id).await?;
                }
                TimerUpdate::Set {
                    next_run_at,
                    disable,
                    last_ran_at,
                    continuation,
                } => {
                    match continuation {
                        ContinuationChange::Keep => {}
                        ContinuationChange::Save(c) => {
                            if !timer.continuation_id.is_empty() && timer.continuation_id != c.token
                            {
                                exec(
                                    tx,
                                    "DELETE FROM kb_timer_continuations WHERE token = $1",
                                    &[&timer.continuation_id],
                                )
                                .await?;
                            }
                            let doc = to_text(c.as_ref())?;
                            exec(
                                tx,
                                "INSERT INTO kb_timer_continuations (token, doc) VALUES ($1, $2) \
                                 ON CONFLICT (token) DO UPDATE SET doc = EXCLUDED.doc",
                                &[&c.token, &doc],
                            )
                            .await?;
                            timer.continuation_id = c.token.clone();
                        }
                        ContinuationChange::Discard => {
                            if !timer.continuation_id.is_empty() {
                                exec(
                                    tx,
                                    "DELETE FROM kb_timer_continuations WHERE token = $1",
                                    &[&timer.continuation_id],
                                )
                                .await?;
                            }
                            timer.continuation_id.clear();
                        }
                    }
                    timer.next_run_at = *next_run_at;
                    if *disable {
                        timer.is_disabled = true;
                    }
                    timer.last_ran_at = *last_ran_at;
                    timer.updated_at = now;
                    timer.lease_owner.clear();
                    timer.lease_expires_at = 0;
                    put_timer(tx, &timer).await?;
                }
            }
            Ok(true)
        })
    }

    fn resource(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        self.with(|c| async move {
            match opt(
                &c,
                "SELECT bytes FROM kb_named_resources WHERE name = $1",
                &[&name],
            )
            .await?
            {
                Some(r) => Ok(Some(get::<Vec<u8>>(&r, 0)?)),
                None => Ok(None),
            }
        })
    }

    fn put_resource(&self, name: &str, bytes: &[u8]) -> StoreResult<()> {
        self.with(|c| async move {
            exec(
                &c,
                "INSERT INTO kb_named_resources (name, bytes) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET bytes = EXCLUDED.bytes",
                &[&name, &bytes],
            )
            .await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact("postgres://kb:s3cret@db:5432/katabox"),
            "postgres://kb:***@db:5432/katabox"
        );
        assert_eq!(
            redact("postgresql://kb@db/katabox?host=/run/pg&password=s3cret"),
            "postgresql://kb@db/katabox?host=/run/pg&password=***"
        );
        assert_eq!(redact("postgres://db/k"), "postgres://db/k");
        let url = StoreUrl::parse("postgres://kb:s3cret@localhost:5432/k").expect("parse");
        assert!(!format!("{url} {url:?}").contains("s3cret"));
        let bad = StoreUrl::parse("postgres://kb:s3cret@localhost:notaport/k");
        assert!(bad.is_err());
        assert!(!format!("{:?}", bad.err()).contains("s3cret"));
        assert!(StoreUrl::parse("mysql://x").is_err());
        assert!(StoreUrl::parse("postgres://u@h:1/db?host=/tmp/sock").is_ok());
    }
}
