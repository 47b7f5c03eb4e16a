//! One test per role of `infra/auth-policy.json`: a token minted with the
//! role's group lists exactly the tools the role's scopes allow, is refused
//! the others, and gets from resources, templates, completions and the
//! briefing prompt only data of tools it may call.

use std::collections::{BTreeMap, BTreeSet};

use rmcp::model::ReadResourceRequestParams;
use serde_json::Value;

use crate::helpers::{TestApp, advertised_tools, call, expect_ok, expect_tool_error, spawn_app};
use crate::schemas::sample_arguments;
use crate::wire::briefing;

const POLICY: &str = include_str!("../../infra/auth-policy.json");

/// The scopes a role grants, with those of the roles it includes.
fn role_scopes(policy: &Value, role: &str, seen: &mut BTreeSet<String>) -> BTreeSet<String> {
    let mut scopes = BTreeSet::new();
    if !seen.insert(role.to_string()) {
        return scopes;
    }
    let def = &policy["roles"][role];
    assert!(def.is_object(), "role {role} is not defined in the policy");
    for s in def["scopes"].as_array().into_iter().flatten() {
        scopes.insert(s.as_str().unwrap().to_string());
    }
    for included in def["includes"].as_array().into_iter().flatten() {
        scopes.extend(role_scopes(policy, included.as_str().unwrap(), seen));
    }
    scopes
}

fn group_scopes(group: &str) -> BTreeSet<String> {
    let policy: Value = serde_json::from_str(POLICY).unwrap();
    let roles = policy["groups"][group]
        .as_array()
        .unwrap_or_else(|| panic!("group {group} is not in the policy"));
    let mut scopes = BTreeSet::new();
    for role in roles {
        scopes.extend(role_scopes(
            &policy,
            role.as_str().unwrap(),
            &mut BTreeSet::new(),
        ));
    }
    scopes
}

fn allows(scopes: &BTreeSet<String>, server: &str, tool: &str) -> bool {
    scopes
        .iter()
        .any(|s| s == "*" || *s == format!("{server}:*") || *s == format!("{server}:{tool}"))
}

/// tool → server, from the scopes the server advertises.
async fn tool_servers(app: &TestApp) -> BTreeMap<String, String> {
    advertised_tools(app)
        .await
        .into_iter()
        .map(|(server, tool)| (tool, server))
        .collect()
}

async fn check_role(group: &str) {
    // Every group the policy names is tested by one of the tests below.
    let policy: Value = serde_json::from_str(POLICY).unwrap();
    let groups: BTreeSet<&str> = policy["groups"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        groups,
        BTreeSet::from(["admin", "analyst", "operator", "trader", "viewer"]),
        "the policy's groups changed: add a test per new role in tests/api/roles.rs"
    );

    let app = spawn_app().await;
    let scopes = group_scopes(group);
    let servers = tool_servers(&app).await;
    assert!(servers.len() >= 9, "{servers:?}");
    let may = |tool: &str| allows(&scopes, &servers[tool], tool);
    let expected: BTreeSet<String> = servers.keys().filter(|t| may(t)).cloned().collect();

    let token = app.mint_token(&["--groups", group]);
    let client = app.client(&token).await;

    let listed: BTreeSet<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(listed, expected, "{group}: tools/list");

    for (tool, server) in &servers {
        let args = sample_arguments(tool).remove(0);
        let result = call(&client, tool, args).await;
        if may(tool) {
            expect_ok(&result);
        } else {
            let message = expect_tool_error(&result);
            assert!(
                message.contains(&format!("{server}:{tool}")),
                "{group} calling {tool}: {message}"
            );
            assert!(
                result.get("structuredContent").is_none_or(Value::is_null),
                "{result}"
            );
        }
    }

    // Field rules: client IPs in audit entries and recent errors are for admins.
    // (A failed call, so there is a recent error to read.)
    expect_tool_error(
        &call(
            &client,
            "get_quote",
            serde_json::json!({"symbol": "NOSUCH"}),
        )
        .await,
    );
    for tool in ["query_audit_log", "get_recent_errors"] {
        if !may(tool) {
            continue;
        }
        let result = call(&client, tool, serde_json::json!({"limit": 50})).await;
        let structured = expect_ok(&result);
        let rows = structured["entries"]
            .as_array()
            .or(structured["errors"].as_array())
            .unwrap_or_else(|| panic!("{tool}: {structured}"));
        assert!(
            !rows.is_empty(),
            "{group} {tool}: the calls above were recorded"
        );
        let text = result["content"][0]["text"].as_str().unwrap();
        for row in rows {
            if group == "admin" {
                assert_eq!(row["client_ip"], "127.0.0.1", "{group} {tool}: {row}");
            } else {
                assert_eq!(row["client_ip"], "[REDACTED]", "{group} {tool}: {row}");
                assert!(!text.contains("127.0.0.1"), "{text}");
            }
        }
    }

    // resources/list: the quotes of the stored symbols, only with both
    // scopes; the data bus's event types with get_events.
    let all = client.list_all_resources().await.expect("resources/list");
    let (bus, resources): (Vec<_>, Vec<_>) =
        all.iter().partition(|r| r.uri.starts_with("databus://"));
    assert_eq!(
        bus.len(),
        if may("get_events") { 7 } else { 0 },
        "{group}: {bus:?}"
    );
    if may("get_quote") && may("list_symbols") {
        // The 8 demo symbols, and the one import_bars stored when allowed.
        let imported = usize::from(may("import_bars"));
        assert_eq!(resources.len(), 8 + imported, "{group}: {resources:?}");
    } else {
        assert!(resources.is_empty(), "{group}: {resources:?}");
    }
    for r in &resources {
        assert!(r.uri.starts_with("market://quotes/realtime/"), "{}", r.uri);
    }

    // resources/templates/list and resources/read follow the tools they read through.
    let templates: BTreeSet<String> = client
        .list_all_resource_templates()
        .await
        .expect("resources/templates/list")
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let mut expected_templates = BTreeSet::new();
    if may("get_quote") {
        expected_templates.insert("quote".to_string());
    }
    if may("get_historical_data") {
        expected_templates.insert("ohlcv".to_string());
    }
    if may("get_events") {
        expected_templates.insert("databus".to_string());
    }
    assert_eq!(templates, expected_templates, "{group}: templates");
    let bus_read = client
        .read_resource(ReadResourceRequestParams::new("databus://bars.updated"))
        .await;
    assert_eq!(
        bus_read.is_ok(),
        may("get_events"),
        "{group} reading databus: {bus_read:?}"
    );
    if let Ok(read) = bus_read {
        let contents = serde_json::to_value(&read.contents).unwrap();
        let body: Value = serde_json::from_str(contents[0]["text"].as_str().unwrap()).unwrap();
        assert!(body["events"].is_array(), "{body}");
    }
    for (uri, tool) in [
        ("market://quotes/realtime/AAPL", "get_quote"),
        (
            "market://historical/ohlcv/AAPL?timeframe=1d",
            "get_historical_data",
        ),
    ] {
        let read = client
            .read_resource(ReadResourceRequestParams::new(uri))
            .await;
        assert_eq!(read.is_ok(), may(tool), "{group} reading {uri}: {read:?}");
        if let Ok(read) = read {
            let contents = serde_json::to_value(&read.contents).unwrap();
            let body: Value = serde_json::from_str(contents[0]["text"].as_str().unwrap()).unwrap();
            assert_eq!(body["symbol"], "AAPL", "{body}");
        }
    }

    // completion/complete of a symbol comes from list_symbols.
    let completions = client
        .complete_prompt_simple("market_briefing", "symbol", "A")
        .await
        .expect("completion/complete");
    if may("list_symbols") {
        assert!(
            completions.contains(&"AAPL".to_string()),
            "{group}: {completions:?}"
        );
    } else {
        assert!(completions.is_empty(), "{group}: {completions:?}");
    }

    // The briefing carries each section only with its tool's scope.
    let text = briefing(&client, "AAPL").await;
    for (section, tool) in [
        ("- Quote:", "get_quote"),
        ("- rsi: real=", "calculate_indicators"),
        ("- macd: macd=", "calculate_indicators"),
        ("- Change over last 20 bars", "get_historical_data"),
    ] {
        assert_eq!(
            text.contains(section),
            may(tool),
            "{group}: {section} in the briefing: {text}"
        );
        assert_eq!(
            text.contains(&format!("cannot call {tool}")),
            !may(tool),
            "{group}: note about {tool}: {text}"
        );
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn viewer_role_sees_and_calls_only_market_data() {
    check_role("viewer").await;
}

#[tokio::test]
async fn analyst_role_sees_and_calls_only_its_scopes() {
    check_role("analyst").await;
}

#[tokio::test]
async fn trader_role_sees_and_calls_only_its_scopes() {
    check_role("trader").await;
}

#[tokio::test]
async fn operator_role_sees_monitoring_with_client_ips_redacted() {
    check_role("operator").await;
}

#[tokio::test]
async fn admin_role_sees_and_calls_everything() {
    check_role("admin").await;
}
