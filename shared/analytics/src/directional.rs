//! Wilder's directional movement system: +DM/-DM, +DI/-DI, DX, ADX, ADXR.
//!
//! TA-Lib's versions differ from textbook ones in where they start: the
//! first smoothed DM/TR is a plain sum of `period - 1` bars, and for the DI
//! family one more Wilder step is taken before the first output. Only exact
//! zeros count as "no range": the TA-Lib build we match computes these on
//! prices of any scale.

use crate::warmup::{collect_values, nan_vec, push_missing};

/// One bar's directional movement: (+DM, -DM), at most one of them non-zero.
fn movement(high: &[f64], low: &[f64], i: usize) -> (f64, f64) {
    let up = high[i] - high[i - 1];
    let down = low[i - 1] - low[i];
    let plus = if up > 0.0 && up > down { up } else { 0.0 };
    let minus = if down > 0.0 && up < down { down } else { 0.0 };
    (plus, minus)
}

fn true_range(high: &[f64], low: &[f64], close: &[f64], i: usize) -> f64 {
    let prev_close = close[i - 1];
    let mut range = high[i] - low[i];
    let up = (high[i] - prev_close).abs();
    if up > range {
        range = up;
    }
    let down = (low[i] - prev_close).abs();
    if down > range {
        range = down;
    }
    range
}

/// Which line `dm` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Plus,
    Minus,
}

fn pick(direction: Direction, (plus, minus): (f64, f64)) -> f64 {
    match direction {
        Direction::Plus => plus,
        Direction::Minus => minus,
    }
}

/// `TA_PLUS_DM` / `TA_MINUS_DM`: Wilder-smoothed directional movement.
pub(crate) fn dm(high: &[f64], low: &[f64], period: usize, direction: Direction) -> Vec<f64> {
    let mut out = nan_vec(high.len());
    if period <= 1 {
        for (i, slot) in out.iter_mut().enumerate().skip(1) {
            *slot = pick(direction, movement(high, low, i));
        }
        return out;
    }
    if high.len() < period {
        return out;
    }
    let p = period as f64;
    let mut smoothed = 0.0;
    for i in 1..period {
        smoothed += pick(direction, movement(high, low, i));
    }
    out[period - 1] = smoothed;
    for (i, slot) in out.iter_mut().enumerate().skip(period) {
        smoothed = smoothed - (smoothed / p) + pick(direction, movement(high, low, i));
        *slot = smoothed;
    }
    out
}

/// Smoothed +DM, -DM and TR after bar `i`, advanced one bar at a time in
/// TA-Lib's order of operations.
struct Smoothed {
    plus: f64,
    minus: f64,
    range: f64,
}

impl Smoothed {
    /// Plain sums over bars 1..period (the `period - 1` bars TA-Lib seeds with).
    fn seed(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Smoothed {
        let mut s = Smoothed {
            plus: 0.0,
            minus: 0.0,
            range: 0.0,
        };
        for i in 1..period {
            let (plus, minus) = movement(high, low, i);
            s.plus += plus;
            s.minus += minus;
            s.range += true_range(high, low, close, i);
        }
        s
    }

    fn step(&mut self, high: &[f64], low: &[f64], close: &[f64], i: usize, p: f64) {
        let (plus, minus) = movement(high, low, i);
        self.minus -= self.minus / p;
        self.plus -= self.plus / p;
        self.minus += minus;
        self.plus += plus;
        self.range = self.range - (self.range / p) + true_range(high, low, close, i);
    }

    /// (+DI, -DI), or `None` when the smoothed range is zero.
    fn indicators(&self) -> Option<(f64, f64)> {
        if self.range == 0.0 {
            None
        } else {
            Some((
                100.0 * (self.plus / self.range),
                100.0 * (self.minus / self.range),
            ))
        }
    }

    /// DX, or `None` when it is undefined (no range, or no movement).
    fn dx(&self) -> Option<f64> {
        let (plus, minus) = self.indicators()?;
        let sum = minus + plus;
        (sum != 0.0).then(|| 100.0 * ((minus - plus).abs() / sum))
    }
}

/// `TA_PLUS_DI` / `TA_MINUS_DI`.
pub(crate) fn di(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    direction: Direction,
) -> Vec<f64> {
    let mut out = nan_vec(close.len());
    if period <= 1 {
        // TA-Lib's unsmoothed DI is a plain ratio: no factor of 100 here.
        for (i, slot) in out.iter_mut().enumerate().skip(1) {
            let range = true_range(high, low, close, i);
            let moved = pick(direction, movement(high, low, i));
            *slot = if moved > 0.0 && range != 0.0 {
                moved / range
            } else {
                0.0
            };
        }
        return out;
    }
    if close.len() <= period {
        return out;
    }
    let p = period as f64;
    let mut s = Smoothed::seed(high, low, close, period);
    for (i, slot) in out.iter_mut().enumerate().skip(period) {
        s.step(high, low, close, i, p);
        *slot = s
            .indicators()
            .map_or(0.0, |(plus, minus)| pick(direction, (plus, minus)));
    }
    out
}

/// `TA_DX`. Where DX is undefined TA-Lib repeats its previous output.
pub(crate) fn dx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan_vec(close.len());
    if close.len() <= period || period < 2 {
        return out;
    }
    let p = period as f64;
    let mut s = Smoothed::seed(high, low, close, period);
    let mut last = 0.0;
    for (i, slot) in out.iter_mut().enumerate().skip(period) {
        s.step(high, low, close, i, p);
        if let Some(v) = s.dx() {
            last = v;
        }
        *slot = last;
    }
    out
}

/// `TA_ADX`: Wilder's average of DX, seeded with the mean of the first
/// `period` DX values.
pub(crate) fn adx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    collect_values(close.len(), |out| adx_into(high, low, close, period, out))
}

/// Appends `adx(high, low, close, period)` to `out`.
pub(crate) fn adx_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    out: &mut Vec<f64>,
) {
    let lookback = (2 * period).saturating_sub(1);
    if close.len() <= lookback || period < 2 {
        push_missing(out, close.len());
        return;
    }
    let p = period as f64;
    let mut s = Smoothed::seed(high, low, close, period);
    let mut sum_dx = 0.0;
    for i in period..=lookback {
        s.step(high, low, close, i, p);
        if let Some(v) = s.dx() {
            sum_dx += v;
        }
    }
    let mut adx = sum_dx / p;
    push_missing(out, lookback);
    out.push(adx);
    out.extend((lookback + 1..close.len()).map(|i| {
        s.step(high, low, close, i, p);
        if let Some(v) = s.dx() {
            adx = ((adx * (p - 1.0)) + v) / p;
        }
        adx
    }));
}

/// `TA_ADXR`: the mean of today's ADX and the ADX `period - 1` bars ago.
pub(crate) fn adxr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let adx = adx(high, low, close, period);
    let lag = period.saturating_sub(1);
    (0..close.len())
        .map(|i| {
            if i < lag {
                f64::NAN
            } else {
                (adx[i] + adx[i - lag]) / 2.0
            }
        })
        .collect()
}
