//! A history with deposits, withdrawals (two of them between bars), partial
//! and full sells and adds, read from CSV by `history::read` and replayed by
//! `performance::replay`: the equity curve, the time-weighted return with
//! flows, the money-weighted return, per-position P&L and the average-cost
//! ledger against `tests/data/history_reference.json`
//! (`scripts/portfolio_history_reference.py`: exact decimals for the cash,
//! numpy and scipy's brentq for the returns), to 1e-10.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{NaiveDate, TimeZone, Utc};
use gs_portfolio::Decimal;
use gs_portfolio::history::{self, Rules};
use gs_portfolio::performance::{Event, EventKind, Prices, replay, window};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(what: &str, ours: f64, theirs: f64) {
    let diff = (ours - theirs).abs() / theirs.abs().max(1.0);
    assert!(
        diff <= 1e-10,
        "{what}: ours {ours:e}, reference {theirs:e} (diff {diff:e})"
    );
}

#[test]
fn the_replayed_history_matches_the_reference() {
    let prices_fx = load("risk_reference.json");
    let fx = load("history_reference.json");
    let dates: Vec<_> = prices_fx["inputs"]["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let day = NaiveDate::parse_from_str(d.as_str().unwrap(), "%Y-%m-%d").unwrap();
            Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
        })
        .collect();
    let assets = prices_fx["inputs"]["assets"].as_array().unwrap();
    let closes: BTreeMap<String, Vec<Option<f64>>> = assets
        .iter()
        .zip(prices_fx["inputs"]["closes"].as_array().unwrap())
        .map(|(a, c)| {
            (
                a.as_str().unwrap().to_string(),
                c.as_array().unwrap().iter().map(|x| Some(num(x))).collect(),
            )
        })
        .collect();
    let symbol = |s: &str| Ok::<_, String>(s.to_string());
    let h = history::read(
        fx["history_csv"].as_str().unwrap(),
        &Rules {
            now: Utc::now(),
            allow_short: false,
            symbol: &symbol,
        },
    )
    .unwrap();

    // The ledger the history leaves.
    let ledger = &fx["ledger"];
    assert_eq!(
        h.ledger.cash,
        Decimal::from_str(ledger["cash"].as_str().unwrap()).unwrap()
    );
    assert_eq!(
        h.ledger.commissions,
        Decimal::from_str(ledger["commissions"].as_str().unwrap()).unwrap()
    );
    let positions = ledger["positions"].as_object().unwrap();
    assert_eq!(h.ledger.positions.len(), positions.len());
    for (symbol, p) in positions {
        let ours = &h.ledger.positions[symbol];
        assert_eq!(
            ours.quantity,
            Decimal::from_str(p["quantity"].as_str().unwrap()).unwrap(),
            "{symbol}"
        );
        close(
            &format!("{symbol} average_cost"),
            gs_portfolio::to_f64(ours.average_cost),
            num(&p["average_cost"]),
        );
        close(
            &format!("{symbol} realized_pnl"),
            gs_portfolio::to_f64(ours.realized_pnl),
            num(&p["realized_pnl"]),
        );
    }

    // The replay of the same rows over the closes.
    let mut events: Vec<Event> = history::flows(&h)
        .into_iter()
        .map(|(time, a)| Event {
            time,
            kind: EventKind::Flow(a),
        })
        .collect();
    events.extend(history::fills(&h).into_iter().map(|(time, f)| Event {
        time,
        kind: EventKind::Fill(f),
    }));
    let r = replay(&events, &Prices { dates, closes }).unwrap();
    assert_eq!(
        r.ledger, h.ledger,
        "the replay books what the reader booked"
    );
    let equity = fx["equity"].as_array().unwrap();
    assert_eq!(r.equity.len(), equity.len());
    for (t, (ours, theirs)) in r.equity.iter().zip(equity).enumerate() {
        close(
            &format!("equity[{t}]"),
            gs_portfolio::to_f64(*ours),
            num(theirs),
        );
    }
    assert_eq!(r.flows.len(), fx["flows"].as_array().unwrap().len());
    for (t, (ours, theirs)) in r
        .flows
        .iter()
        .zip(fx["flows"].as_array().unwrap())
        .enumerate()
    {
        close(
            &format!("flow[{t}]"),
            gs_portfolio::to_f64(*ours),
            num(theirs),
        );
    }
    for w in fx["windows"].as_array().unwrap() {
        let (s, e) = (
            w["start_index"].as_u64().unwrap() as usize,
            w["end_index"].as_u64().unwrap() as usize,
        );
        let ours = window(&r, s, e).unwrap();
        let what = |f: &str| format!("window {s}..={e} {f}");
        close(
            &what("start_equity"),
            ours.start_equity,
            num(&w["start_equity"]),
        );
        close(&what("end_equity"), ours.end_equity, num(&w["end_equity"]));
        close(&what("net_flows"), ours.net_flows, num(&w["net_flows"]));
        close(&what("pnl"), ours.pnl, num(&w["pnl"]));
        assert_eq!(
            ours.daily_returns.len() as u64,
            w["daily_returns_count"].as_u64().unwrap()
        );
        close(
            &what("twr"),
            ours.time_weighted_return.unwrap(),
            num(&w["time_weighted_return"]),
        );
        close(
            &what("mwr"),
            ours.money_weighted_return.unwrap(),
            num(&w["money_weighted_return"]),
        );
        close(
            &what("mwr annualised"),
            ours.money_weighted_annualized.unwrap(),
            num(&w["money_weighted_annualized"]),
        );
        let pnl = w["attribution_pnl"].as_object().unwrap();
        assert_eq!(ours.attribution.len(), pnl.len());
        for a in &ours.attribution {
            close(&what(&a.symbol), a.pnl, num(&pnl[&a.symbol]));
        }
        // The positions' P&L add up to the portfolio's.
        let sum: f64 = ours.attribution.iter().map(|a| a.pnl).sum();
        close(&what("sum of attribution"), sum, ours.pnl);
    }
}
