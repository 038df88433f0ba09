//! The seed guide ("Configure webhooks"), end to end on a real server: the
//! guide's package imported verbatim, a listener with the guide's event
//! KATA, then the guide's browser GET and curl POST.

use crate::support::{TestServer, raw};

/// The package from the guide, verbatim.
const SEED_PACKAGE: &str = include_str!("../seed_package.json");

/// The guide's event KATA, as pasted into the listener form.
const SEED_EVENT_KATA: &str = "automation/example:\n    uri: cerb:automation:example.webhook.respond\n    disabled@bool: no\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_guide_works_as_written() {
    let srv = TestServer::start(|_| {}).await;
    // Compile (or load from the on-disk cache) the runtime before timing requests.
    srv.state.sandbox.warm_up().await.expect("sandbox");
    assert!(
        !std::hint::black_box(katabox::sandbox::RUNTIME_IS_FALLBACK),
        "this binary embeds the probe guest, not the KATA runtime"
    );

    // Import the package through the admin API (the guide's "Import" step).
    let (status, imported) = srv
        .api(
            reqwest::Method::POST,
            "/packages",
            Some(serde_json::json!({"package": SEED_PACKAGE, "prompts": {}})),
        )
        .await;
    assert_eq!(status, 201, "{imported}");
    assert_eq!(imported["records"][0]["_context"], "automation");
    assert_eq!(imported["records"][0]["name"], "example.webhook.respond");

    // Create the webhook with the guide's event KATA.
    let guid = srv.listener("Webhook Example", SEED_EVENT_KATA).await;
    let host = srv.addr.to_string();

    // The browser test: GET with ?name=Joe+Customer&age=37.
    let get = raw(
        srv.addr,
        format!("GET /webhooks/{guid}?name=Joe+Customer&age=37 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(get.status, 200, "{}", get.text());
    assert_eq!(get.header("content-type"), Some("application/json"));
    let expected_get = format!(
        r#"{{
    "http": {{
        "method": "GET",
        "path": "",
        "headers": {{
            "host": "{host}",
            "connection": "close"
        }},
        "params": {{
            "name": "Joe Customer",
            "age": "37"
        }}
    }},
    "client": {{
        "ip": "127.0.0.1"
    }}
}}"#
    );
    assert_eq!(get.text(), expected_get);

    // The curl test: POST with X-CustomHeader: true and ?key=value, sent
    // with exactly the headers curl sends.
    let post = raw(
        srv.addr,
        format!(
            "POST /webhooks/{guid}?key=value HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\nX-CustomHeader: true\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(post.status, 200, "{}", post.text());
    assert_eq!(post.header("content-type"), Some("application/json"));
    let expected_post = format!(
        r#"{{
    "http": {{
        "method": "POST",
        "path": "",
        "headers": {{
            "host": "{host}",
            "user_agent": "curl/8.5.0",
            "accept": "*/*",
            "x_customheader": "true",
            "connection": "close"
        }},
        "params": {{
            "key": "value"
        }}
    }},
    "client": {{
        "ip": "127.0.0.1"
    }}
}}"#
    );
    assert_eq!(post.text(), expected_post);

    // Both runs are in the history, newest first.
    let (status, runs) = srv.api(reqwest::Method::GET, "/runs?limit=5", None).await;
    assert_eq!(status, 200);
    let runs = runs["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["request_method"], "POST");
    assert_eq!(runs[0]["exit"], "return");
    assert_eq!(runs[0]["automation"], "example.webhook.respond");
    assert_eq!(runs[1]["request_method"], "GET");
    srv.stop().await;
}
