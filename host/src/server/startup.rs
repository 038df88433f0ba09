//! Opening the data directory: store, admin token, start-up packages.

use super::{AppState, SandboxRunner, ServerConfig};
use crate::packages::{self, ImportOptions};
use crate::store::StoreConfig;
use crate::webhooks::WebhookContext;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The admin token file in the data directory.
pub const TOKEN_FILE: &str = "admin-token";

/// The shortest admin token `serve` accepts, in characters.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

/// An admin token the server refuses to start with.
#[derive(Debug, thiserror::Error)]
#[error(
    "{origin} is too short ({chars} characters): an admin token needs at least {MIN_ADMIN_TOKEN_CHARS} characters{hint}"
)]
pub struct WeakAdminToken {
    /// Where the token came from (`KATABOX_ADMIN_TOKEN`, the file's path).
    pub origin: String,
    /// Its length in characters.
    pub chars: usize,
    /// What to do about it, if there is more to say.
    pub hint: &'static str,
}

fn strong(
    token: &str,
    origin: impl FnOnce() -> String,
    hint: &'static str,
) -> Result<String, WeakAdminToken> {
    let chars = token.chars().count();
    if chars < MIN_ADMIN_TOKEN_CHARS {
        return Err(WeakAdminToken {
            origin: origin(),
            chars,
            hint,
        });
    }
    Ok(token.to_string())
}

/// The admin token: `KATABOX_ADMIN_TOKEN`, else the data directory's
/// token file, else a new random token (64 characters) saved there with
/// mode 0600. The bool says whether it was just generated (print it once).
/// A given token shorter than [`MIN_ADMIN_TOKEN_CHARS`] is refused.
pub fn admin_token(data_dir: &Path) -> anyhow::Result<(String, bool)> {
    if let Ok(t) = std::env::var("KATABOX_ADMIN_TOKEN")
        && !t.trim().is_empty()
    {
        let t = strong(t.trim(), || "KATABOX_ADMIN_TOKEN".into(), "")?;
        return Ok((t, false));
    }
    let path = data_dir.join(TOKEN_FILE);
    if let Ok(t) = std::fs::read_to_string(&path)
        && !t.trim().is_empty()
    {
        let t = strong(
            t.trim(),
            || format!("the admin token in {}", path.display()),
            " (delete the file to have a new one generated)",
        )?;
        return Ok((t, false));
    }
    let token = crate::store::generate_guid() + &crate::store::generate_guid()[..24];
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut f, token.as_bytes())?;
    Ok((token, true))
}

/// Opens the data directory and builds the server state (also imports the
/// `--package` files that are not imported yet).
pub fn open_state(config: &ServerConfig, addr: SocketAddr) -> anyhow::Result<AppState> {
    let store_config = StoreConfig {
        history: config.history.clone(),
    };
    let store = crate::store::open_backend(config.store.as_ref(), &config.data_dir, store_config)
        .with_context(|| match &config.store {
        Some(url) => format!("opening the store {url}"),
        None => format!("opening the data directory {}", config.data_dir.display()),
    })?;
    if config.store.is_some() {
        // The admin token and the secrets stay in the data directory.
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    let base_url = config
        .base_url
        .clone()
        .map(|u| if u.ends_with('/') { u } else { format!("{u}/") })
        .unwrap_or_else(|| format!("http://{addr}/"));
    let (token, generated) = admin_token(&config.data_dir)?;
    if generated {
        println!("katabox admin token: {token}");
    }
    let opts = ImportOptions {
        base_url: base_url.clone(),
        skip_if_imported: true,
    };
    for file in &config.packages {
        let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        packages::import(store.as_ref(), &text, &serde_json::json!({}), &opts)
            .map_err(|e| anyhow::anyhow!("importing {}: {e}", file.display()))?;
    }
    crate::metrics::install();
    let (verifier, warnings) = super::verify::Verifier::load(&config.data_dir)?;
    for warning in &warnings {
        eprintln!("katabox: warning: {warning}");
    }
    let verifier = Arc::new(verifier);
    // The same secrets serve the guests' `secrets` capability (HMAC).
    let mut sandbox_config = config.sandbox.clone();
    // `cerb_url()` builds on the public base URL, in the host's engines and
    // (through a WASI variable) in the guest's.
    katabox_twig::set_public_url(&base_url);
    if sandbox_config.public_url.is_none() {
        sandbox_config.public_url = Some(base_url.clone());
    }
    if sandbox_config.secrets.is_empty() {
        sandbox_config.secrets = crate::sandbox::Secrets::from((*verifier.secrets).clone());
    }
    // Expired dedupe records from earlier runs.
    let _ = store.purge_deliveries(crate::store::now_unix());
    let mut http = config.http.clone();
    http.auth = crate::capabilities::http::OutboundAuth {
        accounts: verifier.accounts.clone(),
        secrets: verifier.secrets.clone(),
    };
    let runner = Arc::new(SandboxRunner::lazy(
        sandbox_config,
        store.clone(),
        store.clone().automation_source(),
        http,
    ));
    let webhooks = WebhookContext {
        store: store.clone(),
        data: store.clone(),
        runner: runner.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        base_url: base_url.clone(),
        secrets: verifier.secrets.clone(),
        history_body_limit: config.history_body_limit,
    };
    let mut timers = crate::timers::TimerContext::from_webhooks(&webhooks, config.default_timezone);
    timers.clock = config.clock.clone();
    Ok(AppState {
        timers,
        webhooks,
        store,
        limits: config.limits.clone(),
        concurrency: Arc::new(Semaphore::new(config.limits.max_concurrency.max(1))),
        listener_gate: Arc::new(super::gate::ListenerGate::new(
            config.limits.listener_concurrency,
        )),
        admin_token: Arc::from(token.as_str()),
        base_url,
        sandbox: runner,
        verifier,
        health: Arc::new(super::Health::default()),
        console: config.console,
    })
}
