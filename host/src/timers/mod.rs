//! Automation timers: the scheduler in `katabox serve` that runs due
//! timers and their `await` continuations with Cerb's semantics
//! (packages.md §6.3; Cerb's `Model_AutomationTimer::_start` and
//! `_continue`).
//!
//! One tick: pick enabled timers with `next_run_at <= now`, soonest
//! first; for each, either start a cycle (event KATA with the `timer_*`
//! dictionary → an automation with the timer trigger) or resume its
//! continuation (the saved dictionary with `__state`, on the automation
//! version that saved it, in a fresh guest); record the run in the history
//! (`trigger: "timer"`, `timer_id`); apply the [`outcome::Decision`] in one
//! store transaction, so a continuation is committed together with the
//! timer's new `next_run_at`. A crash before that transaction leaves the
//! timer due: it runs again (at least once).

pub mod input;
pub mod outcome;
pub mod recurrence;

use crate::store::{
    AutomationRow, ContinuationChange, RunPayload, RunRecord, Store, TimerContinuation,
    TimerRecord, TimerUpdate,
};
use crate::webhooks::{AutomationRunner, WebhookContext, event, redact};
use base64::Engine as _;
use chrono_tz::Tz;
use katabox_value::{Array, Value};
use outcome::{CONTINUATION_TTL, Decision, Ended};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The trigger a timer's automation must have.
pub const TIMER_TRIGGER: &str = "cerb.trigger.automation.timer";

/// Timers run per tick at most (the rest wait for the next tick).
pub const TICK_BATCH: usize = 100;

/// Where "now" comes from (a fixed clock in tests).
pub trait Clock: Send + Sync {
    /// Unix seconds.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        crate::store::now_unix()
    }
}

/// Everything the scheduler needs.
#[derive(Clone)]
pub struct TimerContext {
    pub store: Arc<dyn Store>,
    pub runner: Arc<dyn AutomationRunner>,
    /// The operator's secrets: their values are scrubbed from run records.
    pub secrets: Arc<katabox_verify::Secrets>,
    /// Bytes of inputs and return the history keeps.
    pub history_body_limit: usize,
    /// The timezone of timers whose `recurring_timezone` is empty.
    pub default_tz: Tz,
    pub clock: Arc<dyn Clock>,
    /// This scheduler's name in timer leases (random per process).
    pub owner: String,
    /// How long a claim lasts: a run that crashed is retried after it.
    pub lease_secs: i64,
}

/// The default [`TimerContext::lease_secs`]: longer than any run may take.
pub const LEASE_SECS: i64 = 300;

impl TimerContext {
    /// The scheduler's context beside the webhooks' (same store, runner, secrets).
    pub fn from_webhooks(ctx: &WebhookContext, default_tz: Tz) -> TimerContext {
        TimerContext {
            store: ctx.store.clone(),
            runner: ctx.runner.clone(),
            secrets: ctx.secrets.clone(),
            history_body_limit: ctx.history_body_limit,
            default_tz,
            clock: Arc::new(SystemClock),
            owner: format!("katabox-{}", &crate::store::generate_guid()[..12]),
            lease_secs: LEASE_SECS,
        }
    }
}

/// What one timer run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fired {
    pub timer_id: u64,
    /// The history record of the run (none when a resume only rescheduled).
    pub run_id: Option<u64>,
    /// The automation's exit (empty when none ran).
    pub exit: String,
    /// `deleted`, `awaiting`, `rescheduled`, `finished`, `disabled`,
    /// `failed`, or `superseded` (the timer was claimed again meanwhile,
    /// e.g. after its lease lapsed: this run's outcome was dropped).
    pub outcome: &'static str,
    /// The timer's `next_run_at` afterwards (0 when deleted or disabled).
    pub next_run_at: i64,
}

/// Why a timer could not be run.
#[derive(Debug, thiserror::Error)]
pub enum TimerError {
    #[error("no such timer")]
    NotFound,
    #[error("the timer is running")]
    Busy,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The blocking task that did the store work panicked or was cancelled.
    #[error("timer store work failed: {0}")]
    Task(String),
}

/// Runs store work (redb writes that fsync) off the async workers.
async fn off_workers<T: Send + 'static>(
    ctx: &TimerContext,
    f: impl FnOnce(&dyn Store) -> crate::store::StoreResult<T> + Send + 'static,
) -> Result<T, TimerError> {
    let store = ctx.store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| TimerError::Task(e.to_string()))?
        .map_err(TimerError::from)
}

/// Runs every due timer once (at most [`TICK_BATCH`]), soonest first;
/// each is claimed first, so another scheduler never runs it too.
pub async fn tick(ctx: &TimerContext) -> Result<Vec<Fired>, TimerError> {
    let now = ctx.clock.now();
    let due = off_workers(ctx, move |s| s.due_timers(now, TICK_BATCH)).await?;
    let mut fired = Vec::with_capacity(due.len());
    for timer in due {
        if let Some(claimed) = claim(ctx, timer.id, false).await? {
            crate::metrics::timer_lag(ctx.clock.now().saturating_sub(claimed.next_run_at));
            fired.push(run_timer(ctx, claimed).await?);
        }
    }
    Ok(fired)
}

/// Runs timer `id` now, due or not (`POST /api/timers/{id}/run`).
pub async fn run_now(ctx: &TimerContext, id: u64) -> Result<Fired, TimerError> {
    off_workers(ctx, move |s| s.timer(id))
        .await?
        .ok_or(TimerError::NotFound)?;
    let claimed = claim(ctx, id, true).await?.ok_or(TimerError::Busy)?;
    run_timer(ctx, claimed).await
}

async fn claim(
    ctx: &TimerContext,
    id: u64,
    force: bool,
) -> Result<Option<TimerRecord>, TimerError> {
    let now = ctx.clock.now();
    let until = now.saturating_add(ctx.lease_secs);
    let owner = ctx.owner.clone();
    off_workers(ctx, move |s| s.claim_timer(id, &owner, now, until, force)).await
}

/// The scheduler loop: a tick every `every` until `shutdown` resolves.
/// Store errors are reported on stderr and retried on the next tick.
pub async fn run_scheduler(
    ctx: TimerContext,
    every: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut interval = tokio::time::interval(every.max(Duration::from_millis(10)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = interval.tick() => {
                if let Err(e) = tick(&ctx).await {
                    eprintln!("katabox: timer scheduler: {e}");
                }
            }
            () = &mut shutdown => return,
        }
    }
}

/// Starts a cycle or resumes the continuation, records the run, applies
/// the outcome.
async fn run_timer(ctx: &TimerContext, timer: TimerRecord) -> Result<Fired, TimerError> {
    if timer.continuation_id.is_empty() {
        start(ctx, timer).await
    } else {
        resume(ctx, timer).await
    }
}

/// The `timer_*` dictionary (Cerb's timer record keys with the prefix).
pub fn timer_dict(timer: &TimerRecord) -> Value {
    let mut d = Array::new();
    let fields: [(&str, Value); 14] = [
        (
            "timer__context",
            Value::str("cerb.contexts.automation.timer"),
        ),
        ("timer__type", Value::str("automation_timer")),
        ("timer__label", Value::str(&timer.name)),
        ("timer__loaded", Value::Bool(true)),
        ("timer_id", Value::Int(timer.id as i64)),
        ("timer_name", Value::str(&timer.name)),
        ("timer_created_at", Value::Int(timer.created_at)),
        ("timer_updated_at", Value::Int(timer.updated_at)),
        ("timer_last_ran_at", Value::Int(timer.last_ran_at)),
        ("timer_next_run_at", Value::Int(timer.next_run_at)),
        (
            "timer_is_disabled",
            Value::Int(i64::from(timer.is_disabled)),
        ),
        (
            "timer_is_recurring",
            Value::Int(i64::from(timer.is_recurring)),
        ),
        (
            "timer_recurring_patterns",
            Value::str(&timer.recurring_patterns),
        ),
        (
            "timer_recurring_timezone",
            Value::str(&timer.recurring_timezone),
        ),
    ];
    for (k, v) in fields {
        d.insert(k, v);
    }
    Value::array(d)
}

async fn start(ctx: &TimerContext, timer: TimerRecord) -> Result<Fired, TimerError> {
    let mut dict = timer_dict(&timer);
    let mut run = new_run(&timer);
    let mut payload = RunPayload::default();
    let store = ctx.store.clone();
    let find = move |name: &str| store.automation(name).ok().flatten();
    let mut ended = Ended::default();
    let mut ran: Option<(AutomationRow, Value)> = None;
    let selection =
        event::select_off_workers(&timer.automations_kata, &dict, TIMER_TRIGGER, find).await;
    match selection {
        Err(e) => {
            ended.exit = "error".into();
            run.exit = "error".into();
            run.error = Some(e.to_string());
        }
        Ok(None) => {
            run.error = Some(format!(
                "no enabled automation handler with the trigger {TIMER_TRIGGER}"
            ));
        }
        Ok(Some(sel)) => {
            if let Some(inputs) = &sel.inputs {
                payload.inputs = Some(crate::webhooks::capped_json(inputs, ctx.history_body_limit));
            }
            if let (Some(inputs), Some(d)) = (sel.inputs, dict.as_array_mut()) {
                d.insert("inputs", inputs);
            }
            let out = execute(ctx, &sel.automation, dict, &mut run, &mut payload).await;
            ended = out.0;
            ran = Some((sel.automation, out.1));
        }
    }
    let decision = outcome::after_start(&ended, ran.is_some());
    let continuation = match (&decision, ran) {
        (Decision::Await { until }, Some((automation, dict))) => {
            let mut c = TimerContinuation {
                token: crate::store::generate_guid(),
                timer_id: timer.id,
                automation: automation.name,
                automation_version: automation.version,
                state: "await".into(),
                dict_wire: String::new(),
                until: 0,
                expires_at: 0,
                updated_at: 0,
            };
            c.wait(&dict, *until, ctx.clock.now());
            Some(c)
        }
        _ => None,
    };
    finish(ctx, &timer, run, payload, decision, continuation).await
}

impl TimerContinuation {
    /// Holds `dict` until `until` (expiring 7 days later, as Cerb).
    fn wait(&mut self, dict: &Value, until: i64, now: i64) {
        self.dict_wire = encode_dict(dict);
        self.until = until;
        self.expires_at = until.saturating_add(CONTINUATION_TTL);
        self.updated_at = now;
    }
}

async fn resume(ctx: &TimerContext, timer: TimerRecord) -> Result<Fired, TimerError> {
    let now = ctx.clock.now();
    let cont = ctx
        .store
        .timer_continuation(&timer.continuation_id)?
        .filter(|c| c.state == "await" && c.timer_id == timer.id);
    // Cerb's maintenance deletes continuations past `expires_at`; here an
    // expired one is treated as deleted when the timer comes back to it —
    // but never within 7 days of being saved, so Cerb's `until`-less 900
    // still resumes on the next tick.
    let expired = cont
        .as_ref()
        .is_some_and(|c| c.expires_at < now && c.updated_at.saturating_add(CONTINUATION_TTL) < now);
    let Some(mut cont) = cont.filter(|_| !expired) else {
        let why = if expired { "expired" } else { "is missing" };
        let reason = format!("the timer's continuation {why}");
        return fail_resume(ctx, &timer, new_run(&timer), reason).await;
    };
    if cont.until > now {
        // Not yet: only reschedule (Cerb's `_continue`).
        let update = TimerUpdate::Set {
            next_run_at: cont.until,
            disable: false,
            last_ran_at: now,
            continuation: ContinuationChange::Keep,
        };
        let (id, fence) = (timer.id, timer.fence);
        off_workers(ctx, move |s| s.apply_timer_update(id, fence, &update, now)).await?;
        return Ok(Fired {
            timer_id: timer.id,
            run_id: None,
            exit: String::new(),
            outcome: "rescheduled",
            next_run_at: cont.until,
        });
    }
    let mut run = new_run(&timer);
    run.automation = Some(cont.automation.clone());
    run.automation_version = Some(cont.automation_version);
    let ready = resumable(ctx, &cont).and_then(|a| {
        decode_dict(&cont.dict_wire)
            .map(|d| (a, d))
            .ok_or_else(|| "the timer's continuation could not be read".to_string())
    });
    let (automation, dict) = match ready {
        Ok(ready) => ready,
        Err(reason) => return fail_resume(ctx, &timer, run, reason).await,
    };
    let mut payload = RunPayload::default();
    let (ended, dict) = execute(ctx, &automation, dict, &mut run, &mut payload).await;
    let decision = outcome::after_resume(&ended);
    let continuation = match &decision {
        Decision::Await { until } => {
            cont.wait(&dict, *until, ctx.clock.now());
            Some(cont)
        }
        _ => None,
    };
    finish(ctx, &timer, run, payload, decision, continuation).await
}

/// A resume that cannot run: recorded with `reason`, the timer disabled
/// and its continuation discarded.
async fn fail_resume(
    ctx: &TimerContext,
    timer: &TimerRecord,
    mut run: RunRecord,
    reason: String,
) -> Result<Fired, TimerError> {
    run.exit = "error".into();
    run.error = Some(reason);
    let payload = RunPayload::default();
    finish(ctx, timer, run, payload, Decision::Fail, None).await
}

/// The automation version a continuation resumes on. Cerb requires the
/// automation to still exist with the timer trigger; katabox then runs the
/// version that saved the continuation, so `__state` points into the
/// script it came from.
fn resumable(ctx: &TimerContext, cont: &TimerContinuation) -> Result<AutomationRow, String> {
    let current = ctx
        .store
        .automation(&cont.automation)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the automation {} no longer exists", cont.automation))?;
    if current.extension_id != TIMER_TRIGGER {
        return Err(format!(
            "the automation {} no longer has the trigger {TIMER_TRIGGER}",
            cont.automation
        ));
    }
    if current.version == cont.automation_version {
        return Ok(current);
    }
    ctx.store
        .automation_version(&cont.automation, cont.automation_version)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "version {} of the automation {} is no longer kept",
                cont.automation_version, cont.automation
            )
        })
}

/// A history record for a run of `timer`, not yet filled in.
fn new_run(timer: &TimerRecord) -> RunRecord {
    RunRecord {
        at_ms: crate::store::now_unix_ms(),
        trigger: "timer".into(),
        timer_id: Some(timer.id),
        ..RunRecord::default()
    }
}

/// Runs `automation` from `dict`, filling in the history record; returns
/// how it ended and its final dictionary.
async fn execute(
    ctx: &TimerContext,
    automation: &AutomationRow,
    dict: Value,
    run: &mut RunRecord,
    payload: &mut RunPayload,
) -> (Ended, Value) {
    let out = ctx.runner.run(automation, dict, None).await;
    crate::webhooks::record_outcome(
        run,
        payload,
        automation,
        "timer",
        &out,
        ctx.history_body_limit,
    );
    let ended = Ended {
        returned: out.dict.get("__return").cloned(),
        exit: out.exit,
        failed: out.failure.is_some(),
    };
    (ended, out.dict)
}

/// Records the run and applies `decision` to the timer in one transaction
/// (both durable writes off the async workers).
async fn finish(
    ctx: &TimerContext,
    timer: &TimerRecord,
    mut run: RunRecord,
    payload: RunPayload,
    decision: Decision,
    continuation: Option<TimerContinuation>,
) -> Result<Fired, TimerError> {
    let now = ctx.clock.now();
    let (update, outcome, next_run_at) = match decision {
        Decision::Delete => (TimerUpdate::Delete, "deleted", 0),
        Decision::Fail => (
            TimerUpdate::Set {
                next_run_at: 0,
                disable: true,
                last_ran_at: now,
                continuation: ContinuationChange::Discard,
            },
            "failed",
            0,
        ),
        Decision::Await { until } => {
            let change = match continuation {
                Some(c) => ContinuationChange::Save(Box::new(c)),
                None => ContinuationChange::Keep,
            };
            (
                TimerUpdate::Set {
                    next_run_at: until,
                    disable: false,
                    last_ran_at: now,
                    continuation: change,
                },
                "awaiting",
                until,
            )
        }
        Decision::Finish => {
            let next = next_occurrence(ctx, timer, now, &mut run);
            let (next_run_at, disable, outcome) = match next {
                Some(at) => (at, false, "finished"),
                None => (0, true, "disabled"),
            };
            (
                TimerUpdate::Set {
                    next_run_at,
                    disable,
                    last_ran_at: now,
                    continuation: ContinuationChange::Discard,
                },
                outcome,
                next_run_at,
            )
        }
    };
    run.payload = Some(payload);
    redact::redact_run(&ctx.secrets, &mut run);
    let exit = run.exit.clone();
    let (id, fence) = (timer.id, timer.fence);
    let (run_id, applied) = off_workers(ctx, move |s| {
        let mut run = run;
        crate::webhooks::fill_child_versions(s, &mut run);
        let run_id = crate::store::store_with_children(run, |r| s.record_run(r).ok());
        Ok((run_id, s.apply_timer_update(id, fence, &update, now)?))
    })
    .await?;
    Ok(Fired {
        timer_id: timer.id,
        run_id,
        exit,
        outcome: if applied { outcome } else { "superseded" },
        next_run_at,
    })
}

/// The next occurrence of a recurring timer after `now`; `None` for a
/// one-shot timer or when no pattern yields one (a pattern that no longer
/// parses is noted in the run's error).
fn next_occurrence(
    ctx: &TimerContext,
    timer: &TimerRecord,
    now: i64,
    run: &mut RunRecord,
) -> Option<i64> {
    if !timer.is_recurring
        || recurrence::pattern_lines(&timer.recurring_patterns)
            .next()
            .is_none()
    {
        return None;
    }
    match recurrence::next_occurrence(
        &timer.recurring_patterns,
        &timer.recurring_timezone,
        ctx.default_tz,
        now,
    ) {
        Ok(next) => next,
        Err(e) => {
            if run.error.is_none() {
                run.error = Some(e.to_string());
            }
            None
        }
    }
}

fn encode_dict(dict: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(katabox_value::wire::encode(dict))
}

fn decode_dict(text: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    katabox_value::wire::decode(&bytes).ok()
}
