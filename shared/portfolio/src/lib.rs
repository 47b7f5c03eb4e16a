//! Portfolio risk and performance analytics, pure computation (no I/O, no
//! MCP, no storage): returns, volatility, Sharpe, Sortino, drawdowns, CAGR
//! and Calmar as quantstats 0.0.86 defines them; historical, parametric
//! (full covariance) and Cornish-Fisher VaR and CVaR; beta and alpha;
//! covariance and correlation; concentration; time- and money-weighted
//! returns. Every definition is written out in `docs/risk-conventions.md`
//! and checked against `tests/data/risk_reference.json` (numpy, scipy and
//! quantstats; `scripts/portfolio_reference.py`) to 1e-10.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod book;
pub mod history;
pub mod paper;
pub mod performance;
pub mod report;
pub mod risk;
pub mod symbols;

pub use risk::RiskError;
pub use rust_decimal::Decimal;

/// A decimal as the nearest f64 (NaN if it has none).
pub fn to_f64(x: Decimal) -> f64 {
    rust_decimal::prelude::ToPrimitive::to_f64(&x).unwrap_or(f64::NAN)
}
