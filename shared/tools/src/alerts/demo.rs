//! The dev user's demo watchlist and alert rules, seeded once per data
//! directory with the demo bars (a marker record says it was done, so a
//! rule the user deleted does not come back). Their names say `demo`; the
//! prices they watch are the synthetic demo series.

use gs_domain::{Owner, RecordKey, StoreError, WriteCondition};

use crate::context::Stores;
use crate::error::ToolError;

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, ToolError> {
    serde_json::from_value(v).map_err(|e| ToolError::Internal(format!("demo arguments: {e}")))
}

/// What was seeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub watchlist: String,
    pub rules: usize,
}

/// The demo symbols (those of the demo bars).
pub const DEMO_SYMBOLS: [&str; 8] = [
    "AAPL", "MSFT", "NVDA", "SPY", "TSLA", "JPM", "XOM", "BTC-USD",
];

/// Seeds `subject`'s demo watchlist (scanned on weekdays at 21:05 UTC) and
/// three rules, unless done before.
pub async fn seed_demo_alerts_if_missing(
    stores: &Stores,
    subject: &str,
) -> Result<Option<DemoReport>, ToolError> {
    let marker = RecordKey::new(Owner::system(), "demo-marks", &format!("alerts#{subject}"))?;
    if stores.records.get(&marker).await?.is_some() {
        return Ok(None);
    }
    let ctx = crate::portfolio::local_context(stores, subject, "demo-alerts");
    // A `demo` watchlist of the user's own stays as it is.
    match crate::watchlists::create_watchlist(
        &ctx,
        parse(serde_json::json!({
            "name": "demo",
            "symbols": DEMO_SYMBOLS,
            "schedule": "cron(5 21 ? * MON-FRI *)",
        }))?,
    )
    .await
    {
        Ok(_) | Err(ToolError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    let rules = [
        serde_json::json!({
            "name": "NVDA RSI(14) oversold (demo)", "symbol": "NVDA",
            "condition": {"kind": "indicator", "indicator": "rsi", "params": {"timeperiod": 14},
                          "op": "crosses_below", "value": 30},
            "idempotency_key": "demo-nvda-rsi",
        }),
        serde_json::json!({
            "name": "SPY moves 2% in a day (demo)", "symbol": "SPY",
            "condition": {"kind": "percent_move", "percent": 2, "bars": 1, "direction": "either"},
            "idempotency_key": "demo-spy-move",
        }),
        serde_json::json!({
            "name": "AAPL scan signal changes (demo)", "symbol": "AAPL",
            "condition": {"kind": "signal_change"},
            "idempotency_key": "demo-aapl-signal",
        }),
    ];
    let count = rules.len();
    for rule in rules {
        match crate::alerts::create_alert_rule(&ctx, parse(rule)?).await {
            Ok(_) | Err(ToolError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    match stores
        .records
        .put(&marker, b"1", WriteCondition::IfAbsent, None)
        .await
    {
        Ok(_) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Some(DemoReport {
        watchlist: "demo".into(),
        rules: count,
    }))
}
