//! The demo portfolio: a year of deposits, trades and a withdrawal on the
//! synthetic demo closes, imported for the local dev user through
//! `create_portfolio`'s history path, so `get_portfolio`, `get_risk_metrics`
//! and `get_performance` have something to show on a fresh data directory.
//! Its name says synthetic, and so do the tools' outputs (the prices are).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use gs_domain::{Symbol, Timeframe};

use crate::context::Stores;
use crate::error::ToolError;
use crate::market_data::{HistoryRequest, load_history};

use super::store;

/// The demo portfolio's idempotency key.
pub const DEMO_KEY: &str = "demo-portfolio";
/// Its name.
pub const DEMO_NAME: &str = "Demo portfolio (synthetic)";

/// Trading days of history.
const DAYS: usize = 250;

/// What [`seed_demo_portfolio_if_missing`] stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoPortfolioReport {
    pub portfolio_id: String,
    pub rows: usize,
    pub positions: usize,
}

fn csv_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The demo history over `closes` (symbol → (time, close) ascending, one
/// entry per day, SPY's days): starting with 100000, five positions near
/// 18% each; 20000 more and SPY after 60 days; half of NVDA sold after 120;
/// 5000 taken out after 180; XOM closed after 200.
pub fn demo_history(closes: &BTreeMap<String, Vec<(DateTime<Utc>, f64)>>) -> Option<String> {
    let days: Vec<DateTime<Utc>> = closes.get("SPY")?.iter().map(|(t, _)| *t).collect();
    let start = days.len().checked_sub(DAYS)?;
    let close_at = |symbol: &str, day: DateTime<Utc>| -> Option<f64> {
        closes
            .get(symbol)?
            .iter()
            .rev()
            .find(|(t, _)| *t <= day)
            .map(|(_, c)| (c * 100.0).round() / 100.0)
    };
    let mut out = String::from("time,type,symbol,quantity,price,commission,amount\n");
    let mut held: BTreeMap<&str, u64> = BTreeMap::new();
    let mut buy = |out: &mut String, symbol: &'static str, budget: f64, day| -> Option<()> {
        let price = close_at(symbol, day)?;
        let quantity = (budget / price).floor();
        if quantity >= 1.0 {
            writeln!(
                out,
                "{},buy,{symbol},{quantity},{price:.2},1.00,",
                csv_time(day)
            )
            .ok()?;
            let h = held.entry(symbol).or_default();
            *h = h.saturating_add(quantity as u64);
        }
        Some(())
    };
    let on = |k: usize| start.checked_add(k).and_then(|i| days.get(i)).copied();
    let d0 = on(0)?;
    writeln!(out, "{},deposit,,,,,100000", csv_time(d0)).ok()?;
    for symbol in ["AAPL", "MSFT", "NVDA", "JPM", "XOM"] {
        buy(&mut out, symbol, 18_000.0, d0)?;
    }
    let d60 = on(60)?;
    writeln!(out, "{},deposit,,,,,20000", csv_time(d60)).ok()?;
    buy(&mut out, "SPY", 15_000.0, d60)?;
    let sell = |out: &mut String, symbol: &str, quantity: u64, day| -> Option<()> {
        let price = close_at(symbol, day)?;
        if quantity > 0 {
            writeln!(
                out,
                "{},sell,{symbol},{quantity},{price:.2},1.00,",
                csv_time(day)
            )
            .ok()?;
        }
        Some(())
    };
    let nvda = held.get("NVDA").copied().unwrap_or(0);
    sell(&mut out, "NVDA", nvda / 2, on(120)?)?;
    writeln!(out, "{},withdrawal,,,,,5000", csv_time(on(180)?)).ok()?;
    let xom = held.get("XOM").copied().unwrap_or(0);
    sell(&mut out, "XOM", xom, on(200)?)?;
    Some(out)
}

/// Seeds the demo portfolio of `subject` (the local dev user) when the demo
/// closes are stored (synthetic) and it has none yet.
pub async fn seed_demo_portfolio_if_missing(
    stores: &Stores,
    subject: &str,
) -> Result<Option<DemoPortfolioReport>, ToolError> {
    let id = store::portfolio_id(subject, DEMO_KEY);
    // Seeded already; one whose import was cut short is finished below.
    if store::get_portfolio(stores.records.as_ref(), subject, &id)
        .await?
        .is_some_and(|(p, _)| !p.importing)
    {
        return Ok(None);
    }
    let mut closes = BTreeMap::new();
    for symbol in ["AAPL", "MSFT", "NVDA", "SPY", "JPM", "XOM"] {
        let req = HistoryRequest {
            symbol: Symbol::parse(symbol)?,
            timeframe: Timeframe::D1,
            start: None,
            end: None,
            days: Some(400),
            limit: 1_000,
        };
        let h = match load_history(stores.bars.as_ref(), &req).await {
            Ok(h) => h,
            Err(ToolError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        // Only over the synthetic demo data: a user's imported prices
        // would make a made-up book look like theirs.
        if !h.source.source.is_synthetic() {
            return Ok(None);
        }
        closes.insert(
            symbol.to_string(),
            h.bars
                .iter()
                .map(|b| (b.time(), b.close()))
                .collect::<Vec<_>>(),
        );
    }
    let Some(text) = demo_history(&closes) else {
        return Ok(None);
    };
    let (out, _) = super::import_history(stores, subject, DEMO_NAME, DEMO_KEY, text).await?;
    Ok(Some(DemoPortfolioReport {
        portfolio_id: out.settings.portfolio_id,
        rows: out.imported_rows.unwrap_or(0),
        positions: out.positions,
    }))
}
