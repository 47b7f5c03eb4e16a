//! Price channels TA-Lib does not have: Donchian, Keltner, Ichimoku and
//! SuperTrend. There is no single standard for these, so each function
//! states its convention, and the catalogue description repeats it. They are
//! checked against an independent implementation in
//! `scripts/talib_reference.py`, not against TA-Lib.

use crate::moving_average::ema;
use crate::rolling::{highest, lowest};
use crate::volatility::atr;
use crate::warmup::nan_vec;

/// TA-Lib's ATR warm-up: the first true range needs a previous close.
fn atr_lookback(period: usize) -> usize {
    period.max(1)
}

/// Donchian channel `[upper, middle, lower]`: highest high and lowest low of
/// the last `period` bars *including* the current one, and their midpoint.
pub(crate) fn donchian(high: &[f64], low: &[f64], period: usize) -> [Vec<f64>; 3] {
    let upper = highest(high, period);
    let lower = lowest(low, period);
    let middle = upper
        .iter()
        .zip(&lower)
        .map(|(u, l)| (u + l) / 2.0)
        .collect();
    [upper, middle, lower]
}

/// Keltner channel `[upper, middle, lower]`: the middle is TA-Lib's EMA of
/// the close over `period` (seeded with an SMA), the bands sit `multiplier`
/// times TA-Lib's ATR over `atr_period` away. All three start on the first
/// bar where both the EMA and the ATR exist.
pub(crate) fn keltner(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    atr_period: usize,
    multiplier: f64,
) -> [Vec<f64>; 3] {
    let len = close.len();
    let start = period.saturating_sub(1).max(atr_lookback(atr_period));
    let mut bands = [nan_vec(len), nan_vec(len), nan_vec(len)];
    if len <= start {
        return bands;
    }
    let middle = ema(close, period);
    let range = atr(high, low, close, atr_period);
    for i in start..len {
        let width = multiplier * range[i];
        bands[0][i] = middle[i] + width;
        bands[1][i] = middle[i];
        bands[2][i] = middle[i] - width;
    }
    bands
}

/// Ichimoku `[tenkan, kijun, senkou_a, senkou_b, chikou]`, every line on the
/// bar it is computed from, **not displaced**: tenkan and kijun are the
/// midpoints of the highest high and lowest low over their periods;
/// senkou_a is (tenkan + kijun) / 2 and senkou_b the midpoint over its
/// period, both on the bar they are computed on (charts draw them
/// `kijun_period` bars ahead); chikou is the close itself (charts draw it
/// `kijun_period` bars back). Each line has its own warm-up.
pub(crate) fn ichimoku(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    tenkan_period: usize,
    kijun_period: usize,
    senkou_b_period: usize,
) -> [Vec<f64>; 5] {
    let midpoint = |period| {
        let hi = highest(high, period);
        let lo = lowest(low, period);
        hi.iter()
            .zip(&lo)
            .map(|(h, l)| (h + l) / 2.0)
            .collect::<Vec<f64>>()
    };
    let tenkan = midpoint(tenkan_period);
    let kijun = midpoint(kijun_period);
    let senkou_a = tenkan
        .iter()
        .zip(&kijun)
        .map(|(t, k)| (t + k) / 2.0)
        .collect();
    let senkou_b = midpoint(senkou_b_period);
    [tenkan, kijun, senkou_a, senkou_b, close.to_vec()]
}

/// SuperTrend `[supertrend, direction]` on TA-Lib's ATR (Wilder smoothing,
/// seeded with the mean of the first `period` true ranges, first value on
/// bar `period`). Basic bands are hl2 ± multiplier × ATR; the final lower
/// band only rises and the final upper band only falls, unless the previous
/// close broke through them. The first bar starts in a downtrend (line on
/// the upper band), as TradingView's `ta.supertrend` does; a downtrend turns
/// up when the close is above the final upper band, an uptrend turns down
/// when the close is below the final lower band. `direction` is +1 up (line
/// on the lower band) and -1 down, the opposite sign of TradingView's.
pub(crate) fn supertrend(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    multiplier: f64,
) -> [Vec<f64>; 2] {
    let len = close.len();
    let mut line = nan_vec(len);
    let mut direction = nan_vec(len);
    let start = atr_lookback(period);
    if len <= start {
        return [line, direction];
    }
    let range = atr(high, low, close, period);
    let mut upper = 0.0;
    let mut lower = 0.0;
    let mut up = false;
    for i in start..len {
        let mid = (high[i] + low[i]) / 2.0;
        let basic_upper = mid + multiplier * range[i];
        let basic_lower = mid - multiplier * range[i];
        if i == start {
            upper = basic_upper;
            lower = basic_lower;
            up = false;
        } else {
            let prev_close = close[i - 1];
            if basic_lower > lower || prev_close < lower {
                lower = basic_lower;
            }
            if basic_upper < upper || prev_close > upper {
                upper = basic_upper;
            }
            up = if up {
                close[i] >= lower
            } else {
                close[i] > upper
            };
        }
        line[i] = if up { lower } else { upper };
        direction[i] = if up { 1.0 } else { -1.0 };
    }
    [line, direction]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            if e.is_nan() {
                assert!(a.is_nan(), "[{i}] expected NaN, got {a}");
            } else {
                assert!(
                    (a - e).abs() <= 1e-12 * e.abs().max(1.0),
                    "[{i}] {a} != {e}"
                );
            }
        }
    }

    const NAN: f64 = f64::NAN;

    #[test]
    fn donchian_includes_the_current_bar() {
        let high = [3.0, 5.0, 4.0, 2.0, 6.0];
        let low = [1.0, 2.0, 0.5, 1.5, 3.0];
        let [u, m, l] = donchian(&high, &low, 3);
        assert_close(&u, &[NAN, NAN, 5.0, 5.0, 6.0]);
        assert_close(&l, &[NAN, NAN, 0.5, 0.5, 0.5]);
        assert_close(&m, &[NAN, NAN, 2.75, 2.75, 3.25]);
    }

    #[test]
    fn ichimoku_lines_are_not_displaced() {
        let high = [10.0, 12.0, 11.0, 13.0, 9.0];
        let low = [8.0, 9.0, 7.0, 10.0, 6.0];
        let close = [9.0, 11.0, 8.0, 12.0, 7.0];
        let [tenkan, kijun, a, b, chikou] = ichimoku(&high, &low, &close, 2, 3, 4);
        // Tenkan(2) on bar 1: (max(10, 12) + min(8, 9)) / 2.
        assert_close(&tenkan, &[NAN, 10.0, 9.5, 10.0, 9.5]);
        assert_close(&kijun, &[NAN, NAN, 9.5, 10.0, 9.5]);
        assert_close(&a, &[NAN, NAN, 9.5, 10.0, 9.5]);
        assert_close(&b, &[NAN, NAN, NAN, 10.0, 9.5]);
        assert_close(&chikou, &close);
    }

    #[test]
    fn keltner_bands_start_with_the_atr() {
        // Constant true range of 2 from bar 1 on: ATR(2) = 2 from bar 2.
        let close = [10.0, 10.0, 10.0, 10.0];
        let high = [11.0, 11.0, 11.0, 11.0];
        let low = [9.0, 9.0, 9.0, 9.0];
        let [u, m, l] = keltner(&high, &low, &close, 2, 2, 1.5);
        assert_close(&m, &[NAN, NAN, 10.0, 10.0]);
        assert_close(&u, &[NAN, NAN, 13.0, 13.0]);
        assert_close(&l, &[NAN, NAN, 7.0, 7.0]);
    }

    #[test]
    fn supertrend_flips_on_a_close_through_the_band() {
        // Range 2 every bar, ATR(1) = true range.
        let high = [11.0, 11.0, 11.0, 15.0, 16.0, 12.0, 8.0];
        let low = [9.0, 9.0, 9.0, 13.0, 14.0, 10.0, 6.0];
        let close = [10.0, 10.0, 10.0, 14.5, 15.0, 10.5, 6.5];
        let [line, dir] = supertrend(&high, &low, &close, 1, 1.0);
        // Bar 1: TR 2, bands 10 ± 2, starts down on the upper band 12.
        // Bar 2: same basic bands; still down (10 <= 12).
        // Bar 3: TR max(2, |15 - 10|, |13 - 10|) = 5, hl2 14 -> basic 19 / 9;
        //        upper stays 12 (19 > 12 and close 10 <= 12), lower rises to 9;
        //        close 14.5 > 12 -> up, line on lower 9.
        // Bar 4: TR max(2, 1.5, 0.5) = 2, hl2 15 -> 17 / 13; lower 13;
        //        close 15 >= 13 stays up; upper resets to 17 (the previous
        //        close 14.5 broke the old 12).
        // Bar 5: TR max(2, 3, 5) = 5, hl2 11 -> 16 / 6; lower stays 13
        //        (6 < 13, previous close 15 >= 13); upper falls to 16;
        //        close 10.5 < 13 -> down, line on the upper band.
        // Bar 6: TR max(2, 2.5, 4.5) = 4.5, hl2 7 -> 11.5 / 2.5; upper 11.5;
        //        close 6.5 <= 11.5 stays down.
        assert_close(&line, &[NAN, 12.0, 12.0, 9.0, 13.0, 16.0, 11.5]);
        assert_close(&dir, &[NAN, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0]);
    }
}
