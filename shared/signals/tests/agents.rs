//! Each agent on a series whose answer is known.

mod common;

use chrono::Duration;
use common::*;
use gs_domain::{Bar, Timeframe};
use gs_signals::{Action, AgentOutcome, AgentRegistry, AgentSignal, Market};

/// The outcome of agent `name` at the last bar.
fn last(name: &str, bars: &[Bar], tf: Timeframe) -> AgentOutcome {
    let registry = AgentRegistry::standard();
    let agent = registry.select(Some(&[name.to_string()])).unwrap()[0];
    let market = Market::new(bars, tf).unwrap();
    agent.prepare(&market).unwrap().evaluate(bars.len() - 1)
}

fn signal(name: &str, bars: &[Bar]) -> AgentSignal {
    match last(name, bars, Timeframe::D1) {
        AgentOutcome::Signal(s) => s,
        AgentOutcome::Abstained(a) => panic!("{name} abstained: {}", a.reason),
    }
}

/// Steady 1% a bar: a trend by any measure.
fn geometric(n: usize, from: f64, rate: f64) -> Vec<f64> {
    (0..n).map(|i| from * (1.0 + rate).powi(i as i32)).collect()
}
fn decline() -> Vec<Bar> {
    daily(&geometric(120, 200.0, -0.01))
}
fn rise() -> Vec<Bar> {
    daily(&geometric(120, 100.0, 0.01))
}
/// Sideways: uniform noise of +-1 around 100 (no drift, no memory).
fn noise(n: usize) -> Vec<f64> {
    let mut rng = Rng::new(7);
    (0..n).map(|_| 100.0 + 2.0 * rng.next_f64() - 1.0).collect()
}
/// Sideways: a small zigzag around 100.
fn zigzag(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 100.0 + if i % 2 == 0 { 0.5 } else { -0.5 })
        .collect()
}

#[test]
fn rsi_calls_a_steady_decline_oversold_and_a_rise_overbought() {
    let s = signal("rsi", &decline());
    assert_eq!(s.action, Action::Buy);
    assert!(s.reasons[0].contains("oversold"), "{:?}", s.reasons);
    assert!(s.reasons[0].starts_with("RSI(14) = "), "{:?}", s.reasons);
    assert!(s.metrics["rsi"] < 30.0);
    assert!(s.confidence > 0.5 && s.confidence <= 1.0);
    let s = signal("rsi", &rise());
    assert_eq!(s.action, Action::Sell);
    assert!(s.reasons[0].contains("overbought"));
    assert_eq!(signal("rsi", &daily(&zigzag(60))).action, Action::Hold);
}

/// Extends `closes` by `step` a bar until `name` says `want`; returns that signal.
fn until(name: &str, mut closes: Vec<f64>, step: f64, want: Action) -> AgentSignal {
    let from = *closes.last().unwrap();
    for i in 1..40 {
        closes.push(from + step * i as f64);
        let s = signal(name, &daily(&closes));
        if s.action == want {
            return s;
        }
    }
    panic!("{name} never said {want} after the turn");
}

#[test]
fn macd_follows_the_trend_and_flags_a_fresh_crossover() {
    // Compounding growth: the fast EMA pulls away from the slow one.
    assert_eq!(signal("macd", &rise()).action, Action::Buy);
    // A long decline, then a turn: the histogram crosses above zero soon after.
    let s = until("macd", linear(80, 180.0, -1.0), 2.0, Action::Buy);
    assert!(
        s.reasons.iter().any(|r| r.contains("bullish crossover")),
        "{:?}",
        s.reasons
    );
    assert!(s.metrics["histogram"] > 0.0);
    let s = until("macd", linear(80, 100.0, 1.0), -2.0, Action::Sell);
    assert!(
        s.reasons.iter().any(|r| r.contains("bearish crossover")),
        "{:?}",
        s.reasons
    );
    // On a perfectly linear trend MACD and its signal line converge.
    let s = signal("macd", &daily(&linear(200, 100.0, 0.5)));
    assert_eq!(s.action, Action::Hold, "{:?}", s.reasons);
}

#[test]
fn bollinger_fades_a_break_below_and_above_the_bands() {
    let mut closes = zigzag(40);
    closes.push(95.0);
    let s = signal("bollinger", &daily(&closes));
    assert_eq!(s.action, Action::Buy, "{:?}", s.reasons);
    assert!(s.metrics["percent_b"] < 0.0);
    let mut closes = zigzag(40);
    closes.push(105.0);
    assert_eq!(signal("bollinger", &daily(&closes)).action, Action::Sell);
    assert_eq!(
        signal("bollinger", &daily(&zigzag(41))).action,
        Action::Hold
    );
}

#[test]
fn ma_crossover_reads_the_averages_and_reports_a_golden_cross() {
    assert_eq!(signal("ma_crossover", &rise()).action, Action::Buy);
    assert_eq!(signal("ma_crossover", &decline()).action, Action::Sell);
    let mut closes = vec![100.0; 60];
    closes.extend(linear(40, 100.0, -0.5));
    let mut found = false;
    for i in 1..60 {
        closes.push(80.0 + 1.5 * i as f64);
        let s = signal("ma_crossover", &daily(&closes));
        if s.action == Action::Buy {
            assert!(
                s.reasons
                    .iter()
                    .any(|r| r.contains("golden cross 1 bar ago")),
                "{:?}",
                s.reasons
            );
            found = true;
            break;
        }
    }
    assert!(found, "no golden cross found");
}

#[test]
fn momentum_needs_a_move_large_against_volatility() {
    assert_eq!(signal("momentum", &rise()).action, Action::Buy);
    assert_eq!(signal("momentum", &decline()).action, Action::Sell);
    let s = signal("momentum", &daily(&zigzag(60)));
    assert_eq!(s.action, Action::Hold, "{:?}", s.reasons);
}

#[test]
fn mean_reversion_fades_a_stretch_in_a_range_but_not_in_a_trend() {
    // A range that oscillates around 100, then a sharp fall.
    let mut closes: Vec<f64> = (0..80)
        .map(|i| 100.0 + (i as f64 * std::f64::consts::PI / 5.0).sin())
        .collect();
    closes.push(94.0);
    let s = signal("mean_reversion", &daily(&closes));
    assert_eq!(s.action, Action::Buy, "{:?}", s.reasons);
    assert!(s.metrics["deviation_atr"] <= -2.0);
    let mut up = closes[..80].to_vec();
    up.push(106.0);
    assert_eq!(signal("mean_reversion", &daily(&up)).action, Action::Sell);
    // In a steady trend the stretch is left alone.
    let s = signal("mean_reversion", &decline());
    assert_eq!(s.action, Action::Hold);
    assert!(s.reasons[0].contains("trending"), "{:?}", s.reasons);
}

#[test]
fn volume_confirms_or_refuses_a_move() {
    // Rising prices on volume: OBV climbs with price.
    let s = signal("volume", &rise());
    assert_eq!(s.action, Action::Buy, "{:?}", s.reasons);
    assert_eq!(signal("volume", &decline()).action, Action::Sell);
    // Volume shrinking to nothing on up days and heavy on down days: the
    // zigzag drifts up but OBV falls.
    let closes: Vec<f64> = (0..81)
        .map(|i| 100.0 + 0.1 * i as f64 + if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let bars = with_volumes(
        &daily(&closes),
        |i, _| if i % 2 == 0 { 100.0 } else { 5_000.0 },
    );
    let s = signal("volume", &bars);
    assert_eq!(s.action, Action::Hold, "{:?}", s.reasons);
    assert!(s.reasons[0].contains("disagree"), "{:?}", s.reasons);
    let silent = with_volumes(&rise(), |_, _| 0.0);
    assert!(matches!(
        last("volume", &silent, Timeframe::D1),
        AgentOutcome::Abstained(_)
    ));
}

#[test]
fn trend_strength_reads_adx_and_the_directional_indicators() {
    let s = signal("trend_strength", &rise());
    assert_eq!(s.action, Action::Buy);
    assert!(s.metrics["adx"] > 20.0 && s.metrics["plus_di"] > s.metrics["minus_di"]);
    assert_eq!(signal("trend_strength", &decline()).action, Action::Sell);
    let s = signal("trend_strength", &daily(&noise(120)));
    assert_eq!(s.action, Action::Hold, "{:?}", s.reasons);
}

#[test]
fn multi_timeframe_needs_the_timeframes_to_agree() {
    let up = daily(&linear(250, 100.0, 0.3));
    let s = signal("multi_timeframe", &up);
    assert_eq!(s.action, Action::Buy, "{:?}", s.reasons);
    assert_eq!(s.metrics["trend_1d"], 1.0);
    assert_eq!(s.metrics["trend_1w"], 1.0);
    assert_eq!(
        signal("multi_timeframe", &daily(&linear(250, 200.0, -0.3))).action,
        Action::Sell
    );
    // Long rise, recent sharp drop: the daily trend turns down while the
    // weekly is still up, so they do not align.
    let mut closes = linear(250, 100.0, 0.3);
    closes.extend(linear(10, 174.0, -1.5));
    let s = signal("multi_timeframe", &daily(&closes));
    assert_eq!(s.action, Action::Hold, "{:?}", s.reasons);
    // Hourly bars are read on 1h, 4h and 1d.
    let hourly = bars_from_closes(&linear(24 * 30, 100.0, 0.05), Duration::hours(1));
    let AgentOutcome::Signal(s) = last("multi_timeframe", &hourly, Timeframe::H1) else {
        panic!("abstained on 30 days of hourly bars")
    };
    assert_eq!(s.action, Action::Buy);
    assert!(s.metrics.contains_key("trend_4h") && s.metrics.contains_key("trend_1d"));
}

#[test]
fn every_agent_abstains_with_a_reason_on_too_little_history() {
    let bars = daily(&linear(10, 100.0, 1.0));
    let registry = AgentRegistry::standard();
    for name in gs_signals::agent_names() {
        match last(name, &bars, Timeframe::D1) {
            AgentOutcome::Abstained(a) => {
                assert!(
                    a.reason.contains("10 available") || a.reason.contains("not enough history"),
                    "{name}: {}",
                    a.reason
                )
            }
            AgentOutcome::Signal(s) => panic!("{name} spoke on 10 bars: {s:?}"),
        }
    }
    assert_eq!(registry.names(), gs_signals::agent_names());
}

#[test]
fn confidences_stay_in_the_unit_interval_and_reasons_carry_numbers() {
    for seed in 0..5 {
        let bars = random_walk(seed, 300, Duration::days(1));
        for name in gs_signals::agent_names() {
            if let AgentOutcome::Signal(s) = last(name, &bars, Timeframe::D1) {
                assert!(
                    (0.0..=1.0).contains(&s.confidence),
                    "{name}: {}",
                    s.confidence
                );
                assert!(!s.reasons.is_empty(), "{name} gave no reason");
                assert!(
                    s.reasons
                        .iter()
                        .any(|r| r.chars().any(|c| c.is_ascii_digit())),
                    "{name}: {:?}",
                    s.reasons
                );
                assert!(!s.metrics.is_empty());
            }
        }
    }
}

/// A decline of small red candles ending in a large green candle whose body
/// engulfs the previous red one: TA-Lib's bullish engulfing on the last bar.
#[test]
fn candlestick_agent_reads_a_bullish_engulfing_and_abstains_without_patterns() {
    let start = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut bars = Vec::new();
    let mut open = 120.0;
    for i in 0..30 {
        let close = open - 1.0;
        bars.push(
            Bar::new(
                start + Duration::days(i),
                open,
                open + 0.2,
                close - 0.2,
                close,
                1000.0,
            )
            .unwrap(),
        );
        open = close - 0.1;
    }
    // Opens below the last close, closes above the last open.
    let prev = *bars.last().unwrap();
    let (o, c) = (prev.close() - 0.3, prev.open() + 1.5);
    bars.push(Bar::new(start + Duration::days(30), o, c + 0.1, o - 0.1, c, 3000.0).unwrap());
    let engulfing = gs_candles::detect(
        "cdlengulfing",
        &[],
        &bars.iter().map(Bar::open).collect::<Vec<_>>(),
        &bars.iter().map(Bar::high).collect::<Vec<_>>(),
        &bars.iter().map(Bar::low).collect::<Vec<_>>(),
        &bars.iter().map(Bar::close).collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(
        *engulfing.last().unwrap(),
        100,
        "fixture must be a TA-Lib engulfing"
    );

    let s = signal("candlestick", &bars);
    assert_eq!(s.action, Action::Buy, "{:?}", s.reasons);
    assert!(
        s.reasons
            .iter()
            .any(|r| r.contains("Engulfing") && r.contains("on this bar")),
        "{:?}",
        s.reasons
    );
    assert!(s.metrics["net_score"] >= 0.5);

    // A flat, identical-candle series fires nothing the agent weighs.
    let flat: Vec<Bar> = (0..40)
        .map(|i| Bar::new(start + Duration::days(i), 100.0, 101.0, 99.0, 100.5, 1000.0).unwrap())
        .collect();
    match last("candlestick", &flat, Timeframe::D1) {
        AgentOutcome::Abstained(a) => {
            assert!(a.reason.contains("no candlestick pattern"), "{}", a.reason)
        }
        AgentOutcome::Signal(s) => assert_eq!(s.action, Action::Hold, "{s:?}"),
    }
}
