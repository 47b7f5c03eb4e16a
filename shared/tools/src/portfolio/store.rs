//! Portfolios and orders through the `RecordStore` port, owned by the
//! caller (`Owner::user(subject)`): another user's records are under another
//! owner, so they cannot be read or written by guessing ids.
//!
//! - `portfolios/{portfolio id}`: the portfolio (name, base currency,
//!   limits, ledger).
//! - `orders/{portfolio id}#{order id}`: one order with its request.
//! - `order-keys/{portfolio id}#{key hash}`: the idempotency key's marker,
//!   put `IfAbsent` in the same transaction as the order. The order id is
//!   derived from the portfolio and the key, so racing repeats of one key
//!   write the same records and exactly one transaction succeeds; the others
//!   read the first order back.

use gs_domain::{Owner, RecordScope, RecordStore, StoreError, TxOp, WriteCondition};
use gs_portfolio::paper::Order;
use serde::{Deserialize, Serialize};

pub const PORTFOLIOS: &str = "portfolios";
pub const ORDERS: &str = "orders";
pub const ORDER_KEYS: &str = "order-keys";

fn hex16(text: &str) -> String {
    crate::digest::sha256_hex(text.as_bytes(), 16)
}

/// The order id an idempotency key gives in a portfolio.
pub fn order_id(portfolio_id: &str, idempotency_key: &str) -> String {
    format!(
        "ord_{}",
        hex16(&format!("{portfolio_id}\u{1f}{idempotency_key}"))
    )
}

/// A stored order with what was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOrder {
    pub order: Order,
    pub idempotency_key: String,
    /// The request as the caller sent it (canonical JSON), to tell a repeat
    /// from a different order under a reused key.
    pub request: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What `place` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    /// This call stored the order.
    Created(StoredOrder),
    /// An order with this key was already stored (returned unchanged).
    Repeat(StoredOrder),
}

fn user(subject: &str) -> Result<Owner, StoreError> {
    Owner::user(subject)
}

/// Stores `order` under its idempotency key, once: a repeat of the key
/// (also a concurrent one) returns the first order. A key reused with a
/// different request is a conflict.
pub async fn place(
    records: &dyn RecordStore,
    subject: &str,
    portfolio_id: &str,
    stored: StoredOrder,
) -> Result<Placed, StoreError> {
    let owner = user(subject)?;
    let orders = RecordScope::new(owner.clone(), ORDERS)?;
    let keys = RecordScope::new(owner, ORDER_KEYS)?;
    let order_key = orders.key(&format!("{portfolio_id}#{}", stored.order.id))?;
    let marker = keys.key(&format!(
        "{portfolio_id}#{}",
        hex16(&stored.idempotency_key)
    ))?;
    let value = serde_json::to_vec(&stored)
        .map_err(|e| StoreError::Invalid(format!("cannot encode the order: {e}")))?;
    let ops = vec![
        TxOp::Put {
            key: marker,
            value: stored.order.id.clone().into_bytes(),
            condition: WriteCondition::IfAbsent,
            expires_at: None,
        },
        TxOp::Put {
            key: order_key.clone(),
            value,
            condition: WriteCondition::IfAbsent,
            expires_at: None,
        },
    ];
    match records.transact(ops).await {
        Ok(()) => Ok(Placed::Created(stored)),
        Err(e) if e.is_conflict() => {
            let first = get_order(records, subject, portfolio_id, &stored.order.id)
                .await?
                .ok_or_else(|| {
                    StoreError::Conflict(
                        "the idempotency key is being used by an order still being written; retry"
                            .into(),
                    )
                })?;
            if first.request != stored.request {
                return Err(StoreError::Conflict(format!(
                    "idempotency key {:?} was used for a different order ({}); use a new key for a new order",
                    stored.idempotency_key, first.order.id
                )));
            }
            Ok(Placed::Repeat(first))
        }
        Err(e) => Err(e),
    }
}

/// One of the caller's orders (`None`: not theirs, or not stored).
pub async fn get_order(
    records: &dyn RecordStore,
    subject: &str,
    portfolio_id: &str,
    order_id: &str,
) -> Result<Option<StoredOrder>, StoreError> {
    let scope = RecordScope::new(user(subject)?, ORDERS)?;
    match records
        .get(&scope.key(&format!("{portfolio_id}#{order_id}"))?)
        .await?
    {
        Some(r) => serde_json::from_slice(&r.value)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("orders/{order_id}: {e}"))),
        None => Ok(None),
    }
}

/// A portfolio as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPortfolio {
    pub id: String,
    pub name: String,
    /// ISO 4217 code of the base currency.
    pub base_currency: String,
    pub ledger: gs_portfolio::paper::Ledger,
    pub limits: gs_portfolio::paper::RiskLimits,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A new portfolio id: random, so ids say nothing about their owner.
pub fn new_portfolio_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 12];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| StoreError::Invalid("no randomness for a portfolio id".into()))?;
    Ok(format!(
        "pf_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Stores a new portfolio of `subject` (refused if the id exists).
pub async fn create_portfolio(
    records: &dyn RecordStore,
    subject: &str,
    portfolio: &StoredPortfolio,
) -> Result<(), StoreError> {
    let scope = RecordScope::new(user(subject)?, PORTFOLIOS)?;
    let value = serde_json::to_vec(portfolio)
        .map_err(|e| StoreError::Invalid(format!("cannot encode the portfolio: {e}")))?;
    records
        .put(
            &scope.key(&portfolio.id)?,
            &value,
            WriteCondition::IfAbsent,
            None,
        )
        .await
        .map(|_| ())
}

/// One of `subject`'s portfolios (`None`: not theirs, or not stored).
pub async fn get_portfolio(
    records: &dyn RecordStore,
    subject: &str,
    id: &str,
) -> Result<Option<StoredPortfolio>, StoreError> {
    let scope = RecordScope::new(user(subject)?, PORTFOLIOS)?;
    match records.get(&scope.key(id)?).await? {
        Some(r) => serde_json::from_slice(&r.value)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("portfolios/{id}: {e}"))),
        None => Ok(None),
    }
}

/// Every portfolio of `subject`, by id.
pub async fn list_portfolios(
    records: &dyn RecordStore,
    subject: &str,
) -> Result<Vec<StoredPortfolio>, StoreError> {
    let scope = RecordScope::new(user(subject)?, PORTFOLIOS)?;
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = records
            .list(
                &scope,
                &gs_domain::ListQuery {
                    id_prefix: String::new(),
                    order: gs_domain::Order::Ascending,
                    limit: Some(200),
                    cursor: cursor.take(),
                },
            )
            .await?;
        for r in &page.records {
            out.push(
                serde_json::from_slice(&r.value)
                    .map_err(|e| StoreError::Corrupt(format!("portfolios/{}: {e}", r.id)))?,
            );
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}
