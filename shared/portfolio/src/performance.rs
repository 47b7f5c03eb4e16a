//! A portfolio's history replayed over daily closes: the equity curve, the
//! time-weighted and money-weighted returns of a window, and each
//! position's profit and loss over it (attribution).
//!
//! Conventions (also in `docs/risk-conventions.md`):
//! - Dates are the daily bars' open times. An event (a cash flow or a fill)
//!   belongs to the first date at or after its time: a fill at a bar's open
//!   is that day's, a deposit between two bars is booked at the start of the
//!   next day. Events after the last date belong to the last date.
//! - Equity at a date is cash plus each position at that date's close (the
//!   latest close before it where a symbol has none that day, or the last
//!   fill price before its first close).
//! - Time-weighted return: daily links r_t = E_t / (E_{t-1} + F_t) - 1 with
//!   the day's external flow F_t at the start of the day, chained as
//!   prod(1 + r_t) - 1 over the window's days after its start.
//! - Money-weighted return: the rate R over the window at which the start
//!   equity and the window's flows, invested, grow to the end equity
//!   (`risk::irr` of -E_start, -F_t, +E_end with times as fractions of the
//!   window), and its annual effective equivalent (ACT/365).
//! - A position's P&L over a window: its value change minus the cash spent
//!   on it (buys, less sells, plus commissions). The positions' P&L add up
//!   to the portfolio's P&L, E_end - E_start - flows, exactly (in decimals;
//!   the f64 figures to rounding).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::Serialize;

use crate::paper::{Fill, Ledger};
use crate::risk::{RiskError, irr};

/// What happened to a portfolio, when.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time: DateTime<Utc>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// Money in (positive) or out (negative).
    Flow(Decimal),
    Fill(Fill),
}

/// Daily closes aligned to `dates` (ascending); `None` where a symbol has
/// no bar that day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    pub dates: Vec<DateTime<Utc>>,
    pub closes: BTreeMap<String, Vec<Option<f64>>>,
}

/// The replayed history, one entry per date.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub dates: Vec<DateTime<Utc>>,
    pub equity: Vec<Decimal>,
    /// External flow booked at the start of each date.
    pub flows: Vec<Decimal>,
    /// Each symbol's position value at each date's close.
    pub values: BTreeMap<String, Vec<Decimal>>,
    /// Each symbol's cumulative trade cash up to each date (buys + commission - sells).
    pub trade_cash: BTreeMap<String, Vec<Decimal>>,
    /// The ledger after every event.
    pub ledger: Ledger,
}

fn dec(x: f64) -> Result<Decimal, RiskError> {
    crate::paper::price(x)
        .ok_or_else(|| RiskError::Invalid(format!("price {x} is not a finite number")))
}

/// Replays `events` (any order; sorted by time here, stable) over `prices`.
pub fn replay(events: &[Event], prices: &Prices) -> Result<Replay, RiskError> {
    let n = prices.dates.len();
    if n == 0 {
        return Err(RiskError::Invalid(
            "no daily closes to value the portfolio on".into(),
        ));
    }
    if prices.dates.windows(2).any(|w| w[0] >= w[1]) {
        return Err(RiskError::Invalid(
            "dates must be strictly ascending".into(),
        ));
    }
    if prices.closes.values().any(|c| c.len() != n) {
        return Err(RiskError::Invalid(
            "every symbol needs one close entry per date".into(),
        ));
    }
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|e| e.time);
    let mut next = sorted.into_iter().peekable();
    let mut ledger = Ledger::default();
    let mut marks: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut cash_by_symbol: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut out = Replay {
        dates: prices.dates.clone(),
        equity: Vec::with_capacity(n),
        flows: Vec::with_capacity(n),
        values: BTreeMap::new(),
        trade_cash: BTreeMap::new(),
        ledger: Ledger::default(),
    };
    for (t, date) in prices.dates.iter().enumerate() {
        let last = t + 1 == n;
        let mut flow = Decimal::ZERO;
        while let Some(e) = next.next_if(|e| last || e.time <= *date) {
            match &e.kind {
                EventKind::Flow(amount) => {
                    ledger.cash += *amount;
                    flow += *amount;
                }
                EventKind::Fill(fill) => {
                    ledger.apply(fill);
                    marks.entry(fill.symbol.clone()).or_insert(fill.price);
                    let signed = match fill.side {
                        crate::paper::Side::Buy => fill.quantity * fill.price,
                        crate::paper::Side::Sell => -(fill.quantity * fill.price),
                    };
                    *cash_by_symbol.entry(fill.symbol.clone()).or_default() +=
                        signed + fill.commission;
                    out.values
                        .entry(fill.symbol.clone())
                        .or_insert_with(|| vec![Decimal::ZERO; t]);
                    out.trade_cash
                        .entry(fill.symbol.clone())
                        .or_insert_with(|| vec![Decimal::ZERO; t]);
                }
            }
        }
        for (symbol, closes) in &prices.closes {
            if let Some(c) = closes[t] {
                marks.insert(symbol.clone(), dec(c)?);
            }
        }
        let mut equity = ledger.cash;
        for (symbol, values) in out.values.iter_mut() {
            let q = ledger
                .positions
                .get(symbol)
                .map_or(Decimal::ZERO, |p| p.quantity);
            let v = q * marks.get(symbol).copied().unwrap_or(Decimal::ZERO);
            equity += v;
            values.push(v);
        }
        for (symbol, cash) in out.trade_cash.iter_mut() {
            cash.push(cash_by_symbol.get(symbol).copied().unwrap_or(Decimal::ZERO));
        }
        out.equity.push(equity);
        out.flows.push(flow);
    }
    out.ledger = ledger;
    Ok(out)
}

/// One position's share of a window's result.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Attribution {
    pub symbol: String,
    /// Value change minus trade cash over the window.
    pub pnl: f64,
    /// pnl / (start equity + the window's deposits).
    pub contribution: Option<f64>,
    pub start_value: f64,
    pub end_value: f64,
}

/// A window's performance.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct WindowPerformance {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub start_equity: f64,
    pub end_equity: f64,
    /// Deposits less withdrawals after the start, up to the end.
    pub net_flows: f64,
    /// end - start - net flows.
    pub pnl: f64,
    /// Chained daily returns; null when no capital was invested in the window.
    pub time_weighted_return: Option<f64>,
    /// Money-weighted return over the window (not annualised): the rate R
    /// with sum_k c_k (1 + R)^(-tau_k) = 0, tau_k the flow's fraction of
    /// the window; null when undefined (no money in and out, one day).
    pub money_weighted_return: Option<f64>,
    /// (1 + R)^(365 / days) - 1: the annual effective rate (ACT/365).
    pub money_weighted_annualized: Option<f64>,
    pub daily_returns: Vec<f64>,
    pub attribution: Vec<Attribution>,
}

fn f(x: Decimal) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// The daily links of a window (s, e] (see the module docs). Days before any
/// capital (no equity, no flow) are skipped; capital that turns zero or
/// negative is an error.
pub fn daily_returns(r: &Replay, s: usize, e: usize) -> Result<Vec<f64>, RiskError> {
    let mut out = Vec::new();
    for t in s + 1..=e {
        let base = r.equity[t - 1] + r.flows[t];
        if base.is_zero() && r.equity[t].is_zero() {
            continue;
        }
        if base <= Decimal::ZERO {
            return Err(RiskError::Invalid(format!(
                "the capital at the start of {} is {base}: returns need positive capital",
                r.dates[t].format("%Y-%m-%d")
            )));
        }
        out.push(f(r.equity[t]) / f(base) - 1.0);
    }
    Ok(out)
}

/// The window from date index `s` to `e` (inclusive).
pub fn window(r: &Replay, s: usize, e: usize) -> Result<WindowPerformance, RiskError> {
    if s > e || e >= r.dates.len() {
        return Err(RiskError::Invalid(format!(
            "window {s}..={e} is outside the {} replayed dates",
            r.dates.len()
        )));
    }
    let returns = daily_returns(r, s, e)?;
    let twr = (!returns.is_empty()).then(|| returns.iter().map(|x| 1.0 + x).product::<f64>() - 1.0);
    let flows: Decimal = r.flows[s + 1..=e].iter().copied().sum();
    let deposits: Decimal = r.flows[s + 1..=e]
        .iter()
        .filter(|x| x.is_sign_positive())
        .copied()
        .sum();
    let span = (r.dates[e] - r.dates[s]).num_seconds() as f64;
    let years = |t: usize| (r.dates[t] - r.dates[s]).num_seconds() as f64 / span;
    let mut cash_flows: Vec<(f64, f64)> = Vec::new();
    if !r.equity[s].is_zero() {
        cash_flows.push((0.0, -f(r.equity[s])));
    }
    for t in s + 1..=e {
        if !r.flows[t].is_zero() {
            cash_flows.push((years(t), -f(r.flows[t])));
        }
    }
    cash_flows.push((years(e), f(r.equity[e])));
    let mwr = if e > s { irr(&cash_flows).ok() } else { None };
    let annual = mwr.map(|m| (1.0 + m).powf(365.0 * 86_400.0 / span) - 1.0);
    let capital = r.equity[s] + deposits;
    let attribution = r
        .values
        .iter()
        .map(|(symbol, values)| {
            let cash = &r.trade_cash[symbol];
            let pnl = (values[e] - values[s]) - (cash[e] - cash[s]);
            Attribution {
                symbol: symbol.clone(),
                pnl: f(pnl),
                contribution: (capital > Decimal::ZERO).then(|| f(pnl) / f(capital)),
                start_value: f(values[s]),
                end_value: f(values[e]),
            }
        })
        .collect();
    Ok(WindowPerformance {
        start: r.dates[s],
        end: r.dates[e],
        start_equity: f(r.equity[s]),
        end_equity: f(r.equity[e]),
        net_flows: f(flows),
        pnl: f(r.equity[e] - r.equity[s] - flows),
        time_weighted_return: twr,
        money_weighted_return: mwr,
        money_weighted_annualized: annual,
        daily_returns: returns,
        attribution,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::Side;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0).unwrap()
    }

    fn fill(symbol: &str, side: Side, q: i64, p: i64) -> EventKind {
        EventKind::Fill(Fill {
            order_id: "o".into(),
            symbol: symbol.into(),
            side,
            quantity: Decimal::from(q),
            price: Decimal::from(p),
            commission: Decimal::ONE,
        })
    }

    #[test]
    fn a_hand_worked_history() {
        let prices = Prices {
            dates: (2..=6).map(day).collect(),
            closes: BTreeMap::from([(
                "X".to_string(),
                vec![Some(10.0), Some(11.0), None, Some(12.0), Some(9.0)],
            )]),
        };
        let events = vec![
            Event {
                time: day(1),
                kind: EventKind::Flow(Decimal::from(1000)),
            },
            Event {
                time: day(3),
                kind: fill("X", Side::Buy, 50, 10),
            },
            Event {
                time: day(4) + chrono::Duration::hours(15),
                kind: EventKind::Flow(Decimal::from(500)),
            },
            Event {
                time: day(6),
                kind: fill("X", Side::Sell, 20, 10),
            },
        ];
        let r = replay(&events, &prices).unwrap();
        // Day 2: 1000 cash. Day 3: bought 50 at 10 (+1 commission), close 11.
        // Day 4: no close, mark 11. Day 5: +500 at the start, close 12.
        // Day 6: sold 20 at 10, close 9.
        let expect = [1000, 499 + 550, 499 + 550, 999 + 600, 999 + 199 + 270];
        assert_eq!(r.equity, expect.map(Decimal::from).to_vec());
        assert_eq!(r.flows[3], Decimal::from(500));
        let w = window(&r, 0, 4).unwrap();
        let links = [1049.0 / 1000.0, 1.0, 1599.0 / 1549.0, 1468.0 / 1599.0];
        let twr = links.iter().product::<f64>() - 1.0;
        assert!((w.time_weighted_return.unwrap() - twr).abs() < 1e-15);
        assert_eq!(w.pnl, 1468.0 - 1000.0 - 500.0);
        let x = &w.attribution[0];
        // Value 270 at the end; cash spent 501 - 199 = 302.
        assert_eq!(x.pnl, 270.0 - 302.0);
        assert_eq!(x.pnl, w.pnl);
        // The money-weighted rate discounts the flows to zero.
        let m = w.money_weighted_return.unwrap();
        let npv = -1000.0 - 500.0 * (1.0 + m).powf(-0.75) + 1468.0 * (1.0 + m).powf(-1.0);
        assert!(npv.abs() < 1e-9 && m < 0.0, "{m} {npv}");
        let a = w.money_weighted_annualized.unwrap();
        assert!(((1.0 + a).powf(4.0 / 365.0) - (1.0 + m)).abs() < 1e-12);
    }

    #[test]
    fn no_capital_no_return_and_negative_capital_is_refused() {
        let prices = Prices {
            dates: (2..=4).map(day).collect(),
            closes: BTreeMap::new(),
        };
        let r = replay(&[], &prices).unwrap();
        assert_eq!(window(&r, 0, 2).unwrap().time_weighted_return, None);
        let out = vec![Event {
            time: day(3),
            kind: EventKind::Flow(Decimal::from(-5)),
        }];
        let r = replay(&out, &prices).unwrap();
        assert!(window(&r, 0, 2).is_err());
        assert!(window(&r, 2, 1).is_err());
    }
}
