//! Property tests of the host library on hostile input: policy parsing and
//! evaluation, and package import (arbitrary JSON). Never a panic; a
//! refused package leaves the store unchanged.

use katabox::packages::{self, ImportOptions, PackageError};
use katabox::policy::{self, Policy, host_scripting};
use katabox::store::{RedbStore, Store, StoreConfig};
use katabox_value::Value;
use proptest::prelude::*;

/// KATA-ish policy text built from policy words, so that parsing gets past
/// the first line often.
fn policy_text() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("commands:".to_string()),
        Just("callers:".to_string()),
        Just("settings:".to_string()),
        Just("time_limit_ms: 99999999999999999999".to_string()),
        Just("all:".to_string()),
        Just("http.request:".to_string()),
        Just("storage.set:".to_string()),
        Just("allow: yes".to_string()),
        Just("deny: yes".to_string()),
        Just("allow@bool: {{ inputs.url starts with 'https://' }}".to_string()),
        Just("allow/x@text: {{ node.id }}".to_string()),
        Just("deny@json: {\"a\":".to_string()),
        Just("allow@csv: a,b".to_string()),
        Just("allow@bool: {{ range(1,999999999)|length }}".to_string()),
        Just("allow@text: {% for i in 1..99999999 %}x{% endfor %}".to_string()),
        "[ -~]{0,30}",
        "\\PC{0,10}",
    ];
    proptest::collection::vec((0usize..6, word), 0..14).prop_map(|lines| {
        lines
            .into_iter()
            .map(|(indent, w)| format!("{}{}\n", "  ".repeat(indent), w))
            .collect()
    })
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "\\PC{0,20}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("automation"),
            Just("webhook_listener"),
            Just("automation_resource"),
            Just("cerb.trigger.webhook.respond"),
            Just("{{{uid.a}}}"),
            Just("{{{default.base_url}}}"),
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("package".to_string()),
                    Just("records".to_string()),
                    Just("name".to_string()),
                    Just("revision".to_string()),
                    Just("uid".to_string()),
                    Just("_context".to_string()),
                    Just("script".to_string()),
                    Just("guid".to_string()),
                    Just("configure".to_string()),
                    Just("prompts".to_string()),
                    Just("placeholders".to_string()),
                    Just("requires".to_string()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn policy_evaluation_never_panics(
        text in policy_text(),
        command in prop_oneof![Just("http.request".to_string()), Just("storage.set".to_string()), Just("function".to_string()), "[a-z.]{0,12}"],
        url in "\\PC{0,30}",
    ) {
        if let Ok(p) = Policy::parse(&text) {
            let mut inputs = katabox_value::Array::new();
            inputs.insert("url", Value::str(&url));
            let ph = policy::placeholders("start:x", command.as_str(), &Value::array(inputs), Some("out"), Some("cerb:automation:x"));
            let allowed = p.allows(command.as_str(), &ph, host_scripting().as_ref());
            // Without any `allow` rule, nothing can be allowed.
            if !text.contains("allow") {
                prop_assert!(!allowed, "allowed {command} with no allow rule:\n{text}");
            }
            let _ = p.time_limit_ms();
            let _ = p.allows_caller("cerb.caller", &ph, host_scripting().as_ref());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
    ))]

    #[test]
    fn package_import_of_arbitrary_json_never_panics(doc in arbitrary_json(), prompts in arbitrary_json()) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let store = RedbStore::open(dir.path(), StoreConfig::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = serde_json::to_vec(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match packages::import(&store, &text, &prompts, &ImportOptions::default()) {
            Ok(_) => {}
            Err(PackageError::Refused(m)) => {
                prop_assert!(!m.is_empty());
                // A refused package changes nothing.
                prop_assert_eq!(store.automations().map(|a| a.len()).unwrap_or(1), 0);
                prop_assert_eq!(store.listeners().map(|a| a.len()).unwrap_or(1), 0);
            }
            Err(PackageError::Store(e)) => prop_assert!(false, "store error on hostile input: {e}"),
        }
    }

    #[test]
    fn package_import_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let store = RedbStore::open(dir.path(), StoreConfig::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let r = packages::import(&store, &bytes, &serde_json::json!({}), &ImportOptions::default());
        prop_assert!(r.is_err() || serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
    }
}
