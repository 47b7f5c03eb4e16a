//! Rolling statistics: variance, standard deviation, regression, beta and
//! correlation, computed with TA-Lib's running sums so rounding matches.

use crate::moving_average::TA_EPSILON;
use crate::warmup::{collect_values, nan_vec, push_missing};

/// How often (in multiples of the period) a rolling sum is rebuilt from
/// scratch. The TA-Lib build we match slides its sums for speed and
/// re-anchors them this often so rounding cannot drift for ever; doing the
/// same reproduces its output bit for bit where it matters (regression).
const RESYNC_PERIODS: usize = 32;

fn resyncs_at(i: usize, period: usize) -> bool {
    (i + 1 - period).is_multiple_of(RESYNC_PERIODS * period)
}

/// Population variance of each window of `period` values.
pub(crate) fn variance(x: &[f64], period: usize) -> Vec<f64> {
    collect_values(x.len(), |out| {
        let Some(mut windows) = RollingVariance::new(x, period) else {
            push_missing(out, x.len());
            return;
        };
        push_missing(out, windows.first_bar());
        out.extend((windows.first_bar()..x.len()).map(|_| windows.next_window()));
    })
}

/// The variance of each window of `period` values, one window after the
/// other, in O(1) per window.
///
/// Sums run over `x - anchor`, the anchor being the first value of the
/// window at the last resync: Σx² − (Σx)²/n on raw prices near 1e6 loses
/// every digit of a small variance, and the TA-Lib build we match shifts the
/// same way.
pub(crate) struct RollingVariance<'a> {
    x: &'a [f64],
    period: usize,
    /// 1 / period: the TA-Lib build we match multiplies by it rather than
    /// dividing by the period (which its outputs bear out bit for bit).
    inv_p: f64,
    /// The last bar of the next window.
    today: usize,
    /// Windows left before the sums are rebuilt (0: rebuild now).
    until_resync: usize,
    sum: f64,
    sum_sq: f64,
    anchor: f64,
}

impl<'a> RollingVariance<'a> {
    /// `None` when `x` is shorter than one window.
    pub(crate) fn new(x: &'a [f64], period: usize) -> Option<Self> {
        let period = period.max(1);
        (x.len() >= period).then_some(RollingVariance {
            x,
            period,
            inv_p: 1.0 / period as f64,
            today: period - 1,
            until_resync: 0,
            sum: 0.0,
            sum_sq: 0.0,
            anchor: 0.0,
        })
    }

    /// The bar the first window ends on.
    pub(crate) fn first_bar(&self) -> usize {
        self.period - 1
    }

    /// The variance of the window ending on the next bar; call at most
    /// `x.len() - first_bar()` times.
    #[inline]
    pub(crate) fn next_window(&mut self) -> f64 {
        let (sum, sum_sq) = self.next_sums();
        variance_from_sums(sum, sum_sq, self.inv_p)
    }

    /// 1 / period, for `variance_from_sums`.
    pub(crate) fn inv_p(&self) -> f64 {
        self.inv_p
    }

    /// `(Σ(v - anchor), Σ(v - anchor)²)` over the window ending on the next
    /// bar, for callers that finish the variance their own way; call at
    /// most `x.len() - first_bar()` times (with `next_window`, in total).
    #[inline]
    pub(crate) fn next_sums(&mut self) -> (f64, f64) {
        let (x, i, period) = (self.x, self.today, self.period);
        if self.until_resync == 0 {
            (self.anchor, self.sum, self.sum_sq) = anchored_sums(&x[i + 1 - period..=i]);
            self.until_resync = RESYNC_PERIODS * period;
        } else {
            let new = x[i] - self.anchor;
            let old = x[i - period] - self.anchor;
            self.sum = self.sum - old + new;
            self.sum_sq = self.sum_sq - old * old + new * new;
        }
        self.until_resync -= 1;
        self.today += 1;
        (self.sum, self.sum_sq)
    }
}

/// A window's variance from `RollingVariance::next_sums` (E[d²] − E[d]²).
#[inline]
pub(crate) fn variance_from_sums(sum: f64, sum_sq: f64, inv_p: f64) -> f64 {
    let mean = sum * inv_p;
    sum_sq * inv_p - mean * mean
}

/// `(anchor, Σ(v - anchor), Σ(v - anchor)²)` over a window, anchored on its
/// first value.
///
/// Out of line and free of `self`, so that a kernel holding a
/// `RollingVariance` by value keeps its sums in registers: a method taking
/// `&mut self` would pin the whole struct in memory for the rare call.
#[cold]
#[inline(never)]
fn anchored_sums(window: &[f64]) -> (f64, f64, f64) {
    let anchor = window.first().copied().unwrap_or(0.0);
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for &v in window {
        let d = v - anchor;
        sum += d;
        sum_sq += d * d;
    }
    (anchor, sum, sum_sq)
}

/// `TA_STDDEV`: square root of the variance, times `nbdev`.
pub(crate) fn stddev(x: &[f64], period: usize, nbdev: f64) -> Vec<f64> {
    variance(x, period)
        .into_iter()
        .map(|v| deviation(v, nbdev))
        .collect()
}

/// `nbdev` standard deviations from a variance; rounding can leave a flat
/// window's variance a hair below zero, which counts as zero.
#[inline]
pub(crate) fn deviation(variance: f64, nbdev: f64) -> f64 {
    if variance.is_nan() {
        variance
    } else if variance > 0.0 {
        variance.sqrt() * nbdev
    } else {
        0.0
    }
}

/// What `linear_regression` reports for each window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Regression {
    /// The fitted value at the last bar (`TA_LINEARREG`).
    Value,
    Slope,
    /// The slope as an angle in degrees.
    Angle,
    /// The fitted value at the first bar of the window.
    Intercept,
    /// The fitted value one bar past the window (`TA_TSF`).
    Forecast,
}

/// Least-squares line over each window of `period` bars, with bar offsets as x.
pub(crate) fn linear_regression(x: &[f64], period: usize, what: Regression) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    let period = period.max(1);
    if x.len() < period {
        return out;
    }
    let p = period as f64;
    let sum_x = p * (p - 1.0) * 0.5;
    let sum_x_sq = p * (p - 1.0) * (2.0 * p - 1.0) / 6.0;
    let divisor = sum_x * sum_x - p * sum_x_sq;
    // TA-Lib numbers the window backwards (today is 0) and flips the sign
    // through `divisor`. Sliding one bar adds every weight 1 and drops the
    // oldest value (weight period - 1 + 1), hence the update below.
    let (mut sum_xy, mut sum_y) = (0.0, 0.0);
    for today in period - 1..x.len() {
        if resyncs_at(today, period) {
            sum_xy = 0.0;
            sum_y = 0.0;
            for back in (0..period).rev() {
                let y = x[today - back];
                sum_y += y;
                sum_xy += back as f64 * y;
            }
        } else {
            let old = x[today - period];
            sum_xy = sum_xy + sum_y - p * old;
            sum_y = sum_y - old + x[today];
        }
        let m = (p * sum_xy - sum_x * sum_y) / divisor;
        let b = (sum_y - m * sum_x) / p;
        out[today] = match what {
            Regression::Value => b + m * (p - 1.0),
            Regression::Slope => m,
            Regression::Angle => m.atan() * (180.0 / std::f64::consts::PI),
            Regression::Intercept => b,
            Regression::Forecast => b + m * p,
        };
    }
    out
}

/// `TA_BETA`: the regression slope of `y`'s one-bar returns on `x`'s, over
/// `period` returns (so `period + 1` prices).
pub(crate) fn beta(x: &[f64], y: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    if x.len() <= period {
        return out;
    }
    let ret = |price: f64, last: f64| {
        if last == 0.0 {
            0.0
        } else {
            (price - last) / last
        }
    };
    let n = period as f64;
    let (mut s_xx, mut s_xy, mut s_x, mut s_y) = (0.0, 0.0, 0.0, 0.0);
    let mut last_x = x[0];
    let mut last_y = y[0];
    let mut trailing_last_x = x[0];
    let mut trailing_last_y = y[0];
    let mut trailing = 1;
    for i in 1..x.len() {
        let rx = ret(x[i], last_x);
        let ry = ret(y[i], last_y);
        last_x = x[i];
        last_y = y[i];
        s_xx += rx * rx;
        s_x += rx;
        s_xy += rx * ry;
        s_y += ry;
        if i < period {
            continue;
        }
        let tx = ret(x[trailing], trailing_last_x);
        let ty = ret(y[trailing], trailing_last_y);
        trailing_last_x = x[trailing];
        trailing_last_y = y[trailing];
        trailing += 1;
        // Zero relative to its own terms: returns can be far below any
        // fixed epsilon (prices that move by a few ulps).
        let denominator = n * s_xx - s_x * s_x;
        out[i] = if denominator.abs() <= TA_EPSILON * (n * s_xx + s_x * s_x) {
            0.0
        } else {
            (n * s_xy - s_x * s_y) / denominator
        };
        s_xx -= tx * tx;
        s_x -= tx;
        s_xy -= tx * ty;
        s_y -= ty;
    }
    out
}

/// `TA_CORREL`: Pearson's r over each window, from deviations about each
/// window's first values so that it holds at any price scale; 0 where
/// either side does not vary.
pub(crate) fn correl(x: &[f64], y: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan_vec(x.len());
    let period = period.max(1);
    if x.len() < period {
        return out;
    }
    let p = period as f64;
    for i in period - 1..x.len() {
        let xs = &x[i + 1 - period..=i];
        let ys = &y[i + 1 - period..=i];
        let (x0, y0) = (xs[0], ys[0]);
        let mean_x = xs.iter().map(|v| v - x0).sum::<f64>() / p;
        let mean_y = ys.iter().map(|v| v - y0).sum::<f64>() / p;
        let (mut cov, mut var_x, mut var_y) = (0.0, 0.0, 0.0);
        for (a, b) in xs.iter().zip(ys) {
            let (dx, dy) = (a - x0 - mean_x, b - y0 - mean_y);
            cov += dx * dy;
            var_x += dx * dx;
            var_y += dy * dy;
        }
        let spread = var_x * var_y;
        out[i] = if spread > 0.0 {
            cov / spread.sqrt()
        } else if spread.is_nan() {
            spread
        } else {
            0.0
        };
    }
    out
}
