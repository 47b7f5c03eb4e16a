//! Volume-weighted accumulation lines.

use crate::moving_average::TA_EPSILON;
use crate::warmup::nan_vec;

/// `TA_OBV`: starts at the first bar's volume, then adds or subtracts each
/// bar's volume as the close rises or falls.
pub(crate) fn obv(close: &[f64], volume: &[f64]) -> Vec<f64> {
    let mut out = nan_vec(close.len());
    let Some((&first_close, &first_volume)) = close.first().zip(volume.first()) else {
        return out;
    };
    let mut total = first_volume;
    let mut prev = first_close;
    out[0] = total;
    for i in 1..close.len() {
        if close[i] > prev {
            total += volume[i];
        } else if close[i] < prev {
            total -= volume[i];
        }
        out[i] = total;
        prev = close[i];
    }
    out
}

/// One bar's money-flow volume for the A/D line; bars with no range add nothing.
fn money_flow(high: f64, low: f64, close: f64, volume: f64) -> f64 {
    let range = high - low;
    if range > 0.0 {
        (((close - low) - (high - close)) / range) * volume
    } else {
        0.0
    }
}

/// `TA_AD`: Chaikin's accumulation/distribution line.
pub(crate) fn ad(high: &[f64], low: &[f64], close: &[f64], volume: &[f64]) -> Vec<f64> {
    let mut total = 0.0;
    (0..close.len())
        .map(|i| {
            total += money_flow(high[i], low[i], close[i], volume[i]);
            total
        })
        .collect()
}

/// `TA_ADOSC`: fast EMA minus slow EMA of the A/D line. Unlike `TA_EMA`,
/// both EMAs are seeded with the first A/D value, not an SMA, and the
/// periods are used as given (never swapped).
pub(crate) fn adosc(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    fast: usize,
    slow: usize,
) -> Vec<f64> {
    let mut out = nan_vec(close.len());
    let lookback = fast.max(slow).saturating_sub(1);
    if close.len() <= lookback {
        return out;
    }
    let fast_k = 2.0 / (fast as f64 + 1.0);
    let slow_k = 2.0 / (slow as f64 + 1.0);
    let mut line = 0.0;
    let mut fast_ema = 0.0;
    let mut slow_ema = 0.0;
    for i in 0..close.len() {
        line += money_flow(high[i], low[i], close[i], volume[i]);
        if i == 0 {
            fast_ema = line;
            slow_ema = line;
        } else {
            fast_ema = fast_k * line + (1.0 - fast_k) * fast_ema;
            slow_ema = slow_k * line + (1.0 - slow_k) * slow_ema;
        }
        if i >= lookback {
            out[i] = fast_ema - slow_ema;
        }
    }
    out
}

/// `TA_MFI`: RSI on money flow (typical price × volume), over `period` bars.
///
/// A typical-price change within rounding of the prices themselves counts
/// as no change (TA-Lib's scale-aware zero test). Each side's sum is exact
/// zero once no bar in the window feeds it, so a run of zero-volume bars
/// scores 0 rather than rounding noise.
pub(crate) fn mfi(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Vec<f64> {
    let mut out = nan_vec(close.len());
    if close.len() <= period || period == 0 {
        return out;
    }
    let typical = |i: usize| (high[i] + low[i] + close[i]) / 3.0;
    // (positive, negative) flow of each bar, kept to drop it from the sums.
    let mut flows = vec![(0.0, 0.0); close.len()];
    let (mut pos, mut neg) = (0.0, 0.0);
    let (mut pos_bars, mut neg_bars) = (0usize, 0usize);
    let mut prev = typical(0);
    for i in 1..close.len() {
        let tp = typical(i);
        let change = tp - prev;
        let flow = tp * volume[i];
        flows[i] = if change.abs() <= TA_EPSILON * (tp.abs() + prev.abs()) {
            (0.0, 0.0)
        } else if change < 0.0 {
            (0.0, flow)
        } else {
            (flow, 0.0)
        };
        prev = tp;
        if i > period {
            let (p, n) = flows[i - period];
            pos -= p;
            neg -= n;
            pos_bars -= usize::from(p != 0.0);
            neg_bars -= usize::from(n != 0.0);
        }
        pos += flows[i].0;
        neg += flows[i].1;
        pos_bars += usize::from(flows[i].0 != 0.0);
        neg_bars += usize::from(flows[i].1 != 0.0);
        if pos_bars == 0 {
            pos = 0.0;
        }
        if neg_bars == 0 {
            neg = 0.0;
        }
        if i >= period {
            let total = pos + neg;
            out[i] = if total == 0.0 {
                0.0
            } else {
                100.0 * (pos / total)
            };
        }
    }
    out
}

/// Volume-weighted average price of the typical price (high + low + close)
/// / 3. `period` 0 is the session-less cumulative VWAP: one running total
/// from the first bar of the series, never reset (callers wanting daily
/// sessions pass one session's bars). `period` n > 0 is a rolling VWAP over
/// the last n bars including the current one (first value on bar n - 1).
/// Bars where the summed volume is zero have no value.
pub(crate) fn vwap(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Vec<f64> {
    let len = close.len();
    let mut out = nan_vec(len);
    let typical = |i: usize| (high[i] + low[i] + close[i]) / 3.0;
    let mut weighted = 0.0;
    let mut total = 0.0;
    // Bars with volume in the window: when none are left the running sums
    // restart from an exact zero instead of carrying rounding residue.
    let mut traded = 0usize;
    for i in 0..len {
        weighted += typical(i) * volume[i];
        total += volume[i];
        traded += usize::from(volume[i] != 0.0);
        if period > 0 && i >= period {
            let old = i - period;
            weighted -= typical(old) * volume[old];
            total -= volume[old];
            traded -= usize::from(volume[old] != 0.0);
        }
        if traded == 0 {
            weighted = 0.0;
            total = 0.0;
        }
        if i + 1 >= period && traded > 0 {
            out[i] = weighted / total;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bars whose typical price is exactly `typical` (high = low = close).
    fn flat_bars(typical: &[f64]) -> [Vec<f64>; 3] {
        [typical.to_vec(), typical.to_vec(), typical.to_vec()]
    }

    fn same(actual: &[f64], expected: &[f64]) -> bool {
        actual.len() == expected.len()
            && actual
                .iter()
                .zip(expected)
                .all(|(a, e)| (a.is_nan() && e.is_nan()) || a == e)
    }

    #[test]
    fn vwap_cumulative_and_rolling() {
        let [h, l, c] = flat_bars(&[10.0, 20.0, 30.0, 40.0]);
        let v = [1.0, 0.0, 3.0, 1.0];
        let cumulative = vwap(&h, &l, &c, &v, 0);
        // (10 + 90) / 4 = 25; (10 + 90 + 40) / 5 = 28.
        assert!(
            same(&cumulative, &[10.0, 10.0, 25.0, 28.0]),
            "{cumulative:?}"
        );
        let rolling = vwap(&h, &l, &c, &v, 2);
        // Bar 2: (0 + 90) / 3; bar 3: (90 + 40) / 4.
        assert!(same(&rolling, &[f64::NAN, 10.0, 30.0, 32.5]), "{rolling:?}");
        let one = vwap(&h, &l, &c, &v, 1);
        assert!(same(&one, &[10.0, f64::NAN, 30.0, 40.0]), "{one:?}");
    }

    #[test]
    fn vwap_uses_the_typical_price_and_skips_volumeless_bars() {
        let h = [12.0, 12.0, 12.0];
        let l = [6.0, 6.0, 6.0];
        let c = [9.0, 9.0, 12.0];
        let v = [0.0, 0.0, 2.0];
        // Typical prices 9, 9, 10; no value until some volume has traded.
        assert!(same(&vwap(&h, &l, &c, &v, 0), &[f64::NAN, f64::NAN, 10.0]));
        assert!(same(&vwap(&h, &l, &c, &v, 2), &[f64::NAN, f64::NAN, 10.0]));
    }
}
