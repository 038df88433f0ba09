//! OTLP trace export (issue 16, item 4), behind the `otel` cargo feature.
//! With the feature, a collector stand-in on loopback receives the
//! `webhook`, `run` and `host_call` spans of real requests, and no request
//! data with them; without it, `serve --otlp-endpoint` refuses to start
//! with a message naming the feature. CI runs both builds.

/// The error `serve` gives for `--otlp-endpoint` in a build without `otel`.
#[cfg(not(feature = "otel"))]
#[test]
fn without_the_otel_feature_an_otlp_endpoint_is_refused() {
    use crate::support::attack;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(attack::bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .args(["--otlp-endpoint", "http://127.0.0.1:9/v1/traces"])
        .env("KATABOX_ADMIN_TOKEN", crate::support::server::TOKEN)
        .stdin(Stdio::null())
        .output()
        .expect("run katabox serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "serve started: {stderr}");
    assert!(
        stderr.contains("built without the `otel` feature"),
        "{stderr}"
    );
}

#[cfg(feature = "otel")]
mod exporting {
    use crate::support::attack::{self, Auto, WEBHOOK, guid};
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    type Requests = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

    /// A stand-in OTLP/HTTP collector: records each request's head
    /// (lower-cased) and body, answers 200.
    fn collector() -> (u16, Requests) {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = l.local_addr().expect("addr").port();
        let seen: Requests = Arc::default();
        let s = seen.clone();
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let Ok(mut c) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve_connection(&mut c, &s));
            }
        });
        (port, seen)
    }

    fn serve_connection(c: &mut std::net::TcpStream, seen: &Requests) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let head_end = loop {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                match c.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + len {
                match c.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let body = buf[head_end..head_end + len].to_vec();
            buf.drain(..head_end + len);
            if let Ok(mut v) = seen.lock() {
                v.push((head, body));
            }
            let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
            if c.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    /// Requests, runs and host calls arrive as spans; the span data holds
    /// the 8-character guid prefix, never the guid, the query or the body.
    #[test]
    fn spans_of_requests_runs_and_host_calls_reach_the_collector() {
        let (port, seen) = collector();
        let script = "start:\n  storage.get:\n    inputs:\n      key: k\n    output: v\n    on_error:\n      return:\n        status_code: 403\n  return:\n    status_code: 200\n";
        let pkg = attack::package(
            "otel",
            &[Auto {
                name: "otel.traced",
                script,
                policy: "",
                trigger: WEBHOOK,
            }],
            &[(&guid("otel-traced"), "otel.traced")],
        );
        let endpoint = format!("http://127.0.0.1:{port}/v1/traces");
        let srv = attack::serve_with(&pkg, &["--otlp-endpoint", &endpoint]);
        let secret = "QUERY-SECRET-0042";
        for _ in 0..3 {
            let r = srv
                .request(
                    "POST",
                    &format!("/webhooks/{}?token={secret}", guid("otel-traced")),
                    &[],
                    b"BODY-SECRET-0042",
                )
                .expect("answer");
            assert_eq!(r.status, 403, "the denied storage.get is handled");
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        let all = loop {
            let got = seen.lock().map(|v| v.clone()).unwrap_or_default();
            let bodies: Vec<u8> = got.iter().flat_map(|(_, b)| b.clone()).collect();
            let done = [b"webhook".as_slice(), b"host_call", b"otel.traced"]
                .iter()
                .all(|n| contains(&bodies, n));
            if done || Instant::now() > deadline {
                break got;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(!all.is_empty(), "the collector received nothing");
        let bodies: Vec<u8> = all.iter().flat_map(|(_, b)| b.clone()).collect();
        for name in [
            b"webhook".as_slice(),
            b"run",
            b"host_call",
            b"storage.get",
            b"otel.traced",
            b"katabox",
        ] {
            assert!(
                contains(&bodies, name),
                "{} missing from the exported spans",
                String::from_utf8_lossy(name)
            );
        }
        let (head, _) = &all[0];
        assert!(head.starts_with("post /v1/traces "), "{head}");
        assert!(
            head.contains("content-type: application/x-protobuf"),
            "{head}"
        );
        let g = guid("otel-traced");
        assert!(contains(&bodies, &g.as_bytes()[..8]), "the guid prefix");
        for leak in [
            g.as_bytes(),
            &g.as_bytes()[..9],
            secret.as_bytes(),
            b"BODY-SECRET-0042",
        ] {
            assert!(
                !contains(&bodies, leak),
                "{} in the exported spans",
                String::from_utf8_lossy(leak)
            );
        }
    }
}
