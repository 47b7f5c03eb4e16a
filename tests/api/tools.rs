//! The four tools against the demo data set, through a real MCP client.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use gs_analytics::Ohlcv;
use serde_json::{Value, json};

use crate::helpers::{
    McpClient, all_daily_bars, call, expect_ok, expect_tool_error, spawn_app, stored_series,
};

const DEMO_SYMBOLS: [&str; 8] = [
    "AAPL", "BTC-USD", "JPM", "MSFT", "NVDA", "SPY", "TSLA", "XOM",
];

fn time(bar: &Value) -> DateTime<Utc> {
    bar["time"].as_str().unwrap().parse().unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn bars_of(out: &Value) -> Vec<Value> {
    out["bars"].as_array().unwrap().clone()
}

fn assert_ascending(bars: &[Value]) {
    for pair in bars.windows(2) {
        assert!(time(&pair[0]) < time(&pair[1]), "not ascending: {pair:?}");
    }
}

async fn history(client: &McpClient, args: Value) -> Value {
    expect_ok(&call(client, "get_historical_data", args).await)
}

#[tokio::test]
async fn historical_data_pages_resamples_and_looks_back() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    let full = all_daily_bars(&client, "AAPL").await;
    let stored = stored_series(&client).await;
    let (_, _, count) = stored
        .iter()
        .find(|(s, tf, _)| s == "AAPL" && tf == "1d")
        .unwrap();
    assert_eq!(full.len() as u64, *count, "all stored daily bars");
    assert!(full.len() > 250, "about three years of daily bars");
    assert_ascending(&full);

    // Pagination: contiguous pages, no overlap, cursor on all but the last.
    let start = full[0]["time"].as_str().unwrap().to_string();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"symbol": "AAPL", "timeframe": "1d", "start": start, "limit": 100});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = history(&client, args).await;
        assert_eq!(page["count"], json!(bars_of(&page).len()));
        cursor = page["next_cursor"].as_str().map(str::to_string);
        let bars = bars_of(&page);
        assert!(!bars.is_empty());
        assert_ascending(&bars);
        if cursor.is_some() {
            assert_eq!(bars.len(), 100, "only the last page is short");
            assert_eq!(page["truncated"], json!(true));
        }
        pages.push(bars);
        if cursor.is_none() {
            break;
        }
        assert!(pages.len() < 100, "pagination does not end");
    }
    assert_eq!(pages.len(), full.len().div_ceil(100));
    for pair in pages.windows(2) {
        assert!(
            time(pair[0].last().unwrap()) < time(&pair[1][0]),
            "pages overlap"
        );
    }
    let joined: Vec<Value> = pages.concat();
    assert_eq!(joined, full, "pages are exactly the stored bars");

    // Latest-N mode: without a start, the newest `limit` bars.
    let latest = history(&client, json!({"symbol": "AAPL", "limit": 10})).await;
    assert_eq!(bars_of(&latest), full[full.len() - 10..].to_vec());
    assert_eq!(latest["timeframe"], "1d");
    assert_eq!(latest["resampled"], json!(false));
    assert_eq!(latest["synthetic"], json!(true));
    assert_eq!(latest["truncated"], json!(true), "older bars exist");

    // `days` looks back from the latest bar.
    let last = time(full.last().unwrap());
    let lookback = history(
        &client,
        json!({"symbol": "AAPL", "timeframe": "1d", "days": 30}),
    )
    .await;
    let expected: Vec<Value> = full
        .iter()
        .filter(|b| time(b) >= last - Duration::days(30))
        .cloned()
        .collect();
    assert!(expected.len() >= 15, "30 days hold about 21 sessions");
    assert_eq!(bars_of(&lookback), expected);

    // An explicit window [start, end].
    let window = history(
        &client,
        json!({"symbol": "AAPL", "start": full[10]["time"], "end": full[19]["time"]}),
    )
    .await;
    assert_eq!(bars_of(&window), full[10..20].to_vec());

    // Weekly bars are resampled from the daily ones: each is the aggregate
    // of the daily bars of its ISO week (Monday 00:00 UTC).
    let weekly = history(
        &client,
        json!({"symbol": "AAPL", "timeframe": "1w", "limit": 1000}),
    )
    .await;
    assert_eq!(weekly["timeframe"], "1w");
    assert_eq!(weekly["source_timeframe"], "1d");
    assert_eq!(weekly["resampled"], json!(true));
    let mut weeks: BTreeMap<NaiveDate, Vec<&Value>> = BTreeMap::new();
    for bar in &full {
        let day = time(bar).date_naive();
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        weeks.entry(monday).or_default().push(bar);
    }
    let weekly_bars = bars_of(&weekly);
    assert_eq!(weekly_bars.len(), weeks.len(), "one bar per week");
    for (bar, (monday, days)) in weekly_bars.iter().zip(&weeks) {
        assert_eq!(time(bar).date_naive(), *monday, "{bar}");
        assert_eq!(time(bar).time(), chrono::NaiveTime::MIN, "{bar}");
        let high = days
            .iter()
            .map(|d| num(&d["high"]))
            .fold(f64::MIN, f64::max);
        let low = days.iter().map(|d| num(&d["low"])).fold(f64::MAX, f64::min);
        let volume: f64 = days.iter().map(|d| num(&d["volume"])).sum();
        assert_eq!(num(&bar["open"]), num(&days[0]["open"]), "open {monday}");
        assert_eq!(num(&bar["high"]), high, "high {monday}");
        assert_eq!(num(&bar["low"]), low, "low {monday}");
        assert_eq!(
            num(&bar["close"]),
            num(&days.last().unwrap()["close"]),
            "close {monday}"
        );
        assert!(
            (num(&bar["volume"]) - volume).abs() <= volume * 1e-12,
            "volume {monday}: {} vs {volume}",
            bar["volume"]
        );
    }

    client.cancel().await.unwrap();
}

/// Every stored bar of one series, read page by page.
async fn all_bars(client: &McpClient, symbol: &str, timeframe: &str) -> Vec<Value> {
    let mut bars = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args =
            json!({"symbol": symbol, "timeframe": timeframe, "start": "1970-01-02", "limit": 5000});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = history(client, args).await;
        assert_eq!(
            page["resampled"],
            json!(false),
            "{symbol} {timeframe} is stored"
        );
        bars.extend(bars_of(&page));
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            return bars;
        }
    }
}

/// Start of the bucket of width `seconds` (weeks start on Monday 00:00 UTC).
fn bucket(t: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    if seconds == 7 * 86_400 {
        let day = t.date_naive();
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        monday.and_time(chrono::NaiveTime::MIN).and_utc()
    } else {
        DateTime::from_timestamp(t.timestamp().div_euclid(seconds) * seconds, 0).unwrap()
    }
}

/// OHLCV aggregation of `bars` into buckets, computed independently of the server.
fn aggregate(bars: &[Value], seconds: i64) -> Vec<(DateTime<Utc>, [f64; 5])> {
    let mut out: Vec<(DateTime<Utc>, [f64; 5])> = Vec::new();
    for bar in bars {
        let b = bucket(time(bar), seconds);
        let [o, h, l, c, v] = ["open", "high", "low", "close", "volume"].map(|k| num(&bar[k]));
        match out.last_mut() {
            Some((t, acc)) if *t == b => {
                acc[1] = acc[1].max(h);
                acc[2] = acc[2].min(l);
                acc[3] = c;
                acc[4] += v;
            }
            _ => out.push((b, [o, h, l, c, v])),
        }
    }
    out
}

fn assert_aggregates(what: &str, got: &[Value], want: &[(DateTime<Utc>, [f64; 5])]) {
    assert_eq!(got.len(), want.len(), "{what}: bar count");
    for (bar, (t, [o, h, l, c, v])) in got.iter().zip(want) {
        assert_eq!(time(bar), *t, "{what}: {bar}");
        assert_eq!(num(&bar["open"]), *o, "{what} open at {t}");
        assert_eq!(num(&bar["high"]), *h, "{what} high at {t}");
        assert_eq!(num(&bar["low"]), *l, "{what} low at {t}");
        assert_eq!(num(&bar["close"]), *c, "{what} close at {t}");
        assert!(
            (num(&bar["volume"]) - v).abs() <= v.abs() * 1e-12,
            "{what} volume at {t}: {} vs {v}",
            bar["volume"]
        );
    }
}

#[tokio::test]
async fn resampled_bars_aggregate_the_finer_stored_bars_in_every_mode() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    for (symbol, source, target, seconds) in [
        ("AAPL", "1d", "1w", 7 * 86_400),
        ("BTC-USD", "1d", "1w", 7 * 86_400),
        ("AAPL", "1h", "4h", 4 * 3_600),
        ("BTC-USD", "1h", "4h", 4 * 3_600),
        ("MSFT", "5m", "30m", 1_800),
        ("BTC-USD", "5m", "15m", 900),
    ] {
        let what = format!("{symbol} {source}->{target}");
        let finer = all_bars(&client, symbol, source).await;
        let expected = aggregate(&finer, seconds);
        assert!(expected.len() > 12, "{what}: enough buckets to page");

        // Latest-N, where the read-back window can cut the oldest bucket.
        for limit in [1usize, 5, 12] {
            let out = history(
                &client,
                json!({"symbol": symbol, "timeframe": target, "limit": limit}),
            )
            .await;
            assert_eq!(out["resampled"], json!(true), "{what}");
            assert_eq!(out["source_timeframe"], source, "{what}");
            assert_eq!(out["truncated"], json!(true), "{what}: older bars exist");
            assert_aggregates(
                &format!("{what} latest {limit}"),
                &bars_of(&out),
                &expected[expected.len() - limit..],
            );
        }

        // Paging forward from the first bar, where a page boundary can cut a bucket.
        let limit = expected.len() / 3 + 1;
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut args = json!({
                "symbol": symbol, "timeframe": target, "start": finer[0]["time"], "limit": limit
            });
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let page = history(&client, args).await;
            pages.extend(bars_of(&page));
            cursor = page["next_cursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                break;
            }
            assert!(
                pages.len() <= expected.len(),
                "{what}: pagination does not end"
            );
        }
        assert_aggregates(&format!("{what} paged by {limit}"), &pages, &expected);
    }

    client.cancel().await.unwrap();
}

#[tokio::test]
async fn historical_data_errors_say_what_to_do() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    let unknown =
        expect_tool_error(&call(&client, "get_historical_data", json!({"symbol": "ZZZZ"})).await);
    assert!(
        unknown.contains("ZZZZ") && unknown.contains("list_symbols"),
        "{unknown}"
    );

    let timeframe = expect_tool_error(
        &call(
            &client,
            "get_historical_data",
            json!({"symbol": "AAPL", "timeframe": "2d"}),
        )
        .await,
    );
    for valid in ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"] {
        assert!(timeframe.contains(valid), "{valid} in: {timeframe}");
    }

    for limit in [0, 6000] {
        let message = expect_tool_error(
            &call(
                &client,
                "get_historical_data",
                json!({"symbol": "AAPL", "limit": limit}),
            )
            .await,
        );
        assert!(
            message.contains("limit") && message.contains("5000"),
            "{message}"
        );
    }

    let cursor = expect_tool_error(
        &call(
            &client,
            "get_historical_data",
            json!({"symbol": "AAPL", "start": "2024-01-01", "cursor": "garbage!"}),
        )
        .await,
    );
    assert!(cursor.contains("cursor"), "{cursor}");

    let start = expect_tool_error(
        &call(
            &client,
            "get_historical_data",
            json!({"symbol": "AAPL", "start": "yesterday"}),
        )
        .await,
    );
    assert!(
        start.contains("start") && start.contains("RFC 3339"),
        "{start}"
    );

    let unknown_arg = expect_tool_error(
        &call(
            &client,
            "get_historical_data",
            json!({"symbol": "AAPL", "ticker": "AAPL"}),
        )
        .await,
    );
    assert!(unknown_arg.contains("ticker"), "{unknown_arg}");

    let quote = expect_tool_error(&call(&client, "get_quote", json!({"symbol": "ZZZZ"})).await);
    assert!(quote.contains("list_symbols"), "{quote}");

    client.cancel().await.unwrap();
}

fn series_values(v: &Value) -> Vec<Option<f64>> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(Value::as_f64)
        .collect()
}

/// Values equal within JSON's decimal round trip.
fn assert_same_series(what: &str, got: &[Option<f64>], want: &[Option<f64>]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        match (g, w) {
            (None, None) => {}
            (Some(g), Some(w)) => assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{what}[{i}]: {g} vs {w}"
            ),
            _ => panic!("{what}[{i}]: {g:?} vs {w:?}"),
        }
    }
}

struct Columns {
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl Columns {
    fn of(bars: &[Value]) -> Self {
        let col = |k: &str| bars.iter().map(|b| num(&b[k])).collect();
        Self {
            open: col("open"),
            high: col("high"),
            low: col("low"),
            close: col("close"),
            volume: col("volume"),
        }
    }

    fn ohlcv(&self) -> Ohlcv<'_> {
        Ohlcv {
            open: &self.open,
            high: &self.high,
            low: &self.low,
            close: &self.close,
            volume: &self.volume,
        }
    }
}

/// Checks every output of every indicator in `out` against the analytics
/// crate run on `bars`, keeping the last `rows` values.
fn assert_matches_analytics(out: &Value, bars: &[Value], rows: usize) {
    let columns = Columns::of(bars);
    for indicator in out["indicators"].as_array().unwrap() {
        let name = indicator["name"].as_str().unwrap();
        let params: Vec<(String, f64)> = indicator["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), num(v)))
            .collect();
        let expected = gs_analytics::compute(name, &params, &columns.ohlcv()).unwrap();
        let outputs = indicator["outputs"].as_object().unwrap();
        assert_eq!(outputs.len(), expected.outputs.len(), "{name}: outputs");
        for (output, values) in &expected.outputs {
            let got = series_values(&outputs[*output]);
            assert_same_series(
                &format!("{name}.{output}"),
                &got,
                &values[values.len() - rows..],
            );
        }
    }
}

#[tokio::test]
async fn indicators_match_the_analytics_crate_on_stored_and_inline_bars() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    // Stored bars: the latest `lookback` daily bars.
    let bars = bars_of(&history(&client, json!({"symbol": "AAPL", "limit": 120})).await);
    let out = expect_ok(
        &call(
            &client,
            "calculate_indicators",
            json!({
                "symbol": "AAPL",
                "timeframe": "1d",
                "lookback": 120,
                "indicators": [
                    {"name": "sma", "params": {"timeperiod": 20}},
                    {"name": "RSI"},
                    {"name": "macd"},
                    {"name": "bbands", "params": {"timeperiod": 10, "nbdevup": 1.5}}
                ]
            }),
        )
        .await,
    );
    assert_eq!(out["symbol"], "AAPL");
    assert_eq!(out["timeframe"], "1d");
    assert_eq!(out["synthetic"], json!(true));
    assert_eq!(out["bars_used"], json!(120));
    assert_eq!(out["rows"], json!(120));
    assert_eq!(out["truncated"], json!(false));
    let times: Vec<&Value> = bars.iter().map(|b| &b["time"]).collect();
    assert_eq!(
        out["time"].as_array().unwrap().iter().collect::<Vec<_>>(),
        times
    );
    let names: Vec<&str> = out["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["sma", "rsi", "macd", "bbands"],
        "request order, lower case"
    );
    assert_eq!(out["indicators"][0]["params"]["timeperiod"], json!(20));
    assert_eq!(
        out["indicators"][1]["params"]["timeperiod"],
        json!(14),
        "default filled in"
    );
    let macd = out["indicators"][2]["outputs"].as_object().unwrap();
    assert!(
        macd.contains_key("macd")
            && macd.contains_key("macdsignal")
            && macd.contains_key("macdhist")
    );
    let sma = series_values(&out["indicators"][0]["outputs"]["real"]);
    assert!(sma[..19].iter().all(Option::is_none), "warm-up is null");
    assert!(sma[19..].iter().all(Option::is_some));
    assert_matches_analytics(&out, &bars, 120);

    // output_rows keeps the newest rows; warm-up still uses every bar.
    let capped = expect_ok(
        &call(
            &client,
            "calculate_indicators",
            json!({
                "symbol": "AAPL",
                "lookback": 120,
                "output_rows": 5,
                "indicators": [{"name": "sma", "params": {"timeperiod": 20}}]
            }),
        )
        .await,
    );
    assert_eq!(capped["bars_used"], json!(120));
    assert_eq!(capped["rows"], json!(5));
    assert_eq!(capped["truncated"], json!(true));
    assert_eq!(capped["time"].as_array().unwrap().len(), 5);
    assert_eq!(capped["time"][4], bars[119]["time"]);
    assert_same_series(
        "capped sma",
        &series_values(&capped["indicators"][0]["outputs"]["real"]),
        &sma[115..],
    );

    // Inline bars, with values exact in decimal so nothing is lost in JSON.
    let inline: Vec<Value> = (0..60i64)
        .map(|i| {
            let base = 100.0 + (i % 7) as f64 * 1.5 - (i % 5) as f64 * 0.75 + i as f64 * 0.25;
            json!({
                "time": 1_704_153_600 + i * 86_400,
                "open": base,
                "high": base + 2.5,
                "low": base - 2.0,
                "close": base + ((i % 3) as f64 - 1.0) * 0.5,
                "volume": 1000 + i * 10,
            })
        })
        .collect();
    let out = expect_ok(
        &call(
            &client,
            "calculate_indicators",
            json!({
                "bars": inline,
                "indicators": [
                    {"name": "ema", "params": {"timeperiod": 10}},
                    {"name": "atr"},
                    {"name": "stoch"},
                    {"name": "obv"}
                ]
            }),
        )
        .await,
    );
    assert!(out["symbol"].is_null(), "inline bars have no symbol: {out}");
    assert_eq!(out["synthetic"], json!(false));
    assert_eq!(out["bars_used"], json!(60));
    assert_eq!(out["rows"], json!(60));
    assert_eq!(out["time"][0], "2024-01-02T00:00:00Z");
    assert_matches_analytics(&out, &inline, 60);

    // Mistakes come back as tool errors that list the valid choices.
    let unknown = expect_tool_error(
        &call(
            &client,
            "calculate_indicators",
            json!({"symbol": "AAPL", "indicators": [{"name": "magic"}]}),
        )
        .await,
    );
    for name in ["magic", "sma", "rsi", "macd", "bbands"] {
        assert!(unknown.contains(name), "{name} in: {unknown}");
    }
    let bad_param = expect_tool_error(
        &call(
            &client,
            "calculate_indicators",
            json!({"symbol": "AAPL", "indicators": [{"name": "sma", "params": {"period": 5}}]}),
        )
        .await,
    );
    assert!(
        bad_param.contains("period") && bad_param.contains("timeperiod"),
        "{bad_param}"
    );
    let out_of_range = expect_tool_error(
        &call(
            &client,
            "calculate_indicators",
            json!({"symbol": "AAPL", "indicators": [{"name": "sma", "params": {"timeperiod": 0}}]}),
        )
        .await,
    );
    assert!(out_of_range.contains("timeperiod"), "{out_of_range}");
    let both = expect_tool_error(
        &call(
            &client,
            "calculate_indicators",
            json!({"symbol": "AAPL", "bars": inline, "indicators": [{"name": "sma"}]}),
        )
        .await,
    );
    assert!(both.contains("either"), "{both}");
    let none = expect_tool_error(
        &call(
            &client,
            "calculate_indicators",
            json!({"symbol": "AAPL", "indicators": []}),
        )
        .await,
    );
    assert!(none.contains("sma"), "{none}");

    client.cancel().await.unwrap();
}

#[tokio::test]
async fn symbols_and_quotes_come_from_the_stored_series() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    let listing = expect_ok(&call(&client, "list_symbols", json!({})).await);
    assert_eq!(listing["synthetic"], json!(true));
    let symbols = listing["symbols"].as_array().unwrap();
    let names: Vec<&str> = symbols
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(names, DEMO_SYMBOLS);
    for entry in symbols {
        let mut timeframes: Vec<&str> = entry["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                assert_eq!(s["synthetic"], json!(true), "{entry}");
                assert!(s["bars"].as_u64().unwrap() > 0, "{entry}");
                s["timeframe"].as_str().unwrap()
            })
            .collect();
        timeframes.sort_unstable();
        assert_eq!(timeframes, ["1d", "1h", "5m"], "{}", entry["symbol"]);
    }
    let filtered = expect_ok(&call(&client, "list_symbols", json!({"prefix": "b"})).await);
    assert_eq!(filtered["symbols"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["symbols"][0]["symbol"], "BTC-USD");

    for symbol in ["AAPL", "BTC-USD"] {
        let quote = expect_ok(&call(&client, "get_quote", json!({"symbol": symbol})).await);
        let last = history(
            &client,
            json!({"symbol": symbol, "timeframe": "5m", "limit": 1}),
        )
        .await;
        let last_bar = &last["bars"][0];
        assert_eq!(quote["symbol"], symbol);
        assert_eq!(quote["source_timeframe"], "5m", "finest stored series");
        assert_eq!(quote["price"], last_bar["close"], "{symbol}: price");
        assert_eq!(quote["time"], last_bar["time"], "{symbol}: time");
        assert_eq!(quote["synthetic"], json!(true));
        // The session figures are those of the latest daily bar (the demo's
        // intraday bars aggregate exactly to their day), the previous close
        // that of the day before.
        let days = bars_of(&history(&client, json!({"symbol": symbol, "limit": 2})).await);
        let (yesterday, today) = (&days[0], &days[1]);
        assert_eq!(
            time(&quote).date_naive(),
            time(today).date_naive(),
            "{symbol}: same session"
        );
        for field in ["open", "high", "low"] {
            assert_eq!(quote[field], today[field], "{symbol}: session {field}");
        }
        let volume = num(&today["volume"]);
        assert!(
            (num(&quote["volume"]) - volume).abs() <= volume * 1e-9,
            "{symbol}: session volume {} vs {volume}",
            quote["volume"]
        );
        assert_eq!(quote["previous_close"], yesterday["close"], "{symbol}");
        let (price, previous) = (num(&quote["price"]), num(&yesterday["close"]));
        assert!(
            (num(&quote["change"]) - (price - previous)).abs() < 1e-9,
            "{quote}"
        );
        let percent = (price / previous - 1.0) * 100.0;
        assert!(
            (num(&quote["change_percent"]) - percent).abs() < 1e-9,
            "{quote}"
        );
    }

    client.cancel().await.unwrap();
}
