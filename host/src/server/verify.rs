//! Verified webhooks in the request path: signature check before any
//! automation runs, then dedupe by delivery id (docs/verified-webhooks.md).

use super::AppState;
use crate::store::{Backend, RunRecord, now_unix, now_unix_ms};
use crate::webhooks::{WebhookRequest, WebhookResponse, capture, redact, request};
use anyhow::Context;
use katabox_verify::outbound::Accounts;
use katabox_verify::{
    DedupeDecision, DedupeKey, RequestParts, Secrets, StoredResponse, VerifyConfig,
};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds between purges of expired dedupe records.
const PURGE_INTERVAL_SECS: i64 = 60;
/// What a repeat gets while the first delivery still runs.
const RETRY_AFTER_SECS: &str = "5";

/// The operator's secrets and accounts, loaded once at startup.
#[derive(Debug, Default)]
pub struct Verifier {
    /// Named secrets (signature keys, outgoing credentials).
    pub secrets: Arc<Secrets>,
    /// Accounts for `http.request`'s `authentication:` (header injection).
    pub accounts: Arc<Accounts>,
    last_purge: AtomicI64,
}

impl Verifier {
    /// A verifier with these secrets and accounts.
    pub fn new(secrets: Secrets, accounts: Accounts) -> Verifier {
        Verifier {
            secrets: Arc::new(secrets),
            accounts: Arc::new(accounts),
            last_purge: AtomicI64::new(0),
        }
    }

    /// Loads `secrets.toml`/`secrets.json`, `KATABOX_SECRET_*` variables and
    /// `accounts.toml`. Returns the verifier and warnings for the operator
    /// (names only, never values).
    pub fn load(data_dir: &Path) -> anyhow::Result<(Verifier, Vec<String>)> {
        let loaded = Secrets::load(data_dir, std::env::vars_os())
            .map_err(|e| anyhow::anyhow!("loading secrets: {e}"))?;
        let accounts = Accounts::load(data_dir)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("loading {}", data_dir.join("accounts.toml").display()))?;
        Ok((Verifier::new(loaded.secrets, accounts), loaded.warnings))
    }

    /// Purges expired dedupe records at most once a minute.
    fn maybe_purge(&self, store: &dyn Backend, now: i64) {
        let last = self.last_purge.load(Ordering::Relaxed);
        if now - last >= PURGE_INTERVAL_SECS
            && self
                .last_purge
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let _ = store.purge_deliveries(now);
        }
    }
}

/// A claimed delivery id: completed with the response by [`Claim::finish`];
/// released (so that a retry runs) when dropped unfinished, e.g. when the
/// client went away mid-run.
pub struct Claim {
    store: Arc<dyn Backend>,
    key: Option<DedupeKey>,
}

impl Claim {
    /// Stores the first delivery's response for replay (or releases the
    /// claim when the response must not be replayed: 5xx, too large).
    pub fn finish(mut self, response: &WebhookResponse) {
        if let Some(key) = self.key.take() {
            let stored = StoredResponse {
                status: response.status,
                headers: response.headers.clone(),
                body: response.body.clone(),
            };
            let _ = self.store.complete_delivery(&key, Some(stored));
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let _ = self.store.complete_delivery(&key, None);
        }
    }
}

/// What the request path does after verification.
pub enum Gate {
    /// Run the listener; afterwards hand the response to [`Claim::finish`].
    Run(Option<Claim>),
    /// Answer this without running anything (already recorded).
    Answer(WebhookResponse),
}

/// Verifies a request to a listener with a `verify` block and applies
/// dedupe. Failures and replays are recorded in the run history here.
pub fn gate(
    state: &AppState,
    config: &VerifyConfig,
    listener_id: u64,
    req: &WebhookRequest,
    request_path: &str,
) -> Gate {
    let now = now_unix();
    let secrets = &state.verifier.secrets;
    let parts = RequestParts::new(&req.method, &req.path, &req.headers, &req.body)
        .with_query(req.query.as_deref())
        .with_public_base_url(Some(&state.base_url));
    let delivery = match config.verify(&parts, secrets, now) {
        Ok(d) => d,
        Err(e) => {
            crate::metrics::signature_failure(config.preset.name());
            let reason = e.to_string();
            let mut run = run_record(state, listener_id, req, request_path);
            run.error = Some(format!("verify: {reason}"));
            let resp = text_response(e.status(), &reason);
            record(state, run, config, req, &resp);
            return Gate::Answer(resp);
        }
    };
    let (Some(key), Some(id)) = (
        DedupeKey::new(listener_id, config, &delivery),
        delivery.delivery_id.as_deref(),
    ) else {
        return Gate::Run(None);
    };
    state.verifier.maybe_purge(state.store.as_ref(), now);
    let decision = match state.store.claim_delivery(&key, id, now) {
        Ok(d) => d,
        // The dedupe table failing must not block deliveries: run without it.
        Err(_) => return Gate::Run(None),
    };
    match decision {
        DedupeDecision::Run => Gate::Run(Some(Claim {
            store: state.store.clone(),
            key: Some(key),
        })),
        DedupeDecision::Replay(stored) => {
            crate::metrics::dedupe_hit();
            let mut run = run_record(state, listener_id, req, request_path);
            run.logs = vec![dedupe_log(&format!("dedupe: replayed {id}"))];
            let resp = WebhookResponse {
                status: stored.status,
                headers: stored.headers,
                body: stored.body,
            };
            record(state, run, config, req, &resp);
            Gate::Answer(resp)
        }
        DedupeDecision::InProgress => {
            crate::metrics::dedupe_hit();
            let mut run = run_record(state, listener_id, req, request_path);
            run.logs = vec![dedupe_log(&format!("dedupe: in progress {id}"))];
            let mut resp = text_response(409, "delivery in progress");
            resp.headers
                .push(("Retry-After".into(), RETRY_AFTER_SECS.into()));
            record(state, run, config, req, &resp);
            Gate::Answer(resp)
        }
    }
}

/// A `text/plain` answer with a short reason.
fn text_response(status: u16, reason: &str) -> WebhookResponse {
    WebhookResponse {
        status,
        headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
        body: reason.as_bytes().to_vec(),
    }
}

/// A run-history entry for a request that ran no automation.
fn run_record(
    state: &AppState,
    listener_id: u64,
    req: &WebhookRequest,
    request_path: &str,
) -> RunRecord {
    RunRecord {
        at_ms: now_unix_ms(),
        trigger: "webhook".into(),
        listener_id: Some(listener_id),
        request_method: req.method.clone(),
        request_path: request_path.to_string(),
        client_ip: request::client_ip(req, &state.webhooks.trusted_proxies),
        ..RunRecord::default()
    }
}

fn dedupe_log(message: &str) -> serde_json::Value {
    serde_json::json!({"level": "info", "node_id": "", "message": message})
}

/// Records a run with its request and answer after scrubbing secret values
/// (best-effort, like every run).
fn record(
    state: &AppState,
    mut run: RunRecord,
    config: &VerifyConfig,
    req: &WebhookRequest,
    resp: &WebhookResponse,
) {
    let limit = state.webhooks.history_body_limit;
    run.status = resp.status;
    run.payload = Some(crate::store::RunPayload {
        request: Some(capture::request(req, Some(config), limit)),
        response: Some(capture::response(resp, limit)),
        ..Default::default()
    });
    redact::redact_run(&state.verifier.secrets, &mut run);
    let _ = crate::store::Store::queue_run(state.store.as_ref(), run);
}
