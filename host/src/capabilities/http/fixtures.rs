//! Canned responses: `http.request` answers from a list and opens no connection.

use serde::Deserialize;

/// One canned response (the conformance vectors' `[[http]]` entries).
#[derive(Debug, Clone, Deserialize)]
pub struct Fixture {
    /// Request method to match (case-insensitive).
    pub method: String,
    /// Request URL to match (exactly, or after URL normalisation).
    pub url: String,
    /// Response status.
    #[serde(default = "ok")]
    pub status: u16,
    /// Response headers: a JSON object, or a string holding one.
    #[serde(default)]
    pub headers: serde_json::Value,
    /// Response body.
    #[serde(default)]
    pub body: String,
}

fn ok() -> u16 {
    200
}

fn same_url(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

impl Fixture {
    /// The headers as (name, value) pairs.
    pub fn header_pairs(&self) -> Vec<(String, String)> {
        let obj = match &self.headers {
            serde_json::Value::String(s) => {
                serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
            }
            v => v.clone(),
        };
        match obj {
            serde_json::Value::Object(m) => m
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Finds the fixture for a request.
pub fn find<'a>(fixtures: &'a [Fixture], method: &str, url: &str) -> Option<&'a Fixture> {
    fixtures
        .iter()
        .find(|f| f.method.eq_ignore_ascii_case(method) && same_url(&f.url, url))
}

/// Parses a JSON list of fixtures.
pub fn parse(json: &[u8]) -> Result<Vec<Fixture>, String> {
    serde_json::from_slice(json).map_err(|e| e.to_string())
}
