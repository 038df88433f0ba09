//! katabox: a sandboxed webhook-automation host.
//!
//! The data path, top to bottom: [`server`] (HTTP, limits) → [`webhooks`]
//! (request → dictionary → event KATA picks the automation) → [`sandbox`]
//! (the automation runs in a wasmtime guest) → [`capabilities`] (each gated
//! command, checked by [`policy`]) → [`webhooks`] (result → response).
//! [`timers`] runs automation timers and their `await` continuations on
//! the same sandbox. [`store`] keeps everything, [`packages`] imports, [`api`] administers,
//! [`cli`] is the command line; [`metrics`] names every Prometheus series.

pub mod api;
pub mod capabilities;
pub mod cli;
pub mod console;
pub mod lang;
pub mod metrics;
pub mod packages;
pub mod policy;
pub mod sandbox;
pub mod server;
pub mod store;
pub mod timers;
pub mod webhooks;
