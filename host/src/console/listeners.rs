//! `/console/listeners`: list, create (event KATA checked, errors inline
//! with line numbers), enable/disable, delete, copy the URL, recent runs.

use super::auth::Current;
use super::csrf::CsrfForm;
use super::layout;
use super::{ConsoleError, blocking};
use crate::server::AppState;
use crate::store::{ListenerInput, ListenerRecord, RunFilter, RunRecord};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// Recent runs shown under each listener.
const RECENT: usize = 5;
/// Listeners whose recent runs are read (the rest link to the runs page).
const WITH_RUNS: usize = 50;

/// A message carried over a redirect (`?done=created` …).
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// The fields of the create form, kept to show again with an error.
#[derive(Debug, Default)]
struct Draft {
    name: String,
    kata: String,
    error: Option<String>,
}

/// The KATA an error is about, with line numbers (the error's line marked
/// when the message names one).
fn numbered(text: &str, error: &str) -> Markup {
    let marked = error
        .split("line ")
        .nth(1)
        .and_then(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<usize>()
                .ok()
        })
        .unwrap_or(0);
    html! {
        pre.numbered {
            @for (i, line) in text.lines().enumerate() {
                @if i + 1 == marked { span.bad { (format!("{:>3} ", i + 1)) (line) } "\n" }
                @else { span.muted { (format!("{:>3} ", i + 1)) } (line) "\n" }
            }
        }
    }
}

fn render(
    state: &AppState,
    current: &Current,
    listeners: &[(ListenerRecord, Vec<RunRecord>)],
    draft: &Draft,
    done: &str,
) -> Html<String> {
    let csrf = &current.session.csrf;
    let body = html! {
        @match done {
            "created" => (layout::notice(true, "Listener created.")),
            "deleted" => (layout::notice(true, "Listener deleted.")),
            "toggled" => (layout::notice(true, "Listener changed.")),
            _ => {},
        }
        table #listeners {
            thead { tr { th { "Id" } th { "Name" } th { "URL" } th { "State" } th { "" } } }
            tbody {
                @for (l, _) in listeners {
                    @let url = format!("{}webhooks/{}", state.base_url, l.guid);
                    tr data-listener=(l.id) {
                        td { (l.id) }
                        td.name { (l.name) }
                        td { code.url { (url) } " " button.secondary type="button" data-copy=(url) { "Copy" } }
                        td { @if l.is_disabled { span.badge.bad { "disabled" } } @else { span.badge.ok { "enabled" } } }
                        td.actions {
                            form.inline method="post" action={ "/console/listeners/" (l.id) "/toggle" } {
                                (csrf.field())
                                button.secondary type="submit" { @if l.is_disabled { "Enable" } @else { "Disable" } }
                            }
                            form.inline method="post" action={ "/console/listeners/" (l.id) "/delete" } data-confirm={ "Delete listener " (l.name) "?" } {
                                (csrf.field())
                                button.danger type="submit" { "Delete" }
                            }
                            a href={ "/console/runs?listener=" (l.id) } { "Runs" }
                        }
                    }
                }
            }
        }
        @if listeners.is_empty() { p.muted { "No listeners yet." } }
        @for (l, runs) in listeners {
            @if !runs.is_empty() {
                h2 { "Recent runs of " (l.name) }
                table.runs { (super::runs::head()) tbody { (super::runs::rows(runs)) } }
            }
        }
        h2 #create { "Create a listener" }
        @if let Some(e) = &draft.error {
            (layout::notice(false, e))
            @if !draft.kata.is_empty() { (numbered(&draft.kata, e)) }
        }
        form method="post" action="/console/listeners" {
            (csrf.field())
            label for="l-name" { "Name" }
            input #l-name type="text" name="name" value=(draft.name) required;
            label for="l-kata" { "Event KATA (automations_kata)" }
            textarea #l-kata name="automations_kata" placeholder="automation/respond:\n  uri: cerb:automation:example.webhook.respond\n" { (draft.kata) }
            p.hint { "The first enabled automation handler runs for each request." }
            button type="submit" { "Create" }
        }
    };
    Html(layout::page("Listeners", "/console/listeners", csrf, body).into_string())
}

async fn load(state: &AppState) -> Result<Vec<(ListenerRecord, Vec<RunRecord>)>, ConsoleError> {
    let store = state.store.clone();
    blocking(move || {
        let all = store.listeners()?;
        let mut out = Vec::with_capacity(all.len());
        for (i, l) in all.into_iter().enumerate() {
            let runs = if i < WITH_RUNS {
                let filter = RunFilter {
                    listener: Some(l.id),
                    ..RunFilter::default()
                };
                store.query_runs(&filter, RECENT, None)?.runs
            } else {
                Vec::new()
            };
            out.push((l, runs));
        }
        Ok(out)
    })
    .await
}

/// `GET /console/listeners`.
pub async fn page(
    State(state): State<AppState>,
    Extension(current): Extension<Current>,
    Query(done): Query<Done>,
) -> Result<Html<String>, ConsoleError> {
    let listeners = load(&state).await?;
    Ok(render(
        &state,
        &current,
        &listeners,
        &Draft::default(),
        &done.done,
    ))
}

/// `POST /console/listeners` (`name`, `automations_kata`): 303 back, or
/// the page again (400) with the error and the KATA's line numbers.
pub async fn create(
    State(state): State<AppState>,
    CsrfForm(current, form): CsrfForm,
) -> Result<Response, ConsoleError> {
    let name = form.get("name").unwrap_or("").to_string();
    let kata = form
        .get("automations_kata")
        .unwrap_or("")
        .replace("\r\n", "\n");
    let checked = crate::webhooks::lang::check_kata(&kata)
        .map_err(|e| format!("Invalid 'automations_kata': {e}"));
    let result = match checked {
        Err(e) => Err(e),
        Ok(()) => {
            let store = state.store.clone();
            let input = ListenerInput {
                name: name.clone(),
                automations_kata: kata.clone(),
                ..ListenerInput::default()
            };
            match blocking(move || Ok(store.create_listener(input)?)).await {
                Ok(_) => Ok(()),
                Err(ConsoleError::BadRequest(m)) => Err(m),
                Err(e) => return Err(e),
            }
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to("/console/listeners?done=created").into_response()),
        Err(error) => {
            let listeners = load(&state).await?;
            let draft = Draft {
                name,
                kata,
                error: Some(error),
            };
            Ok((
                StatusCode::BAD_REQUEST,
                render(&state, &current, &listeners, &draft, ""),
            )
                .into_response())
        }
    }
}

/// `POST /console/listeners/{id}/toggle`: enables a disabled listener,
/// disables an enabled one.
pub async fn toggle(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    CsrfForm(_, _): CsrfForm,
) -> Result<Redirect, ConsoleError> {
    let store = state.store.clone();
    blocking(move || {
        let l = store.listener(id)?.ok_or(ConsoleError::NotFound)?;
        let input = ListenerInput {
            name: l.name,
            guid: l.guid,
            automations_kata: l.automations_kata,
            body_limit: l.body_limit,
            verify: l.verify,
            is_disabled: Some(!l.is_disabled),
        };
        store.update_listener(id, input)?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/console/listeners?done=toggled"))
}

/// `POST /console/listeners/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    CsrfForm(_, _): CsrfForm,
) -> Result<Redirect, ConsoleError> {
    let store = state.store.clone();
    if !blocking(move || Ok(store.delete_listener(id)?)).await? {
        return Err(ConsoleError::NotFound);
    }
    Ok(Redirect::to("/console/listeners?done=deleted"))
}
