//! `/api/runs`: the history with filters and cursor paging, one run's
//! whole record, replay of one run and of a filter.

use super::blocking;
use crate::server::{ApiError, AppState};
use crate::store::{RunCursor, RunFilter, RunRecord};
use crate::webhooks::replay::{self, ReplayError, ReplayVersion};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};

/// Runs one page holds by default.
const DEFAULT_LIMIT: usize = 50;
/// Runs one page holds at most.
pub const MAX_LIMIT: usize = 1000;
/// Bytes of JSON one page holds at most: a page of large runs ends early,
/// with a cursor to the rest, rather than pass it.
pub const PAGE_BYTES: usize = 8 << 20;
/// Runs one bulk replay replays by default (and at most).
const DEFAULT_MAX: usize = 1000;

/// The filters of `GET /api/runs` and `POST /api/runs/replay`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    automation: Option<String>,
    listener: Option<u64>,
    exit: Option<String>,
    status: Option<u16>,
    trigger: Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    parent: Option<u64>,
    limit: Option<usize>,
    cursor: Option<String>,
}

impl RunsQuery {
    fn filter(&self) -> RunFilter {
        let text = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        RunFilter {
            automation: text(&self.automation),
            listener: self.listener,
            exit: text(&self.exit),
            status: self.status,
            trigger: text(&self.trigger),
            since_ms: self.since_ms,
            until_ms: self.until_ms,
            parent: self.parent,
        }
    }
}

/// A run with its payload as the API shows it: the summary fields plus
/// `request`, `response`, `inputs` and `return` (null once expired).
pub fn run_json(run: &RunRecord) -> JsonValue {
    let mut out = serde_json::to_value(run).unwrap_or(JsonValue::Null);
    let payload = run.payload.clone().unwrap_or_default();
    if let (Some(map), Ok(JsonValue::Object(p))) =
        (out.as_object_mut(), serde_json::to_value(payload))
    {
        map.extend(p);
    }
    out
}

/// `GET /api/runs`.
pub async fn list(
    State(state): State<AppState>,
    q: Result<Query<RunsQuery>, QueryRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(c.parse::<RunCursor>().map_err(ApiError::bad_request)?),
        None => None,
    };
    let filter = q.filter();
    let store = state.store.clone();
    let page = blocking(move || Ok(store.query_runs(&filter, limit, cursor)?)).await?;
    let mut runs = Vec::with_capacity(page.runs.len());
    let mut next_cursor = page.next_cursor;
    let mut bytes = 0;
    for run in &page.runs {
        let json = serde_json::to_value(run).unwrap_or(JsonValue::Null);
        bytes += json.to_string().len();
        if bytes > PAGE_BYTES && !runs.is_empty() {
            // The page is full: the next one starts after the last run shown.
            next_cursor = runs.len().checked_sub(1).and_then(|i: usize| {
                page.runs.get(i).map(|r: &RunRecord| RunCursor {
                    at_ms: r.at_ms,
                    id: r.id,
                })
            });
            break;
        }
        runs.push(json);
    }
    Ok(Json(json!({
        "runs": runs,
        "next_cursor": next_cursor.map(|c| c.to_string()),
    })))
}

/// `GET /api/runs/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<JsonValue>, ApiError> {
    let store = state.store.clone();
    let run = blocking(move || Ok(store.run(id)?)).await?;
    run.map(|r| Json(run_json(&r)))
        .ok_or_else(ApiError::not_found)
}

fn version_of(body: &JsonValue) -> Result<ReplayVersion, ApiError> {
    match body.get("version") {
        None | Some(JsonValue::Null) => Ok(ReplayVersion::Recorded),
        Some(JsonValue::String(s)) => s.parse().map_err(ApiError::bad_request),
        Some(_) => Err(ApiError::bad_request("'version' must be a string.")),
    }
}

fn replay_error(e: ReplayError) -> ApiError {
    match e {
        ReplayError::NotFound(_) => ApiError(StatusCode::NOT_FOUND, e.to_string()),
        ReplayError::Unavailable(m) => ApiError(StatusCode::CONFLICT, m),
        ReplayError::Store(s) => ApiError::internal(s),
    }
}

fn body_json(body: &[u8]) -> Result<JsonValue, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    super::parse_body(body)
}

/// `POST /api/runs/{id}/replay` `{"version": "recorded" | "current"}`.
pub async fn replay_one(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let version = version_of(&body_json(&body)?)?;
    let (run, diff) = replay::replay(&state.webhooks, id, version)
        .await
        .map_err(replay_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"run": run_json(&run), "diff": diff})),
    )
        .into_response())
}

/// `POST /api/runs/replay` with the filters of `GET /api/runs`, plus
/// `version`, `max` (default and ceiling 1,000) and `dry_run`.
pub async fn replay_many(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let mut body = body_json(&body)?;
    let version = version_of(&body)?;
    let dry_run = match body.get("dry_run") {
        None | Some(JsonValue::Null) => false,
        Some(JsonValue::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("'dry_run' must be true or false.")),
    };
    let max = match body.get("max") {
        None | Some(JsonValue::Null) => DEFAULT_MAX,
        Some(v) => v
            .as_u64()
            .map(|m| (m as usize).min(DEFAULT_MAX))
            .ok_or_else(|| ApiError::bad_request("'max' must be a positive integer."))?,
    };
    if let Some(map) = body.as_object_mut() {
        for k in ["version", "dry_run", "max"] {
            map.remove(k);
        }
    }
    let q: RunsQuery = serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid filters: {e}")))?;
    let filter = q.filter();
    // The runs to replay, chosen before any replay is recorded.
    let ctx = state.webhooks.clone();
    let chosen = blocking(move || {
        let mut chosen = Vec::new();
        let mut cursor = None;
        while chosen.len() < max {
            let page = ctx.store.query_runs(&filter, MAX_LIMIT, cursor)?;
            for run in page.runs {
                if chosen.len() == max {
                    break;
                }
                let Some(full) = ctx.store.run(run.id)? else {
                    continue;
                };
                if replay::replayable(&ctx, &full, version) {
                    chosen.push(run.id);
                }
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(chosen)
    })
    .await?;
    if dry_run {
        return Ok(Json(json!({"count": chosen.len()})).into_response());
    }
    let mut runs = Vec::with_capacity(chosen.len());
    for id in chosen {
        let (run, _) = replay::replay(&state.webhooks, id, version)
            .await
            .map_err(replay_error)?;
        runs.push(run.id);
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"count": runs.len(), "runs": runs})),
    )
        .into_response())
}
