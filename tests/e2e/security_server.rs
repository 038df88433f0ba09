//! Hostile automations through a real `katabox serve`: each stops at a
//! limit named in the run history while good requests keep being served;
//! SSRF attempts never reach a loopback trap; gated commands stay denied.

use crate::support::attack::{self, Auto, FUNCTION, WEBHOOK, guid, percentile, trap};
use crate::support::server::Server;
use serde_json::Value as J;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const ECHO: &str = "start:\n  return:\n    body: ok\n";

/// (name, script, policy, words one of which the run's error must contain,
/// the HTTP status: 200 for a time-out, 404 for a failed run, as in Cerb)
type Hostile = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    u16,
);

const HOSTILE: &[Hostile] = &[
    (
        "sec.spin",
        "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: 1\n",
        "settings:\n  time_limit_ms: 3000\n",
        &["steps", "timed out"],
        200,
    ),
    (
        "sec.grow",
        "start:\n  set:\n    s: ab\n  while:\n    if@bool: yes\n    do:\n      set:\n        s@text: {{s}}{{s}}\n",
        "settings:\n  time_limit_ms: 3000\n",
        &["steps", "timed out", "memory"],
        200,
    ),
    (
        "sec.mem",
        "start:\n  set:\n    s@text: {{ \"x\"|repeat(1000000) }}\n  repeat:\n    each@json: {{ range(1, 400)|json_encode }}\n    as: i\n    do:\n      var.push:\n        inputs:\n          key: l\n          value@key: s\n",
        "settings:\n  time_limit_ms: 10000\n",
        &["memory limit"],
        404,
    ),
    (
        "sec.recurse",
        "start:\n  function:\n    uri: cerb:automation:sec.fn\n    output: o\n",
        "commands:\n  function:\n    allow: yes\n",
        &["depth", "nest", "deep"],
        404,
    ),
    (
        "sec.deny",
        "start:\n  storage.set:\n    inputs:\n      key: k\n      value: v\n",
        "",
        &["The automation policy does not allow this command (storage.set)."],
        404,
    ),
];

const FN: &str =
    "start:\n  function:\n    uri: cerb:automation:sec.fn\n    output: o\n  return:\n    x: 1\n";

fn hostile_server() -> Server {
    let mut autos: Vec<Auto<'_>> = HOSTILE
        .iter()
        .map(|(name, script, policy, _, _)| Auto {
            name,
            script,
            policy,
            trigger: WEBHOOK,
        })
        .collect();
    autos.push(Auto {
        name: "sec.echo",
        script: ECHO,
        policy: "",
        trigger: WEBHOOK,
    });
    autos.push(Auto {
        name: "sec.fn",
        script: FN,
        policy: "commands:\n  function:\n    allow: yes\n",
        trigger: FUNCTION,
    });
    autos.push(Auto {
        name: "sec.big",
        script: "start:\n  return:\n    body@text: {{ \"x\"|repeat(10485760) }}\n",
        policy: "",
        trigger: WEBHOOK,
    });
    let guids: Vec<String> = autos.iter().map(|a| guid(a.name)).collect();
    let listeners: Vec<(&str, &str)> = guids
        .iter()
        .zip(&autos)
        .map(|(g, a)| (g.as_str(), a.name))
        .collect();
    attack::serve_with(&attack::package("Hostile", &autos, &listeners), &[])
}

fn good(srv: &Server) -> Duration {
    let started = Instant::now();
    let r = attack::hook(srv, &guid("sec.echo"), b"hi").expect("good request");
    assert_eq!(
        r.status,
        200,
        "good request failed: {}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.body, b"ok");
    started.elapsed()
}

#[test]
fn hostile_runs_stop_at_named_limits_while_good_requests_are_served() {
    let mut srv = hostile_server();
    let mut unloaded: Vec<Duration> = (0..20).map(|_| good(&srv)).collect();
    let unloaded_p99 = percentile(&mut unloaded, 99.0);
    let mut loaded = Vec::new();
    let statuses = std::thread::scope(|s| {
        let srv = &srv;
        let handles: Vec<_> = HOSTILE
            .iter()
            .chain(HOSTILE)
            .map(|(name, _, _, _, want)| {
                s.spawn(move || {
                    (
                        name,
                        want,
                        attack::hook(srv, &guid(name), b"x").map(|r| r.status),
                    )
                })
            })
            .collect();
        while handles.iter().any(|h| !h.is_finished()) {
            loaded.push(good(srv));
            std::thread::sleep(Duration::from_millis(50));
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("hostile client"))
            .collect::<Vec<_>>()
    });
    for (name, want, status) in &statuses {
        assert_eq!(status.as_ref().ok(), Some(*want), "{name}: {status:?}");
    }
    assert!(srv.alive(), "the server died");
    let (_, runs) = srv
        .api("GET", "/api/runs?trigger=webhook&limit=100", None)
        .expect("runs");
    for (name, _, _, words, want) in HOSTILE {
        let recorded: Vec<&J> = runs["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["automation"] == *name)
            .collect();
        assert_eq!(recorded.len(), 2, "{name}: runs recorded: {recorded:?}");
        for r in recorded {
            assert_eq!(r["exit"], J::from("error"), "{name}: {r}");
            let e = r["error"].as_str().unwrap_or("");
            // Time-outs are checked by `a_time_out_is_named_in_the_run_history`.
            if *want == 404 {
                assert!(
                    words.iter().any(|w| e.contains(w)),
                    "{name}: error {e:?} names none of {words:?}"
                );
            }
        }
    }
    let loaded_p99 = percentile(&mut loaded, 99.0);
    eprintln!(
        "good requests during the attack: {}, p99 {loaded_p99:?} (unloaded p99 {unloaded_p99:?})",
        loaded.len()
    );
    // Served, never dropped; how fast is `good_requests_stay_fast_during_cpu_bound_runs`.
    assert!(
        loaded_p99 < Duration::from_secs(30),
        "good requests slowed to {loaded_p99:?}"
    );
}

#[test]
fn a_ten_megabyte_response_is_served_or_refused_cleanly() {
    let srv = hostile_server();
    let r = attack::hook(&srv, &guid("sec.big"), b"").expect("answer");
    match r.status {
        200 => assert_eq!(r.body.len(), 10 << 20, "a truncated body"),
        s => assert!((400..600).contains(&s), "status {s}"),
    }
    good(&srv);
}

/// http.request towards loopback in every spelling, from a webhook run: the
/// trap listener must see no connection at all.
#[test]
fn ssrf_attempts_never_reach_loopback() {
    let (srv, port, seen) = attack::ssrf_server("sec.ssrf");
    let hosts = [
        "127.0.0.1".to_string(),
        "localhost".into(),
        "LOCALHOST.".into(),
        "2130706433".into(),
        "0x7f000001".into(),
        "0x7f.0.0.1".into(),
        "0177.0.0.1".into(),
        "017700000001".into(),
        "127.1".into(),
        "127.0.1".into(),
        "[::ffff:127.0.0.1]".into(),
        "[::ffff:7f00:1]".into(),
        "[::1]".into(),
        "[0:0:0:0:0:0:0:1]".into(),
        "0.0.0.0".into(),
        "0".into(),
        "127.0.0.1%2e".into(),
        "user@127.0.0.1".into(),
        "127.0.0.1:80@127.0.0.1".into(),
    ];
    let mut refused = 0;
    for host in &hosts {
        let url = format!("http://{host}:{port}/");
        let r = attack::hook(&srv, &guid("sec.ssrf"), url.as_bytes()).expect("answer");
        let body = String::from_utf8_lossy(&r.body).to_string();
        assert_ne!(body, "reached", "{url} was fetched");
        assert_eq!(r.status, 502, "{url}: {body}");
        refused += 1;
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0, "the trap saw a connection");
    eprintln!("SSRF spellings refused through the server: {refused}");
}

/// A redirect from an allowed (fixture) answer to loopback is not followed.
#[test]
fn a_redirect_to_loopback_is_not_followed() {
    let (port, seen) = trap(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = serde_json::json!([{
        "method": "GET", "url": "https://allowed.example/start", "status": 302,
        "headers": {"Location": format!("http://127.0.0.1:{port}/")}, "body": ""
    }]);
    let f = dir.path().join("fixtures.json");
    std::fs::write(&f, fixtures.to_string()).expect("write fixtures");
    let script = dir.path().join("a.kata");
    std::fs::write(&script, "start:\n  http.request:\n    output: r\n    inputs:\n      url: https://allowed.example/start\n  return:\n    r@key: r\n").expect("write");
    let policy = dir.path().join("p.kata");
    std::fs::write(&policy, "commands:\n  http.request:\n    allow: yes\n").expect("write");
    let out = std::process::Command::new(attack::bin())
        .args(["automation", "run"])
        .arg(&script)
        .arg("--policy")
        .arg(&policy)
        .arg("--http-fixtures")
        .arg(&f)
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the redirect reached loopback: {text}"
    );
    assert!(!text.contains("\"hi\""), "{text}");
}

/// A run stopped by its time limit answers 200 with an empty body (Cerb),
/// and the run history should say which limit stopped it.
#[test]
fn a_time_out_is_named_in_the_run_history() {
    let script = "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: 1\n";
    let pkg = attack::package(
        "Spin",
        &[Auto {
            name: "sec.spin",
            script,
            policy: "settings:\n  time_limit_ms: 1000\n",
            trigger: WEBHOOK,
        }],
        &[(&guid("spin"), "sec.spin")],
    );
    let srv = attack::serve_with(&pkg, &[]);
    let r = attack::hook(&srv, &guid("spin"), b"").expect("answer");
    assert_eq!((r.status, r.body.len()), (200, 0));
    let (_, runs) = srv.api("GET", "/api/runs?limit=1", None).expect("runs");
    let e = runs["runs"][0]["error"].as_str().unwrap_or("");
    assert!(
        e.contains("Execution timed out after 1000ms") || e.contains("steps"),
        "run error {e:?}"
    );
}

/// CPU-bound guests must not starve the async workers: with a few endless
/// loops running, a trivial request should still answer within a second.
#[test]
fn good_requests_stay_fast_during_cpu_bound_runs() {
    let srv = hostile_server();
    let mut latencies = Vec::new();
    std::thread::scope(|s| {
        let srv = &srv;
        let spinners: Vec<_> = (0..4)
            .map(|_| s.spawn(move || attack::hook(srv, &guid("sec.spin"), b"x").map(|r| r.status)))
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        while spinners.iter().any(|h| !h.is_finished()) {
            latencies.push(good(srv));
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let p99 = percentile(&mut latencies, 99.0);
    assert!(
        p99 < Duration::from_secs(1),
        "{} good requests, p99 {p99:?}",
        latencies.len()
    );
}
