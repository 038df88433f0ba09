//! The parser: tokens to a syntax tree, with Twig's errors (scripting.md
//! §3, §5, §10, §11) and the sandbox's tag and function checks.

mod args;
mod expr;

use crate::ast::{ExprKind, Node};
use crate::error::TwigError;
use crate::lexer::{TokKind, Token};
use crate::registry::{self, Registry};
use katabox_value::PStr;
use std::sync::Arc;

/// A sandbox violation found while parsing (reported after parsing).
#[derive(Debug, Clone)]
struct Violation {
    message: String,
    line: usize,
}

/// Parses tokens into statements; `template` names the template in sandbox errors.
pub fn parse(tokens: Vec<Token>, template: &str, max_depth: usize) -> Result<Vec<Node>, TwigError> {
    let mut p = Parser {
        tokens,
        pos: 0,
        reg: Registry::get(),
        max_depth,
        depth: 0,
        refused_tag: None,
        refused_function: None,
        template: template.to_string(),
    };
    let (nodes, _) = p.subparse(None)?;
    if let Some(v) = p.refused_tag.take().or_else(|| p.refused_function.take()) {
        return Err(TwigError::Runtime {
            message: v.message,
            template: template.to_string(),
            line: v.line,
        });
    }
    Ok(nodes)
}

/// Which tag a body belongs to, and which tags end it.
struct Fork<'a> {
    tag: &'a str,
    line: usize,
    ends: &'a [&'a str],
}

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    reg: &'static Registry,
    max_depth: usize,
    depth: usize,
    refused_tag: Option<Violation>,
    refused_function: Option<Violation>,
    template: String,
}

/// PHP truthiness of a token value (`""` and `"0"` are false).
fn php_truthy(v: &[u8]) -> bool {
    !(v.is_empty() || v == b"0")
}

impl Parser {
    fn cur(&self) -> &Token {
        let i = self.pos.min(self.tokens.len().saturating_sub(1));
        &self.tokens[i]
    }

    fn look(&self, n: usize) -> Option<&Token> {
        self.tokens.get(self.pos + n)
    }

    fn advance(&mut self) -> Token {
        let t = self.cur().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn test(&self, kind: TokKind, value: Option<&str>) -> bool {
        let t = self.cur();
        t.kind == kind && value.is_none_or(|v| t.value == v.as_bytes())
    }

    fn next_if(&mut self, kind: TokKind, value: Option<&str>) -> Option<Token> {
        if self.test(kind, value) {
            Some(self.advance())
        } else {
            None
        }
    }

    /// Twig's `TokenStream::expect`.
    fn expect(
        &mut self,
        kind: TokKind,
        value: Option<&str>,
        msg: Option<&str>,
    ) -> Result<Token, TwigError> {
        if self.test(kind, value) {
            return Ok(self.advance());
        }
        let t = self.cur();
        let prefix = msg.map(|m| format!("{m}. ")).unwrap_or_default();
        let of_value = if php_truthy(&t.value) {
            format!(" of value \"{}\"", t.text())
        } else {
            String::new()
        };
        let with_value = value
            .map(|v| format!(" with value \"{v}\""))
            .unwrap_or_default();
        Err(TwigError::syntax(
            format!(
                "{prefix}Unexpected token \"{}\"{of_value} (\"{}\" expected{with_value}).",
                t.kind.english(),
                kind.english()
            ),
            t.line,
        ))
    }

    fn enter(&mut self, line: usize) -> Result<(), TwigError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(TwigError::syntax(
                format!(
                    "The template nests deeper than the limit of {} levels.",
                    self.max_depth
                ),
                line,
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Parses statements until EOF or one of the fork's end tags (left as
    /// the current token, the tag name; returned).
    fn subparse(
        &mut self,
        fork: Option<&Fork<'_>>,
    ) -> Result<(Vec<Node>, Option<String>), TwigError> {
        let mut nodes = Vec::new();
        loop {
            let t = self.cur().clone();
            match t.kind {
                TokKind::Eof => {
                    if fork.is_some() {
                        return Err(TwigError::syntax("Unexpected end of template.", t.line));
                    }
                    return Ok((nodes, None));
                }
                TokKind::Text => {
                    self.advance();
                    nodes.push(Node::Text(PStr::from_bytes(&t.value)));
                }
                TokKind::VarStart => {
                    self.advance();
                    let e = self.parse_expression(0, false)?;
                    self.expect(TokKind::VarEnd, None, None)?;
                    nodes.push(Node::Print(e, t.line));
                }
                TokKind::BlockStart => {
                    self.advance();
                    let name_tok = self.cur().clone();
                    if name_tok.kind != TokKind::Name {
                        return Err(TwigError::syntax(
                            "A block must start with a tag name.",
                            name_tok.line,
                        ));
                    }
                    let name = name_tok.text();
                    if let Some(f) = fork
                        && f.ends.contains(&name.as_str())
                    {
                        return Ok((nodes, Some(name)));
                    }
                    if !self.is_tag(&name) {
                        let message = match fork {
                            Some(f) => format!(
                                "Unexpected \"{name}\" tag (expecting closing tag for the \"{}\" tag defined near line {}).",
                                f.tag, f.line
                            ),
                            None => registry::with_suggestions(
                                format!("Unknown \"{name}\" tag."),
                                &name,
                                registry::ALL_TAGS.iter().copied(),
                            ),
                        };
                        return Err(TwigError::syntax(message, name_tok.line));
                    }
                    self.advance();
                    self.enter(name_tok.line)?;
                    let node = self.parse_tag(&name, name_tok.line)?;
                    self.leave();
                    nodes.extend(node);
                }
                _ => {
                    // Twig: "Lexer or parser ended up in unsupported state."
                    return Err(TwigError::syntax(
                        "Lexer or parser ended up in unsupported state.",
                        t.line,
                    ));
                }
            }
        }
    }

    fn is_tag(&self, name: &str) -> bool {
        registry::ALL_TAGS.contains(&name)
    }

    /// Parses a body until `end` tags; consumes the end tag name and returns it.
    fn body(
        &mut self,
        tag: &str,
        line: usize,
        ends: &[&str],
    ) -> Result<(Vec<Node>, String), TwigError> {
        let fork = Fork { tag, line, ends };
        let (nodes, end) = self.subparse(Some(&fork))?;
        self.advance();
        Ok((nodes, end.unwrap_or_default()))
    }

    fn block_end(&mut self) -> Result<(), TwigError> {
        self.expect(TokKind::BlockEnd, None, None).map(|_| ())
    }

    fn parse_tag(&mut self, name: &str, line: usize) -> Result<Vec<Node>, TwigError> {
        Ok(match name {
            "if" => vec![self.parse_if(line)?],
            "for" => vec![self.parse_for(line)?],
            "set" => vec![self.parse_set(line)?],
            "with" => vec![self.parse_with(line)?],
            "apply" => vec![self.parse_apply(line)?],
            "do" => {
                let e = self.parse_expression(0, false)?;
                self.block_end()?;
                vec![Node::Do(e, line)]
            }
            "sandbox" => self.parse_sandbox(line)?,
            other => {
                self.parse_refused(other, line)?;
                Vec::new()
            }
        })
    }

    fn parse_if(&mut self, line: usize) -> Result<Node, TwigError> {
        let cond = self.parse_expression(0, false)?;
        self.block_end()?;
        let mut branches = Vec::new();
        let mut otherwise = Vec::new();
        let (body, mut end) = self.body("if", line, &["elseif", "else", "endif"])?;
        branches.push((cond, body));
        loop {
            match end.as_str() {
                "else" => {
                    self.block_end()?;
                    let (b, e) = self.body("if", line, &["endif"])?;
                    otherwise = b;
                    end = e;
                }
                "elseif" => {
                    let c = self.parse_expression(0, false)?;
                    self.block_end()?;
                    let (b, e) = self.body("if", line, &["elseif", "else", "endif"])?;
                    branches.push((c, b));
                    end = e;
                }
                _ => break,
            }
        }
        self.block_end()?;
        Ok(Node::If {
            branches,
            otherwise,
            line,
        })
    }

    /// Twig's `parseAssignmentExpression`.
    fn parse_targets(&mut self) -> Result<Vec<Arc<str>>, TwigError> {
        let mut targets = Vec::new();
        loop {
            let t = self.cur().clone();
            let is_name_op = t.kind == TokKind::Op && expr::is_name_like(&t.value);
            if is_name_op {
                self.advance();
            } else {
                self.expect(
                    TokKind::Name,
                    None,
                    Some("Only variables can be assigned to"),
                )?;
            }
            let v = t.text();
            if ["true", "false", "none", "null"].contains(&v.to_ascii_lowercase().as_str()) {
                return Err(TwigError::syntax(
                    format!("You cannot assign a value to \"{v}\"."),
                    t.line,
                ));
            }
            targets.push(Arc::from(v.as_str()));
            if self.next_if(TokKind::Punct, Some(",")).is_none() {
                break;
            }
        }
        Ok(targets)
    }

    fn parse_for(&mut self, line: usize) -> Result<Node, TwigError> {
        let targets = self.parse_targets()?;
        self.expect(TokKind::Op, Some("in"), None)?;
        let seq = self.parse_expression(0, false)?;
        self.block_end()?;
        let (body, end) = self.body("for", line, &["else", "endfor"])?;
        let mut otherwise = Vec::new();
        if end == "else" {
            self.block_end()?;
            let (b, _) = self.body("for", line, &["endfor"])?;
            otherwise = b;
        }
        self.block_end()?;
        let (key, value) = if targets.len() > 1 {
            (Some(targets[0].clone()), targets[1].clone())
        } else {
            (None, targets[0].clone())
        };
        let uses_loop = nodes_mention(&body, "loop");
        let uses_key = key.is_some() || uses_loop || nodes_mention(&body, "_key");
        Ok(Node::For {
            key,
            value,
            seq,
            body,
            otherwise,
            uses_loop,
            uses_key,
            line,
        })
    }

    fn parse_set(&mut self, line: usize) -> Result<Node, TwigError> {
        let names = self.parse_targets()?;
        if self.next_if(TokKind::Op, Some("=")).is_some() {
            let mut values = Vec::new();
            loop {
                values.push(self.parse_expression(0, false)?);
                if self.next_if(TokKind::Punct, Some(",")).is_none() {
                    break;
                }
            }
            self.block_end()?;
            if names.len() != values.len() {
                return Err(TwigError::syntax(
                    "When using set, you must have the same number of variables and assignments.",
                    self.cur().line,
                ));
            }
            return Ok(Node::Set {
                names,
                values,
                line,
            });
        }
        if names.len() > 1 {
            return Err(TwigError::syntax(
                "When using set with a block, you cannot have a multi-target.",
                self.cur().line,
            ));
        }
        self.block_end()?;
        let (body, _) = self.body("set", line, &["endset"])?;
        self.block_end()?;
        Ok(Node::SetBlock {
            name: names[0].clone(),
            body,
            line,
        })
    }

    fn parse_with(&mut self, line: usize) -> Result<Node, TwigError> {
        let mut vars = None;
        let mut only = false;
        if !self.test(TokKind::BlockEnd, None) {
            vars = Some(self.parse_expression(0, false)?);
            only = self.next_if(TokKind::Name, Some("only")).is_some();
        }
        self.block_end()?;
        let (body, _) = self.body("with", line, &["endwith"])?;
        self.block_end()?;
        Ok(Node::With {
            vars,
            only,
            body,
            line,
        })
    }

    fn parse_apply(&mut self, line: usize) -> Result<Node, TwigError> {
        let input = crate::ast::Expr::new(ExprKind::ApplyInput, line);
        let chain = self.parse_filter_chain(input)?;
        self.block_end()?;
        let (body, _) = self.body("apply", line, &["endapply"])?;
        self.block_end()?;
        Ok(Node::Apply { chain, body, line })
    }

    fn parse_sandbox(&mut self, line: usize) -> Result<Vec<Node>, TwigError> {
        self.block_end()?;
        let (body, _) = self.body("sandbox", line, &["endsandbox"])?;
        self.block_end()?;
        if body.len() == 1 && matches!(body[0], Node::Text(_)) {
            return Ok(body);
        }
        for n in &body {
            match n {
                Node::Text(t) if t.as_bytes().iter().all(|b| b.is_ascii_whitespace()) => {}
                other => {
                    return Err(TwigError::syntax(
                        "Only \"include\" tags are allowed within a \"sandbox\" section.",
                        node_line(other).unwrap_or(line),
                    ));
                }
            }
        }
        Ok(body)
    }

    /// A refused tag: record the violation, then skip its syntax (and body).
    fn parse_refused(&mut self, name: &str, line: usize) -> Result<(), TwigError> {
        if self.refused_tag.is_none() {
            self.refused_tag = Some(Violation {
                message: format!("Tag \"{name}\" is not allowed."),
                line,
            });
        }
        self.skip_to_block_end()?;
        let end = match name {
            "block" => Some("endblock"),
            "macro" => Some("endmacro"),
            "embed" => Some("endembed"),
            "autoescape" => Some("endautoescape"),
            _ => None,
        };
        if let Some(end) = end {
            let ends = [end];
            self.body(name, line, &ends)?;
            self.skip_to_block_end()?;
        }
        Ok(())
    }

    fn skip_to_block_end(&mut self) -> Result<(), TwigError> {
        while !self.test(TokKind::BlockEnd, None) {
            if self.test(TokKind::Eof, None) {
                return Err(TwigError::syntax(
                    "Unexpected end of template.",
                    self.cur().line,
                ));
            }
            self.advance();
        }
        self.advance();
        Ok(())
    }
}

fn node_line(n: &Node) -> Option<usize> {
    match n {
        Node::Text(_) => None,
        Node::Print(_, l) | Node::Do(_, l) => Some(*l),
        Node::If { line, .. }
        | Node::For { line, .. }
        | Node::Set { line, .. }
        | Node::SetBlock { line, .. }
        | Node::With { line, .. }
        | Node::Apply { line, .. } => Some(*line),
    }
}

/// True when the statements mention the variable `name` or `_context`.
fn nodes_mention(nodes: &[Node], name: &str) -> bool {
    use crate::ast::Expr;
    let e = |x: &Expr| expr_mentions(x, name);
    fn expr_mentions(x: &Expr, name: &str) -> bool {
        let e = |y: &Expr| expr_mentions(y, name);
        match &x.kind {
            ExprKind::Name(n) => &**n == name,
            ExprKind::Context => true,
            ExprKind::Const(_) | ExprKind::ApplyInput => false,
            ExprKind::Array(v) => v.iter().any(e),
            ExprKind::Hash(v) => v.iter().any(|(a, b)| e(a) || e(b)),
            ExprKind::Unary(_, a) => e(a),
            ExprKind::Binary(_, a, b) | ExprKind::Elvis(a, b) => e(a) || e(b),
            ExprKind::Cond(a, b, c) => e(a) || e(b) || e(c),
            ExprKind::GetAttr { obj, key, args, .. } => e(obj) || e(key) || args.iter().any(e),
            ExprKind::Filter { input, args, .. } | ExprKind::Test { input, args, .. } => {
                e(input) || args.iter().flatten().any(e)
            }
            ExprKind::Function { args, .. } => args.iter().flatten().any(e),
            ExprKind::Arrow(a) => e(&a.body),
            ExprKind::BlockRef(a) => e(a),
        }
    }
    nodes.iter().any(|n| match n {
        Node::Text(_) => false,
        Node::Print(x, _) | Node::Do(x, _) => e(x),
        Node::If {
            branches,
            otherwise,
            ..
        } => {
            branches.iter().any(|(c, b)| e(c) || nodes_mention(b, name))
                || nodes_mention(otherwise, name)
        }
        Node::For {
            seq,
            body,
            otherwise,
            ..
        } => e(seq) || nodes_mention(body, name) || nodes_mention(otherwise, name),
        Node::Set { values, .. } => values.iter().any(e),
        Node::SetBlock { body, .. } => nodes_mention(body, name),
        Node::With { vars, body, .. } => vars.as_ref().is_some_and(e) || nodes_mention(body, name),
        Node::Apply { chain, body, .. } => e(chain) || nodes_mention(body, name),
    })
}
