//! Cerb's scripting language: Twig 3 as Cerb's sandbox configures it, over
//! PHP 8 value semantics (the shared value model).
//!
//! CONTRACT (stable API other crates code against):
//! - `Engine::new(Config) -> Engine` (Send + Sync; caches compiled templates);
//! - `Engine::compile(&self, source: &str) -> Result<Arc<Template>, TwigError>`;
//! - `Engine::render(&self, source: &str, dict: &Value) -> Result<PStr, TwigError>`;
//! - `Engine::render_template(&self, t: &Template, dict: &Value) -> Result<PStr, TwigError>`;
//! - `Engine::with_delimiters(Config, Delimiters)` for package import (`{{{ }}}`);
//! - `TwigError`'s `Display` is Cerb's exact message;
//! - `Engine` implements `katabox_kata::Scripting`;
//! - `Config { limits: Limits, timezone: String, now: Option<i64> }` with
//!   `Default` (UTC, Cerb-compatible limits).
//!
//! Modules: [`lexer`] (delimiters, whitespace control, strings), `parser`
//! (precedence climbing, tags, named arguments, sandbox checks), `eval`
//! (the interpreter), `registry` (names → callables, suggestions),
//! [`library`] (filters, functions, tests), [`engine`] (cache, public API).

pub mod callable;
pub mod engine;
pub mod error;
pub mod lexer;
pub mod library;
pub mod limits;
pub mod objects;

mod ast;
mod escape;
mod eval;
mod parser;
mod pcre_lite;
mod registry;

pub use engine::{Config, Engine, Template, template_name};

static PUBLIC_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the public base URL `cerb_url()` builds on (`serve --public-url`),
/// once per process; later calls are ignored.
pub fn set_public_url(url: &str) {
    let _ = PUBLIC_URL.set(url.trim_end_matches('/').to_owned());
}

/// The configured public base URL, without a trailing slash.
pub fn public_url() -> Option<&'static str> {
    PUBLIC_URL.get().map(String::as_str)
}
pub use error::TwigError;
pub use lexer::Delimiters;
pub use limits::Limits;
