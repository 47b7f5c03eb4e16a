//! No input makes an indicator panic, and every output keeps one value per
//! bar: empty, one-bar, all-NaN, NaN-holed, constant, zero-volume, huge and
//! tiny series, at each indicator's smallest, default and largest periods.

use gs_analytics::{Ohlcv, ParamKind, catalogue, compute};

struct Bars {
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl Bars {
    fn from_close(close: Vec<f64>, volume: f64) -> Bars {
        let high = close.iter().map(|c| c * 1.01).collect();
        let low = close.iter().map(|c| c * 0.99).collect();
        let open = close.iter().map(|c| c * 1.001).collect();
        let volume = vec![volume; close.len()];
        Bars {
            open,
            high,
            low,
            close,
            volume,
        }
    }

    fn ohlcv(&self) -> Ohlcv<'_> {
        Ohlcv {
            open: &self.open,
            high: &self.high,
            low: &self.low,
            close: &self.close,
            volume: &self.volume,
        }
    }
}

fn wave(n: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|i| scale * (1.0 + 0.1 * (i as f64 * 0.7).sin()))
        .collect()
}

fn cases() -> Vec<(&'static str, Bars)> {
    let mut holed = Bars::from_close(wave(60, 100.0), 1e5);
    holed.close[20] = f64::NAN;
    holed.high[35] = f64::NAN;
    vec![
        ("empty", Bars::from_close(vec![], 1.0)),
        ("one bar", Bars::from_close(vec![10.0], 1.0)),
        ("two bars", Bars::from_close(vec![10.0, 11.0], 1.0)),
        ("all NaN", Bars::from_close(vec![f64::NAN; 40], f64::NAN)),
        ("NaN holes", holed),
        ("constant", Bars::from_close(vec![50.0; 80], 1000.0)),
        ("zero volume", Bars::from_close(wave(80, 20.0), 0.0)),
        ("zero prices", Bars::from_close(vec![0.0; 50], 10.0)),
        ("huge", Bars::from_close(wave(80, 1e12), 1e12)),
        ("tiny", Bars::from_close(wave(80, 1e-12), 1e-3)),
    ]
}

#[test]
fn no_input_or_parameter_extreme_panics() {
    let cases = cases();
    for spec in catalogue() {
        let mut settings: Vec<Vec<(String, f64)>> = vec![vec![]];
        for param in spec.params {
            if param.kind == ParamKind::Integer {
                for v in [param.min, param.max] {
                    settings.push(vec![(param.name.to_string(), v)]);
                }
            }
            if param.kind == ParamKind::MaType {
                for v in [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0] {
                    settings.push(vec![(param.name.to_string(), v)]);
                }
            }
        }
        for (label, bars) in &cases {
            for params in &settings {
                let out = compute(spec.name, params, &bars.ohlcv())
                    .unwrap_or_else(|e| panic!("{} {params:?} on {label}: {e}", spec.name));
                assert_eq!(out.outputs.len(), spec.outputs.len());
                for (name, values) in &out.outputs {
                    assert_eq!(
                        values.len(),
                        bars.close.len(),
                        "{} {params:?} on {label}: `{name}` length",
                        spec.name
                    );
                }
            }
        }
    }
}

#[test]
fn a_period_longer_than_the_data_gives_only_warm_up() {
    let bars = Bars::from_close(wave(20, 100.0), 1e5);
    for spec in catalogue() {
        let params: Vec<(String, f64)> = spec
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::Integer)
            .map(|p| (p.name.to_string(), 50.0))
            .collect();
        if params.is_empty() {
            continue;
        }
        let out = compute(spec.name, &params, &bars.ohlcv()).unwrap();
        for (name, values) in &out.outputs {
            // Ichimoku's chikou is the close itself, drawn displaced.
            if (spec.name, *name) == ("ichimoku", "chikou") {
                continue;
            }
            assert!(
                values.iter().all(Option::is_none),
                "{} `{name}`: expected only warm-up with period 50 on 20 bars",
                spec.name
            );
        }
    }
}
