//! The node tree built from a script (automations.md §5), with Cerb's
//! build errors. Nodes are stored in pre-order, so a node's descendants are
//! the contiguous range `index + 1 .. end`.

use katabox_kata::{Node, NodeValue};

/// Every command name the engine knows (§5.1).
const COMMANDS: &[&str] = &[
    "start",
    "decision",
    "outcome",
    "repeat",
    "while",
    "api.command",
    "await",
    "data.query",
    "decrypt.pgp",
    "email.parse",
    "encrypt.pgp",
    "error",
    "file.read",
    "file.write",
    "function",
    "http.request",
    "kata.parse",
    "log",
    "log.alert",
    "log.error",
    "log.warn",
    "metric.increment",
    "queue.pop",
    "queue.push",
    "record.create",
    "record.delete",
    "record.get",
    "record.search",
    "record.update",
    "record.upsert",
    "return",
    "set",
    "simulate.error",
    "simulate.success",
    "storage.delete",
    "storage.get",
    "storage.set",
    "var.expand",
    "var.push",
    "var.set",
    "var.unset",
];

/// The event an event node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `on_success:`.
    Success,
    /// `on_error:`.
    Error,
    /// `on_simulate:`.
    Simulate,
}

impl Event {
    fn from_name(name: &str) -> Option<Event> {
        match name {
            "on_success" => Some(Event::Success),
            "on_error" => Some(Event::Error),
            "on_simulate" => Some(Event::Simulate),
            _ => None,
        }
    }
}

/// What a node does when activated (§6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The root (`automation`).
    Root,
    /// `start` (and the `then:` of an outcome is folded into [`Kind::Outcome`]).
    Sequence,
    /// An event under an action: a sequence of commands.
    Event(Event),
    /// An action; the command name (`set`, `http.request`, ...).
    Action(String),
    Decision,
    Outcome,
    Repeat,
    While,
}

/// One node of the tree.
#[derive(Clone, Debug)]
pub struct TreeNode {
    /// The node id: raw keys joined by `:` (§5.2).
    pub id: String,
    pub kind: Kind,
    /// The key as written.
    pub key: String,
    pub parent: Option<usize>,
    /// Children in order: commands, outcomes, `do:`/`then:` commands, or an
    /// action's events.
    pub children: Vec<usize>,
    /// Parameter keys (an action's parameters without events; `if`,
    /// `each`/`as`).
    pub params: Vec<Node>,
    /// One past the last descendant.
    pub end: usize,
}

/// The built tree; node 0 is the root.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub nodes: Vec<TreeNode>,
    /// The node of the top-level key named exactly `start`.
    pub start: Option<usize>,
}

impl Tree {
    /// Node ids to indexes (the first node of each id).
    pub fn index(&self) -> std::collections::HashMap<&str, usize> {
        let mut map = std::collections::HashMap::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate() {
            map.entry(n.id.as_str()).or_insert(i);
        }
        map
    }

    /// The first event child of `action` of kind `event`; with `direct`,
    /// only an event written directly under the action counts.
    pub fn event(&self, action: usize, event: Event, direct: bool) -> Option<usize> {
        let node = self.nodes.get(action)?;
        node.children.iter().copied().find(|&c| {
            self.nodes.get(c).is_some_and(|child| {
                child.kind == Kind::Event(event)
                    && (!direct || child.parent == Some(action) && is_direct(&node.id, &child.id))
            })
        })
    }
}

fn is_direct(action_id: &str, event_id: &str) -> bool {
    event_id
        .strip_prefix(action_id)
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|rest| !rest.contains(':'))
}

/// Builds the tree from the script's top-level keys (`inputs:` ignored).
pub fn build(top: Vec<Node>, max_depth: usize) -> Result<Tree, String> {
    let mut b = Builder {
        tree: Tree::default(),
        max_depth,
    };
    b.tree.nodes.push(TreeNode {
        id: "automation".into(),
        kind: Kind::Root,
        key: String::new(),
        parent: None,
        children: Vec::new(),
        params: Vec::new(),
        end: 1,
    });
    for node in top {
        match node.kind() {
            "inputs" => {}
            "start" => {
                let plain = node.key == "start";
                let idx = b.command(0, node.key.clone(), node, 1)?;
                if plain && b.tree.start.is_none() {
                    b.tree.start = Some(idx);
                }
            }
            other => return Err(format!("Unexpected command `{other}:`. Expected `start:`")),
        }
    }
    let len = b.tree.nodes.len();
    if let Some(root) = b.tree.nodes.get_mut(0) {
        root.end = len;
    }
    Ok(b.tree)
}

struct Builder {
    tree: Tree,
    max_depth: usize,
}

/// The children of a command container: a text value is one child with an
/// empty key (so `start: text` reports `start::`); empty text has none.
fn container_children(value: NodeValue, line: usize) -> Vec<Node> {
    match value {
        NodeValue::Map(children) => children,
        NodeValue::Text(t) if t.is_empty() => Vec::new(),
        NodeValue::Text(t) => vec![Node {
            key: String::new(),
            line,
            value: NodeValue::Text(t),
        }],
    }
}

impl Builder {
    fn push(&mut self, parent: usize, id: String, kind: Kind, key: String) -> usize {
        let idx = self.tree.nodes.len();
        self.tree.nodes.push(TreeNode {
            id,
            kind,
            key,
            parent: Some(parent),
            children: Vec::new(),
            params: Vec::new(),
            end: idx + 1,
        });
        if let Some(p) = self.tree.nodes.get_mut(parent) {
            p.children.push(idx);
        }
        idx
    }

    fn finish(&mut self, idx: usize) {
        let len = self.tree.nodes.len();
        if let Some(n) = self.tree.nodes.get_mut(idx) {
            n.end = len;
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), String> {
        if depth > self.max_depth {
            Err(format!(
                "The automation is nested too deeply (more than {} levels)",
                self.max_depth
            ))
        } else {
            Ok(())
        }
    }

    /// Builds the commands under a container (`start`, an event, `then:`,
    /// `do:`). `path` is the container's id, used in errors and child ids.
    fn commands(
        &mut self,
        parent: usize,
        path: &str,
        value: NodeValue,
        line: usize,
        ignore_unknown: bool,
        depth: usize,
    ) -> Result<(), String> {
        for child in container_children(value, line) {
            if COMMANDS.contains(&child.kind()) {
                let id = format!("{path}:{}", child.key);
                self.command(parent, id, child, depth + 1)?;
            } else if !ignore_unknown {
                return Err(format!("Unexpected command `{path}:{}:`", child.key));
            }
        }
        Ok(())
    }

    /// Builds one command node with id `id` under `parent`.
    fn command(
        &mut self,
        parent: usize,
        id: String,
        node: Node,
        depth: usize,
    ) -> Result<usize, String> {
        self.check_depth(depth)?;
        let kind = node.kind().to_string();
        let Node { key, line, value } = node;
        let idx = match kind.as_str() {
            "start" => {
                let idx = self.push(parent, id.clone(), Kind::Sequence, key);
                self.commands(idx, &id, value, line, false, depth)?;
                idx
            }
            "decision" => {
                let idx = self.push(parent, id.clone(), Kind::Decision, key);
                for child in container_children(value, line) {
                    if child.kind() != "outcome" {
                        return Err(format!(
                            "Unexpected command `{id}:{}:`. Expected `outcome:`",
                            child.kind()
                        ));
                    }
                    let child_id = format!("{id}:{}", child.key);
                    self.outcome(idx, child_id, child, depth + 1)?;
                }
                idx
            }
            "outcome" => self.outcome(parent, id, Node { key, line, value }, depth)?,
            "repeat" => {
                let node = Node { key, line, value };
                self.looped(parent, id, node, Kind::Repeat, &["each", "as"], depth)?
            }
            "while" => {
                let node = Node { key, line, value };
                self.looped(parent, id, node, Kind::While, &["if"], depth)?
            }
            _ => {
                let idx = self.push(parent, id.clone(), Kind::Action(kind), key);
                let params = match value {
                    NodeValue::Text(t) => vec![Node {
                        key: String::new(),
                        line,
                        value: NodeValue::Text(t),
                    }],
                    NodeValue::Map(children) => self.extract_events(idx, &id, children, depth)?,
                };
                if let Some(n) = self.tree.nodes.get_mut(idx) {
                    n.params = params;
                }
                idx
            }
        };
        self.finish(idx);
        Ok(idx)
    }

    fn outcome(
        &mut self,
        parent: usize,
        id: String,
        node: Node,
        depth: usize,
    ) -> Result<usize, String> {
        self.check_depth(depth)?;
        let Node { key, line, value } = node;
        let idx = self.push(parent, id.clone(), Kind::Outcome, key);
        let mut params = Vec::new();
        for child in container_children(value, line) {
            match child.kind() {
                "if" => params.push(child),
                "then" => {
                    let then_id = format!("{id}:{}", child.key);
                    self.commands(idx, &then_id, child.value, child.line, true, depth + 1)?;
                }
                other => {
                    return Err(format!(
                        "Unexpected command `{id}:{other}:`. Expected `if:` or `then:`"
                    ));
                }
            }
        }
        if let Some(n) = self.tree.nodes.get_mut(idx) {
            n.params = params;
        }
        self.finish(idx);
        Ok(idx)
    }

    fn looped(
        &mut self,
        parent: usize,
        id: String,
        node: Node,
        kind: Kind,
        param_names: &[&str],
        depth: usize,
    ) -> Result<usize, String> {
        let expected = if kind == Kind::Repeat {
            "Expected `each:`, `as:`, or `do:`"
        } else {
            "Expected `if:` or `do:`"
        };
        let Node { key, line, value } = node;
        let idx = self.push(parent, id.clone(), kind, key);
        let mut params = Vec::new();
        for child in container_children(value, line) {
            let k = child.kind();
            if k == "do" {
                let do_id = format!("{id}:{}", child.key);
                self.commands(idx, &do_id, child.value, child.line, false, depth + 1)?;
            } else if param_names.contains(&k) {
                params.push(child);
            } else {
                return Err(format!("Unexpected command `{id}:{k}:`. {expected}"));
            }
        }
        if let Some(n) = self.tree.nodes.get_mut(idx) {
            n.params = params;
        }
        Ok(idx)
    }

    /// Removes every `on_success`/`on_error`/`on_simulate` key at any depth
    /// of an action's parameters, building each as an event node (§8.1).
    fn extract_events(
        &mut self,
        action: usize,
        path: &str,
        params: Vec<Node>,
        depth: usize,
    ) -> Result<Vec<Node>, String> {
        self.check_depth(depth)?;
        let mut kept = Vec::with_capacity(params.len());
        for p in params {
            let event = Event::from_name(p.name());
            let Node { key, line, value } = p;
            let id = format!("{path}:{key}");
            if let Some(event) = event {
                let idx = self.push(action, id.clone(), Kind::Event(event), key);
                self.commands(idx, &id, value, line, false, depth + 1)?;
                self.finish(idx);
                continue;
            }
            let value = match value {
                NodeValue::Map(children) => {
                    NodeValue::Map(self.extract_events(action, &id, children, depth + 1)?)
                }
                text => text,
            };
            kept.push(Node { key, line, value });
        }
        Ok(kept)
    }
}
