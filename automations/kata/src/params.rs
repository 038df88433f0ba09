//! The automation parameter evaluator (kata.md §9): lazy, lenient
//! evaluation of a command's parameters against the working memory.

use katabox_value::{Array, Key, Value};

use crate::Scripting;
use crate::convert::{
    base64_lenient, csv_list, float_of, has_tags, int_of, lines_list, string_arg, trim_bytes,
    truthy,
};
use crate::eval::{date_of, kata_of, key_path, key_without_raw};
use crate::tree::{Node, NodeValue, nodes_to_value};

/// Logs `(node_path, message)`.
type Log<'a> = dyn FnMut(&str, String) + 'a;

/// Evaluates a command's parameter children into a map. Keys lose their
/// annotations (except the `@raw` case); `@optional` keys whose value is
/// null or `""` where the annotation stands are left out. Scripting errors become `false` and are
/// logged as `Scripting error: <msg>` at `path`.
pub fn evaluate_params(
    nodes: &[Node],
    dict: &Value,
    scripting: &dyn Scripting,
    path: &str,
    log: &mut Log<'_>,
) -> Value {
    Value::array(params_map(0, nodes, dict, scripting, path, log))
}

/// Evaluates one parameter key (§9). `None` when `@optional` removed it.
pub fn evaluate_param_value(
    node: &Node,
    dict: &Value,
    scripting: &dyn Scripting,
    path: &str,
    log: &mut Log<'_>,
) -> Option<Value> {
    param(0, node, dict, scripting, path, log).map(|(_, v)| v)
}

fn params_map(
    depth: usize,
    nodes: &[Node],
    dict: &Value,
    scripting: &dyn Scripting,
    path: &str,
    log: &mut Log<'_>,
) -> Array {
    let mut out = Array::with_capacity(nodes.len());
    for node in nodes {
        if let Some((k, v)) = param(depth, node, dict, scripting, path, log) {
            out.insert(Key::from(k.as_str()), v);
        }
    }
    out
}

/// One parameter: its output key and value, or `None` when removed.
fn param(
    depth: usize,
    node: &Node,
    dict: &Value,
    scripting: &dyn Scripting,
    path: &str,
    log: &mut Log<'_>,
) -> Option<(String, Value)> {
    let name = node.name();
    let annotations = node.annotations();
    let text = match &node.value {
        NodeValue::Map(_) if depth >= crate::MAX_DEPTH => {
            return Some((name.to_owned(), Value::Null));
        }
        NodeValue::Map(children) => {
            if annotations.contains(&"raw") {
                return Some((
                    key_without_raw(name, &annotations),
                    nodes_to_value(children),
                ));
            }
            return Some((
                name.to_owned(),
                Value::array(params_map(depth + 1, children, dict, scripting, path, log)),
            ));
        }
        NodeValue::Text(text) => text,
    };
    if annotations.contains(&"raw") {
        return Some((key_without_raw(name, &annotations), Value::str(text)));
    }
    let mut v = if has_tags(text) {
        match scripting.render(text, dict) {
            Ok(s) => Value::Str(s),
            Err(e) => {
                log(path, format!("Scripting error: {e}"));
                return Some((name.to_owned(), Value::Bool(false)));
            }
        }
    } else {
        Value::str(text)
    };
    // PHP's numeric casts are skipped for text holding "E+" (checked only
    // when an `int`/`float` annotation asks).
    let no_number = || text.contains("E+");
    for ann in &annotations {
        // Cerb applies the annotations in order and stops at `optional`
        // when the value is null or "" by then (`@optional,int` on "" drops
        // the key; `@int,optional` keeps 0).
        if *ann == "optional" {
            if v.is_null() || matches!(&v, Value::Str(s) if s.is_empty()) {
                return None;
            }
            continue;
        }
        v = match *ann {
            "base64" => match string_arg("base64_decode", &v) {
                Ok(s) => Value::bytes(base64_lenient(s.as_bytes())),
                Err(_) => Value::Null,
            },
            "bit" => Value::Int(i64::from(truthy(&v))),
            "bool" => Value::Bool(truthy(&v)),
            "csv" => csv_list(&v),
            "date" => date_of(&v),
            "float" if !no_number() => match string_arg("trim", &v) {
                Ok(s) => Value::Float(float_of(s.as_bytes())),
                Err(_) => Value::Float(0.0),
            },
            "int" if !no_number() => match string_arg("trim", &v) {
                Ok(s) => Value::Int(int_of(s.as_bytes())),
                Err(_) => Value::Int(0),
            },
            "json" => match &v {
                Value::Str(s) => katabox_value::json::decode(s.as_bytes()).unwrap_or(Value::Null),
                _ => Value::Null,
            },
            "kata" => kata_of(&v),
            "key" => match string_arg("trim", &v) {
                Ok(p) => {
                    let p = String::from_utf8_lossy(trim_bytes(p.as_bytes())).into_owned();
                    if p.contains(':') {
                        key_path(dict, &p, ':').cloned().unwrap_or(Value::Null)
                    } else {
                        dict.get(&p).cloned().unwrap_or(Value::Null)
                    }
                }
                Err(_) => Value::Null,
            },
            "list" => match string_arg("parseCrlfString", &v) {
                Ok(s) => lines_list(s.as_bytes()),
                Err(_) => Value::empty_array(),
            },
            "trim" => match &v {
                Value::Str(s) => Value::bytes(trim_bytes(s.as_bytes())),
                _ => v,
            },
            _ => v,
        };
    }
    Some((name.to_owned(), v))
}
