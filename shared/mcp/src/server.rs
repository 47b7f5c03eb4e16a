//! The MCP server: rmcp's `ServerHandler`, delegating each method to its
//! module (tools, resources, prompts, completions, logging). One value serves
//! every request; it holds no per-client state, so any instance can answer
//! any request.

#![allow(deprecated)] // logging/setLevel is deprecated by SEP-2577 but still in the versions we serve.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use gs_domain::RecordStore;
use gs_tools::{CallerIdentity, Invoker, ProgressSink, ToolCall, ToolReply};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, SetLevelRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::value::RawValue;

use crate::tools::{self, ToolEntry};
use crate::{Guardrails, Principal, completions, logging, prompts, resources};

const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2026_07_28,
];

/// How long a tool call may run unless configured otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct GoldenSignals {
    invoker: Arc<dyn Invoker>,
    /// Runs the tool calls behind resources (`resources/read`): the same
    /// invoker unless the deployment gives resource handlers functions of
    /// their own.
    resource_invoker: Arc<dyn Invoker>,
    records: Arc<dyn RecordStore>,
    tools: Arc<Vec<ToolEntry>>,
    call_timeout: Duration,
    guardrails: Option<Arc<Guardrails>>,
}

impl GoldenSignals {
    /// `invoker` runs the tools (in-process or elsewhere); `records` keeps
    /// per-caller MCP state such as the logging level.
    pub fn new(invoker: Arc<dyn Invoker>, records: Arc<dyn RecordStore>) -> Self {
        Self {
            resource_invoker: invoker.clone(),
            invoker,
            records,
            tools: Arc::new(tools::tools()),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            guardrails: None,
        }
    }

    /// Rate limits, the audit log and field rules on every request. Every
    /// binary turns them on; only benchmarks and narrow tests leave them off.
    pub fn with_guardrails(mut self, guardrails: Guardrails) -> Self {
        self.guardrails = Some(Arc::new(guardrails));
        self
    }

    pub(crate) fn guardrails(&self) -> Option<&Arc<Guardrails>> {
        self.guardrails.as_ref()
    }

    /// Serves resources through `invoker` (in the cloud: the resource
    /// handler functions) instead of the tools' invoker.
    pub fn with_resource_invoker(mut self, invoker: Arc<dyn Invoker>) -> Self {
        self.resource_invoker = invoker;
        self
    }

    /// Every call's deadline, counted from its arrival.
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    pub fn tool_entries(&self) -> &[ToolEntry] {
        &self.tools
    }

    pub(crate) fn records(&self) -> &dyn RecordStore {
        self.records.as_ref()
    }

    /// Calls tool `name` as `who` through the invoker. Resources, prompts
    /// and completions use this too, so they carry only data from tools the
    /// caller may call.
    pub(crate) async fn invoke(
        &self,
        who: &Principal,
        name: &str,
        arguments: Box<RawValue>,
        progress: Option<ProgressSink>,
    ) -> ToolReply {
        self.invoke_with(self.invoker.as_ref(), who, name, arguments, progress)
            .await
    }

    async fn invoke_with(
        &self,
        invoker: &dyn Invoker,
        who: &Principal,
        name: &str,
        arguments: Box<RawValue>,
        progress: Option<ProgressSink>,
    ) -> ToolReply {
        let call = ToolCall::new(
            name,
            arguments,
            CallerIdentity::new(&who.subject, &who.permissions)
                .with_groups(who.caller.groups.clone()),
            who.request_id.clone(),
            self.call_timeout,
        );
        let spec = gs_tools::find(name);
        if let (Some(guard), Some(spec)) = (&self.guardrails, spec) {
            // Every call of a known tool counts, also one its scopes refuse.
            if let Some(refused) = guard.admit(who, spec).await {
                who.note_call(spec, &refused);
                return refused;
            }
        }
        let reply = invoker.invoke(call, progress).await;
        let Some(spec) = spec else {
            return reply;
        };
        who.note_call(spec, &reply);
        match &self.guardrails {
            Some(guard) => guard.redact(who, spec.name, reply),
            None => reply,
        }
    }

    /// Like [`Self::invoke`] with arguments built from JSON.
    pub(crate) async fn invoke_json(
        &self,
        who: &Principal,
        name: &str,
        arguments: serde_json::Value,
    ) -> ToolReply {
        self.json_with(self.invoker.as_ref(), who, name, arguments)
            .await
    }

    /// The tool call behind a resource, through the resource invoker.
    pub(crate) async fn resource_json(
        &self,
        who: &Principal,
        name: &str,
        arguments: serde_json::Value,
    ) -> ToolReply {
        self.json_with(self.resource_invoker.as_ref(), who, name, arguments)
            .await
    }

    async fn json_with(
        &self,
        invoker: &dyn Invoker,
        who: &Principal,
        name: &str,
        arguments: serde_json::Value,
    ) -> ToolReply {
        match serde_json::value::to_raw_value(&arguments) {
            Ok(raw) => self.invoke_with(invoker, who, name, raw, None).await,
            Err(e) => ToolReply::Error {
                kind: gs_tools::ErrorKind::Internal,
                message: format!("cannot encode arguments for {name}: {e}"),
            },
        }
    }
}

/// The authenticated caller of this request, put there by the HTTP layer.
pub(crate) fn principal(ctx: &RequestContext<RoleServer>) -> Result<Arc<Principal>, McpError> {
    ctx.extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<Principal>>())
        .cloned()
        .ok_or_else(|| {
            McpError::invalid_request("request is not authenticated: send a bearer token", None)
        })
}

impl ServerHandler for GoldenSignals {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .enable_completions()
                .enable_logging()
                .build(),
        )
        .with_server_info(
            Implementation::new("goldensignals", env!("CARGO_PKG_VERSION"))
                .with_title("GoldenSignals MCP"),
        )
        .with_instructions(
            "Trading intelligence over stored market data. Start with list_symbols; \
             get_quote and get_historical_data read prices; calculate_indicators computes \
             TA-Lib indicators. Outputs marked synthetic come from demo data, not the market.",
        )
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(SUPPORTED_VERSIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let who = principal(&ctx)?;
        Ok(tools::list(self, &who))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let who = principal(&ctx)?;
        Ok(tools::call(self, &who, request, &ctx).await?.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let who = principal(&ctx)?;
        resources::list(self, &who).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        let who = principal(&ctx)?;
        Ok(resources::templates(&who))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let who = principal(&ctx)?;
        Ok(resources::read(self, &who, request).await?.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let _who = principal(&ctx)?;
        Ok(prompts::list())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let who = principal(&ctx)?;
        Ok(prompts::get(self, &who, request).await?.into())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let who = principal(&ctx)?;
        completions::complete(self, &who, request).await
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let who = principal(&ctx)?;
        logging::set_level(self, &who, request).await
    }
}
