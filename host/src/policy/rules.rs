//! Command rules: collection order, name collisions, evaluation (policy.md §4).

use katabox_kata::{Node, Scripting, Tree};
use katabox_value::{Key, Value};

/// `allow` or `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// An `allow` rule.
    Allow,
    /// A `deny` rule.
    Deny,
}

/// One `allow`/`deny` rule under a command.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Allow or deny.
    pub kind: RuleKind,
    /// The `/NAME` part, if any.
    pub name: Option<String>,
    node: Node,
}

/// The rule's type: the key before `/` and `@`, lower-cased.
fn rule_type(key: &str) -> String {
    let end = key.find(['/', '@']).unwrap_or(key.len());
    key[..end].to_ascii_lowercase()
}

fn rule_name(key: &str) -> Option<String> {
    let slash = key.find('/')?;
    let rest = &key[slash + 1..];
    let end = rest.find('@').unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// The rules among a command's children, in document order (other keys are ignored).
pub fn collect(children: &[Node]) -> Vec<Rule> {
    children
        .iter()
        .filter_map(|n| {
            let kind = match rule_type(&n.key).as_str() {
                "allow" => RuleKind::Allow,
                "deny" => RuleKind::Deny,
                _ => return None,
            };
            Some(Rule {
                kind,
                name: rule_name(&n.key),
                node: n.clone(),
            })
        })
        .collect()
}

/// A name that collides: present and not an integer (PHP array-key rules).
fn colliding_name(rule: &Rule) -> Option<&str> {
    let name = rule.name.as_deref()?;
    match Key::from_bytes(name.as_bytes()) {
        Key::Int(_) => None,
        Key::Str(_) => Some(name),
    }
}

/// The command's rules followed by `all:`'s, where a later rule with the
/// same non-integer name replaces the earlier one in its position.
pub fn merge<'a>(
    own: impl Iterator<Item = &'a Rule>,
    all: impl Iterator<Item = &'a Rule>,
) -> Vec<&'a Rule> {
    let mut out: Vec<&Rule> = Vec::new();
    for rule in own.chain(all) {
        if let Some(name) = colliding_name(rule)
            && let Some(slot) = out.iter_mut().find(|r| colliding_name(r) == Some(name))
        {
            *slot = rule;
            continue;
        }
        out.push(rule);
    }
    out
}

/// Evaluates `{key: value}` with the general KATA evaluator, adding `@bool`
/// when the key has no annotations. Returns the evaluated key and value.
pub fn evaluate_node(
    node: &Node,
    dict: &Value,
    scripting: &dyn Scripting,
) -> Result<(String, Value), String> {
    let mut node = node.clone();
    if !node.key.contains('@') {
        node.key.push_str("@bool");
    }
    let tree = Tree { nodes: vec![node] };
    let v = katabox_kata::evaluate(&tree, Some(dict), scripting).map_err(|e| e.to_string())?;
    let first = v
        .as_array()
        .and_then(|a| a.get_index(0))
        .map(|(k, v)| (k.to_string_lossy(), v.clone()));
    Ok(first.unwrap_or((String::new(), Value::Null)))
}

impl Rule {
    /// The rule's verdict: `Ok(true)` when its value is PHP-truthy, an error
    /// when evaluation failed.
    pub fn evaluate(
        &self,
        placeholders: &Value,
        scripting: &dyn Scripting,
    ) -> Result<bool, String> {
        evaluate_node(&self.node, placeholders, scripting).map(|(_, v)| v.truthy())
    }
}
