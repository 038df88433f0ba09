//! http.request: policy gate, SSRF refusal, redirects, fixtures. Every test
//! talks to loopback only.

use crate::support::*;
use katabox::capabilities::http::HttpConfig;
use katabox::capabilities::http::address::AddressPolicy;
use katabox::capabilities::http::fixtures;
use katabox::sandbox::{RunOptions, SandboxConfig};
use katabox_value::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A loopback listener that counts connections and answers each with `reply`.
fn listener(addr: &str, reply: String) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind(addr).expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            c.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(reply.as_bytes());
        }
    });
    (port, count)
}

fn ok_reply() -> String {
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi".into()
}

async fn request(
    sb: &katabox::sandbox::Sandbox,
    policy: &str,
    url: &str,
) -> katabox::sandbox::RunResult {
    let payload = map(&[("url", Value::str(url))]);
    sb.run(
        &record("call http.request", policy),
        with_payload(payload),
        RunOptions::default(),
    )
    .await
}

#[tokio::test]
async fn a_denied_request_opens_no_connection() {
    let (port, count) = listener("127.0.0.1:0", ok_reply());
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    let r = request(&sb, "", &format!("http://127.0.0.1:{port}/")).await;
    assert_eq!(
        r.dict.get("error").map(|v| v.to_string_lossy()).as_deref(),
        Some("The automation policy does not allow this command (http.request).")
    );
    let r = request(
        &sb,
        "commands:\n  http.request:\n    deny: yes\n  all:\n    allow: yes\n",
        &format!("http://127.0.0.1:{port}/"),
    )
    .await;
    assert!(r.dict.get("error").is_some());
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn loopback_in_every_spelling_is_refused_by_default() {
    let (port, count) = listener("127.0.0.1:0", ok_reply());
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    for host in [
        "127.0.0.1",
        "localhost",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "[::1]",
    ] {
        let r = request(&sb, ALLOW_ALL, &format!("http://{host}:{port}/")).await;
        let err = r
            .dict
            .get("error")
            .map(|v| v.to_string_lossy())
            .unwrap_or_default();
        assert!(
            err.contains("not allowed"),
            "{host}: {err:?} / {:?}",
            r.dict.get("result").map(|v| v.to_string_lossy())
        );
    }
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_redirect_to_loopback_is_refused() {
    let (target_port, target_count) = listener("127.0.0.1:0", ok_reply());
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{target_port}/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let (port, first_count) = listener("127.0.0.2:0", redirect);
    let http = HttpConfig {
        addresses: AddressPolicy {
            allow_hosts: vec!["127.0.0.2".into()],
            allow_networks: vec![],
        },
        ..HttpConfig::default()
    };
    let sb = probe_sandbox(SandboxConfig::default(), http);
    let r = request(&sb, ALLOW_ALL, &format!("http://127.0.0.2:{port}/")).await;
    let err = r
        .dict
        .get("error")
        .map(|v| v.to_string_lossy())
        .unwrap_or_default();
    assert!(!err.is_empty(), "the redirect must fail");
    assert_eq!(
        first_count.load(Ordering::SeqCst),
        1,
        "the allowed host is reached"
    );
    assert_eq!(
        target_count.load(Ordering::SeqCst),
        0,
        "the redirect target is not"
    );
}

#[tokio::test]
async fn an_allowed_network_is_reachable_and_the_output_has_cerbs_shape() {
    let (port, count) = listener("127.0.0.1:0", ok_reply());
    let http = HttpConfig {
        addresses: AddressPolicy {
            allow_hosts: vec![],
            allow_networks: vec!["127.0.0.0/8".parse().expect("net")],
        },
        ..HttpConfig::default()
    };
    let sb = probe_sandbox(SandboxConfig::default(), http);
    let r = request(&sb, ALLOW_ALL, &format!("http://127.0.0.1:{port}/x")).await;
    let out = r.dict.get("result").cloned().unwrap_or(Value::Null);
    assert_eq!(
        out.get("status_code").map(katabox_value::convert::to_int),
        Some(200)
    );
    assert_eq!(
        out.get("body").map(|v| v.to_string_lossy()).as_deref(),
        Some("hi")
    );
    assert_eq!(
        out.get("content_type")
            .map(|v| v.to_string_lossy())
            .as_deref(),
        Some("text/plain")
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn fixtures_answer_without_a_connection() {
    let list = fixtures::parse(
        br#"[{"method":"GET","url":"https://api.example/items","status":201,"headers":"{\"Content-Type\": \"application/json; charset=utf-8\"}","body":"{\"items\": []}"}]"#,
    )
    .expect("fixtures parse");
    let http = HttpConfig {
        fixtures: Some(list),
        ..HttpConfig::default()
    };
    let sb = probe_sandbox(SandboxConfig::default(), http);
    let r = request(&sb, ALLOW_ALL, "https://api.example/items").await;
    let out = r.dict.get("result").cloned().unwrap_or(Value::Null);
    assert_eq!(
        out.get("status_code").map(katabox_value::convert::to_int),
        Some(201)
    );
    assert_eq!(
        out.get("content_type")
            .map(|v| v.to_string_lossy())
            .as_deref(),
        Some("application/json")
    );
    let r = request(&sb, ALLOW_ALL, "https://api.example/other").await;
    assert!(
        r.dict
            .get("error")
            .map(|v| v.to_string_lossy())
            .unwrap_or_default()
            .contains("No HTTP fixture")
    );
}

#[tokio::test]
async fn invalid_inputs_report_validation_before_the_policy() {
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    let r = request(&sb, "", "ftp://example/").await;
    assert_eq!(
        r.dict.get("error").map(|v| v.to_string_lossy()).as_deref(),
        Some("'inputs:url:' is invalid. The URL must start with http:// or https://")
    );
}
