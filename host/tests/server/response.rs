//! Run result → HTTP response (webhooks.md §6), and event KATA selection helpers.

use katabox::webhooks::event;
use katabox::webhooks::response::{self, RunEnd, WebhookResponse};
use katabox_value::Value;

fn finished(exit: &str, ret: &str) -> RunEnd {
    let ret = katabox_value::json::decode(ret.as_bytes()).expect("test JSON");
    let mut dict = katabox_value::Array::new();
    dict.insert("__return", ret);
    RunEnd::Finished {
        exit: exit.into(),
        dict: Value::array(dict),
    }
}

fn build(end: &RunEnd) -> WebhookResponse {
    response::build_response(end, &|uri| {
        (uri == "cerb:resource:logo").then(|| b"PNG".to_vec())
    })
}

#[test]
fn failure_is_an_empty_404() {
    let r = build(&RunEnd::Failed);
    assert_eq!((r.status, r.body.as_slice()), (404, &b""[..]));
}

#[test]
fn exit_and_timeout_are_an_empty_200() {
    for exit in ["exit", "error"] {
        let r = build(&finished(exit, r#"{"body":"x"}"#));
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b""[..]),
            "exit {exit}"
        );
    }
}

#[test]
fn await_acts_as_return() {
    let r = build(&finished("await", r#"{"status_code":202,"body":"later"}"#));
    assert_eq!((r.status, r.body.as_slice()), (202, &b"later"[..]));
}

#[test]
fn status_codes_convert_like_php() {
    let cases = [
        (r#"{"status_code":404}"#, 404),
        (r#"{"status_code":"404"}"#, 404),
        (r#"{"status_code":418.9}"#, 418),
        (r#"{"status_code":700}"#, 700),
        (r#"{"status_code":"abc"}"#, 500),
        (r#"{"status_code":{}}"#, 500),
        (r#"{}"#, 200),
    ];
    for (ret, status) in cases {
        assert_eq!(build(&finished("return", ret)).status, status, "{ret}");
    }
}

#[test]
fn headers_follow_php() {
    let r = build(&finished(
        "return",
        r#"{"headers":{"X-List":["a"],"X-Bad":"a\nb","X-A":"1","x-a":"2"},"body":"ok"}"#,
    ));
    assert_eq!(r.header("x-list"), Some("Array"));
    assert_eq!(r.header("x-bad"), None);
    assert_eq!(r.header("X-A"), Some("2"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
}

#[test]
fn location_turns_2xx_into_302_but_not_201_or_3xx() {
    let loc = |status: u16| {
        build(&finished(
            "return",
            &format!(r#"{{"status_code":{status},"headers":{{"Location":"/x"}}}}"#),
        ))
        .status
    };
    assert_eq!(loc(200), 302);
    assert_eq!(loc(201), 201);
    assert_eq!(loc(301), 301);
    assert_eq!(loc(404), 302);
}

#[test]
fn text_types_get_a_charset_others_do_not() {
    let ct = |t: &str| {
        build(&finished(
            "return",
            &format!(r#"{{"headers":{{"Content-Type":"{t}"}}}}"#),
        ))
        .header("content-type")
        .map(str::to_string)
    };
    assert_eq!(
        ct("text/plain").as_deref(),
        Some("text/plain;charset=UTF-8")
    );
    assert_eq!(
        ct("text/plain; charset=latin1").as_deref(),
        Some("text/plain; charset=latin1")
    );
    assert_eq!(ct("application/json").as_deref(), Some("application/json"));
}

#[test]
fn bodies_convert_like_php() {
    let body = |ret: &str| build(&finished("return", ret)).body;
    assert_eq!(body(r#"{"body":12}"#), b"12");
    assert_eq!(body(r#"{"body":true}"#), b"1");
    assert_eq!(body(r#"{"body":false}"#), b"");
    assert_eq!(body(r#"{"body":{}}"#), b"Array");
    assert_eq!(body(r#"{"body":[1]}"#), b"Array");
    assert_eq!(body(r#"{"body@base64":"SGVsbG8="}"#), b"Hello");
    assert_eq!(body(r#"{"body":"cerb:resource:logo"}"#), b"PNG");
    assert_eq!(body(r#"{"body":"cerb:resource:missing"}"#), b"");
    assert_eq!(body(r#"{"body":"cerb: not a uri"}"#), b"");
}

#[test]
fn resource_uris_parse() {
    use response::{ResourceUri, parse_resource_uri};
    assert_eq!(
        parse_resource_uri("cerb:automation_resource:abc"),
        Some(ResourceUri::AutomationResource("abc".into()))
    );
    assert_eq!(
        parse_resource_uri("cerb:resource:x"),
        Some(ResourceUri::Resource("x".into()))
    );
    assert_eq!(parse_resource_uri("cerb:resource:"), None);
    assert_eq!(parse_resource_uri("cerb:other:x"), None);
}

#[test]
fn handler_uris_name_automations() {
    assert_eq!(
        event::automation_name("cerb:automation:a.b").as_deref(),
        Some("a.b")
    );
    assert_eq!(event::automation_name("a.b").as_deref(), Some("a.b"));
    assert_eq!(event::automation_name("cerb:automation:a:b"), None);
    assert_eq!(event::automation_name("cerb:nonsense:a"), None);
}
