//! Cup and handle: two rims at about the same price, a rounded base between
//! them, then a shallow pullback (the handle).

use crate::candidate::Candidate;
use crate::line::{Line, parabola_fit};
use crate::series::{Ctx, contraction_score, trend_score};
use crate::types::{Direction, KeyPoint, PatternType, Pivot, PivotKind};

/// The bottom must sit in this central part of the cup (as a fraction of
/// its width): a low at one end is a slope, not a cup.
const BOTTOM_POSITION: (f64, f64) = (0.25, 0.75);
/// A rounded U spends more time in its lower half than a V does (a V spends
/// half, a half-sine two thirds).
const MIN_LOWER_HALF_SHARE: f64 = 0.55;
/// A parabola must explain this much of the cup's variance.
const MIN_PARABOLA_R2: f64 = 0.6;
/// Handle pullback as a fraction of cup depth.
const HANDLE_RETRACE: (f64, f64) = (0.05, 0.5);
/// The handle may last at most this fraction of the cup.
const MAX_HANDLE_TO_CUP: f64 = 0.5;

pub(crate) fn cups(ctx: &Ctx<'_>, p: &[Pivot], out: &mut Vec<Candidate>) {
    for (i1, r1) in p.iter().enumerate() {
        if r1.kind != PivotKind::High {
            continue;
        }
        for (i2, r2) in p.iter().enumerate().skip(i1 + 2) {
            if r2.kind != PivotKind::High {
                continue;
            }
            let width = r2.index - r1.index;
            if width > ctx.cfg.max_pattern_bars {
                break;
            }
            if width < ctx.cfg.min_cup_bars {
                continue;
            }
            let Some(handle) = p.get(i2 + 1) else {
                continue;
            };
            if let Some(c) = cup(ctx, p.get(i1.wrapping_sub(1)), r1, r2, handle) {
                out.push(c);
            }
        }
    }
}

fn cup(
    ctx: &Ctx<'_>,
    prior: Option<&Pivot>,
    r1: &Pivot,
    r2: &Pivot,
    handle: &Pivot,
) -> Option<Candidate> {
    let (a, b) = (r1.index, r2.index);
    let width = (b - a) as f64;
    let (mut bottom_i, mut bottom) = (a, ctx.low(a));
    let mut highest_between = f64::MIN;
    for i in a + 1..b {
        if ctx.low(i) < bottom {
            bottom = ctx.low(i);
            bottom_i = i;
        }
        highest_between = highest_between.max(ctx.high(i));
    }
    let rim = r1.price.min(r2.price);
    let depth = rim - bottom;
    let atr = ctx.mean_atr(a, b);
    let tol = ctx.tol(a, b);
    let rim_tol = tol.max(0.15 * depth);
    let rim_diff = (r1.price - r2.price).abs();
    let position = (bottom_i - a) as f64 / width;
    if depth < ctx.cfg.min_height_atr * atr
        || rim_diff > rim_tol
        || highest_between > rim + 0.1 * depth
        || position < BOTTOM_POSITION.0
        || position > BOTTOM_POSITION.1
    {
        return None;
    }
    let closes: Vec<f64> = (a..=b).map(|i| ctx.close(i)).collect();
    let lower_half =
        closes.iter().filter(|&&c| c < bottom + depth / 2.0).count() as f64 / closes.len() as f64;
    let (r2_fit, curvature) = parabola_fit(&closes)?;
    if lower_half < MIN_LOWER_HALF_SHARE || r2_fit < MIN_PARABOLA_R2 || curvature <= 0.0 {
        return None;
    }
    let handle_bars = handle.index - b;
    let retrace = (r2.price - handle.price) / depth;
    if handle.kind != PivotKind::Low
        || handle_bars < 2
        || handle_bars as f64 > MAX_HANDLE_TO_CUP * width
        || retrace < HANDLE_RETRACE.0
        || retrace > HANDLE_RETRACE.1
    {
        return None;
    }
    let trend = match prior {
        Some(prior) => {
            trend_score(ctx.prior_trend(a, b - a)).max(if prior.price < bottom { 1.0 } else { 0.0 })
        }
        None => 0.3,
    };
    let mut scores = vec![
        (0.25, 1.0 - rim_diff / rim_tol),
        (0.25, r2_fit),
        (0.15, 1.0 - (position - 0.5).abs() / 0.25),
        (0.15, 1.0 - (retrace - 0.3).abs() / 0.3),
        (0.2, trend),
    ];
    // Volume should dry up at the bottom of the cup compared to its rims.
    let third = (b - a) / 3;
    if let (Some(left), Some(mid), Some(right)) = (
        ctx.mean_volume(a, a + third),
        ctx.mean_volume(a + third + 1, b - third),
        ctx.mean_volume(b - third + 1, b),
    ) {
        scores.push((0.15, contraction_score((left + right) / 2.0, mid)));
    }
    Some(Candidate {
        kind: PatternType::CupAndHandle,
        direction: Direction::Bullish,
        start: a,
        end: handle.index,
        key_points: vec![
            KeyPoint {
                index: a,
                price: r1.price,
                label: "left_rim",
            },
            KeyPoint {
                index: bottom_i,
                price: bottom,
                label: "cup_bottom",
            },
            KeyPoint {
                index: b,
                price: r2.price,
                label: "right_rim",
            },
            KeyPoint {
                index: handle.index,
                price: handle.price,
                label: "handle_low",
            },
        ],
        upper: Line::horizontal(r2.price),
        lower: Line::horizontal(handle.price),
        height: depth,
        apex: None,
        scores,
    })
}
