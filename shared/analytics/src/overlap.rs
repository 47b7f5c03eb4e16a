//! Overlap studies that are not plain moving averages: bands and channels
//! drawn on the price scale.

use crate::moving_average::{MaType, ma};
use crate::rolling::{highest, lowest};
use crate::statistics::{RollingVariance, deviation, stddev, variance_from_sums};
use crate::warmup::{for_each_chunk, nan_vec, push_missing};

/// Bollinger bands: `[upper, middle, lower]`, appended to the outputs.
pub(crate) fn bbands(
    x: &[f64],
    period: usize,
    nbdev_up: f64,
    nbdev_dn: f64,
    kind: MaType,
    [upper, middle, lower]: [&mut Vec<f64>; 3],
) {
    let band = |m: f64, d: f64| (m + d * nbdev_up, m - d * nbdev_dn);
    // The deviation is always the plain rolling one, whatever the MA type:
    // the bands are not centred on the MA's own notion of the mean.
    if kind != MaType::Sma || period < 2 {
        let means = ma(x, period, kind);
        let deviations = stddev(x, period, 1.0);
        middle.extend_from_slice(&means);
        upper.extend(means.iter().zip(&deviations).map(|(&m, &d)| band(m, d).0));
        lower.extend(means.iter().zip(&deviations).map(|(&m, &d)| band(m, d).1));
        return;
    }
    // The default: one pass, with `sma`'s running total and `stddev`'s
    // rolling sums advanced side by side, and each band written once.
    let Some(windows) = RollingVariance::new(x, period) else {
        for out in [upper, middle, lower] {
            push_missing(out, x.len());
        }
        return;
    };
    let first = windows.first_bar();
    for out in [&mut *upper, &mut *middle, &mut *lower] {
        push_missing(out, first);
    }
    let p = period as f64;
    let inv_p = windows.inv_p();
    let mut total: f64 = x[..first].iter().sum();
    let mut windows = windows;
    let mut leaving = x;
    for_each_chunk(
        &x[first..],
        [upper, middle, lower],
        |chunk, [up, mid, down]| {
            // The running sums carry from bar to bar: park `sma`'s total in the
            // middle band and the variance's sums in the other two ...
            let parked = chunk.iter().zip(leaving).zip(&mut *mid).zip(&mut *up);
            for ((((&v, &old), m), sum), sum_sq) in parked.zip(&mut *down) {
                total += v;
                *m = total;
                total -= old;
                (*sum, *sum_sq) = windows.next_sums();
            }
            leaving = &leaving[chunk.len()..];
            // ... then finish each bar on its own, which vectorises: one bar at
            // a time, the divisions and square roots were most of the time.
            for ((u, m), d) in up.iter_mut().zip(mid.iter_mut()).zip(down.iter_mut()) {
                // `sma`'s mean to the bit, and `stddev`'s deviation.
                let mean = *m / p;
                let root = deviation(variance_from_sums(*u, *d, inv_p), 1.0);
                *m = mean;
                *u = mean + root * nbdev_up;
                *d = mean - root * nbdev_dn;
            }
        },
    );
}

/// `TA_MIDPOINT`: halfway between the highest and lowest close of the window.
pub(crate) fn midpoint(x: &[f64], period: usize) -> Vec<f64> {
    let hi = highest(x, period);
    let lo = lowest(x, period);
    hi.iter().zip(&lo).map(|(h, l)| (h + l) / 2.0).collect()
}

/// `TA_MIDPRICE`: halfway between the window's highest high and lowest low.
pub(crate) fn midprice(high: &[f64], low: &[f64], period: usize) -> Vec<f64> {
    let hi = highest(high, period);
    let lo = lowest(low, period);
    hi.iter().zip(&lo).map(|(h, l)| (h + l) / 2.0).collect()
}

/// `TA_SAR`: Wilder's parabolic stop-and-reverse. The first direction comes
/// from the first bar's -DM (long unless the low fell further than the high
/// rose), and the first SAR is the previous bar's extreme.
pub(crate) fn sar(high: &[f64], low: &[f64], acceleration: f64, maximum: f64) -> Vec<f64> {
    let step = acceleration.min(maximum);
    let settings = SarSettings {
        start_value: 0.0,
        offset_on_reverse: 0.0,
        long: Acceleration {
            initial: step,
            step,
            maximum,
        },
        short: Acceleration {
            initial: step,
            step,
            maximum,
        },
    };
    parabolic(high, low, &settings, false)
}

/// One side's acceleration factor: where it starts after a reversal, how
/// much each new extreme adds, and its cap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Acceleration {
    pub(crate) initial: f64,
    pub(crate) step: f64,
    pub(crate) maximum: f64,
}

impl Acceleration {
    /// TA-Lib caps the start and the step at the maximum before starting.
    fn capped(self) -> Acceleration {
        Acceleration {
            initial: self.initial.min_ta(self.maximum),
            step: self.step.min_ta(self.maximum),
            maximum: self.maximum,
        }
    }
}

/// `TA_SAREXT`'s settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SarSettings {
    /// 0: direction and first SAR as `TA_SAR` chooses them; > 0: start long
    /// with this SAR; < 0: start short with SAR |value|.
    pub(crate) start_value: f64,
    /// On a reversal the new SAR is moved this fraction further away.
    pub(crate) offset_on_reverse: f64,
    pub(crate) long: Acceleration,
    pub(crate) short: Acceleration,
}

/// `TA_SAREXT`: the parabolic SAR with separate long/short acceleration, a
/// forced start and a reversal offset; negative while short, so that a
/// reversal shows as a sign change.
pub(crate) fn sarext(high: &[f64], low: &[f64], settings: &SarSettings) -> Vec<f64> {
    let settings = SarSettings {
        long: settings.long.capped(),
        short: settings.short.capped(),
        ..*settings
    };
    parabolic(high, low, &settings, true)
}

fn parabolic(high: &[f64], low: &[f64], s: &SarSettings, signed: bool) -> Vec<f64> {
    let mut out = nan_vec(high.len());
    if high.len() < 2 {
        return out;
    }
    let short_sign = if signed { -1.0 } else { 1.0 };
    let mut af_long = s.long.initial;
    let mut af_short = s.short.initial;
    let mut is_long = if s.start_value == 0.0 {
        let up_move = high[1] - high[0];
        let down_move = low[0] - low[1];
        !(down_move > 0.0 && up_move < down_move)
    } else {
        s.start_value > 0.0
    };
    let (mut ep, mut sar) = match (s.start_value == 0.0, is_long) {
        (true, true) => (high[1], low[0]),
        (true, false) => (low[1], high[0]),
        (false, true) => (high[1], s.start_value),
        (false, false) => (low[1], s.start_value.abs()),
    };
    let mut new_low = low[1];
    let mut new_high = high[1];
    for today in 1..high.len() {
        let prev_low = new_low;
        let prev_high = new_high;
        new_low = low[today];
        new_high = high[today];
        if is_long {
            if new_low <= sar {
                is_long = false;
                sar = ep.max_ta(prev_high).max_ta(new_high);
                if s.offset_on_reverse != 0.0 {
                    sar += sar * s.offset_on_reverse;
                }
                out[today] = short_sign * sar;
                af_short = s.short.initial;
                ep = new_low;
                sar += af_short * (ep - sar);
                sar = sar.max_ta(prev_high).max_ta(new_high);
            } else {
                out[today] = sar;
                if new_high > ep {
                    ep = new_high;
                    af_long = (af_long + s.long.step).min_ta(s.long.maximum);
                }
                sar += af_long * (ep - sar);
                sar = sar.min_ta(prev_low).min_ta(new_low);
            }
        } else if new_high >= sar {
            is_long = true;
            sar = ep.min_ta(prev_low).min_ta(new_low);
            if s.offset_on_reverse != 0.0 {
                sar -= sar * s.offset_on_reverse;
            }
            out[today] = sar;
            af_long = s.long.initial;
            ep = new_high;
            sar += af_long * (ep - sar);
            sar = sar.min_ta(prev_low).min_ta(new_low);
        } else {
            out[today] = short_sign * sar;
            if new_low < ep {
                ep = new_low;
                af_short = (af_short + s.short.step).min_ta(s.short.maximum);
            }
            sar += af_short * (ep - sar);
            sar = sar.max_ta(prev_high).max_ta(new_high);
        }
    }
    out
}

/// TA-Lib clamps with `if (a < b) a = b;`, which keeps `a` when either side
/// is NaN; `f64::max` would drop the NaN instead.
trait TaClamp {
    fn max_ta(self, other: f64) -> f64;
    fn min_ta(self, other: f64) -> f64;
}

impl TaClamp for f64 {
    fn max_ta(self, other: f64) -> f64 {
        if self < other { other } else { self }
    }
    fn min_ta(self, other: f64) -> f64 {
        if self > other { other } else { self }
    }
}
