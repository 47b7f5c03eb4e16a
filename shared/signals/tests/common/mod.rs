//! Bar builders shared by the integration tests.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use gs_domain::Bar;

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

/// One bar per `step` from 2024-01-01 (a Monday): open at the previous
/// close, high/low 0.5% beyond the body, constant volume.
pub fn bars_from_closes(closes: &[f64], step: Duration) -> Vec<Bar> {
    let mut prev = closes.first().copied().unwrap_or(1.0);
    closes
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let open = prev;
            prev = c;
            Bar::new(
                start() + step * i as i32,
                open,
                open.max(c) * 1.005,
                open.min(c) * 0.995,
                c,
                1_000.0,
            )
            .unwrap()
        })
        .collect()
}

pub fn daily(closes: &[f64]) -> Vec<Bar> {
    bars_from_closes(closes, Duration::days(1))
}

pub fn with_volumes(bars: &[Bar], volume: impl Fn(usize, &Bar) -> f64) -> Vec<Bar> {
    bars.iter()
        .enumerate()
        .map(|(i, b)| {
            Bar::new(
                b.time(),
                b.open(),
                b.high(),
                b.low(),
                b.close(),
                volume(i, b),
            )
            .unwrap()
        })
        .collect()
}

pub fn linear(n: usize, from: f64, step: f64) -> Vec<f64> {
    (0..n).map(|i| from + step * i as f64).collect()
}

/// Deterministic xorshift64* numbers in [0, 1).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_f64() * n as f64) as usize
    }
}

/// A random walk with gaps, wicks and varying volume.
pub fn random_walk(seed: u64, n: usize, step: Duration) -> Vec<Bar> {
    let mut rng = Rng::new(seed);
    let mut close: f64 = 100.0;
    (0..n)
        .map(|i| {
            let open = close * (1.0 + (rng.next_f64() - 0.5) * 0.01);
            close = open * (1.0 + (rng.next_f64() - 0.5) * 0.04);
            let high = open.max(close) * (1.0 + rng.next_f64() * 0.01);
            let low = open.min(close) * (1.0 - rng.next_f64() * 0.01);
            let volume = 1_000.0 + rng.next_f64() * 9_000.0;
            Bar::new(start() + step * i as i32, open, high, low, close, volume).unwrap()
        })
        .collect()
}

/// `bars` up to and including `t`, then the values of `other` (same times).
pub fn splice_future(bars: &[Bar], other: &[Bar], t: usize) -> Vec<Bar> {
    bars.iter()
        .zip(other)
        .enumerate()
        .map(|(i, (b, o))| {
            if i <= t {
                *b
            } else {
                Bar::new(b.time(), o.open(), o.high(), o.low(), o.close(), o.volume()).unwrap()
            }
        })
        .collect()
}
