//! Zig-zag swing points with an ATR-scaled minimum swing.
//!
//! Walking forward bar by bar, the algorithm tracks the most extreme price
//! since the last pivot. That extreme becomes a pivot only once price has
//! reversed from it by more than `multiple × ATR`. The ATR is the one at the
//! start of the current leg (the previous pivot): a sharp leg inflates the
//! ATR with its own movement, and measuring the pullback after it against
//! that would hide the first swing of every flag. So pivot `k` is confirmed at a later bar
//! using only bars up to that confirmation, never beyond; the final extreme,
//! not yet reversed from, is not reported.
//!
//! A swing that lasts fewer than `MIN_SWING_BARS` bars (one jolt of noise
//! inside a leg) is then dropped once the legs around it overtake it, so the
//! last pivots can still be revised while a leg extends. Flags keep the raw
//! pivots: there the quick drop off the pole top is the signal.

use crate::series::Ctx;
use crate::types::{Pivot, PivotKind};

enum Seeking {
    /// No pivot yet: the first one is whichever extreme came first once the
    /// range since the start exceeds the threshold.
    Start {
        hi: usize,
        lo: usize,
    },
    High {
        ext: usize,
    },
    Low {
        ext: usize,
    },
}

/// Swings shorter than this many bars are noise inside a leg.
const MIN_SWING_BARS: usize = 3;

pub(crate) fn zigzag(ctx: &Ctx<'_>, multiple: f64) -> Vec<Pivot> {
    drop_brief_swings(raw_zigzag(ctx, multiple))
}

/// Is `a` more extreme than `b` (two pivots of the same kind)?
fn beyond(a: &Pivot, b: &Pivot) -> bool {
    match a.kind {
        PivotKind::High => a.price > b.price,
        PivotKind::Low => a.price < b.price,
    }
}

/// Removes a brief swing `b → c` from `a, b, c, d` when the legs around it
/// overtake it (`d` beyond `b`, `a` beyond `c`): then `a → d` is one leg
/// with a wobble in it, and alternation is kept.
pub(crate) fn drop_brief_swings(raw: Vec<Pivot>) -> Vec<Pivot> {
    let mut out: Vec<Pivot> = Vec::with_capacity(raw.len());
    for p in raw {
        out.push(p);
        while out.len() >= 4 {
            let k = out.len();
            let (a, b, c, d) = (&out[k - 4], &out[k - 3], &out[k - 2], &out[k - 1]);
            if c.index - b.index < MIN_SWING_BARS && !beyond(b, d) && !beyond(c, a) {
                out.drain(k - 3..k - 1);
            } else {
                break;
            }
        }
    }
    out
}

pub(crate) fn raw_zigzag(ctx: &Ctx<'_>, multiple: f64) -> Vec<Pivot> {
    let n = ctx.n();
    let mut out = Vec::new();
    if n < 2 {
        return out;
    }
    let multiple = if multiple.is_finite() && multiple > 0.0 {
        multiple
    } else {
        2.0
    };
    let threshold = |i: usize| multiple * ctx.atr[i];
    let high = |i: usize| Pivot {
        index: i,
        price: ctx.high(i),
        kind: PivotKind::High,
    };
    let low = |i: usize| Pivot {
        index: i,
        price: ctx.low(i),
        kind: PivotKind::Low,
    };
    let mut state = Seeking::Start { hi: 0, lo: 0 };
    // Bar whose ATR scales the current leg's reversal threshold.
    let mut leg_start = 0;
    for i in 1..n {
        state = match state {
            Seeking::Start { mut hi, mut lo } => {
                if ctx.high(i) > ctx.high(hi) {
                    hi = i;
                }
                if ctx.low(i) < ctx.low(lo) {
                    lo = i;
                }
                let range = ctx.high(hi) - ctx.low(lo);
                if lo < hi && range > threshold(lo) {
                    out.push(low(lo));
                    leg_start = lo;
                    Seeking::High { ext: hi }
                } else if hi < lo && range > threshold(hi) {
                    out.push(high(hi));
                    leg_start = hi;
                    Seeking::Low { ext: lo }
                } else {
                    Seeking::Start { hi, lo }
                }
            }
            Seeking::High { ext } => {
                if ctx.high(i) > ctx.high(ext) {
                    Seeking::High { ext: i }
                } else if ctx.high(ext) - ctx.low(i) > threshold(leg_start) {
                    out.push(high(ext));
                    leg_start = ext;
                    Seeking::Low { ext: i }
                } else {
                    Seeking::High { ext }
                }
            }
            Seeking::Low { ext } => {
                if ctx.low(i) < ctx.low(ext) {
                    Seeking::Low { ext: i }
                } else if ctx.high(i) - ctx.low(ext) > threshold(leg_start) {
                    out.push(low(ext));
                    leg_start = ext;
                    Seeking::High { ext: i }
                } else {
                    Seeking::Low { ext }
                }
            }
        };
    }
    out
}

/// The same pivots seen upside down (highs become lows at negated prices),
/// matching [`Ctx::mirrored`].
pub(crate) fn mirror(pivots: &[Pivot]) -> Vec<Pivot> {
    pivots
        .iter()
        .map(|p| Pivot {
            index: p.index,
            price: -p.price,
            kind: match p.kind {
                PivotKind::High => PivotKind::Low,
                PivotKind::Low => PivotKind::High,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DetectorConfig;
    use crate::series::sanitize;

    fn ctx_from_closes<'c>(closes: &[f64], cfg: &'c DetectorConfig) -> Ctx<'c> {
        let high: Vec<f64> = closes.iter().map(|c| c + 0.5).collect();
        let low: Vec<f64> = closes.iter().map(|c| c - 0.5).collect();
        Ctx::new(sanitize(&high, &low, closes, None).unwrap(), cfg)
    }

    /// A triangle wave: legs of 10 bars and 20 points against an ATR of
    /// about 3 give exactly one pivot per turn.
    #[test]
    fn triangle_wave_gives_one_pivot_per_turn() {
        let closes: Vec<f64> = (0..100)
            .map(|i| {
                let phase = i % 20;
                100.0
                    + if phase < 10 {
                        2.0 * phase as f64
                    } else {
                        2.0 * (20 - phase) as f64
                    }
            })
            .collect();
        let cfg = DetectorConfig::default();
        let p = zigzag(&ctx_from_closes(&closes, &cfg), 2.0);
        let idx: Vec<usize> = p.iter().map(|q| q.index).collect();
        // The last top (90) is confirmed by the fall that follows it; the
        // final low (100, beyond the data) is not.
        assert_eq!(idx, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
        assert_eq!(p[0].kind, PivotKind::Low);
        assert_eq!(p[0].price, 99.5);
        assert_eq!(p[1].kind, PivotKind::High);
        assert_eq!(p[1].price, 120.5);
    }

    #[test]
    fn brief_wobble_inside_a_leg_is_dropped() {
        // Up 20, a 2-bar dip of 6, up to a new high: one leg, not three.
        let mut closes: Vec<f64> = (0..=10).map(|i| 100.0 + 2.0 * i as f64).collect();
        closes.extend([114.0, 114.0]);
        closes.extend((0..=10).map(|i| 116.0 + 2.0 * i as f64));
        closes.extend((1..=12).map(|i| 136.0 - 3.0 * i as f64));
        let cfg = DetectorConfig::default();
        let ctx = ctx_from_closes(&closes, &cfg);
        let raw = raw_zigzag(&ctx, 1.0);
        let clean = zigzag(&ctx, 1.0);
        assert!(raw.len() > clean.len(), "{raw:?}");
        assert!(
            clean
                .windows(2)
                .all(|w| w[1].index - w[0].index >= MIN_SWING_BARS)
        );
    }

    #[test]
    fn mirror_swaps_kinds_and_negates_prices() {
        let p = [Pivot {
            index: 3,
            price: 10.0,
            kind: PivotKind::High,
        }];
        let m = mirror(&p);
        assert_eq!(m[0].kind, PivotKind::Low);
        assert_eq!(m[0].price, -10.0);
    }
}
