//! `generate`: the signal at the last bar.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use gs_domain::{Bar, Timeframe};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent::{Action, AgentOutcome};
use crate::consensus::{
    HitStats, Method, VoteSummary, decide, hit_stats, resolve_weights, weights_from_hit_rates,
};
use crate::error::SignalError;
use crate::market::Market;
use crate::registry::{AgentRegistry, Panel, standard_registry};

/// Which agents to ask and how to combine them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SignalRequest {
    /// Agents to run, by name (see `agent_names`); all of them when absent.
    #[serde(default)]
    pub agents: Option<Vec<String>>,
    /// Combine the agents into one action by weighted vote (true), or report
    /// each agent and take the top-level action from the most confident one (false).
    #[serde(default = "default_true")]
    pub use_consensus: bool,
    /// Per-agent vote weights (>= 0); agents not named weigh 1.
    #[serde(default)]
    pub weights: Option<BTreeMap<String, f64>>,
}

fn default_true() -> bool {
    true
}

impl Default for SignalRequest {
    fn default() -> Self {
        Self {
            agents: None,
            use_consensus: true,
            weights: None,
        }
    }
}

/// The signal at one bar: the action, how it was reached, and every agent's say.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SignalReport {
    pub action: Action,
    /// In [0, 1]; see `votes` for how it was reached.
    pub confidence: f64,
    pub method: Method,
    /// Time of the bar the signal is for (the last bar).
    #[schemars(with = "String")]
    pub time: DateTime<Utc>,
    #[schemars(with = "String")]
    pub timeframe: Timeframe,
    /// Bars of history the agents could read.
    pub bars: usize,
    /// The weight each selected agent voted with.
    pub weights: BTreeMap<String, f64>,
    /// Hit statistics behind `hit_rate_weighted` weights (empty otherwise).
    pub hit_rates: BTreeMap<String, HitStats>,
    /// Every selected agent's signal or abstention, in registry order.
    pub agents: Vec<AgentOutcome>,
    pub votes: VoteSummary,
    pub summary: String,
}

/// The signal at the last bar with the built-in agents.
pub fn generate(
    bars: &[Bar],
    timeframe: Timeframe,
    request: &SignalRequest,
) -> Result<SignalReport, SignalError> {
    generate_with(standard_registry(), bars, timeframe, request)
}

/// [`generate`] with any set of agents.
pub fn generate_with(
    registry: &AgentRegistry,
    bars: &[Bar],
    timeframe: Timeframe,
    request: &SignalRequest,
) -> Result<SignalReport, SignalError> {
    let market = Market::new(bars, timeframe)?;
    let agents = registry.select(request.agents.as_deref())?;
    let names: Vec<&'static str> = agents.iter().map(|a| a.name()).collect();
    let weights = resolve_weights(&names, &registry.names(), request.weights.as_ref())?;
    let panel = Panel::prepare(&agents, &market)?;
    let outcomes = panel.evaluate(market.last_index());
    let method = if request.use_consensus {
        Method::WeightedVote
    } else {
        Method::SingleAgent
    };
    Ok(report(
        &market,
        &names,
        outcomes,
        &weights,
        method,
        BTreeMap::new(),
    ))
}

/// [`generate`] with weights fitted from each agent's hit rate over the
/// given history (`horizon`-bar close-to-close direction, bars whose
/// outcome is known only); see `weights_from_hit_rates` in the consensus
/// docs. Fixed `weights` in the request are refused: the two do not mix.
pub fn generate_hit_rate_weighted(
    bars: &[Bar],
    timeframe: Timeframe,
    request: &SignalRequest,
    horizon: usize,
) -> Result<SignalReport, SignalError> {
    generate_hit_rate_weighted_with(standard_registry(), bars, timeframe, request, horizon)
}

/// [`generate_hit_rate_weighted`] with any set of agents.
pub fn generate_hit_rate_weighted_with(
    registry: &AgentRegistry,
    bars: &[Bar],
    timeframe: Timeframe,
    request: &SignalRequest,
    horizon: usize,
) -> Result<SignalReport, SignalError> {
    if request.weights.is_some() {
        return Err(SignalError::InvalidRequest(
            "give either fixed `weights` or hit-rate weighting, not both".to_string(),
        ));
    }
    if horizon == 0 {
        return Err(SignalError::InvalidRequest(
            "horizon must be at least 1 bar".to_string(),
        ));
    }
    let market = Market::new(bars, timeframe)?;
    let agents = registry.select(request.agents.as_deref())?;
    let names: Vec<&'static str> = agents.iter().map(|a| a.name()).collect();
    let panel = Panel::prepare(&agents, &market)?;
    let n = market.len();
    let rows: Vec<Vec<AgentOutcome>> = (0..n).map(|t| panel.evaluate(t)).collect();
    let stats = hit_stats(&rows, names.len(), market.close(), 0..n, horizon, n);
    let (weights, _) = weights_from_hit_rates(&stats);
    let hit_rates = names.iter().map(|n| n.to_string()).zip(stats).collect();
    let outcomes = rows.into_iter().next_back().unwrap_or_default();
    Ok(report(
        &market,
        &names,
        outcomes,
        &weights,
        Method::HitRateWeighted,
        hit_rates,
    ))
}

fn report(
    market: &Market<'_>,
    names: &[&'static str],
    outcomes: Vec<AgentOutcome>,
    weights: &[f64],
    method: Method,
    hit_rates: BTreeMap<String, HitStats>,
) -> SignalReport {
    let (action, confidence, votes) = decide(&outcomes, weights, method);
    let list = |a: Action| {
        outcomes
            .iter()
            .filter_map(AgentOutcome::signal)
            .filter(|s| s.action == a)
            .map(|s| s.agent)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let how = match method {
        Method::SingleAgent => "most confident agent".to_string(),
        _ => format!(
            "direction score {:+.2}, participation {:.2}",
            votes.direction_score, votes.participation
        ),
    };
    let summary = format!(
        "{action} with confidence {confidence:.2} ({how}); BUY: [{}], SELL: [{}], HOLD: [{}], abstained: {}",
        list(Action::Buy),
        list(Action::Sell),
        list(Action::Hold),
        votes.abstained
    );
    SignalReport {
        action,
        confidence,
        method,
        time: market.last().time(),
        timeframe: market.timeframe(),
        bars: market.len(),
        weights: names
            .iter()
            .map(|n| n.to_string())
            .zip(weights.iter().copied())
            .collect(),
        hit_rates,
        agents: outcomes,
        votes,
        summary,
    }
}
