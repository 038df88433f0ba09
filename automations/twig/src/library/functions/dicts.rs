//! Cerb's dictionary functions: dict_set, dict_unset, jsonpath_set,
//! placeholders_list.

use crate::callable::{Args, CallError, Env};
use crate::library::plain_object::PlainObject;
use crate::library::util::{self, opt, to_str};
use katabox_value::{Array, Key, Value};

/// How a start value is treated.
enum Start {
    Array(Array),
    Object(Array),
    Keep(Value),
}

fn start(var: &Value) -> Start {
    match var {
        Value::Array(a) => Start::Array((**a).clone()),
        other => match PlainObject::from_value(other) {
            Some(p) => Start::Object(p.0.clone()),
            None if !other.truthy() => Start::Object(Array::new()),
            None => Start::Keep(other.clone()),
        },
    }
}

fn finish(s: Start) -> Value {
    match s {
        Start::Array(a) => Value::array(a),
        Start::Object(a) => PlainObject(a).into_value(),
        Start::Keep(v) => v,
    }
}

/// A path segment: a key, or `[]` (append).
#[derive(Clone)]
enum Seg {
    Key(Key),
    Append,
}

fn segs(path: &[u8], delim: &[u8]) -> Vec<Seg> {
    let parts: Vec<&[u8]> = if delim.is_empty() {
        vec![path]
    } else {
        let mut out = Vec::new();
        let mut rest = path;
        while let Some(p) = memchr::memmem::find(rest, delim) {
            out.push(&rest[..p]);
            rest = &rest[p + delim.len()..];
        }
        out.push(rest);
        out
    };
    parts
        .into_iter()
        .map(|p| {
            if p == b"[]" {
                Seg::Append
            } else {
                let text = String::from_utf8_lossy(p).replace("{DOT}", ".");
                Seg::Key(Key::from(text.as_str()))
            }
        })
        .collect()
}

fn set_in(a: &mut Array, path: &[Seg], val: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let key = match first {
        Seg::Key(k) => k.clone(),
        Seg::Append => Key::Int(a.next_index()),
    };
    if rest.is_empty() {
        a.insert(key, val);
        return;
    }
    let mut child = match a.get(&key) {
        Some(Value::Array(c)) => (**c).clone(),
        _ => Array::new(),
    };
    set_in(&mut child, rest, val);
    a.insert(key, Value::array(child));
}

fn unset_in(a: &mut Array, path: &[Seg]) {
    let Some((Seg::Key(k), rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        a.remove(k);
        return;
    }
    if let Some(Value::Array(c)) = a.get(k) {
        let mut child = (**c).clone();
        unset_in(&mut child, rest);
        a.insert(k.clone(), Value::array(child));
    }
}

fn depth_ok(env: &dyn Env, n: usize) -> Result<(), CallError> {
    if n > env.limits().max_depth {
        return Err(CallError::Limit(
            "dict_set: path depth limit exceeded".into(),
        ));
    }
    Ok(())
}

/// `dict_set(var, path, val, delimiter=null)`.
pub fn dict_set(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let var = args.get(0).cloned().unwrap_or(Value::Null);
    let path = to_str(args.required(1)?)?;
    let val = args.get(2).cloned().unwrap_or(Value::Null);
    let delim = match opt(args, 3) {
        Some(d) => to_str(d)?,
        None => ".".into(),
    };
    let path = segs(path.as_bytes(), delim.as_bytes());
    depth_ok(env, path.len())?;
    env.charge(path.len() as u64 + 1)?;
    let mut s = start(&var);
    match &mut s {
        Start::Array(a) | Start::Object(a) => set_in(a, &path, val),
        Start::Keep(_) => {}
    }
    Ok(finish(s))
}

/// `dict_unset(var, path)`.
pub fn dict_unset(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let var = args.get(0).cloned().unwrap_or(Value::Null);
    let paths: Vec<Value> = match args.required(1)? {
        Value::Array(a) => a.values().cloned().collect(),
        other => vec![other.clone()],
    };
    let mut s = start(&var);
    for p in paths {
        let p = segs(to_str(&p)?.as_bytes(), b".");
        depth_ok(env, p.len())?;
        env.charge(p.len() as u64 + 1)?;
        if let Start::Array(a) | Start::Object(a) = &mut s {
            unset_in(a, &p);
        }
    }
    Ok(finish(s))
}

/// `jsonpath_set(var, path, val)`.
pub fn jsonpath_set(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let var = args.get(0).cloned().unwrap_or(Value::Null);
    let path = to_str(args.required(1)?)?;
    let val = args.get(2).cloned().unwrap_or(Value::Null);
    let mut path_segs = Vec::new();
    for part in path.as_bytes().split(|c| *c == b'.') {
        match part.strip_suffix(b"[]") {
            Some(_) => {
                // PHP `rtrim($part, '[]')`.
                let end = part
                    .iter()
                    .rposition(|c| *c != b'[' && *c != b']')
                    .map_or(0, |p| p + 1);
                path_segs.push(Seg::Key(Key::from_bytes(&part[..end])));
                path_segs.push(Seg::Append);
            }
            None => path_segs.push(Seg::Key(Key::from_bytes(part))),
        }
    }
    depth_ok(env, path_segs.len())?;
    env.charge(path_segs.len() as u64 + 1)?;
    let mut a = match &var {
        Value::Array(a) => (**a).clone(),
        other if !other.truthy() => Array::new(),
        other => return Ok(other.clone()),
    };
    set_in(&mut a, &path_segs, val);
    Ok(Value::array(a))
}

/// Metadata keys removed by `placeholders_list`.
const META_KEYS: &[&str] = &[
    "_labels",
    "_types",
    "__trigger",
    "__exit",
    "__simulator_output",
];

/// `placeholders_list(extract=null, prefix=null)`.
pub fn placeholders_list(env: &mut dyn Env, args: &Args) -> Result<Value, CallError> {
    let Some(dict) = env.dict().as_array().cloned() else {
        return Ok(Value::empty_array());
    };
    let extract = opt(args, 0).map(to_str).transpose()?;
    let prefix = opt(args, 1).map(to_str).transpose()?.unwrap_or_default();
    let mut out = Array::new();
    for (k, v) in dict.iter() {
        let name = k.to_string_lossy();
        if META_KEYS.contains(&name.as_str()) {
            continue;
        }
        match &extract {
            None => out.insert(k.clone(), v.clone()),
            Some(ex) => {
                let ex = ex.to_string_lossy();
                if name.len() >= ex.len()
                    && name.is_char_boundary(ex.len())
                    && name[..ex.len()].eq_ignore_ascii_case(&ex)
                {
                    let new = format!("{}{}", prefix.to_string_lossy(), &name[ex.len()..]);
                    out.insert(Key::from(new.as_str()), v.clone());
                }
            }
        }
    }
    let _ = util::unmark;
    Ok(Value::array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::test_env::{TestEnv, a, j, je};

    fn js(f: crate::callable::FunctionFn, args: Vec<Value>) -> String {
        match f(&mut TestEnv::default(), &a(args)) {
            Ok(r) => {
                crate::library::json_enc::encode(&r, 64, 512, 1 << 20).unwrap_or_else(|_| je(&r))
            }
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn set_paths() {
        assert_eq!(
            js(dict_set, vec![j("{}"), Value::str("a.b"), Value::Int(1)]),
            r#"{"a":{"b":1}}"#
        );
        assert_eq!(
            js(
                dict_set,
                vec![j("[1,2,[3,4,[5,6]]]"), Value::str("2.2.[]"), Value::Int(7)]
            ),
            "[1,2,[3,4,[5,6,7]]]"
        );
        assert_eq!(
            js(
                dict_set,
                vec![j("{}"), Value::str("a{DOT}b"), Value::Int(1)]
            ),
            r#"{"a.b":1}"#
        );
        assert_eq!(
            js(dict_set, vec![Value::Null, Value::str("a"), Value::Int(1)]),
            r#"{"a":1}"#
        );
        assert_eq!(
            js(
                dict_set,
                vec![Value::str("x"), Value::str("a"), Value::Int(1)]
            ),
            r#""x""#
        );
        assert_eq!(
            js(
                dict_set,
                vec![j("{}"), Value::str("a/b"), Value::Int(1), Value::str("/")]
            ),
            r#"{"a":{"b":1}}"#
        );
    }

    #[test]
    fn unset_and_jsonpath() {
        assert_eq!(
            js(dict_unset, vec![j(r#"{"a":1,"b":2}"#), Value::str("a")]),
            r#"{"b":2}"#
        );
        assert_eq!(
            js(
                dict_unset,
                vec![
                    j(r#"{"p":{"n":{"f":"J","l":"T"},"age":2}}"#),
                    j(r#"["p.n.l","p.age"]"#)
                ]
            ),
            r#"{"p":{"n":{"f":"J"}}}"#
        );
        assert_eq!(
            js(
                jsonpath_set,
                vec![
                    Value::Null,
                    Value::str("team.groups[]"),
                    Value::str("Support")
                ]
            ),
            r#"{"team":{"groups":["Support"]}}"#
        );
    }

    #[test]
    fn placeholders() {
        let mut env = TestEnv {
            dict: j(r#"{"a_x":1,"a_y":2,"b":3,"_labels":{}}"#),
            ..TestEnv::default()
        };
        let r = placeholders_list(&mut env, &a(vec![Value::str("A_"), Value::str("p_")]));
        assert_eq!(r.map(|v| je(&v)), Ok(r#"{"p_x":1,"p_y":2}"#.to_string()));
        let r = placeholders_list(&mut env, &a(vec![]));
        assert_eq!(
            r.map(|v| je(&v)),
            Ok(r#"{"a_x":1,"a_y":2,"b":3}"#.to_string())
        );
    }
}
