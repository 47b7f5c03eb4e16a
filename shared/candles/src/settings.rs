//! TA-Lib's candle settings and the rolling "average candle" they are compared with.
//!
//! Every pattern asks questions like "is this body long?", and TA-Lib answers
//! them relative to recent candles: a setting names what to measure (real body,
//! high-low range or shadows), how many previous candles to average, and a
//! factor. The average is a running sum over the `period` candles *before* the
//! one being judged, seeded once at the first output bar and then slid one bar
//! per step by adding the newest range and subtracting the oldest. The exact
//! order of those additions matters for bit-for-bit parity (ties decide
//! patterns), so [`Avg`] reproduces TA-Lib's arithmetic step by step.

/// What a setting measures on a candle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeType {
    RealBody,
    HighLow,
    Shadows,
}

/// One of TA-Lib's candle settings (`TA_CandleSetting`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setting {
    pub range: RangeType,
    pub period: usize,
    pub factor: f64,
}

const fn setting(range: RangeType, period: usize, factor: f64) -> Setting {
    Setting {
        range,
        period,
        factor,
    }
}

// TA-Lib's defaults (ta_global.c). A period of 0 means "compare with this
// candle itself" rather than with an average.
pub(crate) const BODY_LONG: Setting = setting(RangeType::RealBody, 10, 1.0);
pub(crate) const BODY_SHORT: Setting = setting(RangeType::RealBody, 10, 1.0);
pub(crate) const BODY_DOJI: Setting = setting(RangeType::HighLow, 10, 0.1);
pub(crate) const SHADOW_LONG: Setting = setting(RangeType::RealBody, 0, 1.0);
pub(crate) const SHADOW_VERY_LONG: Setting = setting(RangeType::RealBody, 0, 2.0);
pub(crate) const SHADOW_SHORT: Setting = setting(RangeType::Shadows, 10, 1.0);
pub(crate) const SHADOW_VERY_SHORT: Setting = setting(RangeType::HighLow, 10, 0.1);
pub(crate) const NEAR: Setting = setting(RangeType::HighLow, 5, 0.2);
pub(crate) const FAR: Setting = setting(RangeType::HighLow, 5, 0.6);
pub(crate) const EQUAL: Setting = setting(RangeType::HighLow, 5, 0.05);

/// C's `min`/`max` macros (`a < b ? a : b`), not `f64::min`: they treat NaN
/// differently, and TA-Lib's results on NaN bars follow the macros.
#[inline]
pub(crate) fn cmin(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

#[inline]
pub(crate) fn cmax(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// The four price columns, already checked to have the same length.
#[derive(Clone, Copy)]
pub(crate) struct Bars<'a> {
    pub o: &'a [f64],
    pub h: &'a [f64],
    pub l: &'a [f64],
    pub c: &'a [f64],
}

impl Bars<'_> {
    pub fn len(&self) -> usize {
        self.c.len()
    }

    pub fn body(&self, i: usize) -> f64 {
        (self.c[i] - self.o[i]).abs()
    }

    pub fn upper(&self, i: usize) -> f64 {
        self.h[i]
            - if self.c[i] >= self.o[i] {
                self.c[i]
            } else {
                self.o[i]
            }
    }

    pub fn lower(&self, i: usize) -> f64 {
        (if self.c[i] >= self.o[i] {
            self.o[i]
        } else {
            self.c[i]
        }) - self.l[i]
    }

    pub fn hl(&self, i: usize) -> f64 {
        self.h[i] - self.l[i]
    }

    /// +1 for white (close >= open, so a doji counts as white), -1 for black.
    pub fn color(&self, i: usize) -> i32 {
        if self.c[i] >= self.o[i] { 1 } else { -1 }
    }

    /// Real body of `later` entirely above the real body of `earlier`.
    pub fn body_gap_up(&self, later: usize, earlier: usize) -> bool {
        cmin(self.o[later], self.c[later]) > cmax(self.o[earlier], self.c[earlier])
    }

    pub fn body_gap_down(&self, later: usize, earlier: usize) -> bool {
        cmax(self.o[later], self.c[later]) < cmin(self.o[earlier], self.c[earlier])
    }

    /// Whole candle (shadows included) of `later` above `earlier`.
    pub fn gap_up(&self, later: usize, earlier: usize) -> bool {
        self.l[later] > self.h[earlier]
    }

    pub fn gap_down(&self, later: usize, earlier: usize) -> bool {
        self.h[later] < self.l[earlier]
    }

    pub fn range(&self, s: Setting, i: usize) -> f64 {
        match s.range {
            RangeType::RealBody => self.body(i),
            RangeType::HighLow => self.hl(i),
            RangeType::Shadows => self.upper(i) + self.lower(i),
        }
    }
}

/// Running average of one setting for the candle `offset` bars before the
/// current one, over the `period` candles preceding that candle.
#[derive(Clone, Copy)]
pub(crate) struct Avg {
    set: Setting,
    offset: usize,
    sum: f64,
    trailing: usize,
}

impl Avg {
    /// Seeds the sum as TA-Lib does at the first output bar `start`. Callers
    /// guarantee `start >= period + offset` (it is what the lookbacks ensure).
    pub fn new(b: &Bars, set: Setting, offset: usize, start: usize) -> Self {
        let trailing = start - set.period;
        let mut sum = 0.0;
        for j in trailing..start {
            sum += b.range(set, j - offset);
        }
        Avg {
            set,
            offset,
            sum,
            trailing,
        }
    }

    /// The threshold for candle `idx` (only used when the period is 0).
    pub fn at(&self, b: &Bars, idx: usize) -> f64 {
        let base = if self.set.period != 0 {
            self.sum / self.set.period as f64
        } else {
            b.range(self.set, idx)
        };
        let halve = if self.set.range == RangeType::Shadows {
            2.0
        } else {
            1.0
        };
        self.set.factor * base / halve
    }

    /// Slides the window after bar `i` was judged, in TA-Lib's operation order.
    pub fn roll(&mut self, b: &Bars, i: usize) {
        self.sum +=
            b.range(self.set, i - self.offset) - b.range(self.set, self.trailing - self.offset);
        self.trailing += 1;
    }
}

/// Runs a pattern from `lookback` to the end: `judge(i, avgs)` decides bar
/// `i`, then every average slides. Bars before `lookback` stay 0.
pub(crate) fn scan<const N: usize>(
    b: &Bars,
    out: &mut [i32],
    lookback: usize,
    specs: [(Setting, usize); N],
    mut judge: impl FnMut(usize, &[Avg; N]) -> i32,
) {
    if b.len() <= lookback {
        return;
    }
    let mut avgs = specs.map(|(s, offset)| Avg::new(b, s, offset, lookback));
    for (i, slot) in out.iter_mut().enumerate().take(b.len()).skip(lookback) {
        *slot = judge(i, &avgs);
        for a in avgs.iter_mut() {
            a.roll(b, i);
        }
    }
}

/// Largest averaging period among `sets`, the usual base of a lookback.
pub(crate) fn max_period(sets: &[Setting]) -> usize {
    sets.iter().map(|s| s.period).max().unwrap_or(0)
}
