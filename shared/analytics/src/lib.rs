//! Technical indicators that reproduce TA-Lib bar for bar: the same parameter
//! names and defaults, the same warm-up (lookback) lengths, the same seeding
//! and smoothing quirks, checked against values recorded from TA-Lib itself
//! (`scripts/talib_reference.py`, `tests/talib_parity.rs`). A few common
//! indicators TA-Lib lacks (VWAP, Ichimoku, Keltner, Donchian, SuperTrend)
//! are marked `talib: false`; each states its convention in its description
//! and is checked against an independent implementation in the same script.
//!
//! `compute_series` is the entry point: every output is a `Series`, a plain
//! `f64` column (NaN where TA-Lib gives NaN) with the index of its first
//! value, which becomes `null` only when serialised. `compute` returns the
//! same outputs as `Option<f64>` vectors, for callers that read bar by bar
//! (the signal agents).
//!
//! This crate is pure computation on slices of `f64`. It must never depend on
//! storage, networking, a runtime, MCP, JSON-RPC or AWS, and it never does
//! I/O: callers load bars, this crate turns them into numbers.

mod catalogue;
mod channels;
mod compute;
mod directional;
mod error;
mod hilbert;
mod momentum;
mod moving_average;
mod overlap;
mod rolling;
mod series;
mod statistics;
mod volatility;
mod volume;
mod warmup;

pub use catalogue::{IndicatorSpec, ParamKind, ParamSpec, catalogue, find};
pub use compute::{IndicatorOutput, Ohlcv, compute, compute_series};
pub use error::IndicatorError;
pub use series::{Nullable, Series, SeriesOutput};
