//! Each sender's scheme: published examples where they exist, then
//! requests signed with the documented algorithm, accepted and rejected.

mod common;

use common::{Req, b64, hmac_sha1, hmac_sha256, hmac_sha512, secrets};
use katabox_verify::{
    ConfigError, DedupeConfig, HmacAlgorithm, HmacEncoding, Preset, VerifiedDelivery, VerifyConfig,
    VerifyError,
};

fn mismatch() -> Result<VerifiedDelivery, VerifyError> {
    Err(VerifyError::SignatureMismatch)
}

fn missing(header: &str) -> Result<VerifiedDelivery, VerifyError> {
    Err(VerifyError::MissingHeader(header.to_string()))
}

fn malformed(header: &str) -> Result<VerifiedDelivery, VerifyError> {
    Err(VerifyError::MalformedHeader(header.to_string()))
}

fn stale() -> Result<VerifiedDelivery, VerifyError> {
    Err(VerifyError::TimestampOutsideTolerance)
}

// ---------------------------------------------------------------- GitHub

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITHUB_SIG: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

fn github_request() -> Req {
    Req::post("Hello, World!")
        .header("X-Hub-Signature-256", GITHUB_SIG)
        .header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
}

#[test]
fn github_docs_example_is_accepted() {
    let config = VerifyConfig::new(Preset::Github, &["gh"]);
    let s = secrets(&[("gh", GITHUB_SECRET)]);
    let got = config
        .verify(&github_request().parts(), &s, 0)
        .expect("valid");
    assert_eq!(
        got.delivery_id.as_deref(),
        Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    );
    assert_eq!(got.timestamp, None);
}

#[test]
fn github_header_names_are_case_insensitive() {
    let config = VerifyConfig::new(Preset::Github, &["gh"]);
    let s = secrets(&[("gh", GITHUB_SECRET)]);
    let req = Req::post("Hello, World!").header("x-hub-signature-256", GITHUB_SIG);
    assert!(config.verify(&req.parts(), &s, 0).is_ok());
}

#[test]
fn github_rejections() {
    let config = VerifyConfig::new(Preset::Github, &["gh"]);
    let good = secrets(&[("gh", GITHUB_SECRET)]);
    let wrong = secrets(&[("gh", "It's a Secret to Somebody")]);
    assert_eq!(
        config.verify(&github_request().parts(), &wrong, 0),
        mismatch()
    );

    let mut tampered = github_request();
    tampered.body = b"Hello, World?".to_vec();
    assert_eq!(config.verify(&tampered.parts(), &good, 0), mismatch());

    let no_header = github_request().without("X-Hub-Signature-256");
    assert_eq!(
        config.verify(&no_header.parts(), &good, 0),
        missing("X-Hub-Signature-256")
    );
    let err = config
        .verify(&no_header.parts(), &good, 0)
        .expect_err("rejected");
    assert_eq!(err.to_string(), "missing X-Hub-Signature-256 header");
    assert_eq!(err.status(), 401);

    for bad in [
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha256=zz",
        "sha1=757107ea",
        "sha256=757107ea",
    ] {
        let req = github_request().replace("X-Hub-Signature-256", bad);
        assert_eq!(
            config.verify(&req.parts(), &good, 0),
            malformed("X-Hub-Signature-256"),
            "{bad}"
        );
    }
    let binary = github_request().replace("X-Hub-Signature-256", vec![0xff, 0xfe]);
    assert_eq!(
        config.verify(&binary.parts(), &good, 0),
        malformed("X-Hub-Signature-256")
    );
}

#[test]
fn github_key_rotation_accepts_either_secret() {
    let config = VerifyConfig::new(Preset::Github, &["old", "new"]);
    let s = secrets(&[("old", "retired secret"), ("new", GITHUB_SECRET)]);
    assert!(config.verify(&github_request().parts(), &s, 0).is_ok());
    let s = secrets(&[("old", GITHUB_SECRET), ("new", "next secret")]);
    assert!(config.verify(&github_request().parts(), &s, 0).is_ok());
    let s = secrets(&[("old", "a"), ("new", "b")]);
    assert_eq!(config.verify(&github_request().parts(), &s, 0), mismatch());
}

// ---------------------------------------------------------------- Stripe

const STRIPE_SECRET: &str = "whsec_test_stripe_endpoint_secret";
const STRIPE_BODY: &str =
    r#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"payment_intent.succeeded"}"#;
const NOW: i64 = 1_700_000_000;

fn stripe_header(secret: &str, t: i64, body: &str) -> String {
    let sig = hex::encode(hmac_sha256(
        secret.as_bytes(),
        format!("{t}.{body}").as_bytes(),
    ));
    format!("t={t},v1={sig}")
}

fn stripe_request(header: String) -> Req {
    Req::post(STRIPE_BODY).header("Stripe-Signature", header)
}

#[test]
fn stripe_accepts_and_reports_event_id() {
    let config = VerifyConfig::new(Preset::Stripe, &["stripe"]);
    let s = secrets(&[("stripe", STRIPE_SECRET)]);
    let req = stripe_request(stripe_header(STRIPE_SECRET, NOW - 10, STRIPE_BODY));
    let got = config.verify(&req.parts(), &s, NOW).expect("valid");
    assert_eq!(
        got.delivery_id.as_deref(),
        Some("evt_1NG8Du2eZvKYlo2CUI79vXWy")
    );
    assert_eq!(got.timestamp, Some(NOW - 10));
}

#[test]
fn stripe_any_v1_may_match_and_other_schemes_are_ignored() {
    let config = VerifyConfig::new(Preset::Stripe, &["stripe"]);
    let s = secrets(&[("stripe", STRIPE_SECRET)]);
    let good = stripe_header(STRIPE_SECRET, NOW, STRIPE_BODY);
    let good_sig = good
        .split_once(",v1=")
        .map(|(_, v)| v.to_string())
        .expect("v1");
    let other = hex::encode(hmac_sha256(
        b"another secret",
        format!("{NOW}.{STRIPE_BODY}").as_bytes(),
    ));
    let header = format!("t={NOW},v1={other},v0=deadbeef,v1=nothex,v1={good_sig}");
    assert!(
        config
            .verify(&stripe_request(header).parts(), &s, NOW)
            .is_ok()
    );
}

#[test]
fn stripe_rejections() {
    let config = VerifyConfig::new(Preset::Stripe, &["stripe"]);
    let s = secrets(&[("stripe", STRIPE_SECRET)]);
    let wrong = stripe_header("whsec_other", NOW, STRIPE_BODY);
    assert_eq!(
        config.verify(&stripe_request(wrong).parts(), &s, NOW),
        mismatch()
    );

    let mut tampered = stripe_request(stripe_header(STRIPE_SECRET, NOW, STRIPE_BODY));
    tampered.body = STRIPE_BODY.replace("succeeded", "failed").into_bytes();
    assert_eq!(config.verify(&tampered.parts(), &s, NOW), mismatch());

    // The timestamp is signed: changing it breaks the signature.
    let moved = stripe_header(STRIPE_SECRET, NOW, STRIPE_BODY)
        .replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
    assert_eq!(
        config.verify(&stripe_request(moved).parts(), &s, NOW),
        mismatch()
    );

    assert_eq!(
        config.verify(&Req::post(STRIPE_BODY).parts(), &s, NOW),
        missing("Stripe-Signature")
    );
    for bad in ["v1=abcd", "t=abc,v1=abcd", "t=1,t=2,v1=ab", "garbage"] {
        let req = stripe_request(bad.to_string());
        assert_eq!(
            config.verify(&req.parts(), &s, NOW),
            malformed("Stripe-Signature"),
            "{bad}"
        );
    }
    // A header with t but no v1 signature matches nothing.
    assert_eq!(
        config.verify(&stripe_request(format!("t={NOW}")).parts(), &s, NOW),
        mismatch()
    );
}

#[test]
fn stripe_replay_outside_tolerance_is_rejected() {
    let config = VerifyConfig::new(Preset::Stripe, &["stripe"]);
    let s = secrets(&[("stripe", STRIPE_SECRET)]);
    let at = |t: i64| stripe_request(stripe_header(STRIPE_SECRET, t, STRIPE_BODY));
    assert!(config.verify(&at(NOW - 300).parts(), &s, NOW).is_ok());
    assert!(config.verify(&at(NOW + 300).parts(), &s, NOW).is_ok());
    assert_eq!(config.verify(&at(NOW - 301).parts(), &s, NOW), stale());
    assert_eq!(config.verify(&at(NOW + 301).parts(), &s, NOW), stale());
    assert_eq!(
        config
            .verify(&at(NOW - 86_400).parts(), &s, NOW)
            .map_err(|e| e.to_string()),
        Err("timestamp outside tolerance".to_string())
    );

    let mut wide = config.clone();
    wide.tolerance = Some(600);
    assert!(wide.verify(&at(NOW - 599).parts(), &s, NOW).is_ok());
}

// ------------------------------------------------------ Standard Webhooks

const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_TS: i64 = 1_614_265_330;
const SW_BODY: &str = r#"{"test": 2432232314}"#;
const SW_V1: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// The ed25519 vector of the reference libraries: this seed, same message.
const SW_SEED: &str = "VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=";
const SW_V1A: &str =
    "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";

fn sw_request(signature: &str) -> Req {
    Req::post(SW_BODY)
        .header("webhook-id", SW_ID)
        .header("webhook-timestamp", SW_TS.to_string())
        .header("webhook-signature", signature)
}

fn sw_public_key() -> String {
    use base64::Engine;
    let seed = base64::engine::general_purpose::STANDARD
        .decode(SW_SEED)
        .expect("base64");
    let seed: [u8; 32] = seed.try_into().expect("32 bytes");
    let key = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    format!("whpk_{}", b64(key.as_bytes()))
}

#[test]
fn standard_webhooks_published_v1_vector_is_accepted() {
    let config = VerifyConfig::new(Preset::StandardWebhooks, &["sw"]);
    let s = secrets(&[("sw", SW_SECRET)]);
    let got = config
        .verify(&sw_request(SW_V1).parts(), &s, SW_TS)
        .expect("valid");
    assert_eq!(got.delivery_id.as_deref(), Some(SW_ID));
    assert_eq!(got.timestamp, Some(SW_TS));
    // The prefix is optional.
    let bare = secrets(&[("sw", SW_SECRET.trim_start_matches("whsec_"))]);
    assert!(
        config
            .verify(&sw_request(SW_V1).parts(), &bare, SW_TS)
            .is_ok()
    );
}

#[test]
fn standard_webhooks_published_v1a_vector_is_accepted() {
    let config = VerifyConfig::new(Preset::StandardWebhooks, &["sw_pk"]);
    let pk = sw_public_key();
    let s = secrets(&[("sw_pk", &pk)]);
    assert!(
        config
            .verify(&sw_request(SW_V1A).parts(), &s, SW_TS)
            .is_ok()
    );
    // A v1a signature does not pass against an HMAC secret, nor v1 against a key.
    let hmac_only = secrets(&[("sw_pk", SW_SECRET)]);
    assert_eq!(
        config.verify(&sw_request(SW_V1A).parts(), &hmac_only, SW_TS),
        mismatch()
    );
    assert_eq!(
        config.verify(&sw_request(SW_V1).parts(), &s, SW_TS),
        mismatch()
    );
    // Tampered body, or a signature from another ed25519 key.
    let mut tampered = sw_request(SW_V1A);
    tampered.body = br#"{"test": 2432232315}"#.to_vec();
    assert_eq!(config.verify(&tampered.parts(), &s, SW_TS), mismatch());
    let other = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let forged = {
        use ed25519_dalek::Signer;
        let message = format!("{SW_ID}.{SW_TS}.{SW_BODY}");
        format!("v1a,{}", b64(&other.sign(message.as_bytes()).to_bytes()))
    };
    assert_eq!(
        config.verify(&sw_request(&forged).parts(), &s, SW_TS),
        mismatch()
    );
    // The same forged message verifies under its own key: the check is real.
    let own = secrets(&[(
        "sw_pk",
        &format!("whpk_{}", b64(other.verifying_key().as_bytes())),
    )]);
    assert!(
        config
            .verify(&sw_request(&forged).parts(), &own, SW_TS)
            .is_ok()
    );
}

#[test]
fn standard_webhooks_several_signatures_for_rotation() {
    let config = VerifyConfig::new(Preset::StandardWebhooks, &["sw"]);
    let s = secrets(&[("sw", SW_SECRET)]);
    let bogus = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
    let header = format!("{bogus} v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {SW_V1} {bogus}");
    assert!(
        config
            .verify(&sw_request(&header).parts(), &s, SW_TS)
            .is_ok()
    );
    // Rotation on the receiving side: two configured keys, either may sign.
    let both = VerifyConfig::new(Preset::StandardWebhooks, &["old", "new"]);
    let pk = sw_public_key();
    let s = secrets(&[
        ("old", "whsec_c2VjcmV0LXRoYXQtd2FzLXJldGlyZWQ="),
        ("new", &pk),
    ]);
    assert!(both.verify(&sw_request(SW_V1A).parts(), &s, SW_TS).is_ok());
}

#[test]
fn standard_webhooks_rejections() {
    let config = VerifyConfig::new(Preset::StandardWebhooks, &["sw"]);
    let s = secrets(&[("sw", SW_SECRET)]);
    let wrong = secrets(&[("sw", "whsec_c2VjcmV0LXRoYXQtd2FzLXJldGlyZWQ=")]);
    assert_eq!(
        config.verify(&sw_request(SW_V1).parts(), &wrong, SW_TS),
        mismatch()
    );

    let mut tampered = sw_request(SW_V1);
    tampered.body = br#"{"test": 2432232315}"#.to_vec();
    assert_eq!(config.verify(&tampered.parts(), &s, SW_TS), mismatch());

    // The id is signed too.
    let other_id = sw_request(SW_V1).replace("webhook-id", "msg_other");
    assert_eq!(config.verify(&other_id.parts(), &s, SW_TS), mismatch());

    for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let req = sw_request(SW_V1).without(header);
        assert_eq!(config.verify(&req.parts(), &s, SW_TS), missing(header));
    }
    let bad_ts = sw_request(SW_V1).replace("webhook-timestamp", "yesterday");
    assert_eq!(
        config.verify(&bad_ts.parts(), &s, SW_TS),
        malformed("webhook-timestamp")
    );
    let no_entries = sw_request("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_eq!(
        config.verify(&no_entries.parts(), &s, SW_TS),
        malformed("webhook-signature")
    );
    assert_eq!(
        config.verify(&sw_request("v1,").parts(), &s, SW_TS),
        mismatch()
    );
    assert_eq!(
        config.verify(&sw_request("v1,!!!").parts(), &s, SW_TS),
        mismatch()
    );
}

#[test]
fn standard_webhooks_replay_window() {
    let config = VerifyConfig::new(Preset::StandardWebhooks, &["sw"]);
    let s = secrets(&[("sw", SW_SECRET)]);
    assert!(
        config
            .verify(&sw_request(SW_V1).parts(), &s, SW_TS + 300)
            .is_ok()
    );
    assert_eq!(
        config.verify(&sw_request(SW_V1).parts(), &s, SW_TS + 301),
        stale()
    );
    assert_eq!(
        config.verify(&sw_request(SW_V1).parts(), &s, SW_TS - 301),
        stale()
    );
}

#[test]
fn standard_webhooks_bad_secret_is_a_configuration_error() {
    let config = VerifyConfig::new(Preset::StandardWebhooks, &["sw"]);
    let s = secrets(&[("sw", "whsec_not base64!")]);
    let err = config
        .verify(&sw_request(SW_V1).parts(), &s, SW_TS)
        .expect_err("misconfigured");
    assert_eq!(
        err,
        VerifyError::Config(ConfigError::InvalidSecret {
            name: "sw".into(),
            expected: "a base64 whsec_ key"
        })
    );
    assert_eq!(err.status(), 500);
    let short_pk = secrets(&[("sw", "whpk_AAAA")]);
    let err = config
        .verify(&sw_request(SW_V1).parts(), &short_pk, SW_TS)
        .expect_err("misconfigured");
    assert_eq!(err.status(), 500);
    assert!(!err.to_string().contains("AAAA"));
}

// ---------------------------------------------------------------- Slack

// Slack's documented example ("Verifying requests from Slack").
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_TS: i64 = 1_531_420_618;
const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const SLACK_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

fn slack_request(sig: &str) -> Req {
    Req::post(SLACK_BODY)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Slack-Request-Timestamp", SLACK_TS.to_string())
        .header("X-Slack-Signature", sig)
}

#[test]
fn slack_docs_example_is_accepted() {
    let config = VerifyConfig::new(Preset::Slack, &["slack"]);
    let s = secrets(&[("slack", SLACK_SECRET)]);
    let got = config
        .verify(&slack_request(SLACK_SIG).parts(), &s, SLACK_TS + 5)
        .expect("valid");
    assert_eq!(got.timestamp, Some(SLACK_TS));
    assert_eq!(got.delivery_id, None);
}

#[test]
fn slack_events_api_event_id_is_the_delivery_id() {
    let config = VerifyConfig::new(Preset::Slack, &["slack"]);
    let s = secrets(&[("slack", SLACK_SECRET)]);
    let body =
        r#"{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention"}}"#;
    let sig = hex::encode(hmac_sha256(
        SLACK_SECRET.as_bytes(),
        format!("v0:{NOW}:{body}").as_bytes(),
    ));
    let req = Req::post(body)
        .header("X-Slack-Request-Timestamp", NOW.to_string())
        .header("X-Slack-Signature", format!("v0={sig}"));
    let got = config.verify(&req.parts(), &s, NOW).expect("valid");
    assert_eq!(got.delivery_id.as_deref(), Some("Ev08MFMKH6"));
}

#[test]
fn slack_rejections_and_replay() {
    let config = VerifyConfig::new(Preset::Slack, &["slack"]);
    let s = secrets(&[("slack", SLACK_SECRET)]);
    let wrong = secrets(&[("slack", "8f742231b10e8888abcd99yyyzzz85a6")]);
    assert_eq!(
        config.verify(&slack_request(SLACK_SIG).parts(), &wrong, SLACK_TS),
        mismatch()
    );
    let mut tampered = slack_request(SLACK_SIG);
    tampered.body = SLACK_BODY.replace("roadrunner", "coyote").into_bytes();
    assert_eq!(config.verify(&tampered.parts(), &s, SLACK_TS), mismatch());
    let moved =
        slack_request(SLACK_SIG).replace("X-Slack-Request-Timestamp", (SLACK_TS + 1).to_string());
    assert_eq!(config.verify(&moved.parts(), &s, SLACK_TS), mismatch());
    assert_eq!(
        config.verify(
            &slack_request(SLACK_SIG)
                .without("X-Slack-Signature")
                .parts(),
            &s,
            SLACK_TS
        ),
        missing("X-Slack-Signature")
    );
    assert_eq!(
        config.verify(
            &slack_request(SLACK_SIG)
                .without("X-Slack-Request-Timestamp")
                .parts(),
            &s,
            SLACK_TS
        ),
        missing("X-Slack-Request-Timestamp")
    );
    assert_eq!(
        config.verify(
            &slack_request(&SLACK_SIG.replace("v0=", "v1=")).parts(),
            &s,
            SLACK_TS
        ),
        malformed("X-Slack-Signature")
    );
    // The documented request replayed years later.
    assert_eq!(
        config.verify(&slack_request(SLACK_SIG).parts(), &s, NOW),
        stale()
    );
    assert_eq!(
        config.verify(&slack_request(SLACK_SIG).parts(), &s, SLACK_TS - 301),
        stale()
    );
}

// ---------------------------------------------------------------- Twilio

// twilio-python's request-validator test values.
const TWILIO_TOKEN: &str = "12345";
const TWILIO_PARAMS: &str = "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309";
const TWILIO_SIG: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

fn twilio_request(base: &str, sig: &str) -> Req {
    let mut req = Req::post(TWILIO_PARAMS)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", sig);
    req.path = "/myapp.php".to_string();
    req.query = Some("foo=1&bar=2".to_string());
    req.public_base_url = Some(base.to_string());
    req
}

fn twilio_config() -> VerifyConfig {
    VerifyConfig::new(Preset::Twilio, &["twilio"])
}

#[test]
fn twilio_library_example_is_accepted() {
    let s = secrets(&[("twilio", TWILIO_TOKEN)]);
    let req = twilio_request("https://mycompany.com", TWILIO_SIG)
        .header("I-Twilio-Idempotency-Token", "abc-123");
    let got = twilio_config().verify(&req.parts(), &s, 0).expect("valid");
    assert_eq!(got.delivery_id.as_deref(), Some("abc-123"));
}

#[test]
fn twilio_params_in_any_order_sign_the_same() {
    let s = secrets(&[("twilio", TWILIO_TOKEN)]);
    let mut req = twilio_request("https://mycompany.com", TWILIO_SIG);
    req.body = b"To=%2B18005551212&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&CallSid=CA1234567890ABCDE".to_vec();
    assert!(twilio_config().verify(&req.parts(), &s, 0).is_ok());
    // Repeated names (twilio-python's duplicate-parameter example).
    let mut dup = twilio_request("https://mycompany.com", "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    dup.body = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234".to_vec();
    assert!(twilio_config().verify(&dup.parts(), &s, 0).is_ok());
}

#[test]
fn twilio_ports_are_tried_with_and_without() {
    let s = secrets(&[("twilio", TWILIO_TOKEN)]);
    // Signed without a port, configured with one.
    let req = twilio_request("https://mycompany.com:1234", TWILIO_SIG);
    assert!(twilio_config().verify(&req.parts(), &s, 0).is_ok());
    // Signed with the default port, configured without.
    let req = twilio_request("https://mycompany.com", "kvajT1Ptam85bY51eRf/AJRuM3w=");
    assert!(twilio_config().verify(&req.parts(), &s, 0).is_ok());
    let req = twilio_request("http://mycompany.com", "0ZXoZLH/DfblKGATFgpif+LLRf4=");
    assert!(twilio_config().verify(&req.parts(), &s, 0).is_ok());
    let req = twilio_request("http://mycompany.com:1234", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=");
    assert!(twilio_config().verify(&req.parts(), &s, 0).is_ok());
}

#[test]
fn twilio_json_body_is_checked_through_body_sha256() {
    let s = secrets(&[("twilio", TWILIO_TOKEN)]);
    let body = r#"{"property": "value", "boolean": true}"#;
    let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    let mut req = twilio_request("https://mycompany.com", "a9nBmqA0ju/hNViExpshrM61xv4=")
        .replace("Content-Type", "application/json");
    req.body = body.as_bytes().to_vec();
    req.query = Some(format!("foo=1&bar=2&bodySHA256={hash}"));
    assert!(twilio_config().verify(&req.parts(), &s, 0).is_ok());
    let mut tampered = req.clone();
    tampered.body = body.replace("value", "other").into_bytes();
    assert_eq!(
        twilio_config().verify(&tampered.parts(), &s, 0),
        Err(VerifyError::BodyHashMismatch)
    );
    // A non-form body without bodySHA256 is not covered by the signature.
    let mut unsigned = req.clone();
    unsigned.query = Some("foo=1&bar=2".to_string());
    assert_eq!(
        twilio_config().verify(&unsigned.parts(), &s, 0),
        Err(VerifyError::BodyHashMismatch)
    );
}

#[test]
fn twilio_rejections() {
    let s = secrets(&[("twilio", TWILIO_TOKEN)]);
    let wrong = secrets(&[("twilio", "54321")]);
    let req = twilio_request("https://mycompany.com", TWILIO_SIG);
    assert_eq!(twilio_config().verify(&req.parts(), &wrong, 0), mismatch());
    let mut tampered = req.clone();
    tampered.body = TWILIO_PARAMS.replace("1234&", "9999&").into_bytes();
    assert_eq!(twilio_config().verify(&tampered.parts(), &s, 0), mismatch());
    // Another host, path or query is another URL.
    let other_host = twilio_request("https://evil.example", TWILIO_SIG);
    assert_eq!(
        twilio_config().verify(&other_host.parts(), &s, 0),
        mismatch()
    );
    let mut other_query = req.clone();
    other_query.query = Some("foo=1&bar=3".to_string());
    assert_eq!(
        twilio_config().verify(&other_query.parts(), &s, 0),
        mismatch()
    );
    assert_eq!(
        twilio_config().verify(&req.clone().without("X-Twilio-Signature").parts(), &s, 0),
        missing("X-Twilio-Signature")
    );
    let bad = req
        .clone()
        .replace("X-Twilio-Signature", "not base64 at all");
    assert_eq!(
        twilio_config().verify(&bad.parts(), &s, 0),
        malformed("X-Twilio-Signature")
    );
}

#[test]
fn twilio_listener_public_url_overrides_the_server_one() {
    let s = secrets(&[("twilio", TWILIO_TOKEN)]);
    let req = twilio_request("https://wrong.example", TWILIO_SIG);
    let mut config = twilio_config();
    config.public_url = Some("https://mycompany.com/".to_string());
    assert!(config.verify(&req.parts(), &s, 0).is_ok());
    // Neither set: a configuration error, not a 401.
    let mut none = req.clone();
    none.public_base_url = None;
    let err = twilio_config()
        .verify(&none.parts(), &s, 0)
        .expect_err("misconfigured");
    assert_eq!(err.status(), 500);
}

#[test]
fn twilio_signature_matches_an_independent_computation() {
    // Path prefix in the public URL (a reverse proxy mounting katabox
    // under /hooks) and a GET with no body.
    let s = secrets(&[("twilio", TWILIO_TOKEN)]);
    let url = "https://example.org/hooks/webhooks/abc?x=1";
    let sig = b64(&hmac_sha1(TWILIO_TOKEN.as_bytes(), url.as_bytes()));
    let mut req = Req::post("").header("X-Twilio-Signature", sig);
    req.method = "GET".to_string();
    req.query = Some("x=1".to_string());
    req.public_base_url = Some("https://example.org/hooks".to_string());
    assert!(twilio_config().verify(&req.parts(), &s, 0).is_ok());
}

// ---------------------------------------------------------- generic HMAC

fn hmac_config() -> VerifyConfig {
    let mut c = VerifyConfig::new(Preset::Hmac, &["shared"]);
    c.header = Some("X-Signature".to_string());
    c
}

#[test]
fn generic_hmac_defaults_to_hex_sha256_of_the_body() {
    let s = secrets(&[("shared", "s3cret")]);
    let sig = hex::encode(hmac_sha256(b"s3cret", b"payload"));
    let req = Req::post("payload").header("X-Signature", sig.to_uppercase());
    assert!(hmac_config().verify(&req.parts(), &s, 0).is_ok());
    let mut tampered = req.clone();
    tampered.body = b"payload!".to_vec();
    assert_eq!(hmac_config().verify(&tampered.parts(), &s, 0), mismatch());
    assert_eq!(
        hmac_config().verify(&Req::post("payload").parts(), &s, 0),
        missing("X-Signature")
    );
}

#[test]
fn generic_hmac_algorithms_encodings_and_prefix() {
    let s = secrets(&[("shared", "s3cret")]);
    let cases: [(HmacAlgorithm, HmacEncoding, &str, String); 3] = [
        (
            HmacAlgorithm::Sha1,
            HmacEncoding::Hex,
            "sha1=",
            hex::encode(hmac_sha1(b"s3cret", b"body")),
        ),
        (
            HmacAlgorithm::Sha256,
            HmacEncoding::Base64,
            "",
            b64(&hmac_sha256(b"s3cret", b"body")),
        ),
        (
            HmacAlgorithm::Sha512,
            HmacEncoding::Base64,
            "sha512=",
            b64(&hmac_sha512(b"s3cret", b"body")),
        ),
    ];
    for (algorithm, encoding, prefix, sig) in cases {
        let mut c = hmac_config();
        c.algorithm = Some(algorithm);
        c.encoding = Some(encoding);
        c.prefix = Some(prefix.to_string());
        let req = Req::post("body").header("X-Signature", format!("{prefix}{sig}"));
        assert!(c.verify(&req.parts(), &s, 0).is_ok(), "{algorithm:?}");
        // The prefix is required when configured.
        if !prefix.is_empty() {
            let bare = Req::post("body").header("X-Signature", sig.clone());
            assert_eq!(c.verify(&bare.parts(), &s, 0), malformed("X-Signature"));
        }
        // A digest of another algorithm's length is malformed.
        let short =
            Req::post("body").header("X-Signature", format!("{prefix}{}", hex::encode([0u8; 4])));
        assert_eq!(c.verify(&short.parts(), &s, 0), malformed("X-Signature"));
    }
}

#[test]
fn generic_hmac_with_signed_timestamp() {
    let s = secrets(&[("shared", "s3cret")]);
    let mut c = hmac_config();
    c.timestamp_header = Some("X-Timestamp".to_string());
    c.payload = Some("{timestamp}.{body}".to_string());
    let sign = |t: i64| {
        Req::post("body")
            .header("X-Timestamp", t.to_string())
            .header(
                "X-Signature",
                hex::encode(hmac_sha256(b"s3cret", format!("{t}.body").as_bytes())),
            )
    };
    assert_eq!(
        c.verify(&sign(NOW).parts(), &s, NOW).map(|d| d.timestamp),
        Ok(Some(NOW))
    );
    assert_eq!(c.verify(&sign(NOW - 301).parts(), &s, NOW), stale());
    let moved = sign(NOW).replace("X-Timestamp", (NOW + 1).to_string());
    assert_eq!(c.verify(&moved.parts(), &s, NOW), mismatch());
    assert_eq!(
        c.verify(&sign(NOW).without("X-Timestamp").parts(), &s, NOW),
        missing("X-Timestamp")
    );
}

#[test]
fn dedupe_header_names_the_delivery_id() {
    let s = secrets(&[("shared", "s3cret")]);
    let mut c = hmac_config();
    c.dedupe = Some(DedupeConfig {
        window: 3600,
        header: Some("X-Request-Id".to_string()),
    });
    let sig = hex::encode(hmac_sha256(b"s3cret", b"payload"));
    let req = Req::post("payload")
        .header("X-Signature", sig)
        .header("x-request-id", "req-42");
    assert_eq!(
        c.verify(&req.parts(), &s, 0)
            .expect("valid")
            .delivery_id
            .as_deref(),
        Some("req-42")
    );
    // It replaces a preset's own id.
    let mut gh = VerifyConfig::new(Preset::Github, &["gh"]);
    gh.dedupe = Some(DedupeConfig {
        window: 60,
        header: Some("X-Request-Id".to_string()),
    });
    let s = secrets(&[("gh", GITHUB_SECRET)]);
    let req = github_request().header("X-Request-Id", "mine");
    assert_eq!(
        gh.verify(&req.parts(), &s, 0)
            .expect("valid")
            .delivery_id
            .as_deref(),
        Some("mine")
    );
}
