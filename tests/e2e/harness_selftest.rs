//! Checks of the conformance harness's own comparison rules (FORMAT.md).

use crate::support::compare::json_matches;
use serde_json::json;

#[test]
fn empty_object_equals_empty_list() {
    assert!(json_matches(&json!({}), &json!([]), false));
    assert!(!json_matches(&json!({"a": 1}), &json!([1]), false));
}

#[test]
fn object_key_order_is_insignificant_but_list_order_is() {
    assert!(json_matches(
        &json!({"a": 1, "b": 2}),
        &json!({"b": 2, "a": 1}),
        false
    ));
    assert!(!json_matches(&json!([1, 2]), &json!([2, 1]), false));
}

#[test]
fn loose_compares_scalars_like_php() {
    assert!(json_matches(&json!({"a": 20}), &json!({"a": "20"}), true));
    assert!(!json_matches(&json!({"a": 20}), &json!({"a": "20"}), false));
    assert!(json_matches(&json!(1.5), &json!("1.5"), true));
    assert!(json_matches(&json!(true), &json!("1"), true));
    assert!(json_matches(&json!(false), &json!(""), true));
    assert!(json_matches(&json!(null), &json!(""), true));
    assert!(!json_matches(&json!(null), &json!("0"), true));
}

#[test]
fn expected_failures_need_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = dir.path().join("x.txt");
    std::fs::write(&p, "# comment\ncerb/kata/a.toml   parses differently\n").expect("write");
    let m = crate::support::expected::load(&p).expect("loads");
    assert_eq!(
        m.get("cerb/kata/a.toml").map(String::as_str),
        Some("parses differently")
    );
    std::fs::write(&p, "cerb/kata/a.toml\n").expect("write");
    assert!(crate::support::expected::load(&p).is_err());
}
