//! Signals at bar t must not change when anything after t changes.

mod common;

use chrono::Duration;
use common::*;
use gs_domain::Timeframe;
use gs_signals::{AgentRegistry, BacktestRequest, Market, SignalRequest, backtest, generate};

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

/// The consensus a walk-forward run over a whole series reports at bar t
/// (agents prepared on every bar, the future included) equals the report of
/// a run on the series truncated at t, even when everything after t is
/// replaced by an unrelated walk.
#[test]
fn consensus_at_t_equals_the_report_on_history_up_to_t() {
    let step = Duration::days(1);
    let bars = random_walk(3, 400, step);
    let request = BacktestRequest {
        include_signals: true,
        n_splits: 4,
        ..BacktestRequest::default()
    };
    let signals = |report: &gs_signals::BacktestReport| -> Vec<gs_signals::SignalPoint> {
        report
            .splits
            .iter()
            .flat_map(|s| s.signals.clone().unwrap_or_default())
            .collect()
    };
    let base = signals(&backtest(&bars, Timeframe::D1, &request, &mut |_, _| {}).unwrap());
    assert!(base.len() > 200, "only {} signals", base.len());
    let mut rng = Rng::new(5);
    let mut actions = std::collections::BTreeSet::new();
    for _ in 0..6 {
        // A bar the walk-forward run reports a signal for, not the last one.
        let point = &base[rng.below(base.len() - 1)];
        let t = bars.iter().position(|b| b.time() == point.time).unwrap();
        let other = splice_future(&bars, &random_walk(1234 + t as u64, bars.len(), step), t);
        let spliced = signals(&backtest(&other, Timeframe::D1, &request, &mut |_, _| {}).unwrap());
        let whole = spliced
            .iter()
            .find(|p| p.time == point.time)
            .unwrap_or_else(|| panic!("no signal at bar {t} over the spliced series"));
        let truncated = generate(&other[..=t], Timeframe::D1, &SignalRequest::default()).unwrap();
        assert_eq!(truncated.time, bars[t].time());
        assert_eq!(
            whole.action, truncated.action,
            "bar {t}: the run over the whole series says {:?} ({}), the run up to t {:?} ({})",
            whole.action, whole.confidence, truncated.action, truncated.confidence
        );
        assert!(
            (whole.confidence - truncated.confidence).abs() <= 1e-12,
            "bar {t}: confidence {} over the whole series, {} up to t",
            whole.confidence,
            truncated.confidence
        );
        // Nor did the spliced future change what the unspliced run said at t.
        assert_eq!(
            (point.action, point.confidence),
            (whole.action, whole.confidence),
            "bar {t}"
        );
        // The future did change later signals, so the splice was not a no-op.
        assert_ne!(
            base.iter()
                .filter(|p| p.time > point.time)
                .collect::<Vec<_>>(),
            spliced
                .iter()
                .filter(|p| p.time > point.time)
                .collect::<Vec<_>>(),
            "bar {t}: replacing the future changed no later signal"
        );
        actions.insert(format!("{:?}", truncated.action));
    }
    assert!(actions.len() >= 2, "every sampled bar said {actions:?}");
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
