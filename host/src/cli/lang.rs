//! `katabox kata ...` and `katabox template ...`.

use clap::Subcommand;
use std::path::PathBuf;

/// KATA tools.
#[derive(Debug, Subcommand)]
pub enum KataCommand {
    /// Parse and evaluate a KATA file; prints `{"tree": ...}` or `{"error": "..."}`.
    Eval {
        /// The KATA file.
        file: PathBuf,
        /// A JSON file with the dictionary to evaluate against.
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
        /// A JSON file with the dictionary to render against.
        #[arg(long)]
        vars: Option<PathBuf>,
    },
}

pub fn kata(_c: KataCommand) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}

pub fn template(_c: TemplateCommand) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
