//! Momentum oscillators: how fast and how far price has moved.

use crate::moving_average::{MaType, TA_EPSILON, ema, is_zero, ma, ma_from, ma_lookback};
use crate::rolling::{SlidingExtreme, extreme_indices, highest, lowest};
use crate::warmup::{CHUNK, collect_values, for_each_chunk, nan_vec, push_missing, shifted};

/// `TA_RSI` with Wilder smoothing and TA-Lib's default unstable period 0:
/// the first value uses plain averages of the first `period` changes.
pub(crate) fn rsi(x: &[f64], period: usize) -> Vec<f64> {
    collect_values(x.len(), |out| rsi_into(x, period, out))
}

/// `TA_CMO`: RSI's smoothing, scored as (gain - loss) / (gain + loss).
pub(crate) fn cmo(x: &[f64], period: usize) -> Vec<f64> {
    let p = period as f64;
    wilder_oscillator(
        x,
        period,
        move |sum| sum / p,
        |gain, loss| {
            let total = gain + loss;
            if total == 0.0 {
                0.0
            } else {
                100.0 * ((gain - loss) / total)
            }
        },
    )
}

fn wilder_oscillator(
    x: &[f64],
    period: usize,
    average: impl Fn(f64) -> f64,
    score: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    collect_values(x.len(), |out| {
        wilder_oscillator_into(x, period, average, score, out);
    })
}

/// Appends `rsi(x, period)` to `out`.
///
/// The TA-Lib build we match averages RSI's sums by multiplying with a
/// precomputed `1 / period` (CMO divides): one more rounding, and no
/// division on the loop's critical path. Doing the same gives its values
/// bit for bit (checked on a million-bar random walk) where dividing was an
/// ulp off on about two bars in three.
pub(crate) fn rsi_into(x: &[f64], period: usize, out: &mut Vec<f64>) {
    let reciprocal = 1.0 / period as f64;
    wilder_oscillator_into(x, period, move |sum| sum * reciprocal, rsi_score, out);
}

fn rsi_score(gain: f64, loss: f64) -> f64 {
    // Only a true zero is refused: gains of 1e-15 on tiny prices are real.
    let total = gain + loss;
    if total == 0.0 {
        0.0
    } else {
        100.0 * (gain / total)
    }
}

/// Wilder's smoothing of gains and losses, `average` turning a sum of
/// `period` values into their mean, `score` turning the two means into the
/// output.
fn wilder_oscillator_into(
    x: &[f64],
    period: usize,
    average: impl Fn(f64) -> f64,
    score: impl Fn(f64, f64) -> f64,
    out: &mut Vec<f64>,
) {
    if period < 1 || x.len() <= period {
        push_missing(out, x.len());
        return;
    }
    push_missing(out, period);
    let p = period as f64;
    let mut gain = 0.0;
    let mut loss = 0.0;
    for i in 1..=period {
        let change = x[i] - x[i - 1];
        if change < 0.0 {
            loss -= change;
        } else {
            gain += change;
        }
    }
    gain = average(gain);
    loss = average(loss);
    out.push(score(gain, loss));
    // Branch-free: the sign of a price change is a coin toss the branch
    // predictor loses half the time. Adding 0.0 to a non-negative sum, or
    // subtracting it, leaves the sum's bits as they were, so this steps the
    // sums exactly as the branches above do (a NaN change still poisons
    // only the gain).
    out.extend(
        x[period..]
            .iter()
            .zip(&x[period + 1..])
            .map(|(&before, &now)| {
                let change = now - before;
                let up = if change < 0.0 { 0.0 } else { change };
                let down = if change < 0.0 { change } else { 0.0 };
                gain = average(gain * (p - 1.0) + up);
                loss = average(loss * (p - 1.0) - down);
                score(gain, loss)
            }),
    );
}

/// `TA_MACD`: `[macd, signal, hist]`. TA-Lib swaps the periods when slow <
/// fast and seeds the fast EMA where the slow one starts, so both lines begin
/// on the same bar.
pub(crate) fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> [Vec<f64>; 3] {
    let mut out: [Vec<f64>; 3] = std::array::from_fn(|_| Vec::with_capacity(x.len()));
    let [line, signal_line, hist] = &mut out;
    macd_into(x, fast, slow, signal, [line, signal_line, hist]);
    out
}

/// Appends `macd(x, fast, slow, signal)` to the three outputs.
pub(crate) fn macd_into(
    x: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    out: [&mut Vec<f64>; 3],
) {
    let (fast, slow) = if slow < fast {
        (slow, fast)
    } else {
        (fast, slow)
    };
    ema_macd(
        x,
        (fast, per_to_k(fast)),
        (slow, per_to_k(slow)),
        signal,
        out,
    );
}

/// `TA_MACDFIX`: MACD 12/26 with TA-Lib's fixed smoothing factors 0.15 and
/// 0.075 rather than 2 / (period + 1), and an EMA signal line.
///
/// The TA-Lib build we match runs this one in a single pass whose EMA steps
/// are fused multiply-adds, `fma(x - prev, k, prev)`, as are MACD's (see
/// `ema_macd`); the rounding differs from the unfused form by an ulp now
/// and then, which is visible where the line is a tiny difference of large
/// prices.
pub(crate) fn macdfix(x: &[f64], signal: usize) -> [Vec<f64>; 3] {
    const FAST: usize = 12;
    const SLOW: usize = 26;
    let (k_fast, k_slow) = (0.15, 0.075);
    let signal = signal.max(1);
    let k_signal = 2.0 / (signal as f64 + 1.0);
    let start = (SLOW - 1) + (signal - 1);
    let len = x.len();
    let mut out = [nan_vec(len), nan_vec(len), nan_vec(len)];
    if len <= start {
        return out;
    }
    // Both seeds are plain means of windows ending on bar SLOW - 1.
    let slow_sum: f64 = x[..SLOW].iter().sum();
    let fast_sum: f64 = x[SLOW - FAST..SLOW].iter().sum();
    let mut fast = fast_sum / FAST as f64;
    let mut slow = slow_sum / SLOW as f64;
    let mut line = fast - slow;
    let mut step = |v: f64| {
        fast = (v - fast).mul_add(k_fast, fast);
        slow = (v - slow).mul_add(k_slow, slow);
        fast - slow
    };
    // The signal is seeded with the mean of its first `signal` line values.
    let mut signal_line = line;
    for &v in &x[SLOW..=start] {
        line = step(v);
        signal_line += line;
    }
    signal_line /= signal as f64;
    for today in start..len {
        if today > start {
            line = step(x[today]);
            signal_line = if signal == 1 {
                line
            } else {
                (line - signal_line).mul_add(k_signal, signal_line)
            };
        }
        out[0][today] = line;
        out[1][today] = signal_line;
        out[2][today] = line - signal_line;
    }
    out
}

fn per_to_k(period: usize) -> f64 {
    2.0 / (period as f64 + 1.0)
}

/// `TA_INT_MACD`: EMA lines given as (period, smoothing factor); the period
/// sets the seed length and the warm-up. One pass, no intermediate series:
/// each EMA is seeded with the mean of its first `period` values, both seed
/// windows ending on the slow EMA's first bar, and the signal EMA is seeded
/// with the mean of the first `signal` line values. Each step is a fused
/// multiply-add, `fma(x - prev, k, prev)`, as in `ema`.
fn ema_macd(
    x: &[f64],
    (fast, k_fast): (usize, f64),
    (slow, k_slow): (usize, f64),
    signal: usize,
    [macd_out, signal_out, hist_out]: [&mut Vec<f64>; 3],
) {
    let len = x.len();
    let (fast, slow, signal) = (fast.max(1), slow.max(1), signal.max(1));
    let first_line = slow - 1;
    let start = first_line + (signal - 1);
    if len <= start || fast > slow {
        for out in [macd_out, signal_out, hist_out] {
            push_missing(out, len);
        }
        return;
    }
    let mean = |window: &[f64]| window.iter().sum::<f64>() / window.len() as f64;
    // (fast EMA, slow EMA) -> the MACD line.
    let step = |(fast_ema, slow_ema): &mut (f64, f64), v: f64| {
        *fast_ema = (v - *fast_ema).mul_add(k_fast, *fast_ema);
        *slow_ema = (v - *slow_ema).mul_add(k_slow, *slow_ema);
        *fast_ema - *slow_ema
    };
    let mut emas = (mean(&x[slow - fast..slow]), mean(&x[..slow]));
    let mut line = emas.0 - emas.1;
    let k_signal = 2.0 / (signal as f64 + 1.0);
    let mut signal_sum = line;
    for &v in &x[slow..=start] {
        line = step(&mut emas, v);
        signal_sum += line;
    }
    let signal_ema = signal_sum / signal as f64;
    for out in [&mut *macd_out, &mut *signal_out, &mut *hist_out] {
        push_missing(out, start);
    }
    macd_out.push(line);
    signal_out.push(signal_ema);
    hist_out.push(line - signal_ema);
    let (mut fast_ema, mut slow_ema) = emas;
    let mut signal_ema = signal_ema;
    for_each_chunk(
        &x[start + 1..],
        [macd_out, signal_out, hist_out],
        |chunk, [m, s, h]| {
            for (((&v, m), s), h) in chunk.iter().zip(m).zip(s).zip(h) {
                fast_ema = (v - fast_ema).mul_add(k_fast, fast_ema);
                slow_ema = (v - slow_ema).mul_add(k_slow, slow_ema);
                let line = fast_ema - slow_ema;
                signal_ema = (line - signal_ema).mul_add(k_signal, signal_ema);
                *m = line;
                *s = signal_ema;
                *h = line - signal_ema;
            }
        },
    );
}

/// The three MACD outputs from a line and its signal, all starting at `start`.
fn macd_outputs(line: &[f64], signal_line: &[f64], start: usize) -> [Vec<f64>; 3] {
    let len = line.len();
    let mut macd_out = nan_vec(len);
    let mut signal_out = nan_vec(len);
    let mut hist_out = nan_vec(len);
    for i in start.min(len)..len {
        macd_out[i] = line[i];
        signal_out[i] = signal_line[i];
        hist_out[i] = line[i] - signal_line[i];
    }
    [macd_out, signal_out, hist_out]
}

/// One moving average of `TA_MACDEXT`: a period and an MA type.
pub(crate) type MaChoice = (usize, MaType);

/// `TA_MACDEXT`: MACD with any MA type for each line. Periods (with their
/// types) are swapped when slow < fast; both lines start where the slower
/// MA can, and the signal MA runs on the line from there. An all-EMA request
/// is plain MACD, as TA-Lib delegates it.
pub(crate) fn macdext(
    x: &[f64],
    fast: MaChoice,
    slow: MaChoice,
    signal: MaChoice,
) -> [Vec<f64>; 3] {
    let all_ema = [fast, slow, signal]
        .iter()
        .all(|&(p, t)| t == MaType::Ema && p >= 2);
    if all_ema {
        return macd(x, fast.0, slow.0, signal.0);
    }
    let (fast, slow) = if slow.0 < fast.0 {
        (slow, fast)
    } else {
        (fast, slow)
    };
    let largest = ma_lookback(fast.0, fast.1).max(ma_lookback(slow.0, slow.1));
    let slow_line = ma_from(x, slow.0, slow.1, largest);
    let fast_line = ma_from(x, fast.0, fast.1, largest);
    let line: Vec<f64> = fast_line
        .iter()
        .zip(&slow_line)
        .map(|(f, s)| f - s)
        .collect();
    let signal_line = shifted(&line, largest, |t| ma(t, signal.0, signal.1));
    macd_outputs(
        &line,
        &signal_line,
        largest + ma_lookback(signal.0, signal.1),
    )
}

/// `TA_STOCHRSI`: the fast stochastic (`[fastk, fastd]`) of the RSI, run on
/// the RSI from its first value.
pub(crate) fn stochrsi(
    x: &[f64],
    period: usize,
    fastk_period: usize,
    fastd_period: usize,
    fastd_type: MaType,
) -> [Vec<f64>; 2] {
    let rsi_line = rsi(x, period);
    let [mut k, mut d] = [nan_vec(x.len()), nan_vec(x.len())];
    if x.len() > period {
        let tail = &rsi_line[period..];
        let [tail_k, tail_d] = stochf(tail, tail, tail, fastk_period, fastd_period, fastd_type);
        k[period..].copy_from_slice(&tail_k);
        d[period..].copy_from_slice(&tail_d);
    }
    [k, d]
}

/// `TA_MOM`: the change over `period` bars.
pub(crate) fn mom(x: &[f64], period: usize) -> Vec<f64> {
    lagged(x, period, |now, then| now - then)
}

/// `TA_ROC`: percent change over `period` bars; 0 where the old price is 0.
pub(crate) fn roc(x: &[f64], period: usize) -> Vec<f64> {
    lagged(x, period, |now, then| {
        if then != 0.0 {
            ((now / then) - 1.0) * 100.0
        } else {
            0.0
        }
    })
}

/// `TA_ROCP`: fractional change over `period` bars.
pub(crate) fn rocp(x: &[f64], period: usize) -> Vec<f64> {
    lagged(x, period, |now, then| {
        if then != 0.0 {
            (now - then) / then
        } else {
            0.0
        }
    })
}

/// `TA_ROCR`: price ratio over `period` bars.
pub(crate) fn rocr(x: &[f64], period: usize) -> Vec<f64> {
    lagged(
        x,
        period,
        |now, then| if then != 0.0 { now / then } else { 0.0 },
    )
}

fn lagged(x: &[f64], period: usize, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    for i in period..x.len() {
        out[i] = f(x[i], x[i - period]);
    }
    out
}

/// `TA_WILLR`: where the close sits in the window's range, 0 (top) to -100.
pub(crate) fn willr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let hi = highest(high, period);
    let lo = lowest(low, period);
    (0..close.len())
        .map(|i| {
            if hi[i].is_nan() || lo[i].is_nan() {
                return f64::NAN;
            }
            let diff = (hi[i] - lo[i]) / -100.0;
            if diff != 0.0 {
                (hi[i] - close[i]) / diff
            } else {
                0.0
            }
        })
        .collect()
}

/// `TA_CCI`: distance of the typical price from its SMA in units of mean
/// absolute deviation (× 0.015).
pub(crate) fn cci(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan_vec(close.len());
    let period = period.max(1);
    if close.len() < period {
        return out;
    }
    let typical: Vec<f64> = (0..close.len())
        .map(|i| (high[i] + low[i] + close[i]) / 3.0)
        .collect();
    let p = period as f64;
    for today in period - 1..close.len() {
        // TA-Lib keeps the window in a circular buffer and sums it in slot
        // order, not time order; bar b sits in slot b % period.
        let slot_bar = |slot: usize| today - ((today - slot) % period);
        let mut average = 0.0;
        for slot in 0..period {
            average += typical[slot_bar(slot)];
        }
        average /= p;
        let mut deviation = 0.0;
        for slot in 0..period {
            deviation += (typical[slot_bar(slot)] - average).abs();
        }
        let distance = typical[today] - average;
        // A distance within rounding of the average itself counts as none;
        // the TA-Lib build we match scales its zero test this way (measured
        // on prices near 1e6 that move by a few ulps).
        let negligible = distance.abs() <= TA_EPSILON * average.abs();
        out[today] = if !negligible && deviation != 0.0 {
            distance / (0.015 * (deviation / p))
        } else {
            0.0
        };
    }
    out
}

/// Raw %K: where the close sits in the window's high-low range, 0 to 100.
fn fast_k(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let hi = highest(high, period);
    let lo = lowest(low, period);
    (0..close.len())
        .map(|i| raw_k(hi[i], lo[i], close[i]))
        .collect()
}

/// One bar of raw %K from the window's highest high and lowest low.
#[inline]
fn raw_k(hi: f64, lo: f64, close: f64) -> f64 {
    if hi.is_nan() || lo.is_nan() {
        return f64::NAN;
    }
    // One division, then the scaling, as the TA-Lib build we match does it
    // (bit for bit; `(close - lo) / ((hi - lo) / 100)` is an ulp off on
    // about a third of the bars).
    let diff = hi - lo;
    if diff != 0.0 {
        (close - lo) / diff * 100.0
    } else {
        0.0
    }
}

/// `TA_STOCH`: `[slowk, slowd]`, %K smoothed once, then again for %D. Both
/// outputs start where %D does.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stoch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    fastk_period: usize,
    slowk_period: usize,
    slowk_type: MaType,
    slowd_period: usize,
    slowd_type: MaType,
) -> [Vec<f64>; 2] {
    let k_lookback = fastk_period.saturating_sub(1);
    let slowk_lookback = k_lookback + ma_lookback(slowk_period, slowk_type);
    let total = slowk_lookback + ma_lookback(slowd_period, slowd_type);
    let raw = fast_k(high, low, close, fastk_period);
    let slow_k = shifted(&raw, k_lookback, |t| ma(t, slowk_period, slowk_type));
    let slow_d = shifted(&slow_k, slowk_lookback, |t| ma(t, slowd_period, slowd_type));
    [blank_before(slow_k, total), blank_before(slow_d, total)]
}

/// The longest %K window `stoch_into` rescans rather than track with a deque.
const MAX_RESCANNED_WINDOW: usize = 64;

/// The longest %K window `stoch_into` simply folds: for the default 5 that
/// is five branch-free `max`es per bar, vectorised across bars, where
/// tracking the extreme costs a mispredicted branch whenever a random
/// walk's new bar is or is not the new extreme.
const MAX_FOLDED_WINDOW: usize = 16;

/// `stoch` appended to the outputs. With SMA smoothing (the default) it is
/// one pass over the bars, a chunk at a time (`SmaStoch::run`), with
/// `stoch`'s arithmetic and no full-length intermediate.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stoch_into(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    fastk_period: usize,
    slowk_period: usize,
    slowk_type: MaType,
    slowd_period: usize,
    slowd_type: MaType,
    [k_out, d_out]: [&mut Vec<f64>; 2],
) {
    let len = close.len();
    // `SlidingExtreme` rescans its window when the extreme leaves it; past
    // a short window a steady trend would make that quadratic, so long
    // windows keep `stoch`'s O(n) deque.
    let fused = slowk_type == MaType::Sma
        && slowd_type == MaType::Sma
        && fastk_period <= MAX_RESCANNED_WINDOW;
    if !fused {
        let [k, d] = stoch(
            high,
            low,
            close,
            fastk_period,
            slowk_period,
            slowk_type,
            slowd_period,
            slowd_type,
        );
        k_out.extend_from_slice(&k);
        d_out.extend_from_slice(&d);
        return;
    }
    let window = fastk_period.max(1);
    let k_lookback = window - 1;
    let slowk_lookback = k_lookback + ma_lookback(slowk_period, slowk_type);
    let total = slowk_lookback + ma_lookback(slowd_period, slowd_type);
    push_missing(k_out, total.min(len));
    push_missing(d_out, total.min(len));
    if len <= total {
        return;
    }
    let smoothing = SmaStoch {
        close,
        first_window: k_lookback,
        slowk_period: slowk_period.max(1),
        slowd_period: slowd_period.max(1),
    };
    if window <= MAX_FOLDED_WINDOW {
        // Each bar's extremes folded oldest to newest from NaN, a stretch
        // of bars at a time: one `max` per window slot across the stretch,
        // which vectorises. `f64::max`/`min` return the other operand for
        // NaN, so NaN is never chosen and an all-NaN window gives NaN, as
        // `SlidingExtreme` does.
        smoothing.run(
            |first, his, los| {
                his.fill(f64::NAN);
                los.fill(f64::NAN);
                for slot in first + 1 - window..=first {
                    for (m, &v) in his.iter_mut().zip(&high[slot..]) {
                        *m = m.max(v);
                    }
                    for (m, &v) in los.iter_mut().zip(&low[slot..]) {
                        *m = m.min(v);
                    }
                }
            },
            [k_out, d_out],
        );
    } else {
        let mut highest = SlidingExtreme::new(window, |a, b| a >= b);
        let mut lowest = SlidingExtreme::new(window, |a, b| a <= b);
        smoothing.run(
            |first, his, los| {
                for (i, (h, l)) in (first..).zip(his.iter_mut().zip(los.iter_mut())) {
                    (*h, *l) = (highest.next(high, i), lowest.next(low, i));
                }
            },
            [k_out, d_out],
        );
    }
}

/// Raw %K from each full window's extremes, smoothed twice by SMAs (a
/// period of 1 meaning no smoothing), with `sma`'s running totals and
/// arithmetic.
struct SmaStoch<'a> {
    close: &'a [f64],
    /// The bar the first full %K window ends on.
    first_window: usize,
    slowk_period: usize,
    slowd_period: usize,
}

impl SmaStoch<'_> {
    /// Appends both outputs from the first bar that has them (the caller
    /// has padded the warm-up, and made sure there is such a bar).
    /// `extremes(first, his, los)` fills `his` and `los` with the window
    /// high and low of bars `first..first + his.len()`; it is called for
    /// every bar once, in order, from the first full window on.
    ///
    /// Bar by bar, raw %K, slow %K and slow %D are three dependent
    /// divisions, too long a chain for the processor to overlap one bar
    /// with the next. So the bars go a chunk at a time, each stage over
    /// the whole chunk before the next: the running totals (additions, bar
    /// to bar) are parked and divided in a loop of their own, which
    /// vectorises. Each stage keeps its last `period - 1` inputs across
    /// chunks for the values leaving its window.
    fn run(
        self,
        mut extremes: impl FnMut(usize, &mut [f64], &mut [f64]),
        [k_out, d_out]: [&mut Vec<f64>; 2],
    ) {
        let close = self.close;
        let (mut his, mut los) = ([0.0; CHUNK], [0.0; CHUNK]);
        // Raw %K of bars `first..first + n`, appended to `raws`.
        let mut raw = |first: usize, n: usize, raws: &mut Vec<f64>| {
            let (his, los) = (&mut his[..n], &mut los[..n]);
            extremes(first, his, los);
            let bars = his.iter().zip(&*los).zip(&close[first..first + n]);
            raws.extend(bars.map(|((&hi, &lo), &c)| raw_k(hi, lo, c)));
        };
        let (kp, dp) = (self.slowk_period, self.slowd_period);
        let (kp_f, dp_f) = (kp as f64, dp as f64);
        let mut bar = self.first_window;
        // Raw %K, its running total, and the last kp - 1 values.
        let mut raws: Vec<f64> = Vec::with_capacity(kp - 1 + dp - 1 + CHUNK);
        let mut k_total = 0.0;
        for _ in 1..kp {
            raw(bar, 1, &mut raws);
            bar += 1;
            k_total += raws[raws.len() - 1];
        }
        // Slow %K, its running total, and the last dp - 1 values.
        let mut slow_ks: Vec<f64> = Vec::with_capacity(dp - 1 + CHUNK);
        let mut d_total = 0.0;
        for _ in 1..dp {
            raw(bar, 1, &mut raws);
            bar += 1;
            let r = raws[raws.len() - 1];
            let k = if kp == 1 {
                r
            } else {
                k_total += r;
                let k = k_total / kp_f;
                k_total -= raws[raws.len() - kp];
                k
            };
            d_total += k;
            slow_ks.push(k);
        }
        raws.drain(..raws.len() - (kp - 1));
        let len = close.len();
        while bar < len {
            let n = (len - bar).min(CHUNK);
            raw(bar, n, &mut raws);
            bar += n;
            let fresh = slow_ks.len();
            if kp == 1 {
                slow_ks.extend_from_slice(&raws);
            } else {
                slow_ks.extend(raws[kp - 1..].iter().zip(&raws).map(|(&v, &old)| {
                    k_total += v;
                    let parked = k_total;
                    k_total -= old;
                    parked
                }));
                for k in &mut slow_ks[fresh..] {
                    *k /= kp_f;
                }
            }
            k_out.extend_from_slice(&slow_ks[fresh..]);
            if dp == 1 {
                d_out.extend_from_slice(&slow_ks);
            } else {
                let fresh = d_out.len();
                d_out.extend(slow_ks[dp - 1..].iter().zip(&slow_ks).map(|(&v, &old)| {
                    d_total += v;
                    let parked = d_total;
                    d_total -= old;
                    parked
                }));
                for d in &mut d_out[fresh..] {
                    *d /= dp_f;
                }
            }
            raws.drain(..n);
            slow_ks.drain(..n);
        }
    }
}

/// `TA_STOCHF`: `[fastk, fastd]`, both starting where %D does.
pub(crate) fn stochf(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    fastk_period: usize,
    fastd_period: usize,
    fastd_type: MaType,
) -> [Vec<f64>; 2] {
    let k_lookback = fastk_period.saturating_sub(1);
    let total = k_lookback + ma_lookback(fastd_period, fastd_type);
    let raw = fast_k(high, low, close, fastk_period);
    let fast_d = shifted(&raw, k_lookback, |t| ma(t, fastd_period, fastd_type));
    [blank_before(raw, total), blank_before(fast_d, total)]
}

/// Blanks everything before `start`: TA-Lib reports all outputs of a
/// function from one common first bar.
fn blank_before(mut x: Vec<f64>, start: usize) -> Vec<f64> {
    let end = start.min(x.len());
    x[..end].fill(f64::NAN);
    x
}

/// `TA_AROON`: `[aroondown, aroonup]`, how recently (within `period + 1`
/// bars) the lowest low and highest high occurred, 0 to 100.
pub(crate) fn aroon(high: &[f64], low: &[f64], period: usize) -> [Vec<f64>; 2] {
    let hi = extreme_indices(high, period + 1, |a, b| a >= b);
    let lo = extreme_indices(low, period + 1, |a, b| a <= b);
    let factor = 100.0 / period as f64;
    let score = |today: usize, idx: Option<usize>| {
        idx.map_or(f64::NAN, |idx| {
            factor * (period as f64 - (today - idx) as f64)
        })
    };
    let down = lo
        .iter()
        .enumerate()
        .map(|(i, &idx)| score(i, idx))
        .collect();
    let up = hi
        .iter()
        .enumerate()
        .map(|(i, &idx)| score(i, idx))
        .collect();
    [down, up]
}

/// `TA_AROONOSC`: Aroon up minus Aroon down, computed as TA-Lib does from
/// the two indices directly.
pub(crate) fn aroonosc(high: &[f64], low: &[f64], period: usize) -> Vec<f64> {
    let hi = extreme_indices(high, period + 1, |a, b| a >= b);
    let lo = extreme_indices(low, period + 1, |a, b| a <= b);
    let factor = 100.0 / period as f64;
    hi.iter()
        .zip(&lo)
        .map(|(h, l)| match (h, l) {
            (Some(h), Some(l)) => factor * (*h as f64 - *l as f64),
            _ => f64::NAN,
        })
        .collect()
}

/// `TA_BOP`: (close - open) / (high - low); 0 for bars with no range (a
/// range of one ulp still counts).
pub(crate) fn bop(open: &[f64], high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    (0..close.len())
        .map(|i| {
            let range = high[i] - low[i];
            if range <= 0.0 {
                0.0
            } else {
                (close[i] - open[i]) / range
            }
        })
        .collect()
}

/// `TA_APO` / `TA_PPO` core: fast MA minus slow MA, periods swapped when
/// slow < fast. Unlike MACD, the fast MA keeps its own (earlier) seed.
fn price_oscillator(
    x: &[f64],
    fast: usize,
    slow: usize,
    kind: MaType,
    score: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let (fast, slow) = if slow < fast {
        (slow, fast)
    } else {
        (fast, slow)
    };
    let start = ma_lookback(slow, kind);
    let fast_ma = ma(x, fast, kind);
    let slow_ma = ma(x, slow, kind);
    let out = fast_ma
        .iter()
        .zip(&slow_ma)
        .map(|(&f, &s)| score(f, s))
        .collect();
    blank_before(out, start)
}

pub(crate) fn apo(x: &[f64], fast: usize, slow: usize, kind: MaType) -> Vec<f64> {
    price_oscillator(x, fast, slow, kind, |f, s| f - s)
}

pub(crate) fn ppo(x: &[f64], fast: usize, slow: usize, kind: MaType) -> Vec<f64> {
    price_oscillator(x, fast, slow, kind, |f, s| {
        if is_zero(s) {
            0.0
        } else {
            ((f - s) / s) * 100.0
        }
    })
}

/// `TA_TRIX`: one-bar percent change of a triple EMA.
pub(crate) fn trix(x: &[f64], period: usize) -> Vec<f64> {
    let lookback = period.saturating_sub(1);
    let first = ema(x, period);
    let second = shifted(&first, lookback, |t| ema(t, period));
    let third = shifted(&second, 2 * lookback, |t| ema(t, period));
    shifted(&third, 3 * lookback, |t| roc(t, 1))
}

/// `TA_ULTOSC`: weighted average (4:2:1) of buying pressure over true range
/// across three windows. TA-Lib sorts the periods, so their order does not
/// matter.
pub(crate) fn ultosc(high: &[f64], low: &[f64], close: &[f64], periods: [usize; 3]) -> Vec<f64> {
    let mut sorted = periods;
    sorted.sort_unstable();
    let longest = sorted[2];
    let mut out = nan_vec(close.len());
    if close.len() <= longest {
        return out;
    }
    // Buying pressure and true range of bar i (which needs bar i - 1).
    let terms = |i: usize| {
        let prev_close = close[i - 1];
        let true_low = if low[i] < prev_close {
            low[i]
        } else {
            prev_close
        };
        let mut range = high[i] - low[i];
        let up = (prev_close - high[i]).abs();
        if up > range {
            range = up;
        }
        let down = (prev_close - low[i]).abs();
        if down > range {
            range = down;
        }
        (close[i] - true_low, range)
    };
    let mut pressure = [0.0; 3];
    let mut range = [0.0; 3];
    for w in 0..3 {
        for i in longest + 1 - sorted[w]..longest {
            let (a, b) = terms(i);
            pressure[w] += a;
            range[w] += b;
        }
    }
    for (today, slot) in out.iter_mut().enumerate().skip(longest) {
        let (a, b) = terms(today);
        for w in 0..3 {
            pressure[w] += a;
            range[w] += b;
        }
        let mut total = 0.0;
        for (w, weight) in [4.0, 2.0, 1.0].into_iter().enumerate() {
            if range[w] != 0.0 {
                total += weight * (pressure[w] / range[w]);
            }
        }
        for w in 0..3 {
            let (a, b) = terms(today + 1 - sorted[w]);
            pressure[w] -= a;
            range[w] -= b;
        }
        *slot = 100.0 * (total / 7.0);
    }
    out
}
