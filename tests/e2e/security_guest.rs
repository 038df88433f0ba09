//! A guest component calling the host's imports directly (the sandbox's
//! probe guest, `host/tests/guests/probe`), bypassing the KATA runtime:
//! with no policy every import is denied with Cerb's text; with every
//! command allowed, hostile inputs get command errors, never a crash or a
//! path outside the host's own data.

use crate::sandbox_support::*;
use katabox::sandbox::{HttpConfig, RunOptions, SandboxConfig};
use katabox_value::{Array, Value};

fn envelope(inputs: Value, output: Option<&str>, uri: Option<&str>) -> Value {
    let mut a = Array::new();
    if !inputs.is_null() {
        a.insert("inputs", inputs);
    }
    if let Some(o) = output {
        a.insert("output", Value::str(o));
    }
    if let Some(u) = uri {
        a.insert("uri", Value::str(u));
    }
    Value::array(a)
}

/// A valid call of every gated import.
fn valid_calls() -> Vec<(&'static str, Value)> {
    let s = Value::str;
    vec![
        (
            "http.request",
            envelope(map(&[("url", s("http://127.0.0.1:9/"))]), Some("o"), None),
        ),
        (
            "storage.get",
            envelope(map(&[("key", s("k"))]), Some("o"), None),
        ),
        (
            "storage.set",
            envelope(map(&[("key", s("k")), ("value", s("v"))]), None, None),
        ),
        (
            "storage.delete",
            envelope(map(&[("key", s("k"))]), None, None),
        ),
        (
            "queue.push",
            envelope(
                map(&[("queue_name", s("q")), ("messages", map(&[("0", s("m"))]))]),
                Some("o"),
                None,
            ),
        ),
        (
            "queue.pop",
            envelope(map(&[("queue_name", s("q"))]), Some("o"), None),
        ),
        (
            "metric.increment",
            envelope(map(&[("metric_name", s("m"))]), None, None),
        ),
        (
            "file.read",
            envelope(map(&[("uri", s("cerb:resource:x"))]), None, None),
        ),
        (
            "file.write",
            envelope(map(&[("content", s("hi"))]), None, None),
        ),
        (
            "function",
            envelope(Value::empty_array(), Some("o"), Some("cerb:automation:x")),
        ),
    ]
}

#[tokio::test]
async fn direct_import_calls_are_denied_without_a_policy() {
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    for policy in [
        "",
        "commands:\n  all:\n    deny: yes\n",
        "callers:\n  all:\n    allow: yes\n",
    ] {
        for (cmd, payload) in valid_calls() {
            let r = sb
                .run(
                    &record(&format!("call {cmd}"), policy),
                    with_payload(payload),
                    RunOptions::default(),
                )
                .await;
            let want = if cmd == "function" {
                "The automation policy does not allow the `function:` command.".to_string()
            } else {
                format!("The automation policy does not allow this command ({cmd}).")
            };
            let got = r.dict.get("error").map(|v| v.to_string_lossy());
            assert_eq!(
                got.as_deref(),
                Some(want.as_str()),
                "{cmd} under {policy:?}"
            );
            assert!(r.dict.get("result").is_none(), "{cmd} returned a result");
        }
    }
}

#[tokio::test]
async fn a_denied_storage_set_writes_nothing() {
    let data = std::sync::Arc::new(katabox::capabilities::MemoryStore::new());
    let sb = probe_sandbox_with(SandboxConfig::default(), HttpConfig::default(), data);
    let set = envelope(
        map(&[("key", Value::str("k")), ("value", Value::str("v"))]),
        None,
        None,
    );
    let r = sb
        .run(
            &record("call storage.set", ""),
            with_payload(set),
            RunOptions::default(),
        )
        .await;
    assert!(r.dict.get("error").is_some());
    let get = envelope(
        map(&[("key", Value::str("k")), ("default", Value::str("NONE"))]),
        Some("o"),
        None,
    );
    let r = sb
        .run(
            &record("call storage.get", ALLOW_ALL),
            with_payload(get),
            RunOptions::default(),
        )
        .await;
    assert_eq!(
        r.dict.get("result").map(|v| v.to_string_lossy()).as_deref(),
        Some("NONE"),
        "the denied write reached the store: {:?}",
        r.dict.get("error")
    );
}

/// Values a hostile guest can hand an import: deep nesting, huge and
/// binary strings, integer keys, traversal paths.
fn hostile_values() -> Vec<Value> {
    let mut deep = Value::str("x");
    for _ in 0..400 {
        let mut a = Array::new();
        a.insert("a", deep);
        deep = Value::array(a);
    }
    let mut int_keys = Array::new();
    int_keys.insert(7i64, Value::Int(i64::MIN));
    int_keys.insert(-1i64, Value::Float(f64::NAN));
    vec![
        Value::Null,
        Value::Bool(true),
        Value::Float(f64::INFINITY),
        Value::str(""),
        Value::str("x".repeat(3 << 20)),
        Value::bytes([0xff, 0xfe, 0, 0xc3]),
        Value::str("../../../../etc/passwd"),
        Value::str("cerb:automation_resource:../../../etc/passwd"),
        Value::str("cerb:resource:/etc/passwd"),
        Value::str("file:///etc/passwd"),
        Value::array(int_keys),
        deep,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inputs_to_allowed_imports_get_command_errors() {
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    let fields = [
        "key",
        "value",
        "queue_name",
        "messages",
        "metric_name",
        "uri",
        "content",
        "name",
    ];
    let mut calls = 0;
    for (cmd, _) in valid_calls() {
        if cmd == "http.request" {
            continue; // network; covered by the SSRF tests
        }
        for v in hostile_values() {
            for field in fields {
                let inputs = map(&[(field, v.clone())]);
                for payload in [
                    envelope(inputs, Some("o"), Some("cerb:automation:x")),
                    v.clone(),
                ] {
                    let r = sb
                        .run(
                            &record(&format!("call {cmd}"), ALLOW_ALL),
                            with_payload(payload),
                            RunOptions::default(),
                        )
                        .await;
                    calls += 1;
                    assert!(
                        r.exit == "exit" || r.exit == "error",
                        "{cmd}/{field}: exit {}",
                        r.exit
                    );
                    if let Some(Value::Str(s)) = r.dict.get("result").and_then(|x| x.get("bytes")) {
                        assert!(
                            !s.as_bytes().starts_with(b"root:"),
                            "{cmd} read /etc/passwd"
                        );
                    }
                }
            }
        }
    }
    eprintln!("direct hostile import calls: {calls}");
    // The sandbox still serves a normal run.
    let r = sb
        .run(
            &record("return", ""),
            with_payload(Value::str("ok")),
            RunOptions::default(),
        )
        .await;
    assert_eq!(r.exit, "return");
}
