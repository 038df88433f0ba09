//! The SDK's error: a message (Cerb's text for command errors).

/// A failed command or run. For command errors the message is the host's
/// (Cerb's) text, e.g. `The command 'http.request' is not allowed by policy.`
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with `message` (a run that returns it ends in `error`).
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<crate::ValueError> for Error {
    fn from(e: crate::ValueError) -> Error {
        Error::new(e.to_string())
    }
}
