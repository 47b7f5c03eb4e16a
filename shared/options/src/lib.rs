//! Options maths and data for the `options-flow` server. Pure: no I/O, no
//! MCP, no storage.
//!
//! - Pricing to QuantLib 1.44 parity: [`european`] (Black-Scholes-Merton
//!   with a continuous dividend yield, Black-76, Bachelier) with analytic
//!   Greeks up to third order, [`american`] (Barone-Adesi-Whaley,
//!   Bjerksund-Stensland 2002, a Cox-Ross-Rubinstein tree) with Greeks by
//!   stated finite differences, and [`iv`] (Jäckel's "Let's Be Rational" for
//!   Black-type models, a bracketed solver for American prices), behind the
//!   model-agnostic [`model`] entry points.
//! - Data: [`chain`] (contracts, quotes, snapshots, trade prints), [`occ`]
//!   symbols, [`import`] of CSV chains and trade files (all or nothing,
//!   line-numbered errors), [`demo`] chains and prints (synthetic).
//! - Analytics: [`analytics`] (put/call ratios, max pain, gamma exposure
//!   and the gamma flip, expected move, IV rank, term structure, skew) and
//!   [`flow`] (unusual activity: sweeps, blocks, volume against open interest;
//!   the premium split by inferred side).

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod american;
pub mod analytics;
pub mod chain;
pub mod demo;
pub mod error;
pub mod european;
pub mod flow;
pub mod import;
pub mod iv;
pub mod metrics;
pub mod model;
pub mod normal;
pub mod occ;

pub use chain::{
    ChainSnapshot, Contract, DEFAULT_MULTIPLIER, ExerciseStyle, OptionQuote, Right, TradePrint,
};
pub use error::PricingError;
pub use european::{BlackInputs, Greeks};
