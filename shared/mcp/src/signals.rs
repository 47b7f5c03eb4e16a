//! `generate_signals`, `analyze_timeframes` and `backtest_signals` of the
//! `technical-analysis` server: thin wrappers over gs-signals.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use gs_domain::{BarStore, Timeframe};
use gs_signals::{
    Action, AgentOutcome, BacktestReport, BacktestRequest, HitStats, Method, SignalRequest,
    TimeframeAnalysis, VoteSummary,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::market_data::synthetic_note;
use crate::technical::{DataSourceArgs, LoadedBars, load_bars};

/// Agents need history: the slowest (multi-timeframe, SMA(50), chart
/// patterns) read a few hundred bars, so signals load more than the default.
const SIGNAL_LOOKBACK: u32 = 750;
const TIMEFRAMES_LOOKBACK: u32 = 5_000;
const BACKTEST_LOOKBACK: u32 = 2_000;

impl From<gs_signals::SignalError> for ToolError {
    fn from(e: gs_signals::SignalError) -> Self {
        Self::InvalidInput(e.to_string())
    }
}

fn with_default_lookback(mut data: DataSourceArgs, lookback: u32) -> DataSourceArgs {
    if data.lookback.is_none() && data.start.is_none() {
        data.lookback = Some(lookback);
    }
    data
}

/// The timeframe of the loaded bars: stored data knows it; inline bars take
/// the `timeframe` argument (default 1d).
fn bars_timeframe(loaded: &LoadedBars, data: &DataSourceArgs) -> Result<Timeframe, ToolError> {
    match loaded.timeframe {
        Some(tf) => Ok(tf),
        None => Ok(Timeframe::parse(data.timeframe.as_deref().unwrap_or("1d"))?),
    }
}

// ------------------------------------------------------------ generate_signals

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GenerateSignalsArgs {
    #[serde(flatten)]
    pub data: DataSourceArgs,
    /// Agents to run (default all): rsi, macd, bollinger, ma_crossover, momentum, mean_reversion, volume, trend_strength, multi_timeframe, candlestick, chart_pattern.
    pub agents: Option<Vec<String>>,
    /// Combine the agents by weighted vote (default true); false reports every agent and takes the action of the most confident one.
    pub use_consensus: Option<bool>,
    /// Fixed vote weight per agent (>= 0; unnamed agents weigh 1). Not together with hit_rate_weighting.
    pub weights: Option<BTreeMap<String, f64>>,
    /// Weight each agent by its hit rate over the loaded history (weight = max(0, hit_rate - 0.5) x 2).
    pub hit_rate_weighting: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SignalMetadata {
    /// weighted_vote, hit_rate_weighted or single_agent.
    pub consensus_method: Method,
    /// Every agent's action, confidence, reasons and the numbers behind them, or why it abstained.
    pub agent_breakdown: Vec<AgentOutcome>,
    /// Vote totals behind the consensus.
    pub votes: VoteSummary,
    /// The weight each agent voted with.
    pub weights: BTreeMap<String, f64>,
    /// Hit statistics behind hit-rate weights (empty otherwise).
    pub hit_rates: BTreeMap<String, HitStats>,
    /// Bars the agents could read.
    pub bars_used: usize,
    /// True when the bars are synthetic demo data.
    pub synthetic: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GenerateSignalsOutput {
    pub symbol: Option<String>,
    pub timeframe: String,
    /// Time of the bar the signal is for (the latest loaded bar).
    pub time: DateTime<Utc>,
    /// BUY, SELL or HOLD.
    pub action: Action,
    /// In [0, 1]; lowered by disagreement and abstentions.
    pub confidence: f64,
    pub metadata: SignalMetadata,
}

pub async fn generate_signals(
    store: &dyn BarStore,
    args: GenerateSignalsArgs,
) -> Result<(GenerateSignalsOutput, String), ToolError> {
    let data = with_default_lookback(args.data, SIGNAL_LOOKBACK);
    let loaded = load_bars(store, &data).await?;
    let tf = bars_timeframe(&loaded, &data)?;
    let request = SignalRequest {
        agents: args.agents,
        use_consensus: args.use_consensus.unwrap_or(true),
        weights: args.weights,
    };
    let report = if args.hit_rate_weighting.unwrap_or(false) {
        gs_signals::generate_hit_rate_weighted(&loaded.bars, tf, &request, 1)?
    } else {
        gs_signals::generate(&loaded.bars, tf, &request)?
    };
    let summary = format!(
        "{} on {} as of {}: {}{}",
        report.action,
        loaded.describe(),
        report.time.to_rfc3339(),
        report.summary,
        synthetic_note(loaded.synthetic)
    );
    Ok((
        GenerateSignalsOutput {
            symbol: loaded.symbol.as_ref().map(ToString::to_string),
            timeframe: tf.to_string(),
            time: report.time,
            action: report.action,
            confidence: report.confidence,
            metadata: SignalMetadata {
                consensus_method: report.method,
                agent_breakdown: report.agents,
                votes: report.votes,
                weights: report.weights,
                hit_rates: report.hit_rates,
                bars_used: report.bars,
                synthetic: loaded.synthetic,
            },
        },
        summary,
    ))
}

// ---------------------------------------------------------- analyze_timeframes

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AnalyzeTimeframesArgs {
    #[serde(flatten)]
    pub data: DataSourceArgs,
    /// Timeframes to read, each a multiple of the bars' timeframe (default: the bars' timeframe and the next two coarser ones, e.g. 1h, 4h, 1d).
    pub timeframes: Option<Vec<String>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AnalyzeTimeframesOutput {
    pub symbol: Option<String>,
    /// True when the bars are synthetic demo data.
    pub synthetic: bool,
    pub bars_used: usize,
    /// Per timeframe trend, momentum, volatility and key levels, plus the alignment score.
    pub analysis: TimeframeAnalysis,
}

pub async fn analyze_timeframes(
    store: &dyn BarStore,
    args: AnalyzeTimeframesArgs,
) -> Result<(AnalyzeTimeframesOutput, String), ToolError> {
    let timeframes = args
        .timeframes
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|t| Timeframe::parse(t))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let data = with_default_lookback(args.data, TIMEFRAMES_LOOKBACK);
    let loaded = load_bars(store, &data).await?;
    let tf = bars_timeframe(&loaded, &data)?;
    let analysis = gs_signals::analyze_timeframes(&loaded.bars, tf, timeframes.as_deref())?;
    let summary = format!(
        "{} (from {}).{}",
        analysis.summary,
        loaded.describe(),
        synthetic_note(loaded.synthetic)
    );
    Ok((
        AnalyzeTimeframesOutput {
            symbol: loaded.symbol.as_ref().map(ToString::to_string),
            synthetic: loaded.synthetic,
            bars_used: loaded.bars.len(),
            analysis,
        },
        summary,
    ))
}

// ------------------------------------------------------------ backtest_signals

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BacktestSignalsArgs {
    #[serde(flatten)]
    pub data: DataSourceArgs,
    #[serde(flatten)]
    pub request: BacktestRequest,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BacktestSignalsOutput {
    pub symbol: Option<String>,
    /// True when the bars are synthetic demo data.
    pub synthetic: bool,
    /// Walk-forward splits, overall out-of-sample performance, buy-and-hold over the same windows, and each agent's hit rate.
    pub report: BacktestReport,
}

/// Receives `(done, total)` as the backtest advances.
pub type Progress = Box<dyn FnMut(usize, usize) + Send>;

pub async fn backtest_signals(
    store: &dyn BarStore,
    args: BacktestSignalsArgs,
    mut progress: Progress,
) -> Result<(BacktestSignalsOutput, String), ToolError> {
    let data = with_default_lookback(args.data, BACKTEST_LOOKBACK);
    let loaded = load_bars(store, &data).await?;
    let tf = bars_timeframe(&loaded, &data)?;
    let what = loaded.describe();
    let LoadedBars {
        symbol,
        synthetic,
        bars,
        ..
    } = loaded;
    let request = args.request;
    // A walk-forward run evaluates every agent at every bar: keep it off the
    // async workers.
    let report = tokio::task::spawn_blocking(move || {
        gs_signals::backtest(&bars, tf, &request, &mut |done, total| {
            progress(done, total)
        })
    })
    .await
    .map_err(|e| ToolError::invalid(format!("backtest aborted: {e}")))??;
    let pct = |x: f64| format!("{:+.2}%", x * 100.0);
    let summary = format!(
        "Walk-forward backtest ({} splits, {}) on {what}: strategy {} total ({} annualised, Sharpe {}, max drawdown {}), hit rate {}, {} trades; buy-and-hold {} over the same windows.{}",
        report.splits.len(),
        serde_json::to_value(report.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        pct(report.overall.total_return),
        pct(report.overall.annualised_return),
        report
            .overall
            .sharpe
            .map_or("n/a".to_string(), |s| format!("{s:.2}")),
        pct(-report.overall.max_drawdown.abs()),
        report
            .overall_trading
            .hit_rate
            .map_or("n/a".to_string(), |h| format!("{:.1}%", h * 100.0)),
        report.overall_trading.trades,
        pct(report.buy_and_hold.total_return),
        synthetic_note(synthetic)
    );
    Ok((
        BacktestSignalsOutput {
            symbol: symbol.as_ref().map(ToString::to_string),
            synthetic,
            report,
        },
        summary,
    ))
}
