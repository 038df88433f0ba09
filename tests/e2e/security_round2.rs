//! Reliability and security round 2 (issue 20): each attack that got through
//! the first suite, replayed against the real `katabox` binary. Loopback
//! only; docs/security.md §9 lists the attacks and the defences.

use crate::support::attack::{self, Auto, FUNCTION, WEBHOOK, guid};
use crate::support::server::{Server, TOKEN};
use serde_json::{Value as J, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn automation(uid: &str, name: Option<&str>, body: &str) -> J {
    let mut rec = json!({
        "uid": uid,
        "_context": "automation",
        "extension_id": WEBHOOK,
        "script": format!("start:\n  return:\n    status_code: 200\n    body: {body}\n"),
        "policy_kata": "",
    });
    if let (Some(n), Some(map)) = (name, rec.as_object_mut()) {
        map.insert("name".into(), J::from(n));
    }
    rec
}

fn listener(uid: &str, guid: &str, automation: &str) -> J {
    json!({
        "uid": uid,
        "_context": "webhook_listener",
        "name": uid,
        "guid": guid,
        "automations_kata": format!("automation/a:\n  uri: cerb:automation:{automation}\n"),
    })
}

fn body_text(r: &crate::support::http::Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

// ---------------------------------------------------------------- item 2

/// Package A names its automation `automation_2`; package B's nameless
/// automation would be stored as `automation_2` (its id is 2) and took
/// over A's listener with its own policy. It must be refused instead.
#[test]
fn a_nameless_automation_cannot_take_over_another_packages_automation() {
    let srv = Server::start(attack::bin(), &[]).expect("start");
    let g = guid("r2.takeover");
    let a = json!({"package": {"name": "A", "revision": 1}, "records": [
        automation("a", Some("automation_2"), "from-A"),
        listener("l", &g, "automation_2"),
    ]});
    attack::import(&srv, &a);
    assert_eq!(
        body_text(&attack::hook(&srv, &g, b"").expect("answer")),
        "from-A"
    );

    for name in [None, Some(""), Some("automation_2")] {
        let b = json!({"package": {"name": "B", "revision": 1}, "records": [
            automation("b", name, "from-B"),
        ]});
        let (status, out) = srv
            .api("POST", "/api/packages", Some(&json!({"package": b})))
            .expect("import");
        assert_eq!(status, 400, "name {name:?}: {out}");
        let e = out["error"].as_str().unwrap_or("");
        assert!(
            e.contains("A record already exists with this 'name' (automation_2)"),
            "name {name:?}: {e}"
        );
        let r = attack::hook(&srv, &g, b"").expect("answer");
        assert_eq!(
            body_text(&r),
            "from-A",
            "name {name:?} took over the listener"
        );
    }
    let (_, all) = srv.api("GET", "/api/automations", None).expect("list");
    assert_eq!(
        all["automations"].as_array().map(Vec::len),
        Some(1),
        "{all}"
    );
}

/// Two packages whose automations both have `"name": ""` (or none): each
/// gets its own generated name; the second never replaces the first.
#[test]
fn empty_names_get_distinct_generated_names() {
    let srv = Server::start(attack::bin(), &[]).expect("start");
    for (pkg, name) in [("A", Some("")), ("B", Some("")), ("C", None)] {
        let p = json!({"package": {"name": pkg, "revision": 1}, "records": [
            automation("x", name, &format!("from-{pkg}")),
        ]});
        attack::import(&srv, &p);
    }
    let (_, all) = srv.api("GET", "/api/automations", None).expect("list");
    let list = all["automations"].as_array().cloned().unwrap_or_default();
    let mut names: Vec<String> = list
        .iter()
        .map(|a| a["name"].as_str().unwrap_or("").to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["automation_1", "automation_2", "automation_3"],
        "{all}"
    );
    for a in &list {
        let id = a["id"].as_u64().unwrap_or(0);
        let want = ["", "from-A", "from-B", "from-C"][id as usize % 4];
        assert!(
            a["script"].as_str().unwrap_or("").contains(want),
            "automation {id} was modified: {a}"
        );
    }
}

// ---------------------------------------------------------------- item 4

/// `callers:` in a callee's policy decides whether `function:` may start
/// it (a katabox deviation: Cerb checks callers only for interactions).
#[test]
fn function_callers_policy_is_enforced() {
    let (port, seen) = attack::trap(None);
    let caller = "start:\n  function/f:\n    uri: cerb:automation:{{request_body}}\n    output: out\n    on_error:\n      return:\n        status_code: 403\n        body@text: {{out.error}}\n  return:\n    status_code: 200\n    body@text: {{out.ok}}\n";
    let fetching = format!(
        "start:\n  http.request:\n    output: r\n    inputs:\n      url: http://127.0.0.1:{port}/\n  return:\n    ok: fetched\n"
    );
    let plain = "start:\n  return:\n    ok: yes\n";
    let call_policy = "commands:\n  function:\n    allow: yes\n";
    let pkg = attack::package(
        "Callers",
        &[
            Auto {
                name: "r2.caller",
                script: caller,
                policy: call_policy,
                trigger: WEBHOOK,
            },
            Auto {
                name: "r2.other",
                script: caller,
                policy: call_policy,
                trigger: WEBHOOK,
            },
            Auto {
                name: "r2.denied",
                script: &fetching,
                policy: "callers:\n  all:\n    deny: yes\ncommands:\n  http.request:\n    allow: yes\n",
                trigger: FUNCTION,
            },
            Auto {
                name: "r2.named",
                script: plain,
                policy: "callers:\n  r2.caller:\n    allow: yes\n",
                trigger: FUNCTION,
            },
            Auto {
                name: "r2.open",
                script: plain,
                policy: "",
                trigger: FUNCTION,
            },
            Auto {
                name: "r2.templated",
                script: plain,
                policy: "callers:\n  all:\n    allow@bool: {{caller_name == 'r2.other' ? 'yes'}}\n",
                trigger: FUNCTION,
            },
        ],
        &[
            (&guid("r2.caller"), "r2.caller"),
            (&guid("r2.other"), "r2.other"),
        ],
    );
    let srv = attack::serve_with(&pkg, &["--allow-outbound", "127.0.0.1"]);
    let call = |from: &str, callee: &str| {
        let r = attack::hook(&srv, &guid(from), callee.as_bytes()).expect("answer");
        (r.status, body_text(&r))
    };
    let denied = |caller: &str| {
        (
            403,
            format!("The automation policy does not allow this command ({caller})."),
        )
    };
    assert_eq!(call("r2.caller", "r2.denied"), denied("r2.caller"));
    assert_eq!(call("r2.other", "r2.denied"), denied("r2.other"));
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "a denied callee made its request"
    );
    assert_eq!(call("r2.caller", "r2.named"), (200, "yes".into()));
    assert_eq!(call("r2.other", "r2.named"), denied("r2.other"));
    assert_eq!(call("r2.caller", "r2.open"), (200, "yes".into()));
    assert_eq!(call("r2.other", "r2.open"), (200, "yes".into()));
    assert_eq!(call("r2.other", "r2.templated"), (200, "yes".into()));
    assert_eq!(call("r2.caller", "r2.templated"), denied("r2.caller"));
}

// ---------------------------------------------------------------- item 7

/// (a) A policy time limit of 9 s must end as a time-out, not as "ran out
/// of fuel" (the fuel budget used to be fixed, about 6-8 s of guest CPU).
#[test]
fn a_long_time_limit_ends_as_a_time_out_not_out_of_fuel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: {% for j in 1..20000 %}{{ j * 3 }}{% endfor %}\n";
    let run = attack::cli_run(
        dir.path(),
        script,
        None,
        Some("settings:\n  time_limit_ms: 9000\n"),
    );
    assert_eq!(run.exit(), "error", "{}", run.out);
    assert!(
        run.error().contains("Execution timed out after 9000ms"),
        "after {:?}: {}",
        run.took,
        run.error()
    );
}

/// (b) Behind an appending proxy the client address is the right-most
/// address that is not a trusted proxy, and only if it is an IP.
#[test]
fn forwarded_for_takes_the_right_most_untrusted_address() {
    let pkg = attack::package(
        "Ip",
        &[Auto {
            name: "r2.ip",
            script: "start:\n  return:\n    status_code: 200\n    body@text: {{request_client_ip}}\n",
            policy: "",
            trigger: WEBHOOK,
        }],
        &[(&guid("r2.ip"), "r2.ip")],
    );
    let srv = attack::serve_with(&pkg, &["--trusted-proxies", "127.0.0.1, 10.0.0.0/8"]);
    let ip = |values: &[&str]| {
        let headers: Vec<(String, String)> = values
            .iter()
            .map(|v| ("X-Forwarded-For".to_string(), v.to_string()))
            .collect();
        let r = srv
            .request(
                "POST",
                &format!("/webhooks/{}", guid("r2.ip")),
                &headers,
                b"",
            )
            .expect("answer");
        body_text(&r)
    };
    assert_eq!(ip(&["6.6.6.6, 203.0.113.9"]), "203.0.113.9");
    assert_eq!(ip(&["6.6.6.6, 203.0.113.9, 10.1.2.3"]), "203.0.113.9");
    assert_eq!(ip(&["6.6.6.6", "203.0.113.9"]), "203.0.113.9");
    assert_eq!(ip(&[" 203.0.113.9 "]), "203.0.113.9");
    assert_eq!(ip(&["203.0.113.9, <script>"]), "127.0.0.1");
    assert_eq!(ip(&["not-an-ip"]), "127.0.0.1");
    assert_eq!(ip(&["10.0.0.1, 10.0.0.2"]), "10.0.0.1");
    assert_eq!(ip(&[]), "127.0.0.1");
}

fn katabox(args: &[&str], token: &str) -> (Option<i32>, J, String) {
    let out = Command::new(attack::bin())
        .args(args)
        .env("KATABOX_ADMIN_TOKEN", token)
        .stdin(Stdio::null())
        .output()
        .expect("run katabox");
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(J::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (c) The CLI exits non-zero when the server refuses, and still prints
/// the server's JSON error document.
#[test]
fn the_cli_exits_non_zero_when_the_server_refuses() {
    let srv = Server::start(attack::bin(), &[]).expect("start");
    let server = format!("http://{}", srv.addr);
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"package\": {}, \"records\": [{\"uid\": \"x\"}]}").expect("write");
    let good = dir.path().join("good.json");
    let pkg = json!({"package": {"name": "G", "revision": 1}, "records": [automation("g", Some("r2.g"), "g")]});
    std::fs::write(&good, pkg.to_string()).expect("write");
    let wrong = "wrong-token-wrong-token-wrong-token";

    let bad_path = bad.to_string_lossy().into_owned();
    let good_path = good.to_string_lossy().into_owned();
    for (args, token, error) in [
        (
            vec!["import", &bad_path, "--server", &server],
            TOKEN,
            "missing properties",
        ),
        (
            vec!["webhook", "list", "--json", "--server", &server],
            wrong,
            "Unauthorized",
        ),
        (
            vec!["webhook", "list", "--server", &server],
            wrong,
            "Unauthorized",
        ),
        (
            vec!["webhook", "delete", "999", "--server", &server],
            TOKEN,
            "",
        ),
        (
            vec!["import", &good_path, "--server", &server],
            wrong,
            "Unauthorized",
        ),
    ] {
        let (code, out, stderr) = katabox(&args, token);
        assert!(
            code.is_some_and(|c| c != 0),
            "{args:?} exited {code:?}: {out} {stderr}"
        );
        assert!(
            out["error"].is_string(),
            "{args:?}: no JSON error document: {out}"
        );
        assert!(
            out["error"].as_str().unwrap_or("").contains(error),
            "{args:?}: {out}"
        );
    }
    let (code, out, _) = katabox(&["import", &good_path, "--server", &server], TOKEN);
    assert_eq!(code, Some(0), "{out}");
    // The same refusals from a data directory no server holds.
    let data = dir.path().join("data").to_string_lossy().into_owned();
    for (args, error) in [
        (
            vec!["import", &bad_path, "--data", &data],
            "missing properties",
        ),
        (
            vec!["webhook", "delete", "999", "--data", &data],
            "Not found",
        ),
    ] {
        let (code, out, stderr) = katabox(&args, TOKEN);
        assert_eq!(code, Some(1), "{args:?}: {out} {stderr}");
        assert!(
            out["error"].as_str().unwrap_or("").contains(error),
            "{args:?}: {out}"
        );
    }
    let (code, out, _) = katabox(&["webhook", "list", "--json", "--server", &server], TOKEN);
    assert_eq!(code, Some(0), "{out}");
}

/// (d) Event KATA that does not parse is refused when the listener is
/// created or updated (it used to give every request a 500).
#[test]
fn webhooks_with_event_kata_that_does_not_parse_are_refused() {
    let srv = Server::start(attack::bin(), &[]).expect("start");
    let bad = "automation/a:\n\turi: cerb:automation:x\n";
    let (status, out) = srv
        .api(
            "POST",
            "/api/webhooks",
            Some(&json!({"name": "bad", "automations_kata": bad})),
        )
        .expect("create");
    assert_eq!(status, 400, "{out}");
    assert_eq!(
        out["error"],
        "Invalid 'automations_kata': Indents may not use tabs (line 2)"
    );
    let (_, list) = srv.api("GET", "/api/webhooks", None).expect("list");
    assert_eq!(list["webhooks"].as_array().map(Vec::len), Some(0), "{list}");

    let good = "automation/a:\n  uri: cerb:automation:x\n";
    let (status, created) = srv
        .api(
            "POST",
            "/api/webhooks",
            Some(&json!({"name": "good", "automations_kata": good})),
        )
        .expect("create");
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_u64().unwrap_or(0);
    let (status, out) = srv
        .api(
            "PUT",
            &format!("/api/webhooks/{id}"),
            Some(&json!({"name": "good", "automations_kata": bad})),
        )
        .expect("update");
    assert_eq!(status, 400, "{out}");
    assert!(
        out["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("Invalid 'automations_kata': "),
        "{out}"
    );
    let (status, got) = srv
        .api("GET", &format!("/api/webhooks/{id}"), None)
        .expect("get");
    assert_eq!(
        (status, got["automations_kata"].as_str()),
        (200, Some(good))
    );
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o777)
}

/// (e) Under umask 022 the data directory, its `files/`, `katabox.redb`
/// and the admin-token file are private to the server's user.
#[cfg(unix)]
#[test]
fn the_data_directory_is_private_under_umask_022() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let addr = crate::support::server::free_addr();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" serve --data \"$1\" --listen \"$2\"")
        .arg(attack::bin())
        .arg(&data)
        .arg(addr.to_string())
        .env_remove("KATABOX_ADMIN_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    // An answer (401) means the data directory is open (the port is bound
    // before it).
    while crate::support::http::send(addr, "GET", "/api/webhooks", &[], b"").is_err() {
        assert!(Instant::now() < deadline, "katabox serve did not listen");
        assert!(child.try_wait().ok().flatten().is_none(), "serve exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    let modes = [
        ("data", mode(&data), 0o700),
        ("files", mode(&data.join("files")), 0o700),
        ("katabox.redb", mode(&data.join("katabox.redb")), 0o600),
        ("admin-token", mode(&data.join("admin-token")), 0o600),
    ];
    let _ = child.kill();
    let _ = child.wait();
    for (what, got, want) in modes {
        assert_eq!(got, want, "{what}: mode {got:o}, want {want:o}");
    }
}

/// Starts `katabox serve` with `args` and the token, and collects what it
/// writes on stderr until `until` matches a line, it exits, or 30 s pass.
fn serve_stderr(args: &[&str], token: Option<&str>, until: &str) -> (Vec<String>, Option<i32>) {
    let mut cmd = Command::new(attack::bin());
    cmd.arg("serve").args(args);
    match token {
        Some(t) => cmd.env("KATABOX_ADMIN_TOKEN", t),
        None => cmd.env_remove("KATABOX_ADMIN_TOKEN"),
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    let mut exited = false;
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                let done = line.contains(until);
                lines.push(line);
                if done {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                exited = true;
                break;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().ok();
    let code = if exited {
        status.and_then(|s| s.code())
    } else {
        None
    };
    (lines, code)
}

/// (f) Serving on a non-loopback address warns that the admin API is plain
/// HTTP. (The server binds 0.0.0.0 on a free port; no traffic is sent.)
#[test]
fn serving_on_a_non_loopback_address_warns_about_plain_http() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data = data.to_string_lossy().into_owned();
    let (lines, code) = serve_stderr(
        &["--data", &data, "--listen", "0.0.0.0:0"],
        Some(TOKEN),
        "plain HTTP",
    );
    assert!(code.is_none(), "serve exited {code:?}: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("warning") && l.contains("plain HTTP") && l.contains("0.0.0.0")),
        "{lines:?}"
    );
}

/// (g) The `Bearer` scheme is matched case-insensitively (RFC 9110 §11.1).
#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let srv = Server::start(attack::bin(), &[]).expect("start");
    for (auth, want) in [
        (format!("Bearer {TOKEN}"), 200),
        (format!("bearer {TOKEN}"), 200),
        (format!("BEARER {TOKEN}"), 200),
        (format!("BeArEr   {TOKEN}"), 200),
        (format!("Basic {TOKEN}"), 401),
        (format!("Bearer{TOKEN}"), 401),
        (TOKEN.to_string(), 401),
        (format!("bearer {TOKEN}x"), 401),
    ] {
        let r = srv
            .request(
                "GET",
                "/api/webhooks",
                &[("Authorization".into(), auth.clone())],
                b"",
            )
            .expect("answer");
        assert_eq!(r.status, want, "{auth:?}");
    }
}

/// (h) Admin tokens shorter than 32 characters are refused at start, from
/// the environment and from the token file.
#[test]
fn short_admin_tokens_are_refused_at_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let data_s = data.to_string_lossy().into_owned();
    let listen = crate::support::server::free_addr().to_string();
    let args = ["--data", data_s.as_str(), "--listen", listen.as_str()];
    let (lines, code) = serve_stderr(&args, Some("short-token"), "\u{1}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("KATABOX_ADMIN_TOKEN") && l.contains("at least 32")),
        "{lines:?}"
    );
    assert!(
        code.is_some_and(|c| c != 0),
        "serve did not exit non-zero: {code:?}"
    );

    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::write(data.join("admin-token"), "0123456789abcdef0123456789abcde").expect("write");
    let (lines, _) = serve_stderr(&args, None, "\u{1}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("admin-token") && l.contains("at least 32")),
        "{lines:?}"
    );
}

/// (i) `[::ffff:0:a.b.c.d]` (IPv4-translated, ::ffff:0:0/96) is judged as
/// the IPv4 address it embeds: loopback is refused by the address check.
#[test]
fn ipv4_translated_loopback_is_refused() {
    let (srv, port, seen) = attack::ssrf_server("r2.ssrf");
    for host in [
        "[::ffff:0:127.0.0.1]",
        "[::ffff:0:7f00:1]",
        "[::ffff:0:a9fe:a9fe]",
    ] {
        let url = format!("http://{host}:{port}/");
        let r = attack::hook(&srv, &guid("r2.ssrf"), url.as_bytes()).expect("answer");
        let body = body_text(&r);
        assert_eq!(r.status, 502, "{url}: {body}");
        assert!(body.contains("is not allowed"), "{url}: {body}");
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}
