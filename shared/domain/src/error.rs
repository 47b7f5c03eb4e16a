use thiserror::Error;

/// Why a value was refused at the edge. Messages name the bad value and what
/// would have been accepted, so a caller (often a model) can correct itself.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DomainError {
    #[error(
        "invalid symbol {0:?}: use 1-20 characters from A-Z, 0-9 and . - ^ = / _ (e.g. AAPL, BRK.B, BTC-USD)"
    )]
    InvalidSymbol(String),
    #[error("invalid timeframe {0:?}: use one of 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w")]
    InvalidTimeframe(String),
    #[error("invalid bar at {time}: {reason}")]
    InvalidBar { time: String, reason: String },
    #[error(
        "cannot resample {from} bars to {to}: the target must be a coarser multiple of the source"
    )]
    InvalidResample { from: String, to: String },
    #[error("bars must be in strictly increasing time order (problem at {0})")]
    Unordered(String),
}
