//! Typed pricing errors: each says which input or bound was wrong.

/// Why a price, Greek or implied volatility cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    /// An input outside its domain (negative strike, NaN, zero time...).
    #[error("{0}")]
    Invalid(String),
    /// A price outside the no-arbitrage bounds, naming the bound.
    #[error("{0}")]
    Arbitrage(String),
    /// A solver that did not converge.
    #[error("{0}")]
    NoConvergence(String),
}
