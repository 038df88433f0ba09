//! Verified webhooks through the real `katabox` binary: `secrets list`,
//! `webhook create --verify …` / `--verify-file`, then `serve` with the
//! secrets in a file and in the environment; the server's stderr, the run
//! history and the admin API never show a secret value.

use crate::support::{EVENT_KATA, GITHUB_BODY, GITHUB_SECRET, GITHUB_SIGNATURE, spawned_addr};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const ENV_SECRET: &str = "env-only-secret-value-9f8e7d";
const ADMIN_TOKEN: &str = "verify-cli-test-admin-token-0123456789";

fn katabox(data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_katabox"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env("KATABOX_SECRET_ENV_KEY", ENV_SECRET)
        .output()
        .expect("run katabox");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Sends a raw request (Connection: close) and returns status and body.
fn send(addr: &str, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
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

fn hook(addr: &str, guid: &str, signature: &str, delivery: &str) -> (u16, String) {
    send(
        addr,
        &format!(
            "POST /webhooks/{guid} HTTP/1.1\r\nHost: {addr}\r\nX-Hub-Signature-256: {signature}\r\nX-GitHub-Delivery: {delivery}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GITHUB_BODY}",
            GITHUB_BODY.len()
        ),
    )
}

fn api_get(addr: &str, path: &str) -> String {
    let (status, body) = send(
        addr,
        &format!(
            "GET /api{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[test]
fn cli_configures_verified_listeners_and_secrets_stay_out_of_every_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    // World-readable on purpose: the server warns (by file name only).
    std::fs::write(
        data.join("secrets.toml"),
        format!("github_hook = \"{GITHUB_SECRET}\"\n"),
    )
    .expect("secrets.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            data.join("secrets.toml"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
    }

    // `katabox secrets list`: names from the file and the environment.
    let (ok, out, err) = katabox(&data, &["secrets", "list"]);
    assert!(ok, "{err}");
    let mut names: Vec<String> = json(&out)["secrets"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names, ["env_key", "github_hook"]);
    let mut cli_output = out + &err;

    // The seed automation, and listeners configured both ways.
    let seed = format!("{}/tests/seed_package.json", env!("CARGO_MANIFEST_DIR"));
    let (ok, out, err) = katabox(&data, &["import", &seed]);
    assert!(ok && !out.contains("error"), "{out}{err}");
    let kata_file = dir.path().join("event.kata");
    std::fs::write(&kata_file, EVENT_KATA).expect("kata");
    let kata_arg = kata_file.to_string_lossy().into_owned();
    let (ok, out, err) = katabox(
        &data,
        &[
            "webhook",
            "create",
            "--name",
            "GitHub",
            "--kata-file",
            &kata_arg,
            "--verify",
            "github",
            "--secret",
            "github_hook",
            "--dedupe-window",
            "600",
        ],
    );
    assert!(ok, "{err}");
    let github_guid = json(&out)["guid"].as_str().expect("guid").to_string();
    cli_output += &out;

    let verify_file = dir.path().join("verify.toml");
    std::fs::write(
        &verify_file,
        "preset = \"hmac\"\nsecret = \"env_key\"\nheader = \"X-Signature\"\n",
    )
    .expect("verify.toml");
    let verify_arg = verify_file.to_string_lossy().into_owned();
    let (ok, out, err) = katabox(
        &data,
        &[
            "webhook",
            "create",
            "--name",
            "Partner",
            "--kata-file",
            &kata_arg,
            "--verify-file",
            &verify_arg,
        ],
    );
    assert!(ok, "{err}");
    let partner_guid = json(&out)["guid"].as_str().expect("guid").to_string();

    // Invalid options are refused before anything is stored.
    let (ok, _, err) = katabox(
        &data,
        &["webhook", "create", "--name", "Bad", "--verify", "github"],
    );
    assert!(!ok);
    assert!(err.contains("the github preset needs `secret`"), "{err}");
    let (ok, _, err) = katabox(
        &data,
        &[
            "webhook",
            "create",
            "--name",
            "Bad",
            "--secret",
            "github_hook",
        ],
    );
    assert!(!ok, "--secret without --verify must be refused: {err}");

    let (ok, out, _) = katabox(&data, &["webhook", "list", "--json"]);
    assert!(ok);
    let list = json(&out);
    assert_eq!(list["webhooks"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        list["webhooks"][0]["verify"],
        serde_json::json!({"preset": "github", "secret": "github_hook", "dedupe": {"window": 600}})
    );
    cli_output += &out;

    // Serve, with stderr captured.
    let stderr_path = dir.path().join("stderr.log");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_katabox"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("KATABOX_SECRET_ENV_KEY", ENV_SECRET)
        .env("KATABOX_ADMIN_TOKEN", ADMIN_TOKEN)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn katabox");
    let addr = spawned_addr(&mut child);

    let (status, first) = hook(&addr, &github_guid, GITHUB_SIGNATURE, "d-1");
    assert_eq!(status, 200, "{first}");
    let (status, again) = hook(&addr, &github_guid, GITHUB_SIGNATURE, "d-1");
    assert_eq!((status, &again), (200, &first));
    let (status, body) = hook(&addr, &github_guid, "sha256=00", "d-2");
    assert_eq!(
        (status, body.as_str()),
        (401, "malformed X-Hub-Signature-256 header")
    );
    // The environment's secret signs the partner listener (HMAC-SHA256, hex).
    let partner = |signature: &str| {
        send(
            &addr,
            &format!(
                "POST /webhooks/{partner_guid} HTTP/1.1\r\nHost: {addr}\r\nX-Signature: {signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{GITHUB_BODY}",
                GITHUB_BODY.len()
            ),
        )
    };
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(ENV_SECRET.as_bytes())
        .expect("key");
    hmac::Mac::update(&mut mac, GITHUB_BODY.as_bytes());
    let good = hex::encode(hmac::Mac::finalize(mac).into_bytes());
    let (status, body) = partner(&good);
    assert_eq!(status, 200, "{body}");
    let (status, body) = partner(&"0".repeat(64));
    assert_eq!((status, body.as_str()), (401, "signature mismatch"));
    // A sender that puts a secret value in the URL: scrubbed from the history.
    let (status, _) = send(
        &addr,
        &format!(
            "POST /webhooks/{partner_guid}/{ENV_SECRET} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 401);

    let runs = api_get(&addr, "/runs?limit=100");
    let runs_json = json(&runs);
    let list = runs_json["runs"].as_array().expect("runs");
    assert_eq!(list.len(), 6, "{runs}");
    assert_eq!(
        list.iter()
            .filter(|r| r["automation"] == "example.webhook.respond")
            .count(),
        2
    );
    assert!(runs.contains("<redacted:env_key>"), "{runs}");
    let admin = runs + &api_get(&addr, "/webhooks") + &api_get(&addr, "/secrets");

    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok);
    let _ = child.wait();
    let server_stderr = std::fs::read_to_string(&stderr_path).expect("stderr");
    assert!(
        server_stderr.contains("secrets.toml"),
        "the world-readable file is warned about: {server_stderr}"
    );

    for (what, text) in [
        ("server stderr", &server_stderr),
        ("admin API", &admin),
        ("CLI output", &cli_output),
    ] {
        for secret in [GITHUB_SECRET, ENV_SECRET] {
            assert!(!text.contains(secret), "{secret} in {what}: {text}");
        }
    }
}
