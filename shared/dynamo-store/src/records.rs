//! `RecordStore` on DynamoDB. Every write is one conditional `UpdateItem`
//! (versions and counters move in the same step as the condition that
//! guards them) or one `TransactWriteItems`; every read is consistent.
//!
//! Liveness is evaluated in the condition itself: a record is live when it
//! exists, is not a tombstone and its `exp` (ms) is after the caller's clock,
//! so an item DynamoDB's TTL has not removed yet still reads as absent.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ReturnValue, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use gs_domain::{
    Increment, ListQuery, MAX_PAGE_BYTES, Order, Record, RecordKey, RecordPage, RecordScope,
    RecordStore, StoreError, TxOp, WriteCondition, check_increment, check_record_value,
    check_transaction, condition_failure, list_cursor, list_page_limit, parse_list_cursor,
};

use crate::DynamoStore;
use crate::error::{corrupt, sdk};
use crate::table::{b, get_b, get_n, get_s, n, s};

type Item = HashMap<String, AttributeValue>;

const DOCUMENT: &str = "d";
const COUNTER: &str = "c";
const TOMBSTONE: &str = "t";
/// Attempts of an increment or a transaction whose optimistic branch (a live
/// counter, or a fresh window) was overtaken by another writer.
const MAX_ATTEMPTS: u32 = 16;

const LIVE: &str = "(attribute_exists(pk) AND k <> :tomb AND #exp > :now)";
const NOT_LIVE: &str = "(attribute_not_exists(pk) OR k = :tomb OR #exp <= :now)";

fn pk(scope: &RecordScope) -> String {
    format!("REC#{}#{}", scope.owner().as_str(), scope.collection())
}

fn item_key(key: &RecordKey) -> Item {
    HashMap::from([
        ("pk".to_string(), s(pk(key.scope()))),
        ("sk".to_string(), s(key.id())),
    ])
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn expiry_ms(expires_at: Option<DateTime<Utc>>) -> i64 {
    expires_at.map_or(i64::MAX, |t| t.timestamp_millis())
}

fn describe(key: &RecordKey) -> String {
    format!("record {:?} in {:?}", key.id(), key.collection())
}

/// What a stored item says, read back.
struct Stored {
    kind: String,
    version: u64,
    expires_ms: i64,
    item: Item,
}

impl Stored {
    fn of(item: Item) -> Result<Self, StoreError> {
        Ok(Self {
            kind: get_s(&item, "k")?.to_string(),
            version: get_n(&item, "v")?,
            expires_ms: get_n(&item, "exp")?,
            item,
        })
    }

    fn is_live(&self, now: i64) -> bool {
        self.kind != TOMBSTONE && now < self.expires_ms
    }

    fn counter(&self) -> Result<u64, StoreError> {
        get_n(&self.item, "c")
    }

    fn into_record(self, id: &str) -> Result<Record, StoreError> {
        let expires_at = (self.expires_ms != i64::MAX)
            .then(|| DateTime::<Utc>::from_timestamp_millis(self.expires_ms))
            .flatten();
        let value = match self.kind.as_str() {
            DOCUMENT => get_b(&self.item, "d")?.to_vec(),
            COUNTER => self.counter()?.to_string().into_bytes(),
            _ => return Err(corrupt("record kind")),
        };
        Ok(Record {
            id: id.to_string(),
            version: self.version,
            value,
            expires_at,
        })
    }
}

/// An `UpdateItem` (or its transaction twin) as parts: the update and
/// condition expressions and their values.
struct Write {
    update: String,
    condition: String,
    names: HashMap<String, String>,
    values: Item,
}

impl Write {
    fn new(update: &str, condition: &str, now: i64) -> Self {
        let mut values = HashMap::from([(":tomb".to_string(), s(TOMBSTONE))]);
        values.insert(":now".into(), n(now));
        Self {
            update: update.to_string(),
            condition: condition.to_string(),
            names: HashMap::from([("#exp".to_string(), "exp".to_string())]),
            values,
        }
    }

    fn value(mut self, name: &str, v: AttributeValue) -> Self {
        self.values.insert(name.to_string(), v);
        self
    }

    /// Only the placeholders the expressions use: DynamoDB refuses unused ones.
    fn used(mut self) -> Self {
        let text = format!("{} {}", self.update, self.condition);
        self.values.retain(|k, _| {
            text.match_indices(k.as_str()).any(|(at, _)| {
                !text
                    .get(at.saturating_add(k.len())..)
                    .and_then(|r| r.chars().next())
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        });
        self.names.retain(|k, _| text.contains(k.as_str()));
        self
    }
}

/// The condition a `WriteCondition` puts on an item.
fn condition_of(condition: WriteCondition) -> (&'static str, Option<u64>) {
    match condition {
        WriteCondition::Always => ("attribute_not_exists(pk) OR attribute_exists(pk)", None),
        WriteCondition::IfAbsent => (NOT_LIVE, None),
        WriteCondition::IfVersion(v) => (
            "(attribute_exists(pk) AND k <> :tomb AND #exp > :now AND v = :expected)",
            Some(v),
        ),
    }
}

fn ttl_seconds(expires_ms: i64) -> i64 {
    expires_ms.div_euclid(1000).saturating_add(1)
}

fn put_write(
    value: &[u8],
    condition: WriteCondition,
    expires_at: Option<DateTime<Utc>>,
    now: i64,
) -> Write {
    let exp = expiry_ms(expires_at);
    let (cond, expected) = condition_of(condition);
    let update = if exp == i64::MAX {
        "SET v = if_not_exists(v, :zero) + :one, k = :doc, d = :val, #exp = :exp REMOVE c, #ttl"
    } else {
        "SET v = if_not_exists(v, :zero) + :one, k = :doc, d = :val, #exp = :exp, #ttl = :ttl REMOVE c"
    };
    let mut w = Write::new(update, cond, now)
        .value(":zero", n(0))
        .value(":one", n(1))
        .value(":doc", s(DOCUMENT))
        .value(":val", b(value.to_vec()))
        .value(":exp", n(exp))
        .value(":ttl", n(ttl_seconds(exp)));
    w.names.insert("#ttl".into(), "ttl".into());
    if let Some(v) = expected {
        w = w.value(":expected", n(v));
    }
    w.used()
}

/// A delete keeps a tombstone with the last version, so versions continue.
fn delete_write(condition: WriteCondition, now: i64) -> Write {
    let (cond, expected) = match condition {
        WriteCondition::IfVersion(v) => (condition_of(condition).0, Some(v)),
        _ => ("attribute_not_exists(pk) OR attribute_exists(pk)", None),
    };
    let mut w = Write::new(
        "SET v = if_not_exists(v, :zero), k = :tomb, #exp = :never REMOVE d, c, #ttl",
        cond,
        now,
    )
    .value(":zero", n(0))
    .value(":never", n(i64::MAX));
    w.names.insert("#ttl".into(), "ttl".into());
    if let Some(v) = expected {
        w = w.value(":expected", n(v));
    }
    w.used()
}

/// Adds to a live counter, if that stays within the ceiling.
fn add_write(by: u64, ceiling: u64, now: i64) -> Write {
    match ceiling.checked_sub(by) {
        Some(most_before) => Write::new(
            "SET v = v + :one, c = c + :by",
            "(attribute_exists(pk) AND k = :counter AND #exp > :now AND c <= :most)",
            now,
        )
        .value(":one", n(1))
        .value(":by", n(by))
        .value(":counter", s(COUNTER))
        .value(":most", n(most_before))
        .used(),
        // Nothing can be added: a condition that never holds.
        None => Write::new(
            "SET v = v + :one",
            "attribute_not_exists(pk) AND attribute_exists(pk)",
            now,
        )
        .value(":one", n(1))
        .used(),
    }
}

/// Starts a counter's window where no live record is.
fn start_write(by: u64, window: Duration, now: i64) -> Write {
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
    let exp = now.saturating_add(window_ms);
    let mut w = Write::new(
        "SET v = if_not_exists(v, :zero) + :one, k = :counter, c = :by, #exp = :exp, #ttl = :ttl REMOVE d",
        NOT_LIVE,
        now,
    )
    .value(":zero", n(0))
    .value(":one", n(1))
    .value(":counter", s(COUNTER))
    .value(":by", n(by))
    .value(":exp", n(exp))
    .value(":ttl", n(ttl_seconds(exp)));
    w.names.insert("#ttl".into(), "ttl".into());
    w.used()
}

fn check_write(condition: WriteCondition, now: i64) -> Write {
    let (cond, expected) = condition_of(condition);
    let mut w = Write::new("", cond, now);
    if let Some(v) = expected {
        w = w.value(":expected", n(v));
    }
    w.used()
}

fn resets_at(expires_ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(expires_ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// How an increment inside a transaction is sent: as an add to the live
/// counter seen just before, or as a fresh window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branch {
    Add,
    Start,
}

impl DynamoStore {
    async fn read(&self, key: &RecordKey) -> Result<Option<Stored>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk("reading a record", e))?;
        out.item.map(Stored::of).transpose()
    }

    /// One conditional `UpdateItem`: `Ok(Some(new item))`, or `Ok(None)` if
    /// the condition failed.
    async fn update(&self, key: &RecordKey, w: Write) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key(key)))
            .update_expression(w.update)
            .condition_expression(w.condition)
            .set_expression_attribute_names((!w.names.is_empty()).then_some(w.names))
            .set_expression_attribute_values(Some(w.values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(o) => Ok(Some(o.attributes.unwrap_or_default())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(sdk("writing a record", e)),
        }
    }

    /// The live version at `key` now, for a failure message.
    async fn live_version(&self, key: &RecordKey) -> Result<Option<u64>, StoreError> {
        let now = now_ms();
        Ok(self
            .read(key)
            .await?
            .filter(|st| st.is_live(now))
            .map(|st| st.version))
    }

    async fn conflict(&self, key: &RecordKey, condition: WriteCondition) -> StoreError {
        let why = match self.live_version(key).await {
            Ok(live) => condition_failure(condition, live)
                .unwrap_or_else(|| "changed while it was written; read it again".into()),
            Err(e) => format!("did not match its condition ({e})"),
        };
        StoreError::Conflict(format!("{} {why}", describe(key)))
    }

    fn tx_item(&self, key: &RecordKey, w: Write) -> Result<TransactWriteItem, StoreError> {
        let names = (!w.names.is_empty()).then_some(w.names);
        if w.update.is_empty() {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(item_key(key)))
                .condition_expression(w.condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(Some(w.values))
                .build()
                .map_err(|e| StoreError::engine("building a transaction check", e))?;
            return Ok(TransactWriteItem::builder().condition_check(check).build());
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_key(key)))
            .update_expression(w.update)
            .condition_expression(w.condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(Some(w.values))
            .build()
            .map_err(|e| StoreError::engine("building a transaction write", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The branch each increment of `ops` takes, from a consistent read of
    /// its counter (`None` for operations that are not increments).
    async fn branches(&self, ops: &[TxOp]) -> Result<Vec<Option<Branch>>, StoreError> {
        let now = now_ms();
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            out.push(match op {
                TxOp::Increment { key, .. } => Some(match self.read(key).await? {
                    Some(st) if st.is_live(now) => {
                        if st.kind != COUNTER {
                            return Err(StoreError::Invalid(format!(
                                "{} holds a document, not a counter; increment another key",
                                describe(key)
                            )));
                        }
                        Branch::Add
                    }
                    _ => Branch::Start,
                }),
                _ => None,
            });
        }
        Ok(out)
    }

    /// Why operation `op` failed, read after the transaction was refused,
    /// or `None` when its increment branch no longer matches what is stored
    /// (another writer got in between: send the transaction again).
    async fn tx_failure(
        &self,
        op: &TxOp,
        branch: Option<Branch>,
    ) -> Result<Option<String>, StoreError> {
        let now = now_ms();
        let stored = self.read(op.key()).await?.filter(|st| st.is_live(now));
        let live = stored.as_ref().map(|st| st.version);
        let reason = match op {
            TxOp::Put { key, condition, .. }
            | TxOp::Delete { key, condition }
            | TxOp::Check { key, condition } => Some(format!(
                "{} {}",
                describe(key),
                condition_failure(*condition, live)
                    .unwrap_or_else(|| "changed while the transaction ran".into())
            )),
            TxOp::Increment {
                key, by, ceiling, ..
            } => match (branch, stored) {
                (Some(Branch::Add), Some(st)) if st.kind == COUNTER => {
                    let current = st.counter()?;
                    (current.checked_add(*by).is_none_or(|v| v > *ceiling)).then(|| {
                        format!(
                            "counter {} is at {current}; adding {by} would pass {ceiling}",
                            describe(key)
                        )
                    })
                }
                (Some(Branch::Start), None) if by > ceiling => Some(format!(
                    "counter {} is at 0; adding {by} would pass {ceiling}",
                    describe(key)
                )),
                _ => None,
            },
        };
        Ok(reason)
    }
}

#[async_trait]
impl RecordStore for DynamoStore {
    async fn get(&self, key: &RecordKey) -> Result<Option<Record>, StoreError> {
        let now = now_ms();
        self.read(key)
            .await?
            .filter(|st| st.is_live(now))
            .map(|st| st.into_record(key.id()))
            .transpose()
    }

    async fn put(
        &self,
        key: &RecordKey,
        value: &[u8],
        condition: WriteCondition,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        check_record_value(key, value)?;
        match self
            .update(key, put_write(value, condition, expires_at, now_ms()))
            .await?
        {
            Some(item) => get_n(&item, "v"),
            None => Err(self.conflict(key, condition).await),
        }
    }

    async fn delete(&self, key: &RecordKey, condition: WriteCondition) -> Result<bool, StoreError> {
        let now = now_ms();
        match condition {
            // Only checks absence: nothing to write either way.
            WriteCondition::IfAbsent => match self.live_version(key).await? {
                Some(_) => Err(self.conflict(key, condition).await),
                None => Ok(false),
            },
            WriteCondition::Always => {
                // Tombstone a live record; report whether there was one.
                let w = Write::new("SET k = :tomb, #exp = :never REMOVE d, c, #ttl", LIVE, now)
                    .value(":never", n(i64::MAX));
                let mut w = w;
                w.names.insert("#ttl".into(), "ttl".into());
                Ok(self.update(key, w.used()).await?.is_some())
            }
            WriteCondition::IfVersion(_) => {
                match self.update(key, delete_write(condition, now)).await? {
                    Some(_) => Ok(true),
                    None => Err(self.conflict(key, condition).await),
                }
            }
        }
    }

    async fn increment(
        &self,
        key: &RecordKey,
        by: u64,
        ceiling: u64,
        window: Duration,
    ) -> Result<Increment, StoreError> {
        check_increment(by, window)?;
        for _ in 0..MAX_ATTEMPTS {
            let now = now_ms();
            // The common case first: a live counter with room.
            if let Some(item) = self.update(key, add_write(by, ceiling, now)).await? {
                return Ok(Increment::Applied {
                    value: get_n(&item, "c")?,
                    resets_at: resets_at(get_n(&item, "exp")?),
                });
            }
            match self.read(key).await? {
                Some(st) if st.is_live(now_ms()) => {
                    if st.kind != COUNTER {
                        return Err(StoreError::Invalid(format!(
                            "{} holds a document, not a counter; increment another key",
                            describe(key)
                        )));
                    }
                    let current = st.counter()?;
                    if current.checked_add(by).is_none_or(|v| v > ceiling) {
                        return Ok(Increment::Refused {
                            current,
                            resets_at: resets_at(st.expires_ms),
                        });
                    }
                    // It had room after all (its window restarted between the
                    // two calls): add again.
                }
                _ => {
                    if by > ceiling {
                        let window_ms =
                            i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
                        return Ok(Increment::Refused {
                            current: 0,
                            resets_at: resets_at(now.saturating_add(window_ms)),
                        });
                    }
                    if let Some(item) = self.update(key, start_write(by, window, now)).await? {
                        return Ok(Increment::Applied {
                            value: get_n(&item, "c")?,
                            resets_at: resets_at(get_n(&item, "exp")?),
                        });
                    }
                    // Another caller started the window first: add to it.
                }
            }
        }
        Err(StoreError::Unavailable(format!(
            "counter {} kept changing under contention; try again",
            describe(key)
        )))
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        for _ in 0..MAX_ATTEMPTS {
            let branches = self.branches(&ops).await?;
            let now = now_ms();
            let mut items = Vec::with_capacity(ops.len());
            for (op, branch) in ops.iter().zip(&branches) {
                let w = match op {
                    TxOp::Put {
                        value,
                        condition,
                        expires_at,
                        ..
                    } => put_write(value, *condition, *expires_at, now),
                    TxOp::Delete { condition, .. } => delete_write(*condition, now),
                    TxOp::Check { condition, .. } => check_write(*condition, now),
                    TxOp::Increment {
                        by,
                        ceiling,
                        window,
                        ..
                    } => match branch {
                        Some(Branch::Add) => add_write(*by, *ceiling, now),
                        _ if by > ceiling => add_write(*by, *ceiling, now),
                        _ => start_write(*by, *window, now),
                    },
                };
                items.push(self.tx_item(op.key(), w)?);
            }
            let out = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            let err = match out {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) =
                err.as_service_error()
            else {
                return Err(sdk("writing a transaction", err));
            };
            let codes: Vec<&str> = cancel
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            let Some(op) = codes.iter().position(|c| *c == "ConditionalCheckFailed") else {
                if codes.contains(&"TransactionConflict") {
                    // Another transaction held one of the items: try again.
                    continue;
                }
                if codes.contains(&"ThrottlingError") {
                    return Err(StoreError::Throttled(
                        "DynamoDB throttled the transaction; try again shortly".into(),
                    ));
                }
                return Err(sdk("writing a transaction", err));
            };
            let (Some(failed), Some(branch)) = (ops.get(op), branches.get(op)) else {
                return Err(sdk("writing a transaction", err));
            };
            if let Some(reason) = self.tx_failure(failed, *branch).await? {
                return Err(StoreError::TransactionConflict { op, reason });
            }
        }
        Err(StoreError::Unavailable(
            "the records of this transaction kept changing under contention; try again".into(),
        ))
    }

    async fn list(&self, scope: &RecordScope, query: &ListQuery) -> Result<RecordPage, StoreError> {
        let limit = list_page_limit(query);
        if limit == 0 {
            return Ok(RecordPage::default());
        }
        let after = query
            .cursor
            .as_deref()
            .map(|c| parse_list_cursor(c, query))
            .transpose()?;
        let partition = pk(scope);
        let mut start_key = after.map(|id| {
            HashMap::from([
                ("pk".to_string(), s(partition.clone())),
                ("sk".to_string(), s(id)),
            ])
        });
        let now = now_ms();
        let (mut records, mut bytes) = (Vec::new(), 0usize);
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .scan_index_forward(query.order == Order::Ascending)
                .expression_attribute_values(":pk", s(partition.clone()))
                .limit(
                    i32::try_from(limit.saturating_sub(records.len()).saturating_add(1))
                        .unwrap_or(i32::MAX),
                )
                .set_exclusive_start_key(start_key.take());
            q = if query.id_prefix.is_empty() {
                q.key_condition_expression("pk = :pk")
            } else {
                q.key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(query.id_prefix.clone()))
            };
            let page = q.send().await.map_err(|e| sdk("listing records", e))?;
            let mut last_id: Option<String> = None;
            for item in page.items() {
                if records.len() >= limit || bytes >= MAX_PAGE_BYTES {
                    // More exist past what this page keeps.
                    let next_cursor = records
                        .last()
                        .map(|r: &Record| list_cursor(query.order, &r.id))
                        .or_else(|| last_id.as_deref().map(|id| list_cursor(query.order, id)));
                    return Ok(RecordPage {
                        records,
                        next_cursor,
                    });
                }
                let id = get_s(item, "sk")?.to_string();
                let stored = Stored::of(item.clone())?;
                if stored.is_live(now) {
                    let record = stored.into_record(&id)?;
                    bytes = bytes.saturating_add(record.value.len());
                    records.push(record);
                }
                last_id = Some(id);
            }
            match page.last_evaluated_key() {
                Some(last) => {
                    if records.len() >= limit || bytes >= MAX_PAGE_BYTES {
                        let id = get_s(last, "sk")?;
                        return Ok(RecordPage {
                            next_cursor: Some(list_cursor(query.order, id)),
                            records,
                        });
                    }
                    start_key = Some(last.clone());
                }
                None => {
                    return Ok(RecordPage {
                        records,
                        next_cursor: None,
                    });
                }
            }
        }
    }
}
