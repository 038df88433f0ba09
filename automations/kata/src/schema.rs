//! Schema validation of KATA documents (kata.md §14).

use katabox_value::compare::loose_eq;
use katabox_value::convert::parse_numeric;
use katabox_value::{Array, Value};
use regex::RegexBuilder;

use crate::Scripting;
use crate::tree::{Node, NodeValue};

/// Validates `text` against the schema KATA `schema` (§14). Without a
/// dictionary, templates are only syntax-checked and scalar types are not
/// checked. The error is Cerb's message.
pub fn validate(
    text: &str,
    schema: &str,
    dict: Option<&Value>,
    scripting: &dyn Scripting,
) -> Result<(), String> {
    let tree = crate::parse(text).map_err(|e| e.to_string())?;
    if dict.is_none() {
        check_scripting(&tree.nodes, scripting)?;
    }
    let doc = crate::evaluate(&tree, dict, scripting).map_err(|e| e.to_string())?;
    let schema_tree = crate::parse(schema).map_err(|e| format!("Syntax error: {e}"))?;
    let schema = crate::evaluate(&schema_tree, Some(&Value::empty_array()), scripting)
        .map_err(|e| e.to_string())?;
    let definitions = schema
        .get("definitions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let root = schema
        .get("schema")
        .cloned()
        .unwrap_or_else(Value::empty_array);
    let mut v = Validator {
        definitions: &definitions,
        has_dict: dict.is_some(),
        key_path: Vec::new(),
    };
    let mut root_types = Array::new();
    root_types.insert("object", root);
    v.check(None, &doc, &root_types)
}

/// Syntax-checks every templated string, in Cerb's (last-first) order.
fn check_scripting(nodes: &[Node], scripting: &dyn Scripting) -> Result<(), String> {
    let mut stack: Vec<(String, &Node)> = nodes
        .iter()
        .map(|n| (format!("{}:", n.name()), n))
        .collect();
    while let Some((prefix, node)) = stack.pop() {
        match &node.value {
            NodeValue::Map(children) => {
                stack.extend(
                    children
                        .iter()
                        .map(|c| (format!("{prefix}{}:", c.name()), c)),
                );
            }
            NodeValue::Text(t) if t.contains("{{") || t.contains("{%") => {
                if let Err(e) = scripting.check(t) {
                    return Err(format!(
                        "Scripting error [{prefix}]: {} (line {})",
                        raw_message(&e),
                        node.line
                    ));
                }
            }
            NodeValue::Text(_) => {}
        }
    }
    Ok(())
}

/// Twig's raw message: the engine's message without a trailing
/// ` (line N)` (Cerb reports the KATA line instead).
fn raw_message(message: &str) -> &str {
    if let Some(open) = message.rfind(" (line ")
        && let Some(num) = message[open + 7..].strip_suffix(')')
        && !num.is_empty()
        && num.bytes().all(|b| b.is_ascii_digit())
    {
        return &message[..open];
    }
    message
}

/// The part of `s` before `sep` (all of it when absent).
fn before(s: &str, sep: char) -> &str {
    s.split_once(sep).map_or(s, |(a, _)| a)
}

/// A `match:` pattern: `/regex/flags`, or a wildcard where `*` is any text.
fn pattern_matches(pattern: &str, subject: &str) -> bool {
    let (body, flags) = match pattern.strip_prefix('/').and_then(|p| p.rsplit_once('/')) {
        Some((body, flags)) => (body.to_owned(), flags.to_owned()),
        None => {
            let parts: Vec<String> = pattern.split('*').map(regex::escape).collect();
            (format!("^{}$", parts.join(".*")), "i".to_owned())
        }
    };
    let mut b = RegexBuilder::new(&body);
    b.case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .ignore_whitespace(flags.contains('x'))
        .size_limit(1 << 20);
    b.build().is_ok_and(|re| re.is_match(subject))
}

struct Validator<'a> {
    definitions: &'a Array,
    has_dict: bool,
    key_path: Vec<String>,
}

impl Validator<'_> {
    fn prefix(&self) -> String {
        if self.key_path.is_empty() {
            String::new()
        } else {
            format!("{}:", self.key_path.join(":"))
        }
    }

    /// Resolves `ref:` against the definitions; sibling keys override.
    fn expand_rule(&self, rule: &Value) -> Array {
        let Some(rule) = rule.as_array() else {
            return Array::new();
        };
        if let Some(name) = rule.get_str("ref").and_then(Value::as_str)
            && let Some(def) = self.definitions.get_str(name)
        {
            let mut merged = def.as_array().cloned().unwrap_or_default();
            for (k, v) in rule.iter() {
                if k.to_string_lossy() != "ref" {
                    merged.insert(k.clone(), v.clone());
                }
            }
            return merged;
        }
        rule.clone()
    }

    fn check(
        &mut self,
        key: Option<&str>,
        value: &Value,
        attributes: &Array,
    ) -> Result<(), String> {
        let node_types: Array = match key {
            Some(k) => {
                self.key_path.push(k.to_owned());
                attributes
                    .get_str(before(k, '/'))
                    .and_then(|r| r.get("types"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            }
            None => attributes.clone(),
        };
        if self.key_path.len() > crate::MAX_DEPTH {
            return Err(format!(
                "Key `{}:` is nested too deeply",
                self.key_path.join(":")
            ));
        }
        let mut found = false;
        for (node_type, params) in node_types.iter() {
            if found {
                break;
            }
            let node_type = node_type.to_string_lossy();
            let is_object = matches!(value, Value::Array(a) if a.is_empty() || !a.is_list());
            if node_type == "object" && is_object {
                found = true;
                self.check_object(value, params)?;
            } else {
                if !self.has_dict {
                    found = true;
                }
                found |= match node_type.as_str() {
                    "any" => true,
                    "bit" => loose_eq(value, &Value::Int(0)) || loose_eq(value, &Value::Int(1)),
                    "bool" => matches!(value, Value::Bool(_)),
                    "list" => matches!(value, Value::Array(_)),
                    "number" => match value {
                        Value::Int(_) | Value::Float(_) => true,
                        Value::Str(s) => parse_numeric(s.as_bytes()).is_some(),
                        _ => false,
                    },
                    "string" => matches!(value, Value::Str(_) | Value::Null),
                    _ => false,
                };
            }
        }
        if !found {
            let path = self.key_path.join(":");
            return Err(if node_types.is_empty() {
                format!("Key `{path}:` has no schema type")
            } else {
                let names: Vec<String> = node_types.keys().map(|k| k.to_string_lossy()).collect();
                format!("Key `{path}:` must be of type: {}", names.join(", "))
            });
        }
        if key.is_some() {
            self.key_path.pop();
        }
        Ok(())
    }

    fn check_object(&mut self, value: &Value, params: &Value) -> Result<(), String> {
        let Some(children) = value.as_array() else {
            return Ok(());
        };
        let mut type_attributes = params
            .get("attributes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let node_attributes: Vec<(String, String)> = children
            .keys()
            .map(|k| {
                let k = k.to_string_lossy();
                let t = before(before(&k, '/'), '@').to_owned();
                (k, t)
            })
            .collect();
        let prefix = self.prefix();
        let mut unknown: Vec<&str> = Vec::new();
        for (_, t) in &node_attributes {
            if !type_attributes.contains_key(&t.as_str().into()) && !unknown.contains(&t.as_str()) {
                unknown.push(t);
            }
        }
        if !unknown.is_empty() {
            let patterns = params
                .get("attributePatterns")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for u in unknown {
                let mut matched = false;
                for (pk, pv) in patterns.iter() {
                    if before(&pk.to_string_lossy(), '/') != "pattern" {
                        continue;
                    }
                    let Some(m) = pv.get("match") else {
                        continue;
                    };
                    if pattern_matches(&m.to_string_lossy(), u) {
                        matched = true;
                        type_attributes.insert(
                            u,
                            pv.get("attributes")
                                .cloned()
                                .unwrap_or_else(Value::empty_array),
                        );
                    }
                }
                if !matched {
                    return Err(format!("Key `{prefix}{u}:` is unknown"));
                }
            }
        }
        let attr_keys: Vec<_> = type_attributes.keys().cloned().collect();
        for attr_key in attr_keys {
            let rule = type_attributes.get(&attr_key).cloned().unwrap_or_default();
            let rule = self.expand_rule(&rule);
            let name = attr_key.to_string_lossy();
            let count = node_attributes.iter().filter(|(_, t)| *t == name).count();
            if rule.contains_key(&"required".into()) && count == 0 {
                return Err(format!("Key `{prefix}{name}:` is required"));
            }
            let multiple = rule
                .get_str("multiple")
                .is_some_and(katabox_value::convert::truthy);
            if !multiple {
                if node_attributes
                    .iter()
                    .any(|(k, t)| *t == name && k.contains('/'))
                {
                    return Err(format!("Key `{prefix}{name}:` must not have a name"));
                }
                if count > 1 {
                    return Err(format!("Key `{prefix}{name}:` can not be duplicated"));
                }
            }
            type_attributes.insert(attr_key, Value::array(rule));
        }
        for (k, v) in children.iter() {
            self.check(Some(&k.to_string_lossy()), v, &type_attributes)?;
        }
        Ok(())
    }
}
