//! Patterns bounded by two fitted lines: triangles, wedges, rectangles.
//! On upright prices this finds ascending triangles, rising wedges,
//! symmetrical triangles and rectangles; on mirrored prices the first two
//! become descending triangles and falling wedges (the last two are their
//! own mirror image and are searched once).

use crate::candidate::{Candidate, touch_label};
use crate::line::Line;
use crate::series::{Ctx, contraction_score, trend_score};
use crate::types::{Direction, KeyPoint, PatternType, Pivot, PivotKind};

/// A line "moves" if it changes by more than this fraction of the pattern's
/// height (or the tolerance, if larger) over the pattern; otherwise it is flat.
const FLAT_FRACTION: f64 = 0.15;
/// Triangles and wedges must narrow to at most this fraction of their
/// starting width by their last touch.
const CONVERGENCE: f64 = 0.6;
/// Prior-trend z-score beyond which a symmetrical pattern is expected to
/// continue that trend.
const TREND_Z: f64 = 1.0;

/// Consecutive touches closer than this many bars are one jolt of noise,
/// not two tests of a line.
const MIN_TOUCH_GAP: usize = 3;
/// The shortest swing between consecutive touches must last at least this
/// fraction of the longest. Drawn triangles and wedges swing with a steady
/// rhythm; a random walk's zig-zag mixes quick jolts with long legs, and
/// such windows were most of the triangles and wedges found in pure noise.
const MIN_SWING_RHYTHM: f64 = 0.3;
/// Five or more touches need room: the widest part of a triangle, wedge or
/// rectangle must be this many times `min_height_atr`. Narrower ones are
/// mostly the zig-zag's own minimum swing traced back and forth.
const BOUNDARY_HEIGHT_FACTOR: f64 = 1.5;

pub(crate) struct Wanted {
    pub ascending: bool,
    pub rising_wedge: bool,
    pub symmetrical: bool,
    pub rectangle: bool,
}

pub(crate) fn boundary_patterns(
    ctx: &Ctx<'_>,
    p: &[Pivot],
    wanted: &Wanted,
    out: &mut Vec<Candidate>,
) {
    let min_k = ctx.cfg.min_touches.max(4);
    let max_k = ctx.cfg.max_touches.max(min_k);
    for j in 0..p.len() {
        for k in min_k..=max_k {
            if j + k > p.len() {
                break;
            }
            if let Some(c) = fit_window(ctx, &p[j..j + k], wanted) {
                out.push(c);
            }
        }
    }
}

fn fit_window(ctx: &Ctx<'_>, w: &[Pivot], wanted: &Wanted) -> Option<Candidate> {
    let first = w[0].index;
    let last = w[w.len() - 1].index;
    let span = last - first;
    if span < ctx.cfg.min_pattern_bars || span > ctx.cfg.max_pattern_bars {
        return None;
    }
    let gaps = w.windows(2).map(|pair| pair[1].index - pair[0].index);
    let shortest = gaps.clone().min()?;
    let longest = gaps.max()?;
    if shortest < MIN_TOUCH_GAP || (shortest as f64) < MIN_SWING_RHYTHM * longest as f64 {
        return None;
    }
    let highs: Vec<(usize, f64)> = w
        .iter()
        .filter(|p| p.kind == PivotKind::High)
        .map(|p| (p.index, p.price))
        .collect();
    let lows: Vec<(usize, f64)> = w
        .iter()
        .filter(|p| p.kind == PivotKind::Low)
        .map(|p| (p.index, p.price))
        .collect();
    if highs.len() < 2 || lows.len() < 2 {
        return None;
    }
    let upper = Line::fit(&highs)?;
    let lower = Line::fit(&lows)?;
    let tol = ctx.tol(first, last);
    let residual = |line: &Line, pts: &[(usize, f64)]| {
        pts.iter()
            .map(|&(x, y)| (y - line.at(x)).abs())
            .fold(0.0, f64::max)
    };
    let worst = residual(&upper, &highs).max(residual(&lower, &lows));
    if worst > tol {
        return None;
    }
    let h0 = upper.at(first) - lower.at(first);
    let h1 = upper.at(last) - lower.at(last);
    let atr = ctx.mean_atr(first, last);
    let min_height = BOUNDARY_HEIGHT_FACTOR * ctx.cfg.min_height_atr * atr;
    if h0 <= 0.0 || h1 <= 0.0 || h0.max(h1) < min_height {
        return None;
    }
    // Every close between the first and last touch stays inside the lines:
    // a line that price already closed through is not a boundary.
    if (first..=last).any(|i| {
        let c = ctx.close(i);
        c > upper.at(i) + tol || c < lower.at(i) - tol
    }) {
        return None;
    }
    let du = upper.slope * span as f64;
    let dl = lower.slope * span as f64;
    let flat = tol.max(FLAT_FRACTION * h0.max(h1));
    let converging = h1 <= CONVERGENCE * h0;
    let (upper_flat, lower_flat) = (du.abs() <= flat, dl.abs() <= flat);
    let trend = ctx.prior_trend(first, span);
    let kind = if upper_flat && lower_flat {
        wanted.rectangle.then_some(PatternType::Rectangle)
    } else if upper_flat && dl > flat && converging {
        wanted.ascending.then_some(PatternType::AscendingTriangle)
    } else if du < -flat && dl > flat && converging {
        wanted
            .symmetrical
            .then_some(PatternType::SymmetricalTriangle)
    } else if du > flat && dl > du && converging {
        wanted.rising_wedge.then_some(PatternType::RisingWedge)
    } else {
        None
    }?;
    let (direction, trend_fit) = match kind {
        PatternType::AscendingTriangle => (Direction::Bullish, trend_score(trend)),
        // A rising wedge is a bearish pattern that grows out of an advance.
        PatternType::RisingWedge => (Direction::Bearish, trend_score(trend)),
        _ if trend > TREND_Z => (Direction::Bullish, trend_score(trend.abs())),
        _ if trend < -TREND_Z => (Direction::Bearish, trend_score(trend.abs())),
        _ => (Direction::Neutral, 0.3),
    };
    let mut res_k = 0;
    let mut sup_k = 0;
    let key_points = w
        .iter()
        .map(|p| {
            let label = if p.kind == PivotKind::High {
                res_k += 1;
                touch_label(true, res_k - 1)
            } else {
                sup_k += 1;
                touch_label(false, sup_k - 1)
            };
            KeyPoint {
                index: p.index,
                price: p.price,
                label,
            }
        })
        .collect();
    let mean_residual = (highs
        .iter()
        .map(|&(x, y)| (y - upper.at(x)).abs())
        .chain(lows.iter().map(|&(x, y)| (y - lower.at(x)).abs()))
        .sum::<f64>())
        / w.len() as f64;
    let touches = ((w.len() as f64 - 4.0) / 4.0).clamp(0.0, 1.0);
    let mut scores = vec![
        (0.35, 1.0 - mean_residual / tol.max(f64::MIN_POSITIVE)),
        (0.25, touches),
        (0.2, trend_fit),
        (
            0.2,
            (h0.max(h1) / (2.0 * ctx.cfg.min_height_atr * atr)).min(1.0),
        ),
    ];
    let mid = first + span / 2;
    if let (Some(a), Some(b)) = (ctx.mean_volume(first, mid), ctx.mean_volume(mid + 1, last)) {
        scores.push((0.15, contraction_score(a, b)));
    }
    let apex = match kind {
        PatternType::Rectangle => None,
        _ => upper.meets(&lower).filter(|&x| x > last as f64),
    };
    Some(Candidate {
        kind,
        direction,
        start: first,
        end: last,
        key_points,
        upper,
        lower,
        height: if kind == PatternType::Rectangle {
            (h0 + h1) / 2.0
        } else {
            h0
        },
        apex,
        scores,
    })
}
