//! Expression evaluation.

use super::attr;
use super::ops::{self, Arith};
use super::{R, Renderer};
use crate::ast::{BinOp, Expr, ExprKind, FilterImpl, TestImpl, UnOp};
use crate::callable::{Args, CallError, Env};
use crate::library::json_pretty_fused;
use crate::objects::{ArrowFn, LoopVar, markup_text};
use katabox_value::{Array, Value, compare};
use std::sync::Arc;

impl Renderer<'_> {
    /// Evaluates an expression.
    pub(crate) fn eval(&mut self, e: &Expr) -> R<Value> {
        self.step()?;
        match &e.kind {
            ExprKind::Const(v) => Ok(v.clone()),
            ExprKind::Name(n) => Ok(self.lookup(n)),
            _ => {
                self.enter()?;
                let r = self.eval_complex(e);
                self.leave();
                r
            }
        }
    }

    fn eval_complex(&mut self, e: &Expr) -> R<Value> {
        match &e.kind {
            ExprKind::Const(v) => Ok(v.clone()),
            ExprKind::Name(n) => Ok(self.lookup(n)),
            ExprKind::Context => Ok(self.context_array()),
            ExprKind::ApplyInput => Ok(self.apply_input.clone()),
            ExprKind::Array(items) => {
                let mut a = Array::with_capacity(items.len());
                for i in items {
                    a.push(self.eval(i)?);
                }
                Ok(Value::array(a))
            }
            ExprKind::Hash(items) => {
                let mut a = Array::with_capacity(items.len());
                for (k, v) in items {
                    let k = self.eval(k)?;
                    let v = self.eval(v)?;
                    let Some(key) = attr::key_of(&k) else {
                        return Err(CallError::Php("Illegal offset type".into()));
                    };
                    a.insert(key, v);
                }
                Ok(Value::array(a))
            }
            ExprKind::Unary(op, inner) => {
                let v = self.eval(inner)?;
                match op {
                    UnOp::Not => Ok(Value::Bool(!ops::truthy(&v))),
                    UnOp::Neg => ops::neg(&v),
                    UnOp::Pos => ops::pos(&v),
                }
            }
            ExprKind::Binary(op, a, b) => self.eval_binary(*op, a, b),
            ExprKind::Cond(c, a, b) => {
                if ops::truthy(&self.eval(c)?) {
                    self.eval(a)
                } else {
                    self.eval(b)
                }
            }
            ExprKind::Elvis(a, b) => {
                let v = self.eval(a)?;
                if ops::truthy(&v) { Ok(v) } else { self.eval(b) }
            }
            ExprKind::GetAttr { obj, key, kind, .. } => {
                let o = match &obj.kind {
                    ExprKind::Name(n) => {
                        let raw = self.lookup_raw(n);
                        if let Value::Object(o) = &raw
                            && let Some(l) = o.as_any().downcast_ref::<LoopVar>()
                        {
                            let k = self.eval(key)?;
                            let k = ops::to_pstr(&k)?;
                            return Ok(l.attribute(k.as_bytes()).unwrap_or(Value::Null));
                        }
                        raw
                    }
                    _ => self.eval(obj)?,
                };
                if let (
                    Value::Array(a),
                    ExprKind::Const(k),
                    crate::ast::AttrKind::Any | crate::ast::AttrKind::Array,
                ) = (&o, &key.kind, kind)
                {
                    return Ok(attr::key_of(k)
                        .and_then(|k| a.get(&k).cloned())
                        .map_or(Value::Null, crate::objects::materialize));
                }
                let k = self.eval(key)?;
                Ok(attr::get_attribute(&o, &k, *kind)?
                    .map_or(Value::Null, crate::objects::materialize))
            }
            ExprKind::Filter {
                name: "json_pretty",
                input,
                args,
                ..
            } if no_args(args) && is_plain_json_encode(input) => {
                self.eval_json_encode_pretty(input)
            }
            ExprKind::Filter {
                name,
                input,
                func,
                args,
            } => {
                let mut v = self.eval(input)?;
                // `pre_escape => 'html'`: Twig escapes the input of these
                // filters unless it is statically safe for HTML, whatever
                // the autoescape setting; a captured string passes as is.
                if matches!(*name, "nl2br" | "spaceless")
                    && !html_safe(input)
                    && let Value::Str(s) = &v
                {
                    v = Value::str(crate::escape::html(s.as_bytes()));
                }
                let args = self.eval_args(args)?;
                self.apply_filter(*func, v, &args)
            }
            ExprKind::Function { func, args, .. } => {
                let args = self.eval_args(args)?;
                func(self, &args)
            }
            ExprKind::Test {
                input, func, args, ..
            } => {
                let b = self.eval_test(*func, input, args)?;
                Ok(Value::Bool(b))
            }
            ExprKind::Arrow(a) => Ok(Value::Object(Arc::new(ArrowFn(a.clone())))),
            ExprKind::BlockRef(name) => {
                let n = ops::to_pstr(&self.eval(name)?)?;
                Err(CallError::Twig(format!(
                    "Block \"{}\" on template \"{}\" does not exist.",
                    n.to_string_lossy(),
                    self.template
                )))
            }
        }
    }

    /// `X|json_encode|json_pretty` with `encode` being the `json_encode`
    /// filter expression: evaluated as the unfused chain would be (the same
    /// step and depth accounting for the inner filter), with the fused
    /// encoder of [`json_pretty_fused`] in place of the two calls.
    fn eval_json_encode_pretty(&mut self, encode: &Expr) -> R<Value> {
        let ExprKind::Filter { input, .. } = &encode.kind else {
            return self.eval(encode);
        };
        self.step()?;
        self.enter()?;
        let v = self.eval(input);
        self.leave();
        json_pretty_fused::json_encode_pretty(self, v?)
    }

    fn eval_args(&mut self, args: &[Option<Expr>]) -> R<Args> {
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(match a {
                Some(e) => Some(self.eval(e)?),
                None => None,
            });
        }
        Ok(Args { values })
    }

    fn eval_binary(&mut self, op: BinOp, a: &Expr, b: &Expr) -> R<Value> {
        match op {
            BinOp::And => {
                let x = ops::truthy(&self.eval(a)?);
                return Ok(Value::Bool(x && ops::truthy(&self.eval(b)?)));
            }
            BinOp::Or => {
                let x = ops::truthy(&self.eval(a)?);
                return Ok(Value::Bool(x || ops::truthy(&self.eval(b)?)));
            }
            BinOp::Coalesce => {
                let x = self.eval(a)?;
                return if x.is_null() { self.eval(b) } else { Ok(x) };
            }
            _ => {}
        }
        let mut x = self.eval(a)?;
        let mut y = self.eval(b)?;
        let max_str = self.cfg.limits.max_string_bytes;
        // PHP's VM puts a constant left operand of a commutative operator
        // (`*`, `&`, `|`, `^`; not `+`, array union is not) on the right, so
        // its type errors name the operands that way round.
        if matches!(
            op,
            BinOp::Mul | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor
        ) && php_const(a).is_some()
            && php_const(b).is_none()
        {
            std::mem::swap(&mut x, &mut y);
        }
        match op {
            BinOp::Add => ops::arith(Arith::Add, &x, &y),
            BinOp::Sub => ops::arith(Arith::Sub, &x, &y),
            BinOp::Mul => ops::arith(Arith::Mul, &x, &y),
            BinOp::Div => ops::div(&x, &y),
            BinOp::FloorDiv => ops::floor_div(&x, &y),
            BinOp::Mod => ops::modulo(&x, &y),
            BinOp::Pow => ops::pow(&x, &y),
            BinOp::BitAnd => ops::bitwise("&", &x, &y),
            BinOp::BitOr => ops::bitwise("|", &x, &y),
            BinOp::BitXor => ops::bitwise("^", &x, &y),
            BinOp::Concat => ops::concat(&x, &y, max_str),
            BinOp::Eq
            | BinOp::Ne
            | BinOp::Lt
            | BinOp::Gt
            | BinOp::Le
            | BinOp::Ge
            | BinOp::Spaceship => Ok(ops::compare(op, &x, &y)),
            BinOp::In => Ok(Value::Bool(ops::contains(&x, &y))),
            BinOp::NotIn => Ok(Value::Bool(!ops::contains(&x, &y))),
            BinOp::StartsWith => Ok(Value::Bool(ops::affix(&x, &y, true))),
            BinOp::EndsWith => Ok(Value::Bool(ops::affix(&x, &y, false))),
            BinOp::Matches => self.matches(&x, &y),
            BinOp::Range => ops::range(&x, &y, self.cfg.limits.max_array_len),
            BinOp::HasSome | BinOp::HasEvery => self.has(op == BinOp::HasEvery, &x, &y),
            BinOp::And | BinOp::Or | BinOp::Coalesce => Ok(Value::Null),
        }
    }

    fn matches(&mut self, subject: &Value, pattern: &Value) -> R<Value> {
        // `twig_matches(string $regexp, ?string $str)`, a user function in
        // coercive mode (PHP adds ", called in <file> on line <n>").
        let bad = |pos: u8, name: &str, ty: &str, v: &Value| {
            CallError::Php(format!(
                "twig_matches(): Argument #{pos} (${name}) must be of type {ty}, {} given",
                crate::library::type_or_class(v)
            ))
        };
        if matches!(pattern, Value::Array(_) | Value::Null) {
            return Err(bad(1, "regexp", "string", pattern));
        }
        if matches!(subject, Value::Array(_)) {
            return Err(bad(2, "str", "?string", subject));
        }
        let p = ops::to_pstr(pattern)?;
        let s = ops::to_pstr(subject)?;
        let re = crate::pcre_lite::compile(p.as_bytes()).map_err(|m| {
            CallError::Twig(format!(
                "Regexp \"{}\" passed to \"matches\" is not valid: {m}",
                p.to_string_lossy()
            ))
        })?;
        Ok(Value::Int(i64::from(re.is_match(s.as_bytes()))))
    }

    fn has(&mut self, every: bool, seq: &Value, f: &Value) -> R<Value> {
        let Value::Array(a) = seq else {
            return Ok(Value::Bool(every));
        };
        if !matches!(f, Value::Object(o) if o.as_any().is::<ArrowFn>()) {
            let what = if every { "has every" } else { "has some" };
            return Err(CallError::Twig(format!(
                "The callable passed to the \"{what}\" operator must be a Closure in sandbox mode."
            )));
        }
        let a = a.clone();
        for (k, v) in a.iter() {
            let r = ops::truthy(&self.call(f, &[v.clone(), k.to_value()])?);
            if every && !r {
                return Ok(Value::Bool(false));
            }
            if !every && r {
                return Ok(Value::Bool(true));
            }
        }
        Ok(Value::Bool(every))
    }

    fn apply_filter(&mut self, f: FilterImpl, v: Value, args: &Args) -> R<Value> {
        match f {
            FilterImpl::Lib(func) => func(self, v, args),
            FilterImpl::Raw => Ok(v),
            FilterImpl::Default => {
                if is_empty(&v) {
                    Ok(args.get(0).cloned().unwrap_or_else(|| Value::str("")))
                } else {
                    Ok(v)
                }
            }
            FilterImpl::Escape => crate::escape::escape_filter(v, args),
        }
    }

    fn eval_test(&mut self, t: TestImpl, input: &Expr, args: &[Option<Expr>]) -> R<bool> {
        if let TestImpl::Defined = t {
            return self.defined(input);
        }
        let v = self.eval(input)?;
        let args = self.eval_args(args)?;
        match t {
            TestImpl::Lib(func) => func(self, &v, &args),
            TestImpl::Defined => Ok(true),
            TestImpl::Null => Ok(v.is_null()),
            TestImpl::SameAs => Ok(compare::strict_eq(&v, args.required(0)?)),
            TestImpl::Empty => Ok(is_empty(&v)),
            TestImpl::Iterable => Ok(matches!(v, Value::Array(_))),
            TestImpl::Even | TestImpl::Odd => {
                let r = ops::modulo(&v, &Value::Int(2))?;
                let even = matches!(r, Value::Int(0));
                Ok(if matches!(t, TestImpl::Even) {
                    even
                } else {
                    !even
                })
            }
            TestImpl::DivisibleBy => {
                let r = ops::modulo(&v, args.required(0)?)?;
                Ok(matches!(r, Value::Int(0)))
            }
        }
    }

    /// `is defined` (§1.3, §3.4).
    fn defined(&mut self, e: &Expr) -> R<bool> {
        match &e.kind {
            ExprKind::Name(n) => Ok(self.name_defined(n)),
            ExprKind::GetAttr { obj, key, kind, .. } => {
                if let ExprKind::Name(n) = &obj.kind
                    && !self.name_defined(n)
                {
                    return Ok(false);
                }
                if let ExprKind::GetAttr { .. } = &obj.kind
                    && !self.defined(obj)?
                {
                    return Ok(false);
                }
                let o = self.eval(obj)?;
                let k = self.eval(key)?;
                Ok(attr::attribute_defined(&o, &k, *kind))
            }
            _ => Ok(true),
        }
    }
}

/// Twig's `empty` test (also used by `default`).
pub(crate) fn is_empty(v: &Value) -> bool {
    if let Some(t) = markup_text(v) {
        return t.is_empty();
    }
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::Str(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.to_pstr().is_ok_and(|s| s.is_empty()),
        _ => false,
    }
}

/// A filter call given no arguments (skipped optional slots count as none).
fn no_args(args: &[Option<Expr>]) -> bool {
    args.iter().all(Option::is_none)
}

/// `X|json_encode` with no arguments.
fn is_plain_json_encode(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Filter { name: "json_encode", args, .. } if no_args(args))
}

/// The value PHP's compiler gives `e` at compile time, when the compiled
/// Twig expression is a PHP constant: literals, arrays of constants, and
/// unary and binary operators on constants that PHP folds (those that
/// raise no error, warning or deprecation). Filters, functions, names,
/// `//`, `..` and the tests are never constant.
pub(crate) fn php_const(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Const(v) => Some(v.clone()),
        ExprKind::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(php_const(i)?);
            }
            Some(Value::list(out))
        }
        ExprKind::Hash(pairs) => {
            let mut out = katabox_value::Array::with_capacity(pairs.len());
            for (k, v) in pairs {
                let k = katabox_value::Key::from_value(&php_const(k)?)?;
                out.insert(k, php_const(v)?);
            }
            Some(Value::array(out))
        }
        ExprKind::Unary(UnOp::Not, x) => Some(Value::Bool(!ops::truthy(&php_const(x)?))),
        ExprKind::Unary(UnOp::Neg | UnOp::Pos, x) => {
            let v = php_const(x)?;
            quiet_number(&v)?;
            match &e.kind {
                ExprKind::Unary(UnOp::Neg, _) => ops::neg(&v).ok(),
                _ => ops::pos(&v).ok(),
            }
        }
        ExprKind::Binary(op, a, b) => {
            let (x, y) = (php_const(a)?, php_const(b)?);
            match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Pow => {
                    if *op == BinOp::Add && matches!((&x, &y), (Value::Array(_), Value::Array(_))) {
                        return ops::arith(Arith::Add, &x, &y).ok();
                    }
                    quiet_number(&x)?;
                    quiet_number(&y)?;
                    match op {
                        BinOp::Add => ops::arith(Arith::Add, &x, &y).ok(),
                        BinOp::Sub => ops::arith(Arith::Sub, &x, &y).ok(),
                        BinOp::Mul => ops::arith(Arith::Mul, &x, &y).ok(),
                        BinOp::Div => ops::div(&x, &y).ok(),
                        _ => ops::pow(&x, &y).ok(),
                    }
                }
                BinOp::Mod | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                    let both_text = matches!((&x, &y), (Value::Str(_), Value::Str(_)));
                    if !both_text || *op == BinOp::Mod {
                        quiet_int(&x)?;
                        quiet_int(&y)?;
                    }
                    match op {
                        BinOp::Mod => ops::modulo(&x, &y).ok(),
                        BinOp::BitAnd => ops::bitwise("&", &x, &y).ok(),
                        BinOp::BitOr => ops::bitwise("|", &x, &y).ok(),
                        _ => ops::bitwise("^", &x, &y).ok(),
                    }
                }
                BinOp::Concat => {
                    if matches!(x, Value::Array(_) | Value::Object(_))
                        || matches!(y, Value::Array(_) | Value::Object(_))
                    {
                        return None;
                    }
                    ops::concat(&x, &y, usize::MAX).ok()
                }
                BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Gt
                | BinOp::Le
                | BinOp::Ge
                | BinOp::Spaceship => Some(ops::compare(*op, &x, &y)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `Some` when PHP converts `v` to a number without a warning or error.
fn quiet_number(v: &Value) -> Option<()> {
    match v {
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => Some(()),
        Value::Str(s) => katabox_value::convert::parse_numeric(s.as_bytes()).map(|_| ()),
        _ => None,
    }
}

/// `Some` when PHP converts `v` to an int without a warning, error or
/// deprecation (a float must be integral and in range).
fn quiet_int(v: &Value) -> Option<()> {
    let f = match v {
        Value::Float(f) => *f,
        Value::Str(s) => match katabox_value::convert::parse_numeric(s.as_bytes())? {
            katabox_value::convert::Number::Int(_) => return Some(()),
            katabox_value::convert::Number::Float(f) => f,
        },
        other => return quiet_number(other),
    };
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(())
}

/// Twig's safe analysis for the `html` strategy: constants, conditionals
/// whose both branches are safe, and the filters declared safe (`raw`,
/// `escape`/`e` with the `html` strategy, `nl2br`, `spaceless`).
fn html_safe(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(_) => true,
        ExprKind::Cond(_, a, b) | ExprKind::Elvis(a, b) => html_safe(a) && html_safe(b),
        ExprKind::Binary(BinOp::Coalesce, a, b) => html_safe(a) && html_safe(b),
        ExprKind::Filter { name, args, .. } => match *name {
            "raw" | "nl2br" | "spaceless" => true,
            "escape" | "e" => match args.first() {
                None | Some(None) => true,
                Some(Some(a)) => {
                    matches!(&a.kind, ExprKind::Const(Value::Str(s)) if s.as_bytes() == b"html")
                }
            },
            _ => false,
        },
        _ => false,
    }
}
