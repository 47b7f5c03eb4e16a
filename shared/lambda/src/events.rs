//! The JSON events in `events/`: API Gateway HTTP API (payload v2) requests
//! as the gateway function receives them, with authorizer claims the way the
//! JWT authorizer writes them (a map of strings) and a realistic Host, plus
//! the unsigned tool calls behind them and an EventBridge scheduled event.
//!
//! `goldensignals dev events` regenerates them: tokens are minted by a fresh
//! throw-away issuer whose public key set is written beside them
//! (`events/issuer-jwks.json`, which only the events' gateway configuration
//! trusts), valid for ten years. The private key is never written anywhere.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use gs_auth::{AuthError, DevIssuer, Scope};
use serde_json::{Value, json};

/// The Host the events carry: an execute-api domain on the `$default` stage.
pub const EVENT_HOST: &str = "abc123defg.execute-api.us-east-1.amazonaws.com";
const API_ID: &str = "abc123defg";
const SOURCE_IP: &str = "203.0.113.7";
const USER_AGENT: &str = "claude-desktop/1.0 (mcp)";
/// Protocol version the events speak.
pub const PROTOCOL: &str = "2025-11-25";

/// One valid call per tool, on the demo data: the events of
/// `tools-call-<tool>.json`, and what the gateway test expects to succeed.
pub const SAMPLE_CALLS: &[(&str, &str)] = &[
    ("list_symbols", r#"{"prefix":"A"}"#),
    ("get_quote", r#"{"symbol":"AAPL"}"#),
    (
        "get_historical_data",
        r#"{"symbol":"AAPL","timeframe":"1d","limit":30}"#,
    ),
    (
        "calculate_indicators",
        r#"{"symbol":"AAPL","lookback":300,"output_rows":20,"indicators":[{"name":"rsi"},{"name":"macd"}]}"#,
    ),
    (
        "detect_candlestick_patterns",
        r#"{"symbol":"AAPL","lookback":200,"output_rows":20}"#,
    ),
    (
        "analyze_pattern",
        r#"{"symbol":"AAPL","lookback":500,"min_confidence":0.3}"#,
    ),
    (
        "analyze_timeframes",
        r#"{"symbol":"AAPL","timeframe":"1h"}"#,
    ),
    ("generate_signals", r#"{"symbol":"AAPL"}"#),
    (
        "backtest_signals",
        r#"{"symbol":"AAPL","lookback":400,"n_splits":3}"#,
    ),
    // The watchlist events: made, listed, changed, scanned, read, deleted.
    (
        "create_watchlist",
        r#"{"name":"events","symbols":["AAPL","MSFT"],"schedule":"rate(1 day)"}"#,
    ),
    ("list_watchlists", r#"{}"#),
    (
        "update_watchlist",
        r#"{"name":"events","add_symbols":["NVDA"]}"#,
    ),
    ("run_scan", r#"{"name":"events"}"#),
    ("get_signal_history", r#"{"watchlist":"events"}"#),
    ("delete_watchlist", r#"{"name":"events"}"#),
    (
        "import_bars",
        r#"{"symbol":"EVIMPORT","timeframe":"1d","file_name":"event.csv","csv":"Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,11,10,10.8,120\n"}"#,
    ),
    ("list_series", r#"{"symbol":"AAPL"}"#),
    (
        "query_timeseries",
        r#"{"symbol":"AAPL","timeframe":"1d","resample":"1w","aggregates":["ohlc","vwap","returns"],"limit":20}"#,
    ),
    (
        "aggregate_series",
        r#"{"symbols":["AAPL","MSFT"],"timeframe":"1d","mode":"correlation"}"#,
    ),
    ("health_check", r#"{}"#),
    ("get_usage", r#"{}"#),
    ("get_metrics", r#"{"window_minutes":60}"#),
    ("get_recent_errors", r#"{"window_minutes":60,"limit":10}"#),
    ("query_audit_log", r#"{"limit":5}"#),
    ("verify_audit_chain", r#"{}"#),
    ("get_logs", r#"{"level":"warn","limit":20}"#),
    (
        "import_news",
        r#"{"file_name":"event.jsonl","text":"{\"time\":\"2026-03-02T12:00:00Z\",\"headline\":\"Apple beats estimates\",\"url\":\"https://news.example/event\"}\n"}"#,
    ),
    (
        "import_posts",
        r#"{"text":"{\"time\":\"2026-03-02T14:00:00Z\",\"text\":\"$AAPL looking strong\",\"likes\":3}\n"}"#,
    ),
    (
        "analyze_sentiment",
        r#"{"texts":["Acme crushes estimates and raises guidance","Analysts downgrade Acme after a guidance cut"]}"#,
    ),
    (
        "get_news_sentiment",
        r#"{"symbol":"AAPL","days":30,"limit":5}"#,
    ),
    (
        "get_social_sentiment",
        r#"{"symbol":"AAPL","days":30,"limit":5}"#,
    ),
    ("get_market_sentiment", r#"{}"#),
    (
        "analyze_event_impact",
        r#"{"symbol":"AAPL","date":"2026-06-01"}"#,
    ),
    // The options events read the EVOPT chain that the import_options event
    // stores (the registry lists import_options first), so they need no
    // seeded option data.
    (
        "import_options",
        r#"{"file_name":"event-chain.csv","text":"as_of,underlying,underlying_price,symbol,bid,ask,volume,open_interest\n2026-11-30T21:00:00Z,EVOPT,100,EVOPT 261218C00100000,4.1,4.3,120,1500\n2026-11-30T21:00:00Z,EVOPT,100,EVOPT 261218P00100000,3.6,3.8,80,1200\n2026-11-30T21:00:00Z,EVOPT,100,EVOPT 261218C00105000,2.0,2.2,300,900\n2026-11-30T21:00:00Z,EVOPT,100,EVOPT 261218P00095000,1.9,2.1,50,2000\n"}"#,
    ),
    ("get_option_chain", r#"{"symbol":"EVOPT","limit":10}"#),
    (
        "calculate_greeks",
        r#"{"right":"call","underlying_price":100,"strike":105,"days":45,"vol":0.3}"#,
    ),
    (
        "implied_volatility",
        r#"{"price":2.5,"right":"call","underlying_price":100,"strike":105,"days":45}"#,
    ),
    ("get_put_call_ratio", r#"{"symbol":"EVOPT"}"#),
    (
        "detect_unusual_activity",
        r#"{"symbol":"EVOPT","date":"2026-11-30"}"#,
    ),
    ("analyze_options_flow", r#"{"symbol":"EVOPT"}"#),
    // The portfolio events use the portfolio the create_portfolio event
    // makes for the events' caller ($PORTFOLIO, its id), and cancel the
    // order the place_order event places ($ORDER).
    (
        "create_portfolio",
        r#"{"name":"events","idempotency_key":"event-portfolio","initial_cash":100000}"#,
    ),
    ("list_portfolios", r#"{}"#),
    ("get_portfolio", r#"{"portfolio_id":"$PORTFOLIO"}"#),
    (
        "place_order",
        r#"{"portfolio_id":"$PORTFOLIO","symbol":"AAPL","side":"buy","quantity":10,"order_type":"limit","limit_price":1,"time_in_force":"gtc","idempotency_key":"event-order"}"#,
    ),
    (
        "cancel_order",
        r#"{"portfolio_id":"$PORTFOLIO","order_id":"$ORDER"}"#,
    ),
    ("get_orders", r#"{"portfolio_id":"$PORTFOLIO"}"#),
    ("get_fills", r#"{"portfolio_id":"$PORTFOLIO"}"#),
    (
        "check_trade_risk",
        r#"{"portfolio_id":"$PORTFOLIO","trades":[{"symbol":"AAPL","side":"buy","quantity":50}]}"#,
    ),
    ("get_risk_metrics", r#"{"portfolio_id":"$PORTFOLIO"}"#),
    ("get_performance", r#"{"portfolio_id":"$PORTFOLIO"}"#),
    (
        "rebalance_preview",
        r#"{"portfolio_id":"$PORTFOLIO","targets":{"AAPL":0.4,"MSFT":0.3}}"#,
    ),
    // The alerts events use the rule the create_alert_rule event makes
    // ($RULE) and the silence of create_silence ($SILENCE).
    (
        "create_alert_rule",
        r#"{"name":"AAPL over 250","symbol":"AAPL","condition":{"kind":"price_crosses_above","value":250},"idempotency_key":"event-rule"}"#,
    ),
    ("list_alert_rules", r#"{}"#),
    (
        "update_alert_rule",
        r#"{"rule_id":"$RULE","cooldown_minutes":60}"#,
    ),
    ("pause_alert_rule", r#"{"rule_id":"$RULE"}"#),
    ("resume_alert_rule", r#"{"rule_id":"$RULE"}"#),
    ("get_alert_history", r#"{"limit":10}"#),
    ("acknowledge_alert", r#"{"rule_id":"$RULE"}"#),
    ("delete_alert_rule", r#"{"rule_id":"$RULE"}"#),
    (
        "create_silence",
        r#"{"symbol":"AAPL","duration_minutes":60,"idempotency_key":"event-silence"}"#,
    ),
    ("list_silences", r#"{}"#),
    ("delete_silence", r#"{"silence_id":"$SILENCE"}"#),
    ("get_events", r#"{"limit":5}"#),
];

/// The subject of every event's caller.
const EVENT_SUBJECT: &str = "analyst-7f3a";

/// A sample call's arguments with the portfolio placeholders filled in.
fn sample_arguments(args: &str) -> Value {
    let portfolio = gs_tools::portfolio::store::portfolio_id(EVENT_SUBJECT, "event-portfolio");
    let order = gs_tools::portfolio::store::order_id(&portfolio, "event-order");
    let text = args
        .replace("$PORTFOLIO", &portfolio)
        .replace("$ORDER", &order)
        .replace(
            "$RULE",
            &gs_tools::alerts::rule_id(EVENT_SUBJECT, "event-rule"),
        )
        .replace(
            "$SILENCE",
            &gs_tools::alerts::silence_id(EVENT_SUBJECT, "event-silence"),
        );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The resources the events read.
pub const SAMPLE_RESOURCES: &[(&str, &str)] = &[
    ("quote", "market://quotes/realtime/AAPL"),
    ("ohlcv", "market://historical/ohlcv/AAPL?timeframe=1d"),
    ("databus", "databus://bars.updated"),
];

/// The generated files (path under `events/`, content) and the issuer's
/// public keys.
#[derive(Debug)]
pub struct EventSet {
    pub files: Vec<(String, Value)>,
    pub jwks: Value,
}

/// API Gateway's rendering of a token's claims: every value a string,
/// arrays as `[a b]`.
fn authorizer_claims(token: &str) -> Value {
    let payload = token
        .split('.')
        .nth(1)
        .and_then(|p| B64URL.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Map<String, Value>>(&b).ok())
        .unwrap_or_default();
    let claims: serde_json::Map<String, Value> = payload
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Array(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (k, Value::String(text))
        })
        .collect();
    Value::Object(claims)
}

/// An HTTP API v2 event. `token: None` for a public route.
pub fn http_event(method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Value {
    let route = if path.starts_with("/.well-known/") {
        format!("{method} /.well-known/{{proxy+}}")
    } else {
        format!("{method} {path}")
    };
    let mut headers = json!({
        "host": EVENT_HOST,
        "user-agent": USER_AGENT,
        "x-forwarded-for": SOURCE_IP,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        "accept": "application/json, text/event-stream",
    });
    let mut context = json!({
        "accountId": "123456789012",
        "apiId": API_ID,
        "domainName": EVENT_HOST,
        "domainPrefix": API_ID,
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": SOURCE_IP,
            "userAgent": USER_AGENT,
        },
        "requestId": "Q1fGhjKLoAMEVxw=",
        "routeKey": route,
        "stage": "$default",
        "time": "01/Dec/2026:10:00:00 +0000",
        "timeEpoch": 1_796_119_200_000u64,
    });
    if let (Some(token), Some(h), Some(c)) =
        (token, headers.as_object_mut(), context.as_object_mut())
    {
        h.insert("authorization".into(), json!(format!("Bearer {token}")));
        c.insert(
            "authorizer".into(),
            json!({"jwt": {"claims": authorizer_claims(token), "scopes": null}}),
        );
    }
    if body.is_some()
        && let Some(h) = headers.as_object_mut()
    {
        h.insert("content-type".into(), json!("application/json"));
        h.insert("mcp-protocol-version".into(), json!(PROTOCOL));
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": false,
    });
    if let (Some(body), Some(e)) = (body, event.as_object_mut()) {
        e.insert("body".into(), json!(body.to_string()));
    }
    event
}

/// The same event on a named stage: API Gateway puts the stage in front of
/// the raw path.
fn on_stage(mut event: Value, stage: &str) -> Value {
    let path = event["rawPath"].as_str().unwrap_or("/").to_string();
    let staged = format!("/{stage}{path}");
    event["rawPath"] = json!(staged);
    event["requestContext"]["stage"] = json!(stage);
    event["requestContext"]["http"]["path"] = json!(staged);
    event
}

fn rpc(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// Every event file, with tokens from a fresh issuer in `scratch` (a
/// directory that is removed afterwards by the caller).
pub fn generate(scratch: &std::path::Path) -> Result<EventSet, AuthError> {
    let issuer = DevIssuer::load_or_create(scratch)?;
    let ten_years = Duration::from_secs(10 * 366 * 86_400);
    let admin = issuer.mint(EVENT_SUBJECT, &[], &["admin".to_string()], ten_years)?;
    let viewer = issuer.mint("viewer-2b9c", &[], &["viewer".to_string()], ten_years)?;
    let history_only = issuer.mint(
        "history-only-51d0",
        &[Scope::parse("market-data:get_historical_data")?],
        &[],
        ten_years,
    )?;
    let post = |token: &str, body: Value| http_event("POST", "/mcp", Some(token), Some(&body));
    let mut files = vec![
        (
            "gateway/initialize.json".to_string(),
            post(
                &admin,
                rpc(
                    1,
                    "initialize",
                    json!({
                        "protocolVersion": PROTOCOL,
                        "capabilities": {},
                        "clientInfo": {"name": "events", "version": "1.0"},
                    }),
                ),
            ),
        ),
        (
            "gateway/tools-list.json".into(),
            post(&admin, rpc(2, "tools/list", json!({}))),
        ),
        (
            "gateway/resources-list.json".into(),
            post(&admin, rpc(3, "resources/list", json!({}))),
        ),
        (
            "gateway/forbidden-scope.json".into(),
            post(
                &viewer,
                rpc(
                    4,
                    "tools/call",
                    json!({"name": "calculate_indicators", "arguments": {"symbol": "AAPL", "indicators": [{"name": "rsi"}]}}),
                ),
            ),
        ),
        (
            "gateway/forbidden-prompt.json".into(),
            post(
                &history_only,
                rpc(
                    5,
                    "prompts/get",
                    json!({"name": "market_briefing", "arguments": {"symbol": "AAPL"}}),
                ),
            ),
        ),
        (
            "gateway/named-stage-tools-list.json".into(),
            on_stage(post(&admin, rpc(7, "tools/list", json!({}))), "prod"),
        ),
        (
            "gateway/no-token.json".into(),
            http_event("POST", "/mcp", None, Some(&rpc(6, "tools/list", json!({})))),
        ),
        (
            "gateway/well-known.json".into(),
            http_event("GET", "/.well-known/oauth-protected-resource", None, None),
        ),
    ];
    for (n, (tool, args)) in SAMPLE_CALLS.iter().enumerate() {
        let arguments = sample_arguments(args);
        let id = 100u64.saturating_add(u64::try_from(n).unwrap_or(0));
        files.push((
            format!("gateway/tools-call-{tool}.json"),
            post(
                &admin,
                rpc(
                    id,
                    "tools/call",
                    json!({"name": tool, "arguments": arguments}),
                ),
            ),
        ));
        files.push((
            format!("tool/{tool}.json"),
            json!({
                "tool": tool,
                "arguments": arguments,
                "caller": {"subject": EVENT_SUBJECT, "scopes": ["*"]},
                "request_id": format!("event-{tool}"),
                "deadline_ms": 0,
            }),
        ));
    }
    for (n, (name, uri)) in SAMPLE_RESOURCES.iter().enumerate() {
        let id = 200u64.saturating_add(u64::try_from(n).unwrap_or(0));
        files.push((
            format!("gateway/resources-read-{name}.json"),
            post(&admin, rpc(id, "resources/read", json!({"uri": uri}))),
        ));
    }
    files.push((
        "scan/scheduled.json".into(),
        json!({
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2026-12-01T14:30:00Z",
            "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/goldensignals-dev-scan-us-equities"],
            "detail": {},
        }),
    ));
    for (consumer, events) in consumer_samples() {
        files.push((
            format!("consumer/{consumer}.json"),
            sqs_batch(consumer, &events),
        ));
    }
    let jwks = serde_json::to_value(issuer.jwks()).unwrap_or(Value::Null);
    Ok(EventSet { files, jwks })
}

/// Bus events as EventBridge delivers them to SQS, per consumer: what each
/// consumer's `consumer/{name}.json` batch carries. The notifier's names an
/// alert that does not exist, so its answer lists that record as failed.
fn consumer_samples() -> Vec<(&'static str, Vec<gs_domain::Event>)> {
    use gs_domain::{Event, EventType};
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default()
    };
    let bars = Event::new(
        "evt-bars-aapl-1d",
        "goldensignals/import",
        EventType::BarsUpdated,
        at("2026-12-01T21:05:00Z"),
        Some("AAPL".into()),
        json!({"symbol": "AAPL", "timeframe": "1d", "first": "2026-12-01T00:00:00Z",
               "last": "2026-12-01T00:00:00Z", "bars": 1, "inserted": 1, "updated": 0}),
    );
    let changed = Event::new(
        "evt-signal-changed-aapl",
        "goldensignals/scan",
        EventType::SignalChanged,
        at("2026-12-01T21:10:00Z"),
        Some("AAPL".into()),
        json!({"symbol": "AAPL", "timeframe": "1d", "watchlist": "core", "run_id": "1764623400000-ab12",
               "action": "buy", "previous_action": "hold", "confidence": 0.62,
               "bar_time": "2026-12-01T00:00:00Z", "synthetic": true}),
    )
    .owned_by(EVENT_SUBJECT);
    let triggered = Event::new(
        "evt-alert-triggered-missing",
        "goldensignals/alerts",
        EventType::AlertTriggered,
        at("2026-12-01T21:06:00Z"),
        Some("AAPL".into()),
        json!({"alert_id": "1764547200000-ar_000000000000000000000000", "rule_id": "ar_000000000000000000000000",
               "rule_name": "AAPL breaks 250", "symbol": "AAPL", "bar_time": "2026-12-01T00:00:00Z",
               "message": "close 251.2 crossed above 250 (previous close 248.9)"}),
    )
    .owned_by(EVENT_SUBJECT);
    vec![
        ("event-log", vec![bars.clone(), triggered.clone()]),
        ("alerts", vec![bars, changed]),
        ("notifier", vec![triggered]),
    ]
}

/// An SQS event source batch of `events`, each wrapped as EventBridge's
/// rule target sends it.
pub fn sqs_batch(consumer: &str, events: &[gs_domain::Event]) -> Value {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(n, e)| {
            let body = json!({
                "version": "0",
                "id": format!("eb-{}", e.id),
                "detail-type": e.kind.as_str(),
                "source": gs_aws_bus::EVENT_SOURCE,
                "account": "123456789012",
                "time": e.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "region": "us-east-1",
                "resources": [],
                "detail": e,
            });
            json!({
                "messageId": format!("{consumer}-message-{n}"),
                "receiptHandle": format!("AQEB{consumer}{n}"),
                "body": body.to_string(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764623100000",
                    "SenderId": "AIDAEVENTBRIDGE",
                    "ApproximateFirstReceiveTimestamp": "1764623100100"
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:goldensignals-dev-{consumer}"),
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({"Records": records})
}
