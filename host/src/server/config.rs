//! Server settings and their defaults.

use crate::webhooks::TrustedProxies;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Request limits (all operator-tunable).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body in bytes (default 2 MiB; a listener may set its own).
    pub body_limit: u64,
    /// Time a client has to send the request line and headers (default 10 s).
    pub header_timeout: Duration,
    /// Time a client has to send the whole body (default 30 s).
    pub body_timeout: Duration,
    /// Open connections at most; further connections are closed at once (default 1024).
    pub max_connections: usize,
    /// Webhook requests handled at once; further ones get 503 (default 256).
    pub max_concurrency: usize,
    /// Webhook requests one listener may have in flight at once; further
    /// ones get 503 with `Retry-After: 1` at once (default 32).
    pub listener_concurrency: usize,
    /// How long shutdown waits for in-flight requests (default 30 s).
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_limit: 2 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_concurrency: 256,
            listener_concurrency: 32,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Everything `katabox serve` needs.
#[derive(Clone)]
pub struct ServerConfig {
    /// The data directory (created when missing).
    pub data_dir: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Packages to import at start (skipped when already imported).
    pub packages: Vec<PathBuf>,
    pub limits: Limits,
    /// Peers allowed to set the client address with `X-Forwarded-For`.
    pub trusted_proxies: TrustedProxies,
    /// The public base URL (ending in `/`); default `http://LISTEN/`.
    pub base_url: Option<String>,
    /// What the run history keeps and for how long.
    pub history: crate::store::HistoryConfig,
    /// Bytes of each body the history keeps (default 1 MiB).
    pub history_body_limit: usize,
    /// The sandbox's ceilings.
    pub sandbox: crate::sandbox::SandboxConfig,
    /// Outbound HTTP settings of `http.request`.
    pub http: crate::sandbox::HttpConfig,
    /// How often the timer scheduler looks for due timers (default 1 s);
    /// `None`: this host runs no timers.
    pub timer_tick: Option<Duration>,
    /// How often expired resources, storage keys and continuations are
    /// deleted (default 60 s; `None`: only the sweep at start).
    pub sweep_interval: Option<Duration>,
    /// The timezone of timers whose `recurring_timezone` is empty (default UTC).
    pub default_timezone: chrono_tz::Tz,
    /// Where timers take "now" from (the system clock; tests inject one).
    pub clock: std::sync::Arc<dyn crate::timers::Clock>,
    /// A second listener answering `/metrics` without a token (and
    /// `/healthz`, `/readyz`); `None`: only the main one, with the token.
    pub metrics_listen: Option<SocketAddr>,
    /// How `serve` writes its request log (default text, on stderr).
    pub log_format: super::LogFormat,
    /// Where spans are exported over OTLP/HTTP (cargo feature `otel`);
    /// `None`: not exported.
    pub otlp_endpoint: Option<String>,
    /// How long a shutdown keeps accepting after `/readyz` turned 503, so a
    /// balancer sees it (default 0: stop accepting at once).
    pub drain: Duration,
    /// A shared PostgreSQL store (`--store`, `KATABOX_STORE`); `None`:
    /// redb in the data directory. The data directory still holds this
    /// host's admin token and secrets.
    pub store: Option<crate::store::StoreUrl>,
    /// Whether the operator console is served under `/console` (default
    /// yes; `serve --no-console`).
    pub console: bool,
}

impl ServerConfig {
    /// Defaults: `./katabox-data`, `127.0.0.1:8080`.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            data_dir,
            listen,
            packages: Vec::new(),
            limits: Limits::default(),
            trusted_proxies: TrustedProxies::default(),
            base_url: None,
            history: crate::store::HistoryConfig::default(),
            history_body_limit: crate::webhooks::HISTORY_BODY_LIMIT,
            sandbox: crate::sandbox::SandboxConfig::default(),
            http: crate::sandbox::HttpConfig::default(),
            timer_tick: Some(Duration::from_secs(1)),
            sweep_interval: Some(Duration::from_secs(60)),
            default_timezone: chrono_tz::Tz::UTC,
            clock: std::sync::Arc::new(crate::timers::SystemClock),
            metrics_listen: None,
            log_format: super::LogFormat::Text,
            otlp_endpoint: None,
            drain: Duration::ZERO,
            store: None,
            console: true,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig::new(
            PathBuf::from("katabox-data"),
            SocketAddr::from(([127, 0, 0, 1], 8080)),
        )
    }
}
