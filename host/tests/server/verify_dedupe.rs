//! The dedupe table on a real redb file: claim, in-progress, completion,
//! 5xx release, expiry, purge, and the handler's 409 while a first
//! delivery still runs.

use crate::support::TestServer;
use katabox::store::{RedbStore, StoreConfig};
use katabox_verify::{
    DedupeConfig, DedupeDecision, DedupeKey, Preset, StoredResponse, VerifiedDelivery, VerifyConfig,
};

fn key(listener: u64, id: &str, window: u64) -> DedupeKey {
    let mut config = VerifyConfig::new(Preset::None, &[]);
    config.dedupe = Some(DedupeConfig {
        window,
        header: Some("X-Id".into()),
    });
    let delivery = VerifiedDelivery {
        delivery_id: Some(id.into()),
        timestamp: None,
    };
    DedupeKey::new(listener, &config, &delivery).expect("key")
}

fn response(status: u16) -> StoredResponse {
    StoredResponse {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: b"{\"ok\":true}".to_vec(),
    }
}

#[test]
fn claims_complete_replay_release_and_expire() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = RedbStore::open(dir.path(), StoreConfig::default()).expect("store");
    let k = key(1, "abc", 60);

    assert_eq!(
        store.claim_delivery(&k, "abc", 1000).expect("claim"),
        DedupeDecision::Run
    );
    assert_eq!(
        store.claim_delivery(&k, "abc", 1001).expect("claim"),
        DedupeDecision::InProgress
    );
    store
        .complete_delivery(&k, Some(response(201)))
        .expect("complete");
    assert_eq!(
        store.claim_delivery(&k, "abc", 1002).expect("claim"),
        DedupeDecision::Replay(response(201))
    );
    // After the window the id runs again (and claims afresh).
    assert_eq!(
        store.claim_delivery(&k, "abc", 1060).expect("claim"),
        DedupeDecision::Run
    );

    // A 5xx answer is not kept: the sender's retry runs again.
    let k2 = key(1, "def", 60);
    assert_eq!(
        store.claim_delivery(&k2, "def", 1000).expect("claim"),
        DedupeDecision::Run
    );
    store
        .complete_delivery(&k2, Some(response(503)))
        .expect("complete");
    assert_eq!(
        store.claim_delivery(&k2, "def", 1001).expect("claim"),
        DedupeDecision::Run
    );

    // Other listeners have their own keys.
    let other = key(2, "abc", 60);
    assert_eq!(
        store.claim_delivery(&other, "abc", 1001).expect("claim"),
        DedupeDecision::Run
    );
    assert_eq!(store.delivery_count().expect("count"), 3);

    // Purge drops only what has expired (k at 1060+60, k2 at 1061, other at 1061).
    assert_eq!(store.purge_deliveries(1100).expect("purge"), 2);
    assert_eq!(store.delivery_count().expect("count"), 1);

    // The records survive a reopen (a real file).
    drop(store);
    let store = RedbStore::open(dir.path(), StoreConfig::default()).expect("reopen");
    assert_eq!(
        store.claim_delivery(&k, "abc", 1101).expect("claim"),
        DedupeDecision::InProgress
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_arriving_while_the_first_runs_gets_409_with_retry_after() {
    let srv = TestServer::start(|_| {}).await;
    let (status, body) = srv
        .api(
            reqwest::Method::POST,
            "/webhooks",
            Some(serde_json::json!({
                "name": "Dedupe only",
                "automations_kata": "",
                "verify": {"preset": "none", "dedupe": {"header": "X-Request-Id", "window": 60}},
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (id, guid) = (
        body["id"].as_u64().expect("id"),
        body["guid"].as_str().expect("guid").to_string(),
    );
    // The first delivery holds the claim (as if its automation still ran).
    let now = katabox::store::now_unix();
    let k = key(id, "req-1", 60);
    assert_eq!(
        srv.state
            .store
            .claim_delivery(&k, "req-1", now)
            .expect("claim"),
        DedupeDecision::Run
    );

    let send = |request_id: &'static str| {
        reqwest::Client::new()
            .post(srv.url(&format!("/webhooks/{guid}")))
            .header("X-Request-Id", request_id)
            .body("{}")
            .send()
    };
    let busy = send("req-1").await.expect("request");
    assert_eq!(busy.status().as_u16(), 409);
    assert_eq!(
        busy.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );

    // A different id goes through (no automation matches the empty KATA: 404),
    // and its 404 is stored and replayed.
    let other = send("req-2").await.expect("request");
    assert_eq!(other.status().as_u16(), 404);
    let (_, runs) = srv.api(reqwest::Method::GET, "/runs", None).await;
    assert_eq!(runs["runs"][0]["status"], 404);
    assert_eq!(runs["runs"][1]["status"], 409);
    assert!(
        runs["runs"][1]["logs"]
            .to_string()
            .contains("dedupe: in progress req-1")
    );
    let again = send("req-2").await.expect("request");
    assert_eq!(again.status().as_u16(), 404);
    let (_, runs) = srv.api(reqwest::Method::GET, "/runs", None).await;
    assert!(
        runs["runs"][0]["logs"]
            .to_string()
            .contains("dedupe: replayed req-2")
    );
    srv.stop().await;
}
