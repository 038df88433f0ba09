//! Guest components carried by automation records: compiled once per
//! SHA-256 of their bytes (through the on-disk component cache) and kept
//! pre-instantiated against the sandbox's linker.

use super::bindings::AutomationPre;
use super::component_cache;
use super::state::RunState;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use wasmtime::Engine;
use wasmtime::component::Linker;

/// Compiled guests kept at most (the least useful are dropped all at once).
const MAX_GUESTS: usize = 64;

/// A guest component (the `.wasm` bytes of a component of the `automation`
/// world) that an automation record runs instead of the KATA runtime.
#[derive(Clone, PartialEq, Eq)]
pub struct GuestComponent {
    hash: [u8; 32],
    wasm: Arc<[u8]>,
}

impl std::fmt::Debug for GuestComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestComponent")
            .field("sha256", &self.sha256())
            .field("len", &self.wasm.len())
            .finish()
    }
}

impl GuestComponent {
    /// Wraps component bytes (hashing them once).
    pub fn new(wasm: impl Into<Arc<[u8]>>) -> GuestComponent {
        let wasm = wasm.into();
        let hash = Sha256::digest(&wasm).into();
        GuestComponent { hash, wasm }
    }

    /// Decodes the standard base64 form a package carries
    /// (`component_base64`); whitespace is ignored.
    pub fn from_base64(text: &str) -> Result<GuestComponent, base64::DecodeError> {
        use base64::Engine as _;
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(compact)?;
        Ok(GuestComponent::new(bytes))
    }

    /// The hex SHA-256 of the bytes (the cache key).
    pub fn sha256(&self) -> String {
        hex::encode(self.hash)
    }

    /// The component bytes.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }
}

/// Pre-instantiated guests by hash.
#[derive(Default)]
pub(super) struct GuestCache {
    pres: Mutex<HashMap<[u8; 32], AutomationPre<RunState>>>,
}

impl GuestCache {
    /// The pre-instantiated guest for `guest`, compiling it on first use.
    /// The error is the message a failed run reports.
    pub(super) fn pre(
        &self,
        engine: &Engine,
        linker: &Linker<RunState>,
        cache_dir: Option<&Path>,
        guest: &GuestComponent,
    ) -> Result<AutomationPre<RunState>, String> {
        if let Ok(pres) = self.pres.lock()
            && let Some(pre) = pres.get(&guest.hash)
        {
            return Ok(pre.clone());
        }
        let invalid = |e: wasmtime::Error| format!("Invalid guest component: {e}");
        let component =
            component_cache::load_component(engine, guest.wasm(), cache_dir).map_err(invalid)?;
        let pre = linker
            .instantiate_pre(&component)
            .and_then(AutomationPre::new)
            .map_err(invalid)?;
        if let Ok(mut pres) = self.pres.lock() {
            if pres.len() >= MAX_GUESTS {
                pres.clear();
            }
            pres.insert(guest.hash, pre.clone());
        }
        Ok(pre)
    }
}
