//! Compiles a guest component once and caches the result on disk.
//!
//! The cache file name is the SHA-256 of the wasm bytes and of the engine's
//! compatibility hash, so a cached artefact is only ever loaded by an engine
//! with the same settings and wasmtime version that produced it.
#![allow(unsafe_code)]

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn cache_path(dir: &Path, engine: &Engine, wasm: &[u8]) -> PathBuf {
    let mut h = ShaHasher(Sha256::new());
    h.write(wasm);
    engine.precompile_compatibility_hash().hash(&mut h);
    let digest = h.0.finalize();
    dir.join(format!("{}.cwasm", hex::encode(digest)))
}

/// Loads `wasm` as a component: from the cache when a matching artefact is
/// there, else compiles it and (best effort) writes the artefact.
pub fn load_component(
    engine: &Engine,
    wasm: &[u8],
    dir: Option<&Path>,
) -> wasmtime::Result<Component> {
    let Some(dir) = dir else {
        return Component::new(engine, wasm);
    };
    let path = cache_path(dir, engine, wasm);
    if path.is_file() {
        // SAFETY: `deserialize_file` requires that the file is an artefact
        // produced by `Engine::precompile_component`/`Component::serialize`
        // of a compatible engine and is not modified while mapped. The file
        // is named by the hash of the source wasm and of this engine's
        // compatibility hash, is only written by this module (atomically,
        // via a rename of a fully written temporary file) into the
        // operator's private cache directory, and wasmtime additionally
        // checks the artefact's header and engine settings on load.
        if let Ok(c) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok(c);
        }
    }
    let component = Component::new(engine, wasm)?;
    if let Ok(bytes) = component.serialize() {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::create_dir_all(dir).is_ok() && std::fs::write(&tmp, &bytes).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    Ok(component)
}
