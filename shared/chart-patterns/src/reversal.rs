//! Tops: head and shoulders, double and triple tops. Run on mirrored prices
//! they find the inverse head and shoulders and the double and triple
//! bottoms.

use crate::candidate::Candidate;
use crate::line::Line;
use crate::series::{Ctx, contraction_score, trend_score};
use crate::types::{Direction, KeyPoint, PatternType, Pivot, PivotKind};

/// Bars either side of a peak averaged for its volume.
const PEAK_VOLUME_BARS: usize = 2;

fn kp(p: &Pivot, label: &'static str) -> KeyPoint {
    KeyPoint {
        index: p.index,
        price: p.price,
        label,
    }
}

fn peak_volume(ctx: &Ctx<'_>, i: usize) -> Option<f64> {
    ctx.mean_volume(i.saturating_sub(PEAK_VOLUME_BARS), i + PEAK_VOLUME_BARS)
}

/// Later peaks on weaker volume than the first: demand fading.
fn fading_volume(ctx: &Ctx<'_>, first: usize, last: usize) -> Option<f64> {
    Some(contraction_score(
        peak_volume(ctx, first)?,
        peak_volume(ctx, last)?,
    ))
}

fn span_ok(ctx: &Ctx<'_>, a: usize, b: usize) -> bool {
    let span = b.saturating_sub(a);
    span >= ctx.cfg.min_pattern_bars && span <= ctx.cfg.max_pattern_bars
}

/// `p[j..j + len]` starting at a high, with the low before it.
fn tops_window(p: &[Pivot], j: usize, len: usize) -> Option<(&Pivot, &[Pivot])> {
    if j == 0 || j + len > p.len() || p[j].kind != PivotKind::High {
        return None;
    }
    Some((&p[j - 1], &p[j..j + len]))
}

pub(crate) fn double_tops(ctx: &Ctx<'_>, p: &[Pivot], out: &mut Vec<Candidate>) {
    for j in 0..p.len() {
        let Some((prior, w)) = tops_window(p, j, 3) else {
            continue;
        };
        let (t1, trough, t2) = (&w[0], &w[1], &w[2]);
        if !span_ok(ctx, t1.index, t2.index) {
            continue;
        }
        let tol = ctx.tol(t1.index, t2.index);
        let diff = (t1.price - t2.price).abs();
        let height = (t1.price + t2.price) / 2.0 - trough.price;
        // A top needs a rally into it that started below the neckline;
        // otherwise the "tops" are just a pause in a decline.
        if diff > tol
            || height < ctx.cfg.min_height_atr * ctx.mean_atr(t1.index, t2.index)
            || height < 2.0 * tol
            || prior.price >= trough.price
        {
            continue;
        }
        let d1 = (trough.index - t1.index) as f64;
        let d2 = (t2.index - trough.index) as f64;
        let mut scores = vec![
            (0.35, 1.0 - diff / tol.max(f64::MIN_POSITIVE)),
            (0.2, d1.min(d2) / d1.max(d2)),
            (
                0.25,
                trend_score(ctx.prior_trend(t1.index, t2.index - t1.index)),
            ),
            (
                0.2,
                (height / (2.0 * ctx.cfg.min_height_atr * ctx.atr[t1.index])).min(1.0),
            ),
        ];
        if let Some(v) = fading_volume(ctx, t1.index, t2.index) {
            scores.push((0.15, v));
        }
        out.push(Candidate {
            kind: PatternType::DoubleTop,
            direction: Direction::Bearish,
            start: t1.index,
            end: t2.index,
            key_points: vec![kp(t1, "top_1"), kp(trough, "neckline"), kp(t2, "top_2")],
            upper: Line::horizontal(t1.price.max(t2.price)),
            lower: Line::horizontal(trough.price),
            height,
            apex: None,
            scores,
        });
    }
}

pub(crate) fn triple_tops(ctx: &Ctx<'_>, p: &[Pivot], out: &mut Vec<Candidate>) {
    for j in 0..p.len() {
        let Some((prior, w)) = tops_window(p, j, 5) else {
            continue;
        };
        let tops = [&w[0], &w[2], &w[4]];
        let (l1, l2) = (&w[1], &w[3]);
        if !span_ok(ctx, w[0].index, w[4].index) {
            continue;
        }
        let tol = ctx.tol(w[0].index, w[4].index);
        let hi = tops.iter().map(|t| t.price).fold(f64::MIN, f64::max);
        let lo = tops.iter().map(|t| t.price).fold(f64::MAX, f64::min);
        let spread = hi - lo;
        let neck = l1.price.min(l2.price);
        let mean_top = (tops[0].price + tops[1].price + tops[2].price) / 3.0;
        let height = mean_top - neck;
        let shallow = lo - l1.price.max(l2.price);
        let atr = ctx.mean_atr(w[0].index, w[4].index);
        // The range of three noisy peaks is about 1.5 times the typical
        // difference of two, so the pairwise tolerance is widened to match.
        if spread > 1.5 * tol
            || shallow < ctx.cfg.min_height_atr * atr
            || shallow < 2.0 * tol
            || prior.price >= neck
        {
            continue;
        }
        let d1 = (w[2].index - w[0].index) as f64;
        let d2 = (w[4].index - w[2].index) as f64;
        let mut scores = vec![
            (0.35, 1.0 - spread / (1.5 * tol).max(f64::MIN_POSITIVE)),
            (0.15, d1.min(d2) / d1.max(d2)),
            (0.1, 1.0 - (l1.price - l2.price).abs() / height),
            (
                0.25,
                trend_score(ctx.prior_trend(w[0].index, w[4].index - w[0].index)),
            ),
            (
                0.15,
                (height / (2.0 * ctx.cfg.min_height_atr * atr)).min(1.0),
            ),
        ];
        if let Some(v) = fading_volume(ctx, w[0].index, w[4].index) {
            scores.push((0.15, v));
        }
        out.push(Candidate {
            kind: PatternType::TripleTop,
            direction: Direction::Bearish,
            start: w[0].index,
            end: w[4].index,
            key_points: vec![
                kp(&w[0], "top_1"),
                kp(l1, "neckline_1"),
                kp(&w[2], "top_2"),
                kp(l2, "neckline_2"),
                kp(&w[4], "top_3"),
            ],
            upper: Line::horizontal(hi),
            lower: Line::horizontal(neck),
            height,
            apex: None,
            scores,
        });
    }
}

pub(crate) fn head_and_shoulders(ctx: &Ctx<'_>, p: &[Pivot], out: &mut Vec<Candidate>) {
    for j in 0..p.len() {
        let Some((prior, w)) = tops_window(p, j, 5) else {
            continue;
        };
        let (ls, t1, head, t2, rs) = (&w[0], &w[1], &w[2], &w[3], &w[4]);
        if !span_ok(ctx, ls.index, rs.index) {
            continue;
        }
        let tol = ctx.tol(ls.index, rs.index);
        let neck = Line::through(t1.index, t1.price, t2.index, t2.price);
        let head_height = head.price - neck.at(head.index);
        let shoulder_diff = (ls.price - rs.price).abs();
        let ls_height = ls.price - neck.at(ls.index);
        let rs_height = rs.price - neck.at(rs.index);
        let atr = ctx.mean_atr(ls.index, rs.index);
        // The head must stand clear of both shoulders by more than the
        // tolerance, or three similar peaks are a triple top instead.
        let clear = head.price - ls.price.max(rs.price);
        let d1 = (head.index - ls.index) as f64;
        let d2 = (rs.index - head.index) as f64;
        let time_symmetry = d1.min(d2) / d1.max(d2);
        let shoulder_tol = 1.5 * tol;
        if clear <= tol
            || shoulder_diff > shoulder_tol
            || head_height < ctx.cfg.min_height_atr * atr
            || ls_height < 0.3 * head_height
            || rs_height < 0.3 * head_height
            || (t1.price - t2.price).abs() > 0.5 * head_height
            || time_symmetry < 0.33
            || prior.price >= neck.at(prior.index)
        {
            continue;
        }
        let mut scores = vec![
            (0.3, 1.0 - shoulder_diff / shoulder_tol),
            (0.2, time_symmetry),
            (
                0.2,
                trend_score(ctx.prior_trend(ls.index, rs.index - ls.index)),
            ),
            (
                0.15,
                1.0 - (t1.price - t2.price).abs() / (0.5 * head_height),
            ),
            (
                0.15,
                (head_height / (2.0 * ctx.cfg.min_height_atr * atr)).min(1.0),
            ),
        ];
        if let Some(v) = fading_volume(ctx, ls.index, rs.index) {
            scores.push((0.15, v));
        }
        out.push(Candidate {
            kind: PatternType::HeadAndShoulders,
            direction: Direction::Bearish,
            start: ls.index,
            end: rs.index,
            key_points: vec![
                kp(ls, "left_shoulder"),
                kp(t1, "neckline_1"),
                kp(head, "head"),
                kp(t2, "neckline_2"),
                kp(rs, "right_shoulder"),
            ],
            upper: Line::horizontal(head.price),
            lower: neck,
            height: head_height,
            apex: None,
            scores,
        });
    }
}
