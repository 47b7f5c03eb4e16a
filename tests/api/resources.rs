//! Resources, prompts, completions and logging: the non-tool half of MCP.

// logging/setLevel is deprecated by SEP-2577 but still part of the versions served.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    GetPromptRequestParams, LoggingLevel, LoggingMessageNotificationParam,
    ReadResourceRequestParams, SetLevelRequestParams,
};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient};
use serde_json::{Value, json};

use crate::helpers::{McpClient, call, expect_ok, expect_tool_error, spawn_app};

async fn read_json(client: &McpClient, uri: &str) -> Value {
    let result = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap_or_else(|e| panic!("read {uri}: {e}"));
    let contents = serde_json::to_value(&result.contents).unwrap();
    assert_eq!(contents.as_array().unwrap().len(), 1, "{contents}");
    assert_eq!(contents[0]["uri"], uri);
    assert_eq!(contents[0]["mimeType"], "application/json");
    serde_json::from_str(contents[0]["text"].as_str().unwrap()).expect("JSON resource text")
}

#[tokio::test]
async fn resources_prompts_and_completions_serve_the_stored_data() {
    let app = spawn_app().await;
    let client = app.client(&app.token).await;

    let resources: Vec<String> = client
        .list_all_resources()
        .await
        .expect("resources/list")
        .iter()
        .map(|r| r.uri.clone())
        .collect();
    assert!(
        resources.contains(&"market://quotes/realtime/AAPL".to_string()),
        "{resources:?}"
    );
    let quotes = resources
        .iter()
        .filter(|r| r.starts_with("market://quotes/realtime/"))
        .count();
    assert_eq!(quotes, 8, "one quote per demo symbol: {resources:?}");
    let bus: Vec<&String> = resources
        .iter()
        .filter(|r| r.starts_with("databus://"))
        .collect();
    assert_eq!(bus.len(), 7, "one per event type: {resources:?}");
    assert_eq!(quotes + bus.len(), resources.len(), "{resources:?}");

    let templates: Vec<String> = client
        .list_all_resource_templates()
        .await
        .expect("resources/templates/list")
        .iter()
        .map(|t| t.uri_template.clone())
        .collect();
    assert!(
        templates.contains(&"market://historical/ohlcv/{symbol}{?timeframe,start,end}".to_string()),
        "{templates:?}"
    );
    assert!(
        templates.contains(&"market://quotes/realtime/{symbol}".to_string()),
        "{templates:?}"
    );

    let weekly = read_json(&client, "market://historical/ohlcv/AAPL?timeframe=1w").await;
    assert_eq!(weekly["symbol"], "AAPL");
    assert_eq!(weekly["timeframe"], "1w");
    assert_eq!(weekly["resampled"], json!(true));
    assert!(!weekly["bars"].as_array().unwrap().is_empty(), "{weekly}");
    // The resource and the tool agree.
    let tool = expect_ok(
        &call(
            &client,
            "get_historical_data",
            json!({"symbol": "AAPL", "timeframe": "1w"}),
        )
        .await,
    );
    assert_eq!(weekly["bars"], tool["bars"]);

    let quote = read_json(&client, "market://quotes/realtime/AAPL").await;
    let tool_quote = expect_ok(&call(&client, "get_quote", json!({"symbol": "AAPL"})).await);
    assert_eq!(quote["price"], tool_quote["price"]);

    for bad in [
        "market://nowhere/AAPL",
        "market://historical/ohlcv/ZZZZ",
        "market://historical/ohlcv/AAPL?timeframe=2d",
        "file:///etc/passwd",
    ] {
        let result = client
            .read_resource(ReadResourceRequestParams::new(bad))
            .await;
        assert!(result.is_err(), "{bad} should be an error: {result:?}");
    }

    let prompts = client.list_all_prompts().await.expect("prompts/list");
    let briefing = prompts
        .iter()
        .find(|p| p.name == "market_briefing")
        .expect("market_briefing is listed");
    let arguments = serde_json::to_value(&briefing.arguments).unwrap();
    assert_eq!(arguments[0]["name"], "symbol");
    assert_eq!(arguments[0]["required"], json!(true));

    let mut args = serde_json::Map::new();
    args.insert("symbol".into(), json!("AAPL"));
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("market_briefing").with_arguments(args))
        .await
        .expect("prompts/get");
    let messages = serde_json::to_value(&prompt.messages).unwrap();
    let text = messages[0]["content"]["text"].as_str().unwrap();
    assert_eq!(messages[0]["role"], "user");
    assert!(text.contains("AAPL"), "{text}");
    assert!(text.contains("SYNTHETIC"), "{text}");
    assert!(text.contains("rsi") || text.contains("RSI"), "{text}");

    // The options briefing attaches positioning, volatility and flow.
    assert!(prompts.iter().any(|p| p.name == "options_briefing"));
    let mut args = serde_json::Map::new();
    args.insert("symbol".into(), json!("NVDA"));
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("options_briefing").with_arguments(args))
        .await
        .expect("prompts/get options_briefing");
    let text = serde_json::to_value(&prompt.messages).unwrap()[0]["content"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    for part in [
        "NVDA",
        "gamma flip",
        "Expected move",
        "Put/call volume ratio",
        "SYNTHETIC",
    ] {
        assert!(text.contains(part), "{part} missing: {text}");
    }
    assert!(!text.contains("could not be loaded"), "{text}");
    let symbols = client
        .complete_prompt_simple("options_briefing", "symbol", "nv")
        .await
        .expect("completion/complete");
    assert_eq!(symbols, ["NVDA"]);

    let missing = client
        .get_prompt(GetPromptRequestParams::new("market_briefing"))
        .await;
    assert!(missing.is_err(), "symbol is required: {missing:?}");
    let unknown = client.get_prompt(GetPromptRequestParams::new("nope")).await;
    assert!(unknown.is_err(), "{unknown:?}");

    let symbols = client
        .complete_prompt_simple("market_briefing", "symbol", "a")
        .await
        .expect("completion/complete");
    assert_eq!(symbols, ["AAPL"]);
    let timeframes = client
        .complete_prompt_simple("market_briefing", "timeframe", "1")
        .await
        .expect("completion/complete");
    assert!(timeframes.contains(&"1d".to_string()), "{timeframes:?}");
    let resource_symbols = client
        .complete_resource_simple(
            "market://historical/ohlcv/{symbol}{?timeframe,start,end}",
            "symbol",
            "M",
        )
        .await
        .expect("completion/complete");
    assert_eq!(resource_symbols, ["MSFT"]);

    let level = client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Warning))
        .await;
    assert!(level.is_ok(), "logging/setLevel: {level:?}");

    client.cancel().await.unwrap();
}

/// A client that keeps the `notifications/message` it receives.
#[derive(Clone, Default)]
struct LogCollector {
    messages: Arc<Mutex<Vec<Value>>>,
}

impl ClientHandler for LogCollector {
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.messages
            .lock()
            .unwrap()
            .push(serde_json::to_value(params).unwrap());
    }
}

impl LogCollector {
    /// The messages received so far, after giving in-flight ones a moment.
    async fn settled(&self, expected: usize) -> Vec<Value> {
        for _ in 0..50 {
            if self.messages.lock().unwrap().len() >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.messages.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn set_level_makes_tool_calls_log_to_that_caller_only() {
    let app = spawn_app().await;
    let quote = json!({"symbol": "AAPL"});

    let logs = LogCollector::default();
    let client = app.client_with_handler(&app.token, logs.clone()).await;
    // No level set: no messages, plain results.
    expect_ok(&call(&client, "get_quote", quote.clone()).await);
    assert!(logs.settled(1).await.is_empty(), "nothing asked for");

    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Info))
        .await
        .expect("logging/setLevel");
    let result = call(&client, "get_quote", quote.clone()).await;
    expect_ok(&result);
    let messages = logs.settled(1).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["level"], "info");
    assert_eq!(messages[0]["data"]["tool"], "get_quote");
    assert_eq!(messages[0]["data"]["is_error"], json!(false));

    // Another caller (another subject) gets no messages.
    let other_logs = LogCollector::default();
    let other_token = app.mint_token(&["--scopes", "market-data:*"]);
    let other = app
        .client_with_handler(&other_token, other_logs.clone())
        .await;
    expect_ok(&call(&other, "get_quote", quote.clone()).await);
    assert!(other_logs.settled(1).await.is_empty());
    other.cancel().await.unwrap();

    // At `error`, only failed calls are reported.
    client
        .set_level(SetLevelRequestParams::new(LoggingLevel::Error))
        .await
        .expect("logging/setLevel");
    expect_ok(&call(&client, "get_quote", quote).await);
    expect_tool_error(&call(&client, "get_quote", json!({"symbol": "ZZZZ"})).await);
    let messages = logs.settled(2).await;
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[1]["level"], "error");
    assert_eq!(messages[1]["data"]["is_error"], json!(true));

    client.cancel().await.unwrap();
}
