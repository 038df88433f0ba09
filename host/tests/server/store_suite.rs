//! One store suite, run on both backends: `store_suite::redb::*` on a
//! temporary redb directory and `store_suite::postgres::*` on a fresh
//! database of a real PostgreSQL (tests/support/postgres.rs). Then the
//! tests only a shared database has: migrations once, caches, timers and
//! dedupe across hosts.

use crate::pg_support;
use katabox::capabilities::data::{QueueMessage, Resource};
use katabox::store::{
    Backend, ContinuationChange, HistoryConfig, ListenerInput, PgStore, RedbStore, RunFilter,
    RunRecord, StoreConfig, StoreError, StoreUrl, TimerContinuation, TimerRecord, TimerUpdate,
    now_unix,
};
use katabox_value::Value;
use katabox_verify::{
    DedupeConfig, DedupeDecision, DedupeKey, Preset, StoredResponse, VerifiedDelivery, VerifyConfig,
};
use std::sync::Arc;

/// Where a store lives, so that a test can open it again.
pub enum Place {
    Redb(tempfile::TempDir),
    Postgres(String),
}

impl Place {
    fn open(&self, history: HistoryConfig) -> Arc<dyn Backend> {
        let config = StoreConfig { history };
        match self {
            Place::Redb(dir) => Arc::new(RedbStore::open(dir.path(), config).expect("open redb")),
            Place::Postgres(url) => Arc::new(
                PgStore::open(&StoreUrl::parse(url).expect("url"), config).expect("open postgres"),
            ),
        }
    }
}

fn redb_place() -> Place {
    Place::Redb(tempfile::tempdir().expect("tempdir"))
}

fn postgres_place() -> Place {
    Place::Postgres(pg_support::fresh_database())
}

fn keep(max_runs: usize) -> HistoryConfig {
    HistoryConfig {
        max_runs,
        ..HistoryConfig::default()
    }
}

fn input(name: &str, guid: &str) -> ListenerInput {
    ListenerInput {
        name: name.into(),
        guid: guid.into(),
        automations_kata: "automation/a:\n  uri: x".into(),
        body_limit: None,
        verify: None,
        is_disabled: None,
    }
}

macro_rules! suite {
    ($backend:ident, $place:expr, [$($test:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[test]
                fn $test() {
                    super::$test($place);
                }
            )*
        }
    };
}

suite!(
    redb,
    super::redb_place(),
    [
        listeners_get_guids_and_duplicates_are_refused,
        updating_and_deleting_listeners_keeps_the_guid_index_right,
        run_history_keeps_the_newest_n_newest_first,
        run_pages_filter_and_follow_cursors,
        retention_by_age_prunes_runs_and_payloads_expire_first,
        storage_expires_and_queues_pop_in_order,
        metrics_resources_and_continuations_round_trip,
        automation_changes_keep_every_earlier_version,
        an_import_is_all_or_nothing,
        timers_are_claimed_once_and_fenced,
        dedupe_claims_complete_replay_and_purge,
        expired_data_is_swept,
        data_survives_a_reopen,
    ]
);

suite!(
    postgres,
    super::postgres_place(),
    [
        listeners_get_guids_and_duplicates_are_refused,
        updating_and_deleting_listeners_keeps_the_guid_index_right,
        run_history_keeps_the_newest_n_newest_first,
        run_pages_filter_and_follow_cursors,
        retention_by_age_prunes_runs_and_payloads_expire_first,
        storage_expires_and_queues_pop_in_order,
        metrics_resources_and_continuations_round_trip,
        automation_changes_keep_every_earlier_version,
        an_import_is_all_or_nothing,
        timers_are_claimed_once_and_fenced,
        dedupe_claims_complete_replay_and_purge,
        expired_data_is_swept,
        data_survives_a_reopen,
    ]
);

fn listeners_get_guids_and_duplicates_are_refused(place: Place) {
    let store = place.open(keep(3));
    let a = store.create_listener(input("A", "")).expect("create");
    assert_eq!(a.guid.len(), 40);
    assert!(
        a.guid
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let b = store.create_listener(input("B", "")).expect("create");
    assert_ne!(a.guid, b.guid);
    assert_ne!(a.id, b.id);
    match store.create_listener(input("C", &a.guid)) {
        Err(StoreError::Rejected(m)) => assert!(m.contains("must be unique"), "{m}"),
        other => panic!("duplicate guid accepted: {other:?}"),
    }
    assert!(matches!(
        store.create_listener(input("", "x")),
        Err(StoreError::Rejected(_))
    ));
    assert_eq!(
        store
            .listener_by_guid(&b.guid)
            .expect("lookup")
            .map(|l| l.id),
        Some(b.id)
    );
    assert!(
        store
            .listener_by_guid(&a.guid.to_uppercase())
            .expect("lookup")
            .is_none()
    );
    let all: Vec<u64> = store
        .listeners()
        .expect("list")
        .iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(all, [a.id, b.id]);
}

fn updating_and_deleting_listeners_keeps_the_guid_index_right(place: Place) {
    let store = place.open(keep(3));
    let a = store.create_listener(input("A", "guid-a")).expect("create");
    let b = store.create_listener(input("B", "guid-b")).expect("create");
    // Cached before the change: the change must be seen.
    assert!(store.listener_by_guid("guid-a").expect("lookup").is_some());
    assert!(matches!(
        store.update_listener(a.id, input("A2", "guid-b")),
        Err(StoreError::Rejected(_))
    ));
    let a2 = store
        .update_listener(a.id, input("A2", "guid-a2"))
        .expect("update")
        .expect("exists");
    assert_eq!(a2.name, "A2");
    assert!(store.listener_by_guid("guid-a").expect("lookup").is_none());
    assert_eq!(
        store
            .listener_by_guid("guid-a2")
            .expect("lookup")
            .map(|l| l.id),
        Some(a.id)
    );
    assert_eq!(
        store.listener(a.id).expect("get").map(|l| l.name),
        Some("A2".into())
    );
    assert!(store.delete_listener(b.id).expect("delete"));
    assert!(!store.delete_listener(b.id).expect("delete again"));
    assert!(store.listener_by_guid("guid-b").expect("lookup").is_none());
    assert_eq!(
        store.update_listener(999, input("X", "")).expect("update"),
        None
    );
}

fn run_at(at_ms: i64, path: &str) -> RunRecord {
    RunRecord {
        at_ms,
        request_path: path.into(),
        status: 200,
        ..RunRecord::default()
    }
}

fn run_history_keeps_the_newest_n_newest_first(place: Place) {
    let store = place.open(keep(3));
    let now = katabox::store::now_unix_ms();
    for i in 0..5 {
        store
            .record_run(run_at(now + i, &format!("p{i}")))
            .expect("record");
    }
    let runs = store.runs(10).expect("runs");
    let paths: Vec<&str> = runs.iter().map(|r| r.request_path.as_str()).collect();
    assert_eq!(paths, ["p4", "p3", "p2"]);
    assert_eq!(store.runs(1).expect("runs").len(), 1);
    // Queued runs (the request path) are visible once queued.
    for i in 5..8 {
        store.queue_run(run_at(now + i, &format!("q{i}")));
    }
    let paths: Vec<String> = store
        .runs(10)
        .expect("runs")
        .into_iter()
        .map(|r| r.request_path)
        .collect();
    assert_eq!(paths, ["q7", "q6", "q5"]);
    assert_eq!(store.history_queue_depth(), 0);
}

fn run_pages_filter_and_follow_cursors(place: Place) {
    let store = place.open(keep(1000));
    let now = katabox::store::now_unix_ms();
    let mut batch = Vec::new();
    for i in 0..25i64 {
        let mut r = run_at(now - 1000 + i, &format!("r{i}"));
        r.automation = Some(if i % 2 == 0 { "even" } else { "odd" }.into());
        r.listener_id = Some((i % 3) as u64);
        r.exit = if i % 5 == 0 { "error" } else { "return" }.into();
        r.trigger = "webhook".into();
        batch.push(r);
    }
    for r in batch {
        store.queue_run(r);
    }
    let filter = RunFilter {
        automation: Some("even".into()),
        ..RunFilter::default()
    };
    let first = store.query_runs(&filter, 5, None).expect("page");
    assert_eq!(first.runs.len(), 5);
    assert!(
        first
            .runs
            .iter()
            .all(|r| r.automation.as_deref() == Some("even"))
    );
    assert_eq!(first.runs[0].request_path, "r24");
    let second = store
        .query_runs(&filter, 5, first.next_cursor)
        .expect("page");
    assert_eq!(second.runs[0].request_path, "r14");
    let third = store
        .query_runs(&filter, 5, second.next_cursor)
        .expect("page");
    assert_eq!(third.runs.len(), 3);
    assert_eq!(third.next_cursor, None);
    let errors = RunFilter {
        exit: Some("error".into()),
        listener: Some(0),
        ..RunFilter::default()
    };
    let paths: Vec<String> = store
        .query_runs(&errors, 50, None)
        .expect("page")
        .runs
        .into_iter()
        .map(|r| r.request_path)
        .collect();
    assert_eq!(paths, ["r15", "r0"]);
    let since = RunFilter {
        since_ms: Some(now - 1000 + 20),
        status: Some(200),
        ..RunFilter::default()
    };
    assert_eq!(
        store.query_runs(&since, 50, None).expect("page").runs.len(),
        5
    );
    let one = store.runs(1).expect("runs").remove(0);
    let full = store.run(one.id).expect("run").expect("exists");
    assert_eq!(full.request_path, "r24");
    // `function:` runs are found by the run that started them.
    let mut child = run_at(now, "child");
    child.trigger = "function".into();
    child.parent_id = Some(one.id);
    store.record_run(child).expect("child");
    let parent = RunFilter {
        parent: Some(one.id),
        ..RunFilter::default()
    };
    let kids = store.query_runs(&parent, 10, None).expect("page").runs;
    assert_eq!(kids.len(), 1);
    assert_eq!(kids[0].request_path, "child");
    assert_eq!(kids[0].parent_id, Some(one.id));
}

fn run_with_body(at_ms: i64, body: usize) -> RunRecord {
    use katabox::store::{RecordedBody, RecordedRequest, RunPayload};
    RunRecord {
        at_ms,
        trigger: "webhook".into(),
        automation: Some("a".into()),
        exit: "return".into(),
        status: 200,
        payload: Some(RunPayload {
            request: Some(RecordedRequest {
                method: "POST".into(),
                path: "/webhooks/x".into(),
                body: RecordedBody::keep(&vec![b'x'; body], usize::MAX),
                ..RecordedRequest::default()
            }),
            ..RunPayload::default()
        }),
        ..RunRecord::default()
    }
}

fn retention_by_age_prunes_runs_and_payloads_expire_first(place: Place) {
    let now = katabox::store::now_unix_ms();
    let day = katabox::store::DAY_MS;
    {
        let store = place.open(HistoryConfig {
            max_age_ms: 100 * day,
            payload_age_ms: 100 * day,
            ..HistoryConfig::default()
        });
        for age_days in [30, 10, 3, 0] {
            store
                .record_run(run_with_body(now - age_days * day, 10))
                .expect("record");
        }
        assert_eq!(store.runs(10).expect("runs").len(), 4);
    }
    let store = place.open(HistoryConfig {
        max_age_ms: 14 * day,
        payload_age_ms: 5 * day,
        ..HistoryConfig::default()
    });
    let newest = store.record_run(run_with_body(now, 10)).expect("record");
    let runs = store.runs(10).expect("runs");
    let ages: Vec<i64> = runs.iter().map(|r| (now - r.at_ms) / day).collect();
    assert_eq!(ages, [0, 0, 3, 10], "the 30-day-old run is pruned");
    let with_payload: Vec<i64> = runs
        .iter()
        .filter_map(|r| store.run(r.id).expect("run"))
        .filter(|r| r.payload.is_some())
        .map(|r| (now - r.at_ms) / day)
        .collect();
    assert_eq!(
        with_payload,
        [0, 0, 3],
        "the 10-day-old run lost its payload only"
    );
    assert!(store.run(newest).expect("run").is_some());
}

fn storage_expires_and_queues_pop_in_order(place: Place) {
    let store = place.open(keep(3));
    store.storage_set("k", Value::str("v"), 100).expect("set");
    store.storage_set("forever", Value::Int(5), 0).expect("set");
    assert_eq!(
        store
            .storage_get("k", 99)
            .expect("get")
            .and_then(|v| v.as_str().map(str::to_string))
            .as_deref(),
        Some("v")
    );
    assert!(store.storage_get("k", 100).expect("get").is_none());
    assert!(
        store
            .storage_get("forever", i64::MAX)
            .expect("get")
            .is_some()
    );
    store
        .storage_set("forever", Value::Int(6), 0)
        .expect("overwrite");
    assert_eq!(
        store.storage_get("forever", 1).expect("get"),
        Some(Value::Int(6))
    );
    store.storage_delete("forever").expect("delete");
    assert!(store.storage_get("forever", 0).expect("get").is_none());
    store.storage_delete("never-there").expect("delete missing");

    assert!(!store.queue_exists("q").expect("exists"));
    assert!(store.queue_push("q", vec![]).is_err());
    store.define_queue("q").expect("define");
    assert!(store.queue_exists("q").expect("exists"));
    let msg = |id: &str, at: i64| QueueMessage {
        id: id.into(),
        data: Value::str(id),
        available_at: at,
    };
    store
        .queue_push("q", vec![msg("a", 0), msg("later", 50), msg("b", 0)])
        .expect("push");
    store.queue_push("q", vec![msg("c", 0)]).expect("push");
    let popped = store.queue_pop("q", 2, 10).expect("pop");
    let ids: Vec<&str> = popped.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(popped[0].data, Value::str("a"));
    let ids: Vec<String> = store
        .queue_pop("q", 10, 60)
        .expect("pop")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["later", "c"]);
    assert!(store.queue_pop("q", 10, 60).expect("pop").is_empty());
}

fn metrics_resources_and_continuations_round_trip(place: Place) {
    let store = place.open(keep(3));
    assert_eq!(store.metric_dimensions("m").expect("dims"), None);
    store.define_metric("m", &["env"]).expect("define");
    assert_eq!(
        store.metric_dimensions("m").expect("dims"),
        Some(vec!["env".to_string()])
    );
    let dims = [("env".to_string(), "prod".to_string())]
        .into_iter()
        .collect();
    store.metric_increment("m", &dims, 2.5, 60).expect("inc");
    store.metric_increment("m", &dims, 1.0, 60).expect("inc");
    store.metric_increment("m", &dims, 1.0, 120).expect("inc");
    assert_eq!(store.metric_total("m").expect("total"), 4.5);

    store
        .resource_write(Resource {
            token: "t".into(),
            name: Some("f.txt".into()),
            mime_type: "text/plain".into(),
            expires_at: 10,
            bytes: b"hello".to_vec(),
        })
        .expect("write");
    let read = store.resource_read("t", 5).expect("read").expect("live");
    assert_eq!(read.bytes, b"hello");
    assert_eq!(read.name.as_deref(), Some("f.txt"));
    assert_eq!(read.mime_type, "text/plain");
    assert!(store.resource_read("t", 10).expect("read").is_none());
    store.put_resource("logo", b"\x89PNG").expect("named");
    assert_eq!(
        store.resource("logo").expect("named"),
        Some(b"\x89PNG".to_vec())
    );
    assert_eq!(store.resource("none").expect("named"), None);

    store
        .continuation_save("c", Value::str("state"), 0)
        .expect("save");
    assert_eq!(
        store.continuation_load("c", 1).expect("load"),
        Some(Value::str("state"))
    );
    store
        .continuation_save("gone", Value::Int(1), 5)
        .expect("save");
    assert!(store.continuation_load("gone", 5).expect("load").is_none());
    assert!(
        store
            .continuation_load("missing", 1)
            .expect("load")
            .is_none()
    );
}

fn package(name: &str, revision: u64, script: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "package": {"name": name, "revision": revision},
        "records": [{"uid": "a", "_context": "automation", "name": name,
                     "extension_id": "cerb.trigger.webhook.respond", "script": script}]
    }))
    .expect("json")
}

fn automation_changes_keep_every_earlier_version(place: Place) {
    use katabox::store::AutomationChange;
    let store = place.open(keep(3));
    katabox::packages::import(
        store.as_ref(),
        &package("v.one", 1, "start:\n  return:\n    body: one\n"),
        &serde_json::json!({}),
        &katabox::packages::ImportOptions::default(),
    )
    .expect("import");
    assert_eq!(
        store.automation("v.one").expect("get").map(|a| a.version),
        Some(1)
    );
    let change = |script: &str| AutomationChange {
        script: Some(script.into()),
        ..AutomationChange::default()
    };
    let two = store
        .update_automation("v.one", &change("start:\n  return:\n    body: two\n"))
        .expect("update")
        .expect("exists");
    assert_eq!(two.version, 2);
    // The cached row follows the change.
    assert_eq!(
        store.automation("v.one").expect("get").map(|a| a.version),
        Some(2)
    );
    store
        .update_automation("v.one", &change("start:\n  return:\n    body: three\n"))
        .expect("update");
    let all = store.automation_versions("v.one").expect("versions");
    let seen: Vec<(u64, bool)> = all
        .iter()
        .map(|a| (a.version, a.script.contains("one")))
        .collect();
    assert_eq!(seen, [(3, false), (2, false), (1, true)]);
    let first = store
        .automation_version("v.one", 1)
        .expect("v1")
        .expect("kept");
    assert!(first.script.contains("body: one"));
    assert_eq!(
        store
            .automation_version("v.one", 3)
            .expect("v3")
            .map(|a| a.version),
        Some(3)
    );
    assert_eq!(
        store
            .update_automation("missing", &change("x"))
            .expect("update"),
        None
    );
    assert_eq!(store.automations().expect("all").len(), 1);
    assert!(store.package("v.one#1").expect("package").is_some());
}

fn an_import_is_all_or_nothing(place: Place) {
    let store = place.open(keep(3));
    let result = store.write(&mut |tx| {
        let id = tx.next_id("listener")?;
        tx.put_listener(&katabox::store::ListenerRecord {
            id,
            name: "half".into(),
            guid: "half-guid".into(),
            automations_kata: String::new(),
            updated_at: 0,
            body_limit: None,
            verify: None,
            is_disabled: false,
        })?;
        assert_eq!(tx.guid_owner("half-guid")?, Some(id));
        Err(StoreError::Rejected("refused halfway".into()))
    });
    assert!(matches!(result, Err(StoreError::Rejected(_))));
    assert!(store.listeners().expect("list").is_empty());
    assert!(
        store
            .listener_by_guid("half-guid")
            .expect("lookup")
            .is_none()
    );
    // A package whose second automation clashes leaves nothing behind.
    katabox::packages::import(
        store.as_ref(),
        &package("taken", 1, "start:\n  return:\n"),
        &serde_json::json!({}),
        &katabox::packages::ImportOptions::default(),
    )
    .expect("import");
    let clash = serde_json::to_vec(&serde_json::json!({
        "package": {"name": "clash", "revision": 1},
        "records": [
            {"uid": "x", "_context": "automation", "name": "fresh.one",
             "extension_id": "cerb.trigger.webhook.respond", "script": "start:\n  return:\n"},
            {"uid": "y", "_context": "automation", "name": "taken",
             "extension_id": "cerb.trigger.webhook.respond", "script": "start:\n  return:\n"}
        ]
    }))
    .expect("json");
    let refused = katabox::packages::import(
        store.as_ref(),
        &clash,
        &serde_json::json!({}),
        &katabox::packages::ImportOptions::default(),
    );
    assert!(refused.is_err(), "a clashing package was imported");
    assert!(store.automation("fresh.one").expect("get").is_none());
    assert!(store.package("clash#1").expect("package").is_none());
}

fn timer(next_run_at: i64) -> TimerRecord {
    TimerRecord {
        name: "t".into(),
        automations_kata: "automation/a:\n  uri: cerb:automation:x\n".into(),
        next_run_at,
        ..TimerRecord::default()
    }
}

fn timers_are_claimed_once_and_fenced(place: Place) {
    let store = place.open(keep(3));
    let now = now_unix();
    let due = store.save_timer(&timer(now - 10)).expect("save");
    let later = store.save_timer(&timer(now + 3600)).expect("save");
    assert!(due.id > 0 && later.id > due.id);
    let found: Vec<u64> = store
        .due_timers(now, 10)
        .expect("due")
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(found, [due.id]);
    let claimed = store
        .claim_timer(due.id, "host-a", now, now + 300, false)
        .expect("claim")
        .expect("claimed");
    assert_eq!(claimed.lease_owner, "host-a");
    assert_eq!(claimed.fence, due.fence + 1);
    // Leased: nobody else gets it, and it is no longer listed as due.
    assert!(
        store
            .claim_timer(due.id, "host-b", now, now + 300, false)
            .expect("claim")
            .is_none()
    );
    assert!(store.due_timers(now, 10).expect("due").is_empty());
    // Not due: refused unless forced.
    assert!(
        store
            .claim_timer(later.id, "host-a", now, now + 300, false)
            .expect("claim")
            .is_none()
    );
    // A stale fence changes nothing.
    let update = TimerUpdate::Set {
        next_run_at: now + 60,
        disable: false,
        last_ran_at: now,
        continuation: ContinuationChange::Save(Box::new(TimerContinuation {
            token: "cont-1".into(),
            timer_id: due.id,
            automation: "x".into(),
            automation_version: 1,
            state: "await".into(),
            dict_wire: String::new(),
            until: now + 60,
            expires_at: now + 60 + 7 * 86400,
            updated_at: now,
        })),
    };
    assert!(
        !store
            .apply_timer_update(due.id, claimed.fence - 1, &update, now)
            .expect("stale")
    );
    assert!(
        store
            .apply_timer_update(due.id, claimed.fence, &update, now)
            .expect("apply")
    );
    let after = store.timer(due.id).expect("get").expect("exists");
    assert_eq!(after.next_run_at, now + 60);
    assert_eq!(after.continuation_id, "cont-1");
    assert_eq!(after.lease_owner, "");
    assert_eq!(
        store
            .timer_continuation("cont-1")
            .expect("cont")
            .map(|c| c.until),
        Some(now + 60)
    );
    // Editing keeps the scheduler's fields.
    let mut edit = after.clone();
    edit.name = "renamed".into();
    edit.fence = 0;
    edit.continuation_id.clear();
    let saved = store.save_timer(&edit).expect("edit");
    assert_eq!(saved.fence, claimed.fence);
    assert_eq!(saved.continuation_id, "cont-1");
    assert!(
        store
            .claim_timer(later.id, "host-a", now, now + 300, true)
            .expect("force")
            .is_some()
    );
    assert_eq!(store.timers().expect("all").len(), 2);
    assert!(store.delete_timer(due.id).expect("delete"));
    assert!(!store.delete_timer(due.id).expect("again"));
    assert!(store.timer_continuation("cont-1").expect("cont").is_none());
    assert!(matches!(
        store.save_timer(&TimerRecord {
            id: 999,
            ..timer(now)
        }),
        Err(StoreError::Rejected(_))
    ));
}

fn key(listener: u64, id: &str, window: u64) -> DedupeKey {
    let mut config = VerifyConfig::new(Preset::None, &[]);
    config.dedupe = Some(DedupeConfig {
        window,
        header: Some("X-Id".into()),
    });
    let delivery = VerifiedDelivery {
        delivery_id: Some(id.into()),
        timestamp: None,
    };
    DedupeKey::new(listener, &config, &delivery).expect("key")
}

fn response(status: u16) -> StoredResponse {
    StoredResponse {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: b"{\"ok\":true}".to_vec(),
    }
}

fn dedupe_claims_complete_replay_and_purge(place: Place) {
    let store = place.open(keep(3));
    let k = key(100, "abc", 60);
    assert_eq!(
        store.claim_delivery(&k, "abc", 1000).expect("claim"),
        DedupeDecision::Run
    );
    assert_eq!(
        store.claim_delivery(&k, "abc", 1001).expect("claim"),
        DedupeDecision::InProgress
    );
    store
        .complete_delivery(&k, Some(response(201)))
        .expect("complete");
    assert_eq!(
        store.claim_delivery(&k, "abc", 1002).expect("claim"),
        DedupeDecision::Replay(response(201))
    );
    assert_eq!(
        store.claim_delivery(&k, "abc", 1060).expect("claim"),
        DedupeDecision::Run
    );
    let k2 = key(100, "def", 60);
    assert_eq!(
        store.claim_delivery(&k2, "def", 1000).expect("claim"),
        DedupeDecision::Run
    );
    store
        .complete_delivery(&k2, Some(response(503)))
        .expect("complete");
    assert_eq!(
        store.claim_delivery(&k2, "def", 1001).expect("claim"),
        DedupeDecision::Run
    );
    let k3 = key(200, "ghi", 10);
    store.claim_delivery(&k3, "ghi", 1000).expect("claim");
    assert_eq!(store.delivery_count().expect("count"), 3);
    assert_eq!(store.purge_deliveries(1011).expect("purge"), 1);
    assert_eq!(store.delivery_count().expect("count"), 2);
    // Deleting a listener deletes its dedupe records.
    let l = store.create_listener(input("L", "")).expect("create");
    let mine = key(l.id, "zzz", 600);
    store.claim_delivery(&mine, "zzz", 1000).expect("claim");
    assert_eq!(store.delivery_count().expect("count"), 3);
    store.delete_listener(l.id).expect("delete");
    assert_eq!(store.delivery_count().expect("count"), 2);
}

fn expired_data_is_swept(place: Place) {
    let store = place.open(keep(3));
    for i in 0..40 {
        store
            .resource_write(Resource {
                token: format!("old{i}"),
                name: None,
                mime_type: "text/plain".into(),
                expires_at: 100,
                bytes: vec![7u8; 64],
            })
            .expect("write");
    }
    store
        .resource_write(Resource {
            token: "forever".into(),
            name: None,
            mime_type: "text/plain".into(),
            expires_at: 0,
            bytes: vec![1],
        })
        .expect("write");
    store.storage_set("gone", Value::Int(1), 100).expect("set");
    store.storage_set("kept", Value::Int(2), 0).expect("set");
    store
        .continuation_save("c1", Value::Int(3), 99)
        .expect("save");
    let report = store.sweep_expired(200, 16).expect("sweep");
    assert_eq!(
        (report.resources, report.storage, report.continuations),
        (40, 1, 1)
    );
    assert!(store.resource_read("forever", 200).expect("read").is_some());
    assert!(store.resource_read("old5", 0).expect("read").is_none());
    assert_eq!(
        store.storage_get("kept", 200).expect("get"),
        Some(Value::Int(2))
    );
    assert_eq!(store.storage_get("gone", 0).expect("get"), None);
    assert_eq!(store.sweep_expired(200, 16).expect("again").total(), 0);
}

fn data_survives_a_reopen(place: Place) {
    let guid = {
        let store = place.open(keep(3));
        store.storage_set("k", Value::Int(7), 0).expect("set");
        store.queue_run(run_at(katabox::store::now_unix_ms(), "queued"));
        let guid = store.create_listener(input("A", "")).expect("create").guid;
        store.flush_history();
        guid
    };
    let store = place.open(keep(3));
    assert!(store.listener_by_guid(&guid).expect("lookup").is_some());
    assert_eq!(store.storage_get("k", 1).expect("get"), Some(Value::Int(7)));
    assert_eq!(store.runs(5).expect("runs").len(), 1);
}

// --- only a shared database: several hosts on one PostgreSQL ---

fn two_hosts() -> (String, Arc<dyn Backend>, Arc<dyn Backend>) {
    let url = pg_support::fresh_database();
    let place = Place::Postgres(url.clone());
    let a = place.open(keep(1000));
    let b = place.open(keep(1000));
    (url, a, b)
}

#[test]
fn store_postgres_hosts_starting_together_migrate_once() {
    let url = pg_support::fresh_database();
    let parsed = StoreUrl::parse(&url).expect("url");
    let opened: Vec<PgStore> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| PgStore::open(&parsed, StoreConfig::default())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("open"))
            .collect()
    });
    let all: Vec<i64> = katabox::store::postgres::MIGRATIONS
        .iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(all, [1, 2]);
    for store in &opened {
        assert_eq!(store.schema_versions().expect("versions"), all);
    }
    let applied =
        pg_support::query_i64(&url, "SELECT count(*) FROM kb_schema_migrations").expect("count");
    assert_eq!(applied, all.len() as i64, "each migration applied once");
}

#[test]
fn store_postgres_a_change_on_one_host_reaches_the_others_cache_within_a_second() {
    let (_url, a, b) = two_hosts();
    let l = a
        .create_listener(input("L", "shared-guid"))
        .expect("create");
    // Host B caches the listener.
    assert_eq!(
        b.listener_by_guid("shared-guid")
            .expect("lookup")
            .map(|l| l.name),
        Some("L".into())
    );
    a.update_listener(l.id, input("L2", "shared-guid"))
        .expect("update");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let name = b
            .listener_by_guid("shared-guid")
            .expect("lookup")
            .map(|l| l.name);
        if name.as_deref() == Some("L2") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "host B still serves {name:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn store_postgres_a_due_timer_is_claimed_by_one_host_only() {
    let (_url, a, b) = two_hosts();
    let now = now_unix();
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(a.save_timer(&timer(now - 5)).expect("save").id);
    }
    let stores = [a, b];
    let claims: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(n, store)| {
                let ids = &ids;
                s.spawn(move || {
                    ids.iter()
                        .filter(|id| {
                            store
                                .claim_timer(**id, &format!("host-{n}"), now, now + 300, false)
                                .expect("claim")
                                .is_some()
                        })
                        .copied()
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut all: Vec<u64> = claims.concat();
    all.sort_unstable();
    assert_eq!(all, ids, "every timer claimed exactly once: {claims:?}");
}

#[test]
fn store_postgres_a_delivery_is_deduplicated_across_hosts() {
    let (_url, a, b) = two_hosts();
    let k = key(7, "once", 600);
    let decisions: Vec<DedupeDecision> = std::thread::scope(|s| {
        let ha = s.spawn(|| a.claim_delivery(&k, "once", 1000).expect("claim"));
        let hb = s.spawn(|| b.claim_delivery(&k, "once", 1000).expect("claim"));
        vec![ha.join().expect("a"), hb.join().expect("b")]
    });
    let runs = decisions
        .iter()
        .filter(|d| **d == DedupeDecision::Run)
        .count();
    assert_eq!(runs, 1, "{decisions:?}");
    a.complete_delivery(&k, Some(response(200)))
        .expect("complete");
    assert_eq!(
        b.claim_delivery(&k, "once", 1001).expect("claim"),
        DedupeDecision::Replay(response(200))
    );
}

#[test]
fn store_postgres_history_from_two_hosts_is_one_history() {
    let (_url, a, b) = two_hosts();
    let now = katabox::store::now_unix_ms();
    for i in 0..50 {
        a.queue_run(run_at(now + i, &format!("a{i}")));
        b.queue_run(run_at(now + i, &format!("b{i}")));
    }
    a.flush_history();
    b.flush_history();
    let runs = a.runs(1000).expect("runs");
    assert_eq!(runs.len(), 100);
    let mut ids: Vec<u64> = runs.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 100, "ids are unique across hosts");
}

#[test]
fn store_postgres_a_bad_url_or_a_dead_server_fails_fast_without_the_password() {
    let err = PgStore::open(
        &StoreUrl::parse("postgres://kb:hunter2@127.0.0.1:1/none").expect("url"),
        StoreConfig::default(),
    )
    .expect_err("nothing listens on port 1");
    let text = err.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("kb:***@127.0.0.1:1"), "{text}");
}

#[test]
fn store_postgres_a_dead_hosts_lease_lapses_and_another_host_takes_the_timer() {
    let (_url, a, b) = two_hosts();
    let now = now_unix();
    let t = a.save_timer(&timer(now - 5)).expect("save");
    // Host A claims for one second (on the database's clock), then "dies".
    let held = a
        .claim_timer(t.id, "host-a", now, now + 1, false)
        .expect("claim")
        .expect("claimed");
    assert!(
        b.claim_timer(t.id, "host-b", now, now + 300, false)
            .expect("claim")
            .is_none()
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let taken = b
        .claim_timer(t.id, "host-b", now_unix(), now_unix() + 300, false)
        .expect("claim")
        .expect("the lapsed lease is taken over");
    assert_eq!(taken.lease_owner, "host-b");
    assert_eq!(taken.fence, held.fence + 1);
    // Host A's late outcome is dropped: its fence is stale.
    assert!(
        !a.apply_timer_update(t.id, held.fence, &TimerUpdate::Delete, now)
            .expect("late")
    );
    assert!(
        b.apply_timer_update(t.id, taken.fence, &TimerUpdate::Delete, now)
            .expect("apply")
    );
    assert!(a.timer(t.id).expect("get").is_none());
}

#[test]
fn store_postgres_migrate_copies_a_redb_directory_once_and_refuses_a_full_target() {
    use katabox::capabilities::data::DataStore;
    use katabox::store::Store;
    let dir = tempfile::tempdir().expect("tempdir");
    let guid = {
        let src = RedbStore::open(dir.path(), StoreConfig::default()).expect("redb");
        katabox::packages::import(
            &src,
            &package("moved", 1, "start:\n  return:\n    body: one\n"),
            &serde_json::json!({}),
            &katabox::packages::ImportOptions::default(),
        )
        .expect("import");
        src.update_automation(
            "moved",
            &katabox::store::AutomationChange {
                script: Some("start:\n  return:\n    body: two\n".into()),
                ..Default::default()
            },
        )
        .expect("update");
        let l = src.create_listener(input("L", "")).expect("listener");
        src.save_timer(&timer(now_unix() + 3600)).expect("timer");
        src.storage_set("k", Value::Int(1), 0).expect("set");
        src.define_queue("q").expect("queue");
        src.queue_push(
            "q",
            vec![QueueMessage {
                id: "m1".into(),
                data: Value::str("hi"),
                available_at: 0,
            }],
        )
        .expect("push");
        src.continuation_save("c", Value::Int(2), 0).expect("cont");
        src.define_metric("m", &["env"]).expect("metric");
        let dims = [("env".to_string(), "prod".to_string())]
            .into_iter()
            .collect();
        src.metric_increment("m", &dims, 2.0, 60).expect("inc");
        src.put_resource("logo", b"png").expect("resource");
        for i in 0..5 {
            src.record_run(run_at(katabox::store::now_unix_ms() + i, "r"))
                .expect("run");
        }
        src.claim_delivery(&key(l.id, "d", 600), "d", now_unix())
            .expect("claim");
        l.guid
    };
    let src = RedbStore::open(dir.path(), StoreConfig::default()).expect("reopen redb");
    let url = StoreUrl::parse(&pg_support::fresh_database()).expect("url");
    let dst = PgStore::open(&url, StoreConfig::default()).expect("postgres");
    let copied = dst.copy_from(&src, false).expect("copy");
    assert_eq!(copied, src.inventory().expect("inventory"));
    assert_eq!(dst.inventory().expect("inventory"), copied);
    assert_eq!(copied.automation_versions, 1);
    assert_eq!(copied.runs, 5);
    // Not again into a database that holds data, unless forced; forced, the
    // copy changes nothing.
    assert!(matches!(
        dst.copy_from(&src, false),
        Err(StoreError::Rejected(_))
    ));
    dst.copy_from(&src, true).expect("forced copy");
    assert_eq!(dst.inventory().expect("inventory"), copied);
    assert_eq!(dst.metric_total("m").expect("total"), 2.0);
    assert!(dst.listener_by_guid(&guid).expect("lookup").is_some());
    assert_eq!(
        dst.automation("moved").expect("get").map(|a| a.version),
        Some(2)
    );
    assert_eq!(dst.storage_get("k", 1).expect("get"), Some(Value::Int(1)));
    assert_eq!(dst.queue_pop("q", 5, 1).expect("pop").len(), 1);
    // Ids go on from where redb left them.
    let next = dst.create_listener(input("M", "")).expect("create");
    assert!(next.id > 1, "{}", next.id);
    assert_eq!(dst.runs(10).expect("runs").len(), 5);
    let run = dst
        .record_run(run_at(katabox::store::now_unix_ms(), "after"))
        .expect("run");
    assert_eq!(run, 6);
}

#[test]
fn store_postgres_a_restart_of_postgres_fails_calls_fast_and_they_recover_without_a_reopen() {
    let pg = pg_support::Local::start().unwrap_or_else(|e| panic!("a PostgreSQL of its own: {e}"));
    let url = pg.url("postgres");
    let store = Place::Postgres(url).open(keep(100));
    let l = store
        .create_listener(input("L", "restart-guid"))
        .expect("create");
    pg.halt().expect("stop postgres");
    let started = std::time::Instant::now();
    assert!(
        store.listener(l.id).is_err(),
        "a read succeeded with the database down"
    );
    // The webhook path: an uncached guid cannot be looked up (503).
    assert!(store.listener_by_guid("not-cached").is_err());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "failing took {:?}",
        started.elapsed()
    );
    pg.resume().expect("start postgres again");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Ok(Some(found)) = store.listener(l.id) {
            assert_eq!(found.guid, "restart-guid");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the store did not recover"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    store
        .storage_set("after", Value::Int(1), 0)
        .expect("writes work again");
}
