//! Cerb's parsing filters: parse_emails, parse_url, stat.

use crate::callable::{Args, CallError, Env};
use crate::library::rounding::php_round;
use crate::library::util::{self, cerb_str, charge_for, opt};
use katabox_value::convert;
use katabox_value::{Array, Key, Value};

/// One parsed address: (personal, mailbox, host).
pub type Address = (String, String, String);

fn valid_local(l: &str) -> bool {
    if l.len() >= 2 && l.starts_with('"') && l.ends_with('"') {
        return true;
    }
    !l.is_empty()
        && !l.starts_with('.')
        && !l.ends_with('.')
        && !l.contains("..")
        && l.chars().all(|c| {
            c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii()
        })
}

fn valid_host(h: &str) -> bool {
    if h.starts_with('[') && h.ends_with(']') {
        return h.len() > 2;
    }
    !h.is_empty()
        && h.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Finishes one entry of the list (Cerb's rules for bare, angle-bracket and
/// "formmail" `a@b (Name)` forms).
fn finish_entry(personal: &str, email: &str) -> Option<Address> {
    let mut personal = personal.trim().to_string();
    let mut email = email.trim().to_string();
    if email.is_empty() {
        let formmail = personal
            .strip_suffix(')')
            .and_then(|p| p.split_once(" ("))
            .filter(|(e, _)| e.contains('@'))
            .map(|(e, n)| (e.to_string(), n.to_string()));
        match formmail {
            Some((e, n)) => {
                email = e;
                personal = n;
            }
            None => {
                email = std::mem::take(&mut personal);
            }
        }
    } else {
        if personal.starts_with('"') {
            let chars: Vec<char> = personal.chars().collect();
            personal = chars[1..chars.len().saturating_sub(1).max(1)]
                .iter()
                .collect();
        }
        personal = personal.trim().replace("\\\"", "\"");
    }
    let (mailbox, host) = email.split_once('@')?;
    if mailbox.is_empty() || host.is_empty() || !valid_local(mailbox) || !valid_host(host) {
        return None;
    }
    Some((personal, mailbox.to_string(), host.to_string()))
}

/// Parses an RFC 5322 address list as Cerb does (`,`/`;` separated).
pub fn parse_addresses(s: &str) -> Vec<Address> {
    let text = format!("{};", s.trim_end_matches([',', ';']));
    let mut out: Vec<Address> = Vec::new();
    let mut stack: Vec<char> = Vec::new();
    let mut personal = String::new();
    let mut email = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match stack.last() {
            Some('"') => match c {
                '\\' => {
                    personal.push(c);
                    personal.extend(chars.next());
                }
                '"' => {
                    personal.push(c);
                    stack.pop();
                }
                _ => personal.push(c),
            },
            Some(_) => match c {
                '>' => {
                    stack.pop();
                }
                _ => email.push(c),
            },
            None => match c {
                '"' => {
                    personal.push(c);
                    stack.push('"');
                }
                '<' => stack.push('<'),
                ';' | ',' => {
                    if let Some(a) = finish_entry(&personal, &email) {
                        // A repeated address keeps its first position.
                        match out.iter_mut().find(|(_, m, h)| *m == a.1 && *h == a.2) {
                            Some(slot) => *slot = a,
                            None => out.push(a),
                        }
                    }
                    personal.clear();
                    email.clear();
                }
                _ => personal.push(c),
            },
        }
    }
    out
}

/// `parse_emails`.
pub fn parse_emails(env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(Value::str(""));
    };
    charge_for(env, s.len())?;
    let mut out = Array::new();
    for (personal, mailbox, host) in parse_addresses(&s.to_string_lossy()) {
        let email = format!("{mailbox}@{host}");
        let full = if personal.is_empty() || personal == "0" {
            email.clone()
        } else if personal.contains('.') || personal.contains('"') {
            format!("\"{}\" <{email}>", personal.replace('"', "\\\""))
        } else {
            format!("{personal} <{email}>")
        };
        let mut e = Array::new();
        e.insert("full_email", Value::str(&full));
        e.insert("email", Value::str(&email));
        e.insert("mailbox", Value::str(&mailbox));
        e.insert("host", Value::str(&host));
        e.insert("personal", Value::str(&personal));
        out.insert(Key::from(email.as_str()), Value::array(e));
    }
    Ok(Value::array(out))
}

/// PHP `parse_url`; `None` on failure.
pub fn parse_url_raw(u: &str) -> Option<Array> {
    let mut out = Array::new();
    let mut rest = u;
    let mut fragment = None;
    let mut query = None;
    if let Some(p) = rest.find('#') {
        fragment = Some(&rest[p + 1..]);
        rest = &rest[..p];
    }
    if let Some(p) = rest.find('?') {
        query = Some(&rest[p + 1..]);
        rest = &rest[..p];
    }
    let mut scheme = None;
    if let Some(p) = rest.find(':') {
        let cand = &rest[..p];
        let after = &rest[p + 1..];
        let is_scheme = !cand.is_empty()
            && cand.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        let port_like = !after.is_empty()
            && after
                .chars()
                .take_while(|c| *c != '/')
                .all(|c| c.is_ascii_digit());
        if is_scheme && (!port_like || after.starts_with("//")) {
            scheme = Some(cand);
            rest = after;
        }
    }
    let mut host = None;
    let mut port = None;
    let mut user = None;
    let mut pass = None;
    if let Some(auth_rest) = rest.strip_prefix("//") {
        let end = auth_rest.find('/').unwrap_or(auth_rest.len());
        let auth = &auth_rest[..end];
        rest = &auth_rest[end..];
        let hostport = match auth.rfind('@') {
            Some(at) => {
                let ui = &auth[..at];
                match ui.find(':') {
                    Some(c) => {
                        user = Some(&ui[..c]);
                        pass = Some(&ui[c + 1..]);
                    }
                    None => user = Some(ui),
                }
                &auth[at + 1..]
            }
            None => auth,
        };
        let (h, p) = if hostport.starts_with('[') {
            match hostport.find(']') {
                Some(e) => (&hostport[..=e], hostport[e + 1..].strip_prefix(':')),
                None => return None,
            }
        } else {
            match hostport.rfind(':') {
                Some(c) => (&hostport[..c], Some(&hostport[c + 1..])),
                None => (hostport, None),
            }
        };
        if let Some(p) = p
            && !p.is_empty()
        {
            if !p.chars().all(|c| c.is_ascii_digit()) || p.len() > 5 {
                return None;
            }
            let n: i64 = p.parse().ok()?;
            if n > 65535 {
                return None;
            }
            port = Some(n);
        }
        if h.is_empty() && scheme.is_some() && scheme != Some("file") {
            return None;
        }
        if !h.is_empty() {
            host = Some(h);
        }
    }
    if let Some(s) = scheme {
        out.insert("scheme", Value::str(s));
    }
    if let Some(h) = host {
        out.insert("host", Value::str(h));
    }
    if let Some(p) = port {
        out.insert("port", Value::Int(p));
    }
    if let Some(u) = user {
        out.insert("user", Value::str(u));
    }
    if let Some(p) = pass {
        out.insert("pass", Value::str(p));
    }
    if !rest.is_empty() {
        out.insert("path", Value::str(rest));
    }
    if let Some(q) = query {
        out.insert("query", Value::str(q));
    }
    if let Some(f) = fragment {
        out.insert("fragment", Value::str(f));
    }
    Some(out)
}

/// `parse_url`.
pub fn parse_url(_env: &mut dyn Env, v: Value, _args: &Args) -> Result<Value, CallError> {
    let Some(s) = cerb_str(&v) else {
        return Ok(Value::empty_array());
    };
    Ok(Value::array(
        parse_url_raw(&s.to_string_lossy()).unwrap_or_default(),
    ))
}

/// `stat(measure=null, decimals=2)`: Cerb's `filter_stat` over the
/// stats service; a numeric result is rounded with PHP's `round`.
pub fn stat(env: &mut dyn Env, v: Value, args: &Args) -> Result<Value, CallError> {
    let Some(a) = v.as_array() else {
        return Ok(Value::Null);
    };
    let measure = match opt(args, 0) {
        Some(m) => util::to_str(m)?.to_string_lossy().to_ascii_lowercase(),
        None => String::new(),
    };
    let decimals = opt(args, 1).map_or(2, convert::to_int);
    charge_for(env, a.len())?;
    let values: Vec<Value> = a.values().cloned().collect();
    Ok(match crate::library::stats::measure(&measure, &values)? {
        Some(Value::Int(i)) => Value::Float(php_round(i as f64, decimals)),
        Some(Value::Float(f)) => Value::Float(php_round(f, decimals)),
        Some(other) => other,
        None => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, j, je};

    fn js(f: crate::callable::FilterFn, v: Value, args: Vec<Value>) -> String {
        match f(&mut TestEnv::default(), v, &a(args)) {
            Ok(r) => je(&r),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            js(parse_emails, Value::str("kina@cerb.example"), vec![]),
            r#"{"kina@cerb.example":{"full_email":"kina@cerb.example","email":"kina@cerb.example","mailbox":"kina","host":"cerb.example","personal":""}}"#
        );
        let r = js(
            parse_emails,
            Value::str("\"Kina Halpue\" <kina@cerb.example>, karl, bob@x.example (Bob)"),
            vec![],
        );
        assert!(
            r.contains(r#""full_email":"Kina Halpue <kina@cerb.example>""#),
            "{r}"
        );
        assert!(r.contains(r#""personal":"Bob""#), "{r}");
        assert!(!r.contains("karl"), "{r}");
        let r = js(
            parse_emails,
            Value::str(
                "\"Halpue, Kina\" <kina@cerb.example>; \"J. \\\"Q\\\" Public\" <jq@x.example>",
            ),
            vec![],
        );
        assert!(r.contains(r#""personal":"Halpue, Kina""#), "{r}");
        assert!(
            r.contains(r#""full_email":"\"J. \\\"Q\\\" Public\" <jq@x.example>""#),
            "{r}"
        );
        assert_eq!(js(parse_emails, Value::str("a@b@c, @x, y@"), vec![]), "[]");
    }

    #[test]
    fn urls() {
        assert_eq!(
            js(
                parse_url,
                Value::str("https://user:pw@cerb.ai:8080/search?q=1#frag"),
                vec![]
            ),
            r#"{"scheme":"https","host":"cerb.ai","port":8080,"user":"user","pass":"pw","path":"/search","query":"q=1","fragment":"frag"}"#
        );
        assert_eq!(
            js(parse_url, Value::str("not a url"), vec![]),
            r#"{"path":"not a url"}"#
        );
        assert_eq!(js(parse_url, Value::Int(5), vec![]), "[]");
    }

    #[test]
    fn stats() {
        let r = |v: &str, m: &str| js(stat, j(v), vec![Value::str(m)]);
        assert_eq!(r("[1,2,3,4,5,6,7,8,9,10]", "median"), "5.5");
        assert_eq!(r("[2,4,4,4,5,5,7,9]", "stdevp"), "2.0".replace(".0", ""));
        assert_eq!(r("[1,1,2]", "mode"), "1");
        assert_eq!(r("[]", "max"), "null");
        assert_eq!(r("[]", "count"), "0");
        assert_eq!(r("[1,2]", "nope"), "null");
    }
}
