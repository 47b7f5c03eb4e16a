//! The technical-analysis tools beyond `calculate_indicators`: candlestick
//! and chart patterns, multi-timeframe readings, signals and their
//! walk-forward backtest, on the demo data and on inline bars built here so
//! the expected answer is known without the server's own crates.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::{McpClient, TestApp, call, expect_ok, expect_tool_error, spawn_app};

/// 2024-01-02T00:00:00Z; inline bars are one day apart from here.
const FIRST_DAY: i64 = 1_704_153_600;
const DAY: i64 = 86_400;

const CANDLE_VALUES: [i64; 7] = [0, 80, -80, 100, -100, 200, -200];

const CHART_PATTERN_TYPES: [&str; 16] = [
    "head_and_shoulders",
    "inverse_head_and_shoulders",
    "double_top",
    "double_bottom",
    "triple_top",
    "triple_bottom",
    "ascending_triangle",
    "descending_triangle",
    "symmetrical_triangle",
    "rising_wedge",
    "falling_wedge",
    "bull_flag",
    "bear_flag",
    "pennant",
    "cup_and_handle",
    "rectangle",
];

const AGENTS: [&str; 11] = [
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
    "chart_pattern",
];

/// The technical-analysis tools other than `calculate_indicators`.
const PATTERN_AND_SIGNAL_TOOLS: [&str; 5] = [
    "detect_candlestick_patterns",
    "analyze_pattern",
    "analyze_timeframes",
    "generate_signals",
    "backtest_signals",
];

/// TA-Lib shapes whose sign is not a directional call.
const INDECISION: [&str; 9] = [
    "cdldoji",
    "cdldragonflydoji",
    "cdlgravestonedoji",
    "cdllongleggeddoji",
    "cdlrickshawman",
    "cdlspinningtop",
    "cdlhighwave",
    "cdllongline",
    "cdlshortline",
];

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("bad time {v}: {e}"))
}

fn array(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

fn in_unit(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

/// Time of inline bar `i`.
fn day(i: usize) -> DateTime<Utc> {
    DateTime::from_timestamp(FIRST_DAY + i as i64 * DAY, 0).unwrap()
}

fn bar(i: usize, open: f64, high: f64, low: f64, close: f64) -> Value {
    json!({
        "time": FIRST_DAY + i as i64 * DAY,
        "open": open,
        "high": high,
        "low": low,
        "close": close,
        "volume": 1_000_000.0 + (i % 7) as f64 * 50_000.0,
    })
}

/// Daily bars following `closes`: each opens at the previous close and its
/// range reaches `wick` beyond the body.
fn bars_from_closes(closes: &[f64], wick: f64) -> Vec<Value> {
    closes
        .iter()
        .enumerate()
        .map(|(i, &close)| {
            let open = if i == 0 { close } else { closes[i - 1] };
            bar(
                i,
                open,
                open.max(close) + wick,
                open.min(close) - wick,
                close,
            )
        })
        .collect()
}

/// Closes along straight lines through `(bar index, price)` waypoints, with
/// a small deterministic wiggle so no two bars are alike.
fn path(waypoints: &[(usize, f64)], wiggle: f64) -> Vec<f64> {
    let mut closes = Vec::new();
    for pair in waypoints.windows(2) {
        let ((i0, p0), (i1, p1)) = (pair[0], pair[1]);
        for i in i0..i1 {
            let f = (i - i0) as f64 / (i1 - i0) as f64;
            closes.push(p0 + (p1 - p0) * f + wiggle * (i as f64 * 1.7).sin());
        }
    }
    let (_, last) = *waypoints.last().unwrap();
    closes.push(last);
    closes
}

/// A seeded random walk (xorshift), so the series is arbitrary but fixed.
fn random_walk(n: usize, seed: u64, start: f64) -> Vec<f64> {
    let mut state = seed;
    let mut price = start;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            price *= 1.0 + (u - 0.5) * 0.04;
            price
        })
        .collect()
}

async fn ok(client: &McpClient, tool: &str, args: Value) -> Value {
    expect_ok(&call(client, tool, args).await)
}

async fn tool_error(client: &McpClient, tool: &str, args: Value) -> String {
    expect_tool_error(&call(client, tool, args).await)
}

fn pattern<'a>(out: &'a Value, name: &str) -> &'a Value {
    array(&out["patterns"])
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

fn hits_of<'a>(out: &'a Value, name: &str) -> Vec<&'a Value> {
    array(&out["latest_hits"])
        .iter()
        .filter(|h| h["name"] == name)
        .collect()
}

// ------------------------------------------------------------- candlesticks

/// `count` small red candles stepping down, the setting of a bullish reversal.
fn red_run(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let mid = 150.0 - i as f64 * 0.6;
            bar(i, mid + 0.5, mid + 0.8, mid - 0.8, mid - 0.5)
        })
        .collect()
}

#[tokio::test]
async fn candlestick_and_chart_patterns_are_found_and_described() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    // All 61 TA-Lib patterns by default, one TA-Lib value per returned row.
    let all = ok(
        &client,
        "detect_candlestick_patterns",
        json!({"symbol": "AAPL", "timeframe": "1d", "lookback": 300}),
    )
    .await;
    assert_eq!(all["symbol"], "AAPL");
    assert_eq!(all["synthetic"], json!(true));
    assert_eq!(all["bars_used"], json!(300));
    assert_eq!(all["rows"], json!(300));
    assert_eq!(all["truncated"], json!(false));
    let times = array(&all["time"]);
    assert_eq!(times.len(), 300);
    let patterns = array(&all["patterns"]);
    assert_eq!(patterns.len(), 61, "every TA-Lib CDL function");
    let names: BTreeSet<&str> = patterns
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 61, "distinct names");
    for p in patterns {
        let name = p["name"].as_str().unwrap();
        assert!(name.starts_with("cdl"), "{name}");
        assert!(!p["title"].as_str().unwrap().is_empty(), "{name}: title");
        let values = array(&p["values"]);
        assert_eq!(values.len(), times.len(), "{name}: one value per row");
        for v in values {
            let v = v
                .as_i64()
                .unwrap_or_else(|| panic!("{name}: not an integer: {v}"));
            assert!(CANDLE_VALUES.contains(&v), "{name}: value {v}");
        }
    }
    let hit_total: usize = patterns
        .iter()
        .map(|p| array(&p["values"]).iter().filter(|v| **v != 0).count())
        .sum();
    assert!(hit_total > 0, "300 bars hold some candlestick pattern");
    // The hit summary covers the latest 5 bars, newest first, and agrees
    // with the series.
    let recent: Vec<&Value> = times[times.len() - 5..].iter().collect();
    let hits = array(&all["latest_hits"]);
    for pair in hits.windows(2) {
        assert!(time(&pair[0]["time"]) >= time(&pair[1]["time"]), "{pair:?}");
    }
    for hit in hits {
        assert!(recent.contains(&&hit["time"]), "{hit}");
        let name = hit["name"].as_str().unwrap();
        let row = times.iter().position(|t| *t == hit["time"]).unwrap();
        assert_eq!(pattern(&all, name)["values"][row], hit["value"], "{hit}");
        let expected = if INDECISION.contains(&name) {
            "indecision"
        } else if num(&hit["value"]) > 0.0 {
            "bullish"
        } else {
            "bearish"
        };
        assert_eq!(hit["signal"], expected, "{hit}");
        assert!(!hit["meaning"].as_str().unwrap().is_empty(), "{hit}");
    }
    for (row, t) in recent.iter().enumerate() {
        let row = times.len() - 5 + row;
        for p in patterns {
            if p["values"][row] != 0 {
                assert!(
                    hits.iter()
                        .any(|h| h["time"] == **t && h["name"] == p["name"]),
                    "{} at {t} missing from latest_hits",
                    p["name"]
                );
            }
        }
    }

    // Named patterns come back exactly, in request order, lower case, with
    // the same values as in the full scan.
    let two = ok(
        &client,
        "detect_candlestick_patterns",
        json!({"symbol": "AAPL", "lookback": 300, "patterns": ["cdlengulfing", "CDLHAMMER"]}),
    )
    .await;
    let two_names: Vec<&str> = array(&two["patterns"])
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(two_names, ["cdlengulfing", "cdlhammer"]);
    for name in two_names {
        assert_eq!(
            pattern(&two, name)["values"],
            pattern(&all, name)["values"],
            "{name}"
        );
    }

    // output_rows keeps the newest rows; detection still saw every bar.
    let capped = ok(
        &client,
        "detect_candlestick_patterns",
        json!({"symbol": "AAPL", "lookback": 300, "output_rows": 10}),
    )
    .await;
    assert_eq!(capped["bars_used"], json!(300));
    assert_eq!(capped["rows"], json!(10));
    assert_eq!(capped["truncated"], json!(true));
    assert_eq!(array(&capped["time"])[..], times[290..]);
    for p in array(&capped["patterns"]) {
        let name = p["name"].as_str().unwrap();
        assert_eq!(
            array(&p["values"])[..],
            array(&pattern(&all, name)["values"])[290..],
            "{name}"
        );
    }

    let unknown = tool_error(
        &client,
        "detect_candlestick_patterns",
        json!({"symbol": "AAPL", "patterns": ["cdlengulfing", "cdlunicorn"]}),
    )
    .await;
    for part in ["cdlunicorn", "cdlengulfing", "cdlhammer", "cdldoji"] {
        assert!(unknown.contains(part), "{part} in: {unknown}");
    }

    // A textbook bullish engulfing: red candles, then a green body that
    // opens below the prior close and closes above the prior open.
    let mut engulfing = red_run(20);
    let prior_open = num(&engulfing[19]["open"]);
    let prior_close = num(&engulfing[19]["close"]);
    let (open, close) = (prior_close - 0.4, prior_open + 0.6);
    engulfing.push(bar(20, open, close + 0.2, open - 0.2, close));
    let out = ok(
        &client,
        "detect_candlestick_patterns",
        json!({"bars": engulfing}),
    )
    .await;
    assert!(out["symbol"].is_null(), "{out}");
    assert_eq!(out["synthetic"], json!(false));
    assert_eq!(out["bars_used"], json!(21));
    let values = array(&pattern(&out, "cdlengulfing")["values"]);
    assert_eq!(values.last(), Some(&json!(100)), "{values:?}");
    assert!(
        values[..20].iter().all(|v| *v == 0),
        "no engulfing among the red candles: {values:?}"
    );
    let hits = hits_of(&out, "cdlengulfing");
    assert_eq!(hits.len(), 1, "{out}");
    assert_eq!(hits[0]["signal"], "bullish");
    assert_eq!(hits[0]["value"], json!(100));
    assert_eq!(hits[0]["time"], "2024-01-22T00:00:00Z");

    // A doji after the same run: present, but indecision, not a call.
    let mut doji = red_run(20);
    let level = num(&doji[19]["close"]) - 0.2;
    doji.push(bar(20, level, level + 1.0, level - 1.0, level));
    let out = ok(
        &client,
        "detect_candlestick_patterns",
        json!({"bars": doji, "recent_bars": 1}),
    )
    .await;
    assert_eq!(
        array(&pattern(&out, "cdldoji")["values"]).last(),
        Some(&json!(100))
    );
    let hits = hits_of(&out, "cdldoji");
    assert_eq!(hits.len(), 1, "{out}");
    assert_eq!(hits[0]["signal"], "indecision", "{}", hits[0]);
    for hit in array(&out["latest_hits"]) {
        assert_eq!(hit["time"], "2024-01-22T00:00:00Z", "recent_bars 1: {hit}");
        if INDECISION.contains(&hit["name"].as_str().unwrap()) {
            assert_eq!(hit["signal"], "indecision", "{hit}");
        }
    }

    chart_patterns(&client).await;
    client.cancel().await.unwrap();
}

fn assert_chart_pattern_shape(p: &Value) {
    let kind = p["type"].as_str().unwrap();
    assert!(CHART_PATTERN_TYPES.contains(&kind), "{p}");
    assert!(
        ["bullish", "bearish", "neutral"].contains(&p["direction"].as_str().unwrap()),
        "{p}"
    );
    let status = p["status"].as_str().unwrap();
    assert!(["forming", "confirmed", "failed"].contains(&status), "{p}");
    assert!(in_unit(num(&p["confidence"])), "{p}");
    let (start, end) = (time(&p["start_time"]), time(&p["end_time"]));
    assert!(start <= end, "{p}");
    let points = array(&p["key_points"]);
    assert!(points.len() >= 2, "{p}");
    for k in points {
        let t = time(&k["time"]);
        assert!(start <= t && t <= end, "key point outside the pattern: {p}");
        assert!(num(&k["price"]) > 0.0, "{p}");
        assert!(!k["label"].as_str().unwrap().is_empty(), "{p}");
    }
    for field in ["breakout_level", "invalidation_level", "target"] {
        assert!(num(&p[field]).is_finite(), "{field}: {p}");
    }
    match status {
        "confirmed" => assert!(time(&p["breakout_time"]) > end, "{p}"),
        "forming" => assert!(p["breakout_time"].is_null(), "{p}"),
        _ => {}
    }
    assert!(!p["meaning"].as_str().unwrap().is_empty(), "{p}");
}

async fn chart_patterns(client: &McpClient) {
    let out = ok(
        client,
        "analyze_pattern",
        json!({"symbol": "AAPL", "timeframe": "1d", "lookback": 780}),
    )
    .await;
    assert_eq!(out["symbol"], "AAPL");
    assert_eq!(out["synthetic"], json!(true));
    let patterns = array(&out["patterns"]);
    for p in patterns {
        assert_chart_pattern_shape(p);
    }
    for pair in patterns.windows(2) {
        assert!(
            time(&pair[0]["end_time"]) >= time(&pair[1]["end_time"]),
            "most recent first"
        );
    }
    let best = patterns
        .iter()
        .map(|p| num(&p["confidence"]))
        .fold(0.0, f64::max);
    if out["truncated"] == json!(false) {
        assert_eq!(num(&out["confidence"]), best, "overall = best pattern");
    } else {
        assert!(num(&out["confidence"]) >= best);
    }
    assert!(in_unit(num(&out["confidence"])));

    let tops = ok(
        client,
        "analyze_pattern",
        json!({"symbol": "AAPL", "lookback": 780, "pattern_types": ["double_top"]}),
    )
    .await;
    for p in array(&tops["patterns"]) {
        assert_eq!(p["type"], "double_top", "{p}");
    }
    let expected: Vec<&Value> = patterns
        .iter()
        .filter(|p| p["type"] == "double_top")
        .collect();
    if out["truncated"] == json!(false) {
        assert_eq!(
            array(&tops["patterns"]).iter().collect::<Vec<_>>(),
            expected,
            "the filter selects, it does not change what is found"
        );
    }

    let strict = ok(
        client,
        "analyze_pattern",
        json!({"symbol": "AAPL", "lookback": 780, "min_confidence": 0.8}),
    )
    .await;
    for p in array(&strict["patterns"]) {
        assert!(num(&p["confidence"]) >= 0.8, "{p}");
    }

    let unknown = tool_error(
        client,
        "analyze_pattern",
        json!({"symbol": "AAPL", "pattern_types": ["double_top", "unicorn"]}),
    )
    .await;
    for part in ["unicorn", "double_top", "cup_and_handle", "bear_flag"] {
        assert!(unknown.contains(part), "{part} in: {unknown}");
    }
    let too_sure = tool_error(
        client,
        "analyze_pattern",
        json!({"symbol": "AAPL", "min_confidence": 2}),
    )
    .await;
    assert!(too_sure.contains("min_confidence"), "{too_sure}");
    let nothing = tool_error(
        client,
        "analyze_pattern",
        json!({"symbol": "AAPL", "pattern_types": []}),
    )
    .await;
    assert!(nothing.contains("pattern_types"), "{nothing}");

    // A planted double top: a base, a rally to 120, a pullback to 109, a
    // second peak at 120, then a fall far below the 109 neckline. Bars move
    // about 0.8 a day with a 0.4 wick, so the ATR is near 1.5 and the
    // pattern is some seven ATRs tall.
    let closes = path(
        &[
            (0, 100.0),
            (30, 100.0),
            (55, 120.0),
            (70, 109.0),
            (85, 120.0),
            (110, 95.0),
            (125, 96.0),
        ],
        0.3,
    );
    let bars = bars_from_closes(&closes, 0.4);
    let at = day;
    let out = ok(client, "analyze_pattern", json!({"bars": bars})).await;
    assert_eq!(out["bars_used"], json!(126));
    let tops: Vec<&Value> = array(&out["patterns"])
        .iter()
        .filter(|p| p["type"] == "double_top")
        .collect();
    let planted = tops
        .iter()
        .find(|p| {
            let points = array(&p["key_points"]);
            let first = time(&points[0]["time"]);
            let last = time(&points[points.len() - 1]["time"]);
            at(50) <= first && first <= at(60) && at(80) <= last && last <= at(90)
        })
        .unwrap_or_else(|| panic!("the planted double top was not found: {out:#}"));
    assert_chart_pattern_shape(planted);
    assert_eq!(planted["direction"], "bearish", "{planted}");
    assert_eq!(planted["status"], "confirmed", "{planted}");
    let breakout = time(&planted["breakout_time"]);
    assert!(at(86) <= breakout && breakout <= at(110), "{planted}");
    let neckline = num(&planted["breakout_level"]);
    assert!((107.0..=111.0).contains(&neckline), "{planted}");
    assert!(
        num(&planted["target"]) < neckline - 5.0,
        "measured move down: {planted}"
    );
    assert!(num(&out["confidence"]) >= num(&planted["confidence"]));
}

// ------------------------------------------------------- signals, timeframes

/// A steady decline (two down days, one small up day): RSI sits deep in
/// oversold while every trend reading points down.
fn steady_decline() -> Vec<Value> {
    let mut closes = vec![200.0];
    for i in 1..260 {
        let step = if i % 3 == 0 { 0.4 } else { -1.0 };
        closes.push(closes[i - 1] + step);
    }
    bars_from_closes(&closes, 0.3)
}

fn outcome<'a>(out: &'a Value, agent: &str) -> &'a Value {
    array(&out["metadata"]["agent_breakdown"])
        .iter()
        .find(|a| a["agent"] == agent)
        .unwrap_or_else(|| panic!("no {agent} in {out}"))
}

fn assert_agent_outcome(a: &Value) {
    let agent = a["agent"].as_str().unwrap();
    match a["status"].as_str() {
        Some("signal") => {
            assert!(
                ["BUY", "SELL", "HOLD"].contains(&a["action"].as_str().unwrap()),
                "{a}"
            );
            assert!(in_unit(num(&a["confidence"])), "{a}");
            let reasons = array(&a["reasons"]);
            assert!(!reasons.is_empty(), "{agent} gives reasons: {a}");
            for r in reasons {
                assert!(r.as_str().is_some_and(|r| !r.trim().is_empty()), "{a}");
            }
            for (name, v) in a["metrics"].as_object().unwrap() {
                assert!(v.as_f64().is_some_and(f64::is_finite), "{name}: {a}");
            }
        }
        Some("abstained") => {
            assert!(
                a["reason"].as_str().is_some_and(|r| !r.trim().is_empty()),
                "{a}"
            );
        }
        _ => panic!("neither a signal nor an abstention: {a}"),
    }
}

#[tokio::test]
async fn signals_and_timeframes_follow_the_agents_and_the_callers_scopes() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    timeframes(&client).await;

    let args = json!({"symbol": "AAPL", "timeframe": "1d"});
    let out = ok(&client, "generate_signals", args.clone()).await;
    assert_eq!(out["symbol"], "AAPL");
    assert_eq!(out["timeframe"], "1d");
    assert!(
        ["BUY", "SELL", "HOLD"].contains(&out["action"].as_str().unwrap()),
        "{out}"
    );
    assert!(in_unit(num(&out["confidence"])), "{out}");
    let meta = &out["metadata"];
    assert_eq!(meta["consensus_method"], "weighted_vote");
    assert_eq!(meta["synthetic"], json!(true));
    let breakdown = array(&meta["agent_breakdown"]);
    let agents: Vec<&str> = breakdown
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    // The demo news and posts about AAPL bring the sentiment agent in, last.
    let mut expected = AGENTS.to_vec();
    expected.push("sentiment");
    assert_eq!(agents, expected, "one entry per agent, in panel order");
    for a in breakdown {
        assert_agent_outcome(a);
    }
    assert!(
        breakdown.iter().filter(|a| a["status"] == "signal").count() >= 6,
        "750 daily bars are enough history for most agents: {out:#}"
    );
    // The signal is for the latest stored bar.
    let latest = ok(
        &client,
        "get_historical_data",
        json!({"symbol": "AAPL", "limit": 1}),
    )
    .await;
    assert_eq!(out["time"], latest["bars"][0]["time"]);
    // Deterministic for the same bars.
    let again = ok(&client, "generate_signals", args).await;
    assert_eq!(again, out, "same call, same answer");

    let one = ok(
        &client,
        "generate_signals",
        json!({"symbol": "AAPL", "agents": ["RSI"]}),
    )
    .await;
    let only = array(&one["metadata"]["agent_breakdown"]);
    assert_eq!(only.len(), 1, "{one}");
    assert_eq!(only[0]["agent"], "rsi");
    assert_eq!(only[0], *outcome(&out, "rsi"), "same reading alone");

    let unknown = tool_error(
        &client,
        "generate_signals",
        json!({"symbol": "AAPL", "agents": ["rsi", "astrology"]}),
    )
    .await;
    for part in ["astrology", "rsi", "macd", "chart_pattern"] {
        assert!(unknown.contains(part), "{part} in: {unknown}");
    }

    // Without consensus the most confident agent (first on ties) decides.
    let single = ok(
        &client,
        "generate_signals",
        json!({"symbol": "AAPL", "use_consensus": false}),
    )
    .await;
    assert_eq!(single["metadata"]["consensus_method"], "single_agent");
    let mut best: Option<&Value> = None;
    for a in array(&single["metadata"]["agent_breakdown"]) {
        if a["status"] == "signal"
            && best.is_none_or(|b| num(&a["confidence"]) > num(&b["confidence"]))
        {
            best = Some(a);
        }
    }
    let best = best.expect("some agent speaks on 750 bars");
    assert_eq!(single["action"], best["action"], "{single:#}");
    assert_eq!(single["confidence"], best["confidence"]);

    // Weights move the vote the way they lean: in a steady decline RSI is
    // oversold (BUY) while the trend agents say SELL.
    let decline = steady_decline();
    let even = ok(&client, "generate_signals", json!({"bars": decline})).await;
    assert!(even["symbol"].is_null());
    assert_eq!(even["timeframe"], "1d", "inline bars default to daily");
    assert_eq!(even["metadata"]["synthetic"], json!(false));
    let rsi = outcome(&even, "rsi");
    assert_eq!(rsi["action"], "BUY", "oversold: {rsi}");
    assert!(num(&rsi["metrics"]["rsi"]) < 30.0, "{rsi}");
    for agent in ["ma_crossover", "momentum"] {
        assert_eq!(
            outcome(&even, agent)["action"],
            "SELL",
            "{agent} in a decline"
        );
    }
    let for_rsi = ok(
        &client,
        "generate_signals",
        json!({"bars": decline, "weights": {"rsi": 100}}),
    )
    .await;
    assert_eq!(
        for_rsi["action"], "BUY",
        "{:#}",
        for_rsi["metadata"]["votes"]
    );
    assert_eq!(for_rsi["metadata"]["weights"]["rsi"], json!(100.0));
    let contrarians_muted = ok(
        &client,
        "generate_signals",
        json!({
            "bars": decline,
            "weights": {"rsi": 0, "bollinger": 0, "mean_reversion": 0, "candlestick": 0}
        }),
    )
    .await;
    assert_eq!(
        contrarians_muted["action"], "SELL",
        "{:#}",
        contrarians_muted["metadata"]
    );
    let fitted = ok(
        &client,
        "generate_signals",
        json!({"symbol": "AAPL", "hit_rate_weighting": true}),
    )
    .await;
    assert_eq!(fitted["metadata"]["consensus_method"], "hit_rate_weighted");
    assert!(
        !fitted["metadata"]["hit_rates"]
            .as_object()
            .unwrap()
            .is_empty(),
        "{fitted}"
    );
    let both = tool_error(
        &client,
        "generate_signals",
        json!({"symbol": "AAPL", "hit_rate_weighting": true, "weights": {"rsi": 2}}),
    )
    .await;
    assert!(both.contains("weights"), "{both}");
    let bad_weight = tool_error(
        &client,
        "generate_signals",
        json!({"bars": decline, "weights": {"rsi": -1}}),
    )
    .await;
    assert!(bad_weight.contains("rsi"), "{bad_weight}");

    scopes(&app).await;
    client.cancel().await.unwrap();
}

async fn timeframes(client: &McpClient) {
    let out = ok(
        client,
        "analyze_timeframes",
        json!({"symbol": "AAPL", "timeframe": "1h"}),
    )
    .await;
    assert_eq!(out["symbol"], "AAPL");
    let analysis = &out["analysis"];
    assert_eq!(analysis["base"], "1h");
    let views = array(&analysis["timeframes"]);
    let listed: Vec<&str> = views
        .iter()
        .map(|v| v["timeframe"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["1h", "4h", "1d"], "the base and the next two");
    let bars: Vec<u64> = views.iter().map(|v| v["bars"].as_u64().unwrap()).collect();
    assert_eq!(bars[0], out["bars_used"].as_u64().unwrap());
    assert!(
        bars[0] > bars[1] && bars[1] > bars[2],
        "coarser, fewer: {bars:?}"
    );
    let alignment = num(&analysis["alignment"]);
    assert!((-1.0..=1.0).contains(&alignment), "{alignment}");
    let expected_direction = if alignment > 0.2 {
        "up"
    } else if alignment < -0.2 {
        "down"
    } else {
        "sideways"
    };
    assert_eq!(analysis["direction"], expected_direction, "{analysis}");
    let mut scores = Vec::new();
    for v in views {
        let tf = v["timeframe"].as_str().unwrap();
        for key in ["trend", "momentum", "volatility", "levels"] {
            assert!(v.get(key).is_some(), "{tf}: no {key}");
        }
        let close = num(&v["close"]);
        for level in array(&v["levels"]["support"]) {
            assert!(num(&level["price"]) <= close, "{tf}: support {level}");
        }
        for level in array(&v["levels"]["resistance"]) {
            assert!(num(&level["price"]) >= close, "{tf}: resistance {level}");
        }
        if v["bars"].as_u64().unwrap() >= 60 {
            let trend = &v["trend"];
            assert!(
                ["up", "down", "sideways"].contains(&trend["direction"].as_str().unwrap()),
                "{tf}: {v}"
            );
            assert!(in_unit(num(&trend["strength"])), "{tf}: {v}");
            let momentum = num(&v["momentum"]["score"]);
            assert!((-1.0..=1.0).contains(&momentum), "{tf}: {v}");
            assert!(num(&v["volatility"]["atr_pct"]) > 0.0, "{tf}: {v}");
        }
        if let Some(score) = v["score"].as_f64() {
            assert!((-1.0..=1.0).contains(&score), "{tf}: {v}");
            scores.push(score);
        }
    }
    assert!(!scores.is_empty(), "{analysis:#}");
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    assert!(
        (alignment - mean).abs() < 1e-9,
        "alignment is the mean score"
    );

    let daily = ok(
        client,
        "analyze_timeframes",
        json!({"symbol": "AAPL", "timeframe": "1d", "timeframes": ["1w", "1d"]}),
    )
    .await;
    let listed: Vec<&str> = array(&daily["analysis"]["timeframes"])
        .iter()
        .map(|v| v["timeframe"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["1d", "1w"], "finest first");

    let finer = tool_error(
        client,
        "analyze_timeframes",
        json!({"symbol": "AAPL", "timeframe": "1h", "timeframes": ["1h", "5m"]}),
    )
    .await;
    assert!(
        finer.contains("5m") && finer.contains("1h"),
        "names the bad timeframe and the base: {finer}"
    );
}

async fn scopes(app: &TestApp) {
    let token = app.mint_token(&["--scopes", "technical-analysis:calculate_indicators"]);
    let client = app.client(&token).await;
    let listed: BTreeSet<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(listed.contains("calculate_indicators"), "{listed:?}");
    for tool in PATTERN_AND_SIGNAL_TOOLS {
        assert!(!listed.contains(tool), "{tool} listed: {listed:?}");
    }
    let refused = call(&client, "generate_signals", json!({"symbol": "AAPL"})).await;
    let message = expect_tool_error(&refused);
    assert!(
        message.contains("technical-analysis:generate_signals"),
        "{message}"
    );
    assert!(refused.get("structuredContent").is_none_or(Value::is_null));
    client.cancel().await.unwrap();
}

// ------------------------------------------------------------------ backtest

/// A raw `tools/call`, optionally asking for progress, as any HTTP client
/// would send it.
async fn raw_tool_call(
    app: &TestApp,
    tool: &str,
    args: Value,
    progress: Option<&str>,
) -> reqwest::Response {
    let mut params = json!({"name": tool, "arguments": args});
    if let Some(token) = progress {
        params["_meta"] = json!({"progressToken": token});
    }
    app.http
        .post(&app.mcp_url)
        .bearer_auth(&app.token)
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}))
        .send()
        .await
        .expect("POST /mcp")
}

/// The JSON messages of an SSE body (events without data are skipped).
fn sse_messages(body: &str) -> Vec<Value> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            (!data.is_empty() && !data.concat().trim().is_empty()).then(|| {
                serde_json::from_str(&data.join("\n"))
                    .unwrap_or_else(|e| panic!("bad SSE data {data:?}: {e}"))
            })
        })
        .collect()
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn window(w: &Value) -> (u64, u64) {
    (
        w["start_index"].as_u64().unwrap(),
        w["end_index"].as_u64().unwrap(),
    )
}

fn assert_performance(what: &str, p: &Value) {
    for field in ["total_return", "annualised_return", "max_drawdown"] {
        assert!(
            p[field].as_f64().is_some_and(f64::is_finite),
            "{what}.{field}: {p}"
        );
    }
    // Daily bars over these windows always annualise to a finite figure.
    assert!(in_unit(num(&p["max_drawdown"])), "{what}: {p}");
    assert!(num(&p["total_return"]) > -1.0, "{what}: {p}");
    for field in ["sharpe", "annualised_volatility"] {
        assert!(
            p[field].is_null() || p[field].as_f64().is_some_and(f64::is_finite),
            "{what}.{field}: {p}"
        );
    }
}

#[tokio::test]
async fn backtests_walk_forward_without_look_ahead_and_report_progress() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    let args = json!({"symbol": "SPY", "timeframe": "1d", "n_splits": 3, "cost_bps": 5});
    let out = ok(&client, "backtest_signals", args.clone()).await;
    assert_eq!(out["symbol"], "SPY");
    let report = &out["report"];
    let n = report["bars"].as_u64().unwrap();
    assert!(n > 700, "the whole demo history: {n}");
    assert_eq!(report["method"], "weighted_vote");
    assert_eq!(
        array(&report["agents"])
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect::<Vec<_>>(),
        AGENTS
    );
    let splits = array(&report["splits"]);
    assert_eq!(splits.len(), 3);
    let mut test_bars = 0;
    for (i, split) in splits.iter().enumerate() {
        assert_eq!(split["index"], json!(i));
        let (train_start, train_end) = window(&split["train"]);
        let (test_start, test_end) = window(&split["test"]);
        assert!(train_start < train_end, "{split}");
        assert_eq!(train_end, test_start, "training ends where testing starts");
        assert!(test_start < test_end, "{split}");
        assert!(
            time(&split["train"]["end_time"]) < time(&split["test"]["start_time"]),
            "{split}"
        );
        if i > 0 {
            let (_, previous_end) = window(&splits[i - 1]["test"]);
            assert_eq!(test_start, previous_end, "contiguous test windows");
            assert!(time(&splits[i - 1]["test"]["end_time"]) < time(&split["test"]["start_time"]));
        }
        assert_eq!(split["strategy"]["bars"], json!(test_end - test_start));
        assert_eq!(split["buy_and_hold"]["bars"], json!(test_end - test_start));
        assert_performance("split strategy", &split["strategy"]);
        assert_performance("split buy_and_hold", &split["buy_and_hold"]);
        assert!(split["signals"].is_null(), "not asked for");
        test_bars += test_end - test_start;
    }
    let (_, last_end) = window(&splits[2]["test"]);
    assert_eq!(last_end, n, "the last test window ends with the data");
    assert_performance("overall", &report["overall"]);
    assert_performance("buy_and_hold", &report["buy_and_hold"]);
    assert_eq!(report["overall"]["bars"], json!(test_bars));
    assert_eq!(report["buy_and_hold"]["bars"], json!(test_bars));
    let trading = &report["overall_trading"];
    let trades = trading["trades"].as_u64().unwrap();
    assert!(trades > 0, "some trades in three years: {trading}");
    assert!(in_unit(num(&trading["exposure"])), "{trading}");
    assert_eq!(
        report["agent_hit_rates"].as_object().unwrap().len(),
        AGENTS.len()
    );

    for (bad, field) in [
        (json!({"symbol": "SPY", "n_splits": 0}), "n_splits"),
        (json!({"symbol": "SPY", "cost_bps": -1}), "cost_bps"),
        (json!({"symbol": "SPY", "horizon": 0}), "horizon"),
    ] {
        let message = tool_error(&client, "backtest_signals", bad.clone()).await;
        assert!(message.contains(field), "{bad}: {message}");
    }

    // Costs only take away.
    let mut free = args.clone();
    free["cost_bps"] = json!(0);
    let free = ok(&client, "backtest_signals", free).await;
    assert_eq!(free["report"]["overall_trading"], *trading, "same trades");
    assert!(
        num(&report["overall"]["total_return"]) < num(&free["report"]["overall"]["total_return"]),
        "5 bps per trade costs something"
    );

    // With a progress token the answer streams: progress first, then the result.
    let response = raw_tool_call(&app, "backtest_signals", args.clone(), Some("bt-1")).await;
    assert_eq!(response.status(), 200);
    assert!(
        content_type(&response).starts_with("text/event-stream"),
        "{:?}",
        response.headers()
    );
    let messages = sse_messages(&response.text().await.unwrap());
    let (result, notes) = messages.split_last().expect("some SSE messages");
    assert_eq!(result["id"], json!(7), "the result comes last: {result}");
    assert_eq!(
        result["result"]["structuredContent"], out,
        "same report as without progress"
    );
    let progress: Vec<&Value> = notes
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert!(progress.len() >= 3, "{notes:?}");
    let mut previous = -1.0;
    for note in &progress {
        let p = &note["params"];
        assert_eq!(p["progressToken"], "bt-1", "{note}");
        let (done, total) = (num(&p["progress"]), num(&p["total"]));
        assert!(done > previous, "progress increases: {progress:?}");
        assert!(done <= total, "{note}");
        assert_eq!(p["total"], progress[0]["params"]["total"], "fixed total");
        previous = done;
    }
    let last = &progress.last().unwrap()["params"];
    assert_eq!(last["progress"], last["total"], "ends at 100%");

    // Without one it is a plain JSON answer.
    let response = raw_tool_call(&app, "backtest_signals", args, None).await;
    assert_eq!(response.status(), 200);
    assert!(
        content_type(&response).starts_with("application/json"),
        "{:?}",
        response.headers()
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], json!(7));
    assert_eq!(body["result"]["structuredContent"], out);

    no_look_ahead(&client).await;
    client.cancel().await.unwrap();
}

/// Signals the backtest trades at a bar must not change when later bars do,
/// and must be what `generate_signals` says given the bars up to it.
async fn no_look_ahead(client: &McpClient) {
    let n = 420;
    let closes = random_walk(n, 0x9e37_79b9_7f4a_7c15, 100.0);
    let bars = bars_from_closes(&closes, 0.6);
    let mut changed_closes = closes[..n - 50].to_vec();
    let last = changed_closes[n - 51];
    changed_closes.extend((1..=50).map(|i| last * (1.0 + 0.02 * i as f64)));
    let changed = bars_from_closes(&changed_closes, 0.6);
    assert_eq!(bars[..n - 50], changed[..n - 50]);
    let cut = day(n - 50);

    let signals = |out: &Value| -> Vec<Value> {
        array(&out["report"]["splits"])
            .iter()
            .flat_map(|s| array(&s["signals"]).clone())
            .collect()
    };
    let request = |bars: &[Value]| json!({"bars": bars, "n_splits": 2, "include_signals": true});
    let original = signals(&ok(client, "backtest_signals", request(&bars)).await);
    let altered = signals(&ok(client, "backtest_signals", request(&changed)).await);
    assert_eq!(original.len(), altered.len());
    let before: Vec<&Value> = original.iter().filter(|s| time(&s["time"]) < cut).collect();
    assert!(before.len() > 200, "{}", before.len());
    for (a, b) in original.iter().zip(&altered) {
        if time(&a["time"]) < cut {
            assert_eq!(a, b, "the signal at {} saw the future", a["time"]);
        }
    }
    assert_ne!(
        original, altered,
        "a 50-bar rally instead of a random walk changes later signals"
    );
    for s in &before {
        for field in ["action", "confidence", "position"] {
            assert!(!s[field].is_null(), "{s}");
        }
    }

    // A live caller at bar t sees what the backtest traded at t.
    for t in [150, 260, 369] {
        let traded = original
            .iter()
            .find(|s| time(&s["time"]) == day(t))
            .unwrap_or_else(|| panic!("no backtest signal at bar {t}"));
        let live = ok(client, "generate_signals", json!({"bars": &bars[..=t]})).await;
        assert_eq!(time(&live["time"]), time(&traded["time"]));
        assert_eq!(live["action"], traded["action"], "bar {t}: {live:#}");
        assert_eq!(live["confidence"], traded["confidence"], "bar {t}");
        let again = ok(client, "generate_signals", json!({"bars": &bars[..=t]})).await;
        assert_eq!(again, live, "bar {t}: deterministic");
    }
}
