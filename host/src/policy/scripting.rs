//! The scripting engine the host uses for policy rules.

use katabox_kata::Scripting;
use katabox_value::{PStr, Value};
use std::sync::Arc;

/// Scripting for the host: katabox-twig's engine with its default
/// (Cerb-compatible) limits.
pub fn host_scripting() -> Arc<dyn Scripting + Send + Sync> {
    Arc::new(katabox_twig::Engine::new(katabox_twig::Config::default()))
}

/// Renders plain text as itself and refuses templates (for callers that
/// must not run scripting).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTemplates;

fn has_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

impl Scripting for NoTemplates {
    fn render(&self, template: &str, _dict: &Value) -> Result<PStr, String> {
        if has_template(template) {
            Err("scripting is not available".into())
        } else {
            Ok(PStr::from(template))
        }
    }
    fn check(&self, template: &str) -> Result<(), String> {
        if has_template(template) {
            Err("scripting is not available".into())
        } else {
            Ok(())
        }
    }
}
