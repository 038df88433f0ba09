//! Expressions: precedence climbing as Twig's `ExpressionParser` does it.

use super::Parser;
use crate::ast::{Arrow, AttrKind, BinOp, Expr, ExprKind, FilterImpl, TestImpl, UnOp};
use crate::error::TwigError;
use crate::lexer::TokKind;
use crate::registry;
use katabox_value::{Array, Key, PStr, Value};
use std::sync::Arc;

/// Precedence and right-associativity of a binary operator.
fn binary(op: &[u8]) -> Option<(usize, BinOp, bool)> {
    Some(match op {
        b"or" => (10, BinOp::Or, false),
        b"and" => (15, BinOp::And, false),
        b"b-or" => (16, BinOp::BitOr, false),
        b"b-xor" => (17, BinOp::BitXor, false),
        b"b-and" => (18, BinOp::BitAnd, false),
        b"==" => (20, BinOp::Eq, false),
        b"!=" => (20, BinOp::Ne, false),
        b"<=>" => (20, BinOp::Spaceship, false),
        b"<" => (20, BinOp::Lt, false),
        b">" => (20, BinOp::Gt, false),
        b">=" => (20, BinOp::Ge, false),
        b"<=" => (20, BinOp::Le, false),
        b"not in" => (20, BinOp::NotIn, false),
        b"in" => (20, BinOp::In, false),
        b"matches" => (20, BinOp::Matches, false),
        b"starts with" => (20, BinOp::StartsWith, false),
        b"ends with" => (20, BinOp::EndsWith, false),
        b"has some" => (20, BinOp::HasSome, false),
        b"has every" => (20, BinOp::HasEvery, false),
        b".." => (25, BinOp::Range, false),
        b"+" => (30, BinOp::Add, false),
        b"-" => (30, BinOp::Sub, false),
        b"~" => (40, BinOp::Concat, false),
        b"*" => (60, BinOp::Mul, false),
        b"/" => (60, BinOp::Div, false),
        b"//" => (60, BinOp::FloorDiv, false),
        b"%" => (60, BinOp::Mod, false),
        // `is` / `is not` are handled apart (tests); the op is a placeholder.
        b"is" | b"is not" => (100, BinOp::Eq, false),
        b"**" => (200, BinOp::Pow, true),
        b"??" => (300, BinOp::Coalesce, true),
        _ => return None,
    })
}

fn unary(op: &[u8]) -> Option<(usize, UnOp)> {
    Some(match op {
        b"not" => (50, UnOp::Not),
        b"-" => (500, UnOp::Neg),
        b"+" => (500, UnOp::Pos),
        _ => return None,
    })
}

/// True when an operator token is spelled like a name (`in`, `and`...).
pub(super) fn is_name_like(v: &[u8]) -> bool {
    !v.is_empty()
        && (v[0].is_ascii_alphabetic() || v[0] == b'_' || v[0] >= 0x7f)
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b >= 0x7f)
}

/// Parses a number literal as Twig does (ints saturate at i64::MAX for 2^63).
fn number_value(text: &str) -> Value {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
        if text == "9223372036854775808" {
            return Value::Int(i64::MAX);
        }
    }
    Value::Float(text.parse::<f64>().unwrap_or(0.0))
}

impl Parser {
    fn check_depth(&self, e: Expr) -> Result<Expr, TwigError> {
        if e.depth > self.max_depth {
            return Err(TwigError::syntax(
                format!(
                    "The expression nests deeper than the limit of {} levels.",
                    self.max_depth
                ),
                e.line,
            ));
        }
        Ok(e)
    }

    fn mk(&self, kind: ExprKind, line: usize) -> Result<Expr, TwigError> {
        self.check_depth(Expr::new(kind, line))
    }

    /// `parseExpression($precedence, $allowArrow)`.
    pub(super) fn parse_expression(
        &mut self,
        min: usize,
        allow_arrow: bool,
    ) -> Result<Expr, TwigError> {
        let line = self.cur().line;
        self.enter(line)?;
        let r = self.parse_expression_inner(min, allow_arrow);
        self.leave();
        r
    }

    fn parse_expression_inner(&mut self, min: usize, allow_arrow: bool) -> Result<Expr, TwigError> {
        if allow_arrow && let Some(a) = self.parse_arrow()? {
            return Ok(a);
        }
        let mut e = self.parse_unary_or_primary()?;
        loop {
            let t = self.cur().clone();
            if t.kind != TokKind::Op {
                break;
            }
            let Some((prec, op, right)) = binary(&t.value) else {
                break;
            };
            if prec < min {
                break;
            }
            self.advance();
            if t.value == b"is not" {
                let test = self.parse_test(e)?;
                e = self.mk(ExprKind::Unary(UnOp::Not, Box::new(test)), t.line)?;
            } else if t.value == b"is" {
                e = self.parse_test(e)?;
            } else {
                let rhs = self.parse_expression(if right { prec } else { prec + 1 }, true)?;
                e = self.binary_node(op, e, rhs, t.line)?;
            }
        }
        if min == 0 {
            return self.parse_conditional(e);
        }
        Ok(e)
    }

    /// Builds a binary node; a unary operator on the left of `**` applies
    /// after the power (PHP precedence leaks through, §3.3).
    fn binary_node(&self, op: BinOp, lhs: Expr, rhs: Expr, line: usize) -> Result<Expr, TwigError> {
        // `a ?? b` runs the `defined` test on `a` (Twig's NullCoalesceExpression).
        if op == BinOp::Coalesce && !definable(&lhs) {
            return Err(TwigError::syntax(
                "The \"defined\" test only works with simple variables.",
                lhs.line,
            ));
        }
        if op == BinOp::Pow
            && let ExprKind::Unary(u, _) = &lhs.kind
        {
            let u = *u;
            let lline = lhs.line;
            let ExprKind::Unary(_, inner) = lhs.kind else {
                return Err(TwigError::syntax("Internal parser error.", line));
            };
            let pow = self.binary_node(op, *inner, rhs, line)?;
            return self.mk(ExprKind::Unary(u, Box::new(pow)), lline);
        }
        self.mk(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), line)
    }

    fn parse_conditional(&mut self, mut e: Expr) -> Result<Expr, TwigError> {
        while self.next_if(TokKind::Punct, Some("?")).is_some() {
            let line = e.line;
            if self.next_if(TokKind::Punct, Some(":")).is_none() {
                let a = self.parse_expression(0, false)?;
                let b = if self.next_if(TokKind::Punct, Some(":")).is_some() {
                    self.parse_expression(0, false)?
                } else {
                    Expr::constant(Value::str(""), self.cur().line)
                };
                e = self.mk(ExprKind::Cond(Box::new(e), Box::new(a), Box::new(b)), line)?;
            } else {
                let b = self.parse_expression(0, false)?;
                e = self.mk(ExprKind::Elvis(Box::new(e), Box::new(b)), line)?;
            }
        }
        Ok(e)
    }

    fn parse_arrow(&mut self) -> Result<Option<Expr>, TwigError> {
        let line = self.cur().line;
        // Short form: `name =>`.
        if self.look(1).is_some_and(|t| t.kind == TokKind::Arrow) {
            let t = self.expect(TokKind::Name, None, None)?;
            self.expect(TokKind::Arrow, None, None)?;
            let body = self.parse_expression(0, false)?;
            let a = Arrow {
                params: vec![Arc::from(t.text().as_str())],
                body,
            };
            return Ok(Some(self.mk(ExprKind::Arrow(Arc::new(a)), line)?));
        }
        // Long form: `( name, name ) =>`.
        if !self.test(TokKind::Punct, Some("(")) {
            return Ok(None);
        }
        let mut i = 1;
        loop {
            i += 1;
            if !self.look(i).is_some_and(|t| t.is(TokKind::Punct, ",")) {
                break;
            }
            i += 1;
        }
        if !self.look(i).is_some_and(|t| t.is(TokKind::Punct, ")")) {
            return Ok(None);
        }
        i += 1;
        if !self.look(i).is_some_and(|t| t.kind == TokKind::Arrow) {
            return Ok(None);
        }
        self.expect(TokKind::Punct, Some("("), None)?;
        let mut params = Vec::new();
        loop {
            let t = self.expect(TokKind::Name, None, None)?;
            params.push(Arc::from(t.text().as_str()));
            if self.next_if(TokKind::Punct, Some(",")).is_none() {
                break;
            }
        }
        self.expect(TokKind::Punct, Some(")"), None)?;
        self.expect(TokKind::Arrow, None, None)?;
        let body = self.parse_expression(0, false)?;
        Ok(Some(self.mk(
            ExprKind::Arrow(Arc::new(Arrow { params, body })),
            line,
        )?))
    }

    /// `getPrimary()`.
    fn parse_unary_or_primary(&mut self) -> Result<Expr, TwigError> {
        let t = self.cur().clone();
        if t.kind == TokKind::Op
            && let Some((prec, op)) = unary(&t.value)
        {
            self.advance();
            let inner = self.parse_expression(prec, false)?;
            let e = self.mk(ExprKind::Unary(op, Box::new(inner)), t.line)?;
            return self.parse_postfix(e);
        }
        if t.is(TokKind::Punct, "(") {
            self.advance();
            let e = self.parse_expression(0, false)?;
            self.expect(
                TokKind::Punct,
                Some(")"),
                Some("An opened parenthesis is not properly closed"),
            )?;
            return self.parse_postfix(e);
        }
        self.parse_primary()
    }

    /// `parsePrimaryExpression()`.
    fn parse_primary(&mut self) -> Result<Expr, TwigError> {
        let t = self.cur().clone();
        let node = match t.kind {
            TokKind::Name => {
                self.advance();
                let name = t.text();
                match name.as_str() {
                    "true" | "TRUE" => Expr::constant(Value::Bool(true), t.line),
                    "false" | "FALSE" => Expr::constant(Value::Bool(false), t.line),
                    "none" | "NONE" | "null" | "NULL" => Expr::constant(Value::Null, t.line),
                    _ => {
                        if self.test(TokKind::Punct, Some("(")) {
                            self.parse_function(&name, t.line)?
                        } else {
                            self.name_expr(&name, t.line)
                        }
                    }
                }
            }
            TokKind::Number => {
                self.advance();
                Expr::constant(number_value(&t.text()), t.line)
            }
            TokKind::Str | TokKind::InterpStart => self.parse_string()?,
            TokKind::Op if is_name_like(&t.value) => {
                self.advance();
                self.name_expr(&t.text(), t.line)
            }
            _ => {
                if t.is(TokKind::Punct, "[") {
                    self.parse_array()?
                } else if t.is(TokKind::Punct, "{") {
                    self.parse_hash()?
                } else if t.is(TokKind::Op, "=")
                    && self.pos > 0
                    && matches!(self.tokens[self.pos - 1].value.as_slice(), b"==" | b"!=")
                {
                    let not = if self.tokens[self.pos - 1].value == b"!=" {
                        " not"
                    } else {
                        ""
                    };
                    return Err(TwigError::syntax(
                        format!(
                            "Unexpected operator of value \"=\". Did you try to use \"===\" or \"!==\" for strict comparison? Use \"is{not} same as(value)\" instead."
                        ),
                        t.line,
                    ));
                } else {
                    return Err(TwigError::syntax(
                        format!(
                            "Unexpected token \"{}\" of value \"{}\".",
                            t.kind.english(),
                            t.text()
                        ),
                        t.line,
                    ));
                }
            }
        };
        self.parse_postfix(node)
    }

    fn name_expr(&self, name: &str, line: usize) -> Expr {
        match name {
            "_context" => Expr::new(ExprKind::Context, line),
            "_charset" => Expr::constant(Value::str("UTF-8"), line),
            "_self" => Expr::constant(Value::str(&self.template), line),
            _ => Expr::new(ExprKind::Name(Arc::from(name)), line),
        }
    }

    fn parse_string(&mut self) -> Result<Expr, TwigError> {
        let mut parts: Vec<Expr> = Vec::new();
        let mut next_can_be_string = true;
        loop {
            if next_can_be_string && self.test(TokKind::Str, None) {
                let t = self.advance();
                parts.push(Expr::constant(Value::Str(PStr::from(t.value)), t.line));
                next_can_be_string = false;
            } else if self.next_if(TokKind::InterpStart, None).is_some() {
                parts.push(self.parse_expression(0, false)?);
                self.expect(TokKind::InterpEnd, None, None)?;
                next_can_be_string = true;
            } else {
                break;
            }
        }
        let mut it = parts.into_iter();
        let Some(mut e) = it.next() else {
            let t = self.cur();
            return Err(TwigError::syntax("Unexpected end of string.", t.line));
        };
        for p in it {
            let line = p.line;
            e = self.mk(
                ExprKind::Binary(BinOp::Concat, Box::new(e), Box::new(p)),
                line,
            )?;
        }
        Ok(e)
    }

    fn parse_array(&mut self) -> Result<Expr, TwigError> {
        let open = self.expect(
            TokKind::Punct,
            Some("["),
            Some("An array element was expected"),
        )?;
        let mut items = Vec::new();
        let mut first = true;
        while !self.test(TokKind::Punct, Some("]")) {
            if !first {
                self.expect(
                    TokKind::Punct,
                    Some(","),
                    Some("An array element must be followed by a comma"),
                )?;
                if self.test(TokKind::Punct, Some("]")) {
                    break;
                }
            }
            first = false;
            items.push(self.parse_expression(0, false)?);
        }
        self.expect(
            TokKind::Punct,
            Some("]"),
            Some("An opened array is not properly closed"),
        )?;
        self.mk(ExprKind::Array(items), open.line)
    }

    fn parse_hash(&mut self) -> Result<Expr, TwigError> {
        let open = self.expect(
            TokKind::Punct,
            Some("{"),
            Some("A hash element was expected"),
        )?;
        let mut items = Vec::new();
        let mut first = true;
        while !self.test(TokKind::Punct, Some("}")) {
            if !first {
                self.expect(
                    TokKind::Punct,
                    Some(","),
                    Some("A hash value must be followed by a comma"),
                )?;
                if self.test(TokKind::Punct, Some("}")) {
                    break;
                }
            }
            first = false;
            let t = self.cur().clone();
            let key = if t.kind == TokKind::Name {
                self.advance();
                let k = Expr::constant(Value::Str(PStr::from(t.value.clone())), t.line);
                if self.test(TokKind::Punct, Some(",")) || self.test(TokKind::Punct, Some("}")) {
                    let v = self.name_expr(&t.text(), t.line);
                    items.push((k, v));
                    continue;
                }
                k
            } else if t.kind == TokKind::Str {
                self.advance();
                Expr::constant(Value::Str(PStr::from(t.value.clone())), t.line)
            } else if t.kind == TokKind::Number {
                self.advance();
                Expr::constant(number_value(&t.text()), t.line)
            } else if t.is(TokKind::Punct, "(") {
                self.parse_expression(0, false)?
            } else {
                return Err(TwigError::syntax(
                    format!(
                        "A hash key must be a quoted string, a number, a name, or an expression enclosed in parentheses (unexpected token \"{}\" of value \"{}\".",
                        t.kind.english(),
                        t.text()
                    ),
                    t.line,
                ));
            };
            self.expect(
                TokKind::Punct,
                Some(":"),
                Some("A hash key must be followed by a colon (:)"),
            )?;
            let v = self.parse_expression(0, false)?;
            items.push((key, v));
        }
        self.expect(
            TokKind::Punct,
            Some("}"),
            Some("An opened hash is not properly closed"),
        )?;
        // A hash of constants is folded into one constant array.
        if items.iter().all(|(k, v)| {
            matches!(k.kind, ExprKind::Const(_)) && matches!(v.kind, ExprKind::Const(_))
        }) {
            let mut a = Array::with_capacity(items.len());
            for (k, v) in &items {
                if let (ExprKind::Const(k), ExprKind::Const(v)) = (&k.kind, &v.kind)
                    && let Some(key) = Key::from_value(k)
                {
                    a.insert(key, v.clone());
                }
            }
            return Ok(Expr::constant(Value::array(a), open.line));
        }
        self.mk(ExprKind::Hash(items), open.line)
    }

    /// Postfix chain: `.name`, `[expr]`, `[a:b]`, `|filter`.
    pub(super) fn parse_postfix(&mut self, mut node: Expr) -> Result<Expr, TwigError> {
        loop {
            let t = self.cur().clone();
            if t.kind != TokKind::Punct {
                break;
            }
            node = match t.value.as_slice() {
                b"." | b"[" => self.parse_subscript(node)?,
                b"|" => {
                    self.advance();
                    self.parse_filter_chain(node)?
                }
                _ => break,
            };
        }
        Ok(node)
    }

    fn parse_subscript(&mut self, node: Expr) -> Result<Expr, TwigError> {
        let t = self.advance();
        let line = t.line;
        if t.value == b"." {
            let k = self.advance();
            let ok = matches!(k.kind, TokKind::Name | TokKind::Number)
                || (k.kind == TokKind::Op && is_name_like(&k.value));
            if !ok {
                return Err(TwigError::syntax(
                    format!(
                        "Expected name or number, got value \"{}\" of type {}.",
                        k.text(),
                        k.kind.english()
                    ),
                    line,
                ));
            }
            let key = if k.kind == TokKind::Number {
                Expr::constant(number_value(&k.text()), line)
            } else {
                Expr::constant(Value::Str(PStr::from(k.value.clone())), line)
            };
            let (kind, args) = if self.test(TokKind::Punct, Some("(")) {
                let args = self.parse_arguments(false, false)?;
                (AttrKind::Method, args.into_iter().map(|(_, e)| e).collect())
            } else {
                (AttrKind::Any, Vec::new())
            };
            return self.mk(
                ExprKind::GetAttr {
                    obj: Box::new(node),
                    key: Box::new(key),
                    args,
                    kind,
                },
                line,
            );
        }
        // `[`: subscript or slice.
        let mut slice = false;
        let start = if self.test(TokKind::Punct, Some(":")) {
            slice = true;
            Expr::constant(Value::Int(0), line)
        } else {
            self.parse_expression(0, false)?
        };
        if self.next_if(TokKind::Punct, Some(":")).is_some() {
            slice = true;
        }
        if slice {
            let length = if self.test(TokKind::Punct, Some("]")) {
                Expr::constant(Value::Null, line)
            } else {
                self.parse_expression(0, false)?
            };
            self.expect(TokKind::Punct, Some("]"), None)?;
            let Some(def) = self.reg.filters.get("slice").copied() else {
                return Err(TwigError::syntax("Unknown \"slice\" filter.", line));
            };
            return self.mk(
                ExprKind::Filter {
                    name: def.name,
                    input: Box::new(node),
                    func: def.func,
                    args: vec![Some(start), Some(length)],
                },
                line,
            );
        }
        self.expect(TokKind::Punct, Some("]"), None)?;
        self.mk(
            ExprKind::GetAttr {
                obj: Box::new(node),
                key: Box::new(start),
                args: Vec::new(),
                kind: AttrKind::Array,
            },
            line,
        )
    }

    /// `parseFilterExpressionRaw`: `name(args)|name...` applied to `node`.
    pub(super) fn parse_filter_chain(&mut self, mut node: Expr) -> Result<Expr, TwigError> {
        loop {
            let t = self.expect(TokKind::Name, None, None)?;
            let name = t.text();
            let args = if self.test(TokKind::Punct, Some("(")) {
                self.parse_arguments(true, true)?
            } else {
                Vec::new()
            };
            let Some(def) = self.reg.filters.get(name.as_str()).copied() else {
                if registry::helpdesk_filter(&name) {
                    return Err(TwigError::syntax(
                        format!("Filter \"{name}\" is not available in katabox."),
                        t.line,
                    ));
                }
                let msg = registry::with_suggestions(
                    format!("Unknown \"{name}\" filter."),
                    &name,
                    self.reg.filter_order.iter().copied(),
                );
                return Err(TwigError::syntax(msg, t.line));
            };
            let named = args.iter().any(|(n, _)| n.is_some());
            if matches!(def.func, FilterImpl::Default)
                && named
                && matches!(node.kind, ExprKind::Name(_) | ExprKind::GetAttr { .. })
            {
                return Err(TwigError::Syntax {
                    message: "An exception has been thrown during the compilation of a template (\"Node \"0\" does not exist for Node \"Twig\\Node\\Node\".\").".into(),
                    line: -1,
                });
            }
            let args = super::args::map(
                args,
                def.params,
                def.required,
                def.variadic,
                "filter",
                def.name,
                t.line,
            )?;
            node = self.mk(
                ExprKind::Filter {
                    name: def.name,
                    input: Box::new(node),
                    func: def.func,
                    args,
                },
                t.line,
            )?;
            if self.next_if(TokKind::Punct, Some("|")).is_none() {
                break;
            }
        }
        Ok(node)
    }

    /// `parseArguments`: `(a, name=b, ...)`.
    pub(super) fn parse_arguments(
        &mut self,
        named: bool,
        allow_arrow: bool,
    ) -> Result<Vec<(Option<String>, Expr)>, TwigError> {
        let mut args: Vec<(Option<String>, Expr)> = Vec::new();
        self.expect(
            TokKind::Punct,
            Some("("),
            Some("A list of arguments must begin with an opening parenthesis"),
        )?;
        while !self.test(TokKind::Punct, Some(")")) {
            if !args.is_empty() {
                self.expect(
                    TokKind::Punct,
                    Some(","),
                    Some("Arguments must be separated by a comma"),
                )?;
                if self.test(TokKind::Punct, Some(")")) {
                    break;
                }
            }
            let value = self.parse_expression(0, allow_arrow)?;
            if named && let Some(eq) = self.next_if(TokKind::Op, Some("=")) {
                let ExprKind::Name(n) = &value.kind else {
                    return Err(TwigError::syntax(
                        "A parameter name must be a string, \"Twig\\Node\\Expression\\ConstantExpression\" given.",
                        eq.line,
                    ));
                };
                let n = n.to_string();
                let v = self.parse_expression(0, allow_arrow)?;
                args.push((Some(n), v));
            } else {
                args.push((None, value));
            }
        }
        self.expect(
            TokKind::Punct,
            Some(")"),
            Some("A list of arguments must be closed by a parenthesis"),
        )?;
        Ok(args)
    }

    fn parse_function(&mut self, name: &str, line: usize) -> Result<Expr, TwigError> {
        match name {
            "parent" => {
                return Err(TwigError::syntax(
                    "Calling \"parent\" outside a block is forbidden.",
                    line,
                ));
            }
            "block" => {
                let args = self.parse_arguments(false, false)?;
                let Some((_, name)) = args.into_iter().next() else {
                    return Err(TwigError::syntax(
                        "Unexpected token \"punctuation\" of value \")\".",
                        line,
                    ));
                };
                return self.mk(ExprKind::BlockRef(Box::new(name)), line);
            }
            "attribute" => {
                let args = self.parse_arguments(false, false)?;
                if args.len() < 2 {
                    return Err(TwigError::syntax(
                        "The \"attribute\" function takes at least two arguments (the variable and the attributes).",
                        line,
                    ));
                }
                let mut it = args.into_iter().map(|(_, e)| e);
                let (Some(obj), Some(key)) = (it.next(), it.next()) else {
                    return Err(TwigError::syntax("Internal parser error.", line));
                };
                let rest: Vec<Expr> = it.collect();
                return self.mk(
                    ExprKind::GetAttr {
                        obj: Box::new(obj),
                        key: Box::new(key),
                        args: rest,
                        kind: AttrKind::Any,
                    },
                    line,
                );
            }
            _ => {}
        }
        let args = self.parse_arguments(true, false)?;
        let Some(def) = self.reg.functions.get(name).copied() else {
            if registry::helpdesk_function(name) {
                return Err(TwigError::syntax(
                    format!("Function \"{name}\" is not available in katabox."),
                    line,
                ));
            }
            let msg = registry::with_suggestions(
                format!("Unknown \"{name}\" function."),
                name,
                self.reg.function_order.iter().copied(),
            );
            return Err(TwigError::syntax(msg, line));
        };
        let Some(func) = def.func else {
            if self.refused_function.is_none() {
                self.refused_function = Some(super::Violation {
                    message: format!("Function \"{name}\" is not allowed."),
                    line,
                });
            }
            return Ok(Expr::constant(Value::Null, line));
        };
        let args = super::args::map(
            args,
            def.params,
            def.required,
            def.variadic,
            "function",
            def.name,
            line,
        )?;
        self.mk(
            ExprKind::Function {
                name: def.name,
                func,
                args,
            },
            line,
        )
    }

    /// `parseTestExpression`: the test after `is`.
    fn parse_test(&mut self, node: Expr) -> Result<Expr, TwigError> {
        let line = node.line;
        let t = self.expect(TokKind::Name, None, None)?;
        let mut name = t.text();
        let def = match self.reg.tests.get(name.as_str()).copied() {
            Some(d) => d,
            None => {
                let two = if self.test(TokKind::Name, None) {
                    let n2 = format!("{name} {}", self.cur().text());
                    name = n2.clone();
                    self.reg.tests.get(n2.as_str()).copied()
                } else {
                    None
                };
                match two {
                    Some(d) => {
                        self.advance();
                        d
                    }
                    None => {
                        let msg = registry::with_suggestions(
                            format!("Unknown \"{name}\" test."),
                            &name,
                            self.reg.test_order.iter().copied(),
                        );
                        return Err(TwigError::syntax(msg, line));
                    }
                }
            }
        };
        let args = if self.test(TokKind::Punct, Some("(")) {
            let a = self.parse_arguments(true, false)?;
            super::args::map(
                a,
                def.params,
                def.required,
                def.variadic,
                "test",
                def.name,
                line,
            )?
        } else if def.one_mandatory {
            vec![Some(self.parse_primary()?)]
        } else {
            Vec::new()
        };
        if matches!(def.func, TestImpl::Defined) && !definable(&node) {
            return Err(TwigError::syntax(
                "The \"defined\" test only works with simple variables.",
                line,
            ));
        }
        self.mk(
            ExprKind::Test {
                name: def.name,
                input: Box::new(node),
                func: def.func,
                args,
            },
            self.cur().line,
        )
    }
}

/// Nodes Twig's `defined` test accepts.
fn definable(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Name(_)
            | ExprKind::GetAttr { .. }
            | ExprKind::Const(_)
            | ExprKind::Context
            | ExprKind::Array(_)
            | ExprKind::Hash(_)
    )
}
