//! The `portfolio` server: paper portfolios owned by the caller, orders
//! placed once per idempotency key after pre-trade risk checks, fills
//! against stored bars, and risk and performance figures from stored
//! prices. The book-keeping and the maths are gs-portfolio's; this module
//! reads and writes the records (`store`) and shapes the tools' outputs.
//!
//! Open orders are settled against the bars that have arrived since they
//! were placed whenever a portfolio is read. Readers settle in memory (they
//! write nothing, and every reader computes the same book); the writers
//! (`place_order`, `cancel_order`) persist the settlement first, in one
//! transaction conditioned on the portfolio's version, then act on it.

pub mod demo;
pub mod live;
mod live_orders;
pub mod store;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use gs_domain::{Symbol, Timeframe};
use gs_portfolio::Decimal;
use gs_portfolio::book::{self, DatedBar, Estimate, Proposal, TimedFill, TrackedOrder, Valuation};
use gs_portfolio::history;
use gs_portfolio::paper::{
    BarView, CostModel, Ledger, Order, OrderStatus, OrderType, Refusal, RiskLimits, Side,
    TimeInForce,
};
use gs_portfolio::performance::{self, Attribution, Event, EventKind, Prices};
use gs_portfolio::report::{Holdings, RiskReport, risk_report};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::market_data::{HistoryRequest, load_history, synthetic_note};
use crate::paging::{decode_cursor, encode_cursor, fingerprint};
use crate::registry::{Annotations, tool};
use store::{CashFlow, StoredOrder, StoredPortfolio, Written};

pub const SERVER: &str = "portfolio";

/// Most portfolios per user.
pub const MAX_PORTFOLIOS: usize = 50;
/// Most open orders per portfolio (a settlement is one bounded transaction).
pub const MAX_OPEN_ORDERS: usize = 50;
/// Fills plus changed orders written in one settlement transaction.
const SETTLE_BATCH: usize = 90;
/// Bars of one symbol read per settlement round.
const SETTLE_BARS: usize = 1_000;
const DEFAULT_CASH: i64 = 100_000;
const MAX_CASH: i64 = 1_000_000_000_000;
const DEFAULT_LOOKBACK: usize = 504;
const MAX_LOOKBACK: usize = 2_520;
const MIN_LOOKBACK: usize = 30;
const DEFAULT_BENCHMARK: &str = "SPY";
const DEFAULT_ROWS: usize = 50;
const MAX_ROWS: usize = 200;
const MAX_TRADES: usize = 20;

const WRITE: Annotations = Annotations {
    read_only: false,
    destructive: false,
    idempotent: true,
    open_world: false,
};

const CANCEL: Annotations = Annotations {
    read_only: false,
    destructive: true,
    idempotent: true,
    open_world: false,
};

// ------------------------------------------------------------- arguments

/// A decimal amount given as a JSON number or a string ("100.25"), kept
/// exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount(pub Decimal);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = match Value::deserialize(d)? {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.trim().to_string(),
            _ => {
                return Err(D::Error::custom(
                    "expected a number or a decimal string such as \"100.25\"",
                ));
            }
        };
        text.parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(&text))
            .map(Amount)
            .map_err(|_| D::Error::custom(format!("{text:?} is not a decimal number")))
    }
}

impl JsonSchema for Amount {
    fn schema_name() -> Cow<'static, str> {
        "Amount".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": ["number", "string"]})
    }
}

fn portfolio_arg(id: &str) -> Result<&str, ToolError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 64 || id.chars().any(char::is_control) {
        return Err(ToolError::invalid(
            "portfolio_id must be an id from create_portfolio or list_portfolios (pf_...)",
        ));
    }
    Ok(id)
}

fn key_arg(field: &str, key: &str) -> Result<String, ToolError> {
    let k = key.trim();
    if k.is_empty() || k.len() > 128 || k.chars().any(char::is_control) {
        return Err(ToolError::invalid(format!(
            "{field} must be 1-128 characters without control characters (a UUID is a good choice); reuse it only to retry the same request"
        )));
    }
    Ok(k.to_string())
}

fn symbol_arg(raw: &str) -> Result<Symbol, ToolError> {
    Ok(Symbol::parse(raw)?)
}

fn fraction(field: &str, v: Option<Amount>) -> Result<Option<Decimal>, ToolError> {
    match v {
        Some(Amount(x)) if x <= Decimal::ZERO || x > Decimal::ONE => Err(ToolError::invalid(
            format!("{field} is a fraction of equity above 0 and at most 1 (0.25 = 25%); got {x}"),
        )),
        other => Ok(other.map(|a| a.0)),
    }
}

fn positive(field: &str, v: Option<Amount>) -> Result<Option<Decimal>, ToolError> {
    match v {
        Some(Amount(x)) if x <= Decimal::ZERO => Err(ToolError::invalid(format!(
            "{field} must be a positive amount; got {x}"
        ))),
        other => Ok(other.map(|a| a.0)),
    }
}

fn non_negative(field: &str, v: Option<Amount>, default: Decimal) -> Result<Decimal, ToolError> {
    match v {
        Some(Amount(x)) if x < Decimal::ZERO => Err(ToolError::invalid(format!(
            "{field} may not be negative; got {x}"
        ))),
        Some(Amount(x)) => Ok(x),
        None => Ok(default),
    }
}

// ----------------------------------------------------------- shared views

/// An order as the tools show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OrderView {
    pub order_id: String,
    pub portfolio_id: String,
    pub symbol: String,
    pub side: Side,
    #[schemars(with = "String")]
    pub quantity: Decimal,
    /// market, limit, stop or stop_limit.
    pub order_type: String,
    #[schemars(with = "Option<String>")]
    pub limit_price: Option<Decimal>,
    #[schemars(with = "Option<String>")]
    pub stop_price: Option<Decimal>,
    pub time_in_force: TimeInForce,
    pub status: OrderStatus,
    #[schemars(with = "String")]
    pub filled_quantity: Decimal,
    /// Volume-weighted fill price.
    #[schemars(with = "Option<String>")]
    pub average_price: Option<Decimal>,
    /// A stop or stop-limit whose stop has been touched.
    pub triggered: bool,
    pub placed_at: DateTime<Utc>,
    /// The last bar the order has seen (it fills only on bars after placed_at).
    pub last_bar: Option<DateTime<Utc>>,
    pub idempotency_key: String,
    /// Why the pre-trade checks refused it (status rejected).
    pub refusal: Option<Refusal>,
    /// paper, or the live broker (alpaca).
    pub broker: String,
    /// A live order's id at the broker (absent: paper, or not yet acknowledged).
    pub broker_order_id: Option<String>,
    /// A live order's status word at the broker, as last seen.
    pub broker_status: Option<String>,
    /// When the live order's state was last read from the broker.
    pub broker_synced_at: Option<DateTime<Utc>>,
}

fn order_view(portfolio_id: &str, o: &StoredOrder) -> OrderView {
    let order = &o.tracked.order;
    let (kind, limit, stop) = match order.order_type {
        OrderType::Market => ("market", None, None),
        OrderType::Limit { limit } => ("limit", Some(limit), None),
        OrderType::Stop { stop } => ("stop", None, Some(stop)),
        OrderType::StopLimit { stop, limit } => ("stop_limit", Some(limit), Some(stop)),
    };
    OrderView {
        order_id: order.id.clone(),
        portfolio_id: portfolio_id.to_string(),
        symbol: order.symbol.clone(),
        side: order.side,
        quantity: order.quantity,
        order_type: kind.into(),
        limit_price: limit,
        stop_price: stop,
        time_in_force: order.time_in_force,
        status: order.status,
        filled_quantity: order.filled_quantity,
        average_price: order.average_price,
        triggered: order.triggered,
        placed_at: o.tracked.placed_at,
        last_bar: o.tracked.last_bar,
        idempotency_key: o.idempotency_key.clone(),
        refusal: o.refusal.clone(),
        broker: o
            .live
            .as_ref()
            .map_or_else(|| "paper".to_string(), |l| l.broker.clone()),
        broker_order_id: o.live.as_ref().and_then(|l| l.broker_order_id.clone()),
        broker_status: o.live.as_ref().map(|l| l.broker_status.clone()),
        broker_synced_at: o.live.as_ref().map(|l| l.synced_at),
    }
}

/// A fill as the tools show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FillView {
    /// The open time of the bar it filled on.
    pub time: DateTime<Utc>,
    pub order_id: String,
    pub symbol: String,
    pub side: Side,
    #[schemars(with = "String")]
    pub quantity: Decimal,
    /// After slippage.
    #[schemars(with = "String")]
    pub price: Decimal,
    #[schemars(with = "String")]
    pub commission: Decimal,
}

fn fill_view(f: &TimedFill) -> FillView {
    FillView {
        time: f.time,
        order_id: f.fill.order_id.clone(),
        symbol: f.fill.symbol.clone(),
        side: f.fill.side,
        quantity: f.fill.quantity,
        price: f.fill.price,
        commission: f.fill.commission,
    }
}

// ------------------------------------------------------------ the book

/// A portfolio with its orders settled up to the newest stored bars.
struct Book {
    portfolio: StoredPortfolio,
    /// The version the settlement started from.
    version: u64,
    /// The open orders before settling, settled (in placement order).
    open: Vec<StoredOrder>,
    /// Fills this settlement made (not yet stored unless persisted).
    new_fills: Vec<TimedFill>,
    /// Orders the settlement changed (indexes into `open`).
    changed: BTreeSet<usize>,
}

fn not_found(id: &str) -> ToolError {
    ToolError::NotFound(format!(
        "you have no portfolio {id}; list_portfolios shows yours, create_portfolio makes one"
    ))
}

async fn load(ctx: &ToolContext, id: &str) -> Result<(StoredPortfolio, u64), ToolError> {
    match store::get_portfolio(ctx.stores.records.as_ref(), &ctx.subject, id).await? {
        Some((p, _)) if p.importing => Err(ToolError::Busy(format!(
            "portfolio {id} is still being imported; call create_portfolio again with the same idempotency_key and history to finish it"
        ))),
        Some(found) => Ok(found),
        None => Err(not_found(id)),
    }
}

/// Reads a `create_portfolio` history (see [`history`]), symbols checked
/// as everywhere else.
pub(crate) fn read_history(
    text: &str,
    allow_short: bool,
    now: DateTime<Utc>,
) -> Result<history::History, ToolError> {
    let symbol = |s: &str| -> Result<String, String> {
        Symbol::parse(s)
            .map(|x| x.to_string())
            .map_err(|e| e.to_string())
    };
    history::read(
        text,
        &history::Rules {
            now,
            allow_short,
            symbol: &symbol,
        },
    )
    .map_err(|e| ToolError::invalid(format!("history: {e}; nothing was stored")))
}

fn dated(bar: &gs_domain::Bar) -> DatedBar {
    DatedBar {
        time: bar.time(),
        bar: BarView {
            open: bar.open(),
            high: bar.high(),
            low: bar.low(),
            close: bar.close(),
            volume: bar.volume(),
        },
    }
}

/// Reads the portfolio and settles its open orders in memory (one round:
/// at most `SETTLE_BATCH` changes).
async fn settle_once(ctx: &ToolContext, id: &str) -> Result<(Book, bool), ToolError> {
    let (portfolio, version) = load(ctx, id).await?;
    let mut open = Vec::new();
    for oid in &portfolio.open_orders {
        if let Some(o) =
            store::get_order(ctx.stores.records.as_ref(), &ctx.subject, id, oid).await?
        {
            open.push(o);
        }
    }
    let mut book = Book {
        portfolio,
        version,
        open,
        new_fills: Vec::new(),
        changed: BTreeSet::new(),
    };
    if book.open.is_empty() {
        return Ok((book, true));
    }
    let timeframe = Timeframe::parse(&book.portfolio.fill_timeframe)?;
    let mut starts: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for o in &book.open {
        let from = o
            .tracked
            .last_bar
            .and_then(|l| l.checked_add_signed(Duration::seconds(1)))
            .unwrap_or(o.tracked.placed_at);
        let entry = starts.entry(o.tracked.order.symbol.clone()).or_insert(from);
        *entry = (*entry).min(from);
    }
    let mut bars = BTreeMap::new();
    for (symbol, start) in starts {
        let req = HistoryRequest {
            symbol: Symbol::parse(&symbol)?,
            timeframe,
            start: Some(start),
            end: None,
            days: None,
            limit: SETTLE_BARS,
        };
        let series = match load_history(ctx.bars(), &req).await {
            Ok(h) => h.bars.iter().map(dated).collect(),
            Err(ToolError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        bars.insert(symbol, series);
    }
    let mut tracked: Vec<TrackedOrder> = book.open.iter().map(|o| o.tracked.clone()).collect();
    let settlement = book::settle(
        &mut tracked,
        &bars,
        &mut book.portfolio.ledger,
        &book.portfolio.cost,
        SETTLE_BATCH,
    );
    let now = Utc::now();
    for (stored, t) in book.open.iter_mut().zip(tracked) {
        if stored.tracked != t {
            stored.tracked = t;
            stored.updated_at = now;
        }
    }
    let still_open: BTreeSet<&str> = book
        .open
        .iter()
        .filter(|o| o.tracked.order.status.is_open())
        .map(|o| o.tracked.order.id.as_str())
        .collect();
    book.portfolio
        .open_orders
        .retain(|id| still_open.contains(id.as_str()));
    book.new_fills = settlement.fills;
    book.changed = settlement.changed;
    Ok((book, settlement.complete))
}

/// The portfolio as of the newest stored bars, without writing anything.
/// (A backlog beyond one round shows as of the first round; writers catch up.)
async fn view(ctx: &ToolContext, id: &str) -> Result<Book, ToolError> {
    Ok(settle_once(ctx, id).await?.0)
}

/// Settles and stores the settlement, until nothing is left to settle; the
/// book then has no unstored fills and `version` is current.
async fn persisted(ctx: &ToolContext, id: &str) -> Result<Book, ToolError> {
    for _ in 0..24 {
        let (book, _) = settle_once(ctx, id).await?;
        if book.changed.is_empty() {
            return Ok(book);
        }
        let orders: Vec<StoredOrder> = book
            .changed
            .iter()
            .filter_map(|i| book.open.get(*i).cloned())
            .collect();
        let mut portfolio = book.portfolio.clone();
        portfolio.updated_at = Utc::now();
        // Stored, or someone else settled first: either way read again.
        store::commit(
            ctx.stores.records.as_ref(),
            &ctx.subject,
            &portfolio,
            book.version,
            &orders,
            &book.new_fills,
        )
        .await?;
    }
    Err(ToolError::Conflict(
        "the portfolio kept changing while its orders were being settled; call again".into(),
    ))
}

/// Last and previous daily closes of `symbols` (those with stored bars).
struct Marks {
    last: BTreeMap<String, Decimal>,
    previous: BTreeMap<String, Decimal>,
    as_of: BTreeMap<String, DateTime<Utc>>,
    synthetic: bool,
}

async fn marks<'a>(
    ctx: &ToolContext,
    symbols: impl IntoIterator<Item = &'a String>,
) -> Result<Marks, ToolError> {
    let mut out = Marks {
        last: BTreeMap::new(),
        previous: BTreeMap::new(),
        as_of: BTreeMap::new(),
        synthetic: false,
    };
    for symbol in symbols {
        let req = HistoryRequest {
            symbol: Symbol::parse(symbol)?,
            timeframe: Timeframe::D1,
            start: None,
            end: None,
            days: None,
            limit: 2,
        };
        let h = match load_history(ctx.bars(), &req).await {
            Ok(h) => h,
            Err(ToolError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        out.synthetic |= h.source.source.is_synthetic();
        let mut it = h.bars.iter().rev();
        if let Some(last) = it.next() {
            if let Some(p) = gs_portfolio::paper::price(last.close()) {
                out.last.insert(symbol.clone(), p);
                out.as_of.insert(symbol.clone(), last.time());
            }
            if let Some(p) = it
                .next()
                .and_then(|b| gs_portfolio::paper::price(b.close()))
            {
                out.previous.insert(symbol.clone(), p);
            }
        }
    }
    Ok(out)
}

fn held(ledger: &Ledger) -> Vec<String> {
    ledger
        .positions
        .iter()
        .filter(|(_, p)| !p.quantity.is_zero())
        .map(|(s, _)| s.clone())
        .collect()
}

// ------------------------------------------------------- create_portfolio

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsArgs {
    /// Largest quantity x estimated price of one order, in the base currency.
    pub max_order_notional: Option<Amount>,
    /// Largest |position value| / equity after a trade, a fraction (0.2 = 20%).
    pub max_position_weight: Option<Amount>,
    /// Largest |sector value| / equity after a trade, a fraction.
    pub max_sector_weight: Option<Amount>,
    /// Whether sells may leave a negative position (default false).
    pub allow_short: Option<bool>,
    /// Today's loss (a positive amount) at which new orders are refused.
    pub daily_loss_limit: Option<Amount>,
    /// Symbols this portfolio may not trade.
    pub restricted_symbols: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostArgs {
    /// Price moved against each fill, in basis points (default 0.5).
    pub slippage_bps: Option<Amount>,
    /// Commission per share (default 0.005).
    pub commission_per_share: Option<Amount>,
    /// Least commission per fill (default 1.00).
    pub commission_min: Option<Amount>,
    /// Most of a bar's volume one order fills on that bar, a fraction (default 0.1).
    pub max_participation: Option<Amount>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePortfolioArgs {
    /// A name for the portfolio (1-100 characters).
    pub name: String,
    /// A key of your choosing (1-128 characters, e.g. a UUID) that makes
    /// the creation safe to retry: the same key with the same arguments
    /// returns the same portfolio.
    pub idempotency_key: String,
    /// Starting cash in the base currency (default 100000).
    pub initial_cash: Option<Amount>,
    /// ISO 4217 code of the base currency (default USD); prices are taken
    /// to be in it.
    pub base_currency: Option<String>,
    /// Pre-trade risk limits; none by default except no short selling.
    pub limits: Option<LimitsArgs>,
    /// The paper broker's slippage and commission model.
    pub costs: Option<CostArgs>,
    /// Timeframe of the bars orders fill against (default 1d).
    pub fill_timeframe: Option<String>,
    /// An existing account to start from instead of initial_cash: its
    /// history as CSV with the header
    /// `time,type,symbol,quantity,price,commission,amount`, one row per
    /// deposit, withdrawal, buy or sell (time RFC 3339 or YYYY-MM-DD; type
    /// deposit, withdrawal, buy or sell; symbol, quantity, price and an
    /// optional commission for buys and sells; amount for deposits and
    /// withdrawals). Rows are booked in time order; the cash may never go
    /// below zero, and selling more than is held needs limits.allow_short.
    /// All or nothing: every bad line is reported by number and nothing is
    /// stored. At most 5000 rows, 1000 of them deposits and withdrawals;
    /// performance is replayed from the first.
    pub history: Option<String>,
}

/// A portfolio's settings.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PortfolioSettings {
    pub portfolio_id: String,
    pub name: String,
    pub base_currency: String,
    pub limits: RiskLimits,
    pub costs: CostModel,
    pub fill_timeframe: String,
    pub created_at: DateTime<Utc>,
    /// Where an imported history starts (null: at created_at).
    pub since: Option<DateTime<Utc>>,
}

fn settings(p: &StoredPortfolio) -> PortfolioSettings {
    PortfolioSettings {
        portfolio_id: p.id.clone(),
        name: p.name.clone(),
        base_currency: p.base_currency.clone(),
        limits: p.limits.clone(),
        costs: p.cost,
        fill_timeframe: p.fill_timeframe.clone(),
        created_at: p.created_at,
        since: p.since,
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatePortfolioOutput {
    #[serde(flatten)]
    pub settings: PortfolioSettings,
    #[schemars(with = "String")]
    pub cash: Decimal,
    /// false: this key had already created the portfolio (returned unchanged).
    pub created: bool,
    /// Rows of the imported history (null: none was given).
    pub imported_rows: Option<usize>,
    /// Open positions after the history (0 without one).
    pub positions: usize,
    /// paper: the portfolio's ledger is the paper broker's (live orders,
    /// where enabled, go to the broker one by one with broker: live).
    pub broker: String,
}

pub async fn create_portfolio(
    ctx: &ToolContext,
    args: CreatePortfolioArgs,
) -> Result<(CreatePortfolioOutput, String), ToolError> {
    let name = args.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ToolError::invalid(
            "name must be 1-100 characters without control characters",
        ));
    }
    let key = key_arg("idempotency_key", &args.idempotency_key)?;
    if args.history.is_some() && args.initial_cash.is_some() {
        return Err(ToolError::invalid(
            "give initial_cash or history, not both: a history's deposits are its cash",
        ));
    }
    let cash = args
        .initial_cash
        .map_or(Decimal::from(DEFAULT_CASH), |a| a.0);
    if args.history.is_none() && (cash <= Decimal::ZERO || cash > Decimal::from(MAX_CASH)) {
        return Err(ToolError::invalid(format!(
            "initial_cash must be above 0 and at most {MAX_CASH}; got {cash}"
        )));
    }
    let currency = args
        .base_currency
        .as_deref()
        .unwrap_or("USD")
        .trim()
        .to_ascii_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(ToolError::invalid(format!(
            "base_currency must be an ISO 4217 code such as USD or EUR; got {currency:?}"
        )));
    }
    let fill_timeframe = Timeframe::parse(args.fill_timeframe.as_deref().unwrap_or("1d"))?;
    let l = args.limits.unwrap_or(LimitsArgs {
        max_order_notional: None,
        max_position_weight: None,
        max_sector_weight: None,
        allow_short: None,
        daily_loss_limit: None,
        restricted_symbols: None,
    });
    let mut restricted = Vec::new();
    for s in l.restricted_symbols.unwrap_or_default() {
        restricted.push(symbol_arg(&s)?.to_string());
    }
    let limits = RiskLimits {
        max_order_notional: positive("limits.max_order_notional", l.max_order_notional)?,
        max_position_weight: fraction("limits.max_position_weight", l.max_position_weight)?,
        max_sector_weight: fraction("limits.max_sector_weight", l.max_sector_weight)?,
        allow_short: l.allow_short.unwrap_or(false),
        daily_loss_limit: positive("limits.daily_loss_limit", l.daily_loss_limit)?,
        restricted_symbols: restricted,
    };
    let d = CostModel::default();
    let cost = match args.costs {
        None => d,
        Some(c) => CostModel {
            slippage_bps: non_negative("costs.slippage_bps", c.slippage_bps, d.slippage_bps)?,
            commission_per_share: non_negative(
                "costs.commission_per_share",
                c.commission_per_share,
                d.commission_per_share,
            )?,
            commission_min: non_negative(
                "costs.commission_min",
                c.commission_min,
                d.commission_min,
            )?,
            max_participation: fraction("costs.max_participation", c.max_participation)?
                .unwrap_or(d.max_participation),
        },
    };
    if cost.slippage_bps > Decimal::from(1_000) {
        return Err(ToolError::invalid(
            "costs.slippage_bps is at most 1000 (10%)",
        ));
    }
    let existing = store::list_portfolios(ctx.stores.records.as_ref(), &ctx.subject).await?;
    let id = store::portfolio_id(&ctx.subject, &key);
    if existing.len() >= MAX_PORTFOLIOS && !existing.iter().any(|p| p.id == id) {
        return Err(ToolError::invalid(format!(
            "you have {MAX_PORTFOLIOS} portfolios, the most allowed"
        )));
    }
    let now = Utc::now();
    let digest = args
        .history
        .as_deref()
        .map(|t| crate::digest::sha256_hex(t.as_bytes(), 32));
    let imported = match args.history {
        None => None,
        Some(text) => {
            let allow_short = limits.allow_short;
            Some(
                ctx.compute(move || read_history(&text, allow_short, now))
                    .await?,
            )
        }
    };
    // As before histories existed when there is none, so repeats of older
    // creations still match.
    let mut request = serde_json::json!({
        "name": name, "currency": currency,
        "limits": limits, "cost": cost, "fill_timeframe": fill_timeframe.to_string(),
    });
    if let Some(fields) = request.as_object_mut() {
        match &digest {
            None => fields.insert("cash".into(), serde_json::json!(cash.to_string())),
            Some(d) => fields.insert("history".into(), serde_json::json!(d)),
        };
    }
    let request = request.to_string();
    let (ledger, flows, fills, since) = match &imported {
        None => (
            Ledger::with_cash(cash),
            vec![CashFlow {
                time: now,
                amount: cash,
            }],
            Vec::new(),
            None,
        ),
        Some(h) => (
            h.ledger.clone(),
            history::flows(h)
                .into_iter()
                .map(|(time, amount)| CashFlow { time, amount })
                .collect(),
            history::fills(h)
                .into_iter()
                .map(|(time, fill)| TimedFill { time, fill })
                .collect::<Vec<_>>(),
            h.rows.first().map(|r| r.time),
        ),
    };
    let portfolio = StoredPortfolio {
        id,
        name,
        base_currency: currency,
        idempotency_key: key.clone(),
        request,
        ledger,
        limits,
        cost,
        fill_timeframe: fill_timeframe.to_string(),
        open_orders: Vec::new(),
        flows,
        created_at: now,
        updated_at: now,
        since,
        importing: !fills.is_empty(),
    };
    let (stored, created) = match store::create_portfolio(
        ctx.stores.records.as_ref(),
        &ctx.subject,
        &portfolio,
    )
    .await?
    {
        Written::Created(p) => (p, true),
        Written::Repeat(p) => (p, false),
        Written::KeyReused(p) => {
            return Err(ToolError::invalid(format!(
                "idempotency_key {key:?} already created portfolio {} ({:?}) with other settings; use a new key for a new portfolio",
                p.id, p.name
            )));
        }
        Written::Stale => return Err(ToolError::Conflict("call again".into())),
    };
    // An imported history's fills, then the portfolio shown: a call that
    // stopped between the two is finished by its repeat.
    let stored = if stored.importing {
        let records = ctx.stores.records.as_ref();
        // A repeat writes only what the first call did not.
        let missing: Vec<TimedFill> = if created {
            fills
        } else {
            let stored_ids: BTreeSet<String> = store::list_fills(records, &ctx.subject, &stored.id)
                .await?
                .iter()
                .map(|f| store::fill_id(&stored.id, f))
                .collect();
            fills
                .into_iter()
                .filter(|f| !stored_ids.contains(&store::fill_id(&stored.id, f)))
                .collect()
        };
        store::put_fills(records, &ctx.subject, &stored.id, &missing).await?;
        store::finish_import(records, &ctx.subject, &stored.id).await?
    } else {
        stored
    };
    let positions = held(&stored.ledger).len();
    let imported_rows = imported.as_ref().map(|h| h.rows.len());
    let history_note = match (&imported, stored.since) {
        (Some(h), Some(since)) => format!(
            " from a history of {} rows ({} fills) since {}, now holding {positions} position{}",
            h.rows.len(),
            h.rows
                .iter()
                .filter(|r| matches!(r.entry, history::Entry::Fill(_)))
                .count(),
            since.format("%Y-%m-%d"),
            if positions == 1 { "" } else { "s" }
        ),
        _ => String::new(),
    };
    let summary = format!(
        "{} paper portfolio {} ({}){history_note} with {} {} cash.{}",
        if created {
            "Created"
        } else {
            "Already created:"
        },
        stored.id,
        stored.name,
        stored.ledger.cash,
        stored.base_currency,
        if created {
            " Place orders with place_order; they fill against stored bars that open after they are placed."
        } else {
            ""
        }
    );
    Ok((
        CreatePortfolioOutput {
            settings: settings(&stored),
            cash: stored.ledger.cash,
            created,
            imported_rows,
            positions,
            broker: "paper".into(),
        },
        summary,
    ))
}

/// A context for `subject` outside a request (the CLI's import and the
/// demo seeding), with every scope: the caller is the operator.
pub fn local_context(stores: &crate::Stores, subject: &str, request_id: &str) -> ToolContext {
    ToolContext {
        subject: subject.to_string(),
        permissions: std::sync::Arc::new(gs_auth::Permissions::default()),
        groups: Vec::new(),
        policy: std::sync::Arc::new(gs_auth::Policy::default_policy()),
        request_id: request_id.to_string(),
        stores: stores.clone(),
        deadline: std::time::Instant::now()
            .checked_add(std::time::Duration::from_secs(300))
            .unwrap_or_else(std::time::Instant::now),
        pool: std::sync::Arc::new(crate::ComputePool::new(1)),
        progress: None,
        live: None,
    }
}

/// The idempotency key a history file gets by default: its name and a
/// digest of its content, so importing the same file again changes nothing.
pub fn import_key(file_name: &str, text: &str) -> String {
    format!(
        "import:{}:{}",
        file_name
            .chars()
            .scan(0usize, |bytes, c| {
                *bytes = bytes.saturating_add(c.len_utf8());
                (*bytes <= 64).then_some(c)
            })
            .collect::<String>(),
        crate::digest::sha256_hex(text.as_bytes(), 16)
    )
}

/// `goldensignals import-portfolio`: a history file as a new portfolio of
/// `subject`, through `create_portfolio` (default settings).
pub async fn import_history(
    stores: &crate::Stores,
    subject: &str,
    name: &str,
    idempotency_key: &str,
    text: String,
) -> Result<(CreatePortfolioOutput, String), ToolError> {
    create_portfolio(
        &local_context(stores, subject, "import-portfolio"),
        CreatePortfolioArgs {
            name: name.to_string(),
            idempotency_key: idempotency_key.to_string(),
            initial_cash: None,
            base_currency: None,
            limits: None,
            costs: None,
            fill_timeframe: None,
            history: Some(text),
        },
    )
    .await
}

// -------------------------------------------------------- list_portfolios

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPortfoliosArgs {
    /// Only portfolios whose name contains this text (case-insensitive).
    pub name_contains: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PortfolioListing {
    pub portfolio_id: String,
    pub name: String,
    pub base_currency: String,
    /// Stored cash (open orders not yet settled are not counted).
    #[schemars(with = "String")]
    pub cash: Decimal,
    pub positions: usize,
    pub open_orders: usize,
    pub created_at: DateTime<Utc>,
    /// Its history's import was cut short: repeat create_portfolio with the
    /// same idempotency_key and history to finish it (until then it cannot
    /// be read or traded).
    pub importing: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListPortfoliosOutput {
    pub portfolios: Vec<PortfolioListing>,
    pub max_portfolios: usize,
}

pub async fn list_portfolios(
    ctx: &ToolContext,
    args: ListPortfoliosArgs,
) -> Result<(ListPortfoliosOutput, String), ToolError> {
    let needle = args.name_contains.map(|n| n.to_lowercase());
    let mut portfolios: Vec<PortfolioListing> =
        store::list_portfolios(ctx.stores.records.as_ref(), &ctx.subject)
            .await?
            .into_iter()
            .filter(|p| {
                needle
                    .as_deref()
                    .is_none_or(|n| p.name.to_lowercase().contains(n))
            })
            .map(|p| PortfolioListing {
                positions: held(&p.ledger).len(),
                open_orders: p.open_orders.len(),
                portfolio_id: p.id,
                name: p.name,
                base_currency: p.base_currency,
                cash: p.ledger.cash,
                created_at: p.created_at,
                importing: p.importing,
            })
            .collect();
    portfolios.sort_by_key(|p| p.created_at);
    let summary = if portfolios.is_empty() {
        "You have no portfolios; create_portfolio makes a paper portfolio.".to_string()
    } else {
        format!(
            "{} portfolio{}: {}.",
            portfolios.len(),
            if portfolios.len() == 1 { "" } else { "s" },
            portfolios
                .iter()
                .map(|p| if p.importing {
                    format!(
                        "{} ({}, import not finished: repeat its create_portfolio call)",
                        p.name, p.portfolio_id
                    )
                } else {
                    format!("{} ({})", p.name, p.portfolio_id)
                })
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Ok((
        ListPortfoliosOutput {
            portfolios,
            max_portfolios: MAX_PORTFOLIOS,
        },
        summary,
    ))
}

// ---------------------------------------------------------- get_portfolio

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPortfolioArgs {
    /// The portfolio (pf_...), from create_portfolio or list_portfolios.
    pub portfolio_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetPortfolioOutput {
    #[serde(flatten)]
    pub settings: PortfolioSettings,
    #[serde(flatten)]
    pub valuation: Valuation,
    /// Today's P&L of the holdings: quantity x (last close - previous close).
    #[schemars(with = "String")]
    pub day_pnl: Decimal,
    pub open_orders: Vec<OrderView>,
    /// The newest daily close each price is from.
    pub prices_as_of: BTreeMap<String, DateTime<Utc>>,
    pub synthetic: bool,
    pub note: String,
}

pub async fn get_portfolio(
    ctx: &ToolContext,
    args: GetPortfolioArgs,
) -> Result<(GetPortfolioOutput, String), ToolError> {
    let id = portfolio_arg(&args.portfolio_id)?;
    let book = view(ctx, id).await?;
    let ledger = &book.portfolio.ledger;
    let m = marks(ctx, &held(ledger)).await?;
    let valuation = book::value(ledger, &m.last);
    let day_pnl = book::day_pnl(ledger, &m.last, &m.previous);
    let open_orders: Vec<OrderView> = book
        .open
        .iter()
        .filter(|o| o.tracked.order.status.is_open())
        .map(|o| order_view(id, o))
        .collect();
    let top = valuation
        .positions
        .iter()
        .take(5)
        .map(|p| format!("{} {:.1}%", p.symbol, p.weight * 100.0))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = format!(
        "{} ({}): equity {} {} with cash {}, {} position{}{}; gross exposure {:.1}%, net {:.1}%; unrealised P&L {}, realised {}; {} open order{}.{}",
        book.portfolio.name,
        id,
        valuation.equity.round_dp(2),
        book.portfolio.base_currency,
        valuation.cash.round_dp(2),
        valuation.positions.len(),
        if valuation.positions.len() == 1 {
            ""
        } else {
            "s"
        },
        if top.is_empty() {
            String::new()
        } else {
            format!(" ({top})")
        },
        valuation.gross_exposure * 100.0,
        valuation.net_exposure * 100.0,
        valuation.unrealized_pnl.round_dp(2),
        valuation.realized_pnl.round_dp(2),
        open_orders.len(),
        if open_orders.len() == 1 { "" } else { "s" },
        synthetic_note(m.synthetic)
    );
    Ok((
        GetPortfolioOutput {
            settings: settings(&book.portfolio),
            valuation,
            day_pnl,
            open_orders,
            prices_as_of: m.as_of,
            synthetic: m.synthetic,
            note: "Positions are valued at the last stored daily close (at average cost where none is stored). Weights are market value / equity; shorts are negative. Money and quantities are exact decimals (strings).".into(),
        },
        summary,
    ))
}

// ------------------------------------------------------------ place_order

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    Market,
    Limit,
    Stop,
    StopLimit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Broker {
    Paper,
    Live,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderArgs {
    /// The portfolio (pf_...).
    pub portfolio_id: String,
    /// Symbol with stored bars, e.g. AAPL.
    pub symbol: String,
    /// buy or sell.
    pub side: Side,
    /// Shares (or units), a positive multiple of the symbol's lot size.
    pub quantity: Amount,
    /// market (default; fills at the next bar's open), limit, stop or stop_limit.
    pub order_type: Option<OrderKind>,
    /// Limit price (limit and stop_limit orders).
    pub limit_price: Option<Amount>,
    /// Stop price (stop and stop_limit orders).
    pub stop_price: Option<Amount>,
    /// day (default; expires after its first bar), gtc (until filled or
    /// cancelled) or ioc (what does not fill on its first bar is cancelled).
    pub time_in_force: Option<TimeInForce>,
    /// A key of your choosing (1-128 characters, e.g. a UUID), required
    /// unless dry_run: repeating a call with the same key returns the first
    /// order instead of placing another. Use a new key for a new order.
    pub idempotency_key: Option<String>,
    /// true: run the checks and estimate the fill without placing anything.
    pub dry_run: Option<bool>,
    /// paper (default: simulated fills against stored bars) or live (sent
    /// to the broker account the user connected, when the server's operator
    /// has turned live trading on; real money).
    pub broker: Option<Broker>,
    /// Must be true for a live order: set it only after the user approved
    /// this exact order.
    pub confirm: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PlaceOrderOutput {
    /// The order (absent for a dry run).
    pub order: Option<OrderView>,
    /// placed, repeat (the key's first order, unchanged), rejected (refused
    /// by a pre-trade check and stored as a rejection), would_place or
    /// would_reject (dry run).
    pub outcome: String,
    /// What the order is expected to cost (absent when rejected).
    pub estimate: Option<Estimate>,
    /// The failed check (rejected, would_reject).
    pub refusal: Option<Refusal>,
    pub dry_run: bool,
    pub synthetic: bool,
}

struct OrderRequest {
    symbol: Symbol,
    side: Side,
    quantity: Decimal,
    order_type: OrderType,
    time_in_force: TimeInForce,
}

fn order_request(args: &PlaceOrderArgs) -> Result<OrderRequest, ToolError> {
    let symbol = symbol_arg(&args.symbol)?;
    let quantity = args.quantity.0;
    if quantity <= Decimal::ZERO {
        return Err(ToolError::invalid(format!(
            "quantity must be positive; got {quantity} (the side says buy or sell)"
        )));
    }
    let price = |field: &str, v: Option<Amount>| -> Result<Decimal, ToolError> {
        match v {
            Some(Amount(x)) if x > Decimal::ZERO => Ok(x),
            Some(Amount(x)) => Err(ToolError::invalid(format!(
                "{field} must be positive; got {x}"
            ))),
            None => Err(ToolError::invalid(format!(
                "a {} order needs {field}",
                match args.order_type {
                    Some(OrderKind::Limit) => "limit",
                    Some(OrderKind::Stop) => "stop",
                    _ => "stop_limit",
                }
            ))),
        }
    };
    let kind = args.order_type.unwrap_or(OrderKind::Market);
    let order_type = match kind {
        OrderKind::Market => OrderType::Market,
        OrderKind::Limit => OrderType::Limit {
            limit: price("limit_price", args.limit_price)?,
        },
        OrderKind::Stop => OrderType::Stop {
            stop: price("stop_price", args.stop_price)?,
        },
        OrderKind::StopLimit => OrderType::StopLimit {
            stop: price("stop_price", args.stop_price)?,
            limit: price("limit_price", args.limit_price)?,
        },
    };
    let unused = match kind {
        OrderKind::Market => [
            args.limit_price.map(|_| "limit_price"),
            args.stop_price.map(|_| "stop_price"),
        ],
        OrderKind::Limit => [None, args.stop_price.map(|_| "stop_price")],
        OrderKind::Stop => [args.limit_price.map(|_| "limit_price"), None],
        OrderKind::StopLimit => [None, None],
    };
    if let Some(field) = unused.into_iter().flatten().next() {
        return Err(ToolError::invalid(format!(
            "{field} does not apply to a {} order; leave it out or choose another order_type",
            serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        )));
    }
    Ok(OrderRequest {
        symbol,
        side: args.side,
        quantity,
        order_type,
        time_in_force: args.time_in_force.unwrap_or(TimeInForce::Day),
    })
}

pub async fn place_order(
    ctx: &ToolContext,
    args: PlaceOrderArgs,
) -> Result<(PlaceOrderOutput, String), ToolError> {
    if args.broker == Some(Broker::Live) {
        return live_orders::place_order(ctx, args).await;
    }
    let id = portfolio_arg(&args.portfolio_id)?.to_string();
    let req = order_request(&args)?;
    let dry_run = args.dry_run.unwrap_or(false);
    let key = idempotency_key(&args, dry_run)?;
    let request = request_text(&req, None);
    let records = ctx.stores.records.as_ref();
    for _ in 0..32 {
        // A repeat returns the first order before anything is checked again.
        if let Some(k) = &key {
            let oid = store::order_id(&id, k);
            if let Some(first) = store::get_order(records, &ctx.subject, &id, &oid).await? {
                load(ctx, &id).await?;
                return repeat(&id, k, first, &request);
            }
        }
        let book = if dry_run {
            view(ctx, &id).await?
        } else {
            persisted(ctx, &id).await?
        };
        let ledger = &book.portfolio.ledger;
        let mut symbols = held(ledger);
        symbols.push(req.symbol.to_string());
        for o in &book.open {
            symbols.push(o.tracked.order.symbol.clone());
        }
        symbols.sort();
        symbols.dedup();
        let m = marks(ctx, &symbols).await?;
        if !m.last.contains_key(req.symbol.as_str()) {
            return Err(crate::market_data::unknown_symbol(&req.symbol));
        }
        let open: Vec<TrackedOrder> = book
            .open
            .iter()
            .filter(|o| o.tracked.order.status.is_open())
            .map(|o| o.tracked.clone())
            .collect();
        let checked = if open.len() >= MAX_OPEN_ORDERS {
            Err(Refusal {
                check: "max_open_orders".into(),
                limit: Decimal::from(MAX_OPEN_ORDERS),
                value: Decimal::from(open.len()),
                message: format!(
                    "the portfolio has {} open orders, the most allowed; cancel some first",
                    open.len()
                ),
            })
        } else {
            book::pre_trade(
                &Proposal {
                    symbol: req.symbol.as_str(),
                    side: req.side,
                    quantity: req.quantity,
                    order_type: &req.order_type,
                },
                ledger,
                &open,
                &m.last,
                &book.portfolio.limits,
                &book.portfolio.cost,
                book::day_pnl(ledger, &m.last, &m.previous),
            )
        };
        let Some(key) = key.clone().filter(|_| !dry_run) else {
            let summary = match &checked {
                Ok(e) => format!(
                    "Dry run: {} {} {} would pass the pre-trade checks; estimated fill {} (notional {}, commission {}), cash after {}.{}",
                    side_word(req.side),
                    req.quantity,
                    req.symbol,
                    e.fill_price,
                    e.notional.round_dp(2),
                    e.commission,
                    e.cash_after.round_dp(2),
                    synthetic_note(m.synthetic)
                ),
                Err(r) => format!(
                    "Dry run: the order would be rejected by {}: {}",
                    r.check, r.message
                ),
            };
            return Ok((
                PlaceOrderOutput {
                    order: None,
                    outcome: if checked.is_ok() {
                        "would_place"
                    } else {
                        "would_reject"
                    }
                    .into(),
                    estimate: checked.as_ref().ok().cloned(),
                    refusal: checked.err(),
                    dry_run: true,
                    synthetic: m.synthetic,
                },
                summary,
            ));
        };
        let now = Utc::now();
        let oid = store::order_id(&id, &key);
        let stored = StoredOrder {
            tracked: TrackedOrder {
                order: Order {
                    id: oid.clone(),
                    symbol: req.symbol.to_string(),
                    side: req.side,
                    quantity: req.quantity,
                    order_type: req.order_type,
                    time_in_force: req.time_in_force,
                    status: if checked.is_ok() {
                        OrderStatus::New
                    } else {
                        OrderStatus::Rejected
                    },
                    filled_quantity: Decimal::ZERO,
                    average_price: None,
                    triggered: false,
                    bars_seen: 0,
                },
                placed_at: now,
                last_bar: None,
            },
            idempotency_key: key.clone(),
            request: request.clone(),
            refusal: checked.as_ref().err().cloned(),
            updated_at: now,
            live: None,
        };
        let mut after = book.portfolio.clone();
        let written = if checked.is_ok() {
            after.open_orders.push(oid);
            after.updated_at = now;
            store::place(
                records,
                &ctx.subject,
                Some((&after, book.version)),
                &id,
                &stored,
            )
            .await?
        } else {
            store::place(records, &ctx.subject, None, &id, &stored).await?
        };
        match written {
            Written::Created(o) => {
                let view = order_view(&id, &o);
                let summary = match &checked {
                    Ok(e) => format!(
                        "Placed paper order {}: {} {} {} {} ({}), estimated fill {} with commission {}; it fills on the first {} bar that opens after {}.{}",
                        view.order_id,
                        side_word(req.side),
                        req.quantity,
                        req.symbol,
                        view.order_type,
                        time_in_force_word(req.time_in_force),
                        e.fill_price,
                        e.commission,
                        book.portfolio.fill_timeframe,
                        now.format("%Y-%m-%d %H:%M UTC"),
                        synthetic_note(m.synthetic)
                    ),
                    Err(r) => format!(
                        "REJECTED by the {} check: {} (order {} is stored as rejected; nothing else changed).",
                        r.check, r.message, view.order_id
                    ),
                };
                return Ok((
                    PlaceOrderOutput {
                        order: Some(view),
                        outcome: if checked.is_ok() {
                            "placed"
                        } else {
                            "rejected"
                        }
                        .into(),
                        estimate: checked.as_ref().ok().cloned(),
                        refusal: checked.err(),
                        dry_run: false,
                        synthetic: m.synthetic,
                    },
                    summary,
                ));
            }
            Written::Repeat(first) | Written::KeyReused(first) => {
                return repeat(&id, &key, first, &request);
            }
            Written::Stale => continue,
        }
    }
    Err(ToolError::Conflict(
        "the portfolio kept changing while the order was being placed; call again with the same idempotency_key".into(),
    ))
}

fn idempotency_key(args: &PlaceOrderArgs, dry_run: bool) -> Result<Option<String>, ToolError> {
    match (&args.idempotency_key, dry_run) {
        (Some(k), _) => Ok(Some(key_arg("idempotency_key", k)?)),
        (None, true) => Ok(None),
        (None, false) => Err(ToolError::invalid(
            "idempotency_key is required: choose a new one (a UUID) for each new order and send the same one when you retry",
        )),
    }
}

/// The request as stored with the order, to tell a repeat from a different
/// order under a reused key.
fn request_text(req: &OrderRequest, broker: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "symbol": req.symbol.as_str(), "side": req.side, "quantity": req.quantity.normalize().to_string(),
        "order_type": req.order_type, "time_in_force": req.time_in_force,
    });
    if let (Some(b), Some(map)) = (broker, v.as_object_mut()) {
        map.insert("broker".into(), Value::String(b.into()));
    }
    v.to_string()
}

fn repeat(
    portfolio: &str,
    key: &str,
    first: StoredOrder,
    request: &str,
) -> Result<(PlaceOrderOutput, String), ToolError> {
    if first.request != request {
        return Err(ToolError::invalid(format!(
            "idempotency_key {key:?} was already used for a different order ({}); use a new key for a new order",
            first.tracked.order.id
        )));
    }
    let view = order_view(portfolio, &first);
    let summary = format!(
        "Repeat of idempotency_key {key:?}: order {} was placed at {} and is {}; nothing new was placed.",
        view.order_id,
        view.placed_at.format("%Y-%m-%d %H:%M UTC"),
        status_word(view.status)
    );
    Ok((
        PlaceOrderOutput {
            refusal: first.refusal.clone(),
            order: Some(view),
            outcome: "repeat".into(),
            estimate: None,
            dry_run: false,
            synthetic: false,
        },
        summary,
    ))
}

fn side_word(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn time_in_force_word(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Day => "day",
        TimeInForce::Gtc => "good till cancelled",
        TimeInForce::Ioc => "immediate or cancel",
    }
}

fn status_word(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::New => "new (waiting for a bar)",
        OrderStatus::PartiallyFilled => "partially filled",
        OrderStatus::Filled => "filled",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Rejected => "rejected",
        OrderStatus::Expired => "expired",
    }
}

// ----------------------------------------------------------- cancel_order

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOrderArgs {
    /// The portfolio (pf_...).
    pub portfolio_id: String,
    /// The order (ord_...), from place_order or get_orders.
    pub order_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CancelOrderOutput {
    pub order: OrderView,
    /// true: this call cancelled it; false: it had already closed (filled,
    /// cancelled, rejected or expired) and is returned unchanged.
    pub cancelled: bool,
}

pub async fn cancel_order(
    ctx: &ToolContext,
    args: CancelOrderArgs,
) -> Result<(CancelOrderOutput, String), ToolError> {
    let id = portfolio_arg(&args.portfolio_id)?;
    let oid = args.order_id.trim();
    let records = ctx.stores.records.as_ref();
    for _ in 0..32 {
        let book = persisted(ctx, id).await?;
        let missing = || {
            ToolError::NotFound(format!(
                "portfolio {id} has no order {oid}; get_orders lists its orders"
            ))
        };
        if oid.is_empty() || oid.len() > 64 {
            return Err(missing());
        }
        let mut order = store::get_order(records, &ctx.subject, id, oid)
            .await?
            .ok_or_else(missing)?;
        if order.live.is_some() {
            let (order, cancelled) = live_orders::cancel_order(ctx, id, order).await?;
            let view = order_view(id, &order);
            let summary = if cancelled {
                format!(
                    "Cancelled live order {oid} at {} ({} {} {}); {} had filled before.",
                    view.broker,
                    side_word(view.side),
                    view.quantity,
                    view.symbol,
                    view.filled_quantity
                )
            } else {
                format!(
                    "Live order {oid} is {} at {} (filled {} of {}); it could not be cancelled.",
                    status_word(view.status),
                    view.broker,
                    view.filled_quantity,
                    view.quantity
                )
            };
            return Ok((
                CancelOrderOutput {
                    order: view,
                    cancelled,
                },
                summary,
            ));
        }
        if !order.tracked.order.status.is_open() {
            let view = order_view(id, &order);
            let summary = format!(
                "Order {oid} is already {} (filled {} of {}); nothing to cancel.",
                status_word(view.status),
                view.filled_quantity,
                view.quantity
            );
            return Ok((
                CancelOrderOutput {
                    order: view,
                    cancelled: false,
                },
                summary,
            ));
        }
        order.tracked.order.status = OrderStatus::Cancelled;
        order.updated_at = Utc::now();
        let mut portfolio = book.portfolio.clone();
        portfolio.open_orders.retain(|o| o != oid);
        portfolio.updated_at = order.updated_at;
        if store::commit(
            records,
            &ctx.subject,
            &portfolio,
            book.version,
            std::slice::from_ref(&order),
            &[],
        )
        .await?
        {
            let view = order_view(id, &order);
            let summary = format!(
                "Cancelled order {oid} ({} {} {}); {} had filled before.",
                side_word(view.side),
                view.quantity,
                view.symbol,
                view.filled_quantity
            );
            return Ok((
                CancelOrderOutput {
                    order: view,
                    cancelled: true,
                },
                summary,
            ));
        }
    }
    Err(ToolError::Conflict(
        "the portfolio kept changing while the order was being cancelled; call again".into(),
    ))
}

// ------------------------------------------------------------- get_orders

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Open,
    Closed,
    All,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOrdersArgs {
    /// The portfolio (pf_...).
    pub portfolio_id: String,
    /// open (new or partially filled), closed, or all (default).
    pub status: Option<StatusFilter>,
    /// Only this symbol's orders.
    pub symbol: Option<String>,
    /// Orders per page, newest first (default 50, at most 200).
    pub limit: Option<usize>,
    /// next_cursor of the previous page (same other arguments).
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetOrdersOutput {
    pub orders: Vec<OrderView>,
    /// Orders matching the filters, over all pages.
    pub total: usize,
    pub next_cursor: Option<String>,
}

fn rows(limit: Option<usize>) -> Result<usize, ToolError> {
    let n = limit.unwrap_or(DEFAULT_ROWS);
    if n == 0 || n > MAX_ROWS {
        return Err(ToolError::invalid(format!(
            "limit must be 1 to {MAX_ROWS}; page with next_cursor"
        )));
    }
    Ok(n)
}

fn page<T: Clone>(all: &[T], offset: usize, limit: usize, print: &str) -> (Vec<T>, Option<String>) {
    let end = offset.saturating_add(limit).min(all.len());
    let rows = all
        .get(offset.min(end)..end)
        .map(<[T]>::to_vec)
        .unwrap_or_default();
    let next = (end < all.len()).then(|| encode_cursor(end, print));
    (rows, next)
}

pub async fn get_orders(
    ctx: &ToolContext,
    args: GetOrdersArgs,
) -> Result<(GetOrdersOutput, String), ToolError> {
    let id = portfolio_arg(&args.portfolio_id)?;
    let limit = rows(args.limit)?;
    let symbol = args.symbol.as_deref().map(symbol_arg).transpose()?;
    let status = args.status.unwrap_or(StatusFilter::All);
    let print = fingerprint(&format!("orders|{id}|{status:?}|{symbol:?}"));
    let offset = decode_cursor(args.cursor.as_deref(), &print)?;
    let book = view(ctx, id).await?;
    let mut all = store::list_orders(ctx.stores.records.as_ref(), &ctx.subject, id).await?;
    // The settled state of the open orders replaces their stored one.
    for o in &book.open {
        if let Some(slot) = all
            .iter_mut()
            .find(|s| s.tracked.order.id == o.tracked.order.id)
        {
            *slot = o.clone();
        }
    }
    let live = live_orders::refresh(ctx, &mut all).await;
    let mut views: Vec<OrderView> = all
        .iter()
        .filter(|o| {
            symbol
                .as_ref()
                .is_none_or(|s| o.tracked.order.symbol == s.as_str())
        })
        .filter(|o| match status {
            StatusFilter::All => true,
            StatusFilter::Open => o.tracked.order.status.is_open(),
            StatusFilter::Closed => !o.tracked.order.status.is_open(),
        })
        .map(|o| order_view(id, o))
        .collect();
    views.sort_by(|a, b| {
        b.placed_at
            .cmp(&a.placed_at)
            .then_with(|| a.order_id.cmp(&b.order_id))
    });
    let total = views.len();
    let (orders, next_cursor) = page(&views, offset, limit, &print);
    let open = views
        .iter()
        .filter(|o| o.status == OrderStatus::New || o.status == OrderStatus::PartiallyFilled)
        .count();
    let live_note = match (live.asked, live.as_last_seen) {
        (0, 0) => String::new(),
        (asked, 0) => format!(" Live orders: {asked} read from the broker just now."),
        (asked, stale) => format!(
            " Live orders: {asked} read from the broker just now, {stale} shown as last seen (see broker_synced_at)."
        ),
    };
    let summary = format!(
        "{total} order{} in {id} ({open} open); showing {} newest first{}.{live_note}",
        if total == 1 { "" } else { "s" },
        orders.len(),
        if next_cursor.is_some() {
            ", more with next_cursor"
        } else {
            ""
        }
    );
    Ok((
        GetOrdersOutput {
            orders,
            total,
            next_cursor,
        },
        summary,
    ))
}

// -------------------------------------------------------------- get_fills

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetFillsArgs {
    /// The portfolio (pf_...).
    pub portfolio_id: String,
    /// Only this symbol's fills.
    pub symbol: Option<String>,
    /// Fills per page, newest first (default 50, at most 200).
    pub limit: Option<usize>,
    /// next_cursor of the previous page (same other arguments).
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetFillsOutput {
    pub fills: Vec<FillView>,
    pub total: usize,
    /// Sum of the matching fills' commissions.
    #[schemars(with = "String")]
    pub commissions: Decimal,
    pub next_cursor: Option<String>,
}

async fn all_fills(ctx: &ToolContext, book: &Book) -> Result<Vec<TimedFill>, ToolError> {
    let mut fills = store::list_fills(
        ctx.stores.records.as_ref(),
        &ctx.subject,
        &book.portfolio.id,
    )
    .await?;
    fills.extend(book.new_fills.iter().cloned());
    fills.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.fill.order_id.cmp(&b.fill.order_id))
    });
    Ok(fills)
}

pub async fn get_fills(
    ctx: &ToolContext,
    args: GetFillsArgs,
) -> Result<(GetFillsOutput, String), ToolError> {
    let id = portfolio_arg(&args.portfolio_id)?;
    let limit = rows(args.limit)?;
    let symbol = args.symbol.as_deref().map(symbol_arg).transpose()?;
    let print = fingerprint(&format!("fills|{id}|{symbol:?}"));
    let offset = decode_cursor(args.cursor.as_deref(), &print)?;
    let book = view(ctx, id).await?;
    let mut fills: Vec<TimedFill> = all_fills(ctx, &book)
        .await?
        .into_iter()
        .filter(|f| symbol.as_ref().is_none_or(|s| f.fill.symbol == s.as_str()))
        .collect();
    fills.reverse();
    let commissions: Decimal = fills.iter().map(|f| f.fill.commission).sum();
    let views: Vec<FillView> = fills.iter().map(fill_view).collect();
    let total = views.len();
    let (fills, next_cursor) = page(&views, offset, limit, &print);
    let summary = format!(
        "{total} fill{} in {id} with {} commission in all; showing {} newest first{}.",
        if total == 1 { "" } else { "s" },
        commissions,
        fills.len(),
        if next_cursor.is_some() {
            ", more with next_cursor"
        } else {
            ""
        }
    );
    Ok((
        GetFillsOutput {
            fills,
            total,
            commissions,
            next_cursor,
        },
        summary,
    ))
}

// ------------------------------------------------------------------ risk

/// Aligned daily returns of `symbols` (and the benchmark) over the dates
/// they all have, from the last `lookback + 1` daily closes of each.
struct Aligned {
    dates: Vec<DateTime<Utc>>,
    returns: Vec<Vec<f64>>,
    benchmark: Option<Vec<f64>>,
    synthetic: bool,
}

async fn daily_closes(
    ctx: &ToolContext,
    symbol: &str,
    limit: usize,
) -> Result<(BTreeMap<DateTime<Utc>, f64>, bool), ToolError> {
    let req = HistoryRequest {
        symbol: Symbol::parse(symbol)?,
        timeframe: Timeframe::D1,
        start: None,
        end: None,
        days: None,
        limit,
    };
    let h = load_history(ctx.bars(), &req).await?;
    Ok((
        h.bars.iter().map(|b| (b.time(), b.close())).collect(),
        h.source.source.is_synthetic(),
    ))
}

/// The daily closes one call has read (the newest `lookback + 1` of each
/// symbol), so a tool that needs a series twice (for its prices and its
/// risk, or for the risk before and after a trade) reads it once.
struct CloseCache {
    limit: usize,
    series: BTreeMap<String, (BTreeMap<DateTime<Utc>, f64>, bool)>,
}

impl CloseCache {
    fn new(lookback: usize) -> Self {
        Self {
            limit: lookback.saturating_add(1),
            series: BTreeMap::new(),
        }
    }

    /// A symbol's closes (by bar time) and whether they are synthetic.
    async fn get(
        &mut self,
        ctx: &ToolContext,
        symbol: &str,
    ) -> Result<(BTreeMap<DateTime<Utc>, f64>, bool), ToolError> {
        if let Some(hit) = self.series.get(symbol) {
            return Ok(hit.clone());
        }
        let loaded = daily_closes(ctx, symbol, self.limit).await?;
        self.series.insert(symbol.to_string(), loaded.clone());
        Ok(loaded)
    }

    /// The last close of each of `symbols` that has bars (as `marks` gives
    /// them), and whether any is synthetic.
    async fn last_prices(
        &mut self,
        ctx: &ToolContext,
        symbols: &[String],
    ) -> Result<(BTreeMap<String, Decimal>, bool), ToolError> {
        let mut last = BTreeMap::new();
        let mut synthetic = false;
        for s in symbols {
            let (closes, syn) = self.get(ctx, s).await?;
            synthetic |= syn;
            if let Some(p) = closes
                .values()
                .next_back()
                .and_then(|c| gs_portfolio::paper::price(*c))
            {
                last.insert(s.clone(), p);
            }
        }
        Ok((last, synthetic))
    }
}

async fn aligned(
    ctx: &ToolContext,
    cache: &mut CloseCache,
    symbols: &[String],
    benchmark: Option<&str>,
) -> Result<Aligned, ToolError> {
    let mut series = Vec::new();
    let mut synthetic = false;
    for s in symbols {
        let (c, syn) = cache.get(ctx, s).await?;
        synthetic |= syn;
        series.push(c);
    }
    let bench = match benchmark {
        Some(b) => {
            let (c, syn) = cache.get(ctx, b).await?;
            synthetic |= syn;
            Some(c)
        }
        None => None,
    };
    let mut dates: Option<BTreeSet<DateTime<Utc>>> = None;
    for c in series.iter().chain(bench.iter()) {
        let keys: BTreeSet<DateTime<Utc>> = c.keys().copied().collect();
        dates = Some(match dates {
            None => keys,
            Some(d) => d.intersection(&keys).copied().collect(),
        });
    }
    let dates: Vec<DateTime<Utc>> = dates.unwrap_or_default().into_iter().collect();
    let returns_of = |c: &BTreeMap<DateTime<Utc>, f64>| -> Result<Vec<f64>, ToolError> {
        let closes: Vec<f64> = dates.iter().filter_map(|d| c.get(d).copied()).collect();
        gs_portfolio::risk::simple_returns(&closes).map_err(|e| ToolError::invalid(e.to_string()))
    };
    let returns = series
        .iter()
        .map(returns_of)
        .collect::<Result<Vec<_>, _>>()?;
    let benchmark = bench.as_ref().map(returns_of).transpose()?;
    Ok(Aligned {
        dates,
        returns,
        benchmark,
        synthetic,
    })
}

fn lookback_arg(v: Option<usize>) -> Result<usize, ToolError> {
    let n = v.unwrap_or(DEFAULT_LOOKBACK);
    if !(MIN_LOOKBACK..=MAX_LOOKBACK).contains(&n) {
        return Err(ToolError::invalid(format!(
            "lookback is {MIN_LOOKBACK} to {MAX_LOOKBACK} daily returns (252 = one year); got {n}"
        )));
    }
    Ok(n)
}

/// The benchmark to use: the argument, or SPY when stored; "none" for none.
async fn benchmark_arg(ctx: &ToolContext, raw: Option<&str>) -> Result<Option<String>, ToolError> {
    match raw.map(str::trim) {
        Some(b) if b.eq_ignore_ascii_case("none") => Ok(None),
        Some(b) => {
            let s = symbol_arg(b)?;
            if crate::market_data::series_of(ctx.bars(), &s)
                .await?
                .is_empty()
            {
                return Err(crate::market_data::unknown_symbol(&s));
            }
            Ok(Some(s.to_string()))
        }
        None => {
            let s = Symbol::parse(DEFAULT_BENCHMARK)?;
            let stored = !crate::market_data::series_of(ctx.bars(), &s)
                .await?
                .is_empty();
            Ok(stored.then(|| s.to_string()))
        }
    }
}

/// A holding's weight.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HoldingWeight {
    pub symbol: String,
    /// Market value / equity (negative: short).
    pub weight: f64,
    pub sector: String,
}

struct RiskRun {
    holdings: Vec<HoldingWeight>,
    report: Option<RiskReport>,
    valuation: Valuation,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    synthetic: bool,
}

async fn run_risk(
    ctx: &ToolContext,
    cache: &mut CloseCache,
    ledger: &Ledger,
    prices: &BTreeMap<String, Decimal>,
    benchmark: Option<&str>,
    cornish_fisher: bool,
) -> Result<RiskRun, ToolError> {
    let valuation = book::value(ledger, prices);
    let holdings: Vec<HoldingWeight> = valuation
        .positions
        .iter()
        .map(|p| HoldingWeight {
            symbol: p.symbol.clone(),
            weight: p.weight,
            sector: p.sector.clone(),
        })
        .collect();
    if holdings.is_empty() {
        return Ok(RiskRun {
            holdings,
            report: None,
            valuation,
            start: None,
            end: None,
            synthetic: false,
        });
    }
    let symbols: Vec<String> = holdings.iter().map(|h| h.symbol.clone()).collect();
    let weights: Vec<f64> = holdings.iter().map(|h| h.weight).collect();
    let a = aligned(ctx, cache, &symbols, benchmark).await?;
    let report = ctx
        .compute(move || {
            risk_report(
                &Holdings {
                    symbols: &symbols,
                    weights: &weights,
                    returns: &a.returns,
                    benchmark: a.benchmark.as_deref(),
                },
                cornish_fisher,
            )
            .map(|r| (r, a.dates.first().copied(), a.dates.last().copied(), a.synthetic))
            .map_err(|e| {
                ToolError::invalid(format!(
                    "{e}; the holdings share too few dates of stored daily bars (import more history, or lower lookback)"
                ))
            })
        })
        .await?;
    Ok(RiskRun {
        holdings,
        report: Some(report.0),
        valuation,
        start: report.1,
        end: report.2,
        synthetic: report.3,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRiskMetricsArgs {
    /// The portfolio (pf_...).
    pub portfolio_id: String,
    /// Daily returns of history to use (default 504, two years; 30 to 2520).
    pub lookback: Option<usize>,
    /// Benchmark symbol for beta and alpha (default SPY when stored; "none" for none).
    pub benchmark: Option<String>,
    /// Also give Cornish-Fisher VaR (default true).
    pub cornish_fisher: Option<bool>,
    /// Include the holdings' correlation matrix (default true).
    pub include_correlation: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetRiskMetricsOutput {
    pub portfolio_id: String,
    #[schemars(with = "String")]
    pub equity: Decimal,
    pub holdings: Vec<HoldingWeight>,
    /// Cash / equity.
    pub cash_weight: f64,
    pub gross_exposure: f64,
    pub net_exposure: f64,
    pub sectors: Vec<gs_portfolio::book::SectorExposure>,
    pub benchmark: Option<String>,
    /// First and last date of the aligned history.
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// The figures; null for a portfolio of cash only.
    pub risk: Option<RiskReport>,
    /// The correlation matrix's row and column order.
    pub correlation_symbols: Vec<String>,
    pub conventions: String,
    pub synthetic: bool,
}

const CONVENTIONS: &str = "Current weights held constant over the history (rebalanced daily; cash earns 0). Simple daily returns on the dates every holding (and the benchmark) has. Sample statistics with n - 1; volatility, Sharpe and Sortino annualised by sqrt(252) with a 0 risk-free rate; downside deviation sqrt(sum of squared negative returns / n); alpha x 252; CAGR over returns / 252 years; VaR and CVaR are one-day losses as fractions of equity (positive = loss): historical by linear percentile, parametric normal with the full covariance matrix, Cornish-Fisher with the sample skewness and excess kurtosis. Drawdown durations are in trading days.";

pub async fn get_risk_metrics(
    ctx: &ToolContext,
    args: GetRiskMetricsArgs,
) -> Result<(GetRiskMetricsOutput, String), ToolError> {
    let id = portfolio_arg(&args.portfolio_id)?;
    let lookback = lookback_arg(args.lookback)?;
    let benchmark = benchmark_arg(ctx, args.benchmark.as_deref()).await?;
    let book = view(ctx, id).await?;
    let ledger = &book.portfolio.ledger;
    // The prices come from the same reads as the risk's history.
    let mut cache = CloseCache::new(lookback);
    let (last, marks_synthetic) = cache.last_prices(ctx, &held(ledger)).await?;
    let run = run_risk(
        ctx,
        &mut cache,
        ledger,
        &last,
        benchmark.as_deref(),
        args.cornish_fisher.unwrap_or(true),
    )
    .await?;
    let mut risk = run.report;
    if !args.include_correlation.unwrap_or(true)
        && let Some(r) = risk.as_mut()
    {
        r.correlation.clear();
    }
    let equity = run.valuation.equity;
    let cash_weight = if equity.is_zero() {
        0.0
    } else {
        f64_of(run.valuation.cash) / f64_of(equity)
    };
    let synthetic = run.synthetic || marks_synthetic;
    let summary = match &risk {
        None => format!(
            "{id} holds only cash ({} {}): no market risk.",
            equity.round_dp(2),
            book.portfolio.base_currency
        ),
        Some(r) => {
            let v95 = r.var.first();
            let v99 = r.var.get(1);
            format!(
                "{id}: {} holdings, {} daily returns to {}: volatility {:.1}% a year, 1-day VaR 95% {:.2}% historical / {:.2}% parametric ({:.0} {}), VaR 99% {:.2}% historical, CVaR 95% {:.2}%; max drawdown {:.1}%, Sharpe {}{}; effective positions {:.1}.{}",
                run.holdings.len(),
                r.observations,
                run.end
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                r.annual_volatility * 100.0,
                v95.map_or(f64::NAN, |v| v.historical_var * 100.0),
                v95.map_or(f64::NAN, |v| v.parametric_var * 100.0),
                v95.map_or(f64::NAN, |v| v.historical_var) * f64_of(equity),
                book.portfolio.base_currency,
                v99.map_or(f64::NAN, |v| v.historical_var * 100.0),
                v95.map_or(f64::NAN, |v| v.historical_cvar * 100.0),
                r.max_drawdown * 100.0,
                r.sharpe.map_or("n/a".to_string(), |s| format!("{s:.2}")),
                match (&r.relative, &benchmark) {
                    (Some(rel), Some(b)) => format!(", beta {:.2} to {b}", rel.beta),
                    _ => String::new(),
                },
                r.concentration.effective_n,
                synthetic_note(synthetic)
            )
        }
    };
    Ok((
        GetRiskMetricsOutput {
            portfolio_id: id.to_string(),
            equity,
            correlation_symbols: if risk.as_ref().is_some_and(|r| !r.correlation.is_empty()) {
                run.holdings.iter().map(|h| h.symbol.clone()).collect()
            } else {
                Vec::new()
            },
            holdings: run.holdings,
            cash_weight,
            gross_exposure: run.valuation.gross_exposure,
            net_exposure: run.valuation.net_exposure,
            sectors: run.valuation.sectors,
            benchmark,
            start: run.start,
            end: run.end,
            risk,
            conventions: CONVENTIONS.into(),
            synthetic,
        },
        summary,
    ))
}

fn f64_of(x: Decimal) -> f64 {
    gs_portfolio::to_f64(x)
}

// -------------------------------------------------------- check_trade_risk

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TradeArgs {
    /// Symbol with stored bars.
    pub symbol: String,
    /// buy or sell.
    pub side: Side,
    /// Shares (or units), positive.
    pub quantity: Amount,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckTradeRiskArgs {
    /// The portfolio (pf_...).
    pub portfolio_id: String,
    /// The proposed trades (1 to 20), as market orders at the last close.
    pub trades: Vec<TradeArgs>,
    /// Daily returns of history (default 504; 30 to 2520).
    pub lookback: Option<usize>,
    /// Benchmark for beta (default SPY when stored; "none" for none).
    pub benchmark: Option<String>,
}

/// The risk figures of one side of a what-if.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RiskSnapshot {
    #[schemars(with = "String")]
    pub equity: Decimal,
    #[schemars(with = "String")]
    pub cash: Decimal,
    pub holdings: Vec<HoldingWeight>,
    pub gross_exposure: f64,
    pub net_exposure: f64,
    pub annual_volatility: Option<f64>,
    pub historical_var_95: Option<f64>,
    pub historical_var_99: Option<f64>,
    pub historical_cvar_95: Option<f64>,
    pub parametric_var_95: Option<f64>,
    pub parametric_var_99: Option<f64>,
    pub max_drawdown: Option<f64>,
    pub beta: Option<f64>,
    pub hhi: Option<f64>,
    pub effective_positions: Option<f64>,
    /// Largest |weight|.
    pub largest_weight: Option<f64>,
}

fn snapshot(run: &RiskRun) -> RiskSnapshot {
    let r = run.report.as_ref();
    let var = |i: usize| r.and_then(|r| r.var.get(i));
    RiskSnapshot {
        equity: run.valuation.equity,
        cash: run.valuation.cash,
        holdings: run.holdings.clone(),
        gross_exposure: run.valuation.gross_exposure,
        net_exposure: run.valuation.net_exposure,
        annual_volatility: r.map(|r| r.annual_volatility),
        historical_var_95: var(0).map(|v| v.historical_var),
        historical_var_99: var(1).map(|v| v.historical_var),
        historical_cvar_95: var(0).map(|v| v.historical_cvar),
        parametric_var_95: var(0).map(|v| v.parametric_var),
        parametric_var_99: var(1).map(|v| v.parametric_var),
        max_drawdown: r.map(|r| r.max_drawdown),
        beta: r.and_then(|r| r.relative.as_ref().map(|x| x.beta)),
        hhi: r.map(|r| r.concentration.hhi),
        effective_positions: r.map(|r| r.concentration.effective_n),
        largest_weight: run.holdings.iter().map(|h| h.weight.abs()).reduce(f64::max),
    }
}

/// One trade's pre-trade check, in order (each after the ones before).
#[derive(Debug, Serialize, JsonSchema)]
pub struct TradeCheck {
    pub symbol: String,
    pub side: Side,
    #[schemars(with = "String")]
    pub quantity: Decimal,
    pub passed: bool,
    pub refusal: Option<Refusal>,
    pub estimate: Option<Estimate>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckTradeRiskOutput {
    pub portfolio_id: String,
    pub before: RiskSnapshot,
    pub after: RiskSnapshot,
    /// Every trade passes the portfolio's pre-trade checks.
    pub all_pass: bool,
    pub checks: Vec<TradeCheck>,
    pub benchmark: Option<String>,
    pub conventions: String,
    pub synthetic: bool,
}

pub async fn check_trade_risk(
    ctx: &ToolContext,
    args: CheckTradeRiskArgs,
) -> Result<(CheckTradeRiskOutput, String), ToolError> {
    let id = portfolio_arg(&args.portfolio_id)?;
    if args.trades.is_empty() || args.trades.len() > MAX_TRADES {
        return Err(ToolError::invalid(format!(
            "trades lists 1 to {MAX_TRADES} proposed trades"
        )));
    }
    let mut trades = Vec::new();
    for t in &args.trades {
        if t.quantity.0 <= Decimal::ZERO {
            return Err(ToolError::invalid(format!(
                "trade quantities are positive (side says buy or sell); got {}",
                t.quantity.0
            )));
        }
        trades.push((symbol_arg(&t.symbol)?.to_string(), t.side, t.quantity.0));
    }
    let lookback = lookback_arg(args.lookback)?;
    let benchmark = benchmark_arg(ctx, args.benchmark.as_deref()).await?;
    let book = view(ctx, id).await?;
    let ledger = book.portfolio.ledger.clone();
    let mut symbols = held(&ledger);
    symbols.extend(trades.iter().map(|t| t.0.clone()));
    symbols.sort();
    symbols.dedup();
    let m = marks(ctx, &symbols).await?;
    for (s, _, _) in &trades {
        if !m.last.contains_key(s) {
            return Err(crate::market_data::unknown_symbol(&Symbol::parse(s)?));
        }
    }
    let open: Vec<TrackedOrder> = book
        .open
        .iter()
        .filter(|o| o.tracked.order.status.is_open())
        .map(|o| o.tracked.clone())
        .collect();
    let day = book::day_pnl(&ledger, &m.last, &m.previous);
    let mut running = ledger.clone();
    let mut checks = Vec::new();
    for (symbol, side, quantity) in &trades {
        let checked = book::pre_trade(
            &Proposal {
                symbol,
                side: *side,
                quantity: *quantity,
                order_type: &OrderType::Market,
            },
            &running,
            &open,
            &m.last,
            &book.portfolio.limits,
            &book.portfolio.cost,
            day,
        );
        running = book::with_trades(
            &running,
            &[(symbol.clone(), *side, *quantity)],
            &m.last,
            &book.portfolio.cost,
        );
        checks.push(TradeCheck {
            symbol: symbol.clone(),
            side: *side,
            quantity: *quantity,
            passed: checked.is_ok(),
            estimate: checked.as_ref().ok().cloned(),
            refusal: checked.err(),
        });
    }
    let mut cache = CloseCache::new(lookback);
    let before = run_risk(
        ctx,
        &mut cache,
        &ledger,
        &m.last,
        benchmark.as_deref(),
        false,
    )
    .await?;
    let after = run_risk(
        ctx,
        &mut cache,
        &running,
        &m.last,
        benchmark.as_deref(),
        false,
    )
    .await?;
    let all_pass = checks.iter().all(|c| c.passed);
    let (b, a) = (snapshot(&before), snapshot(&after));
    let pct = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{:.2}%", v * 100.0));
    let failed: Vec<String> = checks
        .iter()
        .filter_map(|c| {
            c.refusal
                .as_ref()
                .map(|r| format!("{} {}: {}", side_word(c.side), c.symbol, r.message))
        })
        .collect();
    let summary = format!(
        "What-if for {id}: 1-day historical VaR 95% {} -> {}, volatility {} -> {}, largest weight {} -> {}, effective positions {} -> {}. {}{}",
        pct(b.historical_var_95),
        pct(a.historical_var_95),
        pct(b.annual_volatility),
        pct(a.annual_volatility),
        pct(b.largest_weight),
        pct(a.largest_weight),
        b.effective_positions
            .map_or("n/a".into(), |v| format!("{v:.1}")),
        a.effective_positions
            .map_or("n/a".into(), |v| format!("{v:.1}")),
        if all_pass {
            "Every trade passes the pre-trade checks.".to_string()
        } else {
            format!("Refused by the checks: {}.", failed.join("; "))
        },
        synthetic_note(before.synthetic || after.synthetic || m.synthetic)
    );
    Ok((
        CheckTradeRiskOutput {
            portfolio_id: id.to_string(),
            before: b,
            after: a,
            all_pass,
            checks,
            benchmark,
            conventions: format!(
                "Trades fill whole at the last close with the portfolio's commission (no slippage) for the after figures; checks run in order, each on the book after the trades before it. {CONVENTIONS}"
            ),
            synthetic: before.synthetic || after.synthetic || m.synthetic,
        },
        summary,
    ))
}

// ------------------------------------------------------- rebalance_preview

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RebalancePreviewArgs {
    /// The portfolio (pf_...).
    pub portfolio_id: String,
    /// Target weights of equity by symbol, e.g. {"AAPL": 0.3, "MSFT": 0.2}.
    /// Holdings not named go to 0; the rest is cash. Weights add up to at
    /// most 1; negative weights (shorts) only where the portfolio allows shorts.
    pub targets: BTreeMap<String, Amount>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewOrder {
    #[serde(flatten)]
    pub order: gs_portfolio::book::RebalanceOrder,
    pub passed: bool,
    pub refusal: Option<Refusal>,
    pub estimate: Option<Estimate>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RebalancePreviewOutput {
    pub portfolio_id: String,
    /// Sells first, then buys; none is placed.
    pub orders: Vec<PreviewOrder>,
    pub all_pass: bool,
    /// Sum of |order notional| / equity.
    pub turnover: f64,
    #[schemars(with = "String")]
    pub cash_after: Decimal,
    pub note: String,
    pub synthetic: bool,
}

pub async fn rebalance_preview(
    ctx: &ToolContext,
    args: RebalancePreviewArgs,
) -> Result<(RebalancePreviewOutput, String), ToolError> {
    let id = portfolio_arg(&args.portfolio_id)?;
    if args.targets.is_empty() || args.targets.len() > 100 {
        return Err(ToolError::invalid(
            "targets names 1 to 100 symbols with their weights of equity, e.g. {\"AAPL\": 0.3}; give a held symbol weight 0 to sell all of it",
        ));
    }
    let book = view(ctx, id).await?;
    let mut targets = BTreeMap::new();
    let mut sum = Decimal::ZERO;
    for (s, Amount(w)) in &args.targets {
        let symbol = symbol_arg(s)?.to_string();
        if *w < Decimal::NEGATIVE_ONE || *w > Decimal::ONE {
            return Err(ToolError::invalid(format!(
                "target weight of {symbol} must be between -1 and 1; got {w}"
            )));
        }
        if w.is_sign_negative() && !w.is_zero() && !book.portfolio.limits.allow_short {
            return Err(ToolError::invalid(format!(
                "target weight of {symbol} is negative ({w}) but this portfolio does not allow short selling"
            )));
        }
        sum = sum.checked_add(*w).unwrap_or(Decimal::MAX);
        targets.insert(symbol, *w);
    }
    if sum > Decimal::ONE {
        return Err(ToolError::invalid(format!(
            "target weights add up to {sum}: at most 1 (no leverage); the rest is cash"
        )));
    }
    let ledger = &book.portfolio.ledger;
    let mut symbols = held(ledger);
    symbols.extend(targets.keys().cloned());
    symbols.sort();
    symbols.dedup();
    let m = marks(ctx, &symbols).await?;
    let planned = book::rebalance(ledger, &m.last, &targets).map_err(ToolError::invalid)?;
    let open: Vec<TrackedOrder> = book
        .open
        .iter()
        .filter(|o| o.tracked.order.status.is_open())
        .map(|o| o.tracked.clone())
        .collect();
    let day = book::day_pnl(ledger, &m.last, &m.previous);
    let mut running = ledger.clone();
    let mut orders = Vec::new();
    for o in planned {
        let checked = book::pre_trade(
            &Proposal {
                symbol: &o.symbol,
                side: o.side,
                quantity: o.quantity,
                order_type: &OrderType::Market,
            },
            &running,
            &open,
            &m.last,
            &book.portfolio.limits,
            &book.portfolio.cost,
            day,
        );
        running = book::with_trades(
            &running,
            &[(o.symbol.clone(), o.side, o.quantity)],
            &m.last,
            &book.portfolio.cost,
        );
        orders.push(PreviewOrder {
            order: o,
            passed: checked.is_ok(),
            estimate: checked.as_ref().ok().cloned(),
            refusal: checked.err(),
        });
    }
    let equity = f64_of(ledger.equity(&m.last));
    let turnover = if equity > 0.0 {
        orders
            .iter()
            .map(|o| f64_of(o.order.quantity) * f64_of(o.order.price))
            .sum::<f64>()
            / equity
    } else {
        0.0
    };
    let all_pass = orders.iter().all(|o| o.passed);
    let summary = format!(
        "Rebalance of {id} to {} target{}: {} market order{} ({}), turnover {:.1}% of equity, cash after about {}. {}{}",
        targets.len(),
        if targets.len() == 1 { "" } else { "s" },
        orders.len(),
        if orders.len() == 1 { "" } else { "s" },
        orders
            .iter()
            .take(8)
            .map(|o| format!(
                "{} {} {}",
                side_word(o.order.side),
                o.order.quantity,
                o.order.symbol
            ))
            .collect::<Vec<_>>()
            .join(", "),
        turnover * 100.0,
        running.cash.round_dp(2),
        if all_pass {
            "Every order passes the pre-trade checks; place them with place_order."
        } else {
            "Some orders fail the pre-trade checks (see refusal)."
        },
        synthetic_note(m.synthetic)
    );
    Ok((
        RebalancePreviewOutput {
            portfolio_id: id.to_string(),
            orders,
            all_pass,
            turnover,
            cash_after: running.cash,
            note: "Quantities at the last daily close, rounded toward zero to whole lots; checks run in order on the book after the orders before them. Nothing is placed.".into(),
            synthetic: m.synthetic,
        },
        summary,
    ))
}

// -------------------------------------------------------- get_performance

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPerformanceArgs {
    /// The portfolio (pf_...).
    pub portfolio_id: String,
    /// Windows to report, from 1m, 3m, 6m, ytd, 1y, all (default all five
    /// but 6m); ignored when start is given.
    pub windows: Option<Vec<String>>,
    /// A custom window's first day (YYYY-MM-DD).
    pub start: Option<String>,
    /// A custom window's last day (YYYY-MM-DD, default the newest bar).
    pub end: Option<String>,
    /// Benchmark symbol (default SPY when stored; "none" for none).
    pub benchmark: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WindowOutput {
    pub window: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub start_equity: f64,
    pub end_equity: f64,
    pub net_flows: f64,
    pub pnl: f64,
    pub time_weighted_return: Option<f64>,
    pub money_weighted_return: Option<f64>,
    pub money_weighted_annualized: Option<f64>,
    /// The benchmark's close-to-close return over the same dates.
    pub benchmark_return: Option<f64>,
    /// time-weighted return - benchmark return.
    pub excess_return: Option<f64>,
    pub attribution: Vec<Attribution>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PositionPnl {
    pub symbol: String,
    #[schemars(with = "String")]
    pub realized_pnl: Decimal,
    #[schemars(with = "String")]
    pub unrealized_pnl: Decimal,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetPerformanceOutput {
    pub portfolio_id: String,
    pub windows: Vec<WindowOutput>,
    pub benchmark: Option<String>,
    #[schemars(with = "String")]
    pub realized_pnl: Decimal,
    #[schemars(with = "String")]
    pub unrealized_pnl: Decimal,
    pub positions: Vec<PositionPnl>,
    pub conventions: String,
    pub synthetic: bool,
}

pub async fn get_performance(
    ctx: &ToolContext,
    args: GetPerformanceArgs,
) -> Result<(GetPerformanceOutput, String), ToolError> {
    let id = portfolio_arg(&args.portfolio_id)?;
    let benchmark = benchmark_arg(ctx, args.benchmark.as_deref()).await?;
    let book = view(ctx, id).await?;
    let fills = all_fills(ctx, &book).await?;
    let mut symbols: Vec<String> = fills.iter().map(|f| f.fill.symbol.clone()).collect();
    symbols.sort();
    symbols.dedup();
    let since = book
        .portfolio
        .since
        .unwrap_or(book.portfolio.created_at)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| Utc.from_utc_datetime(&d))
        .unwrap_or(book.portfolio.created_at);
    let mut closes: BTreeMap<String, BTreeMap<DateTime<Utc>, f64>> = BTreeMap::new();
    let mut synthetic = false;
    for s in symbols.iter().chain(benchmark.iter()) {
        let req = HistoryRequest {
            symbol: Symbol::parse(s)?,
            timeframe: Timeframe::D1,
            start: Some(since),
            end: None,
            days: None,
            limit: MAX_LOOKBACK,
        };
        match load_history(ctx.bars(), &req).await {
            Ok(h) => {
                synthetic |= h.source.source.is_synthetic();
                closes.insert(
                    s.clone(),
                    h.bars.iter().map(|b| (b.time(), b.close())).collect(),
                );
            }
            Err(ToolError::NotFound(_)) => {
                closes.insert(s.clone(), BTreeMap::new());
            }
            Err(e) => return Err(e),
        }
    }
    let dates: Vec<DateTime<Utc>> = closes
        .iter()
        .filter(|(s, _)| symbols.contains(s) || symbols.is_empty())
        .flat_map(|(_, c)| c.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // No priced day since the portfolio was created: one valuation, now.
    let no_history = dates.is_empty();
    let dates = if no_history { vec![Utc::now()] } else { dates };
    let prices = Prices {
        closes: symbols
            .iter()
            .map(|s| {
                let c = closes.get(s);
                (
                    s.clone(),
                    dates
                        .iter()
                        .map(|d| c.and_then(|c| c.get(d).copied()))
                        .collect(),
                )
            })
            .collect(),
        dates: dates.clone(),
    };
    let mut events: Vec<Event> = book
        .portfolio
        .flows
        .iter()
        .map(|f| Event {
            time: f.time,
            kind: EventKind::Flow(f.amount),
        })
        .collect();
    events.extend(fills.iter().map(|f| Event {
        time: f.time,
        kind: EventKind::Fill(f.fill.clone()),
    }));
    let bench: Option<Vec<Option<f64>>> = benchmark.as_ref().map(|b| {
        let c = closes.get(b);
        dates
            .iter()
            .map(|d| c.and_then(|c| c.get(d).copied()))
            .collect()
    });
    let windows = window_specs(&args, &dates)?;
    let computed = ctx
        .compute(move || {
            let replay = performance::replay(&events, &prices)
                .map_err(|e| ToolError::invalid(e.to_string()))?;
            let mut out = Vec::new();
            for (name, s, e) in windows {
                let w = performance::window(&replay, s, e)
                    .map_err(|e| ToolError::invalid(e.to_string()))?;
                let bench_return = bench.as_ref().and_then(|b| {
                    let first = b.get(..=s)?.iter().rev().flatten().next()?;
                    let last = b.get(..=e)?.iter().rev().flatten().next()?;
                    (*first > 0.0).then(|| last / first - 1.0)
                });
                out.push(WindowOutput {
                    window: name,
                    start: w.start,
                    end: w.end,
                    start_equity: w.start_equity,
                    end_equity: w.end_equity,
                    net_flows: w.net_flows,
                    pnl: w.pnl,
                    excess_return: w.time_weighted_return.zip(bench_return).map(|(a, b)| a - b),
                    time_weighted_return: w.time_weighted_return,
                    money_weighted_return: w.money_weighted_return,
                    money_weighted_annualized: w.money_weighted_annualized,
                    benchmark_return: bench_return,
                    attribution: w.attribution,
                });
            }
            Ok(out)
        })
        .await?;
    let ledger = &book.portfolio.ledger;
    let m = marks(ctx, &ledger.positions.keys().cloned().collect::<Vec<_>>()).await?;
    let valuation = book::value(ledger, &m.last);
    let positions: Vec<PositionPnl> = ledger
        .positions
        .iter()
        .map(|(s, p)| PositionPnl {
            symbol: s.clone(),
            realized_pnl: p.realized_pnl.round_dp(8),
            unrealized_pnl: valuation
                .positions
                .iter()
                .find(|v| &v.symbol == s)
                .map_or(Decimal::ZERO, |v| v.unrealized_pnl),
        })
        .collect();
    let pct = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{:.2}%", v * 100.0));
    let summary = format!(
        "{id} performance{}: {}. Realised P&L {}, unrealised {}.{}",
        if no_history {
            " (no daily bar since the portfolio was created yet, so no returns)"
        } else {
            ""
        },
        computed
            .iter()
            .map(|w| format!(
                "{} time-weighted {} (money-weighted {}{})",
                w.window,
                pct(w.time_weighted_return),
                pct(w.money_weighted_return),
                match (&benchmark, w.benchmark_return) {
                    (Some(b), Some(r)) => format!(", {b} {}", pct(Some(r))),
                    _ => String::new(),
                }
            ))
            .collect::<Vec<_>>()
            .join("; "),
        valuation.realized_pnl.round_dp(2),
        valuation.unrealized_pnl.round_dp(2),
        synthetic_note(synthetic || m.synthetic)
    );
    Ok((
        GetPerformanceOutput {
            portfolio_id: id.to_string(),
            windows: computed,
            benchmark,
            realized_pnl: valuation.realized_pnl,
            unrealized_pnl: valuation.unrealized_pnl,
            positions,
            conventions: "History replayed from the portfolio's cash flows and fills over daily closes (bar open times as dates; an event belongs to the first date at or after it, events after the newest bar to the newest date). Time-weighted return: daily links E_t / (E_t-1 + F_t) - 1 with flows at the start of the day, chained. Money-weighted return: the rate over the window at which the start equity and the flows grow to the end equity (IRR), and its ACT/365 annual equivalent. Attribution: each position's value change minus the cash spent on it, commissions included; the positions' P&L add up to the window's P&L. Windows start at the last date on or before their start (1m = 30 days, 3m = 91, 6m = 182, 1y = 365, ytd = the last date of the previous year).".into(),
            synthetic: synthetic || m.synthetic,
        },
        summary,
    ))
}

fn window_specs(
    args: &GetPerformanceArgs,
    dates: &[DateTime<Utc>],
) -> Result<Vec<(String, usize, usize)>, ToolError> {
    let last = dates.len().saturating_sub(1);
    let index_at_or_before =
        |t: DateTime<Utc>| -> usize { dates.iter().rposition(|d| *d <= t).unwrap_or(0) };
    let parse = |field: &str, raw: &str| -> Result<DateTime<Utc>, ToolError> {
        let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
            ToolError::invalid(format!("{field} {raw:?} is not a date: use YYYY-MM-DD"))
        })?;
        Ok(Utc.from_utc_datetime(&d.and_hms_opt(23, 59, 59).unwrap_or_default()))
    };
    if let Some(start) = &args.start {
        let s = index_at_or_before(parse("start", start)?);
        let e = match &args.end {
            Some(end) => index_at_or_before(parse("end", end)?),
            None => last,
        };
        if s > e {
            return Err(ToolError::invalid("start is after end"));
        }
        return Ok(vec![(
            format!("{start}..{}", args.end.as_deref().unwrap_or("latest")),
            s,
            e,
        )]);
    }
    let end = dates.get(last).copied().unwrap_or_else(Utc::now);
    let names = args
        .windows
        .clone()
        .unwrap_or_else(|| ["1m", "3m", "ytd", "1y", "all"].map(String::from).to_vec());
    if names.is_empty() || names.len() > 6 {
        return Err(ToolError::invalid(
            "windows lists 1 to 6 of 1m, 3m, 6m, ytd, 1y, all",
        ));
    }
    let mut out = Vec::new();
    for name in names {
        let back = |days: i64| end.checked_sub_signed(Duration::days(days)).unwrap_or(end);
        let s = match name.as_str() {
            "1m" => index_at_or_before(back(30)),
            "3m" => index_at_or_before(back(91)),
            "6m" => index_at_or_before(back(182)),
            "1y" => index_at_or_before(back(365)),
            "ytd" => {
                let year_end = Utc
                    .with_ymd_and_hms(end.year().saturating_sub(1), 12, 31, 23, 59, 59)
                    .single()
                    .unwrap_or(end);
                index_at_or_before(year_end)
            }
            "all" => 0,
            other => {
                return Err(ToolError::invalid(format!(
                    "unknown window {other:?}: use 1m, 3m, 6m, ytd, 1y or all, or give start and end"
                )));
            }
        };
        out.push((name, s, last));
    }
    Ok(out)
}

// ------------------------------------------------------------------ tools

tool!(
    CreatePortfolio,
    "create_portfolio",
    "Create a paper portfolio",
    WRITE,
    CreatePortfolioArgs,
    CreatePortfolioOutput,
    create_portfolio,
    "Creates a paper-trading portfolio of yours with starting cash (default 100000 USD), optional pre-trade risk limits (max order notional, max position and sector weight, short selling on or off, daily loss limit, restricted symbols) and the paper broker's costs (slippage in bps, commission per share with a minimum, max share of a bar's volume). To start from an existing account instead, give history: its deposits, withdrawals, buys and sells as CSV (all or nothing, every bad line named); performance is then replayed from its first row. Safe to retry: the same idempotency_key returns the same portfolio (and finishes an import that was cut short). Only you can see or trade it."
);

tool!(
    ListPortfolios,
    "list_portfolios",
    "List your portfolios",
    Annotations::READ_ONLY,
    ListPortfoliosArgs,
    ListPortfoliosOutput,
    list_portfolios,
    "Lists your portfolios (id, name, currency, stored cash, number of positions and open orders), oldest first. Use get_portfolio for a valuation."
);

tool!(
    GetPortfolio,
    "get_portfolio",
    "Portfolio positions and valuation",
    Annotations::READ_ONLY,
    GetPortfolioArgs,
    GetPortfolioOutput,
    get_portfolio,
    "One of your portfolios valued at the last stored daily closes: cash, equity, each position (quantity, average cost, price, market value, weight, unrealised and realised P&L, sector), gross and net exposure, sector exposure, today's P&L, and the open orders. Open orders are first settled against any bars that have arrived since they were placed."
);

tool!(
    PlaceOrder,
    "place_order",
    "Place a paper order",
    WRITE,
    PlaceOrderArgs,
    PlaceOrderOutput,
    place_order,
    "Places a paper order (market, limit, stop or stop_limit; time in force day, gtc or ioc) after the pre-trade risk checks: buying power (after what open orders reserve), max order notional, max position and sector weight, short selling, daily loss limit, restricted symbols, lot size. A refused order is stored as rejected and the result names the failed check, its limit and the value reached; nothing else changes. Orders fill on stored bars that open after they are placed: market orders at the next bar's open, limits when touched, stops when triggered, with the portfolio's slippage and commission and at most its share of each bar's volume (so large orders fill partially over several bars). idempotency_key is required: a retry with the same key returns the first order instead of placing another. dry_run: true checks and estimates without placing. Orders are paper unless broker is live: that needs the server's operator to have turned live trading on, your broker account connected, and confirm: true; a live order is checked against the broker account's cash (no margin) and positions on real (not synthetic) prices, and sent once per idempotency_key."
);

tool!(
    CancelOrder,
    "cancel_order",
    "Cancel an open order",
    CANCEL,
    CancelOrderArgs,
    CancelOrderOutput,
    cancel_order,
    "Cancels one of your open orders (after settling it against any bars that have arrived, so what already filled stays filled). Cancelling an order that has already closed changes nothing and says so, so a retry is safe. A live order is cancelled at its broker, and its state there is stored."
);

tool!(
    GetOrders,
    "get_orders",
    "List orders",
    Annotations::READ_ONLY,
    GetOrdersArgs,
    GetOrdersOutput,
    get_orders,
    "A portfolio's orders, newest first, with status (new, partially_filled, filled, cancelled, rejected with the failed check, expired), filled quantity and average price. Filter by status (open, closed, all) and symbol; 50 per page (at most 200), page with next_cursor. Open live orders (the 20 newest) are read from the broker on each call; others show the broker's state as last seen, with broker_synced_at."
);

tool!(
    GetFills,
    "get_fills",
    "List fills",
    Annotations::READ_ONLY,
    GetFillsArgs,
    GetFillsOutput,
    get_fills,
    "A portfolio's fills, newest first: time (the bar's open), order, symbol, side, quantity, price after slippage and commission. Filter by symbol; 50 per page (at most 200), page with next_cursor. Cash and positions are exactly the sum of these fills and the starting cash."
);

tool!(
    CheckTradeRisk,
    "check_trade_risk",
    "What-if risk of proposed trades",
    Annotations::READ_ONLY,
    CheckTradeRiskArgs,
    CheckTradeRiskOutput,
    check_trade_risk,
    "What-if for up to 20 proposed trades on one of your portfolios: the risk figures before and after (volatility, historical and parametric 1-day VaR at 95% and 99%, CVaR, max drawdown, beta, concentration, exposures, largest weight) and each trade's pre-trade checks in order. Nothing is placed."
);

tool!(
    GetRiskMetrics,
    "get_risk_metrics",
    "Portfolio risk metrics",
    Annotations::READ_ONLY,
    GetRiskMetricsArgs,
    GetRiskMetricsOutput,
    get_risk_metrics,
    "Risk of a portfolio's current holdings over stored daily history (default 2 years): historical, parametric (full covariance matrix, not one flat volatility) and Cornish-Fisher 1-day VaR and CVaR at 95% and 99%, volatility, Sharpe, Sortino, Calmar, max drawdown with its duration, beta and alpha against a benchmark (default SPY), the correlation matrix, concentration (HHI, effective number of positions), gross and net exposure and sector exposure. The conventions field states every definition."
);

tool!(
    GetPerformance,
    "get_performance",
    "Portfolio performance",
    Annotations::READ_ONLY,
    GetPerformanceArgs,
    GetPerformanceOutput,
    get_performance,
    "A portfolio's performance over windows (1m, 3m, 6m, ytd, 1y, all, or start/end dates): time-weighted and money-weighted returns, P&L, net cash flows, the benchmark's return (default SPY) and the excess, and per-position attribution (each position's P&L and contribution), plus realised and unrealised P&L by position. History is replayed from the cash flows and fills over daily closes."
);

tool!(
    RebalancePreview,
    "rebalance_preview",
    "Preview a rebalance",
    Annotations::READ_ONLY,
    RebalancePreviewArgs,
    RebalancePreviewOutput,
    rebalance_preview,
    "The market orders that would move one of your portfolios to target weights (symbol -> fraction of equity; holdings not named go to 0, the rest is cash), in whole lots at the last close, sells first, each run through the pre-trade checks in order; with turnover and the cash after. Nothing is placed: place the orders with place_order."
);
