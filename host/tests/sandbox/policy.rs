//! Policy KATA: the conformance vectors of kind `policy`, and unit cases.

use katabox::policy::{self, Policy, host_scripting};
use katabox_value::Value;
use std::path::PathBuf;

fn decide(
    policy_text: &str,
    command: &str,
    node_id: &str,
    inputs: &Value,
    output: Option<&str>,
) -> bool {
    let p = Policy::parse(policy_text).expect("policy parses");
    let ph = policy::placeholders(node_id, command, inputs, output, None);
    p.allows(command, &ph, host_scripting().as_ref())
}

#[test]
fn policy_conformance_vectors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/cerb/policy");
    let mut failures = Vec::new();
    let mut total = 0;
    for entry in std::fs::read_dir(&dir).expect("vector dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        total += 1;
        let text = std::fs::read_to_string(&path).expect("read");
        let v: toml::Value = toml::from_str(&text).expect("toml");
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let command = s("command").unwrap_or_default();
        let inputs =
            katabox_value::json::decode(s("inputs").unwrap_or_else(|| "{}".into()).as_bytes())
                .unwrap_or_else(Value::empty_array);
        let node_id = s("node_id").unwrap_or_else(|| format!("start:{command}"));
        let expected = v
            .get("expect")
            .and_then(|e| e.get("allowed"))
            .and_then(|a| a.as_bool());
        let got = decide(
            &s("policy").unwrap_or_default(),
            &command,
            &node_id,
            &inputs,
            s("output").as_deref(),
        );
        if Some(got) != expected {
            failures.push(
                path.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    println!(
        "policy vectors: {} passed, {} failed",
        total - failures.len(),
        failures.len()
    );
    assert!(total > 0);
    assert!(failures.is_empty(), "failing vectors: {failures:?}");
}

#[test]
fn rules_order_names_and_defaults() {
    let empty = Value::empty_array();
    // Default deny.
    assert!(!decide(
        "",
        "storage.get",
        "start:storage.get",
        &empty,
        None
    ));
    // Command rules before all:, whatever the order.
    assert!(!decide(
        "commands:\n  all:\n    allow: yes\n  storage.get:\n    deny: yes\n",
        "storage.get",
        "n",
        &empty,
        None
    ));
    // all: rule with the same name replaces the command's rule.
    assert!(decide(
        "commands:\n  http.request:\n    deny/x: yes\n  all:\n    allow/x: yes\n",
        "http.request",
        "n",
        &empty,
        None
    ));
    // Integer names do not collide.
    assert!(!decide(
        "commands:\n  http.request:\n    deny/1: yes\n  all:\n    allow/1: yes\n",
        "http.request",
        "n",
        &empty,
        None
    ));
    // @text makes "no" truthy; unannotated "no" is false.
    assert!(decide(
        "commands:\n  storage.get:\n    allow@text: no\n",
        "storage.get",
        "n",
        &empty,
        None
    ));
    assert!(!decide(
        "commands:\n  storage.get:\n    allow: no\n",
        "storage.get",
        "n",
        &empty,
        None
    ));
    // A scripting error denies at once, even with a later allow.
    assert!(!decide(
        "commands:\n  storage.get:\n    allow/a: {{ 1 +* }}\n    allow/b: yes\n",
        "storage.get",
        "n",
        &empty,
        None
    ));
}

#[test]
fn static_check_and_messages() {
    let p = Policy::parse("commands:\n  storage.get:\n    deny: yes\n").expect("parses");
    assert!(!p.may_allow("storage.get"));
    assert!(!p.may_allow("http.request"));
    let p = Policy::parse("commands:\n  all:\n    allow: yes\n").expect("parses");
    assert!(p.may_allow("queue.pop"));
    assert_eq!(
        policy::denial_message("queue.pop"),
        "The automation policy does not allow this command (queue.pop)."
    );
    assert_eq!(
        policy::denial_message("function"),
        "The automation policy does not allow the `function:` command."
    );
}

#[test]
fn time_limit_setting() {
    let t = |s: &str| Policy::parse(s).expect("parses").time_limit_ms();
    assert_eq!(t(""), 25_000);
    assert_eq!(t("settings:\n  time_limit_ms: 500\n"), 500);
    assert_eq!(t("settings:\n  time_limit_ms: 1.5e3\n"), 1_500);
    assert_eq!(t("settings:\n  time_limit_ms@int: 500\n"), 25_000);
    assert_eq!(t("settings:\n  time_limit_ms: 0\n"), 25_000);
    assert_eq!(t("settings:\n  time_limit_ms: abc\n"), 25_000);
    assert_eq!(t("settings:\n  time_limit_ms: 999999\n"), 120_000);
    assert_eq!(t("settings:\n  time_limit_ms: -5\n"), 0);
}

#[test]
fn callers_named_rules_never_match() {
    let s = host_scripting();
    let empty = Value::empty_array();
    let p =
        Policy::parse("callers:\n  all:\n    allow/owners: yes\n    deny: yes\n").expect("parses");
    assert!(!p.allows_caller("cerb.toolbar.x", &empty, s.as_ref()));
    let p = Policy::parse("callers:\n  all:\n    allow: yes\n").expect("parses");
    assert!(p.allows_caller("cerb.toolbar.x", &empty, s.as_ref()));
    assert!(
        Policy::parse("")
            .expect("parses")
            .allows_caller("x", &empty, s.as_ref())
    );
}
