//! What an alert rule watches, and its evaluation on a bar series: pure
//! computation (no store), run on the compute pool.

use std::collections::BTreeMap;

use gs_domain::BarColumns;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;

/// Most bars a `percent_move` looks back over.
pub const MAX_MOVE_BARS: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The output is above the reference on the bar.
    Above,
    /// The output is below the reference on the bar.
    Below,
    /// At or below the reference on the previous bar, above it on this one.
    CrossesAbove,
    /// At or above the reference on the previous bar, below it on this one.
    CrossesBelow,
}

/// What fires the rule. Bar conditions are evaluated on each new bar of the
/// rule's series; signal conditions on the scans' signal events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The close crosses above value: the previous close at or below it, this close above.
    PriceCrossesAbove {
        /// The price level.
        value: f64,
    },
    /// The close crosses below value: the previous close at or above it, this close below.
    PriceCrossesBelow {
        /// The price level.
        value: f64,
    },
    /// The close moved at least percent % against the close bars bars earlier.
    PercentMove {
        /// The size of the move in percent (e.g. 5 for 5%).
        percent: f64,
        /// How many bars back the move is measured from (1-500).
        bars: u32,
        /// up, down or either.
        direction: Direction,
    },
    /// An output of a TA-Lib indicator (e.g. rsi with timeperiod 14, macd's macdhist) compared with a value or with another output of the same indicator.
    Indicator {
        /// TA-Lib function name in lower case, e.g. rsi, macd, bbands.
        indicator: String,
        /// TA-Lib parameters by name, e.g. {"timeperiod": 14}; omitted ones take TA-Lib's defaults.
        #[serde(default)]
        params: BTreeMap<String, f64>,
        /// The output to watch (e.g. macdhist); default: the first output.
        output: Option<String>,
        /// above, below, crosses_above or crosses_below.
        op: Comparison,
        /// The value to compare with (give this or other_output).
        value: Option<f64>,
        /// Another output of the same indicator to compare with (e.g. macd against macdsignal).
        other_output: Option<String>,
    },
    /// A TA-Lib candlestick pattern (e.g. cdlengulfing) on the newest bar.
    Candlestick {
        /// TA-Lib pattern name, e.g. cdlengulfing, cdlhammer, cdldoji.
        pattern: String,
        /// up (bullish), down (bearish) or either.
        direction: Direction,
    },
    /// A scheduled scan's action for the symbol changed (a signal.changed event).
    SignalChange {
        /// Only changes to this action (buy, sell or hold); default any change.
        to: Option<String>,
    },
    /// A scan's signal for the symbol reached a confidence (a signal.generated event).
    SignalConfidence {
        /// The least confidence, 0-1.
        min: f64,
        /// Only signals with this action (buy, sell or hold); default any.
        action: Option<String>,
    },
}

impl Condition {
    /// True for conditions evaluated on bars (the rest on signal events).
    pub fn on_bars(&self) -> bool {
        !matches!(
            self,
            Self::SignalChange { .. } | Self::SignalConfidence { .. }
        )
    }

    /// Bars needed before the newest one for an evaluation.
    pub fn lookback(&self) -> usize {
        match self {
            Self::PercentMove { bars, .. } => usize::try_from(*bars).unwrap_or(1),
            Self::Indicator { .. } => 400,
            Self::Candlestick { .. } => 20,
            _ => 1,
        }
    }

    /// Refuses what can never evaluate, with what to send instead.
    pub fn check(&self) -> Result<(), ToolError> {
        let finite = |v: f64, what: &str| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(ToolError::invalid(format!(
                    "{what} must be a finite number"
                )))
            }
        };
        let action = |a: &Option<String>| match a.as_deref() {
            None | Some("buy" | "sell" | "hold") => Ok(()),
            Some(other) => Err(ToolError::invalid(format!(
                "action {other:?} is not one of buy, sell, hold"
            ))),
        };
        match self {
            Self::PriceCrossesAbove { value } | Self::PriceCrossesBelow { value } => {
                finite(*value, "value")?;
                if *value <= 0.0 {
                    return Err(ToolError::invalid("a price level must be above 0"));
                }
                Ok(())
            }
            Self::PercentMove { percent, bars, .. } => {
                finite(*percent, "percent")?;
                if *percent <= 0.0 || *percent > 10_000.0 {
                    return Err(ToolError::invalid("percent must be above 0 and at most 10000"));
                }
                if *bars == 0 || *bars > MAX_MOVE_BARS {
                    return Err(ToolError::invalid(format!(
                        "bars must be 1-{MAX_MOVE_BARS}"
                    )));
                }
                Ok(())
            }
            Self::Indicator {
                indicator,
                params,
                output,
                value,
                other_output,
                ..
            } => {
                let spec = gs_analytics::find(indicator).ok_or_else(|| {
                    ToolError::invalid(format!(
                        "unknown indicator {indicator:?}; use a TA-Lib name such as rsi, macd, bbands, sma, ema, adx, atr, stoch (calculate_indicators lists them all)"
                    ))
                })?;
                let known = |name: &str| spec.outputs.iter().any(|o| o.eq_ignore_ascii_case(name));
                for name in output.iter().chain(other_output.iter()) {
                    if !known(name) {
                        return Err(ToolError::invalid(format!(
                            "{indicator} has no output {name:?}; its outputs are {}",
                            spec.outputs.join(", ")
                        )));
                    }
                }
                for (name, v) in params {
                    finite(*v, name)?;
                    if !spec.params.iter().any(|p| p.name.eq_ignore_ascii_case(name)) {
                        let names: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                        return Err(ToolError::invalid(format!(
                            "{indicator} has no parameter {name:?}; its parameters are {}",
                            names.join(", ")
                        )));
                    }
                }
                match (value, other_output) {
                    (Some(v), None) => finite(*v, "value")?,
                    (None, Some(_)) => {}
                    _ => {
                        return Err(ToolError::invalid(
                            "an indicator condition needs exactly one of value and other_output",
                        ));
                    }
                }
                // The parameters' ranges, duplicates and types: compute it
                // once on a short series, as the evaluation will.
                let ramp: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i)).collect();
                let params: Vec<(String, f64)> = params.iter().map(|(k, v)| (k.clone(), *v)).collect();
                gs_analytics::compute(
                    indicator,
                    &params,
                    &gs_analytics::Ohlcv {
                        open: &ramp,
                        high: &ramp,
                        low: &ramp,
                        close: &ramp,
                        volume: &ramp,
                    },
                )
                .map(|_| ())
                .map_err(|e| ToolError::invalid(format!("{indicator}: {e}")))
            }
            Self::Candlestick { pattern, .. } => gs_candles::find(pattern).map(|_| ()).ok_or_else(|| {
                ToolError::invalid(format!(
                    "unknown candlestick pattern {pattern:?}; use a TA-Lib name such as cdlengulfing, cdlhammer, cdldoji (detect_candlestick_patterns lists them all)"
                ))
            }),
            Self::SignalChange { to } => action(to),
            Self::SignalConfidence { min, action: a } => {
                finite(*min, "min")?;
                if !(0.0..=1.0).contains(min) {
                    return Err(ToolError::invalid("min confidence must be 0-1"));
                }
                action(a)
            }
        }
    }

    /// A sentence a model can read back.
    pub fn describe(&self) -> String {
        match self {
            Self::PriceCrossesAbove { value } => format!("close crosses above {value}"),
            Self::PriceCrossesBelow { value } => format!("close crosses below {value}"),
            Self::PercentMove {
                percent,
                bars,
                direction,
            } => format!("close moves {percent}% ({direction:?}) over {bars} bars").to_lowercase(),
            Self::Indicator {
                indicator,
                output,
                op,
                value,
                other_output,
                ..
            } => format!(
                "{indicator}{} {} {}",
                output
                    .as_deref()
                    .map(|o| format!(".{o}"))
                    .unwrap_or_default(),
                format!("{op:?}").to_lowercase(),
                value.map_or_else(
                    || other_output.clone().unwrap_or_default(),
                    |v| v.to_string()
                )
            ),
            Self::Candlestick { pattern, direction } => {
                format!("{pattern} ({direction:?}) on the last bar").to_lowercase()
            }
            Self::SignalChange { to } => match to {
                Some(a) => format!("scan signal changes to {a}"),
                None => "scan signal changes".into(),
            },
            Self::SignalConfidence { min, action } => format!(
                "scan {} signal with confidence at least {min}",
                action.as_deref().unwrap_or("any")
            ),
        }
    }
}

/// What made a bar condition fire, for the alert's message.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub message: String,
    pub values: BTreeMap<String, f64>,
}

fn crossed(op: Comparison, prev: Option<(f64, f64)>, now: (f64, f64)) -> bool {
    let (value, reference) = now;
    match op {
        Comparison::Above => value > reference,
        Comparison::Below => value < reference,
        Comparison::CrossesAbove => prev.is_some_and(|(v, r)| v <= r) && value > reference,
        Comparison::CrossesBelow => prev.is_some_and(|(v, r)| v >= r) && value < reference,
    }
}

/// The condition on bar `at` of `bars` (oldest first), which must be a
/// bar condition; `None` when it does not hold (or the series is too short).
pub fn evaluate(
    condition: &Condition,
    bars: &BarColumns,
    at: usize,
) -> Result<Option<Hit>, ToolError> {
    let close = bars.close();
    let now = close.get(at).copied();
    let prev = at.checked_sub(1).and_then(|i| close.get(i)).copied();
    let mut values = BTreeMap::new();
    let hit = |message: String, values: BTreeMap<String, f64>| Ok(Some(Hit { message, values }));
    match condition {
        Condition::PriceCrossesAbove { value } | Condition::PriceCrossesBelow { value } => {
            let (Some(now), Some(prev)) = (now, prev) else {
                return Ok(None);
            };
            let op = if matches!(condition, Condition::PriceCrossesAbove { .. }) {
                Comparison::CrossesAbove
            } else {
                Comparison::CrossesBelow
            };
            if crossed(op, Some((prev, *value)), (now, *value)) {
                values.insert("close".into(), now);
                values.insert("previous_close".into(), prev);
                return hit(
                    format!(
                        "close {now} crossed {} {value} (previous close {prev})",
                        if op == Comparison::CrossesAbove {
                            "above"
                        } else {
                            "below"
                        }
                    ),
                    values,
                );
            }
            Ok(None)
        }
        Condition::PercentMove {
            percent,
            bars: back,
            direction,
        } => {
            let from = at
                .checked_sub(usize::try_from(*back).unwrap_or(usize::MAX))
                .and_then(|i| close.get(i))
                .copied();
            let (Some(now), Some(from)) = (now, from) else {
                return Ok(None);
            };
            if from <= 0.0 {
                return Ok(None);
            }
            let change = (now / from - 1.0) * 100.0;
            let fires = match direction {
                Direction::Up => change >= *percent,
                Direction::Down => -change >= *percent,
                Direction::Either => change.abs() >= *percent,
            };
            if fires {
                values.insert("close".into(), now);
                values.insert("change_percent".into(), change);
                return hit(
                    format!("close {now} moved {change:.2}% over {back} bars (from {from})"),
                    values,
                );
            }
            Ok(None)
        }
        Condition::Indicator {
            indicator,
            params,
            output,
            op,
            value,
            other_output,
        } => {
            let end = at.saturating_add(1).min(close.len());
            let slice = |c: &[f64]| c.get(..end).unwrap_or(c).to_vec();
            let (o, h, l, c, v) = (
                slice(bars.open()),
                slice(bars.high()),
                slice(bars.low()),
                slice(close),
                slice(bars.volume()),
            );
            let params: Vec<(String, f64)> = params.iter().map(|(k, v)| (k.clone(), *v)).collect();
            let out = gs_analytics::compute(
                indicator,
                &params,
                &gs_analytics::Ohlcv {
                    open: &o,
                    high: &h,
                    low: &l,
                    close: &c,
                    volume: &v,
                },
            )
            .map_err(|e| ToolError::invalid(format!("{indicator}: {e}")))?;
            let series = |name: Option<&str>| -> Option<&Vec<Option<f64>>> {
                match name {
                    Some(n) => out
                        .outputs
                        .iter()
                        .find(|(o, _)| o.eq_ignore_ascii_case(n))
                        .map(|(_, s)| s),
                    None => out.outputs.first().map(|(_, s)| s),
                }
            };
            let watched = series(output.as_deref());
            let last = end.checked_sub(1);
            let pair = |i: Option<usize>| -> Option<(f64, f64)> {
                let i = i?;
                let x = (*watched?.get(i)?)?;
                let r = match (value, other_output) {
                    (Some(v), _) => *v,
                    (None, Some(other)) => (*series(Some(other))?.get(i)?)?,
                    _ => return None,
                };
                Some((x, r))
            };
            let Some(now) = pair(last) else {
                return Ok(None);
            };
            let before = pair(last.and_then(|i| i.checked_sub(1)));
            if crossed(*op, before, now) {
                let name = output.clone().unwrap_or_else(|| {
                    out.outputs
                        .first()
                        .map_or_else(String::new, |(n, _)| (*n).to_string())
                });
                values.insert(name.clone(), now.0);
                values.insert("reference".into(), now.1);
                return hit(
                    format!(
                        "{indicator} {name} {} is {} {}",
                        now.0,
                        format!("{op:?}").to_lowercase(),
                        other_output.clone().unwrap_or_else(|| now.1.to_string())
                    ),
                    values,
                );
            }
            Ok(None)
        }
        Condition::Candlestick { pattern, direction } => {
            let start = at.saturating_sub(condition.lookback());
            let end = at.saturating_add(1).min(close.len());
            let part = |c: &[f64]| c.get(start..end).unwrap_or_default().to_vec();
            let flags = gs_candles::detect(
                pattern,
                &[],
                &part(bars.open()),
                &part(bars.high()),
                &part(bars.low()),
                &part(close),
            )
            .map_err(|e| ToolError::invalid(format!("{pattern}: {e}")))?;
            let Some(&flag) = flags.last() else {
                return Ok(None);
            };
            let fires = match direction {
                Direction::Up => flag > 0,
                Direction::Down => flag < 0,
                Direction::Either => flag != 0,
            };
            if fires {
                values.insert(pattern.clone(), f64::from(flag));
                return hit(
                    format!(
                        "{pattern} {} on the bar",
                        if flag > 0 { "(bullish)" } else { "(bearish)" }
                    ),
                    values,
                );
            }
            Ok(None)
        }
        Condition::SignalChange { .. } | Condition::SignalConfidence { .. } => Ok(None),
    }
}

/// A signal condition on a signal event's data (`action`, `previous_action`,
/// `confidence`).
pub fn evaluate_signal(
    condition: &Condition,
    changed: bool,
    data: &serde_json::Value,
) -> Option<Hit> {
    let action = data.get("action").and_then(serde_json::Value::as_str);
    let confidence = data.get("confidence").and_then(serde_json::Value::as_f64);
    let mut values = BTreeMap::new();
    if let Some(c) = confidence {
        values.insert("confidence".into(), c);
    }
    match condition {
        Condition::SignalChange { to } if changed => {
            let previous = data
                .get("previous_action")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("none");
            let action = action?;
            if to.as_deref().is_some_and(|t| t != action) {
                return None;
            }
            Some(Hit {
                message: format!("scan signal changed from {previous} to {action}"),
                values,
            })
        }
        Condition::SignalConfidence { min, action: want } if !changed => {
            let c = confidence?;
            if c < *min || want.as_deref().is_some_and(|w| Some(w) != action) {
                return None;
            }
            Some(Hit {
                message: format!(
                    "scan signal {} with confidence {c:.2} (at least {min})",
                    action.unwrap_or("?")
                ),
                values,
            })
        }
        _ => None,
    }
}
