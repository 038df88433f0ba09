//! Runs every automation conformance vector through the interpreter with
//! the test double host (FORMAT.md, kind = "automation").

mod support;

use katabox_runtime::RunRequest;
use std::path::PathBuf;
use support::{Fixture, TestHost, json, matches};

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/cerb/automation")
}

fn str_field<'a>(t: &'a toml::Table, k: &str) -> Option<&'a str> {
    t.get(k).and_then(toml::Value::as_str)
}

/// Runs one vector; `Err` explains the mismatch.
fn run_vector(case: &toml::Table) -> Result<(), String> {
    let engine = katabox_twig::Engine::new(katabox_twig::Config::default());
    let script = str_field(case, "script").unwrap_or_default();
    let inputs = json(str_field(case, "inputs").unwrap_or("{}"));
    let mut host = TestHost::new(&engine, str_field(case, "policy").map(str::to_string));
    if let Some(list) = case.get("http").and_then(toml::Value::as_array) {
        for f in list.iter().filter_map(toml::Value::as_table) {
            let headers: Vec<(String, String)> =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
                    str_field(f, "headers").unwrap_or("{}"),
                )
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect();
            host.fixtures.push(Fixture {
                method: str_field(f, "method").unwrap_or("GET").to_string(),
                url: str_field(f, "url").unwrap_or_default().to_string(),
                status: f
                    .get("status")
                    .and_then(toml::Value::as_integer)
                    .unwrap_or(200),
                headers,
                body: str_field(f, "body").unwrap_or_default().to_string(),
            });
        }
    }
    let outcome = katabox_runtime::run(
        RunRequest {
            trigger: str_field(case, "trigger")
                .unwrap_or("cerb.trigger.automation.function")
                .to_string(),
            automation: "test".into(),
            script: script.to_string(),
            dict: inputs,
        },
        &mut host,
        &engine,
    );
    let expect = case
        .get("expect")
        .and_then(toml::Value::as_table)
        .ok_or("no [expect]")?;
    let loose = case
        .get("loose")
        .and_then(toml::Value::as_bool)
        .unwrap_or(false);
    let exit = outcome.exit().to_string();
    let error_text = outcome
        .failure
        .clone()
        .or_else(|| {
            outcome
                .dict
                .get("__error")
                .map(|e| e.get("message").unwrap_or(e).to_string_lossy())
        })
        .unwrap_or_default();
    if let Some(want) = str_field(expect, "exit")
        && want != exit
    {
        return Err(format!("exit {exit} (error: {error_text}), want {want}"));
    }
    if let Some(want) = str_field(expect, "error")
        && !error_text.contains(want)
    {
        return Err(format!("error {error_text:?}, want {want:?}"));
    }
    let dump = |v: Option<&katabox_value::Value>| {
        v.map(|v| {
            katabox_value::json::encode(v, &katabox_value::json::JsonOptions::plain())
                .unwrap_or_default()
        })
        .unwrap_or_else(|| "(absent)".into())
    };
    if let Some(want) = str_field(expect, "return") {
        let want: serde_json::Value = serde_json::from_str(want).map_err(|e| e.to_string())?;
        let got = outcome.dict.get("__return");
        if !got.is_some_and(|g| matches(g, &want, loose)) {
            return Err(format!("return {}, want {want}", dump(got)));
        }
    }
    if let Some(want) = str_field(expect, "dict") {
        let want: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(want).map_err(|e| e.to_string())?;
        for (k, v) in &want {
            let got = outcome.dict.get(k);
            if !got.is_some_and(|g| matches(g, v, loose)) {
                return Err(format!("dict.{k} = {}, want {v}", dump(got)));
            }
        }
    }
    if let Some(absent) = expect.get("dict_absent").and_then(toml::Value::as_array) {
        for k in absent.iter().filter_map(toml::Value::as_str) {
            if outcome.dict.get(k).is_some() {
                return Err(format!("dict.{k} should be absent"));
            }
        }
    }
    Ok(())
}

#[test]
fn automation_vectors() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(vector_dir())
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    entries.sort();
    assert!(!entries.is_empty(), "no vectors found");
    let mut failures = Vec::new();
    for path in &entries {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let result = text
            .parse::<toml::Table>()
            .map_err(|e| e.to_string())
            .and_then(|case| run_vector(&case));
        if let Err(e) = result {
            failures.push(format!(
                "{}: {e}",
                path.file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default()
            ));
        }
    }
    let passed = entries.len() - failures.len();
    println!("automation vectors: {passed}/{} passed", entries.len());
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed",
        failures.len(),
        entries.len()
    );
}
