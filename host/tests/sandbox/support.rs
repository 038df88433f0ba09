//! Shared helpers for the sandbox tests: the probe guest and a sandbox.
#![allow(dead_code)]

use katabox::capabilities::MemoryStore;
use katabox::sandbox::{
    AutomationRecord, HttpConfig, NoAutomations, Sandbox, SandboxConfig, Secrets,
};
use katabox_value::{Array, Value};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};

/// Builds (once) and returns the probe guest component.
pub fn probe_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = manifest.join("tests/guests/probe");
        let target = manifest.join("../target/guest");
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        for (k, _) in std::env::vars() {
            if k.starts_with("CARGO_") && k != "CARGO_HOME"
                || k == "RUSTFLAGS"
                || k == "RUSTC_WRAPPER"
            {
                cmd.env_remove(k);
            }
        }
        let status = cmd
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", &target)
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "the probe guest builds");
        std::fs::read(target.join("wasm32-wasip2/release/katabox_probe_guest.wasm"))
            .expect("probe wasm exists")
    })
}

/// A sandbox running the embedded KATA runtime.
pub fn runtime_sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::new(
        config,
        Arc::new(MemoryStore::new()),
        Arc::new(NoAutomations),
        HttpConfig::default(),
    )
    .expect("sandbox builds")
}

/// A sandbox running the probe guest.
pub fn probe_sandbox(config: SandboxConfig, http: HttpConfig) -> Sandbox {
    probe_sandbox_with(config, http, Arc::new(MemoryStore::new()))
}

/// A sandbox running the probe guest over `data`.
pub fn probe_sandbox_with(
    config: SandboxConfig,
    http: HttpConfig,
    data: Arc<MemoryStore>,
) -> Sandbox {
    Sandbox::with_guest(
        config,
        probe_wasm(),
        data,
        Arc::new(NoAutomations),
        http,
        Secrets::default(),
    )
    .expect("sandbox builds")
}

/// A function-triggered record: `script` is KATA for the runtime sandbox,
/// probe commands for the probe sandbox.
pub fn record(script: &str, policy: &str) -> AutomationRecord {
    AutomationRecord {
        name: "test".into(),
        extension_id: "cerb.trigger.automation.function".into(),
        script: script.into(),
        policy_kata: policy.into(),
        component: None,
    }
}

/// A dictionary `{payload: <payload>}`.
pub fn with_payload(payload: Value) -> Value {
    let mut a = Array::new();
    a.insert("payload", payload);
    Value::array(a)
}

/// A map from string pairs.
pub fn map(pairs: &[(&str, Value)]) -> Value {
    let mut a = Array::new();
    for (k, v) in pairs {
        a.insert(*k, v.clone());
    }
    Value::array(a)
}

/// A policy allowing every gated command.
pub const ALLOW_ALL: &str = "commands:\n  all:\n    allow: yes\n";
