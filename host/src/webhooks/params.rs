//! PHP's `parse_str` (query strings and urlencoded bodies) and Cerb's
//! normalisation of the top-level parameter names (webhooks.md §3.3).

use katabox_value::{Array, Key, Value};

/// PHP's `max_input_vars`: later variables are ignored.
pub const MAX_INPUT_VARS: usize = 1000;
/// PHP's `max_input_nesting_level`: deeper names are ignored.
pub const MAX_NESTING: usize = 64;

/// URL-decodes like PHP's `urldecode`: `+` is a space, `%XX` a byte, and a
/// malformed `%` sequence stays as written.
pub fn url_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Parses `a=1&b[]=2…` into `target` with PHP's rules (names and values
/// URL-decoded; spaces and dots in the base name become `_`; `[]` appends;
/// `[k]` nests; an unmatched `[` becomes `_`; the last plain value wins).
/// `count` is shared across calls to enforce [`MAX_INPUT_VARS`].
pub fn parse_str_into(input: &[u8], target: &mut Array, count: &mut usize) {
    for pair in input.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        if *count >= MAX_INPUT_VARS {
            return;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(p) => (&pair[..p], &pair[p + 1..]),
            None => (pair, &b""[..]),
        };
        let name = url_decode(name);
        let value = url_decode(value);
        if register(target, &name, Value::bytes(value)) {
            *count += 1;
        }
    }
}

/// PHP's `php_register_variable_ex`, simplified to the rules above.
/// Returns whether a variable was registered.
pub fn register(target: &mut Array, raw_name: &[u8], value: Value) -> bool {
    // Leading spaces are skipped; a NUL ends the name.
    let mut name: &[u8] = raw_name;
    while let Some((&b' ', rest)) = name.split_first() {
        name = rest;
    }
    if let Some(p) = name.iter().position(|&b| b == 0) {
        name = &name[..p];
    }
    // The base name runs up to the first '['; spaces and dots become '_'.
    let mut base = Vec::with_capacity(name.len());
    let mut indices: Vec<Option<Vec<u8>>> = Vec::new();
    let mut i = 0;
    while i < name.len() {
        let c = name[i];
        if c == b'[' {
            break;
        }
        base.push(if c == b' ' || c == b'.' { b'_' } else { c });
        i += 1;
    }
    if i < name.len() {
        // Parse the [index] chain.
        let rest = &name[i..];
        match rest.iter().position(|&b| b == b']') {
            None => {
                // Unmatched '[': it becomes '_' and the rest is kept verbatim.
                base.push(b'_');
                base.extend_from_slice(&rest[1..]);
            }
            Some(_) => {
                let mut j = 0;
                while j < rest.len() && rest[j] == b'[' {
                    let Some(close) = rest[j + 1..].iter().position(|&b| b == b']') else {
                        break;
                    };
                    let idx = &rest[j + 1..j + 1 + close];
                    indices.push(if idx.is_empty() {
                        None
                    } else {
                        Some(idx.to_vec())
                    });
                    j += close + 2;
                    if indices.len() > MAX_NESTING {
                        return false;
                    }
                }
            }
        }
    }
    if base.is_empty() {
        return false;
    }
    let key = Key::from_bytes(&base);
    if indices.is_empty() {
        target.insert(key, value);
        return true;
    }
    with_child(target, key, |slot| assign_nested(slot, &indices, value));
    true
}

/// Runs `f` on the array stored under `key` (replacing a non-array value).
fn with_child(target: &mut Array, key: Key, f: impl FnOnce(&mut Array)) {
    if let Some(Value::Array(a)) = target.get_mut(&key) {
        f(std::sync::Arc::make_mut(a));
    } else {
        let mut a = Array::new();
        f(&mut a);
        target.insert(key, Value::array(a));
    }
}

fn assign_nested(arr: &mut Array, indices: &[Option<Vec<u8>>], value: Value) {
    let Some((first, rest)) = indices.split_first() else {
        return;
    };
    let key = match first {
        None => Key::Int(arr.next_index()),
        Some(k) => Key::from_bytes(k),
    };
    if rest.is_empty() {
        arr.insert(key, value);
        return;
    }
    with_child(arr, key, |child| assign_nested(child, rest, value));
}

/// Cerb's top-level key normalisation: `-` → `_`, drop every character
/// outside `[A-Za-z0-9_]`, lower-case.
pub fn normalise_param_key(key: &Key) -> Key {
    match key {
        Key::Int(i) => Key::Int(*i),
        Key::Str(s) => {
            let out: Vec<u8> = s
                .as_bytes()
                .iter()
                .map(|&b| if b == b'-' { b'_' } else { b })
                .filter(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .map(|b| b.to_ascii_lowercase())
                .collect();
            Key::from_bytes(&out)
        }
    }
}

/// Merges PHP-parsed parameter sets in order (query first, then form),
/// normalising top-level keys; a later key replaces an earlier one.
pub fn merge_normalised<'a>(sets: impl IntoIterator<Item = &'a Array>) -> Array {
    let mut out = Array::new();
    for set in sets {
        for (k, v) in set.iter() {
            out.insert(normalise_param_key(k), v.clone());
        }
    }
    out
}
