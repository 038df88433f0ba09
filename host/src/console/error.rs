//! The console's typed errors, answered as small HTML pages.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

/// Why a console request failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No such page or record.
    #[error("Not found")]
    NotFound,
    /// The form or query was refused (the message says why).
    #[error("{0}")]
    BadRequest(String),
    /// A state-changing form without this session's CSRF token.
    #[error("The form's CSRF token is missing or wrong: reload the page and try again.")]
    Csrf,
    /// The store or a task failed.
    #[error("Internal error: {0}")]
    Internal(String),
}

impl ConsoleError {
    /// An internal error from anything displayable.
    pub fn internal(e: impl std::fmt::Display) -> ConsoleError {
        ConsoleError::Internal(e.to_string())
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::NotFound => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<crate::store::StoreError> for ConsoleError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Rejected(m) => ConsoleError::BadRequest(m),
            other => ConsoleError::internal(other),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = self.status();
        let page = html! {
            (maud::DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { "katabox console: " (status.as_u16()) }
                    link rel="stylesheet" href="/console/assets/console.css";
                }
                body {
                    main {
                        h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                        p.error { (self.to_string()) }
                        p { a href="/console" { "Back to the console" } }
                    }
                }
            }
        };
        (status, Html(page.into_string())).into_response()
    }
}

/// The answer for a console path that is no page.
pub async fn not_found() -> ConsoleError {
    ConsoleError::NotFound
}
