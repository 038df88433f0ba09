//! Webhook listeners: request → dictionary, event KATA, result → response.
//!
//! Everything here is a pure function of its inputs except [`handle`],
//! which looks the listener up, runs the selected automation through an
//! [`AutomationRunner`] and records the run. The order follows
//! webhooks.md §2: method filter, guid, listener, dictionary, event KATA,
//! run, response.
//!
//! Host choices where Cerb depends on its web server: only HTTP/1.1 is
//! served; `request_client_ip` is the peer address unless the peer is a
//! configured trusted proxy, in which case the right-most `X-Forwarded-For`
//! address that is not a trusted proxy is used ([`request::client_ip`]); PHP's `max_input_vars` (1000) and
//! `max_input_nesting_level` (64) bound parameter parsing.

pub mod capture;
pub mod event;
pub mod lang;
pub mod params;
pub mod redact;
pub mod replay;
pub mod request;
pub mod response;

pub use event::{EventError, Selection, WEBHOOK_TRIGGER};
pub use request::{TrustedProxies, WebhookRequest};
pub use response::{RunEnd, WebhookResponse};

use crate::store::{AutomationRow, RunPayload, RunRecord, Store};
use katabox_value::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What a finished run reports to the webhook layer.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// `return`, `await`, `exit` or `error` (time limit).
    pub exit: String,
    /// The final dictionary.
    pub dict: Value,
    /// The failure message when the run failed (→ 404).
    pub failure: Option<String>,
    /// Log entries (JSON).
    pub logs: Vec<serde_json::Value>,
    pub duration: Duration,
    pub fuel_used: u64,
    /// The guest's linear memory at the end, in bytes.
    pub memory_peak: u64,
    /// The run got no instance (admission refused it, or one of its nested
    /// calls and the automation did not handle that): answered 503.
    pub busy: bool,
    /// Its `function:` runs, callers first.
    pub children: Vec<crate::sandbox::children::ChildRun>,
}

/// A boxed future (the runner trait stays object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs an automation with an initial dictionary (the sandbox, in production).
pub trait AutomationRunner: Send + Sync {
    /// Runs `automation` starting from `dict`; a run for a webhook
    /// `listener` counts against that listener's share of instances.
    fn run<'a>(
        &'a self,
        automation: &'a AutomationRow,
        dict: Value,
        listener: Option<u64>,
    ) -> BoxFuture<'a, RunOutcome>;
}

/// Everything [`handle`] needs.
#[derive(Clone)]
pub struct WebhookContext {
    pub store: Arc<dyn Store>,
    pub data: Arc<dyn crate::capabilities::data::DataStore>,
    pub runner: Arc<dyn AutomationRunner>,
    pub trusted_proxies: TrustedProxies,
    /// The host's base URL, ending in `/`.
    pub base_url: String,
    /// The operator's secrets: their values are scrubbed from run records.
    pub secrets: Arc<katabox_verify::Secrets>,
    /// Bytes of each body (and of inputs and return) the history keeps.
    pub history_body_limit: usize,
}

/// The default of [`WebhookContext::history_body_limit`]: 1 MiB.
pub const HISTORY_BODY_LIMIT: usize = 1024 * 1024;

/// How a request reaches [`execute`]: live, or as a replay of a recorded run.
#[derive(Debug, Clone)]
pub struct RunMode {
    /// `webhook` or `replay`.
    pub trigger: &'static str,
    /// The run being replayed.
    pub replay_of: Option<u64>,
    /// Runs this automation (a recorded version) whenever the event KATA
    /// selects its name.
    pub pinned: Option<AutomationRow>,
}

impl RunMode {
    /// A live webhook request.
    pub fn live() -> RunMode {
        RunMode {
            trigger: "webhook",
            replay_of: None,
            pinned: None,
        }
    }
}

/// Whether the method reaches listeners (only GET and POST, §2 step 1).
pub fn method_allowed(method: &str) -> bool {
    method == "GET" || method == "POST"
}

/// The 501 every other method gets.
pub fn not_implemented() -> WebhookResponse {
    WebhookResponse::plain(501, b"Not implemented".to_vec())
}

/// Handles one webhook request end to end (method filter, guid, listener,
/// dictionary, event KATA, run, response).
pub async fn handle(ctx: &WebhookContext, req: WebhookRequest) -> WebhookResponse {
    match route(ctx, &req) {
        Err(resp) => resp,
        Ok((listener, request_path)) => respond(ctx, &listener, &req, &request_path).await,
    }
}

/// The routing steps before the body is needed (§2 steps 1–5): the
/// listener and `request_path`, or the response that ends the request.
pub fn route(
    ctx: &WebhookContext,
    req: &WebhookRequest,
) -> Result<(crate::store::ListenerRecord, String), WebhookResponse> {
    if !method_allowed(&req.method.to_ascii_uppercase()) {
        return Err(finish(not_implemented()));
    }
    let Some((guid, request_path)) = request::split_path(&req.path) else {
        return Err(finish(WebhookResponse::not_found()));
    };
    match ctx.store.listener_by_guid(&guid) {
        Ok(Some(l)) if !l.is_disabled => Ok((l, request_path)),
        Ok(Some(_)) => Err(finish(WebhookResponse::not_found())),
        Ok(None) => Err(finish(WebhookResponse::not_found())),
        // The store is unreachable (e.g. PostgreSQL restarting): fail fast
        // and let the sender retry.
        Err(_) => Err(finish(WebhookResponse::plain(503, Vec::new()))),
    }
}

/// Runs a routed request against its listener (§3–§6) and queues the run
/// for the history.
pub async fn respond(
    ctx: &WebhookContext,
    listener: &crate::store::ListenerRecord,
    req: &WebhookRequest,
    request_path: &str,
) -> WebhookResponse {
    respond_traced(ctx, listener, req, request_path).await.0
}

/// What a request's run was, for the request log (no request data).
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// The automation that ran (a stored name), if one did.
    pub automation: Option<String>,
    /// How it ended (`return`, `await`, `exit`, `error`), if it ran.
    pub exit: Option<String>,
    /// The run's id in the history (none when the history does not keep it).
    pub run_id: Option<u64>,
}

/// [`respond`], also telling which automation ran and how it ended.
pub async fn respond_traced(
    ctx: &WebhookContext,
    listener: &crate::store::ListenerRecord,
    req: &WebhookRequest,
    request_path: &str,
) -> (WebhookResponse, RunSummary) {
    let (response, run) = execute(ctx, listener, req, request_path, &RunMode::live()).await;
    let mut summary = RunSummary {
        exit: (!run.exit.is_empty()).then(|| run.exit.clone()),
        automation: run.automation.clone(),
        run_id: None,
    };
    // The history is best-effort: a failure to record does not change the answer.
    summary.run_id = queue_with_children(ctx.store.as_ref(), run);
    (response, summary)
}

/// Runs a routed request against its listener and returns the response
/// with the run's record (not yet stored).
pub async fn execute(
    ctx: &WebhookContext,
    listener: &crate::store::ListenerRecord,
    req: &WebhookRequest,
    request_path: &str,
    mode: &RunMode,
) -> (WebhookResponse, RunRecord) {
    let dict = request::request_dict(
        req,
        request_path,
        listener,
        &ctx.trusted_proxies,
        &ctx.base_url,
    );
    let mut run = RunRecord {
        at_ms: crate::store::now_unix_ms(),
        trigger: mode.trigger.to_string(),
        replay_of: mode.replay_of,
        listener_id: Some(listener.id),
        request_method: req.method.clone(),
        request_path: request_path.to_string(),
        client_ip: dict
            .get("request_client_ip")
            .map(Value::to_string_lossy)
            .unwrap_or_default(),
        ..RunRecord::default()
    };
    let mut payload = RunPayload {
        request: Some(capture::request(
            req,
            listener.verify.as_ref(),
            ctx.history_body_limit,
        )),
        ..RunPayload::default()
    };

    let store = ctx.store.clone();
    let pinned = mode.pinned.clone();
    let find = move |name: &str| match &pinned {
        Some(p) if p.name == name => Some(p.clone()),
        _ => store.automation(name).ok().flatten(),
    };
    let selection =
        event::select_off_workers(&listener.automations_kata, &dict, WEBHOOK_TRIGGER, find).await;
    let response = match selection {
        Err(e) => {
            run.error = Some(e.to_string());
            WebhookResponse::plain(500, Vec::new())
        }
        Ok(None) => WebhookResponse::not_found(),
        Ok(Some(sel)) => {
            let mut dict = dict;
            if let Some(inputs) = &sel.inputs {
                payload.inputs = Some(capped_json(inputs, ctx.history_body_limit));
            }
            if let (Some(inputs), Some(d)) = (sel.inputs, dict.as_array_mut()) {
                d.insert("inputs", inputs);
            }
            let outcome = ctx
                .runner
                .run(&sel.automation, dict, Some(listener.id))
                .await;
            record_outcome(
                &mut run,
                &mut payload,
                &sel.automation,
                mode.trigger,
                &outcome,
                ctx.history_body_limit,
            );
            if outcome.busy {
                WebhookResponse::busy()
            } else {
                let end = if outcome.failure.is_some() {
                    RunEnd::Failed
                } else {
                    RunEnd::Finished {
                        exit: outcome.exit,
                        dict: outcome.dict,
                    }
                };
                response::build_response(&end, &|uri| resolve_resource(ctx, uri))
            }
        }
    };
    let response = finish(response);
    run.status = response.status;
    payload.response = Some(capture::response(&response, ctx.history_body_limit));
    run.payload = Some(payload);
    redact::redact_run(&ctx.secrets, &mut run);
    redact::scrub_values(
        &mut run,
        &capture::credential_values(req, listener.verify.as_ref()),
    );
    (response, run)
}

/// Queues `run` for the history, then its `function:` runs (with their
/// automations' current versions), each linked to its caller.
pub(crate) fn queue_with_children(
    store: &dyn crate::store::Store,
    mut run: RunRecord,
) -> Option<u64> {
    fill_child_versions(store, &mut run);
    crate::store::store_with_children(run, |r| store.queue_run(r))
}

/// Sets each pending child's `automation_version` from the store.
pub(crate) fn fill_child_versions(store: &dyn crate::store::Store, run: &mut RunRecord) {
    for child in &mut run.children {
        if let Some(name) = &child.run.automation {
            child.run.automation_version = store.automation(name).ok().flatten().map(|a| a.version);
        }
    }
}

/// The history record of a `function:` run inside `parent`.
fn child_record(
    c: &crate::sandbox::children::ChildRun,
    body_limit: usize,
) -> crate::store::ChildRecord {
    let mut error = c.error.clone();
    if let Some(e) = &mut error {
        let mut end = e.len().min(crate::capabilities::log::MAX_MESSAGE);
        while !e.is_char_boundary(end) {
            end -= 1;
        }
        e.truncate(end);
    }
    let run = RunRecord {
        at_ms: c.at_ms,
        trigger: "function".into(),
        automation: Some(c.automation.clone()),
        replay_of: None,
        timer_id: None,
        listener_id: None,
        exit: c.exit.clone(),
        error,
        logs: c
            .logs
            .iter()
            .map(crate::capabilities::log::LogEntry::to_json)
            .collect(),
        duration_us: c.duration.as_micros() as u64,
        fuel_used: c.fuel_used,
        memory_peak: c.memory_peak,
        payload: Some(RunPayload {
            inputs: Some(capped_json(&c.inputs, body_limit)),
            returned: c.returned.as_ref().map(|r| capped_json(r, body_limit)),
            ..RunPayload::default()
        }),
        ..RunRecord::default()
    };
    crate::store::ChildRecord {
        seq: c.seq,
        parent_seq: c.parent_seq,
        run,
    }
}

/// Copies what a finished run of `automation` reports into its history
/// record and the payload's `return`, and counts it in the metrics. A
/// time-out is not a failure (Cerb answers 200), but the record still
/// names the limit that stopped the run.
pub(crate) fn record_outcome(
    run: &mut RunRecord,
    payload: &mut RunPayload,
    automation: &AutomationRow,
    trigger: &str,
    outcome: &RunOutcome,
    body_limit: usize,
) {
    crate::metrics::run_finished(
        &automation.name,
        &outcome.exit,
        trigger,
        outcome.duration,
        outcome.fuel_used,
    );
    run.automation = Some(automation.name.clone());
    run.automation_version = Some(automation.version);
    run.exit = outcome.exit.clone();
    run.error = outcome
        .failure
        .clone()
        .or_else(|| (outcome.exit == "error").then(|| exit_error(&outcome.dict)))
        .map(|mut e| {
            // A script's error text can be anything: the record keeps 16 KiB.
            let mut end = e.len().min(crate::capabilities::log::MAX_MESSAGE);
            while !e.is_char_boundary(end) {
                end -= 1;
            }
            e.truncate(end);
            e
        });
    run.logs = outcome.logs.clone();
    run.duration_us = outcome.duration.as_micros() as u64;
    run.fuel_used = outcome.fuel_used;
    run.memory_peak = outcome.memory_peak;
    payload.returned = outcome
        .dict
        .get("__return")
        .map(|r| capped_json(r, body_limit));
    run.children = outcome
        .children
        .iter()
        .map(|c| child_record(c, body_limit))
        .collect();
}

/// A value as JSON for the history, or a note of its size when it is
/// larger than `limit` bytes.
pub(crate) fn capped_json(v: &Value, limit: usize) -> serde_json::Value {
    let json = katabox_value::json::to_serde(v);
    let size = serde_json::to_vec(&json).map(|b| b.len()).unwrap_or(0);
    if size > limit {
        serde_json::json!({"truncated": true, "size": size})
    } else {
        json
    }
}

/// Adds the default content type to responses that carry none.
fn finish(mut resp: WebhookResponse) -> WebhookResponse {
    resp.finish_content_type();
    resp
}

/// The bytes of a `cerb:` body URI (§6.2), or `None`.
pub fn resolve_resource(ctx: &WebhookContext, uri: &str) -> Option<Vec<u8>> {
    match response::parse_resource_uri(uri)? {
        response::ResourceUri::AutomationResource(token) => ctx
            .data
            .resource_read(&token, crate::store::now_unix())
            .ok()
            .flatten()
            .map(|r| r.bytes),
        response::ResourceUri::Resource(name) => ctx.store.resource(&name).ok().flatten(),
    }
}

/// The message of an `error` exit: `__error` as text (a time-out) or its
/// `message`.
fn exit_error(dict: &Value) -> String {
    match dict.get("__error") {
        Some(Value::Str(s)) => s.to_string_lossy().into_owned(),
        Some(e) => e
            .get("message")
            .map(Value::to_string_lossy)
            .unwrap_or_default(),
        None => String::new(),
    }
}
