//! Loading test vectors (see tests/conformance/cerb/FORMAT.md).

use serde_json::Value as J;
use std::path::{Path, PathBuf};

/// One vector: its kind and its TOML table.
#[derive(Debug, Clone)]
pub struct Case {
    /// `kata`, `template`, `automation`, `policy`, `webhook` or `package`.
    pub kind: String,
    /// The whole TOML table.
    pub table: toml::Table,
    /// Where it came from.
    pub path: PathBuf,
}

/// The result of running one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Everything matched.
    Pass,
    /// What differed.
    Fail(String),
}

/// Every `*.toml` below `dir`, sorted.
pub fn find_vectors(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Reads and parses one vector file.
pub fn load_case(path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let kind = table
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or("no `kind`")?
        .to_string();
    Ok(Case {
        kind,
        table,
        path: path.to_path_buf(),
    })
}

impl Case {
    /// A top-level string field.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.table.get(key).and_then(|v| v.as_str())
    }

    /// A top-level field holding JSON text, parsed.
    pub fn json(&self, key: &str) -> Result<Option<J>, String> {
        json_field(&self.table, key)
    }

    /// The `[expect]` table.
    pub fn expect(&self) -> toml::Table {
        self.table
            .get("expect")
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_default()
    }

    /// The `[request]` table (webhook cases).
    pub fn request(&self) -> toml::Table {
        self.table
            .get("request")
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_default()
    }

    /// `loose = true`.
    pub fn loose(&self) -> bool {
        self.table
            .get("loose")
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }
}

/// A field of `t` holding JSON text, parsed (`None` when absent).
pub fn json_field(t: &toml::Table, key: &str) -> Result<Option<J>, String> {
    match t.get(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| format!("`{key}` is not JSON: {e}")),
        Some(other) => Err(format!("`{key}` should be a JSON string, found {other}")),
    }
}
