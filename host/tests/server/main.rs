//! Server tests, one binary grouped by feature: the real server over real
//! HTTP, webhook requests and responses, verified webhooks, package import
//! and the redb store.
//!
//! One binary instead of one per file: each test binary links wasmtime, so
//! fewer binaries means less disk and less link time (see docs/architecture.md).

mod support;

#[path = "../../../tests/support/postgres.rs"]
mod pg_support;

mod binary;
mod console;
mod fuzz;
mod guest_examples;
mod http;
mod packages_import;
mod packages_kill;
mod request;
mod response;
mod router;
mod seed;
mod store_redb;
mod store_suite;
mod timers;
mod verify_cli;
mod verify_dedupe;
mod verify_webhooks;
