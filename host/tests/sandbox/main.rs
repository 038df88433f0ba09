//! Sandbox tests, one binary grouped by feature: the wasmtime sandbox, its
//! limits, policy gating, outbound HTTP and the guest components.
//!
//! One binary instead of one per file: each test binary links wasmtime, so
//! fewer binaries means less disk and less link time (see docs/architecture.md).

mod support;

/// The conformance harness's JSON comparison (FORMAT.md's rules).
#[path = "../../../tests/support/compare.rs"]
mod compare;

mod address;
mod auth;
mod components;
mod http;
mod limits;
mod policy;
mod runtime;
mod vectors;
mod warm;
