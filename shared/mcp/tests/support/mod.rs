//! An in-process gateway over the embedded store, for the guardrail tests
//! and the benchmark: the real router, invoker, tools and store.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use gs_auth::{DevIssuer, Policy, Scope, Verifier};
use gs_domain::{Bar, BarStore, DataSource, RecordStore, SeriesKey, Symbol, Timeframe};
use gs_embedded_store::EmbeddedStore;
use gs_mcp::{GoldenSignals, Guardrails, HttpConfig};
use gs_tools::{ComputePool, LocalInvoker, Stores};
use tower::ServiceExt;

pub struct Gateway {
    pub app: Router,
    pub token: String,
    /// The same verifier the router authenticates with.
    pub verifier: Arc<Verifier>,
    pub store: Arc<EmbeddedStore>,
    _dir: tempfile::TempDir,
}

/// `records`: the store the guardrails write to (by default the embedded one).
pub async fn gateway(
    guardrails: bool,
    records: Option<Arc<dyn RecordStore>>,
    policy: Policy,
) -> Gateway {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let key = SeriesKey::new(
        Symbol::parse("AAPL").unwrap(),
        Timeframe::parse("1d").unwrap(),
    );
    let bars: Vec<Bar> = (0..60)
        .map(|i| {
            let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(i);
            let p = 100.0 + i as f64;
            Bar::new(t, p, p + 2.0, p - 1.0, p + 1.0, 1000.0).unwrap()
        })
        .collect();
    store
        .put_bars(
            &key,
            &bars,
            &DataSource::Imported {
                file: "bench.csv".into(),
            },
        )
        .await
        .unwrap();
    let issuer = DevIssuer::load_or_create(dir.path()).unwrap();
    let token = issuer
        .mint(
            "bench-user",
            &[Scope::parse("*").unwrap()],
            &[],
            Duration::from_secs(3600),
        )
        .unwrap();
    let policy = Arc::new(policy);
    let records: Arc<dyn RecordStore> = records.unwrap_or_else(|| store.clone());
    let invoker = LocalInvoker::new(
        Stores {
            bars: store.clone(),
            records: records.clone(),
            cipher: None,
            bus: None,
        },
        Arc::new(ComputePool::per_core()),
    )
    .with_policy(policy.clone());
    let mut handler = GoldenSignals::new(Arc::new(invoker), records.clone());
    if guardrails {
        handler = handler.with_guardrails(Guardrails::new(policy.clone(), records, None));
    }
    let verifier = Arc::new(Verifier::new(issuer.verifier_config()));
    let app = gs_mcp::router(
        handler,
        verifier.clone(),
        policy,
        HttpConfig::new("http://127.0.0.1:8787"),
    );
    Gateway {
        app,
        token,
        verifier,
        store,
        _dir: dir,
    }
}

pub fn call_request(token: &str, id: u64, tool: &str, arguments: &str) -> Request<Body> {
    rpc_request(
        token,
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}}}}}"#
        ),
    )
}

/// A JSON-RPC POST to /mcp with the headers of the fast path.
pub fn rpc_request(token: &str, body: String) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/mcp")
        .header("host", "127.0.0.1:8787")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(Body::from(body))
        .unwrap()
}

pub async fn send(app: &Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}
