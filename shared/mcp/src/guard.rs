//! The gateway's guardrails on `/mcp`, after authentication and before
//! either call path: every request is answered, measured and appended to
//! the audit log; tool calls (direct, through rmcp, behind resources and
//! prompts) are rate-limited and their outputs redacted in
//! [`GoldenSignals::invoke`](crate::GoldenSignals), which notes what it did
//! in the request's [`Ledger`].
//!
//! Over a limit the answer is HTTP 429 with `Retry-After` and a JSON-RPC
//! error saying when to retry; nothing ran. If the audit entry cannot be
//! written the caller gets 503 instead of the result: no answer leaves
//! unaudited.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use gs_auth::Policy;
use gs_crypto::FieldCipher;
use gs_domain::RecordStore;
use gs_tools::guard::audit::{AuditLog, AuditRecord};
use gs_tools::guard::rate_limit::{self, Admission};
use gs_tools::guard::redact;
use gs_tools::{ErrorKind, ToolReply, ToolSpec};
use serde::Deserialize;
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::{GoldenSignals, Principal};

/// JSON-RPC error code of a rate-limited request (server-defined range).
pub const RATE_LIMITED_CODE: i64 = -32029;

/// The caller's address as the edge saw it (API Gateway's source IP);
/// locally the socket's peer address is used.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// Rate limits, the audit log and field rules, shared by every request.
pub struct Guardrails {
    policy: Arc<Policy>,
    records: Arc<dyn RecordStore>,
    audit: AuditLog,
    emf: bool,
}

impl Guardrails {
    pub fn new(
        policy: Arc<Policy>,
        records: Arc<dyn RecordStore>,
        cipher: Option<Arc<dyn FieldCipher>>,
    ) -> Self {
        Self {
            audit: AuditLog::new(records.clone(), cipher),
            policy,
            records,
            emf: false,
        }
    }

    /// Also print a CloudWatch Embedded Metric Format line per request
    /// (latency, errors, throttles per tool); for Lambda.
    pub fn with_emf(mut self, on: bool) -> Self {
        self.emf = on;
        self
    }

    /// How long audit entries are kept (default 90 days; DynamoDB TTL removes them).
    pub fn with_audit_retention(mut self, retention: std::time::Duration) -> Self {
        self.audit = self.audit.with_retention(retention);
        self
    }

    /// Counts the call against the caller's limits; `Some(reply)` refuses it.
    pub(crate) async fn admit(&self, who: &Principal, spec: &ToolSpec) -> Option<ToolReply> {
        let limits = self
            .policy
            .call_limits(&who.caller.groups, spec.server, spec.name)?;
        self.admit_limits(who, &limits).await
    }

    /// A request that calls no tool (initialize, tools/list, notifications,
    /// ...) counts against the caller's `*` limit, as `server:*`, so no
    /// kind of request is unmetered.
    async fn admit_request(&self, who: &Principal) -> Option<ToolReply> {
        let mut limits = self.policy.call_limits(&who.caller.groups, "*", "")?;
        limits.counters.retain(|(counter, _)| counter == "server:*");
        self.admit_limits(who, &limits).await
    }

    async fn admit_limits(
        &self,
        who: &Principal,
        limits: &gs_auth::CallLimits,
    ) -> Option<ToolReply> {
        match rate_limit::admit(self.records.as_ref(), &who.subject, limits).await {
            Ok(Admission::Admitted) => None,
            Ok(limited) => {
                let retry = limited.retry_after_secs();
                let message = match &limited {
                    Admission::Limited {
                        counter,
                        limit,
                        window,
                        ..
                    } => format!(
                        "rate limit reached: {limit} calls per {} s ({counter}); nothing was run; retry in {retry} s, or call monitoring get_usage to see your limits",
                        window.as_secs()
                    ),
                    Admission::Admitted => String::new(),
                };
                if let Ok(mut ledger) = who.ledger.lock() {
                    ledger.limited = Some(limited);
                }
                Some(ToolReply::Error {
                    kind: ErrorKind::RateLimited,
                    message,
                })
            }
            Err(e) => {
                tracing::error!(request_id = %who.request_id, error = %e, "rate limits cannot be checked");
                // Fail closed: an unmetered call is not run.
                Some(ToolReply::Error {
                    kind: ErrorKind::Unavailable,
                    message: format!(
                        "rate limits cannot be checked right now, so nothing was run; retry shortly (request id {})",
                        who.request_id
                    ),
                })
            }
        }
    }

    /// Redacts fields the caller's roles may not see.
    pub(crate) fn redact(&self, who: &Principal, tool: &str, reply: ToolReply) -> ToolReply {
        let hidden: Vec<&str> = self.policy.hidden_fields(&who.roles, tool).collect();
        if hidden.is_empty() {
            return reply;
        }
        let ToolReply::Ok {
            structured,
            summary,
        } = reply
        else {
            return reply;
        };
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(structured.get()) else {
            return ToolReply::Error {
                kind: ErrorKind::Internal,
                message: "the tool's output could not be checked for restricted fields".into(),
            };
        };
        let removed = redact::redact_fields(&mut value, &hidden);
        let summary = redact::mask_text(&summary, &removed);
        match serde_json::value::to_raw_value(&value) {
            Ok(structured) => ToolReply::Ok {
                structured,
                summary,
            },
            Err(_) => ToolReply::Error {
                kind: ErrorKind::Internal,
                message: "the tool's output could not be re-encoded after redaction".into(),
            },
        }
    }
}

/// What a request's tool calls did (the last call, for requests that make several).
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub server: Option<&'static str>,
    pub tool: Option<&'static str>,
    /// `None`: ok; `Some(kind)`: the tool's error.
    pub error: Option<Option<ErrorKind>>,
    pub limited: Option<Admission>,
}

impl Principal {
    pub(crate) fn note_call(&self, spec: &ToolSpec, reply: &ToolReply) {
        if let Ok(mut ledger) = self.ledger.lock() {
            ledger.server = Some(spec.server);
            ledger.tool = Some(spec.name);
            let error = match reply {
                ToolReply::Ok { .. } => None,
                ToolReply::Error { kind, .. } => Some(*kind),
            };
            // A request that made several calls reports its first failure.
            if !matches!(ledger.error, Some(Some(_))) {
                ledger.error = Some(error);
            }
        }
    }
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    method: Option<&'a str>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct CallPeek<'a> {
    #[serde(borrow, default)]
    name: Option<&'a str>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ErrorPeek {
    #[serde(default)]
    error: Option<ErrorCodePeek>,
}

#[derive(Deserialize)]
struct ErrorCodePeek {
    code: i64,
}

/// The audit middleware (see the module docs).
pub(crate) async fn audit(
    State(server): State<GoldenSignals>,
    request: Request,
    next: Next,
) -> Response {
    let Some(guard) = server.guardrails().cloned() else {
        return next.run(request).await;
    };
    let started = Instant::now();
    let arrived = Utc::now();
    let Some(who) = request.extensions().get::<Arc<Principal>>().cloned() else {
        return next.run(request).await;
    };
    let client_ip = request
        .extensions()
        .get::<ClientIp>()
        .map(|ip| ip.0.clone())
        .or_else(|| {
            request
                .extensions()
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip().to_string())
        });
    let http_method = request.method().clone();
    let (parts, body) = request.into_parts();
    let bytes = match crate::fast_call::read_body(body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let peek: Option<Peek<'_>> = serde_json::from_slice(&bytes).ok();
    let method = match &peek {
        // Bounded: the method is the caller's text.
        Some(Peek {
            method: Some(m), ..
        }) => m.chars().take(64).collect(),
        _ if http_method != axum::http::Method::POST => format!("HTTP {http_method}"),
        _ => "invalid".to_string(),
    };
    let id = peek
        .as_ref()
        .and_then(|p| p.id)
        .map(|id| id.get().to_string());
    let (tool_name, params) = match peek.as_ref().and_then(|p| p.params) {
        Some(params) if method == "tools/call" => {
            let call: Option<CallPeek<'_>> = serde_json::from_str(params.get()).ok();
            (
                call.as_ref().and_then(|c| c.name).map(str::to_string),
                call.and_then(|c| c.arguments).map(|a| a.get().to_string()),
            )
        }
        Some(params) => (None, Some(params.get().to_string())),
        None => (None, None),
    };
    let spec = tool_name.as_deref().and_then(gs_tools::find);
    let span = tracing::info_span!(
        "request",
        request_id = %who.request_id,
        user = %who.subject,
        method = %method,
        server = spec.map_or("", |s| s.server),
        tool = spec.map_or("", |s| s.name),
    );
    // Tool calls, and the requests that make them, are metered per tool in
    // `GoldenSignals::invoke`; every other request here.
    let metered_by_invoke = matches!(
        method.as_str(),
        "tools/call" | "resources/read" | "prompts/get" | "completion/complete"
    );
    let refused = if metered_by_invoke {
        None
    } else {
        guard.admit_request(&who).instrument(span.clone()).await
    };
    let limited = who.ledger.lock().is_ok_and(|l| l.limited.is_some());
    let response = match refused {
        // Over the limit: answered as 429 below.
        Some(_) if limited => Response::new(Body::empty()),
        Some(ToolReply::Error { message, .. }) => unavailable(id.as_deref(), &message),
        _ => {
            next.run(Request::from_parts(parts, Body::from(bytes.clone())))
                .instrument(span.clone())
                .await
        }
    };
    drop(bytes);
    let ledger = who
        .ledger
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default();
    let (mut response, outcome, error_code) = if let Some(limited) = &ledger.limited {
        (
            rate_limited(id.as_deref(), limited),
            "rate_limited".to_string(),
            Some("rate_limited".to_string()),
        )
    } else if let Some(error) = ledger.error {
        let (outcome, code) = match error {
            None => ("ok", None),
            Some(ErrorKind::Forbidden) => ("forbidden", Some(kind_name(ErrorKind::Forbidden))),
            Some(kind) => ("error", Some(kind_name(kind))),
        };
        (response, outcome.to_string(), code)
    } else {
        outcome_of(response).await
    };
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let record = AuditRecord {
        arrived,
        request_id: who.request_id.clone(),
        user: who.subject.clone(),
        roles: who.roles.iter().cloned().collect(),
        method: method.clone(),
        server: ledger.server.or(spec.map(|s| s.server)).map(str::to_string),
        // An unknown tool is recorded by the name asked for (bounded).
        tool: ledger
            .tool
            .or(spec.map(|s| s.name))
            .map(str::to_string)
            .or_else(|| tool_name.as_deref().map(|n| n.chars().take(64).collect())),
        params,
        client_ip,
        outcome: outcome.clone(),
        error_code: error_code.clone(),
        http_status: status,
        latency_ms,
    };
    let tool = record.tool.clone();
    if let Err(e) = guard.audit.append(record).instrument(span.clone()).await {
        let _entered = span.enter();
        tracing::error!(error = %e, "the audit entry could not be written; the result is withheld");
        response = unaudited(id.as_deref(), &who.request_id);
    }
    if guard.emf {
        emit_emf(
            tool.as_deref().unwrap_or(method.as_str()),
            latency_ms,
            &outcome,
        );
    }
    {
        let _entered = span.enter();
        tracing::info!(outcome = %outcome, error_code = error_code.as_deref().unwrap_or(""), status, latency_ms, "request");
    }
    response
}

fn kind_name(kind: ErrorKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{kind:?}"))
}

/// Outcome of a request that made no tool call: the HTTP status, and the
/// JSON-RPC error code of a JSON answer.
async fn outcome_of(response: Response) -> (Response, String, Option<String>) {
    let status = response.status();
    if !status.is_success() {
        return (
            response,
            "rejected".into(),
            Some(format!("http_{}", status.as_u16())),
        );
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return (response, "ok".into(), None);
    }
    let (parts, body) = response.into_parts();
    let bytes = match http_body_util::BodyExt::collect(body).await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let code = serde_json::from_slice::<ErrorPeek>(&bytes)
        .ok()
        .and_then(|p| p.error)
        .map(|e| e.code.to_string());
    let outcome = if code.is_some() { "error" } else { "ok" };
    (
        Response::from_parts(parts, Body::from(bytes)),
        outcome.into(),
        code,
    )
}

fn json_rpc_error(id: Option<&str>, code: i64, message: &str, data: serde_json::Value) -> Vec<u8> {
    let error = serde_json::json!({"code": code, "message": message, "data": data});
    let mut out = Vec::new();
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.unwrap_or("null").as_bytes());
    out.extend_from_slice(br#","error":"#);
    out.extend_from_slice(error.to_string().as_bytes());
    out.push(b'}');
    out
}

fn rate_limited(id: Option<&str>, limited: &Admission) -> Response {
    let retry = limited.retry_after_secs();
    let (message, data) = match limited {
        Admission::Limited {
            counter,
            limit,
            window,
            resets_at,
        } => (
            format!(
                "rate limit reached: {limit} calls per {} s ({counter}); nothing was run; retry in {retry} s",
                window.as_secs()
            ),
            serde_json::json!({
                "retry_after_seconds": retry,
                "limit": limit,
                "window_seconds": window.as_secs(),
                "counter": counter,
                "resets_at": resets_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            }),
        ),
        Admission::Admitted => (String::new(), serde_json::Value::Null),
    };
    json_rpc_response(
        StatusCode::TOO_MANY_REQUESTS,
        json_rpc_error(id, RATE_LIMITED_CODE, &message, data),
        retry,
    )
}

/// A JSON-RPC error body with its status and `Retry-After` (seconds).
fn json_rpc_response(status: StatusCode, body: Vec<u8>, retry_after: u64) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

fn unavailable(id: Option<&str>, message: &str) -> Response {
    json_rpc_response(
        StatusCode::SERVICE_UNAVAILABLE,
        json_rpc_error(id, -32000, message, serde_json::Value::Null),
        5,
    )
}

fn unaudited(id: Option<&str>, request_id: &str) -> Response {
    json_rpc_response(
        StatusCode::SERVICE_UNAVAILABLE,
        json_rpc_error(
            id,
            -32000,
            &format!(
                "the request could not be recorded in the audit log, so its result is withheld; retry shortly (request id {request_id})"
            ),
            serde_json::json!({"request_id": request_id}),
        ),
        5,
    )
}

/// One CloudWatch EMF document on stdout (the Lambda log stream).
fn emit_emf(tool: &str, latency_ms: f64, outcome: &str) {
    let timestamp = Utc::now().timestamp_millis();
    let error = u8::from(outcome == "error");
    let throttle = u8::from(outcome == "rate_limited");
    let line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": "GoldenSignals",
                "Dimensions": [["Tool"]],
                "Metrics": [
                    {"Name": "Latency", "Unit": "Milliseconds"},
                    {"Name": "Errors", "Unit": "Count"},
                    {"Name": "Throttles", "Unit": "Count"}
                ]
            }]
        },
        "Tool": tool,
        "Latency": latency_ms,
        "Errors": error,
        "Throttles": throttle,
    });
    println!("{line}");
}
