//! `katabox store migrate` and `katabox store check`: moving an install
//! from redb to PostgreSQL, and what each backend holds
//! (docs/scale-out.md, "Moving an install").

use crate::store::{PgStore, RedbStore, StoreConfig};
use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

/// `katabox store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copies a redb data directory into PostgreSQL (one transaction;
    /// running it again changes nothing). Stop the server on --data first.
    Migrate {
        /// The data directory to copy.
        #[arg(long, default_value = "katabox-data")]
        data: PathBuf,
        /// The target, postgres://USER[:PASS]@HOST:PORT/DB (also KATABOX_STORE).
        #[arg(long)]
        to: Option<String>,
        /// Copy into a database that already holds data (rows with the
        /// same keys are replaced).
        #[arg(long)]
        force: bool,
    },
    /// Prints what each backend holds: the redb data directory (when it
    /// has a database) and the PostgreSQL store (with --store or
    /// KATABOX_STORE).
    Check {
        /// The data directory.
        #[arg(long, default_value = "katabox-data")]
        data: PathBuf,
        /// A PostgreSQL store, postgres://USER[:PASS]@HOST:PORT/DB.
        #[arg(long)]
        store: Option<String>,
    },
}

fn open_redb(data: &std::path::Path) -> anyhow::Result<RedbStore> {
    if !data.join("katabox.redb").is_file() {
        bail!("{} holds no katabox.redb", data.display());
    }
    super::server::open_store(data)
}

/// Runs a `store` command.
pub fn store(cmd: StoreCommand) -> anyhow::Result<()> {
    match cmd {
        StoreCommand::Migrate { data, to, force } => {
            let Some(url) = super::server::store_url(to.as_deref())? else {
                bail!("give the target with --to postgres://USER[:PASS]@HOST:PORT/DB");
            };
            let src = open_redb(&data)?;
            let dst = PgStore::open(&url, StoreConfig::default())
                .with_context(|| format!("opening {url}"))?;
            let copied = dst.copy_from(&src, force)?;
            let held = dst.inventory()?;
            super::print_json(&json!({
                "from": data.display().to_string(),
                "to": url.redacted(),
                "copied": copied,
                "target_now_holds": held,
            }))?;
        }
        StoreCommand::Check { data, store } => {
            let mut out = serde_json::Map::new();
            if data.join("katabox.redb").is_file() {
                let src = open_redb(&data)?;
                out.insert(
                    "redb".into(),
                    json!({"data": data.display().to_string(), "holds": src.inventory()?}),
                );
            }
            if let Some(url) = super::server::store_url(store.as_deref())? {
                let pg = PgStore::open(&url, StoreConfig::default())
                    .with_context(|| format!("opening {url}"))?;
                out.insert(
                    "postgres".into(),
                    json!({"url": url.redacted(), "schema_versions": pg.schema_versions()?,
                           "holds": pg.inventory()?}),
                );
            }
            if out.is_empty() {
                bail!(
                    "nothing to check: {} holds no katabox.redb and no --store was given",
                    data.display()
                );
            }
            super::print_json(&serde_json::Value::Object(out))?;
        }
    }
    Ok(())
}
