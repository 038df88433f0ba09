//! The run loop: the state machine over the node tree (automations.md §2,
//! §6, §9–12), per-node memory, and continuations in `__state`.

use crate::tree::{Event, Kind, Tree};
use crate::{Host, Limits, LogLevel, Outcome, RunRequest};
use katabox_kata::{Node, Scripting};
use katabox_value::{Array, Key, Value};
use std::collections::VecDeque;
use std::sync::Arc;

/// Where control goes after an activation.
pub enum Flow {
    /// Activate this node next.
    Go(usize),
    /// The run is over (the exit state is set).
    Stop,
}

/// A node failure: the run fails with `message`.
pub struct Failure {
    pub at: usize,
    pub message: String,
    /// `__return` for an `error:` command's extra keys.
    pub ret: Option<Value>,
}

impl Failure {
    pub fn new(at: usize, message: impl Into<String>) -> Failure {
        Failure {
            at,
            message: message.into(),
            ret: None,
        }
    }
}

/// A node's private memory (persists between activations and across
/// `await`).
#[derive(Clone, Debug)]
pub enum Mem {
    /// Ran (actions, decisions, the root).
    Done,
    /// Children still to hand control to (sequences, outcomes, `while`).
    Pending(VecDeque<usize>),
    /// A `repeat` in progress: the snapshot of its items.
    Repeat {
        keys: Vec<Value>,
        values: Vec<Value>,
        next: usize,
        pending: VecDeque<usize>,
    },
}

/// The interpreter's state for one run.
pub struct Machine<'a> {
    pub tree: &'a Tree,
    /// The working dictionary.
    pub dict: Arc<Array>,
    pub memory: Vec<Option<Mem>>,
    pub host: &'a mut dyn Host,
    pub scripting: &'a dyn Scripting,
    pub simulate: bool,
}

/// Runs a request (see [`crate::run`]).
pub fn run(
    req: RunRequest,
    host: &mut dyn Host,
    scripting: &dyn Scripting,
    limits: &Limits,
) -> Outcome {
    let mut dict = match req.dict {
        Value::Array(a) => Arc::unwrap_or_clone(a),
        _ => Array::new(),
    };
    let simulate = dict.get_str("__simulate").is_some_and(Value::truthy);
    let prepared = crate::prepared::prepare(&req.script, limits.max_depth);
    let (inputs, tree) = match &*prepared {
        crate::prepared::Prepared::Failed(e) => {
            return early_failure(dict, e.clone(), host, simulate);
        }
        crate::prepared::Prepared::Ready { inputs, tree } => (inputs, tree),
    };
    let resuming = matches!(dict.get_str("__state"), Some(Value::Array(_)));
    // Cerb validates `inputs` on every first run, with or without an
    // `inputs:` section (without one, any given input is unknown).
    if !resuming
        && let Err(e) =
            crate::inputs::validate(inputs.clone().unwrap_or_default(), &mut dict, scripting)
    {
        return early_failure(dict, e, host, simulate);
    }
    let tree = match tree {
        Ok(t) => t,
        Err(e) => return early_failure(dict, e.clone(), host, simulate),
    };
    dict.remove(&Key::from("__exit"));
    dict.remove(&Key::from("__return"));
    let mut m = Machine {
        tree,
        memory: vec![None; tree.nodes.len()],
        dict: Arc::new(dict),
        host,
        scripting,
        simulate,
    };
    let mut cursor = 0;
    let mut last = 0;
    if resuming {
        cursor = m.restore_state();
    }
    let mut steps: u64 = 0;
    let mut failure = None;
    loop {
        steps += 1;
        if steps > limits.max_steps {
            let message = format!("Execution stopped after {} steps", limits.max_steps);
            if !m.simulate {
                m.host.log(LogLevel::Error, "", &message);
            }
            m.set("__exit", Value::str("error"));
            m.set("__error", Value::str(message));
            break;
        }
        match m.activate(cursor) {
            Ok(Flow::Go(next)) => {
                last = cursor;
                cursor = next;
            }
            Ok(Flow::Stop) => {
                last = cursor;
                break;
            }
            Err(f) => {
                last = f.at;
                failure = Some(f);
                break;
            }
        }
        if m.dict.get_str("__exit").is_some() {
            break;
        }
    }
    let failure = failure.map(|f| m.fail(f));
    m.save_state(cursor, last);
    m.set("__expandable", Value::empty_array());
    Outcome {
        dict: Value::Array(m.dict),
        failure,
    }
}

/// A failure before the run loop (parse, inputs, build errors).
fn early_failure(mut dict: Array, message: String, host: &mut dyn Host, simulate: bool) -> Outcome {
    dict.insert("__exit", Value::str("error"));
    let mut err = Array::new();
    err.insert("at", Value::str("automation"));
    err.insert("message", Value::str(&message));
    dict.insert("__error", Value::array(err));
    if !simulate {
        host.log(LogLevel::Error, "", &message);
    }
    Outcome {
        dict: Value::array(dict),
        failure: Some(message),
    }
}

impl Machine<'_> {
    /// Sets a top-level dictionary key.
    pub fn set(&mut self, key: &str, v: Value) {
        Arc::make_mut(&mut self.dict).insert(key, v);
    }

    /// Sets a top-level key given as a value (ints stay int keys).
    pub fn set_key(&mut self, key: Key, v: Value) {
        Arc::make_mut(&mut self.dict).insert(key, v);
    }

    /// Removes a top-level key.
    pub fn unset(&mut self, key: &str) {
        Arc::make_mut(&mut self.dict).remove(&Key::from(key));
    }

    /// The working dictionary as an array.
    pub fn dict_mut(&mut self) -> &mut Array {
        Arc::make_mut(&mut self.dict)
    }

    /// The working dictionary as a value (shares the array).
    pub fn dict_value(&self) -> Value {
        Value::Array(Arc::clone(&self.dict))
    }

    /// Evaluates parameter nodes of `at` against the dictionary (§7);
    /// scripting errors are logged at `log_path` and become `false`.
    pub fn eval(&mut self, params: &[Node], log_path: &str) -> Value {
        let mut logs: Vec<String> = Vec::new();
        let v = {
            let mut log = |_path: &str, msg: String| logs.push(msg);
            let dict = self.dict_value();
            katabox_kata::evaluate_params(params, &dict, self.scripting, log_path, &mut log)
        };
        for msg in logs {
            let msg = if msg.starts_with("Scripting error") {
                msg
            } else {
                format!("Scripting error: {msg}")
            };
            self.host.log(LogLevel::Error, log_path, &msg);
        }
        v
    }

    /// Evaluates the parameters of node `idx` as a map.
    pub fn eval_node(&mut self, idx: usize) -> Array {
        let tree = self.tree;
        let Some(node) = tree.nodes.get(idx) else {
            return Array::new();
        };
        match self.eval(&node.params, &node.id) {
            Value::Array(a) => Arc::unwrap_or_clone(a),
            _ => Array::new(),
        }
    }

    fn parent(&self, idx: usize) -> Flow {
        match self.tree.nodes.get(idx).and_then(|n| n.parent) {
            Some(p) => Flow::Go(p),
            None => Flow::Stop,
        }
    }

    /// Clears the memory of every descendant of `idx`.
    fn clear_descendants(&mut self, idx: usize) {
        if let Some(node) = self.tree.nodes.get(idx) {
            let end = node.end.min(self.memory.len());
            for m in self.memory.iter_mut().take(end).skip(idx + 1) {
                *m = None;
            }
        }
    }

    fn children(&self, idx: usize) -> VecDeque<usize> {
        self.tree
            .nodes
            .get(idx)
            .map(|n| n.children.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Activates one node and returns where control goes next.
    pub fn activate(&mut self, idx: usize) -> Result<Flow, Failure> {
        let tree = self.tree;
        let Some(node) = tree.nodes.get(idx) else {
            return Ok(Flow::Stop);
        };
        match &node.kind {
            Kind::Root => {
                if self.memory[idx].is_some() {
                    self.set("__exit", Value::str("exit"));
                    return Ok(Flow::Stop);
                }
                self.memory[idx] = Some(Mem::Done);
                match tree.start {
                    Some(s) => Ok(Flow::Go(s)),
                    None => Err(Failure::new(idx, "No `start:` node was found.")),
                }
            }
            Kind::Sequence | Kind::Event(_) => Ok(self.sequence(idx)),
            Kind::Outcome => {
                if self.memory[idx].is_none() {
                    let params = self.eval_node(idx);
                    if let Some(cond) = params.get_str("if")
                        && !cond.truthy()
                    {
                        self.memory[idx] = Some(Mem::Pending(VecDeque::new()));
                        return Ok(self.parent(idx));
                    }
                }
                Ok(self.sequence(idx))
            }
            Kind::Decision => {
                if self.memory[idx].is_some() {
                    return Ok(self.parent(idx));
                }
                self.memory[idx] = Some(Mem::Done);
                for &outcome in &node.children {
                    let params = self.eval_node(outcome);
                    let enter = params.get_str("if").is_none_or(Value::truthy);
                    if enter {
                        self.memory[outcome] = Some(Mem::Pending(self.children(outcome)));
                        return Ok(Flow::Go(outcome));
                    }
                }
                Ok(self.parent(idx))
            }
            Kind::Repeat => self.repeat(idx),
            Kind::While => self.while_loop(idx),
            Kind::Action(command) => {
                if self.memory[idx].is_some() {
                    return Ok(self.parent(idx));
                }
                self.memory[idx] = Some(Mem::Done);
                if self.simulate
                    && let Some(ev) = tree.event(idx, Event::Simulate, false)
                {
                    return Ok(Flow::Go(ev));
                }
                crate::commands::run(self, idx, command)
            }
        }
    }

    fn sequence(&mut self, idx: usize) -> Flow {
        if self.memory[idx].is_none() {
            self.memory[idx] = Some(Mem::Pending(self.children(idx)));
        }
        let next = match &mut self.memory[idx] {
            Some(Mem::Pending(p)) => p.pop_front(),
            _ => None,
        };
        match next {
            Some(child) => Flow::Go(child),
            None => self.parent(idx),
        }
    }

    /// `repeat:` (§6).
    fn repeat(&mut self, idx: usize) -> Result<Flow, Failure> {
        let params = self.eval_node(idx);
        let as_text = match params.get_str("as") {
            None => return Err(Failure::new(idx, "`as:` is required.")),
            Some(Value::Str(s)) => s.to_string_lossy().into_owned(),
            Some(Value::Int(_) | Value::Float(_)) => params
                .get_str("as")
                .map(Value::to_string_lossy)
                .unwrap_or_default(),
            Some(_) => return Err(Failure::new(idx, "`as:` must be a string.")),
        };
        let names: Vec<String> = as_text.split(',').map(|s| s.trim().to_string()).collect();
        let (key_var, value_var) = match names.as_slice() {
            [v] if !v.is_empty() => (format!("{v}__index"), v.clone()),
            [k, v] if !v.is_empty() => (k.clone(), v.clone()),
            _ => return Ok(self.parent(idx)),
        };
        if self.memory[idx].is_none() {
            let (keys, values) = match params.get_str("each") {
                Some(Value::Array(a)) => (
                    a.keys().map(Key::to_value).collect::<Vec<_>>(),
                    a.values().cloned().collect::<Vec<_>>(),
                ),
                _ => (Vec::new(), Vec::new()),
            };
            if keys.is_empty() {
                return Ok(self.parent(idx));
            }
            self.memory[idx] = Some(Mem::Repeat {
                keys,
                values,
                next: 0,
                pending: VecDeque::new(),
            });
        }
        let children = self.children(idx);
        let Some(Mem::Repeat {
            keys,
            values,
            next,
            pending,
        }) = &mut self.memory[idx]
        else {
            return Ok(self.parent(idx));
        };
        if let Some(child) = pending.pop_front() {
            return Ok(Flow::Go(child));
        }
        if *next >= keys.len() {
            self.unset(&key_var);
            self.unset(&value_var);
            self.memory[idx] = Some(Mem::Done);
            return Ok(self.parent(idx));
        }
        let key = keys.get(*next).cloned().unwrap_or_default();
        let value = values.get(*next).cloned().unwrap_or_default();
        *next += 1;
        *pending = children;
        let first = pending.pop_front();
        if !key_var.is_empty() {
            self.set(&key_var, key);
        }
        self.set(&value_var, value);
        self.clear_descendants(idx);
        Ok(match first {
            Some(child) => Flow::Go(child),
            None => Flow::Go(idx),
        })
    }

    /// `while:` (§6): the condition is checked before every child.
    fn while_loop(&mut self, idx: usize) -> Result<Flow, Failure> {
        let params = self.eval_node(idx);
        let cond = match params.get_str("if") {
            None => return Err(Failure::new(idx, "`if:` is required.")),
            Some(Value::Str(s)) => katabox_kata::truthy(&Value::Str(s.clone())),
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Failure::new(
                    idx,
                    "`if:` must be a boolean `true` or `false`.",
                ));
            }
        };
        self.clear_descendants(idx);
        if !cond {
            self.memory[idx] = None;
            return Ok(self.parent(idx));
        }
        let children = self.children(idx);
        let mem = self.memory[idx].get_or_insert(Mem::Pending(VecDeque::new()));
        if let Mem::Pending(p) = mem {
            if p.is_empty() {
                *p = children;
            }
            if let Some(child) = p.pop_front() {
                return Ok(Flow::Go(child));
            }
        } else {
            *mem = Mem::Pending(VecDeque::new());
        }
        Ok(Flow::Go(idx))
    }

    /// Records a node failure in the dictionary (§9) and returns the message.
    fn fail(&mut self, f: Failure) -> String {
        let at = self
            .tree
            .nodes
            .get(f.at)
            .map(|n| n.id.clone())
            .unwrap_or_default();
        self.set("__exit", Value::str("error"));
        let mut err = Array::new();
        err.insert("at", Value::str(at));
        err.insert("message", Value::str(&f.message));
        self.set("__error", Value::array(err));
        if let Some(ret) = f.ret {
            self.set("__return", ret);
        }
        if !self.simulate {
            self.host.log(LogLevel::Error, "", &f.message);
        }
        f.message
    }

    fn id(&self, idx: usize) -> Value {
        Value::str(
            self.tree
                .nodes
                .get(idx)
                .map(|n| n.id.as_str())
                .unwrap_or(""),
        )
    }

    fn ids(&self, list: &VecDeque<usize>) -> Value {
        Value::list(list.iter().map(|&i| self.id(i)))
    }

    /// Writes `__state` (§11): the next node, the last node and the memory.
    fn save_state(&mut self, next: usize, last: usize) {
        let mut memory = Array::new();
        for (idx, mem) in self.memory.iter().enumerate() {
            let Some(mem) = mem else { continue };
            let v = match mem {
                Mem::Done => Value::Bool(true),
                Mem::Pending(p) => {
                    let mut a = Array::new();
                    a.insert("pending", self.ids(p));
                    Value::array(a)
                }
                Mem::Repeat {
                    keys,
                    values,
                    next,
                    pending,
                } => {
                    let mut a = Array::new();
                    a.insert("keys", Value::list(keys.iter().cloned()));
                    a.insert("values", Value::list(values.iter().cloned()));
                    a.insert("next", Value::Int(i64::try_from(*next).unwrap_or(i64::MAX)));
                    a.insert("pending", self.ids(pending));
                    Value::array(a)
                }
            };
            if let Some(n) = self.tree.nodes.get(idx) {
                memory.insert(n.id.as_str(), v);
            }
        }
        let mut state = Array::new();
        state.insert("next", self.id(next));
        state.insert("last", self.id(last));
        state.insert("memory", Value::array(memory));
        self.set("__state", Value::array(state));
    }

    /// Restores memory from `__state` and returns the node to resume at.
    fn restore_state(&mut self) -> usize {
        let Some(state) = self.dict.get_str("__state").cloned() else {
            return 0;
        };
        let tree = self.tree;
        let index = tree.index();
        let find = |v: &Value| v.as_str().and_then(|id| index.get(id).copied());
        let ids = |v: Option<&Value>| -> VecDeque<usize> {
            v.and_then(Value::as_array)
                .map(|a| a.values().filter_map(find).collect())
                .unwrap_or_default()
        };
        if let Some(memory) = state.get("memory").and_then(Value::as_array) {
            for (id, v) in memory.iter() {
                let Some(idx) = index.get(id.to_string_lossy().as_str()).copied() else {
                    continue;
                };
                let mem = match v {
                    Value::Array(a) if a.get_str("keys").is_some() => Mem::Repeat {
                        keys: a
                            .get_str("keys")
                            .and_then(Value::as_array)
                            .map(|k| k.values().cloned().collect())
                            .unwrap_or_default(),
                        values: a
                            .get_str("values")
                            .and_then(Value::as_array)
                            .map(|k| k.values().cloned().collect())
                            .unwrap_or_default(),
                        next: a
                            .get_str("next")
                            .map(katabox_value::convert::to_int)
                            .and_then(|n| usize::try_from(n).ok())
                            .unwrap_or(0),
                        pending: ids(a.get_str("pending")),
                    },
                    Value::Array(a) => Mem::Pending(ids(a.get_str("pending"))),
                    _ => Mem::Done,
                };
                if let Some(slot) = self.memory.get_mut(idx) {
                    *slot = Some(mem);
                }
            }
        }
        state.get("next").and_then(find).unwrap_or(0)
    }
}
