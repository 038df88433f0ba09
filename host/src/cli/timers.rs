//! `katabox timers …`: automation timers, through a running server
//! (`--server`) or on a data directory no server holds. A table by
//! default, the API's JSON with `--json`.

use super::history::{print_table, time_of};
use super::server::{Target, call, open_store};
use crate::store::{Store, now_unix};
use crate::timers::input;
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::{Value as Json, json};
use std::path::PathBuf;

/// `katabox timers`.
#[derive(Debug, Subcommand)]
pub enum TimersCommand {
    /// Lists timers.
    List(Out),
    /// Creates a timer.
    Create {
        #[command(flatten)]
        fields: Fields,
        #[command(flatten)]
        out: Out,
    },
    /// Changes a timer's fields (those given).
    Update {
        id: u64,
        #[command(flatten)]
        fields: Fields,
        #[command(flatten)]
        out: Out,
    },
    /// Enables a timer.
    Enable {
        id: u64,
        #[command(flatten)]
        out: Out,
    },
    /// Disables a timer.
    Disable {
        id: u64,
        #[command(flatten)]
        out: Out,
    },
    /// Runs a timer now on the server (needs --server).
    Run {
        id: u64,
        #[command(flatten)]
        out: Out,
    },
    /// Deletes a timer (and its continuation).
    Delete {
        id: u64,
        #[command(flatten)]
        out: Out,
    },
}

/// Output and target options.
#[derive(Debug, Args)]
pub struct Out {
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

/// A timer's fields.
#[derive(Debug, Args)]
pub struct Fields {
    /// The timer's name.
    #[arg(long)]
    name: Option<String>,
    /// The event KATA (`automation/NAME: uri: cerb:automation:NAME`), from a file.
    #[arg(long)]
    kata_file: Option<PathBuf>,
    /// The event KATA, inline.
    #[arg(long)]
    kata: Option<String>,
    /// A cron pattern (repeat for several; makes the timer recurring).
    #[arg(long)]
    pattern: Vec<String>,
    /// The IANA timezone of the patterns (default: the server's).
    #[arg(long)]
    timezone: Option<String>,
    /// When to run next (Unix seconds).
    #[arg(long)]
    next_run_at: Option<i64>,
    /// Create the timer disabled.
    #[arg(long)]
    disabled: bool,
}

impl Fields {
    fn body(self) -> anyhow::Result<Json> {
        let mut b = serde_json::Map::new();
        if let Some(n) = self.name {
            b.insert("name".into(), json!(n));
        }
        let kata = match (self.kata_file, self.kata) {
            (Some(f), _) => Some(
                std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?,
            ),
            (None, k) => k,
        };
        if let Some(k) = kata {
            b.insert("automations_kata".into(), json!(k));
        }
        if !self.pattern.is_empty() {
            b.insert("recurring_patterns".into(), json!(self.pattern.join("\n")));
            b.insert("is_recurring".into(), json!(1));
        }
        if let Some(tz) = self.timezone {
            b.insert("recurring_timezone".into(), json!(tz));
        }
        if let Some(at) = self.next_run_at {
            b.insert("next_run_at".into(), json!(at));
        }
        if self.disabled {
            b.insert("is_disabled".into(), json!(1));
        }
        Ok(Json::Object(b))
    }
}

/// Runs `katabox timers …`.
pub fn timers(c: TimersCommand) -> anyhow::Result<()> {
    let (out, opts, what) = match c {
        TimersCommand::List(o) => {
            let v = match &o.target.server {
                Some(_) => call(&o.target, reqwest::Method::GET, "/timers", None)?,
                None => json!({"timers": open_store(&o.target.data)?.timers()?}),
            };
            (v, o, Shape::List)
        }
        TimersCommand::Create { fields, out } => {
            let body = fields.body()?;
            let v = match &out.target.server {
                Some(_) => call(&out.target, reqwest::Method::POST, "/timers", Some(body))?,
                None => {
                    let rec = input::new_timer(&body, chrono_tz::Tz::UTC, now_unix())
                        .map_err(|e| anyhow!(e))?;
                    serde_json::to_value(open_store(&out.target.data)?.save_timer(&rec)?)?
                }
            };
            (v, out, Shape::One)
        }
        TimersCommand::Update { id, fields, out } => {
            let v = change(&out.target, id, fields.body()?)?;
            (v, out, Shape::One)
        }
        TimersCommand::Enable { id, out } => {
            let v = change(&out.target, id, json!({"is_disabled": 0}))?;
            (v, out, Shape::One)
        }
        TimersCommand::Disable { id, out } => {
            let v = change(&out.target, id, json!({"is_disabled": 1}))?;
            (v, out, Shape::One)
        }
        TimersCommand::Run { id, out } => {
            if out.target.server.is_none() {
                bail!("timers run needs --server: the server runs the timer in its sandbox");
            }
            let path = format!("/timers/{id}/run");
            let v = call(&out.target, reqwest::Method::POST, &path, None)?;
            (v, out, Shape::Fired)
        }
        TimersCommand::Delete { id, out } => {
            let v = match &out.target.server {
                Some(_) => call(
                    &out.target,
                    reqwest::Method::DELETE,
                    &format!("/timers/{id}"),
                    None,
                )?,
                None if open_store(&out.target.data)?.delete_timer(id)? => {
                    json!({"deleted": true, "id": id})
                }
                None => return Err(super::Refused::local("Not found").into()),
            };
            (v, out, Shape::Deleted)
        }
    };
    if let Some(e) = out.get("error").and_then(Json::as_str) {
        bail!("{e}");
    }
    if opts.json {
        return super::print_json(&out);
    }
    match what {
        Shape::List => print_timers(out["timers"].as_array().map(Vec::as_slice).unwrap_or(&[])),
        Shape::One => print_timers(std::slice::from_ref(&out)),
        Shape::Fired => print_table(
            &["TIMER", "RUN", "EXIT", "OUTCOME", "NEXT"],
            &[vec![
                out["timer_id"].to_string(),
                out["run_id"].as_u64().map_or("-".into(), |r| r.to_string()),
                out["exit"]
                    .as_str()
                    .filter(|e| !e.is_empty())
                    .unwrap_or("-")
                    .into(),
                out["outcome"].as_str().unwrap_or("").into(),
                next_of(&out["next_run_at"]),
            ]],
        ),
        Shape::Deleted => println!("deleted timer {}", out["id"]),
    }
    Ok(())
}

enum Shape {
    List,
    One,
    Fired,
    Deleted,
}

/// Applies `body` to timer `id` (API `PUT`, or the same checks locally).
fn change(target: &Target, id: u64, body: Json) -> anyhow::Result<Json> {
    if target.server.is_some() {
        return call(
            target,
            reqwest::Method::PUT,
            &format!("/timers/{id}"),
            Some(body),
        );
    }
    let store = open_store(&target.data)?;
    let Some(mut rec) = store.timer(id)? else {
        return Err(super::Refused::local("Not found").into());
    };
    input::apply(&mut rec, &body).map_err(|e| anyhow!(e))?;
    Ok(serde_json::to_value(store.save_timer(&rec)?)?)
}

fn next_of(v: &Json) -> String {
    match v.as_i64() {
        Some(0) | None => "-".into(),
        Some(at) => time_of(at * 1000),
    }
}

fn print_timers(list: &[Json]) {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|t| {
            let on = if t["is_disabled"].as_bool().unwrap_or(false) {
                "disabled"
            } else {
                "enabled"
            };
            let patterns: Vec<&str> = t["recurring_patterns"]
                .as_str()
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            let schedule = if t["is_recurring"].as_bool().unwrap_or(false) {
                patterns.join("; ")
            } else {
                "once".into()
            };
            let awaiting = t["continuation_id"].as_str().is_some_and(|c| !c.is_empty());
            vec![
                t["id"].to_string(),
                t["name"].as_str().unwrap_or("").to_string(),
                on.to_string(),
                schedule,
                t["recurring_timezone"]
                    .as_str()
                    .filter(|z| !z.is_empty())
                    .unwrap_or("-")
                    .into(),
                next_of(&t["next_run_at"]),
                next_of(&t["last_ran_at"]),
                if awaiting { "yes" } else { "-" }.to_string(),
            ]
        })
        .collect();
    print_table(
        &[
            "ID", "NAME", "STATE", "SCHEDULE", "TZ", "NEXT RUN", "LAST RUN", "AWAITING",
        ],
        &rows,
    );
}
