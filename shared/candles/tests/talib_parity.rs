//! Bar-for-bar parity with TA-Lib 0.8.1 (via the `ta-lib` 0.8.2 Python wheel).
//!
//! The fixture is produced by `scripts/talib_candles_reference.py`; see its
//! header for how the series are built so that every pattern fires.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

const FIXTURE: &str = include_str!("data/talib_candles.json");

#[derive(Deserialize)]
struct Fixture {
    talib_c: String,
    series: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    name: String,
    open: Vec<Option<f64>>,
    high: Vec<Option<f64>>,
    low: Vec<Option<f64>>,
    close: Vec<Option<f64>>,
    results: Vec<Reference>,
}

#[derive(Deserialize)]
struct Reference {
    pattern: String,
    #[serde(default)]
    params: BTreeMap<String, f64>,
    /// `[index, value]` for every bar TA-Lib did not return 0.
    nonzero: Vec<(usize, i32)>,
}

fn prices(column: &[Option<f64>]) -> Vec<f64> {
    column.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
}

fn fixture() -> Fixture {
    serde_json::from_str(FIXTURE).expect("fixture parses")
}

#[test]
fn every_pattern_matches_talib_on_every_bar() {
    let fx = fixture();
    let mut compared = 0usize;
    let mut failures = Vec::new();
    for s in &fx.series {
        let (o, h, l, c) = (
            prices(&s.open),
            prices(&s.high),
            prices(&s.low),
            prices(&s.close),
        );
        for r in &s.results {
            let params: Vec<(String, f64)> =
                r.params.iter().map(|(k, v)| (k.clone(), *v)).collect();
            let actual = gs_candles::detect(&r.pattern, &params, &o, &h, &l, &c)
                .unwrap_or_else(|e| panic!("{} on {}: {e}", r.pattern, s.name));
            let mut expected = vec![0; c.len()];
            for &(i, v) in &r.nonzero {
                expected[i] = v;
            }
            assert_eq!(
                actual.len(),
                expected.len(),
                "{} on {}: length",
                r.pattern,
                s.name
            );
            for (i, (e, a)) in expected.iter().zip(&actual).enumerate() {
                compared += 1;
                if e != a {
                    failures.push(format!(
                        "{}{:?} series {} bar {i}: expected {e}, got {a}",
                        r.pattern, r.params, s.name
                    ));
                }
            }
        }
    }
    let shown = failures
        .iter()
        .take(40)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        failures.is_empty(),
        "{} of {compared} values differ from TA-Lib {}:\n{shown}",
        failures.len(),
        fx.talib_c
    );
    println!("compared {compared} values with TA-Lib {}", fx.talib_c);
}

/// Parity on all-zero outputs would prove nothing: every shipped pattern must
/// fire somewhere in the references, with default and non-default parameters.
#[test]
fn references_exercise_every_pattern() {
    let fx = fixture();
    let mut hits: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for s in &fx.series {
        for r in &s.results {
            *hits
                .entry((r.pattern.clone(), r.params.is_empty()))
                .or_default() += r.nonzero.len();
        }
    }
    let covered: BTreeSet<&str> = hits.keys().map(|(p, _)| p.as_str()).collect();
    for spec in gs_candles::catalogue() {
        assert!(
            covered.contains(spec.name),
            "{} has no reference data",
            spec.name
        );
        let default_hits = hits
            .get(&(spec.name.to_string(), true))
            .copied()
            .unwrap_or(0);
        assert!(
            default_hits > 0,
            "{} never fires in the references",
            spec.name
        );
        if !spec.params.is_empty() {
            let custom = hits
                .get(&(spec.name.to_string(), false))
                .copied()
                .unwrap_or(0);
            assert!(
                custom > 0,
                "{} never fires with a non-default penetration",
                spec.name
            );
        }
    }
}

#[test]
fn indecision_patterns_are_real_pattern_names() {
    for name in gs_candles::INDECISION_PATTERNS {
        assert!(
            gs_candles::find(name).is_some(),
            "{name} is not a TA-Lib pattern"
        );
        assert!(gs_candles::is_indecision(&name.to_uppercase()));
    }
    assert!(!gs_candles::is_indecision("cdlengulfing"));
}
