//! Every listed tool, called with sensible arguments on the demo data and on
//! inline bars: its `structuredContent` validates against the `outputSchema`
//! it publishes, and the arguments against its `inputSchema`. Both schemas
//! compile as JSON Schema 2020-12 with unknown formats refused, as strict
//! validators (Ajv in MCP Inspector) read them.

use serde_json::{Value, json};

use crate::helpers::{
    SAMPLE_ORDER, SAMPLE_PORTFOLIO, SAMPLE_RULE, SAMPLE_SILENCE, call, expect_ok, spawn_app,
};

/// 2024-01-02T00:00:00Z; inline bars are one day apart from here.
const FIRST_DAY: i64 = 1_704_153_600;

/// `n` daily bars of a seeded random walk, as a client would send them.
pub fn inline_bars(n: usize) -> Vec<Value> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut price = 100.0_f64;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let open = price;
            price *= 1.0 + (u - 0.5) * 0.04;
            json!({
                "time": FIRST_DAY + i as i64 * 86_400,
                "open": open,
                "high": open.max(price) * (1.0 + u * 0.01),
                "low": open.min(price) * (1.0 - u * 0.01),
                "close": price,
                "volume": 1_000_000.0 + u * 500_000.0,
            })
        })
        .collect()
}

/// Sensible argument sets per tool, on stored and (where the tool takes
/// them) inline bars. A tool without an entry fails the calling test: each
/// new tool must be added here.
pub fn sample_arguments(tool: &str) -> Vec<Value> {
    let bars = inline_bars(260);
    match tool {
        "list_symbols" => vec![json!({}), json!({"prefix": "A"})],
        "get_quote" => vec![json!({"symbol": "AAPL"}), json!({"symbol": "BTC-USD"})],
        "get_historical_data" => vec![
            json!({"symbol": "AAPL", "timeframe": "1d", "limit": 30}),
            json!({"symbol": "AAPL", "timeframe": "4h", "days": 10}),
            json!({"symbol": "MSFT", "timeframe": "1w", "limit": 5}),
        ],
        "calculate_indicators" => vec![
            json!({
                "symbol": "AAPL", "timeframe": "1d", "lookback": 300, "output_rows": 50,
                "indicators": [
                    {"name": "rsi", "params": {"timeperiod": 14}},
                    {"name": "macd"},
                    {"name": "bbands", "params": {"timeperiod": 20}},
                    {"name": "atr"},
                    {"name": "stoch"},
                    {"name": "adx"}
                ]
            }),
            json!({"bars": bars, "indicators": [{"name": "sma", "params": {"timeperiod": 5}}, {"name": "ema"}]}),
        ],
        "detect_candlestick_patterns" => vec![
            json!({"symbol": "AAPL", "lookback": 200, "output_rows": 20}),
            json!({"bars": bars, "patterns": ["cdlengulfing", "cdldoji", "cdlmorningstar"], "penetration": 0.3}),
        ],
        "analyze_pattern" => vec![
            json!({"symbol": "AAPL", "lookback": 500, "min_confidence": 0.3}),
            json!({"bars": bars, "pattern_types": ["double_top", "double_bottom"]}),
        ],
        "analyze_timeframes" => vec![
            json!({"symbol": "AAPL", "timeframe": "1h"}),
            json!({"bars": bars, "timeframes": ["1d", "1w"]}),
        ],
        "generate_signals" => vec![
            json!({"symbol": "AAPL"}),
            json!({"symbol": "NVDA", "agents": ["rsi", "macd", "bollinger"], "use_consensus": false}),
            json!({"bars": bars, "hit_rate_weighting": true}),
        ],
        "backtest_signals" => vec![
            json!({"symbol": "AAPL", "lookback": 400, "n_splits": 3}),
            json!({"bars": bars, "n_splits": 2, "hit_rate_weighting": true, "include_signals": true, "allow_short": true, "cost_bps": 5}),
        ],
        "import_bars" => vec![
            json!({
                "symbol": "IMPORTED", "timeframe": "1d", "file_name": "sample.csv",
                "csv": "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,11,10,10.8,120\n"
            }),
            json!({
                "symbol": "IMPORTED", "timeframe": "1d", "skip_bad": true,
                "csv": ",Open,High,Low,Close,Volume\n2024-01-04,10,11,9,10.5,100\n2024-01-05,10,9,11,10,1\n"
            }),
        ],
        "list_series" => vec![json!({}), json!({"symbol": "AAPL", "timeframe": "1d"})],
        "query_timeseries" => vec![
            json!({"symbol": "AAPL", "timeframe": "1d", "aggregates": ["ohlc", "mean", "vwap", "returns", "log_returns"], "limit": 30}),
            json!({"symbol": "MSFT", "timeframe": "1h", "resample": "1d", "aggregates": ["min", "max", "sum"], "field": "volume", "limit": 10}),
        ],
        "aggregate_series" => vec![
            json!({"symbols": ["AAPL", "MSFT", "NVDA"], "mode": "equal_weighted", "limit": 20}),
            json!({"symbols": ["AAPL", "MSFT"], "mode": "correlation"}),
            json!({"symbols": ["AAPL", "MSFT"], "mode": "value_weighted", "start": "2026-01-01"}),
            json!({"symbols": ["AAPL", "MSFT"], "mode": "relative_performance"}),
        ],
        "health_check" => vec![json!({})],
        "get_usage" => vec![json!({}), json!({"server": "market-data"})],
        "get_metrics" => vec![json!({}), json!({"window_minutes": 5, "tool": "get_quote"})],
        "get_recent_errors" => vec![json!({}), json!({"limit": 5})],
        "query_audit_log" => vec![
            json!({}),
            json!({"limit": 3, "tool": "get_quote", "outcome": "ok"}),
        ],
        "verify_audit_chain" => vec![json!({})],
        "get_logs" => vec![json!({}), json!({"level": "debug", "limit": 5})],
        "import_news" => vec![
            json!({
                "file_name": "sample.jsonl",
                "text": "{\"time\":\"2026-03-02T12:00:00Z\",\"headline\":\"Apple beats estimates\",\"url\":\"https://sample.example/1\"}\n"
            }),
            json!({
                "format": "rss",
                "text": "<rss><channel><title>Feed</title><item><title>Microsoft raises guidance</title><link>https://sample.example/2</link><pubDate>Mon, 02 Mar 2026 14:30:00 GMT</pubDate></item></channel></rss>"
            }),
        ],
        "import_posts" => vec![json!({
            "text": "{\"time\":\"2026-03-02T14:00:00Z\",\"text\":\"$AAPL looking strong\",\"likes\":3}\n"
        })],
        "analyze_sentiment" => vec![
            json!({"texts": ["Acme crushes estimates and raises guidance", "Analysts downgrade Acme"]}),
            json!({"texts": ["The service is good but the food is TERRIBLE!!!"]}),
        ],
        "get_news_sentiment" => vec![
            json!({"symbol": "AAPL", "days": 30, "limit": 5}),
            json!({"symbol": "NVDA", "days": 365, "half_life_hours": 72}),
        ],
        "get_social_sentiment" => vec![json!({"symbol": "TSLA", "days": 30, "limit": 5})],
        "get_market_sentiment" => vec![json!({}), json!({"symbols": ["AAPL", "MSFT", "SPY"]})],
        "analyze_event_impact" => vec![
            json!({"symbol": "NVDA", "kind": "earnings_beat"}),
            json!({"symbol": "AAPL", "date": "2026-06-01", "windows": [[0, 1], [0, 10]]}),
        ],
        "import_options" => vec![
            json!({
                "file_name": "chain.csv",
                "text": "as_of,underlying,underlying_price,symbol,bid,ask,volume,open_interest\n2026-11-30T21:00:00Z,ACME,100,ACME  261218C00100000,4.1,4.3,120,1500\n2026-11-30T21:00:00Z,ACME,100,ACME  261218P00100000,3.6,3.8,80,1200\n"
            }),
            json!({
                "kind": "trades",
                "text": "time,symbol,price,size,exchange\n2026-11-30T15:00:00Z,ACME  261218C00100000,4.3,10,CBOE\n"
            }),
        ],
        "get_option_chain" => vec![
            json!({"symbol": "AAPL", "max_expiries": 2, "strikes_around": 3, "limit": 10}),
            json!({"symbol": "SPY", "right": "put", "delta_min": 0.1, "delta_max": 0.4, "model": "bjerksund_stensland"}),
        ],
        "calculate_greeks" => vec![
            json!({"right": "call", "underlying_price": 100.0, "strike": 105.0, "days": 45, "vol": 0.3}),
            json!({"right": "put", "underlying_price": 100.0, "strike": 95.0, "days": 120, "vol": 0.25, "style": "american", "model": "binomial", "steps": 300}),
            json!({"right": "call", "underlying_price": 50.0, "strike": 50.0, "days": 30, "vol": 5.0, "model": "bachelier"}),
        ],
        "implied_volatility" => vec![
            json!({"price": 2.5, "right": "call", "underlying_price": 100.0, "strike": 105.0, "days": 45}),
            json!({"price": 6.0, "right": "put", "underlying_price": 100.0, "strike": 102.0, "days": 90, "style": "american"}),
        ],
        "get_put_call_ratio" => vec![
            json!({"symbol": "AAPL"}),
            json!({"symbol": "TSLA", "days": 5}),
        ],
        "detect_unusual_activity" => vec![
            json!({"symbol": "NVDA"}),
            json!({"symbol": "AAPL", "kinds": ["sweep"], "min_score": 30, "limit": 5}),
        ],
        "analyze_options_flow" => vec![
            json!({"symbol": "AAPL"}),
            json!({"symbol": "SPY", "max_strikes": 10, "expiries": 2}),
        ],
        "create_portfolio" => vec![
            json!({"name": "sample", "idempotency_key": "sample-portfolio"}),
            json!({"name": "with limits", "idempotency_key": "sample-limits", "initial_cash": "250000.50",
                   "base_currency": "usd", "fill_timeframe": "1h",
                   "limits": {"max_position_weight": 0.3, "max_sector_weight": 0.5, "max_order_notional": 50000,
                              "allow_short": true, "daily_loss_limit": 5000, "restricted_symbols": ["TSLA"]},
                   "costs": {"slippage_bps": 1, "commission_per_share": "0.01", "commission_min": 0, "max_participation": 0.05}}),
        ],
        "list_portfolios" => vec![json!({}), json!({"name_contains": "SAMP"})],
        "get_portfolio" => vec![
            json!({"portfolio_id": SAMPLE_PORTFOLIO}),
            // Read twice: reading changes nothing.
            json!({"portfolio_id": SAMPLE_PORTFOLIO}),
        ],
        "place_order" => vec![
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "symbol": "AAPL", "side": "buy", "quantity": 10, "dry_run": true}),
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "symbol": "MSFT", "side": "buy", "quantity": 5,
                   "order_type": "stop_limit", "stop_price": 9000, "limit_price": 9100, "time_in_force": "gtc",
                   "idempotency_key": "sample-stop-limit"}),
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "symbol": "NVDA", "side": "buy", "quantity": 1000000,
                   "idempotency_key": "sample-too-big"}),
        ],
        // The second cancel finds the order closed and says so.
        "cancel_order" => vec![
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "order_id": SAMPLE_ORDER}),
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "order_id": SAMPLE_ORDER}),
        ],
        "get_orders" => vec![
            json!({"portfolio_id": SAMPLE_PORTFOLIO}),
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "status": "open", "symbol": "AAPL", "limit": 5}),
        ],
        "get_fills" => vec![
            json!({"portfolio_id": SAMPLE_PORTFOLIO}),
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "symbol": "AAPL", "limit": 1}),
        ],
        "check_trade_risk" => vec![json!({"portfolio_id": SAMPLE_PORTFOLIO,
            "trades": [{"symbol": "AAPL", "side": "buy", "quantity": 100}, {"symbol": "MSFT", "side": "buy", "quantity": 50}]})],
        "get_risk_metrics" => vec![
            json!({"portfolio_id": SAMPLE_PORTFOLIO}),
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "lookback": 252, "benchmark": "none", "cornish_fisher": false}),
        ],
        "get_performance" => vec![
            json!({"portfolio_id": SAMPLE_PORTFOLIO}),
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "windows": ["1m", "all"], "benchmark": "MSFT"}),
        ],
        "rebalance_preview" => vec![
            json!({"portfolio_id": SAMPLE_PORTFOLIO, "targets": {"AAPL": 0.3, "MSFT": "0.2", "SPY": 0.4}}),
        ],
        // Watchlists: made, listed, changed, scanned, read, deleted (the
        // second delete finds nothing and says so).
        "create_watchlist" => vec![
            json!({"name": "sample", "symbols": ["AAPL", "MSFT"]}),
            json!({"name": "sample-scheduled", "symbols": ["AAPL", "NVDA", "BTC-USD"], "timeframe": "1d",
                   "agents": ["rsi", "macd"], "use_consensus": true, "schedule": "cron(0 21 ? * MON-FRI *)"}),
        ],
        "list_watchlists" => vec![json!({}), json!({"limit": 1})],
        "update_watchlist" => vec![
            json!({"name": "sample", "add_symbols": ["NVDA"]}),
            json!({"name": "sample", "schedule": "rate(1 day)", "remove_symbols": ["MSFT"]}),
        ],
        "run_scan" => vec![json!({"name": "sample"}), json!({"name": "sample"})],
        "get_signal_history" => vec![
            json!({"watchlist": "sample"}),
            json!({"watchlist": "sample", "symbol": "AAPL", "limit": 5}),
        ],
        "delete_watchlist" => vec![
            json!({"name": "sample-scheduled"}),
            json!({"name": "sample-scheduled"}),
        ],
        // Alerts: the sample rule ($RULE) is made on first use.
        "create_alert_rule" => vec![
            json!({"name": "sample", "symbol": "AAPL", "condition": {"kind": "price_crosses_above", "value": 1000},
                   "idempotency_key": "sample-rule"}),
            json!({"name": "rsi oversold", "symbol": "MSFT", "timeframe": "1d",
                   "condition": {"kind": "indicator", "indicator": "rsi", "params": {"timeperiod": 14}, "op": "crosses_below", "value": 30},
                   "frequency": "once", "cooldown_minutes": 60, "expires_at": "2030-01-01T00:00:00Z",
                   "channels": [{"kind": "webhook", "url": "https://hooks.example.com/goldensignals"}],
                   "escalation": {"steps": [{"after_minutes": 15, "channels": [{"kind": "inbox"}]}], "repeat": 1},
                   "group_seconds": 10, "idempotency_key": "sample-rsi"}),
        ],
        "list_alert_rules" => vec![json!({}), json!({"symbol": "AAPL", "limit": 5})],
        "update_alert_rule" => vec![
            json!({"rule_id": SAMPLE_RULE, "cooldown_minutes": 5}),
            json!({"rule_id": SAMPLE_RULE, "condition": {"kind": "percent_move", "percent": 5, "bars": 3, "direction": "either"},
                   "clear_expiry": true}),
        ],
        "pause_alert_rule" => vec![
            json!({"rule_id": SAMPLE_RULE}),
            json!({"rule_id": SAMPLE_RULE}),
        ],
        "resume_alert_rule" => vec![
            json!({"rule_id": SAMPLE_RULE}),
            json!({"rule_id": SAMPLE_RULE}),
        ],
        "get_alert_history" => vec![json!({}), json!({"state": "triggered", "limit": 5})],
        "acknowledge_alert" => vec![json!({"rule_id": SAMPLE_RULE}), json!({"all": true})],
        // A rule of its own, so the sample rule stays for the other tools.
        "delete_alert_rule" => vec![
            json!({"rule_id": "ar_000000000000000000000000"}),
            json!({"rule_id": "ar_000000000000000000000000"}),
        ],
        "create_silence" => vec![
            json!({"symbol": "AAPL", "duration_minutes": 60, "idempotency_key": "sample-silence"}),
            json!({"rule_id": SAMPLE_RULE, "starts_at": "2030-01-01T00:00:00Z", "duration_minutes": 30,
                   "comment": "maintenance", "idempotency_key": "sample-silence-2"}),
        ],
        "list_silences" => vec![json!({}), json!({"include_ended": true})],
        "delete_silence" => vec![
            json!({"silence_id": SAMPLE_SILENCE}),
            json!({"silence_id": SAMPLE_SILENCE}),
        ],
        "get_events" => vec![
            json!({}),
            json!({"type": "bars.updated", "limit": 5, "include_market": true}),
        ],
        other => panic!(
            "no sample arguments for tool {other}; add them to tests/api/schemas.rs::sample_arguments"
        ),
    }
}

/// A validator for a published schema that checks formats and refuses the
/// ones it does not know.
pub fn strict_validator(what: &str, schema: &Value) -> jsonschema::Validator {
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "{what}: declares no 2020-12 dialect"
    );
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .build(schema)
        .unwrap_or_else(|e| panic!("{what} does not compile as strict JSON Schema 2020-12: {e}"))
}

pub fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .take(8)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[tokio::test]
async fn every_tools_structured_content_matches_its_published_output_schema() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.len() >= 9, "{} tools", tools.len());
    let mut checked = 0;
    for tool in &tools {
        let name = tool.name.as_ref();
        let input = Value::Object((*tool.input_schema).clone());
        let output = Value::Object(
            tool.output_schema
                .as_deref()
                .cloned()
                .unwrap_or_else(|| panic!("{name} publishes no outputSchema")),
        );
        let input_validator = strict_validator(&format!("{name} inputSchema"), &input);
        let output_validator = strict_validator(&format!("{name} outputSchema"), &output);
        for args in sample_arguments(name) {
            let problems = schema_errors(&input_validator, &args);
            assert!(
                problems.is_empty(),
                "{name}: sample arguments do not match the inputSchema: {problems:?}"
            );
            let result = call(&client, name, args.clone()).await;
            let structured = expect_ok(&result);
            let problems = schema_errors(&output_validator, &structured);
            assert!(
                problems.is_empty(),
                "{name} with {}: structuredContent does not match the outputSchema: {problems:#?}",
                crate::wire::brief(&args)
            );
            checked += 1;
        }
    }
    assert!(checked >= 2 * tools.len(), "{checked} calls checked");
    client.cancel().await.unwrap();
}
