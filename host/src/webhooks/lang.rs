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

/// The save-time check of an automation script (automations.md §14), as
/// Cerb's schema validation gives it: the KATA parses, the top level holds
/// `inputs:` and an unnamed, required `start:`, every command under
/// `start:` (and under `then:`, `do:`, `on_success:`, `on_error:`,
/// `on_simulate:`) is a known command, and a command's own keys are its
/// attributes. Errors are Cerb's: ``Key `start:nosuch.command:` is unknown``.
pub fn check_automation_script(text: &str) -> Result<(), String> {
    let tree = katabox_kata::parse(text).map_err(|e| e.to_string())?;
    // An empty document is an empty (indexed) array to Cerb's validator,
    // which it accepts (a guest component's automation has no script).
    if tree.nodes.is_empty() {
        return Ok(());
    }
    let mut path = Vec::new();
    check_object(&tree.nodes, &Shape::Root, &mut path)
}

/// What an object node of an automation script may hold.
enum Shape {
    Root,
    Inputs,
    Input(&'static [&'static str]),
    Commands,
    Attrs(&'static [Attr]),
}

/// One attribute: its name, whether it may repeat (with `/names`), and
/// what its value is when it is an object (`None`: anything).
struct Attr(&'static str, bool, Option<fn() -> Shape>);

const GATED: &[Attr] = &[
    Attr("inputs", false, None),
    Attr("output", false, None),
    Attr("on_error", false, Some(commands)),
    Attr("on_success", false, Some(commands)),
    Attr("on_simulate", false, Some(commands)),
];
const FUNCTION: &[Attr] = &[
    Attr("inputs", false, None),
    Attr("output", false, None),
    Attr("uri", false, None),
    Attr("on_error", false, Some(commands)),
    Attr("on_success", false, Some(commands)),
    Attr("on_simulate", false, Some(commands)),
];
const OUTCOME: &[Attr] = &[Attr("if", false, None), Attr("then", false, Some(commands))];
const DECISION: &[Attr] = &[Attr("outcome", true, Some(outcome))];
const REPEAT: &[Attr] = &[
    Attr("as", false, None),
    Attr("do", false, Some(commands)),
    Attr("each", false, None),
];
const WHILE: &[Attr] = &[Attr("if", false, None), Attr("do", false, Some(commands))];
const LOG: &[Attr] = &[Attr("message", false, None)];

fn commands() -> Shape {
    Shape::Commands
}

fn outcome() -> Shape {
    Shape::Attrs(OUTCOME)
}

/// The shape of a command's object value; `None` for a command whose value
/// is a free map (`set:`, `return:`, ...) and `Err` for an unknown one.
fn command_shape(kind: &str) -> Result<Option<Shape>, ()> {
    Ok(match kind {
        "await" | "error" | "return" | "set" | "simulate.error" | "simulate.success" => None,
        "decision" => Some(Shape::Attrs(DECISION)),
        "outcome" => Some(Shape::Attrs(OUTCOME)),
        "repeat" => Some(Shape::Attrs(REPEAT)),
        "while" => Some(Shape::Attrs(WHILE)),
        "log" | "log.error" | "log.warn" => Some(Shape::Attrs(LOG)),
        "function" => Some(Shape::Attrs(FUNCTION)),
        "api.command" | "data.query" | "decrypt.pgp" | "email.parse" | "encrypt.pgp"
        | "file.read" | "file.write" | "http.request" | "kata.parse" | "metric.increment"
        | "queue.pop" | "queue.push" | "record.create" | "record.delete" | "record.get"
        | "record.search" | "record.update" | "record.upsert" | "storage.delete"
        | "storage.get" | "storage.set" | "var.expand" | "var.push" | "var.set" | "var.unset" => {
            Some(Shape::Attrs(GATED))
        }
        _ => return Err(()),
    })
}

const TEXT_INPUT: &[&str] = &["default", "required", "snippet", "type_options", "type"];
const ARRAY_INPUT: &[&str] = &["default", "required", "snippet"];
const RECORD_INPUT: &[&str] = &["default", "expand", "record_type", "required", "snippet"];

/// The attribute name Cerb compares: before any `/`, then before any `@`.
fn attr_name(key: &str) -> &str {
    let k = key.split_once('/').map_or(key, |(k, _)| k);
    k.split_once('@').map_or(k, |(k, _)| k)
}

fn key_error(path: &[String], key: &str, what: &str) -> String {
    let prefix: String = path.iter().map(|p| format!("{p}:")).collect();
    format!("Key `{prefix}{key}:` {what}")
}

fn check_object(
    nodes: &[katabox_kata::Node],
    shape: &Shape,
    path: &mut Vec<String>,
) -> Result<(), String> {
    use katabox_kata::NodeValue;
    // Unknown keys first, in document order.
    for n in nodes {
        let a = attr_name(&n.key);
        let known = match shape {
            Shape::Root => matches!(a, "inputs" | "start"),
            Shape::Inputs => matches!(a, "text" | "array" | "record" | "records"),
            Shape::Input(names) => names.contains(&a),
            Shape::Commands => command_shape(a).is_ok(),
            Shape::Attrs(attrs) => attrs.iter().any(|x| x.0 == a),
        };
        if !known {
            return Err(key_error(path, a, "is unknown"));
        }
    }
    // Then the attributes that may not repeat or be named.
    let single: Vec<&str> = match shape {
        Shape::Root => vec!["inputs", "start"],
        Shape::Input(names) => names.to_vec(),
        Shape::Attrs(attrs) => attrs.iter().filter(|x| !x.1).map(|x| x.0).collect(),
        Shape::Inputs | Shape::Commands => Vec::new(),
    };
    if matches!(shape, Shape::Root) && !nodes.iter().any(|n| attr_name(&n.key) == "start") {
        return Err(key_error(path, "start", "is required"));
    }
    if matches!(shape, Shape::Attrs(a) if std::ptr::eq(*a, FUNCTION))
        && !nodes.iter().any(|n| attr_name(&n.key) == "uri")
    {
        return Err(key_error(path, "uri", "is required"));
    }
    for name in single {
        let mut count = 0;
        for n in nodes.iter().filter(|n| attr_name(&n.key) == name) {
            count += 1;
            if n.key.contains('/') {
                return Err(key_error(path, name, "must not have a name"));
            }
        }
        if count > 1 {
            return Err(key_error(path, name, "can not be duplicated"));
        }
    }
    // Then each object child against its own shape.
    for n in nodes {
        let NodeValue::Map(children) = &n.value else {
            continue;
        };
        let a = attr_name(&n.key);
        let child = match shape {
            Shape::Root if a == "inputs" => Some(Shape::Inputs),
            Shape::Root => Some(Shape::Commands),
            Shape::Inputs => Some(Shape::Input(match a {
                "text" => TEXT_INPUT,
                "array" => ARRAY_INPUT,
                _ => RECORD_INPUT,
            })),
            Shape::Input(_) => None,
            Shape::Commands => command_shape(a).ok().flatten(),
            Shape::Attrs(attrs) => attrs
                .iter()
                .find(|x| x.0 == a)
                .and_then(|x| x.2)
                .map(|f| f()),
        };
        if let Some(child) = child {
            path.push(n.key.clone());
            check_object(children, &child, path)?;
            path.pop();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_automation_script;

    #[test]
    fn automation_scripts_follow_cerbs_command_schema() {
        let ok = "inputs:\n  text/a:\n    type: freeform\nstart:\n  decision/d:\n    outcome/o:\n      if@bool: yes\n      then:\n        http.request/r:\n          inputs:\n            url: https://x/\n          output: r\n          on_error:\n            return:\n              e: 1\n  set:\n    anything@int: 1\n";
        assert_eq!(check_automation_script(ok), Ok(()));
        let err = |s: &str| match check_automation_script(s) {
            Err(e) => e,
            Ok(()) => format!("accepted: {s}"),
        };
        assert_eq!(
            err("start:\n  nosuch.command:\n"),
            "Key `start:nosuch.command:` is unknown"
        );
        assert_eq!(
            err("start:\n  repeat:\n    each@csv: a\n    do/x:\n      log: hi\n"),
            "Key `start:repeat:do:` must not have a name"
        );
        assert_eq!(
            err("start:\n  function/f:\n    inputs:\n      a: 1\n"),
            "Key `start:function/f:uri:` is required"
        );
        assert_eq!(err("inputs:\n  text/a:\n"), "Key `start:` is required");
        assert_eq!(
            err("inputs:\n  text/a:\n    kind: x\nstart:\n"),
            "Key `inputs:text/a:kind:` is unknown"
        );
    }
}
