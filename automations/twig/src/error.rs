//! Errors in Cerb's exact message formats (scripting.md §11.2).

use crate::callable::CallError;
use std::fmt;

/// A template failure. `Display` gives the message Cerb returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwigError {
    /// A lexer/parser error: `<message> (line N)`.
    Syntax {
        /// Twig's raw message.
        message: String,
        /// The line (may be -1 for compiler crashes).
        line: i64,
    },
    /// A Twig run-time or sandbox error:
    /// `<message without final .> in "<template>" at line N.`
    Runtime {
        /// Twig's raw message (ending in `.` or `?` usually).
        message: String,
        /// The template name (`__string_template__<hash>`).
        template: String,
        /// The line.
        line: usize,
    },
    /// A non-Twig exception thrown while rendering.
    Exception {
        /// The inner message.
        message: String,
        /// The template name.
        template: String,
        /// The line.
        line: usize,
    },
    /// A bare PHP engine error (`Division by zero`).
    Php(String),
    /// PHP's `Argument count error`.
    ArgumentCount,
    /// A katabox limit was passed.
    Limit(String),
}

impl TwigError {
    /// A syntax error at `line`.
    pub fn syntax(message: impl Into<String>, line: usize) -> TwigError {
        TwigError::Syntax {
            message: message.into(),
            line: i64::try_from(line).unwrap_or(i64::MAX),
        }
    }

    /// Converts a callable's failure, adding location where Cerb does.
    pub fn from_call(e: CallError, template: &str, line: usize) -> TwigError {
        match e {
            CallError::Php(m) => TwigError::Php(m),
            CallError::Twig(m) => TwigError::Runtime {
                message: m,
                template: template.to_string(),
                line,
            },
            CallError::Exception(m) => TwigError::Exception {
                message: m,
                template: template.to_string(),
                line,
            },
            CallError::ArgumentCount => TwigError::ArgumentCount,
            CallError::Limit(m) => TwigError::Limit(m),
        }
    }
}

/// Twig's location suffix: the final `.`/`?` moves after the location.
fn located(f: &mut fmt::Formatter<'_>, message: &str, template: &str, line: usize) -> fmt::Result {
    let (body, tail) = match message.chars().last() {
        Some(c @ ('.' | '?')) => (&message[..message.len() - 1], c.to_string()),
        _ => (message, String::new()),
    };
    write!(f, "{body} in \"{template}\" at line {line}{tail}")
}

impl fmt::Display for TwigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TwigError::Syntax { message, line } => write!(f, "{message} (line {line})"),
            TwigError::Runtime {
                message,
                template,
                line,
            } => located(f, message, template, *line),
            TwigError::Exception {
                message,
                template,
                line,
            } => {
                let inner = format!(
                    "An exception has been thrown during the rendering of a template (\"{message}\")."
                );
                located(f, &inner, template, *line)
            }
            TwigError::Php(m) | TwigError::Limit(m) => f.write_str(m),
            TwigError::ArgumentCount => f.write_str("Argument count error"),
        }
    }
}

impl std::error::Error for TwigError {}
