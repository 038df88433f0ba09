//! Warm runtime instances: reused after normal runs, discarded after any
//! budget or trap, and nothing of one run is visible to the next.

use katabox::capabilities::MemoryStore;
use katabox::sandbox::{
    AutomationRecord, HttpConfig, Limit, NoAutomations, RUNTIME_IS_FALLBACK, RunOptions, Sandbox,
    SandboxConfig,
};
use katabox_value::{Array, Value};
use std::sync::Arc;

fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::new(
        config,
        Arc::new(MemoryStore::new()),
        Arc::new(NoAutomations),
        HttpConfig::default(),
    )
    .expect("sandbox builds")
}

fn rec(script: &str, policy: &str) -> AutomationRecord {
    AutomationRecord {
        name: "t".into(),
        extension_id: "cerb.trigger.automation.function".into(),
        script: script.into(),
        policy_kata: policy.into(),
        component: None,
    }
}

fn dict(pairs: &[(&str, &str)]) -> Value {
    let mut a = Array::new();
    for (k, v) in pairs {
        a.insert(*k, Value::str(*v));
    }
    Value::array(a)
}

fn returned(r: &katabox::sandbox::RunResult, key: &str) -> String {
    r.returned()
        .and_then(|v| v.get(key))
        .map(|v| v.to_string_lossy())
        .unwrap_or_default()
}

const ECHO: &str = "start:\n  log: seen {{secret}}\n  return:\n    secret@text: {{secret}}\n    counter@text: {{counter|default('unset')}}\n";

#[tokio::test]
async fn a_normal_run_parks_its_instance_and_the_next_run_reuses_it() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let sb = sandbox(SandboxConfig::default());
    assert_eq!(sb.warm_instances(), 0);
    let echo = rec(ECHO, "");
    for i in 0..5 {
        let v = format!("v{i}");
        let r = sb
            .run(&echo, dict(&[("secret", &v)]), RunOptions::default())
            .await;
        assert_eq!(r.exit, "return", "{:?}", r.failure);
        assert_eq!(returned(&r, "secret"), v);
        assert_eq!(
            sb.warm_instances(),
            1,
            "one instance serves sequential runs"
        );
    }
}

#[tokio::test]
async fn nothing_of_one_run_reaches_the_next_on_a_reused_instance() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let sb = sandbox(SandboxConfig::default());
    let echo = rec(ECHO, "");
    let first = sb
        .run(
            &echo,
            dict(&[("secret", "s3cret"), ("counter", "41")]),
            RunOptions::default(),
        )
        .await;
    assert_eq!(returned(&first, "secret"), "s3cret");
    assert_eq!(first.logs.len(), 1);
    assert_eq!(sb.warm_instances(), 1);

    let second = sb.run(&echo, dict(&[]), RunOptions::default()).await;
    assert_eq!(second.exit, "return", "{:?}", second.failure);
    assert_eq!(returned(&second, "secret"), "");
    assert_eq!(returned(&second, "counter"), "unset");
    assert_eq!(second.logs.len(), 1, "only this run's log line");
    assert_eq!(second.logs[0].message, "seen ");
}

#[tokio::test]
async fn a_timed_out_instance_is_discarded_and_the_next_run_is_clean() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let sb = sandbox(SandboxConfig::default());
    let echo = rec(ECHO, "");
    sb.run(&echo, dict(&[("secret", "a")]), RunOptions::default())
        .await;
    assert_eq!(sb.warm_instances(), 1);
    let endless = rec(
        "start:\n  while:\n    if@bool: yes\n    do:\n      set:\n        x: 1\n",
        "settings:\n  time_limit_ms: 100\n",
    );
    let slow = sb
        .run(&endless, Value::empty_array(), RunOptions::default())
        .await;
    assert_eq!(slow.limit, Some(Limit::Time));
    assert_eq!(
        sb.warm_instances(),
        0,
        "the interrupted instance was dropped"
    );
    let after = sb
        .run(&echo, dict(&[("secret", "b")]), RunOptions::default())
        .await;
    assert_eq!(after.exit, "return", "{:?}", after.failure);
    assert_eq!(returned(&after, "secret"), "b");
    assert_eq!(sb.warm_instances(), 1);
}

#[tokio::test]
async fn a_run_that_hits_the_memory_cap_does_not_park_its_instance() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let sb = sandbox(SandboxConfig {
        memory_limit: 16 << 20,
        ..SandboxConfig::default()
    });
    let each: Vec<String> = (1..=400).map(|i| i.to_string()).collect();
    let script = format!(
        "start:\n  set:\n    s@text: {{{{ \"x\"|repeat(1000000) }}}}\n  repeat:\n    each@csv: {}\n    as: i\n    do:\n      var.push:\n        inputs:\n          key: l\n          value@key: s\n",
        each.join(",")
    );
    let bomb = rec(&script, "");
    sb.run(
        &rec(ECHO, ""),
        dict(&[("secret", "a")]),
        RunOptions::default(),
    )
    .await;
    assert_eq!(sb.warm_instances(), 1);
    let r = sb
        .run(&bomb, Value::empty_array(), RunOptions::default())
        .await;
    assert_eq!(r.limit, Some(Limit::Memory), "{:?}", r.failure);
    assert_eq!(sb.warm_instances(), 0);
    let ok = sb
        .run(
            &rec(ECHO, ""),
            dict(&[("secret", "c")]),
            RunOptions::default(),
        )
        .await;
    assert_eq!(returned(&ok, "secret"), "c");
}

#[tokio::test]
async fn reuse_can_be_turned_off() {
    if RUNTIME_IS_FALLBACK {
        return;
    }
    let sb = sandbox(SandboxConfig {
        warm_instances: 0,
        ..SandboxConfig::default()
    });
    let r = sb
        .run(
            &rec(ECHO, ""),
            dict(&[("secret", "x")]),
            RunOptions::default(),
        )
        .await;
    assert_eq!(returned(&r, "secret"), "x");
    assert_eq!(sb.warm_instances(), 0);
}
