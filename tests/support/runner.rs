//! Runs one vector against the real `katabox` binary.

use super::cases::{Case, Outcome, json_field};
use super::compare::{json_matches, show};
use super::server::Server;
use serde_json::{Value as J, json};
use std::process::Command;

/// Runs cases with one binary.
pub struct Runner {
    bin: String,
}

type Check = Result<(), String>;

fn fail(msg: impl Into<String>) -> Check {
    Err(msg.into())
}

impl Runner {
    /// A runner for the binary at `bin`.
    pub fn new(bin: &str) -> Runner {
        Runner {
            bin: bin.to_string(),
        }
    }

    /// Runs one case.
    pub fn run(&self, c: &Case) -> Outcome {
        let result = match c.kind.as_str() {
            "kata" => self.kata(c),
            "template" => self.template(c),
            "automation" => self.automation(c),
            "policy" => self.policy(c),
            "webhook" => self.webhook(c),
            "package" => self.package(c),
            other => fail(format!("no layer implements the kind `{other}`")),
        };
        match result {
            Ok(()) => Outcome::Pass,
            Err(e) => Outcome::Fail(e),
        }
    }

    /// Runs `katabox ARGS` with files written to a temp dir; returns its JSON answer.
    fn cli(&self, args: &[&str], files: &[(&str, &[u8])]) -> Result<J, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).map_err(|e| e.to_string())?;
        }
        let out = Command::new(&self.bin)
            .args(args)
            .current_dir(dir.path())
            .env("KATABOX_DATA", dir.path().join("data"))
            .output()
            .map_err(|e| format!("running katabox: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`katabox {}` exited with {}: {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "`katabox {}` printed no JSON ({e}): {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    fn vars_file(c: &Case, key: &str) -> Result<Vec<u8>, String> {
        Ok(match c.json(key)? {
            Some(v) => serde_json::to_vec(&v).map_err(|e| e.to_string())?,
            None => b"{}".to_vec(),
        })
    }

    fn kata(&self, c: &Case) -> Check {
        let text = c.str("kata").ok_or("no `kata`")?;
        let vars = Self::vars_file(c, "vars")?;
        let got = self.cli(
            &["kata", "eval", "case.kata", "--vars", "vars.json"],
            &[("case.kata", text.as_bytes()), ("vars.json", &vars)],
        )?;
        let expect = c.expect();
        if let Some(tree) = json_field(&expect, "tree")? {
            match got.get("tree") {
                Some(t) if json_matches(&tree, t, c.loose()) => Ok(()),
                Some(t) => fail(format!(
                    "tree differs\n  expected {}\n  got      {}",
                    show(&tree),
                    show(t)
                )),
                None => fail(format!(
                    "expected a tree {}, got {}",
                    show(&tree),
                    show(&got)
                )),
            }
        } else {
            check_error(&expect, &got)
        }
    }

    fn template(&self, c: &Case) -> Check {
        let text = c.str("template").ok_or("no `template`")?;
        let vars = Self::vars_file(c, "vars")?;
        let got = self.cli(
            &["template", "render", "case.twig", "--vars", "vars.json"],
            &[("case.twig", text.as_bytes()), ("vars.json", &vars)],
        )?;
        let expect = c.expect();
        if let Some(want) = expect.get("output").and_then(|v| v.as_str()) {
            match got.get("output").and_then(J::as_str) {
                Some(o) if o == want => Ok(()),
                Some(o) => fail(format!(
                    "output differs\n  expected {want:?}\n  got      {o:?}"
                )),
                None => fail(format!("expected output {want:?}, got {}", show(&got))),
            }
        } else {
            check_error(&expect, &got)
        }
    }

    fn automation(&self, c: &Case) -> Check {
        let script = c.str("script").ok_or("no `script`")?;
        let inputs = Self::vars_file(c, "inputs")?;
        let mut args = vec![
            "automation",
            "run",
            "script.kata",
            "--inputs",
            "inputs.json",
        ];
        let mut files: Vec<(&str, Vec<u8>)> = vec![
            ("script.kata", script.as_bytes().to_vec()),
            ("inputs.json", inputs),
        ];
        if let Some(p) = c.str("policy") {
            args.extend(["--policy", "policy.kata"]);
            files.push(("policy.kata", p.as_bytes().to_vec()));
        }
        if let Some(t) = c.str("trigger") {
            args.extend(["--trigger", t]);
        }
        if let Some(fixtures) = http_fixtures(c)? {
            args.extend(["--http-fixtures", "http.json"]);
            files.push((
                "http.json",
                serde_json::to_vec(&fixtures).map_err(|e| e.to_string())?,
            ));
        }
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        let got = self.cli(&args, &refs)?;
        let expect = c.expect();
        let loose = c.loose();
        if let Some(exit) = expect.get("exit").and_then(|v| v.as_str()) {
            let got_exit = got.get("exit").and_then(J::as_str).unwrap_or("");
            if got_exit != exit {
                return fail(format!(
                    "exit differs: expected {exit:?}, got {got_exit:?} (error: {})",
                    show(got.get("error").unwrap_or(&J::Null))
                ));
            }
        }
        if let Some(ret) = json_field(&expect, "return")? {
            let g = got.get("return").unwrap_or(&J::Null);
            if !json_matches(&ret, g, loose) {
                return fail(format!(
                    "return differs\n  expected {}\n  got      {}",
                    show(&ret),
                    show(g)
                ));
            }
        }
        if let Some(err) = expect.get("error").and_then(|v| v.as_str()) {
            let g = got.get("error").and_then(J::as_str).unwrap_or("");
            if !g.contains(err) {
                return fail(format!(
                    "error differs\n  expected to contain {err:?}\n  got {g:?}"
                ));
            }
        }
        let dict = got.get("dict").cloned().unwrap_or(J::Null);
        if let Some(J::Object(want)) = json_field(&expect, "dict")? {
            for (k, v) in &want {
                match dict.get(k) {
                    Some(g) if json_matches(v, g, loose) => {}
                    other => {
                        return fail(format!(
                            "dict.{k} differs\n  expected {}\n  got      {}",
                            show(v),
                            show(other.unwrap_or(&J::Null))
                        ));
                    }
                }
            }
        }
        if let Some(absent) = expect.get("dict_absent").and_then(|v| v.as_array()) {
            for k in absent.iter().filter_map(|k| k.as_str()) {
                if dict.get(k).is_some() {
                    return fail(format!("dict should not hold `{k}`"));
                }
            }
        }
        Ok(())
    }

    fn policy(&self, c: &Case) -> Check {
        let policy = c.str("policy").ok_or("no `policy`")?;
        let command = c.str("command").ok_or("no `command`")?;
        let inputs = Self::vars_file(c, "inputs")?;
        let mut args = vec![
            "policy",
            "check",
            "policy.kata",
            "--command",
            command,
            "--inputs",
            "inputs.json",
        ];
        if let Some(n) = c.str("node_id") {
            args.extend(["--node-id", n]);
        }
        if let Some(o) = c.str("output") {
            args.extend(["--output", o]);
        }
        let got = self.cli(
            &args,
            &[("policy.kata", policy.as_bytes()), ("inputs.json", &inputs)],
        )?;
        let want = c
            .expect()
            .get("allowed")
            .and_then(|v| v.as_bool())
            .ok_or("no expect.allowed")?;
        match got.get("allowed").and_then(J::as_bool) {
            Some(a) if a == want => Ok(()),
            _ => fail(format!("expected allowed = {want}, got {}", show(&got))),
        }
    }

    fn import(&self, server: &Server, c: &Case) -> Result<(u16, J), String> {
        let text = c.str("package").ok_or("no `package`")?;
        let package =
            serde_json::from_str::<J>(text).unwrap_or_else(|_| J::String(text.to_string()));
        let prompts = c.json("prompts")?.unwrap_or_else(|| json!({}));
        server.api(
            "POST",
            "/api/packages",
            Some(&json!({"package": package, "prompts": prompts})),
        )
    }

    fn webhook(&self, c: &Case) -> Check {
        let server = Server::start(&self.bin, &[])?;
        if c.str("package").is_some() {
            let (status, body) = self.import(&server, c)?;
            if status != 201 {
                return fail(format!("package import answered {status}: {}", show(&body)));
            }
        }
        let listener = c.str("listener").ok_or("no `listener`")?;
        let (status, created) = server.api(
            "POST",
            "/api/webhooks",
            Some(&json!({"name": "conformance", "automations_kata": listener})),
        )?;
        if status != 201 {
            return fail(format!(
                "creating the listener answered {status}: {}",
                show(&created)
            ));
        }
        let guid = created
            .get("guid")
            .and_then(J::as_str)
            .ok_or("no guid in the answer")?;
        let req = c.request();
        let method = req.get("method").and_then(|v| v.as_str()).unwrap_or("GET");
        let path = req.get("path").and_then(|v| v.as_str()).unwrap_or("");
        let mut target = format!("/webhooks/{guid}");
        if !path.is_empty() {
            target.push('/');
            target.push_str(path);
        }
        if let Some(q) = req.get("query").and_then(|v| v.as_str()) {
            target.push('?');
            target.push_str(q);
        }
        let mut headers: Vec<(String, String)> = match json_field(&req, "headers")? {
            Some(J::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        if let Some(ip) = req.get("client_ip").and_then(|v| v.as_str()) {
            headers.push(("X-Forwarded-For".into(), ip.to_string()));
        }
        let body = req.get("body").and_then(|v| v.as_str()).unwrap_or("");
        let resp = server.request(method, &target, &headers, body.as_bytes())?;

        let expect = c.expect();
        if let Some(status) = expect.get("status").and_then(|v| v.as_integer())
            && i64::from(resp.status) != status
        {
            return fail(format!(
                "status differs: expected {status}, got {} (body {:?})",
                resp.status,
                String::from_utf8_lossy(&resp.body)
            ));
        }
        if let Some(J::Object(want)) = json_field(&expect, "headers")? {
            for (k, v) in &want {
                let v = v.as_str().unwrap_or_default();
                match resp.header(k) {
                    Some(g) if g == v => {}
                    g => return fail(format!("header {k} differs: expected {v:?}, got {g:?}")),
                }
            }
        }
        let text = String::from_utf8_lossy(&resp.body);
        if let Some(want) = json_field(&expect, "body_json")? {
            let got: J = serde_json::from_slice(&resp.body)
                .map_err(|e| format!("body is not JSON ({e}): {text:?}"))?;
            if !json_matches(&want, &got, c.loose()) {
                return fail(format!(
                    "body differs\n  expected {}\n  got      {}",
                    show(&want),
                    show(&got)
                ));
            }
        }
        if let Some(want) = expect.get("body").and_then(|v| v.as_str())
            && resp.body != want.as_bytes()
        {
            return fail(format!(
                "body differs\n  expected {want:?}\n  got      {text:?}"
            ));
        }
        if let Some(want) = expect.get("body_contains").and_then(|v| v.as_str())
            && !text.contains(want)
        {
            return fail(format!("body should contain {want:?}, got {text:?}"));
        }
        Ok(())
    }

    fn package(&self, c: &Case) -> Check {
        let server = Server::start(&self.bin, &[])?;
        let (status, answer) = self.import(&server, c)?;
        let expect = c.expect();
        if let Some(err) = expect.get("error").and_then(|v| v.as_str()) {
            let got = answer.get("error").and_then(J::as_str).unwrap_or("");
            if !(400..500).contains(&status) || !got.contains(err) {
                return fail(format!(
                    "expected a 4xx error containing {err:?}, got {status} {}",
                    show(&answer)
                ));
            }
            return Ok(());
        }
        if status != 201 {
            return fail(format!("import answered {status}: {}", show(&answer)));
        }
        let mut records = answer
            .get("records")
            .and_then(J::as_array)
            .cloned()
            .unwrap_or_default();
        for r in &mut records {
            enrich(&server, r)?;
        }
        let loose = c.loose();
        if let Some(J::Array(want)) = json_field(&expect, "records")? {
            for w in &want {
                if !records.iter().any(|r| record_matches(w, r, loose)) {
                    return fail(format!(
                        "no created record matches {}\n  created: {}",
                        show(w),
                        show(&J::Array(records.clone()))
                    ));
                }
            }
        }
        if let Some(J::Array(absent)) = json_field(&expect, "absent_records")? {
            for w in &absent {
                if records.iter().any(|r| record_matches(w, r, loose)) {
                    return fail(format!(
                        "a created record matches {}, which should be absent",
                        show(w)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Adds the stored fields of a created record (automation script, listener KATA...).
fn enrich(server: &Server, r: &mut J) -> Check {
    let ctx = r
        .get("_context")
        .and_then(J::as_str)
        .unwrap_or("")
        .to_string();
    let path = match ctx.as_str() {
        "automation" => r
            .get("name")
            .and_then(J::as_str)
            .map(|n| format!("/api/automations/{n}")),
        "webhook_listener" => r.get("id").map(|id| {
            format!(
                "/api/webhooks/{}",
                id.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| id.to_string())
            )
        }),
        _ => None,
    };
    if let Some(path) = path {
        let (status, full) = server.api("GET", &path, None)?;
        if status == 200
            && let (Some(obj), J::Object(extra)) = (r.as_object_mut(), full)
        {
            for (k, v) in extra {
                obj.entry(k).or_insert(v);
            }
        }
    }
    Ok(())
}

fn record_matches(want: &J, got: &J, loose: bool) -> bool {
    match want.as_object() {
        Some(fields) => fields
            .iter()
            .all(|(k, v)| got.get(k).is_some_and(|g| json_matches(v, g, loose))),
        None => false,
    }
}

fn check_error(expect: &toml::Table, got: &J) -> Check {
    match expect.get("error").and_then(|v| v.as_str()) {
        Some(want) => match got.get("error").and_then(J::as_str) {
            Some(e) if e.contains(want) => Ok(()),
            Some(e) => fail(format!(
                "error differs\n  expected to contain {want:?}\n  got {e:?}"
            )),
            None => fail(format!(
                "expected an error containing {want:?}, got {}",
                show(got)
            )),
        },
        None => fail("the vector expects nothing (no tree/output/error)"),
    }
}

fn http_fixtures(c: &Case) -> Result<Option<J>, String> {
    let Some(list) = c.table.get("http").and_then(|v| v.as_array()) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in list {
        let t = item.as_table().ok_or("[[http]] entries must be tables")?;
        let headers = json_field(t, "headers")?.unwrap_or_else(|| json!({}));
        out.push(json!({
            "method": t.get("method").and_then(|v| v.as_str()).unwrap_or("GET"),
            "url": t.get("url").and_then(|v| v.as_str()).unwrap_or(""),
            "status": t.get("status").and_then(|v| v.as_integer()).unwrap_or(200),
            "headers": headers,
            "body": t.get("body").and_then(|v| v.as_str()).unwrap_or(""),
        }));
    }
    Ok(Some(J::Array(out)))
}
