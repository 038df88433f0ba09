//! The host's language services: KATA evaluation and template rendering
//! with one process-wide scripting engine (its compiled-template cache is
//! shared by the CLI, policies and event KATA).

use katabox_twig::{Config, Engine};
use katabox_value::{PStr, Value};
use std::sync::OnceLock;

/// The shared scripting engine (Cerb's defaults: UTC, Cerb-compatible limits).
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Config::default()))
}

/// Parses and evaluates KATA against a dictionary; the error is Cerb's message.
pub fn eval_kata(text: &str, dict: &Value) -> Result<Value, String> {
    katabox_kata::eval_text(text, Some(dict), engine()).map_err(|e| e.to_string())
}

/// Renders a template against a dictionary; the error is Cerb's message.
pub fn render_template(text: &str, dict: &Value) -> Result<PStr, String> {
    engine().render(text, dict).map_err(|e| e.to_string())
}
