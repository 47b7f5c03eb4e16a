//! generate_signals over a universe: 500 symbols x 2 years of daily bars
//! (504 bars each, seeded random walks), all nine agents with consensus.
//! Run: `cargo bench -p gs-signals --bench signals`.

use std::hint::black_box;

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use gs_domain::{Bar, Timeframe};
use gs_signals::{BacktestRequest, SignalRequest, backtest, generate};

const SYMBOLS: u64 = 500;
const BARS: usize = 504;

/// xorshift64*: a seeded, dependency-free walk generator.
fn walk(seed: u64, n: usize) -> Vec<Bar> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let t0 = Utc.with_ymd_and_hms(2023, 1, 2, 0, 0, 0).unwrap();
    let mut close: f64 = 50.0 + 100.0 * next();
    let mut day = 0;
    (0..n)
        .map(|_| {
            // Weekdays only, as an equity calendar.
            while (day % 7) >= 5 {
                day += 1;
            }
            let time = t0 + Duration::days(day);
            day += 1;
            let open = close * (1.0 + (next() - 0.5) * 0.01);
            close = open * (1.0 + (next() - 0.5) * 0.04);
            let high = open.max(close) * (1.0 + next() * 0.01);
            let low = open.min(close) * (1.0 - next() * 0.01);
            Bar::new(time, open, high, low, close, 1e5 + 1e6 * next()).unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let universe: Vec<Vec<Bar>> = (0..SYMBOLS).map(|s| walk(s, BARS)).collect();
    let request = SignalRequest::default();
    let mut group = c.benchmark_group("generate_signals");
    group.sample_size(10);
    group.bench_function("500 symbols x 504 daily bars", |b| {
        b.iter(|| {
            for bars in &universe {
                black_box(generate(black_box(bars), Timeframe::D1, &request).unwrap());
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("backtest_signals");
    group.sample_size(10);
    let fitted = BacktestRequest {
        hit_rate_weighting: true,
        cost_bps: 5.0,
        ..BacktestRequest::default()
    };
    group.bench_function(
        "1 symbol x 504 daily bars, 5 splits, hit-rate weights",
        |b| {
            b.iter(|| {
                black_box(backtest(&universe[0], Timeframe::D1, &fitted, &mut |_, _| {}).unwrap())
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
