//! Backtest arithmetic on paths whose results can be worked out by hand.

mod common;

use chrono::Duration;
use common::*;
use gs_domain::{Bar, Timeframe};
use gs_signals::{
    Action, Agent, AgentOutcome, AgentRegistry, AgentSignal, BacktestReport, BacktestRequest,
    Evaluator, Market, Method, SignalError, backtest, backtest_with,
};

/// An agent that always says the same thing: the simplest possible strategy,
/// and an example of plugging an agent into the registry.
struct Always(&'static str, Action);

impl Agent for Always {
    fn name(&self) -> &'static str {
        self.0
    }
    fn description(&self) -> &'static str {
        "always the same action"
    }
    fn prepare(&self, _: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        Ok(Box::new(Always(self.0, self.1)))
    }
}

impl Evaluator for Always {
    fn evaluate(&self, _: usize) -> AgentOutcome {
        AgentSignal::new(self.0, self.1, 1.0)
            .reason("always")
            .into()
    }
}

fn registry(agents: &[(&'static str, Action)]) -> AgentRegistry {
    let mut r = AgentRegistry::empty();
    for &(name, action) in agents {
        r.register(Box::new(Always(name, action))).unwrap();
    }
    r
}

/// +1% every bar, no gaps: bar i opens at 100 * 1.01^i and closes at 100 * 1.01^(i+1).
fn growth(n: usize) -> Vec<Bar> {
    (0..n)
        .map(|i| {
            let open = 100.0 * 1.01_f64.powi(i as i32);
            let close = open * 1.01;
            Bar::new(
                start() + Duration::days(i as i64),
                open,
                close,
                open,
                close,
                1_000.0,
            )
            .unwrap()
        })
        .collect()
}

/// Bars with the given (open, close) pairs, one a day.
fn path(oc: &[(f64, f64)]) -> Vec<Bar> {
    oc.iter()
        .enumerate()
        .map(|(i, &(o, c))| {
            Bar::new(
                start() + Duration::days(i as i64),
                o,
                o.max(c),
                o.min(c),
                c,
                1.0,
            )
            .unwrap()
        })
        .collect()
}

fn run(reg: &AgentRegistry, bars: &[Bar], request: &BacktestRequest) -> BacktestReport {
    backtest_with(reg, bars, Timeframe::D1, request, &mut |_, _| {}).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn always_long_is_buy_and_hold_minus_the_entry_cost() {
    let bars = growth(60);
    let request = BacktestRequest {
        n_splits: 3,
        cost_bps: 10.0,
        periods_per_year: Some(252.0),
        ..BacktestRequest::default()
    };
    let r = run(&registry(&[("long", Action::Buy)]), &bars, &request);
    // 60 bars: a 15-bar first training window, then three 15-bar test windows.
    assert_eq!(r.splits.len(), 3);
    for s in &r.splits {
        assert_eq!(s.test.end_index - s.test.start_index, 15);
        let bh = 1.01_f64.powi(15) - 1.0;
        assert!(
            close(s.buy_and_hold.total_return, bh),
            "{}",
            s.buy_and_hold.total_return
        );
        assert!(close(
            s.strategy.total_return,
            0.999 * 1.01_f64.powi(15) - 1.0
        ));
        assert!(close(
            s.buy_and_hold.annualised_return.unwrap(),
            1.01_f64.powi(252) - 1.0
        ));
        assert_eq!(s.buy_and_hold.max_drawdown, 0.0);
        assert_eq!(
            (s.trading.trades, s.trading.turnover, s.trading.exposure),
            (1, 1.0, 1.0)
        );
        assert_eq!((s.trading.calls, s.trading.hit_rate), (15, Some(1.0)));
    }
    assert!(close(r.buy_and_hold.total_return, 1.01_f64.powi(45) - 1.0));
    assert!(close(
        r.overall.total_return,
        0.999_f64.powi(3) * 1.01_f64.powi(45) - 1.0
    ));
    assert_eq!(r.overall_trading.trades, 3);
    // The entry cost is the only drawdown: one bar of -0.1% then growth.
    assert!(r.overall.max_drawdown < 0.001);
}

#[test]
fn short_selling_loses_the_growth_and_flat_earns_nothing() {
    let bars = growth(40);
    let base = BacktestRequest {
        n_splits: 1,
        train_bars: Some(10),
        cost_bps: 5.0,
        ..BacktestRequest::default()
    };
    let short = run(
        &registry(&[("short", Action::Sell)]),
        &bars,
        &BacktestRequest {
            allow_short: true,
            ..base.clone()
        },
    );
    // 30 test bars, each -1% on a unit short, plus one 5 bp entry.
    assert!(close(
        short.overall.total_return,
        0.9995 * 0.99_f64.powi(30) - 1.0
    ));
    assert_eq!(short.overall_trading.hit_rate, Some(0.0));
    let flat = run(&registry(&[("short", Action::Sell)]), &bars, &base);
    assert_eq!(flat.overall.total_return, 0.0);
    assert_eq!(
        (flat.overall_trading.trades, flat.overall_trading.exposure),
        (0, 0.0)
    );
    assert_eq!(flat.overall.sharpe, None);
    let hold = run(&registry(&[("wait", Action::Hold)]), &bars, &base);
    assert_eq!(
        (hold.overall.total_return, hold.overall_trading.calls),
        (0.0, 0)
    );
}

#[test]
fn max_drawdown_on_a_known_path() {
    // Closes 100 -> 120 -> 60 -> 90 -> 130: the worst fall is 120 -> 60, 50%.
    let bars = path(&[
        (100.0, 100.0),
        (100.0, 120.0),
        (120.0, 60.0),
        (60.0, 90.0),
        (90.0, 130.0),
    ]);
    let request = BacktestRequest {
        n_splits: 1,
        train_bars: Some(1),
        ..BacktestRequest::default()
    };
    let r = run(&registry(&[("long", Action::Buy)]), &bars, &request);
    assert!(close(r.buy_and_hold.max_drawdown, 0.5));
    assert!(close(r.buy_and_hold.total_return, 0.3));
    assert!(close(r.overall.max_drawdown, 0.5));
    assert!(close(r.overall.total_return, 0.3));
}

#[test]
fn next_bar_open_execution_keeps_the_gap_with_the_old_position() {
    // Day 1 closes at 100; day 2 gaps to 110 at the open and closes at 121.
    // A BUY on day 1 is filled at 110, so it earns 10%, not 21%.
    let bars = path(&[(100.0, 100.0), (100.0, 100.0), (110.0, 121.0)]);
    let request = BacktestRequest {
        n_splits: 1,
        train_bars: Some(1),
        ..BacktestRequest::default()
    };
    let r = run(&registry(&[("long", Action::Buy)]), &bars, &request);
    // Test bars 1 and 2: bar 1 earns 0 (100 -> 100), bar 2 keeps the gap
    // (held since bar 1's open) and the session: 121 / 100.
    assert!(close(r.overall.total_return, 0.21));
    let bars = path(&[
        (100.0, 100.0),
        (100.0, 100.0),
        (100.0, 100.0),
        (110.0, 121.0),
    ]);
    let request = BacktestRequest {
        n_splits: 1,
        train_bars: Some(2),
        ..BacktestRequest::default()
    };
    // An agent that buys only at bar 2 (from the third bar on): filled at bar 3's open.
    struct Late;
    impl Agent for Late {
        fn name(&self) -> &'static str {
            "late"
        }
        fn description(&self) -> &'static str {
            "buys from bar 2"
        }
        fn prepare(&self, _: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
            Ok(Box::new(Late))
        }
    }
    impl Evaluator for Late {
        fn evaluate(&self, t: usize) -> AgentOutcome {
            let action = if t >= 2 { Action::Buy } else { Action::Hold };
            AgentSignal::new("late", action, 1.0).into()
        }
    }
    let mut reg = AgentRegistry::empty();
    reg.register(Box::new(Late)).unwrap();
    let r = run(&reg, &bars, &request);
    assert!(
        close(r.overall.total_return, 0.1),
        "{}",
        r.overall.total_return
    );
}

#[test]
fn always_long_matches_buy_and_hold_on_a_random_walk() {
    let bars = random_walk(9, 300, Duration::days(1));
    let r = run(
        &registry(&[("long", Action::Buy)]),
        &bars,
        &BacktestRequest::default(),
    );
    assert!(close(r.overall.total_return, r.buy_and_hold.total_return));
    assert!(close(r.overall.max_drawdown, r.buy_and_hold.max_drawdown));
    let (a, b) = (r.overall.sharpe.unwrap(), r.buy_and_hold.sharpe.unwrap());
    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    // 300 calendar days of daily bars: 365 a year.
    assert!((r.periods_per_year - 299.0 / (299.0 / 365.25)).abs() < 1e-9);
}

#[test]
fn walk_forward_windows_do_not_overlap_and_training_comes_first() {
    let bars = random_walk(2, 300, Duration::days(1));
    for train_bars in [None, Some(50)] {
        let request = BacktestRequest {
            n_splits: 4,
            train_bars,
            ..BacktestRequest::default()
        };
        let r = backtest(&bars, Timeframe::D1, &request, &mut |_, _| {}).unwrap();
        assert_eq!(r.splits.len(), 4);
        let mut expected_start = r.splits[0].test.start_index;
        for s in &r.splits {
            assert_eq!(
                s.test.start_index, expected_start,
                "test windows are contiguous"
            );
            assert!(s.test.end_index > s.test.start_index);
            assert_eq!(
                s.train.end_index, s.test.start_index,
                "training ends where testing starts"
            );
            assert!(s.train.start_time < s.test.start_time);
            match train_bars {
                Some(m) => assert_eq!(s.train.end_index - s.train.start_index, m),
                None => assert_eq!(s.train.start_index, 0),
            }
            expected_start = s.test.end_index;
        }
        assert_eq!(expected_start, bars.len());
        let bars_tested: usize = r.splits.iter().map(|s| s.strategy.bars).sum();
        assert_eq!(bars_tested, r.overall.bars);
    }
}

#[test]
fn hit_rate_weighting_silences_the_agent_that_is_always_wrong() {
    let bars = growth(60);
    let reg = registry(&[("bull", Action::Buy), ("bear", Action::Sell)]);
    let equal = run(
        &reg,
        &bars,
        &BacktestRequest {
            n_splits: 3,
            ..BacktestRequest::default()
        },
    );
    // Equal weights: a dead heat, HOLD, never in the market.
    assert_eq!(equal.method, Method::WeightedVote);
    assert_eq!(equal.overall_trading.trades, 0);
    let fitted = run(
        &reg,
        &bars,
        &BacktestRequest {
            n_splits: 3,
            hit_rate_weighting: true,
            ..BacktestRequest::default()
        },
    );
    assert_eq!(fitted.method, Method::HitRateWeighted);
    for s in &fitted.splits {
        assert_eq!(s.weights["bull"], 1.0);
        assert_eq!(s.weights["bear"], 0.0);
        assert_eq!(s.training_hit_rates["bull"].hit_rate, Some(1.0));
    }
    assert!(close(
        fitted.overall.total_return,
        fitted.buy_and_hold.total_return
    ));
    assert_eq!(fitted.agent_hit_rates["bear"].hit_rate, Some(0.0));
}

#[test]
fn progress_counts_up_to_the_total() {
    let bars = random_walk(6, 250, Duration::days(1));
    let mut calls = Vec::new();
    backtest(
        &bars,
        Timeframe::D1,
        &BacktestRequest::default(),
        &mut |d, t| calls.push((d, t)),
    )
    .unwrap();
    assert!(calls.len() > 5);
    assert!(
        calls
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 == w[1].1)
    );
    let (done, total) = *calls.last().unwrap();
    assert_eq!(done, total);
}

#[test]
fn bad_requests_say_what_to_change() {
    let bars = random_walk(6, 250, Duration::days(1));
    let req = |f: fn(&mut BacktestRequest)| {
        let mut r = BacktestRequest::default();
        f(&mut r);
        backtest(&bars, Timeframe::D1, &r, &mut |_, _| {})
            .unwrap_err()
            .to_string()
    };
    assert!(req(|r| r.n_splits = 0).contains("n_splits"));
    assert!(req(|r| r.cost_bps = -1.0).contains("cost_bps"));
    assert!(req(|r| r.horizon = 0).contains("horizon"));
    assert!(
        req(|r| {
            r.hit_rate_weighting = true;
            r.weights = Some(Default::default());
        })
        .contains("not both")
    );
    assert!(req(|r| r.agents = Some(vec!["nope".into()])).contains("rsi"));
    let short = random_walk(6, 8, Duration::days(1));
    let err = backtest(
        &short,
        Timeframe::D1,
        &BacktestRequest::default(),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, SignalError::NotEnoughBars { .. }), "{err}");
}

#[test]
fn real_agents_backtest_deterministically() {
    let bars = random_walk(10, 400, Duration::days(1));
    let request = BacktestRequest {
        hit_rate_weighting: true,
        cost_bps: 5.0,
        allow_short: true,
        ..BacktestRequest::default()
    };
    let a = backtest(&bars, Timeframe::D1, &request, &mut |_, _| {}).unwrap();
    let b = backtest(&bars, Timeframe::D1, &request, &mut |_, _| {}).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(a.agent_hit_rates.len(), gs_signals::agent_names().len());
    assert!(a.overall.max_drawdown >= 0.0 && a.overall.max_drawdown <= 1.0);
}
