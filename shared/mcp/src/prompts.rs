//! Prompts. `market_briefing` and `options_briefing` attach data by
//! calling tools through the invoker as the caller: each section appears
//! only when the caller may call the tool it comes from.

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
        Prompt::new(
            "options_briefing",
            Some("An options briefing on one symbol: dealer gamma exposure and the gamma flip, max pain, the expected move, implied volatility (level, rank, term structure, skew), put/call ratios and the day's unusual flow, with the data the caller's scopes allow already attached."),
            Some(vec![
                PromptArgument::new("symbol")
                    .with_description("Underlying with stored option chains, e.g. AAPL")
                    .with_required(true),
            ]),
        )
        .with_title("Options briefing"),
    ])
}

/// The names of the prompts, for completions.
pub(crate) const PROMPTS: [&str; 2] = ["market_briefing", "options_briefing"];

pub(crate) async fn get(
    server: &GoldenSignals,
    who: &Principal,
    request: GetPromptRequestParams,
) -> Result<GetPromptResult, McpError> {
    if !PROMPTS.contains(&request.name.as_str()) {
        return Err(McpError::invalid_params(
            format!(
                "unknown prompt {:?}; available: {}",
                request.name,
                PROMPTS.join(", ")
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
            McpError::invalid_params(format!("{} needs a symbol argument", request.name), None)
        })
        .and_then(|s| {
            Symbol::parse(&s).map_err(|e| McpError::invalid_params(e.to_string(), None))
        })?;
    if request.name == "options_briefing" {
        let data = options_data(server, who, &symbol).await;
        let text = format!(
            "Prepare a concise options briefing on {symbol} for a professional trader.\n\
             Cover: (1) dealer positioning: net gamma exposure, the gamma-flip level against the price, and max pain; \
             (2) implied volatility: 30-day ATM level, its rank and percentile, term structure and the 25-delta skew; \
             (3) flow: bullish against bearish premium, the put/call ratio against its history, and the day's unusual \
             activity (sweeps, blocks) with their side; (4) the expected move to the nearest expiry and the levels \
             that matter. State clearly if the data is synthetic. Use get_option_chain, calculate_greeks, \
             analyze_options_flow, get_put_call_ratio and detect_unusual_activity for anything else you need.\n\n\
             Data as of now:\n{data}"
        );
        return Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(format!("Options briefing for {symbol}")),
        );
    }
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

/// The options sections: one line each, or a note when not allowed.
async fn options_data(server: &GoldenSignals, who: &Principal, symbol: &Symbol) -> String {
    let sym = symbol.as_str();
    let (flow, pcr, unusual) = tokio::join!(
        call(
            server,
            who,
            "analyze_options_flow",
            json!({ "symbol": sym, "max_strikes": 5, "expiries": 1 })
        ),
        call(
            server,
            who,
            "get_put_call_ratio",
            json!({ "symbol": sym, "days": 20 })
        ),
        call(
            server,
            who,
            "detect_unusual_activity",
            json!({ "symbol": sym, "min_score": 40, "limit": 5 })
        ),
    );
    let mut lines = Vec::new();
    let mut synthetic = false;
    let num = |v: &Value, path: &str| v.pointer(path).and_then(Value::as_f64);
    let text = |v: &Value, path: &str| {
        v.pointer(path)
            .and_then(Value::as_str)
            .unwrap_or("n/a")
            .to_string()
    };
    let fmt = |x: Option<f64>, d: usize| x.map_or("n/a".to_string(), |x| format!("{x:.d$}"));
    match flow {
        Section::Data(f) => {
            synthetic |= f.get("synthetic").and_then(Value::as_bool).unwrap_or(false);
            lines.push(format!(
                "- Positioning: price {}, net gamma exposure {} per 1% move, gamma flip {}, max pain {} ({})",
                fmt(num(&f, "/underlying_price"), 2),
                fmt(num(&f, "/gamma_exposure/total"), 0),
                fmt(num(&f, "/gamma_flip"), 2),
                fmt(num(&f, "/max_pain/0/strike"), 2),
                text(&f, "/max_pain/0/expiry"),
            ));
            lines.push(format!(
                "- Expected move to {}: +-{} ({}%)",
                text(&f, "/expected_move/expiry"),
                fmt(num(&f, "/expected_move/straddle"), 2),
                fmt(num(&f, "/expected_move/straddle_pct"), 2),
            ));
            lines.push(format!(
                "- Implied volatility: 30-day ATM {}, rank {}, percentile {}; 25-delta risk reversal {}",
                fmt(num(&f, "/iv_rank/current"), 4),
                fmt(num(&f, "/iv_rank/rank"), 0),
                fmt(num(&f, "/iv_rank/percentile"), 0),
                fmt(num(&f, "/skew/0/rr25"), 4),
            ));
            if f.pointer("/flow/split").is_some_and(Value::is_object) {
                lines.push(format!(
                    "- Premium today: bullish {} vs bearish {} (net {})",
                    fmt(num(&f, "/flow/split/bullish/premium"), 0),
                    fmt(num(&f, "/flow/split/bearish/premium"), 0),
                    fmt(num(&f, "/flow/split/net"), 2),
                ));
            }
        }
        other => lines.push(other.note(
            "analyze_options_flow",
            "the positioning and volatility figures",
        )),
    }
    match pcr {
        Section::Data(p) => {
            synthetic |= p.get("synthetic").and_then(Value::as_bool).unwrap_or(false);
            lines.push(format!(
                "- Put/call volume ratio {} (mean over the history {}), open-interest ratio {}",
                fmt(num(&p, "/latest/volume_ratio"), 2),
                fmt(num(&p, "/mean_volume_ratio"), 2),
                fmt(num(&p, "/latest/open_interest_ratio"), 2),
            ));
        }
        other => lines.push(other.note("get_put_call_ratio", "the put/call ratios")),
    }
    match unusual {
        Section::Data(u) => {
            synthetic |= u.get("synthetic").and_then(Value::as_bool).unwrap_or(false);
            for h in u
                .get("hits")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                lines.push(format!(
                    "- Unusual ({}, score {}): {}",
                    text(h, "/kind"),
                    fmt(num(h, "/score"), 0),
                    text(h, "/reasons/0"),
                ));
            }
        }
        other => lines.push(other.note("detect_unusual_activity", "the unusual activity")),
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
