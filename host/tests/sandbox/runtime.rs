//! The embedded KATA runtime through the real sandbox.

use crate::support::{record, runtime_sandbox};
use katabox::capabilities::MemoryStore;
use katabox::sandbox::{
    AutomationRecord, HttpConfig, Limit, RUNTIME_IS_FALLBACK, RunOptions, Sandbox, SandboxConfig,
};
use katabox_value::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_while_times_out_and_a_parallel_run_completes() {
    if RUNTIME_IS_FALLBACK {
        eprintln!("skipped: the KATA runtime is not embedded in this build");
        return;
    }
    let sb = runtime_sandbox(SandboxConfig::default());
    let endless = record(
        "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: 1\n",
        "settings:\n  time_limit_ms: 300\n",
    );
    let quick = record("start:\n  return:\n    answer: {{a * b}}\n", "");
    let mut inputs = katabox_value::Array::new();
    inputs.insert("a", Value::Int(5));
    inputs.insert("b", Value::Int(4));
    let started = Instant::now();
    let (slow, fast) = tokio::join!(
        sb.run(&endless, Value::empty_array(), RunOptions::default()),
        sb.run(&quick, Value::array(inputs), RunOptions::default())
    );
    assert_eq!(slow.exit, "error");
    assert_eq!(slow.limit, Some(Limit::Time));
    assert_eq!(
        slow.error_message().as_deref(),
        Some("Execution timed out after 300ms")
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(fast.exit, "return");
    assert_eq!(
        fast.returned()
            .and_then(|r| r.get("answer"))
            .map(|v| v.to_string_lossy())
            .as_deref(),
        Some("20")
    );
}

#[tokio::test]
async fn gated_commands_ask_the_policy() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let sb = runtime_sandbox(SandboxConfig::default());
    let script = "start:\n  storage.set:\n    inputs:\n      key: k\n      value: v\n    output: r\n  storage.get:\n    inputs:\n      key: k\n    output: got\n  return:\n    got@key: got\n";
    let denied = sb
        .run(
            &record(script, ""),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(denied.exit, "error");
    assert!(
        denied
            .error_message()
            .unwrap_or_default()
            .contains("does not allow this command (storage.set)"),
        "{:?}",
        denied.error_message()
    );
    let allowed = sb
        .run(
            &record(script, "commands:\n  all:\n    allow: yes\n"),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(allowed.exit, "return", "{:?}", allowed.failure);
    assert_eq!(
        allowed
            .returned()
            .and_then(|r| r.get("got"))
            .map(|v| v.to_string_lossy())
            .as_deref(),
        Some("v")
    );
}

struct Source(Vec<AutomationRecord>);

impl katabox::sandbox::AutomationSource for Source {
    fn automation(&self, name: &str) -> Option<AutomationRecord> {
        self.0.iter().find(|r| r.name == name).cloned()
    }
}

fn function_sandbox(records: Vec<AutomationRecord>) -> Sandbox {
    Sandbox::new(
        SandboxConfig::default(),
        Arc::new(MemoryStore::new()),
        Arc::new(Source(records)),
        HttpConfig::default(),
    )
    .expect("sandbox builds")
}

const ALLOW_ALL: &str = "commands:\n  all:\n    allow: yes\n";

#[tokio::test]
async fn function_runs_the_callee_with_its_own_policy() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let callee = AutomationRecord {
        name: "double".into(),
        extension_id: "cerb.trigger.automation.function".into(),
        script: "inputs:\n  text/n:\n    type: number\nstart:\n  return:\n    doubled: {{inputs.n * 2}}\n".into(),
        policy_kata: String::new(),
        component: None,
    };
    let sb = function_sandbox(vec![callee]);
    let caller = record(
        "start:\n  function:\n    uri: cerb:automation:double\n    inputs:\n      n: 21\n    output: res\n  return:\n    got@key: res:doubled\n",
        ALLOW_ALL,
    );
    let r = sb
        .run(&caller, Value::empty_array(), RunOptions::default())
        .await;
    assert_eq!(r.exit, "return", "{:?}", r.error_message());
    assert_eq!(
        r.returned()
            .and_then(|v| v.get("got"))
            .map(|v| v.to_string_lossy())
            .as_deref(),
        Some("42")
    );
    // Without a policy the call is denied with Cerb's function message.
    let denied = sb
        .run(
            &record(&caller.script, ""),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(
        denied.error_message().as_deref(),
        Some("The automation policy does not allow the `function:` command.")
    );
}

#[tokio::test]
async fn endless_function_recursion_stops_at_the_depth_limit() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let selfcall = AutomationRecord {
        name: "again".into(),
        extension_id: "cerb.trigger.automation.function".into(),
        script: "start:\n  function:\n    uri: cerb:automation:again\n    output: r\n".into(),
        policy_kata: ALLOW_ALL.into(),
        component: None,
    };
    let sb = function_sandbox(vec![selfcall.clone()]);
    let r = sb
        .run(&selfcall, Value::empty_array(), RunOptions::default())
        .await;
    assert_eq!(r.exit, "error");
    assert!(
        r.error_message()
            .unwrap_or_default()
            .contains("nesting limit"),
        "{:?}",
        r.error_message()
    );
    // The sandbox still serves.
    let ok = sb
        .run(
            &record("start:\n  return:\n    a: 1\n", ""),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(ok.exit, "return");
}
