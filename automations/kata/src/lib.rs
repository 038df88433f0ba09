//! KATA — Cerb's "Key Annotated Tree of Attributes": parser and evaluators.
//!
//! Three separate steps (see the spec's kata.md):
//! [`parse`] text into a [`Tree`] of string leaves whose keys keep their
//! annotations; [`evaluate`] a tree against an optional dictionary into a
//! typed [`Value`] (the general evaluator); and [`evaluate_params`], the
//! lazy automation-parameter evaluator used by the runtime. Scripting inside
//! values goes through the [`Scripting`] trait, which automations/twig
//! implements. [`emit`] turns a value back into KATA text and [`validate`]
//! checks a document against a schema.
//!
//! Hostile input is bounded: maps nest at most [`MAX_DEPTH`] levels and
//! reference expansion copies at most [`MAX_REF_EXPANSION`] size units
//! (or 8 per input byte for large documents), so a "ref bomb" fails with
//! [`KataError::ReferenceTooLarge`].

mod convert;
mod emit;
mod error;
mod eval;
mod params;
mod parser;
mod refs;
mod schema;
mod tree;

use katabox_value::{PStr, Value};

pub use convert::truthy;
pub use emit::emit;
pub use error::KataError;
pub use eval::{evaluate, key_path};
pub use params::{evaluate_param_value, evaluate_params};
pub use schema::validate;
pub use tree::{Node, NodeValue, Tree};

/// Deepest map nesting accepted (parse, references and evaluation).
pub const MAX_DEPTH: usize = 256;

/// Size units (text bytes plus 32 per key) that `@ref` expansion may copy
/// in any document; larger documents may copy up to 8 units per input byte.
pub const MAX_REF_EXPANSION: usize = 16 * 1024 * 1024;

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

/// Parses KATA text (§2–7): the tree of string leaves, references resolved
/// and `&`-definitions removed.
pub fn parse(text: &str) -> Result<Tree, KataError> {
    let nodes = parser::parse_nodes(text)?;
    let budget = MAX_REF_EXPANSION.max(text.len().saturating_mul(8));
    let nodes = refs::resolve_references(nodes, budget)?;
    Ok(Tree { nodes })
}

/// Parses and evaluates KATA text (§8).
pub fn eval_text(
    text: &str,
    dict: Option<&Value>,
    scripting: &dyn Scripting,
) -> Result<Value, KataError> {
    evaluate(&parse(text)?, dict, scripting)
}
