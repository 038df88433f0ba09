//! The evaluator: walks the syntax tree over the PHP value model, writing
//! output into one buffer (scripting.md §1.3, §4, §5).

mod attr;
mod expr;
pub(crate) mod ops;

use crate::ast::Node;
use crate::callable::{CallError, Env};
use crate::engine::Config;
use crate::limits::Limits;
use crate::objects::{ArrowFn, LoopVar, Markup, materialize};
use katabox_value::{Array, Key, PStr, Value};
use std::sync::Arc;

/// Result of evaluation steps.
pub(crate) type R<T> = Result<T, CallError>;

/// One render of one template against one dictionary.
pub(crate) struct Renderer<'a> {
    pub(crate) cfg: &'a Config,
    pub(crate) dict: &'a Value,
    pub(crate) template: &'a str,
    /// The local context (`set`, `for`, `with`), in insertion order.
    pub(crate) ctx: Vec<(Arc<str>, Value)>,
    pub(crate) out: Vec<u8>,
    pub(crate) steps: u64,
    pub(crate) depth: usize,
    pub(crate) line: usize,
    pub(crate) apply_input: Value,
    pub(crate) now: i64,
}

/// The limit error for too deep evaluation.
fn depth_error(limits: &Limits) -> CallError {
    CallError::Limit(format!(
        "Template evaluation nests deeper than the limit of {} levels",
        limits.max_depth
    ))
}

impl<'a> Renderer<'a> {
    pub(crate) fn new(
        cfg: &'a Config,
        dict: &'a Value,
        template: &'a str,
        now: i64,
    ) -> Renderer<'a> {
        Renderer {
            cfg,
            dict,
            template,
            ctx: Vec::new(),
            out: Vec::new(),
            steps: 0,
            depth: 0,
            line: 1,
            apply_input: Value::Null,
            now,
        }
    }

    /// Charges one evaluation step.
    #[inline]
    pub(crate) fn step(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.cfg.limits.max_steps {
            return Err(CallError::Limit(format!(
                "Template evaluation exceeded the limit of {} steps",
                self.cfg.limits.max_steps
            )));
        }
        Ok(())
    }

    pub(crate) fn enter(&mut self) -> R<()> {
        self.depth += 1;
        // Expressions and statements each nest at most `max_depth` deep
        // (checked by the parser); arrow calls and blocks add a little.
        if self.depth > self.cfg.limits.max_depth.saturating_mul(3) {
            return Err(depth_error(&self.cfg.limits));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The local variable `name`, if set.
    pub(crate) fn ctx_get(&self, name: &str) -> Option<&Value> {
        self.ctx.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
    }

    /// Sets a local variable (keeping its position if it exists).
    pub(crate) fn ctx_set(&mut self, name: &Arc<str>, v: Value) {
        if let Some(slot) = self.ctx.iter_mut().find(|(k, _)| **k == **name) {
            slot.1 = v;
        } else {
            self.ctx.push((name.clone(), v));
        }
    }

    fn ctx_remove(&mut self, name: &str) {
        self.ctx.retain(|(k, _)| &**k != name);
    }

    /// Bare-name lookup (§1.3): non-null local, else the dictionary (where
    /// `false` reads as absent), else null.
    pub(crate) fn lookup(&self, name: &str) -> Value {
        materialize(self.lookup_raw(name))
    }

    /// Like [`Renderer::lookup`], keeping a `loop` variable unmaterialised.
    pub(crate) fn lookup_raw(&self, name: &str) -> Value {
        if let Some(v) = self.ctx_get(name)
            && !v.is_null()
        {
            return v.clone();
        }
        match self.dict.get(name) {
            None | Some(Value::Bool(false)) => Value::Null,
            Some(v) => v.clone(),
        }
    }

    /// `is defined` on a bare name.
    pub(crate) fn name_defined(&self, name: &str) -> bool {
        self.ctx_get(name).is_some()
            || !matches!(
                self.dict.get(name),
                None | Some(Value::Null | Value::Bool(false))
            )
    }

    /// The local context as a PHP array (`_context`).
    pub(crate) fn context_array(&self) -> Value {
        let mut a = Array::with_capacity(self.ctx.len());
        for (k, v) in &self.ctx {
            a.insert(Key::from(&**k), materialize(v.clone()));
        }
        Value::array(a)
    }

    /// Appends output, enforcing the output limit.
    pub(crate) fn write(&mut self, b: &[u8]) -> R<()> {
        if self.out.len() + b.len() > self.cfg.limits.max_output_bytes {
            return Err(CallError::Limit(format!(
                "Template output exceeded the limit of {} bytes",
                self.cfg.limits.max_output_bytes
            )));
        }
        self.out.extend_from_slice(b);
        Ok(())
    }

    /// Writes a value as PHP prints it.
    pub(crate) fn write_value(&mut self, v: &Value) -> R<()> {
        match v {
            Value::Null | Value::Bool(false) => Ok(()),
            Value::Str(s) => self.write(s.as_bytes()),
            Value::Int(i) => {
                let mut buf = [0u8; 20];
                let s = int_bytes(*i, &mut buf);
                self.write(s)
            }
            other => {
                let s = ops::to_pstr(other)?;
                self.write(s.as_bytes())
            }
        }
    }

    pub(crate) fn render_nodes(&mut self, nodes: &[Node]) -> R<()> {
        self.enter()?;
        for n in nodes {
            self.render_node(n)?;
        }
        self.leave();
        Ok(())
    }

    fn render_node(&mut self, n: &Node) -> R<()> {
        self.step()?;
        match n {
            Node::Text(t) => self.write(t.as_bytes()),
            Node::Print(e, line) => {
                self.line = *line;
                let v = self.eval(e)?;
                self.write_value(&v)
            }
            Node::If {
                branches,
                otherwise,
                line,
            } => {
                self.line = *line;
                for (cond, body) in branches {
                    if ops::truthy(&self.eval(cond)?) {
                        return self.render_nodes(body);
                    }
                }
                self.render_nodes(otherwise)
            }
            Node::For {
                key,
                value,
                seq,
                body,
                otherwise,
                uses_loop,
                uses_key,
                line,
            } => {
                self.line = *line;
                let flags = (*uses_loop, *uses_key);
                self.render_for(key.as_ref(), value, seq, body, otherwise, flags)
            }
            Node::Set {
                names,
                values,
                line,
            } => {
                self.line = *line;
                if names.len() == 1 {
                    let v = self.eval(&values[0])?;
                    self.ctx_set(&names[0], v);
                } else {
                    let mut vs = Vec::with_capacity(values.len());
                    for e in values {
                        vs.push(self.eval(e)?);
                    }
                    for (n, v) in names.iter().zip(vs) {
                        self.ctx_set(n, v);
                    }
                }
                Ok(())
            }
            Node::SetBlock { name, body, line } => {
                self.line = *line;
                let v = self.capture(body)?;
                self.ctx_set(name, v);
                Ok(())
            }
            Node::With {
                vars,
                only,
                body,
                line,
            } => {
                self.line = *line;
                self.render_with(vars.as_ref(), *only, body)
            }
            Node::Apply { chain, body, line } => {
                self.line = *line;
                let input = self.capture(body)?;
                self.line = *line;
                let saved = std::mem::replace(&mut self.apply_input, input);
                let r = self.eval(chain);
                self.apply_input = saved;
                let v = r?;
                self.write_value(&v)
            }
            Node::Do(e, line) => {
                self.line = *line;
                self.eval(e).map(|_| ())
            }
        }
    }

    /// Renders `body` into a captured string (`''` when empty).
    fn capture(&mut self, body: &[Node]) -> R<Value> {
        let start = self.out.len();
        self.render_nodes(body)?;
        let text = self.out.split_off(start);
        if text.is_empty() {
            Ok(Value::str(""))
        } else {
            Ok(Value::Object(Arc::new(Markup(PStr::from(text)))))
        }
    }

    fn render_with(&mut self, vars: Option<&crate::ast::Expr>, only: bool, body: &[Node]) -> R<()> {
        let saved = self.ctx.clone();
        if let Some(e) = vars {
            let v = self.eval(e)?;
            let Value::Array(a) = v else {
                return Err(CallError::Twig(
                    "Variables passed to the \"with\" tag must be a hash.".into(),
                ));
            };
            if only {
                self.ctx.clear();
            }
            for (k, v) in a.iter() {
                let name: Arc<str> = Arc::from(k.to_string_lossy().as_str());
                self.ctx_set(&name, v.clone());
            }
        } else if only {
            self.ctx.clear();
        }
        let r = self.render_nodes(body);
        self.ctx = saved;
        r
    }

    fn render_for(
        &mut self,
        key: Option<&Arc<str>>,
        value: &Arc<str>,
        seq: &crate::ast::Expr,
        body: &[Node],
        otherwise: &[Node],
        (uses_loop, uses_key): (bool, bool),
    ) -> R<()> {
        let seq = self.eval(seq)?;
        let items = match &seq {
            Value::Array(a) => a.clone(),
            _ => Arc::new(Array::new()),
        };
        let saved = self.ctx.clone();
        let parent = if uses_loop {
            self.context_array()
        } else {
            Value::Null
        };
        let key_name: Arc<str> = key.cloned().unwrap_or_else(|| Arc::from("_key"));
        let loop_name: Arc<str> = Arc::from("loop");
        let len = items.len();
        let max = self.cfg.limits.max_loop_iterations;
        let mut result = Ok(());
        for (i, (k, v)) in items.iter().enumerate() {
            if i >= max {
                result = Err(CallError::Limit(format!(
                    "A for loop exceeded the limit of {max} iterations"
                )));
                break;
            }
            if let Err(e) = self.step() {
                result = Err(e);
                break;
            }
            if uses_key {
                self.ctx_set(&key_name, k.to_value());
            }
            self.ctx_set(value, v.clone());
            if uses_loop {
                let l = LoopVar {
                    index0: i,
                    length: len,
                    parent: parent.clone(),
                };
                self.ctx_set(&loop_name, Value::Object(Arc::new(l)));
            }
            if let Err(e) = self.render_nodes(body) {
                result = Err(e);
                break;
            }
        }
        result?;
        if len == 0 {
            self.render_nodes(otherwise)?;
        }
        // Scoping at endfor (§5.3): new variables go, existing ones keep
        // their last value, the targets and `loop` are restored.
        let targets: [&str; 3] = [&key_name, value, "loop"];
        let mut next: Vec<(Arc<str>, Value)> = Vec::with_capacity(saved.len());
        for (k, v) in self.ctx.drain(..) {
            if targets.contains(&&*k) {
                continue;
            }
            if saved.iter().any(|(s, _)| *s == k) {
                next.push((k, v));
            }
        }
        for (k, v) in saved {
            if !next.iter().any(|(n, _)| *n == k) {
                next.push((k, v));
            }
        }
        self.ctx = next;
        Ok(())
    }
}

/// Decimal digits of `i` written at the end of `buf` (an i64 needs at
/// most 19 digits and a sign).
fn int_bytes(i: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = i.unsigned_abs();
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

impl Env for Renderer<'_> {
    fn call(&mut self, callable: &Value, args: &[Value]) -> Result<Value, CallError> {
        let Value::Object(o) = callable else {
            return Err(CallError::Php("Value not callable".into()));
        };
        let Some(f) = o.as_any().downcast_ref::<ArrowFn>() else {
            return Err(CallError::Php("Value not callable".into()));
        };
        let arrow = f.0.clone();
        self.enter()?;
        // Parameters shadow outer variables for the call only.
        let mut saved: Vec<(Arc<str>, Option<Value>)> = Vec::with_capacity(arrow.params.len());
        for (i, p) in arrow.params.iter().enumerate() {
            saved.push((p.clone(), self.ctx_get(p).cloned()));
            let v = args.get(i).cloned().unwrap_or(Value::Null);
            self.ctx_set(p, v);
        }
        let r = self.eval(&arrow.body);
        for (p, old) in saved.into_iter().rev() {
            match old {
                Some(v) => self.ctx_set(&p, v),
                None => self.ctx_remove(&p),
            }
        }
        self.leave();
        r
    }

    fn charge(&mut self, units: u64) -> Result<(), CallError> {
        self.steps = self.steps.saturating_add(units);
        if self.steps > self.cfg.limits.max_steps {
            return Err(CallError::Limit(format!(
                "Template evaluation exceeded the limit of {} steps",
                self.cfg.limits.max_steps
            )));
        }
        Ok(())
    }

    fn limits(&self) -> &Limits {
        &self.cfg.limits
    }

    fn timezone(&self) -> &str {
        &self.cfg.timezone
    }

    fn now(&self) -> i64 {
        self.now
    }

    fn dict(&self) -> &Value {
        self.dict
    }
}

#[cfg(test)]
mod tests {
    use super::int_bytes;

    #[test]
    fn integers_print_in_decimal() {
        for i in [0, 7, -7, 1234567890, i64::MAX, i64::MIN] {
            let mut buf = [0u8; 20];
            assert_eq!(int_bytes(i, &mut buf), i.to_string().as_bytes());
        }
    }
}
