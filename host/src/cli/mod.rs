//! The command line: each command prints one JSON document (or serves).
//!
//! Commands that produce an answer print it as JSON on stdout and exit 0,
//! also when the answer is an error document of a tool (`kata eval`,
//! `template render`, `automation run`: the script's error is the answer).
//! When the server (or, with `--data`, the store) refuses an admin command
//! (`import`, `webhook ...`, `runs`, `timers`, `secrets`), the JSON error
//! document is printed on stdout and the exit status is 1 ([`Refused`]);
//! usage and I/O errors exit 2.

mod automation;
mod history;
mod lang;
mod server;
mod store;
mod timers;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// katabox: a sandboxed webhook-automation host.
#[derive(Debug, Parser)]
#[command(name = "katabox", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// KATA tools for script authors.
    #[command(subcommand)]
    Kata(lang::KataCommand),
    /// Template (scripting) tools for script authors.
    #[command(subcommand)]
    Template(lang::TemplateCommand),
    /// Run automations in the sandbox.
    #[command(subcommand)]
    Automation(automation::AutomationCommand),
    /// Check automation policies.
    #[command(subcommand)]
    Policy(automation::PolicyCommand),
    /// Serve webhooks and the admin API.
    Serve(server::ServeArgs),
    /// Import a package.
    Import(server::ImportArgs),
    /// Manage webhook listeners.
    #[command(subcommand)]
    Webhook(server::WebhookCommand),
    /// Show the run history.
    Runs(history::RunsArgs),
    /// Named secrets (names only).
    #[command(subcommand)]
    Secrets(server::SecretsCommand),
    /// Automation timers: list, create, update, enable, disable, run, delete.
    #[command(subcommand)]
    Timers(timers::TimersCommand),
    /// The store: copy a redb data directory into PostgreSQL, or show
    /// what each backend holds.
    #[command(subcommand)]
    Store(store::StoreCommand),
}

/// Runs the command line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Kata(c) => lang::kata(c),
        Command::Template(c) => lang::template(c),
        Command::Automation(c) => automation::automation(c),
        Command::Policy(c) => automation::policy(c),
        Command::Serve(a) => server::serve(a),
        Command::Import(a) => server::import(a),
        Command::Webhook(c) => server::webhook(c),
        Command::Runs(a) => history::runs(a),
        Command::Secrets(c) => server::secrets(c),
        Command::Timers(c) => timers::timers(c),
        Command::Store(c) => store::store(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast_ref::<Refused>() {
            Some(r) => {
                let _ = print_json(&r.document);
                eprintln!("katabox: {r}");
                ExitCode::from(1)
            }
            None => {
                eprintln!("katabox: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

/// An admin command the server or the store refused: the JSON error
/// document is printed on stdout, and the command exits 1.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {}", document.get("error").and_then(serde_json::Value::as_str).unwrap_or("refused"))]
pub(crate) struct Refused {
    /// Who refused, e.g. `the server answered 404 Not Found`.
    pub what: String,
    /// The error document (`{"error": "..."}`).
    pub document: serde_json::Value,
}

impl Refused {
    /// A refusal by the local store (`--data`).
    pub fn local(message: impl Into<String>) -> Refused {
        Refused {
            what: "refused".into(),
            document: serde_json::json!({"error": message.into()}),
        }
    }
}

/// Prints one JSON document on stdout.
pub(crate) fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// Reads a text file (invalid UTF-8 is replaced, as Cerb would see it).
pub(crate) fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads a JSON file of variables into a value (an empty dictionary when absent).
pub(crate) fn read_vars(path: Option<&std::path::Path>) -> anyhow::Result<katabox_value::Value> {
    use anyhow::Context;
    let Some(path) = path else {
        return Ok(katabox_value::Value::empty_array());
    };
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    katabox_value::json::decode(&bytes)
        .with_context(|| format!("{} is not valid JSON", path.display()))
}
