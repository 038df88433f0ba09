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

/// Evaluation steps one event-KATA document may spend in all its templates
/// together (issue 20: the scripting default of 5,000,000 steps per
/// template let one request burn a quarter of a second of a core).
pub const EVENT_STEPS: u64 = 1_000_000;

/// Steps an event-KATA document may spend on the async worker that
/// received the request; one that needs more is evaluated again on the
/// blocking pool (see `event::select_off_workers`).
pub const INLINE_EVENT_STEPS: u64 = 20_000;

/// An event-KATA engine (standard delimiters) whose documents may spend
/// `max_steps` in all their templates together.
fn event_engine(max_steps: u64) -> Engine {
    let mut config = Config::default();
    config.limits.max_steps = max_steps;
    Engine::new(config)
}

/// The engine for event KATA evaluated in full ([`EVENT_STEPS`]).
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| event_engine(EVENT_STEPS))
}

/// The engine for the first, inline attempt ([`INLINE_EVENT_STEPS`]).
fn inline_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| event_engine(INLINE_EVENT_STEPS))
}

/// Scripting whose renders share one step budget (the engine's `max_steps`).
struct Budgeted<'a> {
    engine: &'a Engine,
    spent: std::cell::Cell<u64>,
}

impl katabox_kata::Scripting for Budgeted<'_> {
    fn render(&self, template: &str, dict: &Value) -> Result<katabox_value::PStr, String> {
        let mut spent = self.spent.get();
        let out = self.engine.render_counted(template, dict, &mut spent);
        self.spent.set(spent);
        out.map_err(|e| e.to_string())
    }
    fn check(&self, template: &str) -> Result<(), String> {
        self.engine.check(template).map_err(|e| e.to_string())
    }
}

/// How an evaluation with a step budget failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetedError {
    /// The templates together ran out of steps.
    Steps(String),
    /// Parsing or evaluating failed otherwise (Cerb's message).
    Failed(String),
}

fn eval_with(engine: &Engine, text: &str, dict: &Value) -> Result<Value, BudgetedError> {
    let tree = parse_cached(text).map_err(BudgetedError::Failed)?;
    let scripting = Budgeted {
        engine,
        spent: std::cell::Cell::new(0),
    };
    let out = katabox_kata::evaluate(&tree, Some(dict), &scripting);
    out.map_err(|e| {
        if scripting.spent.get() > engine.config().limits.max_steps {
            BudgetedError::Steps(e.to_string())
        } else {
            BudgetedError::Failed(e.to_string())
        }
    })
}

/// Evaluates an event-KATA document with the small inline budget
/// ([`INLINE_EVENT_STEPS`]): `Err(Steps)` means it needs the full one.
pub fn eval_event_inline(text: &str, dict: &Value) -> Result<Value, BudgetedError> {
    eval_with(inline_engine(), text, dict)
}

/// A fresh engine with the package delimiters (one per call: package
/// templates are not worth caching across imports).
fn package_engine() -> Engine {
    Engine::with_delimiters(Config::default(), Delimiters::package_import())
}

/// Parses and evaluates a KATA document (general evaluator, kata.md §8)
/// against `dict`, with scripting.
/// All templates of one document share [`EVENT_STEPS`].
pub fn eval_kata(text: &str, dict: &Value) -> Result<Value, String> {
    eval_with(engine(), text, dict).map_err(|e| match e {
        BudgetedError::Steps(m) | BudgetedError::Failed(m) => m,
    })
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
