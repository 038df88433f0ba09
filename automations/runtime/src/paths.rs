//! Key paths into the working dictionary (`a:b:c`), with Cerb's quirks.

use katabox_value::{Array, Key, Value};
use std::sync::Arc;

/// Paths deeper than this are refused (writes fail, reads give null), so a
/// hostile key cannot build a dictionary too deep to encode.
pub const MAX_SEGMENTS: usize = 128;

/// Splits `path` on `sep` (an empty separator means no splitting).
pub fn split<'a>(path: &'a str, sep: &str) -> Vec<&'a str> {
    if sep.is_empty() {
        vec![path]
    } else {
        path.split(sep).collect()
    }
}

/// Reads a path; meeting a non-map before the end returns that value.
pub fn get<'a>(root: &'a Value, segments: &[&str]) -> Option<&'a Value> {
    if segments.len() > MAX_SEGMENTS {
        return None;
    }
    root.get_path(segments.iter().copied())
}

/// Writes `value` at a path, creating maps for missing or null
/// intermediates. Returns false (and writes nothing) when an intermediate
/// value is not a map.
pub fn set(root: &mut Array, segments: &[&str], value: Value) -> bool {
    if segments.len() > MAX_SEGMENTS {
        return false;
    }
    set_in(root, segments, value)
}

fn set_in(arr: &mut Array, segments: &[&str], value: Value) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return false;
    };
    let key = Key::from(*first);
    if rest.is_empty() {
        arr.insert(key, value);
        return true;
    }
    match arr.get_mut(&key) {
        Some(Value::Array(a)) => set_in(Arc::make_mut(a), rest, value),
        Some(Value::Null) | None => {
            let mut child = Array::new();
            let done = set_in(&mut child, rest, value);
            if done {
                arr.insert(key, Value::array(child));
            }
            done
        }
        Some(_) => false,
    }
}

/// Removes the key at a path; true when it existed.
pub fn unset(root: &mut Array, segments: &[&str]) -> bool {
    if segments.len() > MAX_SEGMENTS {
        return false;
    }
    let Some((first, rest)) = segments.split_first() else {
        return false;
    };
    let key = Key::from(*first);
    if rest.is_empty() {
        return root.remove(&key).is_some();
    }
    match root.get_mut(&key) {
        Some(Value::Array(a)) => unset(Arc::make_mut(a), rest),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_creates_intermediate_maps_and_refuses_scalars() {
        let mut root = Array::new();
        assert!(set(&mut root, &["a", "b"], Value::Int(1)));
        assert_eq!(
            get(&Value::array(root.clone()), &["a", "b"]),
            Some(&Value::Int(1))
        );
        root.insert("s", Value::str("x"));
        assert!(!set(&mut root, &["s", "b"], Value::Int(1)));
        assert_eq!(root.get_str("s"), Some(&Value::str("x")));
    }

    #[test]
    fn unset_reports_existence() {
        let mut root = Array::new();
        set(&mut root, &["a", "b"], Value::Int(1));
        assert!(unset(&mut root, &["a", "b"]));
        assert!(!unset(&mut root, &["a", "b"]));
        assert!(!unset(&mut root, &["nope", "x"]));
    }

    #[test]
    fn deep_paths_are_refused() {
        let mut root = Array::new();
        let deep = vec!["a"; MAX_SEGMENTS + 1];
        assert!(!set(&mut root, &deep, Value::Int(1)));
        assert!(root.is_empty());
    }
}
