//! A pattern as a detector sees it (two boundary lines and some scores),
//! and the shared step that turns it into a [`ChartPattern`]: status from
//! the closes after it, levels, measured-move target and confidence.

use crate::line::Line;
use crate::series::Ctx;
use crate::types::{ChartPattern, Direction, KeyPoint, PatternType, Status};

/// A breakout is looked for within this many times the pattern's own length
/// after its last key point (at least `MIN_HORIZON_BARS`); a pattern that
/// has neither broken out nor failed by then has gone stale.
const HORIZON_SPANS: usize = 2;
const MIN_HORIZON_BARS: usize = 10;

#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub kind: PatternType,
    pub direction: Direction,
    pub start: usize,
    pub end: usize,
    pub key_points: Vec<KeyPoint>,
    /// Resistance side. Breakout line when bullish, invalidation when bearish.
    pub upper: Line,
    /// Support side. Breakout line when bearish, invalidation when bullish.
    pub lower: Line,
    /// Measured-move height.
    pub height: f64,
    /// Where converging lines meet; past it they mean nothing.
    pub apex: Option<f64>,
    /// (weight, score in [0, 1]) pairs averaged into the confidence.
    pub scores: Vec<(f64, f64)>,
}

impl Candidate {
    /// The same pattern seen the right way up after being found on mirrored
    /// prices: prices negate, upper and lower swap, bullish and bearish swap.
    pub fn unmirror(self) -> Candidate {
        Candidate {
            kind: mirror_kind(self.kind),
            direction: match self.direction {
                Direction::Bullish => Direction::Bearish,
                Direction::Bearish => Direction::Bullish,
                Direction::Neutral => Direction::Neutral,
            },
            key_points: self
                .key_points
                .into_iter()
                .map(|k| KeyPoint {
                    index: k.index,
                    price: -k.price,
                    label: mirror_label(k.label),
                })
                .collect(),
            upper: self.lower.negated(),
            lower: self.upper.negated(),
            ..self
        }
    }
}

fn mirror_kind(kind: PatternType) -> PatternType {
    use PatternType::*;
    match kind {
        HeadAndShoulders => InverseHeadAndShoulders,
        InverseHeadAndShoulders => HeadAndShoulders,
        DoubleTop => DoubleBottom,
        DoubleBottom => DoubleTop,
        TripleTop => TripleBottom,
        TripleBottom => TripleTop,
        AscendingTriangle => DescendingTriangle,
        DescendingTriangle => AscendingTriangle,
        RisingWedge => FallingWedge,
        FallingWedge => RisingWedge,
        BullFlag => BearFlag,
        BearFlag => BullFlag,
        other => other,
    }
}

fn mirror_label(label: &'static str) -> &'static str {
    const PAIRS: [(&str, &str); 22] = [
        ("top_1", "bottom_1"),
        ("top_2", "bottom_2"),
        ("top_3", "bottom_3"),
        ("resistance_1", "support_1"),
        ("resistance_2", "support_2"),
        ("resistance_3", "support_3"),
        ("resistance_4", "support_4"),
        ("resistance_5", "support_5"),
        ("resistance_6", "support_6"),
        ("resistance_7", "support_7"),
        ("resistance_8", "support_8"),
        ("flag_upper_1", "flag_lower_1"),
        ("flag_upper_2", "flag_lower_2"),
        ("left_rim", "left_rim"),
        ("neckline", "neckline"),
        ("neckline_1", "neckline_1"),
        ("neckline_2", "neckline_2"),
        ("head", "head"),
        ("left_shoulder", "left_shoulder"),
        ("right_shoulder", "right_shoulder"),
        ("pole_start", "pole_start"),
        ("pole_end", "pole_end"),
    ];
    PAIRS
        .iter()
        .find_map(|&(a, b)| {
            if a == label {
                Some(b)
            } else if b == label {
                Some(a)
            } else {
                None
            }
        })
        .unwrap_or(label)
}

/// Touch labels for triangles, wedges and rectangles.
pub(crate) fn touch_label(resistance: bool, k: usize) -> &'static str {
    const RES: [&str; 8] = [
        "resistance_1",
        "resistance_2",
        "resistance_3",
        "resistance_4",
        "resistance_5",
        "resistance_6",
        "resistance_7",
        "resistance_8",
    ];
    const SUP: [&str; 8] = [
        "support_1",
        "support_2",
        "support_3",
        "support_4",
        "support_5",
        "support_6",
        "support_7",
        "support_8",
    ];
    let k = k.min(7);
    if resistance { RES[k] } else { SUP[k] }
}

pub(crate) fn finalize(c: Candidate, ctx: &Ctx<'_>) -> ChartPattern {
    let n = ctx.n();
    let horizon = (HORIZON_SPANS * c.end.saturating_sub(c.start)).max(MIN_HORIZON_BARS);
    let mut last = (c.end + horizon).min(n.saturating_sub(1));
    if let Some(apex) = c.apex
        && apex > c.end as f64
    {
        last = last.min(apex.floor() as usize);
    }
    let mut direction = c.direction;
    let mut outcome = None;
    for i in c.end + 1..=last {
        let close = ctx.close(i);
        let above = close > c.upper.at(i);
        let below = close < c.lower.at(i);
        outcome = match (direction, above, below) {
            (Direction::Bullish, true, _) | (Direction::Bearish, _, true) => {
                Some((Status::Confirmed, i))
            }
            (Direction::Bullish, _, true) | (Direction::Bearish, true, _) => {
                Some((Status::Failed, i))
            }
            (Direction::Neutral, true, _) => {
                direction = Direction::Bullish;
                Some((Status::Confirmed, i))
            }
            (Direction::Neutral, _, true) => {
                direction = Direction::Bearish;
                Some((Status::Confirmed, i))
            }
            _ => None,
        };
        if outcome.is_some() {
            break;
        }
    }
    let (status, breakout_index, at) = match outcome {
        Some((status, i)) => (status, Some(i), i),
        // Still room to break out: the data simply ends.
        None if last + 1 >= n => (Status::Forming, None, last.max(c.end)),
        // The horizon (or the apex) passed without a decision.
        None => (Status::Failed, None, last),
    };
    let (breakout_level, invalidation_level, target) = match direction {
        Direction::Bearish => {
            let level = c.lower.at(at);
            (level, c.upper.at(at), level - c.height)
        }
        // Neutral and unresolved: report the upside; the downside is the
        // mirror (break below `invalidation_level`, target one height lower).
        Direction::Bullish | Direction::Neutral => {
            let level = c.upper.at(at);
            (level, c.lower.at(at), level + c.height)
        }
    };
    ChartPattern {
        kind: c.kind,
        direction,
        start_index: c.start,
        end_index: c.end,
        key_points: c.key_points,
        breakout_level,
        invalidation_level,
        target,
        confidence: confidence(&c.scores),
        status,
        breakout_index,
    }
}

fn confidence(scores: &[(f64, f64)]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for &(w, s) in scores {
        if w > 0.0 && s.is_finite() {
            num += w * s.clamp(0.0, 1.0);
            den += w;
        }
    }
    if den > 0.0 {
        (num / den).clamp(0.0, 1.0)
    } else {
        0.0
    }
}
