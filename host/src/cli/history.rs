//! `katabox runs [show|replay]`, `katabox automation list|update`: tables
//! for people, the API's JSON with `--json`.

use super::server::{Target, call, open_store};
use crate::store::{AutomationChange, RunCursor, RunFilter, RunRecord, Store, now_unix_ms};
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::{Value as Json, json};
use std::path::PathBuf;

/// `katabox runs`: the history, newest first.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RunsArgs {
    #[command(subcommand)]
    command: Option<RunsCommand>,
    #[command(flatten)]
    filters: FilterArgs,
    /// How many runs (newest first).
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Start after this cursor (the `next_cursor` of an earlier page).
    #[arg(long)]
    cursor: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

/// The filters of `GET /api/runs`.
#[derive(Debug, Args, Default, Clone)]
pub struct FilterArgs {
    /// Runs of this automation.
    #[arg(long)]
    automation: Option<String>,
    /// Runs of this listener id.
    #[arg(long)]
    listener: Option<u64>,
    /// Runs that ended so: return, await, exit, error.
    #[arg(long)]
    exit: Option<String>,
    /// Runs that answered this HTTP status.
    #[arg(long)]
    status: Option<u16>,
    /// Runs started so: webhook, replay, timer.
    #[arg(long)]
    trigger: Option<String>,
    /// Runs at most this old: `90s`, `15m`, `1h`, `2d`, `1w`, or Unix ms.
    #[arg(long)]
    since: Option<String>,
    /// Runs at least this old (same forms as --since).
    #[arg(long)]
    until: Option<String>,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// One run's whole record (JSON).
    Show {
        id: u64,
        #[command(flatten)]
        target: Target,
    },
    /// Replays one run (`ID`) or every run the filters match (needs --server).
    Replay {
        /// The run to replay; without it, the filters choose.
        id: Option<u64>,
        /// Against the automation as it is now (default: the version the run ran).
        #[arg(long)]
        current: bool,
        /// Only count what would be replayed.
        #[arg(long)]
        dry_run: bool,
        /// Replay at most this many runs (at most 1,000).
        #[arg(long)]
        max: Option<usize>,
        #[command(flatten)]
        filters: FilterArgs,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        target: Target,
    },
}

/// Parses `--since`/`--until`: an age (`90s`, `15m`, `1h`, `2d`, `1w`)
/// counted back from `now_ms`, or a Unix time in ms.
pub fn parse_when(text: &str, now_ms: i64) -> anyhow::Result<i64> {
    let t = text.trim();
    let bad = || anyhow!("{t:?} is neither an age like 1h, 30m, 2d nor a Unix time in ms");
    let unit = t.chars().last().ok_or_else(bad)?;
    let per = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        c if c.is_ascii_digit() => return t.parse::<i64>().map_err(|_| bad()),
        _ => return Err(bad()),
    };
    let n: f64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
    if !n.is_finite() || n < 0.0 {
        return Err(bad());
    }
    Ok(now_ms.saturating_sub((n * per as f64) as i64))
}

impl FilterArgs {
    fn filter(&self, now_ms: i64) -> anyhow::Result<RunFilter> {
        Ok(RunFilter {
            automation: self.automation.clone(),
            listener: self.listener,
            exit: self.exit.clone(),
            status: self.status,
            trigger: self.trigger.clone(),
            since_ms: self
                .since
                .as_deref()
                .map(|s| parse_when(s, now_ms))
                .transpose()?,
            until_ms: self
                .until
                .as_deref()
                .map(|s| parse_when(s, now_ms))
                .transpose()?,
            parent: None,
        })
    }
}

/// The filter as API query pairs.
fn query_pairs(f: &RunFilter) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(a) = &f.automation {
        q.push(("automation", a.clone()));
    }
    if let Some(l) = f.listener {
        q.push(("listener", l.to_string()));
    }
    if let Some(e) = &f.exit {
        q.push(("exit", e.clone()));
    }
    if let Some(s) = f.status {
        q.push(("status", s.to_string()));
    }
    if let Some(t) = &f.trigger {
        q.push(("trigger", t.clone()));
    }
    if let Some(s) = f.since_ms {
        q.push(("since_ms", s.to_string()));
    }
    if let Some(u) = f.until_ms {
        q.push(("until_ms", u.to_string()));
    }
    q
}

/// The filter as the JSON body of `POST /api/runs/replay`.
fn filter_json(f: &RunFilter) -> serde_json::Map<String, Json> {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Json| {
        if !v.is_null() {
            m.insert(k.into(), v);
        }
    };
    put("automation", json!(f.automation));
    put("listener", json!(f.listener));
    put("exit", json!(f.exit));
    put("status", json!(f.status));
    put("trigger", json!(f.trigger));
    put("since_ms", json!(f.since_ms));
    put("until_ms", json!(f.until_ms));
    m
}

fn query_string(pairs: &[(&str, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Runs `katabox runs …`.
pub fn runs(a: RunsArgs) -> anyhow::Result<()> {
    match a.command {
        None => list(&a.filters, a.limit, a.cursor, a.json, &a.target),
        Some(RunsCommand::Show { id, target }) => {
            let out = match &target.server {
                Some(_) => call(&target, reqwest::Method::GET, &format!("/runs/{id}"), None)?,
                None => match open_store(&target.data)?.run(id)? {
                    Some(r) => crate::api::runs::run_json(&r),
                    None => bail!("run {id} not found"),
                },
            };
            super::print_json(&out)
        }
        Some(RunsCommand::Replay {
            id,
            current,
            dry_run,
            max,
            filters,
            json,
            target,
        }) => {
            if target.server.is_none() {
                bail!("replay needs a running server: give --server URL");
            }
            let version = if current { "current" } else { "recorded" };
            let out = match id {
                Some(id) => call(
                    &target,
                    reqwest::Method::POST,
                    &format!("/runs/{id}/replay"),
                    Some(json!({"version": version})),
                )?,
                None => {
                    let f = filters.filter(now_unix_ms())?;
                    let mut body = filter_json(&f);
                    body.insert("version".into(), json!(version));
                    body.insert("dry_run".into(), json!(dry_run));
                    if let Some(m) = max {
                        body.insert("max".into(), json!(m));
                    }
                    call(
                        &target,
                        reqwest::Method::POST,
                        "/runs/replay",
                        Some(Json::Object(body)),
                    )?
                }
            };
            if json {
                return super::print_json(&out);
            }
            print_replay(&out);
            Ok(())
        }
    }
}

fn print_replay(out: &Json) {
    if let Some(run) = out.get("run") {
        let same = out["diff"]["same"].as_bool().unwrap_or(false);
        println!(
            "replayed as run {} (status {}, exit {}): {}",
            run["id"],
            run["status"],
            run["exit"].as_str().unwrap_or(""),
            if same {
                "same response"
            } else {
                "the response differs"
            }
        );
        if !same {
            println!(
                "{}",
                serde_json::to_string_pretty(&out["diff"]).unwrap_or_default()
            );
        }
    } else if let Some(runs) = out.get("runs") {
        println!("replayed {} runs: {runs}", out["count"]);
    } else {
        println!("would replay {} runs", out["count"]);
    }
}

fn list(
    filters: &FilterArgs,
    limit: usize,
    cursor: Option<String>,
    json_out: bool,
    target: &Target,
) -> anyhow::Result<()> {
    let f = filters.filter(now_unix_ms())?;
    let out = match &target.server {
        Some(_) => {
            let mut q = query_pairs(&f);
            q.push(("limit", limit.to_string()));
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            call(
                target,
                reqwest::Method::GET,
                &format!("/runs?{}", query_string(&q)),
                None,
            )?
        }
        None => {
            let cursor = cursor
                .as_deref()
                .map(str::parse::<RunCursor>)
                .transpose()
                .map_err(|e| anyhow!(e))?;
            let page = open_store(&target.data)?.query_runs(&f, limit.clamp(1, 1000), cursor)?;
            json!({"runs": page.runs, "next_cursor": page.next_cursor.map(|c| c.to_string())})
        }
    };
    if json_out {
        return super::print_json(&out);
    }
    let runs: Vec<RunRecord> = serde_json::from_value(out["runs"].clone())
        .with_context(|| format!("unexpected answer: {out}"))?;
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                time_of(r.at_ms),
                r.trigger.clone(),
                r.automation.clone().unwrap_or_else(|| "-".into()),
                r.status.to_string(),
                if r.exit.is_empty() {
                    "-".into()
                } else {
                    r.exit.clone()
                },
                duration_of(r.duration_us),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "TIME",
            "TRIGGER",
            "AUTOMATION",
            "STATUS",
            "EXIT",
            "DURATION",
        ],
        &rows,
    );
    if let Some(next) = out["next_cursor"].as_str() {
        println!("(more: --cursor {next})");
    }
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn time_of(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| at_ms.to_string())
}

fn duration_of(us: u64) -> String {
    if us >= 1_000_000 {
        format!("{:.2}s", us as f64 / 1e6)
    } else if us >= 1000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{us}µs")
    }
}

/// Prints rows under a header, each column padded to its widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    print!("{}", table(header, rows));
}

/// The aligned text of [`print_table`].
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// `katabox automation list`.
pub fn automation_list(target: &Target, json_out: bool) -> anyhow::Result<()> {
    let out = match &target.server {
        Some(_) => call(target, reqwest::Method::GET, "/automations", None)?,
        None => json!({"automations": open_store(&target.data)?.automations()?}),
    };
    if json_out {
        return super::print_json(&out);
    }
    let rows: Vec<Vec<String>> = out["automations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|a| {
            vec![
                a["id"].to_string(),
                a["name"].as_str().unwrap_or("").to_string(),
                a["version"].as_u64().unwrap_or(1).to_string(),
                a["extension_id"].as_str().unwrap_or("").to_string(),
                time_of(a["updated_at"].as_i64().unwrap_or(0) * 1000),
            ]
        })
        .collect();
    print_table(&["ID", "NAME", "VERSION", "TRIGGER", "UPDATED"], &rows);
    Ok(())
}

/// `katabox automation update NAME --script FILE [--policy FILE]`.
pub fn automation_update(
    name: &str,
    script: Option<PathBuf>,
    policy: Option<PathBuf>,
    description: Option<String>,
    target: &Target,
) -> anyhow::Result<()> {
    let change = AutomationChange {
        script: script.as_deref().map(super::read_text).transpose()?,
        policy_kata: policy.as_deref().map(super::read_text).transpose()?,
        description,
    };
    if change == AutomationChange::default() {
        bail!("give --script, --policy or --description");
    }
    let out = match &target.server {
        Some(_) => {
            let mut body = serde_json::Map::new();
            if let Some(s) = &change.script {
                body.insert("script".into(), json!(s));
            }
            if let Some(p) = &change.policy_kata {
                body.insert("policy_kata".into(), json!(p));
            }
            if let Some(d) = &change.description {
                body.insert("description".into(), json!(d));
            }
            let path = format!("/automations/{}", urlencoding_path(name));
            call(
                target,
                reqwest::Method::PUT,
                &path,
                Some(Json::Object(body)),
            )?
        }
        None => {
            if let Some(s) = &change.script {
                crate::webhooks::lang::check_automation_script(s)
                    .map_err(|e| anyhow!("Automation: {e}"))?;
            }
            if let Some(p) = &change.policy_kata {
                crate::webhooks::lang::check_kata(p)
                    .map_err(|e| anyhow!("Automation policy: {e}"))?;
            }
            match open_store(&target.data)?.update_automation(name, &change)? {
                Some(a) => serde_json::to_value(a)?,
                None => bail!("automation {name} not found"),
            }
        }
    };
    super::print_json(&out)
}

fn urlencoding_path(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_times_parse() {
        let now = 10_000_000;
        assert_eq!(parse_when("1h", now).ok(), Some(now - 3_600_000));
        assert_eq!(parse_when("90s", now).ok(), Some(now - 90_000));
        assert_eq!(parse_when("1.5m", now).ok(), Some(now - 90_000));
        assert_eq!(parse_when("12345", now).ok(), Some(12345));
        assert!(parse_when("soon", now).is_err());
        assert!(parse_when("-1h", now).is_err());
        assert!(parse_when("", now).is_err());
    }

    #[test]
    fn tables_align_every_column_to_its_widest_cell() {
        let t = table(
            &["ID", "NAME"],
            &[
                vec!["1".into(), "a".into()],
                vec!["100".into(), "bb".into()],
            ],
        );
        assert_eq!(t, "ID   NAME\n1    a\n100  bb\n");
    }
}
