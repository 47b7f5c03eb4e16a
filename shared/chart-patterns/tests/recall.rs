//! Measured recall on planted patterns and false-positive rate on pure
//! random walks, at the default configuration. Floors and ceilings are what
//! the detector achieved minus (plus) a margin; run with `--nocapture` to
//! see the tables. The seeds here were not used while tuning the detector:
//! tuning used planted seeds 0–49 and random-walk seeds from 1 000 000 (the
//! first 100, later 200), which `CHART_PATTERNS_TUNING=1` selects instead;
//! the asserted floors and ceilings are for the held-out seeds.

mod support;

use gs_chart_patterns::{ChartPattern, DetectorConfig, PatternType, detect};
use support::{Spec, overlap, plant, random_walk};

const SERIES_PER_TYPE: u64 = 50;
const RANDOM_WALKS: u64 = 200;
const RANDOM_WALK_BARS: usize = 500;

fn tuning() -> bool {
    std::env::var_os("CHART_PATTERNS_TUNING").is_some()
}

/// First planted seed: held out, or the tuning set.
fn first_recall_seed() -> u64 {
    if tuning() { 0 } else { 10_000 }
}

/// First random-walk seed: held out, or the tuning set.
fn first_walk_seed() -> u64 {
    if tuning() { 1_000_000 } else { 2_000_000 }
}
/// A detection matches the planted pattern when their spans share at least
/// this fraction of the shorter span.
const MATCH_OVERLAP: f64 = 0.5;

/// Per-type recall floors. Measured on these seeds: 0.84–1.00 for every
/// type but the pennant and the rectangle (0.80 each; on the tuning seeds
/// the pennant reaches 0.68, the symmetrical triangle 0.80). The pennant
/// loses most of its misses to the bull/bear flag reading of the same
/// pause; triangles, wedges and rectangles lose a few to the swing-rhythm
/// and height rules that keep them out of random walks.
fn recall_floor(kind: PatternType) -> f64 {
    match kind {
        PatternType::Pennant => 0.6,
        _ => 0.7,
    }
}
/// Measured 0.909 with volume, 0.902 without.
const OVERALL_RECALL_FLOOR: f64 = 0.87;

/// Per-type ceilings on detections per 1000 random-walk bars. Measured:
/// triangles and wedges 0.16–0.37, triple tops/bottoms, pennant and
/// rectangle 0.03–0.08, everything else 0.29–0.86; 5.4 in total (6.4
/// without volume). Before the swing-rhythm and height rules and the
/// higher `min_confidence` it was 23.7, triangles and wedges 2.7–3.3 each.
fn false_positive_ceiling(kind: PatternType) -> f64 {
    use PatternType::*;
    match kind {
        AscendingTriangle | DescendingTriangle | SymmetricalTriangle | RisingWedge
        | FallingWedge => 0.75,
        TripleTop | TripleBottom | Pennant | Rectangle => 0.3,
        _ => 1.3,
    }
}
const TOTAL_FALSE_POSITIVE_CEILING: f64 = 8.0;
const TOTAL_FALSE_POSITIVE_CEILING_WITHOUT_VOLUME: f64 = 9.5;

fn index(kind: PatternType) -> usize {
    PatternType::ALL.iter().position(|k| *k == kind).unwrap()
}

fn found_in(
    series: &support::Series,
    with_volume: bool,
    config: &DetectorConfig,
) -> Vec<ChartPattern> {
    detect(
        &series.high,
        &series.low,
        &series.close,
        with_volume.then_some(series.volume.as_slice()),
        &PatternType::ALL,
        config,
    )
}

/// Recall per type (in `PatternType::ALL` order) and overall.
fn recall(with_volume: bool) -> ([f64; 16], f64) {
    let config = DetectorConfig::default();
    let mut per_type = [0.0; 16];
    let mut hits_total = 0;
    for kind in PatternType::ALL {
        let mut hits = 0;
        let first = first_recall_seed();
        for seed in first..first + SERIES_PER_TYPE {
            let p = plant(kind, seed, Spec::default());
            let found = found_in(&p.series, with_volume, &config);
            let hit = found.iter().any(|f| {
                f.kind == kind
                    && overlap((f.start_index, f.end_index), (p.start, p.end)) >= MATCH_OVERLAP
            });
            if hit {
                hits += 1;
            } else if std::env::var_os("CHART_PATTERNS_DEBUG").is_some() {
                let near: Vec<String> = found
                    .iter()
                    .filter(|f| overlap((f.start_index, f.end_index), (p.start, p.end)) > 0.0)
                    .map(|f| format!("{}[{}..{}]", f.kind, f.start_index, f.end_index))
                    .collect();
                println!(
                    "miss {kind} seed {seed} planted [{}..{}]: {near:?}",
                    p.start, p.end
                );
            }
        }
        hits_total += hits;
        per_type[index(kind)] = hits as f64 / SERIES_PER_TYPE as f64;
    }
    let overall = hits_total as f64 / (16 * SERIES_PER_TYPE) as f64;
    (per_type, overall)
}

/// Detections per 1000 bars of pure random walk, per type and in total.
fn false_positive_rate(with_volume: bool, config: &DetectorConfig) -> ([f64; 16], f64) {
    let mut counts = [0usize; 16];
    let first = first_walk_seed();
    for seed in first..first + RANDOM_WALKS {
        let s = random_walk(seed, RANDOM_WALK_BARS);
        for f in found_in(&s, with_volume, config) {
            counts[index(f.kind)] += 1;
        }
    }
    let per_1000 = 1000.0 / (RANDOM_WALKS as usize * RANDOM_WALK_BARS) as f64;
    let mut rates = [0.0; 16];
    for (rate, count) in rates.iter_mut().zip(counts) {
        *rate = count as f64 * per_1000;
    }
    (rates, counts.iter().sum::<usize>() as f64 * per_1000)
}

#[test]
fn recall_per_type_and_overall() {
    let (with_volume, overall) = recall(true);
    let (without_volume, overall_without) = recall(false);
    println!("recall over {SERIES_PER_TYPE} planted series per type");
    println!(
        "{:<28} {:>12} {:>15}",
        "pattern", "with volume", "without volume"
    );
    for (i, kind) in PatternType::ALL.iter().enumerate() {
        println!(
            "{:<28} {:>12.2} {:>15.2}",
            kind.as_str(),
            with_volume[i],
            without_volume[i]
        );
    }
    println!(
        "{:<28} {:>12.3} {:>15.3}",
        "overall", overall, overall_without
    );
    for (i, kind) in PatternType::ALL.iter().enumerate() {
        assert!(
            with_volume[i] >= recall_floor(*kind),
            "{kind}: recall {} below floor {}",
            with_volume[i],
            recall_floor(*kind)
        );
    }
    assert!(overall >= OVERALL_RECALL_FLOOR, "overall recall {overall}");
    assert!(
        overall_without >= OVERALL_RECALL_FLOOR - 0.05,
        "overall recall without volume {overall_without}"
    );
}

#[test]
fn false_positives_on_random_walks() {
    let (rates, total) = false_positive_rate(true, &DetectorConfig::default());
    let (raw, raw_total) = false_positive_rate(
        true,
        &DetectorConfig {
            min_confidence: 0.0,
            ..DetectorConfig::default()
        },
    );
    // Without volume the confidence loses its volume term, so fewer weak
    // fits are pushed below `min_confidence`: reported, and held to a
    // looser total below.
    let (bare, bare_total) = false_positive_rate(false, &DetectorConfig::default());
    println!(
        "detections per 1000 bars over {RANDOM_WALKS} random walks of {RANDOM_WALK_BARS} bars"
    );
    println!(
        "{:<28} {:>9} {:>22} {:>15}",
        "pattern", "default", "min_confidence = 0", "without volume"
    );
    for (i, kind) in PatternType::ALL.iter().enumerate() {
        println!(
            "{:<28} {:>9.2} {:>22.2} {:>15.2}",
            kind.as_str(),
            rates[i],
            raw[i],
            bare[i]
        );
    }
    println!(
        "{:<28} {:>9.2} {:>22.2} {:>15.2}",
        "total", total, raw_total, bare_total
    );
    for (i, kind) in PatternType::ALL.iter().enumerate() {
        assert!(
            rates[i] <= false_positive_ceiling(*kind),
            "{kind}: {} per 1000 bars above ceiling {}",
            rates[i],
            false_positive_ceiling(*kind)
        );
    }
    assert!(
        total <= TOTAL_FALSE_POSITIVE_CEILING,
        "total {total} per 1000 bars"
    );
    assert!(
        bare_total <= TOTAL_FALSE_POSITIVE_CEILING_WITHOUT_VOLUME,
        "total without volume {bare_total} per 1000 bars"
    );
}
