//! True range and its Wilder-smoothed averages.

use crate::warmup::{Sink, collect_values, nan_vec};

/// `TA_TRANGE`: the first bar has no previous close, so no value.
pub(crate) fn trange(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    let mut out = nan_vec(close.len());
    for i in 1..close.len() {
        out[i] = true_range(high[i], low[i], close[i - 1]);
    }
    out
}

fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut greatest = high - low;
    let up = (prev_close - high).abs();
    if up > greatest {
        greatest = up;
    }
    let down = (prev_close - low).abs();
    if down > greatest {
        greatest = down;
    }
    greatest
}

/// `TA_ATR`: seeded with the SMA of the first `period` true ranges, then
/// Wilder-smoothed (TA-Lib's unstable period is 0, so nothing is skipped).
pub(crate) fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    collect_values(close.len(), |out| atr_into(high, low, close, period, out))
}

pub(crate) fn atr_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    out: &mut impl Sink,
) {
    if period <= 1 {
        out.push_missing(close.len().min(1));
        for i in 1..close.len() {
            out.push_value(true_range(high[i], low[i], close[i - 1]));
        }
        return;
    }
    if close.len() <= period {
        out.push_missing(close.len());
        return;
    }
    let tr = |i: usize| true_range(high[i], low[i], close[i - 1]);
    // Summed in TA-Lib's SMA order: the first period - 1, then the last.
    let mut seed = (1..period).map(tr).sum::<f64>();
    seed += tr(period);
    let p = period as f64;
    let mut prev = seed / p;
    out.push_missing(period);
    out.push_value(prev);
    for i in period + 1..close.len() {
        prev *= p - 1.0;
        prev += tr(i);
        prev /= p;
        out.push_value(prev);
    }
}

/// `TA_NATR`: ATR as a percentage of the close; zero where the close is
/// exactly zero.
pub(crate) fn natr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    atr(high, low, close, period)
        .into_iter()
        .zip(close)
        .map(|(a, &c)| {
            if a.is_nan() {
                a
            } else if c == 0.0 {
                0.0
            } else {
                (a / c) * 100.0
            }
        })
        .collect()
}
