//! The real `katabox` binary: `serve --package` with the example package
//! (the seed's curl answers), SIGTERM, restart without re-importing.

use crate::support::spawned_addr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const GUID: &str = "b5d89ded60c1e4da7b7b2750182e026a5b975cf3";

fn example() -> String {
    format!(
        "{}/../automations/examples/webhooks-example.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Starts `katabox serve` and returns it with the address it printed.
fn serve(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_katabox"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--package",
            &example(),
            "--data",
        ])
        .arg(data)
        .env_remove("KATABOX_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn katabox");
    let addr = spawned_addr(&mut child);
    (child, addr)
}

fn curl_post(addr: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    write!(
        s,
        "POST /webhooks/{GUID}?key=value HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nX-CustomHeader: true\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut buf = String::new();
    s.read_to_string(&mut buf).expect("read");
    let status = buf
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn terminate(child: &mut Child) -> bool {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -TERM failed");
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    false
}

#[test]
fn serve_with_the_example_package_answers_the_seed_curl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, addr) = serve(dir.path());
    let (status, body) = curl_post(&addr);
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(json["http"]["method"], "POST");
    assert_eq!(json["http"]["path"], "");
    assert_eq!(json["http"]["params"], serde_json::json!({"key": "value"}));
    assert_eq!(json["http"]["headers"]["x_customheader"], "true");
    assert_eq!(json["http"]["headers"]["user_agent"], "curl/8.5.0");
    assert_eq!(json["client"]["ip"], "127.0.0.1");
    assert!(
        terminate(&mut child),
        "SIGTERM did not end the server cleanly"
    );

    // A restart keeps the data and does not import the package twice.
    let (mut child, addr) = serve(dir.path());
    let (status, _) = curl_post(&addr);
    assert_eq!(status, 200);
    assert!(terminate(&mut child));
    let token = std::fs::read_to_string(dir.path().join("admin-token")).expect("token file");
    assert!(token.len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("admin-token"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
