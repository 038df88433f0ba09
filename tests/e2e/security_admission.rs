//! Admission under hostile load (issue 20, items 1, 5 and 6), against the
//! real `katabox` binary on loopback: a flood on one listener, recursive
//! `function:` calls, nested calls that each take memory, and an event KATA
//! that burns its step budget. Each checks what a user of *another*
//! listener sees: 200s with a bounded p99. docs/security.md §10 has the
//! figures.

use crate::support::attack::{self, Auto, FUNCTION, WEBHOOK, guid, percentile, vm_rss_kb};
use crate::support::server::Server;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GOOD: &str = "start:\n  return:\n    status_code: 200\n    body: good\n";

/// A loopback upstream that holds every request for `hold`, then answers
/// 200 `slow` (one thread per connection).
fn slow_upstream(hold: Duration) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                std::thread::sleep(hold);
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nslow",
                );
            });
        }
    });
    port
}

/// What the good listener saw while the attack ran.
struct Paced {
    latencies: Vec<Duration>,
    failures: Vec<String>,
}

/// Good requests every 20 ms until `stop` is set.
fn paced(srv: &Server, g: &str, stop: &AtomicBool) -> Paced {
    let mut out = Paced {
        latencies: Vec::new(),
        failures: Vec::new(),
    };
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        match attack::hook(srv, g, b"") {
            Ok(r) if r.status == 200 && r.body == b"good" => out.latencies.push(started.elapsed()),
            Ok(r) => out.failures.push(format!(
                "{} {:?}",
                r.status,
                String::from_utf8_lossy(&r.body)
            )),
            Err(e) => out.failures.push(e),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    out
}

/// The p99 of `n` good requests on a quiet server.
fn baseline_p99(srv: &Server, g: &str, n: usize) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let r = attack::hook(srv, g, b"").expect("baseline answer");
        assert_eq!(
            r.status,
            200,
            "baseline: {}",
            String::from_utf8_lossy(&r.body)
        );
        samples.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    percentile(&mut samples, 99.0)
}

/// Counts of the statuses an attack got, and whether every 503 said
/// `Retry-After: 1`.
#[derive(Default)]
struct Statuses {
    by_status: std::collections::BTreeMap<u16, u64>,
    retry_after_missing: u64,
    bodies_404: Vec<String>,
}

impl Statuses {
    fn add(&mut self, r: &crate::support::http::Response) {
        *self.by_status.entry(r.status).or_default() += 1;
        if r.status == 503 && r.header("retry-after") != Some("1") {
            self.retry_after_missing += 1;
        }
        if r.status == 404 && self.bodies_404.len() < 3 {
            self.bodies_404
                .push(String::from_utf8_lossy(&r.body).into_owned());
        }
    }
}

// ---------------------------------------------------------------- item 1

/// 130 clients POST to a forwarding automation whose upstream holds every
/// request for 4 s (the pool has 128 instances). The flood gets 200 or 503
/// with `Retry-After: 1`, never 404; another listener keeps answering 200
/// with a bounded p99.
#[test]
fn a_flood_on_one_listener_leaves_other_listeners_answering() {
    let port = slow_upstream(Duration::from_secs(4));
    let forward = format!(
        "start:\n  http.request:\n    output: r\n    inputs:\n      url: http://127.0.0.1:{port}/\n  return:\n    status_code: 200\n    body@text: {{{{ r.body }}}}\n"
    );
    let (fg, gg) = (guid("adm.flood"), guid("adm.good"));
    let pkg = attack::package(
        "Flood",
        &[
            Auto {
                name: "adm.flood",
                script: &forward,
                policy: "commands:\n  http.request:\n    allow: yes\n",
                trigger: WEBHOOK,
            },
            Auto {
                name: "adm.good",
                script: GOOD,
                policy: "",
                trigger: WEBHOOK,
            },
        ],
        &[(&fg, "adm.flood"), (&gg, "adm.good")],
    );
    let srv = attack::serve_with(&pkg, &["--allow-outbound", "127.0.0.1"]);
    let quiet = baseline_p99(&srv, &gg, 50);

    let stop = AtomicBool::new(false);
    let statuses = Mutex::new(Statuses::default());
    let (good, flood_secs) = std::thread::scope(|s| {
        for _ in 0..130 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    match attack::hook(&srv, &fg, b"") {
                        Ok(r) => {
                            let busy = r.status == 503;
                            if let Ok(mut st) = statuses.lock() {
                                st.add(&r);
                            }
                            if busy {
                                std::thread::sleep(Duration::from_millis(250));
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(250)),
                    }
                }
            });
        }
        // Let the flood fill the pool, then measure the good listener.
        std::thread::sleep(Duration::from_millis(1500));
        let started = Instant::now();
        let paced = s.spawn(|| paced(&srv, &gg, &stop));
        std::thread::sleep(Duration::from_secs(6));
        stop.store(true, Ordering::Relaxed);
        (paced.join().expect("paced"), started.elapsed())
    });
    let st = statuses.into_inner().expect("statuses");
    let mut lat = good.latencies.clone();
    let loaded = percentile(&mut lat, 99.0);
    eprintln!(
        "flood: other listener p99 quiet {quiet:?}, during the flood {loaded:?} ({} good answers in {flood_secs:?}); flood answers {:?}",
        good.latencies.len(),
        st.by_status
    );
    assert!(
        good.failures.is_empty(),
        "the other listener failed during the flood: {:?} (first of {})",
        good.failures.first(),
        good.failures.len()
    );
    assert!(
        loaded < Duration::from_millis(500),
        "other listener p99 {loaded:?} during the flood (quiet {quiet:?})"
    );
    assert_eq!(
        st.by_status.get(&404),
        None,
        "flood got 404: {:?}",
        st.bodies_404
    );
    assert!(
        st.by_status.keys().all(|s| *s == 200 || *s == 503),
        "flood statuses {:?}",
        st.by_status
    );
    assert!(
        st.by_status.get(&503).is_some_and(|n| *n > 0),
        "{:?}",
        st.by_status
    );
    assert_eq!(st.retry_after_missing, 0, "503 without Retry-After: 1");
}

/// Six requests to an automation that calls itself 31 levels deep (each
/// level holds an instance while the deepest waits on a slow upstream):
/// 192 instances wanted from a pool of 128. The recursive requests get
/// 200 or 503, never 404; another listener keeps answering 200.
#[test]
fn recursive_function_calls_cannot_exhaust_the_instance_pool() {
    let port = slow_upstream(Duration::from_secs(4));
    let rec = format!(
        "inputs:\n  text/n:\n    type: number\nstart:\n  decision:\n    outcome/deeper:\n      if@bool: {{{{ inputs.n < 31 }}}}\n      then:\n        function:\n          uri: cerb:automation:adm.rec\n          inputs:\n            n@int: {{{{ inputs.n + 1 }}}}\n          output: out\n        return:\n          depth@int: {{{{ out.depth }}}}\n  http.request:\n    output: r\n    inputs:\n      url: http://127.0.0.1:{port}/\n  return:\n    depth@int: {{{{ inputs.n }}}}\n"
    );
    let top = "start:\n  function:\n    uri: cerb:automation:adm.rec\n    inputs:\n      n@int: 1\n    output: out\n  return:\n    status_code: 200\n    body@text: depth {{ out.depth }}\n";
    let policy = "commands:\n  function:\n    allow: yes\n  http.request:\n    allow: yes\n";
    let (rg, gg) = (guid("adm.recursive"), guid("adm.good2"));
    let pkg = attack::package(
        "Recursive",
        &[
            Auto {
                name: "adm.top",
                script: top,
                policy,
                trigger: WEBHOOK,
            },
            Auto {
                name: "adm.rec",
                script: &rec,
                policy,
                trigger: FUNCTION,
            },
            Auto {
                name: "adm.good2",
                script: GOOD,
                policy: "",
                trigger: WEBHOOK,
            },
        ],
        &[(&rg, "adm.top"), (&gg, "adm.good2")],
    );
    let srv = attack::serve_with(&pkg, &["--allow-outbound", "127.0.0.1"]);
    let quiet = baseline_p99(&srv, &gg, 30);

    let stop = AtomicBool::new(false);
    let statuses = Mutex::new(Statuses::default());
    let good = std::thread::scope(|s| {
        let paced = s.spawn(|| paced(&srv, &gg, &stop));
        let attackers: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..2 {
                        if let Ok(r) = attack::hook(&srv, &rg, b"")
                            && let Ok(mut st) = statuses.lock()
                        {
                            st.add(&r);
                        }
                    }
                })
            })
            .collect();
        for a in attackers {
            let _ = a.join();
        }
        stop.store(true, Ordering::Relaxed);
        paced.join().expect("paced")
    });
    let st = statuses.into_inner().expect("statuses");
    let mut lat = good.latencies.clone();
    let loaded = percentile(&mut lat, 99.0);
    eprintln!(
        "recursion: other listener p99 quiet {quiet:?}, during {loaded:?} ({} answers); recursive answers {:?}",
        good.latencies.len(),
        st.by_status
    );
    assert!(
        good.failures.is_empty(),
        "the other listener failed: {:?} (first of {})",
        good.failures.first(),
        good.failures.len()
    );
    assert!(loaded < Duration::from_millis(500), "p99 {loaded:?}");
    assert_eq!(
        st.by_status.get(&404),
        None,
        "recursion got 404: {:?}",
        st.bodies_404
    );
    assert!(
        st.by_status.keys().all(|s| *s == 200 || *s == 503),
        "{:?}",
        st.by_status
    );
    assert_eq!(st.retry_after_missing, 0, "503 without Retry-After: 1");
}

/// `--listener-concurrency 2`: the third request in flight on one listener
/// gets 503 `Retry-After: 1` at once; another listener is not affected.
#[test]
fn the_listener_concurrency_cap_answers_503_with_retry_after() {
    let port = slow_upstream(Duration::from_secs(2));
    let forward = format!(
        "start:\n  http.request:\n    output: r\n    inputs:\n      url: http://127.0.0.1:{port}/\n  return:\n    body@text: {{{{ r.body }}}}\n"
    );
    let (fg, gg) = (guid("adm.cap"), guid("adm.capgood"));
    let pkg = attack::package(
        "Cap",
        &[
            Auto {
                name: "adm.cap",
                script: &forward,
                policy: "commands:\n  http.request:\n    allow: yes\n",
                trigger: WEBHOOK,
            },
            Auto {
                name: "adm.capgood",
                script: GOOD,
                policy: "",
                trigger: WEBHOOK,
            },
        ],
        &[(&fg, "adm.cap"), (&gg, "adm.capgood")],
    );
    let srv = attack::serve_with(
        &pkg,
        &[
            "--allow-outbound",
            "127.0.0.1",
            "--listener-concurrency",
            "2",
        ],
    );
    std::thread::scope(|s| {
        let held: Vec<_> = (0..2)
            .map(|_| s.spawn(|| attack::hook(&srv, &fg, b"").map(|r| r.status)))
            .collect();
        std::thread::sleep(Duration::from_millis(700));
        let started = Instant::now();
        let third = attack::hook(&srv, &fg, b"").expect("third");
        assert_eq!(
            third.status,
            503,
            "{}",
            String::from_utf8_lossy(&third.body)
        );
        assert_eq!(third.header("retry-after"), Some("1"));
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        let other = attack::hook(&srv, &gg, b"").expect("other");
        assert_eq!(other.status, 200);
        for h in held {
            assert_eq!(h.join().ok().and_then(Result::ok), Some(200));
        }
    });
}

/// A nested `function:` call that gets no instance (`--listener-instances
/// 1`: the request's own run holds the listener's only one) fails as a
/// command error: the caller's `on_error:` runs and answers.
#[test]
fn a_refused_function_call_is_a_command_error_on_error_can_handle() {
    let caller = "start:\n  function:\n    uri: cerb:automation:adm.callee\n    output: out\n    on_error:\n      return:\n        status_code: 429\n        body@text: handled: {{ out.error }}\n  return:\n    body: called\n";
    let callee = "start:\n  return:\n    ok: yes\n";
    let policy = "commands:\n  function:\n    allow: yes\n";
    let g = guid("adm.refused");
    let pkg = attack::package(
        "Refused",
        &[
            Auto {
                name: "adm.caller",
                script: caller,
                policy,
                trigger: WEBHOOK,
            },
            Auto {
                name: "adm.callee",
                script: callee,
                policy: "",
                trigger: FUNCTION,
            },
        ],
        &[(&g, "adm.caller")],
    );
    let srv = attack::serve_with(&pkg, &["--listener-instances", "1"]);
    let r = attack::hook(&srv, &g, b"").expect("answer");
    let body = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 429, "{body}");
    assert!(
        body.starts_with("handled: Execution refused: the requests of this webhook listener already hold its share of 1 automation instances"),
        "{body}"
    );
    // Without the cap the same call runs.
    let open = attack::serve_with(&pkg, &[]);
    let r = attack::hook(&open, &g, b"").expect("answer");
    assert_eq!((r.status, r.body.as_slice()), (200, b"called".as_slice()));
}

// ---------------------------------------------------------------- item 5

/// Every level of a 31-deep `function:` recursion builds an 8 MB string
/// before calling the next: the request's instances together may hold at
/// most `--request-memory-limit` (default 256 MiB). The request ends with
/// an `error` exit naming that limit, and the server's memory stays bounded.
#[test]
fn nested_calls_share_one_request_memory_budget() {
    // A callee declares its inputs: Cerb refuses undeclared ones.
    let rec = "inputs:\n  text/n:\n    type: number\nstart:\n  set:\n    s@text: {{ \"x\"|repeat(8000000) }}\n  decision:\n    outcome/deeper:\n      if@bool: {{ inputs.n < 31 }}\n      then:\n        function:\n          uri: cerb:automation:adm.mem\n          inputs:\n            n@int: {{ inputs.n + 1 }}\n          output: out\n        return:\n          depth@int: {{ out.depth }}\n          size@int: {{ s|length + out.size }}\n  return:\n    depth@int: {{ inputs.n }}\n    size@int: {{ s|length }}\n";
    let top = "start:\n  function:\n    uri: cerb:automation:adm.mem\n    inputs:\n      n@int: 1\n    output: out\n  return:\n    status_code: 200\n    body@text: depth {{ out.depth }}\n";
    let policy = "commands:\n  function:\n    allow: yes\n";
    let g = guid("adm.memory");
    let pkg = attack::package(
        "Memory",
        &[
            Auto {
                name: "adm.memtop",
                script: top,
                policy,
                trigger: WEBHOOK,
            },
            Auto {
                name: "adm.mem",
                script: rec,
                policy,
                trigger: FUNCTION,
            },
        ],
        &[(&g, "adm.memtop")],
    );
    let mut srv = attack::serve_with(&pkg, &[]);
    let pid = srv.pid();
    let before = vm_rss_kb(pid).unwrap_or(0);
    let peak = Arc::new(AtomicU64::new(before));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kb) = vm_rss_kb(pid) {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let r = attack::hook(&srv, &g, b"").expect("answer");
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let peak_kb = peak.load(Ordering::Relaxed);
    let (_, runs) = srv.api("GET", "/api/runs?limit=1", None).expect("runs");
    let run = &runs["runs"][0];
    let error = run["error"].as_str().unwrap_or("").to_string();
    eprintln!(
        "request memory: status {} exit {} error {error:?}; VmRSS {before} kB before, peak {peak_kb} kB",
        r.status, run["exit"]
    );
    assert_eq!(run["exit"], json!("error"), "{run}");
    assert!(
        error.contains("memory limit of 268435456 bytes for the request"),
        "{error}"
    );
    assert!(
        peak_kb < before + 400 * 1024,
        "VmRSS grew from {before} kB to {peak_kb} kB"
    );
    assert!(srv.alive(), "the server died");
    // The next request to the same listener still runs (the budget was per request).
    let again = attack::hook(&srv, &g, b"").expect("again");
    assert!(
        again.status == 404 || again.status == 200,
        "{}",
        again.status
    );
}

// ---------------------------------------------------------------- item 6

/// An event KATA whose template burns its step budget (nested loops of
/// 25,000 iterations): 8 clients hammer that listener while another one
/// is measured. The other listener's p99 stays bounded.
#[test]
fn a_step_burning_event_kata_does_not_slow_other_listeners() {
    let (bg, gg) = (guid("adm.burn"), guid("adm.burngood"));
    let mut pkg = attack::package(
        "Burn",
        &[Auto {
            name: "adm.burngood",
            script: GOOD,
            policy: "",
            trigger: WEBHOOK,
        }],
        &[(&gg, "adm.burngood")],
    );
    let burn = json!({
        "uid": "burning",
        "_context": "webhook_listener",
        "name": "Burning",
        "guid": bg,
        "automations_kata": "automation/a:\n  uri@text: cerb:automation:{% for i in 1..25000 %}{% for j in 1..25000 %}{% endfor %}{% endfor %}adm.burngood\n",
    });
    if let Some(records) = pkg["records"].as_array_mut() {
        records.push(burn);
    }
    let srv = attack::serve_with(&pkg, &[]);
    let quiet = baseline_p99(&srv, &gg, 50);
    let started = Instant::now();
    let first = attack::hook(&srv, &bg, b"").expect("burning answer");
    let one_burn = started.elapsed();

    let stop = AtomicBool::new(false);
    let burned = AtomicU64::new(0);
    let good = std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if attack::hook(&srv, &bg, b"").is_ok() {
                        burned.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        let paced = s.spawn(|| paced(&srv, &gg, &stop));
        std::thread::sleep(Duration::from_secs(6));
        stop.store(true, Ordering::Relaxed);
        paced.join().expect("paced")
    });
    let mut lat = good.latencies.clone();
    let loaded = percentile(&mut lat, 99.0);
    eprintln!(
        "event KATA: one burning request {one_burn:?} (status {}); other listener p99 quiet {quiet:?}, with 8 burning clients {loaded:?} ({} answers, {} burning requests)",
        first.status,
        good.latencies.len(),
        burned.load(Ordering::Relaxed)
    );
    assert!(good.failures.is_empty(), "{:?}", good.failures.first());
    assert!(
        loaded < Duration::from_millis(300),
        "other listener p99 {loaded:?} with 8 burning clients (quiet {quiet:?})"
    );
}
