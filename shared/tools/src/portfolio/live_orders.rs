//! `place_order` and `cancel_order` with `broker: live`: the same
//! idempotency and pre-trade checks as paper orders, against the caller's
//! broker account (its cash, without margin, and positions) instead of the paper
//! ledger, and only when the operator has turned live trading on, the user
//! has connected an account and the call says `confirm: true`.

use chrono::Utc;
use gs_portfolio::Decimal;
use gs_portfolio::book::{self, Proposal, TrackedOrder};
use gs_portfolio::paper::{Ledger, Order, OrderStatus, OrderType, Position, Refusal, TimeInForce};

use super::live::{self, Alpaca, BrokerOrder, Credentials, LiveTrading, Submission};
use super::store::{self, LiveOrder, StoredOrder, Written};
use super::{
    OrderRequest, PlaceOrderArgs, PlaceOrderOutput, idempotency_key, load, marks, order_request,
    order_view, portfolio_arg, repeat, request_text, side_word, status_word,
};
use crate::context::ToolContext;
use crate::error::ToolError;

fn enabled(ctx: &ToolContext) -> Result<&LiveTrading, ToolError> {
    ctx.live.as_deref().ok_or_else(|| {
        ToolError::invalid(format!(
            "live trading is off on this server, so nothing was placed: {}. Leave broker out (or say paper) to place a paper order.",
            live::HOW_TO_ENABLE
        ))
    })
}

async fn connected(ctx: &ToolContext) -> Result<Credentials, ToolError> {
    live::credentials(
        ctx.stores.records.as_ref(),
        ctx.stores.cipher.as_deref(),
        &ctx.subject,
    )
    .await?
    .ok_or_else(|| {
        ToolError::invalid(
            "your broker account is not connected, so nothing was placed: run `goldensignals broker connect` (with ALPACA_API_KEY_ID and ALPACA_API_SECRET_KEY in its environment) and call again",
        )
    })
}

fn submission(req: &OrderRequest, client_order_id: &str) -> Submission {
    let (order_type, limit, stop) = match req.order_type {
        OrderType::Market => ("market", None, None),
        OrderType::Limit { limit } => ("limit", Some(limit), None),
        OrderType::Stop { stop } => ("stop", None, Some(stop)),
        OrderType::StopLimit { stop, limit } => ("stop_limit", Some(limit), Some(stop)),
    };
    Submission {
        symbol: req.symbol.to_string(),
        qty: req.quantity.normalize().to_string(),
        side: side_word(req.side),
        order_type,
        time_in_force: match req.time_in_force {
            TimeInForce::Day => "day",
            TimeInForce::Gtc => "gtc",
            TimeInForce::Ioc => "ioc",
        },
        limit_price: limit.map(|p| p.normalize().to_string()),
        stop_price: stop.map(|p| p.normalize().to_string()),
        client_order_id: client_order_id.to_string(),
    }
}

/// The broker account as a ledger for the pre-trade checks: its cash, or
/// its buying power where that is less (unsettled funds), so margin is
/// never spent and weights are of the account's real equity; and its
/// positions.
fn account_ledger(account: &live::Account, positions: &[live::Position]) -> Ledger {
    let mut ledger = Ledger::with_cash(account.cash.min(account.buying_power));
    for p in positions {
        ledger.positions.insert(
            p.symbol.clone(),
            Position {
                quantity: p.qty,
                average_cost: p.avg_entry_price.unwrap_or_default(),
                realized_pnl: Decimal::ZERO,
            },
        );
    }
    ledger
}

fn broker_refusal(message: String) -> Refusal {
    Refusal {
        check: "broker".into(),
        limit: Decimal::ZERO,
        value: Decimal::ZERO,
        message,
    }
}

/// Brings a stored order in line with the broker's answer.
fn apply(order: &mut StoredOrder, at_broker: &BrokerOrder) {
    let now = Utc::now();
    order.tracked.order.status = live::status_of(&at_broker.status);
    if let Some(q) = at_broker.filled_qty {
        order.tracked.order.filled_quantity = q;
    }
    order.tracked.order.average_price = at_broker.filled_avg_price;
    if let Some(l) = order.live.as_mut() {
        l.broker_order_id = Some(at_broker.id.clone());
        l.broker_status = at_broker.status.clone();
        l.synced_at = now;
    }
    order.updated_at = now;
}

/// Sends a stored, accepted live order that the broker has not
/// acknowledged yet (at most once at the broker: its client order id).
async fn submit_stored(
    ctx: &ToolContext,
    alpaca: &Alpaca<'_>,
    portfolio_id: &str,
    req: &OrderRequest,
    mut order: StoredOrder,
) -> Result<StoredOrder, ToolError> {
    let Some(client_id) = order.live.as_ref().map(|l| l.client_order_id.clone()) else {
        return Ok(order);
    };
    if order.tracked.order.status != OrderStatus::New
        || order
            .live
            .as_ref()
            .is_some_and(|l| l.broker_order_id.is_some())
    {
        return Ok(order);
    }
    match alpaca.submit_once(&submission(req, &client_id)).await {
        Ok(at_broker) => apply(&mut order, &at_broker),
        Err(live::BrokerError::Refused { status, message }) => {
            order.tracked.order.status = OrderStatus::Rejected;
            order.refusal = Some(broker_refusal(format!(
                "the broker refused the order (HTTP {status}): {message}"
            )));
            if let Some(l) = order.live.as_mut() {
                l.broker_status = "refused".into();
                l.synced_at = Utc::now();
            }
            order.updated_at = Utc::now();
        }
        Err(e @ live::BrokerError::Unavailable(_)) => {
            return Err(e.into_tool_error(
                "the order (it is stored and has not reached the broker, or its answer was lost)",
            ));
        }
    }
    store::update_order(
        ctx.stores.records.as_ref(),
        &ctx.subject,
        portfolio_id,
        &order,
    )
    .await?;
    Ok(order)
}

fn placed(
    portfolio_id: &str,
    order: &StoredOrder,
    outcome: &str,
    estimate: Option<book::Estimate>,
    synthetic: bool,
) -> (PlaceOrderOutput, String) {
    let view = order_view(portfolio_id, order);
    let at = order
        .live
        .as_ref()
        .and_then(|l| l.broker_order_id.as_deref())
        .unwrap_or("-");
    let summary = match (&order.refusal, outcome) {
        (Some(r), _) => format!(
            "REJECTED live order {} by the {} check: {} (stored as rejected; nothing else changed).",
            view.order_id, r.check, r.message
        ),
        (None, "repeat") => format!(
            "Repeat of the idempotency key: live order {} (broker id {at}) is {}; nothing new was sent.",
            view.order_id,
            status_word(view.status)
        ),
        (None, _) => format!(
            "Sent LIVE order {} to {}: {} {} {} {}; the broker's id is {at} and its status {}.",
            view.order_id,
            view.broker,
            side_word(view.side),
            view.quantity,
            view.symbol,
            view.order_type,
            order
                .live
                .as_ref()
                .map_or("unknown", |l| l.broker_status.as_str())
        ),
    };
    let rejected = order.refusal.is_some() && outcome != "repeat";
    (
        PlaceOrderOutput {
            refusal: order.refusal.clone(),
            order: Some(view),
            outcome: if rejected { "rejected" } else { outcome }.into(),
            estimate,
            dry_run: false,
            synthetic,
        },
        summary,
    )
}

pub(super) async fn place_order(
    ctx: &ToolContext,
    args: PlaceOrderArgs,
) -> Result<(PlaceOrderOutput, String), ToolError> {
    let live = enabled(ctx)?;
    if args.confirm != Some(true) {
        return Err(ToolError::invalid(format!(
            "a live order moves real money at {} ({}): nothing was placed. Send it again with confirm: true once the user has approved this exact order, or leave broker out for a paper order.",
            live.broker(),
            live.base_url()
        )));
    }
    let id = portfolio_arg(&args.portfolio_id)?.to_string();
    let req = order_request(&args)?;
    let dry_run = args.dry_run.unwrap_or(false);
    let key = idempotency_key(&args, dry_run)?;
    let request = request_text(&req, Some("live"));
    let (portfolio, _) = load(ctx, &id).await?;
    let credentials = connected(ctx).await?;
    let alpaca = live.client(&credentials);
    let records = ctx.stores.records.as_ref();
    if let Some(k) = &key {
        let oid = store::order_id(&id, k);
        if let Some(first) = store::get_order(records, &ctx.subject, &id, &oid).await? {
            if first.request != request {
                return repeat(&id, k, first, &request);
            }
            // A dry run only reports: it never sends a stored order.
            let order = if dry_run {
                first
            } else {
                submit_stored(ctx, &alpaca, &id, &req, first).await?
            };
            return Ok(placed(&id, &order, "repeat", None, false));
        }
    }
    let account = alpaca
        .account()
        .await
        .map_err(|e| e.into_tool_error("the account request"))?;
    let positions = alpaca
        .positions()
        .await
        .map_err(|e| e.into_tool_error("the positions request"))?;
    let ledger = account_ledger(&account, &positions);
    let mut symbols: Vec<String> = positions.iter().map(|p| p.symbol.clone()).collect();
    symbols.push(req.symbol.to_string());
    symbols.sort();
    symbols.dedup();
    let m = marks(ctx, &symbols).await?;
    if !m.last.contains_key(req.symbol.as_str()) {
        return Err(crate::market_data::unknown_symbol(&req.symbol));
    }
    if m.synthetic {
        return Err(ToolError::invalid(format!(
            "the pre-trade checks of a live order need real prices, and the stored daily bars of {} include synthetic demo data: import real bars (goldensignals import) first; nothing was sent",
            symbols.join(", ")
        )));
    }
    let day_pnl = match (account.equity, account.last_equity) {
        (Some(e), Some(l)) => e.checked_sub(l).unwrap_or_default(),
        _ => Decimal::ZERO,
    };
    let open: Vec<TrackedOrder> = Vec::new();
    let checked = if account.trading_blocked || !account.status.eq_ignore_ascii_case("active") {
        Err(broker_refusal(format!(
            "the broker account is not open for trading (status {:?}, trading_blocked {})",
            account.status, account.trading_blocked
        )))
    } else if !account.currency.is_empty() && account.currency != portfolio.base_currency {
        Err(broker_refusal(format!(
            "the broker account is in {} and the portfolio in {}",
            account.currency, portfolio.base_currency
        )))
    } else {
        book::pre_trade(
            &Proposal {
                symbol: req.symbol.as_str(),
                side: req.side,
                quantity: req.quantity,
                order_type: &req.order_type,
            },
            &ledger,
            &open,
            &m.last,
            &portfolio.limits,
            &portfolio.cost,
            day_pnl,
        )
    };
    let Some(key) = key.filter(|_| !dry_run) else {
        let summary = match &checked {
            Ok(e) => format!(
                "Dry run (live, {}): {} {} {} would pass the pre-trade checks against the broker account (spendable cash {}, no margin); estimated fill {} (notional {}). Nothing was sent.",
                live.broker(),
                side_word(req.side),
                req.quantity,
                req.symbol,
                ledger.cash,
                e.fill_price,
                e.notional.round_dp(2)
            ),
            Err(r) => format!(
                "Dry run (live): the order would be rejected by {}: {}",
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
        live: Some(LiveOrder {
            broker: live.broker().into(),
            client_order_id: live::client_order_id(&oid),
            broker_order_id: None,
            broker_status: if checked.is_ok() {
                "pending_submit"
            } else {
                "not_sent"
            }
            .into(),
            synced_at: now,
        }),
    };
    // Stored first, once per key; only then sent.
    match store::place(records, &ctx.subject, None, &id, &stored).await? {
        Written::Created(o) => {
            let estimate = checked.ok();
            let order = submit_stored(ctx, &alpaca, &id, &req, o).await?;
            Ok(placed(&id, &order, "placed", estimate, m.synthetic))
        }
        Written::Repeat(first) => {
            let order = submit_stored(ctx, &alpaca, &id, &req, first).await?;
            Ok(placed(&id, &order, "repeat", None, m.synthetic))
        }
        Written::KeyReused(first) => repeat(&id, &key, first, &request),
        Written::Stale => Err(ToolError::Conflict(
            "the order was being written by another call; call again with the same idempotency_key"
                .into(),
        )),
    }
}

/// Most live orders one `get_orders` asks the broker about.
const MAX_REFRESH: usize = 20;

/// What [`refresh`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refreshed {
    /// Open live orders brought up to date from the broker.
    pub asked: usize,
    /// Open live orders shown as last seen (live trading off, no account
    /// connected, the broker not answering, or over the per-call cap).
    pub as_last_seen: usize,
}

/// Brings the open, acknowledged live orders among `orders` (newest first,
/// at most [`MAX_REFRESH`]) up to date with the broker, in memory only:
/// readers write nothing (`cancel_order` stores what the broker says).
/// The orders are asked one after another, each within the client's
/// timeout. Where the broker cannot be asked, an order stays as last seen
/// (`broker_synced_at` says when).
pub(super) async fn refresh(ctx: &ToolContext, orders: &mut [StoredOrder]) -> Refreshed {
    let mut open: Vec<&mut StoredOrder> = orders
        .iter_mut()
        .filter(|o| {
            o.tracked.order.status.is_open()
                && o.live.as_ref().is_some_and(|l| l.broker_order_id.is_some())
        })
        .collect();
    let mut out = Refreshed {
        asked: 0,
        as_last_seen: open.len(),
    };
    if open.is_empty() {
        return out;
    }
    let Ok(live) = enabled(ctx) else {
        return out;
    };
    let Ok(credentials) = connected(ctx).await else {
        return out;
    };
    let alpaca = live.client(&credentials);
    open.sort_by_key(|o| std::cmp::Reverse(o.tracked.placed_at));
    for order in open.into_iter().take(MAX_REFRESH) {
        let Some(id) = order.live.as_ref().and_then(|l| l.broker_order_id.clone()) else {
            continue;
        };
        match alpaca.order(&id).await {
            Ok(Some(at_broker)) => apply(order, &at_broker),
            // Gone from the broker, or it did not answer: as last seen.
            Ok(None) | Err(_) => continue,
        }
        out.asked = out.asked.saturating_add(1);
        out.as_last_seen = out.as_last_seen.saturating_sub(1);
    }
    out
}

/// Cancels a live order at its broker and stores what the broker says.
pub(super) async fn cancel_order(
    ctx: &ToolContext,
    portfolio_id: &str,
    mut order: StoredOrder,
) -> Result<(StoredOrder, bool), ToolError> {
    if !order.tracked.order.status.is_open() {
        return Ok((order, false));
    }
    let Some(broker_id) = order.live.as_ref().and_then(|l| l.broker_order_id.clone()) else {
        // Never acknowledged: nothing at the broker to cancel yet.
        return Err(ToolError::Conflict(
            "the live order has not been acknowledged by the broker yet; repeat place_order with its idempotency_key first, then cancel".into(),
        ));
    };
    let live = enabled(ctx)?;
    let credentials = connected(ctx).await?;
    let alpaca = live.client(&credentials);
    let cancelled = match alpaca.cancel(&broker_id).await {
        Ok(()) => true,
        // Not cancelable (already filled, say): what the broker has is the answer.
        Err(live::BrokerError::Refused { status: 422, .. }) => false,
        Err(e) => return Err(e.into_tool_error("the cancellation")),
    };
    match alpaca
        .order(&broker_id)
        .await
        .map_err(|e| e.into_tool_error("the order status request"))?
    {
        Some(at_broker) => apply(&mut order, &at_broker),
        // A 404 to both: this account has no such order (another account
        // connected since?). Nothing is known to be cancelled.
        None => {
            return Err(ToolError::NotFound(format!(
                "the connected broker account has no order {broker_id}; the stored order was left as it was (if you connected another account, reconnect the one that placed it)"
            )));
        }
    }
    store::update_order(
        ctx.stores.records.as_ref(),
        &ctx.subject,
        portfolio_id,
        &order,
    )
    .await?;
    let done = cancelled && !order.tracked.order.status.is_open()
        || order.tracked.order.status == OrderStatus::Cancelled;
    Ok((order, done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_portfolio::paper::Side;

    #[test]
    fn submissions_say_what_alpaca_expects() {
        let req = OrderRequest {
            symbol: gs_domain::Symbol::parse("AAPL").unwrap(),
            side: Side::Sell,
            quantity: Decimal::new(300, 2),
            order_type: OrderType::StopLimit {
                stop: Decimal::new(1905, 1),
                limit: Decimal::new(190, 0),
            },
            time_in_force: TimeInForce::Gtc,
        };
        let s = serde_json::to_value(submission(&req, "gs-abc")).unwrap();
        assert_eq!(
            s,
            serde_json::json!({"symbol": "AAPL", "qty": "3", "side": "sell", "type": "stop_limit",
                "time_in_force": "gtc", "limit_price": "190", "stop_price": "190.5",
                "client_order_id": "gs-abc"})
        );
    }
}
