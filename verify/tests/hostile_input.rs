//! Arbitrary header values and bodies never panic, whatever the preset.

mod common;

use common::{Req, secrets};
use katabox_verify::{DedupeKey, Preset, VerifyConfig};
use proptest::prelude::*;

const HEADERS: [&str; 12] = [
    "X-Hub-Signature-256",
    "X-GitHub-Delivery",
    "Stripe-Signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "X-Twilio-Signature",
    "Content-Type",
    "X-Slack-Signature",
    "X-Slack-Request-Timestamp",
    "X-Signature",
    "X-Timestamp",
];

fn configs() -> Vec<VerifyConfig> {
    let mut hmac = VerifyConfig::new(Preset::Hmac, &["k1", "k2"]);
    hmac.header = Some("X-Signature".into());
    hmac.timestamp_header = Some("X-Timestamp".into());
    hmac.payload = Some("{timestamp}:{body}".into());
    let mut b64 = VerifyConfig::new(Preset::Hmac, &["k1"]);
    b64.header = Some("X-Signature".into());
    b64.encoding = Some(katabox_verify::HmacEncoding::Base64);
    b64.prefix = Some("sha256=".into());
    let mut twilio = VerifyConfig::new(Preset::Twilio, &["k1"]);
    twilio.public_url = Some("https://example.com:8443/base".into());
    let mut none = VerifyConfig::new(Preset::None, &[]);
    none.dedupe = Some(katabox_verify::DedupeConfig {
        window: 60,
        header: Some("X-Signature".into()),
    });
    vec![
        VerifyConfig::new(Preset::Github, &["k1", "k2"]),
        VerifyConfig::new(Preset::Stripe, &["k1"]),
        VerifyConfig::new(Preset::StandardWebhooks, &["sw", "pk"]),
        VerifyConfig::new(Preset::Slack, &["k1"]),
        twilio,
        hmac,
        b64,
        none,
    ]
}

/// A valid `whpk_` key, so that the ed25519 path is exercised.
fn public_key() -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    format!("whpk_{}", common::b64(key.as_bytes()))
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        "(t=[0-9]{0,12}|v1=[0-9a-f]{0,70}|v1a?,[A-Za-z0-9+/=]{0,90}|sha256=[0-9a-fA-F]{0,70}|v0=[0-9a-f]{0,70}|[, =]){0,8}"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_headers_never_panic(
        values in proptest::collection::vec((0..HEADERS.len(), header_value()), 0..10),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        path in "[ -~]{0,40}",
        query in proptest::option::of("[ -~]{0,40}"),
        now in any::<i64>(),
    ) {
        let s = secrets(&[
            ("k1", "secret-one"),
            ("k2", "secret-two"),
            ("sw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            ("pk", &public_key()),
        ]);
        let mut req = Req::post(body);
        req.path = path;
        req.query = query;
        req.public_base_url = Some("http://[::1]".into());
        for (i, value) in values {
            req = req.header(HEADERS[i], value);
        }
        for config in configs() {
            if let Ok(delivery) = config.verify(&req.parts(), &s, now) {
                let _ = DedupeKey::new(1, &config, &delivery);
            }
        }
    }

    #[test]
    fn arbitrary_config_json_never_panics(json in "\\{(\"[a-z_]{1,12}\":(\"[ -~]{0,12}\"|[0-9]{1,20}|\\[\\]|null),?){0,6}\\}") {
        if let Ok(config) = serde_json::from_str::<VerifyConfig>(&json) {
            let _ = config.validate();
        }
    }
}
