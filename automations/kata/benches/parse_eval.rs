//! Parse + evaluate throughput on generated 10 KB, 100 KB and 1 MB documents.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use katabox_kata::{NoScripting, eval_text};
use katabox_value::Value;
use std::hint::black_box;

/// A realistic document of about `size` bytes: nested maps, annotated
/// values, text blocks and references.
fn document(size: usize) -> String {
    let mut s = String::from("&shared:\n  colors@list:\n    red\n    green\n");
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!(
            "event/e{i}:\n  actions:\n    set/v{i}:\n      count@int: {i}\n      flag@bool: yes\n      name: item {i}\n      tags@csv: a, b, c\n      body@text:\n        line one {i}\n        line two\n    options@ref: shared:colors\n# comment {i}\n"
        ));
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_eval");
    group.sample_size(10);
    let dict = Value::empty_array();
    for (label, size) in [
        ("10KB", 10_000),
        ("100KB", 100_000),
        ("1MB", 1_000_000),
        ("4MB", 4_000_000),
    ] {
        let doc = document(size);
        group.throughput(Throughput::Bytes(doc.len() as u64));
        group.bench_function(label, |b| {
            b.iter(|| eval_text(black_box(&doc), Some(&dict), &NoScripting));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
