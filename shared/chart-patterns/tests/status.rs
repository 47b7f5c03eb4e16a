//! Status logic on planted double tops (and their mirror image): a close
//! below the neckline confirms, a rally above the tops fails, a series that
//! stops before either is still forming. Also checks the levels and labels
//! that come with each status.

mod support;

use gs_chart_patterns::{ChartPattern, DetectorConfig, Direction, PatternType, Status, detect};
use support::{Aftermath, Planted, Spec, overlap, plant};

/// Quiet enough that the planted shape is unambiguous; the recall test
/// covers noisy shapes.
const QUIET: f64 = 0.3;
const SEEDS: std::ops::Range<u64> = 0..12;

fn planted(kind: PatternType, seed: u64, aftermath: Aftermath) -> Planted {
    plant(
        kind,
        seed,
        Spec {
            noise: QUIET,
            aftermath,
        },
    )
}

/// The detected pattern of the planted kind that covers the planted span.
fn matching(p: &Planted) -> ChartPattern {
    let s = &p.series;
    let found = detect(
        &s.high,
        &s.low,
        &s.close,
        Some(&s.volume),
        &[p.kind],
        &DetectorConfig::default(),
    );
    found
        .into_iter()
        .filter(|f| overlap((f.start_index, f.end_index), (p.start, p.end)) >= 0.5)
        .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
        .unwrap_or_else(|| panic!("no {} found over [{}..{}]", p.kind, p.start, p.end))
}

#[test]
fn double_top_closing_below_the_neckline_is_confirmed() {
    for seed in SEEDS {
        let p = planted(PatternType::DoubleTop, seed, Aftermath::Breakout);
        let f = matching(&p);
        assert_eq!(f.status, Status::Confirmed, "seed {seed}: {f:?}");
        assert_eq!(f.direction, Direction::Bearish);
        let at = f.breakout_index.expect("confirmed has a breakout bar");
        assert!(at > f.end_index);
        assert!(p.series.close[at] < f.breakout_level, "seed {seed}");
        assert!(f.target < f.breakout_level);
        assert!(f.invalidation_level > f.breakout_level);
        // The neckline is the trough between the tops.
        let neckline = f.key_points.iter().find(|k| k.label == "neckline").unwrap();
        assert_eq!(f.breakout_level, neckline.price);
        // Measured move: the height of the tops above the neckline.
        let tops: Vec<f64> = f
            .key_points
            .iter()
            .filter(|k| k.label.starts_with("top_"))
            .map(|k| k.price)
            .collect();
        assert_eq!(tops.len(), 2);
        let height = (tops[0] + tops[1]) / 2.0 - neckline.price;
        assert!((f.breakout_level - f.target - height).abs() < 1e-9 * height.abs().max(1.0));
    }
}

#[test]
fn double_top_rallying_above_the_highs_has_failed() {
    for seed in SEEDS {
        let p = planted(PatternType::DoubleTop, seed, Aftermath::Reversal);
        let f = matching(&p);
        assert_eq!(f.status, Status::Failed, "seed {seed}: {f:?}");
        let at = f
            .breakout_index
            .expect("a failure names the bar that failed it");
        assert!(p.series.close[at] > f.invalidation_level, "seed {seed}");
        let highest_top = f
            .key_points
            .iter()
            .filter(|k| k.label.starts_with("top_"))
            .map(|k| k.price)
            .fold(f64::MIN, f64::max);
        assert_eq!(f.invalidation_level, highest_top);
    }
}

#[test]
fn double_top_cut_before_the_breakout_is_forming() {
    for seed in SEEDS {
        let p = planted(PatternType::DoubleTop, seed, Aftermath::Truncated);
        let f = matching(&p);
        assert_eq!(f.status, Status::Forming, "seed {seed}: {f:?}");
        assert_eq!(f.breakout_index, None);
        let last = *p.series.close.last().unwrap();
        assert!(last > f.breakout_level && last < f.invalidation_level);
    }
}

#[test]
fn the_same_series_changes_status_as_bars_arrive() {
    let p = planted(PatternType::DoubleTop, 3, Aftermath::Breakout);
    let confirmed = matching(&p);
    let at = confirmed.breakout_index.unwrap();
    // One bar before the confirming close, the pattern was still forming.
    let before = Planted {
        series: p.series.truncated(at),
        ..p.clone()
    };
    let f = matching(&before);
    assert_eq!(f.status, Status::Forming);
    assert_eq!(f.start_index, confirmed.start_index);
}

#[test]
fn double_bottom_mirrors_the_double_top() {
    for seed in SEEDS {
        let p = planted(PatternType::DoubleBottom, seed, Aftermath::Breakout);
        let f = matching(&p);
        assert_eq!(f.kind, PatternType::DoubleBottom);
        assert_eq!(f.direction, Direction::Bullish);
        assert_eq!(f.status, Status::Confirmed, "seed {seed}: {f:?}");
        let labels: Vec<&str> = f.key_points.iter().map(|k| k.label).collect();
        assert_eq!(labels, ["bottom_1", "neckline", "bottom_2"]);
        let neckline = f.key_points[1].price;
        assert!(f.key_points[0].price < neckline && f.key_points[2].price < neckline);
        assert!(f.key_points.iter().all(|k| k.price > 0.0));
        assert!(f.target > f.breakout_level && f.breakout_level > f.invalidation_level);
        let at = f.breakout_index.unwrap();
        assert!(p.series.close[at] > f.breakout_level);
    }
}

#[test]
fn head_and_shoulders_key_points_describe_the_shape() {
    for seed in SEEDS {
        let p = planted(PatternType::HeadAndShoulders, seed, Aftermath::Breakout);
        let f = matching(&p);
        let labels: Vec<&str> = f.key_points.iter().map(|k| k.label).collect();
        assert_eq!(
            labels,
            [
                "left_shoulder",
                "neckline_1",
                "head",
                "neckline_2",
                "right_shoulder"
            ]
        );
        let price = |i: usize| f.key_points[i].price;
        assert!(price(2) > price(0) && price(2) > price(4));
        assert!(price(1) < price(0) && price(3) < price(4));
        assert!(f.key_points.windows(2).all(|w| w[0].index < w[1].index));
        assert_eq!(f.status, Status::Confirmed, "seed {seed}: {f:?}");
        assert_eq!(f.invalidation_level, price(2));
    }
}

#[test]
fn patterns_serialize_with_snake_case_names() {
    let p = planted(PatternType::DoubleTop, 0, Aftermath::Breakout);
    let json = serde_json::to_value(matching(&p)).unwrap();
    assert_eq!(json["kind"], "double_top");
    assert_eq!(json["direction"], "bearish");
    assert_eq!(json["status"], "confirmed");
    assert_eq!(json["key_points"][0]["label"], "top_1");
    for field in [
        "start_index",
        "end_index",
        "breakout_level",
        "invalidation_level",
        "target",
        "confidence",
        "breakout_index",
    ] {
        assert!(json.get(field).is_some(), "{field}");
    }
}
