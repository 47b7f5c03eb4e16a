//! `detect_candlestick_patterns` of the `technical-analysis` server.

use chrono::{DateTime, Utc};
use gs_domain::BarStore;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::market_data::synthetic_note;
use crate::technical::{Columns, DataSourceArgs, RowWindow, load_bars, row_window};

const DEFAULT_RECENT_BARS: usize = 5;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DetectCandlesticksArgs {
    #[serde(flatten)]
    pub data: DataSourceArgs,
    /// TA-Lib pattern names such as cdlengulfing, cdlhammer, cdlmorningstar (default: all 61).
    pub patterns: Option<Vec<String>>,
    /// Penetration for the patterns that take one (cdlabandonedbaby, cdldarkcloudcover, cdleveningdojistar, cdleveningstar, cdlmathold, cdlmorningdojistar, cdlmorningstar); default: TA-Lib's per pattern.
    pub penetration: Option<f64>,
    /// Return only the last N rows (default 1000, at most 5000); detection still sees every loaded bar.
    pub output_rows: Option<u32>,
    /// How many of the latest bars the summary of hits covers (default 5).
    pub recent_bars: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PatternSeries {
    /// TA-Lib function name, e.g. cdlengulfing.
    pub name: String,
    /// Human-readable name.
    pub title: String,
    /// One integer per returned row: +100 bullish, -100 bearish (±200 confirmed hikkake, ±80 weaker engulfing/harami), 0 none — TA-Lib's convention.
    pub values: Vec<i32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PatternHit {
    pub time: DateTime<Utc>,
    pub name: String,
    pub title: String,
    pub value: i32,
    /// bullish, bearish, or indecision for shapes whose TA-Lib sign only means "present" (dojis, spinning tops, long/short lines...).
    pub signal: String,
    /// What the pattern means and what confirms it.
    pub meaning: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DetectCandlesticksOutput {
    #[serde(flatten)]
    pub window: RowWindow,
    /// One entry per requested pattern, in request (or TA-Lib) order.
    pub patterns: Vec<PatternSeries>,
    /// Patterns found in the latest `recent_bars` bars, newest first.
    pub latest_hits: Vec<PatternHit>,
}

pub async fn detect_candlestick_patterns(
    store: &dyn BarStore,
    args: DetectCandlesticksArgs,
) -> Result<(DetectCandlesticksOutput, String), ToolError> {
    let recent = args.recent_bars.map_or(DEFAULT_RECENT_BARS, |r| r as usize);
    let specs: Vec<&'static gs_candles::CandleSpec> = match &args.patterns {
        None => gs_candles::catalogue().iter().collect(),
        Some(names) if names.is_empty() => {
            return Err(ToolError::invalid(
                "patterns is empty: omit it for all 61 patterns or name some, e.g. [\"cdlengulfing\"]",
            ));
        }
        Some(names) => names
            .iter()
            .map(|n| {
                gs_candles::find(n).ok_or_else(|| {
                    ToolError::invalid(format!(
                        "unknown candlestick pattern {n:?}; valid names: {}",
                        pattern_names()
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let loaded = load_bars(store, &args.data).await?;
    let (skip, window) = row_window(&loaded, args.output_rows)?;
    let cols = Columns::from_bars(&loaded.bars);
    let input = cols.ohlcv();
    let n = loaded.bars.len();
    let recent_from = n.saturating_sub(recent);

    let mut patterns = Vec::with_capacity(specs.len());
    let mut hits = Vec::new();
    for spec in specs {
        let params: Vec<(String, f64)> = match args.penetration {
            Some(p) if !spec.params.is_empty() => vec![("penetration".to_string(), p)],
            _ => Vec::new(),
        };
        let values = gs_candles::detect(
            spec.name,
            &params,
            input.open,
            input.high,
            input.low,
            input.close,
        )
        .map_err(|e| ToolError::invalid(e.to_string()))?;
        for (i, &v) in values.iter().enumerate().skip(recent_from) {
            if v != 0 {
                hits.push(PatternHit {
                    time: loaded.bars[i].time(),
                    name: spec.name.to_string(),
                    title: spec.title.to_string(),
                    value: v,
                    signal: if gs_candles::is_indecision(spec.name) {
                        "indecision"
                    } else if v > 0 {
                        "bullish"
                    } else {
                        "bearish"
                    }
                    .to_string(),
                    meaning: spec.meaning.to_string(),
                });
            }
        }
        patterns.push(PatternSeries {
            name: spec.name.to_string(),
            title: spec.title.to_string(),
            values: values[skip..].to_vec(),
        });
    }
    hits.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.name.cmp(&b.name)));

    let what = loaded.describe();
    let summary = if hits.is_empty() {
        format!(
            "Scanned {} candlestick pattern(s) over {what}: none in the latest {recent} bar(s).{}",
            patterns.len(),
            synthetic_note(loaded.synthetic)
        )
    } else {
        let listed: Vec<String> = hits
            .iter()
            .take(8)
            .map(|h| {
                format!(
                    "{} ({}, {}) at {}",
                    h.title,
                    h.signal,
                    h.value,
                    h.time.to_rfc3339()
                )
            })
            .collect();
        format!(
            "Scanned {} candlestick pattern(s) over {what}; {} hit(s) in the latest {recent} bar(s): {}.{}",
            patterns.len(),
            hits.len(),
            listed.join("; "),
            synthetic_note(loaded.synthetic)
        )
    };
    Ok((
        DetectCandlesticksOutput {
            window,
            patterns,
            latest_hits: hits,
        },
        summary,
    ))
}

fn pattern_names() -> String {
    gs_candles::catalogue()
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}
