//! Flags and pennants: a sharp pole, then a short pause. Upright prices
//! give bull flags and bullish pennants; mirrored prices give bear flags and
//! bearish pennants.
//!
//! The pause is too small for the zig-zag that finds the pole, so it is
//! read from the bars themselves: the highest and lowest close of the first
//! and last third of the pause give two points per boundary line.

use crate::candidate::Candidate;
use crate::line::Line;
use crate::series::{Ctx, contraction_score, trend_score};
use crate::types::{Direction, KeyPoint, PatternType, Pivot, PivotKind};

/// Shortest pause after the pole, in bars.
const MIN_FLAG_BARS: usize = 6;
/// The pause may give back at most this fraction of the pole.
const MAX_RETRACE: f64 = 0.5;
/// The pause may last at most this many times the pole.
const MAX_FLAG_TO_POLE: usize = 4;
/// Width of the last third of the pause over the first: a pennant narrows
/// below this, a flag (parallel lines) stays within `FLAG_WIDTH_RATIO`.
const PENNANT_NARROWING: f64 = 0.55;
const FLAG_WIDTH_RATIO: (f64, f64) = (0.5, 2.0);
/// The pole's move divided by ATR·√bars: how many "random-walk standard
/// deviations" it covers. A random walk rarely exceeds 2 over a short span;
/// a real pole does easily.
const MIN_POLE_Z: f64 = 2.0;

struct Pause {
    kind: PatternType,
    end: usize,
    upper: Line,
    lower: Line,
    points: [(usize, f64); 4],
    shape_fit: f64,
}

pub(crate) fn flags(ctx: &Ctx<'_>, p: &[Pivot], out: &mut Vec<Candidate>) {
    let n = ctx.n();
    for pair in p.windows(2) {
        let (base, top_p) = (&pair[0], &pair[1]);
        if base.kind != PivotKind::Low {
            continue;
        }
        let b = top_p.index;
        // The zig-zag low can sit well before the sharp part of the advance
        // (a slow drift, then the pole); the pole starts at the lowest low
        // within reach of the top.
        let reach = base.index.max(b.saturating_sub(ctx.cfg.max_pole_bars));
        let a = (reach..b).fold(reach, |m, i| if ctx.low(i) < ctx.low(m) { i } else { m });
        let pole_bars = b - a;
        let atr = ctx.atr[a];
        let pole = ctx.high(b) - ctx.low(a);
        let pole_z = pole / (atr * (pole_bars.max(1) as f64).sqrt());
        if pole_bars == 0 || pole < ctx.cfg.pole_min_atr * atr || pole_z < MIN_POLE_Z {
            continue;
        }
        let top = ctx.high(b);
        let floor = top - MAX_RETRACE * pole;
        let tol = ctx.tol(a, b);
        let max_len = ctx
            .cfg
            .max_flag_bars
            .min(MAX_FLAG_TO_POLE * pole_bars.max(3));
        let mut valid: Vec<Pause> = Vec::new();
        for e in b + 1..n.min(b + max_len + 1) {
            // The pause ends where price either gives back too much or
            // clearly (by more than the tolerance) makes a new high beyond
            // the pole: both end the search.
            if ctx.low(e) < floor || ctx.close(e) > top + tol {
                break;
            }
            if e - b + 1 >= MIN_FLAG_BARS
                && let Some(pause) = classify(ctx, b, e, pole)
            {
                valid.push(pause);
            }
        }
        // The first bars of a breakout can still pass as part of the pause
        // and blur its shape, so among the longer readings (at least 60 %
        // of the longest) the cleanest shape wins.
        let longest = valid.iter().map(|p| p.end).max().unwrap_or(b);
        let best = valid
            .into_iter()
            .filter(|p| (p.end - b) * 10 >= (longest - b) * 6)
            .max_by(|x, y| x.shape_fit.total_cmp(&y.shape_fit).then(x.end.cmp(&y.end)));
        let Some(pause) = best else {
            continue;
        };
        let retrace = (top - (b..=pause.end).map(|i| ctx.low(i)).fold(top, f64::min)) / pole;
        let mut scores = vec![
            (0.3, pause.shape_fit),
            (0.3, (pole_z / (2.0 * MIN_POLE_Z)).min(1.0)),
            (0.15, 1.0 - retrace / MAX_RETRACE),
            (0.1, trend_score(ctx.prior_trend(a, pole_bars * 2))),
        ];
        if let (Some(v_pole), Some(v_pause)) =
            (ctx.mean_volume(a, b), ctx.mean_volume(b + 1, pause.end))
        {
            scores.push((0.2, contraction_score(v_pole, v_pause)));
        }
        let labels = [
            "flag_upper_1",
            "flag_upper_2",
            "flag_lower_1",
            "flag_lower_2",
        ];
        let mut key_points = vec![
            KeyPoint {
                index: a,
                price: ctx.low(a),
                label: "pole_start",
            },
            KeyPoint {
                index: b,
                price: top,
                label: "pole_end",
            },
        ];
        key_points.extend(
            pause
                .points
                .iter()
                .zip(labels)
                .map(|(&(index, price), label)| KeyPoint {
                    index,
                    price,
                    label,
                }),
        );
        key_points.sort_by_key(|k| k.index);
        out.push(Candidate {
            kind: pause.kind,
            direction: Direction::Bullish,
            start: a,
            end: pause.end,
            key_points,
            upper: pause.upper,
            lower: pause.lower,
            height: pole,
            apex: match pause.kind {
                PatternType::Pennant => pause
                    .upper
                    .meets(&pause.lower)
                    .filter(|&x| x > pause.end as f64),
                _ => None,
            },
            scores,
        });
    }
}

/// Index and value of the highest (or lowest) close in `[a, b]`.
fn extreme(ctx: &Ctx<'_>, a: usize, b: usize, highest: bool) -> (usize, f64) {
    let mut best = (a, ctx.close(a));
    for i in a..=b {
        let v = ctx.close(i);
        if (highest && v > best.1) || (!highest && v < best.1) {
            best = (i, v);
        }
    }
    best
}

/// Compares the first and last third of the pause `[b, e]`, on closes
/// (intrabar spikes would swamp a small pause): a flag keeps its width and
/// leans against the pole, a pennant narrows from both sides.
fn classify(ctx: &Ctx<'_>, b: usize, e: usize, pole: f64) -> Option<Pause> {
    let third = (e - b + 1) / 3;
    let u1 = extreme(ctx, b, b + third - 1, true);
    let l1 = extreme(ctx, b, b + third - 1, false);
    let u2 = extreme(ctx, e + 1 - third, e, true);
    let l2 = extreme(ctx, e + 1 - third, e, false);
    let w1 = u1.1 - l1.1;
    let w2 = u2.1 - l2.1;
    if w1 <= 0.0 || w2 <= 0.0 || u1.1.max(u2.1) - l1.1.min(l2.1) > MAX_RETRACE * pole {
        return None;
    }
    let upper = Line::through(u1.0, u1.1, u2.0, u2.1);
    let lower = Line::through(l1.0, l1.1, l2.0, l2.1);
    // Lines that already cross inside the pause bound nothing after it.
    if upper.at(e) <= lower.at(e) {
        return None;
    }
    let drift = (u2.1 + l2.1) / 2.0 - (u1.1 + l1.1) / 2.0;
    let ratio = w2 / w1;
    let points = [u1, u2, l1, l2];
    let len = (e - b) as f64;
    // A flag leans against the pole (down after a rise) or runs flat; a
    // rising pause is a new leg, not a flag.
    let leans_back = drift <= 0.05 * pole
        && drift >= -MAX_RETRACE * pole
        && upper.slope * len <= 0.1 * pole
        && lower.slope * len <= 0.1 * pole;
    if leans_back && ratio >= FLAG_WIDTH_RATIO.0 && ratio <= FLAG_WIDTH_RATIO.1 {
        return Some(Pause {
            kind: PatternType::BullFlag,
            end: e,
            upper,
            lower,
            points,
            shape_fit: 1.0 - (ratio.ln().abs() / FLAG_WIDTH_RATIO.1.ln()).min(1.0),
        });
    }
    if ratio < PENNANT_NARROWING && u2.1 < u1.1 && l2.1 > l1.1 && drift.abs() <= 0.25 * pole {
        return Some(Pause {
            kind: PatternType::Pennant,
            end: e,
            upper,
            lower,
            points,
            shape_fit: 1.0 - 0.5 * ratio / PENNANT_NARROWING,
        });
    }
    None
}
