//! The one list of tools. Each entry is built from a type implementing
//! [`Tool`], so a published tool without a body cannot compile; `tools/list`,
//! dispatch, scopes and schemas are all derived from this list.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::context::ToolContext;
use crate::error::ToolError;

/// What a tool really does, as MCP's tool annotations say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

impl Annotations {
    /// Reads stored data and computes; changes nothing, same answer for the same data.
    pub const READ_ONLY: Annotations = Annotations {
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
    };
}

/// A tool body with typed arguments and output.
pub trait Tool: Send + Sync + 'static {
    const NAME: &'static str;
    /// MCP server (scope prefix) the tool belongs to.
    const SERVER: &'static str;
    const TITLE: &'static str;
    const DESCRIPTION: &'static str;
    const ANNOTATIONS: Annotations;
    type Args: DeserializeOwned + JsonSchema + Send + 'static;
    type Output: Serialize + JsonSchema + Send + 'static;

    /// Runs the tool: structured output plus a one-paragraph summary.
    fn call(
        ctx: ToolContext,
        args: Self::Args,
    ) -> impl Future<Output = Result<(Self::Output, String), ToolError>> + Send;
}

/// A tool's result as it crosses an invoker: the structured content already
/// serialised (once), and the text summary.
#[derive(Debug)]
pub struct ToolOutput {
    pub structured: Box<RawValue>,
    pub summary: String,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type CallFn =
    fn(ToolContext, Box<RawValue>, &'static [String]) -> BoxFuture<Result<ToolOutput, ToolError>>;

/// One published tool: everything `tools/list` shows, and its body.
pub struct ToolSpec {
    pub name: &'static str,
    pub server: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub annotations: Annotations,
    pub input_schema: Arc<Map<String, Value>>,
    pub output_schema: Arc<Map<String, Value>>,
    /// Top-level argument names the input schema accepts.
    pub accepted: Vec<String>,
    call: CallFn,
}

impl std::fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolSpec")
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl ToolSpec {
    pub fn of<T: Tool>() -> Self {
        let input_schema = schema_for::<T::Args>(SchemaSettings::draft2020_12());
        let output_schema = schema_for::<T::Output>(SchemaSettings::draft2020_12().for_serialize());
        let accepted = input_schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        Self {
            name: T::NAME,
            server: T::SERVER,
            title: T::TITLE,
            description: T::DESCRIPTION,
            annotations: T::ANNOTATIONS,
            input_schema: Arc::new(input_schema),
            output_schema: Arc::new(output_schema),
            accepted,
            call: call_erased::<T>,
        }
    }

    /// The scope that allows this tool, `<server>:<tool>`.
    pub fn scope(&self) -> String {
        format!("{}:{}", self.server, self.name)
    }

    /// The body as a future that parses `arguments` (a JSON object, or
    /// `null` for none) in one pass and runs the tool. Parsing happens inside
    /// the future, so whatever runs it (the invoker spawns it as a task)
    /// also catches a panic there. Every argument struct denies unknown
    /// fields, so a misspelled name is refused before anything runs; the
    /// error then names every unknown argument and lists the accepted ones.
    pub fn call(
        &'static self,
        ctx: ToolContext,
        arguments: Box<RawValue>,
    ) -> BoxFuture<Result<ToolOutput, ToolError>> {
        (self.call)(ctx, arguments, &self.accepted)
    }
}

/// Arguments larger than this are parsed on the compute pool, not on an
/// async worker (20,000 inline bars are about 3 MB).
const PARSE_ON_POOL_BYTES: usize = 64 * 1024;

fn call_erased<T: Tool>(
    ctx: ToolContext,
    arguments: Box<RawValue>,
    accepted: &'static [String],
) -> BoxFuture<Result<ToolOutput, ToolError>> {
    Box::pin(async move {
        let len = arguments.get().len();
        let parse = move || {
            parse_args::<T::Args>(T::NAME, &arguments).map_err(|e| {
                // Only on failure: a second look to name every unknown argument.
                check_argument_names(T::NAME, &arguments, accepted)
                    .err()
                    .unwrap_or(e)
            })
        };
        let args = if len > PARSE_ON_POOL_BYTES {
            ctx.compute(parse).await?
        } else {
            parse()?
        };
        let (output, summary) = T::call(ctx, args).await?;
        let structured = serde_json::value::to_raw_value(&output).map_err(|e| {
            ToolError::Internal(format!("cannot encode the result of {}: {e}", T::NAME))
        })?;
        Ok(ToolOutput {
            structured,
            summary,
        })
    })
}

fn parse_args<A: DeserializeOwned>(tool: &str, arguments: &RawValue) -> Result<A, ToolError> {
    let text = match arguments.get().trim() {
        "null" | "" => "{}",
        other => other,
    };
    serde_json::from_str(text).map_err(|e| {
        ToolError::invalid(format!(
            "invalid arguments for {tool}: {e}; see the tool's input schema"
        ))
    })
}

/// Refuses argument names the tool does not take, naming them and listing
/// the accepted ones, so a model never believes a misspelled setting applied.
fn check_argument_names(
    tool: &str,
    arguments: &RawValue,
    accepted: &[String],
) -> Result<(), ToolError> {
    let text = arguments.get().trim();
    if text == "null" || text.is_empty() {
        return Ok(());
    }
    let keys: BTreeMap<Cow<'_, str>, IgnoredAny> = serde_json::from_str(text).map_err(|_| {
        ToolError::invalid(format!(
            "arguments for {tool} must be a JSON object with the fields of its input schema: {}",
            accepted.join(", ")
        ))
    })?;
    let unknown: Vec<&str> = keys
        .keys()
        .map(AsRef::as_ref)
        .filter(|k| !accepted.iter().any(|a| a == k))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "unknown argument{} for {tool}: {}; accepted: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", "),
            accepted.join(", ")
        )))
    }
}

/// JSON Schema formats every validator knows (JSON Schema 2020-12's
/// vocabulary); schemars' own (`uint`, `int64`, `double`...) make strict
/// validators such as Ajv warn, so they are dropped.
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

fn schema_for<T: JsonSchema>(settings: SchemaSettings) -> Map<String, Value> {
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut value = schema.to_value();
    strip_nonstandard_formats(&mut value);
    let mut object = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    // The wrapper type's name and doc are noise to a model.
    object.remove("title");
    object.remove("description");
    object
}

fn strip_nonstandard_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| !STANDARD_FORMATS.contains(&f))
            {
                map.remove("format");
            }
            for (key, child) in map.iter_mut() {
                // `properties` maps names to schemas: a property may itself be called "format".
                if key != "format" || child.is_object() {
                    strip_nonstandard_formats(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nonstandard_formats),
        _ => {}
    }
}

/// Every published tool, in the order `tools/list` shows them.
pub fn registry() -> &'static [ToolSpec] {
    static REGISTRY: OnceLock<Vec<ToolSpec>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        use crate::{
            alerts, bus, candlesticks, chart_patterns, database, import, market_data, monitoring,
            options, portfolio, sentiment, signals, technical, watchlists,
        };
        vec![
            ToolSpec::of::<market_data::ListSymbols>(),
            ToolSpec::of::<market_data::GetQuote>(),
            ToolSpec::of::<market_data::GetHistoricalData>(),
            ToolSpec::of::<technical::CalculateIndicators>(),
            ToolSpec::of::<candlesticks::DetectCandlestickPatterns>(),
            ToolSpec::of::<chart_patterns::AnalyzePattern>(),
            ToolSpec::of::<signals::AnalyzeTimeframes>(),
            ToolSpec::of::<signals::GenerateSignals>(),
            ToolSpec::of::<signals::BacktestSignals>(),
            ToolSpec::of::<watchlists::CreateWatchlist>(),
            ToolSpec::of::<watchlists::ListWatchlists>(),
            ToolSpec::of::<watchlists::UpdateWatchlist>(),
            ToolSpec::of::<watchlists::RunScan>(),
            ToolSpec::of::<watchlists::GetSignalHistory>(),
            ToolSpec::of::<watchlists::DeleteWatchlist>(),
            ToolSpec::of::<import::ImportBars>(),
            ToolSpec::of::<sentiment::ImportNews>(),
            ToolSpec::of::<sentiment::ImportPosts>(),
            ToolSpec::of::<options::ImportOptions>(),
            ToolSpec::of::<database::ListSeries>(),
            ToolSpec::of::<database::QueryTimeseries>(),
            ToolSpec::of::<database::AggregateSeries>(),
            ToolSpec::of::<monitoring::HealthCheck>(),
            ToolSpec::of::<monitoring::GetUsage>(),
            ToolSpec::of::<monitoring::GetMetrics>(),
            ToolSpec::of::<monitoring::GetRecentErrors>(),
            ToolSpec::of::<monitoring::QueryAuditLog>(),
            ToolSpec::of::<monitoring::VerifyAuditChain>(),
            ToolSpec::of::<monitoring::GetLogs>(),
            ToolSpec::of::<sentiment::AnalyzeSentiment>(),
            ToolSpec::of::<sentiment::GetNewsSentiment>(),
            ToolSpec::of::<sentiment::GetSocialSentiment>(),
            ToolSpec::of::<sentiment::GetMarketSentiment>(),
            ToolSpec::of::<sentiment::AnalyzeEventImpact>(),
            ToolSpec::of::<options::GetOptionChain>(),
            ToolSpec::of::<options::CalculateGreeks>(),
            ToolSpec::of::<options::ImpliedVolatility>(),
            ToolSpec::of::<options::GetPutCallRatio>(),
            ToolSpec::of::<options::DetectUnusualActivity>(),
            ToolSpec::of::<options::AnalyzeOptionsFlow>(),
            ToolSpec::of::<portfolio::CreatePortfolio>(),
            ToolSpec::of::<portfolio::ListPortfolios>(),
            ToolSpec::of::<portfolio::GetPortfolio>(),
            ToolSpec::of::<portfolio::PlaceOrder>(),
            ToolSpec::of::<portfolio::CancelOrder>(),
            ToolSpec::of::<portfolio::GetOrders>(),
            ToolSpec::of::<portfolio::GetFills>(),
            ToolSpec::of::<portfolio::CheckTradeRisk>(),
            ToolSpec::of::<portfolio::GetRiskMetrics>(),
            ToolSpec::of::<portfolio::GetPerformance>(),
            ToolSpec::of::<portfolio::RebalancePreview>(),
            ToolSpec::of::<alerts::CreateAlertRule>(),
            ToolSpec::of::<alerts::ListAlertRules>(),
            ToolSpec::of::<alerts::UpdateAlertRule>(),
            ToolSpec::of::<alerts::PauseAlertRule>(),
            ToolSpec::of::<alerts::ResumeAlertRule>(),
            ToolSpec::of::<alerts::GetAlertHistory>(),
            ToolSpec::of::<alerts::AcknowledgeAlert>(),
            ToolSpec::of::<alerts::DeleteAlertRule>(),
            ToolSpec::of::<alerts::CreateSilence>(),
            ToolSpec::of::<alerts::ListSilences>(),
            ToolSpec::of::<alerts::DeleteSilence>(),
            ToolSpec::of::<bus::log::GetEvents>(),
        ]
    })
}

/// Declares a tool of the calling module's server (its `SERVER` const):
/// a unit type whose `Tool` body is `$body(&ctx, args)`.
macro_rules! tool {
    ($ty:ident, $name:literal, $title:literal, $annotations:expr, $args:ty, $out:ty, $body:ident, $description:literal) => {
        #[doc = concat!("The `", $name, "` tool.")]
        #[derive(Debug)]
        pub struct $ty;

        impl $crate::registry::Tool for $ty {
            const NAME: &'static str = $name;
            const SERVER: &'static str = SERVER;
            const TITLE: &'static str = $title;
            const DESCRIPTION: &'static str = $description;
            const ANNOTATIONS: $crate::registry::Annotations = $annotations;
            type Args = $args;
            type Output = $out;

            async fn call(
                ctx: $crate::context::ToolContext,
                args: Self::Args,
            ) -> Result<(Self::Output, String), $crate::error::ToolError> {
                $body(&ctx, args).await
            }
        }
    };
}
pub(crate) use tool;

/// The published tool called `name`.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    registry().iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonstandard_formats_are_dropped_and_properties_named_format_kept() {
        let mut schema = serde_json::json!({
            "properties": {
                "n": {"type": "integer", "format": "uint32"},
                "t": {"type": "string", "format": "date-time"},
                "format": {"type": "string"}
            }
        });
        strip_nonstandard_formats(&mut schema);
        assert_eq!(
            schema["properties"]["n"],
            serde_json::json!({"type": "integer"})
        );
        assert_eq!(schema["properties"]["t"]["format"], "date-time");
        assert_eq!(schema["properties"]["format"]["type"], "string");
    }

    #[test]
    fn unknown_argument_names_are_named_with_the_accepted_ones() {
        let accepted = vec!["symbol".to_string(), "lookback".to_string()];
        let raw = RawValue::from_string(r#"{"symbol":"AAPL","lookbak":5}"#.into()).unwrap();
        let err = check_argument_names("calculate_indicators", &raw, &accepted)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("lookbak") && err.contains("accepted: symbol, lookback"),
            "{err}"
        );
        let ok = RawValue::from_string(r#"{"symbol":"AAPL"}"#.into()).unwrap();
        assert!(check_argument_names("t", &ok, &accepted).is_ok());
        let not_object = RawValue::from_string("[1]".into()).unwrap();
        assert!(check_argument_names("t", &not_object, &accepted).is_err());
    }

    #[test]
    fn every_tool_has_a_unique_name_and_object_schemas() {
        let mut names: Vec<&str> = registry().iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), registry().len());
        for t in registry() {
            assert_eq!(
                t.input_schema.get("type"),
                Some(&Value::from("object")),
                "{}",
                t.name
            );
            assert!(
                !t.accepted.is_empty() || t.name == "list_symbols",
                "{}",
                t.name
            );
        }
    }
}
