//! Runs every template conformance vector (tests/conformance/cerb/template)
//! against the engine: `output` must match exactly, `error` must be a
//! substring of the error message.
//!
//! Vectors listed in `tests/known_failures.txt` (one file name per line) are
//! expected to fail for now; any other failure fails this test, and a listed
//! vector that passes is reported so the list can shrink.

use katabox_twig::{Config, Engine};
use katabox_value::Value;
use std::path::{Path, PathBuf};

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/cerb/template")
}

fn known_failures() -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/known_failures.txt");
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// Runs one vector; `Err` describes the mismatch.
fn run_vector(engine: &Engine, path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let doc: toml::Value = toml::from_str(&text).map_err(|e| format!("bad TOML: {e}"))?;
    let template = doc
        .get("template")
        .and_then(toml::Value::as_str)
        .ok_or("no template")?;
    let vars = doc
        .get("vars")
        .and_then(toml::Value::as_str)
        .unwrap_or("{}");
    let json: serde_json::Value =
        serde_json::from_str(vars).map_err(|e| format!("bad vars: {e}"))?;
    let dict: Value = katabox_value::json::from_serde(&json);
    let expect = doc.get("expect").ok_or("no expect")?;
    let result = engine.render(template, &dict);
    if let Some(out) = expect.get("output").and_then(toml::Value::as_str) {
        match result {
            Ok(got) if got.as_bytes() == out.as_bytes() => Ok(()),
            Ok(got) => Err(format!(
                "output {:?}, expected {out:?}",
                got.to_string_lossy()
            )),
            Err(e) => Err(format!(
                "error {:?}, expected output {out:?}",
                e.to_string()
            )),
        }
    } else if let Some(err) = expect.get("error").and_then(toml::Value::as_str) {
        match result {
            Err(e) if e.to_string().contains(err) => Ok(()),
            Err(e) => Err(format!(
                "error {:?}, expected error containing {err:?}",
                e.to_string()
            )),
            Ok(got) => Err(format!(
                "output {:?}, expected error {err:?}",
                got.to_string_lossy()
            )),
        }
    } else {
        Err("expect has neither output nor error".into())
    }
}

#[test]
fn template_vectors() {
    let engine = Engine::new(Config::default());
    let known = known_failures();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(vector_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    paths.sort();
    assert!(!paths.is_empty(), "no template vectors found");
    let (mut pass, mut fail) = (0, 0);
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    for p in &paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let listed = known.contains(&name);
        match run_vector(&engine, p) {
            Ok(()) => {
                pass += 1;
                if listed {
                    fixed.push(name);
                }
            }
            Err(why) => {
                fail += 1;
                println!("FAIL {name}: {why}");
                if !listed {
                    unexpected.push(name);
                }
            }
        }
    }
    println!(
        "template vectors: {pass} passed, {fail} failed (of {})",
        paths.len()
    );
    for f in &fixed {
        println!("now passing (remove from known_failures.txt): {f}");
    }
    assert!(unexpected.is_empty(), "unexpected failures: {unexpected:?}");
}
