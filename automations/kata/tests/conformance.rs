//! Runs the kata conformance vectors (tests/conformance/cerb/kata) that use
//! no scripting, with `NoScripting`, and compares as FORMAT.md says.

use std::path::PathBuf;

use katabox_kata::{NoScripting, eval_text};
use katabox_value::Value;
use serde_json::Value as Json;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/cerb/kata")
}

/// PHP's loose scalar equality as FORMAT.md describes it.
fn loose_scalar_eq(a: &Json, b: &Json) -> bool {
    let text = |v: &Json| match v {
        Json::Null => Some(String::new()),
        Json::Bool(true) => Some("1".to_owned()),
        Json::Bool(false) => Some(String::new()),
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) => Some(s.clone()),
        _ => None,
    };
    if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
        return x == y;
    }
    let num = |v: &Json| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
    };
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return x == y;
    }
    matches!((text(a), text(b)), (Some(x), Some(y)) if x == y)
}

/// JSON equality: key order ignored, `{}` equals `[]`, numbers by value.
fn json_eq(expected: &Json, actual: &Json, loose: bool) -> bool {
    let empty = |v: &Json| {
        matches!(v, Json::Array(a) if a.is_empty()) || matches!(v, Json::Object(o) if o.is_empty())
    };
    match (expected, actual) {
        _ if empty(expected) && empty(actual) => true,
        (Json::Object(e), Json::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, ev)| a.get(k).is_some_and(|av| json_eq(ev, av, loose)))
        }
        (Json::Array(e), Json::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| json_eq(x, y, loose))
        }
        (Json::Number(e), Json::Number(a)) => e.as_f64() == a.as_f64(),
        _ if loose => loose_scalar_eq(expected, actual),
        _ => expected == actual,
    }
}

fn uses_scripting(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// Runs one vector; `Ok(None)` when skipped, `Err(reason)` when it fails.
fn run_vector(path: &std::path::Path) -> Result<Option<()>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| e.to_string())?;
    let kata = doc.get("kata").and_then(|v| v.as_str()).unwrap_or("");
    let vars = doc.get("vars").and_then(|v| v.as_str()).unwrap_or("{}");
    if uses_scripting(kata) || uses_scripting(vars) {
        return Ok(None);
    }
    let loose = doc
        .get("loose")
        .and_then(toml::Value::as_bool)
        .unwrap_or(false);
    let vars_json: Json = serde_json::from_str(vars).map_err(|e| e.to_string())?;
    let dict = katabox_value::json::from_serde(&vars_json);
    let expect = doc
        .get("expect")
        .and_then(|v| v.as_table())
        .ok_or("no [expect]")?;
    let result = eval_text(kata, Some(&dict), &NoScripting);
    if let Some(err) = expect.get("error").and_then(|v| v.as_str()) {
        return match result {
            Err(e) if e.to_string().contains(err) => Ok(Some(())),
            Err(e) => Err(format!("error {e:?} does not contain {err:?}")),
            Ok(v) => Err(format!("expected error {err:?}, got {}", show(&v))),
        };
    }
    let tree = expect
        .get("tree")
        .and_then(|v| v.as_str())
        .ok_or("no expect.tree")?;
    let expected: Json = serde_json::from_str(tree).map_err(|e| e.to_string())?;
    match result {
        Ok(v) => {
            let actual = katabox_value::json::to_serde(&v);
            if json_eq(&expected, &actual, loose) {
                Ok(Some(()))
            } else {
                Err(format!("expected {expected}, got {actual}"))
            }
        }
        Err(e) => Err(format!("unexpected error: {e}")),
    }
}

fn show(v: &Value) -> String {
    katabox_value::json::to_serde(v).to_string()
}

#[test]
fn kata_vectors_without_scripting_pass() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    assert!(
        entries.len() >= 40,
        "kata vectors not found in {}",
        vectors_dir().display()
    );
    let (mut passed, mut skipped, mut failed) = (0, 0, Vec::new());
    for path in &entries {
        match run_vector(path) {
            Ok(Some(())) => passed += 1,
            Ok(None) => skipped += 1,
            Err(reason) => failed.push(format!("{}: {reason}", path.display())),
        }
    }
    eprintln!(
        "kata vectors: {passed} passed, {} failed, {skipped} skipped (scripted)",
        failed.len()
    );
    assert!(failed.is_empty(), "failing vectors:\n{}", failed.join("\n"));
}
