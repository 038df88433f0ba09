//! The automation log (`log:`, `log.warn:`, ...): not gated by policy.

use crate::command::LogLevel;

/// Writes `message` at `level` (node `start:log/rust:`).
///
/// ```no_run
/// use katabox_guest::{capabilities::log, command::LogLevel};
/// log::write(LogLevel::Info, "received a push event");
/// log::info("the same, shorter");
/// ```
pub fn write(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::host::Imports.log(level, "start:log/rust:", message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// `log:` (debug).
pub fn debug(message: &str) {
    write(LogLevel::Debug, message);
}

/// An informational line.
pub fn info(message: &str) {
    write(LogLevel::Info, message);
}

/// `log.warn:`.
pub fn warn(message: &str) {
    write(LogLevel::Warn, message);
}

/// `log.error:`.
pub fn error(message: &str) {
    write(LogLevel::Error, message);
}

/// `log.alert:`.
pub fn alert(message: &str) {
    write(LogLevel::Alert, message);
}
