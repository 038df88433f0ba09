//! Property tests: hostile input never panics parse, evaluate, the
//! parameter evaluator, emit or validate.

use katabox_kata::{NoScripting, emit, eval_text, evaluate, evaluate_params, parse, validate};
use katabox_value::Value;
use proptest::prelude::*;

/// One KATA-like line: indentation, a key with annotations, maybe a value.
fn line() -> impl Strategy<Value = String> {
    let indent = 0usize..10;
    let key = prop::sample::select(vec![
        "a", "b", "&r", "set/x", "0", "1", "x-y/z", "é", "k.k", "*",
    ]);
    let ann = prop::sample::select(vec![
        "",
        "@int",
        "@text",
        "@ref",
        "@list",
        "@csv",
        "@raw",
        "@bool,raw",
        "@ref,list",
        "@key",
        "@json",
        "@kata",
        "@date",
        "@base64",
        "@optional",
        "@bogus",
        "@trim,csv",
        "@float",
        "@bit",
    ]);
    let value = prop::sample::select(vec![
        "",
        " ",
        " 1",
        " r",
        " a:b",
        " {{x}}",
        " # c",
        " 1E+5",
        " 2020-01-01",
        " tomorrow 5pm",
        " a,,b",
        " [1,{",
        " r:x",
        "\t",
        " b@int: 5",
    ]);
    let kind = 0u8..10;
    (indent, key, ann, value, kind).prop_map(|(i, k, a, v, kind)| match kind {
        0 => format!("{}# comment", " ".repeat(i)),
        1 => String::new(),
        2 => format!("{}\tx: 1", " ".repeat(i)),
        3 => format!("{}free text", " ".repeat(i)),
        _ => format!("{}{k}{a}:{v}", " ".repeat(i)),
    })
}

fn exercise(doc: &str) {
    let dict = Value::empty_array();
    if let Ok(tree) = parse(doc) {
        let _ = evaluate(&tree, Some(&dict), &NoScripting);
        let _ = evaluate(&tree, None, &NoScripting);
        let v = evaluate_params(
            &tree.nodes,
            &dict,
            &NoScripting,
            "p",
            &mut |_: &str, _: String| {},
        );
        let text = emit(&v);
        let _ = eval_text(&text, Some(&dict), &NoScripting);
    }
    let _ = validate(
        doc,
        "schema:\n  attributes:\n    a:\n      types:\n        any:",
        None,
        &NoScripting,
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(doc in "\\PC*") {
        exercise(&doc);
    }

    #[test]
    fn arbitrary_kata_lines_never_panic(lines in prop::collection::vec(line(), 0..40)) {
        exercise(&lines.join("\n"));
    }

    #[test]
    fn arbitrary_date_phrases_never_panic(s in "[-+@:/., 0-9a-zA-Z]{0,40}") {
        let _ = katabox_value::date::strtotime(&s, 1_700_000_000, "UTC");
        let _ = katabox_value::date::strtotime(&s, i64::MAX, "America/New_York");
        let _ = katabox_value::date::strtotime(&s, i64::MIN, "Bad/Zone");
    }
}

#[test]
fn large_numbers_in_dates_do_not_overflow() {
    for s in [
        "+9999999999 years",
        "@9999999999999",
        "-9999999999 weekdays",
        "9999-99-99",
        "+999999999 months ago",
    ] {
        let _ = katabox_value::date::strtotime(s, 1_700_000_000, "UTC");
    }
}
