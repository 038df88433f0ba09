//! The wasmtime sandbox: one Engine, pre-instantiated guests, a Store per run.
//!
//! # The entry point (the server, the CLI and `function:` all use it)
//!
//! ```ignore
//! let sandbox = Sandbox::new(SandboxConfig::default(), data, source, HttpConfig::default())?;
//! let result: RunResult = sandbox.run(&record, dict, RunOptions::default()).await;
//! ```
//!
//! - [`AutomationRecord`] `{ name, extension_id, script, policy_kata,
//!   component }`: what runs; with a [`GuestComponent`] the record runs that
//!   component (compiled once per SHA-256, kept pre-instantiated) under the
//!   same policy, limits and logging instead of the KATA runtime.
//! - [`AutomationSource`]: looks automations up by name for `function:`.
//! - [`DataStore`](crate::capabilities::DataStore): storage, queues, metrics,
//!   resources, continuations (`MemoryStore` for tests and the CLI).
//! - [`HttpConfig`]: outbound HTTP (address allow-lists, fixtures, timeouts).
//! - [`Sandbox::run`] never fails: every outcome is a [`RunResult`] with
//!   `exit` = `return` | `await` | `exit` | `error`. A failed run
//!   (`error:` command, unhandled command error, parse/validation error,
//!   `Invalid automation policy`, trap, fuel or memory exhausted) has
//!   `failure = Some(message)`. A time-out is Cerb's `error` exit with
//!   `__error = "Execution timed out after Nms"`, `failure = None` and
//!   `limit = Some(Limit::Time)`.
//!
//! Each run gets a fresh `Store` with a fuel budget (host calls are charged
//! too), a memory cap, an epoch deadline from the policy's
//! `settings: time_limit_ms` (default 25,000, at most 120,000), and a tokio
//! timeout around the whole run for host calls epochs cannot interrupt.

mod admission;
mod bindings;
pub mod children;
mod component_cache;
mod config;
mod engine;
mod guests;
mod lane;
mod state;
mod warm;

pub use crate::capabilities::http::HttpConfig;
pub use crate::capabilities::log::{LogEntry, LogLevel};
pub use crate::capabilities::secrets::Secrets;
pub use admission::{Admission, Refused, RequestBudget};
pub use config::{DEFAULT_TIME_LIMIT_MS, MAX_TIME_LIMIT_MS, SandboxConfig};
pub use guests::GuestComponent;

use crate::capabilities::DataStore;
use crate::capabilities::http::HttpClient;
use crate::policy::{INVALID_POLICY, Policy};
use bindings::{Automation, AutomationPre};
use foldhash::{HashMap, HashMapExt};
use katabox_kata::Scripting;
use katabox_value::{Array, Value};
use state::{HostCharges, MemoryLimiter, RunState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warm::{Warm, WarmPool};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{CallHook, Engine, Store};

/// The KATA runtime component embedded in this binary.
pub const RUNTIME_WASM: &[u8] = include_bytes!(env!("KATABOX_RUNTIME_WASM"));
/// True when the build could not build the runtime and embedded the probe guest instead.
pub const RUNTIME_IS_FALLBACK: bool =
    matches!(env!("KATABOX_RUNTIME_IS_FALLBACK").as_bytes(), b"1");

/// An automation as stored.
#[derive(Debug, Clone, Default)]
pub struct AutomationRecord {
    /// Its name (`example.webhook.respond`).
    pub name: String,
    /// Its trigger's extension id (`cerb.trigger.webhook.respond`).
    pub extension_id: String,
    /// The automation KATA.
    pub script: String,
    /// The policy KATA.
    pub policy_kata: String,
    /// A guest component to run instead of the KATA runtime (the record's
    /// `script` is still passed to it, and ignored by Rust guests).
    pub component: Option<GuestComponent>,
}

/// Finds automations by name (for `function:`).
pub trait AutomationSource: Send + Sync {
    /// The automation called `name`, if any.
    fn automation(&self, name: &str) -> Option<AutomationRecord>;
}

/// An [`AutomationSource`] that has no automations.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAutomations;

impl AutomationSource for NoAutomations {
    fn automation(&self, _name: &str) -> Option<AutomationRecord> {
        None
    }
}

/// Per-run options.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `function:` nesting depth (0 for a top-level run).
    pub depth: u32,
    /// Overrides the trigger passed to the guest (default: the record's `extension_id`).
    pub trigger: Option<String>,
    /// The webhook listener a top-level run serves: its requests share
    /// [`SandboxConfig::listener_instances`].
    pub group: Option<u64>,
    /// The request a nested `function:` call belongs to (set by
    /// `function:`); `None` starts a new request.
    pub request: Option<Arc<RequestBudget>>,
    /// The run's number in its request (0: the top-level run; set by
    /// `function:` for the runs it starts).
    pub seq: usize,
}

/// Which budget ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The policy's time limit.
    Time,
    /// The fuel budget.
    Fuel,
    /// The memory cap.
    Memory,
    /// A trap in the guest (not a budget).
    Trap,
    /// No instance could be had (the host's or the listener's share of
    /// instances was in use): the webhook answers 503.
    Instances,
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// `return`, `await`, `exit` or `error`.
    pub exit: String,
    /// The final dictionary (`__exit`, `__return`, `__error`, ...).
    pub dict: Value,
    /// Set when the run failed: Cerb's message.
    pub failure: Option<String>,
    /// Log lines the run wrote.
    pub logs: Vec<LogEntry>,
    /// Wall-clock time of the run.
    pub duration: Duration,
    /// Fuel spent (guest instructions plus host charges).
    pub fuel_used: u64,
    /// The budget that ended the run, if one did.
    pub limit: Option<Limit>,
    /// The guest's linear memory at the end of the run, in bytes (wasm
    /// memory never shrinks: the run's peak; a warm instance starts at the
    /// size earlier runs left it).
    pub memory_peak: u64,
    /// The `function:` runs inside a top-level run, callers first (empty
    /// for nested runs: their callees are in the top-level run's list).
    pub children: Vec<children::ChildRun>,
}

impl RunResult {
    /// `__return`, if set.
    pub fn returned(&self) -> Option<&Value> {
        self.dict.get("__return")
    }

    /// The failure or time-out message, if the run ended in `error`.
    pub fn error_message(&self) -> Option<String> {
        if let Some(f) = &self.failure {
            return Some(f.clone());
        }
        match self.dict.get("__error") {
            Some(Value::Array(a)) => a.get_str("message").map(|m| m.to_string_lossy()),
            Some(v) if self.exit == "error" => Some(v.to_string_lossy()),
            _ => None,
        }
    }
}

/// Shared services the capabilities use.
pub struct Services {
    /// Storage, queues, metrics, resources, continuations.
    pub data: Arc<dyn DataStore>,
    /// Automations for `function:`.
    pub source: Arc<dyn AutomationSource>,
    /// Outbound HTTP.
    pub http: HttpClient,
    /// Named secrets for HMAC.
    pub secrets: Secrets,
}

struct Inner {
    config: SandboxConfig,
    engine: Engine,
    pre: AutomationPre<RunState>,
    linker: Linker<RunState>,
    guests: guests::GuestCache,
    services: Services,
    scripting: Arc<dyn Scripting + Send + Sync>,
    policies: Mutex<HashMap<String, Arc<Policy>>>,
    /// Warm instances of the default guest (the embedded runtime only).
    warm: Option<WarmPool>,
    /// Instance permits (taken before instantiating).
    admission: Admission,
    lane: lane::LongRunLane,
    _ticker: engine::EpochTicker,
}

/// The sandbox (cheap to clone).
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

const POLICY_CACHE: usize = 256;

impl Sandbox {
    /// A sandbox running the embedded KATA runtime; the `secrets`
    /// capability uses `config.secrets` (the operator's secrets).
    pub fn new(
        config: SandboxConfig,
        data: Arc<dyn DataStore>,
        source: Arc<dyn AutomationSource>,
        http: HttpConfig,
    ) -> anyhow::Result<Sandbox> {
        Sandbox::with_runtime(config, RUNTIME_WASM, data, source, http)
    }

    /// A sandbox running `runtime`, a build of the KATA runtime guest, as
    /// [`Sandbox::new`] runs the embedded one (warm instances included):
    /// for comparing runtime builds (`benches/sandbox.rs`).
    pub fn with_runtime(
        config: SandboxConfig,
        runtime: &[u8],
        data: Arc<dyn DataStore>,
        source: Arc<dyn AutomationSource>,
        http: HttpConfig,
    ) -> anyhow::Result<Sandbox> {
        let secrets = config.secrets.clone();
        let (warm, memory_limit) = (config.warm_instances, config.memory_limit);
        let mut sandbox = Sandbox::with_guest(config, runtime, data, source, http, secrets)?;
        // Only the KATA runtime is reused across runs (see warm.rs);
        // parked instances hold pool slots, so they are not permits.
        if warm > 0
            && let Some(inner) = Arc::get_mut(&mut sandbox.inner)
        {
            inner.warm = Some(WarmPool::new(warm, memory_limit));
            inner.admission = admission_of(&inner.config, warm);
        }
        Ok(sandbox)
    }

    /// A sandbox running `wasm` (any component of the `automation` world)
    /// for records without a component of their own; `secrets` (or, when
    /// empty, `config.secrets`) serve the `secrets` capability.
    pub fn with_guest(
        config: SandboxConfig,
        wasm: &[u8],
        data: Arc<dyn DataStore>,
        source: Arc<dyn AutomationSource>,
        http: HttpConfig,
        secrets: Secrets,
    ) -> anyhow::Result<Sandbox> {
        let engine = engine::build_engine(&config)?;
        let component =
            component_cache::load_component(&engine, wasm, config.cache_dir.as_deref())?;
        let mut linker: Linker<RunState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        Automation::add_to_linker::<RunState, HasSelf<RunState>>(&mut linker, |s| s)?;
        let pre = AutomationPre::new(linker.instantiate_pre(&component)?)?;
        let secrets = if secrets.is_empty() {
            config.secrets.clone()
        } else {
            secrets
        };
        let ticker = engine::EpochTicker::start(engine.clone(), config.epoch_tick)?;
        let admission = admission_of(&config, 0);
        let lane = lane_of(&config);
        let http = HttpClient::new(http).map_err(anyhow::Error::msg)?;
        Ok(Sandbox {
            inner: Arc::new(Inner {
                config,
                engine,
                pre,
                linker,
                guests: guests::GuestCache::default(),
                services: Services {
                    data,
                    source,
                    http,
                    secrets,
                },
                scripting: crate::policy::host_scripting(),
                policies: Mutex::new(HashMap::new()),
                warm: None,
                admission,
                lane,
                _ticker: ticker,
            }),
        })
    }

    /// The ceilings.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// The shared services.
    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    /// The scripting engine used for policies.
    pub fn scripting(&self) -> &dyn Scripting {
        self.inner.scripting.as_ref()
    }

    /// Parses (or fetches from a small cache) a policy.
    pub fn policy(&self, text: &str) -> Result<Arc<Policy>, crate::policy::InvalidPolicy> {
        if let Ok(cache) = self.inner.policies.lock()
            && let Some(p) = cache.get(text)
        {
            return Ok(p.clone());
        }
        let p = Arc::new(Policy::parse(text)?);
        if let Ok(mut cache) = self.inner.policies.lock() {
            if cache.len() >= POLICY_CACHE {
                cache.clear();
            }
            cache.insert(text.to_string(), p.clone());
        }
        Ok(p)
    }

    /// The pre-instantiated `guest`, compiling it (off the async workers)
    /// on first use.
    async fn guest_pre(&self, guest: &GuestComponent) -> Result<AutomationPre<RunState>, String> {
        let sandbox = self.clone();
        let guest = guest.clone();
        tokio::task::spawn_blocking(move || {
            let inner = &sandbox.inner;
            inner.guests.pre(
                &inner.engine,
                &inner.linker,
                inner.config.cache_dir.as_deref(),
                &guest,
            )
        })
        .await
        .unwrap_or_else(|e| Err(format!("Invalid guest component: {e}")))
    }

    /// A store for a new instance: memory limiter and host-call fuel
    /// charging installed; the per-run fields are set by [`Sandbox::run`].
    fn new_store(&self) -> wasmtime::Result<Store<RunState>> {
        let cfg = &self.inner.config;
        let state = RunState {
            wasi: {
                let mut b = wasmtime_wasi::WasiCtx::builder();
                if let Some(url) = &cfg.public_url {
                    b.env("KATABOX_PUBLIC_URL", url);
                }
                b.build()
            },
            table: wasmtime::component::ResourceTable::new(),
            limiter: MemoryLimiter::new(cfg.memory_limit),
            sandbox: None,
            charges: HostCharges {
                per_call: cfg.host_call_fuel,
                per_byte: cfg.host_byte_fuel,
                log: crate::capabilities::log::LogLimits {
                    entries: cfg.max_log_entries,
                    bytes: cfg.max_log_bytes,
                },
            },
            policy: Arc::new(Policy::default()),
            automation: String::new(),
            depth: 0,
            seq: 0,
            request: None,
            lane: None,
            logs: Vec::new(),
            fuel_debt: 0,
            fuel_exhausted: false,
        };
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.call_hook(|mut ctx, kind| {
            if matches!(kind, CallHook::ReturningFromHost) {
                let debt = std::mem::take(&mut ctx.data_mut().fuel_debt);
                if debt > 0 {
                    let left = ctx.get_fuel()?;
                    if left < debt {
                        ctx.set_fuel(0)?;
                        ctx.data_mut().fuel_exhausted = true;
                        return Err(wasmtime::Error::msg("fuel exhausted by host calls"));
                    }
                    ctx.set_fuel(left - debt)?;
                }
            }
            Ok(())
        });
        Ok(store)
    }

    /// The instance permits (free and in all: `/metrics`, tests).
    pub fn admission(&self) -> &Admission {
        &self.inner.admission
    }

    /// Warm runtime instances parked now (0 when reuse is off).
    pub fn warm_instances(&self) -> usize {
        self.inner.warm.as_ref().map_or(0, WarmPool::parked)
    }

    /// Runs an automation with `dict` as its initial dictionary. Never
    /// panics or fails: every outcome is a [`RunResult`].
    pub async fn run(
        &self,
        automation: &AutomationRecord,
        dict: Value,
        opts: RunOptions,
    ) -> RunResult {
        use tracing::Instrument as _;
        // A debug-level span (a no-op under the default `info` filter):
        // traces show each run, nested `function:` runs inside their caller.
        let span = tracing::debug_span!(
            target: "katabox::trace",
            "run",
            automation = %automation.name,
            depth = opts.depth,
            exit = tracing::field::Empty,
            fuel = tracing::field::Empty,
        );
        let result = self
            .run_traced(automation, dict, opts)
            .instrument(span.clone())
            .await;
        span.record("exit", result.exit.as_str());
        span.record("fuel", result.fuel_used);
        result
    }

    async fn run_traced(
        &self,
        automation: &AutomationRecord,
        dict: Value,
        opts: RunOptions,
    ) -> RunResult {
        let started = Instant::now();
        let dict = if dict.as_array().is_some() {
            dict
        } else {
            Value::empty_array()
        };
        let pre = match &automation.component {
            None => self.inner.pre.clone(),
            Some(guest) => match self.guest_pre(guest).await {
                Ok(pre) => pre,
                Err(message) => return failed(dict, message, None, Vec::new(), started, 0),
            },
        };
        let policy = match self.policy(&automation.policy_kata) {
            Ok(p) => p,
            Err(_) => {
                return failed(
                    dict,
                    INVALID_POLICY.to_string(),
                    None,
                    Vec::new(),
                    started,
                    0,
                );
            }
        };
        let cfg = &self.inner.config;
        let limit_ms = policy.time_limit_ms().min(cfg.max_time_limit_ms);
        let pool = match &automation.component {
            None => self.inner.warm.as_ref(),
            Some(_) => None,
        };
        // A new request starts a budget; a nested call shares its caller's.
        let top_level = opts.request.is_none();
        let budget = opts
            .request
            .clone()
            .unwrap_or_else(|| Arc::new(RequestBudget::new(opts.group, cfg.request_memory_limit)));
        // Permits before any instance exists (declared before the store, so
        // they are given back only after the store, and its slot, are gone).
        let _permits = match self.inner.admission.enter(budget.group, top_level).await {
            Ok(p) => p,
            Err(refused) => {
                budget.mark_refused();
                crate::metrics::admission_refused(top_level);
                let mut r = failed(dict, refused.to_string(), None, Vec::new(), started, 0);
                r.limit = Some(Limit::Instances);
                return r;
            }
        };
        let (mut store, warm_instance, runs) = match pool.and_then(WarmPool::take) {
            Some(w) => (w.store, Some(w.instance), w.runs),
            None => match self.new_store() {
                Ok(store) => (store, None, 0),
                Err(e) => {
                    let msg = format!("sandbox error: {e}");
                    return failed(dict, msg, None, Vec::new(), started, 0);
                }
            },
        };
        let data = store.data_mut();
        data.sandbox = Some(self.clone());
        data.policy = policy;
        data.automation = automation.name.clone();
        data.depth = opts.depth;
        data.seq = opts.seq;
        data.logs = Vec::new();
        data.fuel_debt = 0;
        data.fuel_exhausted = false;
        data.limiter.hit = false;
        data.limiter.attach(budget.clone());
        data.request = Some(budget.clone());
        let fuel = cfg.fuel_budget(limit_ms);
        if let Err(e) = store.set_fuel(fuel) {
            let msg = format!("sandbox error: {e}");
            return failed(dict, msg, None, Vec::new(), started, 0);
        }
        // Every epoch tick, a guest that is still running yields its tokio
        // worker (so a few spinning guests cannot starve the server), goes
        // on only through the long-run lane once it has run long
        // (`lane.rs`), and traps with `Interrupt` once its wall-clock time
        // limit has passed.
        let deadline = started + Duration::from_millis(limit_ms);
        let mut ticket = self.inner.lane.ticket(deadline);
        store.data_mut().lane = Some(ticket.slot());
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_ctx| {
            if Instant::now() >= deadline {
                Err(wasmtime::Trap::Interrupt.into())
            } else {
                Ok(ticket.on_tick())
            }
        });
        let request = bindings::exports::katabox::automation::run::Request {
            trigger: opts
                .trigger
                .clone()
                .unwrap_or_else(|| automation.extension_id.clone()),
            automation: automation.name.clone(),
            script: automation.script.clone(),
            dict: katabox_value::wire::encode(&dict),
        };
        let deadline = Duration::from_millis(limit_ms) + cfg.grace;
        let outcome = tokio::time::timeout(deadline, async {
            let instance = match warm_instance {
                Some(instance) => instance,
                None => pre.instantiate_async(&mut store).await?,
            };
            let out = instance
                .katabox_automation_run()
                .call_run(&mut store, &request)
                .await?;
            Ok::<_, wasmtime::Error>((instance, out))
        })
        .await;
        // The run gives its lane permit back (a parked warm store keeps the
        // callback and its slot; a dropped one would release it anyway).
        if let Some(slot) = store.data_mut().lane.take() {
            slot.release();
        }
        let fuel_used = fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let logs = std::mem::take(&mut store.data_mut().logs);
        let memory_peak = store.data().limiter.largest as u64;
        let mut result = match outcome {
            Ok(Ok((instance, out))) => {
                if let Some(pool) = pool {
                    let data = store.data_mut();
                    data.limiter.detach();
                    data.request = None;
                    pool.park(Warm {
                        store,
                        instance,
                        runs,
                    });
                }
                let out_dict = katabox_value::wire::decode(&out.dict).unwrap_or(dict);
                let exit = out_dict
                    .get("__exit")
                    .map(|v| v.to_string_lossy())
                    .filter(|e| matches!(e.as_str(), "return" | "await" | "exit" | "error"))
                    .unwrap_or_else(|| {
                        if out.failure.is_some() {
                            "error".into()
                        } else {
                            "exit".into()
                        }
                    });
                let exit = if out.failure.is_some() {
                    "error".to_string()
                } else {
                    exit
                };
                RunResult {
                    exit,
                    dict: out_dict,
                    failure: out.failure,
                    logs,
                    duration: started.elapsed(),
                    fuel_used,
                    limit: None,
                    memory_peak: 0,
                    children: Vec::new(),
                }
            }
            Ok(Err(err)) => {
                let data = store.data();
                let trap = err.downcast_ref::<wasmtime::Trap>().copied();
                if trap == Some(wasmtime::Trap::Interrupt) {
                    timed_out(dict, limit_ms, logs, started, fuel_used)
                } else if trap == Some(wasmtime::Trap::OutOfFuel) || data.fuel_exhausted {
                    let msg = format!("Execution ran out of fuel (budget {fuel})");
                    failed(dict, msg, Some(Limit::Fuel), logs, started, fuel_used)
                } else if data.limiter.request_hit {
                    let msg = format!(
                        "Execution exceeded the memory limit of {} bytes for the request (its nested function: calls included)",
                        cfg.request_memory_limit
                    );
                    failed(dict, msg, Some(Limit::Memory), logs, started, fuel_used)
                } else if data.limiter.hit {
                    let msg = format!(
                        "Execution exceeded the memory limit of {} bytes",
                        cfg.memory_limit
                    );
                    failed(dict, msg, Some(Limit::Memory), logs, started, fuel_used)
                } else if trap.is_none() && is_pool_exhausted(&err) {
                    // Admission keeps the pool from filling up; should it
                    // still, the run is refused like one without a permit.
                    budget.mark_refused();
                    let msg = format!("Execution refused: the instance pool is full ({err})");
                    failed(dict, msg, Some(Limit::Instances), logs, started, fuel_used)
                } else {
                    let msg = match trap {
                        Some(t) => format!("Execution trapped: {t}"),
                        None => format!("Execution failed: {err}"),
                    };
                    failed(dict, msg, Some(Limit::Trap), logs, started, fuel_used)
                }
            }
            Err(_elapsed) => timed_out(dict, limit_ms, logs, started, fuel_used),
        };
        result.memory_peak = memory_peak;
        // A run that failed because one of its nested calls got no
        // instance is refused as a whole (the webhook answers 503): the
        // automation did not handle the refusal itself.
        if top_level
            && budget.was_refused()
            && result
                .failure
                .as_deref()
                .is_some_and(|f| f.contains("Execution refused:"))
        {
            result.limit = Some(Limit::Instances);
        }
        if let Some(stop) = stop_of(&result) {
            crate::metrics::sandbox_stop(stop);
        }
        if top_level {
            result.children = budget.children.take();
        }
        result
    }
}

/// The admission of a sandbox whose pool keeps `warm` parked instances.
fn admission_of(cfg: &SandboxConfig, warm: usize) -> Admission {
    Admission::new(
        cfg.max_instances,
        warm,
        cfg.listener_instances,
        cfg.admission_wait,
    )
}

fn lane_of(cfg: &SandboxConfig) -> lane::LongRunLane {
    let tick = cfg.epoch_tick.as_micros().max(1);
    let after_ticks = cfg.long_run_after.as_micros().div_ceil(tick);
    lane::LongRunLane::new(
        cfg.long_run_lanes,
        u64::try_from(after_ticks).unwrap_or(u64::MAX),
    )
}

/// Whether an instantiation failed because the pooling allocator had no
/// free slot ("maximum concurrent limit of N for ... reached").
fn is_pool_exhausted(err: &wasmtime::Error) -> bool {
    err.chain()
        .any(|e| e.to_string().contains("maximum concurrent limit"))
}

/// The budget that stopped a run, for the metrics: the sandbox's own
/// limits, or the KATA runtime's step budget (reported as a failure).
fn stop_of(result: &RunResult) -> Option<crate::metrics::Stop> {
    use crate::metrics::Stop;
    match result.limit {
        Some(Limit::Time) => Some(Stop::Time),
        Some(Limit::Fuel) => Some(Stop::Fuel),
        Some(Limit::Memory) => Some(Stop::Memory),
        Some(Limit::Trap) => Some(Stop::Trap),
        Some(Limit::Instances) => None,
        None => result
            .failure
            .as_deref()
            .filter(|f| f.starts_with("Execution stopped after ") && f.ends_with(" steps"))
            .map(|_| Stop::Steps),
    }
}

fn set_exit(dict: &mut Value, exit: &str) {
    if let Some(a) = dict.as_array_mut() {
        a.insert("__exit", Value::str(exit));
    }
}

/// Cerb's time-out: `__exit = error`, `__error = "Execution timed out after Nms"`.
fn timed_out(
    mut dict: Value,
    limit_ms: u64,
    logs: Vec<LogEntry>,
    started: Instant,
    fuel_used: u64,
) -> RunResult {
    set_exit(&mut dict, "error");
    if let Some(a) = dict.as_array_mut() {
        a.insert(
            "__error",
            Value::str(format!("Execution timed out after {limit_ms}ms")),
        );
        a.remove(&katabox_value::Key::from_bytes(b"__return"));
    }
    RunResult {
        exit: "error".into(),
        dict,
        failure: None,
        logs,
        duration: started.elapsed(),
        fuel_used,
        limit: Some(Limit::Time),
        memory_peak: 0,
        children: Vec::new(),
    }
}

/// A failed run: `__exit = error`, `__error = {message}`, `__return = {error}`.
fn failed(
    mut dict: Value,
    message: String,
    limit: Option<Limit>,
    logs: Vec<LogEntry>,
    started: Instant,
    fuel_used: u64,
) -> RunResult {
    set_exit(&mut dict, "error");
    if let Some(a) = dict.as_array_mut() {
        let mut err = Array::new();
        err.insert("message", Value::str(&message));
        a.insert("__error", Value::array(err));
        let mut ret = Array::new();
        ret.insert("error", Value::str(&message));
        a.insert("__return", Value::array(ret));
    }
    RunResult {
        exit: "error".into(),
        dict,
        failure: Some(message),
        logs,
        duration: started.elapsed(),
        fuel_used,
        limit,
        memory_peak: 0,
        children: Vec::new(),
    }
}
