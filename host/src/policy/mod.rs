//! Policy KATA: which gated commands a run may use, and its time limit
//! (spec: policy.md). Decided in the host, never in the guest.
//!
//! [`Policy::parse`] reads the KATA once (a parse error is Cerb's
//! `Invalid automation policy`); [`Policy::allows`] evaluates the command's
//! rules against the placeholder dictionary of [`placeholders`] — rule
//! order, named rules, `all:`, default deny, `@bool` for unannotated rules,
//! deny on an evaluation error; [`Policy::time_limit_ms`] is §6;
//! [`Policy::allows_caller`] is §7.

mod rules;
mod scripting;
mod settings;

pub use scripting::{NoTemplates, host_scripting};

pub use rules::{Rule, RuleKind};

use katabox_kata::{Node, NodeValue, Scripting};
use katabox_value::{Array, Value};

/// Cerb's message when the policy KATA does not parse.
pub const INVALID_POLICY: &str = "Invalid automation policy";

/// The denial message for a command (policy.md §9).
pub fn denial_message(command: &str) -> String {
    if command == "function" {
        "The automation policy does not allow the `function:` command.".to_string()
    } else {
        format!("The automation policy does not allow this command ({command}).")
    }
}

/// The denial message when a callee's `callers:` refuse the caller: the
/// text Cerb gives when an interaction's caller is refused
/// (`profiles/bot.php`), with the caller's name.
pub fn caller_denial_message(caller: &str) -> String {
    format!("The automation policy does not allow this command ({caller}).")
}

/// A policy that did not parse.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Invalid automation policy")]
pub struct InvalidPolicy {
    /// The KATA parser's message (for logs; Cerb shows only the fixed text).
    pub detail: String,
}

/// A parsed automation policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    commands: Vec<(String, Vec<Rule>)>,
    all: Vec<Rule>,
    callers: Vec<(String, Vec<Node>)>,
    time_limit_ms: u64,
}

impl Policy {
    /// Parses policy KATA (parse only, no evaluation). Empty text is a valid
    /// policy that allows nothing.
    pub fn parse(text: &str) -> Result<Policy, InvalidPolicy> {
        let tree = katabox_kata::parse(text).map_err(|e| InvalidPolicy {
            detail: e.to_string(),
        })?;
        let mut policy = Policy {
            time_limit_ms: crate::sandbox::DEFAULT_TIME_LIMIT_MS,
            ..Policy::default()
        };
        for top in &tree.nodes {
            let NodeValue::Map(children) = &top.value else {
                continue;
            };
            match top.key.as_str() {
                "commands" => {
                    for cmd in children {
                        let rules = match &cmd.value {
                            NodeValue::Map(r) => rules::collect(r),
                            NodeValue::Text(_) => Vec::new(),
                        };
                        if cmd.key == "all" {
                            policy.all.extend(rules);
                        } else {
                            policy.commands.push((cmd.key.clone(), rules));
                        }
                    }
                }
                "callers" => {
                    for caller in children {
                        if let NodeValue::Map(r) = &caller.value {
                            policy.callers.push((caller.key.clone(), r.clone()));
                        } else {
                            policy.callers.push((caller.key.clone(), Vec::new()));
                        }
                    }
                }
                "settings" => {
                    if let Some(ms) = settings::time_limit(children) {
                        policy.time_limit_ms = ms;
                    }
                }
                _ => {}
            }
        }
        Ok(policy)
    }

    /// The run's time limit in ms (policy.md §6: default 25,000, clamped to
    /// 0–120,000).
    pub fn time_limit_ms(&self) -> u64 {
        self.time_limit_ms
    }

    /// The rules for `command` in evaluation order: the command's own, then
    /// `all:`, with `all:` rules of the same non-integer name replacing the
    /// command's rule in place (policy.md §4.1).
    pub fn rules_for(&self, command: &str) -> Vec<&Rule> {
        let own = self
            .commands
            .iter()
            .filter(|(name, _)| name == command)
            .flat_map(|(_, rules)| rules.iter());
        rules::merge(own, self.all.iter())
    }

    /// Whether any rule could ever allow `command` (an `allow` rule under it
    /// or under `all:`). When false the command is denied without evaluating anything.
    pub fn may_allow(&self, command: &str) -> bool {
        self.rules_for(command)
            .iter()
            .any(|r| r.kind == RuleKind::Allow)
    }

    /// Decides one gated command call (policy.md §4) against the placeholder
    /// dictionary (see [`placeholders`]).
    pub fn allows(&self, command: &str, placeholders: &Value, scripting: &dyn Scripting) -> bool {
        for rule in self.rules_for(command) {
            match rule.evaluate(placeholders, scripting) {
                Err(_) => return false,
                Ok(true) => return rule.kind == RuleKind::Allow,
                Ok(false) => {}
            }
        }
        false
    }

    /// Decides whether a caller may start the automation (policy.md §7,
    /// including the quirk that named caller rules never match).
    pub fn allows_caller(&self, caller: &str, dict: &Value, scripting: &dyn Scripting) -> bool {
        if self.callers.is_empty() {
            return true;
        }
        let own = self
            .callers
            .iter()
            .filter(|(name, _)| name == caller)
            .flat_map(|(_, r)| r.iter());
        let all = self
            .callers
            .iter()
            .filter(|(name, _)| name == "all")
            .flat_map(|(_, r)| r.iter());
        // Only `allow`/`deny` keys (any case, any `/name`) are rules; Cerb
        // skips the others without evaluating them.
        let is_rule = |node: &&Node| {
            let kind = node.key.split(['@', '/']).next().unwrap_or("");
            kind.eq_ignore_ascii_case("allow") || kind.eq_ignore_ascii_case("deny")
        };
        for node in own.chain(all).filter(is_rule) {
            let Ok((key, value)) = rules::evaluate_node(node, dict, scripting) else {
                return false;
            };
            if value.truthy() {
                if key == "allow" {
                    return true;
                }
                if key == "deny" {
                    return false;
                }
            }
        }
        false
    }
}

/// The dictionary command rules see (policy.md §5): `node.id`, `node.type`,
/// `inputs`, `output`, plus `uri` for `function`.
pub fn placeholders(
    node_id: &str,
    command: &str,
    inputs: &Value,
    output: Option<&str>,
    uri: Option<&str>,
) -> Value {
    let mut node = Array::new();
    node.insert("id", Value::str(node_id));
    node.insert("type", Value::str(command));
    let mut p = Array::new();
    p.insert("node", Value::array(node));
    p.insert("inputs", inputs.clone());
    p.insert("output", output.map(Value::str).unwrap_or(Value::Null));
    if let Some(uri) = uri {
        p.insert("uri", Value::str(uri));
    }
    Value::array(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `callers:` decisions from Cerb's own `CerbAutomationPolicy::isCallerAllowed`
    /// (the oracle's `policy` mode with `caller` and a `caller_dict` of
    /// `caller_name` and, when the third field is set, `inputs.x`). A rule
    /// whose template does not compile makes Cerb throw a TypeError; katabox
    /// denies (not a vector).
    const CERB_CALLER_VECTORS: &[(&str, &str, &str, bool)] = &[
        (
            "commands:\n  function:\n    allow: yes\n",
            "r2.caller",
            "",
            true,
        ),
        (
            "commands:\n  function:\n    allow: yes\n",
            "r2.caller",
            "ok",
            true,
        ),
        (
            "commands:\n  function:\n    allow: yes\n",
            "r2.other",
            "",
            true,
        ),
        (
            "commands:\n  function:\n    allow: yes\n",
            "r2.other",
            "ok",
            true,
        ),
        ("callers:\n", "r2.caller", "", true),
        ("callers:\n", "r2.caller", "ok", true),
        ("callers:\n", "r2.other", "", true),
        ("callers:\n", "r2.other", "ok", true),
        ("callers:\n  all:\n    deny: yes\n", "r2.caller", "", false),
        (
            "callers:\n  all:\n    deny: yes\n",
            "r2.caller",
            "ok",
            false,
        ),
        ("callers:\n  all:\n    deny: yes\n", "r2.other", "", false),
        ("callers:\n  all:\n    deny: yes\n", "r2.other", "ok", false),
        ("callers:\n  all:\n    allow: yes\n", "r2.caller", "", true),
        (
            "callers:\n  all:\n    allow: yes\n",
            "r2.caller",
            "ok",
            true,
        ),
        ("callers:\n  all:\n    allow: yes\n", "r2.other", "", true),
        ("callers:\n  all:\n    allow: yes\n", "r2.other", "ok", true),
        (
            "callers:\n  r2.caller:\n    allow: yes\n",
            "r2.caller",
            "",
            true,
        ),
        (
            "callers:\n  r2.caller:\n    allow: yes\n",
            "r2.caller",
            "ok",
            true,
        ),
        (
            "callers:\n  r2.caller:\n    allow: yes\n",
            "r2.other",
            "",
            false,
        ),
        (
            "callers:\n  r2.caller:\n    allow: yes\n",
            "r2.other",
            "ok",
            false,
        ),
        (
            "callers:\n  all:\n    deny: yes\n  r2.caller:\n    allow: yes\n",
            "r2.caller",
            "",
            true,
        ),
        (
            "callers:\n  all:\n    deny: yes\n  r2.caller:\n    allow: yes\n",
            "r2.caller",
            "ok",
            true,
        ),
        (
            "callers:\n  all:\n    deny: yes\n  r2.caller:\n    allow: yes\n",
            "r2.other",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    deny: yes\n  r2.caller:\n    allow: yes\n",
            "r2.other",
            "ok",
            false,
        ),
        (
            "callers:\n  all:\n    allow/owners@bool: yes\n    deny: yes\n",
            "r2.caller",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    allow/owners@bool: yes\n    deny: yes\n",
            "r2.caller",
            "ok",
            false,
        ),
        (
            "callers:\n  all:\n    allow/owners@bool: yes\n    deny: yes\n",
            "r2.other",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    allow/owners@bool: yes\n    deny: yes\n",
            "r2.other",
            "ok",
            false,
        ),
        ("callers:\n  all:\n    allow: no\n", "r2.caller", "", false),
        (
            "callers:\n  all:\n    allow: no\n",
            "r2.caller",
            "ok",
            false,
        ),
        ("callers:\n  all:\n    allow: no\n", "r2.other", "", false),
        ("callers:\n  all:\n    allow: no\n", "r2.other", "ok", false),
        (
            "callers:\n  all:\n    allow@text: no\n",
            "r2.caller",
            "",
            true,
        ),
        (
            "callers:\n  all:\n    allow@text: no\n",
            "r2.caller",
            "ok",
            true,
        ),
        (
            "callers:\n  all:\n    allow@text: no\n",
            "r2.other",
            "",
            true,
        ),
        (
            "callers:\n  all:\n    allow@text: no\n",
            "r2.other",
            "ok",
            true,
        ),
        (
            "callers:\n  all:\n    allow@bool: {{caller_name == 'r2.other' ? 'yes'}}\n",
            "r2.caller",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    allow@bool: {{caller_name == 'r2.other' ? 'yes'}}\n",
            "r2.caller",
            "ok",
            false,
        ),
        (
            "callers:\n  all:\n    allow@bool: {{caller_name == 'r2.other' ? 'yes'}}\n",
            "r2.other",
            "",
            true,
        ),
        (
            "callers:\n  all:\n    allow@bool: {{caller_name == 'r2.other' ? 'yes'}}\n",
            "r2.other",
            "ok",
            true,
        ),
        (
            "callers:\n  all:\n    allow@bool: {{inputs.x == 'ok' ? 'yes'}}\n",
            "r2.caller",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    allow@bool: {{inputs.x == 'ok' ? 'yes'}}\n",
            "r2.caller",
            "ok",
            true,
        ),
        (
            "callers:\n  all:\n    allow@bool: {{inputs.x == 'ok' ? 'yes'}}\n",
            "r2.other",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    allow@bool: {{inputs.x == 'ok' ? 'yes'}}\n",
            "r2.other",
            "ok",
            true,
        ),
        ("callers:\n  all:\n    Allow: yes\n", "r2.caller", "", false),
        (
            "callers:\n  all:\n    Allow: yes\n",
            "r2.caller",
            "ok",
            false,
        ),
        ("callers:\n  all:\n    Allow: yes\n", "r2.other", "", false),
        (
            "callers:\n  all:\n    Allow: yes\n",
            "r2.other",
            "ok",
            false,
        ),
        ("callers:\n  r2.caller: yes\n", "r2.caller", "", false),
        ("callers:\n  r2.caller: yes\n", "r2.caller", "ok", false),
        ("callers:\n  r2.caller: yes\n", "r2.other", "", false),
        ("callers:\n  r2.caller: yes\n", "r2.other", "ok", false),
        (
            "callers:\n  r2.caller:\n    deny: no\n    allow: yes\n",
            "r2.caller",
            "",
            true,
        ),
        (
            "callers:\n  r2.caller:\n    deny: no\n    allow: yes\n",
            "r2.caller",
            "ok",
            true,
        ),
        (
            "callers:\n  r2.caller:\n    deny: no\n    allow: yes\n",
            "r2.other",
            "",
            false,
        ),
        (
            "callers:\n  r2.caller:\n    deny: no\n    allow: yes\n",
            "r2.other",
            "ok",
            false,
        ),
        (
            "callers:\n  all:\n    permit: yes\n",
            "r2.caller",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    permit: yes\n",
            "r2.caller",
            "ok",
            false,
        ),
        ("callers:\n  all:\n    permit: yes\n", "r2.other", "", false),
        (
            "callers:\n  all:\n    permit: yes\n",
            "r2.other",
            "ok",
            false,
        ),
        (
            "callers:\n  all:\n    note: {{ nope( }}\n    allow: yes\n",
            "r2.caller",
            "",
            true,
        ),
        (
            "callers:\n  all:\n    note: {{ nope( }}\n    allow: yes\n",
            "r2.other",
            "",
            true,
        ),
        (
            "callers:\n  all:\n    allow/1: yes\n",
            "r2.caller",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    allow/1: yes\n",
            "r2.other",
            "",
            false,
        ),
        (
            "callers:\n  r2.caller:\n    deny: yes\n  all:\n    allow: yes\n",
            "r2.caller",
            "",
            false,
        ),
        (
            "callers:\n  r2.caller:\n    deny: yes\n  all:\n    allow: yes\n",
            "r2.other",
            "",
            true,
        ),
        (
            "callers:\n  all:\n    allow: yes\n  r2.caller:\n    deny: yes\n",
            "r2.caller",
            "",
            false,
        ),
        (
            "callers:\n  all:\n    allow: yes\n  r2.caller:\n    deny: yes\n",
            "r2.other",
            "",
            true,
        ),
    ];

    #[test]
    fn callers_are_decided_as_cerb_decides_them() {
        let scripting = host_scripting();
        for (text, caller, x, want) in CERB_CALLER_VECTORS {
            let policy = Policy::parse(text).expect("the vector's policy parses");
            let mut dict = Array::new();
            dict.insert("caller_name", Value::str(*caller));
            if !x.is_empty() {
                let mut inputs = Array::new();
                inputs.insert("x", Value::str(*x));
                dict.insert("inputs", Value::array(inputs));
            }
            let got = policy.allows_caller(caller, &Value::array(dict), scripting.as_ref());
            assert_eq!(got, *want, "{text:?} from {caller} (x={x:?})");
        }
    }

    #[test]
    fn a_caller_rule_that_fails_to_evaluate_denies() {
        let p = Policy::parse("callers:\n  all:\n    allow@bool: {{ nope( }}\n").expect("parses");
        assert!(!p.allows_caller("a", &Value::empty_array(), host_scripting().as_ref()));
    }
}
