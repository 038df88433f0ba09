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

impl LogEntry {
    /// The entry as the run history keeps it: `{level, node_id, message}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "level": format!("{:?}", self.level).to_ascii_lowercase(),
            "node_id": self.node_id,
            "message": self.message,
        })
    }
}

/// Longest message kept, in bytes.
pub const MAX_MESSAGE: usize = 16 << 10;

/// How much of a run's log is kept.
#[derive(Debug, Clone, Copy)]
pub struct LogLimits {
    /// Entries at most.
    pub entries: usize,
    /// Bytes of messages at most.
    pub bytes: usize,
}

/// The start of the entry that says the log limit was reached.
pub const LIMIT_REACHED: &str = "Log limit reached";

/// Appends an entry, truncating long messages; once the run's entries or
/// bytes would pass `limits`, adds one warning saying so and drops the rest.
pub fn push(
    logs: &mut Vec<LogEntry>,
    limits: LogLimits,
    level: LogLevel,
    node_id: &str,
    message: &str,
) {
    let limited = logs
        .last()
        .is_some_and(|e| e.node_id.is_empty() && e.message.starts_with(LIMIT_REACHED));
    if limited {
        return;
    }
    let mut end = message.len().min(MAX_MESSAGE);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let used: usize = logs.iter().map(|e| e.message.len()).sum();
    if logs.len() >= limits.entries || used + end > limits.bytes {
        logs.push(LogEntry {
            level: LogLevel::Warn,
            node_id: String::new(),
            message: format!(
                "{LIMIT_REACHED} ({} entries or {} bytes): later entries were dropped",
                limits.entries, limits.bytes
            ),
        });
        return;
    }
    logs.push(LogEntry {
        level,
        node_id: node_id.to_string(),
        message: message[..end].to_string(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_keeps_its_log_within_entries_and_bytes() {
        let limits = LogLimits {
            entries: 1000,
            bytes: 64 << 10,
        };
        let mut logs = Vec::new();
        let big = "x".repeat(40 << 10);
        for _ in 0..1000 {
            push(&mut logs, limits, LogLevel::Info, "start:log", &big);
        }
        let bytes: usize = logs.iter().map(|e| e.message.len()).sum();
        assert_eq!(logs.len(), 5, "16 KiB kept per message, 64 KiB in all");
        assert!(bytes <= (64 << 10) + 200, "{bytes}");
        assert_eq!(logs[0].message.len(), MAX_MESSAGE);
        assert!(logs[4].message.starts_with(LIMIT_REACHED));
        let mut logs = Vec::new();
        for i in 0..5000 {
            push(&mut logs, limits, LogLevel::Debug, "n", &format!("{i}"));
        }
        assert_eq!(logs.len(), 1001);
        assert!(logs[1000].message.starts_with(LIMIT_REACHED));
    }
}
