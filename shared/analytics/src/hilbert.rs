//! Ehlers' Hilbert-transform machinery as TA-Lib runs it, behind MAMA/FAMA
//! and HT_TRENDLINE.
//!
//! TA-Lib smooths the price with a 4-bar WMA, then runs four Hilbert filters
//! (detrender, Q1, jI, jQ) that keep separate state for even and odd bars:
//! which state a bar uses depends on its index *from the start of the array
//! TA-Lib was handed*, so a composed caller that starts MAMA later (MACDEXT)
//! must say where its slice sits (`origin`). The unstable period is TA-Lib's
//! default, 0: nothing beyond the fixed lookback is skipped.

use crate::warmup::nan_vec;

const A: f64 = 0.0962;
const B: f64 = 0.5769;

/// `TA_MAMA_Lookback`: 12 bars for the price smoother and Hilbert filters to
/// fill, 20 more for the filter cascade to settle.
pub(crate) const MAMA_LOOKBACK: usize = 32;
/// `TA_HT_TRENDLINE_Lookback`: 31 bars skipped for TradeStation
/// compatibility plus MAMA's 32.
pub(crate) const TRENDLINE_LOOKBACK: usize = 63;

fn rad_to_deg() -> f64 {
    45.0 / 1.0f64.atan()
}

/// The 4-bar weighted price smoother, (4 p0 + 3 p1 + 2 p2 + p3) / 10, kept
/// as TA-Lib keeps it: two running sums updated in a fixed order.
struct Smoother<'a> {
    x: &'a [f64],
    sum: f64,
    sub: f64,
    trailing_value: f64,
    trailing_idx: usize,
}

impl<'a> Smoother<'a> {
    /// Consumes the first three bars; `next(today)` then smooths bar `today`.
    fn new(x: &'a [f64]) -> Self {
        let mut s = Smoother {
            x,
            sum: 0.0,
            sub: 0.0,
            trailing_value: 0.0,
            trailing_idx: 0,
        };
        s.sub = x[0];
        s.sum = x[0];
        s.sub += x[1];
        s.sum += x[1] * 2.0;
        s.sub += x[2];
        s.sum += x[2] * 3.0;
        s
    }

    fn next(&mut self, today: usize) -> f64 {
        let v = self.x[today];
        self.sub += v;
        self.sub -= self.trailing_value;
        self.sum += v * 4.0;
        self.trailing_value = self.x[self.trailing_idx];
        self.trailing_idx += 1;
        let smoothed = self.sum * 0.1;
        self.sum -= self.sub;
        smoothed
    }
}

/// One of the four Hilbert FIR stages, with TA-Lib's separate even/odd state.
#[derive(Default)]
struct Stage {
    ring: [[f64; 3]; 2],
    prev: [f64; 2],
    prev_input: [f64; 2],
}

impl Stage {
    fn step(&mut self, input: f64, side: usize, slot: usize, adjusted_period: f64) -> f64 {
        let term = A * input;
        let mut out = 0.0 - self.ring[side][slot];
        self.ring[side][slot] = term;
        out += term;
        out -= self.prev[side];
        self.prev[side] = B * self.prev_input[side];
        out += self.prev[side];
        self.prev_input[side] = input;
        out * adjusted_period
    }
}

/// What one bar of the transform yields for the callers.
struct Phasor {
    /// In-phase component (the detrender 3 bars ago, same parity).
    i1: f64,
    /// Quadrature component.
    q1: f64,
}

/// The Hilbert transform plus the homodyne discriminator that tracks the
/// dominant cycle `period`.
struct Transform {
    detrender: Stage,
    q1: Stage,
    ji: Stage,
    jq: Stage,
    slot: usize,
    /// Detrender values kept for the other parity: `[side][lag 2, lag 3]`.
    i1_prev: [[f64; 2]; 2],
    prev_i2: f64,
    prev_q2: f64,
    re: f64,
    im: f64,
    period: f64,
    rad_to_deg: f64,
}

const EVEN: usize = 0;
const ODD: usize = 1;

impl Transform {
    fn new() -> Self {
        Transform {
            detrender: Stage::default(),
            q1: Stage::default(),
            ji: Stage::default(),
            jq: Stage::default(),
            slot: 0,
            i1_prev: [[0.0; 2]; 2],
            prev_i2: 0.0,
            prev_q2: 0.0,
            re: 0.0,
            im: 0.0,
            period: 0.0,
            rad_to_deg: rad_to_deg(),
        }
    }

    /// Runs the filters on one smoothed price. `even` is the parity of the
    /// bar's index in the array TA-Lib was given. Returns the phasor and
    /// leaves (I2, Q2) for `update_period`.
    fn step(&mut self, smoothed: f64, even: bool) -> (Phasor, f64, f64) {
        let side = if even { EVEN } else { ODD };
        let adjusted = 0.075 * self.period + 0.54;
        let slot = self.slot;
        let detrender = self.detrender.step(smoothed, side, slot, adjusted);
        let q1 = self.q1.step(detrender, side, slot, adjusted);
        let i1 = self.i1_prev[side][1];
        let ji = self.ji.step(i1, side, slot, adjusted);
        let jq = self.jq.step(q1, side, slot, adjusted);
        if even {
            self.slot = (self.slot + 1) % 3;
        }
        let q2 = 0.2 * (q1 + ji) + 0.8 * self.prev_q2;
        let i2 = 0.2 * (i1 - jq) + 0.8 * self.prev_i2;
        // This bar's detrender becomes I1 three bars later, on the other side.
        let other = &mut self.i1_prev[1 - side];
        other[1] = other[0];
        other[0] = detrender;
        (Phasor { i1, q1 }, i2, q2)
    }

    /// The homodyne discriminator: smoothed period of the dominant cycle,
    /// clamped to 6..50 bars and to a ±50%/-33% change per bar.
    fn update_period(&mut self, i2: f64, q2: f64) {
        self.re = 0.2 * (i2 * self.prev_i2 + q2 * self.prev_q2) + 0.8 * self.re;
        self.im = 0.2 * (i2 * self.prev_q2 - q2 * self.prev_i2) + 0.8 * self.im;
        self.prev_q2 = q2;
        self.prev_i2 = i2;
        let previous = self.period;
        let mut period = previous;
        if self.im != 0.0 && self.re != 0.0 {
            period = 360.0 / ((self.im / self.re).atan() * self.rad_to_deg);
        }
        let ceiling = 1.5 * previous;
        if period > ceiling {
            period = ceiling;
        }
        let floor = 0.67 * previous;
        if period < floor {
            period = floor;
        }
        period = period.clamp(6.0, 50.0);
        self.period = 0.2 * period + 0.8 * previous;
    }
}

/// `TA_MAMA`: `[mama, fama]`, Ehlers' MESA adaptive moving average and its
/// following average. `origin` is the index of `x[0]` in the array TA-Lib
/// would be given (0 unless a caller starts MAMA part-way, as MACDEXT does).
pub(crate) fn mama(x: &[f64], fast_limit: f64, slow_limit: f64, origin: usize) -> [Vec<f64>; 2] {
    let mut mama_out = nan_vec(x.len());
    let mut fama_out = nan_vec(x.len());
    if x.len() <= MAMA_LOOKBACK {
        return [mama_out, fama_out];
    }
    let mut smoother = Smoother::new(x);
    for today in 3..12 {
        smoother.next(today);
    }
    let mut transform = Transform::new();
    let mut prev_phase = 0.0;
    let mut mama = 0.0;
    let mut fama = 0.0;
    for today in 12..x.len() {
        let smoothed = smoother.next(today);
        let (phasor, i2, q2) = transform.step(smoothed, (origin + today).is_multiple_of(2));
        let phase = if phasor.i1 != 0.0 {
            (phasor.q1 / phasor.i1).atan() * transform.rad_to_deg
        } else {
            0.0
        };
        let mut delta = prev_phase - phase;
        prev_phase = phase;
        if delta < 1.0 {
            delta = 1.0;
        }
        let mut alpha = fast_limit;
        if delta > 1.0 {
            alpha = fast_limit / delta;
            if alpha < slow_limit {
                alpha = slow_limit;
            }
        }
        mama = alpha * x[today] + (1.0 - alpha) * mama;
        alpha *= 0.5;
        fama = alpha * mama + (1.0 - alpha) * fama;
        if today >= MAMA_LOOKBACK {
            mama_out[today] = mama;
            fama_out[today] = fama;
        }
        transform.update_period(i2, q2);
    }
    [mama_out, fama_out]
}

/// `TA_HT_TRENDLINE`: Ehlers' instantaneous trendline, the raw price
/// averaged over the smoothed dominant-cycle period, then WMA-smoothed over
/// the last four such averages.
pub(crate) fn ht_trendline(x: &[f64]) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    if x.len() <= TRENDLINE_LOOKBACK {
        return out;
    }
    let mut smoother = Smoother::new(x);
    for today in 3..37 {
        smoother.next(today);
    }
    let mut transform = Transform::new();
    let mut smooth_period = 0.0;
    let mut trend = [0.0f64; 3];
    for today in 37..x.len() {
        let smoothed = smoother.next(today);
        let (_, i2, q2) = transform.step(smoothed, today.is_multiple_of(2));
        transform.update_period(i2, q2);
        smooth_period = 0.33 * transform.period + 0.67 * smooth_period;
        // Truncation, as C's (int) cast; the period is at most 50 bars and
        // the guard only matters for inputs TA-Lib would read out of bounds.
        let bars = ((smooth_period + 0.5) as usize).min(today + 1);
        let mut average = 0.0;
        for i in 0..bars {
            average += x[today - i];
        }
        if bars > 0 {
            average /= bars as f64;
        }
        let value = (4.0 * average + 3.0 * trend[0] + 2.0 * trend[1] + trend[2]) / 10.0;
        trend = [average, trend[0], trend[1]];
        if today >= TRENDLINE_LOOKBACK {
            out[today] = value;
        }
    }
    out
}
