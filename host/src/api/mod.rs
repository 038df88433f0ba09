//! The admin API under /api (JSON; `Authorization: Bearer TOKEN`).
//!
//! - `POST /api/packages` `{"package": {...} | "<json text>", "prompts": {...}}`
//!   → 201 `{"records": [{"_context", "id", "uid", "name", ...}], "records_created": {...}}`
//! - `POST /api/webhooks` `{"name", "automations_kata", "guid"?, "body_limit"?, "verify"?}`
//!   → 201 `{"id", "guid", "url", "warnings"?}`; `GET /api/webhooks` → `{"webhooks": [...]}`;
//!   `GET`, `PUT`, `DELETE /api/webhooks/{id}`; listeners show `is_disabled` (a disabled
//!   one answers 404), which `POST`/`PUT` may set (`PUT` keeps it when absent). A `verify` block (docs/verified-webhooks.md)
//!   is validated (400 with the reason); listeners show it as given (secret names only).
//! - `GET /api/secrets` → `{"secrets": ["name", ...]}` (names only, never values)
//! - `GET /api/automations` → `{"automations": [...]}`, `GET /api/automations/{name}`,
//!   `PUT /api/automations/{name}` `{"script"?, "policy_kata"?, "description"?}` → the
//!   automation with its new `version`; `GET /api/automations/{name}/versions` → `{"versions": [...]}`
//! - `GET /api/runs?automation=&listener=&exit=&status=&trigger=&since_ms=&until_ms=&limit=&cursor=`
//!   → `{"runs": [...], "next_cursor": "..." | null}`, newest first; `GET /api/runs/{id}` → the
//!   whole record; `POST /api/runs/{id}/replay` `{"version": "recorded" | "current"}` → 201
//!   `{"run", "diff"}`; `POST /api/runs/replay` (filters, `version`, `max`, `dry_run`) →
//!   `{"count"}` (dry run) or 201 `{"count", "runs": [ids]}`
//! - `GET /api/timers` → `{"timers": [...]}`; `POST /api/timers` `{"name", "automations_kata",
//!   "next_run_at"?, "is_disabled"?, "is_recurring"?, "recurring_patterns"?, "recurring_timezone"?}`
//!   → 201 with the timer; `GET`, `PUT` (fields given replace), `DELETE /api/timers/{id}`;
//!   `POST /api/timers/{id}/run` → `{"timer_id", "run_id", "exit", "outcome", "next_run_at"}`
//!
//! Errors are `{"error": "..."}` with a 4xx/5xx status.

mod automations;
pub mod runs;
mod timers;

use crate::packages::{self, ImportOptions};
use crate::server::{ApiError, AppState};
use crate::store::{ListenerInput, ListenerRecord};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value as JsonValue, json};

/// Largest admin request body (packages may be large).
pub const API_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The `/api` routes (mounted by the server).
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/packages", post(import_package))
        .route("/webhooks", post(create_webhook).get(list_webhooks))
        .route(
            "/webhooks/{id}",
            get(get_webhook).put(update_webhook).delete(delete_webhook),
        )
        .route("/automations", get(automations::list))
        .route(
            "/automations/{name}",
            get(automations::get).put(automations::update),
        )
        .route("/automations/{name}/versions", get(automations::versions))
        .route("/runs", get(runs::list))
        .route("/runs/replay", post(runs::replay_many))
        .route("/runs/{id}", get(runs::get))
        .route("/runs/{id}/replay", post(runs::replay_one))
        .route("/timers", get(timers::list).post(timers::create))
        .route(
            "/timers/{id}",
            get(timers::get).put(timers::update).delete(timers::delete),
        )
        .route("/timers/{id}/run", post(timers::run))
        .route("/secrets", get(list_secrets))
        .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT))
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

/// Constant-time comparison of two byte strings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The credentials of an `Authorization: Bearer TOKEN` value: the scheme
/// is matched case-insensitively (RFC 9110 §11.1), then at least one space.
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

/// Whether `headers` carry the admin token (`Authorization: Bearer TOKEN`).
pub(crate) fn authorized(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    presented.is_some_and(|t| same(t.as_bytes(), state.admin_token.as_bytes()))
}

async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if authorized(&state, req.headers()) {
        next.run(req).await
    } else {
        ApiError(StatusCode::UNAUTHORIZED, "Unauthorized".into()).into_response()
    }
}

/// Runs blocking store work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

pub(crate) fn parse_body(body: &[u8]) -> Result<JsonValue, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))
}

async fn import_package(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req = parse_body(&body)?;
    let text = match req.get("package") {
        Some(JsonValue::String(s)) => s.clone().into_bytes(),
        Some(v @ JsonValue::Object(_)) => serde_json::to_vec(v).map_err(ApiError::internal)?,
        Some(other) => serde_json::to_vec(other).map_err(ApiError::internal)?,
        None => return Err(ApiError::bad_request("'package' is required.")),
    };
    let prompts = req.get("prompts").cloned().unwrap_or_else(|| json!({}));
    let store = state.store.clone();
    let opts = ImportOptions {
        base_url: state.base_url.clone(),
        skip_if_imported: false,
    };
    let result = blocking(move || {
        packages::import(store.as_ref(), &text, &prompts, &opts).map_err(|e| match e {
            packages::PackageError::Refused(m) => ApiError::bad_request(m),
            packages::PackageError::Store(s) => ApiError::internal(s),
        })
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"records": result.records, "records_created": result.records_created})),
    )
        .into_response())
}

fn listener_json(l: &ListenerRecord, base_url: &str) -> JsonValue {
    let mut out = json!({
        "id": l.id,
        "name": l.name,
        "guid": l.guid,
        "automations_kata": l.automations_kata,
        "updated_at": l.updated_at,
        "body_limit": l.body_limit,
        "url": format!("{base_url}webhooks/{}", l.guid),
        "is_disabled": l.is_disabled,
    });
    if let (Some(verify), Some(map)) = (&l.verify, out.as_object_mut()) {
        map.insert(
            "verify".into(),
            serde_json::to_value(verify).unwrap_or(JsonValue::Null),
        );
    }
    out
}

/// The listener's `verify` block: absent/null → none; otherwise parsed
/// (unknown fields refused) and validated against its preset.
fn verify_input(v: &JsonValue) -> Result<Option<katabox_verify::VerifyConfig>, ApiError> {
    match v.get("verify") {
        None | Some(JsonValue::Null) => Ok(None),
        Some(block) => {
            let config: katabox_verify::VerifyConfig = serde_json::from_value(block.clone())
                .map_err(|e| ApiError::bad_request(format!("Invalid 'verify': {e}")))?;
            config
                .validate()
                .map_err(|e| ApiError::bad_request(format!("Invalid 'verify': {e}")))?;
            Ok(Some(config))
        }
    }
}

/// Warnings about a listener's `verify` block: secret names the server
/// does not know (requests would answer 500 until they are configured).
fn verify_warnings(l: &ListenerRecord, secrets: &katabox_verify::Secrets) -> Vec<String> {
    l.verify
        .iter()
        .flat_map(|v| v.secret.0.iter())
        .filter(|name| secrets.get(name).is_none())
        .map(|name| format!("secret {name} is not configured"))
        .collect()
}

/// Adds `warnings` to an answer when there are any.
fn with_warnings(mut out: JsonValue, warnings: Vec<String>) -> JsonValue {
    if let (false, Some(map)) = (warnings.is_empty(), out.as_object_mut()) {
        map.insert("warnings".into(), json!(warnings));
    }
    out
}

fn listener_input(body: &[u8]) -> Result<ListenerInput, ApiError> {
    let v = parse_body(body)?;
    let text = |k: &str| match v.get(k) {
        None | Some(JsonValue::Null) => Ok(String::new()),
        Some(JsonValue::String(s)) => Ok(s.clone()),
        Some(_) => Err(ApiError::bad_request(format!("'{k}' must be a string."))),
    };
    let automations_kata = text("automations_kata")?;
    // Event KATA that does not parse would give every request a 500.
    crate::webhooks::lang::check_kata(&automations_kata)
        .map_err(|e| ApiError::bad_request(format!("Invalid 'automations_kata': {e}")))?;
    Ok(ListenerInput {
        name: text("name")?,
        guid: text("guid")?,
        automations_kata,
        body_limit: v.get("body_limit").and_then(JsonValue::as_u64),
        verify: verify_input(&v)?,
        is_disabled: match v.get("is_disabled") {
            None | Some(JsonValue::Null) => None,
            Some(JsonValue::Bool(b)) => Some(*b),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "'is_disabled' must be true or false.",
                ));
            }
        },
    })
}

async fn create_webhook(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let input = listener_input(&body)?;
    let store = state.store.clone();
    let rec = blocking(move || Ok(store.create_listener(input)?)).await?;
    let warnings = verify_warnings(&rec, &state.verifier.secrets);
    Ok((
        StatusCode::CREATED,
        Json(with_warnings(
            json!({
                "id": rec.id,
                "guid": rec.guid,
                "url": format!("{}webhooks/{}", state.base_url, rec.guid),
            }),
            warnings,
        )),
    )
        .into_response())
}

async fn list_webhooks(State(state): State<AppState>) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    let all = blocking(move || Ok(store.listeners()?)).await?;
    let list: Vec<JsonValue> = all
        .iter()
        .map(|l| listener_json(l, &state.base_url))
        .collect();
    Ok(Json(json!({"webhooks": list})))
}

async fn get_webhook(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    let rec = blocking(move || Ok(store.listener(id)?)).await?;
    rec.map(|l| Json(listener_json(&l, &state.base_url)))
        .ok_or_else(ApiError::not_found)
}

async fn update_webhook(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    body: axum::body::Bytes,
) -> Result<Json<JsonValue>, ApiError> {
    let input = listener_input(&body)?;
    let store = state.store.clone();
    let rec = blocking(move || Ok(store.update_listener(id, input)?)).await?;
    rec.map(|l| {
        let warnings = verify_warnings(&l, &state.verifier.secrets);
        Json(with_warnings(listener_json(&l, &state.base_url), warnings))
    })
    .ok_or_else(ApiError::not_found)
}

async fn delete_webhook(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    if blocking(move || Ok(store.delete_listener(id)?)).await? {
        Ok(Json(json!({"deleted": true, "id": id})))
    } else {
        Err(ApiError::not_found())
    }
}

async fn list_secrets(State(state): State<AppState>) -> Json<JsonValue> {
    let names: Vec<&str> = state.verifier.secrets.names().collect();
    Json(json!({"secrets": names}))
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case() {
        for v in ["Bearer t0k", "bearer t0k", "BEARER t0k", "bEaReR   t0k  "] {
            assert_eq!(bearer_token(v), Some("t0k"), "{v:?}");
        }
        for v in [
            "Basic t0k",
            "Bearert0k",
            "t0k",
            "Bearer ",
            "Bearer",
            "",
            "Bearer\tt0k",
        ] {
            assert_eq!(bearer_token(v), None, "{v:?}");
        }
    }
}
