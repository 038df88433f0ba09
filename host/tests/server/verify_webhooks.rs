//! Verified webhooks end to end: a real server on 127.0.0.1 with a real
//! redb data directory and a `secrets.toml`, listeners with a `verify`
//! block created through the admin API, and requests signed with each
//! sender's documented algorithm.

use crate::support::{EVENT_KATA, GITHUB_BODY, GITHUB_SECRET, GITHUB_SIGNATURE, TestServer};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value as Json, json};

const SEED_PACKAGE: &str = include_str!("../seed_package.json");
const AUTOMATION: &str = "example.webhook.respond";

// The Standard Webhooks specification's example.
const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SW_TIMESTAMP: &str = "1614265330";
const SW_BODY: &str = r#"{"test": 2432232314}"#;
const SW_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const STRIPE_SECRET: &str = "whsec_stripe_test_5f2b9c0d7e";
const TWILIO_SECRET: &str = "12345twilio-auth-token-abcdef";
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const HMAC_SECRET: &str = "partner-shared-key-0123456789";

fn secrets_toml() -> String {
    format!(
        "github_hook = \"{GITHUB_SECRET}\"\nsvix_orders = \"{SW_SECRET}\"\nstripe_live = \"{STRIPE_SECRET}\"\ntwilio_token = \"{TWILIO_SECRET}\"\nslack_signing = \"{SLACK_SECRET}\"\npartner = \"{HMAC_SECRET}\"\n"
    )
}

/// A server whose data directory holds the secrets above, with the seed
/// guide's automation imported.
async fn server() -> TestServer {
    let srv = TestServer::start(|config| {
        std::fs::create_dir_all(&config.data_dir).expect("data dir");
        let path = config.data_dir.join("secrets.toml");
        std::fs::write(&path, secrets_toml()).expect("secrets.toml");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
    })
    .await;
    srv.state.sandbox.warm_up().await.expect("sandbox");
    let (status, body) = srv
        .api(
            Method::POST,
            "/packages",
            Some(json!({"package": SEED_PACKAGE, "prompts": {}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    srv
}

/// Creates a listener with a verify block; returns its guid.
async fn listener(srv: &TestServer, verify: Json) -> String {
    let (status, body) = srv
        .api(
            Method::POST,
            "/webhooks",
            Some(json!({"name": "Verified", "automations_kata": EVENT_KATA, "verify": verify})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("warnings").is_none(), "{body}");
    body["guid"].as_str().expect("guid").to_string()
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn post(
    srv: &TestServer,
    path_and_query: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Answer {
    let mut req = reqwest::Client::new()
        .post(srv.url(path_and_query))
        .body(body.to_string());
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let resp = req.send().await.expect("webhook request");
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.expect("body"),
    }
}

/// The run history, newest first.
async fn runs(srv: &TestServer) -> Vec<Json> {
    let (status, body) = srv.api(Method::GET, "/runs?limit=100", None).await;
    assert_eq!(status, 200);
    body["runs"].as_array().cloned().unwrap_or_default()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hmac_sha512(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key).expect("key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The automation ran: 200 with the seed automation's JSON echo, and the
/// newest run names the automation.
async fn assert_ran(srv: &TestServer, answer: &Answer) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let echo: Json = serde_json::from_str(&answer.body).expect("JSON echo");
    assert_eq!(echo["http"]["method"], "POST", "{echo}");
    let newest = runs(srv).await.into_iter().next().expect("a run");
    assert_eq!(newest["automation"], AUTOMATION, "{newest}");
    assert_eq!(newest["status"], 200);
}

/// Rejected with 401 and `reason`, no automation, recorded as such.
async fn assert_rejected(srv: &TestServer, answer: &Answer, reason: &str) {
    assert_eq!((answer.status, answer.body.as_str()), (401, reason));
    let newest = runs(srv).await.into_iter().next().expect("a run");
    assert_eq!(newest["automation"], Json::Null, "{newest}");
    assert_eq!(newest["status"], 401);
    assert_eq!(newest["error"], format!("verify: {reason}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_published_example_is_accepted_and_a_wrong_signature_is_not() {
    let srv = server().await;
    let guid = listener(&srv, json!({"preset": "github", "secret": "github_hook"})).await;
    let path = format!("/webhooks/{guid}");

    let ok = post(
        &srv,
        &path,
        &[("X-Hub-Signature-256", GITHUB_SIGNATURE.into())],
        GITHUB_BODY,
    )
    .await;
    assert_ran(&srv, &ok).await;

    let tampered = post(
        &srv,
        &path,
        &[("X-Hub-Signature-256", GITHUB_SIGNATURE.into())],
        "Hello, World?",
    )
    .await;
    assert_rejected(&srv, &tampered, "signature mismatch").await;

    let missing = post(&srv, &path, &[], GITHUB_BODY).await;
    assert_rejected(&srv, &missing, "missing X-Hub-Signature-256 header").await;

    let history = runs(&srv).await;
    assert_eq!(
        history
            .iter()
            .filter(|r| r["automation"] == AUTOMATION)
            .count(),
        1
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_webhooks_signs_id_timestamp_and_body_and_rejects_old_timestamps() {
    let srv = server().await;
    let guid = listener(
        &srv,
        json!({"preset": "standard_webhooks", "secret": "svix_orders"}),
    )
    .await;
    let path = format!("/webhooks/{guid}");

    // The specification's example is correctly signed but years old: a replay.
    let replay = post(
        &srv,
        &path,
        &[
            ("webhook-id", SW_ID.into()),
            ("webhook-timestamp", SW_TIMESTAMP.into()),
            ("webhook-signature", SW_SIGNATURE.into()),
        ],
        SW_BODY,
    )
    .await;
    assert_rejected(&srv, &replay, "timestamp outside tolerance").await;

    // The same algorithm, signed now (key = base64 after `whsec_`).
    let key = B64.decode(&SW_SECRET["whsec_".len()..]).expect("key");
    let ts = now().to_string();
    let signed = format!("{SW_ID}.{ts}.{SW_BODY}");
    let sig = format!("v1,{}", B64.encode(hmac_sha256(&key, signed.as_bytes())));
    let headers = [
        ("webhook-id", SW_ID.to_string()),
        ("webhook-timestamp", ts.clone()),
        ("webhook-signature", format!("v1,bm90IHRoaXMgb25l {sig}")),
    ];
    let ok = post(&srv, &path, &headers, SW_BODY).await;
    assert_ran(&srv, &ok).await;

    let wrong = post(&srv, &path, &headers, r#"{"test": 1}"#).await;
    assert_rejected(&srv, &wrong, "signature mismatch").await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_signature_with_tolerance() {
    let srv = server().await;
    let guid = listener(&srv, json!({"preset": "stripe", "secret": "stripe_live"})).await;
    let path = format!("/webhooks/{guid}");
    let body = r#"{"id":"evt_1","object":"event","type":"charge.succeeded"}"#;
    let sign = |t: i64| {
        let sig = hex::encode(hmac_sha256(
            STRIPE_SECRET.as_bytes(),
            format!("{t}.{body}").as_bytes(),
        ));
        format!(
            "t={t},v1={sig},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
        )
    };

    let ok = post(&srv, &path, &[("Stripe-Signature", sign(now()))], body).await;
    assert_ran(&srv, &ok).await;

    let old = post(
        &srv,
        &path,
        &[("Stripe-Signature", sign(now() - 3600))],
        body,
    )
    .await;
    assert_rejected(&srv, &old, "timestamp outside tolerance").await;

    let forged = post(
        &srv,
        &path,
        &[(
            "Stripe-Signature",
            format!("t={},v1={}", now(), "ab".repeat(32)),
        )],
        body,
    )
    .await;
    assert_rejected(&srv, &forged, "signature mismatch").await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_signs_the_public_url_and_sorted_form_parameters() {
    let srv = server().await;
    let guid = listener(
        &srv,
        json!({"preset": "twilio", "secret": "twilio_token", "public_url": "https://hooks.example.com"}),
    )
    .await;
    let path = format!("/webhooks/{guid}?source=sms");
    let body = "To=%2B15551230000&From=%2B15559870000&Body=Hello+there&CallSid=CA123";
    // Twilio: URL, then each POST parameter sorted by name, name + value.
    let mut signed = format!("https://hooks.example.com/webhooks/{guid}?source=sms");
    for (name, value) in [
        ("Body", "Hello there"),
        ("CallSid", "CA123"),
        ("From", "+15559870000"),
        ("To", "+15551230000"),
    ] {
        signed.push_str(name);
        signed.push_str(value);
    }
    let sig = B64.encode(hmac_sha1(TWILIO_SECRET.as_bytes(), signed.as_bytes()));
    let form = (
        "Content-Type",
        "application/x-www-form-urlencoded".to_string(),
    );

    let ok = post(
        &srv,
        &path,
        &[form.clone(), ("X-Twilio-Signature", sig.clone())],
        body,
    )
    .await;
    assert_ran(&srv, &ok).await;

    let other_body = body.replace("Hello", "Goodbye");
    let tampered = post(
        &srv,
        &path,
        &[form, ("X-Twilio-Signature", sig)],
        &other_body,
    )
    .await;
    assert_rejected(&srv, &tampered, "signature mismatch").await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_v0_signature_and_replay_window() {
    let srv = server().await;
    let guid = listener(&srv, json!({"preset": "slack", "secret": "slack_signing"})).await;
    let path = format!("/webhooks/{guid}");
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fweather&text=94070";
    let sign = |ts: i64| {
        let base = format!("v0:{ts}:{body}");
        vec![
            ("X-Slack-Request-Timestamp", ts.to_string()),
            (
                "X-Slack-Signature",
                format!(
                    "v0={}",
                    hex::encode(hmac_sha256(SLACK_SECRET.as_bytes(), base.as_bytes()))
                ),
            ),
            (
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            ),
        ]
    };
    let ok = post(&srv, &path, &sign(now()), body).await;
    assert_ran(&srv, &ok).await;

    let replayed = post(&srv, &path, &sign(now() - 600), body).await;
    assert_rejected(&srv, &replayed, "timestamp outside tolerance").await;

    let mut wrong = sign(now());
    wrong[1].1 = format!("v0={}", "0".repeat(64));
    let wrong = post(&srv, &path, &wrong, body).await;
    assert_rejected(&srv, &wrong, "signature mismatch").await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_hmac_with_prefix_base64_and_timestamp() {
    let srv = server().await;
    let guid = listener(
        &srv,
        json!({
            "preset": "hmac", "secret": "partner", "header": "X-Signature",
            "algorithm": "sha512", "encoding": "base64", "prefix": "sha512=",
            "timestamp_header": "X-Timestamp", "payload": "{timestamp}.{body}",
        }),
    )
    .await;
    let path = format!("/webhooks/{guid}");
    let body = r#"{"order":42}"#;
    let sign = |ts: i64| {
        let sig = B64.encode(hmac_sha512(
            HMAC_SECRET.as_bytes(),
            format!("{ts}.{body}").as_bytes(),
        ));
        vec![
            ("X-Timestamp", ts.to_string()),
            ("X-Signature", format!("sha512={sig}")),
        ]
    };
    let ok = post(&srv, &path, &sign(now()), body).await;
    assert_ran(&srv, &ok).await;

    let old = post(&srv, &path, &sign(now() - 301 - 60), body).await;
    assert_rejected(&srv, &old, "timestamp outside tolerance").await;

    let unsigned = post(&srv, &path, &[("X-Timestamp", now().to_string())], body).await;
    assert_rejected(&srv, &unsigned, "missing X-Signature header").await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_delivery_gets_the_first_response_and_runs_once() {
    let srv = server().await;
    let guid = listener(
        &srv,
        json!({"preset": "github", "secret": "github_hook", "dedupe": {"window": 3600}}),
    )
    .await;
    let path = format!("/webhooks/{guid}");
    let headers = |id: &str| {
        vec![
            ("X-Hub-Signature-256", GITHUB_SIGNATURE.to_string()),
            ("X-GitHub-Delivery", id.to_string()),
        ]
    };

    let first = post(
        &srv,
        &path,
        &headers("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        GITHUB_BODY,
    )
    .await;
    assert_ran(&srv, &first).await;
    let second = post(
        &srv,
        &path,
        &headers("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        GITHUB_BODY,
    )
    .await;
    assert_eq!((second.status, &second.body), (first.status, &first.body));
    assert_eq!(
        second.headers.get("content-type"),
        first.headers.get("content-type")
    );

    let history = runs(&srv).await;
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(
        history
            .iter()
            .filter(|r| r["automation"] == AUTOMATION)
            .count(),
        1
    );
    assert_eq!(history[0]["automation"], Json::Null);
    assert_eq!(history[0]["error"], Json::Null);
    assert!(
        history[0]["logs"]
            .to_string()
            .contains("dedupe: replayed 72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        "{}",
        history[0]
    );

    // Another delivery id runs again.
    let third = post(&srv, &path, &headers("a-new-delivery"), GITHUB_BODY).await;
    assert_ran(&srv, &third).await;
    assert_eq!(srv.state.store.delivery_count().expect("count"), 2);

    // Deleting the listener removes its dedupe records.
    let id = runs(&srv).await[0]["listener_id"]
        .as_u64()
        .expect("listener id");
    let (status, _) = srv
        .api(Method::DELETE, &format!("/webhooks/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(srv.state.store.delivery_count().expect("count"), 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_validates_and_shows_verify_blocks_without_secrets() {
    let srv = server().await;
    let bad = [
        json!({"preset": "github"}),
        json!({"preset": "github", "secret": "github_hook", "tolerance": 60}),
        json!({"preset": "hmac", "secret": "partner"}),
        json!({"preset": "nope", "secret": "x"}),
        json!({"preset": "github", "secret": "github_hook", "sekret": 1}),
    ];
    for verify in bad {
        let (status, body) = srv
            .api(
                Method::POST,
                "/webhooks",
                Some(json!({"name": "Bad", "verify": verify})),
            )
            .await;
        assert_eq!(status, 400, "{verify}: {body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("Invalid 'verify'")),
            "{body}"
        );
    }

    let (status, body) = srv
        .api(
            Method::POST,
            "/webhooks",
            Some(json!({"name": "Typo", "verify": {"preset": "github", "secret": "githb_hook"}})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        body["warnings"],
        json!(["secret githb_hook is not configured"])
    );
    let id = body["id"].as_u64().expect("id");

    let (status, one) = srv.api(Method::GET, &format!("/webhooks/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        one["verify"],
        json!({"preset": "github", "secret": "githb_hook"})
    );

    // PUT replaces the block (and can fix it).
    let (status, put) = srv
        .api(
            Method::PUT,
            &format!("/webhooks/{id}"),
            Some(json!({"name": "Fixed", "verify": {"preset": "github", "secret": ["github_hook", "partner"]}})),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["verify"]["secret"], json!(["github_hook", "partner"]));
    assert!(put.get("warnings").is_none());

    // The configured secret's request to an unknown secret is the operator's problem: 500.
    let (_, list) = srv.api(Method::GET, "/secrets", None).await;
    let mut names: Vec<String> = list["secrets"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "github_hook",
            "partner",
            "slack_signing",
            "stripe_live",
            "svix_orders",
            "twilio_token"
        ]
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_secret_answers_500_and_runs_nothing() {
    let srv = server().await;
    let guid = listener(&srv, json!({"preset": "github", "secret": "github_hook"})).await;
    // Replace the block with one naming a secret that is not configured.
    let id = {
        let (_, list) = srv.api(Method::GET, "/webhooks", None).await;
        list["webhooks"][0]["id"].as_u64().expect("id")
    };
    let (status, _) = srv
        .api(
            Method::PUT,
            &format!("/webhooks/{id}"),
            Some(json!({"name": "V", "guid": guid, "automations_kata": EVENT_KATA, "verify": {"preset": "github", "secret": "missing"}})),
        )
        .await;
    assert_eq!(status, 200);
    let answer = post(
        &srv,
        &format!("/webhooks/{guid}"),
        &[("X-Hub-Signature-256", GITHUB_SIGNATURE.into())],
        GITHUB_BODY,
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (500, "verification misconfigured: unknown secret missing")
    );
    let newest = runs(&srv).await.into_iter().next().expect("run");
    assert_eq!(newest["automation"], Json::Null);
    assert_eq!(
        newest["error"],
        "verify: verification misconfigured: unknown secret missing"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_values_never_reach_the_run_history_or_the_admin_api() {
    let srv = server().await;
    let guid = listener(&srv, json!({"preset": "github", "secret": "github_hook"})).await;
    // A sender that puts the secret itself in the URL and headers: the run
    // record (request path) is scrubbed.
    let secret_in_path = format!(
        "/webhooks/{guid}/{}",
        "It%27s%20a%20Secret%20to%20Everybody"
    );
    let _ = post(
        &srv,
        &secret_in_path,
        &[("X-Hub-Signature-256", GITHUB_SIGNATURE.into())],
        GITHUB_BODY,
    )
    .await;
    let _ = post(
        &srv,
        &format!("/webhooks/{guid}/{STRIPE_SECRET}"),
        &[("X-Hub-Signature-256", STRIPE_SECRET.into())],
        STRIPE_SECRET,
    )
    .await;
    let _ = post(
        &srv,
        &format!("/webhooks/{guid}"),
        &[("X-Hub-Signature-256", format!("sha256={SLACK_SECRET}"))],
        GITHUB_BODY,
    )
    .await;

    let mut everything = String::new();
    for path in ["/runs?limit=1000", "/webhooks", "/secrets", "/automations"] {
        let (status, body) = srv.api(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}");
        everything.push_str(&body.to_string());
    }
    let history = runs(&srv).await;
    assert_eq!(history.len(), 3);
    assert!(
        everything.contains("<redacted:stripe_live>"),
        "{everything}"
    );
    for secret in [
        GITHUB_SECRET,
        SW_SECRET,
        STRIPE_SECRET,
        TWILIO_SECRET,
        SLACK_SECRET,
        HMAC_SECRET,
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_defaults_to_the_servers_base_url_and_checks_json_body_hashes() {
    let srv = server().await;
    let guid = listener(&srv, json!({"preset": "twilio", "secret": "twilio_token"})).await;
    let body = r#"{"event":"message.delivered"}"#;
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
    let path = format!("/webhooks/{guid}?bodySHA256={hash}");
    // The server's base URL (here the default http://ADDR/), as the sender was given it.
    let url = format!("http://{}{path}", srv.addr);
    let sig = B64.encode(hmac_sha1(TWILIO_SECRET.as_bytes(), url.as_bytes()));
    let json_type = ("Content-Type", "application/json".to_string());

    let ok = post(
        &srv,
        &path,
        &[json_type.clone(), ("X-Twilio-Signature", sig.clone())],
        body,
    )
    .await;
    assert_ran(&srv, &ok).await;

    let swapped = post(
        &srv,
        &path,
        &[json_type, ("X-Twilio-Signature", sig)],
        r#"{"event":"message.failed"}"#,
    )
    .await;
    assert_rejected(&srv, &swapped, "body hash mismatch").await;
    srv.stop().await;
}
