use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agents;
use crate::{Market, SignalError};

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
/// [`AgentRegistry::standard`]; consensus, backtests and the tool layer pick
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

/// The agents available to `generate` and `backtest`, in a fixed order (the
/// order of reports and of tie-breaking).
pub struct AgentRegistry {
    agents: Vec<Box<dyn Agent>>,
}

impl fmt::Debug for AgentRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl AgentRegistry {
    pub fn empty() -> Self {
        Self { agents: Vec::new() }
    }

    /// The built-in agents. Future pattern agents (`candlestick`,
    /// `chart_pattern`) belong in this list.
    pub fn standard() -> Self {
        let mut registry = Self::empty();
        for agent in agents::builtin() {
            // Built-in names are distinct by construction (tested).
            let _ = registry.register(agent);
        }
        registry
    }

    /// Adds an agent after the existing ones.
    pub fn register(&mut self, agent: Box<dyn Agent>) -> Result<(), SignalError> {
        if self.agents.iter().any(|a| a.name() == agent.name()) {
            return Err(SignalError::DuplicateAgent(agent.name()));
        }
        self.agents.push(agent);
        Ok(())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.agents.iter().map(|a| a.name()).collect()
    }

    /// (name, description) of every agent, for tool listings.
    pub fn describe(&self) -> Vec<(&'static str, &'static str)> {
        self.agents
            .iter()
            .map(|a| (a.name(), a.description()))
            .collect()
    }

    /// The requested agents in registry order (all when `None`); names are
    /// matched case-insensitively and duplicates collapse.
    pub fn select(&self, requested: Option<&[String]>) -> Result<Vec<&dyn Agent>, SignalError> {
        let Some(requested) = requested else {
            return Ok(self.agents.iter().map(|a| a.as_ref()).collect());
        };
        let valid = || self.names().join(", ");
        for name in requested {
            if !self
                .agents
                .iter()
                .any(|a| a.name().eq_ignore_ascii_case(name.trim()))
            {
                return Err(SignalError::UnknownAgent {
                    name: name.clone(),
                    valid: valid(),
                });
            }
        }
        let chosen: Vec<&dyn Agent> = self
            .agents
            .iter()
            .filter(|a| {
                requested
                    .iter()
                    .any(|n| a.name().eq_ignore_ascii_case(n.trim()))
            })
            .map(|a| a.as_ref())
            .collect();
        if chosen.is_empty() {
            return Err(SignalError::NoAgents { valid: valid() });
        }
        Ok(chosen)
    }
}

pub(crate) fn standard_registry() -> &'static AgentRegistry {
    static REGISTRY: OnceLock<AgentRegistry> = OnceLock::new();
    REGISTRY.get_or_init(AgentRegistry::standard)
}

/// Names of the built-in agents, in report order.
pub fn agent_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| standard_registry().names())
}

/// Clamps into [0, 1]; NaN becomes 0.
pub(crate) fn unit(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

/// The selected agents prepared over one market: one row of outcomes per bar.
pub(crate) struct Panel {
    evaluators: Vec<Box<dyn Evaluator>>,
}

impl Panel {
    pub(crate) fn prepare(agents: &[&dyn Agent], market: &Market<'_>) -> Result<Self, SignalError> {
        let evaluators = agents
            .iter()
            .map(|a| a.prepare(market))
            .collect::<Result<_, _>>()?;
        Ok(Self { evaluators })
    }

    pub(crate) fn evaluate(&self, t: usize) -> Vec<AgentOutcome> {
        self.evaluators.iter().map(|e| e.evaluate(t)).collect()
    }
}
