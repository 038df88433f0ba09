//! Request → dictionary (webhooks.md §2–3), checked against the spec's tables.

use katabox::store::ListenerRecord;
use katabox::webhooks::request::{self, TrustedProxies, WebhookRequest};
use katabox_value::Value;
use katabox_value::json::{JsonOptions, encode};

fn params_json(query: &str) -> String {
    let req = WebhookRequest {
        method: "GET".into(),
        query: Some(query.into()),
        ..WebhookRequest::default()
    };
    encode(
        &Value::array(request::params_map(&req)),
        &JsonOptions::plain(),
    )
    .unwrap_or_default()
}

#[test]
fn query_params_follow_php_and_cerb_rules() {
    let cases = [
        (
            "name=Joe+Customer&age=37",
            r#"{"name":"Joe Customer","age":"37"}"#,
        ),
        ("a=1&a=2", r#"{"a":"2"}"#),
        ("a[]=1&a[]=2", r#"["1","2"]"#),
        ("a[x]=1&a[y]=2", r#"{"a":{"x":"1","y":"2"}}"#),
        ("First-Name=Jo", r#"{"first_name":"Jo"}"#),
        ("user.name=x", r#"{"user_name":"x"}"#),
        ("x!y=1", r#"{"xy":"1"}"#),
        ("flag", r#"{"flag":""}"#),
        ("A[B]=1", r#"{"a":{"B":"1"}}"#),
        ("a[=1", r#"{"a_":"1"}"#),
        ("%C3%A9t%C3%A9=1", r#"{"t":"1"}"#),
        ("a=%zz&b=100%&c=%4", r#"{"a":"%zz","b":"100%","c":"%4"}"#),
        ("a[]=1&a[]=2&a=3", r#"{"a":"3"}"#),
        (
            "a%5B%5D=1&a%5B%5D=2&b%5Bk%5D=3",
            r#"{"a":["1","2"],"b":{"k":"3"}}"#,
        ),
        (
            "a[x][]=1&a[x][]=2&a[y][z]=3",
            r#"{"a":{"x":["1","2"],"y":{"z":"3"}}}"#,
        ),
        ("a[b=1&c]d=2", r#"{"a_b":"1","cd":"2"}"#),
        ("%21%21=1&ok=2", r#"{"":"1","ok":"2"}"#),
    ];
    for (query, expected) in cases {
        let got = params_json(query);
        let expected = if expected.starts_with('[') {
            format!(r#"{{"a":{expected}}}"#)
        } else {
            expected.to_string()
        };
        assert_eq!(got, expected, "query {query}");
    }
}

#[test]
fn colliding_keys_keep_the_last_value() {
    let got = params_json("a-b=1&a_b=2&A_B=3&ab=x&a%21b=y");
    assert_eq!(got, r#"{"a_b":"3","ab":"y"}"#);
}

#[test]
fn form_values_override_query_values() {
    let req = WebhookRequest {
        method: "POST".into(),
        query: Some("a=2&q=1".into()),
        headers: vec![(
            "Content-Type".into(),
            b"application/x-www-form-urlencoded; charset=utf-8".to_vec(),
        )],
        body: b"a=1&First-Name=Joe+Smith&e=%E2%82%AC".to_vec(),
        ..WebhookRequest::default()
    };
    let got = encode(
        &Value::array(request::params_map(&req)),
        &JsonOptions::plain(),
    )
    .unwrap_or_default();
    assert_eq!(got, r#"{"a":"1","q":"1","first_name":"Joe Smith","e":"€"}"#);
}

#[test]
fn a_json_body_is_not_parsed_into_params() {
    let req = WebhookRequest {
        method: "POST".into(),
        headers: vec![("Content-Type".into(), b"application/json".to_vec())],
        body: br#"{"a":1}"#.to_vec(),
        ..WebhookRequest::default()
    };
    assert!(request::params_map(&req).is_empty());
}

#[test]
fn multipart_fields_become_params_and_the_body_is_empty() {
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"Field-One\"\r\n\r\nvalue 1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"list[]\"\r\n\r\na\r\n--XyZ\r\nContent-Disposition: form-data; name=\"list[]\"\r\n\r\nb\r\n--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"f.txt\"\r\n\r\nfile\r\n--XyZ--\r\n";
    let req = WebhookRequest {
        method: "POST".into(),
        path: "/webhooks/g".into(),
        headers: vec![(
            "Content-Type".into(),
            b"multipart/form-data; boundary=XyZ".to_vec(),
        )],
        body: body.as_bytes().to_vec(),
        ..WebhookRequest::default()
    };
    let listener = listener();
    let dict = request::request_dict(&req, "", &listener, &TrustedProxies::default(), "http://h/");
    let params = dict.get("request_params").cloned().unwrap_or_default();
    let got = encode(&params, &JsonOptions::plain()).unwrap_or_default();
    assert_eq!(got, r#"{"field_one":"value 1","list":["a","b"]}"#);
    assert_eq!(dict.get("request_body").and_then(Value::as_str), Some(""));
}

#[test]
fn request_path_keeps_encoding_and_drops_one_trailing_segment() {
    let cases = [
        ("/webhooks/g", Some("")),
        ("/webhooks/g/", Some("")),
        (
            "/webhooks/g/some/folder/file.ext",
            Some("some/folder/file.ext"),
        ),
        ("/webhooks/g/some/folder/", Some("some/folder")),
        ("/webhooks/g/a//", Some("a/")),
        ("/webhooks/g//x", Some("/x")),
        ("/webhooks/g/a%20b", Some("a%20b")),
        ("/webhooks/g/a/./b/../c", Some("a/./b/../c")),
        ("/webhooks", None),
        ("/webhooks/", None),
    ];
    for (path, expected) in cases {
        let got = request::split_path(path).map(|(_, p)| p);
        assert_eq!(got.as_deref(), expected, "path {path}");
    }
    assert_eq!(
        request::split_path("/webhooks/abc/x")
            .map(|(g, _)| g)
            .as_deref(),
        Some("abc")
    );
}

fn listener() -> ListenerRecord {
    ListenerRecord {
        id: 7,
        name: "Hook".into(),
        guid: "g".into(),
        automations_kata: String::new(),
        updated_at: 1,
        body_limit: None,
        verify: None,
        is_disabled: false,
    }
}

#[test]
fn headers_are_normalised_joined_and_cookie_removed() {
    let req = WebhookRequest {
        method: "get".into(),
        headers: vec![
            ("X-CustomHeader".into(), b"true".to_vec()),
            ("Content-Type".into(), b"text/plain".to_vec()),
            ("Cookie".into(), b"secret=1".to_vec()),
            ("X-Multi".into(), b"a".to_vec()),
            ("x-multi".into(), b"b".to_vec()),
        ],
        peer: Some(
            "203.0.113.7"
                .parse()
                .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
        ),
        ..WebhookRequest::default()
    };
    let dict = request::request_dict(
        &req,
        "p",
        &listener(),
        &TrustedProxies::default(),
        "http://h/",
    );
    let headers = dict.get("request_headers").cloned().unwrap_or_default();
    let got = encode(&headers, &JsonOptions::plain()).unwrap_or_default();
    assert_eq!(
        got,
        r#"{"x_customheader":"true","content_type":"text/plain","x_multi":"a, b"}"#
    );
    assert_eq!(
        dict.get("request_method").and_then(Value::as_str),
        Some("GET")
    );
    assert_eq!(
        dict.get("request_client_ip").and_then(Value::as_str),
        Some("203.0.113.7")
    );
    assert_eq!(
        dict.get("webhook_id")
            .map(Value::to_string_lossy)
            .as_deref(),
        Some("7")
    );
    assert_eq!(dict.get("webhook_guid").and_then(Value::as_str), Some("g"));
}

#[test]
fn forwarded_for_is_used_only_from_trusted_proxies() {
    let mut req = WebhookRequest {
        method: "GET".into(),
        headers: vec![(
            "X-Forwarded-For".into(),
            b" 198.51.100.9 , 10.0.0.1".to_vec(),
        )],
        peer: "127.0.0.1".parse().ok(),
        ..WebhookRequest::default()
    };
    let none = TrustedProxies::default();
    let local = TrustedProxies::parse("127.0.0.0/8, ::1").unwrap_or_default();
    assert_eq!(request::client_ip(&req, &none), "127.0.0.1");
    // The right-most address that is not a trusted proxy (issue 20).
    assert_eq!(request::client_ip(&req, &local), "10.0.0.1");
    let private = TrustedProxies::parse("127.0.0.0/8, 10.0.0.0/8").unwrap_or_default();
    assert_eq!(request::client_ip(&req, &private), "198.51.100.9");
    for (items, want) in [
        (vec!["6.6.6.6, 203.0.113.9"], "203.0.113.9"),
        (vec!["6.6.6.6", "203.0.113.9, 10.9.9.9"], "203.0.113.9"),
        (vec!["203.0.113.9, junk"], "127.0.0.1"),
        (vec!["203.0.113.9, 10.1.1.1, junk"], "127.0.0.1"),
        (vec!["junk, 10.1.1.1"], "10.1.1.1"),
        (vec!["10.1.1.1, 10.2.2.2"], "10.1.1.1"),
        (vec!["::ffff:203.0.113.9"], "203.0.113.9"),
        (vec!["2001:db8::1"], "2001:db8::1"),
        (vec!["203.0.113.9:443"], "127.0.0.1"),
        (vec![""], "127.0.0.1"),
    ] {
        let r = WebhookRequest {
            headers: items
                .iter()
                .map(|v| ("x-forwarded-for".to_string(), v.as_bytes().to_vec()))
                .collect(),
            ..req.clone()
        };
        assert_eq!(request::client_ip(&r, &private), want, "{items:?}");
    }
    req.peer = "192.0.2.1".parse().ok();
    assert_eq!(request::client_ip(&req, &local), "192.0.2.1");
    assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
}

#[test]
fn hostile_names_do_not_panic_or_nest_without_bound() {
    let deep = format!("a{}=1", "[x]".repeat(10_000));
    let many = (0..5000)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join("&");
    let req = WebhookRequest {
        method: "GET".into(),
        query: Some(format!("{deep}&{many}")),
        ..WebhookRequest::default()
    };
    let params = request::params_map(&req);
    // Too deep a name is ignored; at most 1000 variables are read.
    assert!(params.get_str("a").is_none());
    assert!(params.len() <= 1000);
}
