//! A paper account's book-keeping over time: open orders settled against
//! the bars that arrive after them (fills booked in time order across
//! orders), what open orders reserve, the pre-trade estimate and checks,
//! valuation with weights and exposures, and rebalancing orders.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::paper::{
    BarView, CheckInputs, CostModel, Fill, Ledger, Order, OrderType, Refusal, RiskLimits, Side,
    check_order, step,
};
use crate::symbols::symbol_info;

/// An order with when it was placed and the last bar it has seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedOrder {
    pub order: Order,
    pub placed_at: DateTime<Utc>,
    pub last_bar: Option<DateTime<Utc>>,
}

impl TrackedOrder {
    /// Whether the bar at `time` is one this order has still to see: at or
    /// after its placement, after the last bar it saw.
    fn sees(&self, time: DateTime<Utc>) -> bool {
        time >= self.placed_at && self.last_bar.is_none_or(|l| time > l)
    }
}

/// A bar with its open time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DatedBar {
    pub time: DateTime<Utc>,
    pub bar: BarView,
}

/// A fill with the time of the bar it happened on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedFill {
    pub time: DateTime<Utc>,
    pub fill: Fill,
}

/// What one `settle` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    pub fills: Vec<TimedFill>,
    /// Indexes of the orders that changed.
    pub changed: BTreeSet<usize>,
    /// false: stopped at `max_changes`; settle again for the rest.
    pub complete: bool,
}

/// Runs the open `orders` (in the order given, their placement order) over
/// the `bars` of their symbols, one bar time at a time across all symbols,
/// booking each fill in `ledger` as it happens. Stops after the bar time at
/// which fills plus changed orders reach `max_changes`, so the caller can
/// write one bounded transaction; every order has then seen every bar up to
/// that time.
pub fn settle(
    orders: &mut [TrackedOrder],
    bars: &BTreeMap<String, Vec<DatedBar>>,
    ledger: &mut Ledger,
    cost: &CostModel,
    max_changes: usize,
) -> Settlement {
    let mut times: BTreeSet<DateTime<Utc>> = BTreeSet::new();
    for o in orders.iter().filter(|o| o.order.status.is_open()) {
        if let Some(b) = bars.get(&o.order.symbol) {
            times.extend(b.iter().map(|b| b.time).filter(|t| o.sees(*t)));
        }
    }
    let by_time: BTreeMap<&str, BTreeMap<DateTime<Utc>, BarView>> = bars
        .iter()
        .map(|(s, b)| (s.as_str(), b.iter().map(|b| (b.time, b.bar)).collect()))
        .collect();
    let mut out = Settlement {
        fills: Vec::new(),
        changed: BTreeSet::new(),
        complete: true,
    };
    for time in times {
        for (i, o) in orders.iter_mut().enumerate() {
            if !o.order.status.is_open() || !o.sees(time) {
                continue;
            }
            let Some(bar) = by_time
                .get(o.order.symbol.as_str())
                .and_then(|b| b.get(&time))
            else {
                continue;
            };
            let (next, fill) = step(&o.order, bar, cost);
            o.order = next;
            o.last_bar = Some(time);
            out.changed.insert(i);
            if let Some(fill) = fill {
                ledger.apply(&fill);
                out.fills.push(TimedFill { time, fill });
            }
        }
        if out.fills.len() + out.changed.len() >= max_changes {
            out.complete = false;
            break;
        }
    }
    if !out.complete {
        // Stopped early: whether anything is left to do.
        out.complete = !orders.iter().any(|o| {
            o.order.status.is_open()
                && bars
                    .get(&o.order.symbol)
                    .is_some_and(|b| b.iter().any(|b| o.sees(b.time)))
        });
    }
    out
}

/// The price an order is expected to trade at, for checks and reservations:
/// a market order at the last price, a limit at its limit, a stop at the
/// worse of the stop and the last price.
pub fn estimate_price(order_type: &OrderType, side: Side, last: Decimal) -> Decimal {
    match *order_type {
        OrderType::Market => last,
        OrderType::Limit { limit } | OrderType::StopLimit { limit, .. } => limit,
        OrderType::Stop { stop } => match side {
            Side::Buy => stop.max(last),
            Side::Sell => stop.min(last),
        },
    }
}

/// Commission of a fill of `quantity` (per share with the minimum).
pub fn commission(quantity: Decimal, cost: &CostModel) -> Decimal {
    (quantity * cost.commission_per_share)
        .max(cost.commission_min)
        .round_dp(2)
}

/// The ledger with what open orders hold back: the cash of open buys
/// (remaining x estimated price + commission) and the shares of open sells.
pub fn available(
    ledger: &Ledger,
    open: &[TrackedOrder],
    prices: &BTreeMap<String, Decimal>,
    cost: &CostModel,
) -> Ledger {
    let mut out = ledger.clone();
    for o in open.iter().filter(|o| o.order.status.is_open()) {
        let remaining = o.order.remaining();
        match o.order.side {
            Side::Buy => {
                let last = prices
                    .get(&o.order.symbol)
                    .copied()
                    .unwrap_or(Decimal::ZERO);
                let px = estimate_price(&o.order.order_type, Side::Buy, last);
                out.cash -= remaining * px + commission(remaining, cost);
            }
            Side::Sell => {
                out.positions
                    .entry(o.order.symbol.clone())
                    .or_default()
                    .quantity -= remaining;
            }
        }
    }
    out
}

/// What a proposed order would do, before it is placed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Estimate {
    /// The price the checks used (see `estimate_price`).
    #[schemars(with = "String")]
    pub price: Decimal,
    /// That price moved by the slippage.
    #[schemars(with = "String")]
    pub fill_price: Decimal,
    #[schemars(with = "String")]
    pub notional: Decimal,
    #[schemars(with = "String")]
    pub commission: Decimal,
    /// Cash after the order fills whole at `fill_price`.
    #[schemars(with = "String")]
    pub cash_after: Decimal,
    /// The position after the order fills whole.
    #[schemars(with = "String")]
    pub position_after: Decimal,
}

/// A proposed order.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal<'a> {
    pub symbol: &'a str,
    pub side: Side,
    pub quantity: Decimal,
    pub order_type: &'a OrderType,
}

/// Validates the quantity (positive, whole lots), then runs the pre-trade
/// checks on what is available after the open orders; the estimate if they
/// pass, the refusal that names the failed check if not.
pub fn pre_trade(
    proposal: &Proposal<'_>,
    ledger: &Ledger,
    open: &[TrackedOrder],
    prices: &BTreeMap<String, Decimal>,
    limits: &RiskLimits,
    cost: &CostModel,
    day_pnl: Decimal,
) -> Result<Estimate, Refusal> {
    let lot = symbol_info(proposal.symbol).lot_size;
    if proposal.quantity <= Decimal::ZERO || !(proposal.quantity % lot).is_zero() {
        return Err(Refusal {
            check: "lot_size".into(),
            limit: lot,
            value: proposal.quantity,
            message: format!(
                "quantity {} of {} must be a positive multiple of its lot size {lot}",
                proposal.quantity, proposal.symbol
            ),
        });
    }
    let last = prices
        .get(proposal.symbol)
        .copied()
        .unwrap_or(Decimal::ZERO);
    let px = estimate_price(proposal.order_type, proposal.side, last);
    let free = available(ledger, open, prices, cost);
    let sectors: BTreeMap<String, String> = free
        .positions
        .keys()
        .chain(std::iter::once(&proposal.symbol.to_string()))
        .map(|s| (s.clone(), symbol_info(s).sector))
        .collect();
    check_order(
        proposal.symbol,
        proposal.side,
        proposal.quantity,
        px,
        cost,
        limits,
        &CheckInputs {
            ledger: &free,
            prices,
            sectors: &sectors,
            day_pnl,
        },
    )?;
    let slip = px * cost.slippage_bps / Decimal::from(10_000);
    let fill_price = match (proposal.side, proposal.order_type) {
        (Side::Buy, OrderType::Limit { limit } | OrderType::StopLimit { limit, .. }) => {
            (px + slip).min(*limit)
        }
        (Side::Sell, OrderType::Limit { limit } | OrderType::StopLimit { limit, .. }) => {
            (px - slip).max(*limit)
        }
        (Side::Buy, _) => px + slip,
        (Side::Sell, _) => px - slip,
    }
    .round_dp(8);
    let fee = commission(proposal.quantity, cost);
    let mut after = ledger.clone();
    after.apply(&Fill {
        order_id: String::new(),
        symbol: proposal.symbol.to_string(),
        side: proposal.side,
        quantity: proposal.quantity,
        price: fill_price,
        commission: fee,
    });
    Ok(Estimate {
        price: px,
        fill_price,
        notional: proposal.quantity * px,
        commission: fee,
        cash_after: after.cash,
        position_after: after
            .positions
            .get(proposal.symbol)
            .map_or(Decimal::ZERO, |p| p.quantity),
    })
}

/// Today's profit and loss of the holdings: quantity x (last close -
/// previous close), for symbols with both.
pub fn day_pnl(
    ledger: &Ledger,
    last: &BTreeMap<String, Decimal>,
    previous: &BTreeMap<String, Decimal>,
) -> Decimal {
    ledger
        .positions
        .iter()
        .filter_map(|(s, p)| Some(p.quantity * (*last.get(s)? - *previous.get(s)?)))
        .sum()
}

/// `ledger` after the trades fill whole at `prices` (the last price) with
/// the commission model: a what-if.
pub fn with_trades(
    ledger: &Ledger,
    trades: &[(String, Side, Decimal)],
    prices: &BTreeMap<String, Decimal>,
    cost: &CostModel,
) -> Ledger {
    let mut out = ledger.clone();
    for (symbol, side, quantity) in trades {
        out.apply(&Fill {
            order_id: String::new(),
            symbol: symbol.clone(),
            side: *side,
            quantity: *quantity,
            price: prices.get(symbol).copied().unwrap_or(Decimal::ZERO),
            commission: commission(*quantity, cost),
        });
    }
    out
}

fn f(x: Decimal) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// One holding valued.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PositionValue {
    pub symbol: String,
    #[schemars(with = "String")]
    pub quantity: Decimal,
    #[schemars(with = "String")]
    pub average_cost: Decimal,
    /// The last close (or the average cost where none is stored).
    #[schemars(with = "String")]
    pub price: Decimal,
    #[schemars(with = "String")]
    pub market_value: Decimal,
    /// market value / equity (negative for shorts).
    pub weight: f64,
    #[schemars(with = "String")]
    pub unrealized_pnl: Decimal,
    #[schemars(with = "String")]
    pub realized_pnl: Decimal,
    pub sector: String,
    pub asset_class: String,
}

/// A sector's share of equity.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SectorExposure {
    pub sector: String,
    pub market_value: f64,
    pub weight: f64,
}

/// Cash, positions and exposures at `prices`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Valuation {
    #[schemars(with = "String")]
    pub cash: Decimal,
    #[schemars(with = "String")]
    pub equity: Decimal,
    /// Sum of |position value| / equity.
    pub gross_exposure: f64,
    /// Sum of position value / equity.
    pub net_exposure: f64,
    #[schemars(with = "String")]
    pub unrealized_pnl: Decimal,
    /// Realised P&L of every position, closed ones included.
    #[schemars(with = "String")]
    pub realized_pnl: Decimal,
    #[schemars(with = "String")]
    pub commissions: Decimal,
    pub positions: Vec<PositionValue>,
    pub sectors: Vec<SectorExposure>,
}

/// Values `ledger` at `prices` (a symbol without a price at its average cost).
pub fn value(ledger: &Ledger, prices: &BTreeMap<String, Decimal>) -> Valuation {
    let equity = ledger.equity(prices);
    let weight = |v: Decimal| {
        if equity.is_zero() {
            0.0
        } else {
            f(v) / f(equity)
        }
    };
    let mut positions = Vec::new();
    let mut sectors: BTreeMap<String, Decimal> = BTreeMap::new();
    let (mut gross, mut net, mut unrealized, mut realized) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (symbol, p) in &ledger.positions {
        realized += p.realized_pnl;
        if p.quantity.is_zero() {
            continue;
        }
        let price = prices.get(symbol).copied().unwrap_or(p.average_cost);
        let mv = p.quantity * price;
        let u = p.quantity * (price - p.average_cost);
        let info = symbol_info(symbol);
        gross += mv.abs();
        net += mv;
        unrealized += u;
        *sectors.entry(info.sector.clone()).or_default() += mv;
        positions.push(PositionValue {
            symbol: symbol.clone(),
            quantity: p.quantity,
            average_cost: p.average_cost.round_dp(8),
            price,
            market_value: mv,
            weight: weight(mv),
            unrealized_pnl: u.round_dp(8),
            realized_pnl: p.realized_pnl.round_dp(8),
            sector: info.sector,
            asset_class: info.asset_class,
        });
    }
    positions.sort_by_key(|p| std::cmp::Reverse(p.market_value.abs()));
    let mut sectors: Vec<SectorExposure> = sectors
        .into_iter()
        .map(|(sector, v)| SectorExposure {
            sector,
            market_value: f(v),
            weight: weight(v),
        })
        .collect();
    sectors.sort_by(|a, b| b.market_value.abs().total_cmp(&a.market_value.abs()));
    Valuation {
        cash: ledger.cash,
        equity,
        gross_exposure: weight(gross),
        net_exposure: weight(net),
        unrealized_pnl: unrealized.round_dp(8),
        realized_pnl: realized.round_dp(8),
        commissions: ledger.commissions,
        positions,
        sectors,
    }
}

/// One order of a rebalance.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RebalanceOrder {
    pub symbol: String,
    pub side: Side,
    #[schemars(with = "String")]
    pub quantity: Decimal,
    #[schemars(with = "String")]
    pub price: Decimal,
    pub current_weight: f64,
    pub target_weight: f64,
    /// Weight after this order at `price`.
    pub resulting_weight: f64,
}

/// Market orders that move `ledger` to `targets` (symbol -> weight of
/// equity; symbols held but not named go to 0; cash is the rest) at
/// `prices`, rounded toward zero to whole lots. Sells come first so their
/// cash funds the buys. A symbol without a price is an error.
pub fn rebalance(
    ledger: &Ledger,
    prices: &BTreeMap<String, Decimal>,
    targets: &BTreeMap<String, Decimal>,
) -> Result<Vec<RebalanceOrder>, String> {
    let equity = ledger.equity(prices);
    if equity <= Decimal::ZERO {
        return Err("the portfolio's equity is not positive: nothing to rebalance".into());
    }
    let symbols: BTreeSet<&String> = targets
        .keys()
        .chain(
            ledger
                .positions
                .iter()
                .filter(|(_, p)| !p.quantity.is_zero())
                .map(|(s, _)| s),
        )
        .collect();
    let mut orders = Vec::new();
    for symbol in symbols {
        let price = *prices
            .get(symbol)
            .ok_or_else(|| format!("no stored price for {symbol}: import its bars first"))?;
        if price <= Decimal::ZERO {
            return Err(format!("{symbol}'s last price {price} is not positive"));
        }
        let held = ledger
            .positions
            .get(symbol)
            .map_or(Decimal::ZERO, |p| p.quantity);
        let target_w = targets.get(symbol).copied().unwrap_or(Decimal::ZERO);
        let lot = symbol_info(symbol).lot_size;
        let want = ((target_w * equity / price) / lot)
            .round_dp_with_strategy(0, RoundingStrategy::ToZero)
            * lot;
        let delta = want - held;
        if delta.is_zero() {
            continue;
        }
        orders.push(RebalanceOrder {
            symbol: symbol.clone(),
            side: if delta.is_sign_positive() {
                Side::Buy
            } else {
                Side::Sell
            },
            quantity: delta.abs(),
            price,
            current_weight: f(held * price) / f(equity),
            target_weight: f(target_w),
            resulting_weight: f(want * price) / f(equity),
        });
    }
    orders.sort_by_key(|o| (o.side == Side::Buy, o.symbol.clone()));
    Ok(orders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::{OrderStatus, TimeInForce};
    use chrono::TimeZone;

    fn at(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, d, 13, 30, 0).unwrap()
    }

    fn order(
        id: &str,
        symbol: &str,
        side: Side,
        q: i64,
        t: OrderType,
        tif: TimeInForce,
    ) -> TrackedOrder {
        TrackedOrder {
            order: Order {
                id: id.into(),
                symbol: symbol.into(),
                side,
                quantity: Decimal::from(q),
                order_type: t,
                time_in_force: tif,
                status: OrderStatus::New,
                filled_quantity: Decimal::ZERO,
                average_price: None,
                triggered: false,
                bars_seen: 0,
            },
            placed_at: at(1),
            last_bar: None,
        }
    }

    fn bar(d: u32, o: f64, h: f64, l: f64, c: f64) -> DatedBar {
        DatedBar {
            time: at(d),
            bar: BarView {
                open: o,
                high: h,
                low: l,
                close: c,
                volume: 1e9,
            },
        }
    }

    #[test]
    fn orders_settle_in_time_order_and_resume_where_they_stopped() {
        let cost = CostModel {
            slippage_bps: Decimal::ZERO,
            commission_per_share: Decimal::ZERO,
            commission_min: Decimal::ZERO,
            max_participation: Decimal::ONE,
        };
        let mut orders = vec![
            order("a", "X", Side::Buy, 10, OrderType::Market, TimeInForce::Day),
            order(
                "b",
                "X",
                Side::Sell,
                10,
                OrderType::Limit {
                    limit: Decimal::from(12),
                },
                TimeInForce::Gtc,
            ),
        ];
        // Bar 1 is the placement bar itself (placed at its open time): seen.
        let bars = BTreeMap::from([(
            "X".to_string(),
            vec![
                bar(1, 10.0, 10.5, 9.5, 10.0),
                bar(2, 10.0, 11.0, 9.0, 11.0),
                bar(3, 11.0, 12.5, 11.0, 12.0),
            ],
        )]);
        let mut ledger = Ledger::with_cash(Decimal::from(1000));
        let s = settle(&mut orders, &bars, &mut ledger, &cost, 2);
        // Stopped after bar 1 (a filled: 1 fill + 2 changed orders >= 2).
        assert!(!s.complete);
        assert_eq!(s.fills.len(), 1);
        assert_eq!(ledger.cash, Decimal::from(900));
        let s = settle(&mut orders, &bars, &mut ledger, &cost, 100);
        assert!(s.complete);
        assert_eq!(s.fills.len(), 1, "the limit sells at 12 on bar 3");
        assert_eq!(s.fills[0].time, at(3));
        assert_eq!(ledger.cash, Decimal::from(1020));
        assert_eq!(ledger.positions["X"].realized_pnl, Decimal::from(20));
        assert_eq!(orders[1].order.status, OrderStatus::Filled);
        // Nothing left: a third settle changes nothing.
        let s = settle(&mut orders, &bars, &mut ledger, &cost, 100);
        assert!(s.fills.is_empty() && s.changed.is_empty() && s.complete);
    }

    #[test]
    fn open_orders_reserve_cash_and_shares() {
        let cost = CostModel::default();
        let mut ledger = Ledger::with_cash(Decimal::from(10_000));
        ledger.apply(&Fill {
            order_id: "f".into(),
            symbol: "X".into(),
            side: Side::Buy,
            quantity: Decimal::from(10),
            price: Decimal::from(100),
            commission: Decimal::ZERO,
        });
        let prices = BTreeMap::from([("X".to_string(), Decimal::from(100))]);
        let open = vec![
            order("a", "X", Side::Buy, 50, OrderType::Market, TimeInForce::Day),
            order(
                "b",
                "X",
                Side::Sell,
                10,
                OrderType::Market,
                TimeInForce::Day,
            ),
        ];
        let free = available(&ledger, &open, &prices, &cost);
        assert_eq!(
            free.cash,
            Decimal::from(9000) - Decimal::from(5000) - Decimal::ONE
        );
        assert_eq!(free.positions["X"].quantity, Decimal::ZERO);
        // Selling one more share than is free would go short.
        let refusal = pre_trade(
            &Proposal {
                symbol: "X",
                side: Side::Sell,
                quantity: Decimal::ONE,
                order_type: &OrderType::Market,
            },
            &ledger,
            &open,
            &prices,
            &RiskLimits::default(),
            &cost,
            Decimal::ZERO,
        )
        .unwrap_err();
        assert_eq!(refusal.check, "allow_short");
        // A buy beyond the free cash: buying power, short by the difference.
        let refusal = pre_trade(
            &Proposal {
                symbol: "X",
                side: Side::Buy,
                quantity: Decimal::from(40),
                order_type: &OrderType::Market,
            },
            &ledger,
            &open,
            &prices,
            &RiskLimits::default(),
            &cost,
            Decimal::ZERO,
        )
        .unwrap_err();
        assert_eq!(refusal.check, "buying_power");
        assert_eq!(
            refusal.value - refusal.limit,
            Decimal::from(4001) - Decimal::from(3999)
        );
        let lot = pre_trade(
            &Proposal {
                symbol: "X",
                side: Side::Buy,
                quantity: Decimal::new(15, 1),
                order_type: &OrderType::Market,
            },
            &ledger,
            &open,
            &prices,
            &RiskLimits::default(),
            &cost,
            Decimal::ZERO,
        )
        .unwrap_err();
        assert_eq!(lot.check, "lot_size");
        let ok = pre_trade(
            &Proposal {
                symbol: "X",
                side: Side::Buy,
                quantity: Decimal::from(10),
                order_type: &OrderType::Market,
            },
            &ledger,
            &open,
            &prices,
            &RiskLimits::default(),
            &cost,
            Decimal::ZERO,
        )
        .unwrap();
        assert_eq!(ok.fill_price, Decimal::new(100_005, 3));
        assert_eq!(ok.position_after, Decimal::from(20));
    }

    #[test]
    fn rebalance_reaches_whole_lot_targets_selling_first() {
        let mut ledger = Ledger::with_cash(Decimal::from(5000));
        ledger.apply(&Fill {
            order_id: "f".into(),
            symbol: "A".into(),
            side: Side::Buy,
            quantity: Decimal::from(50),
            price: Decimal::from(100),
            commission: Decimal::ZERO,
        });
        let prices = BTreeMap::from([
            ("A".to_string(), Decimal::from(100)),
            ("B".to_string(), Decimal::from(30)),
        ]);
        // Equity 5000: A 100%. Target A 40%, B 50%.
        let targets = BTreeMap::from([
            ("A".to_string(), Decimal::new(4, 1)),
            ("B".to_string(), Decimal::new(5, 1)),
        ]);
        let orders = rebalance(&ledger, &prices, &targets).unwrap();
        assert_eq!(orders.len(), 2);
        assert_eq!(
            (orders[0].symbol.as_str(), orders[0].side),
            ("A", Side::Sell)
        );
        assert_eq!(orders[0].quantity, Decimal::from(30));
        assert_eq!(
            (orders[1].symbol.as_str(), orders[1].side),
            ("B", Side::Buy)
        );
        // 2500 / 30 = 83.33: 83 shares.
        assert_eq!(orders[1].quantity, Decimal::from(83));
        assert!(rebalance(&ledger, &BTreeMap::new(), &targets).is_err());
    }

    #[test]
    fn valuation_weights_and_exposures() {
        let mut ledger = Ledger::with_cash(Decimal::from(10_000));
        for (s, side, q, p) in [
            ("AAPL", Side::Buy, 10, 100),
            ("MSFT", Side::Buy, 5, 200),
            ("XOM", Side::Sell, 10, 50),
        ] {
            ledger.apply(&Fill {
                order_id: "f".into(),
                symbol: s.into(),
                side,
                quantity: Decimal::from(q),
                price: Decimal::from(p),
                commission: Decimal::ZERO,
            });
        }
        let prices = BTreeMap::from([
            ("AAPL".to_string(), Decimal::from(110)),
            ("MSFT".to_string(), Decimal::from(200)),
            ("XOM".to_string(), Decimal::from(40)),
        ]);
        let v = value(&ledger, &prices);
        // cash 10000 - 1000 - 1000 + 500 = 8500; positions 1100 + 1000 - 400.
        assert_eq!(v.cash, Decimal::from(8500));
        assert_eq!(v.equity, Decimal::from(10_200));
        assert!((v.gross_exposure - 2500.0 / 10_200.0).abs() < 1e-15);
        assert!((v.net_exposure - 1700.0 / 10_200.0).abs() < 1e-15);
        assert_eq!(v.unrealized_pnl, Decimal::from(200));
        assert_eq!(v.sectors[0].sector, "Information Technology");
        assert!((v.sectors[0].weight - 2100.0 / 10_200.0).abs() < 1e-15);
    }
}
