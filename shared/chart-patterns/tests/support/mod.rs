//! Labelled synthetic series: a seeded random-walk background with one
//! textbook pattern planted in it, and pure random walks for counting false
//! positives. Everything is derived from a `u64` seed, so a failing case can
//! be replayed exactly.
//!
//! A pattern is drawn as a skeleton of anchor points (time as a fraction of
//! the pattern's length, price in units of the pattern's height H), joined
//! by straight lines and overlaid with autocorrelated noise. Bottoms, bear
//! flags, descending triangles and falling wedges are the upside-down
//! images of their tops. Height, length, price level, volatility and noise
//! vary per seed.

#![allow(dead_code)]

use gs_chart_patterns::PatternType;

/// SplitMix64: tiny, seedable, and good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    pub fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
}

#[derive(Debug, Clone)]
pub struct Series {
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl Series {
    pub fn len(&self) -> usize {
        self.close.len()
    }

    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }

    /// The first `n` bars.
    pub fn truncated(&self, n: usize) -> Series {
        Series {
            high: self.high[..n].to_vec(),
            low: self.low[..n].to_vec(),
            close: self.close[..n].to_vec(),
            volume: self.volume[..n].to_vec(),
        }
    }
}

/// What happens after the planted pattern completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aftermath {
    /// A measured move out through the breakout level.
    Breakout,
    /// A move the wrong way, through the invalidation level.
    Reversal,
    /// The series stops a few bars after the last structural point.
    Truncated,
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Multiplier on the pattern's noise (1.0 = the recall-test setting).
    pub noise: f64,
    pub aftermath: Aftermath,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            noise: 1.0,
            aftermath: Aftermath::Breakout,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Planted {
    pub kind: PatternType,
    /// First and last bar of the pattern (the last structural anchor,
    /// before the breakout leg).
    pub start: usize,
    pub end: usize,
    /// Breakout and invalidation prices as planted (before noise).
    pub breakout_level: f64,
    pub invalidation_level: f64,
    pub series: Series,
}

/// A planted shape in canonical orientation (tops, bullish continuations).
struct Skeleton {
    /// (bar offset from the pattern start, price in units of H).
    points: Vec<(usize, f64)>,
    /// +1 when the pattern breaks upward in canonical orientation.
    breaks: f64,
    breakout_y: f64,
    invalid_y: f64,
    /// Volume multiplier over the pattern (t in [0, 1]).
    volume: fn(f64) -> f64,
}

fn fading(t: f64) -> f64 {
    1.3 - 0.6 * t
}

fn cup_volume(t: f64) -> f64 {
    0.7 + 0.6 * (2.0 * t - 1.0).abs()
}

fn at(len: usize, pts: &[(f64, f64)]) -> Vec<(usize, f64)> {
    pts.iter()
        .map(|&(t, y)| ((t * len as f64).round() as usize, y))
        .collect()
}

fn skeleton(kind: PatternType, rng: &mut Rng) -> Skeleton {
    use PatternType::*;
    let mut j = |s: f64| rng.range(-s, s);
    let canonical = match kind {
        InverseHeadAndShoulders => HeadAndShoulders,
        DoubleBottom => DoubleTop,
        TripleBottom => TripleTop,
        DescendingTriangle => AscendingTriangle,
        FallingWedge => RisingWedge,
        BearFlag => BullFlag,
        k => k,
    };
    match canonical {
        HeadAndShoulders => {
            let shoulder = 0.6 + j(0.05);
            let pts = [
                (0.0, -0.3),
                (0.15 + j(0.02), shoulder + j(0.04)),
                (0.32 + j(0.02), j(0.08)),
                (0.5, 1.0),
                (0.68 + j(0.02), j(0.08)),
                (0.85 + j(0.02), shoulder + j(0.04)),
                (1.0, 0.15),
            ];
            let len = (j(1.0) * 30.0 + 90.0) as usize;
            Skeleton {
                points: at(len, &pts),
                breaks: -1.0,
                breakout_y: 0.0,
                invalid_y: 1.0,
                volume: fading,
            }
        }
        DoubleTop => {
            let len = (j(1.0) * 25.0 + 65.0) as usize;
            let pts = [
                (0.0, -0.4),
                (0.25 + j(0.03), 1.0),
                (0.5, j(0.05)),
                (0.75 + j(0.03), 1.0 + j(0.04)),
                (1.0, 0.4),
            ];
            Skeleton {
                points: at(len, &pts),
                breaks: -1.0,
                breakout_y: 0.0,
                invalid_y: 1.04,
                volume: fading,
            }
        }
        TripleTop => {
            let len = (j(1.0) * 30.0 + 90.0) as usize;
            let pts = [
                (0.0, -0.4),
                (0.17, 1.0),
                (0.34 + j(0.02), j(0.06)),
                (0.5, 1.0 + j(0.04)),
                (0.67 + j(0.02), j(0.06)),
                (0.84, 1.0 + j(0.04)),
                (1.0, 0.4),
            ];
            Skeleton {
                points: at(len, &pts),
                breaks: -1.0,
                breakout_y: -0.06,
                invalid_y: 1.04,
                volume: fading,
            }
        }
        AscendingTriangle => {
            let len = (j(1.0) * 30.0 + 80.0) as usize;
            let rise = 0.85 + j(0.1);
            let s = |t: f64| rise * t;
            let pts = [
                (0.0, 0.0),
                (0.15, 1.0 + j(0.03)),
                (0.3, s(0.3)),
                (0.45, 1.0 + j(0.03)),
                (0.6, s(0.6)),
                (0.75, 1.0 + j(0.03)),
                (0.9, s(0.9)),
                (1.0, 0.95),
            ];
            Skeleton {
                points: at(len, &pts),
                breaks: 1.0,
                breakout_y: 1.0,
                invalid_y: s(1.0),
                volume: fading,
            }
        }
        RisingWedge => {
            let len = (j(1.0) * 30.0 + 80.0) as usize;
            let (su, sl) = (0.9 + j(0.15), 1.5 + j(0.15));
            let u = |t: f64| 1.0 + su * t;
            let l = |t: f64| sl * t;
            let pts = [
                (0.0, 0.0),
                (0.15, u(0.15)),
                (0.3, l(0.3)),
                (0.45, u(0.45)),
                (0.6, l(0.6)),
                (0.75, u(0.75)),
                (0.9, l(0.9)),
                (1.0, (u(1.0) + l(1.0)) / 2.0),
            ];
            Skeleton {
                points: at(len, &pts),
                breaks: -1.0,
                breakout_y: l(1.0),
                invalid_y: u(1.0),
                volume: fading,
            }
        }
        SymmetricalTriangle => {
            let len = (j(1.0) * 30.0 + 80.0) as usize;
            let k = 0.45 + j(0.05);
            let u = |t: f64| 1.0 - k * t;
            let l = |t: f64| k * t;
            let pts = [
                (0.0, 0.0),
                (0.12, u(0.12)),
                (0.3, l(0.3)),
                (0.48, u(0.48)),
                (0.66, l(0.66)),
                (0.84, u(0.84)),
                (1.0, 0.5),
            ];
            Skeleton {
                points: at(len, &pts),
                breaks: 1.0,
                breakout_y: u(1.0),
                invalid_y: l(1.0),
                volume: fading,
            }
        }
        Rectangle => {
            let len = (j(1.0) * 30.0 + 80.0) as usize;
            let mut e = || j(0.04);
            let pts = [
                (0.0, 0.0),
                (0.14, 1.0 + e()),
                (0.28, e()),
                (0.43, 1.0 + e()),
                (0.57, e()),
                (0.71, 1.0 + e()),
                (0.86, e()),
                (1.0, 0.6),
            ];
            Skeleton {
                points: at(len, &pts),
                breaks: 1.0,
                breakout_y: 1.0,
                invalid_y: 0.0,
                volume: fading,
            }
        }
        BullFlag | Pennant => {
            let pole = rng.int(6, 12);
            let flag = rng.int(12, 24);
            let f = |t: f64| pole + (t * flag as f64).round() as usize;
            let (pts, breakout_y, invalid_y) = if canonical == BullFlag {
                let u = |t: f64| 1.0 - 0.15 * t;
                let l = |t: f64| 0.75 - 0.15 * t;
                (
                    vec![
                        (0, 0.0),
                        (pole, 1.0),
                        (f(0.2), l(0.2)),
                        (f(0.4), u(0.4)),
                        (f(0.6), l(0.6)),
                        (f(0.8), u(0.8)),
                        (f(1.0), l(1.0)),
                    ],
                    u(1.0),
                    l(1.0),
                )
            } else {
                let u = |t: f64| 1.0 - 0.14 * t;
                let l = |t: f64| 0.62 + 0.18 * t;
                (
                    vec![
                        (0, 0.0),
                        (pole, 1.0),
                        (f(0.2), l(0.2)),
                        (f(0.4), u(0.4)),
                        (f(0.6), l(0.6)),
                        (f(0.8), u(0.8)),
                        (f(1.0), l(1.0)),
                    ],
                    u(1.0),
                    l(1.0),
                )
            };
            Skeleton {
                points: pts,
                breaks: 1.0,
                breakout_y,
                invalid_y,
                volume: |t| if t < 0.35 { 2.0 } else { 0.7 },
            }
        }
        CupAndHandle => {
            let cup = rng.int(50, 100);
            let handle = rng.int(10, 25);
            // A short final push makes the left rim a swing high.
            let lead = 8;
            let mut pts = vec![(0, 0.6)];
            pts.extend((0..=16).map(|k| {
                let t = k as f64 / 16.0;
                (
                    lead + (t * cup as f64).round() as usize,
                    1.0 - (std::f64::consts::PI * t).sin(),
                )
            }));
            let retrace = 0.3 + rng.range(-0.08, 0.08);
            pts.push((lead + cup + handle * 6 / 10, 1.0 - retrace));
            pts.push((lead + cup + handle, 1.0 - retrace * 0.3));
            Skeleton {
                points: pts,
                breaks: 1.0,
                breakout_y: 1.0,
                invalid_y: 1.0 - retrace,
                volume: cup_volume,
            }
        }
        _ => unreachable!("every kind maps to a canonical skeleton"),
    }
}

/// Per-bar close builder: a random walk with optional drift, or a skeleton
/// with AR(1) noise on top.
struct Builder<'r> {
    rng: &'r mut Rng,
    close: Vec<f64>,
    volume: Vec<f64>,
    sigma: f64,
}

impl Builder<'_> {
    fn last(&self) -> f64 {
        *self.close.last().unwrap()
    }

    fn walk(&mut self, bars: usize, drift: f64, volume: f64) {
        for _ in 0..bars {
            let c = self.last() + drift + self.sigma * self.rng.normal();
            self.close.push(c);
            self.volume.push(volume);
        }
    }

    /// Straight-line legs through `points` (offsets, prices) from the
    /// current close, with AR(1) noise that fades in so the joins stay
    /// continuous.
    fn legs(&mut self, points: &[(usize, f64)], noise: f64, volume: &dyn Fn(f64) -> f64) {
        let base = self.last();
        let total = points.last().map_or(1, |p| p.0).max(1);
        let mut e = 0.0;
        for w in points.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            for x in x0 + 1..=x1 {
                let t = (x - x0) as f64 / (x1 - x0).max(1) as f64;
                e = 0.5 * e + noise * self.sigma * self.rng.normal();
                self.close.push(base + y0 + (y1 - y0) * t + e);
                self.volume.push(volume(x as f64 / total as f64));
            }
        }
    }

    fn finish(self, level: f64) -> Series {
        let rng = self.rng;
        let sigma = self.sigma;
        let mut s = Series {
            high: Vec::new(),
            low: Vec::new(),
            close: self.close,
            volume: Vec::new(),
        };
        // Keep prices positive whatever the walk did.
        let min = s.close.iter().copied().fold(f64::MAX, f64::min);
        let floor = 0.2 * level;
        if min < floor {
            for c in &mut s.close {
                *c += floor - min;
            }
        }
        for i in 0..s.close.len() {
            let c = s.close[i];
            let open = if i == 0 {
                c
            } else {
                s.close[i - 1] + 0.1 * sigma * rng.normal()
            };
            s.high
                .push(open.max(c) + (0.5 * sigma * rng.normal()).abs());
            s.low.push(open.min(c) - (0.5 * sigma * rng.normal()).abs());
            let v = 1.0e6 * self.volume[i] * (0.25 * rng.normal()).exp();
            s.volume.push(v);
        }
        s
    }
}

/// A pure random walk of `n` bars (no planted pattern), with a random price
/// level and volatility.
pub fn random_walk(seed: u64, n: usize) -> Series {
    let mut rng = Rng::new(seed);
    let level = (rng.range(20f64.ln(), 500f64.ln())).exp();
    let sigma = level * rng.range(0.004, 0.015);
    let mut b = Builder {
        rng: &mut rng,
        close: vec![level],
        volume: vec![1.0],
        sigma,
    };
    b.walk(n - 1, 0.0, 1.0);
    b.finish(level)
}

/// Plants one pattern of `kind` in a random-walk background.
pub fn plant(kind: PatternType, seed: u64, spec: Spec) -> Planted {
    let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(kind as u64));
    let level = (rng.range(20f64.ln(), 500f64.ln())).exp();
    let sigma = level * rng.range(0.004, 0.012);
    // Poles are the sharpest moves on a chart: taller than other patterns.
    let height = match kind {
        PatternType::BullFlag | PatternType::BearFlag | PatternType::Pennant => {
            sigma * rng.range(12.0, 24.0)
        }
        _ => sigma * rng.range(8.0, 18.0),
    };
    let sk = skeleton(kind, &mut rng);
    // Mirrored kinds are drawn upside down; symmetrical patterns pick a
    // side at random (they continue the prior trend either way).
    let sign = match kind {
        PatternType::InverseHeadAndShoulders
        | PatternType::DoubleBottom
        | PatternType::TripleBottom
        | PatternType::DescendingTriangle
        | PatternType::FallingWedge
        | PatternType::BearFlag => -1.0,
        PatternType::Pennant | PatternType::SymmetricalTriangle | PatternType::Rectangle => {
            if rng.coin() { 1.0 } else { -1.0 }
        }
        _ => 1.0,
    };
    // Noise innovations of 0.4–0.9 σ (AR(1), so a standard deviation of
    // about 0.45–1.05 σ), i.e. 3–10 % of the pattern's height.
    let noise = spec.noise * rng.range(0.4, 0.9);
    let pre = rng.int(60, 150);
    let pre_move = height * rng.range(1.0, 1.5);
    let post_walk = rng.int(30, 80);
    let breakout_bars = rng.int(12, 25);
    let mut b = Builder {
        rng: &mut rng,
        close: vec![level],
        volume: vec![1.0],
        sigma,
    };
    // Every canonical skeleton expects an advance into it (tops end
    // advances, bullish continuations continue them).
    b.walk(pre - 1, sign * pre_move / pre as f64, 1.0);
    let start = b.close.len() - 1;
    let first_y = sk.points[0].1;
    let scaled: Vec<(usize, f64)> = sk
        .points
        .iter()
        .map(|&(x, y)| (x, sign * (y - first_y) * height))
        .collect();
    let volume = sk.volume;
    b.legs(&scaled, noise, &volume);
    let end = b.close.len() - 1;
    let anchor = b.close[start];
    let to_price = |y: f64| anchor + sign * (y - first_y) * height;
    let breakout_level = to_price(sk.breakout_y);
    let invalidation_level = to_price(sk.invalid_y);
    let last_y = sk.points.last().unwrap().1;
    let leg = |target_y: f64| {
        vec![
            (0, 0.0),
            (breakout_bars, sign * (target_y - last_y) * height),
        ]
    };
    match spec.aftermath {
        Aftermath::Breakout => {
            b.legs(&leg(sk.breakout_y + sk.breaks * 1.0), noise, &|_| 1.8);
            b.walk(post_walk, 0.0, 1.0);
        }
        Aftermath::Reversal => {
            b.legs(&leg(sk.invalid_y - sk.breaks * 0.4), noise, &|_| 1.2);
            b.walk(post_walk, 0.0, 1.0);
        }
        Aftermath::Truncated => {}
    }
    let series = b.finish(level);
    // `finish` may have lifted the whole series to keep it positive.
    let shift = series.close[start] - anchor;
    Planted {
        kind,
        start,
        end,
        breakout_level: breakout_level + shift,
        invalidation_level: invalidation_level + shift,
        series,
    }
}

/// Fraction of the shorter span covered by the intersection of two spans.
pub fn overlap(a: (usize, usize), b: (usize, usize)) -> f64 {
    let lo = a.0.max(b.0);
    let hi = a.1.min(b.1);
    if hi < lo {
        return 0.0;
    }
    let shorter = (a.1 - a.0).min(b.1 - b.0) + 1;
    (hi - lo + 1) as f64 / shorter as f64
}
