//! What only the redb store has: one opener per data directory, the
//! `files/` capability, a file that stops growing under retention. The
//! backend-neutral tests are in `store_suite.rs`, run on redb and PostgreSQL.

use katabox::store::{HistoryConfig, ListenerInput, RedbStore, RunRecord, Store, StoreConfig};

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
