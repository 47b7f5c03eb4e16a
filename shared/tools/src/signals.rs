//! `generate_signals`, `analyze_timeframes` and `backtest_signals` of the
//! `technical-analysis` server: thin wrappers over gs-signals.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use gs_domain::Timeframe;
use gs_signals::agents::SentimentAgent;
use gs_signals::{
    Action, AgentOutcome, AgentRegistry, BacktestReport, BacktestRequest, HitStats, Method,
    SignalRequest, TimeframeAnalysis, VoteSummary,
};
use schemars::JsonSchema;
use serde::Serialize;

use crate::context::ToolContext;
use crate::data_source::{LoadedBars, load_bars, with_data_source};
use crate::error::ToolError;
use crate::market_data::synthetic_note;
use crate::registry::{Annotations, Tool};

/// Agents need history: the slowest (multi-timeframe, SMA(50), chart
/// patterns) read a few hundred bars, so signals load more than the default.
const SIGNAL_LOOKBACK: u32 = 750;
const TIMEFRAMES_LOOKBACK: u32 = 5_000;
const BACKTEST_LOOKBACK: u32 = 2_000;

with_data_source! {
pub struct GenerateSignalsArgs {
    /// Agents to run (default all): rsi, macd, bollinger, ma_crossover, momentum, mean_reversion, volume, trend_strength, multi_timeframe, candlestick, chart_pattern, and sentiment (news and post tone, only for a stored symbol with imported or demo news or posts).
    pub agents: Option<Vec<String>>,
    /// Combine the agents by weighted vote (default true); false reports every agent and takes the action of the most confident one.
    pub use_consensus: Option<bool>,
    /// Fixed vote weight per agent (>= 0; unnamed agents weigh 1). Not together with hit_rate_weighting.
    pub weights: Option<BTreeMap<String, f64>>,
    /// Weight each agent by its hit rate over the loaded history (weight = max(0, hit_rate - 0.5) x 2).
    pub hit_rate_weighting: Option<bool>,
}
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
    ctx: &ToolContext,
    mut args: GenerateSignalsArgs,
) -> Result<(GenerateSignalsOutput, String), ToolError> {
    let store = ctx.bars();
    let data = args.take_data().with_default_lookback(SIGNAL_LOOKBACK);
    let given_timeframe = data.timeframe.clone();
    let mut loaded = load_bars(store, data).await?;
    let tf = loaded.timeframe_or(given_timeframe.as_deref())?;
    let request = SignalRequest {
        agents: args.agents,
        use_consensus: args.use_consensus.unwrap_or(true),
        weights: check_weights(args.weights)?,
    };
    let hit_rate_weighting = args.hit_rate_weighting.unwrap_or(false);
    let registry = agents_for(ctx, &loaded, tf, request.agents.as_deref()).await?;
    let report = loaded
        .compute(ctx, move |bars| {
            Ok(if hit_rate_weighting {
                gs_signals::generate_hit_rate_weighted_with(&registry, bars, tf, &request, 1)?
            } else {
                gs_signals::generate_with(&registry, bars, tf, &request)?
            })
        })
        .await?;
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

/// The standard agents, plus the `sentiment` agent when news or posts
/// about the stored symbol exist (scored over the loaded bars' span and the
/// agent's lookback before it).
async fn agents_for(
    ctx: &ToolContext,
    loaded: &LoadedBars,
    tf: Timeframe,
    wanted: Option<&[String]>,
) -> Result<AgentRegistry, ToolError> {
    let mut registry = AgentRegistry::standard();
    let asks = wanted.is_some_and(|w| w.iter().any(|a| a == "sentiment"));
    let span = loaded.bars.first().zip(loaded.bars.last());
    let items = match (&loaded.symbol, span) {
        (Some(symbol), Some((first, last))) => {
            let agent = SentimentAgent::new(Vec::new());
            let start = first
                .time()
                .checked_sub_signed(agent.lookback)
                .unwrap_or(first.time());
            let end = last
                .time()
                .checked_add_signed(tf.duration())
                .unwrap_or(last.time());
            crate::sentiment::tone_items(ctx, symbol.as_str(), start, end).await?
        }
        _ => None,
    };
    match items {
        Some(items) => registry
            .register(Box::new(SentimentAgent::new(items)))
            .map_err(|e| ToolError::Internal(e.to_string()))?,
        None if asks => {
            return Err(ToolError::invalid(
                "the sentiment agent needs stored news or posts about the symbol (it does not read inline bars); import them with database:import_news or import_posts, or leave it out of agents",
            ));
        }
        None => {}
    }
    Ok(registry)
}

// ---------------------------------------------------------- analyze_timeframes

with_data_source! {
pub struct AnalyzeTimeframesArgs {
    /// Timeframes to read, each a multiple of the bars' timeframe (default: the bars' timeframe and the next two coarser ones, e.g. 1h, 4h, 1d).
    pub timeframes: Option<Vec<String>>,
}
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
    ctx: &ToolContext,
    mut args: AnalyzeTimeframesArgs,
) -> Result<(AnalyzeTimeframesOutput, String), ToolError> {
    let store = ctx.bars();
    let timeframes = args
        .timeframes
        .as_ref()
        .map(|list| {
            list.iter()
                .map(|t| Timeframe::parse(t))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let data = args.take_data().with_default_lookback(TIMEFRAMES_LOOKBACK);
    let given_timeframe = data.timeframe.clone();
    let mut loaded = load_bars(store, data).await?;
    let tf = loaded.timeframe_or(given_timeframe.as_deref())?;
    let analysis = loaded
        .compute(ctx, move |bars| {
            Ok(gs_signals::analyze_timeframes(
                bars,
                tf,
                timeframes.as_deref(),
            )?)
        })
        .await?;
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

with_data_source! {
pub struct BacktestSignalsArgs {
    /// Agents to run, by name (default all): rsi, macd, bollinger, ma_crossover, momentum, mean_reversion, volume, trend_strength, multi_timeframe, candlestick, chart_pattern.
    pub agents: Option<Vec<String>>,
    /// Trade the weighted-vote consensus (true, the default) or the most confident agent (false).
    pub use_consensus: Option<bool>,
    /// Fixed per-agent weights (0 to 1e6, default 1); not with hit_rate_weighting.
    pub weights: Option<BTreeMap<String, f64>>,
    /// Fit each split's weights from the agents' hit rates in its training window: weight = max(0, hit_rate - 0.5) x 2 (default false).
    pub hit_rate_weighting: Option<bool>,
    /// Number of consecutive out-of-sample test windows (1 to 50, default 5).
    pub n_splits: Option<usize>,
    /// Rolling training window length in bars (1 to 20000); when absent the training window expands from the first bar and the first one is bars / (n_splits + 1) long.
    pub train_bars: Option<usize>,
    /// Bars ahead over which a call is judged for the hit rate (1 to 1000, default 1).
    pub horizon: Option<usize>,
    /// SELL goes short instead of flat (default false).
    pub allow_short: Option<bool>,
    /// Cost per unit of position traded, in basis points (0 to 10000, default 0).
    pub cost_bps: Option<f64>,
    /// Override the bars-per-year used for annualising (1 to 1e8; default from the timeframe).
    pub periods_per_year: Option<f64>,
    /// Return the traded signal of every test bar (default false).
    pub include_signals: Option<bool>,
}
}

impl BacktestSignalsArgs {
    /// The backtest the arguments ask for, defaults filled in.
    fn request(&mut self) -> BacktestRequest {
        let defaults = BacktestRequest::default();
        BacktestRequest {
            agents: self.agents.take(),
            use_consensus: self.use_consensus.unwrap_or(defaults.use_consensus),
            weights: self.weights.take(),
            hit_rate_weighting: self
                .hit_rate_weighting
                .unwrap_or(defaults.hit_rate_weighting),
            n_splits: self.n_splits.unwrap_or(defaults.n_splits),
            train_bars: self.train_bars.or(defaults.train_bars),
            horizon: self.horizon.unwrap_or(defaults.horizon),
            allow_short: self.allow_short.unwrap_or(defaults.allow_short),
            cost_bps: self.cost_bps.unwrap_or(defaults.cost_bps),
            periods_per_year: self.periods_per_year.or(defaults.periods_per_year),
            include_signals: self.include_signals.unwrap_or(defaults.include_signals),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BacktestSignalsOutput {
    pub symbol: Option<String>,
    /// True when the bars are synthetic demo data.
    pub synthetic: bool,
    /// Walk-forward splits, overall out-of-sample performance, buy-and-hold over the same windows, and each agent's hit rate.
    pub report: BacktestReport,
}

/// Largest vote weight: weights are relative, so this loses nothing, and
/// sums of a dozen of them stay finite.
pub const MAX_WEIGHT: f64 = 1e6;
/// Largest horizon a call is judged over, in bars.
pub const MAX_HORIZON: usize = 1_000;
/// Largest trading cost: 100%.
pub const MAX_COST_BPS: f64 = 10_000.0;
/// Largest bars-per-year (1-second bars around the clock are about 3.2e7).
pub const MAX_PERIODS_PER_YEAR: f64 = 1e8;

fn check_weights(
    weights: Option<BTreeMap<String, f64>>,
) -> Result<Option<BTreeMap<String, f64>>, ToolError> {
    if let Some((agent, w)) = weights
        .iter()
        .flatten()
        .find(|(_, w)| !(w.is_finite() && (0.0..=MAX_WEIGHT).contains(*w)))
    {
        return Err(ToolError::invalid(format!(
            "weight {w} for {agent} must be between 0 and {MAX_WEIGHT}; weights are relative, so scale them down"
        )));
    }
    Ok(weights)
}

/// Bounds on the numbers a backtest multiplies and adds, so every figure
/// it reports stays finite.
fn check_backtest(request: &BacktestRequest) -> Result<(), ToolError> {
    if !(1..=MAX_HORIZON).contains(&request.horizon) {
        return Err(ToolError::invalid(format!(
            "horizon must be between 1 and {MAX_HORIZON} bars"
        )));
    }
    if request
        .train_bars
        .is_some_and(|t| t == 0 || t > crate::data_source::MAX_LOOKBACK)
    {
        return Err(ToolError::invalid(format!(
            "train_bars must be between 1 and {} (the most bars a call loads)",
            crate::data_source::MAX_LOOKBACK
        )));
    }
    if !(request.cost_bps.is_finite() && (0.0..=MAX_COST_BPS).contains(&request.cost_bps)) {
        return Err(ToolError::invalid(format!(
            "cost_bps must be between 0 and {MAX_COST_BPS} (100%)"
        )));
    }
    if request
        .periods_per_year
        .is_some_and(|p| !(p.is_finite() && (1.0..=MAX_PERIODS_PER_YEAR).contains(&p)))
    {
        return Err(ToolError::invalid(format!(
            "periods_per_year must be between 1 and {MAX_PERIODS_PER_YEAR}"
        )));
    }
    check_weights(request.weights.clone())?;
    Ok(())
}

pub async fn backtest_signals(
    ctx: &ToolContext,
    mut args: BacktestSignalsArgs,
) -> Result<(BacktestSignalsOutput, String), ToolError> {
    let store = ctx.bars();
    let data = args.take_data().with_default_lookback(BACKTEST_LOOKBACK);
    let given_timeframe = data.timeframe.clone();
    let loaded = load_bars(store, data).await?;
    let tf = loaded.timeframe_or(given_timeframe.as_deref())?;
    let what = loaded.describe();
    let LoadedBars {
        symbol,
        synthetic,
        bars,
        ..
    } = loaded;
    let request = args.request();
    check_backtest(&request)?;
    // A walk-forward run evaluates every agent at every bar: it runs on the
    // compute pool, never on the async workers.
    let progress = ctx.clone();
    let report = ctx
        .compute(move || {
            Ok(gs_signals::backtest(
                &bars,
                tf,
                &request,
                &mut |done, total| progress.report_progress(done as u64, total as u64),
            )?)
        })
        .await?;
    let pct = |x: f64| format!("{:+.2}%", x * 100.0);
    let summary = format!(
        "Walk-forward backtest ({} splits, {}) on {what}: strategy {} total ({} annualised, Sharpe {}, max drawdown {}), hit rate {}, {} trades; buy-and-hold {} over the same windows.{}",
        report.splits.len(),
        serde_json::to_value(report.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        pct(report.overall.total_return),
        report
            .overall
            .annualised_return
            .map_or("n/a".to_string(), pct),
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

// ------------------------------------------------------------- registry entries

/// `analyze_timeframes` of the `technical-analysis` server.
#[derive(Debug)]
pub struct AnalyzeTimeframes;

impl Tool for AnalyzeTimeframes {
    const NAME: &'static str = "analyze_timeframes";
    const SERVER: &'static str = "technical-analysis";
    const TITLE: &'static str = "Analyze multiple timeframes";
    const DESCRIPTION: &'static str = "Read one symbol on several timeframes at once (the stored or inline bars resampled to coarser ones, default the next two): per timeframe the trend (direction and strength), momentum (RSI, MACD), volatility (ATR %, Bollinger width) and key support/resistance levels, plus an alignment score in [-1, 1] saying whether the timeframes agree.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = AnalyzeTimeframesArgs;
    type Output = AnalyzeTimeframesOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        analyze_timeframes(&ctx, args).await
    }
}

/// `generate_signals` of the `technical-analysis` server.
#[derive(Debug)]
pub struct GenerateSignals;

impl Tool for GenerateSignals {
    const NAME: &'static str = "generate_signals";
    const SERVER: &'static str = "technical-analysis";
    const TITLE: &'static str = "Generate trading signals";
    const DESCRIPTION: &'static str = "Ask a panel of signal agents (rsi, macd, bollinger, ma_crossover, momentum, mean_reversion, volume, trend_strength, multi_timeframe, candlestick, chart_pattern, and sentiment when news or posts about the stored symbol exist: their recency-weighted tone over the 72 hours before the bar's close, nothing published later) about the latest bar and combine them by weighted vote: action BUY/SELL/HOLD with confidence in [0,1]; metadata.agent_breakdown gives every agent's action, confidence, reasons and numbers (or why it abstained). Deterministic for the same bars. Not investment advice.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GenerateSignalsArgs;
    type Output = GenerateSignalsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        generate_signals(&ctx, args).await
    }
}

/// `backtest_signals` of the `technical-analysis` server.
#[derive(Debug)]
pub struct BacktestSignals;

impl Tool for BacktestSignals {
    const NAME: &'static str = "backtest_signals";
    const SERVER: &'static str = "technical-analysis";
    const TITLE: &'static str = "Backtest trading signals";
    const DESCRIPTION: &'static str = "Walk-forward backtest of the signal agents and their consensus over stored or inline history (default 2000 bars): per split and overall hit rate, total and annualised return, Sharpe, max drawdown, turnover and trades, against buy-and-hold over the same windows; optional hit-rate-fitted weights, costs and shorting. Signals at a bar use only earlier bars; trades fill at the next bar's open. Sends progress notifications when the request carries a progress token.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = BacktestSignalsArgs;
    type Output = BacktestSignalsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        backtest_signals(&ctx, args).await
    }
}
