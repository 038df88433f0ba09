//! End-to-end and attack tests, one binary grouped by feature: the real
//! `katabox` binary under hostile scripts, requests, packages and load, the
//! `serve` flags, and a self-test of the conformance harness's helpers.

#[path = "../support/mod.rs"]
mod support;

#[path = "../../host/tests/sandbox/support.rs"]
mod sandbox_support;

mod console;
mod harness_selftest;
mod history;
mod observability;
mod otel;
mod scale_out;
mod security_admission;
mod security_crash;
mod security_disk;
mod security_guest;
mod security_http;
mod security_load;
mod security_props;
mod security_redirects;
mod security_round2;
mod security_scripts;
mod security_server;
mod serve_flags;
mod timers;
