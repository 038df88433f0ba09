//! `return:`, `await:`, `error:`, `log*:` and `simulate.*:` (§13.1, §12).

use super::{colon_path, is_return_key, output_key, parent, text};
use crate::LogLevel;
use crate::engine::{Failure, Flow, Machine};
use crate::paths;
use crate::tree::{Event, Kind};
use katabox_kata::NodeValue;
use katabox_value::{Key, Value};

/// `return:` and `await:`: set `__return` and the exit state.
pub(super) fn finish(m: &mut Machine<'_>, idx: usize, command: &str) -> Result<Flow, Failure> {
    let tree = m.tree;
    let Some(node) = tree.nodes.get(idx) else {
        return Ok(Flow::Stop);
    };
    let ret = if is_return_key(&node.key) {
        let path = match node.params.first().map(|p| &p.value) {
            Some(NodeValue::Text(t)) => t.trim().to_string(),
            _ => String::new(),
        };
        match paths::get(&m.dict_value(), &colon_path(&path)) {
            Some(v @ Value::Array(_)) => v.clone(),
            _ => Value::empty_array(),
        }
    } else {
        Value::array(m.eval_node(idx))
    };
    m.set("__return", ret);
    m.set("__exit", Value::str(command));
    Ok(parent(m, idx))
}

/// `error:` fails the run with its message; extra keys become `__return`.
pub(super) fn error(m: &mut Machine<'_>, idx: usize) -> Failure {
    let mut params = m.eval_node(idx);
    let message = params
        .remove(&Key::from(""))
        .or_else(|| params.remove(&Key::from("_message")))
        .map(|v| v.to_string_lossy())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "An unexpected error occurred.".into());
    Failure {
        at: idx,
        message,
        ret: Some(Value::array(params)),
    }
}

/// `log*:` writes only the inline text; an empty or `"0"` message is skipped.
pub(super) fn log(m: &mut Machine<'_>, idx: usize, level: LogLevel) -> Result<Flow, Failure> {
    let tree = m.tree;
    let Some(node) = tree.nodes.get(idx) else {
        return Ok(Flow::Stop);
    };
    let inline = node.params.len() == 1 && node.params.first().is_some_and(|p| p.key.is_empty());
    if inline {
        let params = m.eval_node(idx);
        let message = text(params.get_str(""));
        if !message.is_empty() && message != "0" {
            m.host.log(level, &node.id, &message);
        }
    }
    Ok(parent(m, idx))
}

/// `simulate.success:` / `simulate.error:` inside an action's `on_simulate:`.
pub(super) fn simulate(
    m: &mut Machine<'_>,
    idx: usize,
    command: &str,
    event: Event,
) -> Result<Flow, Failure> {
    let tree = m.tree;
    let mut cur = tree.nodes.get(idx).and_then(|n| n.parent);
    let mut action = None;
    while let Some(c) = cur {
        let Some(n) = tree.nodes.get(c) else { break };
        if n.kind == Kind::Event(Event::Simulate) {
            action = n.parent;
            break;
        }
        cur = n.parent;
    }
    let Some(action) = action else {
        return Err(Failure::new(
            idx,
            format!("The `{command}:` command must occur within `on_simulate:`"),
        ));
    };
    let value = Value::array(m.eval_node(idx));
    let action_params = m.eval_node(action);
    if let Some(key) = output_key(&action_params) {
        m.set_key(Key::from(key.as_str()), value);
    }
    let direct = matches!(
        tree.nodes.get(action).map(|n| &n.kind),
        Some(Kind::Action(c)) if c == "function"
    );
    Ok(match tree.event(action, event, direct) {
        Some(ev) => Flow::Go(ev),
        None => Flow::Go(action),
    })
}
