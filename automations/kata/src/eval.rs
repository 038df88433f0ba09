//! The general evaluator (kata.md §8, §12): parsed tree + optional
//! dictionary → typed values.

use katabox_value::{Array, Key, Value};

use crate::Scripting;
use crate::convert::{
    base64_lenient, csv_list, float_of, has_tags, int_of, lines_list, string_arg, trim_bytes,
    truthy,
};
use crate::error::KataError;
use crate::tree::{Node, NodeValue, Tree, nodes_to_value};

/// Walks `path` (split on `sep`) through nested arrays (§11.5). A non-array
/// met before the end of the path is returned as is; a missing key gives
/// `None`.
pub fn key_path<'a>(dict: &'a Value, path: &str, sep: char) -> Option<&'a Value> {
    dict.get_path(path.split(sep))
}

/// The current time as a Unix timestamp.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The key name plus every annotation except `raw`.
pub(crate) fn key_without_raw(name: &str, annotations: &[&str]) -> String {
    let rest: Vec<&str> = annotations
        .iter()
        .copied()
        .filter(|a| *a != "raw")
        .collect();
    if rest.is_empty() {
        name.to_owned()
    } else {
        format!("{name}@{}", rest.join(","))
    }
}

/// `@date`: a Unix timestamp, or `false` when the text does not parse.
pub(crate) fn date_of(v: &Value) -> Value {
    let text = v.to_string_lossy();
    match katabox_value::date::strtotime(&text, now(), "UTC") {
        Some(ts) => Value::Int(ts),
        None => Value::Bool(false),
    }
}

struct Evaluator<'a> {
    dict: Option<&'a Value>,
    scripting: &'a dyn Scripting,
    path: Vec<&'a str>,
}

impl<'a> Evaluator<'a> {
    fn fail(&self, message: String) -> KataError {
        KataError::Eval {
            path: self.path.join(":"),
            message,
        }
    }

    /// Evaluates one node: its output key and value.
    fn node(&mut self, node: &'a Node) -> Result<(Key, Value), KataError> {
        if self.path.len() >= crate::MAX_DEPTH {
            return Err(KataError::TooDeep { line: node.line });
        }
        self.path.push(node.name());
        let r = self.node_inner(node);
        if r.is_ok() {
            self.path.pop();
        }
        r
    }

    fn node_inner(&mut self, node: &'a Node) -> Result<(Key, Value), KataError> {
        let name = node.name();
        let annotations = node.annotations();
        match &node.value {
            NodeValue::Map(children) => {
                if annotations.contains(&"raw") {
                    let key = key_without_raw(name, &annotations);
                    return Ok((Key::from(key.as_str()), nodes_to_value(children)));
                }
                let mut out = Array::with_capacity(children.len());
                for child in children {
                    let (k, v) = self.node(child)?;
                    out.insert(k, v);
                }
                Ok((Key::from(name), Value::array(out)))
            }
            NodeValue::Text(text) => {
                if let Some(dict) = self.dict {
                    if annotations.contains(&"raw") {
                        let key = key_without_raw(name, &annotations);
                        return Ok((Key::from(key.as_str()), Value::str(text)));
                    }
                    let mut v = if has_tags(text) {
                        Value::Str(
                            self.scripting
                                .render(text, dict)
                                .map_err(|e| self.fail(e))?,
                        )
                    } else {
                        Value::str(text)
                    };
                    for ann in &annotations {
                        v = self.annotate(ann, v)?;
                    }
                    Ok((Key::from(name), v))
                } else {
                    let mut v = Value::str(text);
                    for ann in &annotations {
                        if *ann == "raw" {
                            let key = key_without_raw(name, &annotations);
                            return Ok((Key::from(key.as_str()), v));
                        }
                        v = self.annotate(ann, v)?;
                    }
                    Ok((Key::from(name), v))
                }
            }
        }
    }

    /// Applies one annotation of the general evaluator (§8.2).
    fn annotate(&self, ann: &str, v: Value) -> Result<Value, KataError> {
        Ok(match ann {
            "base64" => Value::bytes(base64_lenient(
                string_arg("base64_decode", &v)
                    .map_err(|e| self.fail(e))?
                    .as_bytes(),
            )),
            "bit" => Value::Int(i64::from(truthy(&v))),
            "bool" => Value::Bool(truthy(&v)),
            "csv" => csv_list(&v),
            "date" => date_of(&v),
            "float" => Value::Float(float_of(
                string_arg("trim", &v).map_err(|e| self.fail(e))?.as_bytes(),
            )),
            "int" => Value::Int(int_of(
                string_arg("trim", &v).map_err(|e| self.fail(e))?.as_bytes(),
            )),
            "json" => match &v {
                Value::Str(s) => katabox_value::json::decode(s.as_bytes()).unwrap_or(Value::Null),
                _ => Value::Null,
            },
            "kata" => kata_of(&v),
            "key" => {
                let p = string_arg("trim", &v).map_err(|e| self.fail(e))?;
                let path = String::from_utf8_lossy(trim_bytes(p.as_bytes())).into_owned();
                match self.dict {
                    Some(dict) if path.contains('.') => {
                        key_path(dict, &path, '.').cloned().unwrap_or(Value::Null)
                    }
                    Some(dict) => dict.get(&path).cloned().unwrap_or(Value::Null),
                    None => Value::str(path),
                }
            }
            "list" => lines_list(
                string_arg("parseCrlfString", &v)
                    .map_err(|e| self.fail(e))?
                    .as_bytes(),
            ),
            "optional" | "raw" | "text" => v,
            "trim" => match &v {
                Value::Str(s) => Value::bytes(trim_bytes(s.as_bytes())),
                _ => v,
            },
            other => return Err(self.fail(format!("Unknown annotation: @{other}"))),
        })
    }
}

/// `@kata`: the parse output of the text (not evaluated), or `false`.
pub(crate) fn kata_of(v: &Value) -> Value {
    match v {
        Value::Array(_) | Value::Object(_) => Value::Bool(false),
        other => match crate::parse(&other.to_string_lossy()) {
            Ok(tree) => tree.to_value(),
            Err(_) => Value::Bool(false),
        },
    }
}

/// Evaluates a parsed tree (§8) against an optional dictionary. Integer
/// keys at the top level are renumbered (§12).
pub fn evaluate(
    tree: &Tree,
    dict: Option<&Value>,
    scripting: &dyn Scripting,
) -> Result<Value, KataError> {
    let mut ev = Evaluator {
        dict,
        scripting,
        path: Vec::new(),
    };
    let mut out = Array::with_capacity(tree.nodes.len());
    for node in &tree.nodes {
        let (k, v) = ev.node(node)?;
        match k {
            Key::Int(_) => out.push(v),
            k => out.insert(k, v),
        }
    }
    Ok(Value::array(out))
}
