//! The `/webhooks/…` handler: limits, body reading, then the webhook layer.

use super::{AppState, ServerError, observe, verify};
use crate::webhooks::{self, WebhookRequest, WebhookResponse};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Any path under `/webhooks`: answered, counted and logged.
pub async fn webhook(State(state): State<AppState>, req: Request) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let guid = observe::guid_prefix(req.uri().path());
    let mut trace = observe::WebhookTrace::default();
    let span = observe::request_span(method.as_str(), &guid);
    let resp = {
        use tracing::Instrument as _;
        answer(&state, req, &mut trace)
            .instrument(span.clone())
            .await
    };
    span.record("status", resp.status().as_u16());
    if let Some(id) = trace.listener {
        span.record("listener", id);
    }
    observe::webhook_done(
        method.as_str(),
        &guid,
        resp.status().as_u16(),
        started.elapsed(),
        &trace,
    );
    resp
}

async fn answer(state: &AppState, req: Request, trace: &mut observe::WebhookTrace) -> Response {
    let Ok(_permit) = state.concurrency.clone().try_acquire_owned() else {
        return ServerError::Busy.into_response();
    };
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut wreq = WebhookRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
            .collect(),
        body: Vec::new(),
        peer,
    };
    let ctx = &state.webhooks;
    let (listener, request_path) = match webhooks::route(ctx, &wreq) {
        Ok(r) => r,
        Err(resp) => return to_http(resp),
    };
    trace.listener = Some(listener.id);
    // One listener's requests in flight are capped before the body is read,
    // so a flood on it leaves the server's request slots to the others.
    let Some(_listener_permit) = state.listener_gate.try_enter(listener.id) else {
        return ServerError::ListenerBusy.into_response();
    };
    let limit = listener.body_limit.unwrap_or(state.limits.body_limit);
    wreq.body = match read_body(body, &parts.headers, limit, state.limits.body_timeout).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let claim = match &listener.verify {
        None => None,
        Some(config) => match verify::gate(state, config, listener.id, &wreq, &request_path) {
            verify::Gate::Answer(resp) => return to_http(resp),
            verify::Gate::Run(claim) => claim,
        },
    };
    let (resp, summary) = webhooks::respond_traced(ctx, &listener, &wreq, &request_path).await;
    trace.automation = summary.automation;
    trace.exit = summary.exit;
    trace.run_id = summary.run_id;
    if let Some(claim) = claim {
        claim.finish(&resp);
    }
    to_http(resp)
}

/// Everything outside `/webhooks` and `/api`.
pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/webhooks" || path.starts_with("/webhooks/") {
        return webhook(State(state), req).await;
    }
    StatusCode::NOT_FOUND.into_response()
}

/// Reads the body under a size limit and a deadline.
async fn read_body(
    body: Body,
    headers: &axum::http::HeaderMap,
    limit: u64,
    deadline: std::time::Duration,
) -> Result<Vec<u8>, ServerError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ServerError::BodyTooLarge(limit));
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, cap)).await {
        Err(_) => Err(ServerError::BodyTimeout),
        Ok(Ok(b)) => Ok(b.to_vec()),
        Ok(Err(e)) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            let mut too_large = false;
            while let Some(s) = source {
                if s.is::<http_body_util::LengthLimitError>() {
                    too_large = true;
                    break;
                }
                source = s.source();
            }
            if too_large {
                Err(ServerError::BodyTooLarge(limit))
            } else {
                Err(ServerError::BodyRead)
            }
        }
    }
}

/// A webhook response as an HTTP response.
pub fn to_http(resp: WebhookResponse) -> Response {
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = Response::new(Body::from(resp.body));
    *out.status_mut() = status;
    let headers = out.headers_mut();
    for (name, value) in resp.headers {
        let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) else {
            continue;
        };
        headers.insert(n, v);
    }
    out
}
