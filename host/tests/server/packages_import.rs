//! Package import: the spec's rules, Cerb's error texts, all-or-nothing.

use katabox::packages::{self, ImportOptions, PackageError};
use katabox::store::{RedbStore, Store, StoreConfig};
use serde_json::{Value as Json, json};

fn store() -> (tempfile::TempDir, RedbStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = RedbStore::open(dir.path(), StoreConfig::default()).expect("open");
    (dir, s)
}

fn import(s: &RedbStore, pkg: &Json, prompts: Json) -> Result<packages::ImportResult, String> {
    let text = serde_json::to_vec(pkg).expect("encode");
    packages::import(s, &text, &prompts, &ImportOptions::default()).map_err(|e| match e {
        PackageError::Refused(m) => m,
        other => format!("store failure: {other}"),
    })
}

fn package(records: Json) -> Json {
    json!({
        "package": {
            "name": "Test",
            "revision": 1,
            "requires": {"cerb_version": "10.0.0", "plugins": ["cerb.webhooks"]},
            "configure": {"prompts": [], "placeholders": []}
        },
        "records": records
    })
}

fn automation(uid: &str, name: &str, script: &str) -> Json {
    json!({
        "uid": uid, "_context": "automation", "name": name,
        "extension_id": "cerb.trigger.webhook.respond", "script": script, "policy_kata": ""
    })
}

/// The seed guide's package, verbatim.
const SEED_PACKAGE: &str = include_str!("../../../automations/examples/webhooks-example.json");

#[test]
fn the_example_package_creates_its_automation_and_listener() {
    let (_d, s) = store();
    let r = packages::import(
        &s,
        SEED_PACKAGE.as_bytes(),
        &json!({}),
        &ImportOptions::default(),
    )
    .expect("import");
    assert_eq!(r.records.len(), 2);
    let a = s
        .automation("example.webhook.respond")
        .expect("read")
        .expect("created");
    assert_eq!(a.extension_id, "cerb.trigger.webhook.respond");
    assert!(a.script.starts_with("start:\r\n  set:"));
    let l = s
        .listener_by_guid("b5d89ded60c1e4da7b7b2750182e026a5b975cf3")
        .expect("read")
        .expect("listener created");
    assert_eq!(l.name, "Webhook Example");
    assert_eq!(r.records[0]["_context"], "automation");
    assert_eq!(r.records[0]["name"], "example.webhook.respond");
    assert_eq!(
        r.records_created["cerb.contexts.automation"]["automation_webhook"]["label"],
        "example.webhook.respond"
    );
    // Importing it again fails on the unique name and changes nothing.
    let again = packages::import(
        &s,
        SEED_PACKAGE.as_bytes(),
        &json!({}),
        &ImportOptions::default(),
    );
    assert!(matches!(again, Err(PackageError::Refused(ref m)) if m.contains("must be unique")));
    assert_eq!(s.automations().expect("list").len(), 1);
    // ...unless the caller asks to skip packages already imported.
    let skip = ImportOptions {
        skip_if_imported: true,
        ..ImportOptions::default()
    };
    let r = packages::import(&s, SEED_PACKAGE.as_bytes(), &json!({}), &skip).expect("skip");
    assert!(!r.imported);
}

#[test]
fn load_errors_use_php_texts() {
    let (_d, s) = store();
    let err = |text: &str| {
        packages::import(&s, text.as_bytes(), &json!({}), &ImportOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        err(r#"{"package": {"name": "Broken",}"#),
        "Invalid JSON: Syntax error"
    );
    assert_eq!(err("{}"), "Invalid JSON: No error");
    assert_eq!(err("0"), "Invalid JSON: No error");
    assert_eq!(err(r#"{"records": []}"#), "Invalid package JSON");
    assert_eq!(err(r#"{"package": null}"#), "Invalid package JSON");
    assert_eq!(
        err(r#"{"package": {"requires": {"cerb_version": "11.0"}}}"#),
        "This package requires Cerb version 11.0 or later."
    );
    assert_eq!(
        err(r#"{"package": {"requires": {"plugins": ["cerb.bots"]}}}"#),
        "This package requires the cerb.bots plugin to be installed and enabled."
    );
    // A non-string version is ignored.
    assert_eq!(
        err(r#"{"package": {"requires": {"cerb_version": 99}}, "records": []}"#),
        ""
    );
}

#[test]
fn record_validation_messages() {
    let (_d, s) = store();
    let cases = [
        (
            json!([{"uid": "x", "name": "n"}]),
            "Invalid JSON: record (x) is missing properties (_context)",
        ),
        (
            json!([{"_context": "automation"}]),
            "Invalid JSON: record () is missing properties (uid)",
        ),
        (
            json!([{"uid": "t", "_context": "nonsense"}]),
            "Unknown context 'nonsense' on record (t).",
        ),
        (
            json!([{"uid": "a", "_context": "automation", "extension_id": "cerb.trigger.webhook.respond", "_label": "x"}]),
            "Error validating record (a): '_label' is not an editable field.",
        ),
        (
            json!([{"uid": "a", "_context": "automation", "extension_id": "cerb.trigger.webhook.respond", "id": 4}]),
            "Error validating record (a): 'id' is not editable.",
        ),
        (
            json!([{"uid": "a", "_context": "automation", "name": "x"}]),
            "Error validating record (a): 'Trigger' is required.",
        ),
        (
            json!([{"uid": "a", "_context": "automation", "extension_id": "nope"}]),
            "Error validating record (a): 'Trigger' (nope) is not a valid extension ID on (cerb.automation.trigger).",
        ),
        (
            json!([{"uid": "a", "_context": "automation", "extension_id": "cerb.trigger.webhook.respond", "name": "bad name"}]),
            "Error validating record (a): 'name' may only contain letters, numbers, dashes, and dots",
        ),
        (
            json!([{"uid": "w", "_context": "webhook_listener", "name": "W", "extension_id": "x"}]),
            "Error validating record (w): 'extension_id' is not an editable field.",
        ),
        (
            json!([{"uid": "t", "_context": "timer", "name": "T", "is_disabled": true}]),
            "Error validating record (t): 'is_disabled' must be a number (boolean: true).",
        ),
        (
            json!([{"uid": "t", "_context": "timer", "name": "T", "recurring_timezone": "Mars/Base"}]),
            "Error validating record (t): 'recurring_timezone' (Mars/Base) is not a valid timezone. Format like: America/Los_Angeles",
        ),
        (
            json!([{"uid": "a", "_context": "automation", "extension_id": "cerb.trigger.webhook.respond", "script": true}]),
            "Error validating record (a): 'script' must be a string (boolean).",
        ),
    ];
    for (records, expected) in cases {
        assert_eq!(
            import(&s, &package(records.clone()), json!({}))
                .err()
                .as_deref(),
            Some(expected),
            "{records}"
        );
    }
    assert!(s.automations().expect("list").is_empty());
}

#[test]
fn prompts_are_required_and_fill_templates() {
    let (_d, s) = store();
    let mut pkg = package(json!([automation(
        "a",
        "x.greet",
        "start:\n  return:\n    body: {{{greeting}}}, {{request_params.name}}\n"
    )]));
    pkg["package"]["configure"]["prompts"] = json!([
        {"type": "text", "label": "Greeting", "key": "greeting"},
        {"type": "picklist", "label": "Level", "key": "level", "params": {"options": {"Low": 25, "High": 75}}},
        {"type": "unknown", "key": "ignored"}
    ]);
    assert_eq!(
        import(&s, &pkg, json!({})).err().as_deref(),
        Some("'Greeting' (greeting) is required.")
    );
    assert_eq!(
        import(&s, &pkg, json!({"greeting": ""})).err().as_deref(),
        Some("'Greeting' (greeting) is required.")
    );
    assert_eq!(
        import(&s, &pkg, json!({"greeting": "Hi", "level": "60"}))
            .err()
            .as_deref(),
        Some("'Level' (level) is required.")
    );
    import(&s, &pkg, json!({"greeting": "Howdy", "level": "75.0"})).expect("import");
    let a = s.automation("x.greet").expect("read").expect("created");
    assert_eq!(
        a.script,
        "start:\n  return:\n    body: Howdy, {{request_params.name}}\n"
    );
}

#[test]
fn placeholders_uids_defaults_and_exclude() {
    let (_d, s) = store();
    let mut pkg = package(json!([
        automation("a", "x.a", "start:\n  return:\n    id: {{{uid.w}}}\n    url: {{{default.base_url}}}\n"),
        {"uid": "w", "_context": "webhook_listener", "name": "W", "guid": "{{{code|lower}}}",
         "automations_kata": "automation/a:\n  uri: cerb:automation:x.a"},
        {"uid": "skip", "_context": "automation", "name": "x.skipped", "extension_id": "cerb.trigger.webhook.respond",
         "_exclude": "{{{mode == 'lite' ? 'yes' : ''}}}"}
    ]));
    pkg["package"]["configure"]["placeholders"] =
        json!([{"type": "random", "key": "code", "params": {"length": 40}}]);
    pkg["package"]["configure"]["prompts"] =
        json!([{"type": "text", "label": "Mode", "key": "mode"}]);
    let r = import(&s, &pkg, json!({"mode": "lite"})).expect("import");
    assert_eq!(r.records.len(), 2);
    assert!(s.automation("x.skipped").expect("read").is_none());
    let listeners = s.listeners().expect("list");
    assert_eq!(listeners.len(), 1);
    let guid = &listeners[0].guid;
    assert_eq!(guid.len(), 40);
    assert!(
        guid.bytes()
            .all(|b| b"abcdefghjklmnpqrstuvwxyz123456789".contains(&b)),
        "{guid}"
    );
    let a = s.automation("x.a").expect("read").expect("created");
    assert_eq!(
        a.script,
        format!(
            "start:\n  return:\n    id: {}\n    url: http://127.0.0.1:8080/\n",
            listeners[0].id
        )
    );
}

#[test]
fn a_missing_placeholder_key_is_refused() {
    let (_d, s) = store();
    let mut pkg = package(json!([automation("a", "x.a", "start:\n")]));
    pkg["package"]["configure"]["placeholders"] = json!([{"type": "random"}]);
    assert_eq!(
        import(&s, &pkg, json!({})).err().as_deref(),
        Some("Placeholder key is missing.")
    );
}

#[test]
fn a_failure_in_the_import_pass_leaves_nothing() {
    let (_d, s) = store();
    // The first records are fine; the last one's script does not parse.
    let pkg = package(json!([
        automation("a", "x.a", "start:\n  return:\n"),
        {"uid": "w", "_context": "webhook_listener", "name": "W", "guid": "g1",
         "automations_kata": "automation/a:\n  uri: cerb:automation:x.a"},
        automation("b", "x.b", "start:\n  return:\n    body: plain\n    body@base64: aGk=\n"),
    ]));
    let err = import(&s, &pkg, json!({})).err().unwrap_or_default();
    assert!(
        err.starts_with("Error importing record (b): Automation: "),
        "{err}"
    );
    assert!(s.automations().expect("list").is_empty());
    assert!(s.listeners().expect("list").is_empty());
    assert!(s.listener_by_guid("g1").expect("read").is_none());
    // Nothing half-done blocks a corrected import.
    let fixed = package(json!([automation("a", "x.a", "start:\n  return:\n")]));
    import(&s, &fixed, json!({})).expect("import");
}

#[test]
fn duplicate_names_inside_one_package_fail_in_the_import_pass() {
    let (_d, s) = store();
    let pkg = package(json!([
        automation("a", "x.same", "start:\n  return:\n"),
        automation("b", "x.same", "start:\n  return:\n"),
    ]));
    assert_eq!(
        import(&s, &pkg, json!({})).err().as_deref(),
        Some(
            "Error importing record (b): A record already exists with this 'name' (x.same). It must be unique."
        )
    );
    assert!(s.automations().expect("list").is_empty());
}

#[test]
fn a_blank_listener_guid_is_generated_and_a_taken_one_refused() {
    let (_d, s) = store();
    let pkg = package(json!([{"uid": "w", "_context": "webhook", "name": "W", "guid": ""}]));
    import(&s, &pkg, json!({})).expect("import");
    let guid = s.listeners().expect("list")[0].guid.clone();
    assert_eq!(guid.len(), 40);
    let dup = package(json!([{"uid": "w", "_context": "webhook", "name": "W2", "guid": guid}]));
    let err = import(&s, &dup, json!({})).err().unwrap_or_default();
    assert!(err.contains("must be unique"), "{err}");
    assert_eq!(s.listeners().expect("list").len(), 1);
}

#[test]
fn helpdesk_sections_are_refused() {
    let (_d, s) = store();
    let mut pkg = package(json!([]));
    pkg["bots"] = json!([{"uid": "b"}]);
    let err = import(&s, &pkg, json!({})).err().unwrap_or_default();
    assert!(err.contains("'bots' is not supported"), "{err}");
}

#[test]
fn automation_scripts_are_checked_at_import() {
    let (_d, s) = store();
    let cases = [
        (
            "start/main:\n  return:\n",
            "Error importing record (a): Automation: Key `start:` must not have a name",
        ),
        (
            "foo:\n  bar: 1\nstart:\n",
            "Error importing record (a): Automation: Key `foo:` is unknown",
        ),
    ];
    for (script, expected) in cases {
        let pkg = package(json!([automation("a", "x.a", script)]));
        assert_eq!(
            import(&s, &pkg, json!({})).err().as_deref(),
            Some(expected),
            "{script}"
        );
    }
    let ok = package(json!([automation(
        "a",
        "x.a",
        "inputs:\n  text/name:\n    default: x\nstart:\n  return:\n"
    )]));
    import(&s, &ok, json!({})).expect("a valid script imports");
}
