//! Portfolios, orders and fills through the `RecordStore` port, owned by the
//! caller (`Owner::user(subject)`): another user's records are under another
//! owner, so they cannot be read or written by guessing ids.
//!
//! - `portfolios/{portfolio id}`: the portfolio (settings, ledger, cash
//!   flows and the ids of its open orders). Every change to the ledger or
//!   the open orders is a transaction conditioned on the portfolio's
//!   version, so two writers never both spend the same cash.
//! - `orders/{portfolio id}#{order id}`: one order with its request.
//! - `order-keys/{portfolio id}#{key hash}`: the idempotency key's marker,
//!   put `IfAbsent` in the same transaction as the order. The order id is
//!   derived from the portfolio and the key, so racing repeats of one key
//!   write the same records and exactly one transaction succeeds; the others
//!   read the first order back.
//! - `fills/{portfolio id}#{bar time ms, 15 digits}#{order id}`: one fill,
//!   at most one per order and bar, written with the ledger change.

use chrono::{DateTime, Utc};
use gs_domain::{
    ListQuery, Order as ListOrder, Owner, Record, RecordKey, RecordScope, RecordStore, StoreError,
    TxOp, WriteCondition,
};
use gs_portfolio::Decimal;
use gs_portfolio::book::{TimedFill, TrackedOrder};
use gs_portfolio::paper::{CostModel, Ledger, Refusal, RiskLimits};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const PORTFOLIOS: &str = "portfolios";
pub const ORDERS: &str = "orders";
pub const ORDER_KEYS: &str = "order-keys";
pub const FILLS: &str = "fills";

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

/// The portfolio id an idempotency key gives a subject: a hash, so it says
/// nothing about its owner, and the same creation repeated is the same id.
pub fn portfolio_id(subject: &str, idempotency_key: &str) -> String {
    format!("pf_{}", hex16(&format!("{subject}\u{1f}{idempotency_key}")))
}

/// Money moved in (positive) or out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CashFlow {
    pub time: DateTime<Utc>,
    pub amount: Decimal,
}

/// A portfolio as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPortfolio {
    pub id: String,
    pub name: String,
    /// ISO 4217 code of the base currency.
    pub base_currency: String,
    pub idempotency_key: String,
    /// The creation request (canonical JSON), to tell a repeat from a reuse.
    pub request: String,
    pub ledger: Ledger,
    pub limits: RiskLimits,
    pub cost: CostModel,
    /// The bars orders fill against.
    pub fill_timeframe: String,
    /// Ids of the open orders, in placement order.
    pub open_orders: Vec<String>,
    pub flows: Vec<CashFlow>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Where an imported history starts (performance is replayed from
    /// there); `None`: at `created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// An imported history's fills are still being written: the portfolio
    /// is not shown until they all are (see [`finish_import`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub importing: bool,
}

/// A stored order with what was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredOrder {
    pub tracked: TrackedOrder,
    pub idempotency_key: String,
    /// The request as the caller sent it (canonical JSON), to tell a repeat
    /// from a different order under a reused key.
    pub request: String,
    /// Why the pre-trade checks (or the broker) refused it (status `rejected`).
    pub refusal: Option<Refusal>,
    pub updated_at: DateTime<Utc>,
    /// A live order's side at the broker (`None`: a paper order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveOrder>,
}

/// Where a live order stands at its broker, as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveOrder {
    /// `alpaca`.
    pub broker: String,
    /// The id the broker was given, derived from the order id: the broker
    /// accepts it once, so resubmitting after a lost answer is safe.
    pub client_order_id: String,
    /// The broker's id (`None`: not yet acknowledged).
    pub broker_order_id: Option<String>,
    /// The broker's status word (`pending_submit` before it answered).
    pub broker_status: String,
    pub synced_at: DateTime<Utc>,
}

/// A stored fill.
pub type StoredFill = TimedFill;

fn user(subject: &str) -> Result<Owner, StoreError> {
    Owner::user(subject)
}

fn key(subject: &str, collection: &str, id: &str) -> Result<RecordKey, StoreError> {
    RecordScope::new(user(subject)?, collection)?.key(id)
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Invalid(format!("cannot encode {what}: {e}")))
}

fn decode<T: DeserializeOwned>(collection: &str, r: &Record) -> Result<T, StoreError> {
    serde_json::from_slice(&r.value)
        .map_err(|e| StoreError::Corrupt(format!("{collection}/{}: {e}", r.id)))
}

fn portfolio_key(subject: &str, id: &str) -> Result<RecordKey, StoreError> {
    key(subject, PORTFOLIOS, id)
}

fn order_key(subject: &str, portfolio: &str, order: &str) -> Result<RecordKey, StoreError> {
    key(subject, ORDERS, &format!("{portfolio}#{order}"))
}

fn marker_key(subject: &str, portfolio: &str, idem: &str) -> Result<RecordKey, StoreError> {
    key(subject, ORDER_KEYS, &format!("{portfolio}#{}", hex16(idem)))
}

/// The record id of a fill.
pub fn fill_id(portfolio: &str, fill: &StoredFill) -> String {
    let ms = u64::try_from(fill.time.timestamp_millis()).unwrap_or(0);
    format!("{portfolio}#{ms:015}#{}", fill.fill.order_id)
}

/// What a write that may repeat did.
#[derive(Debug, Clone, PartialEq)]
pub enum Written<T> {
    /// This call stored it.
    Created(T),
    /// The same request was already stored under this key (returned unchanged).
    Repeat(T),
    /// The key was used for a different request (the stored one).
    KeyReused(T),
    /// The portfolio changed since it was read: read again and retry.
    Stale,
}

/// Stores a new portfolio once per idempotency key.
pub async fn create_portfolio(
    records: &dyn RecordStore,
    subject: &str,
    portfolio: &StoredPortfolio,
) -> Result<Written<StoredPortfolio>, StoreError> {
    let k = portfolio_key(subject, &portfolio.id)?;
    match records
        .put(
            &k,
            &encode("the portfolio", portfolio)?,
            WriteCondition::IfAbsent,
            None,
        )
        .await
    {
        Ok(_) => Ok(Written::Created(portfolio.clone())),
        Err(e) if e.is_conflict() => {
            let (first, _) = get_portfolio(records, subject, &portfolio.id)
                .await?
                .ok_or(e)?;
            Ok(if first.request == portfolio.request {
                Written::Repeat(first)
            } else {
                Written::KeyReused(first)
            })
        }
        Err(e) => Err(e),
    }
}

/// One of `subject`'s portfolios with its version (`None`: not theirs, or
/// not stored).
pub async fn get_portfolio(
    records: &dyn RecordStore,
    subject: &str,
    id: &str,
) -> Result<Option<(StoredPortfolio, u64)>, StoreError> {
    match records.get(&portfolio_key(subject, id)?).await? {
        Some(r) => Ok(Some((decode(PORTFOLIOS, &r)?, r.version))),
        None => Ok(None),
    }
}

async fn list_all<T: DeserializeOwned>(
    records: &dyn RecordStore,
    scope: &RecordScope,
    prefix: &str,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = records
            .list(
                scope,
                &ListQuery {
                    id_prefix: prefix.to_string(),
                    order: ListOrder::Ascending,
                    limit: Some(500),
                    cursor: cursor.take(),
                },
            )
            .await?;
        for r in &page.records {
            out.push(decode(scope.collection(), r)?);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Every portfolio of `subject`, by id.
pub async fn list_portfolios(
    records: &dyn RecordStore,
    subject: &str,
) -> Result<Vec<StoredPortfolio>, StoreError> {
    list_all(records, &RecordScope::new(user(subject)?, PORTFOLIOS)?, "").await
}

/// Stores `order` under its idempotency key, once. An open order joins the
/// portfolio's open orders in the same transaction, conditioned on the
/// `version` the checks read (`after` is the portfolio with it added); a
/// rejection leaves the portfolio alone. A repeat of the key (also a
/// concurrent one) returns the first order.
pub async fn place(
    records: &dyn RecordStore,
    subject: &str,
    after: Option<(&StoredPortfolio, u64)>,
    portfolio_id: &str,
    order: &StoredOrder,
) -> Result<Written<StoredOrder>, StoreError> {
    let id = &order.tracked.order.id;
    let mut ops = vec![
        TxOp::Put {
            key: marker_key(subject, portfolio_id, &order.idempotency_key)?,
            value: id.clone().into_bytes(),
            condition: WriteCondition::IfAbsent,
            expires_at: None,
        },
        TxOp::Put {
            key: order_key(subject, portfolio_id, id)?,
            value: encode("the order", order)?,
            condition: WriteCondition::IfAbsent,
            expires_at: None,
        },
    ];
    if let Some((portfolio, version)) = after {
        ops.push(TxOp::Put {
            key: portfolio_key(subject, portfolio_id)?,
            value: encode("the portfolio", portfolio)?,
            condition: WriteCondition::IfVersion(version),
            expires_at: None,
        });
    }
    match records.transact(ops).await {
        Ok(()) => Ok(Written::Created(order.clone())),
        Err(e) if e.is_conflict() => {
            let marker = records
                .get(&marker_key(subject, portfolio_id, &order.idempotency_key)?)
                .await?;
            if marker.is_none() {
                return Ok(Written::Stale);
            }
            let first = get_order(records, subject, portfolio_id, id)
                .await?
                .ok_or_else(|| {
                    StoreError::Conflict(
                        "the idempotency key's order is still being written; retry".into(),
                    )
                })?;
            Ok(if first.request == order.request {
                Written::Repeat(first)
            } else {
                Written::KeyReused(first)
            })
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
    match records
        .get(&order_key(subject, portfolio_id, order_id)?)
        .await?
    {
        Some(r) => decode(ORDERS, &r).map(Some),
        None => Ok(None),
    }
}

/// Replaces a stored order (a live order's broker state changed).
pub async fn update_order(
    records: &dyn RecordStore,
    subject: &str,
    portfolio_id: &str,
    order: &StoredOrder,
) -> Result<(), StoreError> {
    records
        .put(
            &order_key(subject, portfolio_id, &order.tracked.order.id)?,
            &encode("the order", order)?,
            WriteCondition::Always,
            None,
        )
        .await
        .map(|_| ())
}

/// Every order of a portfolio (by id).
pub async fn list_orders(
    records: &dyn RecordStore,
    subject: &str,
    portfolio_id: &str,
) -> Result<Vec<StoredOrder>, StoreError> {
    list_all(
        records,
        &RecordScope::new(user(subject)?, ORDERS)?,
        &format!("{portfolio_id}#"),
    )
    .await
}

/// Every fill of a portfolio, oldest first.
pub async fn list_fills(
    records: &dyn RecordStore,
    subject: &str,
    portfolio_id: &str,
) -> Result<Vec<StoredFill>, StoreError> {
    list_all(
        records,
        &RecordScope::new(user(subject)?, FILLS)?,
        &format!("{portfolio_id}#"),
    )
    .await
}

/// Writes a settlement or a cancellation: the portfolio (if its version is
/// still `version`), the changed orders and the new fills, all or nothing.
/// `Ok(false)`: the portfolio changed meanwhile (nothing written).
pub async fn commit(
    records: &dyn RecordStore,
    subject: &str,
    portfolio: &StoredPortfolio,
    version: u64,
    orders: &[StoredOrder],
    fills: &[StoredFill],
) -> Result<bool, StoreError> {
    let mut ops = vec![TxOp::Put {
        key: portfolio_key(subject, &portfolio.id)?,
        value: encode("the portfolio", portfolio)?,
        condition: WriteCondition::IfVersion(version),
        expires_at: None,
    }];
    for o in orders {
        ops.push(TxOp::Put {
            key: order_key(subject, &portfolio.id, &o.tracked.order.id)?,
            value: encode("the order", o)?,
            condition: WriteCondition::Always,
            expires_at: None,
        });
    }
    for f in fills {
        ops.push(TxOp::Put {
            key: key(subject, FILLS, &fill_id(&portfolio.id, f))?,
            value: encode("the fill", f)?,
            condition: WriteCondition::IfAbsent,
            expires_at: None,
        });
    }
    match records.transact(ops).await {
        Ok(()) => Ok(true),
        Err(e) if e.is_conflict() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Most writes in one transaction of [`put_fills`].
const FILL_BATCH: usize = 25;

/// Writes an imported history's fills (their ids are fixed by the
/// portfolio, time and line, so a repeat writes the same records).
pub async fn put_fills(
    records: &dyn RecordStore,
    subject: &str,
    portfolio: &str,
    fills: &[StoredFill],
) -> Result<(), StoreError> {
    for chunk in fills.chunks(FILL_BATCH) {
        let mut ops = Vec::with_capacity(chunk.len());
        for f in chunk {
            ops.push(TxOp::Put {
                key: key(subject, FILLS, &fill_id(portfolio, f))?,
                value: encode("the fill", f)?,
                condition: WriteCondition::Always,
                expires_at: None,
            });
        }
        records.transact(ops).await?;
    }
    Ok(())
}

/// Marks an imported portfolio whole once its fills are written (a second
/// finisher finds it done). Returns the portfolio as stored.
pub async fn finish_import(
    records: &dyn RecordStore,
    subject: &str,
    id: &str,
) -> Result<StoredPortfolio, StoreError> {
    for _ in 0..8 {
        let Some((mut p, version)) = get_portfolio(records, subject, id).await? else {
            return Err(StoreError::Invalid(format!(
                "portfolio {id} vanished while it was imported"
            )));
        };
        if !p.importing {
            return Ok(p);
        }
        p.importing = false;
        match records
            .put(
                &portfolio_key(subject, id)?,
                &encode("the portfolio", &p)?,
                WriteCondition::IfVersion(version),
                None,
            )
            .await
        {
            Ok(_) => return Ok(p),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Invalid(format!(
        "portfolio {id} kept changing while its import was finished"
    )))
}
