//! Warm runtime instances: reused after normal runs, discarded after any
//! budget or trap, and nothing of one run is visible to the next.

use crate::support::{record, runtime_sandbox};
use katabox::sandbox::{Limit, RUNTIME_IS_FALLBACK, RunOptions, SandboxConfig};
use katabox_value::{Array, Value};

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
    let sb = runtime_sandbox(SandboxConfig::default());
    assert_eq!(sb.warm_instances(), 0);
    let echo = record(ECHO, "");
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
    let sb = runtime_sandbox(SandboxConfig::default());
    let echo = record(ECHO, "");
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
    let sb = runtime_sandbox(SandboxConfig::default());
    let echo = record(ECHO, "");
    sb.run(&echo, dict(&[("secret", "a")]), RunOptions::default())
        .await;
    assert_eq!(sb.warm_instances(), 1);
    let endless = record(
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
    let sb = runtime_sandbox(SandboxConfig {
        memory_limit: 16 << 20,
        ..SandboxConfig::default()
    });
    let each: Vec<String> = (1..=400).map(|i| i.to_string()).collect();
    let script = format!(
        "start:\n  set:\n    s@text: {{{{ \"x\"|repeat(1000000) }}}}\n  repeat:\n    each@csv: {}\n    as: i\n    do:\n      var.push:\n        inputs:\n          key: l\n          value@key: s\n",
        each.join(",")
    );
    let bomb = record(&script, "");
    sb.run(
        &record(ECHO, ""),
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
            &record(ECHO, ""),
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
    let sb = runtime_sandbox(SandboxConfig {
        warm_instances: 0,
        ..SandboxConfig::default()
    });
    let r = sb
        .run(
            &record(ECHO, ""),
            dict(&[("secret", "x")]),
            RunOptions::default(),
        )
        .await;
    assert_eq!(returned(&r, "secret"), "x");
    assert_eq!(sb.warm_instances(), 0);
}
