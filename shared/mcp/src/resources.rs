//! Resources: the quote of a symbol, its OHLCV history and the data bus's
//! recent events of a type, served by calling `get_quote`,
//! `get_historical_data` and `get_events` through the invoker as the
//! caller, so a resource never shows what the caller's scopes do not allow.

use gs_tools::{ErrorKind, ToolReply};
use rmcp::ErrorData as McpError;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
};
use serde_json::{Map, Value, json};

use crate::Principal;
use crate::server::GoldenSignals;

const MAX_LISTED_RESOURCES: usize = 200;
const QUOTE_URI: &str = "market://quotes/realtime/";
const OHLCV_URI: &str = "market://historical/ohlcv/";
const DATABUS_URI: &str = "databus://";
/// Events a `databus://{type}` read shows (the newest first).
const DATABUS_EVENTS: usize = 50;

/// The data bus's event types as resources (`get_events` behind them).
fn databus_resources(who: &Principal) -> Vec<Resource> {
    if !who.permissions.allows("alerts", "get_events") {
        return Vec::new();
    }
    gs_domain::EventType::ALL
        .iter()
        .map(|t| {
            Resource::new(format!("{DATABUS_URI}{t}"), format!("{t} events"))
                .with_description(format!(
                    "The newest {DATABUS_EVENTS} {t} events of the data bus (yours and the market's) as JSON"
                ))
                .with_mime_type("application/json")
        })
        .collect()
}

/// Quote resources of every stored symbol: needs `list_symbols` (the list)
/// and `get_quote` (what each resource reads); and the data bus's event
/// types (needs `get_events`).
pub(crate) async fn list(
    server: &GoldenSignals,
    who: &Principal,
) -> Result<ListResourcesResult, McpError> {
    let bus = databus_resources(who);
    if !who.permissions.allows("market-data", "get_quote") {
        return Ok(ListResourcesResult::with_all_items(bus));
    }
    let symbols = symbols(server, who, "").await?;
    let resources = symbols
        .iter()
        .take(MAX_LISTED_RESOURCES)
        .map(|s| {
            Resource::new(format!("{QUOTE_URI}{s}"), format!("{s} quote"))
                .with_description(format!("Latest quote of {s} as JSON"))
                .with_mime_type("application/json")
        })
        .chain(bus)
        .collect();
    Ok(ListResourcesResult::with_all_items(resources))
}

/// The symbols `list_symbols` gives this caller (none without its scope).
pub(crate) async fn symbols(
    server: &GoldenSignals,
    who: &Principal,
    prefix: &str,
) -> Result<Vec<String>, McpError> {
    if !who.permissions.allows("market-data", "list_symbols") {
        return Ok(Vec::new());
    }
    let args = if prefix.is_empty() {
        json!({})
    } else {
        json!({ "prefix": prefix })
    };
    match server.resource_json(who, "list_symbols", args).await {
        ToolReply::Ok { structured, .. } => {
            let value: Value = serde_json::from_str(structured.get())
                .map_err(|e| McpError::internal_error(e.to_string(), None))?;
            Ok(value
                .get("symbols")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|s| s.get("symbol").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default())
        }
        ToolReply::Error { kind, message } => Err(to_mcp(kind, message)),
    }
}

/// The templates the caller can read.
pub(crate) fn templates(who: &Principal) -> ListResourceTemplatesResult {
    let mut templates = Vec::new();
    if who.permissions.allows("market-data", "get_quote") {
        templates.push(
            ResourceTemplate::new(format!("{QUOTE_URI}{{symbol}}"), "quote")
                .with_title("Real-time quote")
                .with_description("Latest quote of a symbol as JSON")
                .with_mime_type("application/json"),
        );
    }
    if who.permissions.allows("market-data", "get_historical_data") {
        templates.push(
            ResourceTemplate::new(
                format!("{OHLCV_URI}{{symbol}}{{?timeframe,start,end}}"),
                "ohlcv",
            )
            .with_title("Historical OHLCV bars")
            .with_description(
                "OHLCV bars of a symbol as JSON (timeframe 1m..1w, default 1d; start/end as RFC 3339 or YYYY-MM-DD; latest 500 bars when no start)",
            )
            .with_mime_type("application/json"),
        );
    }
    if who.permissions.allows("alerts", "get_events") {
        templates.push(
            ResourceTemplate::new(format!("{DATABUS_URI}{{type}}"), "databus")
                .with_title("Data bus events")
                .with_description(
                    "The newest events of one type (bars.updated, signal.generated, signal.changed, pattern.detected, alert.triggered, alert.delivered, alert.escalated) as JSON",
                )
                .with_mime_type("application/json"),
        );
    }
    ListResourceTemplatesResult::with_all_items(templates)
}

pub(crate) async fn read(
    server: &GoldenSignals,
    who: &Principal,
    request: ReadResourceRequestParams,
) -> Result<ReadResourceResult, McpError> {
    let uri = request.uri.as_str();
    let (tool, args) = if let Some(sym) = uri.strip_prefix(QUOTE_URI) {
        ("get_quote", json!({ "symbol": percent_decode(sym) }))
    } else if let Some(rest) = uri.strip_prefix(OHLCV_URI) {
        let args = ohlcv_args(rest).map_err(|e| McpError::resource_not_found(e, None))?;
        ("get_historical_data", Value::Object(args))
    } else if let Some(kind) = uri.strip_prefix(DATABUS_URI) {
        (
            "get_events",
            json!({ "type": percent_decode(kind), "limit": DATABUS_EVENTS }),
        )
    } else {
        return Err(McpError::resource_not_found(
            format!(
                "unknown resource {uri}; use {QUOTE_URI}{{symbol}}, {OHLCV_URI}{{symbol}}?timeframe=1d or {DATABUS_URI}{{type}}"
            ),
            None,
        ));
    };
    match server.resource_json(who, tool, args).await {
        ToolReply::Ok { structured, .. } => {
            let value: Value = serde_json::from_str(structured.get())
                .map_err(|e| McpError::internal_error(e.to_string(), None))?;
            let json = serde_json::to_string_pretty(&value)
                .map_err(|e| McpError::internal_error(e.to_string(), None))?;
            Ok(ReadResourceResult::new(vec![
                ResourceContents::text(json, uri).with_mime_type("application/json"),
            ]))
        }
        ToolReply::Error { kind, message } => Err(to_mcp(kind, message)),
    }
}

fn to_mcp(kind: ErrorKind, message: String) -> McpError {
    match kind {
        ErrorKind::InvalidInput | ErrorKind::NotFound | ErrorKind::UnknownTool => {
            McpError::resource_not_found(message, None)
        }
        ErrorKind::Forbidden => McpError::invalid_request(message, None),
        ErrorKind::Unavailable
        | ErrorKind::Timeout
        | ErrorKind::Busy
        | ErrorKind::RateLimited
        | ErrorKind::Internal => McpError::internal_error(message, None),
    }
}

/// Parses `SYMBOL{?timeframe,start,end}` of the OHLCV template into
/// `get_historical_data` arguments.
fn ohlcv_args(rest: &str) -> Result<Map<String, Value>, String> {
    let (sym, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut args = Map::new();
    args.insert("symbol".into(), Value::from(percent_decode(sym)));
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "timeframe" | "start" | "end" => {
                args.insert(k.into(), Value::from(percent_decode(v)));
            }
            other => {
                return Err(format!(
                    "unknown query parameter {other:?}; use timeframe, start, end"
                ));
            }
        }
    }
    Ok(args)
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let mut ahead = bytes.clone();
            if let (Some(h), Some(l)) = (ahead.next().and_then(hex), ahead.next().and_then(hex)) {
                out.push(h.wrapping_shl(4) | l);
                bytes = ahead;
                continue;
            }
        }
        out.push(b);
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
        assert_eq!(a["symbol"], "AAPL");
        assert_eq!(a["timeframe"], "1h");
        assert_eq!(a["start"], "2024-01-02");
        assert_eq!(a["end"], "2024-02-01T00:00:00Z");
        assert_eq!(ohlcv_args("BRK.B").unwrap()["symbol"], "BRK.B");
        assert!(ohlcv_args("AAPL?limit=5").is_err());
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%41%zz"), "A%zz");
    }
}
