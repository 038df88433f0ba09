//! `katabox serve`, `import`, `webhook`, `runs`.
//!
//! The admin commands talk to a running server (`--server URL`, token from
//! `KATABOX_ADMIN_TOKEN`) or, without `--server`, open the data directory
//! directly (`--data DIR`; fails while a server holds it).

use crate::packages::{self, ImportOptions};
use crate::sandbox::SandboxConfig;
use crate::server::{self, Limits, ServerConfig};
use crate::store::{
    DAY_MS, HistoryConfig, HistorySave, ListenerInput, RedbStore, Store, StoreConfig,
};
use crate::webhooks::TrustedProxies;
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::{Value as Json, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// `katabox serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The data directory (created when missing).
    #[arg(long, default_value = "katabox-data")]
    data: PathBuf,
    /// A PostgreSQL store shared by several hosts,
    /// postgres://USER[:PASS]@HOST:PORT/DB (also KATABOX_STORE); without
    /// it, redb in --data. The admin token and secrets stay in --data.
    #[arg(long)]
    store: Option<String>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A package to import at start (skipped when already imported).
    #[arg(long)]
    package: Vec<PathBuf>,
    /// The public base URL (default http://LISTEN/); also what
    /// `cerb_url()` builds on.
    #[arg(long, alias = "public-url")]
    base_url: Option<String>,
    /// Proxies allowed to set the client address with X-Forwarded-For
    /// (comma-separated addresses or CIDR networks).
    #[arg(long, default_value = "")]
    trusted_proxies: String,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = Limits::default().body_limit)]
    body_limit: u64,
    /// Seconds a client has to send its headers.
    #[arg(long, default_value_t = Limits::default().header_timeout.as_secs())]
    header_timeout: u64,
    /// Seconds a client has to send its body.
    #[arg(long, default_value_t = Limits::default().body_timeout.as_secs())]
    body_timeout: u64,
    /// Open connections at most.
    #[arg(long, default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Webhook requests in flight at most (more get 503).
    #[arg(long, default_value_t = Limits::default().max_concurrency)]
    max_concurrency: usize,
    /// Webhook requests one listener may have in flight at once (more get
    /// 503 with Retry-After: 1).
    #[arg(long, default_value_t = Limits::default().listener_concurrency)]
    listener_concurrency: usize,
    /// Runs kept in the history at most (the oldest are pruned).
    #[arg(long, default_value_t = HistoryConfig::default().max_runs)]
    run_retention: usize,
    /// Days a run stays in the history.
    #[arg(long, default_value_t = 14.0)]
    history_days: f64,
    /// Days a run's request, response, inputs and return are kept (the
    /// summary stays for --history-days).
    #[arg(long)]
    history_payload_days: Option<f64>,
    /// Which webhook runs the history records: all, errors or none.
    #[arg(long, default_value = "all")]
    history_save: HistorySave,
    /// Milliseconds the history writer gathers runs into one durable commit
    /// (a crash loses at most the runs answered in the last window).
    #[arg(long, default_value_t = crate::store::BATCH_WINDOW.as_millis() as u64)]
    history_batch_ms: u64,
    /// Bytes of each request and response body the history keeps.
    #[arg(long, default_value_t = crate::webhooks::HISTORY_BODY_LIMIT)]
    history_body_limit: usize,
    /// Fuel (≈ wasm instructions, host calls included) a run may spend per
    /// second of its time limit.
    #[arg(long, default_value_t = SandboxConfig::default().fuel_per_second)]
    fuel_per_second: u64,
    /// A ceiling on any one run's fuel, whatever its time limit (kept from
    /// before the budget followed the time limit; default none).
    #[arg(long)]
    fuel: Option<u64>,
    /// Linear memory one run may use, in bytes.
    #[arg(long, default_value_t = SandboxConfig::default().memory_limit)]
    memory_limit: usize,
    /// Linear memory all instances of one request (its run and its nested
    /// function: calls) may hold together, in bytes.
    #[arg(long, default_value_t = SandboxConfig::default().request_memory_limit)]
    request_memory_limit: usize,
    /// Instances (concurrent runs and nested function: calls) the pool
    /// has slots for.
    #[arg(long, default_value_t = SandboxConfig::default().max_instances)]
    max_instances: u32,
    /// Instances the runs of one listener's requests (nested function:
    /// calls included) may hold at once.
    #[arg(long, default_value_t = SandboxConfig::default().listener_instances)]
    listener_instances: u32,
    /// Milliseconds a request waits for a free instance before it gets 503
    /// with Retry-After: 1.
    #[arg(long, default_value_t = SandboxConfig::default().admission_wait.as_millis() as u64)]
    admission_wait_ms: u64,
    /// Ceiling in ms on a policy's `settings: time_limit_ms`.
    #[arg(long, default_value_t = SandboxConfig::default().max_time_limit_ms)]
    max_time_limit_ms: u64,
    /// Milliseconds of execution after which a run counts as long: long
    /// runs take turns in the long-run lane, so automations that spin to
    /// their time limit cannot crowd out short ones.
    #[arg(long, default_value_t = SandboxConfig::default().long_run_after.as_millis() as u64)]
    long_run_after_ms: u64,
    /// Long runs that may execute at once (each about one core).
    #[arg(long, default_value_t = SandboxConfig::default().long_run_lanes)]
    long_run_lanes: usize,
    /// Warm KATA runtime instances kept for reuse between runs (0: a fresh
    /// instance for every run).
    #[arg(long, default_value_t = SandboxConfig::default().warm_instances)]
    warm_instances: usize,
    /// Hosts and networks http.request may reach although the address check
    /// refuses them (loopback, private...): comma-separated host names,
    /// addresses or CIDR networks.
    #[arg(long, default_value = "")]
    allow_outbound: String,
    /// Milliseconds between the timer scheduler's looks for due timers.
    #[arg(long, default_value_t = 1000)]
    timer_tick_ms: u64,
    /// Run no timers on this host (the API still manages them).
    #[arg(long)]
    no_timers: bool,
    /// Milliseconds between sweeps that delete expired resources,
    /// storage keys and continuations (0: never; one sweep runs at start).
    #[arg(long, default_value_t = 60_000)]
    sweep_interval_ms: u64,
    /// Bytes of log messages one run keeps (later entries are dropped and
    /// one entry says so).
    #[arg(long, default_value_t = SandboxConfig::default().max_log_bytes)]
    log_limit: usize,
    /// The timezone of timers with an empty recurring_timezone (IANA name).
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// A second address answering /metrics without the admin token (and
    /// /healthz, /readyz); without it /metrics needs the token.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// The request log on stderr: text, json or off (filters: KATABOX_LOG
    /// or RUST_LOG directives, default info).
    #[arg(long, value_enum, default_value_t = server::LogFormat::Text)]
    log_format: server::LogFormat,
    /// Export request, run and host-call spans over OTLP/HTTP to this URL
    /// (e.g. http://127.0.0.1:4318/v1/traces); needs a build with the
    /// `otel` cargo feature.
    #[arg(long)]
    otlp_endpoint: Option<String>,
    /// Milliseconds a shutdown keeps accepting after /readyz turned 503
    /// (so a load balancer notices before the listener closes).
    #[arg(long, default_value_t = 0)]
    drain_ms: u64,
    /// Serve no operator console under /console.
    #[arg(long)]
    no_console: bool,
    /// Seconds a shutdown waits for in-flight requests.
    #[arg(long, default_value_t = Limits::default().shutdown_grace.as_secs())]
    shutdown_grace: u64,
}

/// Where an admin command acts.
#[derive(Debug, Args)]
pub struct Target {
    /// A running server's base URL (the admin token from
    /// KATABOX_ADMIN_TOKEN, else from the --data directory's token file).
    #[arg(long)]
    pub server: Option<String>,
    /// The data directory (used when no --server is given).
    #[arg(long, default_value = "katabox-data")]
    pub data: PathBuf,
}

/// `katabox import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The package JSON file.
    file: PathBuf,
    /// A JSON file with the answers to the package's prompts.
    #[arg(long)]
    prompts: Option<PathBuf>,
    #[command(flatten)]
    target: Target,
}

/// `katabox webhook …`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Creates a webhook listener.
    Create {
        /// The listener's name.
        #[arg(long)]
        name: String,
        /// The event KATA, from a file.
        #[arg(long)]
        kata_file: Option<PathBuf>,
        /// The event KATA, inline.
        #[arg(long)]
        kata: Option<String>,
        /// The guid (generated when absent).
        #[arg(long)]
        guid: Option<String>,
        #[command(flatten)]
        verify: Box<VerifyArgs>,
        #[command(flatten)]
        target: Target,
    },
    /// Lists webhook listeners (a table; the API's JSON with --json).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Deletes a webhook listener.
    Delete {
        /// The listener id.
        id: u64,
        #[command(flatten)]
        target: Target,
    },
}

/// The `verify` block of `katabox webhook create` (docs/verified-webhooks.md).
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A `verify` block from a file (JSON or TOML).
    #[arg(long, conflicts_with = "verify")]
    verify_file: Option<PathBuf>,
    /// A verification preset: github, stripe, standard_webhooks, twilio,
    /// slack, hmac or none.
    #[arg(long)]
    verify: Option<String>,
    /// A secret name (repeat for key rotation); needs --verify.
    #[arg(long, requires = "verify")]
    secret: Vec<String>,
    /// Twilio: the public base URL senders call; needs --verify.
    #[arg(long, requires = "verify")]
    public_url: Option<String>,
    /// Seconds a delivery id is remembered (turns dedupe on); needs --verify.
    #[arg(long, requires = "verify")]
    dedupe_window: Option<u64>,
    /// A header carrying the delivery id (turns dedupe on); needs --verify.
    #[arg(long, requires = "verify")]
    dedupe_header: Option<String>,
}

impl VerifyArgs {
    /// The validated block, or `None` when no verify option was given.
    fn config(self) -> anyhow::Result<Option<katabox_verify::VerifyConfig>> {
        use katabox_verify::{DEFAULT_DEDUPE_WINDOW_SECS, DedupeConfig, Preset, VerifyConfig};
        if let Some(file) = self.verify_file {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let config = VerifyConfig::parse(&text)
                .map_err(|e| anyhow!("{}: invalid verify block: {e}", file.display()))?;
            return Ok(Some(config));
        }
        let Some(preset) = self.verify else {
            return Ok(None);
        };
        let preset: Preset = preset.parse().map_err(|e: String| anyhow!(e))?;
        let names: Vec<&str> = self.secret.iter().map(String::as_str).collect();
        let mut config = VerifyConfig::new(preset, &names);
        config.public_url = self.public_url;
        if self.dedupe_window.is_some() || self.dedupe_header.is_some() {
            config.dedupe = Some(DedupeConfig {
                window: self.dedupe_window.unwrap_or(DEFAULT_DEDUPE_WINDOW_SECS),
                header: self.dedupe_header,
            });
        }
        config
            .validate()
            .map_err(|e| anyhow!("invalid verify options: {e}"))?;
        Ok(Some(config))
    }
}

/// `katabox secrets …`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Lists the configured secret names (never their values).
    List {
        #[command(flatten)]
        target: Target,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Runs `katabox serve`.
pub fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let mut config = ServerConfig::new(a.data, a.listen);
    config.store = store_url(a.store.as_deref())?;
    config.packages = a.package;
    config.base_url = a.base_url;
    config.trusted_proxies = TrustedProxies::parse(&a.trusted_proxies).map_err(|e| anyhow!(e))?;
    let days = |d: f64| (d.max(0.0) * DAY_MS as f64) as i64;
    config.history = HistoryConfig {
        max_runs: a.run_retention.max(1),
        max_age_ms: days(a.history_days),
        payload_age_ms: days(a.history_payload_days.unwrap_or(a.history_days)),
        save: a.history_save,
        batch_window: std::time::Duration::from_millis(a.history_batch_ms.min(1000)),
    };
    config.history_body_limit = a.history_body_limit;
    config.limits = Limits {
        body_limit: a.body_limit,
        header_timeout: std::time::Duration::from_secs(a.header_timeout.max(1)),
        body_timeout: std::time::Duration::from_secs(a.body_timeout.max(1)),
        max_connections: a.max_connections,
        max_concurrency: a.max_concurrency,
        listener_concurrency: a.listener_concurrency.max(1),
        shutdown_grace: std::time::Duration::from_secs(a.shutdown_grace),
    };
    config.sandbox.fuel_per_second = a.fuel_per_second;
    config.sandbox.max_fuel = a.fuel;
    config.metrics_listen = a.metrics_listen;
    config.log_format = a.log_format;
    config.otlp_endpoint = a.otlp_endpoint;
    config.drain = std::time::Duration::from_millis(a.drain_ms);
    config.console = !a.no_console;
    config.sandbox.memory_limit = a.memory_limit;
    config.sandbox.request_memory_limit = a.request_memory_limit.max(1);
    config.sandbox.max_instances = a.max_instances.max(1);
    config.sandbox.listener_instances = a.listener_instances.max(1);
    config.sandbox.admission_wait = std::time::Duration::from_millis(a.admission_wait_ms);
    config.sandbox.max_time_limit_ms = a.max_time_limit_ms.max(1);
    config.sandbox.warm_instances = a.warm_instances;
    config.sandbox.long_run_after = std::time::Duration::from_millis(a.long_run_after_ms);
    config.sandbox.long_run_lanes = a.long_run_lanes.max(1);
    config.sandbox.max_log_bytes = a.log_limit;
    config.sweep_interval = (a.sweep_interval_ms > 0)
        .then(|| std::time::Duration::from_millis(a.sweep_interval_ms.max(100)));
    config.timer_tick =
        (!a.no_timers).then(|| std::time::Duration::from_millis(a.timer_tick_ms.max(10)));
    config.default_timezone = crate::timers::recurrence::timezone(&a.timezone, chrono_tz::Tz::UTC)
        .map_err(|e| anyhow!("--timezone: {e}"))?;
    for item in a
        .allow_outbound
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        match item.parse::<ipnet::IpNet>() {
            Ok(net) => config.http.addresses.allow_networks.push(net),
            Err(_) => match item.parse::<std::net::IpAddr>() {
                Ok(ip) => config
                    .http
                    .addresses
                    .allow_networks
                    .push(ipnet::IpNet::from(ip)),
                Err(_) => config
                    .http
                    .addresses
                    .allow_hosts
                    .push(item.to_ascii_lowercase()),
            },
        }
    }
    if !a.listen.ip().to_canonical().is_loopback() {
        eprintln!(
            "katabox: warning: listening on {}, which is not a loopback address: the admin API (/api) and its bearer token are served over plain HTTP; put a TLS-terminating proxy in front, or listen on 127.0.0.1",
            a.listen
        );
    }
    runtime()?.block_on(server::run(config))
}

/// `--store`, else `KATABOX_STORE`, parsed (the error hides the password).
pub(super) fn store_url(flag: Option<&str>) -> anyhow::Result<Option<crate::store::StoreUrl>> {
    let env = std::env::var("KATABOX_STORE").ok();
    let Some(url) = flag
        .or(env.as_deref())
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    Ok(Some(
        crate::store::StoreUrl::parse(url).map_err(|e| anyhow!("{e}"))?,
    ))
}

pub(super) fn open_store(dir: &Path) -> anyhow::Result<RedbStore> {
    RedbStore::open(dir, StoreConfig::default()).with_context(|| {
        format!(
            "opening {} (if a server is running on it, use --server URL)",
            dir.display()
        )
    })
}

/// The admin token for `--server`: KATABOX_ADMIN_TOKEN, else the token
/// file of the `--data` directory.
fn token_for(target: &Target) -> anyhow::Result<String> {
    if let Ok(t) = std::env::var("KATABOX_ADMIN_TOKEN")
        && !t.trim().is_empty()
    {
        return Ok(t.trim().to_string());
    }
    let file = target.data.join(crate::server::TOKEN_FILE);
    match std::fs::read_to_string(&file) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => bail!(
            "no admin token: set KATABOX_ADMIN_TOKEN or give --data with the server's data directory ({} not readable)",
            file.display()
        ),
    }
}

/// Sends an admin request to the target's server and returns its JSON answer.
pub(super) fn call(
    target: &Target,
    method: reqwest::Method,
    path: &str,
    body: Option<Json>,
) -> anyhow::Result<Json> {
    let server = target
        .server
        .as_deref()
        .ok_or_else(|| anyhow!("--server is required"))?;
    let token = token_for(target)?;
    let url = format!("{}/api{path}", server.trim_end_matches('/'));
    runtime()?.block_on(async move {
        let client = reqwest::Client::new();
        let mut req = client.request(method, &url).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.with_context(|| format!("calling {url}"))?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            // The server's JSON error document, or its text as one.
            let document = serde_json::from_str::<Json>(&text)
                .ok()
                .filter(|d| d.get("error").is_some())
                .unwrap_or_else(|| json!({"error": text.trim()}));
            return Err(super::Refused {
                what: format!("the server answered {status}"),
                document,
            }
            .into());
        }
        serde_json::from_str(&text).with_context(|| format!("{url} answered: {text}"))
    })
}

/// Runs `katabox import`.
pub fn import(a: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    let prompts: Json = match &a.prompts {
        Some(p) => serde_json::from_slice(
            &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("{} is not valid JSON", p.display()))?,
        None => json!({}),
    };
    let out = if a.target.server.is_some() {
        let package = String::from_utf8_lossy(&text).into_owned();
        call(
            &a.target,
            reqwest::Method::POST,
            "/packages",
            Some(json!({"package": package, "prompts": prompts})),
        )?
    } else {
        let store = open_store(&a.target.data)?;
        match packages::import(&store, &text, &prompts, &ImportOptions::default()) {
            Ok(r) => json!({"records": r.records, "records_created": r.records_created}),
            Err(packages::PackageError::Refused(m)) => return Err(super::Refused::local(m).into()),
            Err(e) => return Err(e.into()),
        }
    };
    super::print_json(&out)
}

/// Runs `katabox webhook …`.
pub fn webhook(c: WebhookCommand) -> anyhow::Result<()> {
    let out = match c {
        WebhookCommand::Create {
            name,
            kata_file,
            kata,
            guid,
            verify,
            target,
        } => {
            let verify = (*verify).config()?;
            let kata = match (kata_file, kata) {
                (Some(f), _) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                (None, Some(k)) => k,
                (None, None) => String::new(),
            };
            let mut body = json!({"name": name, "automations_kata": kata, "guid": guid.clone().unwrap_or_default()});
            if let (Some(v), Some(map)) = (&verify, body.as_object_mut()) {
                map.insert("verify".into(), serde_json::to_value(v)?);
            }
            match &target.server {
                Some(_) => call(&target, reqwest::Method::POST, "/webhooks", Some(body))?,
                None => {
                    if let Err(e) = crate::webhooks::lang::check_kata(&kata) {
                        let m = format!("Invalid 'automations_kata': {e}");
                        return Err(super::Refused::local(m).into());
                    }
                    let store = open_store(&target.data)?;
                    let input = ListenerInput {
                        name,
                        guid: guid.unwrap_or_default(),
                        automations_kata: kata,
                        body_limit: None,
                        verify,
                        is_disabled: None,
                    };
                    match store.create_listener(input) {
                        Ok(l) => json!({"id": l.id, "guid": l.guid}),
                        Err(crate::store::StoreError::Rejected(m)) => {
                            return Err(super::Refused::local(m).into());
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        WebhookCommand::List { json, target } => {
            let out = match &target.server {
                Some(_) => call(&target, reqwest::Method::GET, "/webhooks", None)?,
                None => json!({"webhooks": open_store(&target.data)?.listeners()?}),
            };
            if !json {
                print_webhooks(&out);
                return Ok(());
            }
            out
        }
        WebhookCommand::Delete { id, target } => match &target.server {
            Some(_) => call(
                &target,
                reqwest::Method::DELETE,
                &format!("/webhooks/{id}"),
                None,
            )?,
            None => {
                if open_store(&target.data)?.delete_listener(id)? {
                    json!({"deleted": true, "id": id})
                } else {
                    return Err(super::Refused::local("Not found").into());
                }
            }
        },
    };
    super::print_json(&out)
}

/// The listeners as a table.
fn print_webhooks(out: &Json) {
    let rows: Vec<Vec<String>> = out["webhooks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|l| {
            let verify = l["verify"]["preset"].as_str().unwrap_or("-").to_string();
            let url = l["url"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("/webhooks/{}", l["guid"].as_str().unwrap_or("")));
            vec![
                l["id"].to_string(),
                l["name"].as_str().unwrap_or("").to_string(),
                verify,
                url,
            ]
        })
        .collect();
    super::history::print_table(&["ID", "NAME", "VERIFY", "URL"], &rows);
}

/// Runs `katabox secrets …`: names only, from the server or from the data
/// directory and this process's `KATABOX_SECRET_*` variables.
pub fn secrets(c: SecretsCommand) -> anyhow::Result<()> {
    let SecretsCommand::List { target } = c;
    let out = match &target.server {
        Some(_) => call(&target, reqwest::Method::GET, "/secrets", None)?,
        None => {
            let loaded = katabox_verify::Secrets::load(&target.data, std::env::vars_os())
                .map_err(|e| anyhow!("loading secrets: {e}"))?;
            for warning in &loaded.warnings {
                eprintln!("katabox: warning: {warning}");
            }
            let names: Vec<&str> = loaded.secrets.names().collect();
            json!({"secrets": names})
        }
    };
    super::print_json(&out)
}
