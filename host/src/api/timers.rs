//! `/api/timers`: automation timers (list, create, change, delete, run now).

use super::{blocking, parse_body};
use crate::server::{ApiError, AppState};
use crate::timers::{self, TimerError, input};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as JsonValue, json};

/// `GET /api/timers` → `{"timers": [...]}`, by id.
pub async fn list(State(state): State<AppState>) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    let all = blocking(move || Ok(store.timers()?)).await?;
    Ok(Json(json!({"timers": all})))
}

/// `GET /api/timers/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    let found = blocking(move || Ok(store.timer(id)?)).await?;
    let t = found.ok_or_else(ApiError::not_found)?;
    Ok(Json(serde_json::to_value(t).map_err(ApiError::internal)?))
}

/// `POST /api/timers` `{"name", "automations_kata", "next_run_at"?,
/// "is_disabled"?, "is_recurring"?, "recurring_patterns"?,
/// "recurring_timezone"?}` → 201 with the timer. Without `next_run_at` a
/// recurring timer starts at its next occurrence, a one-shot timer now.
pub async fn create(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let v = parse_body(&body)?;
    let ctx = &state.timers;
    let rec = input::new_timer(&v, ctx.default_tz, ctx.clock.now()).map_err(bad)?;
    let store = state.store.clone();
    let saved = blocking(move || Ok(store.save_timer(&rec)?)).await?;
    let out = serde_json::to_value(saved).map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `PUT /api/timers/{id}` with any of the fields of `POST`: those given
/// replace the stored ones.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    body: axum::body::Bytes,
) -> Result<Json<JsonValue>, ApiError> {
    let v = parse_body(&body)?;
    let store = state.store.clone();
    let mut rec = blocking(move || Ok(store.timer(id)?))
        .await?
        .ok_or_else(ApiError::not_found)?;
    input::apply(&mut rec, &v).map_err(bad)?;
    let store = state.store.clone();
    let saved = blocking(move || Ok(store.save_timer(&rec)?)).await?;
    Ok(Json(
        serde_json::to_value(saved).map_err(ApiError::internal)?,
    ))
}

/// `DELETE /api/timers/{id}` (its continuation goes with it).
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    if blocking(move || Ok(store.delete_timer(id)?)).await? {
        Ok(Json(json!({"deleted": true, "id": id})))
    } else {
        Err(ApiError::not_found())
    }
}

/// `POST /api/timers/{id}/run`: runs the timer now, due or not, with the
/// scheduler's outcomes → `{"timer_id", "run_id", "exit", "outcome", "next_run_at"}`.
pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<JsonValue>, ApiError> {
    match timers::run_now(&state.timers, id).await {
        Ok(fired) => Ok(Json(
            serde_json::to_value(fired).map_err(ApiError::internal)?,
        )),
        Err(TimerError::NotFound) => Err(ApiError::not_found()),
        Err(TimerError::Busy) => Err(ApiError(
            StatusCode::CONFLICT,
            "The timer is running; try again when it has finished.".into(),
        )),
        Err(TimerError::Store(e)) => Err(e.into()),
        Err(e @ TimerError::Task(_)) => Err(ApiError::internal(e)),
    }
}

fn bad(e: input::InvalidTimer) -> ApiError {
    ApiError::bad_request(e.to_string())
}
