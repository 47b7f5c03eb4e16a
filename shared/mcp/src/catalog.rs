//! The tools we publish: which MCP server (scope prefix) each belongs to, its
//! schemas and its behaviour hints. `tools/list` filters this by the caller's
//! permissions; `tools/call` refuses anything the caller could not list.

use std::sync::Arc;

use rmcp::model::{Tool, ToolAnnotations};
use schemars::JsonSchema;

use crate::candlesticks::{DetectCandlesticksArgs, DetectCandlesticksOutput};
use crate::chart_patterns::{AnalyzePatternArgs, AnalyzePatternOutput};
use crate::market_data::{
    GetHistoricalDataArgs, GetQuoteArgs, HistoricalDataOutput, ListSymbolsArgs, ListSymbolsOutput,
    QuoteOutput,
};
use crate::signals::{
    AnalyzeTimeframesArgs, AnalyzeTimeframesOutput, BacktestSignalsArgs, BacktestSignalsOutput,
    GenerateSignalsArgs, GenerateSignalsOutput,
};
use crate::technical::{CalculateIndicatorsArgs, CalculateIndicatorsOutput};

/// A published tool and the server it belongs to.
#[derive(Debug, Clone)]
pub struct ToolEntry {
    pub server: &'static str,
    pub tool: Tool,
}

fn read_only_tool<I: JsonSchema + 'static, O: JsonSchema + 'static>(
    name: &'static str,
    title: &'static str,
    description: &'static str,
) -> Tool {
    Tool::new(name, description, Arc::new(serde_json::Map::new()))
        .with_title(title)
        .with_input_schema::<I>()
        .with_output_schema::<O>()
        .annotate(
            ToolAnnotations::with_title(title)
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        )
}

pub fn tools() -> Vec<ToolEntry> {
    vec![
        ToolEntry {
            server: "market-data",
            tool: read_only_tool::<ListSymbolsArgs, ListSymbolsOutput>(
                "list_symbols",
                "List symbols",
                "List the symbols with stored price history, with each stored series' timeframe, bar count, date range and whether it is synthetic demo data. Call this first to learn what get_quote, get_historical_data and calculate_indicators can be asked about.",
            ),
        },
        ToolEntry {
            server: "market-data",
            tool: read_only_tool::<GetQuoteArgs, QuoteOutput>(
                "get_quote",
                "Get quote",
                "Latest price of a symbol with the session's open, high, low and volume, and the change against the previous session's close. Derived from the finest stored bars.",
            ),
        },
        ToolEntry {
            server: "market-data",
            tool: read_only_tool::<GetHistoricalDataArgs, HistoricalDataOutput>(
                "get_historical_data",
                "Get historical OHLCV bars",
                "OHLCV bars of a symbol for a timeframe (1m to 1w). Give start/end or a relative lookback in days; without either, the latest bars are returned. Coarser timeframes than stored are resampled from finer bars. At most 5000 bars per call: page with next_cursor.",
            ),
        },
        ToolEntry {
            server: "technical-analysis",
            tool: read_only_tool::<CalculateIndicatorsArgs, CalculateIndicatorsOutput>(
                "calculate_indicators",
                "Calculate technical indicators",
                "Compute TA-Lib indicators (names and parameters as in TA-Lib, lower case: sma, ema, rsi, macd, bbands, atr, ...) on stored bars (symbol + timeframe, optional start/end/lookback) or on inline bars. Results are exact to TA-Lib, one value per bar, null during warm-up; outputs use TA-Lib's output names (macd: macd, macdsignal, macdhist; bbands: upperband, middleband, lowerband; single-output functions: real).",
            ),
        },
        ToolEntry {
            server: "technical-analysis",
            tool: read_only_tool::<DetectCandlesticksArgs, DetectCandlesticksOutput>(
                "detect_candlestick_patterns",
                "Detect candlestick patterns",
                "Run TA-Lib's candlestick pattern recognition (all 61 CDL functions by default, or the names given, e.g. cdlengulfing, cdlhammer) on stored bars (symbol + timeframe) or inline bars. Values per bar follow TA-Lib: +100 bullish, -100 bearish, 0 none (±200/±80 for a few). latest_hits lists the patterns in the most recent bars with what they mean.",
            ),
        },
        ToolEntry {
            server: "technical-analysis",
            tool: read_only_tool::<AnalyzePatternArgs, AnalyzePatternOutput>(
                "analyze_pattern",
                "Analyze chart patterns",
                "Find chart patterns (head and shoulders and inverse, double/triple tops and bottoms, ascending/descending/symmetrical triangles, rising/falling wedges, bull/bear flags, pennants, cup and handle, rectangles) from swing pivots, on stored or inline bars. Each pattern has its direction, key points with times and prices, breakout and invalidation levels, measured-move target, confidence in [0,1] and status (forming, confirmed, failed).",
            ),
        },
        ToolEntry {
            server: "technical-analysis",
            tool: read_only_tool::<AnalyzeTimeframesArgs, AnalyzeTimeframesOutput>(
                "analyze_timeframes",
                "Analyze multiple timeframes",
                "Read one symbol on several timeframes at once (the stored or inline bars resampled to coarser ones, default the next two): per timeframe the trend (direction and strength), momentum (RSI, MACD), volatility (ATR %, Bollinger width) and key support/resistance levels, plus an alignment score in [-1, 1] saying whether the timeframes agree.",
            ),
        },
        ToolEntry {
            server: "technical-analysis",
            tool: read_only_tool::<GenerateSignalsArgs, GenerateSignalsOutput>(
                "generate_signals",
                "Generate trading signals",
                "Ask a panel of signal agents (rsi, macd, bollinger, ma_crossover, momentum, mean_reversion, volume, trend_strength, multi_timeframe, candlestick, chart_pattern) about the latest bar and combine them by weighted vote: action BUY/SELL/HOLD with confidence in [0,1]; metadata.agent_breakdown gives every agent's action, confidence, reasons and numbers (or why it abstained). Deterministic for the same bars. Not investment advice.",
            ),
        },
        ToolEntry {
            server: "technical-analysis",
            tool: read_only_tool::<BacktestSignalsArgs, BacktestSignalsOutput>(
                "backtest_signals",
                "Backtest trading signals",
                "Walk-forward backtest of the signal agents and their consensus over stored or inline history (default 2000 bars): per split and overall hit rate, total and annualised return, Sharpe, max drawdown, turnover and trades, against buy-and-hold over the same windows; optional hit-rate-fitted weights, costs and shorting. Signals at a bar use only earlier bars; trades fill at the next bar's open. Sends progress notifications when the request carries a progress token.",
            ),
        },
    ]
}
