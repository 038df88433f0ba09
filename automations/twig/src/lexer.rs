//! The lexer: template text to tokens (scripting.md §2), with configurable
//! delimiters (§1.4), whitespace control, verbatim blocks and string
//! interpolation.

use crate::error::TwigError;

/// The six delimiter strings of a template dialect.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delimiters {
    /// Opens a print statement (`{{`).
    pub var_start: String,
    /// Closes a print statement (`}}`).
    pub var_end: String,
    /// Opens a statement block (`{%`).
    pub block_start: String,
    /// Closes a statement block (`%}`).
    pub block_end: String,
    /// Opens a comment (`{#`).
    pub comment_start: String,
    /// Closes a comment (`#}`).
    pub comment_end: String,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters::new("{{", "}}", "{%", "%}", "{#", "#}")
    }
}

impl Delimiters {
    /// Delimiters from the six strings.
    pub fn new(vs: &str, ve: &str, bs: &str, be: &str, cs: &str, ce: &str) -> Delimiters {
        Delimiters {
            var_start: vs.into(),
            var_end: ve.into(),
            block_start: bs.into(),
            block_end: be.into(),
            comment_start: cs.into(),
            comment_end: ce.into(),
        }
    }

    /// The package-import form: `{{{ }}}`, `{{% %}}`, `{{# #}}`.
    pub fn package_import() -> Delimiters {
        Delimiters::new("{{{", "}}}", "{{%", "%}}", "{{#", "#}}")
    }
}

/// Token kinds, named in errors as Twig names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    Text,
    VarStart,
    VarEnd,
    BlockStart,
    BlockEnd,
    Name,
    Number,
    Str,
    Op,
    Punct,
    InterpStart,
    InterpEnd,
    Arrow,
    Eof,
}

impl TokKind {
    /// Twig's English name of the token type.
    pub fn english(self) -> &'static str {
        match self {
            TokKind::Eof => "end of template",
            TokKind::Text => "text",
            TokKind::BlockStart => "begin of statement block",
            TokKind::VarStart => "begin of print statement",
            TokKind::BlockEnd => "end of statement block",
            TokKind::VarEnd => "end of print statement",
            TokKind::Name => "name",
            TokKind::Number => "number",
            TokKind::Str => "string",
            TokKind::Op => "operator",
            TokKind::Punct => "punctuation",
            TokKind::InterpStart => "begin of string interpolation",
            TokKind::InterpEnd => "end of string interpolation",
            TokKind::Arrow => "arrow function",
        }
    }
}

/// One token: kind, value bytes and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokKind,
    pub value: Vec<u8>,
    pub line: usize,
}

impl Token {
    /// The value as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }

    /// True when kind and value match.
    pub fn is(&self, kind: TokKind, value: &str) -> bool {
        self.kind == kind && self.value == value.as_bytes()
    }
}

/// Operators, longest first (the lexer takes the longest match).
const OPERATORS: &[&str] = &[
    "starts with",
    "ends with",
    "has every",
    "has some",
    "matches",
    "not in",
    "is not",
    "b-and",
    "b-xor",
    "b-or",
    "<=>",
    "and",
    "not",
    "or",
    "in",
    "is",
    "==",
    "!=",
    "<=",
    ">=",
    "..",
    "//",
    "**",
    "??",
    "=",
    "<",
    ">",
    "+",
    "-",
    "~",
    "*",
    "/",
    "%",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Block,
    Var,
    Str,
    Interp,
}

/// Whitespace as PCRE's `\s`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x7f
}

fn is_name_char(b: u8) -> bool {
    is_name_start(b) || b.is_ascii_digit()
}

/// Removes trailing whitespace as `rtrim` does (space, tab, newlines, NUL, VT).
fn rtrim_all(s: &[u8]) -> &[u8] {
    let mut end = s.len();
    while end > 0 && matches!(s[end - 1], b' ' | b'\t' | b'\n' | b'\r' | 0 | 0x0b) {
        end -= 1;
    }
    &s[..end]
}

/// Removes trailing spaces, tabs, NUL and VT (not newlines).
fn rtrim_line(s: &[u8]) -> &[u8] {
    let mut end = s.len();
    while end > 0 && matches!(s[end - 1], b' ' | b'\t' | 0 | 0x0b) {
        end -= 1;
    }
    &s[..end]
}

/// PHP `stripcslashes`.
pub fn stripcslashes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b != b'\\' || i + 1 >= s.len() {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        let c = s[i];
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(0x07),
            b'v' => out.push(0x0b),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'x' if i + 1 < s.len() && s[i + 1].is_ascii_hexdigit() => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i + 1 < s.len() && s[i + 1].is_ascii_hexdigit() {
                    i += 1;
                    v = v * 16 + (s[i] as char).to_digit(16).unwrap_or(0);
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            b'0'..=b'7' => {
                let mut v: u32 = u32::from(c - b'0');
                let mut n = 1;
                while n < 3 && i + 1 < s.len() && (b'0'..=b'7').contains(&s[i + 1]) {
                    i += 1;
                    v = v * 8 + u32::from(s[i] - b'0');
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

/// Replaces every `\r\n` and lone `\r` by `\n` (§2.1).
pub fn normalize_newlines(src: &str) -> Vec<u8> {
    let b = src.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\r' {
            out.push(b'\n');
            if i + 1 < b.len() && b[i + 1] == b'\n' {
                i += 1;
            }
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    out
}

/// Tokenises a template (already newline-normalised).
pub fn tokenize(code: &[u8], d: &Delimiters) -> Result<Vec<Token>, TwigError> {
    Lexer {
        code,
        d,
        cursor: 0,
        line: 1,
        tokens: Vec::new(),
        states: vec![State::Data],
        brackets: Vec::new(),
        var_block_line: 1,
    }
    .run()
}

struct Lexer<'a> {
    code: &'a [u8],
    d: &'a Delimiters,
    cursor: usize,
    line: usize,
    tokens: Vec<Token>,
    states: Vec<State>,
    brackets: Vec<(Vec<u8>, usize)>,
    var_block_line: usize,
}

fn syntax(message: impl Into<String>, line: usize) -> TwigError {
    TwigError::syntax(message, line)
}

impl Lexer<'_> {
    fn state(&self) -> State {
        self.states.last().copied().unwrap_or(State::Data)
    }

    fn push(&mut self, kind: TokKind, value: &[u8]) {
        if kind == TokKind::Text && value.is_empty() {
            return;
        }
        self.tokens.push(Token {
            kind,
            value: value.to_vec(),
            line: self.line,
        });
    }

    /// Moves the cursor by `n` bytes, counting newlines.
    fn advance(&mut self, n: usize) {
        let end = (self.cursor + n).min(self.code.len());
        self.line += self.code[self.cursor..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.cursor = end;
    }

    fn rest(&self) -> &[u8] {
        &self.code[self.cursor..]
    }

    fn run(mut self) -> Result<Vec<Token>, TwigError> {
        while self.cursor < self.code.len() {
            match self.state() {
                State::Data => self.lex_data()?,
                State::Block => self.lex_block()?,
                State::Var => self.lex_var()?,
                State::Str => self.lex_string()?,
                State::Interp => self.lex_interpolation()?,
            }
        }
        match self.state() {
            State::Data => {}
            State::Block | State::Var => {
                let what = if self.state() == State::Block {
                    "block"
                } else {
                    "variable"
                };
                return Err(syntax(format!("Unclosed \"{what}\"."), self.var_block_line));
            }
            State::Str | State::Interp => {
                let (b, line) = self.brackets.pop().unwrap_or((b"\"".to_vec(), self.line));
                return Err(syntax(
                    format!("Unclosed \"{}\".", String::from_utf8_lossy(&b)),
                    line,
                ));
            }
        }
        if let Some((b, line)) = self.brackets.pop() {
            return Err(syntax(
                format!("Unclosed \"{}\".", String::from_utf8_lossy(&b)),
                line,
            ));
        }
        self.push(TokKind::Eof, b"");
        Ok(self.tokens)
    }

    /// Finds the next opening delimiter: (position, kind 0=var 1=block 2=comment, length).
    fn next_start(&self) -> Option<(usize, u8, usize)> {
        let hay = self.rest();
        let starts = [
            (self.d.var_start.as_bytes(), 0u8),
            (self.d.block_start.as_bytes(), 1),
            (self.d.comment_start.as_bytes(), 2),
        ];
        let mut best: Option<(usize, u8, usize)> = None;
        let first_bytes: Vec<u8> = starts
            .iter()
            .filter_map(|(s, _)| s.first().copied())
            .collect();
        let mut i = 0;
        while i < hay.len() {
            if first_bytes.contains(&hay[i]) {
                for (s, k) in starts {
                    if !s.is_empty() && hay[i..].starts_with(s) {
                        match best {
                            Some((_, _, len)) if len >= s.len() => {}
                            _ => best = Some((i, k, s.len())),
                        }
                    }
                }
                if best.is_some() {
                    return best.map(|(p, k, l)| (p + self.cursor, k, l));
                }
            }
            i += 1;
        }
        None
    }

    fn lex_data(&mut self) -> Result<(), TwigError> {
        let Some((pos, kind, len)) = self.next_start() else {
            let text = self.rest().to_vec();
            self.push(TokKind::Text, &text);
            self.advance(text.len());
            return Ok(());
        };
        let text = &self.code[self.cursor..pos];
        let modifier = self.code.get(pos + len).copied();
        let text = match modifier {
            Some(b'-') => rtrim_all(text),
            Some(b'~') => rtrim_line(text),
            _ => text,
        }
        .to_vec();
        self.push(TokKind::Text, &text);
        self.advance(pos - self.cursor);
        let mod_len = usize::from(matches!(modifier, Some(b'-' | b'~')));
        match kind {
            2 => {
                self.advance(len + mod_len);
                self.lex_comment()?;
            }
            1 => {
                if let Some(n) = self.match_verbatim_start(len + mod_len) {
                    let start_line = self.line;
                    self.advance(n);
                    self.lex_raw_data(start_line)?;
                } else {
                    self.advance(len + mod_len);
                    self.var_block_line = self.line;
                    self.push(TokKind::BlockStart, b"");
                    self.states.push(State::Block);
                }
            }
            _ => {
                self.advance(len + mod_len);
                self.var_block_line = self.line;
                self.push(TokKind::VarStart, b"");
                self.states.push(State::Var);
            }
        }
        Ok(())
    }

    /// After the block-start delimiter (`skip` bytes from the cursor): matches
    /// `\s*verbatim\s*` and an end (`-%}\s*`, `~%}[ \t\0\x0B]*` or `%}`); returns the length.
    fn match_verbatim_start(&self, skip: usize) -> Option<usize> {
        let s = self.rest();
        let mut i = skip;
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        if !s[i..].starts_with(b"verbatim") {
            return None;
        }
        i += 8;
        if i < s.len() && is_name_char(s[i]) {
            return None;
        }
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        self.match_close(&s[i..], self.d.block_end.as_bytes(), false)
            .map(|n| i + n)
    }

    /// Matches a closing delimiter with its modifier and trailing whitespace
    /// handling; `newline` swallows one `\n` after a plain close.
    fn match_close(&self, s: &[u8], end: &[u8], newline: bool) -> Option<usize> {
        if let Some(m @ (b'-' | b'~')) = s.first().copied()
            && s[1..].starts_with(end)
        {
            let mut i = 1 + end.len();
            while i < s.len()
                && (if m == b'-' {
                    is_space(s[i])
                } else {
                    matches!(s[i], b' ' | b'\t' | 0 | 0x0b)
                })
            {
                i += 1;
            }
            return Some(i);
        }
        if s.starts_with(end) {
            let mut i = end.len();
            if newline && s.get(i) == Some(&b'\n') {
                i += 1;
            }
            return Some(i);
        }
        None
    }

    fn lex_raw_data(&mut self, start_line: usize) -> Result<(), TwigError> {
        // Find `{%[-~]?\s*endverbatim\s*` followed by a close.
        let bs = self.d.block_start.as_bytes();
        let mut search = self.cursor;
        loop {
            let hay = &self.code[search..];
            let Some(off) = find(hay, bs) else {
                return Err(syntax(
                    "Unexpected end of file: Unclosed \"verbatim\" block.",
                    start_line,
                ));
            };
            let p = search + off;
            let s = &self.code[p + bs.len()..];
            let mut i = 0;
            let modifier = s.first().copied().filter(|b| matches!(b, b'-' | b'~'));
            if modifier.is_some() {
                i += 1;
            }
            while i < s.len() && is_space(s[i]) {
                i += 1;
            }
            if s[i..].starts_with(b"endverbatim") {
                let mut j = i + 11;
                while j < s.len() && is_space(s[j]) {
                    j += 1;
                }
                if let Some(n) = self.match_close(&s[j..], self.d.block_end.as_bytes(), false) {
                    let text = &self.code[self.cursor..p];
                    let text = match modifier {
                        Some(b'-') => rtrim_all(text),
                        Some(b'~') => rtrim_line(text),
                        _ => text,
                    }
                    .to_vec();
                    self.push(TokKind::Text, &text);
                    self.advance(p + bs.len() + j + n - self.cursor);
                    return Ok(());
                }
            }
            search = p + bs.len();
        }
    }

    fn lex_comment(&mut self) -> Result<(), TwigError> {
        let ce = self.d.comment_end.as_bytes();
        let Some(off) = find(&self.code[self.cursor..], ce) else {
            return Err(syntax("Unclosed comment.", self.line));
        };
        let p = self.cursor + off;
        // The close may carry a modifier just before it.
        let modifier = match p.checked_sub(1) {
            Some(q) if q >= self.cursor && matches!(self.code[q], b'-' | b'~') => {
                Some(self.code[q])
            }
            _ => None,
        };
        let mut i = p + ce.len();
        match modifier {
            Some(b'-') => {
                while i < self.code.len() && is_space(self.code[i]) {
                    i += 1;
                }
            }
            Some(_) => {
                while i < self.code.len() && matches!(self.code[i], b' ' | b'\t' | 0 | 0x0b) {
                    i += 1;
                }
            }
            None => {
                if self.code.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
        }
        self.advance(i - self.cursor);
        Ok(())
    }

    fn lex_block(&mut self) -> Result<(), TwigError> {
        if self.brackets.is_empty() {
            let s = self.rest();
            let ws = s.iter().take_while(|b| is_space(**b)).count();
            if let Some(n) = self.match_close(&s[ws..], self.d.block_end.as_bytes(), true) {
                // The token is on the line where the close starts.
                self.advance(ws);
                self.push(TokKind::BlockEnd, b"");
                self.advance(n);
                self.states.pop();
                return Ok(());
            }
        }
        self.lex_expression()
    }

    fn lex_var(&mut self) -> Result<(), TwigError> {
        if self.brackets.is_empty() {
            let s = self.rest();
            let ws = s.iter().take_while(|b| is_space(**b)).count();
            if let Some(n) = self.match_close(&s[ws..], self.d.var_end.as_bytes(), false) {
                self.advance(ws);
                self.push(TokKind::VarEnd, b"");
                self.advance(n);
                self.states.pop();
                return Ok(());
            }
        }
        self.lex_expression()
    }

    fn match_operator(&self) -> Option<(usize, &'static str)> {
        let s = self.rest();
        let prev = self.cursor.checked_sub(1).map(|p| self.code[p]);
        for op in OPERATORS {
            let ob = op.as_bytes();
            let first_alpha = ob[0].is_ascii_alphabetic();
            let last_alpha = ob[ob.len() - 1].is_ascii_alphabetic();
            if first_alpha && matches!(prev, Some(b'.' | b'|')) {
                continue;
            }
            // Match with any run of whitespace for the inner space.
            let mut i = 0;
            let mut ok = true;
            for &c in ob {
                if c == b' ' {
                    let n = s[i..].iter().take_while(|b| is_space(**b)).count();
                    if n == 0 {
                        ok = false;
                        break;
                    }
                    i += n;
                } else if s.get(i) == Some(&c) {
                    i += 1;
                } else {
                    ok = false;
                    break;
                }
            }
            if !ok {
                continue;
            }
            if last_alpha {
                match s.get(i) {
                    Some(b) if is_space(*b) || matches!(b, b'(' | b')' | b'[' | b'{') => {}
                    _ => continue,
                }
            }
            return Some((i, op));
        }
        None
    }

    fn lex_expression(&mut self) -> Result<(), TwigError> {
        let ws = self.rest().iter().take_while(|b| is_space(**b)).count();
        self.advance(ws);
        if self.cursor >= self.code.len() {
            let what = if self.state() == State::Block {
                "block"
            } else {
                "variable"
            };
            return Err(syntax(format!("Unclosed \"{what}\"."), self.var_block_line));
        }
        let s = self.rest();
        let c = s[0];
        if s.starts_with(b"=>") {
            self.push(TokKind::Arrow, b"=>");
            self.advance(2);
            return Ok(());
        }
        if let Some((n, op)) = self.match_operator() {
            self.push(TokKind::Op, op.as_bytes());
            self.advance(n);
            return Ok(());
        }
        if is_name_start(c) {
            let n = s.iter().take_while(|b| is_name_char(**b)).count();
            let v = s[..n].to_vec();
            self.push(TokKind::Name, &v);
            self.advance(n);
            return Ok(());
        }
        if c.is_ascii_digit() {
            let n = number_len(s);
            let v = s[..n].to_vec();
            self.push(TokKind::Number, &v);
            self.advance(n);
            return Ok(());
        }
        if b"()[]{}?:.,|".contains(&c) {
            if b"([{".contains(&c) {
                self.brackets.push((vec![c], self.line));
            } else if b")]}".contains(&c) {
                let Some((open, line)) = self.brackets.pop() else {
                    return Err(syntax(format!("Unexpected \"{}\".", c as char), self.line));
                };
                let expect = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if open != [expect] {
                    return Err(syntax(
                        format!("Unclosed \"{}\".", String::from_utf8_lossy(&open)),
                        line,
                    ));
                }
            }
            self.push(TokKind::Punct, &[c]);
            self.advance(1);
            return Ok(());
        }
        if c == b'\'' || c == b'"' {
            if let Some(n) = quoted_len(s, c) {
                let v = stripcslashes(&s[1..n - 1]);
                self.push(TokKind::Str, &v);
                self.advance(n);
                return Ok(());
            }
            if c == b'"' {
                self.brackets.push((b"\"".to_vec(), self.line));
                self.states.push(State::Str);
                self.advance(1);
                return Ok(());
            }
        }
        let ch = String::from_utf8_lossy(&s[..utf8_len(s)]).into_owned();
        Err(syntax(format!("Unexpected character \"{ch}\"."), self.line))
    }

    fn lex_string(&mut self) -> Result<(), TwigError> {
        let s = self.rest();
        if s.starts_with(b"#{") {
            self.brackets.push((b"#{".to_vec(), self.line));
            self.push(TokKind::InterpStart, b"#{");
            self.advance(2);
            self.states.push(State::Interp);
            return Ok(());
        }
        // A run of `[^#"\\]`, escapes, and `#` not followed by `{`.
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'"' => break,
                b'\\' => i = (i + 2).min(s.len()),
                b'#' if s.get(i + 1) == Some(&b'{') => break,
                _ => i += 1,
            }
        }
        if i > 0 {
            let v = stripcslashes(&s[..i]);
            self.push(TokKind::Str, &v);
            self.advance(i);
            return Ok(());
        }
        if s.first() == Some(&b'"') {
            self.brackets.pop();
            self.advance(1);
            self.states.pop();
            return Ok(());
        }
        let (b, line) = self.brackets.pop().unwrap_or((b"\"".to_vec(), self.line));
        Err(syntax(
            format!("Unclosed \"{}\".", String::from_utf8_lossy(&b)),
            line,
        ))
    }

    fn lex_interpolation(&mut self) -> Result<(), TwigError> {
        let top_is_interp = self.brackets.last().is_some_and(|(b, _)| b == b"#{");
        if top_is_interp {
            let s = self.rest();
            let ws = s.iter().take_while(|b| is_space(**b)).count();
            if s.get(ws) == Some(&b'}') {
                self.brackets.pop();
                self.advance(ws);
                self.push(TokKind::InterpEnd, b"");
                self.advance(1);
                self.states.pop();
                return Ok(());
            }
        }
        self.lex_expression()
    }
}

/// Length of the UTF-8 character starting `s` (1 for invalid bytes).
fn utf8_len(s: &[u8]) -> usize {
    let n = match s.first() {
        Some(b) if *b >= 0xf0 => 4,
        Some(b) if *b >= 0xe0 => 3,
        Some(b) if *b >= 0xc0 => 2,
        _ => 1,
    };
    if n <= s.len() && std::str::from_utf8(&s[..n]).is_ok() {
        n
    } else {
        1
    }
}

/// `[0-9]+(\.[0-9]+)?([Ee][+-][0-9]+)?`
fn number_len(s: &[u8]) -> usize {
    let mut i = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if s.get(i) == Some(&b'.') && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        i += s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    }
    if matches!(s.get(i), Some(b'e' | b'E'))
        && matches!(s.get(i + 1), Some(b'+' | b'-'))
        && s.get(i + 2).is_some_and(u8::is_ascii_digit)
    {
        i += 2;
        i += s[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    }
    i
}

/// Length of a complete quoted string starting at `s[0] == q`; for double
/// quotes only when it holds no `#` (else the interpolating lexer runs).
fn quoted_len(s: &[u8], q: u8) -> Option<usize> {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'#' if q == b'"' => return None,
            c if c == q => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
