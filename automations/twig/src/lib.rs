//! Cerb's scripting language: Twig 3 as Cerb's sandbox configures it, over
//! PHP 8 value semantics (the shared value model).
//!
//! CONTRACT (stable API other crates code against; the implementation is in
//! progress):
//! - `Engine::new(Config) -> Engine` (Send + Sync; caches compiled templates);
//! - `Engine::compile(&self, source: &str) -> Result<Arc<Template>, TwigError>`;
//! - `Engine::render(&self, source: &str, dict: &Value) -> Result<PStr, TwigError>`;
//! - `Engine::render_template(&self, t: &Template, dict: &Value) -> Result<PStr, TwigError>`;
//! - `TwigError`'s `Display` is Cerb's exact message;
//! - `Engine` implements `katabox_kata::Scripting`;
//! - `Config { limits: Limits, timezone: String, now: Option<i64> }` with
//!   `Default` (UTC, Cerb-compatible limits).

pub mod callable;
pub mod library;
pub mod limits;
