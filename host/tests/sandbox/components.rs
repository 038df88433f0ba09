//! Records that carry their own guest component: a component built with
//! plain wit-bindgen (the probe guest, no SDK) runs in the KATA runtime's
//! sandbox under the record's policy; bad components fail cleanly; the
//! operator's secrets reach the `secrets` capability through the config.

use crate::support::{
    ALLOW_ALL, map, probe_sandbox, probe_wasm, record, runtime_sandbox, with_payload,
};
use katabox::sandbox::{
    AutomationRecord, GuestComponent, HttpConfig, RunOptions, RunResult, Sandbox, SandboxConfig,
    Secrets,
};
use katabox_value::Value;

fn probe_record(script: &str, policy: &str) -> AutomationRecord {
    AutomationRecord {
        name: "probe".into(),
        extension_id: "cerb.trigger.automation.function".into(),
        script: script.into(),
        policy_kata: policy.into(),
        component: Some(GuestComponent::new(probe_wasm().to_vec())),
    }
}

#[tokio::test]
async fn a_plain_wit_bindgen_component_runs_from_its_record() {
    let sb = runtime_sandbox(SandboxConfig::default());
    let payload = map(&[("greeting", Value::str("hi"))]);
    for _ in 0..2 {
        // The second run reuses the pre-instantiated component.
        let r = sb
            .run(
                &probe_record("return", ""),
                with_payload(payload.clone()),
                RunOptions::default(),
            )
            .await;
        assert_eq!(r.exit, "return", "{:?}", r.failure);
        assert_eq!(r.returned(), Some(&payload));
    }
}

#[tokio::test]
async fn the_records_policy_gates_the_components_imports() {
    let sb = runtime_sandbox(SandboxConfig::default());
    let payload = map(&[("key", Value::str("k")), ("value", Value::Int(1))]);
    let denied = sb
        .run(
            &probe_record("call storage.set", ""),
            with_payload(payload.clone()),
            RunOptions::default(),
        )
        .await;
    assert_eq!(
        denied
            .dict
            .get("error")
            .map(|v| v.to_string_lossy())
            .as_deref(),
        Some("The automation policy does not allow this command (storage.set).")
    );
    let allowed = sb
        .run(
            &probe_record("call storage.set", ALLOW_ALL),
            with_payload(payload),
            RunOptions::default(),
        )
        .await;
    assert_eq!(allowed.dict.get("error"), None, "{:?}", allowed.dict);
}

#[tokio::test]
async fn an_invalid_component_ends_in_error_and_the_sandbox_keeps_working() {
    let sb = runtime_sandbox(SandboxConfig::default());
    let mut bad = probe_record("return", "");
    bad.component = Some(GuestComponent::new(b"not wasm at all".to_vec()));
    let r = sb
        .run(&bad, Value::empty_array(), RunOptions::default())
        .await;
    assert_eq!(r.exit, "error");
    assert!(
        r.failure
            .as_deref()
            .is_some_and(|f| f.starts_with("Invalid guest component")),
        "{:?}",
        r.failure
    );
    let ok = sb
        .run(
            &probe_record("return", ""),
            with_payload(Value::Int(7)),
            RunOptions::default(),
        )
        .await;
    assert_eq!(ok.returned(), Some(&Value::Int(7)));
}

#[test]
fn components_decode_from_base64_and_hash_their_bytes() {
    let c = GuestComponent::from_base64("AGFz\n bQ==").expect("base64");
    assert_eq!(c.wasm(), b"\0asm");
    assert_eq!(c.sha256(), GuestComponent::new(b"\0asm".to_vec()).sha256());
    assert_eq!(c.sha256().len(), 64);
    assert!(GuestComponent::from_base64("not base64!").is_err());
}

#[test]
fn secrets_compute_hmacs_by_name_without_revealing_values() {
    let mut verify = katabox_verify::Secrets::new();
    verify
        .insert("GitHub", katabox_verify::Secret::new(b"key".to_vec()))
        .expect("valid name");
    let secrets = Secrets::from(verify);
    // RFC 4231-style check against an independent computation.
    let mac = secrets.hmac("github", "sha256", b"data").expect("hmac");
    assert_eq!(
        hex::encode(mac),
        "5031fe3d989c6d1537a013fa6e739da23463fdaec3b70137d828e36ace221bd0"
    );
    assert_eq!(
        secrets.hmac("other", "sha256", b"data").err().as_deref(),
        Some("Unknown secret (other)")
    );
    assert_eq!(
        secrets.hmac("github", "md5", b"data").err().as_deref(),
        Some("Unknown HMAC algorithm (md5)")
    );
    assert!(!format!("{secrets:?}").contains("key\""));
    let config = SandboxConfig {
        secrets,
        ..SandboxConfig::default()
    };
    assert!(!config.secrets.is_empty());
}

/// A probe sandbox whose operator has the secret `github` = `key`.
fn probe_with_secret() -> Sandbox {
    let mut verify = katabox_verify::Secrets::new();
    verify
        .insert("github", katabox_verify::Secret::new(b"key".to_vec()))
        .expect("valid name");
    let config = SandboxConfig {
        secrets: Secrets::from(verify),
        ..SandboxConfig::default()
    };
    probe_sandbox(config, HttpConfig::default())
}

async fn hmac_with(policy: &str, secret: &str) -> RunResult {
    let sb = probe_with_secret();
    let payload = map(&[
        ("secret", Value::str(secret)),
        ("algorithm", Value::str("sha256")),
        ("data", Value::str("data")),
    ]);
    sb.run(
        &record("call secrets.hmac", policy),
        with_payload(payload),
        RunOptions::default(),
    )
    .await
}

#[tokio::test]
async fn hmac_with_an_operator_secret_needs_the_policy() {
    let denied = "The automation policy does not allow this command (secrets.hmac).";
    // No policy: no gated command, the HMAC oracle included.
    let r = hmac_with("", "github").await;
    assert_eq!(
        r.dict.get("error").map(|e| e.to_string_lossy()).as_deref(),
        Some(denied)
    );
    assert!(r.dict.get("result").is_none());

    let only_github = "commands:\n  secrets.hmac:\n    allow@bool: {{inputs.secret == 'github'}}\n";
    let r = hmac_with(only_github, "github").await;
    let digest = r
        .dict
        .get("result")
        .and_then(Value::as_pstr)
        .map(|s| hex::encode(s.as_bytes()));
    assert_eq!(
        digest.as_deref(),
        Some("5031fe3d989c6d1537a013fa6e739da23463fdaec3b70137d828e36ace221bd0")
    );
    // The rule looks at the secret's name: another name is denied.
    let r = hmac_with(only_github, "other").await;
    assert_eq!(
        r.dict.get("error").map(|e| e.to_string_lossy()).as_deref(),
        Some(denied)
    );
    // `all: allow` covers it, and an unknown name is then the secret's own error.
    let r = hmac_with(ALLOW_ALL, "other").await;
    assert_eq!(
        r.dict.get("error").map(|e| e.to_string_lossy()).as_deref(),
        Some("Unknown secret (other)")
    );
}
