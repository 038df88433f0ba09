//! Login with the admin token, sessions, logout, and the gate every
//! private console page goes through.
//!
//! Sessions live in memory, per process: a restart (or a second host)
//! logs everyone out. A session lasts [`SESSION_TTL`] from login; its id
//! (32 random bytes, hex) is the `katabox_console` cookie (`HttpOnly;
//! SameSite=Strict; Path=/console`, plus `Secure` when the request came
//! through a trusted proxy that says `X-Forwarded-Proto: https`).

use super::csrf::Csrf;
use super::layout;
use crate::server::AppState;
use axum::Extension;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "katabox_console";

/// How long a session lasts after login.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// Sessions kept at most (the oldest go first beyond it).
const MAX_SESSIONS: usize = 1024;

/// One logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The CSRF token of this session's forms.
    pub csrf: Csrf,
    expires: Instant,
}

/// The in-memory session table.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

fn random_hex() -> String {
    use rand::Rng;
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    hex::encode(bytes)
}

impl Sessions {
    /// An empty table.
    pub fn new() -> Sessions {
        Sessions::default()
    }

    /// Opens a session; returns its id.
    pub fn open(&self) -> String {
        self.open_at(Instant::now())
    }

    fn open_at(&self, now: Instant) -> String {
        let id = random_hex();
        let session = Session {
            csrf: Csrf(random_hex()),
            expires: now + SESSION_TTL,
        };
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), session);
        id
    }

    /// The live session with this id.
    pub fn get(&self, id: &str) -> Option<Session> {
        self.get_at(id, Instant::now())
    }

    fn get_at(&self, id: &str, now: Instant) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(id) {
            Some(s) if s.expires > now => Some(s.clone()),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn close(&self, id: &str) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(id);
    }
}

/// The session cookie's value in `headers`.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The logged-in session of a request (put there by [`require_session`]).
#[derive(Debug, Clone)]
pub struct Current {
    /// The session id (the cookie's value).
    pub id: String,
    /// The session.
    pub session: Session,
}

/// The gate of every private page: no live session → 303 to the login.
pub async fn require_session(
    Extension(sessions): Extension<Arc<Sessions>>,
    mut req: Request,
    next: Next,
) -> Response {
    let found = session_id(req.headers()).and_then(|id| sessions.get(&id).map(|s| (id, s)));
    match found {
        Some((id, session)) => {
            req.extensions_mut().insert(Current { id, session });
            next.run(req).await
        }
        None => Redirect::to("/console/login").into_response(),
    }
}

/// Whether the request reached us over TLS: only a trusted proxy's
/// `X-Forwarded-Proto: https` says so (katabox itself serves plain HTTP).
fn over_tls(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    let trusted = peer.is_some_and(|p| state.webhooks.trusted_proxies.contains(p.ip()));
    trusted
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

fn login_form(message: Option<&str>) -> Html<String> {
    let body = html! {
        h1 { "katabox console" }
        @if let Some(m) = message { p.error role="alert" { (m) } }
        form method="post" action="/console/login" {
            label for="token" { "Admin token" }
            input #token type="password" name="token" autocomplete="current-password" required autofocus;
            button type="submit" { "Log in" }
        }
        p.hint { "The token is KATABOX_ADMIN_TOKEN, or the file admin-token in the data directory." }
    };
    Html(layout::bare("Log in", body).into_string())
}

/// `GET /console/login`.
pub async fn login_page() -> Html<String> {
    login_form(None)
}

/// Constant-time comparison of two byte strings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /console/login` (form field `token`): 303 to `/console` with the
/// session cookie, or the form again with 401.
pub async fn login(
    State(state): State<AppState>,
    Extension(sessions): Extension<Arc<Sessions>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = super::csrf::Fields::parse(&body);
    let token = form.get("token").unwrap_or("").trim();
    if token.is_empty() || !same(token.as_bytes(), state.admin_token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            login_form(Some("That is not the admin token.")),
        )
            .into_response();
    }
    let id = sessions.open();
    let secure = if over_tls(&state, &headers, peer.map(|Extension(c)| c.0)) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    );
    let mut resp = Redirect::to("/console").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `POST /console/logout`: ends the session, clears the cookie.
pub async fn logout(
    Extension(sessions): Extension<Arc<Sessions>>,
    super::csrf::CsrfForm(current, _): super::csrf::CsrfForm,
) -> Response {
    sessions.close(&current.id);
    let mut resp = Redirect::to("/console/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "katabox_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_close_and_the_cookie_is_found_among_others() {
        let sessions = Sessions::new();
        let t0 = Instant::now();
        let id = sessions.open_at(t0);
        assert_eq!(id.len(), 64);
        assert!(sessions.get_at(&id, t0 + SESSION_TTL / 2).is_some());
        assert!(sessions.get_at(&id, t0 + SESSION_TTL).is_none(), "expired");
        assert!(sessions.get_at(&id, t0).is_none(), "and forgotten");
        let other = sessions.open();
        assert!(sessions.get(&other).is_some());
        sessions.close(&other);
        assert!(sessions.get(&other).is_none());
        assert!(sessions.get("").is_none());

        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; katabox_console=abc ; b=2"),
        );
        assert_eq!(session_id(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("xkatabox_console=abc"),
        );
        assert_eq!(session_id(&h), None);
    }

    #[test]
    fn at_most_max_sessions_are_kept() {
        let sessions = Sessions::new();
        let t0 = Instant::now();
        let first = sessions.open_at(t0);
        for i in 1..=MAX_SESSIONS as u32 {
            sessions.open_at(t0 + Duration::from_millis(u64::from(i)));
        }
        assert!(
            sessions.get_at(&first, t0).is_none(),
            "the oldest went first"
        );
        let map = sessions.map.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(map.len(), MAX_SESSIONS);
    }
}
