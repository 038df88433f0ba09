//! The HTTP layer against a real server on loopback: routing errors, the
//! admin API, body limits, slow clients, saturation, graceful shutdown.

use crate::support::{TestServer, raw};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const NO_HANDLERS: &str = "";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_methods_get_501_and_missing_guids_404() {
    let srv = TestServer::start(|_| {}).await;
    let guid = srv.listener("Hook", NO_HANDLERS).await;
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = raw(srv.addr, format!("{method} /webhooks/{guid}/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").as_bytes()).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (501, "Not implemented"),
            "{method}"
        );
    }
    for path in [
        "/webhooks",
        "/webhooks/",
        "/webhooks/0000000000000000000000000000000000000000",
    ] {
        let r = raw(
            srv.addr,
            format!("GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!((r.status, r.body.len()), (404, 0), "{path}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
    }
    // A listener without handlers answers 404 too.
    let r = raw(
        srv.addr,
        format!("GET /webhooks/{guid} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!((r.status, r.body.len()), (404, 0));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_event_kata_gives_500() {
    let srv = TestServer::start(|_| {}).await;
    let guid = srv.listener("Hook", "automation/a: just text\n").await;
    let r = raw(
        srv.addr,
        format!("GET /webhooks/{guid} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!((r.status, r.body.len()), (500, 0));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_needs_the_token_and_manages_listeners() {
    use reqwest::Method;
    let srv = TestServer::start(|_| {}).await;
    let anon = reqwest::get(srv.url("/api/webhooks")).await.expect("call");
    assert_eq!(anon.status().as_u16(), 401);
    let wrong = reqwest::Client::new()
        .get(srv.url("/api/webhooks"))
        .bearer_auth("nope")
        .send()
        .await
        .expect("call");
    assert_eq!(wrong.status().as_u16(), 401);

    let (status, created) = srv
        .api(
            Method::POST,
            "/webhooks",
            Some(serde_json::json!({"name": "Hook", "automations_kata": "", "guid": "abc"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(created["guid"], "abc");
    assert_eq!(created["url"], format!("http://{}/webhooks/abc", srv.addr));
    let id = created["id"].as_u64().expect("id");

    let (status, dup) = srv
        .api(
            Method::POST,
            "/webhooks",
            Some(serde_json::json!({"name": "Other", "guid": "abc"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        dup["error"]
            .as_str()
            .unwrap_or("")
            .contains("must be unique")
    );

    let (status, list) = srv.api(Method::GET, "/webhooks", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["webhooks"].as_array().map(Vec::len), Some(1));

    let (status, updated) = srv
        .api(
            Method::PUT,
            &format!("/webhooks/{id}"),
            Some(serde_json::json!({"name": "Renamed", "automations_kata": "x: y"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (updated["name"].as_str(), updated["guid"].as_str()),
        (Some("Renamed"), Some("abc"))
    );

    let (status, one) = srv.api(Method::GET, &format!("/webhooks/{id}"), None).await;
    assert_eq!(
        (status, one["automations_kata"].as_str()),
        (200, Some("x: y"))
    );

    let (status, _) = srv
        .api(Method::DELETE, &format!("/webhooks/{id}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, gone) = srv.api(Method::GET, &format!("/webhooks/{id}"), None).await;
    assert_eq!((status, gone["error"].as_str()), (404, Some("Not found")));

    let (status, err) = srv
        .api(
            Method::POST,
            "/packages",
            Some(serde_json::json!({"package": {"records": []}})),
        )
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("Invalid package JSON"))
    );
    let (status, autos) = srv.api(Method::GET, "/automations", None).await;
    assert_eq!(
        (status, autos["automations"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, _) = srv.api(Method::GET, "/automations/none", None).await;
    assert_eq!(status, 404);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_get_413() {
    let srv = TestServer::start(|c| c.limits.body_limit = 1024).await;
    let guid = srv.listener("Hook", NO_HANDLERS).await;
    let client = reqwest::Client::new();
    let small = client
        .post(srv.url(&format!("/webhooks/{guid}")))
        .body(vec![b'a'; 1000])
        .send()
        .await
        .expect("send");
    assert_eq!(
        small.status().as_u16(),
        404,
        "within the limit the request reaches the listener"
    );
    let big = client
        .post(srv.url(&format!("/webhooks/{guid}")))
        .body(vec![b'a'; 4096])
        .send()
        .await
        .expect("send");
    assert_eq!(big.status().as_u16(), 413);
    assert!(
        big.text()
            .await
            .unwrap_or_default()
            .contains("limit: 1024 bytes")
    );

    // Without a Content-Length (chunked), the limit still applies.
    let req = format!(
        "POST /webhooks/{guid} HTTP/1.1\r\nHost: h\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n{}\r\n800\r\n{}\r\n0\r\n\r\n",
        "a".repeat(0x800),
        "b".repeat(0x800)
    );
    assert_eq!(raw(srv.addr, req.as_bytes()).await.status, 413);

    // A listener may carry its own limit.
    let (status, created) = srv
        .api(
            reqwest::Method::POST,
            "/webhooks",
            Some(serde_json::json!({"name": "Tiny", "body_limit": 10})),
        )
        .await;
    assert_eq!(status, 201);
    let tiny = created["guid"].as_str().expect("guid").to_string();
    let r = client
        .post(srv.url(&format!("/webhooks/{tiny}")))
        .body("01234567890")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 413);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_header_client_is_cut_off() {
    let srv = TestServer::start(|c| c.limits.header_timeout = Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    let started = Instant::now();
    s.write_all(b"GET /webhooks/x HTTP/1.1\r\nHost: h\r\n")
        .await
        .expect("write");
    // Trickle a header byte now and then, never finishing the headers.
    let mut closed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if s.write_all(b"X").await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(10), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(_)) => {
                // A 408 answer is fine too; the connection must then close.
            }
            Err(_) => {}
        }
    }
    assert!(closed, "the server kept a slow-header connection open");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "cut off after {:?}",
        started.elapsed()
    );
    // The server still serves others.
    let r = raw(
        srv.addr,
        b"GET /webhooks HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 404);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_times_out_with_408() {
    let srv = TestServer::start(|c| c.limits.body_timeout = Duration::from_secs(1)).await;
    let guid = srv.listener("Hook", NO_HANDLERS).await;
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(
        format!("POST /webhooks/{guid} HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc")
            .as_bytes(),
    )
    .await
    .expect("write");
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("answer in time")
        .expect("read");
    let r = crate::support::parse_response(&buf[..n]);
    assert_eq!(r.status, 408);
    srv.stop().await;
}

/// Opens a request whose body never finishes (holds one in-flight slot).
async fn hold_slot(srv: &TestServer, guid: &str) -> TcpStream {
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(
        format!("POST /webhooks/{guid} HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nab")
            .as_bytes(),
    )
    .await
    .expect("write");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturation_answers_503() {
    let srv = TestServer::start(|c| c.limits.max_concurrency = 1).await;
    let guid = srv.listener("Hook", NO_HANDLERS).await;
    let mut held = hold_slot(&srv, &guid).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = raw(
        srv.addr,
        format!("GET /webhooks/{guid} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    // Finishing the held request frees the slot.
    held.write_all(b"cdefghij").await.expect("write");
    let mut buf = vec![0u8; 1024];
    let n = held.read(&mut buf).await.expect("read");
    assert_eq!(crate::support::parse_response(&buf[..n]).status, 404);
    let r = raw(
        srv.addr,
        format!("GET /webhooks/{guid} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 404);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_requests() {
    let mut srv = TestServer::start(|_| {}).await;
    let guid = srv.listener("Hook", NO_HANDLERS).await;
    let addr = srv.addr;
    let mut held = hold_slot(&srv, &guid).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    srv.signal_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // New connections are no longer accepted...
    assert!(TcpStream::connect(addr).await.is_err());
    // ...but the request in flight completes.
    held.write_all(b"cdefghij").await.expect("write");
    let mut buf = vec![0u8; 1024];
    let n = held.read(&mut buf).await.expect("read");
    assert_eq!(crate::support::parse_response(&buf[..n]).status, 404);
    assert!(srv.join().await, "the server did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_the_header_timeout() {
    let srv = TestServer::start(|c| c.limits.header_timeout = Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    let started = Instant::now();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    assert!(
        matches!(n, Ok(Ok(_)) | Ok(Err(_))),
        "a connection that sends nothing stayed open for 5 s"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_closed() {
    let srv = TestServer::start(|c| c.limits.max_connections = 1).await;
    let guid = srv.listener("Hook", NO_HANDLERS).await;
    // The API call above has finished and closed its connection; wait for the slot.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut held = hold_slot(&srv, &guid).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(srv.addr).await.expect("connect");
    let _ = extra
        .write_all(b"GET /webhooks HTTP/1.1\r\nHost: h\r\n\r\n")
        .await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), extra.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(
        matches!(n, Ok(0) | Err(_)),
        "the extra connection was served"
    );
    held.write_all(b"cdefghij").await.expect("write");
    let mut buf = vec![0u8; 1024];
    let n = held.read(&mut buf).await.expect("read");
    assert_eq!(crate::support::parse_response(&buf[..n]).status, 404);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let srv = TestServer::start(|c| c.limits.header_timeout = Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(b"GET /webhooks HTTP/1.1\r\nHost: h\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 1024];
    let n = s.read(&mut buf).await.expect("read");
    assert_eq!(crate::support::parse_response(&buf[..n]).status, 404);
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    assert!(
        matches!(r, Ok(Ok(0)) | Ok(Err(_))),
        "an idle keep-alive connection stayed open"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    srv.stop().await;
}
