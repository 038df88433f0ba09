//! Typed errors the HTTP layer turns into responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A request the server refuses before any listener logic runs.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The body is larger than the limit.
    #[error("Request body too large (limit: {0} bytes)")]
    BodyTooLarge(u64),
    /// The body did not arrive in time.
    #[error("Request body timed out")]
    BodyTimeout,
    /// The body could not be read.
    #[error("Request body could not be read")]
    BodyRead,
    /// Too many requests at once.
    #[error("Server busy, try again later")]
    Busy,
    /// Too many requests to one listener at once.
    #[error("Webhook busy, try again later")]
    ListenerBusy,
}

impl ServerError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ServerError::BodyRead => StatusCode::BAD_REQUEST,
            ServerError::Busy | ServerError::ListenerBusy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), self.to_string()).into_response();
        if matches!(self, ServerError::Busy | ServerError::ListenerBusy) {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        resp
    }
}

/// An admin API error: `{"error": "..."}` with a status.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    /// 400 with a message.
    pub fn bad_request(msg: impl Into<String>) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, msg.into())
    }
    /// 404 `Not found`.
    pub fn not_found() -> ApiError {
        ApiError(StatusCode::NOT_FOUND, "Not found".into())
    }
    /// 500 with a message.
    pub fn internal(msg: impl std::fmt::Display) -> ApiError {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, msg.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(serde_json::json!({"error": self.1}))).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Rejected(m) => ApiError::bad_request(m),
            other => ApiError::internal(other),
        }
    }
}
