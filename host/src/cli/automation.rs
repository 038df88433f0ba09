//! `katabox automation run` and `katabox policy check`.

use super::{print_json, read_vars};
use crate::capabilities::MemoryStore;
use crate::capabilities::http::{HttpConfig, fixtures};
use crate::policy::{self, Policy};
use crate::sandbox::{AutomationRecord, NoAutomations, RunOptions, Sandbox, SandboxConfig};
use anyhow::Context;
use clap::Subcommand;
use katabox_value::json::to_serde;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

/// The trigger used when `--trigger` is not given.
pub const DEFAULT_TRIGGER: &str = "cerb.trigger.automation.function";

/// Automation tools.
#[derive(Debug, Subcommand)]
pub enum AutomationCommand {
    /// Run an automation script in the sandbox; prints
    /// `{"exit": ..., "return": ..., "dict": ..., "error": ...}`.
    Run {
        /// The automation KATA file.
        file: PathBuf,
        /// A JSON file with the starting dictionary.
        #[arg(long)]
        inputs: Option<PathBuf>,
        /// The policy KATA file (default: an empty policy, which allows no gated command).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The trigger extension id.
        #[arg(long)]
        trigger: Option<String>,
        /// A JSON list of `{method, url, status, headers, body}`: `http.request`
        /// answers from these and opens no connection.
        #[arg(long = "http-fixtures")]
        http_fixtures: Option<PathBuf>,
        /// The public base URL `cerb_url()` builds on (as `serve --public-url`).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Lists the stored automations (a table; the API's JSON with --json).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        target: super::server::Target,
    },
    /// Changes a stored automation's script, policy or description; the
    /// previous version is kept. Prints the automation with its new version.
    Update {
        /// The automation's name.
        name: String,
        /// The new script (a KATA file).
        #[arg(long)]
        script: Option<PathBuf>,
        /// The new policy (a KATA file).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The new description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        target: super::server::Target,
    },
}

/// Policy tools.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Decide one command call; prints `{"allowed": true|false}` (or `{"error": ...}`).
    Check {
        /// The policy KATA file.
        file: PathBuf,
        /// The command (`node.type`), e.g. `http.request`.
        #[arg(long)]
        command: String,
        /// The node id (`node.id`).
        #[arg(long = "node-id")]
        node_id: Option<String>,
        /// A JSON file with the command's inputs.
        #[arg(long)]
        inputs: Option<PathBuf>,
        /// The `output:` name.
        #[arg(long)]
        output: Option<String>,
    },
}

fn read_text(path: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Runs `katabox automation ...`.
pub fn automation(c: AutomationCommand) -> anyhow::Result<()> {
    let (file, inputs, policy, trigger, http_fixtures, public_url) = match c {
        AutomationCommand::Run {
            file,
            inputs,
            policy,
            trigger,
            http_fixtures,
            public_url,
        } => (file, inputs, policy, trigger, http_fixtures, public_url),
        AutomationCommand::List { json, target } => {
            return super::history::automation_list(&target, json);
        }
        AutomationCommand::Update {
            name,
            script,
            policy,
            description,
            target,
        } => {
            return super::history::automation_update(&name, script, policy, description, &target);
        }
    };
    let script = read_text(&file)?;
    let policy_kata = match &policy {
        Some(p) => read_text(p)?,
        None => String::new(),
    };
    let dict = read_vars(inputs.as_deref())?;
    let mut http = HttpConfig::default();
    if let Some(path) = &http_fixtures {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let list =
            fixtures::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        http.fixtures = Some(list);
    }
    let record = AutomationRecord {
        name: file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        extension_id: trigger.unwrap_or_else(|| DEFAULT_TRIGGER.to_string()),
        script,
        policy_kata,
        component: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let sandbox = Sandbox::new(
            SandboxConfig {
                public_url,
                ..SandboxConfig::default()
            },
            Arc::new(MemoryStore::new()),
            Arc::new(NoAutomations),
            http,
        )?;
        anyhow::Ok(sandbox.run(&record, dict, RunOptions::default()).await)
    })?;
    let ret = result
        .returned()
        .map(to_serde)
        .unwrap_or(serde_json::Value::Null);
    let error = result.error_message();
    print_json(&json!({
        "exit": result.exit,
        "return": ret,
        "dict": to_serde(&result.dict),
        "error": error,
    }))
}

/// Runs `katabox policy ...`.
pub fn policy(c: PolicyCommand) -> anyhow::Result<()> {
    let PolicyCommand::Check {
        file,
        command,
        node_id,
        inputs,
        output,
    } = c;
    let text = read_text(&file)?;
    let inputs = read_vars(inputs.as_deref())?;
    let parsed = match Policy::parse(&text) {
        Ok(p) => p,
        Err(e) => return print_json(&json!({ "error": e.to_string() })),
    };
    let node_id = node_id.unwrap_or_else(|| format!("start:{command}"));
    let uri = inputs.get("uri").map(|v| v.to_string_lossy());
    let p = policy::placeholders(
        &node_id,
        &command,
        &inputs,
        output.as_deref(),
        uri.as_deref(),
    );
    let scripting = policy::host_scripting();
    let allowed = parsed.allows(&command, &p, scripting.as_ref());
    print_json(&json!({ "allowed": allowed }))
}
