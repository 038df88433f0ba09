//! `/console/timers`: the timers with their next run, enable/disable, run now.

use super::auth::Current;
use super::csrf::CsrfForm;
use super::layout::{self, time_of_secs};
use super::{ConsoleError, blocking};
use crate::server::AppState;
use crate::timers::{self, TimerError};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use maud::html;
use serde::Deserialize;

/// The outcome of the last action, carried over the redirect.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
    #[serde(default)]
    run: Option<u64>,
}

/// `GET /console/timers`.
pub async fn page(
    State(state): State<AppState>,
    Extension(current): Extension<Current>,
    Query(done): Query<Done>,
) -> Result<Html<String>, ConsoleError> {
    let store = state.store.clone();
    let all = blocking(move || Ok(store.timers()?)).await?;
    let csrf = &current.session.csrf;
    let body = html! {
        @match done.done.as_str() {
            "toggled" => (layout::notice(true, "Timer changed.")),
            "ran" => p.notice role="status" {
                "The timer ran"
                @if let Some(r) = done.run { ": " a href={ "/console/runs/" (r) } { "run #" (r) } }
                "."
            },
            _ => {},
        }
        table #timers {
            thead { tr { th { "Id" } th { "Name" } th { "Next run (UTC)" } th { "Last ran" } th { "Recurrence" } th { "State" } th { "" } } }
            tbody { @for t in &all {
                tr {
                    td { (t.id) }
                    td { (t.name) }
                    td { (time_of_secs(t.next_run_at)) }
                    td { (time_of_secs(t.last_ran_at)) }
                    td { @if t.is_recurring { code { (t.recurring_patterns) } " " span.muted { (t.recurring_timezone) } } @else { "once" } }
                    td { @if t.is_disabled { span.badge.bad { "disabled" } } @else { span.badge.ok { "enabled" } } }
                    td.actions {
                        form.inline method="post" action={ "/console/timers/" (t.id) "/toggle" } {
                            (csrf.field())
                            button.secondary type="submit" { @if t.is_disabled { "Enable" } @else { "Disable" } }
                        }
                        form.inline method="post" action={ "/console/timers/" (t.id) "/run" } {
                            (csrf.field())
                            button type="submit" { "Run now" }
                        }
                        a href={ "/console/runs?trigger=timer" } { "Runs" }
                    }
                }
            } }
        }
        @if all.is_empty() { p.muted { "No timers (packages create them, or POST /api/timers)." } }
    };
    Ok(Html(
        layout::page("Timers", "/console/timers", csrf, body).into_string(),
    ))
}

/// `POST /console/timers/{id}/toggle`.
pub async fn toggle(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    CsrfForm(_, _): CsrfForm,
) -> Result<Redirect, ConsoleError> {
    let store = state.store.clone();
    blocking(move || {
        let mut t = store.timer(id)?.ok_or(ConsoleError::NotFound)?;
        t.is_disabled = !t.is_disabled;
        store.save_timer(&t)?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/console/timers?done=toggled"))
}

/// `POST /console/timers/{id}/run`: runs the timer now, due or not.
pub async fn run_now(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    CsrfForm(_, _): CsrfForm,
) -> Result<Redirect, ConsoleError> {
    match timers::run_now(&state.timers, id).await {
        Ok(fired) => {
            let run = fired
                .run_id
                .map(|r| format!("&run={r}"))
                .unwrap_or_default();
            Ok(Redirect::to(&format!("/console/timers?done=ran{run}")))
        }
        Err(TimerError::NotFound) => Err(ConsoleError::NotFound),
        Err(TimerError::Busy) => Err(ConsoleError::BadRequest(
            "The timer is running; try again when it has finished.".into(),
        )),
        Err(e) => Err(ConsoleError::internal(e)),
    }
}
