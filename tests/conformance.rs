//! The conformance harness: runs every Cerb test vector (tests/conformance/,
//! plus the directories named in `KATABOX_CONFORMANCE_DIRS`) against the
//! real `katabox` binary — the CLI for `kata`, `template`, `automation` and
//! `policy` cases, a real server on a loopback port for `webhook` and
//! `package` cases.
//!
//! A case listed in tests/conformance/expected-failures.txt may fail; any
//! other failure fails the suite, and so does a listed case that passes (the
//! list only shrinks). Cases from `KATABOX_CONFORMANCE_DIRS` are all
//! reported, listed or not. The last line is `N passed, M failed`.

#[path = "support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use support::cases::{Case, Outcome, load_case};

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
    let expected = match support::expected::load(&root.join("expected-failures.txt")) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("expected-failures.txt: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut files: Vec<(PathBuf, String, bool)> = Vec::new(); // (path, label, listable)
    for f in support::cases::find_vectors(&root) {
        let label = f
            .strip_prefix(&root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| f.display().to_string());
        files.push((f, label, true));
    }
    if let Ok(dirs) = std::env::var("KATABOX_CONFORMANCE_DIRS") {
        for dir in dirs.split(':').filter(|d| !d.is_empty()) {
            for f in support::cases::find_vectors(Path::new(dir)) {
                let label = f.display().to_string();
                files.push((f, label, false));
            }
        }
    }
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));

    let runner = support::runner::Runner::new(env!("CARGO_BIN_EXE_katabox"));
    let mut per_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut passed_labels = BTreeSet::new();
    let mut failed_labels = BTreeSet::new();
    for (path, label, _) in &files {
        if let Some(f) = &filter
            && !label.contains(f.as_str())
        {
            continue;
        }
        let case: Result<Case, String> = load_case(path);
        let (kind, outcome) = match case {
            Ok(c) => (c.kind.clone(), runner.run(&c)),
            Err(e) => (
                "invalid".to_string(),
                Outcome::Fail(format!("unreadable vector: {e}")),
            ),
        };
        let entry = per_kind.entry(kind).or_default();
        match outcome {
            Outcome::Pass => {
                entry.0 += 1;
                passed_labels.insert(label.clone());
            }
            Outcome::Fail(why) => {
                entry.1 += 1;
                failed_labels.insert(label.clone());
                failures.push((label.clone(), why));
            }
        }
    }

    println!("\nconformance by kind:");
    for (kind, (p, f)) in &per_kind {
        println!("  {kind:<11} {p:>4} passed, {f:>4} failed");
    }
    let listable: BTreeSet<&String> = files.iter().filter(|f| f.2).map(|f| &f.1).collect();
    let mut unexpected = Vec::new();
    if !failures.is_empty() {
        println!("\nfailing cases:");
        for (label, why) in &failures {
            let listed = expected.contains_key(label.as_str());
            let tag = if listed { "expected" } else { "UNEXPECTED" };
            println!("- [{tag}] {label}\n    {}", why.replace('\n', "\n    "));
            if !listed || !listable.contains(label) {
                unexpected.push(label.clone());
            }
        }
    }
    let stale: Vec<&String> = expected
        .keys()
        .filter(|l| passed_labels.contains(*l))
        .collect();
    if !stale.is_empty() {
        println!("\nlisted in expected-failures.txt but passing now (remove them):");
        for l in &stale {
            println!("- {l}");
        }
    }
    let ran_filtered = filter.is_some();
    let missing: Vec<&String> = expected
        .keys()
        .filter(|l| !ran_filtered && !passed_labels.contains(*l) && !failed_labels.contains(*l))
        .collect();
    if !missing.is_empty() {
        println!("\nlisted in expected-failures.txt but no such case:");
        for l in &missing {
            println!("- {l}");
        }
    }
    let ok = unexpected.is_empty() && stale.is_empty() && missing.is_empty();
    if !unexpected.is_empty() {
        println!("\n{} unexpected failure(s)", unexpected.len());
    }
    println!(
        "\n{} passed, {} failed",
        passed_labels.len(),
        failed_labels.len()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
