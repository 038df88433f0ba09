//! The axum server: routes, limits, graceful shutdown.
//!
//! Connections are served with hyper's HTTP/1 connection builder and a
//! tokio timer, so the header-read timeout is enforced (axum::serve sets no
//! timer, which lets slow-header clients hold connections forever). The
//! accept loop bounds open connections; a semaphore bounds webhook
//! requests in flight (503 when saturated); bodies are read under a size
//! limit (413) and a deadline (408). SIGINT/SIGTERM turn `/readyz` to 503,
//! keep accepting for the drain period (`--drain-ms`, default 0), then stop
//! accepting and wait for in-flight requests to finish. `/healthz`,
//! `/readyz`, `/metrics` and the request log are in [`observe`].

pub mod config;
pub mod error;
mod gate;
pub mod observe;
#[cfg(feature = "otel")]
mod otel;
mod runner;
mod startup;
pub mod verify;
mod webhook;

pub use config::{Limits, ServerConfig};
pub use error::{ApiError, ServerError};
pub use observe::{Health, LogFormat};
pub use runner::{SandboxRunner, record_of};
pub use startup::{MIN_ADMIN_TOKEN_CHARS, TOKEN_FILE, WeakAdminToken, admin_token, open_state};

use crate::store::Backend;
use crate::webhooks::WebhookContext;
use axum::Router;
use axum::routing::any;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub webhooks: WebhookContext,
    /// The store (redb in the data directory, or PostgreSQL with `--store`).
    pub store: Arc<dyn Backend>,
    pub limits: Limits,
    /// Webhook requests in flight.
    pub concurrency: Arc<Semaphore>,
    /// Webhook requests in flight per listener.
    pub listener_gate: Arc<gate::ListenerGate>,
    /// The admin API's bearer token.
    pub admin_token: Arc<str>,
    /// The public base URL, ending in `/`.
    pub base_url: String,
    /// The sandbox behind the webhook runner (built lazily; see [`SandboxRunner::warm_up`]).
    pub sandbox: Arc<SandboxRunner>,
    /// Secrets and accounts for verified webhooks (and outgoing credentials).
    pub verifier: Arc<verify::Verifier>,
    /// The timer scheduler's context (`POST /api/timers/{id}/run` uses it too).
    pub timers: crate::timers::TimerContext,
    /// Whether a shutdown has begun (`/readyz`).
    pub health: Arc<Health>,
    /// Whether the operator console is served (`serve --no-console`: no).
    pub console: bool,
}

/// The router: `/webhooks/…`, `/api/…`, `/healthz`, `/readyz`, `/metrics`,
/// and the console under `/console` unless it is off.
pub fn router(state: AppState) -> Router {
    let hooks = any(webhook::webhook);
    let console = if state.console {
        crate::console::router(state.clone())
    } else {
        Router::new()
    };
    Router::new()
        .route("/webhooks", hooks.clone())
        .route("/webhooks/", hooks.clone())
        .route("/webhooks/{guid}", hooks.clone())
        .route("/webhooks/{guid}/", hooks.clone())
        .route("/webhooks/{guid}/{*path}", hooks.clone())
        .nest(
            "/api",
            crate::api::router(state.clone()).layer(axum::middleware::from_fn(observe::admin_log)),
        )
        .merge(observe::routes())
        .merge(console)
        .fallback(webhook::fallback)
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits (up to
/// `limits.shutdown_grace`) for in-flight requests.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => {
                    // Out of file descriptors and the like: back off briefly.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let svc =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo::<SocketAddr>(peer));
                    req
                });
        let svc = hyper_util::service::TowerToHyperService::new(svc);
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
    Ok(())
}

/// Deletes expired data now and then every `every` (off the async
/// workers, in bounded batches) until `stop` resolves.
async fn sweep_expired(
    store: Arc<dyn Backend>,
    every: Option<std::time::Duration>,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let s = store.clone();
        let swept = tokio::task::spawn_blocking(move || {
            s.sweep_expired(crate::store::now_unix(), crate::store::SWEEP_BATCH)
        })
        .await;
        if let Ok(Err(e)) = swept {
            eprintln!("katabox: warning: deleting expired data failed: {e}");
        }
        let Some(every) = every else { return };
        tokio::select! {
            () = tokio::time::sleep(every) => {},
            () = &mut stop => return,
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// `katabox serve`: opens the store, imports `--package` files, prints the
/// address (and a newly generated admin token), serves until a signal.
pub async fn run(config: ServerConfig) -> anyhow::Result<()> {
    observe::init_logging(config.log_format, config.otlp_endpoint.as_deref())?;
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let state = open_state(&config, addr)?;
    state.sandbox.warm_up().await?;
    println!("katabox listening on http://{addr}");
    let app = router(state.clone());
    let (stop_metrics, metrics_stopped) = tokio::sync::watch::channel(false);
    let metrics_server = match config.metrics_listen {
        None => None,
        Some(at) => {
            let metrics_listener = TcpListener::bind(at).await?;
            println!(
                "katabox metrics on http://{}/metrics",
                metrics_listener.local_addr()?
            );
            let app = observe::metrics_router(state.clone());
            let mut stopped = metrics_stopped;
            let limits = config.limits.clone();
            Some(tokio::spawn(async move {
                let stop = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                serve_with_shutdown(metrics_listener, app, limits, stop).await
            }))
        }
    };
    let (stop_timers, stopped) = tokio::sync::watch::channel(false);
    let scheduler = config.timer_tick.map(|every| {
        let ctx = state.timers.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            crate::timers::run_scheduler(ctx, every, stop).await;
        })
    });
    let sweeper = {
        let store = state.store.clone();
        let mut stopped = stopped.clone();
        let every = config.sweep_interval;
        tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            sweep_expired(store, every, stop).await;
        })
    };
    let health = state.health.clone();
    let drain = config.drain;
    let shutdown = async move {
        shutdown_signal().await;
        // A balancer sees 503 on /readyz from now on; the listener keeps
        // accepting for the drain period so that it can.
        health.start_draining();
        if !drain.is_zero() {
            tokio::time::sleep(drain).await;
        }
    };
    serve_with_shutdown(listener, app, config.limits.clone(), shutdown).await?;
    // A timer run in progress finishes (and applies its outcome) first.
    let _ = stop_timers.send(true);
    if let Some(handle) = scheduler {
        let _ = tokio::time::timeout(config.limits.shutdown_grace, handle).await;
    }
    let _ = tokio::time::timeout(config.limits.shutdown_grace, sweeper).await;
    let _ = stop_metrics.send(true);
    if let Some(handle) = metrics_server {
        let _ = tokio::time::timeout(config.limits.shutdown_grace, handle).await;
    }
    // Runs still queued for the history are committed before the process exits.
    state.store.flush_history();
    observe::flush_log();
    observe::flush_traces();
    Ok(())
}
