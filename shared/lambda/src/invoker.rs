//! The Lambda engine of the invoker port: each call is signed and sent to
//! its tool's own function with `aws-sdk-lambda`'s `Invoke`.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use gs_crypto::MacKey;
use gs_tools::{ErrorKind, Invoker, ProgressSink, ToolCall, ToolReply};
use serde::Deserialize;

use crate::signed::sign;

/// Which function serves a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionNames {
    /// `{prefix}{tool with _ as -}`: one function per tool, as SAM deploys
    /// them (`goldensignals-dev-tool-get-quote`).
    Prefix(String),
    /// One function for every tool: `cargo lambda watch` serves the `tool`
    /// binary under its bin name.
    Single(String),
}

impl FunctionNames {
    pub fn for_tool(&self, tool: &str) -> String {
        match self {
            Self::Prefix(prefix) => format!("{prefix}{}", tool.replace('_', "-")),
            Self::Single(name) => name.clone(),
        }
    }
}

/// The error payload Lambda returns for a function error.
#[derive(Debug, Deserialize)]
struct FunctionError {
    #[serde(rename = "errorType", default)]
    error_type: String,
    #[serde(rename = "errorMessage", default)]
    error_message: String,
}

/// [`Invoker`] over Lambda.
pub struct LambdaInvoker {
    client: Client,
    functions: FunctionNames,
    key: Arc<dyn MacKey>,
}

impl std::fmt::Debug for LambdaInvoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaInvoker")
            .field("functions", &self.functions)
            .finish_non_exhaustive()
    }
}

fn reply(kind: ErrorKind, message: impl Into<String>) -> ToolReply {
    ToolReply::Error {
        kind,
        message: message.into(),
    }
}

/// What a function error means for the caller. Refusals mean the gateway
/// and its functions disagree (keys, clocks, configuration): the caller can
/// do nothing about it, so it is internal; retryable failures say so.
fn from_function_error(request_id: &str, body: &[u8]) -> ToolReply {
    let error: FunctionError = serde_json::from_slice(body).unwrap_or(FunctionError {
        error_type: String::new(),
        error_message: String::new(),
    });
    tracing::error!(
        request_id,
        error_type = %error.error_type,
        error_message = %error.error_message,
        "tool function failed"
    );
    if error.error_type.ends_with(".Retryable") {
        reply(
            ErrorKind::Unavailable,
            "the tool is temporarily unavailable; retry in a few seconds",
        )
    } else {
        reply(
            ErrorKind::Internal,
            format!("the tool function failed (request id {request_id})"),
        )
    }
}

impl LambdaInvoker {
    pub fn new(client: Client, functions: FunctionNames, key: Arc<dyn MacKey>) -> Self {
        Self {
            client,
            functions,
            key,
        }
    }
}

#[async_trait]
impl Invoker for LambdaInvoker {
    /// Progress notifications do not cross Lambda: `progress` is unused.
    async fn invoke(&self, call: ToolCall, _progress: Option<ProgressSink>) -> ToolReply {
        let request_id = call.request_id.clone();
        let deadline = call.deadline();
        let function = self.functions.for_tool(&call.tool);
        let signed = match sign(self.key.as_ref(), call).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(request_id, error = %e, "cannot sign a call context");
                return reply(
                    if e.is_retryable() {
                        ErrorKind::Unavailable
                    } else {
                        ErrorKind::Internal
                    },
                    format!("the call could not be signed (request id {request_id})"),
                );
            }
        };
        let payload = match serde_json::to_vec(&signed) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(request_id, error = %e, "cannot encode a call");
                return reply(ErrorKind::Internal, format!("request id {request_id}"));
            }
        };
        let send = self
            .client
            .invoke()
            .function_name(&function)
            .payload(Blob::new(payload))
            .send();
        let left = deadline.saturating_duration_since(Instant::now());
        let out = match tokio::time::timeout(left, send).await {
            Err(_) => {
                return reply(
                    ErrorKind::Timeout,
                    "the tool did not answer before the call's deadline",
                );
            }
            Ok(out) => out,
        };
        match out {
            Ok(out) => {
                let body = out.payload().map(Blob::as_ref).unwrap_or_default();
                if out.function_error().is_some() {
                    return from_function_error(&request_id, body);
                }
                serde_json::from_slice::<ToolReply>(body).unwrap_or_else(|e| {
                    tracing::error!(request_id, error = %e, "a tool function answered something that is not a reply");
                    reply(ErrorKind::Internal, format!("request id {request_id}"))
                })
            }
            Err(e) => {
                // cargo lambda's local Invoke API answers a function error as
                // HTTP 500 with the error payload and no X-Amz-Function-Error.
                if let Some(raw) = e.raw_response()
                    && raw.status().as_u16() == 500
                    && let Some(body) = raw.body().bytes()
                    && serde_json::from_slice::<FunctionError>(body)
                        .is_ok_and(|f| !f.error_type.is_empty())
                {
                    return from_function_error(&request_id, body);
                }
                tracing::error!(request_id, function, error = %aws_sdk_lambda::error::DisplayErrorContext(&e), "invoking a tool function failed");
                reply(
                    ErrorKind::Unavailable,
                    "the tool could not be reached; retry in a few seconds",
                )
            }
        }
    }
}
