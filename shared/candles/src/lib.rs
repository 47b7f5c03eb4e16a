//! Candlestick pattern recognition that reproduces TA-Lib's 61 `CDL*`
//! functions bar for bar: same rules, same candle settings (long/short/doji
//! bodies, shadows, near/far/equal, each averaged over the preceding candles),
//! same output convention (+100 bullish / -100 bearish, ±200 for a confirmed
//! hikkake, ±80 for the weaker engulfing/harami, 0 when absent or during the
//! lookback), and the same handling of leading NaNs as TA-Lib's Python
//! wrapper. It works on plain `f64` slices and must never depend on I/O, MCP,
//! AWS or any other workspace crate, so every layer above can use it and its
//! parity tests stay self-contained.

mod catalogue;
mod patterns;
mod settings;

use thiserror::Error;

use crate::catalogue::{CATALOGUE, FUNCTIONS};
use crate::settings::Bars;

/// Description of one pattern function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CandleSpec {
    /// TA-Lib's lower-case function name, e.g. `"cdlengulfing"`.
    pub name: &'static str,
    /// TA-Lib's display name, e.g. `"Engulfing Pattern"`.
    pub title: &'static str,
    /// What the pattern signals, its direction, reliability and what confirms it.
    pub meaning: &'static str,
    /// Optional parameters with TA-Lib's defaults (only `penetration` exists).
    pub params: &'static [(&'static str, f64)],
}

/// Why a detection request was refused. Each message says how to fix the call.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CandleError {
    #[error("unknown candlestick pattern `{name}`; valid names: {valid}")]
    UnknownPattern { name: String, valid: String },
    #[error("bad parameter for {pattern}: {reason}")]
    BadParameter {
        pattern: &'static str,
        reason: String,
    },
    #[error(
        "open, high, low and close must have the same length (got {open}, {high}, {low}, {close})"
    )]
    LengthMismatch {
        open: usize,
        high: usize,
        low: usize,
        close: usize,
    },
}

/// TA-Lib's upper bound for real-valued parameters (`TA_REAL_MAX`).
const REAL_MAX: f64 = 3e37;

/// All 61 patterns, in TA-Lib's order.
pub fn catalogue() -> &'static [CandleSpec] {
    &CATALOGUE
}

/// Looks a pattern up by TA-Lib name, ignoring case (`"CDLDOJI"` works).
pub fn find(name: &str) -> Option<&'static CandleSpec> {
    position(name).map(|i| &CATALOGUE[i])
}

/// Patterns whose TA-Lib sign says "present" or gives the candle's colour
/// rather than a direction: TA-Lib returns +100 for every doji, gravestone
/// included, and a white spinning top is +100 too. Read these as indecision
/// (or, for hammer-like shapes, as context-dependent), never as a bullish or
/// bearish call on their own.
pub const INDECISION_PATTERNS: [&str; 9] = [
    "cdldoji",
    "cdldragonflydoji",
    "cdlgravestonedoji",
    "cdllongleggeddoji",
    "cdlrickshawman",
    "cdlspinningtop",
    "cdlhighwave",
    "cdllongline",
    "cdlshortline",
];

/// True when the pattern's sign is not a directional call (see [`INDECISION_PATTERNS`]).
pub fn is_indecision(name: &str) -> bool {
    INDECISION_PATTERNS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(name.trim()))
}

fn position(name: &str) -> Option<usize> {
    let name = name.trim();
    CATALOGUE
        .iter()
        .position(|s| s.name.eq_ignore_ascii_case(name))
}

/// Runs pattern `name` over the bars and returns one value per bar, exactly
/// what TA-Lib's Python wrapper returns for the same inputs.
///
/// `params` overrides defaults by name (e.g. `("penetration", 0.5)`); omitted
/// parameters keep TA-Lib's default. Leading bars where any price is NaN are
/// skipped as the wrapper does, so the lookback starts at the first complete
/// bar; NaNs later in the series follow TA-Lib's arithmetic.
pub fn detect(
    name: &str,
    params: &[(String, f64)],
    open: &[f64],
    high: &[f64],
    low: &[f64],
    close: &[f64],
) -> Result<Vec<i32>, CandleError> {
    let Some(idx) = position(name) else {
        let valid = CATALOGUE
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(CandleError::UnknownPattern {
            name: name.to_string(),
            valid,
        });
    };
    let spec = &CATALOGUE[idx];
    let penetration = resolve_penetration(spec, params)?;

    let n = close.len();
    if open.len() != n || high.len() != n || low.len() != n {
        return Err(CandleError::LengthMismatch {
            open: open.len(),
            high: high.len(),
            low: low.len(),
            close: n,
        });
    }
    let mut out = vec![0; n];
    if n == 0 {
        return Ok(out);
    }
    // The wrapper starts at the first bar with four real prices (or the last
    // bar when there is none, which then yields no signal at all).
    let begin = (0..n)
        .find(|&i| !(open[i].is_nan() || high[i].is_nan() || low[i].is_nan() || close[i].is_nan()))
        .unwrap_or(n - 1);
    let bars = Bars {
        o: &open[begin..],
        h: &high[begin..],
        l: &low[begin..],
        c: &close[begin..],
    };
    FUNCTIONS[idx](&bars, penetration, &mut out[begin..]);
    Ok(out)
}

/// Validates overrides against the spec and returns the penetration to use
/// (0 for patterns without one, where it is never read).
fn resolve_penetration(
    spec: &'static CandleSpec,
    params: &[(String, f64)],
) -> Result<f64, CandleError> {
    let mut value = spec.params.first().map_or(0.0, |&(_, default)| default);
    let mut seen = false;
    for (key, v) in params {
        let known = spec
            .params
            .iter()
            .any(|(p, _)| p.eq_ignore_ascii_case(key.trim()));
        if !known {
            let reason = if spec.params.is_empty() {
                format!("`{key}` is not accepted; {} takes no parameters", spec.name)
            } else {
                let names: Vec<&str> = spec.params.iter().map(|(p, _)| *p).collect();
                format!("`{key}` is not accepted; valid: {}", names.join(", "))
            };
            return Err(CandleError::BadParameter {
                pattern: spec.name,
                reason,
            });
        }
        if seen {
            return Err(CandleError::BadParameter {
                pattern: spec.name,
                reason: format!("`{key}` given more than once"),
            });
        }
        // TA-Lib refuses negative or non-finite penetration (TA_BAD_PARAM).
        if !(0.0..=REAL_MAX).contains(v) {
            return Err(CandleError::BadParameter {
                pattern: spec.name,
                reason: format!("`{key}` must be between 0 and {REAL_MAX:e}, got {v}"),
            });
        }
        seen = true;
        value = *v;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(n: usize) -> Vec<f64> {
        (0..n).map(|i| 100.0 + (i as f64 * 0.7).sin()).collect()
    }

    #[test]
    fn catalogue_has_61_unique_lowercase_names_with_meanings() {
        let cat = catalogue();
        assert_eq!(cat.len(), 61);
        let mut names: Vec<&str> = cat.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 61);
        for s in cat {
            assert!(
                s.name.starts_with("cdl") && s.name == s.name.to_lowercase(),
                "{}",
                s.name
            );
            assert!(!s.title.is_empty() && s.meaning.len() > 40, "{}", s.name);
        }
        let with_pen: Vec<&str> = cat
            .iter()
            .filter(|s| !s.params.is_empty())
            .map(|s| s.name)
            .collect();
        assert_eq!(with_pen.len(), 7, "{with_pen:?}");
    }

    #[test]
    fn find_ignores_case() {
        assert_eq!(
            find("CDLEngulfing").map(|s| s.title),
            Some("Engulfing Pattern")
        );
        assert_eq!(
            find("cdlmathold").map(|s| s.params),
            Some(&[("penetration", 0.5)][..])
        );
        assert!(find("cdlnothing").is_none());
    }

    #[test]
    fn unknown_pattern_lists_valid_names() {
        let x = bars(3);
        let err = detect("cdlunicorn", &[], &x, &x, &x, &x).unwrap_err();
        match &err {
            CandleError::UnknownPattern { name, valid } => {
                assert_eq!(name, "cdlunicorn");
                assert!(valid.contains("cdlengulfing") && valid.contains("cdlxsidegap3methods"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("valid names"));
    }

    #[test]
    fn length_mismatch_is_refused() {
        let x = bars(20);
        let short = bars(19);
        let err = detect("cdldoji", &[], &x, &x, &short, &x).unwrap_err();
        assert_eq!(
            err,
            CandleError::LengthMismatch {
                open: 20,
                high: 20,
                low: 19,
                close: 20
            }
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        let x = bars(30);
        let call =
            |name: &str, key: &str, v: f64| detect(name, &[(key.to_string(), v)], &x, &x, &x, &x);
        for v in [-0.1, f64::NAN, f64::INFINITY, 1e38] {
            assert!(
                matches!(
                    call("cdlmorningstar", "penetration", v),
                    Err(CandleError::BadParameter { .. })
                ),
                "{v}"
            );
        }
        let err = call("cdldoji", "penetration", 0.3).unwrap_err();
        assert!(err.to_string().contains("takes no parameters"), "{err}");
        let err = call("cdlmathold", "depth", 0.3).unwrap_err();
        assert!(err.to_string().contains("valid: penetration"), "{err}");
        let twice = [
            ("penetration".to_string(), 0.1),
            ("PENETRATION".to_string(), 0.2),
        ];
        assert!(detect("cdlmathold", &twice, &x, &x, &x, &x).is_err());
        assert!(call("cdlmathold", "Penetration", 0.0).is_ok());
    }

    #[test]
    fn degenerate_inputs_never_panic() {
        let empty: Vec<f64> = Vec::new();
        let nan = vec![f64::NAN; 40];
        let flat = vec![5.0; 40];
        let one = vec![1.0];
        for spec in catalogue() {
            assert_eq!(
                detect(spec.name, &[], &empty, &empty, &empty, &empty).unwrap(),
                Vec::<i32>::new()
            );
            assert_eq!(
                detect(spec.name, &[], &nan, &nan, &nan, &nan).unwrap(),
                vec![0; 40],
                "{}",
                spec.name
            );
            assert_eq!(
                detect(spec.name, &[], &one, &one, &one, &one).unwrap(),
                vec![0]
            );
            // Zero-range bars: averages are 0, so only "<=" comparisons can fire.
            let out = detect(spec.name, &[], &flat, &flat, &flat, &flat).unwrap();
            assert_eq!(out.len(), 40);
            for n in 0..16 {
                let x = bars(n);
                assert_eq!(detect(spec.name, &[], &x, &x, &x, &x).unwrap().len(), n);
            }
        }
    }

    #[test]
    fn lookback_bars_are_zero_and_doji_fires_on_flat_bars() {
        let flat = vec![5.0; 15];
        let out = detect("cdldoji", &[], &flat, &flat, &flat, &flat).unwrap();
        assert_eq!(&out[..10], &[0; 10]);
        assert_eq!(&out[10..], &[100; 5]);
    }
}
