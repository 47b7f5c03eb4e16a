//! The agents available to a request: the [`AgentRegistry`], the built-in
//! one, and a [`Panel`] of selected agents prepared over one market. Sits
//! above both the agent traits and the concrete agents.

use std::fmt;
use std::sync::OnceLock;

use crate::agent::{Agent, AgentOutcome, Evaluator};
use crate::agents;
use crate::error::SignalError;
use crate::market::Market;

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
