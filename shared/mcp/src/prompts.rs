//! Prompts. `market_briefing` attaches data by calling tools through the
//! invoker as the caller: each section appears only when the caller may
//! call the tool it comes from.

use gs_domain::{Symbol, Timeframe};
use gs_tools::ToolReply;
use rmcp::ErrorData as McpError;
use rmcp::model::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage, Role,
};
use serde_json::{Value, json};

use crate::Principal;
use crate::server::GoldenSignals;

pub(crate) fn list() -> ListPromptsResult {
    ListPromptsResult::with_all_items(vec![
        Prompt::new(
            "market_briefing",
            Some("A briefing on one symbol: latest quote, recent trend, momentum (RSI, MACD), volatility (ATR, Bollinger Bands) and what to watch, with the data the caller's scopes allow already attached."),
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
    ])
}

pub(crate) async fn get(
    server: &GoldenSignals,
    who: &Principal,
    request: GetPromptRequestParams,
) -> Result<GetPromptResult, McpError> {
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
        .ok_or_else(|| McpError::invalid_params("market_briefing needs a symbol argument", None))
        .and_then(|s| {
            Symbol::parse(&s).map_err(|e| McpError::invalid_params(e.to_string(), None))
        })?;
    let timeframe = Timeframe::parse(arg("timeframe").as_deref().unwrap_or("1d"))
        .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
    let data = briefing_data(server, who, &symbol, timeframe).await;
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
            .with_description(format!("Market briefing for {symbol} ({timeframe})")),
    )
}

/// One line per section the caller's scopes allow; a note for each they do not.
async fn briefing_data(
    server: &GoldenSignals,
    who: &Principal,
    symbol: &Symbol,
    timeframe: Timeframe,
) -> String {
    let mut lines = Vec::new();
    let mut synthetic = false;
    let sym = symbol.as_str();
    let tf = timeframe.as_str();

    let indicators = json!({
        "symbol": sym, "timeframe": tf, "lookback": 250, "output_rows": 1,
        "indicators": [
            {"name": "rsi", "params": {"timeperiod": 14}},
            {"name": "macd"},
            {"name": "atr", "params": {"timeperiod": 14}},
            {"name": "bbands", "params": {"timeperiod": 20}}
        ]
    });
    let history = json!({ "symbol": sym, "timeframe": tf, "limit": 61 });
    // The three sections load at once, so the prompt takes as long as the
    // slowest call, within one call's deadline.
    let (quote, latest, recent) = tokio::join!(
        call(server, who, "get_quote", json!({ "symbol": sym })),
        call(server, who, "calculate_indicators", indicators),
        call(server, who, "get_historical_data", history),
    );
    match quote {
        Section::Data(q) => {
            synthetic |= q.get("synthetic").and_then(Value::as_bool).unwrap_or(false);
            let num = |k: &str, f: &dyn Fn(f64) -> String| {
                q.get(k).and_then(Value::as_f64).map_or("n/a".into(), f)
            };
            lines.push(format!(
                "- Quote: {} at {} (previous close {}, change {})",
                num("price", &|p| format!("{p}")),
                q.get("time").and_then(Value::as_str).unwrap_or("n/a"),
                num("previous_close", &|p| format!("{p:.4}")),
                num("change_percent", &|p| format!("{p:+.2}%")),
            ));
        }
        other => lines.push(other.note("get_quote", "the quote")),
    }

    match latest {
        Section::Data(out) => {
            synthetic |= out
                .get("synthetic")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            for ind in out
                .get("indicators")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let latest: Vec<String> = ind["outputs"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(o, v)| {
                        match v.as_array().and_then(|a| a.last()).and_then(Value::as_f64) {
                            Some(x) => format!("{o}={x:.4}"),
                            None => format!("{o}=n/a"),
                        }
                    })
                    .collect();
                lines.push(format!(
                    "- {}: {}",
                    ind.get("name").and_then(Value::as_str).unwrap_or("?"),
                    latest.join(", ")
                ));
            }
        }
        other => lines.push(other.note(
            "calculate_indicators",
            "RSI, MACD, ATR and Bollinger values",
        )),
    }

    match recent {
        Section::Data(h) => {
            synthetic |= h.get("synthetic").and_then(Value::as_bool).unwrap_or(false);
            let closes: Vec<f64> = h
                .get("bars")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|b| b.get("close").and_then(Value::as_f64))
                .collect();
            for n in [20usize, 60] {
                let then = closes
                    .len()
                    .checked_sub(n.saturating_add(1))
                    .and_then(|i| closes.get(i));
                if let (Some(then), Some(now)) = (then, closes.last()) {
                    lines.push(format!(
                        "- Change over last {n} bars: {:+.2}%",
                        (now / then - 1.0) * 100.0
                    ));
                }
            }
        }
        other => lines.push(other.note("get_historical_data", "the recent trend")),
    }
    if synthetic {
        lines.push("- Data source: SYNTHETIC demo data, not real market prices".into());
    }
    lines.join("\n")
}

enum Section {
    Data(Value),
    Forbidden,
    Failed(String),
}

impl Section {
    fn note(self, tool: &str, what: &str) -> String {
        match self {
            Section::Data(_) => String::new(),
            Section::Forbidden => {
                format!("- ({what} is not attached: your token cannot call {tool})")
            }
            Section::Failed(message) => format!("- ({what} could not be loaded: {message})"),
        }
    }
}

async fn call(server: &GoldenSignals, who: &Principal, tool: &str, args: Value) -> Section {
    let allowed = gs_tools::find(tool).is_some_and(|t| who.permissions.allows(t.server, t.name));
    if !allowed {
        return Section::Forbidden;
    }
    match server.invoke_json(who, tool, args).await {
        ToolReply::Ok { structured, .. } => serde_json::from_str(structured.get())
            .map_or_else(|e| Section::Failed(e.to_string()), Section::Data),
        ToolReply::Error { message, .. } => Section::Failed(message),
    }
}
