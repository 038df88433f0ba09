//! Errors of the KATA layer. `Display` gives Cerb's exact message.

use thiserror::Error;

/// A KATA parse or evaluation error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KataError {
    /// Leading whitespace other than spaces.
    #[error("Indents may not use tabs (line {line})")]
    Tabs {
        /// 1-based line (the key's line inside a text block).
        line: usize,
    },
    /// A line that is neither a key line nor a comment.
    #[error("Unexpected syntax (line {line}): {text}")]
    UnexpectedSyntax {
        /// 1-based line.
        line: usize,
        /// The line without its leading spaces.
        text: String,
    },
    /// A `type/name` key whose name has characters other than `[A-Za-z0-9_]`.
    #[error(
        "`{kind}:` name `{name}` must only contain letters, numbers, and underscores (line {line})"
    )]
    BadName {
        /// The part before the first `/`.
        kind: String,
        /// The part after the first `/`.
        name: String,
        /// 1-based line.
        line: usize,
    },
    /// Two siblings with the same name once annotations are removed.
    #[error("`{key}:` has a sibling with the same name (line {line})")]
    DuplicateSibling {
        /// The second key as stored.
        key: String,
        /// 1-based line.
        line: usize,
    },
    /// A reference that (directly or indirectly) refers to itself.
    #[error("Circular reference (line {line})")]
    CircularReference {
        /// 1-based line of the `@ref` key.
        line: usize,
    },
    /// Reference expansion would exceed the size limit (a "ref bomb").
    #[error("Reference expansion is too large (line {line})")]
    ReferenceTooLarge {
        /// 1-based line of the `@ref` key.
        line: usize,
    },
    /// Maps nested deeper than [`crate::MAX_DEPTH`].
    #[error("Nesting is too deep (line {line})")]
    TooDeep {
        /// 1-based line of the key that went too deep.
        line: usize,
    },
    /// An evaluation error: `[PATH] MESSAGE`.
    #[error("[{path}] {message}")]
    Eval {
        /// Key names (annotations removed) joined by `:`.
        path: String,
        /// The underlying message (`Unknown annotation: @x`, a scripting error, ...).
        message: String,
    },
}
