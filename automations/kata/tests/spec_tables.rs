//! The tables and worked examples of the spec's kata.md, as tests.
#![allow(clippy::unwrap_used)]

use katabox_kata::{
    KataError, NoScripting, Node, NodeValue, Scripting, emit, eval_text, evaluate_param_value,
    evaluate_params, key_path, parse, truthy, validate,
};
use katabox_value::{PStr, Value};
use serde_json::{Value as Json, json};

/// A stand-in scripting engine for tests: replaces `{{name}}` and
/// `{{a.b}}` with dictionary values; `{{bad` is a syntax error.
struct Placeholders;

impl Scripting for Placeholders {
    fn render(&self, template: &str, dict: &Value) -> Result<PStr, String> {
        self.check(template)?;
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or("Unclosed \"variable\" (line 1)")?;
            let name = after[..end].trim();
            if let Some(v) = key_path(dict, name, '.') {
                out.push_str(&v.to_string_lossy());
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(PStr::from(out))
    }
    fn check(&self, template: &str) -> Result<(), String> {
        if template.matches("{{").count() != template.matches("}}").count() {
            return Err("Unclosed \"variable\" (line 1)".to_owned());
        }
        Ok(())
    }
}

fn vars() -> Value {
    katabox_value::json::from_serde(&json!({"name": "Joe", "age": "37", "user": {"first": "Jo"}}))
}

fn json_of(v: &Value) -> Json {
    katabox_value::json::to_serde(v)
}

/// Evaluates with the stand-in engine and the §16 dictionary.
fn ev(kata: &str) -> Result<Json, String> {
    eval_text(kata, Some(&vars()), &Placeholders)
        .map(|v| json_of(&v))
        .map_err(|e| e.to_string())
}

/// Parse output as JSON.
fn parsed(kata: &str) -> Result<Json, String> {
    parse(kata)
        .map(|t| json_of(&t.to_value()))
        .map_err(|e| e.to_string())
}

fn err(kata: &str) -> String {
    match parse(kata) {
        Ok(t) => panic!("expected an error, got {}", json_of(&t.to_value())),
        Err(e) => e.to_string(),
    }
}

// ---- §2–3: lines and key lines -------------------------------------------------

#[test]
fn key_line_grammar() {
    assert_eq!(err("a : 1"), "Unexpected syntax (line 1): a : 1");
    assert_eq!(parsed("a:b:c").unwrap(), json!({"a": "b:c"}));
    assert_eq!(
        parsed("url: http://x/y?q=1").unwrap(),
        json!({"url": "http://x/y?q=1"})
    );
    assert_eq!(err("é: 1"), "Unexpected syntax (line 1): é: 1");
    assert_eq!(err("a@: 1"), "Unexpected syntax (line 1): a@: 1");
    assert_eq!(parsed("a: hi   ").unwrap(), json!({"a": "hi   "}));
    assert_eq!(parsed("a: \"x\"").unwrap(), json!({"a": "\"x\""}));
    assert_eq!(parsed("#x: 1\nb: 2").unwrap(), json!({"b": "2"}));
    assert_eq!(err("  x\n"), "Unexpected syntax (line 1): x");
}

#[test]
fn tabs_in_indentation_are_rejected() {
    assert_eq!(err("a:\n  \tb: x"), "Indents may not use tabs (line 2)");
    assert_eq!(
        err("object:\n\tstring: x"),
        "Indents may not use tabs (line 2)"
    );
    // Tabs inside values are fine; blank lines with tabs are skipped.
    assert_eq!(
        parsed("a: x\ty\n\t\nb: 1").unwrap(),
        json!({"a": "x\ty", "b": "1"})
    );
    // Inside a text block the error names the key's line.
    assert_eq!(
        err("a:\n  b@text:\n    x\n\t\n"),
        "Indents may not use tabs (line 2)"
    );
}

#[test]
fn type_name_validation() {
    assert_eq!(
        err("set/my-name: 1"),
        "`set:` name `my-name` must only contain letters, numbers, and underscores (line 1)"
    );
    assert_eq!(
        err("a/b/c: 1"),
        "`a:` name `b/c` must only contain letters, numbers, and underscores (line 1)"
    );
    assert!(parse("a/0: 1").is_ok());
    assert_eq!(
        err("&foo/x-y: 1"),
        "`&foo:` name `x-y` must only contain letters, numbers, and underscores (line 1)"
    );
}

#[test]
fn annotations_are_case_sensitive() {
    assert_eq!(
        ev("a@BOOL: yes").unwrap_err(),
        "[a] Unknown annotation: @BOOL"
    );
}

#[test]
fn duplicate_siblings() {
    assert_eq!(
        err("a: 1\na@int: 2"),
        "`a@int:` has a sibling with the same name (line 2)"
    );
    assert!(parse("allow/rule@text: ok\nallow/rule: ok").is_err());
    assert!(parse("set/a:\nset/b:").is_ok());
    // Same name in different maps is fine.
    assert!(parse("x:\n  a: 1\ny:\n  a: 1").is_ok());
}

#[test]
fn duplicate_siblings_in_large_maps_and_numeric_names() {
    let mut doc: String = (0..20).map(|i| format!("k{i}: {i}\n")).collect();
    doc.push_str("k3@int: 9\n");
    assert_eq!(
        err(&doc),
        "`k3@int:` has a sibling with the same name (line 21)"
    );
    let small: String = (0..20).map(|i| format!("k{i}: {i}\n")).collect();
    assert!(parse(&small).is_ok());
    // PHP compares numeric names as numbers.
    assert_eq!(
        err("10: a\n1e1: b"),
        "`1e1:` has a sibling with the same name (line 2)"
    );
    assert!(parse("10: a\n10a: b").is_ok());
}

// ---- §4: the indentation algorithm ---------------------------------------------

#[test]
fn indentation_consequences() {
    assert_eq!(
        parsed("a: 1\n    b: 2\nc: 3").unwrap(),
        json!({"a": "1", "b": "2", "c": "3"})
    );
    assert_eq!(
        parsed("a:\n    b:\n      c: 1\n  d: 2\ne: 3").unwrap(),
        json!({"a": {"b": {"c": "1"}, "d": "2"}, "e": "3"})
    );
    assert_eq!(parsed("  a: 1\nb: 2").unwrap(), json!({"a": "1", "b": "2"}));
    assert_eq!(
        parsed("a:\n  b:\n    c: 1\n# note\n    d: 2").unwrap(),
        json!({"a": {"b": {"c": "1"}}, "d": "2"})
    );
    assert_eq!(
        parsed("a:\n  b:\n    c: 1\n\n    d: 2").unwrap(),
        json!({"a": {"b": {"c": "1", "d": "2"}}})
    );
    assert_eq!(
        parsed("a:\n  b:\n    c: 1\n    # same\n      # deeper\n    d: 2").unwrap(),
        json!({"a": {"b": {"c": "1", "d": "2"}}})
    );
}

// ---- §5: values and text blocks ---------------------------------------------------

#[test]
fn key_only_lines() {
    assert_eq!(parsed("key:").unwrap(), json!({"key": []}));
    assert_eq!(parsed("a@optional:").unwrap(), json!({"a@optional": []}));
    assert_eq!(
        parsed("a@kata:\n  b@int: 5").unwrap(),
        json!({"a@kata": {"b@int": "5"}})
    );
    assert_eq!(ev("x@bool:").unwrap(), json!({"x": false}));
    assert_eq!(ev("z@int:\n  q@int: 5").unwrap(), json!({"z": 0}));
    assert_eq!(ev("a@TEXT:").unwrap(), json!({"a": []}));
}

#[test]
fn text_block_rules() {
    let t = |s: &str| {
        parse(s)
            .map(|t| t.nodes[0].value.clone())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        t("a@text:\n  line1\n  \n  line2\nb: 2").unwrap(),
        NodeValue::Text("line1\n\nline2".into())
    );
    assert_eq!(
        t("a@text:\n  line1\n\n  line2").unwrap_err(),
        "Unexpected syntax (line 4): line2"
    );
    assert_eq!(
        t("a@text:\n\n  hello").unwrap_err(),
        "Unexpected syntax (line 3): hello"
    );
    assert_eq!(
        t("a@text:\n    four\n   three\n  two\nb: 1").unwrap(),
        NodeValue::Text("four\nhree\no".into())
    );
    assert_eq!(
        t("a@text:\n  x\n  ").unwrap(),
        NodeValue::Text("x\n".into())
    );
    assert_eq!(
        t("a@text:\n  x\n  \n  ").unwrap(),
        NodeValue::Text("x\n\n".into())
    );
    assert_eq!(t("a@text:").unwrap(), NodeValue::Text(String::new()));
    assert_eq!(
        t("a@text:\n  # not a comment\n  b: c").unwrap(),
        NodeValue::Text("# not a comment\nb: c".into())
    );
    // \r is removed everywhere.
    assert_eq!(
        t("a@text:\r\n  x\r\n  y\r\n").unwrap(),
        NodeValue::Text("x\ny".into())
    );
}

#[test]
fn text_annotation_at_parse_time() {
    let tree = parse("body@text:\n  hi\nt@text,raw:\n  x\na@text: hi").unwrap();
    let keys: Vec<&str> = tree.nodes.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(keys, ["body", "t@raw", "a@text"]);
}

// ---- §7: references ---------------------------------------------------------------

#[test]
fn references() {
    assert_eq!(
        parsed("options@ref,list: colors\n&colors@text:\n  red\n  blue").unwrap(),
        json!({"options@list": "red\nblue"})
    );
    assert_eq!(
        parsed("a@ref,int: nothere").unwrap(),
        json!({"a": "nothere"})
    );
    assert_eq!(
        parsed("x:\n  &inner: 1").unwrap(),
        json!({"x": {"&inner": "1"}})
    );
    assert_eq!(
        parsed("x@ref:\n  a: 1\n&x:\n  b: 2").unwrap(),
        json!({"x@ref": {"a": "1"}})
    );
    assert_eq!(
        parsed("p:\n  o@ref: options.colors\n&options:\n  colors: x").unwrap(),
        json!({"p": {"o": "options.colors"}})
    );
    // A definition may point into itself without a cycle.
    assert_eq!(
        parsed("u@ref: a\n&a:\n  x: 1\n  y@ref: a:x").unwrap(),
        json!({"u": {"x": "1", "y": "1"}})
    );
    // Definitions that are themselves references.
    assert_eq!(
        parsed("u@ref: a\n&a@ref: b\n&b@list:\n  q").unwrap(),
        json!({"u@list": "q"})
    );
}

#[test]
fn reference_cycles_are_detected() {
    assert_eq!(err("&a:\n  x@ref: a\nb: 1"), "Circular reference (line 2)");
    assert!(err("&a@ref: b\n&b@ref: a").starts_with("Circular reference (line "));
    assert!(matches!(
        parse("&a:\n  x@ref: b\n&b:\n  y@ref: a\nz@ref: a"),
        Err(KataError::CircularReference { .. })
    ));
}

#[test]
fn reference_bombs_hit_the_size_limit() {
    let mut doc = String::from("&l0:\n");
    for i in 0..10 {
        doc.push_str(&format!("  k{i}: {}\n", "x".repeat(100)));
    }
    for level in 1..12 {
        doc.push_str(&format!("&l{level}:\n"));
        for i in 0..10 {
            doc.push_str(&format!("  k{i}@ref: l{}\n", level - 1));
        }
    }
    doc.push_str("top@ref: l11\n");
    assert!(matches!(
        parse(&doc),
        Err(KataError::ReferenceTooLarge { .. })
    ));
}

#[test]
fn deep_nesting_is_bounded() {
    let mut doc = String::new();
    for i in 0..400 {
        doc.push_str(&" ".repeat(i));
        doc.push_str("k:\n");
    }
    assert!(matches!(parse(&doc), Err(KataError::TooDeep { .. })));
}

// ---- §8: general evaluation ------------------------------------------------------------

#[test]
fn raw_handling() {
    assert_eq!(ev("b@raw,bool: yes").unwrap(), json!({"b@bool": "yes"}));
    let no_dict = |s: &str| json_of(&eval_text(s, None, &NoScripting).unwrap());
    assert_eq!(no_dict("b@raw,bool: yes"), json!({"b@bool": "yes"}));
    assert_eq!(no_dict("c@bool,raw: yes"), json!({"c@bool": true}));
    assert_eq!(no_dict("k@key: name"), json!({"k": "name"}));
    assert_eq!(no_dict("t: {{name}}"), json!({"t": "{{name}}"}));
    assert_eq!(
        ev("x@ref,raw: t\n&t:\n  a@int: {{age}}").unwrap(),
        json!({"x": {"a@int": "{{age}}"}})
    );
}

#[test]
fn annotation_reference() {
    assert_eq!(ev("a@base64: !!!SGVsbG8=").unwrap(), json!({"a": "Hello"}));
    assert_eq!(
        ev("a@bit: yes\nb@bit: off").unwrap(),
        json!({"a": 1, "b": 0})
    );
    assert_eq!(
        ev("a@date: 2020-01-01 00:00:00 UTC\nb@date: garbage\nc@int,date: 5").unwrap(),
        json!({"a": 1577836800, "b": false, "c": false})
    );
    assert_eq!(
        ev("a@float: 2.5abc\nb@float: x\nc@float: 1e3\nd@float:  .5").unwrap(),
        json!({"a": 2.5, "b": 0, "c": 1000, "d": 0.5})
    );
    let v = eval_text("b@float: x", Some(&vars()), &NoScripting).unwrap();
    assert!(matches!(v.get("b"), Some(Value::Float(f)) if *f == 0.0));
    assert_eq!(
        ev("a@int: 12abc\nb@int: abc\nc@int: 1e3\nd@int: 1.9\ne@int: 99999999999999999999\nf@int: 0x1A\ng@int: 012\nh@int: 1_000\ni@int:  .5").unwrap(),
        json!({"a": 12, "b": 0, "c": 1000, "d": 1, "e": i64::MAX, "f": 0, "g": 12, "h": 1, "i": 0})
    );
    assert_eq!(
        ev("a@json: {}\nb@json: [1,2]\nc@json: nope\nd@json:").unwrap(),
        json!({"a": [], "b": [1, 2], "c": null, "d": null})
    );
    assert_eq!(
        ev("a@kata: b@int: 5\nb@kata: :bad").unwrap(),
        json!({"a": {"b@int": "5"}, "b": false})
    );
    assert_eq!(
        ev("a@key: name\nb@key: user.first\nc@key: missing\nd@key: name.deep").unwrap(),
        json!({"a": "Joe", "b": "Jo", "c": null, "d": "Joe"})
    );
    assert_eq!(
        ev("a@trim:   x  \nb@optional: \nc@text: t").unwrap(),
        json!({"a": "x", "b": [], "c": "t"})
    );
}

#[test]
fn annotations_chain_left_to_right() {
    let dict = katabox_value::json::from_serde(&json!({"js": "{\"a\":1}"}));
    let v = eval_text(
        "a@trim,int:  5 \nb@key,json: js\nc@int,date: 5",
        Some(&dict),
        &NoScripting,
    )
    .unwrap();
    assert_eq!(json_of(&v), json!({"a": 5, "b": {"a": 1}, "c": false}));
}

#[test]
fn evaluation_errors_name_the_path() {
    assert_eq!(
        ev("x:\n  y:\n    a@foo: yes").unwrap_err(),
        "[x:y:a] Unknown annotation: @foo"
    );
    assert_eq!(
        ev("x:\n  y/n@int: {{oops").unwrap_err(),
        "[x:y/n] Unclosed \"variable\" (line 1)"
    );
    assert_eq!(
        ev("a@foo: yes").unwrap_err(),
        "[a] Unknown annotation: @foo"
    );
}

// ---- §11: conversions -------------------------------------------------------------------

#[test]
fn kata_truthiness() {
    // Cerb's toBool is a loose in_array: numeric strings equal to 0 are
    // false too (checked against Cerb's engine).
    for f in [
        "", "0", "false", "no", "n", "off", " OFF ", "No", "0.0", "00",
    ] {
        assert!(!truthy(&Value::str(f)), "{f:?}");
    }
    for t in ["0.1", "nope", " no.", "yes", "1", "x"] {
        assert!(truthy(&Value::str(t)), "{t:?}");
    }
    assert!(!truthy(&Value::Null));
    assert!(!truthy(&Value::empty_array()));
    assert!(truthy(&Value::list([Value::Null])));
    assert!(!truthy(&Value::Int(0)));
    assert!(truthy(&Value::Int(2)));
}

#[test]
fn csv_and_lines_keep_holes() {
    assert_eq!(
        ev("a@csv: a,,b").unwrap(),
        json!({"a": {"0": "a", "2": "b"}})
    );
    assert_eq!(ev("a@csv: a, ,b").unwrap(), json!({"a": ["a", "", "b"]}));
    assert_eq!(ev("a@csv: ,a").unwrap(), json!({"a": {"1": "a"}}));
    assert_eq!(ev("a@csv: a, b,, ").unwrap(), json!({"a": ["a", "b"]}));
    assert_eq!(ev("a@csv:").unwrap(), json!({"a": []}));
    assert_eq!(
        ev("a@list:\n  x\n  \n  y").unwrap(),
        json!({"a": {"0": "x", "2": "y"}})
    );
}

// ---- §12: integer keys ------------------------------------------------------------------

#[test]
fn integer_keys() {
    assert_eq!(ev("0: a\n1: b").unwrap(), json!(["a", "b"]));
    assert_eq!(ev("0: a\n5: b").unwrap(), json!(["a", "b"]));
    assert_eq!(
        ev("x:\n  7: a\n  9: b").unwrap(),
        json!({"x": {"7": "a", "9": "b"}})
    );
    assert_eq!(
        ev("a: 1\n5: b\nc: 2").unwrap(),
        json!({"a": "1", "0": "b", "c": "2"})
    );
}

// ---- §16: worked examples --------------------------------------------------------------

#[test]
fn worked_examples() {
    let cases: &[(&str, Json)] = &[
        (
            "a@int: 5\nb:\n  c@bool: no",
            json!({"a": 5, "b": {"c": false}}),
        ),
        (
            "a: {{name}} is {{age}}\nb@int: {{age}}",
            json!({"a": "Joe is 37", "b": 37}),
        ),
        (
            "a@key: name\nb@key: user.first\nc@key: missing",
            json!({"a": "Joe", "b": "Jo", "c": null}),
        ),
        ("a@raw: {{name}}", json!({"a": "{{name}}"})),
        ("d@text,raw:\n  {{name}}", json!({"d": "{{name}}"})),
        (
            "a@json: {}\nb@json: [1,2]\nc@json: nope",
            json!({"a": [], "b": [1, 2], "c": null}),
        ),
        (
            "a@bool: OFF \nb@bool: 0.0\nc@bool:",
            json!({"a": false, "b": false, "c": false}),
        ),
        (
            "colors@list:\n  red\n  green",
            json!({"colors": ["red", "green"]}),
        ),
        (
            "p:\n  o@ref: options:colors\n&options:\n  colors@list:\n    red",
            json!({"p": {"o": ["red"]}}),
        ),
        ("a:\nb:", json!({"a": [], "b": []})),
    ];
    for (kata, expected) in cases {
        assert_eq!(&ev(kata).unwrap(), expected, "{kata}");
    }
    assert_eq!(
        ev("a@foo: yes").unwrap_err(),
        "[a] Unknown annotation: @foo"
    );
    assert_eq!(
        ev("object:\n\tstring: x").unwrap_err(),
        "Indents may not use tabs (line 2)"
    );
}

// ---- Node accessors ----------------------------------------------------------------------

#[test]
fn node_accessors() {
    let tree = parse("set/x@int,optional: 5\nplain: 1").unwrap();
    let n: &Node = &tree.nodes[0];
    assert_eq!(
        (n.name(), n.kind(), n.label(), n.line),
        ("set/x", "set", Some("x"), 1)
    );
    assert_eq!(n.annotations(), ["int", "optional"]);
    let p = &tree.nodes[1];
    assert_eq!(
        (p.name(), p.kind(), p.label(), p.annotations().len(), p.line),
        ("plain", "plain", None, 0, 2)
    );
}

// ---- §9: automation parameters ---------------------------------------------------------

fn params(kata: &str, dict: &Json) -> (Json, Vec<(String, String)>) {
    let tree = parse(kata).unwrap();
    let dict = katabox_value::json::from_serde(dict);
    let mut logs = Vec::new();
    let v = evaluate_params(
        &tree.nodes,
        &dict,
        &Placeholders,
        "start:set",
        &mut |p: &str, m: String| {
            logs.push((p.to_owned(), m));
        },
    );
    (json_of(&v), logs)
}

#[test]
fn parameter_evaluator_differences() {
    let d = json!({"a": {"b": {"c": 7}}, "a.b.c": "flat", "empty": ""});
    assert_eq!(
        params("x@key: a:b:c\ny@key: a.b.c", &d).0,
        json!({"x": 7, "y": "flat"})
    );
    assert_eq!(params("x@bogus: hi", &d).0, json!({"x": "hi"}));
    assert_eq!(
        params(
            "x@optional: {{empty}}\ny@key,optional: nope\nz@optional: 0\nw@optional,key: nope",
            &d
        )
        .0,
        // `@optional` acts where it stands (Cerb's engine): after `key` it
        // drops the null, before it the null is kept.
        json!({"z": "0", "w": null})
    );
    assert_eq!(
        params("x@int: 1E+5\ny@int: 1e5\nz@float: 2E+1", &d).0,
        json!({"x": "1E+5", "y": 100000, "z": "2E+1"})
    );
    assert_eq!(params("r@raw,int: {{a}}", &d).0, json!({"r@int": "{{a}}"}));
    assert_eq!(
        params("m:\n  n@int: 5\n  o@optional:", &d).0,
        json!({"m": {"n": 5, "o": []}})
    );
    let (v, logs) = params("bad@int: {{oops\nok: fine", &d);
    assert_eq!(v, json!({"bad": false, "ok": "fine"}));
    assert_eq!(
        logs,
        [(
            "start:set".to_owned(),
            "Scripting error: Unclosed \"variable\" (line 1)".to_owned()
        )]
    );
    let tree = parse("x@optional: {{empty}}").unwrap();
    let dict = katabox_value::json::from_serde(&d);
    assert!(
        evaluate_param_value(
            &tree.nodes[0],
            &dict,
            &Placeholders,
            "p",
            &mut |_: &str, _: String| {}
        )
        .is_none()
    );
}

// ---- §13: emitting -------------------------------------------------------------------------

#[test]
fn emitter_rules() {
    let v = katabox_value::json::from_serde(&json!({
        "list": ["a", "b"], "map": {"x": "1"}, "text": "l1\nl2", "empty": "", "n": 5, "t": true, "f": false, "fl": 1.5
    }));
    assert_eq!(
        emit(&v),
        "list@list:\n  a\n  b\nmap:\n  x: 1\ntext@text:\n  l1\n  l2\nempty@text:\nn@int: 5\nt: 1\nf: \nfl: 1.5"
    );
    // What is emitted parses back to the same tree.
    let back = eval_text(&emit(&v), Some(&Value::empty_array()), &NoScripting).unwrap();
    assert_eq!(json_of(&back)["map"], json!({"x": "1"}));
    assert_eq!(json_of(&back)["list"], json!(["a", "b"]));
    assert_eq!(json_of(&back)["text"], json!("l1\nl2"));
}

// ---- §14: schema validation ------------------------------------------------------------------

const SCHEMA: &str = "schema:\n  attributes:\n    start:\n      required@bool: yes\n      types:\n        object:\n          attributePatterns:\n            pattern/any:\n              match: *\n              attributes:\n                types:\n                  any:\n    name:\n      types:\n        string:\n    count:\n      types:\n        number:\n    item:\n      multiple@bool: yes\n      types:\n        string:\n";

#[test]
fn schema_validation() {
    let d = Value::empty_array();
    assert_eq!(
        validate("start:\n  x: 1", SCHEMA, None, &Placeholders),
        Ok(())
    );
    assert_eq!(
        validate("name: x", SCHEMA, None, &Placeholders),
        Err("Key `start:` is required".into())
    );
    assert_eq!(
        validate("start:\nfoo: 1", SCHEMA, None, &Placeholders),
        Err("Key `foo:` is unknown".into())
    );
    assert_eq!(
        validate("start:\nname/a: x", SCHEMA, None, &Placeholders),
        Err("Key `name:` must not have a name".into())
    );
    assert_eq!(
        validate("start:\nitem/a: x\nitem/b: y", SCHEMA, None, &Placeholders),
        Ok(())
    );
    assert_eq!(
        validate("start:\ncount: many", SCHEMA, Some(&d), &Placeholders),
        Err("Key `count:` must be of type: number".into())
    );
    assert_eq!(
        validate("start:\ncount: many", SCHEMA, None, &Placeholders),
        Ok(())
    );
    assert_eq!(
        validate("start:\ncount: 12", SCHEMA, Some(&d), &Placeholders),
        Ok(())
    );
    assert_eq!(
        validate(
            "start:\n  return:\n    a: {{oops",
            SCHEMA,
            None,
            &Placeholders
        ),
        Err("Scripting error [start:return:a:]: Unclosed \"variable\" (line 3)".into())
    );
    assert_eq!(
        validate("a : b", SCHEMA, None, &Placeholders),
        Err("Unexpected syntax (line 1): a : b".into())
    );
    assert_eq!(
        validate("start:", "x : y", None, &Placeholders),
        Err("Syntax error: Unexpected syntax (line 1): x : y".into())
    );
}
