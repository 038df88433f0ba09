//! The `function:` runs inside a request, kept for the run history: each
//! nested run is numbered when it starts (the top-level run is 0), names
//! the run that called it, and is collected when it ends; the top-level
//! run's result carries them all ([`super::RunResult::children`]) and the
//! history stores each as a run linked to its parent.

use super::LogEntry;
use katabox_value::Value;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Most nested runs one request keeps for the history (later ones still
/// run, unrecorded).
pub const MAX_CHILDREN: usize = 256;

/// One finished `function:` run of a request.
#[derive(Debug, Clone)]
pub struct ChildRun {
    /// Its number in the request (1, 2, ... in the order the calls began).
    pub seq: usize,
    /// The number of the run that called it (0: the top-level run).
    pub parent_seq: usize,
    /// Unix time in ms when it started.
    pub at_ms: i64,
    /// The callee.
    pub automation: String,
    /// `return`, `exit`, `await` or `error`.
    pub exit: String,
    /// The error message, when it ended in `error`.
    pub error: Option<String>,
    /// Its log.
    pub logs: Vec<LogEntry>,
    /// Wall-clock time.
    pub duration: Duration,
    /// Fuel spent.
    pub fuel_used: u64,
    /// Linear memory at the end, in bytes.
    pub memory_peak: u64,
    /// The `inputs` it was called with.
    pub inputs: Value,
    /// Its `__return`.
    pub returned: Option<Value>,
}

/// The nested runs of one request.
#[derive(Debug, Default)]
pub struct Children {
    next: AtomicUsize,
    done: Mutex<Vec<ChildRun>>,
}

impl Children {
    /// Numbers a nested run that is starting.
    pub fn begin(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Keeps a finished nested run (up to [`MAX_CHILDREN`]).
    pub fn finish(&self, child: ChildRun) {
        if let Ok(mut done) = self.done.lock()
            && done.len() < MAX_CHILDREN
        {
            done.push(child);
        }
    }

    /// The finished runs in the order their calls began (a caller before
    /// its callees).
    pub fn take(&self) -> Vec<ChildRun> {
        let mut all = self
            .done
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default();
        all.sort_by_key(|c| c.seq);
        all
    }
}
