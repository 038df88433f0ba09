//! The host's bridge to KATA and the scripting engine (event KATA and
//! package templates), evaluated under the engine's limits.

use foldhash::{HashMap, HashMapExt};
use katabox_kata::Tree;
use katabox_twig::{Config, Delimiters, Engine};
use katabox_value::Value;
use std::sync::{Arc, Mutex, OnceLock};

/// Parsed event KATA documents kept (emptied when full).
const PARSED_CAPACITY: usize = 256;
/// Larger documents are parsed every time, not kept.
const PARSED_MAX_BYTES: usize = 64 * 1024;

type Parsed = Result<Arc<Tree>, String>;

/// Parses `text`, from a small cache: every request to a listener
/// evaluates the same event KATA, so it is parsed once.
fn parse_cached(text: &str) -> Parsed {
    static PARSED: OnceLock<Mutex<HashMap<String, Parsed>>> = OnceLock::new();
    let parse = |text: &str| {
        katabox_kata::parse(text)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    };
    if text.len() > PARSED_MAX_BYTES {
        return parse(text);
    }
    let cache = PARSED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(c) = cache.lock()
        && let Some(p) = c.get(text)
    {
        return p.clone();
    }
    let parsed = parse(text);
    if let Ok(mut c) = cache.lock() {
        if c.len() >= PARSED_CAPACITY {
            c.clear();
        }
        c.insert(text.to_string(), parsed.clone());
    }
    parsed
}

/// The engine for event KATA (standard delimiters).
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Config::default()))
}

/// A fresh engine with the package delimiters (one per call: package
/// templates are not worth caching across imports).
fn package_engine() -> Engine {
    Engine::with_delimiters(Config::default(), Delimiters::package_import())
}

/// Parses and evaluates a KATA document (general evaluator, kata.md §8)
/// against `dict`, with scripting.
pub fn eval_kata(text: &str, dict: &Value) -> Result<Value, String> {
    let tree = parse_cached(text)?;
    katabox_kata::evaluate(&tree, Some(dict), engine()).map_err(|e| e.to_string())
}

/// KATA truthiness (kata.md §11.1).
pub fn kata_truthy(v: &Value) -> bool {
    katabox_kata::truthy(v)
}

/// Renders a package template (`{{{ }}}` / `{{% %}}` / `{{# #}}`
/// delimiters, packages.md §7) against `dict`.
pub fn render_package(template: &str, dict: &Value) -> Result<String, String> {
    package_engine()
        .render(template, dict)
        .map(|s| s.to_string_lossy().into_owned())
        .map_err(|e| e.to_string())
}

/// Checks that a KATA document parses (save-time check); the error is Cerb's message.
pub fn check_kata(text: &str) -> Result<(), String> {
    katabox_kata::parse(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The save-time check of an automation script (automations.md §14):
/// the KATA parses, and the top level holds only `inputs:` and an
/// unnamed `start:`. (The per-command schema is checked at run time.)
pub fn check_automation_script(text: &str) -> Result<(), String> {
    let tree = katabox_kata::parse(text).map_err(|e| e.to_string())?;
    for node in &tree.nodes {
        match node.kind() {
            "inputs" if node.label().is_none() => {}
            "start" if node.label().is_some() => {
                return Err("Key `start:` must not have a name".into());
            }
            "start" => {}
            _ => return Err(format!("Key `{}:` is unknown", node.name())),
        }
    }
    Ok(())
}
