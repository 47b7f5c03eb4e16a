//! Scoring throughput: the full explainable score (VADER, the finance
//! layer, the term list) and plain VADER, over the 871 sentences of the
//! parity corpus (news headlines, posts and rule cases).
//! Run: `cargo bench -p gs-sentiment --bench scoring`; items per second =
//! 871 / the reported time.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gs_sentiment::Scorer;

fn corpus() -> Vec<String> {
    include_str!("../tests/data/vader_reference.jsonl")
        .lines()
        .skip(1)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let texts = corpus();
    let scorer = Scorer::new().unwrap();
    let mut group = c.benchmark_group("scoring");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("score_explained", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(scorer.score(black_box(t)));
            }
        })
    });
    group.bench_function("vader_only", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(scorer.vader(black_box(t)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
