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
    /// PCRE's `$` also matches before a final newline (no `m`/`D` flag);
    /// emulated by retrying without that newline.
    dollar_before_newline: bool,
}

/// Captures of one match: byte ranges per group (None when unset).
pub type Groups = Vec<Option<(usize, usize)>>;

impl Pcre {
    /// Compiles a pattern with delimiters and modifiers. The error is the
    /// text PHP's warning gives (`Delimiter must not be alphanumeric, ...`).
    pub fn new(pattern: &[u8]) -> Result<Pcre, String> {
        let (body, flags) = split_delimiters(pattern)?;
        let (text, has_dollar) = translate(&body, &flags)?;
        let mut b = RegexBuilder::new(&text);
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
        Ok(Pcre {
            re,
            dollar_before_newline: has_dollar && !flags.multiline && !flags.dollar_endonly,
        })
    }

    /// The subject without its final newline, when `$` may match before it.
    fn trimmed<'a>(&self, subject: &'a [u8]) -> Option<&'a [u8]> {
        if self.dollar_before_newline {
            subject.strip_suffix(b"\n")
        } else {
            None
        }
    }

    /// True when the pattern matches somewhere in `subject`.
    pub fn is_match(&self, subject: &[u8]) -> bool {
        self.re.is_match(subject) || self.trimmed(subject).is_some_and(|t| self.re.is_match(t))
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
        let grab = |s: &[u8]| {
            self.re.captures(s).map(|c| {
                (0..c.len())
                    .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                    .collect::<Groups>()
            })
        };
        grab(subject).or_else(|| self.trimmed(subject).and_then(grab))
    }

    /// Groups of every match, at most `limit`.
    pub fn all(&self, subject: &[u8], limit: usize) -> Vec<Groups> {
        let grab = |s: &[u8]| -> Vec<Groups> {
            self.re
                .captures_iter(s)
                .take(limit)
                .map(|c| {
                    (0..c.len())
                        .map(|i| c.get(i).map(|m| (m.start(), m.end())))
                        .collect()
                })
                .collect()
        };
        let full = grab(subject);
        match self.trimmed(subject) {
            Some(t) => {
                let alt = grab(t);
                if alt.len() > full.len() { alt } else { full }
            }
            None => full,
        }
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
    dollar_endonly: bool,
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
            b'D' => flags.dollar_endonly = true,
            b'S' | b'X' | b'J' | b'\n' | b'\r' | b' ' => {}
            other => {
                return Err(format!("Unknown modifier '{}'", char::from(other)));
            }
        }
    }
    Ok((body, flags))
}

/// Rewrites PCRE-only spellings the `regex` crate lacks; also reports
/// whether the pattern uses `$` outside a character class.
fn translate(body: &[u8], flags: &Flags) -> Result<(String, bool), String> {
    let delim = flags.delimiter;
    let mut out = Vec::with_capacity(body.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    let mut dollar = false;
    while i < body.len() {
        let c = body[i];
        if c == b'\\' && i + 1 < body.len() {
            let n = body[i + 1];
            match n {
                b'e' => out.extend_from_slice(b"\\x1B"),
                b'h' => out.extend_from_slice(if in_class {
                    b"\\t " as &[u8]
                } else {
                    b"[\\t ]"
                }),
                b'R' if !in_class => out.extend_from_slice(b"(?:\\r\\n|\\n|\\r)"),
                b'Z' => out.extend_from_slice(b"\\z"),
                b'Q' => {
                    let rest = &body[i + 2..];
                    let end = rest
                        .windows(2)
                        .position(|w| w == b"\\E")
                        .unwrap_or(rest.len());
                    for &l in &rest[..end] {
                        if l.is_ascii_alphanumeric() || l >= 0x80 {
                            out.push(l);
                        } else {
                            out.extend_from_slice(format!("\\x{l:02X}").as_bytes());
                        }
                    }
                    i += 2 + end + if end < rest.len() { 2 } else { 0 };
                    continue;
                }
                b'E' => {}
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
                b'1'..=b'9' if !in_class => {
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
        if in_class {
            if c == b']' {
                in_class = false;
            }
        } else if c == b'[' {
            in_class = true;
            out.push(c);
            i += 1;
            // A `]` (or `^]`) right after `[` is literal.
            if body.get(i) == Some(&b'^') {
                out.push(b'^');
                i += 1;
            }
            if body.get(i) == Some(&b']') {
                out.extend_from_slice(b"\\]");
                i += 1;
            }
            continue;
        } else if c == b'$' {
            dollar = true;
        } else if c == b'(' && body.get(i + 1) == Some(&b'?') {
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
    let text = match String::from_utf8(out) {
        Ok(t) => t,
        Err(e) if !flags.unicode => {
            // Raw bytes outside UTF-8 match themselves in byte mode.
            let mut t = String::new();
            for chunk in e.as_bytes().utf8_chunks() {
                t.push_str(chunk.valid());
                for b in chunk.invalid() {
                    t.push_str(&format!("(?-u:\\x{b:02X})"));
                }
            }
            t
        }
        Err(_) => return Err("Compilation failed: UTF-8 error: invalid pattern".into()),
    };
    Ok((text, dollar))
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
    fn pcre_quirks() {
        let m = |p: &[u8], s: &[u8]| Pcre::new(p).map(|r| r.is_match(s)).unwrap_or(false);
        assert!(m(b"/^foo$/", b"foo\n"));
        assert!(!m(b"/^foo$/D", b"foo\n"));
        assert!(m(b"/a\\Rb/", b"a\r\nb"));
        assert!(m(b"/\\Q.*\\E/", b"x.*y"));
        assert!(!m(b"/\\Q.*\\E/", b"xy"));
        assert!(m(b"/[]a]/", b"]"));
        assert!(m(b"/\xff/", b"a\xffb"));
        assert!(m(b"/[$]/", b"$"));
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
