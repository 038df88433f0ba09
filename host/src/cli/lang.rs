//! `katabox kata eval` and `katabox template render`.

use super::{print_json, read_text, read_vars};
use clap::Subcommand;
use katabox_value::json::to_serde;
use serde_json::json;
use std::path::PathBuf;

/// KATA tools.
#[derive(Debug, Subcommand)]
pub enum KataCommand {
    /// Parse and evaluate a KATA file; prints `{"tree": ...}` or `{"error": "..."}`.
    Eval {
        /// The KATA file.
        file: PathBuf,
        /// A JSON file with the dictionary to evaluate against (default: empty).
        #[arg(long)]
        vars: Option<PathBuf>,
    },
}

/// Template tools.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Render a template file; prints `{"output": "..."}` or `{"error": "..."}`.
    Render {
        /// The template file.
        file: PathBuf,
        /// A JSON file with the dictionary to render against (default: empty).
        #[arg(long)]
        vars: Option<PathBuf>,
        /// The public base URL `cerb_url()` builds on (as `serve --public-url`).
        #[arg(long)]
        public_url: Option<String>,
    },
}

/// Runs a `kata` command.
pub fn kata(c: KataCommand) -> anyhow::Result<()> {
    let KataCommand::Eval { file, vars } = c;
    let text = read_text(&file)?;
    let dict = read_vars(vars.as_deref())?;
    let answer = match crate::lang::eval_kata(&text, &dict) {
        Ok(tree) => json!({ "tree": to_serde(&tree) }),
        Err(e) => json!({ "error": e }),
    };
    print_json(&answer)
}

/// Runs a `template` command.
pub fn template(c: TemplateCommand) -> anyhow::Result<()> {
    let TemplateCommand::Render {
        file,
        vars,
        public_url,
    } = c;
    if let Some(url) = &public_url {
        katabox_twig::set_public_url(url);
    }
    let text = read_text(&file)?;
    let dict = read_vars(vars.as_deref())?;
    let answer = match crate::lang::render_template(&text, &dict) {
        Ok(out) => json!({ "output": out.to_string_lossy() }),
        Err(e) => json!({ "error": e }),
    };
    print_json(&answer)
}
