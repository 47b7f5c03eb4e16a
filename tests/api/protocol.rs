//! Protocol version negotiation: each version the server supports is the one
//! a client asking for it gets.

use rmcp::ClientLifecycleMode;
use rmcp::model::ProtocolVersion;
use serde_json::{Value, json};

use crate::helpers::{McpClient, call, discover_mode, expect_ok, initialize_request, spawn_app};

/// Lists the tools and calls one, returning the listed names.
async fn still_works(client: &McpClient) -> Vec<String> {
    let tools: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(tools.contains(&"get_quote".to_string()), "{tools:?}");
    let quote = expect_ok(&call(client, "get_quote", json!({"symbol": "SPY"})).await);
    assert_eq!(quote["symbol"], "SPY");
    tools
}

#[tokio::test]
async fn each_supported_protocol_version_is_negotiated() {
    let app = spawn_app().await;

    for version in ["2025-06-18", "2025-11-25"] {
        let response = app
            .post_mcp(&initialize_request(version), Some(&app.token))
            .await;
        assert_eq!(response.status(), 200, "{version}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["result"]["protocolVersion"], version, "{body}");
        assert_eq!(body["result"]["serverInfo"]["name"], "goldensignals");
        assert!(
            body["result"]["capabilities"]["tools"].is_object(),
            "{body}"
        );
        assert!(
            body["result"]["capabilities"]["logging"].is_object(),
            "{body}"
        );
    }

    // A version from the future is answered with one the server speaks.
    let response = app
        .post_mcp(&initialize_request("2099-01-01"), Some(&app.token))
        .await;
    let body: Value = response.json().await.unwrap();
    if let Some(version) = body["result"]["protocolVersion"].as_str() {
        assert!(
            ["2025-06-18", "2025-11-25", "2026-07-28"].contains(&version),
            "{body}"
        );
    }

    // The rmcp client's legacy handshake.
    let legacy = app.client(&app.token).await;
    let info = legacy.peer_info().expect("server info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2025_11_25);
    let legacy_tools = still_works(&legacy).await;
    legacy.cancel().await.unwrap();

    // The modern lifecycle (`server/discover`, per-request metadata).
    let modern = app.client_with(&app.token, discover_mode()).await;
    let info = modern.peer_info().expect("server info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);
    assert_eq!(
        still_works(&modern).await,
        legacy_tools,
        "same tools in every version"
    );
    modern.cancel().await.unwrap();

    let auto = app
        .client_with(
            &app.token,
            ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: Some(ProtocolVersion::V_2025_11_25),
            },
        )
        .await;
    assert_eq!(
        auto.peer_info().expect("server info").protocol_version,
        ProtocolVersion::V_2026_07_28
    );
    auto.cancel().await.unwrap();

    // Discovery without a token is refused like everything else on /mcp.
    let response = app
        .http
        .post(&app.mcp_url)
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2026-07-28")
        .header("Mcp-Method", "server/discover")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
