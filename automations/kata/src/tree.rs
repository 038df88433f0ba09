//! The parsed KATA tree: string leaves, keys that keep their annotations.

use katabox_value::{Array, Key, Value};

/// A parsed KATA document: its top-level keys, references resolved and
/// `&`-definitions removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Top-level keys in document order.
    pub nodes: Vec<Node>,
}

/// One key of a parsed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The key as stored, with annotations: `a@int`, `set/x`, `body`
    /// (a block's `@text` removed).
    pub key: String,
    /// 1-based line of the key.
    pub line: usize,
    /// A string leaf or a map of children.
    pub value: NodeValue,
}

/// The value of a parsed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeValue {
    /// An inline value or a text block.
    Text(String),
    /// Child keys (possibly none: `key:` alone is an empty map).
    Map(Vec<Node>),
}

impl Node {
    /// The key without annotations (`set/x`, `a`).
    pub fn name(&self) -> &str {
        key_name(&self.key)
    }

    /// The part of the name before the first `/` (`set`).
    pub fn kind(&self) -> &str {
        let name = self.name();
        name.split_once('/').map_or(name, |(k, _)| k)
    }

    /// The part of the name after the first `/` (`x`), if any.
    pub fn label(&self) -> Option<&str> {
        self.name().split_once('/').map(|(_, l)| l)
    }

    /// The annotations in order (`["int"]`), split as Cerb splits them.
    pub fn annotations(&self) -> Vec<&str> {
        match self.key.split_once('@') {
            Some((_, ann)) => split_csv(ann),
            None => Vec::new(),
        }
    }

    /// True when `ann` is among the annotations.
    pub fn has_annotation(&self, ann: &str) -> bool {
        self.annotations().contains(&ann)
    }

    /// This node's value as parse output (strings and nested arrays).
    pub fn value_to_value(&self) -> Value {
        match &self.value {
            NodeValue::Text(s) => Value::str(s),
            NodeValue::Map(children) => nodes_to_value(children),
        }
    }
}

impl Tree {
    /// The parse output: nested arrays of strings, keys with annotations.
    pub fn to_value(&self) -> Value {
        nodes_to_value(&self.nodes)
    }
}

/// Nodes as a PHP array keyed by their stored keys.
pub(crate) fn nodes_to_value(nodes: &[Node]) -> Value {
    let mut a = Array::with_capacity(nodes.len());
    for n in nodes {
        a.insert(Key::from(n.key.as_str()), n.value_to_value());
    }
    Value::array(a)
}

/// A stored key without its annotations.
pub(crate) fn key_name(key: &str) -> &str {
    key.split_once('@').map_or(key, |(n, _)| n)
}

/// PHP whitespace as `trim()` sees it.
pub(crate) fn is_php_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\0' | '\x0b')
}

/// Cerb's `parseCsvString` on text: trailing commas and spaces removed,
/// split on `,`, tokens empty before trimming dropped, the rest trimmed.
/// Returns `(original index, token)` pairs: the indexes keep the holes.
pub(crate) fn split_csv_indexed(s: &str) -> Vec<(usize, &str)> {
    let s = s.trim_end_matches([',', ' ']);
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',')
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| (i, t.trim_matches(is_php_ws)))
        .collect()
}

/// [`split_csv_indexed`] without the indexes.
pub(crate) fn split_csv(s: &str) -> Vec<&str> {
    split_csv_indexed(s).into_iter().map(|(_, t)| t).collect()
}
