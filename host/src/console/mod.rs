//! The operator console: server-rendered pages under `/console` (maud
//! templates, every value escaped), a few lines of our own JavaScript and
//! a stylesheet embedded in the binary (`assets.rs`), no build step.
//!
//! - `auth.rs`: login with the admin token, in-memory sessions (per
//!   process: a restart logs everyone out), logout, the session gate;
//! - `csrf.rs`: the per-session token every state-changing form carries;
//! - `layout.rs`: the page shell and small rendering helpers; `error.rs`:
//!   [`ConsoleError`], answered as an HTML page;
//! - one file per page: `dashboard.rs`, `listeners.rs`, `automations.rs`,
//!   `runs.rs`, `packages.rs`, `timers.rs`; `sse.rs` is the live tail.
//!
//! Every console response carries a `Content-Security-Policy` without
//! inline script (`script-src 'self'`), `frame-ancestors 'none'` and
//! `X-Content-Type-Options: nosniff`. `serve --no-console` leaves the
//! routes out of the router.

mod assets;
mod auth;
mod automations;
mod csrf;
mod dashboard;
mod error;
mod layout;
mod listeners;
mod packages;
mod runs;
mod sse;
mod timers;

pub use auth::{COOKIE, SESSION_TTL, Sessions};
pub use error::ConsoleError;

use crate::server::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;

/// The console's `Content-Security-Policy`.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Runs blocking store work off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ConsoleError> + Send + 'static,
) -> Result<T, ConsoleError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ConsoleError::internal)?
}

/// The `/console` routes (merged into the server's router unless
/// `--no-console`).
pub fn router(state: AppState) -> Router<AppState> {
    let sessions = Arc::new(Sessions::new());
    let private = Router::new()
        .route("/console", get(dashboard::page))
        .route("/console/", get(dashboard::page))
        .route("/console/logout", post(auth::logout))
        .route(
            "/console/listeners",
            get(listeners::page).post(listeners::create),
        )
        .route("/console/listeners/{id}/toggle", post(listeners::toggle))
        .route("/console/listeners/{id}/delete", post(listeners::delete))
        .route("/console/automations", get(automations::list))
        .route(
            "/console/automations/{name}",
            get(automations::page).post(automations::update),
        )
        .route("/console/automations/{name}/test", post(automations::test))
        .route("/console/runs", get(runs::list))
        .route("/console/runs/tail", get(sse::tail))
        .route("/console/runs/replay", post(runs::replay_many))
        .route("/console/runs/{id}", get(runs::page))
        .route("/console/runs/{id}/replay", post(runs::replay_one))
        .route(
            "/console/packages",
            get(packages::page).post(packages::import),
        )
        .route("/console/timers", get(timers::page))
        .route("/console/timers/{id}/toggle", post(timers::toggle))
        .route("/console/timers/{id}/run", post(timers::run_now))
        .route("/console/{*rest}", get(error::not_found))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ));
    Router::new()
        .route("/console/login", get(auth::login_page).post(auth::login))
        .route("/console/assets/{file}", get(assets::serve))
        .merge(private)
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::api::API_BODY_LIMIT,
        ))
        .layer(axum::Extension(sessions))
        .layer(middleware::from_fn(security_headers))
}

/// Adds the console's security headers to every answer.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
