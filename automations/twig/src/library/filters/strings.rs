//! Twig's string filters: capitalize, lower, upper, title, trim, nl2br,
//! spaceless, striptags, split, format, replace, url_encode, convert_encoding.

use crate::callable::{Args, CallError, Env};
use crate::library::sprintf::sprintf;
use crate::library::util::{self, charge_for, check_array_len, mb_chars, opt, to_str};
use katabox_value::convert;
use katabox_value::{Array, Key, PStr, Value};
use std::collections::HashMap;

fn text_of(func: &str, v: &Value) -> Result<String, CallError> {
    Ok(util::string_param(func, 1, "string", v)?
        .to_string_lossy()
        .into_owned())
}

/// `capitalize`: first character upper-case, the rest lower-case.
pub fn capitalize(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let t = text_of("mb_substr", &v)?;
    let mut chars = t.chars();
    let mut out = String::with_capacity(t.len());
    if let Some(c) = chars.next() {
        out.extend(c.to_uppercase());
    }
    out.push_str(&chars.as_str().to_lowercase());
    Ok(Value::str(out))
}

/// `lower`.
pub fn lower(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(Value::str(text_of("mb_strtolower", &v)?.to_lowercase()))
}

/// `upper`.
pub fn upper(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    Ok(Value::str(text_of("mb_strtoupper", &v)?.to_uppercase()))
}

/// `title`: each word's first letter upper-case, the rest lower-case.
pub fn title(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let t = text_of("mb_convert_case", &v)?;
    let mut out = String::with_capacity(t.len());
    let mut in_word = false;
    for c in t.chars() {
        if c.is_alphabetic() {
            if in_word {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(c);
            if c != '\'' && c != '\u{2019}' {
                in_word = false;
            }
        }
    }
    Ok(Value::str(out))
}

/// Expands a PHP trim character mask (`a..z` ranges allowed).
pub fn trim_mask(mask: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut i = 0;
    while i < mask.len() {
        let c = mask[i];
        if i + 3 < mask.len() && mask[i + 1] == b'.' && mask[i + 2] == b'.' && mask[i + 3] >= c {
            for b in c..=mask[i + 3] {
                set[b as usize] = true;
            }
            i += 4;
        } else {
            set[c as usize] = true;
            i += 1;
        }
    }
    set
}

/// Default trim characters: space, `\t`, `\n`, `\r`, NUL, `\v`.
pub const TRIM_DEFAULT: &[u8] = b" \t\n\r\0\x0B";

/// PHP `trim` on bytes: `left`/`right` choose the sides.
pub fn php_trim<'a>(b: &'a [u8], mask: &[u8], left: bool, right: bool) -> &'a [u8] {
    let set = trim_mask(mask);
    let mut s = 0;
    let mut e = b.len();
    if left {
        while s < e && set[b[s] as usize] {
            s += 1;
        }
    }
    if right {
        while e > s && set[b[e - 1] as usize] {
            e -= 1;
        }
    }
    &b[s..e]
}

/// `trim(character_mask=null, side='both')`.
pub fn trim(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let s = util::string_param("trim", 1, "string", &v)?;
    let mask = match opt(args, 0) {
        Some(m) => to_str(m)?,
        None => PStr::from_bytes(TRIM_DEFAULT),
    };
    let side = util::str_arg(args, 1, "both")?;
    let (l, r) = match side.as_bytes() {
        b"both" => (true, true),
        b"left" => (true, false),
        b"right" => (false, true),
        _ => {
            return Err(CallError::Twig(
                "Trimming side must be \"left\", \"right\" or \"both\".".into(),
            ));
        }
    };
    Ok(Value::bytes(php_trim(s.as_bytes(), mask.as_bytes(), l, r)))
}

/// `nl2br`: `<br />` before every newline sequence.
pub fn nl2br(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let s = util::string_param("nl2br", 1, "string", &v)?;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\r' || c == b'\n' {
            out.extend_from_slice(b"<br />");
            out.push(c);
            if let Some(&n) = b.get(i + 1)
                && (n == b'\r' || n == b'\n')
                && n != c
            {
                out.push(n);
                i += 1;
            }
        } else {
            out.push(c);
        }
        i += 1;
    }
    Ok(Value::bytes(out))
}

fn is_pcre_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// `spaceless`: whitespace between `>` and `<` removed, then trimmed.
pub fn spaceless(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let s = util::string_param("trim", 1, "string", &v)?;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        out.push(b[i]);
        if b[i] == b'>' {
            let mut j = i + 1;
            while j < b.len() && is_pcre_space(b[j]) {
                j += 1;
            }
            if j > i + 1 && b.get(j) == Some(&b'<') {
                i = j;
                continue;
            }
        }
        i += 1;
    }
    Ok(Value::bytes(php_trim(&out, TRIM_DEFAULT, true, true)))
}

fn allowed_tags(spec: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < spec.len() {
        if spec[i] == b'<' {
            let start = i + 1;
            let mut j = start;
            while j < spec.len() && spec[j] != b'>' {
                j += 1;
            }
            out.push(spec[start..j].to_ascii_lowercase());
            i = j;
        }
        i += 1;
    }
    out
}

fn tag_name(tag: &[u8]) -> Vec<u8> {
    let t = tag.strip_prefix(b"<").unwrap_or(tag);
    let t = t.strip_prefix(b"/").unwrap_or(t);
    t.iter()
        .take_while(|c| !c.is_ascii_whitespace() && **c != b'>' && **c != b'/')
        .map(u8::to_ascii_lowercase)
        .collect()
}

/// PHP `strip_tags`, keeping the tags named in `allow` (`<b><i>`).
pub fn strip_tags(b: &[u8], allow: &[u8]) -> Vec<u8> {
    let allowed = allowed_tags(allow);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c != b'<' {
            out.push(c);
            i += 1;
            continue;
        }
        let next = b.get(i + 1).copied();
        if next.is_some_and(|n| n.is_ascii_whitespace()) || next.is_none() {
            out.push(c);
            i += 1;
            continue;
        }
        if b[i..].starts_with(b"<!--") {
            match find(&b[i + 4..], b"-->") {
                Some(p) => i = i + 4 + p + 3,
                None => i = b.len(),
            }
            continue;
        }
        // Scan to the closing '>' outside quotes.
        let mut j = i + 1;
        let mut quote: Option<u8> = None;
        let mut depth = 1;
        while j < b.len() {
            let d = b[j];
            match quote {
                Some(q) if d == q => quote = None,
                Some(_) => {}
                None if d == b'"' || d == b'\'' => quote = Some(d),
                None if d == b'<' => depth += 1,
                None if d == b'>' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                None => {}
            }
            j += 1;
        }
        let end = (j + 1).min(b.len());
        let tag = &b[i..end];
        let name = tag_name(tag);
        if !name.is_empty() && allowed.contains(&name) {
            out.extend_from_slice(tag);
        }
        i = end;
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    memchr::memmem::find(hay, needle)
}

/// `striptags(allowable_tags=null)`.
pub fn striptags(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let s = util::string_param("strip_tags", 1, "string", &v)?;
    let allow = match opt(args, 0) {
        Some(a) => to_str(a)?,
        None => PStr::default(),
    };
    Ok(Value::bytes(strip_tags(s.as_bytes(), allow.as_bytes())))
}

/// PHP `explode` with a limit.
pub fn explode(b: &[u8], delim: &[u8], limit: Option<i64>) -> Vec<Vec<u8>> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let max = match limit {
        Some(l) if l > 0 => l as usize,
        Some(0) => 1,
        _ => usize::MAX,
    };
    let mut rest = b;
    while parts.len() + 1 < max {
        match find(rest, delim) {
            Some(p) => {
                parts.push(rest[..p].to_vec());
                rest = &rest[p + delim.len()..];
            }
            None => break,
        }
    }
    parts.push(rest.to_vec());
    if let Some(l) = limit
        && l < 0
    {
        let drop = l.unsigned_abs() as usize;
        let keep = parts.len().saturating_sub(drop);
        parts.truncate(keep);
    }
    parts
}

/// `split(delimiter, limit=null)`.
pub fn split(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let s = util::string_param("explode", 2, "string", &v)?;
    let delim = to_str(args.required(0)?)?;
    let limit = opt(args, 1).map(convert::to_int);
    charge_for(env, s.len())?;
    let parts: Vec<Vec<u8>> = if !delim.is_empty() {
        explode(s.as_bytes(), delim.as_bytes(), limit)
    } else {
        let chars = mb_chars(s.as_bytes());
        let size = match limit {
            Some(l) if l > 1 => l as usize,
            _ => 1,
        };
        if chars.is_empty() {
            vec![Vec::new()]
        } else {
            chars.chunks(size).map(<[&[u8]]>::concat).collect()
        }
    };
    check_array_len(env, parts.len(), "split")?;
    Ok(Value::list(parts.into_iter().map(Value::bytes)))
}

/// `format(...values)`: PHP `sprintf`.
pub fn format(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let fmt = util::string_param("sprintf", 1, "format", &v)?;
    let vals: Vec<Value> = args.rest(0).cloned().collect();
    let out = sprintf(fmt.as_bytes(), &vals, env.limits().max_string_bytes)?;
    charge_for(env, out.len())?;
    Ok(Value::bytes(out))
}

/// PHP `strtr` with an array: longest key first, each position once.
pub fn strtr(s: &[u8], pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut map: HashMap<&[u8], &[u8]> = HashMap::new();
    for (k, v) in pairs.iter().filter(|(k, _)| !k.is_empty()) {
        map.insert(k.as_slice(), v.as_slice());
    }
    if map.is_empty() {
        return s.to_vec();
    }
    let mut lens: Vec<usize> = map.keys().map(|k| k.len()).collect();
    lens.sort_unstable_by(|a, b| b.cmp(a));
    lens.dedup();
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    'outer: while i < s.len() {
        let avail = s.len() - i;
        for &len in lens.iter().filter(|l| **l <= avail) {
            if let Some(v) = map.get(&s[i..i + len]) {
                out.extend_from_slice(v);
                i += len;
                continue 'outer;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// `replace(from)`.
pub fn replace(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let from = args.required(0)?;
    let Some(a) = from.as_array() else {
        return Err(CallError::Twig(format!(
            "The \"replace\" filter expects an array or \"Traversable\" as replace values, got \"{}\".",
            util::type_or_class(from)
        )));
    };
    let s = util::string_param("strtr", 1, "string", &v)?;
    let mut pairs = Vec::with_capacity(a.len());
    for (k, val) in a.iter() {
        let key = match k {
            Key::Int(i) => i.to_string().into_bytes(),
            Key::Str(p) => p.as_bytes().to_vec(),
        };
        pairs.push((key, to_str(val)?.as_bytes().to_vec()));
    }
    // Each position may look up one slice per distinct key length.
    let mut lens: Vec<usize> = pairs.iter().map(|(k, _)| k.len()).collect();
    lens.sort_unstable();
    lens.dedup();
    let per_byte: usize = lens.iter().sum::<usize>().max(1);
    env.charge((s.len().saturating_mul(per_byte) / 64) as u64 + 1)?;
    let out = strtr(s.as_bytes(), &pairs);
    util::check_str_len(env, out.len(), "replace")?;
    Ok(Value::bytes(out))
}

/// RFC 3986 percent-encoding (PHP `rawurlencode`).
pub fn rawurlencode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for &c in b {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

fn build_query(prefix: Option<&str>, a: &Array, parts: &mut Vec<String>) -> Result<(), CallError> {
    for (k, v) in a.iter() {
        let key = k.to_string_lossy();
        let key_b = match k {
            Key::Str(s) => s.as_bytes().to_vec(),
            Key::Int(i) => i.to_string().into_bytes(),
        };
        let name = match prefix {
            Some(p) => format!("{p}%5B{}%5D", rawurlencode(&key_b)),
            None => rawurlencode(&key_b),
        };
        let _ = key;
        match v {
            Value::Null => {}
            Value::Array(inner) => build_query(Some(&name), inner, parts)?,
            Value::Bool(b) => parts.push(format!("{name}={}", if *b { 1 } else { 0 })),
            Value::Object(o) => {
                let j = o.to_json_value();
                if let Some(inner) = j.as_array() {
                    build_query(Some(&name), inner, parts)?;
                }
            }
            other => parts.push(format!(
                "{name}={}",
                rawurlencode(to_str(other)?.as_bytes())
            )),
        }
    }
    Ok(())
}

/// `url_encode`.
pub fn url_encode(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    if let Some(a) = v.as_array() {
        let mut parts = Vec::new();
        build_query(None, a, &mut parts)?;
        return Ok(Value::str(parts.join("&")));
    }
    Ok(Value::str(rawurlencode(to_str(&v)?.as_bytes())))
}

fn charset(name: &[u8]) -> Option<&'static str> {
    let n = String::from_utf8_lossy(name).to_ascii_lowercase();
    let n = n.split("//").next().unwrap_or("").to_string();
    match n.as_str() {
        "utf-8" | "utf8" => Some("utf-8"),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" => Some("latin1"),
        "ascii" | "us-ascii" => Some("ascii"),
        "windows-1252" | "cp1252" => Some("latin1"),
        _ => None,
    }
}

/// `convert_encoding(to, from)`: UTF-8, ISO-8859-1 and ASCII.
pub fn convert_encoding(_env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let s = to_str(&v)?;
    let to = to_str(args.required(0)?)?;
    let from = to_str(args.required(1)?)?;
    let (Some(to), Some(from)) = (charset(to.as_bytes()), charset(from.as_bytes())) else {
        return Ok(Value::Bool(false));
    };
    let chars: Vec<char> = match from {
        "utf-8" => match s.as_str() {
            Some(t) => t.chars().collect(),
            None => return Ok(Value::Bool(false)),
        },
        _ => s.as_bytes().iter().map(|b| char::from(*b)).collect(),
    };
    let mut out = Vec::new();
    for c in chars {
        match to {
            "utf-8" => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            "latin1" if (c as u32) < 256 => out.push(c as u32 as u8),
            "ascii" if c.is_ascii() => out.push(c as u8),
            _ => return Ok(Value::Bool(false)),
        }
    }
    Ok(Value::bytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, j, je};

    fn ok(f: crate::callable::FilterFn, v: Value, args: Vec<Value>) -> String {
        match f(&mut TestEnv::default(), v, &a(args)) {
            Ok(r) => je(&r),
            Err(e) => format!("{e:?}"),
        }
    }
    fn st(f: crate::callable::FilterFn, v: &str, args: Vec<Value>) -> String {
        match f(&mut TestEnv::default(), Value::str(v), &a(args)) {
            Ok(r) => r.to_string_lossy(),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn case_filters() {
        assert_eq!(st(capitalize, "hello WORLD", vec![]), "Hello world");
        assert_eq!(st(capitalize, "élan", vec![]), "Élan");
        assert_eq!(st(lower, "ÉTÉ ABC", vec![]), "été abc");
        assert_eq!(st(upper, "straße", vec![]), "STRASSE");
        assert_eq!(
            st(title, "hello wORLD-foo bar_baz o'neil", vec![]),
            "Hello World-Foo Bar_Baz O'neil"
        );
    }

    #[test]
    fn trim_and_spaces() {
        assert_eq!(
            st(trim, "--x--", vec![Value::str("-"), Value::str("left")]),
            "x--"
        );
        assert_eq!(st(trim, "  x \n", vec![]), "x");
        assert_eq!(st(trim, "abcxcba", vec![Value::str("a..c")]), "x");
        assert!(st(trim, "x", vec![Value::Null, Value::str("middle")]).contains("Trimming side"));
        assert_eq!(st(nl2br, "a\nb", vec![]), "a<br />\nb");
        assert_eq!(st(nl2br, "a\r\nb", vec![]), "a<br />\r\nb");
        assert_eq!(
            st(spaceless, "<b> x </b>  <i>y</i>", vec![]),
            "<b> x </b><i>y</i>"
        );
        assert_eq!(st(striptags, "<p>Hi <b>there</b></p>", vec![]), "Hi there");
        assert_eq!(
            st(striptags, "<p>Hi <b>there</b></p>", vec![Value::str("<b>")]),
            "Hi <b>there</b>"
        );
    }

    #[test]
    fn arrays_are_type_errors() {
        let arr = || j("[1]");
        assert_eq!(
            ok(lower, arr(), vec![]),
            "Php(\"mb_strtolower(): Argument #1 ($string) must be of type string, array given\")"
        );
        assert!(
            ok(trim, arr(), vec![])
                .contains("trim(): Argument #1 ($string) must be of type string, array given")
        );
        assert!(
            ok(split, arr(), vec![Value::str(",")]).contains("explode(): Argument #2 ($string)")
        );
        assert!(ok(capitalize, arr(), vec![]).contains("mb_substr(): Argument #1"));
        assert_eq!(ok(lower, Value::Null, vec![]), r#""""#);
    }

    #[test]
    fn split_cases() {
        assert_eq!(
            ok(
                split,
                Value::str("a,b,c"),
                vec![Value::str(","), Value::Int(2)]
            ),
            r#"["a","b,c"]"#
        );
        assert_eq!(
            ok(
                split,
                Value::str("abcde"),
                vec![Value::str(""), Value::Int(2)]
            ),
            r#"["ab","cd","e"]"#
        );
        assert_eq!(
            ok(
                split,
                Value::str("a,b,c"),
                vec![Value::str(","), Value::Int(-1)]
            ),
            r#"["a","b"]"#
        );
        assert_eq!(ok(split, Value::Null, vec![Value::str(",")]), r#"[""]"#);
        assert_eq!(
            ok(split, Value::str("été"), vec![Value::str("")]),
            r#"["é","t","é"]"#
        );
    }

    #[test]
    fn replace_and_format() {
        assert_eq!(
            st(
                replace,
                "I like %food%",
                vec![j(r#"{"%food%":"pie","like":"love"}"#)]
            ),
            "I love pie"
        );
        assert_eq!(st(replace, "aaa", vec![j(r#"{"a":"b","aa":"c"}"#)]), "cb");
        assert!(
            st(replace, "x", vec![Value::str("s")])
                .contains("as replace values, got \\\"string\\\"")
        );
        assert_eq!(
            st(
                format,
                "%s has %d items",
                vec![Value::str("Kina"), Value::Float(3.7)]
            ),
            "Kina has 3 items"
        );
        assert_eq!(st(format, "%s", vec![]), "ArgumentCount");
    }

    #[test]
    fn url_encoding() {
        assert_eq!(
            st(url_encode, "a b&c/d?é", vec![]),
            "a%20b%26c%2Fd%3F%C3%A9"
        );
        let r = url_encode(
            &mut TestEnv::default(),
            j(r#"{"a":"x y","b":[1,2],"c":null,"d":true}"#),
            &a(vec![]),
        );
        assert_eq!(
            r.map(|v| v.to_string_lossy()),
            Ok("a=x%20y&b%5B0%5D=1&b%5B1%5D=2&d=1".to_string())
        );
    }

    #[test]
    fn encoding() {
        let r = convert_encoding(
            &mut TestEnv::default(),
            Value::str("été"),
            &a(vec![Value::str("ISO-8859-1"), Value::str("UTF-8")]),
        );
        assert_eq!(
            r.ok()
                .and_then(|v| v.as_pstr().map(|p| p.as_bytes().to_vec())),
            Some(vec![0xE9, b't', 0xE9])
        );
    }
}
