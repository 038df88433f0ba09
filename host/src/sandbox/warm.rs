//! Warm instances of the embedded KATA runtime, reused across runs.
//!
//! Instantiating the runtime is cheap with the tuned pool, but a fresh
//! instance starts cold: Twig's name registry, compiled templates and
//! regexes are rebuilt on every run. The embedded runtime is our own
//! interpreter: scripts never run as wasm code, and what it keeps between
//! runs is derived from script and template text only (compiled templates,
//! regexes, the registry), never from a run's dictionary, so a parked
//! instance carries nothing from one run into the next that a script could
//! read. Guest components from packages (Rust guests) run their own code
//! and always get a fresh instance.
//!
//! An instance is parked again only after a run that returned normally:
//! any trap, time-out, fuel or memory exhaustion discards it. It is also
//! retired after [`MAX_RUNS`] runs, or once its memory grew past a quarter
//! of the memory cap, so slow growth in a long-lived instance is bounded.

use super::bindings::Automation;
use super::state::RunState;
use std::sync::Mutex;
use wasmtime::Store;

/// Runs one instance serves before it is retired.
pub const MAX_RUNS: u32 = 10_000;

/// A parked instance: its store (with its memory) and its exports.
pub struct Warm {
    /// The store, with no run in progress.
    pub store: Store<RunState>,
    /// The instance's exports.
    pub instance: Automation,
    /// Runs it has served.
    pub runs: u32,
}

/// Parked instances, at most `capacity`.
pub struct WarmPool {
    parked: Mutex<Vec<Warm>>,
    capacity: usize,
    memory_ceiling: usize,
}

impl WarmPool {
    /// A pool keeping up to `capacity` instances whose memory stays within
    /// a quarter of `memory_cap`.
    pub fn new(capacity: usize, memory_cap: usize) -> WarmPool {
        WarmPool {
            parked: Mutex::new(Vec::with_capacity(capacity)),
            capacity,
            memory_ceiling: memory_cap / 4,
        }
    }

    /// A parked instance, if any.
    pub fn take(&self) -> Option<Warm> {
        self.parked.lock().ok()?.pop()
    }

    /// Parks `warm` after a run that returned normally, unless it is due
    /// for retirement or the pool is full (then it is dropped).
    pub fn park(&self, mut warm: Warm) {
        warm.runs = warm.runs.saturating_add(1);
        let data = warm.store.data_mut();
        if warm.runs >= MAX_RUNS || data.limiter.hit || data.limiter.largest > self.memory_ceiling {
            return;
        }
        data.sandbox = None;
        data.logs = Vec::new();
        data.automation = String::new();
        if let Ok(mut parked) = self.parked.lock()
            && parked.len() < self.capacity
        {
            parked.push(warm);
        }
    }

    /// Instances parked now.
    pub fn parked(&self) -> usize {
        self.parked.lock().map(|p| p.len()).unwrap_or(0)
    }
}
