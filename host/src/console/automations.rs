//! `/console/automations`: the list; one automation's script and policy,
//! editable (each save is the next version, checked like the API's `PUT`),
//! its versions; and the Test panel, which runs it in the server's sandbox
//! with an inputs dictionary.

use super::auth::Current;
use super::csrf::{CsrfForm, Fields};
use super::layout::{self, duration_of, exit_badge, json_text, segment, time_of_secs};
use super::{ConsoleError, blocking};
use crate::server::AppState;
use crate::store::{AutomationChange, AutomationRow};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// `GET /console/automations`.
pub async fn list(
    State(state): State<AppState>,
    Extension(current): Extension<Current>,
) -> Result<Html<String>, ConsoleError> {
    let store = state.store.clone();
    let all = blocking(move || Ok(store.automations()?)).await?;
    let body = html! {
        table #automations {
            thead { tr { th { "Name" } th { "Trigger" } th { "Version" } th { "Updated" } th { "Description" } } }
            tbody {
                @for a in &all {
                    tr {
                        td { a href={ "/console/automations/" (segment(&a.name)) } { (a.name) } }
                        td { code { (a.extension_id) } }
                        td { (a.version) }
                        td { (time_of_secs(a.updated_at)) }
                        td { (a.description) }
                    }
                }
            }
        }
        @if all.is_empty() { p.muted { "No automations: import a package first." } }
    };
    Ok(Html(
        layout::page(
            "Automations",
            "/console/automations",
            &current.session.csrf,
            body,
        )
        .into_string(),
    ))
}

/// `?version=N` shows an earlier version; `?done=saved` a notice.
#[derive(Debug, Default, Deserialize)]
pub struct View {
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    done: String,
}

/// What the page shows besides the automation.
#[derive(Default)]
struct Extra {
    notice: Option<(bool, String)>,
    /// The edit form's text after a refused save.
    draft: Option<(String, String, String)>,
    test: Option<Markup>,
    inputs: String,
    fixtures: String,
}

fn render(
    current: &Current,
    a: &AutomationRow,
    shown: &AutomationRow,
    versions: &[AutomationRow],
    extra: Extra,
) -> Html<String> {
    let csrf = &current.session.csrf;
    let action = format!("/console/automations/{}", segment(&a.name));
    let (script, policy, description) = extra.draft.clone().unwrap_or_else(|| {
        (
            shown.script.clone(),
            shown.policy_kata.clone(),
            shown.description.clone(),
        )
    });
    let body = html! {
        @if let Some((ok, text)) = &extra.notice { (layout::notice(*ok, text)) }
        dl.facts {
            dt { "Trigger" } dd { code { (a.extension_id) } }
            dt { "Current version" } dd #current-version { (a.version) }
            dt { "Updated" } dd { (time_of_secs(a.updated_at)) }
            dt { "Runs" } dd { a href={ "/console/runs?automation=" (segment(&a.name)) } { "history" } }
        }
        @if shown.version != a.version {
            (layout::notice(true, &format!("Showing version {} (saving makes it the current version again).", shown.version)))
        }
        @if !a.component_base64.is_empty() {
            p.muted { "A guest component (Rust); its script is not KATA." }
        }
        h2 { "Script and policy" }
        form #edit method="post" action=(action) {
            (csrf.field())
            label for="a-script" { "Script (KATA)" }
            textarea.tall #a-script name="script" { (script) }
            label for="a-policy" { "Policy (KATA)" }
            textarea #a-policy name="policy_kata" { (policy) }
            label for="a-description" { "Description" }
            input #a-description type="text" name="description" value=(description);
            button type="submit" { "Save as a new version" }
        }
        h2 { "Versions" }
        table #versions {
            thead { tr { th { "Version" } th { "Updated" } th { "" } } }
            tbody {
                @for v in versions {
                    tr {
                        td { (v.version) @if v.version == a.version { " (current)" } }
                        td { (time_of_secs(v.updated_at)) }
                        td { a href={ (action) "?version=" (v.version) } { "view" } }
                    }
                }
            }
        }
        h2 #test { "Test" }
        p.hint { "Runs the current version in the sandbox with this dictionary, as a live run would: storage is real, and so is outbound HTTP unless fixtures are given. Nothing is recorded in the history." }
        form method="post" action={ (action) "/test#test-result" } {
            (csrf.field())
            label for="t-inputs" { "Inputs dictionary (JSON object)" }
            textarea #t-inputs name="inputs" { (extra.inputs) }
            label for="t-fixtures" { "HTTP fixtures (optional JSON list, as automation run --http-fixtures)" }
            textarea #t-fixtures name="fixtures" { (extra.fixtures) }
            button type="submit" { "Run" }
        }
        @if let Some(t) = &extra.test { section #test-result { (t) } }
    };
    Html(layout::page(&a.name, "/console/automations", csrf, body).into_string())
}

async fn load(
    state: &AppState,
    name: String,
) -> Result<(AutomationRow, Vec<AutomationRow>), ConsoleError> {
    let store = state.store.clone();
    blocking(move || {
        let a = store.automation(&name)?.ok_or(ConsoleError::NotFound)?;
        let versions = store.automation_versions(&name)?;
        Ok((a, versions))
    })
    .await
}

/// `GET /console/automations/{name}`.
pub async fn page(
    State(state): State<AppState>,
    Extension(current): Extension<Current>,
    Path(name): Path<String>,
    Query(view): Query<View>,
) -> Result<Html<String>, ConsoleError> {
    let (a, versions) = load(&state, name).await?;
    let shown = match view.version {
        Some(v) => versions
            .iter()
            .find(|r| r.version == v)
            .cloned()
            .ok_or(ConsoleError::NotFound)?,
        None => a.clone(),
    };
    let extra = Extra {
        notice: (view.done == "saved").then(|| (true, format!("Saved as version {}.", a.version))),
        inputs: "{}".into(),
        ..Extra::default()
    };
    Ok(render(&current, &a, &shown, &versions, extra))
}

fn change_of(form: &Fields) -> Result<AutomationChange, String> {
    let field = |k: &str| form.get(k).map(|v| v.replace("\r\n", "\n"));
    let change = AutomationChange {
        script: field("script"),
        policy_kata: field("policy_kata"),
        description: field("description"),
    };
    if let Some(script) = &change.script {
        crate::webhooks::lang::check_automation_script(script)
            .map_err(|e| format!("Automation: {e}"))?;
    }
    if let Some(policy) = &change.policy_kata {
        crate::webhooks::lang::check_kata(policy).map_err(|e| format!("Automation policy: {e}"))?;
    }
    Ok(change)
}

/// `POST /console/automations/{name}` (`script`, `policy_kata`,
/// `description`): 303 back with the new version, or the page (400) with
/// the reason and the text as typed.
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CsrfForm(current, form): CsrfForm,
) -> Result<Response, ConsoleError> {
    let back = format!("/console/automations/{}?done=saved", segment(&name));
    let outcome = match change_of(&form) {
        Ok(change) => {
            let store = state.store.clone();
            let n = name.clone();
            match blocking(move || Ok(store.update_automation(&n, &change)?)).await {
                Ok(Some(_)) => return Ok(Redirect::to(&back).into_response()),
                Ok(None) => return Err(ConsoleError::NotFound),
                Err(ConsoleError::BadRequest(m)) => m,
                Err(e) => return Err(e),
            }
        }
        Err(m) => m,
    };
    let (a, versions) = load(&state, name).await?;
    let text = |k: &str| form.get(k).unwrap_or("").to_string();
    let extra = Extra {
        notice: Some((false, outcome)),
        draft: Some((text("script"), text("policy_kata"), text("description"))),
        inputs: "{}".into(),
        ..Extra::default()
    };
    let shown = a.clone();
    Ok((
        StatusCode::BAD_REQUEST,
        render(&current, &a, &shown, &versions, extra),
    )
        .into_response())
}

/// The server's sandbox, or — with HTTP fixtures — a one-off sandbox like
/// it whose `http.request` answers from the fixtures (no call leaves).
async fn test_sandbox(
    state: &AppState,
    fixtures: Option<&str>,
) -> Result<crate::sandbox::Sandbox, String> {
    let sandbox = state.sandbox.sandbox().await?;
    let Some(text) = fixtures else {
        return Ok(sandbox);
    };
    let list = crate::capabilities::http::fixtures::parse(text.as_bytes())
        .map_err(|e| format!("The HTTP fixtures are not valid: {e}"))?;
    let services = sandbox.services();
    let mut http = services.http.config().clone();
    http.fixtures = Some(list);
    let mut config = sandbox.config().clone();
    config.warm_instances = 0;
    let (data, source) = (services.data.clone(), services.source.clone());
    tokio::task::spawn_blocking(move || crate::sandbox::Sandbox::new(config, data, source, http))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("The test sandbox could not start: {e:#}"))
}

/// `POST /console/automations/{name}/test` (`inputs`: a JSON object):
/// runs the current version and shows return, dictionary, logs, fuel and
/// duration.
pub async fn test(
    State(state): State<AppState>,
    Path(name): Path<String>,
    CsrfForm(current, form): CsrfForm,
) -> Result<Html<String>, ConsoleError> {
    let (a, versions) = load(&state, name).await?;
    let inputs = form.get("inputs").unwrap_or("{}").to_string();
    let dict = match inputs.trim() {
        "" => Ok(katabox_value::Value::empty_array()),
        t => katabox_value::json::decode(t.as_bytes())
            .ok_or_else(|| "The inputs are not valid JSON.".to_string())
            .and_then(|v| {
                v.as_array()
                    .is_some()
                    .then_some(v)
                    .ok_or_else(|| "The inputs must be a JSON object.".to_string())
            }),
    };
    let result = match dict {
        Err(e) => html! { (layout::notice(false, &e)) },
        Ok(dict) => match test_sandbox(&state, form.text("fixtures")).await {
            Err(e) => html! { (layout::notice(false, &e)) },
            Ok(sandbox) => {
                let record = crate::server::record_of(&a);
                let r = sandbox
                    .run(&record, dict, crate::sandbox::RunOptions::default())
                    .await;
                let returned = r
                    .returned()
                    .map(katabox_value::json::to_serde)
                    .unwrap_or(serde_json::Value::Null);
                let dict = katabox_value::json::to_serde(&r.dict);
                html! {
                    dl.facts {
                        dt { "Exit" } dd #test-exit { (exit_badge(&r.exit)) }
                        dt { "Duration" } dd { (duration_of(r.duration.as_micros() as u64)) }
                        dt { "Fuel" } dd { (r.fuel_used) }
                        dt { "Memory" } dd { (r.memory_peak) " bytes" }
                    }
                    @if let Some(e) = r.error_message() { pre.bad { (e) } }
                    h3 { "Return" } pre #test-return { (json_text(&returned)) }
                    h3 { "Logs" }
                    @if r.logs.is_empty() { p.muted { "No log lines." } }
                    @else { pre { @for l in &r.logs { (serde_json::to_string(l).unwrap_or_default()) "\n" } } }
                    h3 { "Dictionary" } pre { (json_text(&dict)) }
                }
            }
        },
    };
    let extra = Extra {
        test: Some(result),
        inputs,
        fixtures: form.get("fixtures").unwrap_or("").to_string(),
        ..Extra::default()
    };
    let shown = a.clone();
    Ok(render(&current, &a, &shown, &versions, extra))
}
