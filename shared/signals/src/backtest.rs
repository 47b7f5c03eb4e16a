//! Walk-forward backtest of the signals.
//!
//! Conventions (also returned in every report):
//! - The signal at bar `t` reads bars `..=t` and is executed at the open of
//!   bar `t + 1`. So in bar `j` the old position earns the overnight gap
//!   `open[j] / close[j-1]` and the new one the session `close[j] / open[j]`.
//! - BUY means long 1, SELL means flat (short 1 with `allow_short`), HOLD
//!   keeps the previous position.
//! - Each test window starts flat and is marked to market at its last close
//!   (no exit cost). A change of position costs `cost_bps` per unit of
//!   position traded (flat to long 1 unit, long to short 2).
//! - Hit rate: a BUY (SELL) at bar `t` is a hit when `close[t + horizon]` is
//!   above (below) `close[t]`; only calls whose outcome lies inside the window.
//! - Buy-and-hold buys the open of a test window's first bar and holds to its
//!   last close, without costs.
//! - Annualisation uses bars per year observed in the data (so a 252-day
//!   equity year and a 365-day crypto year both come out right), or the
//!   timeframe's nominal count when the history spans less than four weeks.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use gs_domain::{Bar, Timeframe};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent::{Action, AgentOutcome};
use crate::consensus::{
    HitStats, Method, decide, hit_stats, resolve_weights, weights_from_hit_rates,
};
use crate::error::SignalError;
use crate::market::Market;
use crate::registry::{AgentRegistry, Panel, standard_registry};

/// What to backtest and how; every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BacktestRequest {
    /// Agents to run, by name; all when absent.
    pub agents: Option<Vec<String>>,
    /// Trade the weighted-vote consensus (true) or the most confident agent (false).
    pub use_consensus: bool,
    /// Fixed per-agent weights (>= 0, default 1); not with `hit_rate_weighting`.
    pub weights: Option<BTreeMap<String, f64>>,
    /// Fit each split's weights from the agents' hit rates in its training
    /// window: weight = max(0, hit_rate - 0.5) x 2.
    pub hit_rate_weighting: bool,
    /// Number of consecutive out-of-sample test windows (1 to 50).
    pub n_splits: usize,
    /// Rolling training window length in bars; when absent the training
    /// window expands from the first bar and the first one is
    /// bars / (n_splits + 1) long.
    pub train_bars: Option<usize>,
    /// Bars ahead over which a call is judged for the hit rate (>= 1).
    pub horizon: usize,
    /// SELL goes short instead of flat.
    pub allow_short: bool,
    /// Cost per unit of position traded, in basis points (>= 0).
    pub cost_bps: f64,
    /// Override the bars-per-year used for annualising.
    pub periods_per_year: Option<f64>,
    /// Return the traded signal of every test bar.
    pub include_signals: bool,
}

impl Default for BacktestRequest {
    fn default() -> Self {
        Self {
            agents: None,
            use_consensus: true,
            weights: None,
            hit_rate_weighting: false,
            n_splits: 5,
            train_bars: None,
            horizon: 1,
            allow_short: false,
            cost_bps: 0.0,
            periods_per_year: None,
            include_signals: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Window {
    pub start_index: usize,
    /// Exclusive.
    pub end_index: usize,
    #[schemars(with = "String")]
    pub start_time: DateTime<Utc>,
    /// Time of the window's last bar.
    #[schemars(with = "String")]
    pub end_time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Performance {
    pub bars: usize,
    /// Compounded return over the bars, e.g. 0.12 for +12%.
    pub total_return: f64,
    /// Compounded return scaled to a year; absent when the window is too
    /// short for that to be a finite number (minutes annualised as days).
    pub annualised_return: Option<f64>,
    /// Annualised volatility of per-bar returns (sample standard deviation).
    pub annualised_volatility: Option<f64>,
    /// Mean / standard deviation of per-bar returns x sqrt(bars per year),
    /// risk-free rate 0; absent when returns do not vary.
    pub sharpe: Option<f64>,
    /// Largest fall from a running peak of the equity curve, e.g. 0.25 for -25%.
    pub max_drawdown: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TradingStats {
    /// Position changes.
    pub trades: usize,
    /// Sum of |position change| (flat to long = 1, long to short = 2).
    pub turnover: f64,
    /// Fraction of bars with a position.
    pub exposure: f64,
    /// BUY/SELL calls whose outcome is known, and how many were right.
    pub calls: usize,
    pub hits: usize,
    pub hit_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SignalPoint {
    #[schemars(with = "String")]
    pub time: DateTime<Utc>,
    pub action: Action,
    pub confidence: f64,
    /// Position held from the next bar's open.
    pub position: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SplitReport {
    pub index: usize,
    pub train: Window,
    pub test: Window,
    pub weights: BTreeMap<String, f64>,
    /// Hit-rate weighting found no agent better than a coin and used equal weights.
    pub weights_fell_back_to_equal: bool,
    /// Each agent's hit statistics in the training window (hit-rate weighting only).
    pub training_hit_rates: BTreeMap<String, HitStats>,
    pub strategy: Performance,
    pub trading: TradingStats,
    pub buy_and_hold: Performance,
    /// Signals at bars start_index - 1 .. end_index - 1 (each traded at the
    /// next open), when requested.
    pub signals: Option<Vec<SignalPoint>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BacktestReport {
    #[schemars(with = "String")]
    pub timeframe: Timeframe,
    pub bars: usize,
    pub method: Method,
    pub agents: Vec<String>,
    pub periods_per_year: f64,
    /// How `periods_per_year` was chosen.
    pub periods_per_year_basis: String,
    pub splits: Vec<SplitReport>,
    /// All test windows chained.
    pub overall: Performance,
    pub overall_trading: TradingStats,
    pub buy_and_hold: Performance,
    /// Each agent's own out-of-sample hit statistics over the test windows.
    pub agent_hit_rates: BTreeMap<String, HitStats>,
    pub conventions: Vec<String>,
}

const CONVENTIONS: [&str; 6] = [
    "signal at bar t uses bars up to t and is executed at the open of bar t+1",
    "BUY = long 1; SELL = flat (short 1 if allow_short); HOLD keeps the position",
    "each test window starts flat and is marked to market at its last close; costs are cost_bps per unit of position traded",
    "hit: BUY (SELL) at t with close[t+horizon] above (below) close[t], outcomes inside the window only",
    "buy-and-hold buys the first test bar's open and holds to the last close, no costs",
    "returns are annualised with periods_per_year; Sharpe uses per-bar returns, risk-free 0",
];

/// Walk-forward backtest with the built-in agents. `progress(done, total)`
/// is called as the work advances (bars evaluated, then splits), ending with
/// `done == total`.
pub fn backtest(
    bars: &[Bar],
    timeframe: Timeframe,
    request: &BacktestRequest,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BacktestReport, SignalError> {
    backtest_with(standard_registry(), bars, timeframe, request, progress)
}

/// [`backtest`] with any set of agents.
pub fn backtest_with(
    registry: &AgentRegistry,
    bars: &[Bar],
    timeframe: Timeframe,
    request: &BacktestRequest,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BacktestReport, SignalError> {
    validate(request)?;
    let market = Market::new(bars, timeframe)?;
    let n = market.len();
    let agents = registry.select(request.agents.as_deref())?;
    let names: Vec<&'static str> = agents.iter().map(|a| a.name()).collect();
    let fixed = resolve_weights(&names, &registry.names(), request.weights.as_ref())?;
    let plan = splits(n, request)?;
    let (ppy, basis) = periods_per_year(bars, timeframe, request.periods_per_year);
    let method = match (request.use_consensus, request.hit_rate_weighting) {
        (false, _) => Method::SingleAgent,
        (true, true) => Method::HitRateWeighted,
        (true, false) => Method::WeightedVote,
    };

    // Evaluate every needed bar once; splits then only read rows.
    let panel = Panel::prepare(&agents, &market)?;
    let first = plan
        .iter()
        .map(|(train, test)| {
            if request.hit_rate_weighting {
                train.start
            } else {
                test.start.saturating_sub(1)
            }
        })
        .min()
        .unwrap_or(0);
    let last = n.saturating_sub(1); // the last bar's signal would trade after the data ends
    let evaluated = last.saturating_sub(first);
    let total = evaluated.saturating_add(plan.len());
    let step = (evaluated / 50).max(1);
    let mut rows: Vec<Vec<AgentOutcome>> = vec![Vec::new(); n];
    for (t, row) in rows.iter_mut().enumerate().take(last).skip(first) {
        *row = panel.evaluate(t);
        let done = t.saturating_add(1).saturating_sub(first);
        if done.checked_rem(step) == Some(0) {
            progress(done, total);
        }
    }

    let close = market.close();
    let mut split_reports = Vec::with_capacity(plan.len());
    let mut all_strategy = Vec::new();
    let mut all_passive = Vec::new();
    let mut overall_trading = TradingStats::empty();
    let mut exposed_bars = 0usize;
    let mut agent_hits = vec![HitStats::default(); names.len()];
    for (index, (train, test)) in plan.iter().enumerate() {
        let (weights, fell_back, training) = if request.hit_rate_weighting {
            let stats = hit_stats(
                &rows,
                names.len(),
                close,
                train.clone(),
                request.horizon,
                test.start,
            );
            let (w, fb) = weights_from_hit_rates(&stats);
            (w, fb, named(&names, stats))
        } else {
            (fixed.clone(), false, BTreeMap::new())
        };
        let run = simulate(&market, &rows, test.clone(), &weights, method, request);
        for (acc, s) in agent_hits.iter_mut().zip(hit_stats(
            &rows,
            names.len(),
            close,
            test.start.saturating_sub(1)..test.end.saturating_sub(1),
            request.horizon,
            test.end,
        )) {
            acc.calls = acc.calls.saturating_add(s.calls);
            acc.hits = acc.hits.saturating_add(s.hits);
            acc.hit_rate = (acc.calls > 0).then(|| acc.hits as f64 / acc.calls as f64);
        }
        overall_trading.add(&run.trading);
        exposed_bars = exposed_bars.saturating_add(run.exposed);
        all_strategy.extend_from_slice(&run.strategy_returns);
        all_passive.extend_from_slice(&run.passive_returns);
        split_reports.push(SplitReport {
            index,
            train: window(bars, train.clone()),
            test: window(bars, test.clone()),
            weights: named(&names, weights),
            weights_fell_back_to_equal: fell_back,
            training_hit_rates: training,
            strategy: performance(&run.strategy_returns, ppy),
            trading: run.trading,
            buy_and_hold: performance(&run.passive_returns, ppy),
            signals: request.include_signals.then_some(run.signals),
        });
        progress(evaluated.saturating_add(index).saturating_add(1), total);
    }
    overall_trading.exposure = exposed_bars as f64 / all_strategy.len().max(1) as f64;
    Ok(BacktestReport {
        timeframe,
        bars: n,
        method,
        agents: names.iter().map(|s| s.to_string()).collect(),
        periods_per_year: ppy,
        periods_per_year_basis: basis,
        splits: split_reports,
        overall: performance(&all_strategy, ppy),
        overall_trading,
        buy_and_hold: performance(&all_passive, ppy),
        agent_hit_rates: named(&names, agent_hits),
        conventions: CONVENTIONS.iter().map(|s| s.to_string()).collect(),
    })
}

fn validate(r: &BacktestRequest) -> Result<(), SignalError> {
    let bad = |m: &str| Err(SignalError::InvalidRequest(m.to_string()));
    if !(1..=50).contains(&r.n_splits) {
        return bad("n_splits must be between 1 and 50");
    }
    if r.horizon == 0 {
        return bad("horizon must be at least 1 bar");
    }
    if !r.cost_bps.is_finite() || r.cost_bps < 0.0 {
        return bad("cost_bps must be a finite number >= 0");
    }
    if r.periods_per_year
        .is_some_and(|p| !p.is_finite() || p <= 0.0)
    {
        return bad("periods_per_year must be a positive number");
    }
    if r.hit_rate_weighting && r.weights.is_some() {
        return bad("give either fixed `weights` or `hit_rate_weighting`, not both");
    }
    if r.hit_rate_weighting && !r.use_consensus {
        return bad("hit_rate_weighting weights the consensus vote; set use_consensus to true");
    }
    if r.train_bars == Some(0) {
        return bad("train_bars must be at least 1 (or omitted for an expanding window)");
    }
    Ok(())
}

type Range = std::ops::Range<usize>;

/// (training, test) index ranges: test windows are consecutive, disjoint and
/// cover the bars after the first training window; each training window
/// ends where its test window starts.
fn splits(n: usize, r: &BacktestRequest) -> Result<Vec<(Range, Range)>, SignalError> {
    let k = r.n_splits;
    let initial = r
        .train_bars
        .unwrap_or(n.checked_div(k.saturating_add(1)).unwrap_or(0))
        .max(1);
    let test_len = n.saturating_sub(initial);
    if test_len < k.saturating_mul(2) {
        return Err(SignalError::NotEnoughBars {
            what: format!(
                "{k} test windows of at least 2 bars after a {initial}-bar training window"
            ),
            needed: initial.saturating_add(k.saturating_mul(2)),
            got: n,
        });
    }
    // validate() keeps k in 1..=50.
    let (base, extra) = (
        test_len.checked_div(k).unwrap_or(0),
        test_len.checked_rem(k).unwrap_or(0),
    );
    let mut out = Vec::with_capacity(k);
    let mut start = initial;
    for i in 0..k {
        let end = start
            .saturating_add(base)
            .saturating_add(usize::from(i < extra));
        let train_start = r.train_bars.map_or(0, |m| start.saturating_sub(m));
        out.push((train_start..start, start..end));
        start = end;
    }
    Ok(out)
}

struct Run {
    strategy_returns: Vec<f64>,
    passive_returns: Vec<f64>,
    trading: TradingStats,
    signals: Vec<SignalPoint>,
    exposed: usize,
}

fn simulate(
    market: &Market<'_>,
    rows: &[Vec<AgentOutcome>],
    test: Range,
    weights: &[f64],
    method: Method,
    r: &BacktestRequest,
) -> Run {
    let (open, close, bars) = (market.open(), market.close(), market.bars());
    let cost = r.cost_bps / 10_000.0;
    let mut run = Run {
        strategy_returns: Vec::with_capacity(test.len()),
        passive_returns: Vec::with_capacity(test.len()),
        trading: TradingStats::empty(),
        signals: Vec::new(),
        exposed: 0,
    };
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b - 1.0 } else { 0.0 };
    let mut held = 0.0;
    let mut exposed = 0usize;
    for j in test.clone() {
        // splits() keeps every test window inside 1..n, so all of these exist.
        let (Some(t), Some(&open_j), Some(&close_j)) =
            (j.checked_sub(1), open.get(j), close.get(j))
        else {
            break;
        };
        let (Some(row), Some(bar), Some(&close_t)) = (rows.get(t), bars.get(t), close.get(t))
        else {
            break;
        };
        let (action, confidence, _) = decide(row, weights, method);
        let target = match action {
            Action::Buy => 1.0,
            Action::Sell if r.allow_short => -1.0,
            Action::Sell => 0.0,
            Action::Hold => held,
        };
        if r.include_signals {
            run.signals.push(SignalPoint {
                time: bar.time(),
                action,
                confidence,
                position: target,
            });
        }
        let gap = if j == test.start {
            0.0
        } else {
            ratio(open_j, close_t)
        };
        let session = ratio(close_j, open_j);
        let traded: f64 = (target - held).abs();
        if traded > 0.0 {
            run.trading.trades = run.trading.trades.saturating_add(1);
            run.trading.turnover += traded;
        }
        let growth = (1.0 + held * gap) * (1.0 - cost * traded) * (1.0 + target * session);
        run.strategy_returns.push(growth - 1.0);
        run.passive_returns.push(if j == test.start {
            session
        } else {
            ratio(close_j, close_t)
        });
        exposed = exposed.saturating_add(usize::from(target != 0.0));
        held = target;
    }
    // The consensus's own calls, judged like the agents' calls.
    let mut hits = HitStats::default();
    for t in test.start.saturating_sub(1)..test.end.saturating_sub(1) {
        let Some(ahead) = t.checked_add(r.horizon).filter(|&a| a < test.end) else {
            continue;
        };
        let (Some(row), Some(&now), Some(&later)) = (rows.get(t), close.get(t), close.get(ahead))
        else {
            continue;
        };
        if now <= 0.0 {
            continue;
        }
        let (action, _, _) = decide(row, weights, method);
        hits.record(action, later / now - 1.0);
    }
    run.trading.calls = hits.calls;
    run.trading.hits = hits.hits;
    run.trading.hit_rate = hits.hit_rate;
    run.trading.exposure = exposed as f64 / test.len().max(1) as f64;
    run.exposed = exposed;
    run
}

impl TradingStats {
    fn empty() -> Self {
        Self {
            trades: 0,
            turnover: 0.0,
            exposure: 0.0,
            calls: 0,
            hits: 0,
            hit_rate: None,
        }
    }

    /// Accumulates a split's counts (exposure is set by the caller).
    fn add(&mut self, other: &TradingStats) {
        self.trades = self.trades.saturating_add(other.trades);
        self.turnover += other.turnover;
        self.calls = self.calls.saturating_add(other.calls);
        self.hits = self.hits.saturating_add(other.hits);
        self.hit_rate = (self.calls > 0).then(|| self.hits as f64 / self.calls as f64);
    }
}

fn named<T>(names: &[&'static str], values: Vec<T>) -> BTreeMap<String, T> {
    names.iter().map(|n| n.to_string()).zip(values).collect()
}

fn window(bars: &[Bar], range: Range) -> Window {
    let last = range.end.saturating_sub(1).max(range.start);
    let time = |i: usize| {
        bars.get(i)
            .or(bars.last())
            .map(Bar::time)
            .unwrap_or_default()
    };
    Window {
        start_index: range.start,
        end_index: range.end,
        start_time: time(range.start),
        end_time: time(last),
    }
}

/// Per-bar returns to performance figures.
pub(crate) fn performance(returns: &[f64], periods_per_year: f64) -> Performance {
    let n = returns.len();
    let mut equity = 1.0_f64;
    let mut peak = 1.0_f64;
    let mut max_drawdown = 0.0_f64;
    for r in returns {
        equity *= 1.0 + r;
        peak = peak.max(equity);
        if peak > 0.0 {
            max_drawdown = max_drawdown.max(1.0 - equity / peak);
        }
    }
    let total_return = equity - 1.0;
    let annualised_return = if n == 0 {
        Some(0.0)
    } else if equity <= 0.0 {
        Some(-1.0)
    } else {
        Some(equity.powf(periods_per_year / n as f64) - 1.0).filter(|r| r.is_finite())
    };
    let (sharpe, annualised_volatility) = if n >= 2 {
        let mean = returns.iter().sum::<f64>() / n as f64;
        let var =
            returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n.saturating_sub(1) as f64;
        let sd = var.sqrt();
        let vol = Some(sd * periods_per_year.sqrt());
        // Identical returns give a standard deviation of rounding noise, and
        // a Sharpe ratio of that would be meaningless.
        if sd > 1e-12 * mean.abs().max(1e-6) && sd > 1e-15 {
            (Some(mean / sd * periods_per_year.sqrt()), vol)
        } else {
            (None, vol)
        }
    } else {
        (None, None)
    };
    Performance {
        bars: n,
        total_return,
        annualised_return,
        annualised_volatility,
        sharpe,
        max_drawdown,
    }
}

/// Bars per year as observed (bars / elapsed years) when the history spans
/// at least four weeks, else the timeframe's nominal count (252 trading days,
/// 52 weeks, 6.5-hour sessions intraday).
pub(crate) fn periods_per_year(
    bars: &[Bar],
    timeframe: Timeframe,
    given: Option<f64>,
) -> (f64, String) {
    if let Some(p) = given {
        return (p, "given in the request".to_string());
    }
    if let (Some(first), Some(last)) = (bars.first(), bars.last()) {
        let days = last
            .time()
            .signed_duration_since(first.time())
            .num_seconds() as f64
            / 86_400.0;
        if days >= 28.0 && bars.len() >= 2 {
            let ppy = bars.len().saturating_sub(1) as f64 / (days / 365.25);
            return (
                ppy,
                format!(
                    "observed: {} bars over {days:.0} days = {ppy:.1} bars per year",
                    bars.len()
                ),
            );
        }
    }
    let nominal = match timeframe {
        Timeframe::W1 => 52.0,
        Timeframe::D1 => 252.0,
        intraday => 252.0 * 23_400.0 / intraday.seconds() as f64,
    };
    (
        nominal,
        format!("nominal for {timeframe} (history shorter than four weeks)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn performance_of_a_known_return_path() {
        // Equity 1.1, 0.55, 0.66, 0.99: the worst fall is 1.1 -> 0.55.
        let p = performance(&[0.1, -0.5, 0.2, 0.5], 4.0);
        assert!((p.total_return - (-0.01)).abs() < 1e-12);
        assert!((p.max_drawdown - 0.5).abs() < 1e-12);
        // Four bars at four a year is one year: annualised equals total.
        assert!((p.annualised_return.unwrap() - p.total_return).abs() < 1e-12);
        let mean = 0.075;
        let sd = ((0.025_f64.powi(2) + 0.575_f64.powi(2) + 0.125_f64.powi(2) + 0.425_f64.powi(2))
            / 3.0)
            .sqrt();
        assert!((p.sharpe.unwrap() - mean / sd * 2.0).abs() < 1e-12);
        assert_eq!(performance(&[], 252.0).total_return, 0.0);
        assert_eq!(performance(&[0.01, 0.01], 252.0).sharpe, None);
        assert_eq!(
            performance(&[-1.0, 0.5], 252.0).annualised_return,
            Some(-1.0)
        );
        // Five one-minute bars annualised as if each were a trading day
        // overflow: the figure is absent rather than infinite.
        assert_eq!(
            performance(&[0.01; 5], 252.0 * 390.0).annualised_return,
            None
        );
    }

    #[test]
    fn splits_cover_the_tail_in_order() {
        let r = BacktestRequest {
            n_splits: 3,
            ..BacktestRequest::default()
        };
        let s = splits(103, &r).unwrap();
        // First training window 103 / 4 = 25 bars; 78 test bars in 26s.
        assert_eq!(s[0], (0..25, 25..51));
        assert_eq!(s[2].1, 77..103);
        let rolling = BacktestRequest {
            train_bars: Some(30),
            ..r
        };
        let s = splits(100, &rolling).unwrap();
        assert_eq!(s[0].0, 0..30);
        assert_eq!(s[1].0, (s[1].1.start - 30)..s[1].1.start);
    }
}
