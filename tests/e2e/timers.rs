//! Timers in the real binary: an `await` continuation survives SIGKILL and
//! a restart on the same redb file, and resumes with its dictionary.

use crate::support::attack::{bin, import};
use crate::support::server::Server;
use serde_json::{Value as J, json};
use std::time::{Duration, Instant};

const SCRIPT: &str = "start:\n  set:\n    greeting: hello\n    n@int: 41\n  await:\n    until@date: +3 seconds\n  return:\n    greeting: {{greeting}}\n    n: {{n + 1}}\n";

fn wait_for(what: &str, secs: u64, mut check: impl FnMut() -> Option<J>) -> J {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_await_survives_sigkill_and_a_restart_and_resumes_with_its_dictionary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let flags = ["--timer-tick-ms", "100"];
    let mut srv = Server::start_on(bin(), &data, &flags).expect("serve");
    let pkg = json!({"package": {"name": "waits", "revision": 1}, "records": [
        {"uid": "a", "_context": "automation", "name": "waits",
         "extension_id": "cerb.trigger.automation.timer", "script": SCRIPT, "policy_kata": ""}
    ]});
    import(&srv, &pkg);
    let (status, timer) = srv
        .api(
            "POST",
            "/api/timers",
            Some(&json!({"name": "resume me",
                         "automations_kata": "automation/go:\n  uri: cerb:automation:waits\n"})),
        )
        .expect("create timer");
    assert_eq!(status, 201, "{timer}");
    let path = format!("/api/timers/{}", timer["id"]);

    // The scheduler runs it within a tick or two: it awaits.
    let waiting = wait_for("the continuation", 30, || {
        let (_, t) = srv.api("GET", &path, None).ok()?;
        t["continuation_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
            .then_some(t)
    });
    let until = waiting["next_run_at"].as_i64().expect("until");
    assert!(until > katabox::store::now_unix() - 5, "{waiting}");

    // SIGKILL while it waits, then a new process on the same data.
    srv.kill();
    let srv = Server::start_on(bin(), &data, &flags).expect("restart");
    let runs = wait_for("the resumed run", 30, || {
        let (_, page) = srv.api("GET", "/api/runs?trigger=timer", None).ok()?;
        let runs = page["runs"].as_array()?.clone();
        (runs.len() == 2).then_some(J::Array(runs))
    });
    assert_eq!(runs[1]["exit"], "await");
    assert_eq!(runs[0]["exit"], "return");
    assert!(
        runs.as_array()
            .into_iter()
            .flatten()
            .all(|r| r["timer_id"] == timer["id"])
    );
    let (_, resumed) = srv
        .api("GET", &format!("/api/runs/{}", runs[0]["id"]), None)
        .expect("run");
    assert_eq!(resumed["trigger"], "timer");
    assert_eq!(resumed["return"], json!({"greeting": "hello", "n": "42"}));
    assert!(resumed["at_ms"].as_i64() >= Some(until * 1000), "{resumed}");
    // A one-shot timer is disabled after its cycle, its continuation gone.
    let (_, done) = srv.api("GET", &path, None).expect("timer");
    assert_eq!(
        (&done["is_disabled"], &done["continuation_id"]),
        (&json!(true), &json!(""))
    );
}

fn katabox(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(bin())
        .args(args)
        .env("KATABOX_ADMIN_TOKEN", crate::support::server::TOKEN)
        .output()
        .expect("run katabox");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_timers_cli_creates_lists_disables_runs_and_deletes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data_arg = data.to_string_lossy().into_owned();
    let kata = "automation/go:\n  uri: cerb:automation:tick\n";
    // On a data directory no server holds: created disabled, so it waits.
    let (ok, out, err) = katabox(&[
        "timers",
        "create",
        "--name",
        "nightly",
        "--kata",
        kata,
        "--pattern",
        "0 3 * * *",
        "--timezone",
        "Europe/Paris",
        "--disabled",
        "--json",
        "--data",
        &data_arg,
    ]);
    assert!(ok, "{err}");
    let created: J = serde_json::from_str(&out).expect("json");
    assert_eq!(created["recurring_timezone"], "Europe/Paris");
    assert_eq!(created["is_recurring"], json!(true));
    let (ok, _, err) = katabox(&[
        "timers",
        "create",
        "--name",
        "bad",
        "--timezone",
        "Nowhere",
        "--data",
        &data_arg,
    ]);
    assert!(!ok);
    assert!(err.contains("is not a valid timezone"), "{err}");

    let srv = Server::start_on(bin(), &data, &["--timer-tick-ms", "100"]).expect("serve");
    let server = format!("http://{}", srv.addr);
    let pkg = json!({"package": {"name": "tick", "revision": 1}, "records": [
        {"uid": "a", "_context": "automation", "name": "tick",
         "extension_id": "cerb.trigger.automation.timer",
         "script": "start:\n  return:\n    ok@bool: yes\n", "policy_kata": ""}
    ]});
    import(&srv, &pkg);
    let (ok, table, err) = katabox(&["timers", "list", "--server", &server]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID  NAME"), "{table}");
    assert!(
        lines[1].contains("nightly") && lines[1].contains("disabled"),
        "{table}"
    );
    assert!(
        lines[1].contains("0 3 * * *") && lines[1].contains("Europe/Paris"),
        "{table}"
    );

    let id = created["id"].to_string();
    let (ok, out, err) = katabox(&["timers", "run", &id, "--server", &server, "--json"]);
    assert!(ok, "{err}");
    let fired: J = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (&fired["exit"], &fired["outcome"]),
        (&json!("return"), &json!("finished"))
    );
    let (ok, _, err) = katabox(&["timers", "enable", &id, "--server", &server]);
    assert!(ok, "{err}");
    let (ok, out, _) = katabox(&["timers", "list", "--server", &server, "--json"]);
    assert!(ok);
    let list: J = serde_json::from_str(&out).expect("json");
    assert_eq!(list["timers"][0]["is_disabled"], json!(false));
    let (ok, out, err) = katabox(&["timers", "delete", &id, "--server", &server]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), format!("deleted timer {id}"));
    let (ok, _, err) = katabox(&["timers", "run", &id, "--server", &server]);
    assert!(!ok, "running a deleted timer must fail");
    assert!(err.contains("Not found"), "{err}");
}
