//! Shared helpers of the server tests: a real server on a free loopback
//! port with a temporary data directory, and a raw HTTP/1.1 client.

#![allow(dead_code)]

use katabox::server::{self, AppState, ServerConfig};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A running in-process server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub token: String,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server; `tune` adjusts the configuration first.
    pub async fn start(tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = ServerConfig::new(
            dir.path().join("data"),
            "127.0.0.1:0".parse().expect("addr"),
        );
        tune(&mut config);
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state =
            tokio::task::block_in_place(|| server::open_state(&config, addr)).expect("state");
        let app = server::router(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let limits = config.limits.clone();
        let handle = tokio::spawn(server::serve_with_shutdown(
            listener,
            app,
            limits,
            async move {
                let _ = rx.await;
            },
        ));
        TestServer {
            addr,
            token: state.admin_token.to_string(),
            state,
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: dir,
        }
    }

    /// `http://ADDR` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// An admin API call with the token.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = reqwest::Client::new()
            .request(method, self.url(&format!("/api{path}")))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("api call");
        let status = resp.status().as_u16();
        let json = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// Creates a listener through the API; returns its guid.
    pub async fn listener(&self, name: &str, kata: &str) -> String {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/webhooks",
                Some(serde_json::json!({"name": name, "automations_kata": kata})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["guid"].as_str().expect("guid").to_string()
    }

    /// Signals shutdown and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), h).await;
        }
    }

    /// Signals shutdown without waiting.
    pub fn signal_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits for the serve loop to end.
    pub async fn join(mut self) -> bool {
        match self.handle.take() {
            Some(h) => tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .is_ok(),
            None => true,
        }
    }
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` verbatim on a new connection and reads the response
/// until the server closes it (send `Connection: close`).
pub async fn raw(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf))
        .await
        .expect("response in time")
        .expect("read");
    parse_response(&buf)
}

/// Parses an HTTP/1.1 response (Content-Length or close-delimited, or chunked).
pub fn parse_response(buf: &[u8]) -> RawResponse {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = body.as_slice();
        while let Some(p) = rest.windows(2).position(|w| w == b"\r\n") {
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..p]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[p + 2..p + 2 + size]);
            rest = &rest[p + 2 + size + 2..];
        }
        body = out;
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

/// GitHub's published example ("Validating webhook deliveries"): a secret,
/// a body and the `X-Hub-Signature-256` of that body under that secret.
pub const GITHUB_SECRET: &str = "It's a Secret to Everybody";
pub const GITHUB_BODY: &str = "Hello, World!";
pub const GITHUB_SIGNATURE: &str =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

/// Event KATA that runs the seed's `example.webhook.respond`.
pub const EVENT_KATA: &str = "automation/example:\n    uri: cerb:automation:example.webhook.respond\n    disabled@bool: no\n";

/// Waits for a spawned `katabox serve` (stdout piped) to print its
/// address, then keeps draining stdout so the server never blocks on a
/// full pipe. Returns `host:port`.
pub fn spawned_addr(child: &mut std::process::Child) -> String {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("katabox exited early")
            .expect("read line");
        if let Some(a) = line.strip_prefix("katabox listening on http://") {
            break a.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    addr
}
