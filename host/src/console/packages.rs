//! `/console/packages`: import a package JSON, answering its prompts in a
//! form (a second step when it has any); the imported packages.

use super::auth::Current;
use super::csrf::{CsrfForm, Fields};
use super::layout::{self, segment, time_of_secs};
use super::{ConsoleError, blocking};
use crate::packages::{self, ImportOptions, PackageError};
use crate::server::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde_json::{Map, Value as Json};

/// A prompt of a package's `configure.prompts`, as the form asks it.
struct Prompt {
    key: String,
    label: String,
    kind: String,
    /// (label, value) pairs of a picklist.
    options: Vec<(String, String)>,
    multiple: bool,
    default: String,
}

fn prompts_of(package_text: &str) -> Result<Vec<Prompt>, String> {
    let doc = packages::load::decode(package_text.as_bytes())?;
    let list = doc
        .get("package")
        .and_then(|p| p.get("configure"))
        .and_then(|c| c.get("prompts"))
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let text = |v: Option<&Json>| match v {
        Some(Json::String(s)) => s.clone(),
        None | Some(Json::Null) => String::new(),
        Some(other) => other.to_string(),
    };
    Ok(list
        .iter()
        .map(|p| {
            let params = p.get("params");
            let options = match params.and_then(|p| p.get("options")) {
                Some(Json::Array(a)) => a.iter().map(|o| (text(Some(o)), text(Some(o)))).collect(),
                Some(Json::Object(o)) => o
                    .iter()
                    .map(|(label, v)| (label.clone(), text(Some(v))))
                    .collect(),
                _ => Vec::new(),
            };
            Prompt {
                key: text(p.get("key")),
                label: text(p.get("label")),
                kind: text(p.get("type")),
                options,
                multiple: params
                    .and_then(|p| p.get("multiple"))
                    .is_some_and(|m| m.as_bool().unwrap_or(m.as_i64() == Some(1))),
                default: text(params.and_then(|p| p.get("default"))),
            }
        })
        .collect())
}

fn prompt_field(p: &Prompt, given: &Fields) -> Markup {
    let name = format!("prompt.{}", p.key);
    let id = format!("p-{}", p.key);
    let value = given.get(&name).unwrap_or(&p.default).to_string();
    html! {
        label for=(id) { (p.label) " " span.muted { "(" (p.key) ")" } }
        @if p.kind == "picklist" {
            select id=(id) name=(name) multiple[p.multiple] {
                @for (label, v) in &p.options { option value=(v) selected[*v == value] { (label) } }
            }
        } @else {
            input type="text" id=(id) name=(name) value=(value);
            @if p.kind == "chooser" { p.hint { "A record id." } }
        }
    }
}

async fn render(
    state: &AppState,
    current: &Current,
    top: Markup,
    package_text: &str,
) -> Result<Html<String>, ConsoleError> {
    let store = state.store.clone();
    let imported = blocking(move || Ok(store.packages()?)).await?;
    let csrf = &current.session.csrf;
    let body = html! {
        (top)
        h2 { "Import a package" }
        form #import method="post" action="/console/packages" {
            (csrf.field())
            label for="pkg" { "Package JSON" }
            textarea.tall #pkg name="package" placeholder="{\"package\": {...}, \"records\": [...]}" { (package_text) }
            button type="submit" { "Import" }
        }
        h2 { "Imported packages" }
        @if imported.is_empty() { p.muted { "None yet." } }
        @else {
            table #packages {
                thead { tr { th { "Name" } th { "Revision" } th { "Imported" } th { "Records" } } }
                tbody { @for p in &imported {
                    tr {
                        td { (p.name) } td { (p.revision) } td { (time_of_secs(p.imported_at)) }
                        td { @for r in &p.records { (record_link(&r.context, r.id, &r.label)) " " } }
                    }
                } }
            }
        }
    };
    Ok(Html(
        layout::page("Packages", "/console/packages", csrf, body).into_string(),
    ))
}

/// A link to a created record's console page, when it has one.
fn record_link(context: &str, id: u64, label: &str) -> Markup {
    let kind = context.rsplit('.').next().unwrap_or(context);
    html! {
        @match kind {
            "automation" => a href={ "/console/automations/" (segment(label)) } { (label) },
            "webhook_listener" => a href={ "/console/runs?listener=" (id) } { (label) " (listener " (id) ")" },
            "automation_timer" => a href="/console/timers" { (label) },
            _ => span { (label) },
        }
    }
}

/// `GET /console/packages`.
pub async fn page(
    State(state): State<AppState>,
    Extension(current): Extension<Current>,
) -> Result<Html<String>, ConsoleError> {
    render(&state, &current, html! {}, "").await
}

/// `POST /console/packages` (`package`; then `step=import` with a
/// `prompt.KEY` field per prompt).
pub async fn import(
    State(state): State<AppState>,
    CsrfForm(current, form): CsrfForm,
) -> Result<Response, ConsoleError> {
    let text = form.get("package").unwrap_or("").to_string();
    let prompts = match prompts_of(&text) {
        Ok(p) => p,
        Err(e) => {
            let top = layout::notice(false, &format!("The package was refused: {e}"));
            return Ok((
                StatusCode::BAD_REQUEST,
                render(&state, &current, top, &text).await?,
            )
                .into_response());
        }
    };
    if !prompts.is_empty() && form.get("step") != Some("import") {
        let top = prompt_form(&current, &prompts, &form, &text, None);
        return Ok(render(&state, &current, top, "").await?.into_response());
    }
    let mut answers = Map::new();
    for p in &prompts {
        let name = format!("prompt.{}", p.key);
        let values: Vec<Json> = form
            .0
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| Json::String(v.clone()))
            .collect();
        let value = if p.multiple {
            Json::Array(values)
        } else {
            values.into_iter().next().unwrap_or(Json::Null)
        };
        answers.insert(p.key.clone(), value);
    }
    let store = state.store.clone();
    let opts = ImportOptions {
        base_url: state.base_url.clone(),
        skip_if_imported: false,
    };
    let bytes = text.clone().into_bytes();
    let answers = Json::Object(answers);
    let result = tokio::task::spawn_blocking(move || {
        packages::import(store.as_ref(), &bytes, &answers, &opts)
    })
    .await
    .map_err(ConsoleError::internal)?;
    match result {
        Ok(done) => {
            let top = html! {
                (layout::notice(true, &format!("Imported {} record(s).", done.records.len())))
                ul #imported { @for r in &done.records {
                    li {
                        @let ctx = r.get("_context").and_then(Json::as_str).unwrap_or("");
                        @let name = r.get("name").and_then(Json::as_str).unwrap_or("");
                        @let id = r.get("id").and_then(Json::as_u64).unwrap_or(0);
                        (ctx) ": " (record_link(ctx, id, name))
                        @if let Some(url) = r.get("url").and_then(Json::as_str) { " — " code { (url) } }
                    }
                } }
            };
            Ok(render(&state, &current, top, "").await?.into_response())
        }
        Err(PackageError::Refused(m)) => {
            let top = if prompts.is_empty() {
                layout::notice(false, &format!("The package was refused: {m}"))
            } else {
                prompt_form(&current, &prompts, &form, &text, Some(&m))
            };
            let empty = if prompts.is_empty() {
                text.as_str()
            } else {
                ""
            };
            Ok((
                StatusCode::BAD_REQUEST,
                render(&state, &current, top, empty).await?,
            )
                .into_response())
        }
        Err(PackageError::Store(e)) => Err(e.into()),
    }
}

fn prompt_form(
    current: &Current,
    prompts: &[Prompt],
    given: &Fields,
    text: &str,
    error: Option<&str>,
) -> Markup {
    html! {
        h2 { "This package asks" }
        @if let Some(e) = error { (layout::notice(false, e)) }
        form #prompts method="post" action="/console/packages" {
            (current.session.csrf.field())
            input type="hidden" name="step" value="import";
            textarea hidden name="package" { (text) }
            @for p in prompts { (prompt_field(p, given)) }
            button type="submit" { "Import with these answers" }
        }
    }
}
