//! Every automation conformance vector through the real sandbox and the
//! embedded KATA runtime (policy in the host, `[[http]]` as fixtures).

use crate::compare::{json_matches, show};
use katabox::capabilities::MemoryStore;
use katabox::capabilities::http::fixtures::Fixture;
use katabox::sandbox::{
    AutomationRecord, HttpConfig, NoAutomations, RUNTIME_IS_FALLBACK, RunOptions, Sandbox,
    SandboxConfig,
};
use katabox_value::json::to_serde;
use serde_json::Value as J;
use std::path::PathBuf;
use std::sync::Arc;

fn check(v: &toml::Value, sb: &Sandbox, rt: &tokio::runtime::Runtime) -> Result<(), String> {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let expect = v.get("expect").ok_or("no expect")?;
    let e = |k: &str| expect.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let loose = v.get("loose").and_then(|x| x.as_bool()).unwrap_or(false);
    let record = AutomationRecord {
        name: "vector".into(),
        extension_id: s("trigger").unwrap_or_else(|| "cerb.trigger.automation.function".into()),
        script: s("script").unwrap_or_default(),
        policy_kata: s("policy").unwrap_or_default(),
        component: None,
    };
    let inputs = katabox_value::json::decode(s("inputs").unwrap_or_else(|| "{}".into()).as_bytes())
        .ok_or("inputs are not JSON")?;
    let r = rt.block_on(sb.run(&record, inputs, RunOptions::default()));
    if let Some(exit) = e("exit")
        && exit != r.exit
    {
        return Err(format!(
            "exit {} != {exit} ({:?})",
            r.exit,
            r.error_message()
        ));
    }
    if let Some(ret) = e("return") {
        let want: J = serde_json::from_str(&ret).map_err(|x| x.to_string())?;
        let got = r.returned().map(to_serde).unwrap_or(J::Null);
        if !json_matches(&want, &got, loose) {
            return Err(format!("return {} != {}", show(&got), show(&want)));
        }
    }
    if let Some(err) = e("error") {
        let got = r.error_message().unwrap_or_default();
        if !got.contains(&err) {
            return Err(format!("error {got:?} lacks {err:?}"));
        }
    }
    if let Some(dict) = e("dict") {
        let want: J = serde_json::from_str(&dict).map_err(|x| x.to_string())?;
        let got = to_serde(&r.dict);
        for (k, w) in want.as_object().into_iter().flatten() {
            let g = got.get(k).cloned().unwrap_or(J::Null);
            if !json_matches(w, &g, loose) {
                return Err(format!("dict.{k} {} != {}", show(&g), show(w)));
            }
        }
    }
    for k in expect
        .get("dict_absent")
        .and_then(|x| x.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(k) = k.as_str()
            && r.dict.get(k).is_some()
        {
            return Err(format!("dict has {k}"));
        }
    }
    Ok(())
}

fn fixtures(v: &toml::Value) -> Vec<Fixture> {
    v.get("http")
        .and_then(|h| h.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|f| serde_json::to_value(f).ok())
                .filter_map(|j| serde_json::from_value(j).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn automation_vectors_through_the_sandbox() {
    if RUNTIME_IS_FALLBACK {
        eprintln!("skipped: the KATA runtime is not embedded in this build");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/cerb/automation");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("vector dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("toml"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).expect("read");
        let v: toml::Value = toml::from_str(&text).expect("toml");
        let http = HttpConfig {
            fixtures: Some(fixtures(&v)),
            ..HttpConfig::default()
        };
        let sb = rt
            .block_on(async {
                Sandbox::new(
                    SandboxConfig::default(),
                    Arc::new(MemoryStore::new()),
                    Arc::new(NoAutomations),
                    http,
                )
            })
            .expect("sandbox");
        if let Err(why) = check(&v, &sb, &rt) {
            failures.push(format!(
                "{}: {why}",
                path.file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default()
            ));
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    println!(
        "automation vectors via sandbox: {} passed, {} failed",
        paths.len() - failures.len(),
        failures.len()
    );
    assert!(!paths.is_empty());
    assert!(
        failures.is_empty(),
        "{} automation vectors failed",
        failures.len()
    );
}
