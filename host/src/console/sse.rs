//! The runs page's live tail: `GET /console/runs/tail` (server-sent
//! events). A task per open page polls the history every
//! [`POLL`] for runs newer than the last one sent that pass the page's
//! filters, and sends each as an event `run` (JSON, id = run id, so a
//! reconnecting browser's `Last-Event-ID` resumes where it was). The
//! stream ends when the page goes away or the server starts shutting down.

use super::ConsoleError;
use super::runs::{RunsForm, row_json};
use crate::server::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::convert::Infallible;
use std::time::Duration;

/// How often an open tail looks for new runs.
pub const POLL: Duration = Duration::from_millis(300);

/// `GET /console/runs/tail?{filters}&after=ID`.
pub async fn tail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(form): Query<RunsForm>,
) -> Result<impl IntoResponse, ConsoleError> {
    let filter = form
        .filter(crate::store::now_unix_ms())
        .map_err(ConsoleError::BadRequest)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut last = resume
        .or_else(|| form.after.trim().parse().ok())
        .unwrap_or(0);
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        loop {
            tick.tick().await;
            if state.health.draining() || tx.is_closed() {
                break;
            }
            let store = state.store.clone();
            let f = filter.clone();
            let Ok(Ok(page)) =
                tokio::task::spawn_blocking(move || store.query_runs(&f, 50, None)).await
            else {
                continue;
            };
            let mut fresh: Vec<_> = page.runs.into_iter().filter(|r| r.id > last).collect();
            fresh.sort_by_key(|r| r.id);
            for run in fresh {
                last = last.max(run.id);
                let event = Event::default()
                    .event("run")
                    .id(run.id.to_string())
                    .data(row_json(&run).to_string());
                if tx.send(event).await.is_err() {
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
