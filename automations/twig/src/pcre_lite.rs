//! PCRE pattern strings for the `matches` operator (scripting.md Appendix
//! E): delimiters and modifiers on top of the linear-time `regex` crate.
//! Errors carry PHP's warning text (after `preg_match()`).

use regex::bytes::{Regex, RegexBuilder};
use std::cell::RefCell;
use std::collections::HashMap;

const CACHE_MAX: usize = 64;
const SIZE_LIMIT: usize = 2 * 1024 * 1024;

thread_local! {
    static CACHE: RefCell<HashMap<Vec<u8>, Regex>> = RefCell::new(HashMap::new());
}

/// Compiles (cached) a delimited PCRE pattern.
pub fn compile(pattern: &[u8]) -> Result<Regex, String> {
    if let Some(r) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(r);
    }
    let re = build(pattern)?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(pattern.to_vec(), re.clone());
    });
    Ok(re)
}

fn build(pattern: &[u8]) -> Result<Regex, String> {
    let p = pattern.trim_ascii_start();
    let Some(&delim) = p.first() else {
        return Err("Empty regular expression".into());
    };
    if delim.is_ascii_alphanumeric() || delim == b'\\' || delim == 0 {
        return Err("Delimiter must not be alphanumeric, backslash, or NUL".into());
    }
    let close = match delim {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        b'<' => b'>',
        d => d,
    };
    let mut i = 1;
    let mut nest = 1;
    let end = loop {
        if i >= p.len() {
            return Err(if close == delim {
                format!("No ending delimiter '{}' found", delim as char)
            } else {
                format!("No ending matching delimiter '{}' found", close as char)
            });
        }
        let c = p[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if close != delim && c == delim {
            nest += 1;
        } else if c == close {
            nest -= 1;
            if nest == 0 {
                break i;
            }
        }
        i += 1;
    };
    let body = &p[1..end];
    let mut b = RegexBuilder::new(&String::from_utf8_lossy(body));
    b.unicode(false)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT);
    for &m in &p[end + 1..] {
        match m {
            b'i' => {
                b.case_insensitive(true);
            }
            b'm' => {
                b.multi_line(true);
            }
            b's' => {
                b.dot_matches_new_line(true);
            }
            b'x' => {
                b.ignore_whitespace(true);
            }
            b'u' => {
                b.unicode(true);
            }
            b'U' => {
                b.swap_greed(true);
            }
            b'D' | b'S' | b'\n' | b' ' | b'\r' => {}
            other => {
                return Err(format!("Unknown modifier '{}'", other as char));
            }
        }
    }
    match b.build() {
        Ok(r) => Ok(r),
        Err(_) => {
            // Patterns with non-ASCII literals need Unicode mode.
            b.unicode(true);
            b.build().map_err(|e| {
                format!(
                    "Compilation failed: {}",
                    e.to_string().lines().last().unwrap_or("")
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_and_flags() {
        assert!(compile(b"/^a.c$/i").is_ok_and(|r| r.is_match(b"AbC")));
        assert!(compile(b"{a+}").is_ok_and(|r| r.is_match(b"caat")));
        assert_eq!(
            compile(b"x").err().as_deref(),
            Some("Delimiter must not be alphanumeric, backslash, or NUL")
        );
        assert_eq!(
            compile(b"/abc").err().as_deref(),
            Some("No ending delimiter '/' found")
        );
        assert_eq!(
            compile(b"/a/k").err().as_deref(),
            Some("Unknown modifier 'k'")
        );
    }
}
