//! Budgets: time, memory, fuel, traps — each ends only its own run.

use crate::support::*;
use katabox::sandbox::{HttpConfig, Limit, RunOptions, SandboxConfig};
use katabox_value::Value;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_loop_times_out_while_another_run_completes() {
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    let spin = record("spin", "settings:\n  time_limit_ms: 300\n");
    let quick = record("burn 1000\nreturn", "");
    let started = Instant::now();
    let (slow, fast) = tokio::join!(
        sb.run(&spin, Value::empty_array(), RunOptions::default()),
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            sb.run(
                &quick,
                with_payload(Value::str("ok")),
                RunOptions::default(),
            )
            .await
        }
    );
    assert_eq!(slow.exit, "error");
    assert_eq!(slow.limit, Some(Limit::Time));
    assert_eq!(
        slow.dict
            .get("__error")
            .map(|v| v.to_string_lossy())
            .as_deref(),
        Some("Execution timed out after 300ms")
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(fast.exit, "return");
    assert_eq!(
        fast.returned().map(|v| v.to_string_lossy()).as_deref(),
        Some("ok")
    );
}

#[tokio::test]
async fn unbounded_allocation_stops_at_the_memory_cap() {
    let cfg = SandboxConfig {
        memory_limit: 16 << 20,
        ..SandboxConfig::default()
    };
    let sb = probe_sandbox(cfg, HttpConfig::default());
    let r = sb
        .run(
            &record("alloc", ""),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(r.exit, "error");
    assert_eq!(r.limit, Some(Limit::Memory));
    assert!(
        r.failure.as_deref().unwrap_or("").contains("memory limit"),
        "{:?}",
        r.failure
    );
}

#[tokio::test]
async fn fuel_exhaustion_ends_in_error() {
    let cfg = SandboxConfig {
        fuel_per_second: 5_000_000,
        ..SandboxConfig::default()
    };
    let sb = probe_sandbox(cfg, HttpConfig::default());
    let r = sb
        .run(
            &record("spin", ""),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(r.exit, "error");
    assert_eq!(r.limit, Some(Limit::Fuel));
    assert!(
        r.failure.as_deref().unwrap_or("").contains("fuel"),
        "{:?}",
        r.failure
    );
    // A light run fits in the same budget.
    let ok = sb
        .run(
            &record("return", ""),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(ok.exit, "return");
    assert!(ok.fuel_used > 0 && ok.fuel_used < 5_000_000);
}

#[tokio::test]
async fn a_trap_is_an_error_exit_and_the_sandbox_keeps_serving() {
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    let r = sb
        .run(
            &record("trap", ""),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(r.exit, "error");
    assert_eq!(r.limit, Some(Limit::Trap));
    assert!(r.failure.is_some());
    for _ in 0..3 {
        let ok = sb
            .run(
                &record("return", ""),
                with_payload(Value::Int(7)),
                RunOptions::default(),
            )
            .await;
        assert_eq!(ok.exit, "return");
        assert_eq!(ok.returned().map(katabox_value::convert::to_int), Some(7));
    }
}

#[tokio::test]
async fn an_unparseable_policy_fails_every_run() {
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    let r = sb
        .run(
            &record("return", "commands:\n\tall: yes\n"),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(r.exit, "error");
    assert_eq!(r.failure.as_deref(), Some("Invalid automation policy"));
}

#[tokio::test]
async fn guest_failure_and_logs_are_reported() {
    let sb = probe_sandbox(SandboxConfig::default(), HttpConfig::default());
    let r = sb
        .run(
            &record("log hello\nfail broken", ""),
            Value::empty_array(),
            RunOptions::default(),
        )
        .await;
    assert_eq!(r.exit, "error");
    assert_eq!(r.failure.as_deref(), Some("broken"));
    assert_eq!(r.logs.len(), 1);
    assert_eq!(r.logs[0].message, "hello");
}
