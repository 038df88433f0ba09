//! The run history on PostgreSQL: batches from the history writer thread
//! (one transaction, one multi-row insert each), pages by filter through
//! the `kb_runs` indexes, pruning by count and age.
//!
//! Ids come from one counter shared by every host, in blocks per host
//! (runs are numbered when queued), so they are unique but only roughly
//! in time order across hosts: pages order by `(at_ms, id)`, and pruning
//! by count keeps the newest `max_runs` by time, whatever host wrote them.

use super::{Inner, exec, get, json, next_ids, opt, pg_err, rows, to_text, trip};
use crate::store::history::{HistorySink, PRUNE_BATCH};
use crate::store::runs::{RunCursor, RunFilter, RunPage};
use crate::store::{RunPayload, RunRecord, StoreResult, now_unix_ms};
use deadpool_postgres::GenericClient;
use std::sync::Arc;
use tokio_postgres::types::ToSql;

/// The history writer's sink.
pub(super) struct PgSink(pub(super) Arc<Inner>);

impl HistorySink<RunRecord> for PgSink {
    fn write(&self, runs: &mut [RunRecord]) -> StoreResult<Vec<u64>> {
        self.0.bridge.block(write_batch(&self.0, runs))
    }

    fn prune(&self) -> StoreResult<()> {
        let inner = &self.0;
        inner.bridge.block(async {
            let c = inner.client().await?;
            prune(&c, inner, 0).await
        })
    }
}

/// Numbers `runs` and inserts them in one transaction, then prunes.
pub(super) async fn write_batch(inner: &Inner, runs: &mut [RunRecord]) -> StoreResult<Vec<u64>> {
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let mut client = inner.client().await?;
    trip();
    let tx = client.transaction().await.map_err(pg_err)?;
    // Runs come numbered by the store (when queued); any without an id
    // gets one here.
    let unnumbered = runs.iter().filter(|r| r.id == 0).count() as u64;
    let mut next = if unnumbered > 0 {
        next_ids(&tx, "run", unnumbered).await?
    } else {
        0
    };
    let mut ids = Vec::with_capacity(runs.len());
    let mut at = Vec::with_capacity(runs.len());
    let mut automation = Vec::with_capacity(runs.len());
    let mut listener = Vec::with_capacity(runs.len());
    let mut exit = Vec::with_capacity(runs.len());
    let mut status = Vec::with_capacity(runs.len());
    let mut trigger = Vec::with_capacity(runs.len());
    let mut doc = Vec::with_capacity(runs.len());
    let mut payload = Vec::with_capacity(runs.len());
    let mut parent = Vec::with_capacity(runs.len());
    for run in runs.iter_mut() {
        if run.id == 0 {
            run.id = next;
            next += 1;
        }
        ids.push(run.id as i64);
        at.push(run.at_ms);
        automation.push(run.automation.clone());
        listener.push(run.listener_id.map(|l| l as i64));
        exit.push(run.exit.clone());
        status.push(i32::from(run.status));
        trigger.push(run.trigger.clone());
        doc.push(to_text(run)?);
        payload.push(run.payload.as_ref().map(to_text).transpose()?);
        parent.push(run.parent_id.map(|p| p as i64));
    }
    exec(
        &tx,
        "INSERT INTO kb_runs (id, at_ms, automation, listener_id, exit, status, trigger, doc, payload, parent_id) \
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], \
         $6::integer[], $7::text[], $8::text[], $9::text[], $10::bigint[])",
        &[
            &ids,
            &at,
            &automation,
            &listener,
            &exit,
            &status,
            &trigger,
            &doc,
            &payload,
            &parent,
        ],
    )
    .await?;
    prune(&tx, inner, runs.len()).await?;
    trip();
    tx.commit().await.map_err(pg_err)?;
    Ok(ids.into_iter().map(|i| i as u64).collect())
}

/// Deletes runs older than the age and payloads older than theirs (one
/// statement), and the oldest runs beyond the count: that takes an index
/// walk of `max_runs` entries, so it runs once `written` reaches a tenth
/// of the cap or a second has passed (the cap may be exceeded by that
/// much in between).
async fn prune<C: GenericClient>(c: &C, inner: &Inner, written: usize) -> StoreResult<()> {
    let config = &inner.config.history;
    let now = now_unix_ms();
    let too_old = now.saturating_sub(config.max_age_ms);
    let payload_cutoff = now.saturating_sub(config.payload_age_ms);
    let budget = PRUNE_BATCH.max(written * 2) as i64;
    rows(
        c,
        "WITH gone AS (DELETE FROM kb_runs WHERE id IN (SELECT id FROM kb_runs \
           WHERE at_ms < $1 ORDER BY at_ms LIMIT $3) RETURNING 1), \
         bare AS (UPDATE kb_runs SET payload = NULL WHERE id IN (SELECT id FROM kb_runs \
           WHERE at_ms < $2 AND at_ms >= $1 AND payload IS NOT NULL ORDER BY at_ms LIMIT $3) RETURNING 1) \
         SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM bare)",
        &[&too_old, &payload_cutoff, &budget],
    )
    .await?;
    let max = config.max_runs.max(1);
    let due = match inner.count_prune.lock() {
        Ok(mut g) => {
            g.1 += written;
            let due = g.1 * 10 >= max || g.0.elapsed() >= std::time::Duration::from_secs(1);
            if due {
                *g = (std::time::Instant::now(), 0);
            }
            due
        }
        Err(_) => true,
    };
    if !due {
        return Ok(());
    }
    let max = max as i64;
    let Some(edge) = opt(
        c,
        "SELECT at_ms, id FROM kb_runs ORDER BY at_ms DESC, id DESC OFFSET $1 LIMIT 1",
        &[&(max - 1)],
    )
    .await?
    else {
        return Ok(());
    };
    let (at, id): (i64, i64) = (get(&edge, 0)?, get(&edge, 1)?);
    exec(
        c,
        "DELETE FROM kb_runs WHERE id IN (SELECT id FROM kb_runs \
         WHERE (at_ms, id) < ($1, $2) ORDER BY at_ms, id LIMIT $3)",
        &[&at, &id, &budget],
    )
    .await?;
    Ok(())
}

/// One run with its payload.
pub(super) async fn get_run<C: GenericClient>(c: &C, id: u64) -> StoreResult<Option<RunRecord>> {
    let key = id as i64;
    let Some(r) = opt(c, "SELECT doc, payload FROM kb_runs WHERE id = $1", &[&key]).await? else {
        return Ok(None);
    };
    let mut run: RunRecord = json(get::<&str>(&r, 0)?)?;
    run.id = id;
    run.payload = get::<Option<&str>>(&r, 1)?
        .map(json::<RunPayload>)
        .transpose()?;
    Ok(Some(run))
}

/// The newest `limit` runs passing `filter`, before `cursor`.
pub(super) async fn page<C: GenericClient>(
    c: &C,
    filter: &RunFilter,
    limit: usize,
    cursor: Option<RunCursor>,
) -> StoreResult<RunPage> {
    let limit = limit.max(1);
    let mut sql = String::from("SELECT doc, id FROM kb_runs WHERE true");
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let mut add = |sql: &mut String, clause: &str, p: Box<dyn ToSql + Sync + Send>| {
        params.push(p);
        sql.push_str(&clause.replace('?', &format!("${}", params.len())));
    };
    if let Some(a) = &filter.automation {
        add(&mut sql, " AND automation = ?", Box::new(a.clone()));
    }
    if let Some(l) = filter.listener {
        add(&mut sql, " AND listener_id = ?", Box::new(l as i64));
    }
    if let Some(p) = filter.parent {
        add(&mut sql, " AND parent_id = ?", Box::new(p as i64));
    }
    if let Some(e) = &filter.exit {
        add(&mut sql, " AND exit = ?", Box::new(e.clone()));
    }
    if let Some(s) = filter.status {
        add(&mut sql, " AND status = ?", Box::new(i32::from(s)));
    }
    if let Some(t) = &filter.trigger {
        add(&mut sql, " AND trigger = ?", Box::new(t.clone()));
    }
    if let Some(s) = filter.since_ms {
        add(&mut sql, " AND at_ms >= ?", Box::new(s));
    }
    if let Some(u) = filter.until_ms {
        add(&mut sql, " AND at_ms <= ?", Box::new(u));
    }
    if let Some(cur) = cursor {
        add(&mut sql, " AND (at_ms, id) < (?", Box::new(cur.at_ms));
        add(&mut sql, ", ?)", Box::new(cur.id as i64));
    }
    add(
        &mut sql,
        " ORDER BY at_ms DESC, id DESC LIMIT ?",
        Box::new(limit as i64 + 1),
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let found = rows(c, &sql, &refs).await?;
    let mut page = RunPage::default();
    for r in &found {
        if page.runs.len() == limit {
            page.next_cursor = page.runs.last().map(|r| RunCursor {
                at_ms: r.at_ms,
                id: r.id,
            });
            break;
        }
        let mut run: RunRecord = json(get::<&str>(r, 0)?)?;
        run.id = get::<i64>(r, 1)? as u64;
        page.runs.push(run);
    }
    Ok(page)
}
