//! Timers and their continuations on redb: the due index, and a timer
//! run's outcome applied in one transaction (the continuation is committed
//! together with the timer's new `next_run_at`, so a crash never leaves a
//! timer pointing at a continuation that was not saved).

use super::tables::{TIMER_CONTINUATIONS, TIMERS, TIMERS_DUE};
use super::{ContinuationChange, StoreResult, TimerContinuation, TimerRecord, TimerUpdate};
use redb::{ReadTransaction, ReadableTable, WriteTransaction};

/// Writes `rec`, keeping the due index in step (disabled timers are not in it).
pub(super) fn put(txn: &WriteTransaction, rec: &TimerRecord) -> StoreResult<()> {
    let mut timers = txn.open_table(TIMERS)?;
    let mut due = txn.open_table(TIMERS_DUE)?;
    let old: Option<TimerRecord> = timers
        .get(rec.id)?
        .map(|v| serde_json::from_slice(v.value()))
        .transpose()?;
    if let Some(old) = old {
        due.remove((old.next_run_at, old.id))?;
    }
    if !rec.is_disabled {
        due.insert((rec.next_run_at, rec.id), ())?;
    }
    timers.insert(rec.id, serde_json::to_vec(rec)?.as_slice())?;
    Ok(())
}

/// Deletes a timer and its continuation; false when there was none.
pub(super) fn delete(txn: &WriteTransaction, id: u64) -> StoreResult<bool> {
    let mut timers = txn.open_table(TIMERS)?;
    let old: Option<TimerRecord> = timers
        .remove(id)?
        .map(|v| serde_json::from_slice(v.value()))
        .transpose()?;
    let Some(old) = old else {
        return Ok(false);
    };
    txn.open_table(TIMERS_DUE)?
        .remove((old.next_run_at, old.id))?;
    if !old.continuation_id.is_empty() {
        txn.open_table(TIMER_CONTINUATIONS)?
            .remove(old.continuation_id.as_str())?;
    }
    Ok(true)
}

/// Enabled timers with `next_run_at <= now`, soonest first, at most `limit`.
pub(super) fn due(txn: &ReadTransaction, now: i64, limit: usize) -> StoreResult<Vec<TimerRecord>> {
    let index = txn.open_table(TIMERS_DUE)?;
    let timers = txn.open_table(TIMERS)?;
    let mut out = Vec::new();
    for item in index.range((i64::MIN, 0)..=(now, u64::MAX))? {
        if out.len() >= limit {
            break;
        }
        let (key, _) = item?;
        let (_, id) = key.value();
        if let Some(v) = timers.get(id)? {
            let t: TimerRecord = serde_json::from_slice(v.value())?;
            if t.lease_expires_at <= now {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// A continuation by token.
pub(super) fn continuation(
    txn: &ReadTransaction,
    token: &str,
) -> StoreResult<Option<TimerContinuation>> {
    let t = txn.open_table(TIMER_CONTINUATIONS)?;
    let found = t
        .get(token)?
        .map(|v| serde_json::from_slice(v.value()))
        .transpose()?;
    Ok(found)
}

fn get(txn: &WriteTransaction, id: u64) -> StoreResult<Option<TimerRecord>> {
    let found = txn
        .open_table(TIMERS)?
        .get(id)?
        .map(|v| serde_json::from_slice(v.value()))
        .transpose()?;
    Ok(found)
}

/// Claims timer `id` for `owner` until `lease_until`, bumping its fence:
/// only when it is enabled, unleased (or its lease lapsed) and, unless
/// `force`, due. Returns the claimed record.
pub(super) fn claim(
    txn: &WriteTransaction,
    id: u64,
    owner: &str,
    now: i64,
    lease_until: i64,
    force: bool,
) -> StoreResult<Option<TimerRecord>> {
    let Some(mut timer) = get(txn, id)? else {
        return Ok(None);
    };
    let leased = timer.lease_expires_at > now && !timer.lease_owner.is_empty();
    if leased || (!force && (timer.is_disabled || timer.next_run_at > now)) {
        return Ok(None);
    }
    timer.lease_owner = owner.to_string();
    timer.lease_expires_at = lease_until;
    timer.fence += 1;
    put(txn, &timer)?;
    Ok(Some(timer))
}

/// Creates (id 0: `id` is assigned) or replaces a timer's own fields,
/// keeping what the scheduler owns (continuation, lease, fence,
/// `last_ran_at`, `created_at`). Returns the record as stored; `None` when
/// `rec.id` names no timer.
pub(super) fn save(
    txn: &WriteTransaction,
    rec: &TimerRecord,
    id: impl FnOnce() -> StoreResult<u64>,
    now: i64,
) -> StoreResult<Option<TimerRecord>> {
    let mut rec = rec.clone();
    rec.updated_at = now;
    if rec.id == 0 {
        rec.id = id()?;
        rec.created_at = now;
    } else {
        let Some(old) = get(txn, rec.id)? else {
            return Ok(None);
        };
        rec.continuation_id = old.continuation_id;
        rec.lease_owner = old.lease_owner;
        rec.lease_expires_at = old.lease_expires_at;
        rec.fence = old.fence;
        rec.last_ran_at = old.last_ran_at;
        rec.created_at = old.created_at;
    }
    put(txn, &rec)?;
    Ok(Some(rec))
}

/// Applies a run's outcome to timer `id` when `fence` is still the
/// timer's (re-read inside the transaction: edits made meanwhile to other
/// fields are kept) and releases the lease. False when the fence moved on
/// or the timer was deleted meanwhile: nothing is changed.
pub(super) fn apply(
    txn: &WriteTransaction,
    id: u64,
    fence: u64,
    update: &TimerUpdate,
    now: i64,
) -> StoreResult<bool> {
    let Some(mut timer) = get(txn, id)? else {
        return Ok(false);
    };
    if timer.fence != fence {
        return Ok(false);
    }
    match update {
        TimerUpdate::Delete => {
            delete(txn, id)?;
        }
        TimerUpdate::Set {
            next_run_at,
            disable,
            last_ran_at,
            continuation,
        } => {
            let mut conts = txn.open_table(TIMER_CONTINUATIONS)?;
            match continuation {
                ContinuationChange::Keep => {}
                ContinuationChange::Save(c) => {
                    if !timer.continuation_id.is_empty() && timer.continuation_id != c.token {
                        conts.remove(timer.continuation_id.as_str())?;
                    }
                    conts.insert(c.token.as_str(), serde_json::to_vec(c)?.as_slice())?;
                    timer.continuation_id = c.token.clone();
                }
                ContinuationChange::Discard => {
                    if !timer.continuation_id.is_empty() {
                        conts.remove(timer.continuation_id.as_str())?;
                    }
                    timer.continuation_id.clear();
                }
            }
            drop(conts);
            timer.next_run_at = *next_run_at;
            if *disable {
                timer.is_disabled = true;
            }
            timer.last_ran_at = *last_ran_at;
            timer.updated_at = now;
            timer.lease_owner.clear();
            timer.lease_expires_at = 0;
            put(txn, &timer)?;
        }
    }
    Ok(true)
}
