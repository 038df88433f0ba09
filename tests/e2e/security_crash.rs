//! Crash safety of the real server: SIGKILL during a package import through
//! the admin API, during storage.set-heavy runs and during run-history
//! writes under load; after a restart on the same data directory the server
//! starts, packages are all-or-nothing and acknowledged data is intact.

use crate::support::attack::{self, Auto, WEBHOOK, bin, guid};
use crate::support::server::Server;
use serde_json::{Value as J, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const RECORDS: usize = 1200;

fn big_package(revision: u32) -> J {
    let records: Vec<J> = (0..RECORDS)
        .map(|i| {
            json!({
                "uid": format!("a{i}"),
                "_context": "automation",
                "name": format!("bulk.automation.{i}"),
                "extension_id": WEBHOOK,
                "script": format!("start:\n  return:\n    body: record {i}\n"),
                "policy_kata": ""
            })
        })
        .collect();
    json!({"package": {"name": "Bulk", "revision": revision}, "records": records})
}

fn bulk_count(srv: &Server) -> usize {
    let (status, body) = srv
        .api("GET", "/api/automations", None)
        .expect("list automations");
    assert_eq!(status, 200, "{body}");
    body["automations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["name"].as_str().is_some_and(|n| n.starts_with("bulk.")))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_package_import_killed_midway_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkg = json!({"package": big_package(1)});
    // How long one whole import takes here; the kills land at fractions of it.
    let full_ms = {
        let srv = Server::start(bin(), &[]).expect("start");
        let started = std::time::Instant::now();
        attack::import(&srv, &big_package(1));
        started.elapsed().as_millis() as u64
    };
    let mut outcomes = Vec::new();
    // Four kills at fractions of that time (the outcome depends on how busy
    // the machine is: 0 or all are both fine), and a last one only after
    // the import was acknowledged (it must then be complete).
    let mut delays: Vec<Option<u64>> = [5u64, 30, 60, 90]
        .iter()
        .map(|pct| Some(full_ms * pct / 100))
        .collect();
    delays.push(None);
    for (round, delay) in delays.into_iter().enumerate() {
        let data = dir.path().join(format!("data{round}"));
        let mut srv = Server::start_on(bin(), &data, &[]).expect("start");
        let addr = srv.addr;
        let body = serde_json::to_vec(&pkg).expect("json");
        let client = std::thread::spawn(move || {
            let headers = vec![
                (
                    "Authorization".to_string(),
                    format!("Bearer {}", crate::support::server::TOKEN),
                ),
                ("Content-Type".to_string(), "application/json".to_string()),
            ];
            crate::support::http::send(addr, "POST", "/api/packages", &headers, &body)
                .map(|r| r.status)
        });
        let acknowledged = match delay {
            Some(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                srv.kill();
                client.join().expect("client") == Ok(201)
            }
            None => {
                let status = client.join().expect("client");
                srv.kill();
                assert_eq!(status, Ok(201), "round {round}: the import was refused");
                true
            }
        };
        let srv = Server::start_on(bin(), &data, &[]).expect("the server starts after SIGKILL");
        let count = bulk_count(&srv);
        assert!(
            count == 0 || count == RECORDS,
            "round {round}: {count} of {RECORDS} automations"
        );
        if acknowledged {
            assert_eq!(
                count, RECORDS,
                "round {round}: an acknowledged import was lost"
            );
        }
        // A package that was not committed can be imported again, whole.
        if count == 0 {
            attack::import(&srv, &big_package(1));
            assert_eq!(bulk_count(&srv), RECORDS);
        }
        outcomes.push((delay, count, acknowledged));
    }
    eprintln!(
        "import kills (a whole import takes {full_ms} ms; delay ms or None = after the answer, automations after restart, acknowledged): {outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|o| o.1 == RECORDS),
        "no round saw the import complete"
    );
}

const WRITE: &str = "start:\n  storage.set:\n    inputs:\n      key@key: request_body\n      value@text: value of {{ request_body }}\n  return:\n    body: stored\n";
const READ: &str = "start:\n  storage.get:\n    output: v\n    inputs:\n      key@key: request_body\n      default: MISSING\n  return:\n    body@key: v\n";
const STORAGE: &str = "commands:\n  storage.set:\n    allow: yes\n  storage.get:\n    allow: yes\n";

fn storage_package() -> J {
    attack::package(
        "Storage",
        &[
            Auto {
                name: "sec.write",
                script: WRITE,
                policy: STORAGE,
                trigger: WEBHOOK,
            },
            Auto {
                name: "sec.read",
                script: READ,
                policy: STORAGE,
                trigger: WEBHOOK,
            },
        ],
        &[(&guid("write"), "sec.write"), (&guid("read"), "sec.read")],
    )
}

/// How long after its answer a run may still be only queued for the history.
const HISTORY_WINDOW: Duration = Duration::from_millis(250);

/// Writers hammer storage.set (and so the run history) until the server is
/// killed; every acknowledged write must survive the restart, and every run
/// answered more than [`HISTORY_WINDOW`] before the kill.
#[test]
fn storage_and_run_history_survive_sigkill_under_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut srv = Server::start_on(bin(), &data, &["--run-retention", "100000"]).expect("start");
    attack::import(&srv, &storage_package());
    let acked: Mutex<Vec<(String, Instant)>> = Mutex::new(Vec::new());
    let mut killed_at = Instant::now();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for w in 0..4 {
            let (srv, acked, stop) = (&srv, &acked, &stop);
            s.spawn(move || {
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let key = format!("k{w}-{i}");
                    match attack::hook(srv, &guid("write"), key.as_bytes()) {
                        Ok(r) if r.status == 200 && r.body == b"stored" => {
                            if let Ok(mut a) = acked.lock() {
                                a.push((key, Instant::now()));
                            }
                        }
                        Ok(r) => panic!(
                            "write {key}: {} {:?}",
                            r.status,
                            String::from_utf8_lossy(&r.body)
                        ),
                        Err(_) => break, // killed mid-request
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_secs(4));
        let pid = srv.pid().to_string();
        killed_at = Instant::now();
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
        assert!(killed.is_ok_and(|s| s.success()), "kill -KILL failed");
        stop.store(true, Ordering::SeqCst);
    });
    srv.kill(); // reap
    let acked = acked.into_inner().unwrap_or_default();
    assert!(
        acked.len() >= 10,
        "only {} writes before the kill",
        acked.len()
    );
    let srv = Server::start_on(bin(), &data, &["--run-retention", "100000"])
        .expect("restart after SIGKILL");
    // The package is intact.
    let (_, autos) = srv
        .api("GET", "/api/automations", None)
        .expect("automations");
    assert_eq!(
        autos["automations"].as_array().map(Vec::len),
        Some(2),
        "{autos}"
    );
    // Every acknowledged value reads back.
    for (key, _) in &acked {
        let r = attack::hook(&srv, &guid("read"), key.as_bytes()).expect("read");
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            format!("value of {key}"),
            "lost {key}"
        );
    }
    // The history is written by a background thread in durable batches
    // (host/src/store/history.rs), so a crash loses at most the runs
    // answered in its last moments: every run answered more than
    // HISTORY_WINDOW before the kill must be there.
    // Pages of at most 1,000 runs, followed by cursor.
    let mut writes = 0;
    let mut cursor = String::new();
    loop {
        let (status, page) = srv
            .api(
                "GET",
                &format!("/api/runs?automation=sec.write&limit=1000&cursor={cursor}"),
                None,
            )
            .expect("runs");
        assert_eq!(status, 200, "{page}");
        writes += page["runs"].as_array().map(Vec::len).unwrap_or(0);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let settled = acked
        .iter()
        .filter(|(_, at)| *at + HISTORY_WINDOW <= killed_at)
        .count();
    assert!(
        writes >= settled,
        "{writes} runs recorded; {settled} acknowledged more than {HISTORY_WINDOW:?} before the kill"
    );
    assert!(
        writes <= acked.len() + 4,
        "{writes} runs recorded for {} acknowledged writes (4 writers)",
        acked.len()
    );
    eprintln!(
        "storage kill: {} acknowledged writes, all read back; {writes} runs recorded, {settled} answered more than {HISTORY_WINDOW:?} before the kill",
        acked.len()
    );
}
