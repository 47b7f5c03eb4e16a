//! News and posts through the `RecordStore` port (system-owned records, so
//! both engines hold them alike):
//!
//! - `news/{SYMBOL}#{time ms, 13 digits}#{item id}` and
//!   `posts/...`: one record per (item, symbol) with the item as JSON, so a
//!   symbol's items in a window are one descending prefix listing. Items
//!   naming no symbol are filed under `_`.
//! - `news-ids/{item id}`, `post-ids/{item id}`: the dedupe marker, written
//!   `IfAbsent` in the same transaction as the item's records, so an item is
//!   stored once (and whole) however often it is imported.
//!
//! Items are written in transactions of up to 100 operations. A transaction
//! that meets an item already stored is retried item by item, so a re-import
//! stores only what is new. A failure part-way through leaves whole items
//! only, and running the same import again completes it.

use chrono::{DateTime, Utc};
use gs_domain::{
    ListQuery, MAX_TRANSACTION_BYTES, MAX_TRANSACTION_OPS, Order, Owner, RecordScope, RecordStore,
    StoreError, TxOp, WriteCondition, list_cursor,
};
use gs_sentiment::{ItemKind, NewsItem, Post};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The symbol items naming none are filed under.
pub const NO_SYMBOL: &str = "_";
/// Records one listing page asks for.
const PAGE: usize = 500;

/// An item that can be stored.
pub trait StoredItem: Serialize + DeserializeOwned + Send + Sync + Clone {
    const KIND: ItemKind;
    fn id(&self) -> &str;
    fn time(&self) -> DateTime<Utc>;
    fn tickers(&self) -> &[String];
}

impl StoredItem for NewsItem {
    const KIND: ItemKind = ItemKind::News;
    fn id(&self) -> &str {
        &self.id
    }
    fn time(&self) -> DateTime<Utc> {
        self.time
    }
    fn tickers(&self) -> &[String] {
        &self.tickers
    }
}

impl StoredItem for Post {
    const KIND: ItemKind = ItemKind::Post;
    fn id(&self) -> &str {
        &self.id
    }
    fn time(&self) -> DateTime<Utc> {
        self.time
    }
    fn tickers(&self) -> &[String] {
        &self.tickers
    }
}

fn collections(kind: ItemKind) -> (&'static str, &'static str) {
    match kind {
        ItemKind::News => ("news", "news-ids"),
        ItemKind::Post => ("posts", "post-ids"),
    }
}

fn time_key(t: DateTime<Utc>) -> String {
    format!("{:013}", t.timestamp_millis().max(0))
}

/// An item's key within a symbol's listing, `{ms:013}#{id}`: listings
/// (and page cursors) order items by it, newest first.
pub fn item_key<T: StoredItem>(item: &T) -> String {
    format!("{}#{}", time_key(item.time()), item.id())
}

fn index_id(symbol: &str, time: DateTime<Utc>, id: &str) -> String {
    format!("{symbol}#{}#{id}", time_key(time))
}

/// What a store call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreReport {
    pub stored: usize,
    /// Items whose id was stored before.
    pub already_stored: usize,
}

/// The dedupe marker: where the item's records are.
#[derive(Serialize, Deserialize)]
struct Marker {
    time: DateTime<Utc>,
    tickers: Vec<String>,
}

fn item_ops<T: StoredItem>(item: &T) -> Result<Vec<TxOp>, StoreError> {
    let (coll, ids) = collections(T::KIND);
    let scope = RecordScope::new(Owner::system(), coll)?;
    let id_scope = RecordScope::new(Owner::system(), ids)?;
    let value = serde_json::to_vec(item)
        .map_err(|e| StoreError::Invalid(format!("cannot encode item {}: {e}", item.id())))?;
    let marker = serde_json::to_vec(&Marker {
        time: item.time(),
        tickers: item.tickers().to_vec(),
    })
    .map_err(|e| StoreError::Invalid(format!("cannot encode item {}: {e}", item.id())))?;
    let mut ops = vec![TxOp::Put {
        key: id_scope.key(item.id())?,
        value: marker,
        condition: WriteCondition::IfAbsent,
        expires_at: None,
    }];
    let symbols: Vec<&str> = if item.tickers().is_empty() {
        vec![NO_SYMBOL]
    } else {
        item.tickers().iter().map(String::as_str).collect()
    };
    for s in symbols {
        ops.push(TxOp::Put {
            key: scope.key(&index_id(s, item.time(), item.id()))?,
            value: value.clone(),
            condition: WriteCondition::Always,
            expires_at: None,
        });
    }
    Ok(ops)
}

/// Stores items (each whole, once).
pub async fn store_items<T: StoredItem>(
    records: &dyn RecordStore,
    items: &[T],
) -> Result<StoreReport, StoreError> {
    let mut report = StoreReport::default();
    let mut batch: Vec<Vec<TxOp>> = Vec::new();
    let (mut ops_n, mut bytes) = (0usize, 0usize);
    for item in items {
        let ops = item_ops(item)?;
        let n = ops.len();
        let b: usize = ops.iter().map(TxOp::size_bytes).sum();
        if !batch.is_empty()
            && (ops_n.saturating_add(n) > MAX_TRANSACTION_OPS
                || bytes.saturating_add(b) > MAX_TRANSACTION_BYTES)
        {
            flush(records, std::mem::take(&mut batch), &mut report).await?;
            ops_n = 0;
            bytes = 0;
        }
        ops_n = ops_n.saturating_add(n);
        bytes = bytes.saturating_add(b);
        batch.push(ops);
    }
    if !batch.is_empty() {
        flush(records, batch, &mut report).await?;
    }
    Ok(report)
}

async fn flush(
    records: &dyn RecordStore,
    batch: Vec<Vec<TxOp>>,
    report: &mut StoreReport,
) -> Result<(), StoreError> {
    let count = batch.len();
    let all: Vec<TxOp> = batch.iter().flatten().cloned().collect();
    match records.transact(all).await {
        Ok(()) => {
            report.stored = report.stored.saturating_add(count);
            Ok(())
        }
        Err(StoreError::TransactionConflict { .. } | StoreError::Conflict(_)) => {
            for ops in batch {
                match records.transact(ops).await {
                    Ok(()) => report.stored = report.stored.saturating_add(1),
                    Err(
                        StoreError::TransactionConflict { op: 0, .. } | StoreError::Conflict(_),
                    ) => {
                        report.already_stored = report.already_stored.saturating_add(1);
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Walks the records of one symbol whose keys fall in `[start, end]` (to
/// the millisecond), newest first, until `visit` says stop; returns whether
/// it stopped with records left.
async fn walk<T: StoredItem>(
    records: &dyn RecordStore,
    symbol: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    mut visit: impl FnMut(&gs_domain::Record) -> Result<bool, StoreError>,
) -> Result<bool, StoreError> {
    let (coll, _) = collections(T::KIND);
    let scope = RecordScope::new(Owner::system(), coll)?;
    let prefix = format!("{symbol}#");
    // Just past `end`: ids of items at `end` sort below it.
    let just_after = end
        .checked_add_signed(chrono::TimeDelta::milliseconds(1))
        .unwrap_or(end);
    let after = format!("{prefix}{}", time_key(just_after));
    let start_key = format!("{prefix}{}", time_key(start));
    let mut cursor = Some(list_cursor(Order::Descending, &after));
    loop {
        let page = records
            .list(
                &scope,
                &ListQuery {
                    id_prefix: prefix.clone(),
                    order: Order::Descending,
                    limit: Some(PAGE),
                    cursor: cursor.take(),
                },
            )
            .await?;
        for r in &page.records {
            if r.id.as_str() < start_key.as_str() {
                return Ok(false);
            }
            if !visit(r)? {
                return Ok(true);
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(false),
        }
    }
}

/// Items of one symbol in `[start, end]`, newest first, at most `max`;
/// the flag says whether more were left.
pub async fn read_items<T: StoredItem>(
    records: &dyn RecordStore,
    symbol: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: usize,
) -> Result<(Vec<T>, bool), StoreError> {
    let (coll, _) = collections(T::KIND);
    let mut out: Vec<T> = Vec::new();
    let more = walk::<T>(records, symbol, start, end, |r| {
        if out.len() >= max {
            return Ok(false);
        }
        let item: T = serde_json::from_slice(&r.value)
            .map_err(|e| StoreError::Corrupt(format!("{coll}/{}: {e}", r.id)))?;
        // Keys hold whole milliseconds: the item's own time decides.
        if item.time() >= start && item.time() <= end {
            out.push(item);
        }
        Ok(true)
    })
    .await?;
    Ok((out, more))
}

/// How many items of one symbol fall in `[start, end]` (to the
/// millisecond), counting at most `max`, without decoding them.
pub async fn count_items<T: StoredItem>(
    records: &dyn RecordStore,
    symbol: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: usize,
) -> Result<usize, StoreError> {
    let mut n = 0usize;
    walk::<T>(records, symbol, start, end, |_| {
        n = n.saturating_add(1);
        Ok(n < max)
    })
    .await?;
    Ok(n)
}

/// One stored news item by id, through its marker (`None`: not stored).
pub async fn news_by_id(
    records: &dyn RecordStore,
    id: &str,
) -> Result<Option<NewsItem>, StoreError> {
    let ids = RecordScope::new(Owner::system(), "news-ids")?;
    let Some(marker) = records.get(&ids.key(id)?).await? else {
        return Ok(None);
    };
    let m: Marker = serde_json::from_slice(&marker.value)
        .map_err(|e| StoreError::Corrupt(format!("news-ids/{id}: {e}")))?;
    let symbol = m.tickers.first().map_or(NO_SYMBOL, String::as_str);
    let scope = RecordScope::new(Owner::system(), "news")?;
    let Some(rec) = records
        .get(&scope.key(&index_id(symbol, m.time, id))?)
        .await?
    else {
        return Ok(None);
    };
    serde_json::from_slice(&rec.value)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("news/{id}: {e}")))
}

/// True when any item of this kind is stored for the symbol.
pub async fn has_items(
    records: &dyn RecordStore,
    kind: ItemKind,
    symbol: &str,
) -> Result<bool, StoreError> {
    let (coll, _) = collections(kind);
    let scope = RecordScope::new(Owner::system(), coll)?;
    let page = records
        .list(
            &scope,
            &ListQuery {
                id_prefix: format!("{symbol}#"),
                order: Order::Descending,
                limit: Some(1),
                cursor: None,
            },
        )
        .await?;
    Ok(!page.records.is_empty())
}
