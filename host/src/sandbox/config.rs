//! Operator ceilings for every run ([`SandboxConfig`]).

use crate::capabilities::secrets::Secrets;
use std::path::PathBuf;
use std::time::Duration;

/// Policy default for `settings: time_limit_ms` (policy.md §6).
pub const DEFAULT_TIME_LIMIT_MS: u64 = 25_000;
/// Policy maximum for `settings: time_limit_ms` (policy.md §6).
pub const MAX_TIME_LIMIT_MS: u64 = 120_000;

/// The sandbox's ceilings. Every field has a documented default
/// ([`SandboxConfig::default`]); a policy can only lower the time limit
/// below `max_time_limit_ms`.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Fuel (≈ wasm instructions, host calls included) a run may spend per
    /// second of its time limit: a run's budget is this times its time
    /// limit (see [`SandboxConfig::fuel_budget`]), so a longer time limit
    /// gets more fuel. Default 100,000,000,000 per second, several times
    /// what one core burns (about 13,000,000,000 per second measured on
    /// the 2-core test machine), so that the time limit, not the fuel, is
    /// what normally stops a runaway script (issue 20).
    pub fuel_per_second: u64,
    /// The public base URL given to the guest for `cerb_url()` (the
    /// `KATABOX_PUBLIC_URL` WASI variable). Default none.
    pub public_url: Option<String>,
    /// A ceiling on any run's fuel budget, whatever its time limit
    /// (`serve --fuel`, the flag from before the budget followed the time
    /// limit). Default none.
    pub max_fuel: Option<u64>,
    /// Linear memory one run may use, in bytes. Default 64 MiB.
    pub memory_limit: usize,
    /// Ceiling on a policy's time limit, in ms. Default 120,000 (Cerb's clamp).
    pub max_time_limit_ms: u64,
    /// Extra time the tokio timeout around a whole run allows beyond its
    /// time limit, for host calls that epochs cannot interrupt. Default 2 s.
    pub grace: Duration,
    /// Epoch ticker period. Default 1 ms (the precision of time limits).
    pub epoch_tick: Duration,
    /// Instances the pooling allocator keeps slots for (concurrent runs,
    /// nested `function:` calls included). Default 128. Runs get instance
    /// permits before they instantiate: this many less the warm instances
    /// (see `sandbox/admission.rs`), so the pool itself never runs out.
    pub max_instances: u32,
    /// Instances the runs of one webhook listener's requests (nested
    /// `function:` calls included) may hold at once. Default 66: two
    /// requests at the full `function:` depth (2 × 33), about half the
    /// pool, so one listener cannot take every instance.
    pub listener_instances: u32,
    /// How long a top-level run waits for an instance permit before it is
    /// refused (the webhook answers 503 with `Retry-After: 1`); nested
    /// calls never wait. Default 1 s.
    pub admission_wait: Duration,
    /// Linear memory all instances of one request (its run and the nested
    /// `function:` calls it makes) may hold together, in bytes. Default
    /// 256 MiB (four runs at the default `memory_limit`).
    pub request_memory_limit: usize,
    /// Warm instances of the embedded KATA runtime kept for reuse between
    /// runs (see `sandbox/warm.rs`); 0 gives every run a fresh instance.
    /// Default 4 (twice the cores of the machine it was tuned on: CPU-bound
    /// runs rarely overlap more; more runs in flight get fresh instances).
    pub warm_instances: usize,
    /// Execution time after which a run counts as long and has to share the
    /// long-run lane (`sandbox/lane.rs`). Default 10 ms; counted in epoch
    /// ticks of execution, so time spent waiting on host calls is not.
    pub long_run_after: Duration,
    /// Long runs that may execute at once (each about one core). Default 1,
    /// so spinning automations leave the other workers to short runs.
    pub long_run_lanes: usize,
    /// Nesting limit for `function:` calls. Default 32.
    pub max_call_depth: u32,
    /// Fuel charged for each host call on top of its own work. Default 10,000.
    pub host_call_fuel: u64,
    /// Fuel charged per byte crossing the boundary in a host call. Default 1.
    pub host_byte_fuel: u64,
    /// Maximum log entries kept per run. Default 1,000.
    pub max_log_entries: usize,
    /// Bytes of log messages kept per run. Default 256 KiB.
    pub max_log_bytes: usize,
    /// Directory for the compiled-component cache; `None` disables it.
    /// Default: `$TMPDIR/katabox-wasm-cache`.
    pub cache_dir: Option<PathBuf>,
    /// The operator's named secrets for the `secrets` capability (HMAC);
    /// guests never see the values. Default: none (the server fills them
    /// with [`Secrets::load`](katabox_verify::Secrets::load)).
    pub secrets: Secrets,
}

impl SandboxConfig {
    /// The fuel budget of a run with this time limit: `fuel_per_second`
    /// per second of it (at least one millisecond's worth).
    pub fn fuel_budget(&self, time_limit_ms: u64) -> u64 {
        let per_ms = self.fuel_per_second / 1000;
        let budget = per_ms.max(1).saturating_mul(time_limit_ms.max(1));
        self.max_fuel.map_or(budget, |cap| budget.min(cap.max(1)))
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            fuel_per_second: 100_000_000_000,
            public_url: None,
            max_fuel: None,
            memory_limit: 64 << 20,
            max_time_limit_ms: MAX_TIME_LIMIT_MS,
            grace: Duration::from_secs(2),
            epoch_tick: Duration::from_millis(1),
            max_instances: 128,
            listener_instances: 66,
            admission_wait: Duration::from_secs(1),
            request_memory_limit: 256 << 20,
            warm_instances: 4,
            long_run_after: Duration::from_millis(10),
            long_run_lanes: 1,
            max_call_depth: 32,
            host_call_fuel: 10_000,
            host_byte_fuel: 1,
            max_log_entries: 1_000,
            max_log_bytes: 256 << 10,
            cache_dir: Some(std::env::temp_dir().join("katabox-wasm-cache")),
            secrets: Secrets::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuel_budget_follows_the_time_limit() {
        let cfg = SandboxConfig::default();
        assert_eq!(cfg.fuel_budget(1_000), cfg.fuel_per_second);
        assert_eq!(cfg.fuel_budget(60_000), 60 * cfg.fuel_per_second);
        assert_eq!(
            cfg.fuel_budget(MAX_TIME_LIMIT_MS),
            120 * cfg.fuel_per_second
        );
        // A 0 ms limit still gets a millisecond's worth; nothing overflows.
        assert_eq!(cfg.fuel_budget(0), cfg.fuel_per_second / 1000);
        let capped = SandboxConfig {
            max_fuel: Some(5_000),
            ..SandboxConfig::default()
        };
        assert_eq!(capped.fuel_budget(60_000), 5_000);
        let huge = SandboxConfig {
            fuel_per_second: u64::MAX,
            ..SandboxConfig::default()
        };
        assert_eq!(huge.fuel_budget(MAX_TIME_LIMIT_MS), u64::MAX);
    }
}
