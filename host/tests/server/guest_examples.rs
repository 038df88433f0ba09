//! End to end: the Rust guest examples (automations/examples/*) built for
//! wasm32-wasip2, carried in packages (`component_base64`), imported into a
//! real server and called through real webhooks (loopback only).

use crate::support::{GITHUB_SECRET, RawResponse, TestServer, raw};
use base64::Engine as _;
use katabox::capabilities::http::address::AddressPolicy;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const EXAMPLES: [&str; 4] = ["github", "forward", "denied", "misbehave"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds every example once (one target dir under target/) and returns
/// the path of its component.
fn example_wasm(name: &str) -> Vec<u8> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let target = root().join("target/examples");
    let built = BUILT.get_or_init(|| {
        for example in EXAMPLES {
            let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            for (k, _) in std::env::vars() {
                if k.starts_with("CARGO_") && k != "CARGO_HOME"
                    || k == "RUSTFLAGS"
                    || k == "RUSTC_WRAPPER"
                {
                    cmd.env_remove(k);
                }
            }
            let manifest = root().join(format!("automations/examples/{example}/Cargo.toml"));
            let status = cmd
                .args([
                    "build",
                    "--release",
                    "--target",
                    "wasm32-wasip2",
                    "--manifest-path",
                ])
                .arg(&manifest)
                .arg("--target-dir")
                .arg(&target)
                .status()
                .map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("the {example} example does not build"));
            }
        }
        Ok(())
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    let file = target.join(format!("wasm32-wasip2/release/katabox_example_{name}.wasm"));
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The example's package with its freshly built component embedded.
fn package(name: &str) -> serde_json::Value {
    let path = root().join(format!("automations/examples/{name}/package.json"));
    let text = std::fs::read_to_string(&path).expect("package template");
    let mut pkg: serde_json::Value = serde_json::from_str(&text).expect("package JSON");
    let b64 = base64::engine::general_purpose::STANDARD.encode(example_wasm(name));
    pkg["records"][0]["component_base64"] = serde_json::Value::String(b64);
    pkg
}

fn guid(pkg: &serde_json::Value) -> String {
    pkg["records"][1]["guid"]
        .as_str()
        .expect("guid")
        .to_string()
}

/// A server with the operator secret `github_webhook` in the data
/// directory and 127.0.0.1 allowed for outbound HTTP.
async fn server() -> TestServer {
    TestServer::start(|config| {
        std::fs::create_dir_all(&config.data_dir).expect("data dir");
        let file = config.data_dir.join("secrets.toml");
        std::fs::write(&file, format!("github_webhook = \"{GITHUB_SECRET}\"\n")).expect("secrets");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
        }
        config.http.addresses = AddressPolicy {
            allow_hosts: vec!["127.0.0.1".into()],
            allow_networks: vec![],
        };
    })
    .await
}

async fn import(server: &TestServer, pkg: &serde_json::Value) {
    let (status, body) = server
        .api(
            reqwest::Method::POST,
            "/packages",
            Some(serde_json::json!({ "package": pkg })),
        )
        .await;
    assert_eq!(status, 201, "package import: {}", body["error"]);
}

fn post(path: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A GitHub delivery of `event` (signed with `signature` when given), as
/// GitHub sends it.
async fn deliver(
    server: &TestServer,
    path: &str,
    event: &str,
    signature: Option<String>,
    body: &[u8],
) -> RawResponse {
    let mut headers = vec![
        ("X-GitHub-Event", event.to_string()),
        ("Content-Type", "application/json".to_string()),
    ];
    if let Some(signature) = signature {
        headers.push(("X-Hub-Signature-256", signature));
    }
    raw(server.addr, &post(path, &headers, body)).await
}

fn github_signature(body: &[u8], secret: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_verifies_signatures_and_routes_on_the_event() {
    let server = server().await;
    let pkg = package("github");
    import(&server, &pkg).await;
    let path = format!("/webhooks/{}", guid(&pkg));
    let body = br#"{"ref":"refs/heads/main","commits":[{"id":"a"},{"id":"b"}]}"#;

    let good = github_signature(body, GITHUB_SECRET);
    let push = deliver(&server, &path, "push", Some(good.clone()), body).await;
    assert_eq!(push.status, 200, "{}", push.text());
    let answer: serde_json::Value = serde_json::from_slice(&push.body).expect("JSON answer");
    assert_eq!(
        answer,
        serde_json::json!({"event": "push", "ref": "refs/heads/main", "commits": 2})
    );

    let ping = deliver(&server, &path, "ping", Some(good.clone()), body).await;
    assert_eq!(ping.status, 200);
    assert_eq!(ping.text(), r#"{"pong":true}"#);

    let other = deliver(&server, &path, "issues", Some(good), body).await;
    assert_eq!(other.status, 202);
    assert_eq!(other.text(), r#"{"ignored":"issues"}"#);

    let forged = github_signature(body, "not the secret");
    let bad = deliver(&server, &path, "push", Some(forged), body).await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.text(), r#"{"error":"Bad signature"}"#);

    let unsigned = deliver(&server, &path, "push", None, body).await;
    assert_eq!(unsigned.status, 401);

    // A tampered body with the original signature is refused too.
    let signature = github_signature(body, GITHUB_SECRET);
    let tampered = deliver(
        &server,
        &path,
        "push",
        Some(signature),
        br#"{"ref":"refs/heads/evil","commits":[]}"#,
    )
    .await;
    assert_eq!(tampered.status, 401);

    // The runs are in the run history like KATA ones.
    let (status, runs) = server.api(reqwest::Method::GET, "/runs", None).await;
    assert_eq!(status, 200);
    assert!(
        runs.to_string().contains("example.guest.github"),
        "run history: {runs}"
    );
    server.stop().await;
}

/// A loopback HTTP server that records each request body and answers 200.
fn upstream() -> (u16, Arc<Mutex<Vec<Vec<u8>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let Ok(n) = s.read(&mut chunk) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break Some(buf[end + 4..end + 4 + len].to_vec());
                }
            };
            if let (Some(b), Ok(mut all)) = (body, seen.lock()) {
                all.push(b);
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    (port, bodies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_reshapes_and_forwards_to_the_allowed_host() {
    let (port, bodies) = upstream();
    let server = server().await;
    let pkg = package("forward");
    import(&server, &pkg).await;
    let path = format!(
        "/webhooks/{}?target=http://127.0.0.1:{port}/hook",
        guid(&pkg)
    );
    let payload = br#"{"user":{"name":"Kina"},"action":"opened","noise":[1,2,3]}"#;
    let r = raw(server.addr, &post(&path, &[], payload)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "forwarded: 200");
    let received = bodies.lock().map(|b| b.clone()).unwrap_or_default();
    assert_eq!(received.len(), 1);
    let json: serde_json::Value = serde_json::from_slice(&received[0]).expect("JSON forwarded");
    assert_eq!(
        json,
        serde_json::json!({"who": "Kina", "did": "opened", "source": "katabox"})
    );

    // Any other host is refused by the policy before a connection opens.
    let (other_port, other_bodies) = upstream();
    let elsewhere = format!(
        "/webhooks/{}?target=http://localhost:{other_port}/hook",
        guid(&pkg)
    );
    let r = raw(server.addr, &post(&elsewhere, &[], payload)).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(other_bodies.lock().map(|b| b.is_empty()).unwrap_or(false));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_shows_the_policy_denial() {
    let server = server().await;
    let pkg = package("denied");
    import(&server, &pkg).await;
    let r = raw(
        server.addr,
        &post(&format!("/webhooks/{}", guid(&pkg)), &[], b""),
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.text(),
        "The automation policy does not allow this command (storage.set)."
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_loops_and_hoarding_end_in_error_and_the_server_keeps_serving() {
    let server = server().await;
    let pkg = package("misbehave");
    import(&server, &pkg).await;
    let base = format!("/webhooks/{}", guid(&pkg));
    for what in ["panic", "spin", "alloc"] {
        let r = raw(server.addr, &post(&format!("{base}?do={what}"), &[], b"")).await;
        // Cerb answers a failed webhook automation with an empty 404, and
        // one stopped by its time limit with an empty 200 (webhooks.md §6.1).
        let expected = if what == "spin" { 200 } else { 404 };
        assert_eq!(r.status, expected, "{what}: {}", r.text());
        assert!(r.body.is_empty(), "{what}: {}", r.text());
        let fine = raw(server.addr, &post(&format!("{base}?do=nothing"), &[], b"")).await;
        assert_eq!(fine.status, 200, "after {what}");
        assert_eq!(fine.text(), "fine");
    }
    let (status, runs) = server.api(reqwest::Method::GET, "/runs", None).await;
    assert_eq!(status, 200);
    let failed: Vec<&serde_json::Value> = runs["runs"]
        .as_array()
        .map(|r| r.iter().filter(|r| r["exit"] == "error").collect())
        .unwrap_or_default();
    assert_eq!(failed.len(), 3, "{runs}");
    let error_of = |needle: &str| {
        failed
            .iter()
            .any(|r| r["error"].as_str().is_some_and(|e| e.contains(needle)))
    };
    assert!(error_of("Execution trapped"), "the panic: {runs}");
    assert!(error_of("exceeded the memory limit"), "the hoard: {runs}");
    // The time-out is Cerb's `error` exit (answered 200); the history names it.
    assert!(
        failed.iter().any(|r| r["error"]
            .as_str()
            .is_some_and(|e| e.contains("Execution timed out after"))
            && r["duration_us"].as_u64() >= Some(2_000_000)),
        "the endless loop: {runs}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_with_a_component_that_is_not_base64_is_refused() {
    let server = server().await;
    let path = root().join("automations/examples/denied/package.json");
    let text = std::fs::read_to_string(&path).expect("package template");
    // The committed template carries a placeholder, not base64.
    let pkg: serde_json::Value = serde_json::from_str(&text).expect("package JSON");
    let (status, body) = server
        .api(
            reqwest::Method::POST,
            "/packages",
            Some(serde_json::json!({ "package": pkg })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string()
            .contains("Error importing record (automation_denied): Automation component:"),
        "{body}"
    );
    let (_, automations) = server.api(reqwest::Method::GET, "/automations", None).await;
    assert!(
        !automations.to_string().contains("example.guest.denied"),
        "{automations}"
    );
    server.stop().await;
}
