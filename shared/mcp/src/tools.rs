//! `tools/list` and `tools/call`: the published list comes from the one
//! registry (gs-tools), filtered by the caller's permissions; calls go
//! through the invoker.

use std::sync::Arc;

use gs_tools::{ErrorKind, ToolReply, ToolSpec};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock, ListToolsResult, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::value::RawValue;

use crate::server::GoldenSignals;
use crate::{Principal, logging, progress};

/// A published tool and the server it belongs to, in rmcp's shape.
#[derive(Debug, Clone)]
pub struct ToolEntry {
    pub server: &'static str,
    pub tool: Tool,
}

/// Every published tool, from the registry.
pub fn tools() -> Vec<ToolEntry> {
    gs_tools::registry().iter().map(entry).collect()
}

fn entry(spec: &ToolSpec) -> ToolEntry {
    let a = spec.annotations;
    let mut tool = Tool::new(spec.name, spec.description, spec.input_schema.clone())
        .with_title(spec.title)
        .annotate(
            ToolAnnotations::with_title(spec.title)
                .read_only(a.read_only)
                .destructive(a.destructive)
                .idempotent(a.idempotent)
                .open_world(a.open_world),
        );
    tool.output_schema = Some(spec.output_schema.clone());
    ToolEntry {
        server: spec.server,
        tool,
    }
}

pub(crate) fn list(server: &GoldenSignals, who: &Principal) -> ListToolsResult {
    let tools = server
        .tool_entries()
        .iter()
        .filter(|e| who.permissions.allows(e.server, &e.tool.name))
        .map(|e| e.tool.clone())
        .collect();
    ListToolsResult::with_all_items(tools)
}

pub(crate) async fn call(
    server: &GoldenSignals,
    who: &Arc<Principal>,
    request: CallToolRequestParams,
    ctx: &RequestContext<RoleServer>,
) -> Result<CallToolResult, McpError> {
    let name = request.name.as_ref();
    if gs_tools::find(name).is_none() {
        let known: Vec<&str> = server
            .tool_entries()
            .iter()
            .filter(|e| who.permissions.allows(e.server, &e.tool.name))
            .map(|e| e.tool.name.as_ref())
            .collect();
        return Err(McpError::invalid_params(
            format!("unknown tool {name:?}; available: {}", known.join(", ")),
            None,
        ));
    }
    let arguments = match &request.arguments {
        Some(map) => serde_json::value::to_raw_value(map)
            .map_err(|e| McpError::invalid_params(format!("arguments: {e}"), None))?,
        None => null_arguments(),
    };
    let started = std::time::Instant::now();
    let (sink, forwarder) = progress::reporter(ctx);
    let reply = server.invoke(who, name, arguments, sink).await;
    // Every progress notification goes out before the result (bounded: work
    // that outlived its deadline may still hold the sink).
    if let Some(forwarder) = forwarder {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), forwarder).await;
    }
    let is_error = reply.is_error();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    logging::log_to_client(server, who, ctx, name, is_error, elapsed_ms).await;
    if let Some(error) = internal_error(&reply, &who.request_id) {
        return Err(error);
    }
    Ok(to_result(reply))
}

/// A failure inside the server (a caught panic, a broken invariant) is a
/// JSON-RPC internal error carrying the request id, not a tool error: the
/// model cannot fix it by changing its arguments.
pub(crate) fn internal_error(reply: &ToolReply, request_id: &str) -> Option<McpError> {
    match reply {
        ToolReply::Error {
            kind: ErrorKind::Internal,
            message,
        } => Some(McpError::internal_error(
            message.clone(),
            Some(serde_json::json!({ "request_id": request_id })),
        )),
        _ => None,
    }
}

/// `null`: the tool takes its defaults.
pub(crate) fn null_arguments() -> Box<RawValue> {
    Box::default()
}

/// Structured content plus the one-paragraph summary, or a tool error whose
/// text a model can act on.
pub(crate) fn to_result(reply: ToolReply) -> CallToolResult {
    match reply {
        ToolReply::Ok {
            structured,
            summary,
        } => match serde_json::from_str(structured.get()) {
            Ok(value) => {
                let mut result = CallToolResult::structured(value);
                result.content = vec![ContentBlock::text(summary)];
                result
            }
            Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
                "internal error while encoding the result: {e}"
            ))]),
        },
        ToolReply::Error { message, .. } => {
            CallToolResult::error(vec![ContentBlock::text(message)])
        }
    }
}
