//! `detect_candlestick_patterns` of the `technical-analysis` server.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use crate::context::ToolContext;
use crate::data_source::{RowWindow, load_bars, row_window, with_data_source};
use crate::error::ToolError;
use crate::market_data::synthetic_note;
use crate::registry::{Annotations, Tool};
use gs_domain::Bar;

const DEFAULT_RECENT_BARS: usize = 5;

with_data_source! {
pub struct DetectCandlesticksArgs {
    /// TA-Lib pattern names such as cdlengulfing, cdlhammer, cdlmorningstar (default: all 61).
    pub patterns: Option<Vec<String>>,
    /// Penetration for the patterns that take one (cdlabandonedbaby, cdldarkcloudcover, cdleveningdojistar, cdleveningstar, cdlmathold, cdlmorningdojistar, cdlmorningstar); default: TA-Lib's per pattern.
    pub penetration: Option<f64>,
    /// Return only the last N rows (default 1000, at most 5000); detection still sees every loaded bar.
    pub output_rows: Option<u32>,
    /// How many of the latest bars the summary of hits covers (default 5).
    pub recent_bars: Option<u32>,
}
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
    ctx: &ToolContext,
    mut args: DetectCandlesticksArgs,
) -> Result<(DetectCandlesticksOutput, String), ToolError> {
    let store = ctx.bars();
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
    let mut loaded = load_bars(store, args.take_data()).await?;
    let (skip, window) = row_window(&loaded, args.output_rows)?;
    let penetration = args.penetration;
    let (patterns, mut hits) = loaded
        .compute(ctx, move |bars| {
            detect_patterns(bars, &specs, penetration, skip, recent)
        })
        .await?;
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

/// Every pattern's values over the returned rows, and the hits in the latest `recent` bars.
fn detect_patterns(
    bars: &[Bar],
    specs: &[&'static gs_candles::CandleSpec],
    penetration: Option<f64>,
    skip: usize,
    recent: usize,
) -> Result<(Vec<PatternSeries>, Vec<PatternHit>), ToolError> {
    let cols = gs_domain::BarColumns::from_bars(bars);
    let recent_from = bars.len().saturating_sub(recent);
    let mut patterns = Vec::with_capacity(specs.len());
    let mut hits = Vec::new();
    for spec in specs {
        let params: Vec<(String, f64)> = match penetration {
            Some(p) if !spec.params.is_empty() => vec![("penetration".to_string(), p)],
            _ => Vec::new(),
        };
        let values = gs_candles::detect(
            spec.name,
            &params,
            cols.open(),
            cols.high(),
            cols.low(),
            cols.close(),
        )
        .map_err(|e| ToolError::invalid(e.to_string()))?;
        for (bar, &v) in bars.iter().zip(&values).skip(recent_from) {
            if v != 0 {
                hits.push(PatternHit {
                    time: bar.time(),
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
            values: values.get(skip..).unwrap_or_default().to_vec(),
        });
    }
    Ok((patterns, hits))
}

fn pattern_names() -> String {
    gs_candles::catalogue()
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

// ------------------------------------------------------------- registry entries

/// `detect_candlestick_patterns` of the `technical-analysis` server.
#[derive(Debug)]
pub struct DetectCandlestickPatterns;

impl Tool for DetectCandlestickPatterns {
    const NAME: &'static str = "detect_candlestick_patterns";
    const SERVER: &'static str = "technical-analysis";
    const TITLE: &'static str = "Detect candlestick patterns";
    const DESCRIPTION: &'static str = "Run TA-Lib's candlestick pattern recognition (all 61 CDL functions by default, or the names given, e.g. cdlengulfing, cdlhammer) on stored bars (symbol + timeframe) or inline bars. Values per bar follow TA-Lib: +100 bullish, -100 bearish, 0 none (±200/±80 for a few). latest_hits lists the patterns in the most recent bars with what they mean.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = DetectCandlesticksArgs;
    type Output = DetectCandlesticksOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        detect_candlestick_patterns(&ctx, args).await
    }
}
