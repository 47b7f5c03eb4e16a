//! Guardrails in the gateway, in process: no result leaves without its audit
//! entry, an unmetered call does not run, and tool caps and resource reads
//! are limited like tool calls.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use gs_auth::Policy;
use gs_domain::{
    Increment, ListQuery, Record, RecordKey, RecordPage, RecordScope, RecordStore, StoreError,
    TxOp, WriteCondition,
};
use gs_embedded_store::EmbeddedStore;
use support::{call_request, gateway, rpc_request, send};

/// The embedded engine, with audit appends or counter increments made to
/// fail on demand (as an unreachable table would).
struct Flaky {
    inner: Arc<EmbeddedStore>,
    audit_down: AtomicBool,
    counters_down: AtomicBool,
}

fn down() -> StoreError {
    StoreError::Unavailable("the table cannot be reached".into())
}

#[async_trait]
impl RecordStore for Flaky {
    async fn get(&self, key: &RecordKey) -> Result<Option<Record>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(
        &self,
        key: &RecordKey,
        value: &[u8],
        condition: WriteCondition,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        self.inner.put(key, value, condition, expires_at).await
    }
    async fn delete(&self, key: &RecordKey, condition: WriteCondition) -> Result<bool, StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn increment(
        &self,
        key: &RecordKey,
        by: u64,
        ceiling: u64,
        window: Duration,
    ) -> Result<Increment, StoreError> {
        if self.counters_down.load(Ordering::SeqCst) {
            return Err(down());
        }
        self.inner.increment(key, by, ceiling, window).await
    }
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        if self.audit_down.load(Ordering::SeqCst)
            && ops.iter().any(|op| op.key().collection() == "audit")
        {
            return Err(down());
        }
        self.inner.transact(ops).await
    }
    async fn list(&self, scope: &RecordScope, query: &ListQuery) -> Result<RecordPage, StoreError> {
        self.inner.list(scope, query).await
    }
}

fn limited(get_quote: u64) -> Policy {
    Policy::from_json(&format!(
        r#"{{"rate_limits": {{"window_seconds": 60, "default": {{"servers": {{"*": 1000}}, "tools": {{"get_quote": {get_quote}}}}}}},
            "roles": {{"admin": {{"scopes": ["*"]}}}}}}"#
    ))
    .unwrap()
}

#[tokio::test]
async fn a_result_whose_audit_entry_cannot_be_written_is_withheld() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Arc::new(Flaky {
        inner: Arc::new(EmbeddedStore::open(dir.path()).unwrap()),
        audit_down: AtomicBool::new(false),
        counters_down: AtomicBool::new(false),
    });
    let gw = gateway(true, Some(flaky.clone()), limited(1000)).await;
    let (status, body) = send(&gw.app, call_request(&gw.token, 1, "list_symbols", "{}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["result"].is_object(), "{body}");

    flaky.audit_down.store(true, Ordering::SeqCst);
    let (status, body) = send(&gw.app, call_request(&gw.token, 2, "list_symbols", "{}")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["id"], 2);
    assert!(
        body.get("result").is_none(),
        "the result is withheld: {body}"
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("audit log") && message.contains("retry"),
        "{message}"
    );
    assert!(!body.to_string().contains("AAPL"), "{body}");

    flaky.audit_down.store(false, Ordering::SeqCst);
    let (status, _) = send(&gw.app, call_request(&gw.token, 3, "list_symbols", "{}")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the chain goes on once the store is back"
    );
}

#[tokio::test]
async fn a_call_whose_limit_cannot_be_checked_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Arc::new(Flaky {
        inner: Arc::new(EmbeddedStore::open(dir.path()).unwrap()),
        audit_down: AtomicBool::new(false),
        counters_down: AtomicBool::new(true),
    });
    let policy = Policy::from_json(
        r#"{"rate_limits": {"window_seconds": 60, "default": {"servers": {"*": 1000}}},
            "roles": {"admin": {"scopes": ["*"]}}}"#,
    )
    .unwrap();
    let gw = gateway(true, Some(flaky), policy).await;
    let csv = r#""Date,Open,High,Low,Close,Volume\n2024-05-01,1,2,0.5,1.5,10\n""#;
    let args = format!(r#"{{"symbol":"NEWSYM","timeframe":"1d","csv":{csv}}}"#);
    let (status, body) = send(&gw.app, call_request(&gw.token, 1, "import_bars", &args)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["isError"], true, "{body}");
    let text = body["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("nothing was run"), "{text}");
    let symbol = gs_domain::Symbol::parse("NEWSYM").unwrap();
    assert!(
        gs_domain::BarStore::series_of(gw.store.as_ref(), &symbol)
            .await
            .unwrap()
            .is_empty(),
        "import_bars did not run"
    );
}

#[tokio::test]
async fn tool_caps_and_resource_reads_are_limited_like_calls() {
    let gw = gateway(true, None, limited(3)).await;
    for id in 0..3 {
        let (status, body) = send(
            &gw.app,
            call_request(&gw.token, id, "get_quote", r#"{"symbol":"AAPL"}"#),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = send(
        &gw.app,
        call_request(&gw.token, 3, "get_quote", r#"{"symbol":"AAPL"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["data"]["counter"], "tool:get_quote", "{body}");
    // Another tool of the same server is not capped.
    let (status, _) = send(&gw.app, call_request(&gw.token, 4, "list_symbols", "{}")).await;
    assert_eq!(status, StatusCode::OK);
    // The quote resource is get_quote behind the scenes: limited too (rmcp's path).
    let read = rpc_request(
        &gw.token,
        r#"{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"market://quotes/realtime/AAPL"}}"#.into(),
    );
    let (status, body) = send(&gw.app, read).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["id"], 5);
    // Requests that call no tool count against the `*` limit.
    let few = Policy::from_json(
        r#"{"rate_limits": {"window_seconds": 60, "default": {"servers": {"*": 2}}},
            "roles": {"admin": {"scopes": ["*"]}}}"#,
    )
    .unwrap();
    let gw = gateway(true, None, few).await;
    let list = |id: u64| {
        rpc_request(
            &gw.token,
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#),
        )
    };
    for id in 0..2 {
        let (status, body) = send(&gw.app, list(id)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["result"]["tools"].is_array(), "{body}");
    }
    let (status, body) = send(&gw.app, list(2)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["data"]["counter"], "server:*", "{body}");
    assert_eq!(body["id"], 2);
    // Without guardrails nothing is counted (the benchmark's baseline).
    let open = gateway(false, None, limited(1)).await;
    for id in 0..3 {
        let (status, _) = send(
            &open.app,
            call_request(&open.token, id, "get_quote", r#"{"symbol":"AAPL"}"#),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
}
