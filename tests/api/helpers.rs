//! The harness: each test starts the real `goldensignals` binary on its own
//! port with its own data directory, and talks to it over HTTP like a client
//! would. Nothing is shared between tests.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, RoleClient, Service, ServiceExt};
use serde_json::{Value, json};
use tempfile::TempDir;

pub type McpClient = RunningService<RoleClient, ClientConfig>;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
const CLI_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server. The child process is killed (and reaped) on drop.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, what the server reports as its public URL.
    pub base_url: String,
    /// `<base_url>/mcp`.
    pub mcp_url: String,
    /// The dev token printed at start-up (every scope).
    pub token: String,
    pub data_dir: PathBuf,
    pub http: reqwest::Client,
    child: Option<Child>,
    stderr: File,
    /// Owns the data directory when the app created it itself.
    owned_dir: Option<TempDir>,
}

/// A test-owned directory that outlives server restarts.
pub struct TestDir {
    dir: TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temp dir"),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

/// A server with the demo data set, in a fresh data directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A server with the demo data set and extra `serve` arguments.
pub async fn spawn_app_with(args: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let data_dir = dir.path().join("data");
    let mut app = start(&data_dir, args);
    app.owned_dir = Some(dir);
    app
}

/// A server on an existing data directory; `demo` false passes `--no-demo`.
pub async fn spawn_app_in(data_dir: &Path, demo: bool) -> TestApp {
    let extra: &[&str] = if demo { &[] } else { &["--no-demo"] };
    start(data_dir, extra)
}

/// The binary with a clean environment: no `GOLDENSIGNALS_*` variable of the
/// developer's shell may change what a test exercises.
pub fn goldensignals() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_goldensignals"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GOLDENSIGNALS_") {
            command.env_remove(name);
        }
    }
    command.env("NO_COLOR", "1");
    command
}

/// Runs a CLI command to completion, killing it if it outlives `CLI_TIMEOUT`
/// (a command that should fail fast must not hang the suite).
pub fn run_cli(args: &[&str]) -> Output {
    let mut command = goldensignals();
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn goldensignals");
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || read_all(stdout));
    let err_reader = std::thread::spawn(move || read_all(stderr));
    let status = wait_or_kill(&mut child, CLI_TIMEOUT)
        .unwrap_or_else(|| panic!("`goldensignals {}` did not exit in time", args.join(" ")));
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `goldensignals import`, expected to succeed; returns stdout and stderr.
pub fn import(data_dir: &Path, symbol: &str, file: &str, extra: &[&str]) -> (String, String) {
    let data = data_dir.to_str().unwrap();
    let path = fixture(file);
    let mut args = vec![
        "import",
        "--symbol",
        symbol,
        "--timeframe",
        "1d",
        "--data-dir",
        data,
    ];
    args.extend_from_slice(extra);
    args.push(&path);
    let out = run_cli(&args);
    assert!(
        out.status.success(),
        "import of {file} failed: {}",
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf);
    buf
}

fn wait_or_kill(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("poll child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server with the demo data set, extra `serve` arguments and environment.
pub async fn spawn_app_env(args: &[&str], env: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let data_dir = dir.path().join("data");
    let mut app = start_env(&data_dir, args, env);
    app.owned_dir = Some(dir);
    app
}

fn start(data_dir: &Path, extra: &[&str]) -> TestApp {
    start_env(data_dir, extra, &[])
}

fn start_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> TestApp {
    let stderr = tempfile::tempfile().expect("create a log file");
    let mut command = goldensignals();
    command.envs(env.iter().copied());
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr.try_clone().expect("clone the log file"));
    let mut child = command.spawn().expect("spawn goldensignals serve");

    // Read the banner on a thread so a silent server cannot block the test;
    // the thread keeps draining stdout until the server exits.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // Once the banner is read nobody listens; keep draining anyway.
            let _ = tx.send(line);
        }
    });
    let mut app = TestApp {
        base_url: String::new(),
        mcp_url: String::new(),
        token: String::new(),
        data_dir: data_dir.to_owned(),
        http: reqwest::Client::new(),
        child: Some(child),
        stderr,
        owned_dir: None,
    };
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut banner = Vec::new();
    while banner.len() < 3 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => banner.push(line),
            Err(_) => panic!(
                "server did not print its banner (got {banner:?}); log:\n{}",
                app.log()
            ),
        }
    }
    let endpoint = banner[0]
        .strip_prefix("GoldenSignals MCP endpoint: ")
        .unwrap_or_else(|| panic!("unexpected banner line {:?}", banner[0]));
    assert_eq!(
        banner[1],
        format!("Data directory: {}", data_dir.display()),
        "banner"
    );
    assert!(banner[2].starts_with("Dev token"), "banner: {banner:?}");
    app.mcp_url = endpoint.to_string();
    app.base_url = endpoint
        .strip_suffix("/mcp")
        .unwrap_or_else(|| panic!("endpoint {endpoint} does not end in /mcp"))
        .to_string();
    // Not on stdout (a pipe here): in the owner-only file the banner names.
    let token_path = data_dir.join("dev-token");
    assert!(
        banner[2].ends_with(&token_path.display().to_string()),
        "banner: {banner:?}"
    );
    app.token = std::fs::read_to_string(&token_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", token_path.display()))
        .trim()
        .to_string();
    app
}

impl TestApp {
    /// What the server wrote to stderr so far (for failure messages).
    pub fn log(&self) -> String {
        let mut file = self.stderr.try_clone().expect("clone the log file");
        let mut log = String::new();
        let _ = file.rewind();
        let _ = file.read_to_string(&mut log);
        log
    }

    /// Stops the server the way an operator would (Ctrl-C) and waits for it
    /// to exit, so the database lock is released. Returns the exit status.
    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server is running");
        let pid = child.id().to_string();
        let sent = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "could not send SIGINT to the server");
        wait_or_kill(&mut child, SHUTDOWN_TIMEOUT).unwrap_or_else(|| {
            panic!(
                "server did not stop within {SHUTDOWN_TIMEOUT:?} of SIGINT; log:\n{}",
                self.log()
            )
        })
    }

    /// Mints a token with `goldensignals token --sub tester ARGS` against this
    /// server's data directory (same dev signing key).
    pub fn mint_token(&self, args: &[&str]) -> String {
        let data = self.data_dir.to_str().unwrap();
        let mut all = vec!["token", "--sub", "tester", "--data-dir", data];
        all.extend_from_slice(args);
        let out = run_cli(&all);
        assert!(
            out.status.success(),
            "token {args:?} failed: {}",
            text(&out.stderr)
        );
        let token = text(&out.stdout).trim().to_string();
        assert_eq!(token.split('.').count(), 3, "not a JWS: {token}");
        token
    }

    /// A raw JSON-RPC POST to /mcp, as a minimal HTTP client sends it.
    pub async fn post_mcp(&self, body: &Value, bearer: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.mcp_url)
            .header("Accept", "application/json, text/event-stream")
            .json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("POST /mcp")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// An rmcp client with the legacy `initialize` handshake.
    pub async fn client(&self, token: &str) -> McpClient {
        ClientConfig::default()
            .serve(self.transport(token))
            .await
            .unwrap_or_else(|e| panic!("MCP client could not connect: {e}; log:\n{}", self.log()))
    }

    /// An rmcp client with an explicit lifecycle (e.g. `server/discover`).
    pub async fn client_with(&self, token: &str, lifecycle: ClientLifecycleMode) -> McpClient {
        ClientConfig::default()
            .serve_with_lifecycle(self.transport(token), lifecycle)
            .await
            .unwrap_or_else(|e| panic!("MCP client could not connect: {e}; log:\n{}", self.log()))
    }

    /// An rmcp client (legacy handshake) whose handler sees the server's
    /// notifications.
    pub async fn client_with_handler<H: ClientHandler>(
        &self,
        token: &str,
        handler: H,
    ) -> RunningService<RoleClient, H> {
        handler
            .serve(self.transport(token))
            .await
            .unwrap_or_else(|e| panic!("MCP client could not connect: {e}; log:\n{}", self.log()))
    }

    fn transport(&self, token: &str) -> StreamableHttpClientTransport<reqwest::Client> {
        StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(self.mcp_url.clone()).auth_header(token),
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn initialize_request(version: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "goldensignals-api-tests", "version": "0.0.0"}
        }
    })
}

pub fn discover_mode() -> ClientLifecycleMode {
    ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    }
}

/// Calls a tool and returns the result as it travels on the wire (JSON).
/// In sample arguments: the caller's sample portfolio, and an open order in
/// it (made on first use, idempotently, when the caller may).
pub const SAMPLE_PORTFOLIO: &str = "$PORTFOLIO";
pub const SAMPLE_ORDER: &str = "$ORDER";
/// The caller's sample alert rule and silence (made on first use).
pub const SAMPLE_RULE: &str = "$RULE";
pub const SAMPLE_SILENCE: &str = "$SILENCE";

async fn resolve_samples<S: Service<RoleClient>>(
    client: &RunningService<RoleClient, S>,
    args: Value,
) -> Value {
    let mut text = args.to_string();
    for (placeholder, tool, make, field) in [
        (
            SAMPLE_RULE,
            "create_alert_rule",
            serde_json::json!({"name": "sample", "symbol": "AAPL",
                "condition": {"kind": "price_crosses_above", "value": 1000}, "idempotency_key": "sample-rule"}),
            "/rule/rule_id",
        ),
        (
            SAMPLE_SILENCE,
            "create_silence",
            serde_json::json!({"symbol": "AAPL", "duration_minutes": 60, "idempotency_key": "sample-silence"}),
            "/silence/silence_id",
        ),
    ] {
        let quoted = json_text(placeholder);
        if text.contains(&quoted) {
            let made = call_raw(client, tool, make).await;
            // Without the scope the placeholder stays: the call is refused first.
            if let Some(id) = made["structuredContent"]
                .pointer(field)
                .and_then(Value::as_str)
            {
                text = text.replace(&quoted, &json_text(id));
            }
        }
    }
    let (p, o) = (json_text(SAMPLE_PORTFOLIO), json_text(SAMPLE_ORDER));
    if !text.contains(&p) && !text.contains(&o) {
        return serde_json::from_str(&text).unwrap();
    }
    let created = call_raw(
        client,
        "create_portfolio",
        serde_json::json!({"name": "sample", "idempotency_key": "sample-portfolio"}),
    )
    .await;
    // A caller without the portfolio scope keeps the placeholder: its call is refused first.
    let Some(pf) = created["structuredContent"]["portfolio_id"].as_str() else {
        return args;
    };
    text = text.replace(&p, &json_text(pf));
    if text.contains(&o) {
        let placed = call_raw(
            client,
            "place_order",
            serde_json::json!({"portfolio_id": pf, "symbol": "AAPL", "side": "buy",
                "quantity": 1, "order_type": "limit", "limit_price": 1,
                "time_in_force": "gtc", "idempotency_key": "sample-order"}),
        )
        .await;
        let id = placed["structuredContent"]["order"]["order_id"]
            .as_str()
            .unwrap_or_else(|| panic!("placing the sample order: {placed}"));
        text = text.replace(&o, &json_text(id));
    }
    serde_json::from_str(&text).unwrap()
}

fn json_text(s: &str) -> String {
    Value::from(s).to_string()
}

pub async fn call<S: Service<RoleClient>>(
    client: &RunningService<RoleClient, S>,
    tool: &str,
    args: Value,
) -> Value {
    let args = resolve_samples(client, args).await;
    call_raw(client, tool, args).await
}

async fn call_raw<S: Service<RoleClient>>(
    client: &RunningService<RoleClient, S>,
    tool: &str,
    args: Value,
) -> Value {
    let Value::Object(arguments) = args else {
        panic!("tool arguments must be an object")
    };
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool} failed at the protocol level: {e}"));
    serde_json::to_value(result).unwrap()
}

/// The structured content of a successful tool result, after checking the
/// result also carries a text block for clients that only read text.
pub fn expect_ok(result: &Value) -> Value {
    assert_ne!(
        result["isError"],
        json!(true),
        "expected success: {result:#}"
    );
    let structured = result
        .get("structuredContent")
        .filter(|v| v.is_object())
        .unwrap_or_else(|| panic!("no structuredContent: {result:#}"));
    let has_text = result["content"].as_array().is_some_and(|blocks| {
        blocks
            .iter()
            .any(|b| b["type"] == "text" && b["text"].as_str().is_some_and(|t| !t.is_empty()))
    });
    assert!(has_text, "no text content block: {result:#}");
    structured.clone()
}

/// The text of a tool error (`isError: true`).
pub fn expect_tool_error(result: &Value) -> String {
    assert_eq!(
        result["isError"],
        json!(true),
        "expected a tool error: {result:#}"
    );
    result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Calls `list_symbols` and returns `symbol -> [(timeframe, bars)]`.
pub async fn stored_series(client: &McpClient) -> Vec<(String, String, u64)> {
    let out = expect_ok(&call(client, "list_symbols", json!({})).await);
    let mut series = Vec::new();
    for entry in out["symbols"].as_array().unwrap() {
        for s in entry["series"].as_array().unwrap() {
            series.push((
                entry["symbol"].as_str().unwrap().to_string(),
                s["timeframe"].as_str().unwrap().to_string(),
                s["bars"].as_u64().unwrap(),
            ));
        }
    }
    series
}

/// Every stored bar of a daily series, oldest first.
pub async fn all_daily_bars(client: &McpClient, symbol: &str) -> Vec<Value> {
    let out = expect_ok(
        &call(
            client,
            "get_historical_data",
            json!({"symbol": symbol, "timeframe": "1d", "start": "1970-01-02", "limit": 5000}),
        )
        .await,
    );
    assert!(out["next_cursor"].is_null(), "more than 5000 bars: {out}");
    out["bars"].as_array().unwrap().clone()
}

/// `(server, tool)` of every tool the server advertises a scope for.
pub async fn advertised_tools(app: &TestApp) -> Vec<(String, String)> {
    let meta = app.get_json("/.well-known/oauth-protected-resource").await;
    meta["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str()?.split_once(':'))
        .filter(|(_, tool)| *tool != "*")
        .map(|(server, tool)| (server.to_string(), tool.to_string()))
        .collect()
}
