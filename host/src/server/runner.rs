//! The production [`AutomationRunner`]: the wasm sandbox, built on first
//! use (or eagerly with [`SandboxRunner::warm_up`]) because compiling the
//! runtime component is expensive when its on-disk cache is cold.

use crate::sandbox::{
    AutomationRecord, GuestComponent, HttpConfig, RunOptions, Sandbox, SandboxConfig,
};
use crate::store::AutomationRow;
use crate::webhooks::{AutomationRunner, BoxFuture, RunOutcome};
use foldhash::{HashMap, HashMapExt};
use katabox_value::Value;
use std::sync::Arc;
use std::sync::{Mutex, OnceLock};
use tokio::sync::OnceCell;

type Factory = dyn Fn() -> anyhow::Result<Sandbox> + Send + Sync;

/// Runs automations in the sandbox.
#[derive(Clone)]
pub struct SandboxRunner {
    cell: Arc<OnceCell<Result<Sandbox, String>>>,
    factory: Arc<Factory>,
}

impl SandboxRunner {
    /// Wraps a ready sandbox.
    pub fn new(sandbox: Sandbox) -> SandboxRunner {
        SandboxRunner {
            cell: Arc::new(OnceCell::new_with(Some(Ok(sandbox)))),
            factory: Arc::new(|| Err(anyhow::anyhow!("unreachable: the sandbox is ready"))),
        }
    }

    /// A runner that builds its sandbox when first needed.
    pub fn lazy(
        config: SandboxConfig,
        data: Arc<dyn crate::capabilities::DataStore>,
        source: Arc<dyn crate::sandbox::AutomationSource>,
        http: HttpConfig,
    ) -> SandboxRunner {
        SandboxRunner {
            cell: Arc::new(OnceCell::new()),
            factory: Arc::new(move || {
                Sandbox::new(config.clone(), data.clone(), source.clone(), http.clone())
            }),
        }
    }

    /// The sandbox, building it (off the async workers) if needed.
    pub async fn sandbox(&self) -> Result<Sandbox, String> {
        let factory = self.factory.clone();
        self.cell
            .get_or_init(|| async move {
                match tokio::task::spawn_blocking(move || factory()).await {
                    Ok(Ok(s)) => Ok(s),
                    Ok(Err(e)) => Err(format!("the sandbox could not start: {e:#}")),
                    Err(e) => Err(format!("the sandbox could not start: {e}")),
                }
            })
            .await
            .clone()
    }

    /// The sandbox when it is built and started (`/readyz`, metrics).
    pub fn ready(&self) -> Option<Sandbox> {
        self.cell.get().and_then(|r| r.as_ref().ok()).cloned()
    }

    /// Builds the sandbox now; the error says why it cannot start.
    pub async fn warm_up(&self) -> anyhow::Result<()> {
        self.sandbox().await.map(|_| ()).map_err(anyhow::Error::msg)
    }
}

/// The sandbox's view of a stored automation.
pub fn record_of(row: &AutomationRow) -> AutomationRecord {
    AutomationRecord {
        name: row.name.clone(),
        extension_id: row.extension_id.clone(),
        script: row.script.clone(),
        policy_kata: row.policy_kata.clone(),
        component: (!row.component_base64.is_empty()).then(|| component_of(&row.component_base64)),
    }
}

/// Decoded components kept (emptied when full).
const COMPONENTS: usize = 16;

/// The component a record's base64 text carries, decoded (and hashed) once
/// per text rather than on every run: for a component of a few hundred KB
/// that is most of a millisecond. A text that does not decode gives an
/// empty component, which fails as an invalid component (imports validate
/// components first).
fn component_of(base64: &str) -> GuestComponent {
    static DECODED: OnceLock<Mutex<HashMap<String, GuestComponent>>> = OnceLock::new();
    let cache = DECODED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(c) = cache.lock()
        && let Some(component) = c.get(base64)
    {
        return component.clone();
    }
    let component =
        GuestComponent::from_base64(base64).unwrap_or_else(|_| GuestComponent::new(Vec::new()));
    if let Ok(mut c) = cache.lock() {
        if c.len() >= COMPONENTS {
            c.clear();
        }
        c.insert(base64.to_string(), component.clone());
    }
    component
}

use crate::capabilities::log::LogEntry;

impl AutomationRunner for SandboxRunner {
    fn run<'a>(
        &'a self,
        automation: &'a AutomationRow,
        dict: Value,
        listener: Option<u64>,
    ) -> BoxFuture<'a, RunOutcome> {
        Box::pin(async move {
            let sandbox = match self.sandbox().await {
                Ok(s) => s,
                Err(e) => {
                    return RunOutcome {
                        exit: "error".into(),
                        dict,
                        failure: Some(e),
                        logs: Vec::new(),
                        duration: std::time::Duration::ZERO,
                        fuel_used: 0,
                        memory_peak: 0,
                        busy: false,
                        children: Vec::new(),
                    };
                }
            };
            let record = record_of(automation);
            let opts = RunOptions {
                group: listener,
                ..RunOptions::default()
            };
            let r = sandbox.run(&record, dict, opts).await;
            RunOutcome {
                busy: r.limit == Some(crate::sandbox::Limit::Instances),
                exit: r.exit,
                dict: r.dict,
                failure: r.failure,
                logs: r.logs.iter().map(LogEntry::to_json).collect(),
                duration: r.duration,
                fuel_used: r.fuel_used,
                memory_peak: r.memory_peak,
                children: r.children,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_decoded_once_per_text() {
        let a = component_of("AGFzbQ==");
        let again = component_of("AGFzbQ==");
        assert_eq!(a.wasm(), b"\0asm");
        assert_eq!(a, again);
        let other = component_of("AGFzbQE=");
        assert_eq!(other.wasm(), b"\0asm\x01");
        assert_ne!(a.sha256(), other.sha256());
        // Not base64: an empty component (refused as invalid when run).
        assert!(component_of("not base64!").wasm().is_empty());
    }
}
