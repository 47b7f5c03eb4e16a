use serde::Serialize;

use crate::catalogue::{IndicatorSpec, Kernel, ParamKind, ParamSpec, find, indicator_names};
use crate::error::IndicatorError;
use crate::series::{Series, SeriesOutput};
use crate::warmup::push_missing;

/// Bars in column form: one value per bar in each slice. Only the columns an
/// indicator reads (its `IndicatorSpec::inputs`) need to be filled; the
/// others may be empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ohlcv<'a> {
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub volume: &'a [f64],
}

impl<'a> Ohlcv<'a> {
    fn column(&self, name: &str) -> &'a [f64] {
        match name {
            "open" => self.open,
            "high" => self.high,
            "low" => self.low,
            "volume" => self.volume,
            _ => self.close,
        }
    }
}

/// One computed indicator, outputs as `Option` vectors.
///
/// `compute` builds this from `compute_series` for callers that read bar by
/// bar with `Option`s (the signal agents); tool outputs use `Series`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorOutput {
    /// The catalogue name (lower case), whatever case the caller used.
    pub name: &'static str,
    /// Every parameter in catalogue order, defaults filled in.
    pub params: Vec<(&'static str, f64)>,
    /// Every output in catalogue order, one value per input bar; `None` where
    /// TA-Lib gives NaN (the warm-up bars, or bars after a NaN input).
    pub outputs: Vec<(&'static str, Vec<Option<f64>>)>,
}

impl From<SeriesOutput> for IndicatorOutput {
    fn from(out: SeriesOutput) -> Self {
        IndicatorOutput {
            name: out.name,
            params: out.params,
            outputs: out
                .outputs
                .into_iter()
                .map(|(name, series)| (name, series.to_options()))
                .collect(),
        }
    }
}

/// `compute_series` with every output converted to `Option<f64>` (`None`
/// for NaN).
///
/// For callers that read bar by bar with `Option`s (the signal agents). It
/// costs a second, twice as large allocation per output, so anything that
/// returns whole columns uses `compute_series`.
pub fn compute(
    name: &str,
    params: &[(String, f64)],
    input: &Ohlcv,
) -> Result<IndicatorOutput, IndicatorError> {
    compute_series(name, params, input).map(IndicatorOutput::from)
}

/// Computes indicator `name` (case-insensitive) over `input`.
///
/// `params` may name any subset of the indicator's parameters
/// (case-insensitive); the rest take TA-Lib's defaults. Every output has the
/// input's length, padded at the front as TA-Lib's Python wrapper pads it
/// (NaN), so index `i` of every output belongs to bar `i`.
pub fn compute_series(
    name: &str,
    params: &[(String, f64)],
    input: &Ohlcv,
) -> Result<SeriesOutput, IndicatorError> {
    let spec = find(name).ok_or_else(|| IndicatorError::UnknownIndicator {
        name: name.to_string(),
        valid: indicator_names(),
    })?;
    let values = resolve_params(spec, params)?;
    let columns = select_inputs(spec, input)?;
    let len = columns.first().map_or(0, |c| c.len());

    // TA-Lib's Python wrapper starts at the first bar where every input is a
    // number (the last bar if there is none) and pads the skipped bars.
    let begin = (0..len)
        .find(|&i| columns.iter().all(|c| !c[i].is_nan()))
        .unwrap_or(len.saturating_sub(1));
    let tails: Vec<&[f64]> = columns.iter().map(|c| &c[begin..]).collect();
    let series: Vec<Vec<f64>> = if len == 0 {
        spec.outputs.iter().map(|_| Vec::new()).collect()
    } else {
        match spec.kernel {
            Kernel::Values(kernel) => kernel(&tails, &values)
                .into_iter()
                .map(|tail| padded(tail, begin))
                .collect(),
            Kernel::Direct(kernel) => {
                let mut series: Vec<Vec<f64>> = spec
                    .outputs
                    .iter()
                    .map(|_| {
                        let mut out = Vec::with_capacity(len);
                        push_missing(&mut out, begin);
                        out
                    })
                    .collect();
                kernel(&tails, &values, &mut series);
                series
            }
        }
    };
    debug_assert!(series.iter().all(|s| s.len() == len));
    let outputs = spec
        .outputs
        .iter()
        .copied()
        .zip(series.into_iter().map(Series::from_values))
        .collect();
    Ok(SeriesOutput {
        name: spec.name,
        params: spec.params.iter().map(|p| p.name).zip(values).collect(),
        outputs,
    })
}

/// `tail` with `skipped` NaN bars in front (none in the common case, which
/// costs nothing).
fn padded(tail: Vec<f64>, skipped: usize) -> Vec<f64> {
    if skipped == 0 {
        return tail;
    }
    let mut out = Vec::with_capacity(skipped + tail.len());
    push_missing(&mut out, skipped);
    out.extend_from_slice(&tail);
    out
}

fn resolve_params(
    spec: &'static IndicatorSpec,
    given: &[(String, f64)],
) -> Result<Vec<f64>, IndicatorError> {
    let mut values: Vec<Option<f64>> = vec![None; spec.params.len()];
    for (name, value) in given {
        let index = spec
            .params
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| IndicatorError::UnknownParameter {
                indicator: spec.name,
                name: name.clone(),
                valid: if spec.params.is_empty() {
                    "(none: this indicator takes no parameters)".to_string()
                } else {
                    spec.params
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })?;
        let param = &spec.params[index];
        if values[index].is_some() {
            return Err(IndicatorError::DuplicateParameter {
                indicator: spec.name,
                name: param.name,
            });
        }
        check_value(spec, param, *value)?;
        values[index] = Some(*value);
    }
    Ok(values
        .into_iter()
        .zip(spec.params)
        .map(|(v, p)| v.unwrap_or(p.default))
        .collect())
}

fn check_value(spec: &IndicatorSpec, param: &ParamSpec, value: f64) -> Result<(), IndicatorError> {
    // Written so that NaN compares false and is refused with the range.
    let in_range = value >= param.min && value <= param.max;
    match param.kind {
        _ if !in_range => Err(IndicatorError::ParameterOutOfRange {
            indicator: spec.name,
            name: param.name,
            value,
            min: param.min,
            max: param.max,
        }),
        ParamKind::Integer | ParamKind::MaType if value.fract() != 0.0 => {
            Err(IndicatorError::NotAnInteger {
                indicator: spec.name,
                name: param.name,
                value,
                min: param.min,
                max: param.max,
            })
        }
        _ => Ok(()),
    }
}

fn select_inputs<'a>(
    spec: &'static IndicatorSpec,
    input: &Ohlcv<'a>,
) -> Result<Vec<&'a [f64]>, IndicatorError> {
    let columns: Vec<&[f64]> = spec.inputs.iter().map(|n| input.column(n)).collect();
    if let (Some(&first), Some(first_col)) = (spec.inputs.first(), columns.first()) {
        for (&other, col) in spec.inputs.iter().zip(&columns) {
            if col.len() != first_col.len() {
                return Err(IndicatorError::LengthMismatch {
                    indicator: spec.name,
                    first,
                    first_len: first_col.len(),
                    other,
                    other_len: col.len(),
                });
            }
        }
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closes(values: &[f64]) -> Ohlcv<'_> {
        Ohlcv {
            close: values,
            ..Ohlcv::default()
        }
    }

    fn p(name: &str, value: f64) -> (String, f64) {
        (name.to_string(), value)
    }

    #[test]
    fn unknown_indicator_lists_the_valid_names() {
        let err = compute("smaa", &[], &closes(&[1.0])).unwrap_err();
        assert!(matches!(err, IndicatorError::UnknownIndicator { .. }));
        let message = err.to_string();
        assert!(message.contains("`smaa`"), "{message}");
        for name in ["sma", "ema", "rsi", "macd", "bbands", "atr"] {
            assert!(message.contains(name), "{message} lacks {name}");
        }
    }

    #[test]
    fn names_are_case_insensitive() {
        let out = compute("MACD", &[p("FastPeriod", 3.0)], &closes(&[1.0; 40])).unwrap();
        assert_eq!(out.name, "macd");
        assert_eq!(
            out.params,
            vec![
                ("fastperiod", 3.0),
                ("slowperiod", 26.0),
                ("signalperiod", 9.0)
            ]
        );
        let names: Vec<_> = out.outputs.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["macd", "macdsignal", "macdhist"]);
    }

    #[test]
    fn unknown_parameter_lists_the_valid_ones() {
        let err = compute("bbands", &[p("period", 5.0)], &closes(&[1.0])).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, IndicatorError::UnknownParameter { .. }));
        for name in ["timeperiod", "nbdevup", "nbdevdn", "matype"] {
            assert!(message.contains(name), "{message} lacks {name}");
        }
        let err = compute("obv", &[p("timeperiod", 5.0)], &Ohlcv::default()).unwrap_err();
        assert!(err.to_string().contains("takes no parameters"), "{err}");
    }

    #[test]
    fn out_of_range_parameters_say_the_range() {
        for bad in [1.0, 0.0, -3.0, 100_001.0, f64::NAN, f64::INFINITY] {
            let err = compute("rsi", &[p("timeperiod", bad)], &closes(&[1.0])).unwrap_err();
            assert!(
                matches!(
                    err,
                    IndicatorError::ParameterOutOfRange {
                        min: 2.0,
                        max: 100_000.0,
                        ..
                    }
                ),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains("between 2 and 100000"), "{err}");
        }
        let err = compute("t3", &[p("vfactor", 1.5)], &closes(&[1.0])).unwrap_err();
        assert!(err.to_string().contains("between 0 and 1"), "{err}");
    }

    #[test]
    fn fractional_periods_are_refused() {
        let err = compute("sma", &[p("timeperiod", 14.5)], &closes(&[1.0])).unwrap_err();
        assert!(
            matches!(err, IndicatorError::NotAnInteger { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("whole number"), "{err}");
        let err = compute("bbands", &[p("matype", 0.5)], &closes(&[1.0])).unwrap_err();
        assert!(
            matches!(err, IndicatorError::NotAnInteger { .. }),
            "{err:?}"
        );
        // Real parameters may be fractional.
        assert!(compute("bbands", &[p("nbdevup", 1.5)], &closes(&[1.0])).is_ok());
    }

    #[test]
    fn duplicate_parameters_are_refused() {
        let params = [p("timeperiod", 5.0), p("TIMEPERIOD", 6.0)];
        let err = compute("sma", &params, &closes(&[1.0])).unwrap_err();
        assert!(
            matches!(err, IndicatorError::DuplicateParameter { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn every_ma_type_is_accepted_wherever_matype_is() {
        let values: Vec<f64> = (0..80).map(|i| 100.0 + (i as f64 * 0.3).sin()).collect();
        let input = Ohlcv {
            high: &values,
            low: &values,
            close: &values,
            ..Ohlcv::default()
        };
        for spec in crate::catalogue() {
            for param in spec.params.iter().filter(|p| p.kind == ParamKind::MaType) {
                for matype in 0..=8 {
                    let out = compute(spec.name, &[p(param.name, f64::from(matype))], &input);
                    assert!(
                        out.is_ok(),
                        "{} {}={matype}: {out:?}",
                        spec.name,
                        param.name
                    );
                }
            }
        }
    }

    #[test]
    fn mismatched_input_lengths_are_refused() {
        let input = Ohlcv {
            high: &[2.0, 3.0],
            low: &[1.0],
            close: &[1.5, 2.5],
            ..Ohlcv::default()
        };
        let err = compute("atr", &[], &input).unwrap_err();
        assert_eq!(
            err,
            IndicatorError::LengthMismatch {
                indicator: "atr",
                first: "high",
                first_len: 2,
                other: "low",
                other_len: 1,
            }
        );
        // Columns the indicator does not read are not checked.
        let input = Ohlcv {
            close: &[1.0, 2.0, 3.0],
            volume: &[1.0],
            ..Ohlcv::default()
        };
        assert!(compute("sma", &[p("timeperiod", 2.0)], &input).is_ok());
    }

    /// TA-Lib's Python wrapper starts at the first bar where every input is a
    /// number (values recorded from `talib.SMA` / `talib.OBV` 0.8.2).
    #[test]
    fn leading_nan_bars_are_skipped_as_talib_does() {
        let nan = f64::NAN;
        let out = compute(
            "sma",
            &[p("timeperiod", 3.0)],
            &closes(&[nan, nan, 1.0, 2.0, 3.0, 4.0, 5.0]),
        )
        .unwrap();
        assert_eq!(
            out.outputs[0].1,
            [None, None, None, None, Some(2.0), Some(3.0), Some(4.0)]
        );
        // With no all-number bar the wrapper runs on the last bar alone.
        let input = Ohlcv {
            close: &[nan; 5],
            volume: &[1.0, 2.0, 3.0, 4.0, 5.0],
            ..Ohlcv::default()
        };
        let out = compute("obv", &[], &input).unwrap();
        assert_eq!(out.outputs[0].1, [None, None, None, None, Some(5.0)]);
    }
}
