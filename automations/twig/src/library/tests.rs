//! Tests (`value is name(args)`): empty, even, odd, iterable, divisible by,
//! constant (Twig); numeric, pattern, prefixed, suffixed, record type (Cerb).

use crate::callable::{Args, CallError, Env};
use crate::library::util::{self, cerb_str, is_markup_class, scalar_str, to_str};
use katabox_value::convert::{self, Number};
use katabox_value::{PStr, Value};

/// `empty`.
pub fn empty(_env: &mut dyn Env, v: &Value, _args: &Args) -> Result<bool, CallError> {
    Ok(match v {
        Value::Null | Value::Bool(false) => true,
        Value::Str(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) if is_markup_class(o.class_name()) => {
            o.to_pstr().is_ok_and(|s| s.is_empty())
        }
        Value::Object(o) => o.to_pstr().is_ok_and(|s| s.is_empty()),
        _ => false,
    })
}

/// PHP `%` operand conversion for tests: the int value or a type error.
fn modulo_int(v: &Value, op: &Value) -> Result<i64, CallError> {
    let v = util::unmark(v.clone());
    match convert::to_number(&v) {
        Some(Number::Int(i)) => Ok(i),
        // A numeric string's float saturates, a float wraps (PHP 8, 64-bit).
        Some(Number::Float(f)) if matches!(v, Value::Str(_)) => Ok(convert::float_to_int_cap(f)),
        Some(Number::Float(f)) => Ok(convert::float_to_int(f)),
        None => Err(CallError::Php(format!(
            "Unsupported operand types: {} % {}",
            v.type_name(),
            op.type_name()
        ))),
    }
}

/// `even`.
pub fn even(_env: &mut dyn Env, v: &Value, _args: &Args) -> Result<bool, CallError> {
    Ok(modulo_int(v, &Value::Int(2))? % 2 == 0)
}

/// `odd`.
pub fn odd(_env: &mut dyn Env, v: &Value, _args: &Args) -> Result<bool, CallError> {
    Ok(modulo_int(v, &Value::Int(2))? % 2 != 0)
}

/// `iterable`.
pub fn iterable(_env: &mut dyn Env, v: &Value, _args: &Args) -> Result<bool, CallError> {
    Ok(matches!(v, Value::Array(_)))
}

/// `divisible by(num)`.
pub fn divisible_by(_env: &mut dyn Env, v: &Value, args: &Args) -> Result<bool, CallError> {
    let d = args.required(0)?;
    let n = modulo_int(v, d)?;
    let m = modulo_int(d, v)?;
    if m == 0 {
        return Err(CallError::Php("Modulo by zero".into()));
    }
    Ok(n.wrapping_rem(m) == 0)
}

/// `constant(name)`: PHP constants are not available; always false.
pub fn constant(_env: &mut dyn Env, _v: &Value, args: &Args) -> Result<bool, CallError> {
    args.required(0)?;
    Ok(false)
}

/// `numeric`.
pub fn numeric(_env: &mut dyn Env, v: &Value, _args: &Args) -> Result<bool, CallError> {
    Ok(match v {
        Value::Int(_) | Value::Float(_) => true,
        Value::Str(s) => convert::parse_numeric(s.as_bytes()).is_some(),
        _ => false,
    })
}

/// Wildcard match: `*` any run, everything else literal, whole string,
/// case-insensitive.
pub fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let p: Vec<char> = String::from_utf8_lossy(pattern)
        .to_lowercase()
        .chars()
        .collect();
    let t: Vec<char> = String::from_utf8_lossy(text)
        .to_lowercase()
        .chars()
        .collect();
    // Iterative glob matching with backtracking to the last star (linear-ish).
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn flatten(args: &Args) -> Vec<Value> {
    let mut out = Vec::new();
    for a in args.rest(0) {
        match a {
            Value::Array(items) => out.extend(items.values().cloned()),
            other => out.push(other.clone()),
        }
    }
    out
}

/// `pattern(...patterns)`.
pub fn pattern(env: &mut dyn Env, v: &Value, args: &Args) -> Result<bool, CallError> {
    let patterns: Vec<PStr> = flatten(args).iter().filter_map(scalar_str).collect();
    let values: Vec<PStr> = match v {
        Value::Array(a) => a.values().filter_map(scalar_str).collect(),
        other => scalar_str(other).into_iter().collect(),
    };
    let work: usize = patterns
        .iter()
        .map(|p| p.len() + 1)
        .sum::<usize>()
        .saturating_mul(values.iter().map(|v| v.len() + 1).sum());
    env.charge((work / 64) as u64 + 1)?;
    Ok(values.iter().any(|s| {
        patterns
            .iter()
            .any(|p| wildcard_match(p.as_bytes(), s.as_bytes()))
    }))
}

fn affixed(v: &Value, args: &Args, prefix: bool) -> Result<bool, CallError> {
    let Some(s) = cerb_str(v) else {
        return Ok(false);
    };
    for a in args.rest(0) {
        if matches!(a, Value::Array(_)) {
            return Err(CallError::Php(
                "strlen(): Argument #1 ($string) must be of type string, array given".into(),
            ));
        }
        let p = to_str(a)?;
        let hit = if prefix {
            s.as_bytes().starts_with(p.as_bytes())
        } else {
            s.as_bytes().ends_with(p.as_bytes())
        };
        if hit {
            return Ok(!p.is_empty());
        }
    }
    Ok(false)
}

/// `prefixed(...prefixes)`.
pub fn prefixed(_env: &mut dyn Env, v: &Value, args: &Args) -> Result<bool, CallError> {
    affixed(v, args, true)
}

/// `suffixed(...suffixes)`.
pub fn suffixed(_env: &mut dyn Env, v: &Value, args: &Args) -> Result<bool, CallError> {
    affixed(v, args, false)
}

/// Cerb's record types: (extension id, URI alias, singular, plural).
pub const RECORD_TYPES: &[(&str, &str, &str, &str)] = &[
    (
        "cerberusweb.contexts.address",
        "address",
        "email address",
        "email addresses",
    ),
    (
        "cerberusweb.contexts.attachment",
        "attachment",
        "attachment",
        "attachments",
    ),
    (
        "cerberusweb.contexts.automation",
        "automation",
        "automation",
        "automations",
    ),
    ("cerberusweb.contexts.bot", "bot", "bot", "bots"),
    (
        "cerberusweb.contexts.calendar",
        "calendar",
        "calendar",
        "calendars",
    ),
    (
        "cerberusweb.contexts.calendar_event",
        "calendar_event",
        "calendar event",
        "calendar events",
    ),
    ("cerberusweb.contexts.call", "call", "call", "calls"),
    (
        "cerberusweb.contexts.comment",
        "comment",
        "comment",
        "comments",
    ),
    (
        "cerberusweb.contexts.connected_account",
        "connected_account",
        "connected account",
        "connected accounts",
    ),
    (
        "cerberusweb.contexts.contact",
        "contact",
        "contact",
        "contacts",
    ),
    ("cerberusweb.contexts.group", "group", "group", "groups"),
    (
        "cerberusweb.contexts.mailbox",
        "mailbox",
        "mailbox",
        "mailboxes",
    ),
    (
        "cerberusweb.contexts.message",
        "message",
        "message",
        "messages",
    ),
    (
        "cerberusweb.contexts.opportunity",
        "opportunity",
        "opportunity",
        "opportunities",
    ),
    (
        "cerberusweb.contexts.org",
        "org",
        "organization",
        "organizations",
    ),
    (
        "cerberusweb.contexts.project.board",
        "project_board",
        "project board",
        "project boards",
    ),
    ("cerberusweb.contexts.role", "role", "role", "roles"),
    ("cerberusweb.contexts.task", "task", "task", "tasks"),
    ("cerberusweb.contexts.ticket", "ticket", "ticket", "tickets"),
    (
        "cerberusweb.contexts.webhook_listener",
        "webhook_listener",
        "webhook listener",
        "webhook listeners",
    ),
    ("cerberusweb.contexts.worker", "worker", "worker", "workers"),
    (
        "cerberusweb.contexts.workspace.page",
        "workspace_page",
        "workspace page",
        "workspace pages",
    ),
];

/// The record type entry for an id or alias.
pub fn record_type(
    name: &str,
) -> Option<&'static (&'static str, &'static str, &'static str, &'static str)> {
    let n = name.to_ascii_lowercase();
    RECORD_TYPES
        .iter()
        .find(|(id, alias, _, _)| *id == n || *alias == n)
}

/// A record type id or alias → its extension id.
pub fn record_type_id(name: &str) -> Option<&'static str> {
    record_type(name).map(|r| r.0)
}

/// `record type(...types)`.
pub fn is_record_type(_env: &mut dyn Env, v: &Value, args: &Args) -> Result<bool, CallError> {
    let Some(s) = scalar_str(v) else {
        return Ok(false);
    };
    let Some(id) = record_type_id(&s.to_string_lossy()) else {
        return Ok(false);
    };
    Ok(flatten(args)
        .iter()
        .filter_map(scalar_str)
        .any(|t| record_type_id(&t.to_string_lossy()) == Some(id)))
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::library::test_env::{Markup, TestEnv, a, j};
    use std::sync::Arc;

    fn t(f: crate::callable::TestFn, v: Value, args: Vec<Value>) -> Result<bool, CallError> {
        f(&mut TestEnv::default(), &v, &a(args))
    }

    #[test]
    fn twig_tests() {
        assert_eq!(t(empty, Value::Int(0), vec![]), Ok(false));
        assert_eq!(t(empty, Value::str("0"), vec![]), Ok(false));
        assert_eq!(t(empty, j("{}"), vec![]), Ok(true));
        assert_eq!(
            t(
                empty,
                Value::Object(Arc::new(Markup(String::new()))),
                vec![]
            ),
            Ok(true)
        );
        assert_eq!(t(even, Value::Float(2.5), vec![]), Ok(true));
        assert_eq!(t(even, Value::str("4"), vec![]), Ok(true));
        assert_eq!(t(odd, Value::Int(-3), vec![]), Ok(true));
        assert_eq!(
            t(divisible_by, Value::Int(9), vec![Value::Int(3)]),
            Ok(true)
        );
        assert_eq!(
            t(divisible_by, Value::Int(9), vec![Value::Int(0)]),
            Err(CallError::Php("Modulo by zero".into()))
        );
        assert_eq!(t(iterable, Value::str("a"), vec![]), Ok(false));
    }

    #[test]
    fn cerb_tests() {
        assert_eq!(t(numeric, Value::str(" 5"), vec![]), Ok(true));
        assert_eq!(t(numeric, Value::str("0x1A"), vec![]), Ok(false));
        assert_eq!(t(numeric, Value::Bool(true), vec![]), Ok(false));
        assert_eq!(
            t(
                pattern,
                Value::str("support@cerb.example"),
                vec![Value::str("support@*"), Value::str("*@example.com")]
            ),
            Ok(true)
        );
        assert_eq!(
            t(pattern, Value::str("ABC"), vec![Value::str("abc")]),
            Ok(true)
        );
        assert_eq!(t(pattern, Value::str("ABC"), vec![]), Ok(false));
        assert_eq!(
            t(pattern, j(r#"["x","a.b"]"#), vec![j(r#"["*.b"]"#)]),
            Ok(true)
        );
        assert_eq!(
            t(
                prefixed,
                Value::str("[Bugs] New"),
                vec![Value::str("[Bugs]")]
            ),
            Ok(true)
        );
        assert_eq!(t(prefixed, Value::Int(5), vec![Value::str("5")]), Ok(false));
        assert_eq!(
            t(prefixed, Value::str("abc"), vec![Value::str("")]),
            Ok(false)
        );
        assert!(t(prefixed, Value::str("abc"), vec![j(r#"["a"]"#)]).is_err());
        assert_eq!(
            t(
                suffixed,
                Value::str("cerb.ai"),
                vec![Value::str(".ai"), Value::str(".com")]
            ),
            Ok(true)
        );
        assert_eq!(
            t(
                is_record_type,
                Value::str("cerberusweb.contexts.task"),
                vec![Value::str("task"), Value::str("ticket")]
            ),
            Ok(true)
        );
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match(b"a*c", b"abbbc"));
        assert!(!wildcard_match(b"a*c", b"abbbd"));
        assert!(wildcard_match(b"*", b""));
        assert!(wildcard_match(b"a.b", b"A.B"));
        assert!(!wildcard_match(b"a?b", b"axb"));
    }
}
