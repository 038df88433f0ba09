//! The syntax tree the parser builds and the evaluator walks.

use crate::callable::{FilterFn, FunctionFn, TestFn};
use katabox_value::{PStr, Value};
use std::sync::Arc;

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Pos,
    Not,
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    BitOr,
    BitXor,
    BitAnd,
    Eq,
    Ne,
    Spaceship,
    Lt,
    Gt,
    Ge,
    Le,
    NotIn,
    In,
    Matches,
    StartsWith,
    EndsWith,
    HasSome,
    HasEvery,
    Range,
    Add,
    Sub,
    Concat,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    Coalesce,
}

/// Attribute access modes (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    /// `a.b`
    Any,
    /// `a[b]`
    Array,
    /// `a.b(args)`
    Method,
}

/// Filters implemented by the evaluator or the library.
#[derive(Debug, Clone, Copy)]
pub enum FilterImpl {
    Lib(FilterFn),
    Default,
    Escape,
    Raw,
}

/// Tests implemented by the evaluator or the library.
#[derive(Debug, Clone, Copy)]
pub enum TestImpl {
    Lib(TestFn),
    Defined,
    Null,
    SameAs,
    Empty,
    Iterable,
    Even,
    Odd,
    DivisibleBy,
}

/// An arrow function `(a, b) => body`.
#[derive(Debug)]
pub struct Arrow {
    pub params: Vec<Arc<str>>,
    pub body: Expr,
}

/// An expression with its line and tree depth.
#[derive(Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub line: usize,
    pub depth: usize,
}

/// Expression kinds.
#[derive(Debug)]
pub enum ExprKind {
    Const(Value),
    Name(Arc<str>),
    /// `_context`
    Context,
    /// The value piped into an `apply` chain.
    ApplyInput,
    Array(Vec<Expr>),
    Hash(Vec<(Expr, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `c ? a : b` (and `c ? a`).
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a ?: b`
    Elvis(Box<Expr>, Box<Expr>),
    GetAttr {
        obj: Box<Expr>,
        key: Box<Expr>,
        args: Vec<Expr>,
        kind: AttrKind,
    },
    Filter {
        name: &'static str,
        input: Box<Expr>,
        func: FilterImpl,
        args: Vec<Option<Expr>>,
    },
    Function {
        name: &'static str,
        func: FunctionFn,
        args: Vec<Option<Expr>>,
    },
    Test {
        name: &'static str,
        input: Box<Expr>,
        func: TestImpl,
        args: Vec<Option<Expr>>,
    },
    Arrow(Arc<Arrow>),
    /// `block('name')`: there are no blocks, so it fails at run time.
    BlockRef(Box<Expr>),
}

impl Expr {
    /// Builds an expression, computing its depth from its children.
    pub fn new(kind: ExprKind, line: usize) -> Expr {
        let depth = 1 + max_child_depth(&kind);
        Expr { kind, line, depth }
    }

    /// A constant.
    pub fn constant(v: Value, line: usize) -> Expr {
        Expr::new(ExprKind::Const(v), line)
    }
}

fn d(e: &Expr) -> usize {
    e.depth
}

fn dopt(args: &[Option<Expr>]) -> usize {
    args.iter().flatten().map(d).max().unwrap_or(0)
}

fn max_child_depth(k: &ExprKind) -> usize {
    match k {
        ExprKind::Const(_) | ExprKind::Name(_) | ExprKind::Context | ExprKind::ApplyInput => 0,
        ExprKind::Array(v) => v.iter().map(d).max().unwrap_or(0),
        ExprKind::Hash(v) => v.iter().map(|(a, b)| d(a).max(d(b))).max().unwrap_or(0),
        ExprKind::Unary(_, e) => d(e),
        ExprKind::Binary(_, a, b) | ExprKind::Elvis(a, b) => d(a).max(d(b)),
        ExprKind::Cond(a, b, c) => d(a).max(d(b)).max(d(c)),
        ExprKind::GetAttr { obj, key, args, .. } => d(obj)
            .max(d(key))
            .max(args.iter().map(d).max().unwrap_or(0)),
        ExprKind::Filter { input, args, .. } | ExprKind::Test { input, args, .. } => {
            d(input).max(dopt(args))
        }
        ExprKind::Function { args, .. } => dopt(args),
        ExprKind::Arrow(a) => d(&a.body),
        ExprKind::BlockRef(e) => d(e),
    }
}

/// A statement.
#[derive(Debug)]
pub enum Node {
    Text(PStr),
    Print(Expr, usize),
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Vec<Node>,
        line: usize,
    },
    For {
        key: Option<Arc<str>>,
        value: Arc<str>,
        seq: Expr,
        body: Vec<Node>,
        otherwise: Vec<Node>,
        uses_loop: bool,
        uses_key: bool,
        line: usize,
    },
    Set {
        names: Vec<Arc<str>>,
        values: Vec<Expr>,
        line: usize,
    },
    SetBlock {
        name: Arc<str>,
        body: Vec<Node>,
        line: usize,
    },
    With {
        vars: Option<Expr>,
        only: bool,
        body: Vec<Node>,
        line: usize,
    },
    Apply {
        chain: Expr,
        body: Vec<Node>,
        line: usize,
    },
    Do(Expr, usize),
}
