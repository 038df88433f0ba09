//! Observability of the real binary (issue 16): `/metrics` counts exactly
//! what was sent, the request log has one line per request and never a full
//! guid, a query, a header value or a body, and `/healthz`/`/readyz`
//! behave, including during a graceful shutdown. Loopback only.

use crate::support::attack::{self, Auto, WEBHOOK};
use crate::support::server::{Server, TOKEN, free_addr};
use serde_json::Value as J;
use std::time::{Duration, Instant};

const OK: &str = "start:\n  return:\n    status_code: 200\n    body: fine\n";
const FAIL: &str = "start:\n  error: broken\n";
const SPIN: &str = "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: 1\n";
const DENIED: &str = "start:\n  http.request:\n    inputs:\n      url: http://127.0.0.1:1/\n    output: r\n    on_error:\n      return:\n        status_code: 403\n  return:\n    status_code: 200\n";

/// Enough fuel for the small scripts (~150,000 each), far too little for
/// the endless loop, which runs out long before its time limit.
const FUEL: &str = "50000000";

fn package() -> J {
    attack::package(
        "Observability",
        &[
            Auto {
                name: "obs.ok",
                script: OK,
                policy: "",
                trigger: WEBHOOK,
            },
            Auto {
                name: "obs.fail",
                script: FAIL,
                policy: "",
                trigger: WEBHOOK,
            },
            Auto {
                name: "obs.spin",
                script: SPIN,
                policy: "settings:\n  time_limit_ms: 60000\n",
                trigger: WEBHOOK,
            },
            Auto {
                name: "obs.denied",
                script: DENIED,
                // No rule allows http.request: denied.
                policy: "",
                trigger: WEBHOOK,
            },
        ],
        &[
            (&attack::guid("obs-ok"), "obs.ok"),
            (&attack::guid("obs-fail"), "obs.fail"),
            (&attack::guid("obs-spin"), "obs.spin"),
            (&attack::guid("obs-denied"), "obs.denied"),
        ],
    )
}

fn get(srv_addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let headers: Vec<(String, String)> = token
        .map(|t| vec![("Authorization".to_string(), format!("Bearer {t}"))])
        .unwrap_or_default();
    match crate::support::http::send(srv_addr, "GET", path, &headers, b"") {
        Ok(r) => (r.status, String::from_utf8_lossy(&r.body).into_owned()),
        Err(_) => (0, String::new()),
    }
}

/// The value of one series (exact name with labels) in a scrape.
fn series(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

fn count(text: &str, name: &str) -> f64 {
    series(text, name).unwrap_or(0.0)
}

#[test]
fn metrics_count_exactly_what_was_sent_and_the_log_has_one_line_per_request() {
    const N: usize = 5;
    const M: usize = 3;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("serve.log");
    let srv = Server::start_logged(
        attack::bin(),
        &["--fuel", FUEL, "--log-format", "json"],
        &log,
    )
    .expect("start katabox serve");
    attack::import(&srv, &package());

    // Request data that must never reach a log line or a label.
    let secret_query = "QUERY-SECRET-4711";
    let secret_header = "HEADER-SECRET-4711";
    let secret_body = "BODY-SECRET-4711";
    let headers = vec![
        ("Content-Type".to_string(), "text/plain".to_string()),
        ("X-Api-Key".to_string(), secret_header.to_string()),
    ];
    let send = |label: &str| {
        let target = format!("/webhooks/{}?token={secret_query}", attack::guid(label));
        srv.request("POST", &target, &headers, secret_body.as_bytes())
            .expect("webhook answer")
            .status
    };
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for _ in 0..N {
        let s = send("obs-ok");
        assert_eq!(s, 200);
        *statuses.entry(s).or_default() += 1;
    }
    for _ in 0..M {
        *statuses.entry(send("obs-fail")).or_default() += 1;
    }
    *statuses.entry(send("obs-spin")).or_default() += 1;
    let denied = send("obs-denied");
    assert_eq!(denied, 403, "the denial is handled by on_error");
    *statuses.entry(denied).or_default() += 1;
    let requests = N + M + 2;

    let (status, text) = get(srv.addr, "/metrics", Some(TOKEN));
    assert_eq!(status, 200, "{text}");

    let runs = |auto: &str, exit: &str| {
        count(
            &text,
            &format!(
                "katabox_runs_total{{automation=\"{auto}\",exit=\"{exit}\",trigger=\"webhook\"}}"
            ),
        )
    };
    assert_eq!(runs("obs.ok", "return"), N as f64, "{text}");
    assert_eq!(runs("obs.fail", "error"), M as f64, "{text}");
    assert_eq!(runs("obs.spin", "error"), 1.0, "{text}");
    assert_eq!(runs("obs.denied", "return"), 1.0, "{text}");
    assert_eq!(
        count(&text, "katabox_sandbox_stops_total{limit=\"fuel\"}"),
        1.0,
        "{text}"
    );
    for other in ["memory", "time", "steps", "trap"] {
        assert_eq!(
            count(
                &text,
                &format!("katabox_sandbox_stops_total{{limit=\"{other}\"}}")
            ),
            0.0,
            "{text}"
        );
    }
    assert_eq!(
        count(
            &text,
            "katabox_policy_denials_total{command=\"http.request\"}"
        ),
        1.0,
        "{text}"
    );
    // Denied before any connection: nothing went out.
    assert!(!text.contains("katabox_http_outbound_total{"), "{text}");
    for (code, n) in &statuses {
        assert_eq!(
            count(
                &text,
                &format!("katabox_webhook_requests_total{{status=\"{code}\"}}")
            ),
            *n as f64,
            "status {code}: {text}"
        );
    }
    assert_eq!(
        count(&text, "katabox_webhook_request_duration_seconds_count"),
        requests as f64
    );
    assert_eq!(
        count(
            &text,
            "katabox_webhook_request_duration_seconds_bucket{le=\"10\"}"
        ),
        requests as f64,
        "{text}"
    );
    assert!(text.contains("katabox_webhook_request_duration_seconds_bucket{le=\"0.0001\"}"));
    assert_eq!(
        count(
            &text,
            "katabox_run_duration_seconds_count{trigger=\"webhook\"}"
        ),
        requests as f64
    );
    assert_eq!(count(&text, "katabox_run_fuel_count"), requests as f64);
    assert!(text.contains("katabox_build_info{version=\""), "{text}");
    for gauge in [
        "katabox_history_queue_depth",
        "katabox_warm_instances",
        "katabox_continuations_waiting",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
    ] {
        assert!(series(&text, gauge).is_some(), "{gauge} missing: {text}");
    }
    assert!(count(&text, "process_resident_memory_bytes") > 1e6);
    // Bounded labels: no request data in any series.
    for label in ["obs-ok", "obs-fail", "obs-spin", "obs-denied"] {
        let guid = attack::guid(label);
        assert!(!text.contains(&guid[..12]), "a guid in a label: {text}");
    }
    for secret in [secret_query, secret_header, secret_body] {
        assert!(!text.contains(secret), "request data in a label: {text}");
    }

    // The log: one JSON line per webhook request, short guids only.
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let all = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<J> = all
            .lines()
            .filter_map(|l| serde_json::from_str::<J>(l).ok())
            .filter(|j| j["target"] == "katabox::request")
            .collect();
        if lines.len() >= requests || Instant::now() > deadline {
            break (all, lines);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (all, hooks) = lines;
    assert_eq!(
        hooks.len(),
        requests,
        "one line per webhook request:\n{all}"
    );
    for label in ["obs-ok", "obs-fail", "obs-spin", "obs-denied"] {
        let guid = attack::guid(label);
        assert!(!all.contains(&guid), "a full guid in the log:\n{all}");
        assert!(
            !all.contains(&guid[..9]),
            "more than 8 guid characters:\n{all}"
        );
        let mine: Vec<&J> = hooks.iter().filter(|j| j["guid"] == guid[..8]).collect();
        assert!(!mine.is_empty(), "no line for {label}:\n{all}");
        for j in mine {
            assert_eq!(j["method"], "POST");
            assert!(j["listener"].as_u64().is_some(), "{j}");
            assert!(j["status"].as_u64().is_some(), "{j}");
            assert!(j["duration_us"].as_u64().is_some(), "{j}");
            assert!(j["exit"].as_str().is_some(), "{j}");
        }
    }
    let errors = hooks.iter().filter(|j| j["exit"] == "error").count();
    assert_eq!(errors, M + 1, "{all}");
    // Each line names its run, and those are exactly the history's runs.
    let logged: std::collections::BTreeSet<u64> =
        hooks.iter().filter_map(|j| j["run_id"].as_u64()).collect();
    assert_eq!(logged.len(), requests, "a run id per line:\n{all}");
    let (_, page) = srv.api("GET", "/api/runs?limit=100", None).expect("runs");
    let stored: std::collections::BTreeSet<u64> = page["runs"]
        .as_array()
        .map(|runs| runs.iter().filter_map(|r| r["id"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(logged, stored, "{page}");
    for secret in [secret_query, secret_header, secret_body, TOKEN] {
        assert!(!all.contains(secret), "{secret} in the log:\n{all}");
    }
    // The admin calls are logged by route pattern.
    assert!(
        all.lines().any(|l| l.contains("\"katabox::admin\"")
            && l.contains("\"/api/packages\"")
            && l.contains("\"status\":201")),
        "{all}"
    );
}

#[test]
fn the_text_log_has_one_line_per_request_and_off_writes_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let guid = attack::guid("obs-ok");
    for (format, expected) in [("text", 3usize), ("off", 0)] {
        let log = dir.path().join(format!("{format}.log"));
        let srv = Server::start_logged(attack::bin(), &["--log-format", format], &log)
            .expect("start katabox serve");
        attack::import(&srv, &package());
        for _ in 0..2 {
            let r = attack::hook(&srv, &guid, b"x").expect("answer");
            assert_eq!(r.status, 200);
        }
        // An unknown guid is logged too (404), with its prefix only.
        let unknown = "f".repeat(40);
        let r = attack::hook(&srv, &unknown, b"x").expect("answer");
        assert_eq!(r.status, 404);
        let read = || std::fs::read_to_string(&log).unwrap_or_default();
        let logged = |all: &str| {
            all.lines()
                .filter(|l| l.contains("katabox::request"))
                .count()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut all = read();
        while logged(&all) < expected.max(1) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            all = read();
            if expected == 0 && Instant::now() + Duration::from_secs(9) > deadline {
                break;
            }
        }
        let lines: Vec<&str> = all
            .lines()
            .filter(|l| l.contains("katabox::request"))
            .collect();
        assert_eq!(lines.len(), expected, "{format}:\n{all}");
        assert!(!all.contains(&guid), "{all}");
        assert!(!all.contains(&unknown[..9]), "{all}");
        if format == "text" {
            assert!(
                lines
                    .iter()
                    .all(|l| l.contains("status=") && l.contains("duration_us=")),
                "{all}"
            );
            assert!(lines.iter().any(|l| l.contains("guid=ffffffff")), "{all}");
        }
    }
}

#[test]
fn health_and_readiness_and_503_while_draining() {
    let mut srv = attack::serve_with(&package(), &["--drain-ms", "3000"]);
    assert_eq!(get(srv.addr, "/healthz", None), (200, "ok\n".to_string()));
    assert_eq!(get(srv.addr, "/readyz", None), (200, "ready\n".to_string()));
    // /metrics on the main listener needs the admin token.
    assert_eq!(get(srv.addr, "/metrics", None).0, 401);
    assert_eq!(get(srv.addr, "/metrics", Some("wrong-token")).0, 401);
    assert_eq!(get(srv.addr, "/metrics", Some(TOKEN)).0, 200);

    srv.terminate().expect("SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut seen = 0;
    while Instant::now() < deadline {
        seen = get(srv.addr, "/readyz", None).0;
        if seen == 503 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(seen, 503, "/readyz must answer 503 once shutdown begins");
    // Still alive (healthz) during the drain, and webhooks still answered.
    assert_eq!(get(srv.addr, "/healthz", None).0, 200);
    let r = attack::hook(&srv, &attack::guid("obs-ok"), b"").expect("answer while draining");
    assert_eq!(r.status, 200);
    assert_eq!(
        srv.wait_exit(Duration::from_secs(20)),
        Some(true),
        "SIGTERM must end the server cleanly after the drain"
    );
}

#[test]
fn a_metrics_listener_answers_without_the_token() {
    let metrics = free_addr();
    let at = metrics.to_string();
    let srv = attack::serve_with(&package(), &["--metrics-listen", &at]);
    let r = attack::hook(&srv, &attack::guid("obs-ok"), b"").expect("answer");
    assert_eq!(r.status, 200);
    let (status, text) = get(metrics, "/metrics", None);
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        count(&text, "katabox_webhook_requests_total{status=\"200\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(get(metrics, "/readyz", None).0, 200);
    assert_eq!(get(metrics, "/healthz", None).0, 200);
    // The main listener still wants the token.
    assert_eq!(get(srv.addr, "/metrics", None).0, 401);
}

/// A loopback listener that accepts connections and never answers.
fn silent() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

#[test]
fn outbound_results_signature_failures_and_dedupe_hits_are_counted() {
    let (trap_port, trapped) = attack::trap(None);
    let silent_port = silent();
    let fetch = "start:\n  http.request:\n    output: r\n    inputs:\n      url@key: request_body\n      timeout: 1\n    on_error:\n      return:\n        status_code: 502\n  return:\n    status_code: 200\n";
    let pkg = attack::package(
        "Outbound",
        &[
            Auto {
                name: "obs.fetch",
                script: fetch,
                policy: "commands:\n  http.request:\n    allow@bool: yes\n",
                trigger: WEBHOOK,
            },
            Auto {
                name: "obs.ok",
                script: OK,
                policy: "",
                trigger: WEBHOOK,
            },
        ],
        &[(&attack::guid("obs-fetch"), "obs.fetch")],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::write(
        data.join("secrets.toml"),
        "obs_hook = \"obs-secret-value-0123456789\"\n",
    )
    .expect("secrets.toml");
    let srv = Server::start_on(attack::bin(), &data, &["--allow-outbound", "127.0.0.1"])
        .expect("start katabox serve");
    attack::import(&srv, &pkg);

    let g = attack::guid("obs-fetch");
    let cases = [
        (format!("http://127.0.0.1:{trap_port}/"), 200),
        // Private and not allowed: refused before any connection.
        ("http://10.0.0.1/".to_string(), 502),
        // Allowed, nothing listens: a connection error.
        ("http://127.0.0.1:1/".to_string(), 502),
        (format!("http://127.0.0.1:{silent_port}/"), 502),
    ];
    for (url, status) in &cases {
        let r = attack::hook(&srv, &g, url.as_bytes()).expect("answer");
        assert_eq!(r.status, *status, "{url}");
    }
    assert_eq!(trapped.load(std::sync::atomic::Ordering::SeqCst), 1);

    let kata = "automation/a:\n  uri: cerb:automation:obs.ok\n  disabled@bool: no\n";
    let (status, signed) = srv
        .api(
            "POST",
            "/api/webhooks",
            Some(
                &serde_json::json!({"name": "Signed", "automations_kata": kata,
                "verify": {"preset": "github", "secret": "obs_hook"}}),
            ),
        )
        .expect("create listener");
    assert_eq!(status, 201, "{signed}");
    let (status, deduped) = srv
        .api(
            "POST",
            "/api/webhooks",
            Some(
                &serde_json::json!({"name": "Deduped", "automations_kata": kata,
                "verify": {"preset": "none", "dedupe": {"header": "X-Request-Id", "window": 60}}}),
            ),
        )
        .expect("create listener");
    assert_eq!(status, 201, "{deduped}");
    let unsigned =
        attack::hook(&srv, signed["guid"].as_str().unwrap_or(""), b"{}").expect("answer");
    assert!((400..500).contains(&unsigned.status), "{}", unsigned.status);
    let headers = vec![("X-Request-Id".to_string(), "delivery-1".to_string())];
    let path = format!("/webhooks/{}", deduped["guid"].as_str().unwrap_or(""));
    for _ in 0..2 {
        let r = srv.request("POST", &path, &headers, b"{}").expect("answer");
        assert_eq!(r.status, 200);
    }

    let (status, text) = get(srv.addr, "/metrics", Some(TOKEN));
    assert_eq!(status, 200);
    for (result, n) in [
        ("ok", 1.0),
        ("refused_address", 1.0),
        ("error", 1.0),
        ("timeout", 1.0),
    ] {
        assert_eq!(
            count(
                &text,
                &format!("katabox_http_outbound_total{{result=\"{result}\"}}")
            ),
            n,
            "{result}: {text}"
        );
    }
    assert_eq!(
        count(&text, "katabox_signature_failures_total{preset=\"github\"}"),
        1.0,
        "{text}"
    );
    assert_eq!(count(&text, "katabox_dedupe_hits_total"), 1.0, "{text}");
    assert!(!text.contains("obs-secret-value"), "{text}");
    assert!(!text.contains("delivery-1"), "{text}");
}

#[test]
fn timer_runs_lag_and_waiting_continuations_are_exported() {
    let script = "start:\n  await:\n    until@date: +1 hour\n  return:\n    done: yes\n";
    let pkg = serde_json::json!({"package": {"name": "obs-waits", "revision": 1}, "records": [
        {"uid": "a", "_context": "automation", "name": "obs.waits",
         "extension_id": "cerb.trigger.automation.timer", "script": script, "policy_kata": ""}
    ]});
    let srv = attack::serve_with(&pkg, &["--timer-tick-ms", "100"]);
    let (status, timer) = srv
        .api(
            "POST",
            "/api/timers",
            Some(&serde_json::json!({"name": "waits",
                "automations_kata": "automation/go:\n  uri: cerb:automation:obs.waits\n"})),
        )
        .expect("create timer");
    assert_eq!(status, 201, "{timer}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let (_, text) = get(srv.addr, "/metrics", Some(TOKEN));
        if count(&text, "katabox_continuations_waiting") >= 1.0 || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(count(&text, "katabox_continuations_waiting"), 1.0, "{text}");
    assert_eq!(
        count(
            &text,
            "katabox_runs_total{automation=\"obs.waits\",exit=\"await\",trigger=\"timer\"}"
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        count(
            &text,
            "katabox_run_duration_seconds_count{trigger=\"timer\"}"
        ),
        1.0,
        "{text}"
    );
    let lag = series(&text, "katabox_timer_lag_seconds").expect("timer lag exported");
    assert!((0.0..30.0).contains(&lag), "{text}");
}
