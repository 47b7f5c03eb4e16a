//! Moving averages, and the MA-type switch that MA, BBANDS, STOCH, APO, PPO
//! and MACDEXT share. Each function returns one value per input bar, NaN inside its
//! lookback, and reproduces TA-Lib's seeding so that outputs match bar for bar.

use crate::hilbert::{MAMA_LOOKBACK, mama};
use crate::warmup::{collect_values, nan_vec, push_missing, shifted};

/// TA-Lib's `TA_MAType`, numbered as TA-Lib numbers it (the `matype` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaType {
    Sma,
    Ema,
    Wma,
    Dema,
    Tema,
    Trima,
    Kama,
    Mama,
    T3,
}

impl MaType {
    pub(crate) const ALL: [MaType; 9] = [
        MaType::Sma,
        MaType::Ema,
        MaType::Wma,
        MaType::Dema,
        MaType::Tema,
        MaType::Trima,
        MaType::Kama,
        MaType::Mama,
        MaType::T3,
    ];

    /// Callers validate the parameter range first; anything else is SMA so
    /// that this can never panic.
    pub(crate) fn from_param(value: f64) -> MaType {
        MaType::ALL
            .get(value as usize)
            .copied()
            .unwrap_or(MaType::Sma)
    }
}

/// `TA_MA_Lookback`: a period of 1 means "no smoothing" for every type.
pub(crate) fn ma_lookback(period: usize, kind: MaType) -> usize {
    if period <= 1 {
        return 0;
    }
    match kind {
        MaType::Sma | MaType::Ema | MaType::Wma | MaType::Trima => period - 1,
        MaType::Dema => 2 * (period - 1),
        MaType::Tema => 3 * (period - 1),
        MaType::Kama => period,
        MaType::Mama => MAMA_LOOKBACK,
        MaType::T3 => 6 * (period - 1),
    }
}

/// `TA_MA`: the generic moving average behind every `matype` parameter.
/// MAMA ignores the period (TA-Lib runs it with fast limit 0.5 and slow limit
/// 0.05 and drops FAMA), except that a period of 1 still means "no smoothing".
pub(crate) fn ma(x: &[f64], period: usize, kind: MaType) -> Vec<f64> {
    ma_at(x, period, kind, 0)
}

/// `ma` on a slice that starts `origin` bars into the array TA-Lib was
/// given; only MAMA, whose filters alternate between even and odd bars,
/// cares.
fn ma_at(x: &[f64], period: usize, kind: MaType, origin: usize) -> Vec<f64> {
    if period <= 1 {
        return x.to_vec();
    }
    match kind {
        MaType::Sma => sma(x, period),
        MaType::Ema => ema(x, period),
        MaType::Wma => wma(x, period),
        MaType::Dema => dema(x, period),
        MaType::Tema => tema(x, period),
        MaType::Trima => trima(x, period),
        MaType::Kama => kama(x, period),
        MaType::Mama => {
            let [line, _] = mama(x, 0.5, 0.05, origin);
            line
        }
        MaType::T3 => t3(x, period, 0.7),
    }
}

/// `ma` as TA-Lib runs it when asked to start at `start` rather than at the
/// earliest possible bar: the average only sees data from
/// `start - lookback` on, which changes how recursive averages are seeded.
pub(crate) fn ma_from(x: &[f64], period: usize, kind: MaType, start: usize) -> Vec<f64> {
    let skip = start.saturating_sub(ma_lookback(period, kind));
    shifted(x, skip, |tail| ma_at(tail, period, kind, skip))
}

pub(crate) fn sma(x: &[f64], period: usize) -> Vec<f64> {
    collect_values(x.len(), |out| sma_into(x, period, out))
}

/// Appends `sma(x, period)` to `out`.
pub(crate) fn sma_into(x: &[f64], period: usize, out: &mut Vec<f64>) {
    let period = period.max(1);
    if x.len() < period {
        push_missing(out, x.len());
        return;
    }
    push_missing(out, period - 1);
    // A running total, added before and removed after each output, exactly as
    // TA-Lib does: a NaN anywhere poisons every later value, as it does there.
    let p = period as f64;
    let mut total: f64 = x[..period - 1].iter().sum();
    out.extend(x[period - 1..].iter().zip(x).map(|(&v, &old)| {
        total += v;
        let mean = total / p;
        total -= old;
        mean
    }));
}

/// EMA seeded with the SMA of its first `period` values (TA-Lib's default,
/// non-Metastock compatibility mode).
///
/// Each step is `fma(x - prev, k, prev)`: the TA-Lib build we match (the C
/// library in the `ta-lib` 0.8.2 wheel) picks an FMA-compiled EMA on CPUs
/// that have FMA, as every x86-64 server and every aarch64 CPU does, and
/// the fused step reproduces it bit for bit (the unfused one is an ulp off
/// on about one bar in 6,000). `mul_add` is fused on every target; where the
/// build does not enable the FMA instruction it is a call rather than one
/// instruction, still faster than the unfused step.
pub(crate) fn ema(x: &[f64], period: usize) -> Vec<f64> {
    collect_values(x.len(), |out| ema_into(x, period, out))
}

/// Appends `ema(x, period)` to `out`.
pub(crate) fn ema_into(x: &[f64], period: usize, out: &mut Vec<f64>) {
    ema_with_k_into(x, period, 2.0 / (period as f64 + 1.0), out);
}

pub(crate) fn ema_with_k_into(x: &[f64], period: usize, k: f64, out: &mut Vec<f64>) {
    let period = period.max(1);
    if x.len() < period {
        push_missing(out, x.len());
        return;
    }
    push_missing(out, period - 1);
    let mut prev = x[..period].iter().sum::<f64>() / period as f64;
    out.push(prev);
    out.extend(x[period..].iter().map(|&v| {
        prev = (v - prev).mul_add(k, prev);
        prev
    }));
}

pub(crate) fn wma(x: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    if period <= 1 {
        return x.to_vec();
    }
    if x.len() < period {
        return out;
    }
    let divider = (period * (period + 1) / 2) as f64;
    let weight = period as f64;
    // Two running sums (plain and weighted) so that each step is O(1); the
    // order of additions follows TA-Lib's so rounding matches.
    let mut plain = 0.0;
    let mut weighted = 0.0;
    for (i, &v) in x[..period - 1].iter().enumerate() {
        plain += v;
        weighted += v * (i + 1) as f64;
    }
    let mut trailing_value = 0.0;
    for i in period - 1..x.len() {
        let v = x[i];
        plain += v;
        plain -= trailing_value;
        weighted += v * weight;
        trailing_value = x[i + 1 - period];
        out[i] = weighted / divider;
        weighted -= plain;
    }
    out
}

pub(crate) fn dema(x: &[f64], period: usize) -> Vec<f64> {
    let lookback = period.saturating_sub(1);
    let first = ema(x, period);
    let second = shifted(&first, lookback, |tail| ema(tail, period));
    first
        .iter()
        .zip(&second)
        .map(|(&a, &b)| if b.is_nan() { f64::NAN } else { 2.0 * a - b })
        .collect()
}

pub(crate) fn tema(x: &[f64], period: usize) -> Vec<f64> {
    let lookback = period.saturating_sub(1);
    let first = ema(x, period);
    let second = shifted(&first, lookback, |tail| ema(tail, period));
    let third = shifted(&second, 2 * lookback, |tail| ema(tail, period));
    (0..x.len())
        .map(|i| {
            if third[i].is_nan() {
                f64::NAN
            } else {
                3.0 * first[i] - 3.0 * second[i] + third[i]
            }
        })
        .collect()
}

/// Triangular MA: an SMA of an SMA, written as one weighted window (weights
/// 1, 2, .., m, .., 2, 1) so it stays exact over long runs.
pub(crate) fn trima(x: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    if period <= 1 {
        return x.to_vec();
    }
    if x.len() < period {
        return out;
    }
    let half = period / 2;
    let (rising, total) = if period % 2 == 1 {
        (half + 1, ((half + 1) * (half + 1)) as f64)
    } else {
        (half, (half * (half + 1)) as f64)
    };
    let weights: Vec<f64> = (0..period)
        .map(|j| (j + 1).min(rising).min(period - j) as f64)
        .collect();
    for i in period - 1..x.len() {
        let window = &x[i + 1 - period..=i];
        let sum: f64 = window.iter().zip(&weights).map(|(v, w)| v * w).sum();
        out[i] = sum / total;
    }
    out
}

/// Kaufman adaptive MA with TA-Lib's fixed fast (2) and slow (30) constants.
pub(crate) fn kama(x: &[f64], period: usize) -> Vec<f64> {
    if period <= 1 {
        // The TA-Lib build we match treats period 1 as "no smoothing".
        return x.to_vec();
    }
    let mut out = nan_vec(x.len());
    if x.len() <= period {
        return out;
    }
    let const_max = 2.0 / (30.0 + 1.0);
    let const_diff = 2.0 / (2.0 + 1.0) - const_max;
    let smoothing = |sum_roc: f64, period_roc: f64| {
        // TA-Lib compares the signed change with the (positive) volatility.
        let ratio = if sum_roc <= period_roc || is_zero(sum_roc) {
            1.0
        } else {
            (period_roc / sum_roc).abs()
        };
        let sc = ratio * const_diff + const_max;
        sc * sc
    };
    let mut sum_roc: f64 = 0.0;
    for i in 0..period {
        sum_roc += (x[i] - x[i + 1]).abs();
    }
    let mut prev = x[period - 1];
    let mut trailing_value = x[0];
    let sc = smoothing(sum_roc, x[period] - x[0]);
    prev = (x[period] - prev) * sc + prev;
    out[period] = prev;
    for today in period + 1..x.len() {
        let trailing = x[today - period];
        let period_roc = x[today] - trailing;
        sum_roc -= (trailing_value - trailing).abs();
        sum_roc += (x[today] - x[today - 1]).abs();
        trailing_value = trailing;
        let sc = smoothing(sum_roc, period_roc);
        prev = (x[today] - prev) * sc + prev;
        out[today] = prev;
    }
    out
}

/// Tillson T3: six chained EMAs, each seeded with the mean of its first
/// `period` values, combined with the volume-factor polynomial.
pub(crate) fn t3(x: &[f64], period: usize, vfactor: f64) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    let period = period.max(1);
    let lookback = 6 * (period - 1);
    if x.len() <= lookback {
        return out;
    }
    let k = 2.0 / (period as f64 + 1.0);
    let one_minus_k = 1.0 - k;
    let p = period as f64;
    let mut today = 0;
    let mut next = || {
        let v = x[today];
        today += 1;
        v
    };
    let mut e = [0.0f64; 6];
    // Seed stage by stage: each stage's seed is the mean of the first
    // `period` values of the stage below, which is still being warmed up.
    for stage in 0..6 {
        let mut total = 0.0;
        for n in 0..period {
            if stage == 0 {
                total += next();
                continue;
            }
            if n == 0 {
                total = e[stage - 1];
                continue;
            }
            e[0] = k * next() + one_minus_k * e[0];
            for s in 1..stage {
                e[s] = k * e[s - 1] + one_minus_k * e[s];
            }
            total += e[stage - 1];
        }
        e[stage] = total / p;
    }
    let v2 = vfactor * vfactor;
    let c1 = -v2 * vfactor;
    let c2 = 3.0 * (v2 - c1);
    let c3 = -6.0 * v2 - 3.0 * (vfactor - c1);
    let c4 = 1.0 + 3.0 * vfactor - c1 + 3.0 * v2;
    let combine = |e: &[f64; 6]| c1 * e[5] + c2 * e[4] + c3 * e[3] + c4 * e[2];
    out[lookback] = combine(&e);
    for slot in out.iter_mut().skip(lookback + 1) {
        e[0] = k * next() + one_minus_k * e[0];
        for s in 1..6 {
            e[s] = k * e[s - 1] + one_minus_k * e[s];
        }
        *slot = combine(&e);
    }
    out
}

/// TA-Lib's `TA_IS_ZERO`: values this close to zero are treated as zero to
/// dodge divisions by rounding noise.
pub(crate) fn is_zero(v: f64) -> bool {
    -TA_EPSILON < v && v < TA_EPSILON
}

/// The band of `TA_IS_ZERO` in the TA-Lib build we match (the C library
/// bundled with the `ta-lib` 0.8.2 wheel). Few of its functions still use
/// an absolute band (KAMA, PPO); others test exact zero or scale this by
/// the size of the operands, and the kernels say which.
pub(crate) const TA_EPSILON: f64 = 1e-14;
