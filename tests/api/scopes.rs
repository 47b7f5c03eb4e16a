//! What a caller sees and may call depends on its token's scopes and groups.

use std::collections::BTreeSet;

use rmcp::model::{GetPromptRequestParams, ReadResourceRequestParams};
use serde_json::{Value, json};

use crate::helpers::{McpClient, advertised_tools, call, expect_tool_error, spawn_app};

const MARKET_DATA_TOOLS: [&str; 3] = ["list_symbols", "get_quote", "get_historical_data"];

async fn listed_tools(client: &McpClient) -> Vec<Value> {
    client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect()
}

fn names(tools: &[Value]) -> BTreeSet<String> {
    tools
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_string()).collect()
}

fn tools_of(advertised: &[(String, String)], servers: &[&str]) -> BTreeSet<String> {
    advertised
        .iter()
        .filter(|(server, _)| servers.contains(&server.as_str()))
        .map(|(_, tool)| tool.clone())
        .collect()
}

#[tokio::test]
async fn tools_are_listed_and_callable_only_within_the_callers_scopes() {
    let app = spawn_app().await;

    // The catalogue grows (other servers, more tools); what is fixed is that
    // each listed tool is advertised under its server's scope, and that the
    // tools this suite knows sit under the right server.
    let advertised = advertised_tools(&app).await;
    for tool in MARKET_DATA_TOOLS {
        assert!(
            advertised.contains(&("market-data".to_string(), tool.to_string())),
            "{tool}: {advertised:?}"
        );
    }
    assert!(advertised.contains(&(
        "technical-analysis".to_string(),
        "calculate_indicators".to_string()
    )));
    let market_data = tools_of(&advertised, &["market-data"]);
    assert_eq!(market_data, set(&MARKET_DATA_TOOLS));
    let everything: BTreeSet<String> = advertised.iter().map(|(_, t)| t.clone()).collect();

    let full = app.client(&app.token).await;
    let tools = listed_tools(&full).await;
    assert_eq!(names(&tools), everything, "`*` lists every advertised tool");
    for tool in &tools {
        let name = tool["name"].as_str().unwrap();
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 20),
            "{name}: description"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}: inputSchema");
        assert_eq!(
            tool["outputSchema"]["type"], "object",
            "{name}: outputSchema"
        );
        assert!(
            tool["annotations"]["readOnlyHint"].is_boolean(),
            "{name}: annotations"
        );
        if MARKET_DATA_TOOLS.contains(&name) || name == "calculate_indicators" {
            assert_eq!(
                tool["annotations"]["readOnlyHint"],
                json!(true),
                "{name}: annotations"
            );
        }
    }
    full.cancel().await.unwrap();

    let market_only = app.mint_token(&["--scopes", "market-data:*"]);
    let viewer = app.mint_token(&["--groups", "viewer"]);
    let analyst = app.mint_token(&["--groups", "analyst"]);
    let one_tool = app.mint_token(&["--scopes", "market-data:get_quote"]);
    let analyst_servers = [
        "market-data",
        "technical-analysis",
        "sentiment",
        "options-flow",
        "alerts",
    ];
    // Viewers read time series and their own usage and health; the audit
    // log, metrics and errors are for operators.
    let viewer_extras = set(&[
        "list_series",
        "query_timeseries",
        "aggregate_series",
        "health_check",
        "get_usage",
    ]);
    let with_extras = |base: std::collections::BTreeSet<String>| {
        base.union(&viewer_extras)
            .cloned()
            .collect::<std::collections::BTreeSet<String>>()
    };
    for (who, token, expected) in [
        ("market-data:*", &market_only, market_data.clone()),
        (
            "viewer",
            &viewer,
            with_extras(tools_of(&advertised, &["market-data"])),
        ),
        (
            "analyst",
            &analyst,
            with_extras(tools_of(&advertised, &analyst_servers)),
        ),
        ("market-data:get_quote", &one_tool, set(&["get_quote"])),
    ] {
        let client = app.client(token).await;
        assert_eq!(names(&listed_tools(&client).await), expected, "{who}");
        client.cancel().await.unwrap();
    }
    assert!(
        tools_of(&advertised, &analyst_servers).contains("calculate_indicators"),
        "analysts compute indicators"
    );

    let client = app.client(&market_only).await;
    let refused = call(
        &client,
        "calculate_indicators",
        json!({"symbol": "AAPL", "indicators": [{"name": "sma"}]}),
    )
    .await;
    let message = expect_tool_error(&refused);
    assert!(
        message.contains("technical-analysis:calculate_indicators"),
        "{message}"
    );
    assert!(refused.get("structuredContent").is_none_or(Value::is_null));
    // Within its scopes the same token works.
    let quote = call(&client, "get_quote", json!({"symbol": "AAPL"})).await;
    assert_ne!(quote["isError"], json!(true), "{quote}");
    client.cancel().await.unwrap();

    let client = app.client(&one_tool).await;
    let refused = call(&client, "list_symbols", json!({})).await;
    assert!(
        expect_tool_error(&refused).contains("market-data:list_symbols"),
        "{refused}"
    );
    // Reading bars through a resource needs the tool's scope too.
    let read = client
        .read_resource(ReadResourceRequestParams::new(
            "market://historical/ohlcv/AAPL",
        ))
        .await;
    assert!(read.is_err(), "{read:?}");
    client.cancel().await.unwrap();

    // Without market-data scopes nothing of it leaks through the other methods.
    let analysis_only = app.mint_token(&["--scopes", "technical-analysis:*"]);
    let client = app.client(&analysis_only).await;
    let listed = names(&listed_tools(&client).await);
    assert_eq!(listed, tools_of(&advertised, &["technical-analysis"]));
    assert!(listed.contains("calculate_indicators"));
    assert!(client.list_all_resources().await.unwrap().is_empty());
    let read = client
        .read_resource(ReadResourceRequestParams::new(
            "market://quotes/realtime/AAPL",
        ))
        .await;
    assert!(read.is_err(), "{read:?}");
    let completions = client
        .complete_prompt_simple("market_briefing", "symbol", "A")
        .await
        .unwrap();
    assert!(completions.is_empty(), "{completions:?}");
    let mut args = serde_json::Map::new();
    args.insert("symbol".into(), json!("AAPL"));
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("market_briefing").with_arguments(args))
        .await
        .unwrap();
    let text = serde_json::to_value(&prompt.messages).unwrap()[0]["content"]["text"].to_string();
    // Only what its scopes allow is attached: indicators yes, quote and bars no.
    assert!(!text.contains("- Quote:"), "{text}");
    assert!(
        text.contains("your token cannot call get_quote")
            && text.contains("your token cannot call get_historical_data"),
        "{text}"
    );
    assert!(text.contains("- rsi: real="), "{text}");
    client.cancel().await.unwrap();
}
