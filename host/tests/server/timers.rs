//! Timers on a real server (real sandbox, real redb) with an injected
//! clock: recurrence across DST, one-shot outcomes, `await` continuations,
//! downtime, leases, and the admin API.

use crate::support::TestServer;
use chrono::TimeZone;
use chrono_tz::Tz;
use katabox::timers::{self, Clock, Fired, TimerContext};
use reqwest::Method;
use serde_json::{Value as J, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const TRIGGER: &str = "cerb.trigger.automation.timer";

/// A clock the test moves.
struct Manual(AtomicI64);

impl Clock for Manual {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct Fixture {
    server: TestServer,
    clock: Arc<Manual>,
    ctx: TimerContext,
}

impl Fixture {
    async fn new(scripts: &[(&str, &str)]) -> Fixture {
        let clock = Arc::new(Manual(AtomicI64::new(0)));
        let shared = clock.clone();
        let server = TestServer::start(move |config| config.clock = shared).await;
        let records: Vec<J> = scripts
            .iter()
            .enumerate()
            .map(|(i, (name, script))| {
                json!({"uid": format!("a{i}"), "_context": "automation", "name": name,
                       "extension_id": TRIGGER, "script": script, "policy_kata": ""})
            })
            .collect();
        let pkg = json!({"package": {"name": "timers", "revision": 1}, "records": records});
        let (status, body) = server
            .api(Method::POST, "/packages", Some(json!({"package": pkg})))
            .await;
        assert_eq!(status, 201, "{body}");
        let ctx = server.state.timers.clone();
        Fixture { server, clock, ctx }
    }

    fn set(&self, now: i64) {
        self.clock.0.store(now, Ordering::SeqCst);
    }

    async fn create(&self, body: J) -> J {
        let (status, t) = self.server.api(Method::POST, "/timers", Some(body)).await;
        assert_eq!(status, 201, "{t}");
        t
    }

    async fn timer(&self, id: &J) -> (u16, J) {
        self.server
            .api(Method::GET, &format!("/timers/{id}"), None)
            .await
    }

    async fn tick(&self) -> Vec<Fired> {
        timers::tick(&self.ctx).await.expect("tick")
    }

    async fn run(&self, id: u64) -> J {
        let (status, run) = self
            .server
            .api(Method::GET, &format!("/runs/{id}"), None)
            .await;
        assert_eq!(status, 200, "{run}");
        run
    }
}

fn event(automation: &str) -> String {
    format!("automation/go:\n  uri: cerb:automation:{automation}\n")
}

fn ny(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    let zone: Tz = "America/New_York".parse().expect("zone");
    zone.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .earliest()
        .expect("a local time")
        .timestamp()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    chrono::Utc
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a time")
        .timestamp()
}

/// Ticks at each `next_run_at` in turn and returns the instants it fired at.
async fn fire_times(f: &Fixture, id: &J, count: usize) -> Vec<i64> {
    let mut fired = Vec::new();
    for _ in 0..count {
        let (_, t) = f.timer(id).await;
        let at = t["next_run_at"].as_i64().expect("next_run_at");
        // Nothing runs a second early.
        f.set(at - 1);
        assert!(f.tick().await.is_empty(), "ran before {at}");
        f.set(at);
        let ran = f.tick().await;
        assert_eq!(ran.len(), 1, "{ran:?}");
        assert_eq!(ran[0].outcome, "finished");
        fired.push(at);
    }
    fired
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_five_minutes_in_new_york_across_both_dst_changes() {
    let f = Fixture::new(&[("tick", "start:\n  return:\n    ok@bool: yes\n")]).await;
    // Spring forward: 2026-03-08 02:00 EST becomes 03:00 EDT.
    f.set(ny(2026, 3, 8, 1, 48));
    let t = f
        .create(
            json!({"name": "every 5", "automations_kata": event("tick"), "is_recurring": 1,
                       "recurring_patterns": "# every five minutes\n*/5 * * * *\n",
                       "recurring_timezone": "America/New_York"}),
        )
        .await;
    assert_eq!(t["next_run_at"], json!(ny(2026, 3, 8, 1, 50)));
    let spring = fire_times(&f, &t["id"], 4).await;
    assert_eq!(
        spring,
        vec![
            utc(2026, 3, 8, 6, 50),
            utc(2026, 3, 8, 6, 55),
            utc(2026, 3, 8, 7, 0), // 03:00 EDT: 02:00-02:59 does not exist
            utc(2026, 3, 8, 7, 5),
        ]
    );
    // Fall back: 2026-11-01 02:00 EDT becomes 01:00 EST. As croner defines
    // it, the repeated 01:xx hour fires again: every five minutes of real
    // time, no gap and no double firing.
    f.set(ny(2026, 11, 1, 1, 52));
    let (status, t) = f
        .server
        .api(
            Method::PUT,
            &format!("/timers/{}", t["id"]),
            Some(json!({"next_run_at": utc(2026, 11, 1, 5, 55)})),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let fall = fire_times(&f, &t["id"], 3).await;
    assert_eq!(
        fall,
        vec![
            utc(2026, 11, 1, 5, 55), // 01:55 EDT
            utc(2026, 11, 1, 6, 0),  // 01:00 EST
            utc(2026, 11, 1, 6, 5),  // 01:05 EST
        ]
    );
    // Every firing is a timer run in the history.
    let (_, runs) = f
        .server
        .api(Method::GET, "/runs?trigger=timer&limit=100", None)
        .await;
    let runs = runs["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 7);
    assert!(
        runs.iter()
            .all(|r| r["timer_id"] == t["id"] && r["exit"] == "return")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shot_timers_are_disabled_deleted_or_disabled_with_the_error() {
    let f = Fixture::new(&[
        ("done", "start:\n  return:\n    ok@bool: yes\n"),
        ("cleanup", "start:\n  return:\n    delete@bool: yes\n"),
        ("broken", "start:\n  error: Something broke\n"),
    ])
    .await;
    f.set(1_900_000_000);
    let done = f
        .create(json!({"name": "d", "automations_kata": event("done")}))
        .await;
    let cleanup = f
        .create(json!({"name": "c", "automations_kata": event("cleanup")}))
        .await;
    let broken = f
        .create(json!({"name": "b", "automations_kata": event("broken")}))
        .await;
    // One-shot timers without next_run_at are due at once.
    assert_eq!(done["next_run_at"], json!(1_900_000_000));
    f.set(1_900_000_010);
    let fired = f.tick().await;
    let outcome: Vec<(&str, &str)> = fired.iter().map(|r| (r.exit.as_str(), r.outcome)).collect();
    assert_eq!(
        outcome,
        vec![
            ("return", "disabled"),
            ("return", "deleted"),
            ("error", "disabled")
        ]
    );

    let (_, d) = f.timer(&done["id"]).await;
    assert_eq!(
        (&d["is_disabled"], &d["next_run_at"], &d["last_ran_at"]),
        (&json!(true), &json!(0), &json!(1_900_000_010))
    );
    assert_eq!(f.timer(&cleanup["id"]).await.0, 404);
    let (_, b) = f.timer(&broken["id"]).await;
    assert_eq!(
        (&b["is_disabled"], &b["next_run_at"]),
        (&json!(true), &json!(0))
    );
    let run = f.run(fired[2].run_id.expect("run id")).await;
    assert_eq!(run["trigger"], "timer");
    assert_eq!(run["timer_id"], broken["id"]);
    assert_eq!(run["automation"], "broken");
    assert_eq!(run["error"], "Something broke");
    // Nothing is due any more.
    f.set(1_900_100_000);
    assert!(f.tick().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_await_resumes_with_its_dictionary_in_a_fresh_guest() {
    let script = "start:\n  set:\n    greeting: hello\n    n@int: 41\n  await:\n    until@date: +3 seconds\n  return:\n    greeting: {{greeting}}\n    n: {{n + 1}}\n";
    let f = Fixture::new(&[("waits", script)]).await;
    f.set(katabox::store::now_unix());
    let t = f
        .create(json!({"name": "w", "automations_kata": event("waits")}))
        .await;
    let first = f.tick().await;
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].exit.as_str(), first[0].outcome),
        ("await", "awaiting")
    );
    let until = first[0].next_run_at;
    let (_, waiting) = f.timer(&t["id"]).await;
    assert_eq!(waiting["next_run_at"], json!(until));
    assert!(
        waiting["continuation_id"]
            .as_str()
            .is_some_and(|c| c.len() == 40),
        "{waiting}"
    );
    assert!(waiting["is_disabled"] == json!(false));

    // Run now before `until`: only rescheduled, nothing ran.
    let (status, early) = f
        .server
        .api(Method::POST, &format!("/timers/{}/run", t["id"]), None)
        .await;
    assert_eq!(status, 200, "{early}");
    assert_eq!(early["outcome"], "rescheduled");
    assert_eq!(early["run_id"], J::Null);

    f.set(until);
    let resumed = f.tick().await;
    assert_eq!(resumed.len(), 1);
    assert_eq!(
        (resumed[0].exit.as_str(), resumed[0].outcome),
        ("return", "disabled")
    );
    let run = f.run(resumed[0].run_id.expect("run id")).await;
    assert_eq!(run["return"], json!({"greeting": "hello", "n": "42"}));
    assert_eq!(run["trigger"], "timer");
    let (_, done) = f.timer(&t["id"]).await;
    assert_eq!(done["continuation_id"], "");
    assert_eq!(done["is_disabled"], json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_await_without_until_uses_cerbs_900_and_runs_on_the_next_tick() {
    let script = "start:\n  await:\n    note: no until\n  return:\n    delete@bool: yes\n";
    let f = Fixture::new(&[("soon", script)]).await;
    f.set(1_900_000_000);
    let t = f
        .create(json!({"name": "s", "automations_kata": event("soon")}))
        .await;
    let first = f.tick().await;
    assert_eq!((first[0].outcome, first[0].next_run_at), ("awaiting", 900));
    // 900 is in the past: the very next tick resumes, and the run deletes the timer.
    let second = f.tick().await;
    assert_eq!(
        (second[0].exit.as_str(), second[0].outcome),
        ("return", "deleted")
    );
    assert_eq!(f.timer(&t["id"]).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_downtime_a_recurring_timer_runs_once_then_moves_past_now() {
    let f = Fixture::new(&[("tick", "start:\n  return:\n    ok@bool: yes\n")]).await;
    let now = utc(2026, 12, 6, 12, 2);
    f.set(now);
    let t = f
        .create(
            json!({"name": "hourly", "automations_kata": event("tick"), "is_recurring": 1,
                       "recurring_patterns": "0 * * * *", "next_run_at": now - 3 * 86_400}),
        )
        .await;
    let fired = f.tick().await;
    assert_eq!(fired.len(), 1, "72 missed occurrences run once");
    assert_eq!(fired[0].next_run_at, utc(2026, 12, 6, 13, 0));
    assert!(f.tick().await.is_empty());
    let (_, after) = f.timer(&t["id"]).await;
    assert_eq!(after["last_ran_at"], json!(now));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_timer_is_not_run_twice_and_a_stale_outcome_is_dropped() {
    let f = Fixture::new(&[("tick", "start:\n  return:\n    ok@bool: yes\n")]).await;
    f.set(1_900_000_000);
    let t = f
        .create(json!({"name": "x", "automations_kata": event("tick")}))
        .await;
    let id = t["id"].as_u64().expect("id");
    let store = &f.server.state.store;
    // Another scheduler holds the lease: this one skips the timer.
    let other = store
        .claim_timer(id, "other-host", 1_900_000_000, 1_900_000_300, false)
        .expect("claim")
        .expect("claimed");
    assert!(f.tick().await.is_empty());
    let (status, busy) = f
        .server
        .api(Method::POST, &format!("/timers/{id}/run"), None)
        .await;
    assert_eq!(status, 409, "{busy}");
    // Its lease lapses (the other host crashed): the timer runs here.
    f.set(1_900_000_301);
    let fired = f.tick().await;
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].outcome, "disabled");
    // The crashed host's late outcome carries an old fence: refused.
    let late = katabox::store::TimerUpdate::Set {
        next_run_at: 5,
        disable: false,
        last_ran_at: 5,
        continuation: katabox::store::ContinuationChange::Keep,
    };
    let applied = store
        .apply_timer_update(id, other.fence, &late, 1_900_000_302)
        .expect("apply");
    assert!(!applied);
    let (_, after) = f.timer(&t["id"]).await;
    assert_eq!(
        (&after["is_disabled"], &after["next_run_at"]),
        (&json!(true), &json!(0))
    );
    assert!(after["fence"].as_u64() > Some(other.fence));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_api_validates_and_edits_keep_the_schedulers_fields() {
    let f = Fixture::new(&[("tick", "start:\n  return:\n    ok@bool: yes\n")]).await;
    let bad = [
        (json!({"automations_kata": ""}), "'name' is required."),
        (
            json!({"name": "t", "recurring_timezone": "Mars/Olympus"}),
            "'recurring_timezone' (Mars/Olympus) is not a valid timezone. Format like: America/Los_Angeles",
        ),
        (
            json!({"name": "t", "is_recurring": "yes"}),
            "'is_recurring' must be 0 or 1.",
        ),
    ];
    for (body, want) in bad {
        let (status, err) = f.server.api(Method::POST, "/timers", Some(body)).await;
        assert_eq!((status, err["error"].as_str()), (400, Some(want)));
    }
    let (status, err) = f
        .server
        .api(
            Method::POST,
            "/timers",
            Some(json!({"name": "t", "recurring_patterns": "* * *"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        err["error"]
            .as_str()
            .is_some_and(|e| e.contains("line 1 (* * *)")),
        "{err}"
    );

    f.set(1_900_000_000);
    let t = f
        .create(json!({"name": "t", "automations_kata": event("tick"), "is_disabled": true}))
        .await;
    // Disabled timers are not due.
    assert!(f.tick().await.is_empty());
    let (_, list) = f.server.api(Method::GET, "/timers", None).await;
    assert_eq!(list["timers"][0]["name"], "t");
    let (status, enabled) = f
        .server
        .api(
            Method::PUT,
            &format!("/timers/{}", t["id"]),
            Some(json!({"is_disabled": 0})),
        )
        .await;
    assert_eq!((status, &enabled["is_disabled"]), (200, &json!(false)));
    assert_eq!(enabled["created_at"], t["created_at"]);
    assert_eq!(f.tick().await.len(), 1);
    let (status, _) = f
        .server
        .api(Method::DELETE, &format!("/timers/{}", t["id"]), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(f.timer(&t["id"]).await.0, 404);
    let (status, _) = f.server.api(Method::POST, "/timers/999/run", None).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuation_past_its_seven_days_fails_the_resume_and_disables_the_timer() {
    let script = "start:\n  await:\n    until@int: 1900000100\n  return:\n    done@bool: yes\n";
    let f = Fixture::new(&[("late", script)]).await;
    f.set(1_900_000_000);
    let t = f
        .create(json!({"name": "l", "automations_kata": event("late")}))
        .await;
    let first = f.tick().await;
    assert_eq!(
        (first[0].outcome, first[0].next_run_at),
        ("awaiting", 1_900_000_100)
    );
    let path = format!("/timers/{}", t["id"]);
    // Paused by the operator for longer than Cerb keeps a continuation.
    let (status, _) = f
        .server
        .api(Method::PUT, &path, Some(json!({"is_disabled": 1})))
        .await;
    assert_eq!(status, 200);
    f.set(1_900_000_100 + 604_800 + 1);
    assert!(f.tick().await.is_empty(), "disabled timers wait");
    let (_, paused) = f.timer(&t["id"]).await;
    assert!(
        paused["continuation_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{paused}"
    );
    let (status, _) = f
        .server
        .api(Method::PUT, &path, Some(json!({"is_disabled": 0})))
        .await;
    assert_eq!(status, 200);
    let resumed = f.tick().await;
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].outcome, "failed");
    let run = f.run(resumed[0].run_id.expect("run id")).await;
    assert_eq!(run["error"], "the timer's continuation expired");
    let (_, after) = f.timer(&t["id"]).await;
    assert_eq!(
        (
            &after["is_disabled"],
            &after["next_run_at"],
            &after["continuation_id"]
        ),
        (&json!(true), &json!(0), &json!(""))
    );
}
