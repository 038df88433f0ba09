//! The wasmtime sandbox: one Engine, pre-instantiated guests, a Store per run.
