//! Option contracts, quotes, chain snapshots and trade prints: the data the
//! options-flow server stores and reads.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Call or put.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Right {
    Call,
    Put,
}

impl Right {
    /// +1 for a call, -1 for a put.
    pub fn sign(self) -> f64 {
        match self {
            Right::Call => 1.0,
            Right::Put => -1.0,
        }
    }
    /// `C` or `P`, as in OCC symbols.
    pub fn letter(self) -> char {
        match self {
            Right::Call => 'C',
            Right::Put => 'P',
        }
    }
}

/// When the holder may exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExerciseStyle {
    /// Any day up to expiry (US equity options).
    #[default]
    American,
    /// At expiry only (index options such as SPX).
    European,
}

/// The standard contract size of US equity options.
pub const DEFAULT_MULTIPLIER: u32 = 100;

/// One listed option contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Contract {
    /// Underlying symbol, upper case (the OCC root: at most 6 characters).
    pub underlying: String,
    /// Last trading day.
    pub expiry: NaiveDate,
    /// Strike price in the underlying's currency.
    pub strike: f64,
    pub right: Right,
    /// Shares per contract (100 for US equity options).
    pub multiplier: u32,
    #[serde(default)]
    pub style: ExerciseStyle,
}

/// Quote of one contract in a chain snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OptionQuote {
    pub contract: Contract,
    pub bid: f64,
    pub ask: f64,
    /// Last trade price, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<f64>,
    /// Contracts traded in the session.
    pub volume: u64,
    /// Open interest (contracts) at the start of the session.
    pub open_interest: u64,
}

impl OptionQuote {
    /// Mid of bid and ask (the ask alone when there is no bid).
    pub fn mid(&self) -> f64 {
        if self.bid > 0.0 {
            0.5 * (self.bid + self.ask)
        } else {
            self.ask
        }
    }
}

/// Every quote of one underlying at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChainSnapshot {
    pub underlying: String,
    pub as_of: DateTime<Utc>,
    /// Underlying price at `as_of`.
    pub underlying_price: f64,
    pub quotes: Vec<OptionQuote>,
}

/// One trade print of an option contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TradePrint {
    /// Stable id: the file's trade id, or a hash of the print's fields.
    pub id: String,
    pub contract: Contract,
    pub time: DateTime<Utc>,
    /// Price per share (premium = price x size x multiplier).
    pub price: f64,
    /// Contracts.
    pub size: u32,
    /// Exchange code (CBOE, ISE, PHLX...).
    pub exchange: String,
    /// Sale condition as reported (e.g. `ISOI` intermarket sweep, `SLAN`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// National best bid at the print, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid: Option<f64>,
    /// National best ask at the print, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<f64>,
    /// Underlying price at the print, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub underlying_price: Option<f64>,
}

impl TradePrint {
    /// Premium paid: price x size x multiplier.
    pub fn premium(&self) -> f64 {
        self.price * f64::from(self.size) * f64::from(self.contract.multiplier)
    }
}
