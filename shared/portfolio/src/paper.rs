//! The paper broker's pure parts: orders and their lifecycle, fills
//! against bars with a slippage and commission model, an exact-decimal
//! ledger of cash and positions, and the pre-trade risk checks. Money and
//! quantities are `rust_decimal::Decimal`; bar prices (f64) become decimals
//! rounded to 8 places at the fill.
//!
//! Fill rules (one bar at a time, the bar after the order was placed):
//! - market: the bar's open;
//! - limit: when the bar touches the limit (buy: low <= limit), at the
//!   better of the open and the limit;
//! - stop: triggers when the bar touches the stop (buy: high >= stop), then
//!   at the worse of the open and the stop;
//! - stop-limit: triggers like a stop, then fills like a limit (from the
//!   same bar on).
//!
//! Slippage moves the price against the order by `slippage_bps` (limits
//! never fill beyond their limit); at most `max_participation` of the bar's
//! volume fills per bar, so a large order fills partially over several bars.
//! Time in force: `day` expires at the end of its first bar, `ioc` keeps
//! only what fills on its first bar, `gtc` stays open.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }
}

/// What kind of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderType {
    Market,
    Limit {
        #[schemars(with = "String")]
        limit: Decimal,
    },
    Stop {
        #[schemars(with = "String")]
        stop: Decimal,
    },
    StopLimit {
        #[schemars(with = "String")]
        stop: Decimal,
        #[schemars(with = "String")]
        limit: Decimal,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TimeInForce {
    Day,
    Gtc,
    Ioc,
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    New,
    PartiallyFilled,
    Filled,
    Cancelled,
    Rejected,
    Expired,
}

impl OrderStatus {
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::PartiallyFilled)
    }
}

/// One order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub symbol: String,
    pub side: Side,
    pub quantity: Decimal,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub status: OrderStatus,
    pub filled_quantity: Decimal,
    /// Volume-weighted fill price so far.
    pub average_price: Option<Decimal>,
    /// A stop or stop-limit whose stop has been touched.
    pub triggered: bool,
    /// Bars the order has seen.
    pub bars_seen: u32,
}

impl Order {
    pub fn remaining(&self) -> Decimal {
        self.quantity - self.filled_quantity
    }
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    pub order_id: String,
    pub symbol: String,
    pub side: Side,
    pub quantity: Decimal,
    pub price: Decimal,
    pub commission: Decimal,
}

/// A bar as the broker sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarView {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// Slippage and commission.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CostModel {
    /// Price moved against the order, in basis points of the price.
    #[schemars(with = "String")]
    pub slippage_bps: Decimal,
    /// Commission per share.
    #[schemars(with = "String")]
    pub commission_per_share: Decimal,
    /// Least commission per fill.
    #[schemars(with = "String")]
    pub commission_min: Decimal,
    /// Most of a bar's volume one order takes (0-1).
    #[schemars(with = "String")]
    pub max_participation: Decimal,
}

impl Default for CostModel {
    fn default() -> Self {
        Self {
            slippage_bps: Decimal::new(5, 1),
            commission_per_share: Decimal::new(5, 3),
            commission_min: Decimal::ONE,
            max_participation: Decimal::new(1, 1),
        }
    }
}

/// A bar price as a decimal (8 places).
pub fn price(x: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(x)
        .map(|d| d.round_dp_with_strategy(8, RoundingStrategy::MidpointNearestEven))
}

/// Runs `order` over one bar: its fill (if any), and the order's new state.
pub fn step(order: &Order, bar: &BarView, cost: &CostModel) -> (Order, Option<Fill>) {
    let mut next = order.clone();
    next.bars_seen = next.bars_seen.saturating_add(1);
    if !order.status.is_open() {
        return (next, None);
    }
    let (Some(open), Some(high), Some(low)) = (price(bar.open), price(bar.high), price(bar.low))
    else {
        return (next, None);
    };
    let buy = order.side == Side::Buy;
    // The price this bar would fill at, before slippage, if it fills.
    let limit_fill = |limit: Decimal| -> Option<Decimal> {
        if buy && low <= limit {
            Some(open.min(limit))
        } else if !buy && high >= limit {
            Some(open.max(limit))
        } else {
            None
        }
    };
    let touched = |stop: Decimal| if buy { high >= stop } else { low <= stop };
    let (base, limit) = match order.order_type {
        OrderType::Market => (Some(open), None),
        OrderType::Limit { limit } => (limit_fill(limit), Some(limit)),
        OrderType::Stop { stop } => {
            if order.triggered || touched(stop) {
                next.triggered = true;
                let at = if order.triggered {
                    open
                } else if buy {
                    open.max(stop)
                } else {
                    open.min(stop)
                };
                (Some(at), None)
            } else {
                (None, None)
            }
        }
        OrderType::StopLimit { stop, limit } => {
            if order.triggered || touched(stop) {
                next.triggered = true;
                (limit_fill(limit), Some(limit))
            } else {
                (None, None)
            }
        }
    };
    let mut fill = None;
    if let Some(base) = base {
        let slip = base * cost.slippage_bps / Decimal::from(10_000);
        let mut px = (base + order.side.sign() * slip).round_dp(8);
        if let Some(l) = limit {
            px = if buy { px.min(l) } else { px.max(l) };
        }
        let cap = price(bar.volume)
            .map(|v| (v * cost.max_participation).floor())
            .unwrap_or(Decimal::ZERO);
        let qty = order.remaining().min(cap);
        if qty > Decimal::ZERO {
            let commission = (qty * cost.commission_per_share)
                .max(cost.commission_min)
                .round_dp(2);
            let filled = order.filled_quantity + qty;
            let prior = order.average_price.unwrap_or(Decimal::ZERO) * order.filled_quantity;
            next.average_price = Some(((prior + px * qty) / filled).round_dp(8));
            next.filled_quantity = filled;
            next.status = if filled >= order.quantity {
                OrderStatus::Filled
            } else {
                OrderStatus::PartiallyFilled
            };
            fill = Some(Fill {
                order_id: order.id.clone(),
                symbol: order.symbol.clone(),
                side: order.side,
                quantity: qty,
                price: px,
                commission,
            });
        }
    }
    if next.status.is_open() {
        match order.time_in_force {
            // What did not fill on the first bar is cancelled (the filled
            // part stays: `filled_quantity`).
            TimeInForce::Ioc => next.status = OrderStatus::Cancelled,
            TimeInForce::Day => next.status = OrderStatus::Expired,
            TimeInForce::Gtc => {}
        }
    }
    (next, fill)
}

/// A holding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Shares (negative: short).
    pub quantity: Decimal,
    /// Average cost per share of the open quantity.
    pub average_cost: Decimal,
    /// Profit and loss realised by closing.
    pub realized_pnl: Decimal,
}

/// Cash and positions, in exact decimals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub cash: Decimal,
    pub positions: BTreeMap<String, Position>,
    pub commissions: Decimal,
}

impl Ledger {
    pub fn with_cash(cash: Decimal) -> Self {
        Self {
            cash,
            ..Self::default()
        }
    }

    /// Books a fill: cash moves by quantity x price plus commission; the
    /// position's average cost follows the open quantity, and closing
    /// realises profit and loss against it.
    pub fn apply(&mut self, fill: &Fill) {
        let signed = fill.side.sign() * fill.quantity;
        self.cash -= signed * fill.price + fill.commission;
        self.commissions += fill.commission;
        let p = self.positions.entry(fill.symbol.clone()).or_default();
        let old = p.quantity;
        let new = old + signed;
        if old.is_zero() || old.is_sign_positive() == signed.is_sign_positive() {
            // Opening or adding.
            p.average_cost = (p.average_cost * old.abs() + fill.price * fill.quantity) / new.abs();
        } else {
            // Reducing, closing or flipping.
            let closed = fill.quantity.min(old.abs());
            let direction = if old.is_sign_positive() {
                Decimal::ONE
            } else {
                Decimal::NEGATIVE_ONE
            };
            p.realized_pnl += direction * closed * (fill.price - p.average_cost);
            if new.is_zero() {
                p.average_cost = Decimal::ZERO;
            } else if new.is_sign_positive() != old.is_sign_positive() {
                p.average_cost = fill.price;
            }
        }
        p.quantity = new;
    }

    /// Cash plus positions at `prices`.
    pub fn equity(&self, prices: &BTreeMap<String, Decimal>) -> Decimal {
        self.cash
            + self
                .positions
                .iter()
                .map(|(s, p)| p.quantity * prices.get(s).copied().unwrap_or(p.average_cost))
                .sum::<Decimal>()
    }
}

/// Pre-trade limits of a portfolio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RiskLimits {
    /// Largest quantity x estimated price of one order.
    #[schemars(with = "Option<String>")]
    pub max_order_notional: Option<Decimal>,
    /// Largest |position value| / equity after the trade (0-1).
    #[schemars(with = "Option<String>")]
    pub max_position_weight: Option<Decimal>,
    /// Largest |sector value| / equity after the trade (0-1).
    #[schemars(with = "Option<String>")]
    pub max_sector_weight: Option<Decimal>,
    /// Whether a sell may leave a negative position.
    pub allow_short: bool,
    /// Largest loss of the day (a positive amount) after which orders are refused.
    #[schemars(with = "Option<String>")]
    pub daily_loss_limit: Option<Decimal>,
    /// Symbols this portfolio may not trade.
    pub restricted_symbols: Vec<String>,
}

/// A refused order: which check, the limit, the value it would reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Refusal {
    /// The check that failed (restricted_symbols, daily_loss_limit,
    /// max_order_notional, allow_short, buying_power, max_position_weight,
    /// max_sector_weight, lot_size).
    pub check: String,
    /// The check's limit.
    #[schemars(with = "String")]
    pub limit: Decimal,
    /// The value the order would reach.
    #[schemars(with = "String")]
    pub value: Decimal,
    pub message: String,
}

/// What the checks read.
#[derive(Debug, Clone)]
pub struct CheckInputs<'a> {
    pub ledger: &'a Ledger,
    pub prices: &'a BTreeMap<String, Decimal>,
    pub sectors: &'a BTreeMap<String, String>,
    /// Profit and loss of the day so far (negative: a loss).
    pub day_pnl: Decimal,
}

fn refuse(check: &str, limit: Decimal, value: Decimal, message: String) -> Refusal {
    Refusal {
        check: check.into(),
        limit,
        value,
        message,
    }
}

/// The pre-trade checks, in order: restricted symbol, daily loss, order
/// notional, short selling, buying power, position weight, sector weight.
pub fn check_order(
    symbol: &str,
    side: Side,
    quantity: Decimal,
    est_price: Decimal,
    cost: &CostModel,
    limits: &RiskLimits,
    inputs: &CheckInputs<'_>,
) -> Result<(), Refusal> {
    if limits.restricted_symbols.iter().any(|s| s == symbol) {
        return Err(refuse(
            "restricted_symbols",
            Decimal::ZERO,
            Decimal::ONE,
            format!("{symbol} is on this portfolio's restricted list"),
        ));
    }
    if let Some(limit) = limits.daily_loss_limit
        && -inputs.day_pnl >= limit
    {
        return Err(refuse(
            "daily_loss_limit",
            limit,
            -inputs.day_pnl,
            format!(
                "today's loss {} has reached the daily loss limit {limit}; no new orders today",
                -inputs.day_pnl
            ),
        ));
    }
    let notional = quantity * est_price;
    if let Some(limit) = limits.max_order_notional
        && notional > limit
    {
        return Err(refuse(
            "max_order_notional",
            limit,
            notional,
            format!(
                "order notional {notional} is above the limit {limit} by {}",
                notional - limit
            ),
        ));
    }
    let held = inputs
        .ledger
        .positions
        .get(symbol)
        .map_or(Decimal::ZERO, |p| p.quantity);
    let after = held + side.sign() * quantity;
    if !limits.allow_short && after.is_sign_negative() && !after.is_zero() {
        return Err(refuse(
            "allow_short",
            Decimal::ZERO,
            after,
            format!(
                "selling {quantity} {symbol} with {held} held would leave {after}: short selling is off for this portfolio"
            ),
        ));
    }
    let commission = (quantity * cost.commission_per_share).max(cost.commission_min);
    if side == Side::Buy {
        let needed = notional + commission;
        if needed > inputs.ledger.cash {
            return Err(refuse(
                "buying_power",
                inputs.ledger.cash,
                needed,
                format!(
                    "the order needs {needed} (with commission) and the cash is {}: short by {}",
                    inputs.ledger.cash,
                    needed - inputs.ledger.cash
                ),
            ));
        }
    }
    let mut prices = inputs.prices.clone();
    prices.insert(symbol.to_string(), est_price);
    let equity = inputs.ledger.equity(&prices) - commission;
    if equity <= Decimal::ZERO {
        return Err(refuse(
            "buying_power",
            Decimal::ZERO,
            equity,
            "the portfolio's equity after the order would not be positive".into(),
        ));
    }
    let value_of = |s: &str, q: Decimal| q * prices.get(s).copied().unwrap_or(est_price);
    if let Some(limit) = limits.max_position_weight {
        let weight = (value_of(symbol, after).abs() / equity).round_dp(6);
        if weight > limit {
            return Err(refuse(
                "max_position_weight",
                limit,
                weight,
                format!("{symbol} would be {weight} of equity, above the limit {limit}"),
            ));
        }
    }
    if let Some(limit) = limits.max_sector_weight {
        let sector = inputs
            .sectors
            .get(symbol)
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        let mut total = value_of(symbol, after);
        for (s, p) in &inputs.ledger.positions {
            if s != symbol && inputs.sectors.get(s).is_some_and(|x| *x == sector) {
                total += value_of(s, p.quantity);
            }
        }
        let weight = (total.abs() / equity).round_dp(6);
        if weight > limit {
            return Err(refuse(
                "max_sector_weight",
                limit,
                weight,
                format!("sector {sector} would be {weight} of equity, above the limit {limit}"),
            ));
        }
    }
    Ok(())
}
