//! The redb store: listeners, run history retention, the data trait, persistence.

use katabox::capabilities::data::{DataStore, QueueMessage, Resource};
use katabox::store::{
    HistoryConfig, ListenerInput, RedbStore, RunRecord, Store, StoreConfig, StoreError,
};
use katabox_value::Value;

fn open(dir: &std::path::Path) -> RedbStore {
    let history = HistoryConfig {
        max_runs: 3,
        ..HistoryConfig::default()
    };
    RedbStore::open(dir, StoreConfig { history }).expect("open store")
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

#[test]
fn listeners_get_guids_and_duplicates_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let a = store.create_listener(input("A", "")).expect("create");
    assert_eq!(a.guid.len(), 40);
    assert!(
        a.guid
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let b = store.create_listener(input("B", "")).expect("create");
    assert_ne!(a.guid, b.guid);
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
    // Guids compare exactly.
    assert!(
        store
            .listener_by_guid(&a.guid.to_uppercase())
            .expect("lookup")
            .is_none()
    );
}

#[test]
fn updating_and_deleting_listeners_keeps_the_guid_index_right() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let a = store.create_listener(input("A", "guid-a")).expect("create");
    let b = store.create_listener(input("B", "guid-b")).expect("create");
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
    assert!(store.delete_listener(b.id).expect("delete"));
    assert!(!store.delete_listener(b.id).expect("delete again"));
    assert!(store.listener_by_guid("guid-b").expect("lookup").is_none());
    assert_eq!(
        store.update_listener(999, input("X", "")).expect("update"),
        None
    );
}

#[test]
fn run_history_keeps_the_newest_n_newest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    for i in 0..5 {
        store
            .record_run(RunRecord {
                at_ms: katabox::store::now_unix_ms(),
                request_path: format!("p{i}"),
                status: 200,
                ..RunRecord::default()
            })
            .expect("record");
    }
    let runs = store.runs(10).expect("runs");
    let paths: Vec<&str> = runs.iter().map(|r| r.request_path.as_str()).collect();
    assert_eq!(paths, ["p4", "p3", "p2"]);
    assert_eq!(store.runs(1).expect("runs").len(), 1);
}

#[test]
fn storage_expires_and_queues_pop_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
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
    store.storage_delete("forever").expect("delete");
    assert!(store.storage_get("forever", 0).expect("get").is_none());

    assert!(!store.queue_exists("q").expect("exists"));
    assert!(store.queue_push("q", vec![]).is_err());
    store.define_queue("q").expect("define");
    let msg = |id: &str, at: i64| QueueMessage {
        id: id.into(),
        data: Value::str(id),
        available_at: at,
    };
    store
        .queue_push("q", vec![msg("a", 0), msg("later", 50), msg("b", 0)])
        .expect("push");
    let popped = store.queue_pop("q", 10, 10).expect("pop");
    let ids: Vec<&str> = popped.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(store.queue_pop("q", 10, 60).expect("pop").len(), 1);
    assert!(store.queue_pop("q", 10, 60).expect("pop").is_empty());
}

#[test]
fn metrics_resources_and_continuations_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
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
    assert_eq!(store.metric_total("m").expect("total"), 3.5);

    store
        .resource_write(Resource {
            token: "t".into(),
            name: Some("f.txt".into()),
            mime_type: "text/plain".into(),
            expires_at: 10,
            bytes: b"hello".to_vec(),
        })
        .expect("write");
    assert_eq!(
        store.resource_read("t", 5).expect("read").map(|r| r.bytes),
        Some(b"hello".to_vec())
    );
    assert!(store.resource_read("t", 10).expect("read").is_none());

    store
        .continuation_save("c", Value::str("state"), 0)
        .expect("save");
    assert!(store.continuation_load("c", 1).expect("load").is_some());
    assert!(
        store
            .continuation_load("missing", 1)
            .expect("load")
            .is_none()
    );
}

#[test]
fn data_survives_a_reopen_and_a_second_opener_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guid = {
        let store = open(dir.path());
        // While it is open, nobody else may open the same database.
        assert!(RedbStore::open(dir.path(), StoreConfig::default()).is_err());
        store.create_listener(input("A", "")).expect("create").guid
    };
    let store = open(dir.path());
    assert!(store.listener_by_guid(&guid).expect("lookup").is_some());
}

#[test]
fn the_files_dir_cannot_be_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    std::fs::write(dir.path().join("secret.txt"), "no").expect("write");
    let files = store.files_dir().expect("files dir");
    files.write("ok.txt", "yes").expect("write inside");
    assert_eq!(files.read_to_string("ok.txt").expect("read inside"), "yes");
    assert!(files.read_to_string("../secret.txt").is_err());
    assert!(files.read_to_string("/etc/passwd").is_err());
}

fn history_store(dir: &std::path::Path, history: HistoryConfig) -> RedbStore {
    RedbStore::open(dir, StoreConfig { history }).expect("open store")
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

#[test]
fn retention_by_count_keeps_the_redb_file_from_growing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cap = 1000;
    let store = history_store(
        dir.path(),
        HistoryConfig {
            max_runs: cap,
            ..HistoryConfig::default()
        },
    );
    let file = dir.path().join("katabox.redb");
    let now = katabox::store::now_unix_ms();
    let mut sizes = Vec::new();
    // 20 rounds of 500 runs with 4 KB bodies: ten times the cap.
    for round in 0..20 {
        for _ in 0..500 {
            store.queue_run(run_with_body(now, 4096));
        }
        let kept = store
            .query_runs(&katabox::store::RunFilter::default(), 1000, None)
            .expect("page");
        assert!(kept.runs.len() <= cap);
        sizes.push(std::fs::metadata(&file).expect("size").len());
        if round >= 2 {
            // The newest `cap` runs are kept once the cap is reached.
            assert_eq!(kept.runs.len(), cap, "round {round}");
        }
    }
    let settled = sizes[5];
    let last = sizes[19];
    assert!(
        last <= settled + settled / 4,
        "the file kept growing past the cap: {sizes:?}"
    );
    // Fifteen more rounds (7.5 times the cap) added nothing to the file.
    assert!(sizes[5..].iter().all(|s| *s <= last), "{sizes:?}");
    eprintln!("retention by count: redb file sizes per 500 runs {sizes:?}");
}

#[test]
fn retention_by_age_prunes_runs_and_payloads_expire_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = katabox::store::now_unix_ms();
    let day = katabox::store::DAY_MS;
    {
        // Written with generous limits: nothing is pruned yet.
        let store = history_store(
            dir.path(),
            HistoryConfig {
                max_age_ms: 100 * day,
                payload_age_ms: 100 * day,
                ..HistoryConfig::default()
            },
        );
        for age_days in [30, 10, 3, 0] {
            store
                .record_run(run_with_body(now - age_days * day, 10))
                .expect("record");
        }
        assert_eq!(store.runs(10).expect("runs").len(), 4);
    }
    // Reopened with 14 days for runs and 5 for payloads: the next write prunes.
    let store = history_store(
        dir.path(),
        HistoryConfig {
            max_age_ms: 14 * day,
            payload_age_ms: 5 * day,
            ..HistoryConfig::default()
        },
    );
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

#[test]
fn automation_changes_keep_every_earlier_version() {
    use katabox::store::AutomationChange;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path());
    let pkg = serde_json::json!({
        "package": {"name": "V", "revision": 1},
        "records": [{"uid": "a", "_context": "automation", "name": "v.one",
                     "extension_id": "cerb.trigger.webhook.respond", "script": "start:\n  return:\n    body: one\n"}]
    });
    katabox::packages::import(
        &store,
        &serde_json::to_vec(&pkg).expect("json"),
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
            .update_automation("missing", &change("x"))
            .expect("update"),
        None
    );
}
