//! Cerb's text filters: alphanum, append, indent, permalink, quote, regexp,
//! repeat, split_crlf, split_csv, str_pos, str_sub, strip_lines, tokenize,
//! truncate.

use crate::callable::{Args, CallError, Env};
use crate::library::filters::strings::{TRIM_DEFAULT, explode, php_trim};
use crate::library::pcre::Pcre;
use crate::library::util::{self, cerb_str, charge_for, check_str_len, opt, to_str};
use katabox_value::convert;
use katabox_value::{Array, PStr, Value};
use unicode_width::UnicodeWidthChar;

fn empty() -> Value {
    Value::str("")
}

/// `alphanum(also='', replace='')`.
pub fn alphanum(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    let also = util::str_arg(args, 0, "")?;
    let rep = util::str_arg(args, 1, "")?;
    let mut out = Vec::with_capacity(s.len());
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || also.as_bytes().contains(&c) {
            out.push(c);
        } else {
            out.extend_from_slice(rep.as_bytes());
        }
    }
    Ok(Value::bytes(out))
}

/// `append(suffix, delimiter='', trim=null)`.
pub fn append(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let value = match &v {
        Value::Null => PStr::default(),
        other => match cerb_str(other) {
            Some(s) => s,
            None => return Ok(empty()),
        },
    };
    let Some(suffix) = cerb_str(args.required(0)?) else {
        return Ok(empty());
    };
    let delim = util::str_arg(args, 1, "")?;
    let trim = match opt(args, 2) {
        Some(t) => to_str(t)?,
        None => delim.clone(),
    };
    let base = php_trim(value.as_bytes(), trim.as_bytes(), false, true);
    let mut out = base.to_vec();
    // PHP truthiness: "0" gets no delimiter either.
    if !out.is_empty() && out != b"0" {
        out.extend_from_slice(delim.as_bytes());
    }
    out.extend_from_slice(suffix.as_bytes());
    check_str_len(env, out.len(), "append")?;
    Ok(Value::bytes(out))
}

/// Cerb's line split (§7.2.2): keys of dropped lines are left out.
pub fn split_lines(b: &[u8], trim: bool, keep_blanks: bool) -> Array {
    let norm: Vec<u8> = {
        let mut o = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                o.push(b'\n');
                i += 2;
            } else {
                o.push(b[i]);
                i += 1;
            }
        }
        o
    };
    let mut out = Array::new();
    for (i, line) in norm.split(|c| *c == b'\n' || *c == b'\r').enumerate() {
        let line = if trim {
            php_trim(line, TRIM_DEFAULT, true, true)
        } else {
            line
        };
        if !keep_blanks && line.is_empty() {
            continue;
        }
        out.insert(i as i64, Value::bytes(line));
    }
    out
}

/// `split_crlf(keep_blanks=false, trim_lines=true)`.
pub fn split_crlf(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    charge_for(env, s.len())?;
    let keep = util::bool_arg(args, 0, false);
    let trim = util::bool_arg(args, 1, true);
    Ok(Value::array(split_lines(s.as_bytes(), trim, keep)))
}

/// `split_csv`.
pub fn split_csv(env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    charge_for(env, s.len())?;
    let base = php_trim(s.as_bytes(), b", ", false, true);
    let mut out = Array::new();
    for (i, part) in explode(base, b",", None).into_iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        out.insert(
            i as i64,
            Value::bytes(php_trim(&part, TRIM_DEFAULT, true, true)),
        );
    }
    Ok(Value::array(out))
}

/// `indent(marker='', from_line=0)`.
pub fn indent(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    if s.is_empty() {
        return Ok(empty());
    }
    let marker = util::str_arg(args, 0, "")?;
    let from = opt(args, 1).map_or(0, convert::to_int);
    let lines = split_lines(s.as_bytes(), false, true);
    let mut out = Vec::new();
    for (n, line) in lines.values().enumerate() {
        if n > 0 {
            out.push(b'\n');
        }
        if (n as i64) + 1 >= from {
            out.extend_from_slice(marker.as_bytes());
        }
        if let Some(p) = line.as_pstr() {
            out.extend_from_slice(p.as_bytes());
        }
        check_str_len(env, out.len(), "indent")?;
    }
    Ok(Value::bytes(out))
}

/// `strip_lines(prefixes)`.
pub fn strip_lines(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    let prefixes: Vec<PStr> = match args.required(0)? {
        Value::Array(a) => a.values().map(to_str).collect::<Result<_, _>>()?,
        other => vec![to_str(other)?],
    };
    let lines = split_lines(s.as_bytes(), false, true);
    let kept: Vec<&[u8]> = lines
        .values()
        .filter_map(|l| l.as_pstr().map(PStr::as_bytes))
        .filter(|l| {
            !prefixes
                .iter()
                .any(|p| !p.is_empty() && l.starts_with(p.as_bytes()))
        })
        .collect();
    Ok(Value::bytes(kept.join(&b"\r\n"[..])))
}

/// `permalink(spaces_as='-')`.
pub fn permalink(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let s = to_str(&util::unmark(v))?;
    let spaces = util::str_arg(args, 0, "-")?.to_string_lossy().into_owned();
    let ascii = deunicode::deunicode(&s.to_string_lossy()).replace(['"', '\''], "");
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() || "+.-_()".contains(c) {
            out.push(c);
        } else {
            out.push_str(&spaces);
        }
    }
    if !spaces.is_empty() {
        let double = format!("{spaces}{spaces}");
        while out.contains(&double) {
            out = out.replace(&double, &spaces);
        }
        while let Some(r) = out.strip_suffix(spaces.as_str()) {
            out = r.to_string();
        }
        while let Some(r) = out.strip_prefix(spaces.as_str()) {
            out = r.to_string();
        }
    }
    Ok(Value::str(out))
}

/// A list item line (`- x`, `* x`, `+ x`, `1. x`, `1) x`).
fn is_list_item(line: &[char]) -> bool {
    let t: String = line.iter().collect();
    let t = t.trim_start();
    let mut chars = t.chars();
    match chars.next() {
        Some('-' | '*' | '+') => chars.next() == Some(' '),
        Some(c) if c.is_ascii_digit() => {
            let rest = t.trim_start_matches(|c: char| c.is_ascii_digit());
            rest.starts_with(". ") || rest.starts_with(") ")
        }
        _ => false,
    }
}

/// Length of the leading run of `"> "` in a line.
fn quote_prefix_len(line: &[char]) -> usize {
    let mut n = 0;
    while line.get(n) == Some(&'>') && line.get(n + 1) == Some(&' ') {
        n += 2;
    }
    n
}

/// Cerb's e-mail quoting: lines grouped by their `> ` prefix, quoted groups
/// re-wrapped at `wrap_to` columns.
fn email_quote(text: &str, wrap_to: i64) -> String {
    let lines: Vec<Vec<char>> = split_lines(text.as_bytes(), true, true)
        .values()
        .map(|l| l.to_string_lossy().chars().collect())
        .collect();
    let only_quotes = |l: &[char]| !l.is_empty() && l.iter().all(|c| *c == ' ' || *c == '>');
    let mut bins: Vec<(usize, Vec<Vec<char>>)> = Vec::new();
    let mut last_prefix: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        if i > 0 && only_quotes(&lines[i - 1]) && only_quotes(line) {
            continue;
        }
        let p = quote_prefix_len(line);
        if Some(p) != last_prefix || bins.is_empty() {
            bins.push((p, Vec::new()));
        }
        if let Some(bin) = bins.last_mut() {
            bin.1.push(line[p..].to_vec());
        }
        last_prefix = Some(p);
    }
    for (prefix, lines) in bins.iter_mut() {
        if *prefix == 0 {
            continue;
        }
        let boundary = usize::try_from(wrap_to.saturating_sub(*prefix as i64).max(0)).unwrap_or(0);
        let mut l = 0;
        let mut bail = 25_000;
        while l < lines.len() && bail > 0 {
            let line = lines[l].clone();
            if boundary > 0 && line.len() > boundary {
                let pos = line[..=boundary.min(line.len() - 1)]
                    .iter()
                    .rposition(|c| *c == ' ');
                let (head, overflow) = match pos {
                    Some(p) => (line[..p].to_vec(), line[p + 1..].to_vec()),
                    None => (line[..boundary].to_vec(), line[boundary..].to_vec()),
                };
                lines[l] = head;
                // PHP's empty(): "" and "0" add nothing.
                if !(overflow.is_empty() || overflow == ['0']) {
                    match lines.get(l + 1) {
                        Some(next) if next.is_empty() || is_list_item(next) => {
                            lines.insert(l + 1, overflow)
                        }
                        Some(next) => {
                            let mut joined = overflow;
                            joined.push(' ');
                            joined.extend_from_slice(next);
                            lines[l + 1] = joined;
                        }
                        None => lines.push(overflow),
                    }
                }
            }
            l += 1;
            bail -= 1;
        }
    }
    let mut out = String::new();
    for (prefix, lines) in &bins {
        for line in lines {
            out.push_str(&"> ".repeat(prefix / 2));
            out.extend(line.iter());
            out.push('\n');
        }
    }
    out
}

/// `quote(wrap_to=76)`.
pub fn quote(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    charge_for(env, s.len())?;
    let wrap_to = opt(args, 0).map_or(76, convert::to_int);
    let trimmed = php_trim(s.as_bytes(), TRIM_DEFAULT, true, true);
    let quoted: Vec<Vec<u8>> = split_lines(trimmed, false, true)
        .values()
        .filter_map(|l| {
            l.as_pstr()
                .map(|p| [b"> ".as_slice(), p.as_bytes()].concat())
        })
        .collect();
    let joined = quoted.join(&b'\n');
    let limited = &joined[..joined.len().min(50_000)];
    Ok(Value::str(email_quote(
        &String::from_utf8_lossy(limited),
        wrap_to,
    )))
}

/// Compiles a pattern argument; `None` when invalid.
fn pattern(v: &Value) -> Result<Option<Pcre>, CallError> {
    let p = to_str(v)?;
    Ok(Pcre::new(p.as_bytes()).ok())
}

/// `regexp(pattern, group=0)`.
pub fn regexp(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let pat = args.required(0)?;
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    let Some(re) = pattern(pat)? else {
        return Ok(empty());
    };
    charge_for(env, s.len())?;
    let Some(groups) = re.first(s.as_bytes()) else {
        return Ok(empty());
    };
    let idx = match args.get(1) {
        None => Some(0),
        Some(Value::Int(i)) => usize::try_from(*i).ok(),
        Some(g) => {
            let name = to_str(g)?;
            match convert::parse_numeric(name.as_bytes()) {
                Some(n) => usize::try_from(convert::to_int(&n.to_value())).ok(),
                None => re.group_index(&name.to_string_lossy()),
            }
        }
    };
    Ok(match idx.and_then(|i| groups.get(i).copied().flatten()) {
        Some((a, b)) => Value::bytes(&s.as_bytes()[a..b]),
        None => empty(),
    })
}

/// `repeat(times)`.
pub fn repeat(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let times = convert::to_int(args.required(0)?);
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    if times < 0 {
        return Err(CallError::Php(
            "str_repeat(): Argument #2 ($times) must be greater than or equal to 0".into(),
        ));
    }
    let total = (s.len() as u128) * (times as u128);
    if total > env.limits().max_string_bytes as u128 {
        return Err(CallError::Limit(format!(
            "repeat: string size limit ({} bytes) exceeded",
            env.limits().max_string_bytes
        )));
    }
    charge_for(env, total as usize)?;
    Ok(Value::bytes(s.as_bytes().repeat(times as usize)))
}

/// `str_pos(needle, offset=0, ignore_case=false)`.
pub fn str_pos(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let (Some(hay), Some(needle)) = (cerb_str(&v), cerb_str(args.required(0)?)) else {
        return Ok(Value::Bool(false));
    };
    let offset = match args.get(1) {
        None => 0,
        Some(Value::Int(i)) => *i,
        Some(_) => return Ok(Value::Bool(false)),
    };
    let ignore = match args.get(2) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Ok(Value::Bool(false)),
    };
    let len = hay.len() as i64;
    if offset > len || offset < -len {
        return Err(CallError::Php(
            "strpos(): Argument #3 ($offset) must be contained in argument #1 ($haystack)".into(),
        ));
    }
    let start = if offset < 0 { len + offset } else { offset } as usize;
    let (h, n) = if ignore {
        (
            hay.as_bytes().to_ascii_lowercase(),
            needle.as_bytes().to_ascii_lowercase(),
        )
    } else {
        (hay.as_bytes().to_vec(), needle.as_bytes().to_vec())
    };
    let found = if n.is_empty() {
        Some(0)
    } else {
        memchr::memmem::find(&h[start..], &n)
    };
    Ok(Value::Int(found.map_or(-1, |p| (p + start) as i64)))
}

/// `str_sub(from, to)`.
pub fn str_sub(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(Value::Bool(false));
    };
    let (Some(Value::Int(from)), Some(Value::Int(to))) = (args.get(0), args.get(1)) else {
        return Ok(Value::Bool(false));
    };
    // PHP `substr($s, $from, $to - $from)`.
    let (a, b) = crate::library::filters::arrays::slice_bounds(
        s.len(),
        *from,
        Some(to.saturating_sub(*from)),
    );
    Ok(Value::bytes(&s.as_bytes()[a..b]))
}

/// `tokenize`.
pub fn tokenize(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let s = to_str(&util::unmark(v))?;
    let lower = s.to_string_lossy().to_lowercase();
    let cleaned: String = lower
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    Ok(Value::list(cleaned.split_whitespace().map(Value::str)))
}

/// `html_to_text(truncate=50000)`.
pub fn html_to_text(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    let limit = opt(args, 0).map_or(50_000, convert::to_int).max(0) as usize;
    charge_for(env, s.len())?;
    Ok(Value::str(crate::library::html::to_text(
        &s.to_string_lossy(),
        limit,
    )))
}

/// `context_name(type='plural')`: a record type's label, id or alias
/// (from katabox's static table of Cerb record types).
pub fn context_name(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(empty());
    };
    let Some((id, alias, singular, plural)) =
        crate::library::tests::record_type(&s.to_string_lossy())
    else {
        return Ok(empty());
    };
    let kind = util::str_arg(args, 0, "plural")?;
    Ok(Value::str(match kind.as_bytes() {
        b"id" => *id,
        b"uri" => *alias,
        b"singular" => *singular,
        b"plural" => *plural,
        _ => "",
    }))
}

/// `context_alias`: a record type's URI alias.
pub fn context_alias(env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    context_name(env, v, &Args::positional(vec![Value::str("uri")]))
}

/// `truncate(length=30, separator='...')`.
pub fn truncate(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let v = util::unmark(v);
    let s = match &v {
        Value::Null => return Ok(empty()),
        Value::Array(_) => {
            return Err(CallError::Php(
                "_DevblocksStringService::truncate(): Argument #1 ($string) must be of type ?string, array given".into(),
            ));
        }
        other => to_str(other)?,
    };
    let length = opt(args, 0).map_or(30, convert::to_int);
    let sep = util::str_arg(args, 1, "...")?;
    let text = s.to_string_lossy();
    let w = |c: char| {
        UnicodeWidthChar::width(c)
            .unwrap_or(0)
            .max(usize::from(!c.is_control()))
    };
    let total: usize = text.chars().map(w).sum();
    if (total as i64) <= length {
        return Ok(Value::Str(s));
    }
    let sep_text = sep.to_string_lossy();
    let sep_w: usize = sep_text.chars().map(w).sum();
    let budget = length.saturating_sub(sep_w as i64).max(0) as usize;
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        let cw = w(c);
        if used + cw > budget {
            break;
        }
        used += cw;
        out.push(c);
    }
    out.push_str(&sep_text);
    Ok(Value::str(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{Markup, j, js, st};
    use std::sync::Arc;

    #[test]
    fn alphanum_append() {
        assert_eq!(
            st(alphanum, Value::str("A*B(C)D$E.F-1/2<<3>>"), vec![]),
            "ABCDEF123"
        );
        assert_eq!(
            st(
                alphanum,
                Value::str("ABC$DEF(123)"),
                vec![Value::str("()"), Value::str("_")]
            ),
            "ABC_DEF(123)"
        );
        assert_eq!(
            st(alphanum, Value::str("été 123"), vec![Value::str(" ")]),
            "t 123"
        );
        assert_eq!(
            st(
                append,
                Value::str("a, "),
                vec![Value::str("b"), Value::str(", ")]
            ),
            "a, b"
        );
        assert_eq!(
            st(append, Value::Null, vec![Value::str("b"), Value::str(", ")]),
            "b"
        );
        assert_eq!(
            st(
                append,
                Value::str("a,,"),
                vec![Value::str("b"), Value::str(","), Value::str(",")]
            ),
            "a,b"
        );
        assert_eq!(st(append, Value::Int(5), vec![Value::str("x")]), "");
    }

    #[test]
    fn lines() {
        assert_eq!(
            js(split_crlf, Value::str("1\n 2\n\n3\r\n"), vec![]),
            r#"{"0":"1","1":"2","3":"3"}"#
        );
        assert_eq!(
            js(
                split_crlf,
                Value::str("1\n 2\n\n3\r\n"),
                vec![Value::Bool(true)]
            ),
            r#"["1","2","","3",""]"#
        );
        assert_eq!(
            js(split_csv, Value::str("BTC,   ETH   ,LTC"), vec![]),
            r#"["BTC","ETH","LTC"]"#
        );
        assert_eq!(
            js(split_csv, Value::str("a,,b, ,c,"), vec![]),
            r#"{"0":"a","2":"b","3":"","4":"c"}"#
        );
        assert_eq!(
            st(
                indent,
                Value::str("One\nTwo\nThree"),
                vec![Value::str("> "), Value::Int(2)]
            ),
            "One\n> Two\n> Three"
        );
        assert_eq!(
            st(indent, Value::str("a\r\nb"), vec![Value::str("-")]),
            "-a\n-b"
        );
        assert_eq!(
            st(
                strip_lines,
                Value::str("> q\n> more\nOriginal"),
                vec![Value::str(">")]
            ),
            "Original"
        );
        assert_eq!(
            st(
                quote,
                Value::str("This is a message.\nYou should quote it.\n"),
                vec![]
            ),
            "> This is a message.\n> You should quote it.\n"
        );
        assert_eq!(
            st(quote, Value::str("line one\n\nline two"), vec![]),
            "> line one\n>\n> line two\n"
        );
        assert_eq!(st(quote, Value::str(""), vec![]), ">\n");
        assert_eq!(
            st(quote, Value::str("aaa bbb ccc ddd"), vec![Value::Int(9)]),
            "> aaa bbb\n> ccc ddd\n"
        );
        assert_eq!(
            st(quote, Value::str("abcdefghij"), vec![Value::Int(6)]),
            "> abcd\n> efghij\n".replace("efghij", "efgh\n> ij")
        );
    }

    #[test]
    fn permalink_cases() {
        assert_eq!(
            st(
                permalink,
                Value::str("Devs: 1000 Ways to Improve Sales!"),
                vec![]
            ),
            "Devs-1000-Ways-to-Improve-Sales"
        );
        assert_eq!(
            st(permalink, Value::str("Café «déjà» vu"), vec![]),
            "Cafe-deja-vu"
        );
    }

    #[test]
    fn regexp_cases() {
        assert_eq!(
            st(
                regexp,
                Value::str("Order #Z-1234-5 shipped"),
                vec![Value::str("/#([A-Z0-9\\-]+)/"), Value::Int(1)]
            ),
            "Z-1234-5"
        );
        assert_eq!(
            st(
                regexp,
                Value::str("abc-12"),
                vec![Value::str("/(?<n>\\d+)/"), Value::str("n")]
            ),
            "12"
        );
        assert_eq!(st(regexp, Value::str("abc"), vec![Value::str("bad")]), "");
        assert_eq!(st(repeat, Value::str("*"), vec![Value::Int(5)]), "*****");
        assert!(
            st(repeat, Value::str("*"), vec![Value::Int(-1)])
                .contains("greater than or equal to 0")
        );
        assert!(st(repeat, Value::str("**"), vec![Value::Int(i64::MAX)]).contains("Limit"));
    }

    #[test]
    fn positions() {
        assert_eq!(
            st(str_pos, Value::str("ABCDEFGHIJ"), vec![Value::str("H")]),
            "7"
        );
        assert_eq!(st(str_pos, Value::str("ABC"), vec![Value::str("z")]), "-1");
        let m = Value::Object(Arc::new(Markup("ABCDEFGHIJ\n".into())));
        assert_eq!(
            st(
                str_pos,
                m,
                vec![Value::str("hi"), Value::Int(0), Value::Bool(true)]
            ),
            "7"
        );
        assert_eq!(
            st(
                str_pos,
                Value::str("ABC"),
                vec![Value::str("A"), Value::str("1")]
            ),
            ""
        );
        assert!(
            st(
                str_pos,
                Value::str("ABC"),
                vec![Value::str("A"), Value::Int(9)]
            )
            .contains("must be contained")
        );
        assert_eq!(
            st(
                str_sub,
                Value::str("ABCDEFGHIJ"),
                vec![Value::Int(7), Value::Int(9)]
            ),
            "HI"
        );
        assert_eq!(
            st(
                str_sub,
                Value::str("ABCDEF"),
                vec![Value::Int(-3), Value::Int(-1)]
            ),
            "DE"
        );
    }

    #[test]
    fn record_types() {
        assert_eq!(
            st(
                context_alias,
                Value::str("cerberusweb.contexts.ticket"),
                vec![]
            ),
            "ticket"
        );
        assert_eq!(
            st(context_name, Value::str("ticket"), vec![Value::str("id")]),
            "cerberusweb.contexts.ticket"
        );
        assert_eq!(st(context_name, Value::str("org"), vec![]), "organizations");
        assert_eq!(st(context_name, Value::str("nope"), vec![]), "");
    }

    #[test]
    fn tokenize_truncate() {
        assert_eq!(
            js(
                tokenize,
                Value::str("KATA (\"Key Annotated\") is human-friendly; KATA!"),
                vec![]
            ),
            r#"["kata","key","annotated","is","human","friendly","kata"]"#
        );
        assert_eq!(
            st(
                truncate,
                Value::str("This string is longer than we'd prefer"),
                vec![Value::Int(11)]
            ),
            "This str..."
        );
        assert_eq!(
            st(
                truncate,
                Value::str("abcdef"),
                vec![Value::Int(5), Value::str("~")]
            ),
            "abcd~"
        );
        assert_eq!(
            st(truncate, Value::str("日本語テキスト"), vec![Value::Int(6)]),
            "日..."
        );
        assert_eq!(
            st(
                truncate,
                Value::str("This is truncated to 10 characters"),
                vec![Value::Int(10), Value::str("")]
            ),
            "This is tr"
        );
        assert!(st(truncate, j("[1]"), vec![]).contains("array given"));
    }
}
