//! Cleaned bars and the per-bar quantities every detector shares.

use crate::config::{DetectorConfig, Tolerance};

/// Bars with every value finite and `low <= close <= high`, so the detectors
/// never have to think about NaN.
#[derive(Debug, Clone)]
pub(crate) struct Bars {
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Option<Vec<f64>>,
}

/// Cleans the input. A bar with any non-finite price is replaced by a flat
/// bar at the previous good close (the first good close for leading gaps):
/// a hole must not look like a swing. Returns `None` when no bar is usable.
pub(crate) fn sanitize(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: Option<&[f64]>,
) -> Option<Bars> {
    let n = high.len().min(low.len()).min(close.len());
    let good = |i: usize| high[i].is_finite() && low[i].is_finite() && close[i].is_finite();
    let first = (0..n).find(|&i| good(i))?;
    let mut last_close = close[first];
    let mut bars = Bars {
        high: Vec::with_capacity(n),
        low: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
        volume: None,
    };
    for i in 0..n {
        if good(i) {
            let c = close[i];
            bars.high.push(high[i].max(low[i]).max(c));
            bars.low.push(low[i].min(high[i]).min(c));
            bars.close.push(c);
            last_close = c;
        } else {
            bars.high.push(last_close);
            bars.low.push(last_close);
            bars.close.push(last_close);
        }
    }
    // Volume only ever adjusts confidence, so a short or broken volume
    // series is dropped or zeroed rather than rejected.
    bars.volume = volume.filter(|v| v.len() >= n).map(|v| {
        v[..n]
            .iter()
            .map(|&x| if x.is_finite() && x > 0.0 { x } else { 0.0 })
            .collect()
    });
    Some(bars)
}

/// Wilder's average true range. The first `period` bars use the plain mean
/// of the true ranges seen so far instead of NaN, so pivots can start at
/// bar 0. Floored slightly above zero so a flat series gives a positive,
/// tiny swing threshold instead of zero.
pub(crate) fn atr(bars: &Bars, period: usize) -> Vec<f64> {
    let period = period.max(1) as f64;
    let n = bars.close.len();
    let mut out = Vec::with_capacity(n);
    let mut avg = 0.0;
    for i in 0..n {
        let range = bars.high[i] - bars.low[i];
        let tr = if i == 0 {
            range
        } else {
            let prev = bars.close[i - 1];
            range
                .max((bars.high[i] - prev).abs())
                .max((bars.low[i] - prev).abs())
        };
        let seen = (i + 1) as f64;
        avg = if seen <= period {
            avg + (tr - avg) / seen
        } else {
            avg + (tr - avg) / period
        };
        let floor = bars.close[i].abs() * 1e-9 + f64::MIN_POSITIVE;
        out.push(avg.max(floor));
    }
    out
}

/// Everything a detector reads. `mirrored()` flips prices upside down so
/// one "top" detector also finds the matching "bottom" pattern.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'c> {
    pub bars: Bars,
    pub atr: Vec<f64>,
    pub cfg: &'c DetectorConfig,
}

impl<'c> Ctx<'c> {
    pub fn new(bars: Bars, cfg: &'c DetectorConfig) -> Self {
        let atr = atr(&bars, cfg.atr_period);
        Ctx { bars, atr, cfg }
    }

    pub fn n(&self) -> usize {
        self.bars.close.len()
    }

    pub fn high(&self, i: usize) -> f64 {
        self.bars.high[i]
    }

    pub fn low(&self, i: usize) -> f64 {
        self.bars.low[i]
    }

    pub fn close(&self, i: usize) -> f64 {
        self.bars.close[i]
    }

    pub fn mirrored(&self) -> Ctx<'c> {
        let neg = |v: &[f64]| v.iter().map(|x| -x).collect::<Vec<_>>();
        Ctx {
            bars: Bars {
                high: neg(&self.bars.low),
                low: neg(&self.bars.high),
                close: neg(&self.bars.close),
                volume: self.bars.volume.clone(),
            },
            atr: self.atr.clone(),
            cfg: self.cfg,
        }
    }

    /// Mean ATR over `[a, b]` (inclusive, clamped to the series).
    pub fn mean_atr(&self, a: usize, b: usize) -> f64 {
        mean(&self.atr, a, b)
    }

    /// The equal-level tolerance over `[a, b]`.
    pub fn tol(&self, a: usize, b: usize) -> f64 {
        match self.cfg.tolerance {
            Tolerance::AtrMultiple(m) => m.abs() * self.mean_atr(a, b),
            Tolerance::PriceFraction(f) => {
                let level = self.bars.close[a.min(self.n() - 1)..=b.min(self.n() - 1)]
                    .iter()
                    .map(|c| c.abs())
                    .sum::<f64>()
                    / (b.min(self.n() - 1) + 1 - a.min(self.n() - 1)).max(1) as f64;
                f.abs() * level
            }
        }
    }

    /// Mean volume over `[a, b]`, or `None` without volume.
    pub fn mean_volume(&self, a: usize, b: usize) -> Option<f64> {
        self.bars.volume.as_deref().map(|v| mean(v, a, b))
    }

    /// How strongly price moved up into bar `start`, as a z-score: the
    /// change over the `look` bars before it divided by ATR·√look. A random
    /// walk gives values around ±1; a planted trend, 2 or more.
    pub fn prior_trend(&self, start: usize, look: usize) -> f64 {
        let look = look.clamp(5, 60).min(start);
        if look < 2 || start >= self.n() {
            return 0.0;
        }
        let change = self.close(start) - self.close(start - look);
        let z = change / (self.atr[start] * (look as f64).sqrt());
        if z.is_finite() { z } else { 0.0 }
    }
}

/// Mean of `v[a..=b]`, clamped to the slice; 0 when empty.
pub(crate) fn mean(v: &[f64], a: usize, b: usize) -> f64 {
    if v.is_empty() || a > b {
        return 0.0;
    }
    let b = b.min(v.len() - 1);
    let a = a.min(b);
    v[a..=b].iter().sum::<f64>() / (b - a + 1) as f64
}

/// Maps a z-score of the move into a pattern to a [0, 1] score that rewards
/// the trend the pattern expects (positive `z`).
pub(crate) fn trend_score(z: f64) -> f64 {
    (0.5 + z / 3.0).clamp(0.0, 1.0)
}

/// Rewards a later volume lower than an earlier one (contraction during a
/// consolidation, fading demand at a second peak): ratio 0.5 or less → 1,
/// equal → 0.5, 1.5 or more → 0.
pub(crate) fn contraction_score(earlier: f64, later: f64) -> f64 {
    if earlier <= 0.0 {
        return 0.5;
    }
    (1.5 - later / earlier).clamp(0.0, 1.0)
}
