//! KATA — Cerb's "Key Annotated Tree of Attributes": parser and evaluators.
//!
//! Three separate steps (see docs/kata.md and the spec's kata.md):
//! [`parse`] text into a [`Tree`] of string leaves whose keys keep their
//! annotations; [`evaluate`] a tree against an optional dictionary into a
//! typed [`Value`] (the general evaluator); and `evaluate_params`, the lazy
//! automation-parameter evaluator used by the runtime. Scripting inside
//! values goes through the [`Scripting`] trait, which automations/twig
//! implements.
//!
//! CONTRACT (stable API other crates code against; the implementation is in
//! progress): `Scripting`, `NoScripting`, `Tree`, `Node`, `NodeValue`,
//! `KataError`, `parse`, `evaluate`, `evaluate_params`, `emit`, `validate`,
//! `truthy`.

use katabox_value::{PStr, Value};

/// Scripting (`{{ }}` / `{% %}`) inside KATA values.
pub trait Scripting {
    /// Renders `template` against `dict`; the error is Cerb's message.
    fn render(&self, template: &str, dict: &Value) -> Result<PStr, String>;
    /// Checks the syntax of `template` without rendering it.
    fn check(&self, template: &str) -> Result<(), String>;
}

/// A [`Scripting`] that renders every value as its literal text (for
/// callers that have no scripting engine).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoScripting;

impl Scripting for NoScripting {
    fn render(&self, template: &str, _dict: &Value) -> Result<PStr, String> {
        Ok(PStr::from(template))
    }
    fn check(&self, _template: &str) -> Result<(), String> {
        Ok(())
    }
}
