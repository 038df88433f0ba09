//! Scale-out: three `katabox serve` processes on one PostgreSQL database
//! (tests/support/postgres.rs starts a throwaway server). A package is
//! imported through host 1; webhooks go round-robin through all three;
//! runs are visible from any host; a delivery is deduplicated across
//! hosts; a changed automation is served by every host within a second; a
//! timer runs exactly once; `storage.*` writes from every host are all
//! there. Loopback and unix sockets only.

use crate::support::attack::{self, Auto, WEBHOOK, bin, guid};
use crate::support::postgres;
use crate::support::server::Server;
use serde_json::{Value as J, json};
use std::time::{Duration, Instant};

const WRITE: &str = "start:\n  storage.set:\n    inputs:\n      key@key: request_body\n      value@text: stored {{ request_body }}\n  return:\n    body: stored\n";
const READ: &str = "start:\n  storage.get:\n    output: v\n    inputs:\n      key@key: request_body\n      default: MISSING\n  return:\n    body@key: v\n";
const STORAGE: &str = "commands:\n  storage.set:\n    allow: yes\n  storage.get:\n    allow: yes\n";
const ECHO_V1: &str = "start:\n  return:\n    body: version one\n";
const ECHO_V2: &str = "start:\n  return:\n    body: version two\n";
const TICK: &str = "start:\n  return:\n    done: yes\n";

fn wait_for<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Prints the hosts' logs when the test fails.
struct KeepLogs(tempfile::TempDir);

impl Drop for KeepLogs {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for n in 0..3 {
                let log = std::fs::read_to_string(self.0.path().join(format!("host{n}.log")))
                    .unwrap_or_default();
                eprintln!("--- host {} ---\n{log}", n + 1);
            }
        }
    }
}

fn runs(srv: &Server, query: &str) -> Vec<J> {
    let (status, page) = srv
        .api("GET", &format!("/api/runs?limit=500&{query}"), None)
        .expect("runs");
    assert_eq!(status, 200, "{page}");
    page["runs"].as_array().cloned().unwrap_or_default()
}

fn body(srv: &Server, guid: &str, payload: &str) -> (u16, String) {
    let r = attack::hook(srv, guid, payload.as_bytes()).expect("answer");
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

#[test]
fn scale_out_three_hosts_share_one_postgres_database() {
    let url = postgres::fresh_database();
    let flags = ["--store", url.as_str(), "--timer-tick-ms", "100"];
    let logs = KeepLogs(tempfile::tempdir().expect("tempdir"));
    let hosts: Vec<Server> = (0..3)
        .map(|n| {
            let log = logs.0.path().join(format!("host{n}.log"));
            Server::start_logged(bin(), &flags, &log).unwrap_or_else(|e| panic!("host {n}: {e}"))
        })
        .collect();
    // `serve` listens before it has opened the store: wait until each is ready.
    for (n, srv) in hosts.iter().enumerate() {
        wait_for(
            &format!("host {} to be ready", n + 1),
            Duration::from_secs(120),
            || {
                let r = srv.request("GET", "/readyz", &[], b"").ok()?;
                (r.status == 200).then_some(())
            },
        );
    }

    // Import through host 1 only.
    let (g_write, g_read, g_echo) = (guid("scale-write"), guid("scale-read"), guid("scale-echo"));
    let pkg = attack::package(
        "Scale",
        &[
            Auto {
                name: "scale.write",
                script: WRITE,
                policy: STORAGE,
                trigger: WEBHOOK,
            },
            Auto {
                name: "scale.read",
                script: READ,
                policy: STORAGE,
                trigger: WEBHOOK,
            },
            Auto {
                name: "scale.echo",
                script: ECHO_V1,
                policy: "",
                trigger: WEBHOOK,
            },
            Auto {
                name: "scale.tick",
                script: TICK,
                policy: "",
                trigger: "cerb.trigger.automation.timer",
            },
        ],
        &[
            (&g_write, "scale.write"),
            (&g_read, "scale.read"),
            (&g_echo, "scale.echo"),
        ],
    );
    attack::import(&hosts[0], &pkg);

    // Webhooks round-robin through all three; storage.* from every host.
    for i in 0..30 {
        let (status, text) = body(&hosts[i % 3], &g_write, &format!("key-{i}"));
        assert_eq!((status, text.as_str()), (200, "stored"), "write {i}");
    }
    for i in 0..30 {
        // Read back through a host that did not write it.
        let (status, text) = body(&hosts[(i + 1) % 3], &g_read, &format!("key-{i}"));
        assert_eq!(status, 200);
        assert_eq!(text, format!("stored key-{i}"), "key-{i}");
    }

    // Runs are visible from any host (each host commits its own batches).
    for srv in &hosts {
        wait_for("the 30 write runs", Duration::from_secs(10), || {
            (runs(srv, "automation=scale.write").len() == 30).then_some(())
        });
    }

    // A delivery is deduplicated across hosts.
    let (status, deduped) = hosts[1]
        .api(
            "POST",
            "/api/webhooks",
            Some(&json!({"name": "Deduped",
                "automations_kata": "automation/a:\n  uri: cerb:automation:scale.echo\n",
                "verify": {"preset": "none", "dedupe": {"header": "X-Request-Id", "window": 600}}})),
        )
        .expect("create listener");
    assert_eq!(status, 201, "{deduped}");
    let listener = deduped["id"].as_u64().expect("id");
    let path = format!("/webhooks/{}", deduped["guid"].as_str().unwrap_or(""));
    let headers = vec![("X-Request-Id".to_string(), "delivery-42".to_string())];
    for srv in &hosts {
        // The listener was created on host 2: every host serves it.
        let r = wait_for("the new listener", Duration::from_secs(2), || {
            let r = srv.request("POST", &path, &headers, b"{}").ok()?;
            (r.status != 404).then_some(r)
        });
        assert_eq!(r.status, 200);
        assert_eq!(String::from_utf8_lossy(&r.body), "version one");
    }
    std::thread::sleep(Duration::from_millis(300));
    // Every request is in the history; the automation ran once, the
    // other two hosts replayed its answer.
    let seen = runs(&hosts[2], &format!("listener={listener}"));
    assert_eq!(seen.len(), 3, "{seen:?}");
    let ran = seen
        .iter()
        .filter(|r| r["automation"] == "scale.echo")
        .count();
    assert_eq!(ran, 1, "one delivery ran once across three hosts: {seen:?}");
    let replayed = seen
        .iter()
        .filter(|r| {
            r["logs"]
                .to_string()
                .contains("dedupe: replayed delivery-42")
        })
        .count();
    assert_eq!(replayed, 2, "{seen:?}");

    // A changed automation is served by every host within a second.
    for srv in &hosts {
        assert_eq!(body(srv, &g_echo, "").1, "version one");
    }
    let (status, changed) = hosts[1]
        .api(
            "PUT",
            "/api/automations/scale.echo",
            Some(&json!({"script": ECHO_V2})),
        )
        .expect("update");
    assert_eq!(status, 200, "{changed}");
    let changed_at = Instant::now();
    for (n, srv) in hosts.iter().enumerate() {
        wait_for(
            &format!("host {} to serve the new version", n + 1),
            Duration::from_secs(1).saturating_sub(changed_at.elapsed()),
            || (body(srv, &g_echo, "").1 == "version two").then_some(()),
        );
    }

    // A timer created on host 3 runs exactly once with three schedulers up.
    let (status, timer) = hosts[2]
        .api(
            "POST",
            "/api/timers",
            Some(&json!({"name": "once",
                         "automations_kata": "automation/go:\n  uri: cerb:automation:scale.tick\n"})),
        )
        .expect("create timer");
    assert_eq!(status, 201, "{timer}");
    wait_for("the timer run", Duration::from_secs(10), || {
        (!runs(&hosts[0], "trigger=timer").is_empty()).then_some(())
    });
    // Several more ticks of every scheduler: still one run.
    std::thread::sleep(Duration::from_millis(1500));
    let timer_runs = runs(&hosts[1], "trigger=timer");
    assert_eq!(timer_runs.len(), 1, "{timer_runs:?}");
    assert_eq!(timer_runs[0]["automation"], "scale.tick");
}

fn cli(args: &[&str]) -> (bool, J, String) {
    let out = std::process::Command::new(bin())
        .args(args)
        .env_remove("KATABOX_STORE")
        .output()
        .expect("run katabox");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(J::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn scale_out_store_migrate_moves_an_install_and_store_check_reports_both() {
    // An install on redb with a listener, an automation and a run.
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data_arg = data.to_str().expect("utf-8 path");
    let g = guid("scale-moved");
    let pkg = attack::package(
        "Moved",
        &[Auto {
            name: "scale.moved",
            script: ECHO_V1,
            policy: "",
            trigger: WEBHOOK,
        }],
        &[(&g, "scale.moved")],
    );
    {
        let mut srv = Server::start_on(bin(), &data, &[]).expect("serve on redb");
        wait_for("the redb host", Duration::from_secs(120), || {
            let r = srv.request("GET", "/readyz", &[], b"").ok()?;
            (r.status == 200).then_some(())
        });
        attack::import(&srv, &pkg);
        assert_eq!(body(&srv, &g, "").1, "version one");
        srv.terminate().expect("SIGTERM");
        srv.wait_exit(Duration::from_secs(30));
    }
    let url = postgres::fresh_database();
    let (ok, copied, err) = cli(&["store", "migrate", "--data", data_arg, "--to", &url]);
    assert!(ok, "migrate failed: {err}");
    assert_eq!(copied["copied"]["listeners"], 1, "{copied}");
    assert_eq!(copied["copied"]["automations"], 1, "{copied}");
    assert_eq!(copied["copied"]["runs"], 1, "{copied}");
    assert_eq!(copied["copied"], copied["target_now_holds"], "{copied}");
    // Again: refused (the target holds data), then forced: nothing changes.
    let (ok, _, err) = cli(&["store", "migrate", "--data", data_arg, "--to", &url]);
    assert!(!ok && err.contains("--force"), "{err}");
    let (ok, again, err) = cli(&[
        "store", "migrate", "--data", data_arg, "--to", &url, "--force",
    ]);
    assert!(ok, "{err}");
    assert_eq!(again["target_now_holds"], copied["target_now_holds"]);
    let (ok, check, err) = cli(&["store", "check", "--data", data_arg, "--store", &url]);
    assert!(ok, "{err}");
    assert_eq!(
        check["redb"]["holds"], check["postgres"]["holds"],
        "{check}"
    );
    assert_eq!(
        check["postgres"]["schema_versions"],
        json!([1, 2]),
        "{check}"
    );
    // The same data directory served on PostgreSQL answers as before.
    let srv = Server::start_on(bin(), &data, &["--store", &url]).expect("serve on postgres");
    wait_for("the postgres host", Duration::from_secs(120), || {
        let r = srv.request("GET", "/readyz", &[], b"").ok()?;
        (r.status == 200).then_some(())
    });
    assert_eq!(body(&srv, &g, "").1, "version one");
    wait_for("both runs", Duration::from_secs(10), || {
        (runs(&srv, "automation=scale.moved").len() == 2).then_some(())
    });
}
