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
