//! Hostile scripts never panic the interpreter.

mod support;

use katabox_runtime::{Limits, RunRequest};
use katabox_value::Value;
use proptest::prelude::*;
use support::TestHost;

const WORDS: &[&str] = &[
    "start",
    "set",
    "var.set",
    "var.push",
    "var.unset",
    "decision",
    "outcome",
    "repeat",
    "while",
    "do",
    "then",
    "if",
    "each",
    "as",
    "return",
    "await",
    "error",
    "log",
    "inputs",
    "output",
    "key",
    "value",
    "on_error",
    "on_success",
    "on_simulate",
    "simulate.success",
    "http.request",
    "function",
    "kata.parse",
    "text/x",
    "array/y",
    "return@key",
    "if@bool",
    "each@csv",
    "x@json",
    "a:b",
    "",
];

fn run(script: String) {
    let mut host = TestHost::new(
        &katabox_kata::NoScripting,
        Some("commands:\n  all:\n    allow: yes\n".into()),
    );
    let limits = Limits {
        max_steps: 10_000,
        ..Limits::default()
    };
    let out = katabox_runtime::run_with(
        RunRequest {
            script,
            dict: Value::empty_array(),
            ..RunRequest::default()
        },
        &mut host,
        &katabox_kata::NoScripting,
        &limits,
    );
    assert!(matches!(out.exit(), "return" | "await" | "exit" | "error"));
}

fn kata_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            0usize..6,
            prop::sample::select(WORDS),
            prop::option::of(prop::sample::select(WORDS)),
        ),
        0..40,
    )
    .prop_map(|lines| {
        let mut s = String::new();
        for (indent, key, value) in lines {
            s.push_str(&"  ".repeat(indent));
            s.push_str(key);
            s.push(':');
            if let Some(v) = value {
                s.push(' ');
                s.push_str(v);
            }
            s.push('\n');
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(script in "\\PC{0,200}") {
        run(script);
    }

    #[test]
    fn kata_like_scripts_never_panic(script in kata_like()) {
        run(format!("start:\n{}", script.lines().map(|l| format!("  {l}\n")).collect::<String>()));
        run(script);
    }
}

const IDS: &[&str] = &[
    "automation",
    "start",
    "start:repeat",
    "start:repeat:do:set",
    "start:while",
    "start:while:do:await",
    "start:return",
    "nope",
];

fn resume(state: Value) {
    let script = "start:\n  repeat:\n    each@csv: a,b\n    as: v\n    do:\n      set:\n        x: 1\n  while:\n    if@bool: yes\n    do:\n      await:\n        at: 1\n  return:\n    ok: yes\n";
    let mut dict = katabox_value::Array::new();
    dict.insert("__state", state);
    let mut host = TestHost::new(&katabox_kata::NoScripting, None);
    let limits = Limits {
        max_steps: 10_000,
        ..Limits::default()
    };
    let out = katabox_runtime::run_with(
        RunRequest {
            script: script.into(),
            dict: Value::array(dict),
            ..RunRequest::default()
        },
        &mut host,
        &katabox_kata::NoScripting,
        &limits,
    );
    assert!(matches!(out.exit(), "return" | "await" | "exit" | "error"));
}

fn mem_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Bool(true)),
        Just(Value::Int(-3)),
        prop::collection::vec(prop::sample::select(IDS), 0..4).prop_map(|ids| {
            let mut a = katabox_value::Array::new();
            a.insert("pending", Value::list(ids.into_iter().map(Value::str)));
            Value::array(a)
        }),
        (
            0i64..5,
            prop::collection::vec(prop::sample::select(IDS), 0..3)
        )
            .prop_map(|(next, ids)| {
                let mut a = katabox_value::Array::new();
                a.insert("keys", Value::list([Value::Int(0)]));
                a.insert("values", Value::str("not a list"));
                a.insert("next", Value::Int(next));
                a.insert("pending", Value::list(ids.into_iter().map(Value::str)));
                Value::array(a)
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_state_never_panics(
        next in prop::sample::select(IDS),
        memory in prop::collection::vec((prop::sample::select(IDS), mem_value()), 0..6),
    ) {
        let mut mem = katabox_value::Array::new();
        for (id, v) in memory {
            mem.insert(id, v);
        }
        let mut state = katabox_value::Array::new();
        state.insert("next", Value::str(next));
        state.insert("memory", Value::array(mem));
        resume(Value::array(state));
    }
}
