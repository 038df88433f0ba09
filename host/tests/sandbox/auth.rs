//! `http.request` with `authentication:` (Cerb's connected accounts): the
//! host adds the account's header to the outgoing request; the secret never
//! reaches the script, its output or the run's logs. Loopback only.

use katabox::capabilities::MemoryStore;
use katabox::capabilities::http::OutboundAuth;
use katabox::capabilities::http::address::AddressPolicy;
use katabox::sandbox::{
    AutomationRecord, HttpConfig, NoAutomations, RUNTIME_IS_FALLBACK, RunOptions, Sandbox,
    SandboxConfig,
};
use katabox_value::Value;
use katabox_verify::outbound::Accounts;
use katabox_verify::{Secret, Secrets};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const SECRET: &str = "s3cr3t-token-value-9f2c";

/// A loopback server that keeps the raw request it receives.
fn capture() -> (u16, Arc<Mutex<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(String::new()));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            if let Ok(mut g) = s2.lock() {
                g.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            );
        }
    });
    (port, seen)
}

fn sandbox() -> Sandbox {
    let mut secrets = Secrets::new();
    secrets
        .insert("api_token", Secret::new(SECRET.as_bytes()))
        .expect("valid secret name");
    let accounts = Accounts::from_toml_str(
        "[api]\ntype = \"bearer\"\nsecret = \"api_token\"\n\n[custom]\ntype = \"header\"\nheader = \"X-Api-Key\"\nsecret = \"api_token\"\n",
    )
    .expect("accounts parse");
    let http = HttpConfig {
        addresses: AddressPolicy {
            allow_hosts: vec!["127.0.0.1".into()],
            allow_networks: vec![],
        },
        auth: OutboundAuth {
            accounts: Arc::new(accounts),
            secrets: Arc::new(secrets),
        },
        ..HttpConfig::default()
    };
    Sandbox::new(
        SandboxConfig::default(),
        Arc::new(MemoryStore::new()),
        Arc::new(NoAutomations),
        http,
    )
    .expect("sandbox builds")
}

fn script(port: u16, account: &str) -> AutomationRecord {
    AutomationRecord {
        name: "auth".into(),
        extension_id: "cerb.trigger.automation.function".into(),
        script: format!(
            "start:\n  http.request/call:\n    inputs:\n      method: GET\n      url: http://127.0.0.1:{port}/x\n      authentication: cerb:connected_account:{account}\n    output: resp\n    on_error:\n      return:\n        failed@key: resp:error\n  return:\n    status@key: resp:status_code\n    body@key: resp:body\n"
        ),
        policy_kata: "commands:\n  http.request:\n    allow@bool: yes\n".into(),
        component: None,
    }
}

fn everything_the_run_shows(r: &katabox::sandbox::RunResult) -> String {
    let dict = katabox_value::json::encode(&r.dict, &katabox_value::json::JsonOptions::plain())
        .unwrap_or_default();
    format!("{dict} {:?} {:?}", r.logs, r.failure)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_adds_the_accounts_header_and_the_script_never_sees_it() {
    if RUNTIME_IS_FALLBACK {
        eprintln!("skipped: the KATA runtime is not embedded in this build");
        return;
    }
    let sb = sandbox();
    for (account, header) in [
        ("api", format!("authorization: Bearer {SECRET}")),
        ("custom", format!("x-api-key: {SECRET}")),
    ] {
        let (port, seen) = capture();
        let r = sb
            .run(
                &script(port, account),
                Value::empty_array(),
                RunOptions::default(),
            )
            .await;
        assert_eq!(r.exit, "return", "{:?}", r.failure);
        let got = seen.lock().expect("lock").to_ascii_lowercase();
        assert!(
            got.contains(&header.to_ascii_lowercase()),
            "request was: {got}"
        );
        let ret = r.dict.get("__return").cloned().unwrap_or_default();
        assert_eq!(
            ret.get("status").map(katabox_value::convert::to_int),
            Some(200)
        );
        assert!(!everything_the_run_shows(&r).contains(SECRET));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_account_is_a_command_error_and_sends_nothing() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let sb = sandbox();
    let (port, seen) = capture();
    let r = sb
        .run(
            &script(port, "nope"),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    let ret = r.dict.get("__return").cloned().unwrap_or_default();
    let failed = ret
        .get("failed")
        .map(|v| v.to_string_lossy())
        .unwrap_or_default();
    assert!(
        failed.contains("Unknown account for authentication"),
        "got {}",
        everything_the_run_shows(&r)
    );
    assert!(seen.lock().expect("lock").is_empty());
}
