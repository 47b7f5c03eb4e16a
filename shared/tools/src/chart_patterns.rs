//! `analyze_pattern` of the `technical-analysis` server: chart patterns.

use chrono::{DateTime, Utc};
use gs_chart_patterns::{ChartPattern, DetectorConfig, PatternType};
use gs_domain::Bar;
use schemars::JsonSchema;
use serde::Serialize;

use crate::context::ToolContext;
use crate::data_source::{load_bars, with_data_source};
use crate::error::ToolError;
use crate::market_data::synthetic_note;
use crate::registry::{Annotations, Tool};

const MAX_PATTERNS: usize = 50;

with_data_source! {
pub struct AnalyzePatternArgs {
    /// Chart pattern types to look for (default all): head_and_shoulders, inverse_head_and_shoulders, double_top, double_bottom, triple_top, triple_bottom, ascending_triangle, descending_triangle, symmetrical_triangle, rising_wedge, falling_wedge, bull_flag, bear_flag, pennant, cup_and_handle, rectangle.
    pub pattern_types: Option<Vec<String>>,
    /// Only report patterns at least this confident (0 to 1; default 0.6, the detector's own floor — lower it to see weaker candidates).
    pub min_confidence: Option<f64>,
}
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyPointOut {
    pub label: String,
    pub time: DateTime<Utc>,
    pub price: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PatternOut {
    /// Pattern type, e.g. double_top.
    #[serde(rename = "type")]
    pub kind: String,
    /// bullish, bearish or neutral (a symmetrical pattern that has not broken out yet).
    pub direction: String,
    pub start_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    /// Peaks, troughs and touches that define the pattern.
    pub key_points: Vec<KeyPointOut>,
    /// Level a close must clear in `direction` to confirm the pattern.
    pub breakout_level: f64,
    /// A close beyond this level invalidates the pattern.
    pub invalidation_level: f64,
    /// Measured-move target.
    pub target: f64,
    /// Fit quality in [0, 1].
    pub confidence: f64,
    /// forming, confirmed or failed.
    pub status: String,
    /// Bar whose close confirmed or failed the pattern.
    pub breakout_time: Option<DateTime<Utc>>,
    /// What the pattern means for a trader.
    pub meaning: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AnalyzePatternOutput {
    pub symbol: Option<String>,
    pub timeframe: Option<String>,
    pub synthetic: bool,
    pub bars_used: usize,
    /// Detected patterns, most recent first (at most 50).
    pub patterns: Vec<PatternOut>,
    /// True when more patterns were found than returned.
    pub truncated: bool,
    /// Overall confidence in [0, 1] that the data shows a chart pattern (0 when none).
    pub confidence: f64,
}

fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub async fn analyze_pattern(
    ctx: &ToolContext,
    mut args: AnalyzePatternArgs,
) -> Result<(AnalyzePatternOutput, String), ToolError> {
    let store = ctx.bars();
    let kinds: Vec<PatternType> = match &args.pattern_types {
        None => PatternType::ALL.to_vec(),
        Some(list) if list.is_empty() => {
            return Err(ToolError::invalid(
                "pattern_types is empty: omit it to look for every type",
            ));
        }
        Some(list) => list
            .iter()
            .map(|s| PatternType::parse(s).map_err(|e| ToolError::invalid(e.to_string())))
            .collect::<Result<_, _>>()?,
    };
    let defaults = DetectorConfig::default();
    let min_confidence = args.min_confidence.unwrap_or(defaults.min_confidence);
    if !(0.0..=1.0).contains(&min_confidence) {
        return Err(ToolError::invalid("min_confidence must be between 0 and 1"));
    }
    let mut loaded = load_bars(store, args.take_data()).await?;
    let config = DetectorConfig {
        min_confidence,
        ..defaults
    };
    let mut found: Vec<ChartPattern> = loaded
        .compute(ctx, move |bars| {
            let cols = gs_domain::BarColumns::from_bars(bars);
            let has_volume = cols.volume().iter().any(|v| *v > 0.0);
            Ok(gs_chart_patterns::detect(
                cols.high(),
                cols.low(),
                cols.close(),
                has_volume.then_some(cols.volume()),
                &kinds,
                &config,
            ))
        })
        .await?;
    let bars = &loaded.bars;
    let confidence = gs_chart_patterns::overall_confidence(&found);
    found.sort_by_key(|p| std::cmp::Reverse(p.end_index));
    let truncated = found.len() > MAX_PATTERNS;
    found.truncate(MAX_PATTERNS);
    let time = |i: usize| {
        bars.get(i)
            .or(bars.last())
            .map_or(DateTime::<Utc>::UNIX_EPOCH, Bar::time)
    };
    let patterns: Vec<PatternOut> = found
        .iter()
        .map(|p| PatternOut {
            kind: p.kind.as_str().to_string(),
            direction: name(&p.direction),
            start_time: time(p.start_index),
            end_time: time(p.end_index),
            key_points: p
                .key_points
                .iter()
                .map(|k| KeyPointOut {
                    label: k.label.to_string(),
                    time: time(k.index),
                    price: k.price,
                })
                .collect(),
            breakout_level: p.breakout_level,
            invalidation_level: p.invalidation_level,
            target: p.target,
            confidence: p.confidence,
            status: name(&p.status),
            breakout_time: p.breakout_index.map(time),
            meaning: p.kind.description().to_string(),
        })
        .collect();

    let what = loaded.describe();
    let summary = if patterns.is_empty() {
        format!(
            "No chart patterns found in {what}.{}",
            synthetic_note(loaded.synthetic)
        )
    } else {
        let listed: Vec<String> = patterns
            .iter()
            .take(5)
            .map(|p| {
                format!(
                    "{} {} ({}, confidence {:.2}, breakout {:.4}, target {:.4}, ended {})",
                    p.direction,
                    p.kind,
                    p.status,
                    p.confidence,
                    p.breakout_level,
                    p.target,
                    p.end_time.format("%Y-%m-%d %H:%M")
                )
            })
            .collect();
        format!(
            "{} chart pattern(s) in {what}; most recent: {}. Overall confidence {confidence:.2}.{}",
            found.len(),
            listed.join("; "),
            synthetic_note(loaded.synthetic)
        )
    };
    Ok((
        AnalyzePatternOutput {
            symbol: loaded.symbol.as_ref().map(ToString::to_string),
            timeframe: loaded.timeframe.map(|t| t.to_string()),
            synthetic: loaded.synthetic,
            bars_used: bars.len(),
            patterns,
            truncated,
            confidence,
        },
        summary,
    ))
}

// ------------------------------------------------------------- registry entries

/// `analyze_pattern` of the `technical-analysis` server.
#[derive(Debug)]
pub struct AnalyzePattern;

impl Tool for AnalyzePattern {
    const NAME: &'static str = "analyze_pattern";
    const SERVER: &'static str = "technical-analysis";
    const TITLE: &'static str = "Analyze chart patterns";
    const DESCRIPTION: &'static str = "Find chart patterns (head and shoulders and inverse, double/triple tops and bottoms, ascending/descending/symmetrical triangles, rising/falling wedges, bull/bear flags, pennants, cup and handle, rectangles) from swing pivots, on stored or inline bars. Each pattern has its direction, key points with times and prices, breakout and invalidation levels, measured-move target, confidence in [0,1] and status (forming, confirmed, failed).";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = AnalyzePatternArgs;
    type Output = AnalyzePatternOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        analyze_pattern(&ctx, args).await
    }
}
