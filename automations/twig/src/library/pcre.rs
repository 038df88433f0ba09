//! PCRE pattern strings (`/…/flags`) on top of the linear-time `regex`
//! crate (scripting.md Appendix E). Features the crate lacks
//! (backreferences, lookaround, atomic groups…) are refused with a clear
//! message instead of being emulated.

use regex::bytes::{Regex, RegexBuilder};

/// Compiled size limit for one pattern.
const SIZE_LIMIT: usize = 2 * 1024 * 1024;

/// A compiled PCRE pattern.
#[derive(Debug, Clone)]
pub struct Pcre {
    re: Regex,
}

/// Captures of one match: byte ranges per group (None when unset).
pub type Groups = Vec<Option<(usize, usize)>>;

impl Pcre {
    /// Compiles a pattern with delimiters and modifiers. The error is the
    /// text PHP's warning gives (`Delimiter must not be alphanumeric, ...`).
    pub fn new(pattern: &[u8]) -> Result<Pcre, String> {
        let (body, flags) = split_delimiters(pattern)?;
        let mut b = RegexBuilder::new(&translate(&body, flags.delimiter)?);
        b.unicode(flags.unicode)
            .case_insensitive(flags.caseless)
            .multi_line(flags.multiline)
            .dot_matches_new_line(flags.dotall)
            .ignore_whitespace(flags.extended)
            .swap_greed(flags.ungreedy)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(SIZE_LIMIT);
        let re = b.build().map_err(|e| {
            format!(
                "Compilation failed: {} (katabox supports a linear-time subset of PCRE)",
                first_line(&e.to_string())
            )
        })?;
        Ok(Pcre { re })
    }

    /// True when the pattern matches somewhere in `subject`.
    pub fn is_match(&self, subject: &[u8]) -> bool {
        self.re.is_match(subject)
    }

    /// Group index of a name.
    pub fn group_index(&self, name: &str) -> Option<usize> {
        self.re.capture_names().position(|n| n == Some(name))
    }

    /// Number of groups including group 0.
    pub fn group_count(&self) -> usize {
        self.re.captures_len()
    }

    /// Groups of the first match.
    pub fn first(&self, subject: &[u8]) -> Option<Groups> {
        self.re.captures(subject).map(|c| {
            (0..c.len())
                .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                .collect()
        })
    }

    /// Groups of every match, at most `limit`.
    pub fn all(&self, subject: &[u8], limit: usize) -> Vec<Groups> {
        self.re
            .captures_iter(subject)
            .take(limit)
            .map(|c| {
                (0..c.len())
                    .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                    .collect()
            })
            .collect()
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .trim_start_matches("error: ")
        .to_string()
}

#[derive(Default)]
struct Flags {
    caseless: bool,
    multiline: bool,
    dotall: bool,
    extended: bool,
    unicode: bool,
    ungreedy: bool,
    delimiter: u8,
}

fn split_delimiters(p: &[u8]) -> Result<(Vec<u8>, Flags), String> {
    let start = p.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Err("Empty regular expression".into());
    };
    let d = p[start];
    if d.is_ascii_alphanumeric() || d == b'\\' || d == 0 {
        return Err("Delimiter must not be alphanumeric, backslash, or NUL".into());
    }
    let close = match d {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        b'<' => b'>',
        other => other,
    };
    let mut i = start + 1;
    let mut depth = 0usize;
    let end = loop {
        let Some(&c) = p.get(i) else {
            return Err(if close == d {
                format!("No ending delimiter '{}' found", char::from(d))
            } else {
                format!("No ending matching delimiter '{}' found", char::from(close))
            });
        };
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == close && depth == 0 {
            break i;
        }
        if close != d {
            if c == d {
                depth += 1;
            } else if c == close {
                depth -= 1;
            }
        }
        i += 1;
    };
    let body = p[start + 1..end].to_vec();
    let mut flags = Flags {
        delimiter: d,
        ..Flags::default()
    };
    for &m in &p[end + 1..] {
        match m {
            b'i' => flags.caseless = true,
            b'm' => flags.multiline = true,
            b's' => flags.dotall = true,
            b'x' => flags.extended = true,
            b'u' => flags.unicode = true,
            b'U' => flags.ungreedy = true,
            b'D' | b'S' | b'X' | b'J' | b'\n' | b'\r' | b' ' => {}
            other => {
                return Err(format!("Unknown modifier '{}'", char::from(other)));
            }
        }
    }
    Ok((body, flags))
}

/// Rewrites PCRE-only spellings the `regex` crate lacks.
fn translate(body: &[u8], delim: u8) -> Result<String, String> {
    let mut out = Vec::with_capacity(body.len() + 8);
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c == b'\\' && i + 1 < body.len() {
            let n = body[i + 1];
            match n {
                b'e' => out.extend_from_slice(b"\\x1B"),
                b'h' => out.extend_from_slice(b"[\\t ]"),
                b'Z' => out.extend_from_slice(b"\\z"),
                b'/' | b'#' | b'~' | b'@' | b'%' | b'!' | b'"' | b'\'' | b'`' | b';' | b','
                | b'=' | b':'
                    if n != b'#' || delim == b'#' =>
                {
                    out.push(n)
                }
                _ if n == delim
                    && !n.is_ascii_alphanumeric()
                    && !b"\\.+*?()|[]{}^$#&-~".contains(&n) =>
                {
                    out.push(n)
                }
                b'1'..=b'9' => {
                    return Err("Compilation failed: backreferences are not supported".into());
                }
                _ => {
                    out.push(c);
                    out.push(n);
                }
            }
            i += 2;
            continue;
        }
        if c == b'(' && body.get(i + 1) == Some(&b'?') {
            let next = body.get(i + 2).copied();
            let next2 = body.get(i + 3).copied();
            match (next, next2) {
                (Some(b'='), _)
                | (Some(b'!'), _)
                | (Some(b'<'), Some(b'='))
                | (Some(b'<'), Some(b'!')) => {
                    return Err(
                        "Compilation failed: lookaround assertions are not supported".into(),
                    );
                }
                (Some(b'>'), _) => {
                    return Err("Compilation failed: atomic groups are not supported".into());
                }
                _ => {}
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "Compilation failed: pattern is not valid UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_and_flags() {
        assert!(
            Pcre::new(b"/abc/i")
                .map(|r| r.is_match(b"xABCx"))
                .unwrap_or(false)
        );
        assert!(
            Pcre::new(b"#^a.c$#s")
                .map(|r| r.is_match(b"a\nc"))
                .unwrap_or(false)
        );
        assert!(
            Pcre::new(b"{a+}")
                .map(|r| r.is_match(b"aa"))
                .unwrap_or(false)
        );
        assert!(
            Pcre::new(b"/a\\/b/")
                .map(|r| r.is_match(b"a/b"))
                .unwrap_or(false)
        );
        assert_eq!(
            Pcre::new(b"x").err().as_deref(),
            Some("Delimiter must not be alphanumeric, backslash, or NUL")
        );
        assert_eq!(
            Pcre::new(b"/abc").err().as_deref(),
            Some("No ending delimiter '/' found")
        );
        assert_eq!(
            Pcre::new(b"/abc/q").err().as_deref(),
            Some("Unknown modifier 'q'")
        );
        assert!(Pcre::new(b"/(a)\\1/").is_err());
    }

    #[test]
    fn named_groups() {
        let re = Pcre::new(b"/(?<word>[a-z]+)-(?P<n>\\d+)/");
        let re = match re {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(re.group_index("word"), Some(1));
        assert_eq!(re.group_index("n"), Some(2));
        assert_eq!(
            re.first(b"xx abc-12"),
            Some(vec![Some((3, 9)), Some((3, 6)), Some((7, 9))])
        );
    }
}
