//! The fused chain against the two separate filter calls.

use super::{compact_len, json_encode_pretty, unfused};
use crate::library::test_env::{Markup, TestEnv, j};
use crate::library::{json_enc, plain_object::PlainObject};
use katabox_value::{Array, Key, PStr, Value};
use proptest::prelude::*;
use std::sync::Arc;

/// Runs both forms with the same limits; returns (result, steps) for each.
fn both(v: &Value, max_len: usize, max_steps: u64) -> [(Result<String, String>, u64); 2] {
    let run = |fused: bool| {
        let mut env = TestEnv::default();
        env.limits.max_string_bytes = max_len;
        env.limits.max_steps = max_steps;
        let r = if fused {
            json_encode_pretty(&mut env, v.clone())
        } else {
            unfused(&mut env, v.clone())
        };
        let r = r.map(|o| format!("{o:?}")).map_err(|e| format!("{e:?}"));
        (r, env.steps)
    };
    [run(true), run(false)]
}

fn assert_same(v: &Value) {
    let [f, u] = both(v, 1 << 20, u64::MAX);
    assert_eq!(f, u, "value {v:?}");
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        prop_oneof![
            any::<f64>(),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NAN),
            (-1.0e6..1.0e6f64),
            (-1.0e20..1.0e20f64),
            any::<i32>().prop_map(f64::from),
        ]
        .prop_map(Value::Float),
        "[a-z/\"\\\\ \n\t\u{e9}\u{2028}\u{1f600}0-9\u{1}]{0,12}".prop_map(Value::str),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(|b| Value::Str(PStr::from(b))),
        "(-?[0-9]{1,3}|0[0-9]|[a-z]{1,2})".prop_map(Value::str),
    ]
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        (0..4i64).prop_map(Key::Int),
        any::<i64>().prop_map(Key::Int),
        "[a-z0-9/]{0,3}".prop_map(|s| Key::from(s.as_str())),
        // Not normalised on purpose: a string key that looks like an integer.
        "[0-9]{1,2}".prop_map(|s| Key::Str(PStr::from(s))),
        proptest::collection::vec(any::<u8>(), 1..3).prop_map(|b| Key::Str(PStr::from(b))),
    ]
}

fn object(inner: Value) -> Value {
    match inner {
        Value::Array(a) => PlainObject((*a).clone()).into_value(),
        Value::Str(s) => Value::Object(Arc::new(Markup(s.to_string_lossy().into_owned()))),
        other => other,
    }
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::list),
            proptest::collection::vec((key(), inner.clone()), 0..6).prop_map(|kv| {
                let mut a = Array::default();
                for (k, v) in kv {
                    a.insert(k, v);
                }
                Value::array(a)
            }),
            inner.prop_map(object),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fused_equals_unfused(v in value()) {
        let [f, u] = both(&v, 1 << 20, u64::MAX);
        prop_assert_eq!(f, u);
    }

    #[test]
    fn fused_equals_unfused_under_tight_limits(v in value(), max_len in 0..200usize, max_steps in 0..6u64) {
        let [f, u] = both(&v, max_len, max_steps);
        prop_assert_eq!(f, u);
    }

    #[test]
    fn compact_len_matches_the_compact_encoding(v in value()) {
        if let (Ok(pretty), Ok(compact)) =
            (json_enc::encode(&v, 128 | 64, 512, 1 << 20), json_enc::encode(&v, 0, 512, 1 << 20))
        {
            prop_assert_eq!(compact_len(&pretty), compact.len());
        }
    }
}

#[test]
fn the_seed_response_takes_the_fast_path_and_matches() {
    let v = j(
        r#"{"http":{"method":"POST","path":"","headers":{"host":"127.0.0.1:8080",
        "x_customheader":"true"},"params":{"key":"value"}},"client":{"ip":"127.0.0.1"}}"#,
    );
    assert!(super::fusable(&v, 0));
    assert_same(&v);
    let out = json_encode_pretty(&mut TestEnv::default(), v).map(|o| o.to_string_lossy());
    assert!(out.is_ok_and(|o| o.starts_with("{\n    \"http\": {\n        \"method\": \"POST\"")));
}

#[test]
fn edge_values_match() {
    for text in [
        "[]",
        "{}",
        "[[]]",
        r#"{"a":[]}"#,
        r#"{"1":"a","0":"b"}"#,
        r#"{"0":"a","1":"b"}"#,
        r#"{"":1}"#,
        r#"["a/b","\u00e9","\ud83d\ude00","\u2028"]"#,
        "[1.0,0.1,1e100,-1.5e-7]",
        "-0",
        "-0.0",
        "12345678901234567",
        "1e16",
        "9223372036854775807",
    ] {
        assert_same(&j(text));
    }
    for f in [f64::NAN, f64::INFINITY, -0.0, 5e-324, f64::MAX, 0.1 + 0.2] {
        assert_same(&Value::Float(f));
    }
    assert_same(&Value::Str(PStr::from(vec![0xff, b'a'])));
    assert_same(&Value::Object(Arc::new(Markup("x/y".into()))));
    assert_same(&PlainObject(Array::default()).into_value());
}

#[test]
fn deep_nesting_matches() {
    for depth in [63, 64, 65, 127, 128, 129, 511, 512, 513, 600] {
        let mut v = Value::Int(1);
        for _ in 0..depth {
            v = Value::list([v]);
        }
        assert_same(&v);
    }
}

#[test]
fn the_generator_reaches_the_fast_path_often() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = value();
    let mut fast = 0;
    for _ in 0..500 {
        if let Ok(tree) = strategy.new_tree(&mut runner)
            && super::fusable(&tree.current(), 0)
        {
            fast += 1;
        }
    }
    assert!(
        fast >= 100,
        "only {fast} of 500 generated values are fusable"
    );
}

#[test]
fn templates_render_the_same_fused_and_split() {
    let engine = crate::Engine::new(crate::Config::default());
    let data = j(
        r#"{"v":{"a":"x/y","b":[1,2.5,{"c":null}],"d":{},"e":"\u00e9"},
        "w":[1,2],"f":1.5,"s":"a/b"}"#,
    );
    for name in ["v", "w", "f", "s", "v.d", "missing"] {
        let fused = format!("{{{{ {name}|json_encode|json_pretty }}}}");
        let split = format!("{{% set t = {name}|json_encode %}}{{{{ t|json_pretty }}}}");
        let a = engine
            .render(&fused, &data)
            .map(|s| s.to_string_lossy().into_owned());
        let b = engine
            .render(&split, &data)
            .map(|s| s.to_string_lossy().into_owned());
        assert_eq!(a.as_ref().ok(), b.as_ref().ok(), "{name}");
        assert!(a.is_ok(), "{name}: {a:?}");
    }
}
