//! Operating the server: `/healthz`, `/readyz`, `/metrics`, and the request
//! log (docs/operator-guide.md, "Observability").
//!
//! - `GET /healthz`: 200 `ok` while the process serves (no token).
//! - `GET /readyz`: 200 `ready` when the store answers a read and the
//!   sandbox is built, 503 otherwise and from the moment a graceful
//!   shutdown begins (no token), so a balancer drains the host.
//! - `GET /metrics`: the Prometheus text ([`crate::metrics`]); on the main
//!   listener with the admin token, on `--metrics-listen` without one.
//! - The request log: one `tracing` event per webhook request (target
//!   `katabox::request`) and per admin call (`katabox::admin`), written to
//!   stderr as text or JSON. A webhook line names the listener by id and
//!   the guid by its first 8 characters only (the guid is a credential); no
//!   line carries a query, header, body or secret.

use super::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Whether the server is draining (shutting down).
#[derive(Debug, Default)]
pub struct Health {
    draining: AtomicBool,
}

impl Health {
    /// Marks the server as shutting down: `/readyz` answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// True once a shutdown has begun.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// How `serve` writes its request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
    /// No request log.
    Off,
}

/// The environment variables read for log filter directives, in order.
pub const LOG_ENV: [&str; 2] = ["KATABOX_LOG", "RUST_LOG"];

/// Why the log could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("invalid log filter {directives:?}: {reason}")]
    Filter { directives: String, reason: String },
    /// The OTLP exporter could not be set up.
    #[error("--otlp-endpoint: {0}")]
    Otlp(String),
}

/// Installs the process's log subscriber (stderr), filtered by
/// `KATABOX_LOG`, else `RUST_LOG`, else `info`. Does nothing for
/// [`LogFormat::Off`] or when a subscriber is already installed.
pub fn init_logging(format: LogFormat, otlp_endpoint: Option<&str>) -> Result<(), LogError> {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{EnvFilter, Layer, Registry};
    let log: Option<Box<dyn Layer<Registry> + Send + Sync>> = if format == LogFormat::Off {
        None
    } else {
        let directives = LOG_ENV
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|d| !d.trim().is_empty()))
            .unwrap_or_else(|| "info".to_string());
        let filter = EnvFilter::try_new(&directives).map_err(|e| LogError::Filter {
            directives: directives.clone(),
            reason: e.to_string(),
        })?;
        let base = tracing_subscriber::fmt::layer()
            .with_writer(BufferedStderr::start())
            .with_ansi(false);
        Some(match format {
            LogFormat::Json => base
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_filter(filter)
                .boxed(),
            _ => base.with_filter(filter).boxed(),
        })
    };
    let traces = match otlp_endpoint {
        None => None,
        Some(endpoint) => Some(otlp_layer(endpoint)?),
    };
    let layers: Vec<_> = log.into_iter().chain(traces).collect();
    if layers.is_empty() {
        return Ok(());
    }
    // `try_init` fails only when a subscriber exists already: keep that one.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(())
}

/// The OTLP span exporter (cargo feature `otel`).
#[cfg(feature = "otel")]
fn otlp_layer(
    endpoint: &str,
) -> Result<Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>, LogError>
{
    super::otel::layer(endpoint)
}

/// Without the `otel` feature there is no exporter to set up.
#[cfg(not(feature = "otel"))]
fn otlp_layer(
    _endpoint: &str,
) -> Result<Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>, LogError>
{
    Err(LogError::Otlp(
        "this katabox was built without the `otel` feature (cargo build --release -p katabox --features otel)".into(),
    ))
}

/// Sends the spans still batched (a no-op without the `otel` feature).
pub fn flush_traces() {
    #[cfg(feature = "otel")]
    super::otel::shutdown();
}

/// How often the log buffer is written out.
const LOG_FLUSH: Duration = Duration::from_millis(50);
/// Bytes the log buffer holds at most; past that a request writes it out
/// itself (backpressure instead of unbounded memory).
const LOG_BUFFER: usize = 1024 * 1024;

static LOG_SINK: std::sync::OnceLock<BufferedStderr> = std::sync::OnceLock::new();

/// Stderr behind a buffer that a background thread writes out every
/// [`LOG_FLUSH`]: a request pays a short lock and a copy of its line
/// instead of a `write` system call.
#[derive(Clone)]
struct BufferedStderr(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl BufferedStderr {
    /// The process's sink, its flusher thread started on first use.
    fn start() -> BufferedStderr {
        LOG_SINK
            .get_or_init(|| {
                let sink = BufferedStderr(Default::default());
                let flusher = sink.clone();
                let _ = std::thread::Builder::new()
                    .name("katabox-log".into())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(LOG_FLUSH);
                            flusher.flush_out();
                        }
                    });
                sink
            })
            .clone()
    }

    /// Writes what is buffered to stderr.
    fn flush_out(&self) {
        let pending = match self.0.lock() {
            Ok(mut buf) if !buf.is_empty() => std::mem::take(&mut *buf),
            _ => return,
        };
        let mut err = std::io::stderr().lock();
        let _ = std::io::Write::write_all(&mut err, &pending);
        let _ = std::io::Write::flush(&mut err);
    }
}

impl std::io::Write for BufferedStderr {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buf = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("log buffer poisoned"))?;
        buf.extend_from_slice(bytes);
        if buf.len() >= LOG_BUFFER {
            let mut err = std::io::stderr().lock();
            std::io::Write::write_all(&mut err, &buf)?;
            buf.clear();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BufferedStderr {
    type Writer = BufferedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Writes out the buffered log lines (call before the process exits).
pub fn flush_log() {
    if let Some(sink) = LOG_SINK.get() {
        sink.flush_out();
    }
}

/// `/healthz`, `/readyz`, and `/metrics` behind the admin token.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_with_token))
}

/// The router of `--metrics-listen`: `/metrics` without a token, with
/// `/healthz` and `/readyz`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_open))
        .with_state(state)
}

async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    let unready = |why: &'static str| (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    if state.health.draining() {
        return unready("shutting down\n");
    }
    if crate::store::Store::listener(state.store.as_ref(), 0).is_err() {
        return unready("store unavailable\n");
    }
    if state.sandbox.ready().is_none() {
        return unready("sandbox not built\n");
    }
    (StatusCode::OK, "ready\n").into_response()
}

async fn metrics_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !crate::api::authorized(&state, &headers) {
        return super::ApiError(StatusCode::UNAUTHORIZED, "Unauthorized".into()).into_response();
    }
    metrics_open(State(state)).await
}

async fn metrics_open(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let sandbox = state.sandbox.clone();
    // The continuation count reads the store: off the async workers.
    let text = tokio::task::spawn_blocking(move || {
        let continuations_waiting = crate::store::Store::timers(store.as_ref())
            .map(|t| t.iter().filter(|t| !t.continuation_id.is_empty()).count())
            .unwrap_or(0);
        crate::metrics::render(crate::metrics::Sampled {
            history_queue_depth: store.history_queue_depth(),
            warm_instances: sandbox.ready().map_or(0, |s| s.warm_instances()),
            continuations_waiting,
        })
    })
    .await
    .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Logs one admin call: method, route pattern (never the actual path, so
/// no name or id from the request), status, duration.
pub async fn admin_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let resp = next.run(req).await;
    tracing::info!(
        target: "katabox::admin",
        method = %method,
        route = route.as_deref().unwrap_or("unmatched"),
        status = resp.status().as_u16(),
        duration_us = micros(started.elapsed()),
        "admin"
    );
    resp
}

/// What the webhook handler learnt about a request, for its log line.
#[derive(Debug, Default)]
pub struct WebhookTrace {
    /// The listener's id, once routed.
    pub listener: Option<u64>,
    /// The automation that ran (a stored name).
    pub automation: Option<String>,
    /// How the run ended.
    pub exit: Option<String>,
    /// The history's run id, when known at answer time.
    pub run_id: Option<u64>,
}

/// The span of one webhook request (debug level: a no-op under the
/// default `info` filter; runs and host calls are spans inside it).
pub fn request_span(method: &str, guid_prefix: &str) -> tracing::Span {
    tracing::debug_span!(
        target: "katabox::trace",
        "webhook",
        method,
        guid = guid_prefix,
        listener = tracing::field::Empty,
        status = tracing::field::Empty,
    )
}

/// Records a webhook request's metrics and writes its log line.
pub fn webhook_done(
    method: &str,
    guid_prefix: &str,
    status: u16,
    took: Duration,
    trace: &WebhookTrace,
) {
    crate::metrics::webhook_request(status, took);
    tracing::info!(
        target: "katabox::request",
        method = %method,
        listener = trace.listener,
        guid = %guid_prefix,
        status,
        duration_us = micros(took),
        run_id = trace.run_id,
        automation = trace.automation.as_deref(),
        exit = trace.exit.as_deref(),
        "webhook"
    );
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The part of a `/webhooks/{guid}…` path's guid a log may show: its
/// first 8 characters, and never more than half of it; characters outside
/// `[0-9A-Za-z_-]` become `?` (no control characters in a log line).
pub fn guid_prefix(path: &str) -> String {
    let Some(rest) = path.strip_prefix("/webhooks/") else {
        return String::new();
    };
    let guid = rest.split('/').next().unwrap_or("");
    let chars = guid.chars().count();
    guid.chars()
        .take(8.min(chars / 2))
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guid_prefix_is_short_and_clean() {
        let guid = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(guid_prefix(&format!("/webhooks/{guid}/x/y")), "01234567");
        assert_eq!(guid_prefix(&format!("/webhooks/{guid}")), "01234567");
        assert_eq!(guid_prefix("/webhooks/abcd"), "ab");
        assert_eq!(guid_prefix("/webhooks/"), "");
        assert_eq!(guid_prefix("/webhooks/a\nb\x1bcdefghijklmnop"), "a?b?cdef");
        assert_eq!(guid_prefix("/other"), "");
    }
}
