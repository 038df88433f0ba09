//! The gated commands a guest can ask the host for, and log levels.

/// A gated command, named as in KATA (`http.request`, `storage.get`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gated {
    /// `http.request:` → `http::request`.
    HttpRequest,
    /// `storage.get:` → `storage::get`.
    StorageGet,
    /// `storage.set:` → `storage::set`.
    StorageSet,
    /// `storage.delete:` → `storage::delete`.
    StorageDelete,
    /// `queue.push:` → `queue::push`.
    QueuePush,
    /// `queue.pop:` → `queue::pop`.
    QueuePop,
    /// `function:` → `automations::call`.
    Function,
    /// `metric.increment:` → `metrics::increment`.
    MetricIncrement,
    /// `file.read:` → `files::read`.
    FileRead,
    /// `file.write:` → `files::write`.
    FileWrite,
}

impl Gated {
    /// Every gated command the world offers.
    pub const ALL: [Gated; 10] = [
        Gated::HttpRequest,
        Gated::StorageGet,
        Gated::StorageSet,
        Gated::StorageDelete,
        Gated::QueuePush,
        Gated::QueuePop,
        Gated::Function,
        Gated::MetricIncrement,
        Gated::FileRead,
        Gated::FileWrite,
    ];

    /// The command's KATA name.
    pub fn name(self) -> &'static str {
        match self {
            Gated::HttpRequest => "http.request",
            Gated::StorageGet => "storage.get",
            Gated::StorageSet => "storage.set",
            Gated::StorageDelete => "storage.delete",
            Gated::QueuePush => "queue.push",
            Gated::QueuePop => "queue.pop",
            Gated::Function => "function",
            Gated::MetricIncrement => "metric.increment",
            Gated::FileRead => "file.read",
            Gated::FileWrite => "file.write",
        }
    }

    /// Looks a command up by its KATA name.
    pub fn from_name(name: &str) -> Option<Gated> {
        Gated::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// Automation log levels (Cerb's numbers: debug 7, info 6, warn 4, error 3, alert 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// `log:` (7).
    Debug,
    /// Informational (6).
    Info,
    /// `log.warn:` (4).
    Warn,
    /// `log.error:` and scripting errors (3).
    Error,
    /// `log.alert:` (1).
    Alert,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for g in Gated::ALL {
            assert_eq!(Gated::from_name(g.name()), Some(g));
        }
        assert_eq!(Gated::from_name("record.get"), None);
    }
}
