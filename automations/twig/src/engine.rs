//! The public engine: configuration, compiled templates and their cache.

use crate::ast::Node;
use crate::error::TwigError;
use crate::eval::Renderer;
use crate::lexer::{self, Delimiters};
use crate::limits::Limits;
use crate::parser;
use foldhash::{HashMap, HashMapExt};
use katabox_value::{PStr, Value};
use std::sync::{Arc, Mutex};

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Limits a template cannot pass.
    pub limits: Limits,
    /// Default time zone (IANA name), `UTC` by default.
    pub timezone: String,
    /// A fixed "now" (Unix seconds); `None` reads the real clock.
    pub now: Option<i64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            timezone: "UTC".into(),
            now: None,
        }
    }
}

/// A compiled template, reusable across renders and threads.
#[derive(Debug)]
pub struct Template {
    nodes: Vec<Node>,
    name: String,
}

impl Template {
    /// Cerb's template name: `__string_template__` + XXH3-128 of the source.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Cerb's name for a template source.
pub fn template_name(source: &str) -> String {
    format!(
        "__string_template__{:032x}",
        xxhash_rust::xxh3::xxh3_128(source.as_bytes())
    )
}

/// How many compiled templates the cache keeps.
const CACHE_CAPACITY: usize = 2048;

/// The scripting engine: compiles (with a bounded cache) and renders.
#[derive(Debug)]
pub struct Engine {
    config: Config,
    delimiters: Delimiters,
    cache: Mutex<HashMap<Arc<str>, Arc<Template>>>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(Config::default())
    }
}

impl Engine {
    /// An engine with the standard delimiters.
    pub fn new(config: Config) -> Engine {
        Engine::with_delimiters(config, Delimiters::default())
    }

    /// An engine with other delimiters (e.g. [`Delimiters::package_import`]).
    pub fn with_delimiters(config: Config, d: Delimiters) -> Engine {
        Engine {
            config,
            delimiters: d,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Compiles a template (lexing, parsing, sandbox checks), cached by source.
    pub fn compile(&self, source: &str) -> Result<Arc<Template>, TwigError> {
        if let Ok(c) = self.cache.lock()
            && let Some(t) = c.get(source)
        {
            return Ok(t.clone());
        }
        let t = Arc::new(self.compile_uncached(source)?);
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHE_CAPACITY {
                c.clear();
            }
            c.insert(Arc::from(source), t.clone());
        }
        Ok(t)
    }

    fn compile_uncached(&self, source: &str) -> Result<Template, TwigError> {
        let name = template_name(source);
        let code = lexer::normalize_newlines(source);
        let tokens = lexer::tokenize(&code, &self.delimiters)?;
        let nodes = parser::parse(tokens, &name, self.config.limits.max_depth)?;
        Ok(Template { nodes, name })
    }

    /// Compiles (cached) and renders `source` against `dict`.
    pub fn render(&self, source: &str, dict: &Value) -> Result<PStr, TwigError> {
        // Text that cannot hold a tag renders as itself (newlines normalised),
        // without filling the cache.
        if !self.may_hold_tags(source) {
            return Ok(PStr::from(lexer::normalize_newlines(source)));
        }
        let t = self.compile(source)?;
        self.render_template(&t, dict)
    }

    /// Renders a compiled template against `dict`.
    pub fn render_template(&self, t: &Template, dict: &Value) -> Result<PStr, TwigError> {
        let now = self.config.now.unwrap_or_else(unix_now);
        let mut r = Renderer::new(&self.config, dict, &t.name, now);
        match r.render_nodes(&t.nodes) {
            Ok(()) => Ok(PStr::from(r.out)),
            Err(e) => Err(TwigError::from_call(e, &t.name, r.line)),
        }
    }

    /// Compiles (cached) and renders `source` like [`Engine::render`], but
    /// counts its evaluation steps on top of `*spent` and leaves the new
    /// total there: several renders share one `max_steps` budget (the host
    /// bounds a whole event-KATA document this way).
    pub fn render_counted(
        &self,
        source: &str,
        dict: &Value,
        spent: &mut u64,
    ) -> Result<PStr, TwigError> {
        if !self.may_hold_tags(source) {
            return Ok(PStr::from(lexer::normalize_newlines(source)));
        }
        let t = self.compile(source)?;
        let now = self.config.now.unwrap_or_else(unix_now);
        let mut r = Renderer::new(&self.config, dict, &t.name, now);
        r.steps = *spent;
        let result = r.render_nodes(&t.nodes);
        *spent = r.steps;
        match result {
            Ok(()) => Ok(PStr::from(r.out)),
            Err(e) => Err(TwigError::from_call(e, &t.name, r.line)),
        }
    }

    /// False when no opening delimiter occurs in `source`.
    fn may_hold_tags(&self, source: &str) -> bool {
        let d = &self.delimiters;
        let starts = [&d.var_start, &d.block_start, &d.comment_start];
        // The standard delimiters (`{{`, `{%`, `{#`): one pass over the bytes.
        if let [a, b, c] = starts.map(|s| s.as_bytes())
            && [a, b, c].iter().all(|s| s.len() == 2 && s[0] == b'{')
        {
            return source
                .as_bytes()
                .windows(2)
                .any(|w| w[0] == b'{' && (w[1] == a[1] || w[1] == b[1] || w[1] == c[1]));
        }
        starts
            .iter()
            .any(|s| s.is_empty() || source.contains(s.as_str()))
    }

    /// Syntax and sandbox check only.
    pub fn check(&self, source: &str) -> Result<(), TwigError> {
        self.compile(source).map(|_| ())
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl katabox_kata::Scripting for Engine {
    fn render(&self, template: &str, dict: &Value) -> Result<PStr, String> {
        Engine::render(self, template, dict).map_err(|e| e.to_string())
    }

    fn check(&self, template: &str) -> Result<(), String> {
        Engine::check(self, template).map_err(|e| e.to_string())
    }
}
