//! Prometheus metrics: every series name katabox exports and the small
//! functions the rest of the host calls to record them
//! (docs/operator-guide.md, "Metrics", lists each series and its meaning).
//!
//! Recording goes through the `metrics` facade into one process-wide
//! [`metrics_exporter_prometheus`] recorder, installed by [`install`] (the
//! server does it at start; without it every helper is a no-op). A helper
//! costs a lookup in the recorder's sharded registry: no lock of ours, no
//! allocation beyond the label values.
//!
//! Labels have bounded cardinality: an HTTP status code, an automation name
//! from the store (never from the request), a trigger, an exit, a sandbox
//! limit, a gated command name from the host's own list, a verify preset, an
//! outbound result. No guid, path, header or body value is ever a label.

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Webhook requests answered, by HTTP status (`status`).
pub const WEBHOOK_REQUESTS: &str = "katabox_webhook_requests_total";
/// Time from a webhook request's arrival to its answer (histogram, seconds).
pub const WEBHOOK_DURATION: &str = "katabox_webhook_request_duration_seconds";
/// Automation runs, by `automation`, `exit` and `trigger`.
pub const RUNS: &str = "katabox_runs_total";
/// Run wall-clock time by `trigger` (histogram, seconds).
pub const RUN_DURATION: &str = "katabox_run_duration_seconds";
/// Fuel each run spent (histogram).
pub const RUN_FUEL: &str = "katabox_run_fuel";
/// Runs the sandbox stopped, by `limit` (fuel, memory, time, steps, trap).
pub const SANDBOX_STOPS: &str = "katabox_sandbox_stops_total";
/// Runs refused an instance permit, by `run` (`request` for a top-level
/// run, `function` for a nested call).
pub const ADMISSION_REFUSALS: &str = "katabox_admission_refusals_total";
/// Gated commands a policy denied, by `command`.
pub const POLICY_DENIALS: &str = "katabox_policy_denials_total";
/// Outbound `http.request` calls, by `result` (ok, refused_address, timeout, error).
pub const HTTP_OUTBOUND: &str = "katabox_http_outbound_total";
/// Verified-webhook requests refused (bad or missing signature), by `preset`.
pub const SIGNATURE_FAILURES: &str = "katabox_signature_failures_total";
/// Deliveries answered from the dedupe table (replayed or in progress).
pub const DEDUPE_HITS: &str = "katabox_dedupe_hits_total";
/// Runs queued for the history writer, not yet committed (gauge).
pub const HISTORY_QUEUE_DEPTH: &str = "katabox_history_queue_depth";
/// Statements sent to PostgreSQL (`--store postgres://…`; 0 on redb).
pub const STORE_ROUND_TRIPS: &str = "katabox_store_round_trips_total";
/// Warm runtime instances parked for reuse (gauge).
pub const WARM_INSTANCES: &str = "katabox_warm_instances";
/// How late the most recent timer run started after it was due (gauge, seconds).
pub const TIMER_LAG: &str = "katabox_timer_lag_seconds";
/// Timers waiting on an `await` continuation (gauge).
pub const CONTINUATIONS_WAITING: &str = "katabox_continuations_waiting";
/// Always 1, with the `version` label.
pub const BUILD_INFO: &str = "katabox_build_info";
/// Resident memory of the process (gauge, bytes; Linux).
pub const PROCESS_RSS: &str = "process_resident_memory_bytes";
/// Virtual memory of the process (gauge, bytes; Linux).
pub const PROCESS_VSZ: &str = "process_virtual_memory_bytes";
/// User and system CPU time of the process (gauge, seconds; Linux).
pub const PROCESS_CPU: &str = "process_cpu_seconds_total";
/// Open file descriptors (gauge; Linux).
pub const PROCESS_OPEN_FDS: &str = "process_open_fds";
/// The open file descriptor limit (gauge; Linux).
pub const PROCESS_MAX_FDS: &str = "process_max_fds";
/// Threads of the process (gauge; Linux).
pub const PROCESS_THREADS: &str = "process_threads";

/// Buckets of the duration histograms: 100 µs to 10 s.
pub const DURATION_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Buckets of the fuel histogram: 1,000 to 10^10 units.
pub const FUEL_BUCKETS: &[f64] = &[1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide Prometheus recorder (once; later calls return
/// the same handle). `None` when another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(WEBHOOK_DURATION.into()), DURATION_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(RUN_DURATION.into()), DURATION_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(RUN_FUEL.into()), FUEL_BUCKETS)
                })
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .as_ref()
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        WEBHOOK_REQUESTS,
        "Webhook requests answered, by HTTP status."
    );
    describe_histogram!(
        WEBHOOK_DURATION,
        metrics::Unit::Seconds,
        "Time from a webhook request's arrival to its answer."
    );
    describe_counter!(RUNS, "Automation runs, by automation, exit and trigger.");
    describe_histogram!(
        RUN_DURATION,
        metrics::Unit::Seconds,
        "Wall-clock time of automation runs, by trigger."
    );
    describe_histogram!(RUN_FUEL, "Fuel spent by each automation run.");
    describe_counter!(
        ADMISSION_REFUSALS,
        "Runs refused an instance permit (the host's or the listener's share of instances in use), by run (request, function)."
    );
    describe_counter!(
        SANDBOX_STOPS,
        "Runs the sandbox stopped, by limit (fuel, memory, time, steps, trap)."
    );
    describe_counter!(
        POLICY_DENIALS,
        "Gated commands denied by a policy, by command."
    );
    describe_counter!(
        HTTP_OUTBOUND,
        "Outbound http.request calls, by result (ok, refused_address, timeout, error)."
    );
    describe_counter!(
        SIGNATURE_FAILURES,
        "Verified-webhook requests refused by their signature check, by preset."
    );
    describe_counter!(DEDUPE_HITS, "Deliveries answered from the dedupe table.");
    describe_gauge!(
        HISTORY_QUEUE_DEPTH,
        "Runs queued for the history, not yet committed."
    );
    describe_gauge!(WARM_INSTANCES, "Warm runtime instances parked for reuse.");
    describe_counter!(
        STORE_ROUND_TRIPS,
        "Statements sent to PostgreSQL (0 on redb)."
    );
    describe_gauge!(
        TIMER_LAG,
        metrics::Unit::Seconds,
        "How late the most recent timer run started after it was due."
    );
    describe_gauge!(
        CONTINUATIONS_WAITING,
        "Timers waiting on an await continuation."
    );
    describe_gauge!(BUILD_INFO, "Always 1; the version label names the build.");
    describe_gauge!(PROCESS_RSS, metrics::Unit::Bytes, "Resident memory.");
    describe_gauge!(PROCESS_VSZ, metrics::Unit::Bytes, "Virtual memory.");
    describe_gauge!(
        PROCESS_CPU,
        metrics::Unit::Seconds,
        "User and system CPU time."
    );
    describe_gauge!(PROCESS_OPEN_FDS, "Open file descriptors.");
    describe_gauge!(PROCESS_MAX_FDS, "The open file descriptor limit.");
    describe_gauge!(PROCESS_THREADS, "Threads of the process.");
}

/// The values sampled when `/metrics` is scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sampled {
    pub history_queue_depth: usize,
    pub warm_instances: usize,
    pub continuations_waiting: usize,
}

/// The text exposition: sets the sampled gauges and the process metrics,
/// then renders everything recorded. Empty without a recorder.
pub fn render(sampled: Sampled) -> String {
    let Some(handle) = install() else {
        return String::new();
    };
    gauge!(HISTORY_QUEUE_DEPTH).set(sampled.history_queue_depth as f64);
    gauge!(WARM_INSTANCES).set(sampled.warm_instances as f64);
    gauge!(CONTINUATIONS_WAITING).set(sampled.continuations_waiting as f64);
    metrics::counter!(STORE_ROUND_TRIPS).absolute(crate::store::postgres::round_trips());
    process::record();
    handle.run_upkeep();
    handle.render()
}

/// The `status` label: the code as text (static for the usual ones).
fn status_label(status: u16) -> metrics::SharedString {
    let known = match status {
        200 => "200",
        201 => "201",
        202 => "202",
        204 => "204",
        301 => "301",
        302 => "302",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        413 => "413",
        422 => "422",
        429 => "429",
        500 => "500",
        501 => "501",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => return metrics::SharedString::from(status.to_string()),
    };
    metrics::SharedString::const_str(known)
}

/// A webhook request was answered with `status` after `took`.
pub fn webhook_request(status: u16, took: Duration) {
    counter!(WEBHOOK_REQUESTS, "status" => status_label(status)).increment(1);
    histogram!(WEBHOOK_DURATION).record(took.as_secs_f64());
}

/// The `exit` label: one of Cerb's exits (anything else is `other`).
fn exit_label(exit: &str) -> &'static str {
    match exit {
        "return" => "return",
        "await" => "await",
        "exit" => "exit",
        "error" => "error",
        _ => "other",
    }
}

/// The `trigger` label of a run (`webhook`, `replay`, `timer`).
fn trigger_label(trigger: &str) -> &'static str {
    match trigger {
        "webhook" => "webhook",
        "replay" => "replay",
        "timer" => "timer",
        _ => "other",
    }
}

/// An automation run ended. `automation` must be a stored automation's name.
pub fn run_finished(automation: &str, exit: &str, trigger: &str, took: Duration, fuel: u64) {
    let trigger = trigger_label(trigger);
    counter!(
        RUNS,
        "automation" => automation.to_string(),
        "exit" => exit_label(exit),
        "trigger" => trigger
    )
    .increment(1);
    histogram!(RUN_DURATION, "trigger" => trigger).record(took.as_secs_f64());
    histogram!(RUN_FUEL).record(fuel as f64);
}

/// Why the sandbox stopped a run (the `limit` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Fuel,
    Memory,
    Time,
    /// The KATA runtime's step budget.
    Steps,
    Trap,
}

impl Stop {
    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Stop::Fuel => "fuel",
            Stop::Memory => "memory",
            Stop::Time => "time",
            Stop::Steps => "steps",
            Stop::Trap => "trap",
        }
    }
}

/// The sandbox stopped a run.
pub fn sandbox_stop(stop: Stop) {
    counter!(SANDBOX_STOPS, "limit" => stop.label()).increment(1);
}

/// A run got no instance permit (`top_level`: a request's own run, else
/// a nested `function:` call).
pub fn admission_refused(top_level: bool) {
    let run = if top_level { "request" } else { "function" };
    counter!(ADMISSION_REFUSALS, "run" => run).increment(1);
}

/// A policy denied a gated command (`command` is one of the host's own names).
pub fn policy_denial(command: &'static str) {
    counter!(POLICY_DENIALS, "command" => command).increment(1);
}

/// How an outbound `http.request` ended (the `result` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbound {
    Ok,
    RefusedAddress,
    Timeout,
    Error,
}

/// An outbound call ended.
pub fn http_outbound(result: Outbound) {
    let label = match result {
        Outbound::Ok => "ok",
        Outbound::RefusedAddress => "refused_address",
        Outbound::Timeout => "timeout",
        Outbound::Error => "error",
    };
    counter!(HTTP_OUTBOUND, "result" => label).increment(1);
}

/// A verified webhook failed its signature check.
pub fn signature_failure(preset: &'static str) {
    counter!(SIGNATURE_FAILURES, "preset" => preset).increment(1);
}

/// A delivery was answered from the dedupe table.
pub fn dedupe_hit() {
    counter!(DEDUPE_HITS).increment(1);
}

/// A timer run started `lag_secs` after it was due.
pub fn timer_lag(lag_secs: i64) {
    gauge!(TIMER_LAG).set(lag_secs.max(0) as f64);
}

/// Process metrics from `/proc/self` (nothing on other systems).
mod process {
    use super::*;

    /// Linux's `USER_HZ`, the unit of `/proc/self/stat` CPU times: 100 on
    /// every architecture Linux supports today (the kernel's ABI).
    const USER_HZ: f64 = 100.0;
    /// Bytes per page for `statm` (4 KiB on the usual platforms).
    const PAGE: f64 = 4096.0;

    pub(super) fn record() {
        if let Ok(statm) = std::fs::read_to_string("/proc/self/statm") {
            let mut fields = statm.split_whitespace().map(|f| f.parse::<f64>().ok());
            if let Some(Some(vsz)) = fields.next() {
                gauge!(PROCESS_VSZ).set(vsz * PAGE);
            }
            if let Some(Some(rss)) = fields.next() {
                gauge!(PROCESS_RSS).set(rss * PAGE);
            }
        }
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
            && let Some((_, rest)) = stat.rsplit_once(')')
        {
            // Fields after the command name: state is field 3, utime 14,
            // stime 15, num_threads 20.
            let f: Vec<&str> = rest.split_whitespace().collect();
            let num = |i: usize| f.get(i - 3).and_then(|v| v.parse::<f64>().ok());
            if let (Some(u), Some(s)) = (num(14), num(15)) {
                gauge!(PROCESS_CPU).set((u + s) / USER_HZ);
            }
            if let Some(t) = num(20) {
                gauge!(PROCESS_THREADS).set(t);
            }
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            gauge!(PROCESS_OPEN_FDS).set(dir.count() as f64);
        }
        if let Ok(limits) = std::fs::read_to_string("/proc/self/limits")
            && let Some(line) = limits.lines().find(|l| l.starts_with("Max open files"))
            && let Some(Ok(soft)) = line
                .trim_start_matches("Max open files")
                .split_whitespace()
                .next()
                .map(str::parse::<f64>)
        {
            gauge!(PROCESS_MAX_FDS).set(soft);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(exit_label("return"), "return");
        assert_eq!(exit_label("whatever"), "other");
        assert_eq!(trigger_label("timer"), "timer");
        assert_eq!(trigger_label("x"), "other");
        assert_eq!(&*status_label(404), "404");
        assert_eq!(&*status_label(299), "299");
    }

    #[test]
    fn render_exports_the_series_and_process_metrics() {
        install();
        webhook_request(200, Duration::from_millis(2));
        run_finished(
            "unit.auto",
            "return",
            "webhook",
            Duration::from_millis(1),
            5000,
        );
        let text = render(Sampled::default());
        assert!(
            text.contains("katabox_webhook_requests_total{status=\"200\"}"),
            "{text}"
        );
        assert!(text.contains("katabox_webhook_request_duration_seconds_bucket{le=\"0.0001\"}"));
        assert!(
            text.contains("katabox_run_fuel_bucket{le=\"10000\"}"),
            "{text}"
        );
        assert!(text.contains("katabox_build_info{version=\""));
        if cfg!(target_os = "linux") {
            assert!(text.contains("process_resident_memory_bytes"));
            assert!(text.contains("process_open_fds"));
        }
    }
}
