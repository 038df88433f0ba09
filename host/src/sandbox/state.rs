//! The data of one run's `Store`: WASI context, memory limiter, budgets,
//! logs, and the host side of every import.

use super::Sandbox;
use super::admission::RequestBudget;
use super::bindings::katabox::automation as wit;
use crate::capabilities::log::{LogEntry, LogLevel};
use crate::capabilities::{self, CallContext};
use crate::policy::Policy;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Caps linear memory and table growth; remembers that the cap was hit.
/// While a run is in progress its instance's memory also counts against
/// the request's budget ([`RequestBudget`]), shared with the request's
/// nested `function:` calls.
pub struct MemoryLimiter {
    /// Bytes a memory may grow to.
    pub memory_cap: usize,
    /// Set when a growth request was refused.
    pub hit: bool,
    /// The largest size a memory of the instance has grown to (a warm
    /// instance that grew past a threshold is retired).
    pub largest: usize,
    /// Bytes of linear memory the instance holds (all its memories).
    pub resident: usize,
    /// The budget of the request whose run is in progress.
    pub request: Option<Arc<RequestBudget>>,
    /// Set when a growth was refused because the request's budget was spent.
    pub request_hit: bool,
}

impl MemoryLimiter {
    /// A limiter for a new instance.
    pub fn new(memory_cap: usize) -> MemoryLimiter {
        MemoryLimiter {
            memory_cap,
            hit: false,
            largest: 0,
            resident: 0,
            request: None,
            request_hit: false,
        }
    }

    /// Counts the instance's memory against `budget` from now on (the
    /// memory a warm instance already has is counted at once).
    pub fn attach(&mut self, budget: Arc<RequestBudget>) {
        self.detach();
        budget.force(self.resident);
        self.request = Some(budget);
        self.request_hit = false;
    }

    /// Gives the instance's memory back to its request's budget.
    pub fn detach(&mut self) {
        if let Some(budget) = self.request.take() {
            budget.release(self.resident);
        }
    }
}

impl Drop for MemoryLimiter {
    fn drop(&mut self) {
        self.detach();
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.hit = true;
            return Ok(false);
        }
        let grow = desired.saturating_sub(current);
        if let Some(budget) = &self.request
            && !budget.charge(grow)
        {
            self.request_hit = true;
            return Ok(false);
        }
        self.resident = self.resident.saturating_add(grow);
        self.largest = self.largest.max(desired);
        Ok(true)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Fuel charged for host work (copied from the [`SandboxConfig`](super::SandboxConfig)).
#[derive(Debug, Clone, Copy)]
pub struct HostCharges {
    /// Per host call.
    pub per_call: u64,
    /// Per byte crossing the boundary.
    pub per_byte: u64,
    /// How much log a run keeps.
    pub log: crate::capabilities::log::LogLimits,
}

/// One run's store data. A warm instance's store is reused: every field
/// that belongs to a run is reset before the next one (see `warm.rs`).
pub struct RunState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limiter: MemoryLimiter,
    /// The sandbox while a run is in progress; `None` while the store is
    /// parked, so that parked stores do not keep the sandbox alive.
    pub(super) sandbox: Option<Sandbox>,
    pub(super) charges: HostCharges,
    pub(super) policy: Arc<Policy>,
    pub(super) automation: String,
    pub(super) depth: u32,
    /// The run's number in its request (0: top level).
    pub(super) seq: usize,
    /// What the run's request shares with its other runs (group, memory).
    pub(super) request: Option<Arc<RequestBudget>>,
    /// The run's standing in the long-run lane (given back in host calls).
    pub(super) lane: Option<super::lane::LaneSlot>,
    pub(super) logs: Vec<LogEntry>,
    /// Fuel owed for host work, charged when the host call returns.
    pub(super) fuel_debt: u64,
    /// Set when a host charge found the budget empty.
    pub(super) fuel_exhausted: bool,
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl RunState {
    fn charge(&mut self, bytes: usize) {
        self.fuel_debt = self
            .fuel_debt
            .saturating_add(self.charges.per_call)
            .saturating_add((bytes as u64).saturating_mul(self.charges.per_byte));
    }

    /// The sandbox of the run in progress.
    fn sandbox(&self) -> Result<Sandbox, wit::types::CommandError> {
        self.sandbox
            .clone()
            .ok_or_else(|| wit::types::CommandError {
                message: "sandbox error: no run in progress".into(),
            })
    }

    async fn gated(
        &mut self,
        command: &str,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        use tracing::Instrument as _;
        let span = tracing::debug_span!(target: "katabox::trace", "host_call", command);
        self.gated_traced(command, node_id, inputs)
            .instrument(span)
            .await
    }

    async fn gated_traced(
        &mut self,
        command: &str,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.charge(inputs.len());
        let payload =
            katabox_value::wire::decode(&inputs).map_err(|e| wit::types::CommandError {
                message: format!("invalid command inputs: {e}"),
            })?;
        let sandbox = self.sandbox()?;
        // A host call can take long (outbound HTTP, a nested run): a long
        // run leaves the long-run lane to others meanwhile (`lane.rs`).
        if let Some(lane) = &self.lane {
            lane.release();
        }
        let policy = self.policy.clone();
        let ctx = CallContext {
            policy: &policy,
            sandbox: &sandbox,
            depth: self.depth,
            seq: self.seq,
            automation: &self.automation,
            request: self.request.clone(),
        };
        let result = capabilities::dispatch(&ctx, command, &node_id, payload).await;
        match result {
            Ok(v) => {
                let bytes = katabox_value::wire::encode(&v);
                self.charge(bytes.len());
                Ok(bytes)
            }
            Err(message) => Err(wit::types::CommandError { message }),
        }
    }
}

impl wit::types::Host for RunState {}

impl wit::http::Host for RunState {
    async fn request(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("http.request", node_id, inputs).await
    }
}

impl wit::storage::Host for RunState {
    async fn get(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("storage.get", node_id, inputs).await
    }
    async fn set(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("storage.set", node_id, inputs).await
    }
    async fn delete(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("storage.delete", node_id, inputs).await
    }
}

impl wit::queue::Host for RunState {
    async fn push(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("queue.push", node_id, inputs).await
    }
    async fn pop(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("queue.pop", node_id, inputs).await
    }
}

impl wit::automations::Host for RunState {
    async fn call(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("function", node_id, inputs).await
    }
}

impl wit::metrics::Host for RunState {
    async fn increment(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("metric.increment", node_id, inputs).await
    }
}

impl wit::files::Host for RunState {
    async fn read(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("file.read", node_id, inputs).await
    }
    async fn write(
        &mut self,
        node_id: String,
        inputs: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.gated("file.write", node_id, inputs).await
    }
}

impl wit::secrets::Host for RunState {
    async fn hmac(
        &mut self,
        node_id: String,
        secret: String,
        algorithm: String,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, wit::types::CommandError> {
        self.charge(data.len());
        let sandbox = self.sandbox()?;
        // Gated like every command: the policy sees the secret's name and
        // the algorithm (never the data) as `inputs`.
        let denied = || {
            crate::metrics::policy_denial(SECRETS_HMAC);
            wit::types::CommandError {
                message: crate::policy::denial_message(SECRETS_HMAC),
            }
        };
        if !self.policy.may_allow(SECRETS_HMAC) {
            return Err(denied());
        }
        let mut inputs = katabox_value::Array::new();
        inputs.insert("secret", katabox_value::Value::str(&secret));
        inputs.insert("algorithm", katabox_value::Value::str(&algorithm));
        let placeholders = crate::policy::placeholders(
            &node_id,
            SECRETS_HMAC,
            &katabox_value::Value::array(inputs),
            None,
            None,
        );
        if !self
            .policy
            .allows(SECRETS_HMAC, &placeholders, sandbox.scripting())
        {
            return Err(denied());
        }
        sandbox
            .services()
            .secrets
            .hmac(&secret, &algorithm, &data)
            .map_err(|message| wit::types::CommandError { message })
    }
}

/// The policy's name for the `secrets` capability's HMAC.
const SECRETS_HMAC: &str = "secrets.hmac";

impl wit::log::Host for RunState {
    async fn write(&mut self, level: wit::log::Level, node_id: String, message: String) {
        self.charge(message.len());
        let level = match level {
            wit::log::Level::Debug => LogLevel::Debug,
            wit::log::Level::Info => LogLevel::Info,
            wit::log::Level::Warn => LogLevel::Warn,
            wit::log::Level::Error => LogLevel::Error,
            wit::log::Level::Alert => LogLevel::Alert,
        };
        capabilities::log::push(&mut self.logs, self.charges.log, level, &node_id, &message);
    }
}
