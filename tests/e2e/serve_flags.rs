//! The operator's `katabox serve` ceilings: outbound exceptions to the
//! address check, and the time limit a policy may ask for. Loopback only.

use crate::support::attack::{self, Auto, WEBHOOK};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn fetch_script(port: u16) -> String {
    format!(
        "start:\n  http.request:\n    inputs:\n      url: http://127.0.0.1:{port}/\n    output: r\n    on_error:\n      return:\n        status_code: 502\n  return:\n    status_code: 200\n    body@key: r:body\n"
    )
}

#[test]
fn allow_outbound_lets_an_operator_open_loopback_to_automations() {
    let (port, count) = attack::trap(None);
    let script = fetch_script(port);
    let pkg = attack::package(
        "Fetch",
        &[Auto {
            name: "op.fetch",
            script: &script,
            policy: "commands:\n  http.request:\n    allow@bool: yes\n",
            trigger: WEBHOOK,
        }],
        &[(&attack::guid("fetch"), "op.fetch")],
    );

    let refused = attack::serve_with(&pkg, &[]);
    let r = attack::hook(&refused, &attack::guid("fetch"), b"").expect("answer");
    assert_eq!(r.status, 502, "loopback must be refused by default");
    assert_eq!(count.load(Ordering::SeqCst), 0);

    let allowed = attack::serve_with(&pkg, &["--allow-outbound", "127.0.0.1"]);
    let r = attack::hook(&allowed, &attack::guid("fetch"), b"").expect("answer");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hi"[..]));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn max_time_limit_caps_what_a_policy_asks_for() {
    let spin = "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: 1\n";
    let pkg = attack::package(
        "Spin",
        &[Auto {
            name: "op.spin",
            script: spin,
            policy: "settings:\n  time_limit_ms: 60000\n",
            trigger: WEBHOOK,
        }],
        &[(&attack::guid("spin"), "op.spin")],
    );
    let srv = attack::serve_with(&pkg, &["--max-time-limit-ms", "300"]);
    let started = Instant::now();
    let r = attack::hook(&srv, &attack::guid("spin"), b"").expect("answer");
    assert_eq!(
        (r.status, r.body.len()),
        (200, 0),
        "a time-out answers 200, empty (Cerb)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run was not capped: {:?}",
        started.elapsed()
    );
    let (_, runs) = srv.api("GET", "/api/runs?limit=1", None).expect("runs");
    let e = runs["runs"][0]["error"].as_str().unwrap_or("").to_string();
    assert!(e.contains("Execution timed out after 300ms"), "{e}");
}
