//! A typed forwarder from gated commands to the world's imports.

use crate::bindings::katabox::automation::{
    automations, files, http, log, metrics, queue, secrets, storage,
};
use crate::command::{Gated, LogLevel};
use katabox_value::Value;

/// Sends gated commands and log lines to the host through the imports.
#[derive(Debug, Default, Clone, Copy)]
pub struct Imports;

impl Imports {
    /// Runs gated `command` for node `node_id` with the evaluated `inputs`;
    /// the error is the host's command error message (Cerb's text).
    pub fn call(&self, command: Gated, node_id: &str, inputs: &Value) -> Result<Value, String> {
        let bytes = crate::encode(inputs);
        let result = match command {
            Gated::HttpRequest => http::request(node_id, &bytes),
            Gated::StorageGet => storage::get(node_id, &bytes),
            Gated::StorageSet => storage::set(node_id, &bytes),
            Gated::StorageDelete => storage::delete(node_id, &bytes),
            Gated::QueuePush => queue::push(node_id, &bytes),
            Gated::QueuePop => queue::pop(node_id, &bytes),
            Gated::Function => automations::call(node_id, &bytes),
            Gated::MetricIncrement => metrics::increment(node_id, &bytes),
            Gated::FileRead => files::read(node_id, &bytes),
            Gated::FileWrite => files::write(node_id, &bytes),
        };
        match result {
            Ok(out) => crate::decode(&out).map_err(|e| e.to_string()),
            Err(e) => Err(e.message),
        }
    }

    /// Writes a line to the automation log.
    pub fn log(&self, level: LogLevel, node_id: &str, message: &str) {
        let level = match level {
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Info => log::Level::Info,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Error => log::Level::Error,
            LogLevel::Alert => log::Level::Alert,
        };
        log::write(level, node_id, message);
    }

    /// HMAC of `data` with the host-held secret `secret` (`sha1`, `sha256`
    /// or `sha512`); the guest never sees the secret itself.
    pub fn hmac(
        &self,
        node_id: &str,
        secret: &str,
        algorithm: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, String> {
        secrets::hmac(node_id, secret, algorithm, data).map_err(|e| e.message)
    }
}

/// The dictionary of a run request, decoded.
pub fn request_dict(
    request: &crate::bindings::exports::katabox::automation::run::Request,
) -> Result<Value, crate::ValueError> {
    crate::decode(&request.dict)
}

/// A run outcome from a final dictionary and an optional failure message.
pub fn outcome(
    dict: &Value,
    failure: Option<String>,
) -> crate::bindings::exports::katabox::automation::run::Outcome {
    crate::bindings::exports::katabox::automation::run::Outcome {
        dict: crate::encode(dict),
        failure,
    }
}
