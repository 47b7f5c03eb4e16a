//! Trading signals for GoldenSignals: a panel of indicator agents (RSI,
//! MACD, Bollinger, moving-average crossover, momentum, mean reversion,
//! volume, ADX trend strength, multi-timeframe alignment), a documented
//! weighted-vote consensus, a multi-timeframe reading of one instrument, and
//! a walk-forward backtest of the signals with next-bar-open execution.
//! Every agent reads only bars up to the one it speaks for, so the signals a
//! backtest trades on are the ones a live caller would have seen.
//!
//! Adding an agent (the planned `candlestick` and `chart_pattern` ones):
//! implement [`Agent`] (whole-series work in `prepare`, a cheap per-bar
//! [`Evaluator`]) and add it to `agents::builtin()`, the list behind
//! [`AgentRegistry::standard`], and to the expected names in
//! `tests/generate.rs`. Its name then appears in [`agent_names`], is
//! accepted in requests, votes in the consensus, is backtested, and is
//! covered by the look-ahead tests, which run over every standard agent.
//! Callers with their own agents can build a registry and use
//! [`generate_with`] and [`backtest_with`].
//!
//! Module map, each using only those listed before it (checked by
//! `tests/module_graph.rs`): `error`; `series` (reading indicator series);
//! `market` (validated bars in column form); `agent` (the traits, outcome
//! types and shared abstentions); `timeframes` (the multi-timeframe
//! analysis); `agents` (the built-in agents); `registry` (which agents exist,
//! and a panel of them prepared over one market); `consensus`; `generate`;
//! `backtest`.
//!
//! This crate is pure computation on validated bars (gs-domain) and
//! TA-Lib-exact indicators (gs-analytics). It must never depend on storage,
//! networking, a runtime, MCP or AWS, and it never does I/O.

// Bars and arguments arrive from callers: short, flat or huge input must
// give a result or a `SignalError`, never a panic or a wrapped integer.
#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod agent;
pub mod agents;
mod backtest;
mod consensus;
mod error;
mod generate;
mod market;
mod registry;
mod series;
mod timeframes;

pub use agent::{Abstention, Action, Agent, AgentOutcome, AgentSignal, Evaluator};
pub use backtest::{
    BacktestReport, BacktestRequest, Performance, SignalPoint, SplitReport, TradingStats, Window,
    backtest, backtest_with,
};
pub use consensus::{DIRECTION_THRESHOLD, HitStats, MIN_CALLS_FOR_HIT_RATE, Method, VoteSummary};
pub use error::SignalError;
pub use generate::{
    SignalReport, SignalRequest, generate, generate_hit_rate_weighted,
    generate_hit_rate_weighted_with, generate_with,
};
pub use market::Market;
pub use registry::{AgentRegistry, agent_names};
pub use timeframes::{
    KeyLevels, Level, LevelKind, MomentumView, TimeframeAnalysis, TimeframeView, TrendDirection,
    TrendView, VolatilityView, analyze_timeframes, default_timeframes,
};
