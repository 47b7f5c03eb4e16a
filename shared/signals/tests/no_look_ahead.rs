//! Signals at bar t must not change when anything after t changes.

mod common;

use std::collections::BTreeMap;

use chrono::Duration;
use common::*;
use gs_domain::Timeframe;
use gs_signals::{
    Action, AgentRegistry, BacktestRequest, Market, SignalRequest, backtest, generate,
};

#[test]
fn agents_read_nothing_after_t() {
    let registry = AgentRegistry::standard();
    let agents = registry.select(None).unwrap();
    let mut rng = Rng::new(42);
    for (tf, step) in [
        (Timeframe::D1, Duration::days(1)),
        (Timeframe::H1, Duration::hours(1)),
    ] {
        let bars = random_walk(1, 700, step);
        let market = Market::new(&bars, tf).unwrap();
        let full: Vec<_> = agents.iter().map(|a| a.prepare(&market).unwrap()).collect();
        for _ in 0..6 {
            let t = 5 + rng.below(bars.len() - 10);
            // The future replaced by an unrelated walk (same timestamps)...
            let other = splice_future(&bars, &random_walk(99 + t as u64, bars.len(), step), t);
            let spliced = Market::new(&other, tf).unwrap();
            // ...and removed altogether.
            let cut = Market::new(&bars[..=t], tf).unwrap();
            for (agent, whole) in agents.iter().zip(&full) {
                let changed = agent.prepare(&spliced).unwrap();
                let truncated = agent.prepare(&cut).unwrap();
                for s in (t.saturating_sub(3))..=t {
                    assert_eq!(
                        whole.evaluate(s),
                        changed.evaluate(s),
                        "{} at {s} (cut {t}, {tf})",
                        agent.name()
                    );
                    assert_eq!(
                        whole.evaluate(s),
                        truncated.evaluate(s),
                        "{} at {s} (cut {t}, {tf})",
                        agent.name()
                    );
                }
            }
        }
    }
}

/// The consensus a backtest trades at bar `t` comes from one panel evaluated
/// over the whole series, future included; `generate` on `bars[..=t]` never
/// sees that future. The two must agree for every method, or the backtest
/// trades on information a live caller would not have had.
#[test]
fn consensus_at_t_equals_the_report_on_history_up_to_t() {
    let bars = random_walk(3, 400, Duration::days(1));
    let weights: BTreeMap<String, f64> = [("rsi", 2.0), ("macd", 0.5), ("volume", 0.0)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let methods = [
        (true, None),
        (true, Some(weights)),
        (false, None), // the most confident agent
    ];
    let mut rng = Rng::new(5);
    let mut compared = 0;
    let mut directional = 0;
    for _ in 0..6 {
        let t = 60 + rng.below(300);
        // Everything after t replaced by an unrelated walk (same timestamps).
        let future = random_walk(1234 + t as u64, bars.len(), Duration::days(1));
        let whole = splice_future(&bars, &future, t);
        for (use_consensus, weights) in &methods {
            // 8 splits of 400 bars: the first training window is 44 bars, so
            // the backtest trades (and reports) the signal of every bar from 43.
            let run = backtest(
                &whole,
                Timeframe::D1,
                &BacktestRequest {
                    use_consensus: *use_consensus,
                    weights: weights.clone(),
                    n_splits: 8,
                    include_signals: true,
                    ..BacktestRequest::default()
                },
                &mut |_, _| {},
            )
            .unwrap();
            let in_run = run
                .splits
                .iter()
                .flat_map(|s| s.signals.iter().flatten())
                .find(|p| p.time == bars[t].time())
                .unwrap_or_else(|| panic!("the backtest has no signal at bar {t}"));
            let truncated = generate(
                &bars[..=t],
                Timeframe::D1,
                &SignalRequest {
                    use_consensus: *use_consensus,
                    weights: weights.clone(),
                    ..SignalRequest::default()
                },
            )
            .unwrap();
            assert_eq!(truncated.time, bars[t].time());
            assert_eq!(
                (in_run.action, in_run.confidence),
                (truncated.action, truncated.confidence),
                "bar {t}, use_consensus {use_consensus}, weights {weights:?}: the run over \
                 the whole series disagrees with generate on the bars up to {t}"
            );
            compared += 1;
            directional += usize::from(truncated.action != Action::Hold);
        }
    }
    assert_eq!(compared, 18);
    // Not a comparison of empty opinions: some of the bars got BUY or SELL.
    assert!(directional >= 3, "only {directional} directional signals");
}

#[test]
fn backtest_signals_for_past_bars_ignore_the_future() {
    let bars = random_walk(8, 360, Duration::days(1));
    // 360 bars, 4 splits: test windows start at 72, 144, 216 and 288. A cut
    // just before a window start catches training that peeks into the test.
    for cut in [215, 250] {
        let other = splice_future(&bars, &random_walk(77, bars.len(), Duration::days(1)), cut);
        for (hit_rate_weighting, horizon) in [(false, 1), (true, 1), (true, 5)] {
            let request = BacktestRequest {
                include_signals: true,
                hit_rate_weighting,
                horizon,
                n_splits: 4,
                ..BacktestRequest::default()
            };
            let a = backtest(&bars, Timeframe::D1, &request, &mut |_, _| {}).unwrap();
            let b = backtest(&other, Timeframe::D1, &request, &mut |_, _| {}).unwrap();
            assert_eq!(a.splits[2].test.start_index, 216);
            let past = |r: &gs_signals::BacktestReport| {
                r.splits
                    .iter()
                    .flat_map(|s| s.signals.clone().unwrap_or_default())
                    .filter(|p| p.time <= bars[cut].time())
                    .collect::<Vec<_>>()
            };
            let (pa, pb) = (past(&a), past(&b));
            assert!(pa.len() > 100, "only {} past signals compared", pa.len());
            assert_eq!(pa.len(), pb.len());
            if let Some((x, y)) = pa.iter().zip(&pb).find(|(x, y)| x != y) {
                panic!(
                    "cut {cut}, hit_rate_weighting {hit_rate_weighting}, horizon {horizon}: \
                     {x:?} became {y:?} when only bars after the cut changed"
                );
            }
            // The future did matter somewhere, so the comparison is not vacuous.
            assert_ne!(a.overall, b.overall);
        }
    }
}
