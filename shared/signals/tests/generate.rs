//! `generate`: requests, consensus and report shape.

mod common;

use std::collections::BTreeMap;

use chrono::Duration;
use common::*;
use gs_domain::Timeframe;
use gs_signals::{
    Action, AgentOutcome, Method, SignalError, SignalRequest, agent_names, generate,
    generate_hit_rate_weighted,
};

fn request(agents: &[&str]) -> SignalRequest {
    SignalRequest {
        agents: Some(agents.iter().map(|s| s.to_string()).collect()),
        ..SignalRequest::default()
    }
}

#[test]
fn names_are_the_eleven_agents() {
    assert_eq!(
        agent_names(),
        [
            "rsi",
            "macd",
            "bollinger",
            "ma_crossover",
            "momentum",
            "mean_reversion",
            "volume",
            "trend_strength",
            "multi_timeframe",
            "candlestick",
            "chart_pattern"
        ]
    );
}

#[test]
fn unknown_agents_are_refused_with_the_valid_names() {
    let bars = daily(&linear(100, 100.0, 1.0));
    let err = generate(&bars, Timeframe::D1, &request(&["rsi", "astrology"])).unwrap_err();
    assert!(matches!(err, SignalError::UnknownAgent { .. }));
    let message = err.to_string();
    assert!(
        message.contains("astrology") && message.contains("multi_timeframe"),
        "{message}"
    );
    let mut weights = BTreeMap::new();
    weights.insert("tarot".to_string(), 1.0);
    let err = generate(
        &bars,
        Timeframe::D1,
        &SignalRequest {
            weights: Some(weights),
            ..SignalRequest::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("tarot"));
    assert!(matches!(
        generate(&[], Timeframe::D1, &SignalRequest::default()),
        Err(SignalError::NoBars)
    ));
}

#[test]
fn a_steady_decline_makes_the_oscillators_buy_and_the_trend_agents_sell() {
    // 200 days: enough weeks (23) for the weekly SMA(20) and its slope.
    let bars = daily(&linear(200, 300.0, -1.0));
    let report = generate(&bars, Timeframe::D1, &request(&["rsi"])).unwrap();
    assert_eq!(report.action, Action::Buy);
    assert_eq!(report.agents.len(), 1);
    let trend = generate(
        &bars,
        Timeframe::D1,
        &request(&["ma_crossover", "trend_strength", "multi_timeframe"]),
    )
    .unwrap();
    assert_eq!(trend.action, Action::Sell, "{}", trend.summary);
    assert_eq!(trend.method, Method::WeightedVote);
    assert_eq!(trend.votes.sell, 3, "{:#?}", trend.agents);
}

#[test]
fn weights_tip_a_split_panel() {
    let bars = daily(&linear(150, 300.0, -1.0));
    // rsi says BUY, ma_crossover SELL.
    let mut r = request(&["rsi", "ma_crossover"]);
    r.weights = Some([("rsi".to_string(), 5.0)].into());
    assert_eq!(
        generate(&bars, Timeframe::D1, &r).unwrap().action,
        Action::Buy
    );
    r.weights = Some([("ma_crossover".to_string(), 5.0)].into());
    let report = generate(&bars, Timeframe::D1, &r).unwrap();
    assert_eq!(report.action, Action::Sell);
    assert_eq!(report.weights["ma_crossover"], 5.0);
    assert_eq!(report.weights["rsi"], 1.0);
}

#[test]
fn without_consensus_the_most_confident_agent_decides() {
    let bars = random_walk(11, 300, Duration::days(1));
    let report = generate(
        &bars,
        Timeframe::D1,
        &SignalRequest {
            use_consensus: false,
            ..SignalRequest::default()
        },
    )
    .unwrap();
    assert_eq!(report.method, Method::SingleAgent);
    let best = report
        .agents
        .iter()
        .filter_map(AgentOutcome::signal)
        .max_by(|a, b| {
            a.confidence
                .total_cmp(&b.confidence)
                .then(std::cmp::Ordering::Greater)
        })
        .unwrap();
    assert_eq!(
        (report.action, report.confidence),
        (best.action, best.confidence)
    );
    assert_eq!(report.agents.len(), agent_names().len());
}

#[test]
fn abstentions_are_reported_and_do_not_vote() {
    // 40 bars: RSI and Bollinger can speak, the 50-bar agents cannot.
    let bars = daily(&linear(40, 100.0, -0.5));
    let report = generate(&bars, Timeframe::D1, &SignalRequest::default()).unwrap();
    let abstained: Vec<_> = report
        .agents
        .iter()
        .filter(|o| matches!(o, AgentOutcome::Abstained(_)))
        .map(|o| o.agent())
        .collect();
    assert!(abstained.contains(&"ma_crossover") && abstained.contains(&"mean_reversion"));
    assert_eq!(report.votes.abstained, abstained.len());
    assert!(report.votes.participation < 1.0);
}

#[test]
fn same_input_same_report_and_json_shape() {
    let bars = random_walk(21, 500, Duration::days(1));
    let a = generate(&bars, Timeframe::D1, &SignalRequest::default()).unwrap();
    let b = generate(&bars, Timeframe::D1, &SignalRequest::default()).unwrap();
    let (ja, jb) = (
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
    );
    assert_eq!(ja, jb);
    let v: serde_json::Value = serde_json::from_str(&ja).unwrap();
    assert!(["BUY", "SELL", "HOLD"].contains(&v["action"].as_str().unwrap()));
    assert_eq!(v["method"], "weighted_vote");
    let first = &v["agents"][0];
    assert!(first["status"] == "signal" || first["status"] == "abstained");
    assert_eq!(first["agent"], "rsi");
}

#[test]
fn hit_rate_weighting_reports_its_weights() {
    let bars = random_walk(4, 400, Duration::days(1));
    let report =
        generate_hit_rate_weighted(&bars, Timeframe::D1, &SignalRequest::default(), 1).unwrap();
    assert_eq!(report.method, Method::HitRateWeighted);
    assert_eq!(report.hit_rates.len(), agent_names().len());
    for (name, stats) in &report.hit_rates {
        let w = report.weights[name];
        match stats.hit_rate {
            Some(r) if stats.calls >= gs_signals::MIN_CALLS_FOR_HIT_RATE && r > 0.5 => {
                assert!(
                    (w - (r - 0.5) * 2.0).abs() < 1e-12
                        || report.weights.values().all(|&x| x == 1.0)
                )
            }
            _ => assert!(
                w == 0.0 || report.weights.values().all(|&x| x == 1.0),
                "{name}: {w}"
            ),
        }
    }
    let fixed = SignalRequest {
        weights: Some(BTreeMap::new()),
        ..SignalRequest::default()
    };
    assert!(generate_hit_rate_weighted(&bars, Timeframe::D1, &fixed, 1).is_err());
}

#[test]
fn requests_and_reports_publish_json_schemas() {
    let request = serde_json::to_value(schemars::schema_for!(SignalRequest)).unwrap();
    for field in ["agents", "use_consensus", "weights"] {
        assert!(
            request["properties"][field]["description"].is_string(),
            "{field}: {request}"
        );
    }
    let backtest =
        serde_json::to_value(schemars::schema_for!(gs_signals::BacktestRequest)).unwrap();
    assert!(backtest["properties"]["n_splits"]["description"].is_string());
    let report = serde_json::to_string(&schemars::schema_for!(gs_signals::SignalReport)).unwrap();
    assert!(
        report.contains("\"BUY\"") && report.contains("abstained"),
        "{report}"
    );
    let _ = schemars::schema_for!(gs_signals::BacktestReport);
    let _ = schemars::schema_for!(gs_signals::TimeframeAnalysis);
    // A request with only some fields set takes the documented defaults.
    let r: SignalRequest = serde_json::from_str(r#"{"agents":["rsi"]}"#).unwrap();
    assert!(r.use_consensus && r.weights.is_none());
    let b: gs_signals::BacktestRequest = serde_json::from_str(r#"{"cost_bps":5}"#).unwrap();
    assert_eq!((b.n_splits, b.horizon, b.cost_bps), (5, 1, 5.0));
}

#[test]
fn the_registry_refuses_a_second_agent_with_the_same_name() {
    let mut registry = gs_signals::AgentRegistry::standard();
    let err = registry
        .register(Box::new(gs_signals::agents::RsiAgent::default()))
        .unwrap_err();
    assert!(matches!(err, SignalError::DuplicateAgent("rsi")));
}

#[test]
fn weekly_bars_have_nothing_coarser_for_multi_timeframe() {
    let bars = bars_from_closes(&linear(60, 100.0, 1.0), Duration::weeks(1));
    let report =
        gs_signals::generate(&bars, Timeframe::W1, &request(&["multi_timeframe"])).unwrap();
    let AgentOutcome::Abstained(a) = &report.agents[0] else {
        panic!("spoke on weekly bars")
    };
    assert!(a.reason.contains("1w"), "{}", a.reason);
}
