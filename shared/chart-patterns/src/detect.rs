//! Runs the detectors over every pivot scale, upright and mirrored, then
//! turns candidates into patterns and removes duplicates.

use crate::boundary::{self, boundary_patterns};
use crate::candidate::{Candidate, finalize};
use crate::config::DetectorConfig;
use crate::continuation::flags;
use crate::cup::cups;
use crate::pivots::{drop_brief_swings, mirror, raw_zigzag, zigzag};
use crate::reversal::{double_tops, head_and_shoulders, triple_tops};
use crate::series::{Ctx, sanitize};
use crate::types::{ChartPattern, PatternType, Pivot};

/// Two patterns of one kind are the same pattern when they share at least
/// this fraction of the shorter one's span.
const DUPLICATE_OVERLAP: f64 = 0.5;

/// Swing highs and lows, alternating, from a zig-zag whose minimum swing is
/// `config.pivot_atr_multiple` × ATR (Wilder, `config.atr_period`).
///
/// Look-ahead: the running extreme becomes a pivot only once price has
/// reversed from it by the minimum swing, so each pivot is confirmed at a
/// later bar using only bars up to that bar; the final, unreversed extreme is
/// not reported. A swing shorter than 3 bars is then folded into the leg
/// around it once that leg overtakes it, so the last two pivots can still
/// change as bars arrive; earlier ones are final.
pub fn pivots(high: &[f64], low: &[f64], close: &[f64], config: &DetectorConfig) -> Vec<Pivot> {
    match sanitize(high, low, close, None) {
        Some(bars) => zigzag(&Ctx::new(bars, config), config.pivot_atr_multiple),
        None => Vec::new(),
    }
}

/// Finds the requested pattern kinds (an empty `kinds` finds nothing).
/// Patterns are sorted by `end_index`; overlapping patterns of the same kind
/// are merged keeping the most confident, and a double top (bottom) inside
/// a triple top (bottom) is dropped in favour of it.
pub fn detect(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: Option<&[f64]>,
    kinds: &[PatternType],
    config: &DetectorConfig,
) -> Vec<ChartPattern> {
    let Some(bars) = sanitize(high, low, close, volume) else {
        return Vec::new();
    };
    if kinds.is_empty() {
        return Vec::new();
    }
    let want = |k: PatternType| kinds.contains(&k);
    let ctx = Ctx::new(bars, config);
    let flipped = ctx.mirrored();
    let mut upright = Vec::new();
    let mut mirrored = Vec::new();
    let mut scales: Vec<f64> = config
        .pivot_scales
        .iter()
        .copied()
        .filter(|s| s.is_finite() && *s > 0.0)
        .collect();
    if scales.is_empty() {
        scales.push(1.0);
    }
    for scale in scales {
        let raw = raw_zigzag(&ctx, config.pivot_atr_multiple * scale);
        let p = drop_brief_swings(raw.clone());
        let (raw_m, m) = (mirror(&raw), mirror(&p));
        for (c, piv, raw_piv, out, top, bottom) in [
            (&ctx, &p, &raw, &mut upright, true, false),
            (&flipped, &m, &raw_m, &mut mirrored, false, true),
        ] {
            // `top`: the kind as found on these prices is wanted when the
            // prices are upright; `bottom`: when its mirror image is.
            let wants =
                |up: PatternType, down: PatternType| (top && want(up)) || (bottom && want(down));
            if wants(PatternType::DoubleTop, PatternType::DoubleBottom) {
                double_tops(c, piv, out);
            }
            if wants(PatternType::TripleTop, PatternType::TripleBottom) {
                triple_tops(c, piv, out);
            }
            if wants(
                PatternType::HeadAndShoulders,
                PatternType::InverseHeadAndShoulders,
            ) {
                head_and_shoulders(c, piv, out);
            }
            let b = boundary::Wanted {
                ascending: wants(
                    PatternType::AscendingTriangle,
                    PatternType::DescendingTriangle,
                ),
                rising_wedge: wants(PatternType::RisingWedge, PatternType::FallingWedge),
                symmetrical: top && want(PatternType::SymmetricalTriangle),
                rectangle: top && want(PatternType::Rectangle),
            };
            if b.ascending || b.rising_wedge || b.symmetrical || b.rectangle {
                boundary_patterns(c, piv, &b, out);
            }
            // Flags and pennants compete for the same pause, so both are
            // always classified (and unwanted kinds filtered out below):
            // otherwise asking for pennants alone would turn flags into
            // pennants.
            if wants(PatternType::BullFlag, PatternType::BearFlag) || want(PatternType::Pennant) {
                flags(c, raw_piv, out);
            }
            if top && want(PatternType::CupAndHandle) {
                cups(c, piv, out);
            }
        }
    }
    let candidates: Vec<Candidate> = upright
        .into_iter()
        .chain(mirrored.into_iter().map(Candidate::unmirror))
        .filter(|c| want(c.kind))
        .collect();
    let patterns = candidates
        .into_iter()
        .map(|c| finalize(c, &ctx))
        .filter(|p| p.confidence >= config.min_confidence)
        .collect();
    merge(patterns)
}

fn overlap(a: &ChartPattern, b: &ChartPattern) -> f64 {
    let lo = a.start_index.max(b.start_index);
    let hi = a.end_index.min(b.end_index);
    if hi < lo {
        return 0.0;
    }
    let shorter = (a.end_index - a.start_index).min(b.end_index - b.start_index) + 1;
    (hi - lo + 1) as f64 / shorter as f64
}

/// A triple top contains two double tops; report the more specific pattern.
fn subsumed_by(kind: PatternType) -> Option<PatternType> {
    match kind {
        PatternType::DoubleTop => Some(PatternType::TripleTop),
        PatternType::DoubleBottom => Some(PatternType::TripleBottom),
        _ => None,
    }
}

fn merge(mut patterns: Vec<ChartPattern>) -> Vec<ChartPattern> {
    // Most confident first; the remaining keys only make ties deterministic.
    patterns.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then((b.end_index - b.start_index).cmp(&(a.end_index - a.start_index)))
            .then(a.end_index.cmp(&b.end_index))
            .then(a.start_index.cmp(&b.start_index))
            .then(a.kind.cmp(&b.kind))
    });
    let mut kept: Vec<ChartPattern> = Vec::new();
    for p in patterns {
        let duplicate = kept
            .iter()
            .any(|k| k.kind == p.kind && overlap(k, &p) >= DUPLICATE_OVERLAP);
        if !duplicate {
            kept.push(p);
        }
    }
    let specific: Vec<(PatternType, usize, usize)> = kept
        .iter()
        .map(|p| (p.kind, p.start_index, p.end_index))
        .collect();
    kept.retain(|p| {
        subsumed_by(p.kind).is_none_or(|parent| {
            !specific
                .iter()
                .any(|&(kind, s, e)| kind == parent && s <= p.start_index && p.end_index <= e)
        })
    });
    kept.sort_by(|a, b| {
        a.end_index
            .cmp(&b.end_index)
            .then(a.start_index.cmp(&b.start_index))
            .then(a.kind.cmp(&b.kind))
    });
    kept
}

/// One number for "how sure are we that some pattern is here": the highest
/// confidence, since a single clean pattern is enough and weak overlapping
/// ones should not add up to certainty. 0 when there are none.
pub fn overall_confidence(patterns: &[ChartPattern]) -> f64 {
    patterns
        .iter()
        .map(|p| p.confidence)
        .filter(|c| c.is_finite())
        .fold(0.0, f64::max)
        .clamp(0.0, 1.0)
}
