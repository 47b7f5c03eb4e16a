use gs_analytics::IndicatorError;
use gs_domain::DomainError;
use thiserror::Error;

/// Why signals, a timeframe analysis or a backtest could not be produced.
/// Messages say what to change, because the caller is often a model that
/// will retry with corrected arguments.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SignalError {
    #[error("unknown agent `{name}`; valid agents are: {valid}")]
    UnknownAgent { name: String, valid: String },

    #[error("agent `{0}` is registered twice; agent names must be unique")]
    DuplicateAgent(&'static str),

    #[error("no agents selected; pass at least one of: {valid} (or omit `agents` to use them all)")]
    NoAgents { valid: String },

    #[error("invalid weight for agent `{agent}`: {reason}")]
    InvalidWeight { agent: String, reason: String },

    #[error("no bars given; load or import bars for the symbol first")]
    NoBars,

    #[error("bars must be in strictly increasing time order (problem at index {index}, {time})")]
    Unordered { index: usize, time: String },

    #[error("not enough bars for {what}: need at least {needed}, got {got}")]
    NotEnoughBars {
        what: String,
        needed: usize,
        got: usize,
    },

    #[error("invalid timeframe list: {0}")]
    InvalidTimeframes(String),

    #[error("invalid backtest request: {0}")]
    InvalidRequest(String),

    #[error("candlestick pattern failed: {0}")]
    Candles(#[from] gs_candles::CandleError),

    #[error("indicator failed: {0}")]
    Indicator(#[from] IndicatorError),

    #[error(transparent)]
    Domain(#[from] DomainError),
}
