//! The automation log (not gated): entries kept with the run's result.

use serde::Serialize;

/// A log level (the WIT `log.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warning.
    Warn,
    /// Error.
    Error,
    /// Alert.
    Alert,
}

/// One log line written by a run.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Level.
    pub level: LogLevel,
    /// The node that wrote it (`start:log`), empty for the host's own entries.
    pub node_id: String,
    /// The message.
    pub message: String,
}

/// Longest message kept, in bytes.
pub const MAX_MESSAGE: usize = 16 << 10;

/// Appends an entry, truncating long messages and dropping entries past `max`.
pub fn push(logs: &mut Vec<LogEntry>, max: usize, level: LogLevel, node_id: &str, message: &str) {
    if logs.len() >= max {
        return;
    }
    let mut end = message.len().min(MAX_MESSAGE);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    logs.push(LogEntry {
        level,
        node_id: node_id.to_string(),
        message: message[..end].to_string(),
    });
}
