//! Unit tests for the interpreter's trickier semantics (automations.md).

mod support;

use katabox_runtime::{Limits, LogLevel, Outcome, RunRequest};
use katabox_value::{Array, Value};
use support::{TestHost, json};

const ALLOW_ALL: &str = "commands:\n  all:\n    allow@bool: yes\n";

fn engine() -> katabox_twig::Engine {
    katabox_twig::Engine::new(katabox_twig::Config::default())
}

fn run_in(host: &mut TestHost<'_>, script: &str, dict: &str) -> Outcome {
    let scripting = host.scripting;
    katabox_runtime::run(
        RunRequest {
            trigger: "cerb.trigger.automation.function".into(),
            automation: "test".into(),
            script: script.into(),
            dict: json(dict),
        },
        host,
        scripting,
    )
}

fn run(script: &str, dict: &str) -> Outcome {
    let e = engine();
    let mut host = TestHost::new(&e, Some(ALLOW_ALL.into()));
    run_in(&mut host, script, dict)
}

fn ret(o: &Outcome, key: &str) -> Value {
    o.dict
        .get("__return")
        .and_then(|r| r.get(key))
        .cloned()
        .unwrap_or(Value::str("<absent>"))
}

fn failure(o: &Outcome) -> String {
    o.failure.clone().unwrap_or_default()
}

#[test]
fn set_evaluates_keys_in_order() {
    let o = run(
        "start:\n  set:\n    a: 1\n    b: {{a + 1}}\n  return:\n    b@key: b\n",
        "{}",
    );
    assert_eq!(o.exit(), "return");
    assert_eq!(ret(&o, "b"), Value::str("2"));
}

#[test]
fn set_keys_are_literal_not_paths() {
    let o = run("start:\n  set:\n    user.name: Joe\n", "{}");
    assert_eq!(o.exit(), "exit");
    assert_eq!(o.dict.get("user.name"), Some(&Value::str("Joe")));
    assert!(o.dict.get("user").is_none());
}

#[test]
fn await_saves_state_and_resume_continues_after_it() {
    let script = "start:\n  set/a:\n    first: yes\n  await:\n    form: ask\n  return:\n    answer@key: answer\n    first@key: first\n";
    let first = run(script, "{}");
    assert_eq!(first.exit(), "await");
    assert_eq!(ret(&first, "form"), Value::str("ask"));
    assert!(
        first
            .dict
            .get("__state")
            .is_some_and(|s| s.get("next").is_some())
    );
    let mut dict = first.dict.as_array().cloned().unwrap_or_default();
    dict.insert("answer", Value::str("42"));
    let e = engine();
    let mut host = TestHost::new(&e, None);
    let second = katabox_runtime::run(
        RunRequest {
            script: script.into(),
            dict: Value::array(dict),
            ..RunRequest::default()
        },
        &mut host,
        &e,
    );
    assert_eq!(second.exit(), "return");
    assert_eq!(ret(&second, "answer"), Value::str("42"));
    assert_eq!(ret(&second, "first"), Value::str("yes"));
}

#[test]
fn resume_inside_a_loop_keeps_the_loop_position() {
    let script = "start:\n  repeat:\n    each@csv: a,b,c\n    as: v\n    do:\n      var.push:\n        inputs:\n          key: seen\n          value: {{v}}\n      await:\n        at: {{v}}\n  return:\n    seen@key: seen\n";
    let e = engine();
    let mut host = TestHost::new(&e, None);
    let mut o = run_in(&mut host, script, "{}");
    let mut awaits = Vec::new();
    while o.exit() == "await" && awaits.len() < 10 {
        awaits.push(ret(&o, "at").to_string_lossy());
        let dict = o.dict.clone();
        o = katabox_runtime::run(
            RunRequest {
                script: script.into(),
                dict,
                ..RunRequest::default()
            },
            &mut host,
            &e,
        );
    }
    assert_eq!(awaits, ["a", "b", "c"]);
    assert_eq!(o.exit(), "return");
    assert_eq!(
        ret(&o, "seen"),
        Value::list(["a", "b", "c"].map(Value::str))
    );
}

#[test]
fn build_errors_have_cerbs_texts() {
    let cases = [
        (
            "foo:\n  x: 1\nstart:\n",
            "Unexpected command `foo:`. Expected `start:`",
        ),
        ("start: some text\n", "Unexpected command `start::`"),
        ("start:\n  bogus:\n", "Unexpected command `start:bogus:`"),
        (
            "start:\n  decision/d:\n    nope/x:\n",
            "Unexpected command `start:decision/d:nope:`. Expected `outcome:`",
        ),
        (
            "start:\n  outcome:\n    else:\n",
            "Unexpected command `start:outcome:else:`. Expected `if:` or `then:`",
        ),
        (
            "start:\n  repeat:\n    over: x\n",
            "Unexpected command `start:repeat:over:`. Expected `each:`, `as:`, or `do:`",
        ),
        (
            "start:\n  while:\n    each: x\n",
            "Unexpected command `start:while:each:`. Expected `if:` or `do:`",
        ),
        (
            "start:\n  repeat:\n    do:\n      bogus:\n",
            "Unexpected command `start:repeat:do:bogus:`",
        ),
        (
            "start:\n  set:\n    on_error:\n      bogus:\n",
            "Unexpected command `start:set:on_error:bogus:`",
        ),
        ("start/x:\n  return:\n", "No `start:` node was found."),
    ];
    for (script, want) in cases {
        let o = run(script, "{}");
        assert_eq!(o.exit(), "error", "{script}");
        assert_eq!(failure(&o), want, "{script}");
    }
}

#[test]
fn unknown_keys_in_then_are_ignored() {
    let o = run(
        "start:\n  outcome:\n    then:\n      bogus: 1\n      return:\n        ok: yes\n",
        "{}",
    );
    assert_eq!(o.exit(), "return");
    assert_eq!(ret(&o, "ok"), Value::str("yes"));
}

#[test]
fn start_named_and_plain_only_plain_runs() {
    let o = run(
        "start/x:\n  return:\n    which: named\nstart:\n  return:\n    which: plain\n",
        "{}",
    );
    assert_eq!(ret(&o, "which"), Value::str("plain"));
}

#[test]
fn node_ids_reach_the_host_and_errors() {
    let e = engine();
    let mut host = TestHost::new(&e, None);
    let o = run_in(
        &mut host,
        "start:\n  decision:\n    outcome/yes:\n      then:\n        http.request/get:\n          output: r\n          inputs:\n            url: https://x.example/\n",
        "{}",
    );
    assert_eq!(o.exit(), "error");
    assert_eq!(
        failure(&o),
        "The automation policy does not allow this command (http.request)."
    );
    assert_eq!(
        host.calls.first().map(|c| c.1.as_str()),
        Some("start:decision:outcome/yes:then:http.request/get")
    );
    let at = o
        .dict
        .get("__error")
        .and_then(|e| e.get("at"))
        .map(Value::to_string_lossy);
    assert_eq!(
        at.as_deref(),
        Some("start:decision:outcome/yes:then:http.request/get")
    );
}

#[test]
fn events_nested_in_inputs_are_extracted() {
    let o = run(
        "start:\n  var.set:\n    output: out\n    inputs:\n      value: x\n      on_error:\n        return:\n          err@key: out:error\n",
        "{}",
    );
    assert_eq!(o.exit(), "return");
    assert_eq!(ret(&o, "err"), Value::str("`inputs:key:` is required."));
}

#[test]
fn error_inside_on_error_fails_with_its_text() {
    let o = run(
        "start:\n  var.push:\n    inputs:\n      value: 1\n    on_error:\n      error: Handled then failed\n",
        "{}",
    );
    assert_eq!(o.exit(), "error");
    assert_eq!(failure(&o), "Handled then failed");
}

#[test]
fn error_without_message_uses_default() {
    for script in ["start:\n  error:\n", "start:\n  error:\n    message: hi\n"] {
        let o = run(script, "{}");
        assert_eq!(failure(&o), "An unexpected error occurred.", "{script}");
    }
}

#[test]
fn helpdesk_commands_are_catchable_errors() {
    let o = run(
        "start:\n  record.get:\n    output: rec\n    inputs:\n      record_type: ticket\n      record_id: 1\n    on_error:\n      return:\n        err@key: rec:error\n",
        "{}",
    );
    assert_eq!(o.exit(), "return");
    assert_eq!(
        ret(&o, "err"),
        Value::str("`record.get` is not available in katabox")
    );
    let o = run("start:\n  data.query:\n    inputs:\n      query: x\n", "{}");
    assert_eq!(failure(&o), "`data.query` is not available in katabox");
}

#[test]
fn simulate_error_goes_to_on_error() {
    let o = run(
        "start:\n  http.request:\n    output: r\n    inputs:\n      url: https://x.example/\n    on_simulate:\n      simulate.error:\n        error: boom\n    on_error:\n      return:\n        e@key: r:error\n",
        r#"{"__simulate": 1}"#,
    );
    assert_eq!(o.exit(), "return");
    assert_eq!(ret(&o, "e"), Value::str("boom"));
}

#[test]
fn on_simulate_ignored_without_simulate() {
    let e = engine();
    let mut host = TestHost::new(&e, Some(ALLOW_ALL.into()));
    let o = run_in(
        &mut host,
        "start:\n  storage.set:\n    inputs:\n      key: k\n      value: v\n    on_simulate:\n      simulate.success:\n        x: 1\n",
        "{}",
    );
    assert_eq!(o.exit(), "exit");
    assert_eq!(host.storage.get("k"), Some(&Value::str("v")));
}

#[test]
fn log_writes_only_inline_messages_at_their_levels() {
    let e = engine();
    let mut host = TestHost::new(&e, None);
    let o = run_in(
        &mut host,
        "start:\n  log: one\n  log.warn: two\n  log.error: three\n  log.alert: four\n  log/map:\n    message: ignored\n  log/zero: 0\n",
        "{}",
    );
    assert_eq!(o.exit(), "exit");
    let got: Vec<(LogLevel, &str, &str)> = host
        .logs
        .iter()
        .map(|(l, n, m)| (*l, n.as_str(), m.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (LogLevel::Debug, "start:log", "one"),
            (LogLevel::Warn, "start:log.warn", "two"),
            (LogLevel::Error, "start:log.error", "three"),
            (LogLevel::Alert, "start:log.alert", "four"),
        ]
    );
}

#[test]
fn scripting_errors_are_logged_and_become_false() {
    let e = engine();
    let mut host = TestHost::new(&e, None);
    let o = run_in(&mut host, "start:\n  set:\n    x: {{ 1 + }}\n", "{}");
    assert_eq!(o.exit(), "exit");
    assert_eq!(o.dict.get("x"), Some(&Value::Bool(false)));
    assert!(
        host.logs.iter().any(|(l, n, m)| *l == LogLevel::Error
            && n == "start:set:x"
            && m.starts_with("Scripting error: ")),
        "{:?}",
        host.logs
    );
}

#[test]
fn repeat_removes_its_variables_and_snapshots_items() {
    let o = run(
        "start:\n  set:\n    items@csv: a,b\n  repeat:\n    each@key: items\n    as: v\n    do:\n      var.push:\n        inputs:\n          key: items\n          value: more\n      var.push/idx:\n        inputs:\n          key: seen\n          value: {{v__index}}={{v}}\n",
        "{}",
    );
    assert_eq!(o.exit(), "exit");
    assert_eq!(
        o.dict.get("seen"),
        Some(&Value::list([Value::str("0=a"), Value::str("1=b")]))
    );
    assert!(o.dict.get("v").is_none() && o.dict.get("v__index").is_none());
}

#[test]
fn repeat_requires_a_string_as() {
    assert_eq!(
        failure(&run("start:\n  repeat:\n    each@csv: a\n    do:\n", "{}")),
        "`as:` is required."
    );
    assert_eq!(
        failure(&run(
            "start:\n  repeat:\n    each@csv: a\n    as:\n    do:\n",
            "{}"
        )),
        "`as:` must be a string."
    );
}

#[test]
fn while_rechecks_before_every_child() {
    let o = run(
        "start:\n  set:\n    flag: 1\n  while:\n    if@bool: {{flag}}\n    do:\n      set/a:\n        flag: 0\n      set/b:\n        reached: yes\n",
        "{}",
    );
    assert_eq!(o.exit(), "exit");
    assert!(o.dict.get("reached").is_none());
}

#[test]
fn runaway_loops_stop_at_the_step_limit() {
    let e = engine();
    let mut host = TestHost::new(&e, None);
    let o = katabox_runtime::run_with(
        RunRequest {
            script: "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: 1\n"
                .into(),
            dict: Value::empty_array(),
            ..RunRequest::default()
        },
        &mut host,
        &e,
        &Limits {
            max_steps: 1000,
            ..Limits::default()
        },
    );
    assert_eq!(o.exit(), "error");
    assert!(o.failure.is_none());
    assert!(o.dict.get("__error").is_some_and(|e| e.as_str().is_some()));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let mut script = String::new();
    for depth in 0..200 {
        script.push_str(&"  ".repeat(depth));
        script.push_str("start:\n");
    }
    let o = run(&script, "{}");
    assert_eq!(o.exit(), "error");
}

#[test]
fn gated_commands_reach_the_host_and_store_output() {
    let e = engine();
    let mut host = TestHost::new(&e, Some(ALLOW_ALL.into()));
    host.functions.insert(
        "example.double".into(),
        "inputs:\n  text/n:\nstart:\n  return:\n    doubled: {{inputs.n * 2}}\n".into(),
    );
    let o = run_in(
        &mut host,
        "start:\n  storage.set:\n    inputs:\n      key: greeting\n      value: hello\n  storage.get:\n    output: got\n    inputs:\n      key: greeting\n  function:\n    uri: cerb:automation:example.double\n    inputs:\n      n: 21\n    output: fn\n  return:\n    got@key: got\n    doubled@key: fn:doubled\n",
        "{}",
    );
    assert_eq!(o.exit(), "return", "{:?}", o.failure);
    assert_eq!(ret(&o, "got"), Value::str("hello"));
    assert_eq!(ret(&o, "doubled"), Value::str("42"));
}

#[test]
fn function_failure_goes_to_on_error_with_its_message() {
    let e = engine();
    let mut host = TestHost::new(&e, Some(ALLOW_ALL.into()));
    host.functions
        .insert("fails".into(), "start:\n  error: inner failure\n".into());
    let o = run_in(
        &mut host,
        "start:\n  function:\n    uri: fails\n    output: r\n    on_error:\n      return:\n        e@key: r:error\n",
        "{}",
    );
    assert_eq!(ret(&o, "e"), Value::str("inner failure"));
}

#[test]
fn return_key_on_non_map_gives_empty_map() {
    let o = run("start:\n  set:\n    s: text\n  return@key: s\n", "{}");
    assert_eq!(o.exit(), "return");
    assert!(
        o.dict
            .get("__return")
            .and_then(Value::as_array)
            .is_some_and(Array::is_empty)
    );
}

#[test]
fn text_inputs_are_cleaned_and_truncated() {
    let long = "x".repeat(300);
    let o = run(
        "inputs:\n  text/a:\n  text/b:\nstart:\n  return:\n    a@key: inputs:a\n    b@key: inputs:b\n",
        &format!(r#"{{"inputs": {{"a": "hi 😀!", "b": "{long}"}}}}"#),
    );
    assert_eq!(ret(&o, "a"), Value::str("hi !"));
    assert_eq!(ret(&o, "b").to_string_lossy().chars().count(), 252);
}

#[test]
fn number_inputs_keep_the_original_string() {
    let o = run(
        "inputs:\n  text/n:\n    type: number\nstart:\n  return:\n    n@key: inputs:n\n",
        r#"{"inputs": {"n": "7"}}"#,
    );
    assert_eq!(ret(&o, "n"), Value::str("7"));
    let o = run(
        "inputs:\n  text/n:\n    type: number\nstart:\n",
        r#"{"inputs": {"n": "12abc"}}"#,
    );
    assert_eq!(
        failure(&o),
        r#"'inputs:n' must be a number (string: "12abc")."#
    );
}

#[test]
fn unknown_input_types_are_reported() {
    let o = run("inputs:\n  blob/x:\nstart:\n", "{}");
    assert_eq!(failure(&o), "`inputs:x` has an unknown type `blob`");
    let o = run(
        "inputs:\n  text/x:\n    type: colour\nstart:\n",
        r#"{"inputs": {"x": "red"}}"#,
    );
    assert_eq!(failure(&o), "Unknown text type `colour` for input `x`");
}

#[test]
fn gated_payload_is_an_envelope_with_output() {
    let e = engine();
    let mut host = TestHost::new(&e, Some(ALLOW_ALL.into()));
    run_in(
        &mut host,
        "start:\n  storage.get:\n    output: got\n    inputs:\n      key: k\n      default: d\n",
        "{}",
    );
    let payload = host.calls.first().map(|c| c.2.clone()).unwrap_or_default();
    assert_eq!(payload.get("output"), Some(&Value::str("got")));
    assert_eq!(
        payload.get("inputs").and_then(|i| i.get("key")),
        Some(&Value::str("k"))
    );
}

#[test]
fn var_push_merges_maps_and_nests_lists() {
    let o = run(
        "start:\n  var.push/a:\n    inputs:\n      key: x\n      value: a\n  var.push/b:\n    inputs:\n      key: x\n      value@json: {\"k\":\"v\"}\n  var.push/c:\n    inputs:\n      key: x\n      value@json: [1,2]\n  var.push/d:\n    inputs:\n      key: x\n      value@json: []\n",
        "{}",
    );
    let got = o.dict.get("x").cloned().unwrap_or_default();
    let json = katabox_value::json::encode(&got, &katabox_value::json::JsonOptions::plain())
        .unwrap_or_default();
    assert_eq!(json, r#"{"0":"a","k":"v","1":[1,2]}"#);
}

#[test]
fn var_set_through_a_scalar_outputs_false() {
    let o = run(
        "start:\n  var.set:\n    output: r\n    inputs:\n      key: s:deep\n      value: x\n",
        r#"{"s": "text"}"#,
    );
    assert_eq!(o.dict.get("r"), Some(&Value::Bool(false)));
    assert_eq!(o.dict.get("s"), Some(&Value::str("text")));
}

#[test]
fn kata_parse_errors_name_the_input() {
    let o = run(
        "start:\n  kata.parse:\n    output: r\n    inputs:\n      kata@raw: no colon here\n    on_error:\n      return:\n        e@key: r:error\n",
        "{}",
    );
    let e = ret(&o, "e").to_string_lossy();
    assert!(e.ends_with(" at start:kata.parse:inputs:kata:"), "{e}");
}

#[test]
fn metric_errors_fill_the_empty_key_without_output() {
    let e = engine();
    let mut host = TestHost::new(&e, None);
    let o = run_in(
        &mut host,
        "start:\n  metric.increment:\n    inputs:\n      metric_name: hits\n    on_error:\n      return:\n        e@key: :error\n",
        "{}",
    );
    assert_eq!(o.exit(), "return");
    assert!(o.dict.get("").is_some_and(|v| v.get("error").is_some()));
}

#[test]
fn date_inputs_are_checked_and_kept_as_text() {
    let script =
        "inputs:\n  text/when:\n    type: date\nstart:\n  return:\n    when@key: inputs:when\n";
    let o = run(script, r#"{"inputs": {"when": "tomorrow 8am"}}"#);
    assert_eq!(ret(&o, "when"), Value::str("tomorrow 8am"));
    let o = run(script, r#"{"inputs": {"when": "someday"}}"#);
    assert_eq!(
        failure(&o),
        "'inputs:when' (someday) is not a valid date string. Format like: tomorrow 8am"
    );
}

#[test]
fn simulation_without_on_simulate_runs_the_command() {
    let e = engine();
    let mut host = TestHost::new(&e, Some(ALLOW_ALL.into()));
    let o = run_in(
        &mut host,
        "start:\n  storage.set:\n    inputs:\n      key: k\n      value: v\n",
        r#"{"__simulate": true}"#,
    );
    assert_eq!(o.exit(), "exit");
    assert_eq!(host.storage.get("k"), Some(&Value::str("v")));
}

#[test]
fn optional_applies_where_it_stands_among_the_annotations() {
    let o = run(
        "start:\n  return:\n    a@optional,int:\n    b@int,optional:\n    c@optional,bool: {{ '' }}\n    d@optional: x\n",
        "{}",
    );
    assert_eq!(ret(&o, "a"), Value::str("<absent>"));
    assert_eq!(ret(&o, "b"), Value::Int(0));
    assert_eq!(ret(&o, "c"), Value::str("<absent>"));
    assert_eq!(ret(&o, "d"), Value::str("x"));
}

#[test]
fn inputs_are_checked_without_an_inputs_section() {
    let o = run(
        "start:\n  return:\n    a: 1\n",
        r#"{"inputs": {"x": 1, "y": 2}}"#,
    );
    assert_eq!(failure(&o), "Unknown inputs: x, y");
    let o = run("start:\n  return:\n    a: 1\n", r#"{"inputs": null}"#);
    assert_eq!(o.exit(), "return");
    assert_eq!(o.dict.get("inputs"), Some(&Value::Null));
}
