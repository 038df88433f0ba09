//! Hostile-input sweep: every registered filter, function and test is called
//! with awkward values and arguments; none may panic, and string/array
//! results must respect the limits.

use crate::callable::Args;
use crate::library::test_env::{Markup, TestEnv, arrow, j};
use crate::library::{filters, functions, tests};
use crate::limits::Limits;
use katabox_value::Value;
use std::sync::Arc;

fn samples() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Bool(true),
        Value::Bool(false),
        Value::Int(0),
        Value::Int(-1),
        Value::Int(i64::MAX),
        Value::Int(i64::MIN),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::Float(-1e300),
        Value::Float(0.5),
        Value::str(""),
        Value::str("été 日本 😀"),
        Value::bytes([0xff, 0xfe, b'a', 0xc3]),
        Value::str("%s %d %999999999s %'"),
        Value::str("/(a+)+$/"),
        Value::str("<p>a<b>c</p><!--"),
        Value::str("2020-01-31"),
        Value::str("+9223372036854775807 days"),
        Value::str("9999999999999-99-99 99:99"),
        Value::str("-9223372036854775808 weeks ago"),
        Value::str("-99999999999999999999"),
        j("[1,\"2\",[3],{\"a\":null}]"),
        j("{\"a\":{\"b\":{\"c\":[1,2]}},\"0\":\"x\"}"),
        Value::empty_array(),
        Value::Object(Arc::new(Markup("ab,c\nd".into()))),
        arrow(|v| v.first().cloned().unwrap_or_default()),
    ]
}

fn small_limits() -> Limits {
    Limits {
        max_steps: 200_000,
        max_string_bytes: 4096,
        max_array_len: 1000,
        ..Limits::default()
    }
}

fn check(v: &Value, limits: &Limits) {
    match v {
        Value::Str(s) => assert!(
            s.len() <= limits.max_string_bytes * 4 + 64,
            "string too long: {}",
            s.len()
        ),
        Value::Array(a) => assert!(
            a.len() <= limits.max_array_len,
            "array too long: {}",
            a.len()
        ),
        _ => {}
    }
}

fn arg_sets() -> Vec<Vec<Value>> {
    let s = samples();
    let mut sets = vec![Vec::new()];
    for a in &s {
        sets.push(vec![a.clone()]);
    }
    for (i, a) in s.iter().enumerate() {
        let b = &s[(i * 7 + 3) % s.len()];
        let c = &s[(i * 5 + 1) % s.len()];
        sets.push(vec![a.clone(), b.clone()]);
        sets.push(vec![a.clone(), b.clone(), c.clone()]);
    }
    sets.push(vec![
        Value::Int(i64::MAX),
        Value::Int(i64::MIN),
        Value::Float(1e-300),
    ]);
    sets.push(vec![Value::Int(1_000_000_000), Value::str("x")]);
    sets
}

#[test]
fn filters_never_panic() {
    let limits = small_limits();
    for f in filters() {
        for v in samples() {
            for args in arg_sets() {
                let mut env = TestEnv {
                    limits: limits.clone(),
                    ..TestEnv::default()
                };
                if let Ok(r) = (f.func)(&mut env, v.clone(), &Args::positional(args.clone())) {
                    check(&r, &limits);
                }
            }
        }
    }
}

#[test]
fn functions_never_panic() {
    let limits = small_limits();
    for f in functions() {
        for args in arg_sets() {
            let mut env = TestEnv {
                limits: limits.clone(),
                ..TestEnv::default()
            };
            if let Ok(r) = (f.func)(&mut env, &Args::positional(args.clone())) {
                check(&r, &limits);
            }
        }
    }
}

#[test]
fn tests_never_panic() {
    for t in tests() {
        for v in samples() {
            for args in arg_sets() {
                let mut env = TestEnv::default();
                let _ = (t.func)(&mut env, &v, &Args::positional(args));
            }
        }
    }
}

#[test]
fn hostile_inputs_stay_bounded() {
    use std::time::{Duration, Instant};
    let start = Instant::now();
    // Deeply nested lists render in linear time.
    let nested = "<ul><li>".repeat(300) + "x";
    let mut env = TestEnv::default();
    let r = crate::library::filters::text::html_to_text(
        &mut env,
        Value::str(&nested),
        &Args::positional(vec![]),
    );
    assert!(r.is_ok());
    // A backtracking-heavy wildcard against a long subject hits the step limit.
    let subject = Value::str("a".repeat(200_000));
    let glob = Value::str("*a".repeat(2_000) + "b");
    let mut env = TestEnv::default();
    let r = crate::library::tests::pattern(&mut env, &subject, &Args::positional(vec![glob]));
    assert!(
        matches!(r, Err(crate::callable::CallError::Limit(_))),
        "{r:?}"
    );
    // Many distinct long replacement keys are charged, not ground through.
    let mut keys = katabox_value::Array::new();
    for n in 1..2_000 {
        keys.insert("k".repeat(n).as_str(), Value::str("v"));
    }
    let mut env = TestEnv::default();
    let r = crate::library::filters::strings::replace(
        &mut env,
        Value::str("x".repeat(1_000_000)),
        &Args::positional(vec![Value::array(keys)]),
    );
    assert!(
        matches!(r, Err(crate::callable::CallError::Limit(_))),
        "{r:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
}
