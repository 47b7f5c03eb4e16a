//! Tools of the `technical-analysis` server.

use std::collections::BTreeMap;

use gs_analytics::ParamKind;
use gs_domain::Bar;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::ToolContext;
use crate::data_source::{LoadedBars, RowWindow, load_bars, ohlcv, row_window, with_data_source};
use crate::error::ToolError;
use crate::market_data::synthetic_note;
use crate::registry::{Annotations, Tool};

pub const MAX_INDICATORS: usize = 20;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorRequest {
    /// TA-Lib function name in lower case, e.g. sma, ema, rsi, macd, bbands, atr.
    pub name: String,
    /// TA-Lib parameter names and values, e.g. {"timeperiod": 14}; omitted parameters take TA-Lib's defaults.
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
}

with_data_source! {
pub struct CalculateIndicatorsArgs {
    /// Indicators to compute, in the order their results should appear (1 to 20).
    pub indicators: Vec<IndicatorRequest>,
    /// Return only the last N rows (default 1000, at most 5000); indicators are still computed over every loaded bar so warm-up is right.
    pub output_rows: Option<u32>,
}
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct IndicatorResult {
    /// TA-Lib function name.
    pub name: String,
    /// Every parameter with defaults filled in.
    pub params: BTreeMap<String, Value>,
    /// TA-Lib output name → one value per returned row; null during warm-up (where TA-Lib gives NaN).
    pub outputs: BTreeMap<String, OutputValues>,
}

/// One indicator output over the returned rows. It stays `f64` (NaN where
/// TA-Lib gives NaN) until it is serialised, where NaN is written as null.
#[derive(Debug)]
pub struct OutputValues {
    series: gs_analytics::Series,
    skip: usize,
}

impl OutputValues {
    /// The returned rows.
    pub fn values(&self) -> &[f64] {
        self.series.window(self.skip)
    }

    /// The latest row's value, when it has one.
    pub fn last(&self) -> Option<f64> {
        self.values().last().copied().filter(|v| !v.is_nan())
    }
}

impl Serialize for OutputValues {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        gs_analytics::Nullable(self.values()).serialize(serializer)
    }
}

impl JsonSchema for OutputValues {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OutputValues".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "array",
            "items": {"type": ["number", "null"]}
        })
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalculateIndicatorsOutput {
    #[serde(flatten)]
    pub window: RowWindow,
    /// One entry per requested indicator, in request order.
    pub indicators: Vec<IndicatorResult>,
}

pub async fn calculate_indicators(
    ctx: &ToolContext,
    mut args: CalculateIndicatorsArgs,
) -> Result<(CalculateIndicatorsOutput, String), ToolError> {
    let store = ctx.bars();
    if args.indicators.is_empty() || args.indicators.len() > MAX_INDICATORS {
        return Err(ToolError::invalid(format!(
            "indicators must list 1 to {MAX_INDICATORS} entries such as {{\"name\": \"rsi\", \"params\": {{\"timeperiod\": 14}}}}; valid names: {}",
            indicator_names()
        )));
    }
    let mut loaded = load_bars(store, args.take_data()).await?;
    let (skip, window) = row_window(&loaded, args.output_rows)?;
    let requests = args.indicators;
    let results = loaded
        .compute(ctx, move |bars| compute_indicators(bars, &requests, skip))
        .await?;

    let summary = indicator_summary(&loaded, &results);
    Ok((
        CalculateIndicatorsOutput {
            window,
            indicators: results,
        },
        summary,
    ))
}

fn compute_indicators(
    bars: &[Bar],
    requests: &[IndicatorRequest],
    skip: usize,
) -> Result<Vec<IndicatorResult>, ToolError> {
    let cols = gs_domain::BarColumns::from_bars(bars);
    let input = ohlcv(&cols);
    let mut results = Vec::with_capacity(requests.len());
    for req in requests {
        let params: Vec<(String, f64)> = req.params.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let out = gs_analytics::compute_series(&req.name, &params, &input)?;
        let spec = gs_analytics::find(out.name);
        let params = out
            .params
            .iter()
            .map(|(name, v)| {
                let integer = spec
                    .and_then(|s| s.params.iter().find(|p| p.name == *name))
                    .is_some_and(|p| !matches!(p.kind, ParamKind::Real));
                let value = if integer {
                    Value::from(*v as i64)
                } else {
                    Value::from(*v)
                };
                ((*name).to_string(), value)
            })
            .collect();
        let outputs = out
            .outputs
            .into_iter()
            .map(|(name, series)| (name.to_string(), OutputValues { series, skip }))
            .collect();
        results.push(IndicatorResult {
            name: out.name.to_string(),
            params,
            outputs,
        });
    }
    Ok(results)
}

fn indicator_summary(loaded: &LoadedBars, results: &[IndicatorResult]) -> String {
    let what = loaded.describe();
    let Some(last) = loaded.bars.last() else {
        return format!("No bars to compute on ({what}).");
    };
    let latest: Vec<String> = results
        .iter()
        .map(|r| {
            let values: Vec<String> = r
                .outputs
                .iter()
                .map(|(name, v)| match v.last() {
                    Some(x) => format!("{name} {x:.4}"),
                    None => format!("{name} n/a (warm-up longer than the data)"),
                })
                .collect();
            format!("{}: {}", r.name, values.join(", "))
        })
        .collect();
    format!(
        "Computed {} indicator(s) on {what}; latest values at {} (close {:.4}): {}.{}",
        results.len(),
        last.time().to_rfc3339(),
        last.close(),
        latest.join("; "),
        synthetic_note(loaded.synthetic)
    )
}

pub fn indicator_names() -> String {
    gs_analytics::catalogue()
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

// ------------------------------------------------------------- registry entries

/// `calculate_indicators` of the `technical-analysis` server.
#[derive(Debug)]
pub struct CalculateIndicators;

impl Tool for CalculateIndicators {
    const NAME: &'static str = "calculate_indicators";
    const SERVER: &'static str = "technical-analysis";
    const TITLE: &'static str = "Calculate technical indicators";
    const DESCRIPTION: &'static str = "Compute TA-Lib indicators (names and parameters as in TA-Lib, lower case: sma, ema, rsi, macd, bbands, atr, ...) on stored bars (symbol + timeframe, optional start/end/lookback) or on inline bars. Results are exact to TA-Lib, one value per bar, null during warm-up; outputs use TA-Lib's output names (macd: macd, macdsignal, macdhist; bbands: upperband, middleband, lowerband; single-output functions: real).";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = CalculateIndicatorsArgs;
    type Output = CalculateIndicatorsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        calculate_indicators(&ctx, args).await
    }
}
