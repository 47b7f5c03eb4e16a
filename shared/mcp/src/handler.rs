//! The MCP server: rmcp's `ServerHandler` over our tools, resources, prompts
//! and completions. One value serves every request; it holds no per-client
//! state, so any instance can answer any request.

#![allow(deprecated)] // logging/setLevel is deprecated by SEP-2577 but still in the versions we serve.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use gs_analytics::Ohlcv;
use gs_domain::{BarStore, Owner, RecordKey, RecordStore, Symbol, Timeframe, WriteCondition};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    CompletionInfo, ContentBlock, GetPromptRequestParams, GetPromptResponse, GetPromptResult,
    Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, LoggingLevel, LoggingMessageNotificationParam, PaginatedRequestParams,
    ProgressNotificationParam, Prompt, PromptArgument, PromptMessage, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Reference, Resource,
    ResourceContents, ResourceTemplate, Role, ServerCapabilities, ServerConfig,
    SetLevelRequestParams,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Principal;
use crate::candlesticks;
use crate::catalog::{self, ToolEntry};
use crate::chart_patterns;
use crate::error::ToolError;
use crate::market_data::{self, GetHistoricalDataArgs};
use crate::signals;
use crate::technical::{self, Columns};

const SUPPORTED_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2026_07_28,
];
const MAX_COMPLETIONS: usize = 100;
const MAX_LISTED_RESOURCES: usize = 200;
/// Record collection holding each caller's `logging/setLevel` choice.
const LOGGING_LEVELS: &str = "logging-level";

/// The caller's own logging level record.
fn logging_level_key(subject: &str) -> Result<RecordKey, gs_domain::StoreError> {
    RecordKey::new(Owner::user(subject)?, LOGGING_LEVELS, "level")
}
const QUOTE_URI: &str = "market://quotes/realtime/";
const OHLCV_URI: &str = "market://historical/ohlcv/";

#[derive(Clone)]
pub struct GoldenSignals {
    bars: Arc<dyn BarStore>,
    records: Arc<dyn RecordStore>,
    tools: Arc<Vec<ToolEntry>>,
}

impl GoldenSignals {
    pub fn new(bars: Arc<dyn BarStore>, records: Arc<dyn RecordStore>) -> Self {
        Self {
            bars,
            records,
            tools: Arc::new(catalog::tools()),
        }
    }

    pub fn tool_entries(&self) -> &[ToolEntry] {
        &self.tools
    }
}

/// The authenticated caller of this request, put there by the HTTP layer.
fn principal(ctx: &RequestContext<RoleServer>) -> Result<Arc<Principal>, McpError> {
    ctx.extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Arc<Principal>>())
        .cloned()
        .ok_or_else(|| {
            McpError::invalid_request("request is not authenticated: send a bearer token", None)
        })
}

fn require(principal: &Principal, server: &str, tool: &str) -> Result<(), ToolError> {
    if principal.permissions.allows(server, tool) {
        Ok(())
    } else {
        Err(ToolError::Forbidden(format!(
            "permission denied: {tool} needs scope {server}:{tool} (or {server}:*); ask an administrator for a token or group with that scope"
        )))
    }
}

/// Turns a tool outcome into MCP's shape: structured content plus a one
/// paragraph text summary, or a tool error whose text a model can act on.
fn tool_result<O: Serialize>(outcome: Result<(O, String), ToolError>) -> CallToolResult {
    match outcome {
        Ok((output, summary)) => match serde_json::to_value(&output) {
            Ok(value) => {
                let mut result = CallToolResult::structured(value);
                result.content = vec![ContentBlock::text(summary)];
                result
            }
            Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
                "internal error while encoding the result: {e}"
            ))]),
        },
        Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
    }
}

fn parse_args<A: DeserializeOwned>(
    tool: &str,
    args: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<A, ToolError> {
    let value = serde_json::Value::Object(args.unwrap_or_default());
    serde_json::from_value(value).map_err(|e| {
        ToolError::invalid(format!(
            "invalid arguments for {tool}: {e}; see the tool's input schema"
        ))
    })
}

async fn run<A, O, F, Fut>(
    tool: &str,
    args: Option<serde_json::Map<String, serde_json::Value>>,
    f: F,
) -> CallToolResult
where
    A: DeserializeOwned,
    O: Serialize,
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = Result<(O, String), ToolError>>,
{
    match parse_args::<A>(tool, args) {
        Ok(a) => tool_result(f(a).await),
        Err(e) => tool_result::<()>(Err(e)),
    }
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
        let tools = self
            .tools
            .iter()
            .filter(|e| who.permissions.allows(e.server, &e.tool.name))
            .map(|e| e.tool.clone())
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let who = principal(&ctx)?;
        let name = request.name.as_ref();
        let Some(entry) = self.tools.iter().find(|e| e.tool.name == name) else {
            let known: Vec<&str> = self
                .tools
                .iter()
                .filter(|e| who.permissions.allows(e.server, &e.tool.name))
                .map(|e| e.tool.name.as_ref())
                .collect();
            return Err(McpError::invalid_params(
                format!("unknown tool {name:?}; available: {}", known.join(", ")),
                None,
            ));
        };
        if let Err(e) = require(&who, entry.server, name) {
            tracing::info!(subject = %who.subject, tool = name, "tool call refused: missing scope");
            return Ok(tool_result::<()>(Err(e)).into());
        }
        let started = std::time::Instant::now();
        let store = self.bars.as_ref();
        let args = request.arguments;
        let result = match name {
            "list_symbols" => run(name, args, |a| market_data::list_symbols(store, a)).await,
            "get_quote" => run(name, args, |a| market_data::get_quote(store, a)).await,
            "get_historical_data" => {
                run(name, args, |a| market_data::get_historical_data(store, a)).await
            }
            "calculate_indicators" => {
                run(name, args, |a| technical::calculate_indicators(store, a)).await
            }
            "detect_candlestick_patterns" => {
                run(name, args, |a| {
                    candlesticks::detect_candlestick_patterns(store, a)
                })
                .await
            }
            "analyze_pattern" => {
                run(name, args, |a| chart_patterns::analyze_pattern(store, a)).await
            }
            "generate_signals" => run(name, args, |a| signals::generate_signals(store, a)).await,
            "analyze_timeframes" => {
                run(name, args, |a| signals::analyze_timeframes(store, a)).await
            }
            "backtest_signals" => {
                let (progress, forwarder) = progress_reporter(&ctx);
                let result = run(name, args, |a| {
                    signals::backtest_signals(store, a, progress)
                })
                .await;
                // Every progress notification goes out before the result.
                if let Some(forwarder) = forwarder {
                    let _ = forwarder.await;
                }
                result
            }
            other => {
                return Err(McpError::internal_error(
                    format!("tool {other} is listed but has no implementation"),
                    None,
                ));
            }
        };
        let is_error = result.is_error.unwrap_or(false);
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(subject = %who.subject, tool = name, is_error, elapsed_ms, "tool call");
        self.log_to_client(&who, &ctx, name, is_error, elapsed_ms)
            .await;
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let who = principal(&ctx)?;
        if !who.permissions.allows("market-data", "get_quote") {
            return Ok(ListResourcesResult::with_all_items(vec![]));
        }
        let symbols = self.symbols().await?;
        let resources = symbols
            .iter()
            .take(MAX_LISTED_RESOURCES)
            .map(|s| {
                Resource::new(format!("{QUOTE_URI}{s}"), format!("{s} quote"))
                    .with_description(format!("Latest quote of {s} as JSON"))
                    .with_mime_type("application/json")
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(format!("{QUOTE_URI}{{symbol}}"), "quote")
                .with_title("Real-time quote")
                .with_description("Latest quote of a symbol as JSON")
                .with_mime_type("application/json"),
            ResourceTemplate::new(
                format!("{OHLCV_URI}{{symbol}}{{?timeframe,start,end}}"),
                "ohlcv",
            )
            .with_title("Historical OHLCV bars")
            .with_description(
                "OHLCV bars of a symbol as JSON (timeframe 1m..1w, default 1d; start/end as RFC 3339 or YYYY-MM-DD; latest 500 bars when no start)",
            )
            .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let who = principal(&ctx)?;
        let uri = request.uri.as_str();
        let not_found = |why: String| McpError::resource_not_found(why, None);
        let json = if let Some(sym) = uri.strip_prefix(QUOTE_URI) {
            require(&who, "market-data", "get_quote").map_err(to_mcp)?;
            let args = market_data::GetQuoteArgs {
                symbol: percent_decode(sym),
            };
            let (out, _) = market_data::get_quote(self.bars.as_ref(), args)
                .await
                .map_err(|e| not_found(e.to_string()))?;
            serde_json::to_string_pretty(&out)
        } else if let Some(rest) = uri.strip_prefix(OHLCV_URI) {
            require(&who, "market-data", "get_historical_data").map_err(to_mcp)?;
            let args = ohlcv_args(rest).map_err(|e| not_found(e.to_string()))?;
            let (out, _) = market_data::get_historical_data(self.bars.as_ref(), args)
                .await
                .map_err(|e| not_found(e.to_string()))?;
            serde_json::to_string_pretty(&out)
        } else {
            return Err(not_found(format!(
                "unknown resource {uri}; use {QUOTE_URI}{{symbol}} or {OHLCV_URI}{{symbol}}?timeframe=1d"
            )));
        }
        .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(json, uri).with_mime_type("application/json"),
        ])
        .into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(vec![
            Prompt::new(
                "market_briefing",
                Some("A briefing on one symbol: latest quote, recent trend, momentum (RSI, MACD), volatility (ATR, Bollinger Bands) and what to watch, with the data already attached."),
                Some(vec![
                    PromptArgument::new("symbol")
                        .with_description("Ticker symbol, e.g. AAPL")
                        .with_required(true),
                    PromptArgument::new("timeframe")
                        .with_description("Bar width for the analysis: 1h, 4h, 1d (default) or 1w")
                        .with_required(false),
                ]),
            )
            .with_title("Market briefing"),
        ]))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let who = principal(&ctx)?;
        if request.name != "market_briefing" {
            return Err(McpError::invalid_params(
                format!(
                    "unknown prompt {:?}; available: market_briefing",
                    request.name
                ),
                None,
            ));
        }
        let arg = |k: &str| {
            request
                .arguments
                .as_ref()
                .and_then(|a| a.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let symbol = arg("symbol")
            .ok_or_else(|| {
                McpError::invalid_params("market_briefing needs a symbol argument", None)
            })
            .and_then(|s| {
                Symbol::parse(&s).map_err(|e| McpError::invalid_params(e.to_string(), None))
            })?;
        let timeframe = Timeframe::parse(arg("timeframe").as_deref().unwrap_or("1d"))
            .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
        let data = if who.permissions.allows("market-data", "get_historical_data") {
            self.briefing_data(&symbol, timeframe)
                .await
                .unwrap_or_else(|e| format!("(No data could be loaded: {e})"))
        } else {
            "(Your token cannot read market data, so no data is attached.)".to_string()
        };
        let text = format!(
            "Prepare a concise market briefing on {symbol} for a professional trader, using {timeframe} bars.\n\
             Cover: (1) price and change vs previous close; (2) trend over the last 20 and 60 bars; \
             (3) momentum from RSI(14) and MACD(12,26,9); (4) volatility from ATR(14) and Bollinger Bands(20,2); \
             (5) key levels (recent highs/lows) and what would change the picture. \
             State clearly if the data is synthetic. Use the tools get_quote, get_historical_data and \
             calculate_indicators for anything else you need.\n\nData as of now:\n{data}"
        );
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(format!("Market briefing for {symbol} ({timeframe})"))
                .into(),
        )
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let who = principal(&ctx)?;
        let prefix = request.argument.value.trim().to_ascii_uppercase();
        let applies = match &request.r#ref {
            Reference::Prompt(p) => p.name == "market_briefing",
            Reference::Resource(r) => r.uri.starts_with("market://"),
            _ => false,
        };
        let values: Vec<String> = match request.argument.name.as_str() {
            "symbol" if applies && who.permissions.allows("market-data", "list_symbols") => self
                .symbols()
                .await?
                .into_iter()
                .filter(|s| s.starts_with(&prefix))
                .collect(),
            "timeframe" if applies => Timeframe::ALL
                .iter()
                .map(|t| t.as_str().to_string())
                .filter(|t| t.to_ascii_uppercase().starts_with(&prefix))
                .collect(),
            _ => Vec::new(),
        };
        let total = values.len();
        let shown: Vec<String> = values.into_iter().take(MAX_COMPLETIONS).collect();
        let info =
            CompletionInfo::with_pagination(shown, Some(total as u32), total > MAX_COMPLETIONS)
                .map_err(|e| McpError::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        // Stateless: the level is remembered per caller in the record store,
        // so whichever instance serves the next request sees it.
        let who = principal(&ctx)?;
        let level = serde_json::to_vec(&request.level)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let key = logging_level_key(&who.subject)
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        self.records
            .put(&key, &level, WriteCondition::Always, None)
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(())
    }
}

impl GoldenSignals {
    /// Sends the caller a `notifications/message` about the call when it has
    /// asked for messages of that severity with `logging/setLevel`. Callers
    /// that never set a level get plain JSON responses, with no extra stream.
    async fn log_to_client(
        &self,
        who: &Principal,
        ctx: &RequestContext<RoleServer>,
        tool: &str,
        is_error: bool,
        elapsed_ms: f64,
    ) {
        let Ok(key) = logging_level_key(&who.subject) else {
            return;
        };
        let Ok(Some(record)) = self.records.get(&key).await else {
            return;
        };
        let Ok(wanted) = serde_json::from_slice::<LoggingLevel>(&record.value) else {
            return;
        };
        let level = if is_error {
            LoggingLevel::Error
        } else {
            LoggingLevel::Info
        };
        if severity(level) < severity(wanted) {
            return;
        }
        let data = serde_json::json!({
            "tool": tool,
            "is_error": is_error,
            "elapsed_ms": (elapsed_ms * 10.0).round() / 10.0,
        });
        let message =
            LoggingMessageNotificationParam::new(level, data).with_logger("goldensignals");
        if let Err(e) = ctx.peer.notify_logging_message(message).await {
            tracing::debug!(error = %e, "could not send a log message to the client");
        }
    }

    async fn symbols(&self) -> Result<Vec<String>, McpError> {
        let series = gs_domain::read_series(self.bars.as_ref(), None)
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let mut symbols: Vec<String> = series
            .into_iter()
            .map(|s| s.key.symbol.to_string())
            .collect();
        symbols.dedup();
        Ok(symbols)
    }

    async fn briefing_data(
        &self,
        symbol: &Symbol,
        timeframe: Timeframe,
    ) -> Result<String, ToolError> {
        let store = self.bars.as_ref();
        let (quote, _) = market_data::quote_for(store, symbol).await?;
        let history = market_data::load_history(
            store,
            &market_data::HistoryRequest {
                symbol: symbol.clone(),
                timeframe,
                start: None,
                end: None,
                days: None,
                limit: 250,
            },
        )
        .await?;
        let cols = Columns::from_bars(&history.bars);
        let input: Ohlcv = cols.ohlcv();
        let mut lines = vec![format!(
            "- Quote: {} at {} (previous close {}, change {})",
            quote.price,
            quote.time.to_rfc3339(),
            quote
                .previous_close
                .map_or("n/a".into(), |p| format!("{p:.4}")),
            quote
                .change_percent
                .map_or("n/a".into(), |p| format!("{p:+.2}%")),
        )];
        for (name, params) in [
            ("rsi", vec![("timeperiod".to_string(), 14.0)]),
            ("macd", vec![]),
            ("atr", vec![("timeperiod".to_string(), 14.0)]),
            ("bbands", vec![("timeperiod".to_string(), 20.0)]),
        ] {
            let out = gs_analytics::compute(name, &params, &input)?;
            let latest: Vec<String> = out
                .outputs
                .iter()
                .map(|(o, v)| match v.last().copied().flatten() {
                    Some(x) => format!("{o}={x:.4}"),
                    None => format!("{o}=n/a"),
                })
                .collect();
            lines.push(format!("- {name}: {}", latest.join(", ")));
        }
        let bars = &history.bars;
        for n in [20usize, 60] {
            if bars.len() > n {
                let then = bars[bars.len() - 1 - n].close();
                let now = bars[bars.len() - 1].close();
                lines.push(format!(
                    "- Change over last {n} bars: {:+.2}%",
                    (now / then - 1.0) * 100.0
                ));
            }
        }
        if history.source.source.is_synthetic() {
            lines.push("- Data source: SYNTHETIC demo data, not real market prices".into());
        }
        Ok(lines.join("\n"))
    }
}

/// A progress callback for long tool runs and the task that forwards its
/// reports to the client as `notifications/progress` — only when the client
/// asked for progress with a token. Reports are thinned to 5% steps.
fn progress_reporter(
    ctx: &RequestContext<RoleServer>,
) -> (signals::Progress, Option<tokio::task::JoinHandle<()>>) {
    let Some(token) = ctx.meta.get_progress_token() else {
        return (Box::new(|_, _| {}), None);
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
    let peer = ctx.peer.clone();
    let forwarder = tokio::spawn(async move {
        while let Some((done, total)) = rx.recv().await {
            let param = ProgressNotificationParam::new(token.clone(), done as f64)
                .with_total(total as f64)
                .with_message(format!("{done} of {total} steps"));
            if peer.notify_progress(param).await.is_err() {
                break;
            }
        }
    });
    let mut last_step = None;
    let progress = Box::new(move |done: usize, total: usize| {
        let step = (done * 20).checked_div(total).unwrap_or(20);
        if last_step != Some(step) || done == total {
            last_step = Some(step);
            let _ = tx.send((done, total));
        }
    });
    (progress, Some(forwarder))
}

fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

fn to_mcp(e: ToolError) -> McpError {
    McpError::invalid_request(e.to_string(), None)
}

/// Parses `SYMBOL{?timeframe,start,end}` of the OHLCV template.
fn ohlcv_args(rest: &str) -> Result<GetHistoricalDataArgs, ToolError> {
    let (sym, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut args = GetHistoricalDataArgs {
        symbol: percent_decode(sym),
        timeframe: None,
        start: None,
        end: None,
        days: None,
        limit: None,
        cursor: None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = Some(percent_decode(v));
        match k {
            "timeframe" => args.timeframe = v,
            "start" => args.start = v,
            "end" => args.end = v,
            other => {
                return Err(ToolError::invalid(format!(
                    "unknown query parameter {other:?}; use timeframe, start, end"
                )));
            }
        }
    }
    Ok(args)
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ohlcv_template_uris() {
        let a =
            ohlcv_args("AAPL?timeframe=1h&start=2024-01-02&end=2024-02-01T00%3A00%3A00Z").unwrap();
        assert_eq!(a.symbol, "AAPL");
        assert_eq!(a.timeframe.as_deref(), Some("1h"));
        assert_eq!(a.start.as_deref(), Some("2024-01-02"));
        assert_eq!(a.end.as_deref(), Some("2024-02-01T00:00:00Z"));
        assert_eq!(ohlcv_args("BRK.B").unwrap().symbol, "BRK.B");
        assert!(ohlcv_args("AAPL?limit=5").is_err());
    }
}
