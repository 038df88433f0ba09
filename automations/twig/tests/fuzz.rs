//! Property tests: arbitrary templates and dictionary values never panic
//! and finish in bounded time.

use katabox_twig::{Config, Engine, Limits};
use katabox_value::{Array, Value};
use proptest::prelude::*;
use std::time::{Duration, Instant};

fn engine() -> Engine {
    Engine::new(Config {
        limits: Limits {
            max_steps: 200_000,
            ..Limits::default()
        },
        ..Config::default()
    })
}

/// Fragments that make random text look like templates.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("{%".to_string()),
        Just("%}".to_string()),
        Just("{#".to_string()),
        Just("#}".to_string()),
        Just("-".to_string()),
        Just("~".to_string()),
        Just(" if x ".to_string()),
        Just(" for i in 1..3 ".to_string()),
        Just(" endfor ".to_string()),
        Just(" endif ".to_string()),
        Just(" set a = ".to_string()),
        Just("|".to_string()),
        Just("\"#{".to_string()),
        Just("'".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(" ** ".to_string()),
        Just(" ?? ".to_string()),
        Just(" ? ".to_string()),
        Just(" : ".to_string()),
        Just(" is ".to_string()),
        Just(" not ".to_string()),
        Just("v => v".to_string()),
        Just("x.y".to_string()),
        Just("9223372036854775807".to_string()),
        Just("1e+308".to_string()),
        Just("verbatim".to_string()),
        "[a-z0-9_ ]{0,6}",
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..40).prop_map(|v| v.concat())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        ".{0,12}".prop_map(Value::str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop::collection::vec(inner, 0..4)
            .prop_map(|v| Value::array(v.into_iter().collect::<Array>()))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_templates_do_not_panic(t in template(), x in value()) {
        let mut dict = Array::new();
        dict.insert("x", x);
        let e = engine();
        let start = Instant::now();
        let _ = e.render(&t, &Value::array(dict));
        prop_assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn arbitrary_text_renders_or_fails_cleanly(t in ".{0,200}") {
        let _ = engine().render(&t, &Value::Null).map(|s| s.len());
    }

    #[test]
    fn dictionary_values_print_without_panic(x in value()) {
        let mut dict = Array::new();
        dict.insert("x", x);
        let d = Value::array(dict);
        let e = engine();
        for t in ["{{ x }}", "{{ x ~ x }}", "{{ x + 1 }}", "{{ x * x }}", "{{ x == x }}", "{{ x in x }}",
                  "{% for k, v in x %}{{ k }}{{ v }}{% endfor %}", "{{ x|default('d') }}", "{{ x|e }}",
                  "{{ x ** 2 }}", "{{ x // 3 }}", "{{ x % 3 }}", "{{ -x }}", "{{ x .. 3 }}", "{{ x matches '/a/' }}"] {
            let _ = e.render(t, &d);
        }
    }
}
