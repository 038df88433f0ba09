//! The `verify` block as operators write it, its validation, and dedupe.

mod common;

use common::{Req, hmac_sha256, secrets};
use katabox_verify::{
    ConfigError, DedupeDecision, DedupeKey, DedupeRecord, PENDING_TIMEOUT_SECS, Preset,
    StoredResponse, VerifiedDelivery, VerifyConfig, VerifyError,
};

fn parse(json: &str) -> Result<VerifyConfig, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

#[test]
fn json_and_toml_forms() {
    let c = parse(r#"{"preset":"github","secret":"gh","dedupe":{"window":3600}}"#).expect("valid");
    assert_eq!(c.preset, Preset::Github);
    assert_eq!(c.secret.0, ["gh"]);
    assert_eq!(c.dedupe.as_ref().map(|d| d.window), Some(3600));
    assert!(c.validate().is_ok());

    let c = parse(r#"{"preset":"standard-webhooks","secrets":["old","new"],"tolerance":120}"#)
        .expect("valid");
    assert_eq!(c.preset, Preset::StandardWebhooks);
    assert_eq!(c.secret.0, ["old", "new"]);
    assert_eq!(c.tolerance(), 120);

    let c: VerifyConfig = toml::from_str(
        "preset = \"hmac\"\nsecret = \"shared\"\nheader = \"X-Signature\"\nalgorithm = \"sha512\"\nencoding = \"base64\"\nprefix = \"sha512=\"\n[dedupe]\nheader = \"X-Request-Id\"\n",
    )
    .expect("valid toml");
    assert!(c.validate().is_ok());
    assert_eq!(c.dedupe.as_ref().map(|d| d.window), Some(86_400));

    // Round trip: one secret serializes as a string, defaults are omitted.
    let json =
        serde_json::to_string(&VerifyConfig::new(Preset::Slack, &["slack"])).expect("serializes");
    assert_eq!(json, r#"{"preset":"slack","secret":"slack"}"#);
    assert_eq!(
        parse(&json),
        Ok(VerifyConfig::new(Preset::Slack, &["slack"]))
    );
}

#[test]
fn typos_and_unknown_presets_are_rejected() {
    assert!(parse(r#"{"preset":"github","secret":"gh","tolerence":5}"#).is_err());
    assert!(parse(r#"{"preset":"gitlab","secret":"gh"}"#).is_err());
    assert!(parse(r#"{"secret":"gh"}"#).is_err());
    assert!(parse(r#"{"preset":"github","secret":"gh","dedupe":{"windw":1}}"#).is_err());
}

#[test]
fn options_must_fit_the_preset() {
    let check = |json: &str| parse(json).expect("parses").validate();
    assert_eq!(
        check(r#"{"preset":"github"}"#),
        Err(ConfigError::MissingOption {
            preset: "github",
            option: "secret"
        })
    );
    assert_eq!(
        check(r#"{"preset":"github","secret":"a","tolerance":60}"#),
        Err(ConfigError::UnsupportedOption {
            preset: "github",
            option: "tolerance"
        })
    );
    assert_eq!(
        check(r#"{"preset":"stripe","secret":"a","header":"X"}"#),
        Err(ConfigError::UnsupportedOption {
            preset: "stripe",
            option: "header"
        })
    );
    assert_eq!(
        check(r#"{"preset":"slack","secret":"a","public_url":"https://x"}"#),
        Err(ConfigError::UnsupportedOption {
            preset: "slack",
            option: "public_url"
        })
    );
    assert_eq!(
        check(r#"{"preset":"hmac","secret":"a"}"#),
        Err(ConfigError::MissingOption {
            preset: "hmac",
            option: "header"
        })
    );
    assert_eq!(
        check(r#"{"preset":"hmac","secret":"a","header":"X","payload":"{timestamp}.{body}"}"#),
        Err(ConfigError::MissingOption {
            preset: "hmac",
            option: "timestamp_header"
        })
    );
    assert!(matches!(
        check(r#"{"preset":"hmac","secret":"a","header":"X Y"}"#),
        Err(ConfigError::InvalidOption {
            option: "header",
            ..
        })
    ));
    assert!(matches!(
        check(r#"{"preset":"hmac","secret":"a","header":"X","payload":"{id}"}"#),
        Err(ConfigError::InvalidOption {
            option: "payload",
            ..
        })
    ));
    assert!(matches!(
        check(r#"{"preset":"twilio","secret":"a","public_url":"hooks.example.com"}"#),
        Err(ConfigError::InvalidOption {
            option: "public_url",
            ..
        })
    ));
    assert!(matches!(
        check(r#"{"preset":"stripe","secret":"a","tolerance":0}"#),
        Err(ConfigError::InvalidOption {
            option: "tolerance",
            ..
        })
    ));
    assert!(matches!(
        check(r#"{"preset":"github","secret":"a","dedupe":{"window":0}}"#),
        Err(ConfigError::InvalidOption {
            option: "dedupe.window",
            ..
        })
    ));
    assert!(matches!(
        check(r#"{"preset":"github","secret":["a","b","c","d","e","f","g","h","i"]}"#),
        Err(ConfigError::InvalidOption {
            option: "secret",
            ..
        })
    ));
    assert_eq!(
        check(r#"{"preset":"none","secret":"a"}"#),
        Err(ConfigError::UnsupportedOption {
            preset: "none",
            option: "secret"
        })
    );
    assert_eq!(
        check(r#"{"preset":"none","dedupe":{"header":"X-Id"}}"#),
        Ok(())
    );
}

#[test]
fn an_unknown_secret_is_a_500_not_a_401() {
    let c = VerifyConfig::new(Preset::Github, &["missing"]);
    let req = Req::post("x").header("X-Hub-Signature-256", "sha256=00");
    let err = c
        .verify(&req.parts(), &secrets(&[]), 0)
        .expect_err("misconfigured");
    assert_eq!(
        err,
        VerifyError::Config(ConfigError::UnknownSecret("missing".into()))
    );
    assert_eq!(err.status(), 500);
    assert!(!err.is_rejection());
    assert_eq!(
        err.to_string(),
        "verification misconfigured: unknown secret missing"
    );
}

fn github_dedupe(window: u64) -> VerifyConfig {
    parse(&format!(
        r#"{{"preset":"github","secret":"gh","dedupe":{{"window":{window}}}}}"#
    ))
    .expect("valid")
}

fn delivery(id: &str) -> VerifiedDelivery {
    VerifiedDelivery {
        delivery_id: Some(id.to_string()),
        timestamp: None,
    }
}

#[test]
fn dedupe_keys_are_per_listener_and_per_delivery() {
    let c = github_dedupe(3600);
    let a = DedupeKey::new(7, &c, &delivery("d-1")).expect("key");
    assert_eq!(a, DedupeKey::new(7, &c, &delivery("d-1")).expect("key"));
    assert_ne!(a, DedupeKey::new(8, &c, &delivery("d-1")).expect("key"));
    assert_ne!(a, DedupeKey::new(7, &c, &delivery("d-2")).expect("key"));
    assert!(a.as_str().starts_with("7:"));
    assert_eq!(a.as_str().len(), 2 + 64);
    assert_eq!(a.window(), 3600);
    // Listener 1 + id "1:x" must not collide with listener 11 + id ":x".
    assert_ne!(
        DedupeKey::new(1, &c, &delivery("1:x")),
        DedupeKey::new(11, &c, &delivery(":x"))
    );
    // No dedupe block, or no id: no key.
    assert!(
        DedupeKey::new(
            7,
            &VerifyConfig::new(Preset::Github, &["gh"]),
            &delivery("d-1")
        )
        .is_none()
    );
    assert!(DedupeKey::new(7, &c, &VerifiedDelivery::default()).is_none());
}

#[test]
fn a_repeat_within_the_window_gets_the_first_response() {
    let now = 1_000;
    let key = DedupeKey::new(1, &github_dedupe(3600), &delivery("d-1")).expect("key");
    assert_eq!(DedupeRecord::decide(None, now), DedupeDecision::Run);

    let mut record = key.claim("d-1", now);
    assert_eq!(record.expires_at, now + 3600);
    assert_eq!(
        DedupeRecord::decide(Some(&record), now + 1),
        DedupeDecision::InProgress
    );

    let response = StoredResponse {
        status: 202,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: b"queued\x00\xff".to_vec(),
    };
    record.complete(response.clone());
    // It survives the store's encoding.
    let stored = DedupeRecord::decode(&record.encode()).expect("decodes");
    assert_eq!(stored, record);
    assert_eq!(
        DedupeRecord::decide(Some(&stored), now + 3599),
        DedupeDecision::Replay(response)
    );
    assert_eq!(
        DedupeRecord::decide(Some(&stored), now + 3600),
        DedupeDecision::Run
    );
}

#[test]
fn failed_or_abandoned_first_runs_do_not_block_retries() {
    let key = DedupeKey::new(1, &github_dedupe(3600), &delivery("d-1")).expect("key");
    let mut record = key.claim("d-1", 0);
    assert_eq!(
        DedupeRecord::decide(Some(&record), PENDING_TIMEOUT_SECS),
        DedupeDecision::InProgress
    );
    assert_eq!(
        DedupeRecord::decide(Some(&record), PENDING_TIMEOUT_SECS + 1),
        DedupeDecision::Run
    );
    record.complete(StoredResponse {
        status: 503,
        headers: vec![],
        body: vec![],
    });
    assert_eq!(DedupeRecord::decide(Some(&record), 10), DedupeDecision::Run);
    assert_eq!(DedupeRecord::decode(b"not json"), None);
}

#[test]
fn end_to_end_a_replayed_github_delivery_is_deduped() {
    // Verify twice, derive the key twice: the second delivery finds the first's record.
    let s = secrets(&[("gh", "It's a Secret to Everybody")]);
    let sig = format!(
        "sha256={}",
        hex::encode(hmac_sha256(b"It's a Secret to Everybody", b"{}"))
    );
    let req = Req::post("{}")
        .header("X-Hub-Signature-256", sig)
        .header("X-GitHub-Delivery", "guid-1");
    let c = github_dedupe(600);
    let mut table = std::collections::HashMap::new();
    let first = c.verify(&req.parts(), &s, 100).expect("valid");
    let key = DedupeKey::new(3, &c, &first).expect("key");
    assert_eq!(
        DedupeRecord::decide(table.get(key.as_str()), 100),
        DedupeDecision::Run
    );
    let mut record = key.claim(first.delivery_id.as_deref().unwrap_or_default(), 100);
    record.complete(StoredResponse {
        status: 200,
        headers: vec![],
        body: b"ok".to_vec(),
    });
    table.insert(key.as_str().to_string(), record);

    let again = c.verify(&req.parts(), &s, 160).expect("still valid");
    let key2 = DedupeKey::new(3, &c, &again).expect("key");
    assert!(
        matches!(DedupeRecord::decide(table.get(key2.as_str()), 160), DedupeDecision::Replay(r) if r.body == b"ok")
    );
}

#[test]
fn parse_reads_json_or_toml_and_validates() {
    let json = VerifyConfig::parse(r#"{"preset":"slack","secret":"s"}"#).expect("json");
    let toml = VerifyConfig::parse("preset = \"slack\"\nsecret = \"s\"\n").expect("toml");
    assert_eq!(json, toml);
    assert_eq!(
        VerifyConfig::parse(r#"{"preset":"slack"}"#),
        Err("the slack preset needs `secret`".to_string())
    );
    assert!(VerifyConfig::parse("preset = \"slack\"\nsecret = 5\n").is_err());
}

#[test]
fn preset_names_parse_for_the_cli() {
    assert_eq!("github".parse::<Preset>(), Ok(Preset::Github));
    assert_eq!(
        "standard-webhooks".parse::<Preset>(),
        Ok(Preset::StandardWebhooks)
    );
    assert_eq!("generic".parse::<Preset>(), Ok(Preset::Hmac));
    assert!("GitHub".parse::<Preset>().is_err());
    assert_eq!(Preset::StandardWebhooks.to_string(), "standard_webhooks");
}
