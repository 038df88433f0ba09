//! Hostile automations and templates through the real CLI
//! (`katabox automation run`), and policy bypass attempts: every run ends
//! (no crash, no hang) and the ones that hit a limit say which.

use crate::support::attack::{CliRun, cli_run};
use std::time::Duration;

/// Every hostile run must end well within this (the default time limit is
/// far below it; this only catches hangs).
const HANG: Duration = Duration::from_secs(60);

fn run(script: &str, inputs: Option<&[u8]>, policy: Option<&str>) -> CliRun {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = cli_run(dir.path(), script, inputs, policy);
    assert_eq!(r.signal, None, "killed by a signal; stderr: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    assert!(r.took < HANG, "took {:?}", r.took);
    r
}

/// Runs a script that must stop with an `error` exit naming a limit.
fn stopped(script: &str, limit_words: &[&str]) -> CliRun {
    let r = run(script, None, None);
    assert!(
        r.success,
        "the CLI reports a stopped run as JSON: {}",
        r.stderr
    );
    assert_eq!(r.exit(), "error", "out: {}", r.out);
    let e = r.error();
    assert!(
        limit_words.iter().any(|w| e.contains(w)),
        "error {e:?} names none of {limit_words:?}"
    );
    r
}

#[test]
fn an_endless_while_stops_at_the_step_limit() {
    stopped(
        "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: 1\n",
        &["steps", "timed out"],
    );
}

#[test]
fn exponential_string_growth_is_stopped() {
    let r = stopped(
        "start:\n  set:\n    s: ab\n  while:\n    if@bool: yes\n    do:\n      set:\n        s@text: {{s}}{{s}}{{s}}{{s}}\n",
        &["steps", "timed out", "memory"],
    );
    // The string never grows past the template output limit.
    let s = r.out["dict"]["s"].as_str().unwrap_or("");
    assert!(s.len() < 64 << 20, "{} bytes", s.len());
}

#[test]
fn unbounded_list_growth_hits_the_memory_limit() {
    let each: Vec<String> = (1..=400).map(|i| i.to_string()).collect();
    let script = format!(
        "start:\n  set:\n    s@text: {{{{ \"x\"|repeat(1000000) }}}}\n  repeat:\n    each@csv: {}\n    as: i\n    do:\n      var.push:\n        inputs:\n          key: l\n          value@key: s\n",
        each.join(",")
    );
    stopped(&script, &["memory limit"]);
}

#[test]
fn a_huge_repeat_and_range_are_bounded() {
    // range() past the scripting limit renders nothing: the loop has no items.
    let r = run(
        "start:\n  repeat:\n    each@json: {{range(1,100000000)|json_encode}}\n    as: v\n    do:\n      set:\n        x: 1\n",
        None,
        None,
    );
    assert!(r.took < Duration::from_secs(20), "took {:?}", r.took);
    assert!(matches!(r.exit(), "exit" | "error"), "out: {}", r.out);
}

#[test]
fn catastrophic_backtracking_patterns_run_in_linear_time() {
    // (a+)+$ against "aaaa…!" is exponential for a backtracking engine.
    for expr in [
        r#"{{ ("a"|repeat(50000) ~ "!") matches "/^(a+)+$/" ? "y" : "n" }}"#,
        r#"{{ ("a"|repeat(50000) ~ "!")|regexp("/^(a|aa)+$/") }}"#,
        r#"{{ ("x"|repeat(50000))|regexp("/(x+x+)+y/") }}"#,
    ] {
        let r = run(
            &format!("start:\n  return:\n    r@text: {expr}\n"),
            None,
            None,
        );
        assert_eq!(r.exit(), "return", "{expr}: {}", r.out);
        assert!(r.took < Duration::from_secs(10), "{expr} took {:?}", r.took);
        let got = r.out["return"]["r"].as_str().unwrap_or("?");
        assert!(got == "n" || got.is_empty(), "{expr} matched: {got:?}");
    }
}

#[test]
fn deep_nesting_in_kata_templates_and_json_is_refused_cleanly() {
    // KATA nested 20,000 levels deep.
    let mut kata = String::from("start:\n  set:\n");
    for depth in 0..20_000 {
        kata.push_str(&" ".repeat(4 + depth));
        kata.push_str("a:\n");
    }
    let r = run(&kata, None, None);
    assert!(r.success || !r.stderr.is_empty(), "no answer at all");
    // Parentheses nested 50,000 deep in a template.
    let expr = format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000));
    let r = run(
        &format!("start:\n  return:\n    r@text: {{{{ {expr} }}}}\n"),
        None,
        None,
    );
    assert!(r.success, "stderr: {}", r.stderr);
    assert_ne!(
        r.out["return"]["r"],
        serde_json::json!("1"),
        "50,000 levels evaluated"
    );
    // JSON nested 100,000 deep, decoded in the script.
    let inputs =
        serde_json::json!({"inp": format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))});
    let r = run(
        "start:\n  return:\n    r@text: {{ inp|json_decode|json_encode }}\n",
        Some(inputs.to_string().as_bytes()),
        None,
    );
    assert!(r.success, "stderr: {}", r.stderr);
}

#[test]
fn a_huge_json_decode_input_is_bounded() {
    // 8 MB of JSON numbers as an input, decoded twice.
    let list: Vec<String> = (0..1_000_000).map(|i| i.to_string()).collect();
    let inputs = serde_json::json!({"inp": format!("[{}]", list.join(","))});
    let r = run(
        "start:\n  set:\n    a@json: {{ inp }}\n    b@text: {{ inp|json_decode|length }}\n  return:\n    n@key: b\n",
        Some(inputs.to_string().as_bytes()),
        None,
    );
    assert!(r.success, "stderr: {}", r.stderr);
    assert!(matches!(r.exit(), "return" | "error"), "out: {}", r.out);
    if r.exit() == "error" {
        assert!(
            r.error().contains("limit") || r.error().contains("timed out"),
            "{}",
            r.error()
        );
    }
}

#[test]
fn ten_megabyte_outputs_are_returned_or_refused_by_a_limit() {
    for size in [10 << 20, 100 << 20] {
        let r = run(
            &format!("start:\n  return:\n    body@text: {{{{ \"x\"|repeat({size}) }}}}\n"),
            None,
            None,
        );
        assert!(r.success, "stderr: {}", r.stderr);
        match r.exit() {
            "return" => {
                let body = &r.out["return"]["body"];
                // Either the whole body, or the scripting output limit's `false`.
                let ok = body.as_str().is_some_and(|s| s.len() == size)
                    || body == &serde_json::json!(false);
                assert!(ok, "{size}: a truncated body");
            }
            "error" => assert!(r.error().contains("limit"), "{}", r.error()),
            other => panic!("exit {other}"),
        }
    }
}

#[test]
fn invalid_utf8_inputs_are_refused_and_emoji_round_trip() {
    // Raw invalid UTF-8 in the inputs file: a clear CLI error, no panic.
    let r = run(
        "start:\n  return:\n    r@key: a\n",
        Some(b"{\"a\": \"\xff\xfe\xc3\x28\"}"),
        None,
    );
    assert!(!r.success, "accepted invalid UTF-8: {}", r.out);
    assert!(!r.stderr.trim().is_empty(), "no error message");
    // An escaped lone surrogate is not valid JSON either (as in PHP).
    let r = run(
        "start:\n  return:\n    r@key: a\n",
        Some(b"{\"a\": \"\\ud800x\"}"),
        None,
    );
    assert!(!r.success, "accepted a lone surrogate: {}", r.out);
    assert!(r.stderr.contains("not valid JSON"), "stderr: {}", r.stderr);
    // Emoji, RTL marks and NUL reach the script intact.
    let emoji = "😀🏳️‍🌈 é ñ 日本 \u{202e}rtl \u{0}nul";
    let inputs = serde_json::json!({"a": emoji, "k": {emoji: emoji}});
    let r = run(
        "start:\n  return:\n    r@key: a\n    u@text: {{ a|upper|reverse|length }}\n    k@key: k\n",
        Some(inputs.to_string().as_bytes()),
        None,
    );
    assert!(r.success, "stderr: {}", r.stderr);
    assert_eq!(r.exit(), "return", "out: {}", r.out);
    assert_eq!(r.out["return"]["r"], serde_json::json!(emoji));
    assert_eq!(r.out["return"]["k"][emoji], serde_json::json!(emoji));
}

#[test]
fn emoji_and_control_bytes_in_scripts_never_crash() {
    for script in [
        "start:\n  return:\n    😀: 🏳️‍🌈\n",
        "start:\n  set/😀:\n    k😀@text: {{ '😀'|split('')|join('|') }}\n",
        "st\u{0}art:\n  return:\n    a: b\n",
        "start:\n  return:\n    a@text: {{ \"\\xff\\xfe\"|url_encode }}\n",
        "\u{feff}start:\n  return:\n    a: \u{202e}b\n",
    ] {
        run(script, None, None);
    }
}

/// Every gated command, with valid inputs, and no policy: Cerb's denial.
#[test]
fn every_gated_command_is_denied_without_a_policy() {
    let cases: &[(&str, &str)] = &[
        (
            "http.request",
            "    output: o\n    inputs:\n      url: http://127.0.0.1:9/\n",
        ),
        ("storage.get", "    output: o\n    inputs:\n      key: k\n"),
        ("storage.set", "    inputs:\n      key: k\n      value: v\n"),
        ("storage.delete", "    inputs:\n      key: k\n"),
        (
            "queue.push",
            "    output: o\n    inputs:\n      queue_name: q\n      messages@list:\n        a\n",
        ),
        (
            "queue.pop",
            "    output: o\n    inputs:\n      queue_name: q\n",
        ),
        ("metric.increment", "    inputs:\n      metric_name: m\n"),
        ("file.read", "    inputs:\n      uri: cerb:resource:x\n"),
        ("file.write", "    inputs:\n      content: hi\n"),
        ("function", "    uri: cerb:automation:x\n"),
    ];
    for policy in [None, Some("commands:\n  all:\n    allow@text:\n")] {
        for (cmd, params) in cases {
            let r = run(&format!("start:\n  {cmd}:\n{params}"), None, policy);
            let want = if *cmd == "function" {
                "The automation policy does not allow the `function:` command.".to_string()
            } else {
                format!("The automation policy does not allow this command ({cmd}).")
            };
            assert_eq!(r.exit(), "error", "{cmd} under {policy:?}: {}", r.out);
            assert_eq!(r.error(), want, "{cmd} under {policy:?}");
        }
    }
}

#[test]
fn policy_tricks_do_not_allow_commands() {
    // Named command children, callers' rules, policies built from inputs:
    // none of them may open storage.set.
    let script = "start:\n  storage.set:\n    inputs:\n      key: k\n      value: v\n";
    for policy in [
        "commands:\n  storage.set/x:\n    allow: yes\n",
        "commands:\n  storage.set: yes\n",
        "commands:\n  Storage.Set:\n    allow: yes\n",
        "commands:\n  storage.*:\n    allow: yes\n",
        "callers:\n  all:\n    allow: yes\n",
        "commands:\n  storage.set:\n    allow/x@bool: {{ inputs.key == 'other' }}\n",
        "commands:\n  storage.set:\n    deny: yes\n    allow: yes\n",
        "commands:\n  all:\n    deny: yes\n  storage.set:\n    deny/y: yes\n",
        "settings:\n  allow: yes\n",
    ] {
        let r = run(script, None, Some(policy));
        assert_eq!(
            r.exit(),
            "error",
            "{policy:?} opened storage.set: {}",
            r.out
        );
        assert_eq!(
            r.error(),
            "The automation policy does not allow this command (storage.set).",
            "{policy:?}"
        );
    }
}
