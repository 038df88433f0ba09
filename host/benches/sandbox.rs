//! Per-run cost through the real sandbox and the embedded KATA runtime: the
//! seed's webhook automation and an empty `start:`, on a warm runtime
//! instance (the default: reused between runs) and on a fresh instance per
//! run (`warm_instances: 0`: instantiate + run + teardown every time).

use criterion::{Criterion, criterion_group, criterion_main};
use katabox::capabilities::MemoryStore;
use katabox::sandbox::{
    AutomationRecord, HttpConfig, NoAutomations, RunOptions, Sandbox, SandboxConfig,
};
use katabox_value::{Array, Value};
use std::sync::Arc;

const SEED_SCRIPT: &str = "start:\r\n  set:\r\n    response:\r\n      http:\r\n        method@key: request_method\r\n        path@key: request_path\r\n        headers@key: request_headers\r\n        params@key: request_params\r\n      client:\r\n        ip@key: request_client_ip\r\n  return:\r\n    status_code: 200\r\n    headers:\r\n      Content-Type: application/json\r\n    body@text: {{response|json_encode|json_pretty}}";

fn webhook_dict() -> Value {
    let mut headers = Array::new();
    headers.insert("content-type", Value::str("application/json"));
    headers.insert("user-agent", Value::str("bench"));
    let mut params = Array::new();
    params.insert("name", Value::str("Joe Customer"));
    let mut d = Array::new();
    d.insert("request_method", Value::str("POST"));
    d.insert("request_path", Value::str("some/folder"));
    d.insert("request_headers", Value::array(headers));
    d.insert("request_params", Value::array(params));
    d.insert("request_body", Value::str("{\"a\":1}"));
    d.insert("request_client_ip", Value::str("203.0.113.7"));
    Value::array(d)
}

fn bench(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let new_sandbox = |config: SandboxConfig| match rt.block_on(async {
        Sandbox::new(
            config,
            Arc::new(MemoryStore::new()),
            Arc::new(NoAutomations),
            HttpConfig::default(),
        )
    }) {
        Ok(s) => s,
        Err(e) => panic!("sandbox: {e:#}"),
    };
    let sandbox = new_sandbox(SandboxConfig::default());
    let fresh = new_sandbox(SandboxConfig {
        warm_instances: 0,
        ..SandboxConfig::default()
    });
    let seed = AutomationRecord {
        name: "example.webhook.respond".into(),
        extension_id: "cerb.trigger.webhook.respond".into(),
        script: SEED_SCRIPT.into(),
        policy_kata: "commands:\r\n  ".into(),
        component: None,
    };
    let empty = AutomationRecord {
        name: "empty".into(),
        extension_id: "cerb.trigger.automation.function".into(),
        script: "start:\n".into(),
        policy_kata: String::new(),
        component: None,
    };
    let dict = webhook_dict();
    let check = rt.block_on(sandbox.run(&seed, dict.clone(), RunOptions::default()));
    assert_eq!(check.exit, "return", "seed automation: {:?}", check.failure);
    let empty_check = rt.block_on(sandbox.run(&empty, Value::empty_array(), RunOptions::default()));
    eprintln!(
        "fuel per run: seed {} units, empty {} units",
        check.fuel_used, empty_check.fuel_used
    );
    c.bench_function("run/seed_webhook", |b| {
        b.iter(|| rt.block_on(sandbox.run(&seed, dict.clone(), RunOptions::default())))
    });
    c.bench_function("run/empty_start", |b| {
        b.iter(|| rt.block_on(sandbox.run(&empty, Value::empty_array(), RunOptions::default())))
    });
    c.bench_function("run/seed_webhook_fresh_instance", |b| {
        b.iter(|| rt.block_on(fresh.run(&seed, dict.clone(), RunOptions::default())))
    });
    c.bench_function("run/empty_start_fresh_instance", |b| {
        b.iter(|| rt.block_on(fresh.run(&empty, Value::empty_array(), RunOptions::default())))
    });
    assert!(
        sandbox.warm_instances() > 0,
        "the runtime instance was reused"
    );
    assert_eq!(fresh.warm_instances(), 0);
}

/// Builds the probe guest (host/tests/guests/probe): a guest that does no
/// interpretation, so its run cost is the host's floor.
fn probe_wasm() -> Option<Vec<u8>> {
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = manifest.join("../target/guest");
    let mut cmd =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_") && k != "CARGO_HOME" || k == "RUSTFLAGS" || k == "RUSTC_WRAPPER"
        {
            cmd.env_remove(k);
        }
    }
    let ok = cmd
        .current_dir(manifest.join("tests/guests/probe"))
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    std::fs::read(target.join("wasm32-wasip2/release/katabox_probe_guest.wasm")).ok()
}

fn bench_floor(c: &mut Criterion) {
    let Some(wasm) = probe_wasm() else {
        eprintln!("probe guest did not build; skipping run/host_floor");
        return;
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let sandbox = match rt.block_on(async {
        Sandbox::with_guest(
            SandboxConfig::default(),
            &wasm,
            Arc::new(MemoryStore::new()),
            Arc::new(NoAutomations),
            HttpConfig::default(),
            katabox::sandbox::Secrets::default(),
        )
    }) {
        Ok(s) => s,
        Err(e) => panic!("sandbox: {e:#}"),
    };
    let rec = AutomationRecord {
        name: "probe".into(),
        extension_id: "cerb.trigger.automation.function".into(),
        script: "return".into(),
        policy_kata: String::new(),
        component: None,
    };
    c.bench_function("run/host_floor", |b| {
        b.iter(|| rt.block_on(sandbox.run(&rec, Value::empty_array(), RunOptions::default())))
    });
}

/// Compares builds of the runtime guest in one run (docs/performance.md,
/// "Guest size"): `KATABOX_BENCH_RUNTIMES=name=path.wasm,name=path.wasm`.
/// For each: its size, the compile time of a sandbox (no component cache),
/// and the seed run on a warm and on a fresh instance. Skipped when unset.
fn bench_runtime_builds(c: &mut Criterion) {
    let Ok(list) = std::env::var("KATABOX_BENCH_RUNTIMES") else {
        return;
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let seed = AutomationRecord {
        name: "example.webhook.respond".into(),
        extension_id: "cerb.trigger.webhook.respond".into(),
        script: SEED_SCRIPT.into(),
        policy_kata: "commands:\r\n  ".into(),
        component: None,
    };
    let dict = webhook_dict();
    for item in list.split(',').filter(|i| !i.is_empty()) {
        let Some((name, path)) = item.split_once('=') else {
            panic!("KATABOX_BENCH_RUNTIMES: {item}: expected name=path");
        };
        let wasm = match std::fs::read(path) {
            Ok(w) => w,
            Err(e) => panic!("{path}: {e}"),
        };
        let build = |warm: usize| {
            let started = std::time::Instant::now();
            let sandbox = match rt.block_on(async {
                Sandbox::with_runtime(
                    SandboxConfig {
                        warm_instances: warm,
                        // Compiled afresh: the compile time is a cold start's.
                        cache_dir: None,
                        ..SandboxConfig::default()
                    },
                    &wasm,
                    Arc::new(MemoryStore::new()),
                    Arc::new(NoAutomations),
                    HttpConfig::default(),
                )
            }) {
                Ok(s) => s,
                Err(e) => panic!("{name}: {e:#}"),
            };
            (sandbox, started.elapsed())
        };
        let (warm, compile) = build(4);
        let (fresh, _) = build(0);
        let check = rt.block_on(warm.run(&seed, dict.clone(), RunOptions::default()));
        assert_eq!(check.exit, "return", "{name}: {:?}", check.failure);
        eprintln!(
            "runtime {name}: {} bytes, compiled in {:.0} ms",
            wasm.len(),
            compile.as_secs_f64() * 1000.0
        );
        c.bench_function(&format!("runtime/{name}/seed_warm"), |b| {
            b.iter(|| rt.block_on(warm.run(&seed, dict.clone(), RunOptions::default())))
        });
        c.bench_function(&format!("runtime/{name}/seed_fresh"), |b| {
            b.iter(|| rt.block_on(fresh.run(&seed, dict.clone(), RunOptions::default())))
        });
    }
}

criterion_group!(benches, bench, bench_floor, bench_runtime_builds);
criterion_main!(benches);
