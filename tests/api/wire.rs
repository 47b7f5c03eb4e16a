//! The four ways the wire used to hurt the server (issue 6): an overflowing
//! `days` hung the request, a prompt leaked data past the caller's scopes, a
//! misspelled argument was silently ignored, and long backtests stalled
//! everyone's quotes.

use std::time::{Duration, Instant};

use rmcp::model::GetPromptRequestParams;
use serde_json::{Value, json};

use crate::helpers::{McpClient, TestApp, call, expect_ok, expect_tool_error, spawn_app};
use crate::schemas::inline_bars;

/// Shortens a value for a failure message.
pub fn brief(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(400) {
        Some((cut, _)) => format!("{}... ({} bytes)", &text[..cut], text.len()),
        None => text,
    }
}

/// A raw JSON-RPC request to /mcp, as any HTTP client sends it (no session),
/// with a client-side timeout so a hang fails the test instead of stalling
/// it. Returns the JSON-RPC response and how long it took.
pub async fn rpc(
    app: &TestApp,
    token: &str,
    method: &str,
    params: Value,
    timeout: Duration,
) -> (Value, Duration) {
    let started = Instant::now();
    let response = app
        .http
        .post(&app.mcp_url)
        .bearer_auth(token)
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-11-25")
        .timeout(timeout)
        .json(&json!({"jsonrpc": "2.0", "id": 11, "method": method, "params": params}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method}: no answer within {timeout:?}: {e}"));
    let body = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("{method}: body not received within {timeout:?}: {e}"));
    let elapsed = started.elapsed();
    (jsonrpc_response(&body), elapsed)
}

/// The response in a JSON body or in an SSE stream (the message with an id).
fn jsonrpc_response(body: &str) -> Value {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        return value;
    }
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            serde_json::from_str::<Value>(&data.join("\n")).ok()
        })
        .find(|m| m.get("id").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC response in {body:?}"))
}

#[tokio::test]
async fn days_past_any_date_is_a_prompt_tool_error_not_a_hang() {
    let app = spawn_app().await;
    let args = json!({"symbol": "AAPL", "timeframe": "1d", "days": 4_000_000_000u64});
    let (response, elapsed) = rpc(
        &app,
        &app.token,
        "tools/call",
        json!({"name": "get_historical_data", "arguments": args}),
        Duration::from_secs(20),
    )
    .await;
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    let message = expect_tool_error(&response["result"]);
    assert!(message.contains("days"), "{message}");
    // The server keeps serving.
    let (response, _) = rpc(
        &app,
        &app.token,
        "tools/call",
        json!({"name": "get_quote", "arguments": {"symbol": "AAPL"}}),
        Duration::from_secs(10),
    )
    .await;
    expect_ok(&response["result"]);
}

fn prompt_text(prompt: &rmcp::model::GetPromptResult) -> String {
    let messages = serde_json::to_value(&prompt.messages).unwrap();
    messages
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"]["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn briefing(client: &McpClient, symbol: &str) -> String {
    let mut args = serde_json::Map::new();
    args.insert("symbol".into(), json!(symbol));
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("market_briefing").with_arguments(args))
        .await
        .expect("prompts/get market_briefing");
    prompt_text(&prompt)
}

/// Numbers as the briefing prints them (`x.xxxx`), from its quote and
/// indicator lines.
fn briefing_numbers(text: &str, line_starts: &[&str]) -> Vec<String> {
    text.lines()
        .filter(|l| line_starts.iter().any(|s| l.starts_with(s)))
        .flat_map(|l| {
            l.split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .filter(|t| t.contains('.') && t.len() >= 6)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn a_history_only_token_gets_no_quote_or_indicator_values_through_the_briefing() {
    let app = spawn_app().await;
    let full = app.client(&app.token).await;
    let everything = briefing(&full, "AAPL").await;
    let sections = ["- Quote:", "- rsi:", "- macd:", "- atr:", "- bbands:"];
    for section in sections {
        assert!(
            everything.contains(section),
            "{section} missing: {everything}"
        );
    }
    let quote = expect_ok(&call(&full, "get_quote", json!({"symbol": "AAPL"})).await);
    let price = quote["price"].as_f64().unwrap();
    let secret = briefing_numbers(&everything, &sections);
    assert!(secret.len() >= 6, "{secret:?} from {everything}");
    full.cancel().await.unwrap();

    let token = app.mint_token(&["--scopes", "market-data:get_historical_data"]);
    let client = app.client(&token).await;
    let text = briefing(&client, "AAPL").await;
    for section in sections {
        assert!(!text.contains(section), "{section} leaked: {text}");
    }
    for word in ["real=", "macdsignal", "upperband", "(previous close"] {
        assert!(!text.contains(word), "{word} leaked: {text}");
    }
    assert!(
        !text.contains(&format!("{price}")),
        "the price {price} leaked: {text}"
    );
    for number in &secret {
        assert!(!text.contains(number.as_str()), "{number} leaked: {text}");
    }
    assert!(
        text.contains("cannot call get_quote") && text.contains("cannot call calculate_indicators"),
        "{text}"
    );
    // What the token may call is still attached.
    assert!(text.contains("Change over last 20 bars"), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn misspelled_arguments_are_refused_naming_them_and_the_accepted_ones() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;
    let tools = client.list_all_tools().await.unwrap();
    let accepted_by = |name: &str| -> Vec<String> {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        // A tool without arguments (health_check) publishes no properties.
        tool.input_schema
            .get("properties")
            .and_then(|p| p.as_object())
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };

    let message = expect_tool_error(
        &call(
            &client,
            "calculate_indicators",
            json!({"symbol": "AAPL", "lookbak": 5, "indicators": [{"name": "sma"}]}),
        )
        .await,
    );
    assert!(message.contains("lookbak"), "{message}");
    let accepted = accepted_by("calculate_indicators");
    assert!(accepted.contains(&"lookback".to_string()), "{accepted:?}");
    for name in &accepted {
        assert!(
            message.contains(name.as_str()),
            "{name} not listed: {message}"
        );
    }

    // Every tool refuses an unknown name the same way.
    for tool in &tools {
        let name = tool.name.as_ref();
        let message =
            expect_tool_error(&call(&client, name, json!({"symbol": "AAPL", "lookbak": 5})).await);
        assert!(message.contains("lookbak"), "{name}: {message}");
        for accepted in accepted_by(name) {
            assert!(
                message.contains(accepted.as_str()),
                "{name}: {accepted} not listed: {message}"
            );
        }
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn get_quote_answers_promptly_while_four_long_backtests_run() {
    let app = spawn_app().await;
    // Long enough in a debug build (several seconds each) that all four are
    // still running when the quote is asked for.
    let bars = inline_bars(4_000);
    let args = json!({"bars": bars, "n_splits": 20, "hit_rate_weighting": true});
    let started = Instant::now();
    let mut backtests = Vec::new();
    for _ in 0..4 {
        let client = app.client(&app.token).await;
        let args = args.clone();
        backtests.push(tokio::spawn(async move {
            let result = call(&client, "backtest_signals", args).await;
            let finished = started.elapsed();
            client.cancel().await.unwrap();
            (result, finished)
        }));
    }
    // Let the backtests get going (their arguments are a few MB).
    tokio::time::sleep(Duration::from_millis(1_000)).await;

    let quoter = app.client(&app.token).await;
    let asked = Instant::now();
    let quote = tokio::time::timeout(
        Duration::from_secs(30),
        call(&quoter, "get_quote", json!({"symbol": "AAPL"})),
    )
    .await
    .expect("get_quote never answered");
    let took = asked.elapsed();
    let answered_at = started.elapsed();
    expect_ok(&quote);
    quoter.cancel().await.unwrap();

    let mut first_done = Duration::MAX;
    for backtest in backtests {
        let (result, finished) = backtest.await.unwrap();
        first_done = first_done.min(finished);
        // A backtest may run into its deadline; it must still answer cleanly.
        assert!(result.get("content").is_some(), "{}", brief(&result));
    }
    println!("quote took {took:?} at {answered_at:?}; first backtest done at {first_done:?}");
    assert!(
        took < Duration::from_secs(2),
        "get_quote took {took:?} while backtests ran"
    );
    assert!(
        first_done > answered_at,
        "a backtest finished ({first_done:?}) before the quote ({answered_at:?}): the test proves nothing; make the backtests longer"
    );
}
