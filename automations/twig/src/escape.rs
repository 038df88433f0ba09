//! The `escape`/`e` filter (scripting.md §6).

use crate::callable::{Args, CallError};
use crate::objects::markup_text;
use katabox_value::{PStr, Value};
use std::fmt::Write as _;

/// `value|escape(strategy='html', charset=null)`.
pub fn escape_filter(v: Value, args: &Args) -> Result<Value, CallError> {
    let strategy = match args.get(0) {
        None | Some(Value::Null) => "html".to_string(),
        Some(s) => katabox_value::convert::to_pstr(s)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let text: PStr = match (&v, markup_text(&v)) {
        (_, Some(t)) => t.clone(),
        (Value::Str(s), None) => s.clone(),
        _ => {
            if !["html", "js", "css", "url", "html_attr"].contains(&strategy.as_str()) {
                return Err(invalid(&strategy));
            }
            return Ok(v);
        }
    };
    let b = text.as_bytes();
    let out = match strategy.as_str() {
        "html" => html(b),
        "js" => js(utf8(b)?),
        "css" => css(utf8(b)?),
        "url" => url(b),
        "html_attr" => html_attr(utf8(b)?),
        other => return Err(invalid(other)),
    };
    Ok(Value::Str(PStr::from(out)))
}

fn invalid(s: &str) -> CallError {
    CallError::Twig(format!(
        "Invalid escaping strategy \"{s}\" (valid ones: html, js, url, css, html_attr)."
    ))
}

fn utf8(b: &[u8]) -> Result<&str, CallError> {
    std::str::from_utf8(b)
        .map_err(|_| CallError::Twig("The string to escape is not a valid UTF-8 string.".into()))
}

pub(crate) fn html(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#039;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, ',' | '.' | '_') {
            out.push(c);
            continue;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{u:04X}");
                }
            }
        }
    }
    out
}

fn css(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            let _ = write!(out, "\\{:X} ", c as u32);
        }
    }
    out
}

fn url(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for &c in b {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.push(c as char);
        } else {
            let _ = write!(out, "%{c:02X}");
        }
    }
    out
}

fn html_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, ',' | '.' | '-' | '_') {
            out.push(c);
            continue;
        }
        let n = c as u32;
        match c {
            '"' => out.push_str("&quot;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ if (n <= 0x1f && !matches!(c, '\t' | '\n' | '\r')) || (0x7f..=0x9f).contains(&n) => {
                out.push_str("&#xFFFD;");
            }
            _ if n < 0x80 => {
                let _ = write!(out, "&#x{n:02X};");
            }
            _ => {
                let _ = write!(out, "&#x{n:04X};");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str, strategy: &str) -> String {
        let args = Args::positional(vec![Value::str(strategy)]);
        match escape_filter(Value::str(s), &args) {
            Ok(v) => v.to_string_lossy(),
            Err(e) => format!("ERR {e:?}"),
        }
    }

    #[test]
    fn strategies_follow_twig() {
        assert_eq!(
            esc("<a href=\"x\">&amp;</a>", "html"),
            "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(esc("a\"b", "js"), "a\\u0022b");
        assert_eq!(esc("é", "js"), "\\u00E9");
        assert_eq!(esc("😀", "js"), "\\uD83D\\uDE00");
        assert_eq!(esc("a<b", "css"), "a\\3C b");
        assert_eq!(esc("a b", "url"), "a%20b");
        assert_eq!(esc("A  B", "html_attr"), "A&#x20;&#x20;B");
        assert!(esc("x", "foo").starts_with("ERR"));
    }
}
