//! The run history against the real binary and its redb file: what a run
//! keeps (exactly the request and the response, secrets redacted), filters
//! and cursor paging while runs arrive, automation versions and replay,
//! `--history-save`, and the CLI's tables. Loopback only.

use crate::support::attack::{self, Auto, WEBHOOK};
use crate::support::server::{Server, TOKEN};
use base64::Engine;
use katabox::store::{RedbStore, RunRecord, Store, StoreConfig};
use serde_json::{Value as J, json};
use std::collections::HashSet;
use std::process::Command;

const SEED_PACKAGE: &str = include_str!("../../automations/examples/webhooks-example.json");
const SEED_GUID: &str = "b5d89ded60c1e4da7b7b2750182e026a5b975cf3";

fn post(srv: &Server, path: &str, headers: &[(&str, &str)], body: &[u8]) -> attack_http::Response {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    srv.request("POST", path, &headers, body).expect("answer")
}

use crate::support::http as attack_http;

fn newest(srv: &Server) -> J {
    let (status, page) = srv.api("GET", "/api/runs?limit=1", None).expect("runs");
    assert_eq!(status, 200, "{page}");
    let id = page["runs"][0]["id"].as_u64().expect("a run id");
    let (status, run) = srv
        .api("GET", &format!("/api/runs/{id}"), None)
        .expect("run");
    assert_eq!(status, 200, "{run}");
    run
}

fn seed_server(extra: &[&str]) -> Server {
    let srv = Server::start(attack::bin(), extra).expect("start");
    let pkg: J = serde_json::from_str(SEED_PACKAGE).expect("seed package");
    attack::import(&srv, &pkg);
    srv
}

#[test]
fn a_run_keeps_exactly_the_request_and_the_response_with_secrets_redacted() {
    let srv = seed_server(&[]);
    let body = br#"{"order": 42, "items": ["a", "b"], "note": "caf\u00e9"}"#;
    let path = format!("/webhooks/{SEED_GUID}/orders?source=shop");
    let r = post(
        &srv,
        &path,
        &[
            ("Content-Type", "application/json"),
            ("X-Shop-Event", "order.created"),
            ("Authorization", "Bearer live-secret-token"),
            ("Cookie", "session=abc123"),
        ],
        body,
    );
    assert_eq!(r.status, 200);
    let run = newest(&srv);

    assert_eq!(run["trigger"], "webhook");
    assert_eq!(run["automation"], "example.webhook.respond");
    assert_eq!(run["automation_version"], 1);
    assert_eq!(run["exit"], "return");
    assert_eq!(run["status"], 200);
    assert_eq!(run["replay_of"], J::Null);
    assert!(run["fuel_used"].as_u64().unwrap_or(0) > 0, "{run}");
    assert!(run["memory_peak"].as_u64().unwrap_or(0) > 0, "{run}");
    assert!(run["at_ms"].as_i64().unwrap_or(0) > 1_700_000_000_000);

    let req = &run["request"];
    assert_eq!(req["method"], "POST");
    assert_eq!(req["path"], format!("/webhooks/{SEED_GUID}/orders"));
    assert_eq!(req["query"], "source=shop");
    assert_eq!(req["body"].as_str().map(str::as_bytes), Some(&body[..]));
    assert_eq!(req["body_truncated"], false);
    assert_eq!(req["headers"]["content-type"], "application/json");
    assert_eq!(req["headers"]["x-shop-event"], "order.created");
    assert_eq!(req["headers"]["authorization"], "[redacted]");
    assert_eq!(req["headers"]["cookie"], "[redacted]");
    let stored = std::fs::read(srv.data.join("katabox.redb")).expect("redb file");
    for secret in ["live-secret-token", "session=abc123"] {
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the redb file"
        );
    }

    let resp = &run["response"];
    assert_eq!(resp["status"], r.status);
    // Exactly the body sent, but for the credentials it echoed.
    let sent = String::from_utf8_lossy(&r.body)
        .replace("Bearer live-secret-token", "[redacted]")
        .replace("session=abc123", "[redacted]");
    assert!(sent.contains("\"authorization\": \"[redacted]\""), "{sent}");
    assert_eq!(resp["body"].as_str(), Some(sent.as_str()));
    assert_eq!(
        resp["headers"]["content-type"].as_str(),
        r.header("content-type")
    );
    // The seed echoes the request: the return value is the answer's source.
    assert_eq!(run["return"]["status_code"].as_str(), Some("200"));
    assert!(
        run["return"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("order.created"))
    );

    // A body that is not UTF-8 is kept exactly, as base64.
    let binary: Vec<u8> = (0u8..=255).rev().collect();
    let r = post(&srv, &format!("/webhooks/{SEED_GUID}"), &[], &binary);
    assert_eq!(r.status, 200);
    let run = newest(&srv);
    assert_eq!(run["request"]["body"], J::Null);
    let kept = base64::engine::general_purpose::STANDARD
        .decode(run["request"]["body_base64"].as_str().expect("body_base64"))
        .expect("base64");
    assert_eq!(kept, binary);
}

#[test]
fn bodies_past_the_history_limit_are_cut_and_marked() {
    let srv = seed_server(&["--history-body-limit", "64"]);
    let body = vec![b'x'; 1000];
    assert_eq!(
        post(&srv, &format!("/webhooks/{SEED_GUID}"), &[], &body).status,
        200
    );
    let run = newest(&srv);
    assert_eq!(run["request"]["body"].as_str().map(str::len), Some(64));
    assert_eq!(run["request"]["body_truncated"], true);
    assert_eq!(run["request"]["body_size"], 1000);
    assert_eq!(run["response"]["body_truncated"], true);
    // A cut request cannot be replayed faithfully: refused, with the reason.
    let id = run["id"].as_u64().expect("id");
    let (status, answer) = srv
        .api("POST", &format!("/api/runs/{id}/replay"), Some(&json!({})))
        .expect("replay");
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or("")
            .contains("body limit")
    );
}

/// Seeds `n` runs straight into the data directory's redb file.
fn seed_runs(data: &std::path::Path, n: u64, at0: i64) -> Vec<RunRecord> {
    let store = RedbStore::open(data, StoreConfig::default()).expect("open store");
    let mut all = Vec::new();
    for i in 0..n {
        let run = RunRecord {
            at_ms: at0 + i as i64,
            trigger: "webhook".into(),
            listener_id: Some(1 + i % 3),
            automation: Some(format!("auto.{}", i % 4)),
            automation_version: Some(1),
            status: if i % 5 == 0 { 500 } else { 200 },
            exit: if i % 5 == 0 { "error" } else { "return" }.into(),
            ..RunRecord::default()
        };
        store.queue_run(run.clone());
        all.push(run);
    }
    store.flush_history();
    let stored = store.runs(n as usize).expect("runs");
    assert_eq!(stored.len() as u64, n);
    // Ids are given in queue order.
    for (i, r) in stored.iter().rev().enumerate() {
        all[i].id = r.id;
    }
    all
}

fn pages(srv: &Server, query: &str, limit: usize) -> Vec<J> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/runs?limit={limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = srv.api("GET", &path, None).expect("page");
        assert_eq!(status, 200, "{page}");
        let runs = page["runs"].as_array().cloned().unwrap_or_default();
        assert!(runs.len() <= limit);
        out.extend(runs);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

#[test]
fn filters_and_cursor_pages_stay_right_while_runs_keep_arriving() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let at0 = katabox::store::now_unix_ms() - 3_600_000;
    let seeded = seed_runs(&data, 5000, at0);
    let srv = Server::start_on(attack::bin(), &data, &[]).expect("start");
    let pkg: J = serde_json::from_str(SEED_PACKAGE).expect("seed");
    attack::import(&srv, &pkg);

    // Live webhooks keep arriving while a client pages.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let addr = srv.addr;
    let feeder = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r =
                    attack_http::send(addr, "POST", &format!("/webhooks/{SEED_GUID}"), &[], b"x");
                assert_eq!(r.map(|r| r.status).ok(), Some(200));
                sent += 1;
            }
            sent
        })
    };

    let ids = |runs: &[J]| -> Vec<u64> { runs.iter().filter_map(|r| r["id"].as_u64()).collect() };
    let expect = |keep: &dyn Fn(&RunRecord) -> bool| -> Vec<u64> {
        let mut v: Vec<u64> = seeded.iter().filter(|r| keep(r)).map(|r| r.id).collect();
        v.reverse();
        v
    };

    // Every filter, each with its own page size, against the seeded truth.
    let got = pages(&srv, "&automation=auto.1&exit=error", 37);
    assert_eq!(
        ids(&got),
        expect(&|r| r.automation.as_deref() == Some("auto.1") && r.exit == "error")
    );
    let got = pages(&srv, "&listener=2", 250);
    assert_eq!(ids(&got), expect(&|r| r.listener_id == Some(2)));
    let got = pages(&srv, "&status=500&trigger=webhook", 101);
    assert_eq!(ids(&got), expect(&|r| r.status == 500));
    let (since, until) = (at0 + 1000, at0 + 1999);
    let got = pages(&srv, &format!("&since_ms={since}&until_ms={until}"), 64);
    assert_eq!(ids(&got), expect(&|r| r.at_ms >= since && r.at_ms <= until));

    // The unfiltered history: each seeded run once, newest first, although
    // live runs were added while paging.
    let got = pages(&srv, "", 500);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let sent = feeder.join().expect("feeder");
    assert!(sent > 0);
    let all = ids(&got);
    let unique: HashSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a run appeared on two pages");
    let seeded_ids: HashSet<u64> = seeded.iter().map(|r| r.id).collect();
    assert!(seeded_ids.is_subset(&unique), "a seeded run was skipped");
    let keys: Vec<(i64, u64)> = got
        .iter()
        .map(|r| {
            (
                r["at_ms"].as_i64().unwrap_or(0),
                r["id"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]), "not newest first");

    // A bad cursor or filter is a 400 with the reason.
    let (status, e) = srv
        .api("GET", "/api/runs?cursor=nope", None)
        .expect("answer");
    assert_eq!(status, 400, "{e}");
    let (status, _) = srv
        .api("GET", "/api/runs?colour=red", None)
        .expect("answer");
    assert_eq!(status, 400);
}

#[test]
fn replay_runs_the_recorded_or_the_current_version_and_shows_the_difference() {
    let srv = seed_server(&[]);
    let hook = format!("/webhooks/{SEED_GUID}");
    assert_eq!(post(&srv, &hook, &[("X-N", "1")], b"first").status, 200);
    let original = newest(&srv);
    let id = original["id"].as_u64().expect("id");

    // A new version of the automation answers differently.
    let script = "start:\n  return:\n    status_code: 202\n    headers:\n      Content-Type: text/plain\n    body: version two\n";
    let (status, changed) = srv
        .api(
            "PUT",
            "/api/automations/example.webhook.respond",
            Some(&json!({"script": script})),
        )
        .expect("update");
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["script"], script);
    // The change is live at once (the lookup cache follows it).
    let live = post(&srv, &hook, &[], b"");
    assert_eq!(
        (live.status, live.body.as_slice()),
        (202, &b"version two"[..])
    );

    let (status, versions) = srv
        .api(
            "GET",
            "/api/automations/example.webhook.respond/versions",
            None,
        )
        .expect("versions");
    assert_eq!(status, 200);
    let numbers: Vec<u64> = versions["versions"]
        .as_array()
        .map(|v| v.iter().filter_map(|a| a["version"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(numbers, [2, 1]);

    let (status, current) = srv
        .api(
            "POST",
            &format!("/api/runs/{id}/replay"),
            Some(&json!({"version": "current"})),
        )
        .expect("replay");
    assert_eq!(status, 201, "{current}");
    assert_eq!(current["diff"]["same"], false);
    assert_eq!(current["diff"]["status"]["recorded"], 200);
    assert_eq!(current["diff"]["status"]["replay"], 202);
    assert_eq!(current["run"]["trigger"], "replay");
    assert_eq!(current["run"]["replay_of"], id);
    assert_eq!(current["run"]["automation_version"], 2);
    assert_eq!(current["run"]["response"]["body"], "version two");

    let (status, recorded) = srv
        .api(
            "POST",
            &format!("/api/runs/{id}/replay"),
            Some(&json!({"version": "recorded"})),
        )
        .expect("replay");
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["diff"]["same"], true, "{recorded}");
    assert_eq!(recorded["run"]["automation_version"], 1);
    assert_eq!(
        recorded["run"]["response"]["body"],
        original["response"]["body"]
    );
    // The replay is in the history like any run.
    let replay_id = recorded["run"]["id"].as_u64().expect("id");
    let (_, stored) = srv
        .api("GET", &format!("/api/runs/{replay_id}"), None)
        .expect("run");
    assert_eq!(stored["replay_of"], id);

    let (status, _) = srv
        .api("POST", "/api/runs/999999/replay", Some(&json!({})))
        .expect("answer");
    assert_eq!(status, 404);
    let (status, _) = srv
        .api(
            "POST",
            &format!("/api/runs/{id}/replay"),
            Some(&json!({"version": "latest"})),
        )
        .expect("answer");
    assert_eq!(status, 400);
}

#[test]
fn bulk_replay_counts_first_then_replays_exactly_that_many() {
    let pkg = attack::package(
        "Flaky",
        &[Auto {
            name: "op.flaky",
            script: "start:\n  decision:\n    outcome/bad:\n      if@bool: {{request_body == 'bad'}}\n      then:\n        error: broken\n  return:\n    status_code: 200\n    body: fine\n",
            policy: "",
            trigger: WEBHOOK,
        }],
        &[(&attack::guid("flaky"), "op.flaky")],
    );
    let srv = attack::serve_with(&pkg, &[]);
    let g = attack::guid("flaky");
    for body in ["bad", "ok", "bad", "bad", "ok"] {
        let _ = attack::hook(&srv, &g, body.as_bytes()).expect("answer");
    }
    let (status, dry) = srv
        .api(
            "POST",
            "/api/runs/replay",
            Some(&json!({"exit": "error", "dry_run": true})),
        )
        .expect("dry run");
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["count"], 3);
    let (status, capped) = srv
        .api(
            "POST",
            "/api/runs/replay",
            Some(&json!({"exit": "error", "dry_run": true, "max": 2})),
        )
        .expect("dry run");
    assert_eq!((status, capped["count"].clone()), (200, json!(2)));

    let (status, done) = srv
        .api("POST", "/api/runs/replay", Some(&json!({"exit": "error"})))
        .expect("bulk");
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["count"], 3);
    let replays = pages(&srv, "&trigger=replay", 50);
    assert_eq!(replays.len(), 3);
    assert!(
        replays
            .iter()
            .all(|r| r["exit"] == "error" && r["replay_of"].is_u64())
    );
}

#[test]
fn history_save_errors_keeps_only_failures_and_none_keeps_nothing() {
    let pkg = attack::package(
        "Mixed",
        &[Auto {
            name: "op.mixed",
            script: "start:\n  decision:\n    outcome/bad:\n      if@bool: {{request_body == 'bad'}}\n      then:\n        error: broken\n  return:\n    body: fine\n",
            policy: "",
            trigger: WEBHOOK,
        }],
        &[(&attack::guid("mixed"), "op.mixed")],
    );
    let g = attack::guid("mixed");
    let errors = attack::serve_with(&pkg, &["--history-save", "errors"]);
    for body in ["ok", "bad", "ok"] {
        let _ = attack::hook(&errors, &g, body.as_bytes()).expect("answer");
    }
    let kept = pages(&errors, "", 50);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["exit"], "error");

    let none = attack::serve_with(&pkg, &["--history-save", "none"]);
    for body in ["ok", "bad"] {
        let _ = attack::hook(&none, &g, body.as_bytes()).expect("answer");
    }
    assert!(pages(&none, "", 50).is_empty());
}

fn katabox(args: &[&str], token_env: bool) -> (bool, String, String) {
    let mut cmd = Command::new(attack::bin());
    cmd.args(args);
    if token_env {
        cmd.env("KATABOX_ADMIN_TOKEN", TOKEN);
    } else {
        cmd.env_remove("KATABOX_ADMIN_TOKEN");
    }
    let out = cmd.output().expect("run katabox");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_prints_tables_for_people_and_json_on_request() {
    let srv = seed_server(&[]);
    let server = format!("http://{}", srv.addr);
    assert_eq!(
        post(&srv, &format!("/webhooks/{SEED_GUID}"), &[], b"hi").status,
        200
    );

    let (ok, table, err) = katabox(&["runs", "--server", &server], true);
    assert!(ok, "{err}");
    let mut lines = table.lines();
    let header = lines.next().unwrap_or("");
    for column in [
        "ID",
        "TIME",
        "TRIGGER",
        "AUTOMATION",
        "STATUS",
        "EXIT",
        "DURATION",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let row = lines.next().unwrap_or("");
    assert!(
        row.contains("example.webhook.respond") && row.contains("200"),
        "{row}"
    );
    // Columns line up: the automation starts where its header does.
    assert_eq!(
        header.find("AUTOMATION"),
        row.find("example.webhook.respond")
    );

    let (ok, json_out, err) = katabox(
        &[
            "runs", "--server", &server, "--exit", "return", "--since", "1h", "--json",
        ],
        true,
    );
    assert!(ok, "{err}");
    let page: J = serde_json::from_str(&json_out).expect("json");
    let id = page["runs"][0]["id"].as_u64().expect("id");
    assert!(page.get("next_cursor").is_some());

    // The token is read from the data directory when the environment has none.
    std::fs::write(srv.data.join("admin-token"), TOKEN).expect("token file");
    let data = srv.data.to_string_lossy().into_owned();
    let (ok, shown, err) = katabox(
        &[
            "runs",
            "show",
            &id.to_string(),
            "--server",
            &server,
            "--data",
            &data,
        ],
        false,
    );
    assert!(ok, "{err}");
    let shown: J = serde_json::from_str(&shown).expect("json");
    assert_eq!(shown["request"]["body"], "hi");

    let tmp = tempfile::tempdir().expect("tmp");
    let script = tmp.path().join("v2.kata");
    std::fs::write(&script, "start:\n  return:\n    body: two\n").expect("script");
    let (ok, updated, err) = katabox(
        &[
            "automation",
            "update",
            "example.webhook.respond",
            "--script",
            &script.to_string_lossy(),
            "--server",
            &server,
        ],
        true,
    );
    assert!(ok, "{err}");
    let updated: J = serde_json::from_str(&updated).expect("json");
    assert_eq!(updated["version"], 2);

    let (ok, replayed, err) = katabox(
        &[
            "runs",
            "replay",
            &id.to_string(),
            "--current",
            "--server",
            &server,
        ],
        true,
    );
    assert!(ok, "{err}");
    assert!(replayed.contains("the response differs"), "{replayed}");
    let (ok, dry, err) = katabox(
        &[
            "runs",
            "replay",
            "--exit",
            "return",
            "--since",
            "1h",
            "--dry-run",
            "--server",
            &server,
        ],
        true,
    );
    assert!(ok, "{err}");
    assert!(dry.contains("would replay"), "{dry}");

    let (ok, list, err) = katabox(&["automation", "list", "--server", &server], true);
    assert!(ok, "{err}");
    assert!(
        list.lines()
            .any(|l| l.contains("example.webhook.respond") && l.contains(" 2 ")),
        "{list}"
    );
    let (ok, hooks, err) = katabox(&["webhook", "list", "--server", &server], true);
    assert!(ok, "{err}");
    assert!(
        hooks.contains(SEED_GUID) && hooks.starts_with("ID"),
        "{hooks}"
    );
    let (ok, hooks, _) = katabox(&["webhook", "list", "--server", &server, "--json"], true);
    assert!(ok);
    let hooks: J = serde_json::from_str(&hooks).expect("json");
    assert_eq!(hooks["webhooks"][0]["guid"], SEED_GUID);
}

/// A webhook run whose automation calls a function that calls another:
/// each `function:` run is in the history with `trigger: "function"`, its
/// inputs, return and version, linked to its caller by `parent_id` and
/// found from the caller with `?parent=ID`.
#[test]
fn function_runs_are_recorded_and_linked_to_their_caller() {
    let top = "start:\n  function/f:\n    uri: cerb:automation:fam.mid\n    inputs:\n      n: 1\n    output: r\n  return:\n    status_code: 200\n    body@text: {{r.v}}\n";
    let mid = "inputs:\n  text/n:\n    required@bool: yes\nstart:\n  function/g:\n    uri: cerb:automation:fam.leaf\n    inputs:\n      n: {{inputs.n + 1}}\n    output: r\n  return:\n    v: {{r.v}}\n";
    let leaf = "inputs:\n  text/n:\n    required@bool: yes\nstart:\n  log: leaf saw {{inputs.n}}\n  return:\n    v: {{inputs.n * 10}}\n";
    let call = "commands:\n  function:\n    allow: yes\n";
    let pkg = attack::package(
        "Family",
        &[
            Auto {
                name: "fam.top",
                script: top,
                policy: call,
                trigger: WEBHOOK,
            },
            Auto {
                name: "fam.mid",
                script: mid,
                policy: call,
                trigger: attack::FUNCTION,
            },
            Auto {
                name: "fam.leaf",
                script: leaf,
                policy: "",
                trigger: attack::FUNCTION,
            },
        ],
        &[(&attack::guid("fam"), "fam.top")],
    );
    let srv = attack::serve_with(&pkg, &[]);
    let r = attack::hook(&srv, &attack::guid("fam"), b"").expect("answer");
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).into_owned()),
        (200, "20".to_string())
    );
    let list = |q: &str| -> Vec<J> {
        let (status, page) = srv
            .api("GET", &format!("/api/runs?{q}"), None)
            .expect("runs");
        assert_eq!(status, 200, "{page}");
        page["runs"].as_array().cloned().unwrap_or_default()
    };
    let webhook = list("trigger=webhook");
    assert_eq!(webhook.len(), 1);
    let top_id = webhook[0]["id"].as_u64().expect("id");
    assert!(webhook[0]["parent_id"].is_null());
    let mids = list(&format!("parent={top_id}"));
    assert_eq!(mids.len(), 1, "{mids:?}");
    let m = &mids[0];
    assert_eq!(m["automation"], "fam.mid");
    assert_eq!(m["trigger"], "function");
    assert_eq!(m["parent_id"], top_id);
    assert_eq!(m["exit"], "return");
    assert!(m["automation_version"].as_u64().is_some(), "{m}");
    assert!(m["listener_id"].is_null());
    let mid_id = m["id"].as_u64().expect("id");
    let leaves = list(&format!("parent={mid_id}"));
    assert_eq!(leaves.len(), 1, "{leaves:?}");
    let leaf_id = leaves[0]["id"].as_u64().expect("id");
    let (_, detail) = srv
        .api("GET", &format!("/api/runs/{leaf_id}"), None)
        .expect("run");
    assert_eq!(detail["automation"], "fam.leaf");
    assert_eq!(detail["parent_id"], mid_id);
    assert_eq!(detail["inputs"], json!({"n": "2"}));
    assert_eq!(detail["return"], json!({"v": "20"}));
    let logs = detail["logs"].as_array().cloned().unwrap_or_default();
    assert!(
        logs.iter().any(|l| l["message"] == "leaf saw 2"),
        "{logs:?}"
    );
    assert!(list(&format!("parent={leaf_id}")).is_empty());
    assert_eq!(list("trigger=function").len(), 2);
}
