//! `/console`: runs per minute over the last hour (an SVG drawn here),
//! error rate, p50/p99 duration, the automations with the most errors.

use super::auth::Current;
use super::layout::{self, duration_of};
use super::{ConsoleError, blocking};
use crate::server::AppState;
use crate::store::{RunFilter, RunRecord};
use axum::Extension;
use axum::extract::State;
use axum::response::Html;
use maud::{Markup, html};
use std::collections::BTreeMap;

/// Runs read at most for the figures (newest first).
const MAX_RUNS: usize = 20_000;
const MINUTES: usize = 60;

/// The dashboard's figures over the runs of the last hour.
#[derive(Debug, Default, PartialEq)]
pub struct Figures {
    /// Runs per minute, oldest minute first.
    pub per_minute: Vec<(usize, usize)>,
    pub total: usize,
    pub errors: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    /// (automation, errors), most first.
    pub top_errors: Vec<(String, usize)>,
}

/// Whether a run counts as an error (as `--history-save errors` defines it).
fn is_error(r: &RunRecord) -> bool {
    r.exit == "error" || r.error.is_some() || r.status >= 500
}

/// Computes the figures of `runs` for the hour ending at `now_ms`.
pub fn figures(runs: &[RunRecord], now_ms: i64) -> Figures {
    let start = now_ms - (MINUTES as i64) * 60_000;
    let mut per_minute = vec![(0usize, 0usize); MINUTES];
    let mut durations: Vec<u64> = Vec::with_capacity(runs.len());
    let mut by_automation: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = 0;
    for r in runs
        .iter()
        .filter(|r| r.at_ms >= start && r.at_ms <= now_ms)
    {
        let minute = (((r.at_ms - start) / 60_000) as usize).min(MINUTES - 1);
        per_minute[minute].0 += 1;
        durations.push(r.duration_us);
        if is_error(r) {
            errors += 1;
            per_minute[minute].1 += 1;
            *by_automation
                .entry(r.automation.clone().unwrap_or_else(|| "(none)".into()))
                .or_default() += 1;
        }
    }
    durations.sort_unstable();
    let pct = |p: f64| -> u64 {
        if durations.is_empty() {
            return 0;
        }
        let i = ((durations.len() as f64 - 1.0) * p).round() as usize;
        durations[i.min(durations.len() - 1)]
    };
    let mut top_errors: Vec<(String, usize)> = by_automation.into_iter().collect();
    top_errors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top_errors.truncate(10);
    Figures {
        total: durations.len(),
        errors,
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        per_minute,
        top_errors,
    }
}

/// The runs-per-minute bar chart (errors in red on top of each bar).
fn chart(per_minute: &[(usize, usize)]) -> Markup {
    let (w, h, pad) = (720.0_f64, 160.0_f64, 20.0_f64);
    let max = per_minute.iter().map(|m| m.0).max().unwrap_or(0).max(1) as f64;
    let bw = (w - 2.0 * pad) / per_minute.len().max(1) as f64;
    html! {
        svg.chart #runs-chart viewBox={ "0 0 " (w) " " (h + 20.0) } role="img" aria-label="Runs per minute over the last hour" {
            line.axis x1=(pad) y1=(h) x2=(w - pad) y2=(h) {}
            @for (i, (all, bad)) in per_minute.iter().enumerate() {
                @let x = pad + i as f64 * bw;
                @let bar = (*all as f64 / max) * (h - pad);
                @let err = (*bad as f64 / max) * (h - pad);
                @if *all > 0 {
                    rect.bar x=(format!("{x:.1}")) y=(format!("{:.1}", h - bar)) width=(format!("{:.1}", (bw - 1.0).max(1.0))) height=(format!("{bar:.1}")) {
                        title { (all) " runs, " (bad) " errors" }
                    }
                }
                @if *bad > 0 {
                    rect.err x=(format!("{x:.1}")) y=(format!("{:.1}", h - err)) width=(format!("{:.1}", (bw - 1.0).max(1.0))) height=(format!("{err:.1}")) {}
                }
            }
            text x=(pad) y=(h + 14.0) { "−60 min" }
            text x=(w - pad - 30.0) y=(h + 14.0) { "now" }
            text x=(pad) y=(12) { "max " (max as usize) "/min" }
        }
    }
}

/// `GET /console`.
pub async fn page(
    State(state): State<AppState>,
    Extension(current): Extension<Current>,
) -> Result<Html<String>, ConsoleError> {
    let now = crate::store::now_unix_ms();
    let store = state.store.clone();
    let runs = blocking(move || {
        let filter = RunFilter {
            since_ms: Some(now - (MINUTES as i64) * 60_000),
            ..RunFilter::default()
        };
        let mut out = Vec::new();
        let mut cursor = None;
        while out.len() < MAX_RUNS {
            let page = store.query_runs(&filter, 1000, cursor)?;
            out.extend(page.runs);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    })
    .await?;
    let f = figures(&runs, now);
    let rate = if f.total == 0 {
        0.0
    } else {
        100.0 * f.errors as f64 / f.total as f64
    };
    let body = html! {
        div.cards {
            div.card { div.value #total-runs { (f.total) } div.label { "runs in the last hour" } }
            div.card { div.value #error-rate { (format!("{rate:.1}")) "%" } div.label { (f.errors) " errors" } }
            div.card { div.value { (duration_of(f.p50_us)) } div.label { "p50 duration" } }
            div.card { div.value { (duration_of(f.p99_us)) } div.label { "p99 duration" } }
        }
        h2 { "Runs per minute" }
        (chart(&f.per_minute))
        h2 { "Automations with the most errors" }
        @if f.top_errors.is_empty() { p.muted { "No errors in the last hour." } }
        @else {
            table #top-errors {
                thead { tr { th { "Automation" } th { "Errors" } } }
                tbody { @for (name, n) in &f.top_errors {
                    tr { td { a href={ "/console/runs?exit=error&since=1h&automation=" (layout::segment(name)) } { (name) } } td { (n) } }
                } }
            }
        }
        p.hint { "From the run history (" a href="/console/runs" { "all runs" } "); Prometheus series are at /metrics." }
    };
    Ok(Html(
        layout::page("Dashboard", "/console", &current.session.csrf, body).into_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(at_ms: i64, us: u64, exit: &str, automation: &str) -> RunRecord {
        RunRecord {
            at_ms,
            duration_us: us,
            exit: exit.into(),
            automation: Some(automation.into()),
            status: 200,
            ..RunRecord::default()
        }
    }

    #[test]
    fn figures_bucket_by_minute_and_rank_errors() {
        let now = 10_000_000;
        let runs: Vec<RunRecord> = (1..=100u64)
            .map(|i| {
                let exit = if i % 10 == 0 { "error" } else { "return" };
                let name = if i % 20 == 0 { "b" } else { "a" };
                run(now - (i as i64) * 1000, i * 10, exit, name)
            })
            .chain([run(now - 2 * 3_600_000, 1, "error", "old")])
            .collect();
        let f = figures(&runs, now);
        assert_eq!((f.total, f.errors), (100, 10));
        assert_eq!(f.per_minute.len(), 60);
        assert_eq!(f.per_minute.iter().map(|m| m.0).sum::<usize>(), 100);
        assert_eq!(f.per_minute[59].0, 60, "the last minute holds 60 runs");
        assert_eq!((f.p50_us, f.p99_us), (510, 990));
        assert_eq!(
            f.top_errors,
            vec![("a".to_string(), 5), ("b".to_string(), 5)]
        );
        assert_eq!(figures(&[], now).p99_us, 0);
    }
}
