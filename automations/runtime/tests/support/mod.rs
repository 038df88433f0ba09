//! Test double for the gated world: in-memory storage, queues, metrics and
//! files; `function:` scripts given by the test; http answered from fixtures;
//! a small policy stub (policy.md §4) deciding every gated command.

#![allow(dead_code)]

use katabox_kata::{Node, NodeValue, Scripting, Tree};
use katabox_runtime::{Host, LogLevel, RunRequest};
use katabox_value::{Array, Value};
use std::collections::HashMap;

/// A canned HTTP response.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub method: String,
    pub url: String,
    pub status: i64,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The test host.
pub struct TestHost<'a> {
    pub scripting: &'a dyn Scripting,
    /// The policy KATA; `None` denies every gated command.
    pub policy: Option<String>,
    pub fixtures: Vec<Fixture>,
    pub functions: HashMap<String, String>,
    pub storage: HashMap<String, Value>,
    pub queues: HashMap<String, Vec<Value>>,
    pub metrics: HashMap<String, i64>,
    pub files: HashMap<String, Value>,
    pub logs: Vec<(LogLevel, String, String)>,
    pub calls: Vec<(String, String, Value)>,
    pub depth: usize,
}

impl<'a> TestHost<'a> {
    pub fn new(scripting: &'a dyn Scripting, policy: Option<String>) -> TestHost<'a> {
        TestHost {
            scripting,
            policy,
            fixtures: Vec::new(),
            functions: HashMap::new(),
            storage: HashMap::new(),
            queues: HashMap::new(),
            metrics: HashMap::new(),
            files: HashMap::new(),
            logs: Vec::new(),
            calls: Vec::new(),
            depth: 0,
        }
    }

    /// Decides a gated command as policy.md §4 does.
    fn allowed(
        &self,
        command: &str,
        node_id: &str,
        inputs: &Value,
        output: Option<&Value>,
    ) -> bool {
        let Some(policy) = &self.policy else {
            return false;
        };
        let Ok(tree) = katabox_kata::parse(policy) else {
            return false;
        };
        let Some(commands) = tree.nodes.iter().find(|n| n.key == "commands") else {
            return false;
        };
        let NodeValue::Map(cmds) = &commands.value else {
            return false;
        };
        let mut rules: Vec<Node> = Vec::new();
        for section in [command, "all"] {
            if let Some(NodeValue::Map(rs)) =
                cmds.iter().find(|n| n.key == section).map(|n| &n.value)
            {
                rules.extend(
                    rs.iter()
                        .filter(|r| matches!(r.kind().to_lowercase().as_str(), "allow" | "deny"))
                        .cloned(),
                );
            }
        }
        let mut placeholders = Array::new();
        placeholders.insert("inputs", inputs.clone());
        if let Some(out) = output {
            placeholders.insert("output", out.clone());
        }
        let mut node = Array::new();
        node.insert("id", Value::str(node_id));
        node.insert("type", Value::str(command));
        placeholders.insert("node", Value::array(node));
        let dict = Value::array(placeholders);
        for mut rule in rules {
            let allow = rule.kind().eq_ignore_ascii_case("allow");
            if !rule.key.contains('@') {
                rule.key.push_str("@bool");
            }
            let name = rule.name().to_string();
            let Ok(v) =
                katabox_kata::evaluate(&Tree { nodes: vec![rule] }, Some(&dict), self.scripting)
            else {
                return false;
            };
            if v.get(&name).is_some_and(Value::truthy) {
                return allow;
            }
        }
        false
    }

    fn http(&mut self, inputs: &Value) -> Result<Value, String> {
        let url = inputs
            .get("url")
            .map(Value::to_string_lossy)
            .unwrap_or_default();
        let method = inputs
            .get("method")
            .map(Value::to_string_lossy)
            .unwrap_or_else(|| "GET".into())
            .to_uppercase();
        let fx = self
            .fixtures
            .iter()
            .find(|f| f.url == url && f.method.eq_ignore_ascii_case(&method))
            .ok_or_else(|| format!("Could not resolve host: {url}"))?;
        let mut headers = Array::new();
        let mut content_type = String::new();
        for (k, v) in &fx.headers {
            let k = k.to_lowercase();
            if k == "content-type" {
                content_type = v.split(';').next().unwrap_or("").trim().to_lowercase();
            }
            headers.insert(k.as_str(), Value::str(v));
        }
        let mut out = Array::new();
        out.insert("status_code", Value::Int(fx.status));
        out.insert("content_type", Value::str(content_type));
        out.insert("headers", Value::array(headers));
        out.insert("body", Value::str(&fx.body));
        out.insert("url", Value::str(&url));
        Ok(Value::array(out))
    }

    fn function(&mut self, inputs: &Value) -> Result<Value, String> {
        let uri = inputs
            .get("uri")
            .map(Value::to_string_lossy)
            .unwrap_or_default();
        let name = uri
            .strip_prefix("cerb:automation:")
            .unwrap_or(&uri)
            .to_string();
        let script = self
            .functions
            .get(&name)
            .cloned()
            .ok_or_else(|| format!("Function ({uri}) must be an automation.function"))?;
        if self.depth >= 8 {
            return Err("Function calls are nested too deeply".into());
        }
        let mut dict = Array::new();
        dict.insert(
            "inputs",
            inputs
                .get("inputs")
                .cloned()
                .unwrap_or_else(Value::empty_array),
        );
        self.depth += 1;
        let scripting = self.scripting;
        let outcome = katabox_runtime::run(
            RunRequest {
                trigger: "cerb.trigger.automation.function".into(),
                automation: name,
                script,
                dict: Value::array(dict),
            },
            self,
            scripting,
        );
        self.depth -= 1;
        match outcome.failure {
            Some(f) => Err(f),
            None => Ok(outcome.dict.get("__return").cloned().unwrap_or_default()),
        }
    }
}

fn key_of(inputs: &Value) -> Result<String, String> {
    match inputs.get("key") {
        Some(k) if !k.to_string_lossy().is_empty() => Ok(k.to_string_lossy()),
        _ => Err("`inputs:key:` is required.".into()),
    }
}

impl Host for TestHost<'_> {
    fn call(&mut self, command: &str, node_id: &str, payload: Value) -> Result<Value, String> {
        self.calls
            .push((command.to_string(), node_id.to_string(), payload.clone()));
        let inputs = payload
            .get("inputs")
            .cloned()
            .unwrap_or_else(Value::empty_array);
        let policy_inputs = if command == "http.request" {
            let mut a = inputs.as_array().cloned().unwrap_or_default();
            let m = a
                .get_str("method")
                .map(Value::to_string_lossy)
                .unwrap_or_else(|| "GET".into());
            a.insert("method", Value::str(m.to_uppercase()));
            Value::array(a)
        } else {
            inputs.clone()
        };
        if !self.allowed(command, node_id, &policy_inputs, payload.get("output")) {
            return Err(if command == "function" {
                "The automation policy does not allow the `function:` command.".into()
            } else {
                format!("The automation policy does not allow this command ({command}).")
            });
        }
        match command {
            "http.request" => self.http(&inputs),
            "function" => self.function(&payload),
            "storage.get" => {
                let key = key_of(&inputs)?;
                match self.storage.get(&key) {
                    Some(v) => Ok(v.clone()),
                    None => match inputs.get("default") {
                        Some(d) => Ok(d.clone()),
                        None => Err(format!("Failed to load the key (`{key}`)")),
                    },
                }
            }
            "storage.set" => {
                let key = key_of(&inputs)?;
                let value = inputs.get("value").cloned().unwrap_or_default();
                self.storage.insert(key.clone(), value);
                let mut out = Array::new();
                out.insert("key", Value::str(key));
                out.insert("expires", Value::Int(0));
                Ok(Value::array(out))
            }
            "storage.delete" => {
                let key = key_of(&inputs)?;
                self.storage.remove(&key);
                Ok(Value::Bool(true))
            }
            "metric.increment" => {
                let name = inputs
                    .get("metric_name")
                    .map(Value::to_string_lossy)
                    .unwrap_or_default();
                *self.metrics.entry(name).or_default() += 1;
                Ok(Value::empty_array())
            }
            "queue.push" => {
                let name = inputs
                    .get("queue_name")
                    .map(Value::to_string_lossy)
                    .unwrap_or_default();
                let messages: Vec<Value> = inputs
                    .get("messages")
                    .and_then(Value::as_array)
                    .map(|a| a.values().cloned().collect())
                    .unwrap_or_default();
                let q = self.queues.entry(name).or_default();
                let ids: Vec<Value> = (0..messages.len())
                    .map(|i| Value::str(format!("m{}", q.len() + i)))
                    .collect();
                q.extend(messages);
                Ok(Value::list(ids))
            }
            "queue.pop" => {
                let name = inputs
                    .get("queue_name")
                    .map(Value::to_string_lossy)
                    .unwrap_or_default();
                let q = self.queues.entry(name).or_default();
                let mut messages = Array::new();
                if !q.is_empty() {
                    messages.push(q.remove(0));
                }
                let mut out = Array::new();
                out.insert("consumer_id", Value::str("c1"));
                out.insert("messages", Value::array(messages));
                Ok(Value::array(out))
            }
            "file.write" => {
                let uri = format!("cerb:automation_resource:{}", self.files.len());
                self.files.insert(
                    uri.clone(),
                    inputs.get("content").cloned().unwrap_or_default(),
                );
                let mut out = Array::new();
                out.insert("uri", Value::str(&uri));
                Ok(Value::array(out))
            }
            "file.read" => {
                let uri = inputs
                    .get("uri")
                    .map(Value::to_string_lossy)
                    .unwrap_or_default();
                let bytes =
                    self.files.get(&uri).cloned().ok_or_else(|| {
                        format!("Failed to load the automation resource (`{uri}`)")
                    })?;
                let mut out = Array::new();
                out.insert("bytes", bytes);
                out.insert("uri", Value::str(uri));
                Ok(Value::array(out))
            }
            other => Err(format!("`{other}` is not available in katabox")),
        }
    }

    fn log(&mut self, level: LogLevel, node_id: &str, message: &str) {
        self.logs
            .push((level, node_id.to_string(), message.to_string()));
    }
}

/// Parses JSON text into a value.
pub fn json(text: &str) -> Value {
    katabox_value::json::decode(text.as_bytes()).unwrap_or_default()
}

/// Compares a value with expected JSON per FORMAT.md: object key order is
/// insignificant, `{}` equals `[]`, and `loose` compares scalars as PHP `==`.
pub fn matches(actual: &Value, expected: &serde_json::Value, loose: bool) -> bool {
    use serde_json::Value as J;
    match (actual, expected) {
        (Value::Array(a), J::Array(list)) => {
            (a.is_empty() && list.is_empty())
                || (a.is_list()
                    && a.len() == list.len()
                    && a.values().zip(list).all(|(x, y)| matches(x, y, loose)))
        }
        (Value::Array(a), J::Object(map)) => {
            a.len() == map.len()
                && map
                    .iter()
                    .all(|(k, v)| a.get_str(k).is_some_and(|x| matches(x, v, loose)))
        }
        (Value::Array(a), _) => a.is_empty() && loose && expected.is_null(),
        (_, J::Array(_) | J::Object(_)) => false,
        _ => {
            let e = katabox_value::json::from_serde(expected);
            if loose {
                katabox_value::compare::loose_eq(actual, &e)
            } else {
                katabox_value::compare::strict_eq(actual, &e)
            }
        }
    }
}
