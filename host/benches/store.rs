//! Host-side per-run costs outside the sandbox: the run history — one
//! durable redb write per run (`record_run`, fsync included) against the
//! request path's `queue_run` (a channel send; the history writer commits
//! batches) — and a policy check (`Policy::allows` with a templated rule),
//! each through the public API.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use katabox::policy::{self, Policy};
use katabox::store::{
    HistoryConfig, RedbStore, RunFilter, RunPayload, RunRecord, Store, StoreConfig,
};
use katabox_value::{Array, Value};

/// A run record shaped like the seed webhook's.
fn seed_run() -> RunRecord {
    RunRecord {
        at_ms: katabox::store::now_unix_ms(),
        trigger: "webhook".into(),
        listener_id: Some(1),
        automation: Some("example.webhook.respond".into()),
        request_method: "POST".into(),
        request_path: String::new(),
        client_ip: "127.0.0.1".into(),
        status: 200,
        exit: "return".into(),
        error: None,
        logs: Vec::new(),
        duration_us: 40,
        fuel_used: 30_000,
        ..RunRecord::default()
    }
}

fn store(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("store bench skipped: no temp dir");
        return;
    };
    let db = match RedbStore::open(dir.path(), StoreConfig::default()) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("store bench skipped: {e}");
            return;
        }
    };
    let run = seed_run();
    c.bench_function(
        "store/record_run (durable redb write, retention 1000)",
        |b| b.iter(|| db.record_run(black_box(run.clone()))),
    );
    // 1,000 runs queued as the webhook path queues them, then read back
    // (the read waits until the writer committed them): per-run cost of
    // the history as the server pays it, writer thread included.
    let mut group = c.benchmark_group("store/history");
    group.throughput(Throughput::Elements(RUNS));
    group.sample_size(10);
    group.bench_function("queue_run x1000 then runs(1)", |b| {
        b.iter(|| queue_then_read(&db, &run))
    });
    group.finish();
    writer_cost(c);
}

/// Runs queued per iteration of the history benches.
const RUNS: u64 = 1000;

/// Queues [`RUNS`] copies of `run` as the webhook path does, then reads the
/// newest run (which waits until the writer committed them all).
fn queue_then_read(db: &RedbStore, run: &RunRecord) -> katabox::store::StoreResult<Vec<RunRecord>> {
    for _ in 0..RUNS {
        db.queue_run(black_box(run.clone()));
    }
    db.runs(1)
}

/// The history writer's own cost per run, with the seed webhook's real
/// payload (request, pretty-JSON response, `return`): the writer commits
/// without its gathering window, so the time per 1,000 runs is what the
/// writer thread spends on them (encoding, redb inserts, commits).
fn writer_cost(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    // No pruning: the load test's history stays under the count cap too.
    let history = HistoryConfig {
        batch_window: std::time::Duration::ZERO,
        max_runs: usize::MAX,
        ..HistoryConfig::default()
    };
    let Ok(db) = RedbStore::open(dir.path(), StoreConfig { history }) else {
        return;
    };
    let payload: RunPayload = match serde_json::from_str(include_str!("seed_payload.json")) {
        Ok(p) => p,
        Err(e) => panic!("bench fixture: {e}"),
    };
    let run = RunRecord {
        payload: Some(payload),
        ..seed_run()
    };
    let mut group = c.benchmark_group("store/history writer");
    group.throughput(Throughput::Elements(RUNS));
    group.sample_size(20);
    group.bench_function("seed run with payload x1000", |b| {
        b.iter(|| queue_then_read(&db, &run))
    });
    group.finish();
}

const POLICY: &str = "commands:\n  http.request:\n    deny/local@bool: {{inputs.url starts with 'http://127.'}}\n    allow/api@bool: {{inputs.url starts with 'https://api.example.com/'}}\n  all:\n    deny: yes\n";

fn policy_check(c: &mut Criterion) {
    let policy = match Policy::parse(POLICY) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("policy bench skipped: {e} ({})", e.detail);
            return;
        }
    };
    let scripting = policy::host_scripting();
    let mut inputs = Array::new();
    inputs.insert("url", Value::str("https://api.example.com/v1/items"));
    inputs.insert("method", Value::str("GET"));
    let p = policy::placeholders(
        "start:http.request",
        "http.request",
        &Value::array(inputs),
        None,
        None,
    );
    assert!(
        policy.allows("http.request", &p, &*scripting),
        "the bench policy must allow its request"
    );
    c.bench_function("policy/allows (2 templated rules)", |b| {
        b.iter(|| policy.allows(black_box("http.request"), black_box(&p), &*scripting))
    });
    let empty = match Policy::parse("commands:\n  ") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("policy bench skipped: {e}");
            return;
        }
    };
    c.bench_function("policy/allows (seed policy, default deny)", |b| {
        b.iter(|| empty.allows(black_box("http.request"), black_box(&p), &*scripting))
    });
}

/// A store holding `n` runs over 10 automations, 4 listeners and 4 exits,
/// one second apart, ending now.
fn history_of(n: u64) -> Option<(tempfile::TempDir, RedbStore)> {
    let dir = tempfile::tempdir().ok()?;
    let history = HistoryConfig {
        max_runs: 2 * n as usize,
        ..HistoryConfig::default()
    };
    let store = RedbStore::open(dir.path(), StoreConfig { history }).ok()?;
    let now = katabox::store::now_unix_ms();
    let exits = ["return", "return", "error", "exit"];
    for i in 0..n {
        store.queue_run(RunRecord {
            at_ms: now - (n - i) as i64 * 1000,
            automation: Some(format!("auto.{}", i % 10)),
            listener_id: Some(i % 4),
            exit: exits[(i % 4) as usize].into(),
            ..seed_run()
        });
    }
    store.runs(1).ok()?;
    Some((dir, store))
}

/// A page of 50 with filters over 1,000,000 stored runs against the same
/// pages over 1,000 runs: the indexes make the cost grow with the page,
/// not with the history (docs/performance.md, "Run history").
fn history_pages(c: &mut Criterion) {
    let queries: Vec<(&str, RunFilter)> = vec![
        ("newest", RunFilter::default()),
        (
            "automation",
            RunFilter {
                automation: Some("auto.3".into()),
                ..RunFilter::default()
            },
        ),
        (
            "automation+exit=error",
            RunFilter {
                automation: Some("auto.2".into()),
                exit: Some("error".into()),
                ..RunFilter::default()
            },
        ),
        (
            "listener+last hour",
            RunFilter {
                listener: Some(1),
                since_ms: Some(katabox::store::now_unix_ms() - 3_600_000),
                ..RunFilter::default()
            },
        ),
    ];
    let mut group = c.benchmark_group("store/history page of 50");
    group.sample_size(20);
    for n in [1_000u64, 1_000_000] {
        let Some((_dir, store)) = history_of(n) else {
            eprintln!("history bench skipped: no store");
            return;
        };
        for (name, filter) in &queries {
            let page = store.query_runs(filter, 50, None).map(|p| p.runs.len());
            assert!(matches!(page, Ok(50)), "{name}: {page:?}");
            group.bench_function(format!("{name} over {n} runs"), |b| {
                b.iter(|| store.query_runs(black_box(filter), 50, None))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, store, policy_check, history_pages);
criterion_main!(benches);
