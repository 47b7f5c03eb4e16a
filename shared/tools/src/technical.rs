//! Tools of the `technical-analysis` server.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use gs_analytics::{Ohlcv, ParamKind};
use gs_domain::{Bar, BarStore, Symbol, Timeframe};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::market_data::{HistoryRequest, load_history, synthetic_note};
use crate::registry::{Annotations, Tool};
use crate::time_input::{parse_time, parse_time_value};

pub const DEFAULT_LOOKBACK: usize = 500;
pub const MAX_LOOKBACK: usize = 20_000;
pub const DEFAULT_OUTPUT_ROWS: usize = 1_000;
pub const MAX_OUTPUT_ROWS: usize = 5_000;
pub const MAX_INDICATORS: usize = 20;

/// A bar given inline instead of read from storage.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlineBar {
    /// Bar time: RFC 3339 string or epoch seconds.
    pub time: TimeValue,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    /// Traded volume (default 0).
    #[serde(default)]
    pub volume: f64,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum TimeValue {
    Epoch(i64),
    Text(String),
}

/// Where the bars come from: stored data (`symbol` + `timeframe`) or inline `bars`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct DataSourceArgs {
    /// Ticker symbol of stored data (e.g. AAPL); use either this or `bars`.
    pub symbol: Option<String>,
    /// Bar width for stored data: 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w (default 1d).
    pub timeframe: Option<String>,
    /// First bar time to load (RFC 3339, YYYY-MM-DD or epoch seconds).
    pub start: Option<String>,
    /// Last bar time to load (default: the latest stored bar).
    pub end: Option<String>,
    /// Number of stored bars to load (default 500, at most 20000): the latest ones up to `end`, or the first ones from `start`.
    pub lookback: Option<u32>,
    /// Inline OHLCV bars in time order (at most 20000); use either this or `symbol`.
    pub bars: Option<Vec<InlineBar>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorRequest {
    /// TA-Lib function name in lower case, e.g. sma, ema, rsi, macd, bbands, atr.
    pub name: String,
    /// TA-Lib parameter names and values, e.g. {"timeperiod": 14}; omitted parameters take TA-Lib's defaults.
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CalculateIndicatorsArgs {
    #[serde(flatten)]
    pub data: DataSourceArgs,
    /// Indicators to compute, in the order their results should appear (1 to 20).
    pub indicators: Vec<IndicatorRequest>,
    /// Return only the last N rows (default 1000, at most 5000); indicators are still computed over every loaded bar so warm-up is right.
    pub output_rows: Option<u32>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct IndicatorResult {
    /// TA-Lib function name.
    pub name: String,
    /// Every parameter with defaults filled in.
    pub params: BTreeMap<String, Value>,
    /// TA-Lib output name → one value per returned row; null during warm-up (where TA-Lib gives NaN).
    pub outputs: BTreeMap<String, Vec<Option<f64>>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalculateIndicatorsOutput {
    #[serde(flatten)]
    pub window: RowWindow,
    /// One entry per requested indicator, in request order.
    pub indicators: Vec<IndicatorResult>,
}

/// Per-bar results return the latest rows only; this says which, so every
/// such tool reports its window the same way.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RowWindow {
    /// Symbol of stored data, absent for inline bars.
    pub symbol: Option<String>,
    /// Timeframe of stored data, absent for inline bars.
    pub timeframe: Option<String>,
    /// True when the bars are synthetic demo data.
    pub synthetic: bool,
    /// Bars the computation ran over.
    pub bars_used: usize,
    /// Rows returned (the most recent ones).
    pub rows: usize,
    /// True when fewer rows were returned than bars used.
    pub truncated: bool,
    /// Bar time of each returned row (RFC 3339, UTC).
    pub time: Vec<DateTime<Utc>>,
}

/// The first returned row's index and the window description for a result
/// over `loaded` capped at `output_rows` (default 1000, at most 5000).
pub fn row_window(
    loaded: &LoadedBars,
    output_rows: Option<u32>,
) -> Result<(usize, RowWindow), ToolError> {
    let output_rows = output_rows.map_or(DEFAULT_OUTPUT_ROWS, |r| r as usize);
    if output_rows == 0 || output_rows > MAX_OUTPUT_ROWS {
        return Err(ToolError::invalid(format!(
            "output_rows must be between 1 and {MAX_OUTPUT_ROWS}"
        )));
    }
    let n = loaded.bars.len();
    let skip = n.saturating_sub(output_rows);
    let time: Vec<DateTime<Utc>> = loaded.bars.iter().skip(skip).map(Bar::time).collect();
    Ok((
        skip,
        RowWindow {
            symbol: loaded.symbol.as_ref().map(ToString::to_string),
            timeframe: loaded.timeframe.map(|t| t.to_string()),
            synthetic: loaded.synthetic,
            bars_used: n,
            rows: time.len(),
            truncated: time.len() < n,
            time,
        },
    ))
}

/// Bars resolved from [`DataSourceArgs`], with their provenance.
pub struct LoadedBars {
    pub symbol: Option<Symbol>,
    pub timeframe: Option<Timeframe>,
    pub synthetic: bool,
    pub bars: Vec<Bar>,
}

impl LoadedBars {
    /// Runs CPU-heavy `work` over the bars on the compute pool (see
    /// [`ToolContext::compute`]) and gets the bars back.
    pub async fn compute<T, F>(&mut self, ctx: &ToolContext, work: F) -> Result<T, ToolError>
    where
        T: Send + 'static,
        F: FnOnce(&[Bar]) -> Result<T, ToolError> + Send + 'static,
    {
        let bars = std::mem::take(&mut self.bars);
        let (out, bars) = ctx
            .compute(move || {
                let out = work(&bars);
                Ok((out, bars))
            })
            .await?;
        self.bars = bars;
        out
    }

    /// "500 1d bars of AAPL" or "500 inline bars", for summaries.
    pub fn describe(&self) -> String {
        match (&self.symbol, self.timeframe) {
            (Some(s), Some(tf)) => format!("{} {tf} bars of {s}", self.bars.len()),
            _ => format!("{} inline bars", self.bars.len()),
        }
    }
}

pub async fn load_bars(
    store: &dyn BarStore,
    args: &DataSourceArgs,
) -> Result<LoadedBars, ToolError> {
    match (&args.symbol, &args.bars) {
        (Some(_), Some(_)) => Err(ToolError::invalid(
            "give either symbol (stored data) or bars (inline data), not both",
        )),
        (None, None) => Err(ToolError::invalid(
            "no data: give symbol (and optionally timeframe, start, end, lookback) or inline bars",
        )),
        (None, Some(inline)) => {
            if inline.len() > MAX_LOOKBACK {
                return Err(ToolError::invalid(format!(
                    "too many inline bars ({}); send at most {MAX_LOOKBACK}",
                    inline.len()
                )));
            }
            let mut bars = Vec::with_capacity(inline.len());
            for (i, b) in inline.iter().enumerate() {
                let field = format!("bars[{i}].time");
                let time = match &b.time {
                    TimeValue::Epoch(s) => parse_time_value(&field, &Value::from(*s))?,
                    TimeValue::Text(s) => parse_time(&field, s)?,
                };
                let bar = Bar::new(time, b.open, b.high, b.low, b.close, b.volume)
                    .map_err(|e| ToolError::invalid(format!("bars[{i}]: {e}")))?;
                if bars.last().is_some_and(|p: &Bar| p.time() >= time) {
                    return Err(ToolError::invalid(format!(
                        "bars[{i}]: times must be strictly increasing"
                    )));
                }
                bars.push(bar);
            }
            Ok(LoadedBars {
                symbol: None,
                timeframe: None,
                synthetic: false,
                bars,
            })
        }
        (Some(symbol), None) => {
            let lookback = args.lookback.map_or(DEFAULT_LOOKBACK, |l| l as usize);
            if lookback == 0 || lookback > MAX_LOOKBACK {
                return Err(ToolError::invalid(format!(
                    "lookback must be between 1 and {MAX_LOOKBACK} bars"
                )));
            }
            let req = HistoryRequest {
                symbol: Symbol::parse(symbol)?,
                timeframe: Timeframe::parse(args.timeframe.as_deref().unwrap_or("1d"))?,
                start: args
                    .start
                    .as_deref()
                    .map(|s| parse_time("start", s))
                    .transpose()?,
                end: args
                    .end
                    .as_deref()
                    .map(|s| parse_time("end", s))
                    .transpose()?,
                days: None,
                limit: lookback,
            };
            let h = load_history(store, &req).await?;
            Ok(LoadedBars {
                symbol: Some(h.symbol),
                timeframe: Some(h.timeframe),
                synthetic: h.source.source.is_synthetic(),
                bars: h.bars,
            })
        }
    }
}

pub async fn calculate_indicators(
    ctx: &ToolContext,
    args: CalculateIndicatorsArgs,
) -> Result<(CalculateIndicatorsOutput, String), ToolError> {
    let store = ctx.bars();
    if args.indicators.is_empty() || args.indicators.len() > MAX_INDICATORS {
        return Err(ToolError::invalid(format!(
            "indicators must list 1 to {MAX_INDICATORS} entries such as {{\"name\": \"rsi\", \"params\": {{\"timeperiod\": 14}}}}; valid names: {}",
            indicator_names()
        )));
    }
    let mut loaded = load_bars(store, &args.data).await?;
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
    let cols = BarColumns::from_bars(bars);
    let input = cols.ohlcv();
    let mut results = Vec::with_capacity(requests.len());
    for req in requests {
        let params: Vec<(String, f64)> = req.params.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let out = gs_analytics::compute(&req.name, &params, &input)?;
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
            .map(|(name, values)| {
                (
                    name.to_string(),
                    values.get(skip..).unwrap_or_default().to_vec(),
                )
            })
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
                .map(|(name, v)| match v.last().copied().flatten() {
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

/// Bars in column form, as the analytics crate takes them.
pub struct BarColumns {
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl BarColumns {
    pub fn from_bars(bars: &[Bar]) -> Self {
        Self {
            open: bars.iter().map(Bar::open).collect(),
            high: bars.iter().map(Bar::high).collect(),
            low: bars.iter().map(Bar::low).collect(),
            close: bars.iter().map(Bar::close).collect(),
            volume: bars.iter().map(Bar::volume).collect(),
        }
    }

    pub fn ohlcv(&self) -> Ohlcv<'_> {
        Ohlcv {
            open: &self.open,
            high: &self.high,
            low: &self.low,
            close: &self.close,
            volume: &self.volume,
        }
    }
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
