//! True range and its Wilder-smoothed averages.

use crate::warmup::{collect_values, nan_vec, push_missing};

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
///
/// The TA-Lib build we match smooths as `fma(prev, (p - 1) / p, tr * (1 -
/// (p - 1) / p))` on CPUs with FMA (see `ema`), not as the textbook
/// `(prev * (p - 1) + tr) / p`; doing the same gives its values bit for bit
/// and keeps the division off the loop's critical path.
pub(crate) fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    collect_values(close.len(), |out| atr_into(high, low, close, period, out))
}

/// Appends `atr(high, low, close, period)` to `out`.
pub(crate) fn atr_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    out: &mut Vec<f64>,
) {
    let len = close.len().min(high.len()).min(low.len());
    // True range of each bar from bar `from` on, from its own high and low
    // and the previous close.
    let ranges = |from: usize| {
        high[from..len]
            .iter()
            .zip(&low[from..len])
            .zip(&close[from - 1..len])
            .map(|((&h, &l), &prev_close)| true_range(h, l, prev_close))
    };
    if period <= 1 {
        push_missing(out, len.min(1));
        if len > 1 {
            out.extend(ranges(1));
        }
        return;
    }
    if len <= period {
        push_missing(out, len);
        return;
    }
    // Summed in TA-Lib's SMA order: the first period - 1, then the last.
    let mut seed = ranges(1).take(period - 1).sum::<f64>();
    seed += true_range(high[period], low[period], close[period - 1]);
    let p = period as f64;
    let mut prev = seed / p;
    push_missing(out, period);
    out.push(prev);
    let keep = (p - 1.0) / p;
    let weight = 1.0 - keep;
    out.extend(ranges(period + 1).map(|tr| {
        prev = prev.mul_add(keep, tr * weight);
        prev
    }));
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
