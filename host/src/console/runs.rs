//! `/console/runs`: the history with the API's filters, newest first, paged,
//! with a live tail (`sse.rs`); one run's page; replay of one run (with
//! the diff) and of a filter (dry-run count first).

use super::auth::Current;
use super::csrf::CsrfForm;
use super::layout::{self, duration_of, exit_badge, json_text, time_of};
use super::{ConsoleError, blocking};
use crate::server::AppState;
use crate::store::{HeaderList, RecordedBody, RunCursor, RunFilter, RunRecord};
use crate::webhooks::replay::{self, ReplayDiff, ReplayError, ReplayVersion};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};

/// Runs one page of the console's history shows.
const PAGE: usize = 50;

/// The history's filters as the console's forms send them (all text;
/// blank means "any"). `since`/`until` take an age (`15m`, `1h`, `2d`) or
/// a Unix time in ms.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunsForm {
    #[serde(default)]
    pub automation: String,
    #[serde(default)]
    pub listener: String,
    #[serde(default)]
    pub exit: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub until: String,
    /// The `function:` runs of this run.
    #[serde(default)]
    pub parent: String,
    #[serde(default)]
    pub cursor: String,
    /// The live tail: runs after this id.
    #[serde(default)]
    pub after: String,
}

/// `15m`, `1h`, `2d`, `1w` back from `now_ms`, or a Unix time in ms.
fn parse_when(text: &str, now_ms: i64) -> Result<i64, String> {
    let bad = || format!("{text:?} is neither an age like 1h, 30m, 2d nor a Unix time in ms");
    let per = match text.chars().last().ok_or_else(bad)? {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        c if c.is_ascii_digit() => return text.parse::<i64>().map_err(|_| bad()),
        _ => return Err(bad()),
    };
    let n: u32 = text[..text.len() - 1].parse().map_err(|_| bad())?;
    Ok(now_ms.saturating_sub(i64::from(n) * per))
}

impl RunsForm {
    /// The store filter (an error names the field that does not parse).
    pub fn filter(&self, now_ms: i64) -> Result<RunFilter, String> {
        let text = |v: &str| Some(v.trim().to_string()).filter(|s| !s.is_empty());
        let num = |name: &str, v: &str| -> Result<Option<u64>, String> {
            match v.trim() {
                "" => Ok(None),
                t => t
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("'{name}' must be a number.")),
            }
        };
        let when = |v: &str| -> Result<Option<i64>, String> {
            match v.trim() {
                "" => Ok(None),
                t => parse_when(t, now_ms).map(Some),
            }
        };
        let status = num("status", &self.status)?
            .map(|s| u16::try_from(s).map_err(|_| "'status' must be an HTTP status.".to_string()))
            .transpose()?;
        Ok(RunFilter {
            automation: text(&self.automation),
            listener: num("listener", &self.listener)?,
            exit: text(&self.exit),
            status,
            trigger: text(&self.trigger),
            since_ms: when(&self.since)?,
            until_ms: when(&self.until)?,
            parent: num("parent", &self.parent)?,
        })
    }

    /// The filters as a query string (without cursor and after).
    pub fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("automation", &self.automation),
            ("listener", &self.listener),
            ("exit", &self.exit),
            ("status", &self.status),
            ("trigger", &self.trigger),
            ("since", &self.since),
            ("until", &self.until),
            ("parent", &self.parent),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }

    fn hidden(&self) -> Markup {
        html! {
            @for (k, v) in [
                ("automation", &self.automation), ("listener", &self.listener),
                ("exit", &self.exit), ("status", &self.status), ("trigger", &self.trigger),
                ("since", &self.since), ("until", &self.until), ("parent", &self.parent),
            ] {
                input type="hidden" name=(k) value=(v);
            }
        }
    }
}

/// One run's summary as the list and the live tail show it.
pub fn row_json(run: &RunRecord) -> JsonValue {
    json!({
        "id": run.id,
        "time": time_of(run.at_ms),
        "trigger": run.trigger,
        "automation": run.automation.clone().unwrap_or_default(),
        "listener": run.listener_id.map(|l| l.to_string()).unwrap_or_default(),
        "exit": run.exit,
        "status": if run.status == 0 { String::new() } else { run.status.to_string() },
        "duration": duration_of(run.duration_us),
    })
}

/// The run table's rows (also used on the listeners page).
pub fn rows(runs: &[RunRecord]) -> Markup {
    html! {
        @for r in runs {
            tr data-run=(r.id) {
                td { a href={ "/console/runs/" (r.id) } { "#" (r.id) } }
                td { (time_of(r.at_ms)) }
                td { (r.trigger) }
                td { (r.automation.as_deref().unwrap_or("")) }
                td { @if let Some(l) = r.listener_id { (l) } }
                td { (exit_badge(&r.exit)) }
                td { @if r.status != 0 { (r.status) } }
                td { (duration_of(r.duration_us)) }
            }
        }
    }
}

/// The run table's header.
pub fn head() -> Markup {
    html! {
        thead { tr {
            th { "Run" } th { "Time (UTC)" } th { "Trigger" } th { "Automation" }
            th { "Listener" } th { "Exit" } th { "Status" } th { "Duration" }
        } }
    }
}

fn filter_form(f: &RunsForm) -> Markup {
    let field = |name: &str, label: &str, value: &str, hint: &str| {
        html! {
            div {
                label for={ "f-" (name) } { (label) }
                input type="text" id={ "f-" (name) } name=(name) value=(value) placeholder=(hint);
            }
        }
    };
    html! {
        form.filters method="get" action="/console/runs" {
            (field("automation", "Automation", &f.automation, "name"))
            (field("listener", "Listener", &f.listener, "id"))
            (field("exit", "Exit", &f.exit, "return, error…"))
            (field("status", "Status", &f.status, "200"))
            (field("trigger", "Trigger", &f.trigger, "webhook, replay, timer"))
            (field("since", "Since", &f.since, "1h or Unix ms"))
            (field("until", "Until", &f.until, "15m or Unix ms"))
            (field("parent", "Called by", &f.parent, "run id"))
            div { button type="submit" { "Filter" } }
        }
    }
}

/// `GET /console/runs`.
pub async fn list(
    State(state): State<AppState>,
    Extension(current): Extension<Current>,
    Query(form): Query<RunsForm>,
) -> Result<Html<String>, ConsoleError> {
    let now = crate::store::now_unix_ms();
    let cursor = match form.cursor.trim() {
        "" => None,
        c => Some(
            c.parse::<RunCursor>()
                .map_err(|_| ConsoleError::BadRequest("Invalid cursor.".into()))?,
        ),
    };
    let (page, problem) = match form.filter(now) {
        Ok(filter) => {
            let store = state.store.clone();
            let page = blocking(move || Ok(store.query_runs(&filter, PAGE, cursor)?)).await?;
            (Some(page), None)
        }
        Err(e) => (None, Some(e)),
    };
    let runs = page.as_ref().map(|p| p.runs.as_slice()).unwrap_or(&[]);
    let newest = runs.iter().map(|r| r.id).max().unwrap_or(0);
    let query = form.query();
    let tail_src = format!(
        "/console/runs/tail?{query}{}after={newest}",
        if query.is_empty() { "" } else { "&" }
    );
    let live = cursor.is_none() && problem.is_none();
    let body = html! {
        (filter_form(&form))
        @if let Some(p) = &problem { (layout::notice(false, p)) }
        @if live {
            p.muted { "Live tail: " span #tail-status { "connecting" } " — new runs appear at the top as they finish." }
        }
        table #runs {
            (head())
            @if live {
                tbody #tail data-src=(tail_src) { (rows(runs)) }
            } @else {
                tbody { (rows(runs)) }
            }
        }
        @if runs.is_empty() { p #tail-empty .muted { "No runs match." } }
        @if let Some(next) = page.as_ref().and_then(|p| p.next_cursor) {
            p { a href={ "/console/runs?" (query) (if query.is_empty() { "" } else { "&" }) "cursor=" (next) } { "Older runs →" } }
        }
        h2 { "Bulk replay" }
        form method="post" action="/console/runs/replay" {
            (current.session.csrf.field())
            (form.hidden())
            input type="hidden" name="step" value="count";
            div.actions {
                label for="bulk-version" { "Version" }
                select #bulk-version name="version" {
                    option value="recorded" { "recorded" }
                    option value="current" { "current" }
                }
                button.secondary type="submit" { "Count the runs this filter would replay" }
            }
        }
    };
    Ok(Html(
        layout::page("Runs", "/console/runs", &current.session.csrf, body).into_string(),
    ))
}

fn headers_table(h: &HeaderList) -> Markup {
    html! {
        table.headers {
            @for (k, v) in &h.0 { tr { th { (k) } td { code { (v) } } } }
        }
    }
}

fn body_block(b: &RecordedBody) -> Markup {
    html! {
        @match (&b.body, &b.body_base64) {
            (Some(text), _) => pre.body { (text) },
            (None, Some(b64)) => { p.muted { "Binary body, base64:" } pre.body { (b64) } },
            _ => p.muted { "(empty)" },
        }
        @if b.body_truncated { p.muted { "Cut at the history's body limit; whole size " (b.body_size) " bytes." } }
    }
}

/// `GET /console/runs/{id}`.
pub async fn page(
    State(state): State<AppState>,
    Extension(current): Extension<Current>,
    Path(id): Path<u64>,
) -> Result<Html<String>, ConsoleError> {
    let store = state.store.clone();
    let (run, children, calls) = blocking(move || {
        let run = store.run(id)?.ok_or(ConsoleError::NotFound)?;
        // The function: runs this run started (indexed by parent).
        let by_parent = RunFilter {
            parent: Some(id),
            ..RunFilter::default()
        };
        let calls: Vec<u64> = store
            .query_runs(&by_parent, 100, None)?
            .runs
            .iter()
            .map(|r| r.id)
            .collect();
        // Replays of this run among the recent replays (no index by parent).
        let filter = RunFilter {
            trigger: Some("replay".into()),
            since_ms: Some(run.at_ms),
            ..RunFilter::default()
        };
        let children: Vec<u64> = store
            .query_runs(&filter, 200, None)?
            .runs
            .iter()
            .filter(|r| r.replay_of == Some(id))
            .map(|r| r.id)
            .collect();
        Ok((run, children, calls))
    })
    .await?;
    let body = run_body(&run, &children, &calls, &current);
    Ok(Html(
        layout::page(
            &format!("Run #{}", run.id),
            "/console/runs",
            &current.session.csrf,
            body,
        )
        .into_string(),
    ))
}

fn run_body(run: &RunRecord, children: &[u64], calls: &[u64], current: &Current) -> Markup {
    let payload = run.payload.clone().unwrap_or_default();
    html! {
        dl.facts {
            dt { "Time (UTC)" } dd { (time_of(run.at_ms)) }
            dt { "Trigger" } dd { (run.trigger) }
            dt { "Automation" } dd {
                @if let Some(a) = &run.automation {
                    a href={ "/console/automations/" (layout::segment(a)) } { (a) }
                    @if let Some(v) = run.automation_version { " (version " (v) ")" }
                }
            }
            dt { "Listener" } dd { @if let Some(l) = run.listener_id { a href={ "/console/runs?listener=" (l) } { (l) } } }
            dt { "Exit" } dd { (exit_badge(&run.exit)) }
            dt { "Status" } dd { (run.status) }
            dt { "Duration" } dd { (duration_of(run.duration_us)) }
            dt { "Fuel" } dd { (run.fuel_used) }
            dt { "Memory" } dd { (run.memory_peak) " bytes" }
            dt { "Client" } dd { (run.client_ip) }
            @if let Some(p) = run.replay_of {
                dt { "Replay of" } dd { a href={ "/console/runs/" (p) } { "#" (p) } }
            }
            @if let Some(t) = run.timer_id { dt { "Timer" } dd { (t) } }
            @if let Some(p) = run.parent_id {
                dt { "Called by" } dd { a #parent-run href={ "/console/runs/" (p) } { "#" (p) } }
            }
            @if !calls.is_empty() {
                dt { "Function runs" } dd #function-runs {
                    @for c in calls { a href={ "/console/runs/" (c) } { "#" (c) } " " }
                    @if calls.len() == 100 { a href={ "/console/runs?parent=" (run.id) } { "all" } }
                }
            }
            @if !children.is_empty() {
                dt { "Replays" } dd {
                    @for c in children { a href={ "/console/runs/" (c) } { "#" (c) } " " }
                }
            }
        }
        @if let Some(e) = &run.error { h2 { "Error" } pre.bad { (e) } }
        @if run.trigger == "webhook" || run.trigger == "replay" {
            h2 { "Replay" }
            form method="post" action={ "/console/runs/" (run.id) "/replay" } {
                (current.session.csrf.field())
                div.actions {
                    button type="submit" name="version" value="recorded" { "Replay (recorded version)" }
                    button.secondary type="submit" name="version" value="current" { "Replay (current version)" }
                }
            }
            p.hint { "Outbound HTTP in a replay is live." }
        }
        div.grid2 {
            section {
                h2 { "Request" }
                @if let Some(req) = &payload.request {
                    p { code { (req.method) " " (req.path) @if let Some(q) = &req.query { "?" (q) } } }
                    (headers_table(&req.headers))
                    (body_block(&req.body))
                } @else { p.muted { "Not recorded (or expired)." } }
            }
            section {
                h2 { "Response" }
                @if let Some(resp) = &payload.response {
                    p { "Status " (resp.status) }
                    (headers_table(&resp.headers))
                    (body_block(&resp.body))
                } @else { p.muted { "Not recorded (or expired)." } }
            }
        }
        h2 { "Logs" }
        @if run.logs.is_empty() { p.muted { "No log lines." } }
        @else { pre.logs { @for l in &run.logs { (json_text(l)) "\n" } } }
        div.grid2 {
            section {
                h2 { "Inputs (dictionary)" }
                pre { (payload.inputs.as_ref().map(json_text).unwrap_or_default()) }
            }
            section {
                h2 { "Return" }
                pre { (payload.returned.as_ref().map(json_text).unwrap_or_default()) }
            }
        }
    }
}

/// The diff of a replay as a table.
pub fn diff_view(diff: &ReplayDiff) -> Markup {
    html! {
        @if diff.same {
            p.diff-same #diff-result { "Same response: status, headers and body are equal." }
        } @else {
            p.diff-changed #diff-result { "The response changed." }
            table.diff {
                thead { tr { th { "" } th { "Recorded" } th { "Replay" } } }
                tbody {
                    @if let Some(s) = &diff.status {
                        tr { th { "status" } td { (s.recorded) } td { (s.replay) } }
                    }
                    @for (name, c) in &diff.headers {
                        tr { th { (name) } td { code { (c.recorded.as_deref().unwrap_or("(none)")) } } td { code { (c.replay.as_deref().unwrap_or("(none)")) } } }
                    }
                    @if let Some(b) = &diff.body {
                        tr { th { "body" } td { pre.recorded { (b.recorded) } } td { pre.replay { (b.replay) } } }
                    }
                }
            }
        }
    }
}

fn version_field(form: &super::csrf::Fields) -> Result<ReplayVersion, ConsoleError> {
    form.text("version")
        .unwrap_or("recorded")
        .parse()
        .map_err(ConsoleError::BadRequest)
}

/// `POST /console/runs/{id}/replay` (`version`: recorded or current):
/// replays and shows the diff.
pub async fn replay_one(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    CsrfForm(current, form): CsrfForm,
) -> Result<Html<String>, ConsoleError> {
    let version = version_field(&form)?;
    let (run, diff) = replay::replay(&state.webhooks, id, version)
        .await
        .map_err(|e| match e {
            ReplayError::NotFound(_) => ConsoleError::NotFound,
            ReplayError::Unavailable(m) => ConsoleError::BadRequest(m),
            ReplayError::Store(s) => s.into(),
        })?;
    let which = match version {
        ReplayVersion::Recorded => "recorded",
        ReplayVersion::Current => "current",
    };
    let body = html! {
        p { "Run " a href={ "/console/runs/" (id) } { "#" (id) } " replayed against the " (which) " version as "
            a #replay-run href={ "/console/runs/" (run.id) } { "run #" (run.id) } "." }
        h2 { "Diff" }
        (diff_view(&diff))
        h2 { "The replay" }
        (run_body(&run, &[], &[], &current))
    };
    Ok(Html(
        layout::page(
            &format!("Replay of run #{id}"),
            "/console/runs",
            &current.session.csrf,
            body,
        )
        .into_string(),
    ))
}

/// `POST /console/runs/replay`: `step=count` answers the dry-run count and
/// asks to confirm; `step=run` replays (through the admin API's handler).
pub async fn replay_many(
    State(state): State<AppState>,
    CsrfForm(current, fields): CsrfForm,
) -> Result<Html<String>, ConsoleError> {
    let form = RunsForm {
        automation: fields.get("automation").unwrap_or("").into(),
        listener: fields.get("listener").unwrap_or("").into(),
        exit: fields.get("exit").unwrap_or("").into(),
        status: fields.get("status").unwrap_or("").into(),
        trigger: fields.get("trigger").unwrap_or("").into(),
        since: fields.get("since").unwrap_or("").into(),
        until: fields.get("until").unwrap_or("").into(),
        parent: fields.get("parent").unwrap_or("").into(),
        ..RunsForm::default()
    };
    let version = version_field(&fields)?;
    let version_name = match version {
        ReplayVersion::Recorded => "recorded",
        ReplayVersion::Current => "current",
    };
    let filter = form
        .filter(crate::store::now_unix_ms())
        .map_err(ConsoleError::BadRequest)?;
    let dry_run = fields.get("step") != Some("run");
    let request = json!({
        "automation": filter.automation, "listener": filter.listener, "exit": filter.exit,
        "status": filter.status, "trigger": filter.trigger, "since_ms": filter.since_ms,
        "until_ms": filter.until_ms, "parent": filter.parent, "version": version_name, "dry_run": dry_run,
    });
    let bytes = serde_json::to_vec(&request).map_err(ConsoleError::internal)?;
    let answer = crate::api::runs::replay_many(State(state), bytes.into())
        .await
        .map_err(|e| ConsoleError::BadRequest(e.1))?;
    let answer = axum::body::to_bytes(answer.into_body(), 1 << 20)
        .await
        .map_err(ConsoleError::internal)?;
    let answer: JsonValue = serde_json::from_slice(&answer).map_err(ConsoleError::internal)?;
    let count = answer.get("count").and_then(JsonValue::as_u64).unwrap_or(0);
    let body = html! {
        @if dry_run {
            p #bulk-count { (count) " run(s) match and can be replayed against the " (version_name) " version (at most 1,000 per call)." }
            @if count > 0 {
                form method="post" action="/console/runs/replay" {
                    (current.session.csrf.field())
                    (form.hidden())
                    input type="hidden" name="version" value=(version_name);
                    input type="hidden" name="step" value="run";
                    button type="submit" { "Replay " (count) " run(s)" }
                }
            }
        } @else {
            p #bulk-count { "Replayed " (count) " run(s):" }
            p { @for id in answer.get("runs").and_then(JsonValue::as_array).into_iter().flatten() {
                @if let Some(id) = id.as_u64() { a href={ "/console/runs/" (id) } { "#" (id) } " " }
            } }
        }
        p { a href={ "/console/runs?" (form.query()) } { "Back to the runs" } }
    };
    Ok(Html(
        layout::page("Bulk replay", "/console/runs", &current.session.csrf, body).into_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_times_parse_and_bad_filters_are_named() {
        assert_eq!(parse_when("90s", 100_000), Ok(10_000));
        assert_eq!(parse_when("1h", 3_600_000), Ok(0));
        assert_eq!(parse_when("1234", 0), Ok(1234));
        assert!(parse_when("yesterday", 0).is_err());
        assert!(parse_when("-1h", 0).is_err());
        let form = RunsForm {
            status: "x".into(),
            ..RunsForm::default()
        };
        assert_eq!(form.filter(0), Err("'status' must be a number.".into()));
        let form = RunsForm {
            automation: " a ".into(),
            listener: "7".into(),
            since: "1m".into(),
            ..RunsForm::default()
        };
        let f = form.filter(120_000).expect("filter");
        assert_eq!(
            (f.automation.as_deref(), f.listener, f.since_ms),
            (Some("a"), Some(7), Some(60_000))
        );
        assert_eq!(form.query(), "automation=a&listener=7&since=1m");
    }
}
