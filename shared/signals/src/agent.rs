//! What an agent is and what it says: the [`Agent`] and [`Evaluator`]
//! traits, the outcome types, and the abstentions every agent shares. This
//! module knows no concrete agent and no registry; both build on it.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::SignalError;
use crate::market::Market;

/// What a signal tells a trader to do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Buy,
    Sell,
    Hold,
}

impl Action {
    /// +1 for BUY, -1 for SELL, 0 for HOLD.
    pub fn direction(self) -> f64 {
        match self {
            Self::Buy => 1.0,
            Self::Sell => -1.0,
            Self::Hold => 0.0,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
            Self::Hold => "HOLD",
        })
    }
}

/// One agent's opinion at one bar.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgentSignal {
    pub agent: &'static str,
    pub action: Action,
    /// In [0, 1].
    pub confidence: f64,
    /// Plain-language reasons, each with the numbers behind it.
    pub reasons: Vec<String>,
    /// The numbers the agent read, by name (finite values only).
    pub metrics: BTreeMap<String, f64>,
}

impl AgentSignal {
    /// A signal whose confidence is clamped into [0, 1] (NaN becomes 0), so
    /// no agent can break the consensus arithmetic.
    pub fn new(agent: &'static str, action: Action, confidence: f64) -> Self {
        Self {
            agent,
            action,
            confidence: unit(confidence),
            reasons: Vec::new(),
            metrics: BTreeMap::new(),
        }
    }

    pub fn reason(mut self, text: impl Into<String>) -> Self {
        self.reasons.push(text.into());
        self
    }

    /// Records a metric; non-finite values are dropped because JSON has no
    /// spelling for them.
    pub fn metric(mut self, name: &str, value: f64) -> Self {
        if value.is_finite() {
            self.metrics.insert(name.to_string(), value);
        }
        self
    }
}

/// An agent that has no opinion at this bar, and why.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Abstention {
    pub agent: &'static str,
    pub reason: String,
}

/// What one agent said at one bar: a signal or an abstention.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AgentOutcome {
    Signal(AgentSignal),
    Abstained(Abstention),
}

impl AgentOutcome {
    pub fn abstain(agent: &'static str, reason: impl Into<String>) -> Self {
        Self::Abstained(Abstention {
            agent,
            reason: reason.into(),
        })
    }

    pub fn agent(&self) -> &'static str {
        match self {
            Self::Signal(s) => s.agent,
            Self::Abstained(a) => a.agent,
        }
    }

    pub fn signal(&self) -> Option<&AgentSignal> {
        match self {
            Self::Signal(s) => Some(s),
            Self::Abstained(_) => None,
        }
    }
}

impl From<AgentSignal> for AgentOutcome {
    fn from(s: AgentSignal) -> Self {
        Self::Signal(s)
    }
}

/// A source of signals. Adding one (e.g. candlestick or chart patterns) means
/// implementing this trait and listing the agent in
/// `AgentRegistry::standard`; consensus, backtests and the tool layer pick
/// it up by name without further changes.
pub trait Agent: Send + Sync {
    /// Stable, lower-case, unique name; the tool layer accepts it in `agents`.
    fn name(&self) -> &'static str;

    /// One sentence for listings.
    fn description(&self) -> &'static str;

    /// Does the whole-series work once (indicator series, resampling), so
    /// that [`Evaluator::evaluate`] is a cheap read at any bar.
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError>;
}

/// A prepared agent.
pub trait Evaluator {
    /// The outcome at bar `t`. Must depend on bars `..=t` only: the
    /// backtest calls it for every bar and would otherwise trade on the future.
    /// `t` beyond the last bar yields an abstention, never a panic.
    fn evaluate(&self, t: usize) -> AgentOutcome;
}

/// Clamps into [0, 1]; NaN becomes 0.
pub(crate) fn unit(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

/// The abstention for a bar inside an indicator's warm-up.
pub(crate) fn warming_up(agent: &'static str, what: &str, needed: usize, t: usize) -> AgentOutcome {
    AgentOutcome::abstain(
        agent,
        format!(
            "not enough history: {what} needs at least {needed} bars, {} available at this bar",
            t.saturating_add(1)
        ),
    )
}

/// The abstention for a bar index past the last bar.
pub(crate) fn out_of_range(agent: &'static str, t: usize, len: usize) -> AgentOutcome {
    AgentOutcome::abstain(
        agent,
        format!("bar index {t} is past the last bar (history has {len} bars)"),
    )
}
