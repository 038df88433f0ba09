//! Mixed traffic against a real server: good requests, bad ones (unknown
//! guids, malformed requests, oversized bodies) and slow clients. The good
//! requests never fail, their p99 stays near the unloaded p99 and memory
//! stays flat. CI runs 10 s; scripts/attack.sh sets KATABOX_LOAD_SECS=300.

use crate::support::attack::{self, Auto, WEBHOOK, guid, percentile, raw, vm_rss_kb};
use crate::support::server::Server;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const GOOD: &str = "start:\n  set:\n    n@int: {{ request_body|length }}\n  return:\n    headers:\n      Content-Type: application/json\n    body@text: {{ {n: n, path: request_path}|json_encode }}\n";

fn good(srv: &Server, g: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let r = attack::hook(srv, g, b"hello world")?;
    if r.status != 200 || !r.body.starts_with(b"{\"n\":11") {
        return Err(format!(
            "{} {:?}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ));
    }
    Ok(started.elapsed())
}

/// Good requests at a steady pace for `dur`; every failure is returned.
fn paced(srv: &Server, g: &str, dur: Duration) -> (Vec<Duration>, Vec<String>) {
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    let end = Instant::now() + dur;
    while Instant::now() < end {
        match good(srv, g) {
            Ok(d) => ok.push(d),
            Err(e) => failed.push(e),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (ok, failed)
}

#[test]
fn mixed_traffic_keeps_good_requests_fast_and_memory_flat() {
    let secs: u64 = std::env::var("KATABOX_LOAD_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let g = guid("load");
    let pkg = attack::package(
        "Load",
        &[Auto {
            name: "sec.load",
            script: GOOD,
            policy: "",
            trigger: WEBHOOK,
        }],
        &[(&g, "sec.load")],
    );
    let mut srv = attack::serve_with(
        &pkg,
        &[
            "--header-timeout",
            "2",
            "--body-timeout",
            "2",
            "--body-limit",
            "65536",
        ],
    );
    let (mut unloaded, failed) = paced(&srv, &g, Duration::from_secs(3));
    assert!(failed.is_empty(), "unloaded failures: {failed:?}");
    let unloaded_p99 = percentile(&mut unloaded, 99.0);

    let stop = AtomicBool::new(false);
    let counts = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
    let mut rss = Vec::new();
    let (mut loaded, failed) = std::thread::scope(|s| {
        let (srv_ref, stop, counts, g) = (&srv, &stop, &counts, g.as_str());
        // Bad: unknown guids, malformed requests, oversized bodies.
        s.spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let _ = match i % 3 {
                    0 => srv_ref
                        .request(
                            "GET",
                            &format!("/webhooks/{}", guid(&format!("nope{i}"))),
                            &[],
                            b"",
                        )
                        .map(|_| ()),
                    1 => {
                        raw(
                            srv_ref.addr,
                            b"GET /webhooks/%%% HTTP/1.1\r\nBad Header\r\n\r\n",
                            Duration::from_secs(3),
                        );
                        Ok(())
                    }
                    _ => attack::hook(srv_ref, g, &vec![b'x'; 100_000]).map(|_| ()),
                };
                counts[0].fetch_add(1, Ordering::Relaxed);
            }
        });
        // Slow: clients that trickle headers until the server cuts them off.
        s.spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let mut held = Vec::new();
                for _ in 0..20 {
                    if let Ok(mut c) = TcpStream::connect(srv_ref.addr) {
                        let _ = c.write_all(b"POST /webhooks/x HTTP/1.1\r\nHost: h\r\n");
                        held.push(c);
                    }
                }
                for _ in 0..5 {
                    std::thread::sleep(Duration::from_millis(200));
                    for c in &mut held {
                        let _ = c.write_all(b"X: y\r\n");
                    }
                }
                counts[1].fetch_add(held.len() as u64, Ordering::Relaxed);
            }
        });
        // Good background load: as fast as one client can go.
        s.spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if good(srv_ref, g).is_ok() {
                    counts[2].fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let sampler = s.spawn(move || {
            let mut out = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                out.push(vm_rss_kb(srv_ref.pid()).unwrap_or(0));
                std::thread::sleep(Duration::from_millis(500));
            }
            out
        });
        let result = paced(srv_ref, g, Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
        rss = sampler.join().unwrap_or_default();
        result
    });
    assert!(srv.alive(), "the server died under load");
    let loaded_p99 = percentile(&mut loaded, 99.0);
    let quarter = rss.get(rss.len() / 4).copied().unwrap_or(0);
    let last = rss.last().copied().unwrap_or(0);
    eprintln!(
        "load {secs}s: paced good {} (failed {}), background good {}, bad {}, slow clients {}; p99 unloaded {unloaded_p99:?} loaded {loaded_p99:?}; VmRSS {quarter} kB at 25% -> {last} kB at the end",
        loaded.len(),
        failed.len(),
        counts[2].load(Ordering::Relaxed),
        counts[0].load(Ordering::Relaxed),
        counts[1].load(Ordering::Relaxed),
    );
    assert!(
        failed.is_empty(),
        "good requests failed under load: {:?}",
        &failed[..failed.len().min(5)]
    );
    // 2× the unloaded p99, with a floor for the scheduling noise of a busy
    // shared CI machine (the unloaded p99 of a debug build is a few ms).
    // KATABOX_LOAD_STRICT=1 (scripts/attack.sh) drops the floor.
    let strict = std::env::var_os("KATABOX_LOAD_STRICT").is_some();
    let bound = if strict {
        unloaded_p99 * 2
    } else {
        (unloaded_p99 * 2).max(Duration::from_millis(100))
    };
    assert!(
        loaded_p99 <= bound,
        "p99 {loaded_p99:?} over {bound:?} (unloaded {unloaded_p99:?})"
    );
    assert!(
        last < quarter + 32 * 1024,
        "VmRSS grew from {quarter} kB to {last} kB"
    );
}
