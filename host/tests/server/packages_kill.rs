//! A SIGKILL during an import, then a restart: the whole package or none of it.

use katabox::store::{RedbStore, Store, StoreConfig};
use std::process::{Command, Stdio};
use std::time::Duration;

const RECORDS: usize = 1500;

fn big_package() -> String {
    let records: Vec<serde_json::Value> = (0..RECORDS)
        .map(|i| {
            serde_json::json!({
                "uid": format!("a{i}"),
                "_context": "automation",
                "name": format!("bulk.automation.{i}"),
                "extension_id": "cerb.trigger.webhook.respond",
                "script": format!("start:\n  return:\n    body: record {i} {{{{{{uid.a{i}}}}}}}\n"),
                "policy_kata": ""
            })
        })
        .collect();
    serde_json::json!({"package": {"name": "Bulk", "revision": 1}, "records": records}).to_string()
}

#[test]
fn a_killed_import_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bulk.json");
    std::fs::write(&file, big_package()).expect("write package");
    let mut interrupted = 0;
    for (round, delay_ms) in [30u64, 80, 160, 320, 640, 1200].into_iter().enumerate() {
        let data = dir.path().join(format!("data{round}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_katabox"))
            .arg("import")
            .arg(&file)
            .arg("--data")
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn katabox");
        std::thread::sleep(Duration::from_millis(delay_ms));
        if child.try_wait().expect("poll").is_none() {
            interrupted += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();

        // "Restart": open the data directory again.
        let store = RedbStore::open(&data, StoreConfig::default()).expect("reopen after SIGKILL");
        let count = store.automations().expect("list").len();
        let package = store.package("Bulk#1").expect("package");
        assert!(
            (count == 0 && package.is_none()) || (count == RECORDS && package.is_some()),
            "round {round}: {count} of {RECORDS} automations, package recorded: {}",
            package.is_some()
        );
        if count == RECORDS {
            let a = store
                .automation("bulk.automation.7")
                .expect("read")
                .expect("present");
            assert_eq!(
                a.script,
                format!("start:\n  return:\n    body: record 7 {}\n", a.id)
            );
        }
    }
    assert!(interrupted > 0, "no import was still running when killed");
}
