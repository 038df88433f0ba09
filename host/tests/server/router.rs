//! The router without a socket (tower's `oneshot`): routing, method
//! filter, admin auth, typed errors.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use katabox::server::{self, ServerConfig};
use tower::ServiceExt;

fn app() -> (tempfile::TempDir, axum::Router, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig::new(
        dir.path().join("data"),
        "127.0.0.1:9".parse().expect("addr"),
    );
    let state = server::open_state(&config, config.listen).expect("state");
    let token = state.admin_token.to_string();
    (dir, server::router(state), token)
}

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn req(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn webhook_paths_without_a_listener() {
    let (_d, app, _) = app();
    assert_eq!(
        send(&app, req("PUT", "/webhooks/abc")).await,
        (StatusCode::NOT_IMPLEMENTED, "Not implemented".into())
    );
    assert_eq!(
        send(&app, req("HEAD", "/webhooks")).await.0,
        StatusCode::NOT_IMPLEMENTED
    );
    for path in [
        "/webhooks",
        "/webhooks/",
        "/webhooks/abc",
        "/webhooks/abc/",
        "/webhooks/abc/x/y",
        "/webhooks//x",
    ] {
        assert_eq!(
            send(&app, req("GET", path)).await,
            (StatusCode::NOT_FOUND, String::new()),
            "{path}"
        );
    }
    assert_eq!(
        send(&app, req("GET", "/elsewhere")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_api_requires_the_bearer_token() {
    let (_d, app, token) = app();
    let (status, body) = send(&app, req("GET", "/api/runs")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, r#"{"error":"Unauthorized"}"#);
    let authed = Request::builder()
        .uri("/api/runs?limit=3")
        .header("Authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    assert_eq!(
        send(&app, authed).await,
        (StatusCode::OK, r#"{"runs":[],"next_cursor":null}"#.into())
    );
    let bad_json = Request::builder()
        .method("POST")
        .uri("/api/webhooks")
        .header("Authorization", format!("Bearer {token}"))
        .body(Body::from("{not json"))
        .expect("request");
    let (status, body) = send(&app, bad_json).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with(r#"{"error":"Invalid JSON body"#), "{body}");
}
