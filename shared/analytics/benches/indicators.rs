//! Throughput of `compute_series` (the public entry point: parameter checks,
//! the kernel, and the allocation of every output, as TA-Lib's Python
//! wrapper allocates its numpy outputs) on a seeded random walk of 10k and
//! 1M bars: the indicators `scripts/talib_timing.py` times in TA-Lib, plus
//! one representative of every other family. The `options_1000000_bars`
//! group times the transitional `compute` (outputs converted to
//! `Option<f64>`) on the eight TA-Lib-timed indicators.
//!
//! The eight against TA-Lib, in one sitting (see `scripts/talib_timing.py`
//! for why a second sitting with the same `GLIBC_TUNABLES` on both sides
//! compares the kernels more fairly at a million bars):
//!
//! ```text
//! cargo bench -p gs-analytics --bench indicators -- '^1000000_bars/(sma|ema|rsi|macd|bbands|atr|stoch|adx)$'
//! .venv/bin/python scripts/talib_timing.py
//! ```
//!
//! EMA, MACD and ATR step with fused multiply-adds (`mul_add`), as the
//! TA-Lib build they reproduce does. Unless the build enables the FMA
//! instruction (`-C target-feature=+fma`, or `target-cpu=x86-64-v3`; always
//! on aarch64), each of those is a library call, which is what separates
//! them from TA-Lib's time on a default x86-64 build.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gs_analytics::{Ohlcv, compute, compute_series};

/// The indicators `scripts/talib_timing.py` times.
const TALIB_TIMED: &[&str] = &["sma", "ema", "rsi", "macd", "bbands", "atr", "stoch", "adx"];

/// `TALIB_TIMED` first, then one per family.
const INDICATORS: &[&str] = &[
    "sma",
    "ema",
    "rsi",
    "macd",
    "bbands",
    "atr",
    "stoch",
    "adx",
    // Moving averages, Hilbert transform, momentum, volume, statistics,
    // overlap, and the indicators TA-Lib lacks.
    "kama",
    "t3",
    "mama",
    "ht_trendline",
    "cci",
    "mfi",
    "obv",
    "linearreg",
    "sar",
    "vwap",
    "supertrend",
    "ichimoku",
];

const SIZES: &[usize] = &[10_000, 1_000_000];

struct Bars {
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl Bars {
    fn ohlcv(&self) -> Ohlcv<'_> {
        Ohlcv {
            open: &self.open,
            high: &self.high,
            low: &self.low,
            close: &self.close,
            volume: &self.volume,
        }
    }
}

/// SplitMix64: a seeded generator, so every run benchmarks the same bars
/// without a `rand` dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly standard normal (sum of 4 uniforms, rescaled).
    fn next_normal(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.next_unit()).sum();
        (sum - 2.0) * 3.0f64.sqrt()
    }
}

fn random_walk(n: usize, seed: u64) -> Bars {
    let mut rng = SplitMix(seed);
    let mut bars = Bars {
        open: Vec::with_capacity(n),
        high: Vec::with_capacity(n),
        low: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
        volume: Vec::with_capacity(n),
    };
    let mut price = 100.0;
    for _ in 0..n {
        let open = price;
        price *= (0.01 * rng.next_normal()).exp();
        let top = open.max(price);
        let bottom = open.min(price);
        bars.open.push(open);
        bars.close.push(price);
        bars.high.push(top * (1.0 + 0.005 * rng.next_unit()));
        bars.low.push(bottom * (1.0 - 0.005 * rng.next_unit()));
        bars.volume.push((1e5 * (0.5 + rng.next_unit())).round());
    }
    bars
}

fn indicators(c: &mut Criterion) {
    for &n in SIZES {
        let bars = random_walk(n, 20_260_705);
        let input = bars.ohlcv();
        let mut group = c.benchmark_group(format!("{n}_bars"));
        group.throughput(Throughput::Elements(n as u64));
        if n >= 1_000_000 {
            // Each call takes milliseconds: a few samples are plenty.
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(2));
        }
        for &name in INDICATORS {
            group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
                b.iter(|| compute_series(black_box(name), &[], black_box(input)).unwrap());
            });
        }
        group.finish();
        if n >= 1_000_000 {
            let mut group = c.benchmark_group(format!("options_{n}_bars"));
            group.throughput(Throughput::Elements(n as u64));
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(2));
            for &name in TALIB_TIMED {
                group.bench_with_input(BenchmarkId::from_parameter(name), &input, |b, input| {
                    b.iter(|| compute(black_box(name), &[], black_box(input)).unwrap());
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, indicators);
criterion_main!(benches);
