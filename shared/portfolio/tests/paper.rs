//! The paper broker's fills, lifecycle, ledger and pre-trade checks, with
//! hand-worked figures (exact decimals).

use std::collections::BTreeMap;

use gs_portfolio::paper::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn order(side: Side, qty: &str, order_type: OrderType, tif: TimeInForce) -> Order {
    Order {
        id: "o1".into(),
        symbol: "ACME".into(),
        side,
        quantity: d(qty),
        order_type,
        time_in_force: tif,
        status: OrderStatus::New,
        filled_quantity: Decimal::ZERO,
        average_price: None,
        triggered: false,
        bars_seen: 0,
    }
}

fn bar(open: f64, high: f64, low: f64, close: f64, volume: f64) -> BarView {
    BarView {
        open,
        high,
        low,
        close,
        volume,
    }
}

#[test]
fn market_orders_fill_at_the_open_with_slippage_and_commission() {
    let cost = CostModel::default(); // 0.5 bp, 0.005/share, min 1, 10% of volume
    let o = order(Side::Buy, "10", OrderType::Market, TimeInForce::Day);
    let (o, fill) = step(&o, &bar(100.0, 101.0, 99.0, 100.5, 1e6), &cost);
    let fill = fill.unwrap();
    assert_eq!(fill.price, d("100.005"));
    assert_eq!(fill.commission, d("1.00"));
    assert_eq!(o.status, OrderStatus::Filled);
    let mut ledger = Ledger::with_cash(d("10000"));
    ledger.apply(&fill);
    // 10000 - 10 x 100.005 - 1
    assert_eq!(ledger.cash, d("8998.95"));
    assert_eq!(ledger.positions["ACME"].quantity, d("10"));
}

#[test]
fn limits_and_stops_fill_when_touched_never_beyond_the_limit() {
    let cost = CostModel {
        slippage_bps: Decimal::ZERO,
        ..CostModel::default()
    };
    let o = order(
        Side::Buy,
        "5",
        OrderType::Limit { limit: d("95") },
        TimeInForce::Gtc,
    );
    let (o, f) = step(&o, &bar(100.0, 101.0, 96.0, 97.0, 1e6), &cost);
    assert!(
        f.is_none() && o.status == OrderStatus::New,
        "not touched: stays open"
    );
    let (o, f) = step(&o, &bar(96.0, 97.0, 94.0, 95.5, 1e6), &cost);
    assert_eq!(f.unwrap().price, d("95"), "touched: at the limit");
    assert_eq!(o.status, OrderStatus::Filled);
    // A gap below the limit fills at the open.
    let o = order(
        Side::Buy,
        "5",
        OrderType::Limit { limit: d("95") },
        TimeInForce::Gtc,
    );
    let (_, f) = step(&o, &bar(93.0, 94.0, 92.0, 93.5, 1e6), &cost);
    assert_eq!(f.unwrap().price, d("93"));
    // Slippage never pushes a limit past its limit.
    let slip = CostModel::default();
    let o = order(
        Side::Buy,
        "5",
        OrderType::Limit { limit: d("95") },
        TimeInForce::Gtc,
    );
    let (_, f) = step(&o, &bar(96.0, 97.0, 94.0, 95.5, 1e6), &slip);
    assert_eq!(f.unwrap().price, d("95"));
    // A sell stop triggers on the low, at the worse of the open and the stop.
    let o = order(
        Side::Sell,
        "5",
        OrderType::Stop { stop: d("90") },
        TimeInForce::Gtc,
    );
    let (o, f) = step(&o, &bar(95.0, 96.0, 91.0, 92.0, 1e6), &cost);
    assert!(f.is_none() && !o.triggered);
    let (o, f) = step(&o, &bar(92.0, 93.0, 89.0, 89.5, 1e6), &cost);
    assert_eq!(f.unwrap().price, d("90"));
    assert!(o.triggered && o.status == OrderStatus::Filled);
    // A stop-limit that triggers but whose limit is not reached stays open.
    let o = order(
        Side::Buy,
        "5",
        OrderType::StopLimit {
            stop: d("105"),
            limit: d("105.5"),
        },
        TimeInForce::Gtc,
    );
    let (o, f) = step(&o, &bar(106.0, 108.0, 105.8, 107.0, 1e6), &cost);
    assert!(f.is_none() && o.triggered && o.status == OrderStatus::New);
    let (o, f) = step(&o, &bar(106.0, 106.5, 105.2, 105.4, 1e6), &cost);
    assert_eq!(f.unwrap().price, d("105.5"));
    assert_eq!(o.status, OrderStatus::Filled);
}

#[test]
fn large_orders_fill_partially_and_time_in_force_applies() {
    let cost = CostModel {
        slippage_bps: Decimal::ZERO,
        ..CostModel::default()
    };
    // 10% of 5000 shares a bar: 1000 shares fill over two bars.
    let o = order(Side::Buy, "1000", OrderType::Market, TimeInForce::Gtc);
    let (o, f1) = step(&o, &bar(50.0, 51.0, 49.0, 50.5, 5000.0), &cost);
    assert_eq!(o.status, OrderStatus::PartiallyFilled);
    assert_eq!(f1.as_ref().unwrap().quantity, d("500"));
    let (o, f2) = step(&o, &bar(52.0, 53.0, 51.0, 52.5, 5000.0), &cost);
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(o.average_price, Some(d("51")));
    let mut ledger = Ledger::with_cash(d("100000"));
    for f in [f1.unwrap(), f2.unwrap()] {
        ledger.apply(&f);
    }
    // 100000 - 500 x 50 - 500 x 52 - 2.50 - 2.50
    assert_eq!(ledger.cash, d("48995.00"));
    assert_eq!(ledger.commissions, d("5.00"));
    // IOC keeps what fills on its first bar; the rest is cancelled.
    let o = order(Side::Buy, "1000", OrderType::Market, TimeInForce::Ioc);
    let (o, f) = step(&o, &bar(50.0, 51.0, 49.0, 50.5, 5000.0), &cost);
    assert_eq!(f.unwrap().quantity, d("500"));
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.filled_quantity, d("500"));
    // A day limit not touched expires after its bar.
    let o = order(
        Side::Buy,
        "5",
        OrderType::Limit { limit: d("40") },
        TimeInForce::Day,
    );
    let (o, f) = step(&o, &bar(50.0, 51.0, 49.0, 50.5, 5000.0), &cost);
    assert!(f.is_none());
    assert_eq!(o.status, OrderStatus::Expired);
    let (_, f) = step(&o, &bar(39.0, 40.0, 38.0, 39.5, 5000.0), &cost);
    assert!(f.is_none(), "a closed order never fills");
}

#[test]
fn the_ledger_reconciles_average_cost_realised_pnl_and_shorts() {
    let fill = |side, qty: &str, px: &str| Fill {
        order_id: "x".into(),
        symbol: "ACME".into(),
        side,
        quantity: d(qty),
        price: d(px),
        commission: d("1"),
    };
    let mut l = Ledger::with_cash(d("10000"));
    l.apply(&fill(Side::Buy, "10", "100"));
    l.apply(&fill(Side::Buy, "10", "110"));
    assert_eq!(l.positions["ACME"].average_cost, d("105"));
    l.apply(&fill(Side::Sell, "15", "120"));
    assert_eq!(l.positions["ACME"].realized_pnl, d("225"));
    assert_eq!(l.positions["ACME"].quantity, d("5"));
    // Selling 10 of 5 closes 5 (a loss of 5 x 5) and opens 5 short at 100.
    l.apply(&fill(Side::Sell, "10", "100"));
    let p = &l.positions["ACME"];
    assert_eq!(p.realized_pnl, d("200"));
    assert_eq!(p.quantity, d("-5"));
    assert_eq!(p.average_cost, d("100"));
    // Cash: 10000 - 1000 - 1100 + 1800 + 1000 - 4 commissions.
    assert_eq!(l.cash, d("10696"));
    let prices = BTreeMap::from([("ACME".to_string(), d("90"))]);
    // Equity = cash - 5 x 90.
    assert_eq!(l.equity(&prices), d("10246"));
}

#[test]
fn pre_trade_checks_name_the_failed_check_and_by_how_much() {
    let cost = CostModel::default();
    let mut ledger = Ledger::with_cash(d("10000"));
    ledger.positions.insert(
        "TECH1".into(),
        Position {
            quantity: d("20"),
            average_cost: d("100"),
            realized_pnl: Decimal::ZERO,
        },
    );
    let prices = BTreeMap::from([
        ("TECH1".to_string(), d("100")),
        ("TECH2".to_string(), d("50")),
    ]);
    let sectors = BTreeMap::from([
        ("TECH1".to_string(), "Technology".to_string()),
        ("TECH2".to_string(), "Technology".to_string()),
        ("OIL".to_string(), "Energy".to_string()),
    ]);
    let inputs = CheckInputs {
        ledger: &ledger,
        prices: &prices,
        sectors: &sectors,
        day_pnl: d("-100"),
    };
    let check = |symbol: &str, side, qty: &str, px: &str, limits: &RiskLimits| {
        check_order(symbol, side, d(qty), d(px), &cost, limits, &inputs)
    };
    let open = RiskLimits::default();
    assert!(check("OIL", Side::Buy, "10", "80", &open).is_ok());
    let refused = |r: Result<(), Refusal>| r.unwrap_err();
    let r = refused(check(
        "OIL",
        Side::Buy,
        "10",
        "80",
        &RiskLimits {
            restricted_symbols: vec!["OIL".into()],
            ..RiskLimits::default()
        },
    ));
    assert_eq!(r.check, "restricted_symbols");
    let r = refused(check(
        "OIL",
        Side::Buy,
        "10",
        "80",
        &RiskLimits {
            daily_loss_limit: Some(d("100")),
            ..RiskLimits::default()
        },
    ));
    assert_eq!((r.check.as_str(), r.value), ("daily_loss_limit", d("100")));
    let r = refused(check(
        "OIL",
        Side::Buy,
        "100",
        "80",
        &RiskLimits {
            max_order_notional: Some(d("5000")),
            ..RiskLimits::default()
        },
    ));
    assert_eq!(
        (r.check.as_str(), r.value),
        ("max_order_notional", d("8000"))
    );
    assert!(r.message.contains("by 3000"), "{}", r.message);
    let r = refused(check("TECH1", Side::Sell, "30", "100", &open));
    assert_eq!((r.check.as_str(), r.value), ("allow_short", d("-10")));
    assert!(
        check(
            "TECH1",
            Side::Sell,
            "30",
            "100",
            &RiskLimits {
                allow_short: true,
                ..RiskLimits::default()
            }
        )
        .is_ok()
    );
    let r = refused(check("OIL", Side::Buy, "200", "80", &open));
    assert_eq!(r.check, "buying_power");
    assert!(r.message.contains("short by"), "{}", r.message);
    // Equity 12000 before; 30 TECH1 would be 3000 / 11999 = 0.250021.
    let r = refused(check(
        "TECH1",
        Side::Buy,
        "10",
        "100",
        &RiskLimits {
            max_position_weight: Some(d("0.25")),
            ..RiskLimits::default()
        },
    ));
    assert_eq!(
        (r.check.as_str(), r.value),
        ("max_position_weight", d("0.250021"))
    );
    // Technology: 2000 held + 50 x 50 = 4500 / 11999 = 0.375031.
    let r = refused(check(
        "TECH2",
        Side::Buy,
        "50",
        "50",
        &RiskLimits {
            max_sector_weight: Some(d("0.3")),
            ..RiskLimits::default()
        },
    ));
    assert_eq!(
        (r.check.as_str(), r.value),
        ("max_sector_weight", d("0.375031"))
    );
}
