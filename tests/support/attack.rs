//! Helpers for the security suite (`tests/security_*.rs`): packages built
//! from scripts, raw sockets, the CLI, a trap listener, memory figures.
//! Everything talks to loopback only.

use super::http::Response;
use super::server::Server;
use serde_json::{Value as J, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The `katabox` binary cargo built for this test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_katabox")
}

/// One automation of a test package.
pub struct Auto<'a> {
    /// The automation name (`cerb:automation:NAME`).
    pub name: &'a str,
    /// Its KATA script.
    pub script: &'a str,
    /// Its policy KATA.
    pub policy: &'a str,
    /// Its trigger (`cerb.trigger.webhook.respond`, `cerb.trigger.automation.function`).
    pub trigger: &'a str,
}

/// The webhook trigger.
pub const WEBHOOK: &str = "cerb.trigger.webhook.respond";
/// The function trigger.
pub const FUNCTION: &str = "cerb.trigger.automation.function";

/// A package with webhook-responder automations and one listener per
/// `(guid, automation name)` pair.
pub fn package(name: &str, autos: &[Auto<'_>], listeners: &[(&str, &str)]) -> J {
    let mut records: Vec<J> = autos
        .iter()
        .enumerate()
        .map(|(i, a)| {
            json!({
                "uid": format!("auto_{i}"),
                "_context": "automation",
                "name": a.name,
                "extension_id": a.trigger,
                "script": a.script,
                "policy_kata": a.policy,
            })
        })
        .collect();
    for (i, (guid, auto)) in listeners.iter().enumerate() {
        records.push(json!({
            "uid": format!("listener_{i}"),
            "_context": "webhook_listener",
            "name": format!("Listener {i}"),
            "guid": guid,
            "automations_kata": format!("automation/a:\n  uri: cerb:automation:{auto}\n  disabled@bool: no\n"),
        }));
    }
    json!({"package": {"name": name, "revision": 1}, "records": records})
}

/// A 40-hex-digit guid derived from a label.
pub fn guid(label: &str) -> String {
    let mut g: String = label
        .bytes()
        .map(|b| format!("{:02x}", b))
        .collect::<String>();
    g.truncate(40);
    while g.len() < 40 {
        g.push('0');
    }
    g
}

/// Imports a package through the admin API; panics unless it answers 201.
pub fn import(srv: &Server, pkg: &J) {
    let (status, body) = srv
        .api("POST", "/api/packages", Some(&json!({"package": pkg})))
        .expect("import request");
    assert_eq!(status, 201, "import failed: {body}");
}

/// Starts a server and imports a package into it.
pub fn serve_with(pkg: &J, extra: &[&str]) -> Server {
    let srv = Server::start(bin(), extra).expect("start katabox serve");
    import(&srv, pkg);
    srv
}

/// The fetching script of the SSRF tests: `http.request` to the URL in the
/// body; 502 with the error when it is refused, `reached` when fetched.
pub const SSRF_SCRIPT: &str = "start:\n  http.request:\n    output: resp\n    inputs:\n      url@key: request_body\n    on_error:\n      return:\n        status_code: 502\n        body@text: {{ resp.error }}\n  return:\n    status_code: 200\n    body: reached\n";

/// A server whose listener `guid(label)` fetches the URL POSTed to it
/// (policy: any http.request), and a trap listener on loopback that counts
/// the connections it receives: `(server, trap port, connections seen)`.
pub fn ssrf_server(label: &str) -> (Server, u16, Arc<AtomicUsize>) {
    let (port, seen) = trap(None);
    let pkg = package(
        label,
        &[Auto {
            name: label,
            script: SSRF_SCRIPT,
            policy: "commands:\n  http.request:\n    allow: yes\n",
            trigger: WEBHOOK,
        }],
        &[(&guid(label), label)],
    );
    (serve_with(&pkg, &[]), port, seen)
}

/// POSTs a body to a webhook.
pub fn hook(srv: &Server, guid: &str, body: &[u8]) -> Result<Response, String> {
    let headers = vec![("Content-Type".to_string(), "text/plain".to_string())];
    srv.request("POST", &format!("/webhooks/{guid}"), &headers, body)
}

/// The resident memory of a process in KiB (Linux `/proc/<pid>/status`).
pub fn vm_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Sends exactly `bytes` and reads until the server closes the connection
/// or `timeout` passes. Returns what was read and whether the server closed.
pub fn raw(addr: SocketAddr, bytes: &[u8], timeout: Duration) -> (Vec<u8>, bool) {
    assert!(addr.ip().is_loopback(), "tests only talk to loopback");
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return (Vec::new(), false);
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + timeout;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, true),
            Err(_) => return (out, false),
        }
        if Instant::now() > deadline {
            return (out, false);
        }
    }
}

/// The status code of a raw HTTP answer, if there is one.
pub fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|b| *b == b'\n').next()?;
    let text = String::from_utf8_lossy(line);
    let mut parts = text.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// The outcome of `katabox automation run`.
pub struct CliRun {
    /// The printed JSON (`{"exit", "return", "dict", "error"}`), or Null.
    pub out: J,
    /// Standard error.
    pub stderr: String,
    /// Whether the process exited with status 0.
    pub success: bool,
    /// The process's exit signal, if it was killed by one.
    pub signal: Option<i32>,
    /// Wall-clock time.
    pub took: Duration,
}

impl CliRun {
    /// `exit` of the run.
    pub fn exit(&self) -> &str {
        self.out.get("exit").and_then(J::as_str).unwrap_or("")
    }
    /// `error` of the run as text.
    pub fn error(&self) -> String {
        match self.out.get("error") {
            Some(J::String(s)) => s.clone(),
            Some(J::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    }
}

/// Runs `katabox automation run` on a script with raw input bytes and an
/// optional policy, inside `dir`.
pub fn cli_run(dir: &Path, script: &str, inputs: Option<&[u8]>, policy: Option<&str>) -> CliRun {
    use std::os::unix::process::ExitStatusExt;
    let file = dir.join("script.kata");
    std::fs::write(&file, script).expect("write script");
    let mut cmd = Command::new(bin());
    cmd.arg("automation").arg("run").arg(&file);
    if let Some(bytes) = inputs {
        let f = dir.join("inputs.json");
        std::fs::write(&f, bytes).expect("write inputs");
        cmd.arg("--inputs").arg(f);
    }
    if let Some(p) = policy {
        let f = dir.join("policy.kata");
        std::fs::write(&f, p).expect("write policy");
        cmd.arg("--policy").arg(f);
    }
    let started = Instant::now();
    let o = cmd
        .stdin(Stdio::null())
        .output()
        .expect("run katabox automation run");
    CliRun {
        out: serde_json::from_slice(&o.stdout).unwrap_or(J::Null),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        success: o.status.success(),
        signal: o.status.signal(),
        took: started.elapsed(),
    }
}

/// A loopback listener that counts the connections it sees (and answers
/// each with a redirect to `redirect_to` when given, else 200).
pub fn trap(redirect_to: Option<String>) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            c.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let reply = match &redirect_to {
                Some(to) => format!(
                    "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                ),
                None => {
                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi".into()
                }
            };
            let _ = s.write_all(reply.as_bytes());
        }
    });
    (port, count)
}

/// The p-th percentile (0..=100) of some durations.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort();
    let idx = ((samples.len() as f64 - 1.0) * p / 100.0).round() as usize;
    samples[idx.min(samples.len() - 1)]
}

/// A small deterministic pseudo-random generator (xorshift) for traffic mixes.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Some random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}
