//! Every shipped indicator against values recorded from TA-Lib itself by
//! `scripts/talib_reference.py` (data in `tests/data/`). Regenerate the data
//! with that script; never edit it by hand. Indicators TA-Lib lacks
//! (`talib: false`) are compared with the script's independent
//! implementation instead, to the same tolerance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gs_analytics::{IndicatorError, Ohlcv, catalogue, compute, find};
use serde_json::Value;

const RELATIVE_TOLERANCE: f64 = 1e-9;
/// Near zero a relative bound is meaningless, so a value also passes when
/// it is within this much of TA-Lib's, times the output's own magnitude in
/// that case (its largest |value|) when that is below 1. The scaling keeps
/// the bound meaningful for outputs that live far below 1 (variance of the
/// series priced around 1e-4, MACD there), where a flat 1e-9 would pass
/// almost anything.
const ABSOLUTE_TOLERANCE: f64 = 1e-9;
const MAX_REPORTED_FAILURES: usize = 25;

struct Series {
    columns: BTreeMap<String, Vec<f64>>,
}

impl Series {
    fn ohlcv(&self) -> Ohlcv<'_> {
        Ohlcv {
            open: &self.columns["open"],
            high: &self.columns["high"],
            low: &self.columns["low"],
            close: &self.columns["close"],
            volume: &self.columns["volume"],
        }
    }
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

fn numbers(value: &Value) -> Vec<Option<f64>> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(Value::as_f64)
        .collect()
}

fn load_series() -> BTreeMap<String, Series> {
    let doc = read_json(&data_dir().join("inputs.json"));
    doc["series"]
        .as_object()
        .expect("series object")
        .iter()
        .map(|(name, cols)| {
            let columns: BTreeMap<String, Vec<f64>> = cols
                .as_object()
                .expect("columns")
                .iter()
                .map(|(col, values)| {
                    let values = numbers(values)
                        .into_iter()
                        .map(|v| v.unwrap_or(f64::NAN))
                        .collect();
                    (col.clone(), values)
                })
                .collect();
            (name.clone(), Series { columns })
        })
        .collect()
}

fn within_tolerance(expected: f64, actual: f64, near_zero: f64) -> bool {
    let diff = (expected - actual).abs();
    diff <= RELATIVE_TOLERANCE * expected.abs() || diff <= near_zero
}

fn reference(name: &str) -> Value {
    read_json(&data_dir().join(format!("{name}.json")))
}

#[derive(Default)]
struct Tally {
    compared: usize,
    failures: Vec<String>,
    /// Cases refused with `UnsupportedMaType` (a documented gap, not a mismatch).
    unsupported: Vec<String>,
    /// Largest |actual - expected| / max(|expected|, near-zero floor) seen,
    /// and where.
    worst: f64,
    worst_at: String,
}

/// Compares one indicator's every case.
fn check_indicator(name: &str, series: &BTreeMap<String, Series>) -> Tally {
    let doc = reference(name);
    let mut tally = Tally::default();
    let Tally {
        compared,
        failures,
        unsupported,
        worst,
        worst_at,
    } = &mut tally;
    for case in doc["cases"].as_array().expect("cases") {
        let series_name = case["series"].as_str().expect("series name");
        let input = &series[series_name];
        let params: Vec<(String, f64)> = case["params"]
            .as_object()
            .expect("params")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().expect("numeric param")))
            .collect();
        let shown = format!("{:?}", case["params"]);
        let out = match compute(name, &params, &input.ohlcv()) {
            Ok(out) => out,
            Err(e @ IndicatorError::UnsupportedMaType { .. }) => {
                unsupported.push(format!("{name} {shown} on {series_name}: {e}"));
                continue;
            }
            Err(e) => {
                failures.push(format!("{name} {shown} on {series_name}: error {e}"));
                continue;
            }
        };
        for (out_name, expected) in case["outputs"].as_object().expect("outputs") {
            let expected = numbers(expected);
            let Some((_, actual)) = out.outputs.iter().find(|(n, _)| n == out_name) else {
                failures.push(format!(
                    "{name} {shown} on {series_name}: no output `{out_name}`"
                ));
                continue;
            };
            if actual.len() != expected.len() {
                failures.push(format!(
                    "{name} {shown} on {series_name}: `{out_name}` has {} values, TA-Lib {}",
                    actual.len(),
                    expected.len()
                ));
                continue;
            }
            let magnitude = expected
                .iter()
                .flatten()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            let near_zero = ABSOLUTE_TOLERANCE * magnitude.min(1.0);
            for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
                *compared += 1;
                let ok = match (e, a) {
                    (None, None) => true,
                    (Some(e), Some(a)) => {
                        let floor = near_zero / RELATIVE_TOLERANCE;
                        let error = (e - a).abs() / e.abs().max(floor).max(f64::MIN_POSITIVE);
                        if error > *worst {
                            *worst = error;
                            *worst_at = format!("{shown} on {series_name} `{out_name}`[{i}]");
                        }
                        within_tolerance(*e, *a, near_zero)
                    }
                    _ => false,
                };
                if !ok {
                    failures.push(format!(
                        "{name} {shown} on {series_name}: `{out_name}`[{i}] expected {e:?}, got {a:?}"
                    ));
                }
            }
        }
    }
    tally
}

#[test]
fn every_shipped_indicator_matches_talib() {
    let series = load_series();
    let mut compared = 0;
    let mut failures = Vec::new();
    for spec in catalogue() {
        let tally = check_indicator(spec.name, &series);
        assert!(
            tally.compared > 0,
            "{}: no reference values compared",
            spec.name
        );
        println!(
            "{:<20} {:>6} values, worst relative error {:.1e} {}",
            spec.name, tally.compared, tally.worst, tally.worst_at
        );
        for skipped in &tally.unsupported {
            println!("  skipped (documented gap): {skipped}");
        }
        compared += tally.compared;
        failures.extend(tally.failures);
    }
    println!(
        "compared {compared} reference values across {} indicators",
        catalogue().len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches against TA-Lib; first {}:\n{}",
        failures.len(),
        MAX_REPORTED_FAILURES.min(failures.len()),
        failures
            .iter()
            .take(MAX_REPORTED_FAILURES)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Parameter names, defaults and output names are TA-Lib's own, as its
/// abstract API reported them when the data was recorded. Indicators TA-Lib
/// lacks are exempt from that, but still agree with the script's reference.
#[test]
fn catalogue_names_and_defaults_are_talibs() {
    for spec in catalogue() {
        let doc = reference(spec.name);
        let independent = doc["source"].as_str() == Some("independent");
        assert_eq!(
            spec.talib, !independent,
            "{}: `talib` flag disagrees with how its reference data was recorded",
            spec.name
        );
        let defaults = doc["defaults"].as_object().expect("defaults");
        let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
        let talib_names: Vec<&str> = doc["param_names"]
            .as_array()
            .expect("param names")
            .iter()
            .map(|v| v.as_str().expect("name"))
            .collect();
        assert_eq!(names, talib_names, "{}: parameter names/order", spec.name);
        for p in spec.params {
            assert_eq!(
                Some(p.default),
                defaults[p.name].as_f64(),
                "{}: default of {}",
                spec.name,
                p.name
            );
            assert!(
                p.min <= p.default && p.default <= p.max,
                "{}.{}",
                spec.name,
                p.name
            );
        }
        let outputs: Vec<&str> = doc["output_names"]
            .as_array()
            .expect("output names")
            .iter()
            .map(|v| v.as_str().expect("name"))
            .collect();
        assert_eq!(spec.outputs, outputs.as_slice(), "{}: outputs", spec.name);
    }
}

/// The data holds indicators that are not shipped yet; list them so a run
/// shows what is left, and make sure every shipped one was recorded.
#[test]
fn reference_data_covers_the_catalogue() {
    let mut recorded: Vec<String> = std::fs::read_dir(data_dir())
        .expect("data dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_string)
        })
        .filter(|n| n != "inputs")
        .collect();
    recorded.sort();
    for spec in catalogue() {
        assert!(
            recorded.iter().any(|r| r == spec.name),
            "{} is shipped but has no reference data; add it to scripts/talib_reference.py",
            spec.name
        );
    }
    let pending: Vec<&String> = recorded.iter().filter(|r| find(r).is_none()).collect();
    println!("recorded but not shipped yet: {pending:?}");
}
