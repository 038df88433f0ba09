//! Comparing JSON the way FORMAT.md says: object key order does not matter,
//! an empty object equals an empty list, and in `loose` mode scalars compare
//! as PHP's `==` would.

use serde_json::Value as J;

/// Whether `actual` matches `expected`.
pub fn json_matches(expected: &J, actual: &J, loose: bool) -> bool {
    match (expected, actual) {
        (J::Object(a), J::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| json_matches(v, w, loose)))
        }
        (J::Array(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| json_matches(v, w, loose))
        }
        (J::Object(o), J::Array(l)) | (J::Array(l), J::Object(o)) => o.is_empty() && l.is_empty(),
        (J::Number(a), J::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) if a == b => true,
        (a, b) if loose => loose_scalar_eq(a, b),
        _ => false,
    }
}

fn as_text(v: &J) -> Option<String> {
    match v {
        J::Null => Some(String::new()),
        J::Bool(true) => Some("1".into()),
        J::Bool(false) => Some(String::new()),
        J::Number(n) => Some(n.to_string()),
        J::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn loose_scalar_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(n), J::String(s)) | (J::String(s), J::Number(n)) => {
            s.trim().parse::<f64>().ok() == n.as_f64()
        }
        _ => match (as_text(a), as_text(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// A short rendering of a JSON value for failure messages.
pub fn show(v: &J) -> String {
    let s = v.to_string();
    if s.len() > 600 {
        format!("{}…", &s[..s.floor_char_boundary(600)])
    } else {
        s
    }
}
