//! Hostile requests and results never panic the pure webhook functions.

use katabox::store::ListenerRecord;
use katabox::webhooks::request::{self, TrustedProxies, WebhookRequest};
use katabox::webhooks::response::{self, RunEnd};
use proptest::prelude::*;

fn listener() -> ListenerRecord {
    ListenerRecord {
        id: 1,
        name: "L".into(),
        guid: "g".into(),
        automations_kata: String::new(),
        updated_at: 0,
        body_limit: None,
        verify: None,
        is_disabled: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn request_dictionaries_never_panic(
        path in "[/a-z%.\\[\\] ]{0,40}",
        query in "[a-zA-Z0-9=&%\\[\\]+.!-]{0,80}",
        ct in prop_oneof![
            Just("application/x-www-form-urlencoded".to_string()),
            Just("multipart/form-data; boundary=b".to_string()),
            "[ -~]{0,30}",
        ],
        body in proptest::collection::vec(any::<u8>(), 0..200),
        header_name in "[A-Za-z-]{1,12}",
    ) {
        let req = WebhookRequest {
            method: "POST".into(),
            path: format!("/webhooks/g{path}"),
            query: Some(query),
            headers: vec![("Content-Type".into(), ct.into_bytes()), (header_name, b"v".to_vec())],
            body,
            peer: None,
        };
        let _ = request::split_path(&req.path);
        let d = request::request_dict(&req, "", &listener(), &TrustedProxies::default(), "http://h/");
        prop_assert!(d.get("request_params").is_some());
    }

    #[test]
    fn responses_never_panic(ret in "[ -~]{0,120}") {
        // Any JSON document (or none) as __return.
        let value = katabox_value::json::decode(ret.as_bytes()).unwrap_or_default();
        let mut dict = katabox_value::Array::new();
        dict.insert("__return", value);
        let end = RunEnd::Finished { exit: "return".into(), dict: katabox_value::Value::array(dict) };
        let r = response::build_response(&end, &|_| None);
        prop_assert!((100..=999).contains(&r.status));
        prop_assert!(r.header("content-type").is_some());
    }
}
