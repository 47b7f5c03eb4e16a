//! The gateway's guardrails end to end: exact rate limits under
//! concurrency (embedded and DynamoDB on moto), one audit entry per request
//! with secrets redacted and a chain that finds tampering, and logs that
//! never carry a token or a secret.

use std::collections::BTreeMap;
use std::path::Path;

use gs_domain::{Owner, RecordScope, RecordStore, WriteCondition};
use serde_json::{Value, json};

use crate::helpers::{TestApp, run_cli, spawn_app_env, spawn_app_in, text};

/// A policy whose `limited` group may make `n` calls per minute to any server.
fn limited_policy(dir: &Path, n: u64) -> std::path::PathBuf {
    let path = dir.join("limited-policy.json");
    let policy = json!({
        "groups": {"limited": ["limited"], "admin": ["admin"]},
        "rate_limits": {"window_seconds": 60, "default": {"servers": {"*": 100000}}},
        "roles": {
            "limited": {"scopes": ["*"], "rate_limits": {"servers": {"*": n}}},
            "admin": {"scopes": ["*"], "rate_limits": {"servers": {"*": 100000}}}
        }
    });
    std::fs::write(&path, policy.to_string()).unwrap();
    path
}

fn token(app: &TestApp, sub: &str, extra: &[&str]) -> String {
    let data = app.data_dir.to_str().unwrap().to_string();
    let mut args = vec!["token", "--sub", sub, "--data-dir", data.as_str()];
    args.extend_from_slice(extra);
    let out = run_cli(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

struct Answer {
    status: u16,
    body: Value,
}

async fn post(app: &TestApp, token: &str, body: Value) -> Answer {
    let response = app
        .http
        .post(&app.mcp_url)
        .bearer_auth(token)
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(&body)
        .send()
        .await
        .expect("POST /mcp");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, body }
}

fn tool_call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

/// Sends `calls` simultaneous calls as one user against a limit of `n`.
async fn burst(app: &TestApp, n: u64, calls: u64) {
    let limited = token(app, "burst-user", &["--groups", "limited"]);
    let mut tasks = Vec::new();
    for id in 0..calls {
        let http = app.http.clone();
        let url = app.mcp_url.clone();
        let token = limited.clone();
        tasks.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .header("Accept", "application/json, text/event-stream")
                .header("MCP-Protocol-Version", "2025-06-18")
                .json(&tool_call(id, "list_symbols", json!({})))
                .send()
                .await
                .expect("POST /mcp");
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let body: Value = response.json().await.unwrap();
            (id, status, retry, body)
        }));
    }
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for task in tasks {
        let (id, status, retry, body) = task.await.unwrap();
        *statuses.entry(status).or_default() += 1;
        match status {
            200 => assert_eq!(body["result"]["isError"], false, "{body}"),
            429 => {
                let secs: u64 = retry.expect("Retry-After on 429").parse().unwrap();
                assert!((1..=60).contains(&secs), "Retry-After {secs}");
                assert_eq!(body["id"], id, "{body}");
                assert_eq!(body["error"]["code"], -32029, "{body}");
                assert_eq!(body["error"]["data"]["retry_after_seconds"], secs, "{body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(message.contains(&format!("retry in {secs} s")), "{message}");
            }
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert_eq!(
        statuses,
        BTreeMap::from([(200, n), (429, calls - n)]),
        "exactly {n} of {calls} simultaneous calls run"
    );

    // The caller sees the same count, and a refused call consumed nothing.
    let usage = post(
        app,
        &limited,
        tool_call(9_999, "get_usage", json!({"server": "market-data"})),
    )
    .await;
    let limits = &usage.body["result"]["structuredContent"]["limits"];
    assert_eq!(limits[0]["counter"], "server:market-data", "{}", usage.body);
    assert_eq!(limits[0]["used"], n, "{}", usage.body);
    assert_eq!(limits[0]["remaining"], 0, "{}", usage.body);

    // Without a server: every limit, the one for requests calling no tool too.
    let all = post(app, &limited, tool_call(9_998, "get_usage", json!({}))).await;
    let all = all.body["result"]["structuredContent"]["limits"]
        .as_array()
        .unwrap()
        .clone();
    let other = all
        .iter()
        .find(|l| l["counter"] == "server:*")
        .expect("server:* listed");
    assert_eq!(other["limit"], n, "{other}");
    assert!(
        all.iter().any(|l| l["counter"] == "server:monitoring"),
        "{all:?}"
    );

    // Every one of them is in the audit log, the refused ones as rate_limited.
    let admin = token(app, "auditor", &["--groups", "admin"]);
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = json!({"user": "burst-user", "tool": "list_symbols", "limit": 200});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = post(app, &admin, tool_call(10_000, "query_audit_log", args)).await;
        let structured = &page.body["result"]["structuredContent"];
        for entry in structured["entries"].as_array().unwrap() {
            *outcomes
                .entry(entry["outcome"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        match structured["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        outcomes,
        BTreeMap::from([
            ("ok".to_string(), n),
            ("rate_limited".to_string(), calls - n)
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_n_of_200_simultaneous_calls_run_on_the_embedded_engine() {
    let dir = tempfile::tempdir().unwrap();
    let policy = limited_policy(dir.path(), 37);
    let app = spawn_app_env(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--max-in-flight",
            "512",
            "--no-demo",
        ],
        &[],
    )
    .await;
    burst(&app, 37, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_n_of_200_simultaneous_calls_run_on_dynamodb() {
    let sdk = gs_aws_emulator::sdk_config();
    let table = gs_aws_emulator::unique_name("guardrails");
    gs_dynamo_store::table::create(&aws_sdk_dynamodb::Client::new(&sdk), &table)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = limited_policy(dir.path(), 29);
    let app = spawn_app_env(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--max-in-flight",
            "512",
            "--no-demo",
            "--store",
            "dynamodb",
        ],
        &[
            ("TABLE_NAME", table.as_str()),
            ("AWS_ENDPOINT_URL", gs_aws_emulator::endpoint()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    )
    .await;
    burst(&app, 29, 200).await;
}

const SECRET: &str = "hunter2-correct-horse";

/// The requests of one session, of every kind the endpoint serves.
fn session(forged_jwt: &str) -> Vec<Value> {
    vec![
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "audit-test", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
        tool_call(4, "get_quote", json!({"symbol": "AAPL"})),
        // Refused for the unknown argument names, but audited with them redacted.
        tool_call(
            5,
            "get_quote",
            json!({"symbol": "AAPL", "password": SECRET, "nested": {"api_key": SECRET}}),
        ),
        tool_call(
            6,
            "get_historical_data",
            json!({"symbol": "AAPL", "timeframe": "1d", "limit": 5, "note": format!("Bearer {forged_jwt}")}),
        ),
        // Forbidden: the session's token has market-data scopes only.
        tool_call(
            7,
            "calculate_indicators",
            json!({"symbol": "AAPL", "indicators": [{"name": "rsi"}]}),
        ),
        tool_call(8, "no_such_tool", json!({})),
        // With a progress token: rmcp's path.
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {
            "name": "list_symbols", "arguments": {}, "_meta": {"progressToken": "p-1"}}}),
        json!({"jsonrpc": "2.0", "id": 10, "method": "resources/list"}),
        json!({"jsonrpc": "2.0", "id": 11, "method": "resources/read", "params": {"uri": "market://quotes/realtime/AAPL"}}),
        json!({"jsonrpc": "2.0", "id": 12, "method": "prompts/list"}),
        json!({"jsonrpc": "2.0", "id": 13, "method": "prompts/get", "params": {"name": "market_briefing", "arguments": {"symbol": "AAPL"}}}),
        json!({"jsonrpc": "2.0", "id": 14, "method": "completion/complete", "params": {
            "ref": {"type": "ref/prompt", "name": "market_briefing"}, "argument": {"name": "symbol", "value": "A"}}}),
        json!({"jsonrpc": "2.0", "id": 15, "method": "no/such/method"}),
    ]
}

async fn audit_entries(app: &TestApp, admin: &str, user: &str) -> Vec<Value> {
    let page = post(
        app,
        admin,
        tool_call(100, "query_audit_log", json!({"user": user, "limit": 200})),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body["result"]["structuredContent"]["next_cursor"].is_null());
    page.body["result"]["structuredContent"]["entries"]
        .as_array()
        .unwrap()
        .clone()
}

async fn verify(app: &TestApp, admin: &str) -> Value {
    let answer = post(app, admin, tool_call(101, "verify_audit_chain", json!({}))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["result"]["structuredContent"].clone()
}

#[tokio::test]
async fn every_request_is_audited_once_and_the_chain_finds_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let app = spawn_app_in(&data_dir, true).await;
    let session_token = token(&app, "audited-user", &["--scopes", "market-data:*"]);
    let admin = token(&app, "auditor", &["--groups", "admin"]);
    let forged = format!("{}x", &session_token[..session_token.len() - 1]);

    let requests = session(&forged);
    for request in &requests {
        let answer = post(&app, &session_token, request.clone()).await;
        assert!(
            answer.status < 500,
            "{request}: {} {}",
            answer.status,
            answer.body
        );
    }
    // A request with a forged token is refused before it is a request of anyone.
    let refused = post(
        &app,
        &forged,
        tool_call(99, "get_quote", json!({"symbol": "AAPL"})),
    )
    .await;
    assert_eq!(refused.status, 401);

    let entries = audit_entries(&app, &admin, "audited-user").await;
    assert_eq!(
        entries.len(),
        requests.len(),
        "one entry per request: {entries:#?}"
    );
    let mut ids: Vec<&str> = entries
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), requests.len(), "each entry is its own request");
    let whole = serde_json::to_string(&entries).unwrap();
    assert!(!whole.contains(SECRET), "a secret reached the audit log");
    assert!(!whole.contains(&forged), "a token reached the audit log");
    assert!(!whole.contains(&session_token));
    // Newest first; the details of each kind.
    let by_method = |method: &str| -> Vec<&Value> {
        entries.iter().filter(|e| e["method"] == method).collect()
    };
    assert_eq!(by_method("initialize").len(), 1);
    assert_eq!(
        by_method("notifications/initialized")[0]["http_status"],
        202
    );
    let calls = by_method("tools/call");
    assert_eq!(calls.len(), 6);
    let outcome_of = |tool: &str| -> Vec<(String, Option<String>)> {
        calls
            .iter()
            .filter(|e| e["tool"] == tool)
            .map(|e| {
                (
                    e["outcome"].as_str().unwrap().to_string(),
                    e["error_code"].as_str().map(str::to_string),
                )
            })
            .collect()
    };
    assert_eq!(
        outcome_of("get_quote"),
        [
            ("error".to_string(), Some("invalid_input".to_string())),
            ("ok".to_string(), None)
        ]
    );
    assert_eq!(
        outcome_of("calculate_indicators"),
        [("forbidden".to_string(), Some("forbidden".to_string()))]
    );
    assert_eq!(outcome_of("no_such_tool")[0].0, "error");
    let redacted = calls
        .iter()
        .find(|e| e["params"]["password"].is_string())
        .expect("the refused get_quote is recorded with its parameters");
    assert_eq!(redacted["params"]["password"], "[REDACTED]");
    assert_eq!(redacted["params"]["nested"]["api_key"], "[REDACTED]");
    assert_eq!(redacted["params"]["symbol"], "AAPL");
    assert_eq!(redacted["server"], "market-data");
    assert!(redacted["latency_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(redacted["client_ip"], "127.0.0.1");
    assert_eq!(redacted["roles"], json!([]));
    assert_eq!(by_method("no/such/method")[0]["outcome"], "error");
    assert_eq!(by_method("resources/read")[0]["tool"], "get_quote");

    // Parameters are stored encrypted: the redacted parameters are not in the store in clear.
    let intact = verify(&app, &admin).await;
    assert_eq!(intact["ok"], true, "{intact}");
    assert!(intact["entries"].as_u64().unwrap() >= requests.len() as u64);
    app.stop();

    let store = gs_embedded_store::EmbeddedStore::open(&data_dir).unwrap();
    let scope = RecordScope::new(Owner::system(), "audit").unwrap();
    let stored = gs_tools::guard::audit::list_all(&store, &scope, "")
        .await
        .unwrap();
    for record in &stored {
        let text = String::from_utf8_lossy(&record.value);
        assert!(
            !text.contains("\"AAPL\""),
            "parameters are encrypted at rest: {text}"
        );
    }
    let victim = stored
        .iter()
        .find(|r| String::from_utf8_lossy(&r.value).contains("\"user\":\"audited-user\""))
        .unwrap()
        .clone();
    let key = scope.key(&victim.id).unwrap();

    // Edited: the outcome of one entry changed.
    let edited = String::from_utf8(victim.value.clone())
        .unwrap()
        .replace("\"outcome\":\"ok\"", "\"outcome\":\"error\"")
        .replace("\"outcome\":\"forbidden\"", "\"outcome\":\"ok\"");
    assert_ne!(edited.as_bytes(), victim.value.as_slice());
    store
        .put(
            &key,
            edited.as_bytes(),
            WriteCondition::Always,
            victim.expires_at,
        )
        .await
        .unwrap();
    drop(store);
    let app = spawn_app_in(&data_dir, true).await;
    let admin = token(&app, "auditor", &["--groups", "admin"]);
    let broken = verify(&app, &admin).await;
    assert_eq!(broken["ok"], false, "{broken}");
    let problem = broken["broken"][0]["problem"].as_str().unwrap();
    assert!(problem.contains("edited"), "{problem}");
    app.stop();

    // Restored, the chain verifies again; with the entry deleted, it does not.
    let store = gs_embedded_store::EmbeddedStore::open(&data_dir).unwrap();
    store
        .put(
            &key,
            &victim.value,
            WriteCondition::Always,
            victim.expires_at,
        )
        .await
        .unwrap();
    drop(store);
    let app = spawn_app_in(&data_dir, true).await;
    let admin = token(&app, "auditor", &["--groups", "admin"]);
    assert_eq!(verify(&app, &admin).await["ok"], true);
    app.stop();

    let store = gs_embedded_store::EmbeddedStore::open(&data_dir).unwrap();
    assert!(store.delete(&key, WriteCondition::Always).await.unwrap());
    drop(store);
    let app = spawn_app_in(&data_dir, true).await;
    let admin = token(&app, "auditor", &["--groups", "admin"]);
    let broken = verify(&app, &admin).await;
    assert_eq!(broken["ok"], false, "{broken}");
    let problem = broken["broken"][0]["problem"].as_str().unwrap();
    assert!(
        problem.contains("deleted") || problem.contains("missing"),
        "{problem}"
    );
    app.stop();
}

#[tokio::test]
async fn no_token_key_or_secret_reaches_the_log_in_a_whole_session() {
    let app = spawn_app_env(
        &[],
        &[
            (
                "GOLDENSIGNALS_LOG",
                "debug,rmcp=info,h2=info,hyper=info,reqwest=info",
            ),
            ("GOLDENSIGNALS_LOG_FORMAT", "json"),
        ],
    )
    .await;
    let session_token = token(&app, "logged-user", &["--scopes", "market-data:*"]);
    let forged = format!("{}x", &session_token[..session_token.len() - 1]);
    for request in session(&forged) {
        post(&app, &session_token, request).await;
    }
    for bad in [forged.as_str(), "not-a-jwt", &app.token] {
        post(
            &app,
            bad,
            tool_call(1, "get_quote", json!({"symbol": "AAPL", "token": SECRET})),
        )
        .await;
    }
    // The same session's lines, through get_logs.
    let admin = token(&app, "auditor", &["--groups", "admin"]);
    let logs = post(
        &app,
        &admin,
        tool_call(2, "get_logs", json!({"level": "debug", "limit": 500})),
    )
    .await;
    let lines = logs.body["result"]["structuredContent"]["lines"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        lines.iter().any(|l| l["fields"]["user"] == "logged-user"),
        "{lines:?}"
    );

    let log = app.log();
    for secret in [
        session_token.as_str(),
        forged.as_str(),
        app.token.as_str(),
        SECRET,
    ] {
        assert!(
            !log.contains(secret),
            "the log carries a secret ({} chars)",
            secret.len()
        );
        assert!(
            !logs.body.to_string().contains(secret),
            "get_logs carries a secret"
        );
    }
    let pem = std::fs::read_to_string(app.data_dir.join("dev-signing-key.pem")).unwrap();
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!log.contains(line), "the log carries the signing key");
    }
    // JSON lines; every line logged while serving a request names it.
    let mut in_requests = 0;
    for line in log.lines().filter(|l| l.starts_with('{')) {
        let line: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if line["span"]["name"] == "request" {
            in_requests += 1;
            for field in ["request_id", "user", "method", "server", "tool"] {
                assert!(line["span"].get(field).is_some(), "{field} missing: {line}");
            }
        }
    }
    assert!(
        in_requests >= session(&forged).len(),
        "{in_requests} request lines:\n{log}"
    );
    let tool_line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == "tool call" && l["span"]["tool"] == "get_quote")
        .unwrap_or_else(|| panic!("no tool call line for get_quote:\n{log}"));
    assert_eq!(tool_line["span"]["user"], "logged-user");
    assert_eq!(tool_line["span"]["server"], "market-data");
}
