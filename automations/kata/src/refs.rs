//! `&name` definitions and `@ref` uses (kata.md §7), with cycle detection
//! and a bound on how much reference expansion may copy.

use std::collections::HashMap;

use crate::MAX_DEPTH;
use crate::error::KataError;
use crate::tree::{Node, NodeValue, is_php_ws, key_name};

/// Where a node sits in the original definitions: definition index plus
/// child indexes. `def == None` means "not inside a definition".
#[derive(Clone, Debug, Default)]
struct Loc {
    def: Option<usize>,
    path: Vec<usize>,
}

impl Loc {
    /// True when the target `(def, path)` contains this location.
    fn is_within(&self, def: usize, path: &[usize]) -> bool {
        self.def == Some(def) && self.path.starts_with(path)
    }
}

struct Resolver<'a> {
    defs: &'a [Node],
    /// Definition index by name (without the `&`); the first one wins.
    by_name: HashMap<&'a str, usize>,
    /// Expansion sites currently being expanded (outermost first).
    sites: Vec<Loc>,
    /// Size units copied so far.
    spent: usize,
    /// Most size units that may be copied.
    budget: usize,
}

/// Size units of a subtree: bytes of text plus a fixed cost per node.
fn cost(node: &Node) -> usize {
    let own = 32 + node.key.len();
    match &node.value {
        NodeValue::Text(t) => own + t.len(),
        NodeValue::Map(children) => children
            .iter()
            .fold(own, |acc, c| acc.saturating_add(cost(c))),
    }
}

impl<'a> Resolver<'a> {
    /// Finds the node a reference path points to: `(def, child path, node)`.
    fn lookup(&self, target: &str) -> Option<(usize, Vec<usize>, &'a Node)> {
        let defs: &'a [Node] = self.defs;
        let mut segs = target.split(':');
        let first = segs.next()?;
        let def = *self.by_name.get(first)?;
        let mut node = &defs[def];
        let mut path = Vec::new();
        for seg in segs {
            let NodeValue::Map(children) = &node.value else {
                return None;
            };
            let idx = children.iter().position(|c| c.name() == seg)?;
            path.push(idx);
            node = &children[idx];
        }
        Some((def, path, node))
    }

    fn resolve(&mut self, node: &mut Node, depth: usize, loc: &mut Loc) -> Result<(), KataError> {
        if depth > MAX_DEPTH {
            return Err(KataError::TooDeep { line: node.line });
        }
        match &mut node.value {
            NodeValue::Map(children) => {
                for (i, child) in children.iter_mut().enumerate() {
                    loc.path.push(i);
                    let r = self.resolve(child, depth + 1, loc);
                    loc.path.pop();
                    r?;
                }
                Ok(())
            }
            NodeValue::Text(text) => {
                if !node.key.contains("@") || !node.key.contains("ref") {
                    return Ok(());
                }
                let text = std::mem::take(text);
                let annotations = node.annotations();
                let Some(ref_at) = annotations.iter().position(|a| *a == "ref") else {
                    node.value = NodeValue::Text(text);
                    return Ok(());
                };
                let target = text.trim_matches(is_php_ws).to_owned();
                let name = key_name(&node.key).to_owned();
                let Some((def, path, found)) = self.lookup(&target) else {
                    node.key = name;
                    node.value = NodeValue::Text(text);
                    return Ok(());
                };
                if loc.is_within(def, &path) || self.sites.iter().any(|s| s.is_within(def, &path)) {
                    return Err(KataError::CircularReference { line: node.line });
                }
                if self.sites.len() >= MAX_DEPTH {
                    return Err(KataError::TooDeep { line: node.line });
                }
                self.spent = self.spent.saturating_add(cost(found));
                if self.spent > self.budget {
                    return Err(KataError::ReferenceTooLarge { line: node.line });
                }
                let mut merged: Vec<String> = annotations.iter().map(|a| (*a).to_owned()).collect();
                let target_annotations: Vec<String> = found
                    .annotations()
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect();
                merged.splice(ref_at..=ref_at, target_annotations);
                node.key = if merged.is_empty() {
                    name
                } else {
                    format!("{name}@{}", merged.join(","))
                };
                node.value = found.value.clone();
                // Cerb keeps the target's line for the substituted key.
                node.line = found.line;
                let outer = std::mem::replace(
                    loc,
                    Loc {
                        def: Some(def),
                        path,
                    },
                );
                self.sites.push(outer);
                let r = self.resolve(node, depth, loc);
                if let Some(outer) = self.sites.pop() {
                    *loc = outer;
                }
                r
            }
        }
    }
}

/// Removes the top-level `&` definitions and resolves every `@ref`.
pub(crate) fn resolve_references(nodes: Vec<Node>, budget: usize) -> Result<Vec<Node>, KataError> {
    let (defs, mut main): (Vec<Node>, Vec<Node>) =
        nodes.into_iter().partition(|n| n.key.starts_with('&'));
    let mut by_name = HashMap::new();
    for (i, d) in defs.iter().enumerate() {
        by_name
            .entry(d.name().strip_prefix('&').unwrap_or_default())
            .or_insert(i);
    }
    let mut resolver = Resolver {
        defs: &defs,
        by_name,
        sites: Vec::new(),
        spent: 0,
        budget,
    };
    // Check every definition (cycles, size) even when unused, as Cerb
    // expands them all.
    for (i, def) in defs.iter().enumerate() {
        let mut copy = def.clone();
        let mut loc = Loc {
            def: Some(i),
            path: Vec::new(),
        };
        resolver.resolve(&mut copy, 1, &mut loc)?;
    }
    for node in &mut main {
        let mut loc = Loc::default();
        resolver.resolve(node, 1, &mut loc)?;
    }
    Ok(main)
}
