//! CSRF: every state-changing console form carries its session's token
//! (hidden field `csrf`), checked in constant time by [`CsrfForm`] before
//! the handler runs. The cookie is `SameSite=Strict` as well.

use super::ConsoleError;
use super::auth::Current;
use axum::extract::{FromRequest, Request};
use maud::{Markup, html};

/// A session's CSRF token.
#[derive(Debug, Clone)]
pub struct Csrf(pub String);

impl Csrf {
    /// The hidden form field carrying the token.
    pub fn field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.0); }
    }

    fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The fields of an `application/x-www-form-urlencoded` body, in order.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// Parses a form body (bad escapes are kept as they are).
    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, trimmed, `None` when blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// A form posted by a logged-in session with its CSRF token (403 otherwise).
pub struct CsrfForm(pub Current, pub Fields);

impl<S: Send + Sync> FromRequest<S> for CsrfForm {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let current = req
            .extensions()
            .get::<Current>()
            .cloned()
            .ok_or(ConsoleError::Csrf)?;
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ConsoleError::BadRequest(e.body_text()))?;
        let fields = Fields::parse(&body);
        match fields.get("csrf") {
            Some(given) if current.session.csrf.matches(given) => Ok(CsrfForm(current, fields)),
            _ => Err(ConsoleError::Csrf),
        }
    }
}
