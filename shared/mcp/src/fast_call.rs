//! The direct path for `tools/call`: the request body is parsed once into
//! the tool's typed arguments (no JSON value tree) and the tool's output,
//! serialised once by the registry, is written straight into the JSON-RPC
//! response. Everything else, and any `tools/call` this path does not
//! recognise exactly, goes to rmcp unchanged.
//!
//! It answers only what rmcp would answer the same way: a single request
//! with protocol version 2025-06-18 or 2025-11-25 in its header, for a
//! registered tool, without `_meta` (no progress token, no per-request
//! version), from a caller that has not asked for log messages (those need
//! an event stream). The reply is byte-for-byte the shape of rmcp's
//! `CallToolResult` (a unit test holds the two together).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gs_tools::ToolReply;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::Principal;
use crate::logging;
use crate::server::GoldenSignals;

/// The same request body limit rmcp is given.
const MAX_BODY_BYTES: usize = crate::http_layer::MAX_REQUEST_BODY_BYTES;
const FAST_VERSIONS: &[&str] = &["2025-06-18", "2025-11-25"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    jsonrpc: &'a str,
    #[serde(borrow)]
    id: &'a RawValue,
    method: &'a str,
    #[serde(borrow)]
    params: CallParams<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallParams<'a> {
    name: &'a str,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

/// A `tools/call` this path answers itself.
struct DirectCall<'a> {
    id: &'a RawValue,
    name: &'a str,
    arguments: Option<&'a RawValue>,
}

fn parse(body: &[u8]) -> Option<DirectCall<'_>> {
    let envelope: Envelope<'_> = serde_json::from_slice(body).ok()?;
    if envelope.jsonrpc != "2.0" || envelope.method != "tools/call" {
        return None;
    }
    // Ids rmcp takes are strings and integers; anything else is rmcp's to
    // refuse. So are arguments that are not an object.
    let id = envelope.id.get();
    if !(id.starts_with('"') || id.parse::<i64>().is_ok()) {
        return None;
    }
    if envelope
        .params
        .arguments
        .is_some_and(|a| !(a.get().starts_with('{') || a.get() == "null"))
    {
        return None;
    }
    let params = envelope.params;
    gs_tools::find(params.name)?;
    Some(DirectCall {
        id: envelope.id,
        name: params.name,
        arguments: params.arguments,
    })
}

/// Headers rmcp would accept for this request, with nothing for it to check
/// against the body (no `Mcp-*` headers besides the version).
fn eligible(headers: &HeaderMap) -> bool {
    let accepts = |mime: &str| {
        headers.get_all(header::ACCEPT).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',').any(|part| {
                    part.split(';')
                        .next()
                        .is_some_and(|e| e.trim().eq_ignore_ascii_case(mime))
                })
            })
        })
    };
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("application/json"));
    let version_ok = headers
        .get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| FAST_VERSIONS.contains(&v.trim()));
    let other_mcp_headers = headers.keys().any(|k| {
        let k = k.as_str();
        k.starts_with("mcp-") && k != "mcp-protocol-version"
    });
    accepts("application/json")
        && accepts("text/event-stream")
        && json_body
        && version_ok
        && !other_mcp_headers
}

pub(crate) async fn tools_call(
    State(server): State<GoldenSignals>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    // Every POST body is read here, within a time limit, so a client that
    // trickles its body cannot hold a slot of the in-flight limit forever
    // (on either path).
    let fast = eligible(request.headers());
    let who = request.extensions().get::<Arc<Principal>>().cloned();
    let (parts, body) = request.into_parts();
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let Some(who) = who.filter(|_| fast) else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    let Some(call) = parse(&bytes) else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    if logging::wants_messages(&server, &who).await {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    }
    let arguments = call
        .arguments
        .map_or_else(crate::tools::null_arguments, ToOwned::to_owned);
    let reply = server.invoke(&who, call.name, arguments, None).await;
    let body = match crate::tools::internal_error(&reply, &who.request_id) {
        Some(error) => error_body(call.id, error),
        None => response_body(call.id, &reply),
    };
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// How long a client may take to send its request body.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) async fn read_body(body: Body) -> Result<Bytes, Response> {
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    match tokio::time::timeout(BODY_TIMEOUT, http_body_util::BodyExt::collect(limited)).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload Too Large: the request body is over {MAX_BODY_BYTES} bytes"),
        )
            .into_response()),
        Ok(Err(_)) => Err((
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
        )
            .into_response()),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                BODY_TIMEOUT.as_secs()
            ),
        )
            .into_response()),
    }
}

/// `{"jsonrpc":"2.0","id":..,"error":{..}}`.
fn error_body(id: &RawValue, error: rmcp::ErrorData) -> Vec<u8> {
    let error = serde_json::to_string(&error)
        .unwrap_or_else(|_| r#"{"code":-32603,"message":"internal error"}"#.to_string());
    let mut out = Vec::with_capacity(error.len().saturating_add(64));
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.get().as_bytes());
    out.extend_from_slice(br#","error":"#);
    out.extend_from_slice(error.as_bytes());
    out.push(b'}');
    out
}

/// `{"jsonrpc":"2.0","id":..,"result":<CallToolResult>}`, written directly.
fn response_body(id: &RawValue, reply: &ToolReply) -> Vec<u8> {
    let (text, structured, is_error) = match reply {
        ToolReply::Ok {
            structured,
            summary,
        } => (summary.as_str(), Some(structured.get()), false),
        ToolReply::Error { message, .. } => (message.as_str(), None, true),
    };
    let text = serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string());
    let mut out = Vec::with_capacity(
        structured
            .map_or(0, str::len)
            .saturating_add(text.len())
            .saturating_add(128),
    );
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.get().as_bytes());
    out.extend_from_slice(br#","result":{"content":[{"type":"text","text":"#);
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"}]");
    if let Some(structured) = structured {
        out.extend_from_slice(br#","structuredContent":"#);
        out.extend_from_slice(structured.as_bytes());
    }
    out.extend_from_slice(if is_error {
        br#","isError":true}}"#
    } else {
        br#","isError":false}}"#
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{JsonRpcResponse, JsonRpcVersion2_0, NumberOrString, ServerResult};

    fn rmcp_shape(id: NumberOrString, reply: ToolReply) -> serde_json::Value {
        let mut result = ServerResult::CallToolResult(crate::tools::to_result(reply));
        // What rmcp does for the protocol versions this path serves.
        result.strip_result_type_for_legacy_peer();
        let message = JsonRpcResponse {
            jsonrpc: JsonRpcVersion2_0,
            id,
            result,
        };
        serde_json::to_value(message).unwrap()
    }

    #[test]
    fn replies_have_exactly_rmcps_shape() {
        let structured = RawValue::from_string(r#"{"a":[1.5,null],"b":"x\"y"}"#.into()).unwrap();
        let ok = || ToolReply::Ok {
            structured: structured.clone(),
            summary: "Done: \"quoted\"\nnext line".into(),
        };
        let id = RawValue::from_string("7".into()).unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&response_body(&id, &ok())).unwrap();
        assert_eq!(ours, rmcp_shape(NumberOrString::Number(7), ok()));

        let err = || ToolReply::Error {
            kind: gs_tools::ErrorKind::InvalidInput,
            message: "unknown argument lookbak".into(),
        };
        let id = RawValue::from_string(r#""req-1""#.into()).unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&response_body(&id, &err())).unwrap();
        assert_eq!(
            ours,
            rmcp_shape(NumberOrString::String("req-1".into()), err())
        );
    }

    #[test]
    fn internal_failures_are_json_rpc_errors_with_the_request_id() {
        let reply = ToolReply::Error {
            kind: gs_tools::ErrorKind::Internal,
            message: "internal error; the server logged the details under request id r-9".into(),
        };
        let error = crate::tools::internal_error(&reply, "r-9").unwrap();
        let id = RawValue::from_string("4".into()).unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&error_body(&id, error)).unwrap();
        assert_eq!(ours["id"], 4);
        assert_eq!(ours["error"]["code"], -32603);
        assert_eq!(ours["error"]["data"]["request_id"], "r-9");
        let tool_error = ToolReply::Error {
            kind: gs_tools::ErrorKind::InvalidInput,
            message: "bad".into(),
        };
        assert!(crate::tools::internal_error(&tool_error, "r-9").is_none());
    }

    #[test]
    fn only_plain_calls_of_registered_tools_take_the_direct_path() {
        let call = br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_quote","arguments":{"symbol":"AAPL"}}}"#;
        let parsed = parse(call).unwrap();
        assert_eq!(parsed.name, "get_quote");
        assert_eq!(parsed.arguments.unwrap().get(), r#"{"symbol":"AAPL"}"#);
        for other in [
            // progress token or per-request version: rmcp's
            &br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_quote","_meta":{"progressToken":1}}}"#[..],
            br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"no_such_tool"}}"#,
            br#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"get_quote"}}"#,
            br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#,
            br#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_quote"}}]"#,
            // non-integer ids and non-object arguments: rmcp refuses them its own way
            br#"{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"get_quote"}}"#,
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_quote","arguments":[1]}}"#,
            b"not json",
        ] {
            assert!(parse(other).is_none(), "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn header_rules() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        h.insert(
            "mcp-protocol-version",
            HeaderValue::from_static("2025-11-25"),
        );
        assert!(eligible(&h));
        let mut newer = h.clone();
        newer.insert(
            "mcp-protocol-version",
            HeaderValue::from_static("2026-07-28"),
        );
        assert!(!eligible(&newer));
        let mut named = h.clone();
        named.insert("mcp-name", HeaderValue::from_static("get_quote"));
        assert!(!eligible(&named));
        let mut json_only = h.clone();
        json_only.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!eligible(&json_only));
        let mut no_version = h;
        no_version.remove("mcp-protocol-version");
        assert!(!eligible(&no_version));
    }
}
