//! No input makes the detector panic or return nonsense (empty, one bar,
//! NaN, infinities, flat prices, mismatched lengths, odd configurations),
//! the output is deterministic, and the small API pieces behave.

mod support;

use gs_chart_patterns::{
    ChartPatternError, DetectorConfig, Direction, PatternType, PivotKind, Status, Tolerance,
    detect, overall_confidence, pivots,
};
use support::{Aftermath, Spec, plant, random_walk};

fn run(high: &[f64], low: &[f64], close: &[f64], volume: Option<&[f64]>, config: &DetectorConfig) {
    let found = detect(high, low, close, volume, &PatternType::ALL, config);
    let n = high.len().min(low.len()).min(close.len());
    for f in &found {
        assert!(f.start_index <= f.end_index && f.end_index < n, "{f:?}");
        assert!((0.0..=1.0).contains(&f.confidence), "{f:?}");
        assert!(f.breakout_level.is_finite() && f.invalidation_level.is_finite());
        assert!(f.target.is_finite());
        assert!(
            f.key_points
                .iter()
                .all(|k| k.index < n && k.price.is_finite())
        );
        if let Some(i) = f.breakout_index {
            assert!(i > f.end_index && i < n);
        }
    }
    assert!(found.windows(2).all(|w| w[0].end_index <= w[1].end_index));
    let c = overall_confidence(&found);
    assert!((0.0..=1.0).contains(&c));
    let p = pivots(high, low, close, config);
    assert!(
        p.windows(2)
            .all(|w| w[0].kind != w[1].kind && w[0].index < w[1].index)
    );
}

#[test]
fn degenerate_series_give_no_patterns_and_no_panic() {
    let config = DetectorConfig::default();
    let cases: Vec<Vec<f64>> = vec![
        vec![],
        vec![100.0],
        vec![100.0, 101.0],
        vec![f64::NAN; 300],
        vec![100.0; 300],
        vec![0.0; 300],
        vec![f64::INFINITY; 50],
        (0..300).map(|i| i as f64).collect(),
    ];
    for close in &cases {
        let high: Vec<f64> = close.iter().map(|c| c + 1.0).collect();
        let low: Vec<f64> = close.iter().map(|c| c - 1.0).collect();
        run(&high, &low, close, None, &config);
        run(close, close, close, Some(close), &config);
        assert!(detect(close, close, close, None, &PatternType::ALL, &config).is_empty());
    }
}

#[test]
fn holes_spikes_and_odd_lengths_are_survived() {
    let config = DetectorConfig::default();
    let s = plant(PatternType::HeadAndShoulders, 7, Spec::default()).series;
    let mut high = s.high.clone();
    let mut low = s.low.clone();
    let mut close = s.close.clone();
    let mut volume = s.volume.clone();
    for i in (0..close.len()).step_by(17) {
        close[i] = f64::NAN;
        high[i + 1] = f64::INFINITY;
        low[i + 2] = f64::NEG_INFINITY;
        volume[i] = -5.0;
    }
    // High below low on some bars: the bar's extremes are re-derived.
    high.swap(40, 41);
    low[60] = high[60] + 10.0;
    run(&high, &low, &close, Some(&volume), &config);
    // Mismatched lengths use the common prefix; short volume is ignored.
    run(&high, &low[..100], &close, Some(&volume[..10]), &config);
    // Huge and tiny price levels.
    for scale in [1e-9, 1e9] {
        let h: Vec<f64> = s.high.iter().map(|x| x * scale).collect();
        let l: Vec<f64> = s.low.iter().map(|x| x * scale).collect();
        let c: Vec<f64> = s.close.iter().map(|x| x * scale).collect();
        run(&h, &l, &c, None, &config);
    }
    // Negative prices (spreads) are fine too.
    let c: Vec<f64> = s.close.iter().map(|x| x - 1000.0).collect();
    let h: Vec<f64> = s.high.iter().map(|x| x - 1000.0).collect();
    let l: Vec<f64> = s.low.iter().map(|x| x - 1000.0).collect();
    run(&h, &l, &c, None, &config);
}

#[test]
fn odd_configurations_do_not_panic() {
    let s = random_walk(42, 400);
    let configs = [
        DetectorConfig {
            atr_period: 0,
            pivot_atr_multiple: f64::NAN,
            pivot_scales: vec![],
            ..DetectorConfig::default()
        },
        DetectorConfig {
            pivot_scales: vec![-1.0, 0.0, f64::INFINITY, 0.01],
            tolerance: Tolerance::PriceFraction(0.02),
            ..DetectorConfig::default()
        },
        DetectorConfig {
            min_pattern_bars: 500,
            max_pattern_bars: 0,
            min_touches: 0,
            max_touches: 0,
            max_pole_bars: 0,
            max_flag_bars: 0,
            min_cup_bars: 0,
            ..DetectorConfig::default()
        },
        DetectorConfig {
            tolerance: Tolerance::AtrMultiple(-3.0),
            min_height_atr: -1.0,
            min_confidence: 2.0,
            ..DetectorConfig::default()
        },
        DetectorConfig {
            min_touches: 20,
            max_touches: 30,
            max_pattern_bars: usize::MAX / 4,
            ..DetectorConfig::default()
        },
    ];
    for config in &configs {
        run(&s.high, &s.low, &s.close, Some(&s.volume), config);
    }
}

#[test]
fn detection_is_deterministic() {
    let config = DetectorConfig::default();
    for seed in 0..5 {
        let s = random_walk(seed, 600);
        let a = detect(
            &s.high,
            &s.low,
            &s.close,
            Some(&s.volume),
            &PatternType::ALL,
            &config,
        );
        let b = detect(
            &s.high,
            &s.low,
            &s.close,
            Some(&s.volume),
            &PatternType::ALL,
            &config,
        );
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
    }
}

#[test]
fn asking_for_fewer_kinds_returns_a_subset() {
    let config = DetectorConfig::default();
    let s = random_walk(9, 800);
    let all = detect(&s.high, &s.low, &s.close, None, &PatternType::ALL, &config);
    assert!(detect(&s.high, &s.low, &s.close, None, &[], &config).is_empty());
    for kind in PatternType::ALL {
        let only = detect(&s.high, &s.low, &s.close, None, &[kind], &config);
        assert!(only.iter().all(|f| f.kind == kind));
        // Double tops inside a triple top are only dropped when triple tops
        // are asked for too, so "only" may hold more of those.
        if !matches!(kind, PatternType::DoubleTop | PatternType::DoubleBottom) {
            let expected: Vec<_> = all.iter().filter(|f| f.kind == kind).cloned().collect();
            assert_eq!(only, expected, "{kind}");
        }
    }
}

#[test]
fn same_kind_overlaps_are_merged() {
    let config = DetectorConfig::default();
    for seed in 0..20 {
        let s = random_walk(500 + seed, 500);
        let found = detect(&s.high, &s.low, &s.close, None, &PatternType::ALL, &config);
        for (i, a) in found.iter().enumerate() {
            for b in &found[i + 1..] {
                if a.kind == b.kind {
                    let lo = a.start_index.max(b.start_index);
                    let hi = a.end_index.min(b.end_index);
                    let shorter =
                        (a.end_index - a.start_index).min(b.end_index - b.start_index) + 1;
                    let shared = if hi >= lo { hi - lo + 1 } else { 0 };
                    assert!((shared as f64) < 0.5 * shorter as f64, "{a:?}\n{b:?}");
                }
            }
        }
    }
}

#[test]
fn pivots_alternate_and_sit_on_bar_extremes() {
    let s = plant(PatternType::DoubleTop, 1, Spec::default()).series;
    let p = pivots(&s.high, &s.low, &s.close, &DetectorConfig::default());
    assert!(p.len() >= 4);
    for w in p.windows(2) {
        assert_ne!(w[0].kind, w[1].kind);
        assert!(w[0].index < w[1].index);
    }
    for q in &p {
        match q.kind {
            PivotKind::High => assert_eq!(q.price, s.high[q.index]),
            PivotKind::Low => assert_eq!(q.price, s.low[q.index]),
        }
    }
}

#[test]
fn pivots_do_not_look_ahead_past_their_confirmation() {
    // Pivots found on a prefix are the pivots of the whole series up to
    // the last two (which a longer leg may still revise).
    let s = random_walk(77, 600);
    let config = DetectorConfig::default();
    let full = pivots(&s.high, &s.low, &s.close, &config);
    for cut in [150, 300, 450] {
        let part = pivots(&s.high[..cut], &s.low[..cut], &s.close[..cut], &config);
        let settled = part.len().saturating_sub(2);
        assert_eq!(&part[..settled], &full[..settled], "cut {cut}");
    }
}

#[test]
fn pattern_names_round_trip_and_errors_list_valid_names() {
    for kind in PatternType::ALL {
        assert_eq!(PatternType::parse(kind.as_str()), Ok(kind));
        assert_eq!(kind.as_str().parse::<PatternType>(), Ok(kind));
        assert_eq!(
            serde_json::to_string(&kind).unwrap(),
            format!("\"{}\"", kind.as_str())
        );
        assert!(kind.description().len() > 40);
    }
    assert_eq!(
        PatternType::parse(" Head_And_Shoulders "),
        Ok(PatternType::HeadAndShoulders)
    );
    let err = PatternType::parse("wedge").unwrap_err();
    let ChartPatternError::UnknownPatternType { given, valid } = &err;
    assert_eq!(given, "wedge");
    assert!(valid.contains("rising_wedge") && valid.contains("cup_and_handle"));
    assert!(err.to_string().contains("valid patterns are"));
    assert_eq!(
        serde_json::to_string(&Direction::Bullish).unwrap(),
        "\"bullish\""
    );
    assert_eq!(
        serde_json::to_string(&Status::Forming).unwrap(),
        "\"forming\""
    );
}

#[test]
fn overall_confidence_is_the_best_single_pattern() {
    assert_eq!(overall_confidence(&[]), 0.0);
    let p = plant(
        PatternType::DoubleTop,
        2,
        Spec {
            noise: 0.3,
            aftermath: Aftermath::Breakout,
        },
    );
    let s = &p.series;
    let found = detect(
        &s.high,
        &s.low,
        &s.close,
        Some(&s.volume),
        &PatternType::ALL,
        &DetectorConfig::default(),
    );
    assert!(!found.is_empty());
    let best = found.iter().map(|f| f.confidence).fold(0.0, f64::max);
    assert_eq!(overall_confidence(&found), best);
}
