//! The operator console's handlers without a socket (tower's `oneshot`):
//! the login gate and its redirects, the session cookie, CSRF refusal,
//! escaping of request, script and log values, the security headers,
//! `--no-console`, and the listener and automation forms.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use katabox::server::{self, AppState, ServerConfig};
use katabox::store::{
    HeaderList, RecordedBody, RecordedRequest, RecordedResponse, RunPayload, RunRecord,
};
use std::net::SocketAddr;
use tower::ServiceExt;

const SEED_PACKAGE: &str = include_str!("../seed_package.json");
const XSS: &str = "<script>alert(1)</script>";

struct App {
    _dir: tempfile::TempDir,
    router: axum::Router,
    state: AppState,
    token: String,
}

fn app_with(tune: impl FnOnce(&mut ServerConfig)) -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServerConfig::new(
        dir.path().join("data"),
        "127.0.0.1:9".parse().expect("addr"),
    );
    tune(&mut config);
    let state = server::open_state(&config, config.listen).expect("state");
    let token = state.admin_token.to_string();
    App {
        _dir: dir,
        router: server::router(state.clone()),
        state,
        token,
    }
}

fn app() -> App {
    app_with(|_| {})
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
}

async fn send(app: &App, req: Request<Body>) -> Answer {
    let resp = app.router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 8 << 20)
        .await
        .expect("body");
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).expect("request")
}

fn post(uri: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Request<Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut b = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body)).expect("request")
}

/// Logs in; returns the `name=value` of the session cookie.
async fn login(app: &App) -> String {
    let a = send(app, post("/console/login", None, &[("token", &app.token)])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), Some("/console"));
    let set = a
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie");
    set.split(';').next().expect("name=value").to_string()
}

/// The CSRF token of the first form on a page.
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a csrf field on the page");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("end of value")].to_string()
}

async fn csrf(app: &App, cookie: &str) -> String {
    let page = send(app, get("/console/listeners", Some(cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    csrf_of(&page.body)
}

const PAGES: [&str; 12] = [
    "/console",
    "/console/",
    "/console/listeners",
    "/console/automations",
    "/console/automations/example.webhook.respond",
    "/console/runs",
    "/console/runs/1",
    "/console/runs/tail",
    "/console/packages",
    "/console/timers",
    "/console/no-such-page",
    "/console/a/b/c",
];

#[tokio::test]
async fn without_a_session_every_page_redirects_to_the_login_and_shows_no_data() {
    let app = app();
    let store = app.state.store.clone();
    store
        .create_listener(katabox::store::ListenerInput {
            name: "SECRET-LISTENER-NAME".into(),
            ..Default::default()
        })
        .expect("listener");
    for cookie in [
        None,
        Some("katabox_console=0000"),
        Some("other=1; katabox_console="),
    ] {
        for path in PAGES {
            let a = send(&app, get(path, cookie)).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{path} {cookie:?}");
            assert_eq!(a.location(), Some("/console/login"), "{path}");
            assert!(a.body.is_empty(), "{path}: {}", a.body);
        }
        for path in [
            "/console/logout",
            "/console/listeners",
            "/console/listeners/1/delete",
            "/console/runs/1/replay",
            "/console/runs/replay",
            "/console/packages",
            "/console/timers/1/run",
        ] {
            let a = send(&app, post(path, cookie, &[("csrf", "x")])).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "POST {path}");
            assert_eq!(a.location(), Some("/console/login"));
        }
    }
    // Nothing was deleted.
    assert_eq!(store.listeners().expect("listeners").len(), 1);
    // The login page and the assets are public.
    let login = send(&app, get("/console/login", None)).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("name=\"token\""));
    assert!(!login.body.contains("SECRET-LISTENER-NAME"));
    for asset in ["/console/assets/console.js", "/console/assets/console.css"] {
        assert_eq!(send(&app, get(asset, None)).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn login_checks_the_token_and_sets_a_strict_http_only_cookie_then_logout_ends_it() {
    let app = app();
    for wrong in ["", "nope", &app.token[..app.token.len() - 1]] {
        let a = send(&app, post("/console/login", None, &[("token", wrong)])).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(a.headers.get(header::SET_COOKIE).is_none());
        assert!(a.body.contains("not the admin token"));
    }
    let a = send(&app, post("/console/login", None, &[("token", &app.token)])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let set = a.headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(set.starts_with("katabox_console="), "{set}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let cookie = set.split(';').next().expect("pair").to_string();
    let dash = send(&app, get("/console", Some(&cookie))).await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains("runs in the last hour"));
    assert!(dash.body.contains("<svg"), "the chart");

    // Logout needs the CSRF token too, then the session is gone.
    let token = csrf_of(&dash.body);
    let refused = send(&app, post("/console/logout", Some(&cookie), &[])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out = send(
        &app,
        post("/console/logout", Some(&cookie), &[("csrf", &token)]),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.headers[header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .contains("Max-Age=0")
    );
    let after = send(&app, get("/console", Some(&cookie))).await;
    assert_eq!(after.location(), Some("/console/login"));
}

#[tokio::test]
async fn the_cookie_is_secure_behind_a_trusted_proxy_that_says_https() {
    let app = app_with(|c| {
        c.trusted_proxies = katabox::webhooks::TrustedProxies::parse("10.0.0.1").expect("proxies");
    });
    let login = |peer: &str, proto: &str| {
        let mut req = post("/console/login", None, &[("token", &app.token)]);
        req.headers_mut()
            .insert("x-forwarded-proto", proto.parse().expect("value"));
        let addr: SocketAddr = peer.parse().expect("peer");
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        req
    };
    let cookie = |a: &Answer| {
        a.headers[header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .to_string()
    };
    let trusted = send(&app, login("10.0.0.1:5000", "https")).await;
    assert!(
        cookie(&trusted).contains("; Secure"),
        "{}",
        cookie(&trusted)
    );
    let untrusted = send(&app, login("10.9.9.9:5000", "https")).await;
    assert!(!cookie(&untrusted).contains("Secure"));
    let plain = send(&app, login("10.0.0.1:5000", "http")).await;
    assert!(!cookie(&plain).contains("Secure"));
}

#[tokio::test]
async fn state_changing_forms_without_the_csrf_token_are_refused() {
    let app = app();
    let cookie = login(&app).await;
    let good = csrf(&app, &cookie).await;
    let other_session = login(&app).await;
    let foreign = csrf(&app, &other_session).await;
    assert_ne!(good, foreign, "each session has its own token");
    for bad in [None, Some(""), Some("x"), Some(foreign.as_str())] {
        let mut fields = vec![("name", "Hook"), ("automations_kata", "")];
        if let Some(b) = bad {
            fields.push(("csrf", b));
        }
        let a = send(&app, post("/console/listeners", Some(&cookie), &fields)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{bad:?}");
        assert!(a.body.contains("CSRF"));
    }
    assert!(app.state.store.listeners().expect("list").is_empty());
    let a = send(
        &app,
        post(
            "/console/listeners",
            Some(&cookie),
            &[("name", "Hook"), ("automations_kata", ""), ("csrf", &good)],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let listeners = app.state.store.listeners().expect("list");
    assert_eq!(listeners.len(), 1);
    let id = listeners[0].id;
    // Toggle and delete need it as well.
    for action in ["toggle", "delete"] {
        let uri = format!("/console/listeners/{id}/{action}");
        let a = send(&app, post(&uri, Some(&cookie), &[("csrf", "wrong")])).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{action}");
    }
    let uri = format!("/console/listeners/{id}/toggle");
    let a = send(&app, post(&uri, Some(&cookie), &[("csrf", &good)])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let l = app.state.store.listener(id).expect("get").expect("some");
    assert!(l.is_disabled);
    // A disabled listener answers 404; the API shows the flag.
    let hook = send(&app, get(&format!("/webhooks/{}", l.guid), None)).await;
    assert_eq!(hook.status, StatusCode::NOT_FOUND);
    let api = Request::builder()
        .uri("/api/webhooks")
        .header("Authorization", format!("Bearer {}", app.token))
        .body(Body::empty())
        .expect("request");
    let listed = send(&app, api).await;
    assert!(
        listed.body.contains("\"is_disabled\":true"),
        "{}",
        listed.body
    );
    let page = send(&app, get("/console/listeners", Some(&cookie))).await;
    assert!(page.body.contains(">disabled<") && page.body.contains(">Enable<"));
    let uri = format!("/console/listeners/{id}/delete");
    let a = send(&app, post(&uri, Some(&cookie), &[("csrf", &good)])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(app.state.store.listeners().expect("list").is_empty());
}

#[tokio::test]
async fn every_console_answer_carries_the_security_headers() {
    let app = app();
    let cookie = login(&app).await;
    let mut answers = vec![
        send(&app, get("/console/login", None)).await,
        send(&app, get("/console", None)).await,
        send(&app, get("/console/assets/console.js", None)).await,
    ];
    for path in [
        "/console",
        "/console/runs",
        "/console/runs/999",
        "/console/zzz",
    ] {
        answers.push(send(&app, get(path, Some(&cookie))).await);
    }
    for a in &answers {
        let csp = a.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(a.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        // No inline script anywhere: only <script src=...>.
        assert!(!a.body.contains("<script>"), "{}", a.body);
    }
    assert_eq!(answers[5].status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_console_leaves_the_routes_out() {
    let app = app_with(|c| c.console = false);
    for path in ["/console", "/console/login", "/console/assets/console.js"] {
        let a = send(&app, get(path, None)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
    let a = send(&app, post("/console/login", None, &[("token", &app.token)])).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.headers.get(header::SET_COOKIE).is_none());
}

fn hostile_run(listener: u64) -> RunRecord {
    let body = |t: &str| RecordedBody {
        body: Some(t.to_string()),
        body_size: t.len() as u64,
        ..RecordedBody::default()
    };
    RunRecord {
        at_ms: katabox::store::now_unix_ms(),
        trigger: "webhook".into(),
        listener_id: Some(listener),
        automation: Some(format!("auto{XSS}")),
        request_method: "POST".into(),
        request_path: "/x".into(),
        client_ip: "127.0.0.1".into(),
        status: 200,
        exit: "return".into(),
        error: Some(format!("err {XSS}")),
        logs: vec![serde_json::json!({"level": "info", "node_id": "start:log", "message": XSS})],
        duration_us: 1234,
        fuel_used: 99,
        payload: Some(RunPayload {
            request: Some(RecordedRequest {
                method: "POST".into(),
                path: "/webhooks/abc".into(),
                query: Some(format!("q=\"{XSS}")),
                headers: HeaderList(vec![("x-evil".into(), XSS.into())]),
                body: body(XSS),
            }),
            response: Some(RecordedResponse {
                status: 200,
                headers: HeaderList(vec![("content-type".into(), "text/html".into())]),
                body: body(XSS),
            }),
            inputs: Some(serde_json::json!({"k": XSS})),
            returned: Some(serde_json::json!({"body": XSS})),
        }),
        ..RunRecord::default()
    }
}

#[tokio::test]
async fn request_script_and_log_values_are_escaped() {
    let app = app();
    let store = app.state.store.clone();
    let l = store
        .create_listener(katabox::store::ListenerInput {
            name: XSS.into(),
            automations_kata: format!("# {XSS}\n"),
            ..Default::default()
        })
        .expect("listener");
    let id = store.record_run(hostile_run(l.id)).expect("run");
    let cookie = login(&app).await;
    for path in [
        format!("/console/runs/{id}"),
        "/console/runs".to_string(),
        "/console/listeners".to_string(),
        format!(
            "/console/runs?automation=auto{}",
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E"
        ),
    ] {
        let a = send(&app, get(&path, Some(&cookie))).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(!a.body.contains(XSS), "{path} has raw markup:\n{}", a.body);
        assert!(!a.body.contains("<script>"), "{path}");
        assert!(
            a.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path} shows the value as text"
        );
    }
    // The listener form's error echoes the KATA escaped, with line numbers.
    let token = csrf(&app, &cookie).await;
    let broken = format!("automation/a:\n  uri: x\n{XSS}: [\n");
    let a = send(
        &app,
        post(
            "/console/listeners",
            Some(&cookie),
            &[
                ("name", XSS),
                ("automations_kata", &broken),
                ("csrf", &token),
            ],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.body.contains("Invalid &#39;automations_kata&#39;")
            || a.body.contains("Invalid 'automations_kata'"),
        "{}",
        a.body
    );
    assert!(!a.body.contains(XSS));
    assert!(
        a.body.contains("  1 ") && a.body.contains("  3 "),
        "line numbers"
    );
    assert_eq!(store.listeners().expect("list").len(), 1, "nothing created");
}

#[tokio::test]
async fn automations_are_edited_as_new_versions_and_bad_scripts_are_refused_inline() {
    let app = app();
    let imported = katabox::packages::import(
        app.state.store.as_ref(),
        SEED_PACKAGE.as_bytes(),
        &serde_json::json!({}),
        &katabox::packages::ImportOptions {
            base_url: app.state.base_url.clone(),
            skip_if_imported: false,
        },
    )
    .expect("import");
    assert!(!imported.records.is_empty());
    let cookie = login(&app).await;
    let path = "/console/automations/example.webhook.respond";
    let page = send(&app, get(path, Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("id=\"current-version\">1<"),
        "{}",
        page.body
    );
    let token = csrf_of(&page.body);
    let script = "start:\n  return:\n    status_code: 201\n    body: edited\n";
    let a = send(
        &app,
        post(path, Some(&cookie), &[("script", script), ("csrf", &token)]),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let row = app
        .state
        .store
        .automation("example.webhook.respond")
        .expect("get")
        .expect("some");
    assert_eq!((row.version, row.script.as_str()), (2, script));
    let page = send(&app, get(path, Some(&cookie))).await;
    assert!(page.body.contains("id=\"current-version\">2<"));
    assert!(page.body.contains("?version=1"), "the versions list");
    let old = send(&app, get(&format!("{path}?version=1"), Some(&cookie))).await;
    assert!(old.body.contains("Showing version 1"));

    let bad = send(
        &app,
        post(
            path,
            Some(&cookie),
            &[("script", "nonsense: [\n"), ("csrf", &token)],
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Automation:"), "{}", bad.body);
    assert!(bad.body.contains("nonsense: ["), "the text as typed");
    let row = app
        .state
        .store
        .automation("example.webhook.respond")
        .expect("get")
        .expect("some");
    assert_eq!(row.version, 2, "nothing saved");

    // The packages page lists the import.
    let pk = send(&app, get("/console/packages", Some(&cookie))).await;
    assert!(pk.body.contains("example.webhook.respond"), "{}", pk.body);
}

#[tokio::test]
async fn the_runs_page_filters_and_refuses_bad_filters_inline() {
    let app = app();
    let store = app.state.store.clone();
    let a = store.record_run(hostile_run(7)).expect("run");
    let mut other = hostile_run(8);
    other.exit = "error".into();
    let b = store.record_run(other).expect("run");
    let cookie = login(&app).await;
    let page = send(&app, get("/console/runs?exit=error", Some(&cookie))).await;
    assert!(page.body.contains(&format!("data-run=\"{b}\"")));
    assert!(!page.body.contains(&format!("data-run=\"{a}\"")));
    assert!(
        page.body
            .contains("data-src=\"/console/runs/tail?exit=error&amp;after="),
        "{}",
        page.body
    );
    let bad = send(&app, get("/console/runs?since=yesterday", Some(&cookie))).await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.body.contains("is neither an age"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_panel_runs_the_automation_with_inputs_and_http_fixtures() {
    let app = app();
    let script = "start:\n  http.request:\n    output: resp\n    inputs:\n      url: https://api.example/items\n    on_success:\n      return:\n        who@key: name\n        got@key: resp:body\n        status@key: resp:status_code\n";
    let package = serde_json::json!({
        "package": {"name": "Console test", "revision": 1},
        "records": [{
            "uid": "auto_fetch",
            "_context": "automation",
            "name": "console.fetch",
            "extension_id": "cerb.trigger.webhook.respond",
            "script": script,
            "policy_kata": "commands:\n  http.request:\n    allow@bool: yes\n",
        }],
    });
    katabox::packages::import(
        app.state.store.as_ref(),
        package.to_string().as_bytes(),
        &serde_json::json!({}),
        &katabox::packages::ImportOptions {
            base_url: app.state.base_url.clone(),
            skip_if_imported: false,
        },
    )
    .expect("import");
    let cookie = login(&app).await;
    let token = csrf(&app, &cookie).await;
    let fixtures = r#"[{"method":"GET","url":"https://api.example/items","status":200,"headers":"{}","body":"<b>fixture</b>"}]"#;
    let a = send(
        &app,
        post(
            "/console/automations/console.fetch/test",
            Some(&cookie),
            &[
                ("inputs", r#"{"name": "<i>ada</i>"}"#),
                ("fixtures", fixtures),
                ("csrf", &token),
            ],
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body
            .contains("id=\"test-exit\"><span class=\"badge ok\">return<"),
        "{}",
        a.body
    );
    assert!(
        a.body.contains("&lt;b&gt;fixture&lt;/b&gt;"),
        "the fixture's body, escaped"
    );
    assert!(
        a.body.contains("&lt;i&gt;ada&lt;/i&gt;"),
        "the input, escaped"
    );
    assert!(!a.body.contains("<b>fixture"));
    // Inputs that are not a JSON object are refused inline.
    let a = send(
        &app,
        post(
            "/console/automations/console.fetch/test",
            Some(&cookie),
            &[("inputs", "[1, 2"), ("csrf", &token)],
        ),
    )
    .await;
    assert!(a.body.contains("not valid JSON"), "{}", a.body);
    assert!(
        app.state.store.runs(10).expect("runs").is_empty(),
        "tests are not recorded"
    );
}

/// Imports the seed package, creates the guide's listener and sends it one
/// webhook with a hostile body; returns the run id.
async fn seed_run(app: &App) -> u64 {
    katabox::packages::import(
        app.state.store.as_ref(),
        SEED_PACKAGE.as_bytes(),
        &serde_json::json!({}),
        &katabox::packages::ImportOptions {
            base_url: app.state.base_url.clone(),
            skip_if_imported: false,
        },
    )
    .expect("import");
    let l = app
        .state
        .store
        .create_listener(katabox::store::ListenerInput {
            name: "Seed".into(),
            automations_kata:
                "automation/example:\n  uri: cerb:automation:example.webhook.respond\n".into(),
            ..Default::default()
        })
        .expect("listener");
    let hook = Request::builder()
        .method("POST")
        .uri(format!("/webhooks/{}?key=value", l.guid))
        .body(Body::from(XSS))
        .expect("request");
    assert_eq!(send(app, hook).await.status, StatusCode::OK);
    let runs = app.state.store.runs(1).expect("runs");
    runs[0].id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_tail_streams_new_runs_as_events() {
    let app = app();
    let cookie = login(&app).await;
    let resp = app
        .router
        .clone()
        .oneshot(get(
            "/console/runs/tail?trigger=webhook&after=0",
            Some(&cookie),
        ))
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = resp.into_body();
    let id = app.state.store.record_run(hostile_run(3)).expect("run");
    let mut replay = hostile_run(3);
    replay.trigger = "replay".into();
    let skipped = app.state.store.record_run(replay).expect("run");
    let started = std::time::Instant::now();
    let mut seen = String::new();
    while !seen.contains("event: run") {
        use http_body_util::BodyExt;
        let frame = tokio::time::timeout(std::time::Duration::from_secs(2), body.frame())
            .await
            .expect("an event within 2 s")
            .expect("a frame")
            .expect("no error");
        if let Some(data) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(data));
        }
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(seen.contains(&format!("id: {id}\n")), "{seen}");
    assert!(seen.contains("\"trigger\":\"webhook\""), "{seen}");
    assert!(
        !seen.contains(&format!("\"id\":{skipped}")),
        "the filter holds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_shows_the_diff_and_bulk_replay_counts_first() {
    let app = app();
    let id = seed_run(&app).await;
    let cookie = login(&app).await;
    let page = send(&app, get(&format!("/console/runs/{id}"), Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let token = csrf_of(&page.body);
    let uri = format!("/console/runs/{id}/replay");
    let same = send(
        &app,
        post(
            &uri,
            Some(&cookie),
            &[("version", "recorded"), ("csrf", &token)],
        ),
    )
    .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    assert!(same.body.contains("Same response"), "{}", same.body);
    let refused = send(&app, post(&uri, Some(&cookie), &[("version", "current")])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // The child is linked from its parent, the parent from the child.
    let replay_id = app.state.store.runs(1).expect("runs")[0].id;
    let parent = send(&app, get(&format!("/console/runs/{id}"), Some(&cookie))).await;
    assert!(
        parent
            .body
            .contains(&format!("href=\"/console/runs/{replay_id}\""))
    );
    let child = send(
        &app,
        get(&format!("/console/runs/{replay_id}"), Some(&cookie)),
    )
    .await;
    assert!(child.body.contains("Replay of"));

    let count = send(
        &app,
        post(
            "/console/runs/replay",
            Some(&cookie),
            &[
                ("trigger", "webhook"),
                ("version", "recorded"),
                ("step", "count"),
                ("csrf", &token),
            ],
        ),
    )
    .await;
    assert_eq!(count.status, StatusCode::OK, "{}", count.body);
    assert!(count.body.contains("1 run(s) match"), "{}", count.body);
    assert_eq!(
        app.state.store.runs(10).expect("runs").len(),
        2,
        "a dry run replays nothing"
    );
    let done = send(
        &app,
        post(
            "/console/runs/replay",
            Some(&cookie),
            &[
                ("trigger", "webhook"),
                ("version", "recorded"),
                ("step", "run"),
                ("csrf", &token),
            ],
        ),
    )
    .await;
    assert!(done.body.contains("Replayed 1 run(s)"), "{}", done.body);
    assert_eq!(app.state.store.runs(10).expect("runs").len(), 3);
}

#[tokio::test]
async fn a_package_with_prompts_is_imported_through_a_form_of_its_prompts() {
    let app = app();
    let cookie = login(&app).await;
    let token = csrf(&app, &cookie).await;
    let package = serde_json::json!({
        "package": {
            "name": "Prompted",
            "revision": 1,
            "configure": {"prompts": [
                {"type": "text", "label": "Greeting", "key": "greeting"},
                {"type": "picklist", "label": "Level", "key": "level", "params": {"options": {"Low": 25, "High": 75}}}
            ]}
        },
        "records": [{
            "uid": "a", "_context": "automation", "name": "x.greet",
            "extension_id": "cerb.trigger.webhook.respond",
            "script": "start:\n  return:\n    body: {{{greeting}}}\n", "policy_kata": ""
        }]
    })
    .to_string();
    let asked = send(
        &app,
        post(
            "/console/packages",
            Some(&cookie),
            &[("package", &package), ("csrf", &token)],
        ),
    )
    .await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked.body.contains("name=\"prompt.greeting\""),
        "{}",
        asked.body
    );
    assert!(
        asked.body.contains("<option value=\"75\">High</option>"),
        "{}",
        asked.body
    );
    assert!(
        app.state
            .store
            .automation("x.greet")
            .expect("get")
            .is_none()
    );

    let missing = send(
        &app,
        post(
            "/console/packages",
            Some(&cookie),
            &[
                ("package", &package),
                ("step", "import"),
                ("prompt.level", "75"),
                ("csrf", &token),
            ],
        ),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing
            .body
            .contains("&#39;Greeting&#39; (greeting) is required.")
            || missing.body.contains("'Greeting' (greeting) is required."),
        "{}",
        missing.body
    );
    assert!(
        missing.body.contains("name=\"prompt.greeting\""),
        "asked again"
    );

    let done = send(
        &app,
        post(
            "/console/packages",
            Some(&cookie),
            &[
                ("package", &package),
                ("step", "import"),
                ("prompt.greeting", "Howdy <b>"),
                ("prompt.level", "75"),
                ("csrf", &token),
            ],
        ),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Imported 1 record(s)."));
    let a = app
        .state
        .store
        .automation("x.greet")
        .expect("get")
        .expect("imported");
    assert_eq!(a.script, "start:\n  return:\n    body: Howdy <b>\n");
    assert!(
        done.body.contains("Prompted"),
        "the list of imported packages"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_are_listed_toggled_and_run_now() {
    let app = app();
    let create = Request::builder()
        .method("POST")
        .uri("/api/timers")
        .header("Authorization", format!("Bearer {}", app.token))
        .body(Body::from(
            serde_json::json!({"name": format!("nightly {XSS}"), "automations_kata": "", "is_recurring": true, "recurring_patterns": "0 3 * * *"}).to_string(),
        ))
        .expect("request");
    let created = send(&app, create).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = app.state.store.timers().expect("timers")[0].id;
    let cookie = login(&app).await;
    let page = send(&app, get("/console/timers", Some(&cookie))).await;
    assert!(
        page.body.contains("nightly &lt;script&gt;"),
        "{}",
        page.body
    );
    assert!(page.body.contains("0 3 * * *"));
    let token = csrf_of(&page.body);
    let uri = format!("/console/timers/{id}/toggle");
    assert_eq!(
        send(&app, post(&uri, Some(&cookie), &[])).await.status,
        StatusCode::FORBIDDEN
    );
    let a = send(&app, post(&uri, Some(&cookie), &[("csrf", &token)])).await;
    assert_eq!(a.location(), Some("/console/timers?done=toggled"));
    assert!(
        app.state
            .store
            .timer(id)
            .expect("get")
            .expect("some")
            .is_disabled
    );
    let a = send(&app, post(&uri, Some(&cookie), &[("csrf", &token)])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let run = format!("/console/timers/{id}/run");
    let a = send(&app, post(&run, Some(&cookie), &[("csrf", &token)])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(
        a.location()
            .is_some_and(|l| l.starts_with("/console/timers?done=ran"))
    );
    let ran = app.state.store.timer(id).expect("get").expect("some");
    assert!(ran.last_ran_at > 0, "it ran");
    let missing = send(
        &app,
        post(
            "/console/timers/999/run",
            Some(&cookie),
            &[("csrf", &token)],
        ),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn function_runs_link_to_their_caller_and_back() {
    let app = app();
    let store = app.state.store.clone();
    let caller = store.record_run(hostile_run(1)).expect("run");
    let mut callee = hostile_run(1);
    callee.trigger = "function".into();
    callee.parent_id = Some(caller);
    let callee = store.record_run(callee).expect("run");
    let cookie = login(&app).await;
    let page = send(&app, get(&format!("/console/runs/{caller}"), Some(&cookie))).await;
    assert!(
        page.body
            .contains(&format!("href=\"/console/runs/{callee}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Function runs"));
    let page = send(&app, get(&format!("/console/runs/{callee}"), Some(&cookie))).await;
    assert!(page.body.contains(&format!(
        "id=\"parent-run\" href=\"/console/runs/{caller}\""
    )));
    let list = send(
        &app,
        get(&format!("/console/runs?parent={caller}"), Some(&cookie)),
    )
    .await;
    assert!(list.body.contains(&format!("data-run=\"{callee}\"")));
    assert!(!list.body.contains(&format!("data-run=\"{caller}\"")));
}
