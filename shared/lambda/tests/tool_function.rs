//! A tool function runs only calls its gateway signed: unsigned, tampered,
//! expired, replayed and misrouted calls are refused with a diagnostic that
//! says a retry cannot help; a signed call still needs the caller's scope.

mod support;

use std::time::Duration;

use gs_lambda::signed::{Refusal, sign};
use gs_lambda::{CallRefused, ToolFunction};

use gs_tools::{CallerIdentity, ErrorKind, ToolCall, ToolReply};
use serde_json::Value;
use serde_json::value::RawValue;

struct Fixture {
    aws: support::Aws,
    key: std::sync::Arc<dyn gs_crypto::MacKey>,
}

async fn fixture() -> Fixture {
    let aws = support::aws(true).await;
    let key = gs_lambda::mac_key(&aws.settings(&[]), &aws.sdk).unwrap();
    Fixture { aws, key }
}

impl Fixture {
    async fn function(&self, only: Option<&str>) -> ToolFunction {
        let extra: Vec<(&str, &str)> = only.map(|t| ("GS_TOOL", t)).into_iter().collect();
        gs_lambda::tool_function(&self.aws.settings(&extra), &self.aws.sdk)
            .await
            .unwrap()
    }

    /// The unsigned call of `events/tool/<tool>.json`, as `scopes`.
    fn call(&self, tool: &str, scopes: &[&str], valid_for: Duration) -> ToolCall {
        let path = support::workspace_root().join(format!("events/tool/{tool}.json"));
        let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        ToolCall::new(
            tool,
            RawValue::from_string(event["arguments"].to_string()).unwrap(),
            CallerIdentity {
                subject: event["caller"]["subject"].as_str().unwrap().to_string(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                groups: Vec::new(),
            },
            event["request_id"].as_str().unwrap(),
            valid_for,
        )
    }

    /// The signed payload as JSON, for tampering.
    async fn signed(&self, call: ToolCall) -> Value {
        serde_json::to_value(sign(self.key.as_ref(), call).await.unwrap()).unwrap()
    }
}

/// Changes a signed payload in place.
type Tamper = fn(&mut Value);

async fn run(function: &ToolFunction, payload: &Value) -> Result<ToolReply, CallRefused> {
    let raw = RawValue::from_string(payload.to_string()).unwrap();
    function.handle(&raw).await
}

fn refused(result: Result<ToolReply, CallRefused>, what: &str) -> Refusal {
    match result {
        Err(e) => {
            assert_eq!(e.error_type(), "Refused.NotRetryable", "{what}: {e}");
            e.0
        }
        Ok(reply) => panic!("{what}: the call ran: {reply:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_signed_untampered_fresh_calls_run_once() {
    let fx = fixture().await;
    let function = fx.function(None).await;
    let minute = Duration::from_secs(60);

    // A signed call runs, once.
    let good = fx
        .signed(fx.call("get_quote", &["market-data:*"], minute))
        .await;
    match run(&function, &good).await {
        Ok(ToolReply::Ok { structured, .. }) => {
            assert!(structured.get().contains("\"symbol\":\"AAPL\""));
        }
        other => panic!("a signed call must run: {other:?}"),
    }
    assert!(matches!(
        refused(run(&function, &good).await, "replay"),
        Refusal::Replayed
    ));

    // Tampering with anything the context covers is caught.
    let tamperings: [(&str, Tamper); 5] = [
        ("arguments", |p| {
            p["call"]["arguments"] = serde_json::json!({"symbol": "MSFT"});
        }),
        ("tool", |p| p["call"]["tool"] = "get_historical_data".into()),
        ("widened scopes", |p| {
            p["call"]["caller"]["scopes"] = serde_json::json!(["*"]);
        }),
        ("subject", |p| {
            p["call"]["caller"]["subject"] = "someone-else".into()
        }),
        ("deadline", |p| {
            p["call"]["deadline_ms"] =
                (p["call"]["deadline_ms"].as_u64().unwrap() + 600_000).into();
        }),
    ];
    for (what, tamper) in tamperings {
        let mut payload = fx
            .signed(fx.call("get_quote", &["market-data:*"], minute))
            .await;
        tamper(&mut payload);
        assert!(
            matches!(
                refused(run(&function, &payload).await, what),
                Refusal::Mismatch(_)
            ),
            "{what}"
        );
    }
    // The signed context itself, or its signature.
    let mut payload = fx
        .signed(fx.call("get_quote", &["market-data:*"], minute))
        .await;
    let context = payload["context"]
        .as_str()
        .unwrap()
        .replace("market-data:*", "*");
    payload["context"] = context.into();
    assert!(matches!(
        refused(run(&function, &payload).await, "context"),
        Refusal::BadSignature(_)
    ));
    let mut payload = fx
        .signed(fx.call("get_quote", &["market-data:*"], minute))
        .await;
    let mac = payload["mac"].as_str().unwrap();
    let flipped = if mac.starts_with('A') { "B" } else { "A" };
    payload["mac"] = format!("{flipped}{}", &mac[1..]).into();
    assert!(matches!(
        refused(run(&function, &payload).await, "mac"),
        Refusal::BadSignature(_)
    ));
    // No signature at all: a plain call, or junk.
    let unsigned = serde_json::to_value(fx.call("get_quote", &["*"], minute)).unwrap();
    assert!(matches!(
        refused(run(&function, &unsigned).await, "unsigned"),
        Refusal::BadSignature(_)
    ));
    let mut payload = fx.signed(fx.call("get_quote", &["*"], minute)).await;
    payload["mac"] = "".into();
    assert!(matches!(
        refused(run(&function, &payload).await, "empty mac"),
        Refusal::BadSignature(_)
    ));

    // Expired.
    let stale = fx
        .signed(fx.call("get_quote", &["*"], Duration::from_millis(50)))
        .await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(matches!(
        refused(run(&function, &stale).await, "expired"),
        Refusal::Expired(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_serves_only_its_tool_and_rechecks_the_scope() {
    let fx = fixture().await;
    let quote_only = fx.function(Some("get_quote")).await;
    let minute = Duration::from_secs(60);
    let other = fx.signed(fx.call("generate_signals", &["*"], minute)).await;
    assert!(matches!(
        refused(run(&quote_only, &other).await, "misrouted"),
        Refusal::WrongTool { .. }
    ));
    // Correctly signed, but the caller's scopes do not cover the tool: the
    // tool side refuses it too, without running it.
    let unscoped = fx
        .signed(fx.call("get_quote", &["technical-analysis:*"], minute))
        .await;
    match run(&quote_only, &unscoped).await {
        Ok(ToolReply::Error { kind, message }) => {
            assert_eq!(kind, ErrorKind::Forbidden, "{message}");
        }
        other => panic!("expected a forbidden reply: {other:?}"),
    }
    // A GS_TOOL naming no tool is a configuration error at start-up.
    let err = gs_lambda::tool_function(&fx.aws.settings(&[("GS_TOOL", "get_qoute")]), &fx.aws.sdk)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("GS_TOOL"), "{err}");
}
