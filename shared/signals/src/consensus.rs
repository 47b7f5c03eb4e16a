//! Turning agent outcomes into one action.
//!
//! Weighted vote. With weight `w_i` and confidence `c_i` for each agent that
//! did not abstain:
//!
//! - `S_a = sum of w_i * c_i` over the agents saying action `a`,
//! - `W_vote` = sum of the weights of the agents that voted, `W_all` the
//!   same including those that abstained,
//! - direction `D = (S_buy - S_sell) / W_vote`, in [-1, 1],
//! - participation `P = W_vote / W_all`, in [0, 1].
//!
//! The action is BUY when `D > 0.15`, SELL when `D < -0.15`, else HOLD (so a
//! tie is always HOLD). Confidence of BUY/SELL is `|D| * P`: opposing votes
//! cancel in `D` and abstentions shrink `P`, so both lower it. Confidence of
//! HOLD is `P * S_hold / W_vote`: a HOLD that agents asked for is confident,
//! a HOLD that comes from a BUY/SELL stand-off is not.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::agent::{Action, AgentOutcome, unit};
use crate::error::SignalError;

/// |D| at or below this is HOLD.
pub const DIRECTION_THRESHOLD: f64 = 0.15;

/// Directional calls an agent needs in the training window before its hit
/// rate is trusted; with fewer it gets weight 0.
pub const MIN_CALLS_FOR_HIT_RATE: usize = 10;

/// How the top-level action was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Weighted vote with equal or caller-given weights.
    WeightedVote,
    /// Weighted vote with weights fitted from each agent's past hit rate.
    HitRateWeighted,
    /// No vote: the most confident agent's signal (ties go to the agent
    /// listed first); HOLD with confidence 0 when every agent abstained.
    SingleAgent,
}

/// The arithmetic behind a consensus, so a reader can check it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VoteSummary {
    pub buy: usize,
    pub sell: usize,
    pub hold: usize,
    pub abstained: usize,
    /// Sum of weight x confidence of the BUY votes.
    pub buy_score: f64,
    pub sell_score: f64,
    pub hold_score: f64,
    /// (buy_score - sell_score) / weight of the voting agents, in [-1, 1].
    pub direction_score: f64,
    /// Weight of the voting agents / weight of all selected agents.
    pub participation: f64,
    /// |direction_score| above this gives BUY or SELL.
    pub threshold: f64,
}

/// Weighted vote over `outcomes`, `weights[i]` belonging to `outcomes[i]`.
pub(crate) fn weighted_vote(
    outcomes: &[AgentOutcome],
    weights: &[f64],
) -> (Action, f64, VoteSummary) {
    let mut v = VoteSummary {
        buy: 0,
        sell: 0,
        hold: 0,
        abstained: 0,
        buy_score: 0.0,
        sell_score: 0.0,
        hold_score: 0.0,
        direction_score: 0.0,
        participation: 0.0,
        threshold: DIRECTION_THRESHOLD,
    };
    let (mut w_all, mut w_vote) = (0.0, 0.0);
    for (outcome, &w) in outcomes.iter().zip(weights) {
        w_all += w;
        let Some(s) = outcome.signal() else {
            v.abstained = v.abstained.saturating_add(1);
            continue;
        };
        w_vote += w;
        let score = w * s.confidence;
        match s.action {
            Action::Buy => (v.buy = v.buy.saturating_add(1), v.buy_score += score),
            Action::Sell => (v.sell = v.sell.saturating_add(1), v.sell_score += score),
            Action::Hold => (v.hold = v.hold.saturating_add(1), v.hold_score += score),
        };
    }
    if w_vote <= 0.0 {
        return (Action::Hold, 0.0, v);
    }
    v.direction_score = (v.buy_score - v.sell_score) / w_vote;
    v.participation = w_vote / w_all;
    let d = v.direction_score;
    let (action, confidence) = if d > DIRECTION_THRESHOLD {
        (Action::Buy, d * v.participation)
    } else if d < -DIRECTION_THRESHOLD {
        (Action::Sell, -d * v.participation)
    } else {
        (Action::Hold, v.participation * v.hold_score / w_vote)
    };
    (action, unit(confidence), v)
}

/// Applies the method to one bar's outcomes.
pub(crate) fn decide(
    outcomes: &[AgentOutcome],
    weights: &[f64],
    method: Method,
) -> (Action, f64, VoteSummary) {
    let (action, confidence, votes) = weighted_vote(outcomes, weights);
    match method {
        Method::SingleAgent => {
            let (a, c) = most_confident(outcomes);
            (a, c, votes)
        }
        Method::WeightedVote | Method::HitRateWeighted => (action, confidence, votes),
    }
}

/// The most confident signal; ties go to the earliest agent.
pub(crate) fn most_confident(outcomes: &[AgentOutcome]) -> (Action, f64) {
    outcomes
        .iter()
        .filter_map(AgentOutcome::signal)
        .fold(None, |best: Option<(Action, f64)>, s| match best {
            Some((_, c)) if c >= s.confidence => best,
            _ => Some((s.action, s.confidence)),
        })
        .unwrap_or((Action::Hold, 0.0))
}

/// One weight per selected agent: 1 unless `given` says otherwise. Names in
/// `given` must be known agents (`valid`); weights of agents that were not
/// selected are ignored.
pub(crate) fn resolve_weights(
    selected: &[&'static str],
    valid: &[&'static str],
    given: Option<&BTreeMap<String, f64>>,
) -> Result<Vec<f64>, SignalError> {
    let Some(given) = given else {
        return Ok(vec![1.0; selected.len()]);
    };
    let mut weights = vec![1.0; selected.len()];
    for (name, &w) in given {
        if !valid.iter().any(|v| v.eq_ignore_ascii_case(name.trim())) {
            return Err(SignalError::UnknownAgent {
                name: name.clone(),
                valid: valid.join(", "),
            });
        }
        if !w.is_finite() || w < 0.0 {
            return Err(SignalError::InvalidWeight {
                agent: name.clone(),
                reason: format!("got {w}; weights must be finite and >= 0"),
            });
        }
        if let Some((slot, _)) = weights
            .iter_mut()
            .zip(selected)
            .find(|(_, s)| s.eq_ignore_ascii_case(name.trim()))
        {
            *slot = w;
        }
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        return Err(SignalError::InvalidWeight {
            agent: selected.join(", "),
            reason: "the weights of the selected agents add up to 0; give at least one a positive weight"
                .to_string(),
        });
    }
    Ok(weights)
}

/// How often an agent's BUY/SELL calls were followed by a move its way.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, JsonSchema)]
pub struct HitStats {
    /// BUY and SELL calls whose outcome is known.
    pub calls: usize,
    pub hits: usize,
    /// hits / calls; absent without calls.
    pub hit_rate: Option<f64>,
}

impl HitStats {
    pub(crate) fn record(&mut self, action: Action, forward_return: f64) {
        let hit = match action {
            Action::Buy => forward_return > 0.0,
            Action::Sell => forward_return < 0.0,
            Action::Hold => return,
        };
        self.calls = self.calls.saturating_add(1);
        self.hits = self.hits.saturating_add(usize::from(hit));
        self.hit_rate = Some(self.hits as f64 / self.calls as f64);
    }
}

/// Weight from a hit rate: `max(0, hit_rate - 0.5) * 2`, so a coin-flipper
/// (or worse) gets 0 and a perfect agent 1; agents with fewer than
/// [`MIN_CALLS_FOR_HIT_RATE`] calls get 0. If that leaves every weight at 0
/// the weights fall back to equal (and the second value says so), because a
/// vote with no voters would always say HOLD.
pub(crate) fn weights_from_hit_rates(stats: &[HitStats]) -> (Vec<f64>, bool) {
    let weights: Vec<f64> = stats
        .iter()
        .map(|s| match s.hit_rate {
            Some(r) if s.calls >= MIN_CALLS_FOR_HIT_RATE => ((r - 0.5) * 2.0).max(0.0),
            _ => 0.0,
        })
        .collect();
    if weights.iter().all(|&w| w <= 0.0) {
        (vec![1.0; stats.len()], true)
    } else {
        (weights, false)
    }
}

/// Hit statistics of every agent over the bars `ts`, judged by the
/// `horizon`-bar close-to-close return; bars whose outcome lies at or beyond
/// `known_until` (exclusive) are skipped so that fitting never reads the future.
pub(crate) fn hit_stats(
    rows: &[Vec<AgentOutcome>],
    agents: usize,
    close: &[f64],
    ts: std::ops::Range<usize>,
    horizon: usize,
    known_until: usize,
) -> Vec<HitStats> {
    let mut stats = vec![HitStats::default(); agents];
    for t in ts {
        let Some(row) = rows.get(t) else { break };
        let Some(ahead) = t.checked_add(horizon).filter(|&a| a < known_until) else {
            continue;
        };
        let (Some(&now), Some(&later)) = (close.get(t), close.get(ahead)) else {
            continue;
        };
        if now <= 0.0 {
            continue;
        }
        let forward = later / now - 1.0;
        for (stat, outcome) in stats.iter_mut().zip(row) {
            if let Some(s) = outcome.signal() {
                stat.record(s.action, forward);
            }
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentSignal;

    fn vote(agent: &'static str, action: Action, confidence: f64) -> AgentOutcome {
        AgentSignal::new(agent, action, confidence).into()
    }

    #[test]
    fn unanimous_vote_keeps_the_confidence() {
        let o = [vote("a", Action::Buy, 0.8), vote("b", Action::Buy, 0.8)];
        let (action, conf, v) = weighted_vote(&o, &[1.0, 1.0]);
        assert_eq!(action, Action::Buy);
        assert!((conf - 0.8).abs() < 1e-12);
        assert_eq!((v.buy, v.sell, v.hold, v.abstained), (2, 0, 0, 0));
    }

    #[test]
    fn disagreement_and_abstention_lower_confidence() {
        let agree = [vote("a", Action::Buy, 0.8), vote("b", Action::Buy, 0.8)];
        let split = [vote("a", Action::Buy, 0.8), vote("b", Action::Sell, 0.4)];
        let absent = [
            vote("a", Action::Buy, 0.8),
            AgentOutcome::abstain("b", "warm-up"),
        ];
        let (_, c_agree, _) = weighted_vote(&agree, &[1.0, 1.0]);
        let (a_split, c_split, _) = weighted_vote(&split, &[1.0, 1.0]);
        let (a_absent, c_absent, v) = weighted_vote(&absent, &[1.0, 1.0]);
        assert_eq!(a_split, Action::Buy);
        assert!(
            (c_split - 0.2).abs() < 1e-12,
            "(0.8 - 0.4) / 2 = 0.2, got {c_split}"
        );
        assert_eq!(a_absent, Action::Buy);
        assert!(
            (c_absent - 0.4).abs() < 1e-12,
            "0.8 x participation 0.5, got {c_absent}"
        );
        assert!((v.participation - 0.5).abs() < 1e-12);
        assert!(c_split < c_agree && c_absent < c_agree);
    }

    #[test]
    fn a_tie_is_hold_with_no_confidence() {
        let o = [vote("a", Action::Buy, 0.7), vote("b", Action::Sell, 0.7)];
        let (action, conf, v) = weighted_vote(&o, &[1.0, 1.0]);
        assert_eq!(action, Action::Hold);
        assert_eq!(conf, 0.0);
        assert_eq!(v.direction_score, 0.0);
    }

    #[test]
    fn weights_decide_between_opposing_agents() {
        let o = [vote("a", Action::Buy, 0.6), vote("b", Action::Sell, 0.6)];
        let (action, conf, _) = weighted_vote(&o, &[3.0, 1.0]);
        assert_eq!(action, Action::Buy);
        assert!((conf - (1.8 - 0.6) / 4.0).abs() < 1e-12);
        let (action, _, _) = weighted_vote(&o, &[1.0, 3.0]);
        assert_eq!(action, Action::Sell);
        // A zero weight removes an agent from the vote entirely.
        let (action, conf, _) = weighted_vote(&o, &[0.0, 1.0]);
        assert_eq!((action, conf), (Action::Sell, 0.6));
    }

    #[test]
    fn weak_lean_is_hold_and_hold_votes_give_hold_confidence() {
        let o = [
            vote("a", Action::Buy, 0.3),
            vote("b", Action::Hold, 0.6),
            vote("c", Action::Hold, 0.6),
        ];
        let (action, conf, v) = weighted_vote(&o, &[1.0; 3]);
        assert!((v.direction_score - 0.1).abs() < 1e-12);
        assert_eq!(action, Action::Hold);
        assert!((conf - 1.2 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn everyone_abstaining_is_hold_zero() {
        let o = [
            AgentOutcome::abstain("a", "x"),
            AgentOutcome::abstain("b", "y"),
        ];
        assert_eq!(weighted_vote(&o, &[1.0, 1.0]).0, Action::Hold);
        assert_eq!(weighted_vote(&o, &[1.0, 1.0]).1, 0.0);
        assert_eq!(most_confident(&o), (Action::Hold, 0.0));
    }

    #[test]
    fn most_confident_breaks_ties_by_order() {
        let o = [
            vote("a", Action::Sell, 0.7),
            vote("b", Action::Buy, 0.9),
            vote("c", Action::Hold, 0.9),
        ];
        assert_eq!(most_confident(&o), (Action::Buy, 0.9));
    }

    #[test]
    fn weights_are_validated() {
        let names = ["rsi", "macd"];
        let mut given = BTreeMap::new();
        given.insert("RSI".to_string(), 2.0);
        assert_eq!(
            resolve_weights(&names, &names, Some(&given)).unwrap(),
            [2.0, 1.0]
        );
        given.insert("nope".to_string(), 1.0);
        let err = resolve_weights(&names, &names, Some(&given)).unwrap_err();
        assert!(err.to_string().contains("rsi, macd"), "{err}");
        let mut bad = BTreeMap::new();
        bad.insert("macd".to_string(), -1.0);
        assert!(resolve_weights(&names, &names, Some(&bad)).is_err());
        let zero: BTreeMap<String, f64> =
            [("rsi".to_string(), 0.0), ("macd".to_string(), 0.0)].into();
        assert!(resolve_weights(&names, &names, Some(&zero)).is_err());
    }

    #[test]
    fn hit_rate_weights_follow_the_documented_formula() {
        let stat = |calls, hits| HitStats {
            calls,
            hits,
            hit_rate: Some(hits as f64 / calls as f64),
        };
        let (w, fallback) = weights_from_hit_rates(&[stat(20, 15), stat(20, 8), stat(5, 5)]);
        assert!(!fallback);
        assert!((w[0] - 0.5).abs() < 1e-12); // (0.75 - 0.5) * 2
        assert_eq!(w[1], 0.0); // worse than a coin
        assert_eq!(w[2], 0.0); // too few calls to judge
        let (w, fallback) = weights_from_hit_rates(&[stat(20, 10), HitStats::default()]);
        assert!(fallback);
        assert_eq!(w, [1.0, 1.0]);
    }

    #[test]
    fn hit_stats_never_read_past_the_cut() {
        let close = [10.0, 11.0, 12.0, 11.0, 10.0];
        let rows: Vec<Vec<AgentOutcome>> =
            (0..5).map(|_| vec![vote("a", Action::Buy, 1.0)]).collect();
        let s = hit_stats(&rows, 1, &close, 0..5, 1, 3);
        // Only t = 0, 1 have their outcome (t + 1) before index 3.
        assert_eq!((s[0].calls, s[0].hits), (2, 2));
        let s = hit_stats(&rows, 1, &close, 0..5, 1, 5);
        assert_eq!((s[0].calls, s[0].hits), (4, 2));
    }
}
