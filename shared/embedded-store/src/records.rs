//! `RecordStore` on redb. Every operation is one write (or read)
//! transaction; redb runs one writer at a time, so a condition and the write
//! it guards can never be separated by another writer.

use std::ops::Bound;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gs_domain::{
    Increment, ListQuery, MAX_PAGE_BYTES, Order, Record, RecordKey, RecordPage, RecordScope,
    RecordStore, StoreError, TxOp, WriteCondition, check_increment, check_record_value,
    check_transaction, condition_failure, list_cursor, list_page_limit, parse_list_cursor,
};
use redb::{ReadableDatabase, ReadableTable, Table};

use crate::codec::{Stored, StoredRecord};
use crate::store::{EmbeddedStore, RECORDS, engine};

type Records<'t> = Table<'t, (&'static str, &'static str, &'static str), &'static [u8]>;

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn expiry_ms(expires_at: Option<DateTime<Utc>>) -> i64 {
    expires_at.map_or(i64::MAX, |t| t.timestamp_millis())
}

fn read(table: &Records<'_>, key: &RecordKey) -> Result<Option<StoredRecord>, StoreError> {
    table
        .get((key.owner().as_str(), key.collection(), key.id()))
        .map_err(engine("reading a record"))?
        .map(|v| StoredRecord::decode(v.value()))
        .transpose()
}

fn write(
    table: &mut Records<'_>,
    key: &RecordKey,
    record: &StoredRecord,
) -> Result<(), StoreError> {
    table
        .insert(
            (key.owner().as_str(), key.collection(), key.id()),
            record.encode().as_slice(),
        )
        .map_err(engine("writing a record"))?;
    Ok(())
}

fn describe(key: &RecordKey) -> String {
    format!("record {:?} in {:?}", key.id(), key.collection())
}

/// The version after `stored`: tombstones and expired rows count, so
/// versions never restart.
fn next_version(key: &RecordKey, stored: Option<&StoredRecord>) -> Result<u64, StoreError> {
    match stored {
        None => Ok(1),
        Some(s) => s.version.checked_add(1).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} has version {}, which cannot grow",
                describe(key),
                s.version
            ))
        }),
    }
}

/// An operation's outcome when its condition fails: the reason, for the
/// caller to wrap as `Conflict` or `TransactionConflict`.
enum Applied<T> {
    Done(T),
    Failed(String),
}

fn put_in(
    table: &mut Records<'_>,
    key: &RecordKey,
    value: &[u8],
    condition: WriteCondition,
    expires_at: Option<DateTime<Utc>>,
    now: i64,
) -> Result<Applied<u64>, StoreError> {
    let stored = read(table, key)?;
    let live = stored
        .as_ref()
        .filter(|s| s.is_live(now))
        .map(|s| s.version);
    if let Some(why) = condition_failure(condition, live) {
        return Ok(Applied::Failed(why));
    }
    let version = next_version(key, stored.as_ref())?;
    let record = StoredRecord {
        version,
        expires_ms: expiry_ms(expires_at),
        body: Stored::Document(value.to_vec()),
    };
    write(table, key, &record)?;
    Ok(Applied::Done(version))
}

fn delete_in(
    table: &mut Records<'_>,
    key: &RecordKey,
    condition: WriteCondition,
    now: i64,
) -> Result<Applied<bool>, StoreError> {
    let Some(stored) = read(table, key)?.filter(|s| s.is_live(now)) else {
        return Ok(match condition {
            WriteCondition::IfVersion(_) => {
                Applied::Failed(condition_failure(condition, None).unwrap_or_default())
            }
            WriteCondition::Always | WriteCondition::IfAbsent => Applied::Done(false),
        });
    };
    if let Some(why) = condition_failure(condition, Some(stored.version)) {
        return Ok(Applied::Failed(why));
    }
    // The tombstone keeps the deleted version: the next write continues it.
    let tombstone = StoredRecord {
        version: stored.version,
        expires_ms: i64::MAX,
        body: Stored::Tombstone,
    };
    write(table, key, &tombstone)?;
    Ok(Applied::Done(true))
}

fn check_in(
    table: &Records<'_>,
    key: &RecordKey,
    condition: WriteCondition,
    now: i64,
) -> Result<Applied<()>, StoreError> {
    let live = read(table, key)?
        .filter(|s| s.is_live(now))
        .map(|s| s.version);
    Ok(match condition_failure(condition, live) {
        Some(why) => Applied::Failed(why),
        None => Applied::Done(()),
    })
}

fn increment_in(
    table: &mut Records<'_>,
    key: &RecordKey,
    by: u64,
    ceiling: u64,
    window: Duration,
    now: i64,
) -> Result<Increment, StoreError> {
    let stored = read(table, key)?;
    let (current, expires_ms) = match stored.as_ref().filter(|s| s.is_live(now)) {
        Some(StoredRecord {
            body: Stored::Counter(n),
            expires_ms,
            ..
        }) => (*n, *expires_ms),
        Some(_) => {
            return Err(StoreError::Invalid(format!(
                "{} holds a document, not a counter; increment another key",
                describe(key)
            )));
        }
        None => {
            let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
            (0, now.saturating_add(window_ms))
        }
    };
    let resets_at =
        DateTime::<Utc>::from_timestamp_millis(expires_ms).unwrap_or(DateTime::<Utc>::MAX_UTC);
    match current.checked_add(by).filter(|n| *n <= ceiling) {
        None => Ok(Increment::Refused { current, resets_at }),
        Some(value) => {
            let record = StoredRecord {
                version: next_version(key, stored.as_ref())?,
                expires_ms,
                body: Stored::Counter(value),
            };
            write(table, key, &record)?;
            Ok(Increment::Applied { value, resets_at })
        }
    }
}

/// The smallest string above every string that starts with `prefix`, or
/// `None` when there is none (the prefix is empty or all `char::MAX`).
/// UTF-8 byte order is code point order, so bumping the last char that can
/// grow gives the bound.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next =
            (u32::from(last).saturating_add(1)..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[async_trait]
impl RecordStore for EmbeddedStore {
    async fn get(&self, key: &RecordKey) -> Result<Option<Record>, StoreError> {
        let key = key.clone();
        self.blocking(move |store| {
            let txn = store.db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(RECORDS).map_err(engine("opening records"))?;
            let stored = table
                .get((key.owner().as_str(), key.collection(), key.id()))
                .map_err(engine("reading a record"))?
                .map(|v| StoredRecord::decode(v.value()))
                .transpose()?;
            Ok(stored
                .filter(|s| s.is_live(now_ms()))
                .map(|s| s.into_record(key.id())))
        })
        .await
    }

    async fn put(
        &self,
        key: &RecordKey,
        value: &[u8],
        condition: WriteCondition,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        check_record_value(key, value)?;
        let (key, value) = (key.clone(), value.to_vec());
        self.write(move |table| {
            match put_in(table, &key, &value, condition, expires_at, now_ms())? {
                Applied::Done(v) => Ok(v),
                Applied::Failed(why) => {
                    Err(StoreError::Conflict(format!("{} {why}", describe(&key))))
                }
            }
        })
        .await
    }

    async fn delete(&self, key: &RecordKey, condition: WriteCondition) -> Result<bool, StoreError> {
        let key = key.clone();
        self.write(
            move |table| match delete_in(table, &key, condition, now_ms())? {
                Applied::Done(existed) => Ok(existed),
                Applied::Failed(why) => {
                    Err(StoreError::Conflict(format!("{} {why}", describe(&key))))
                }
            },
        )
        .await
    }

    async fn increment(
        &self,
        key: &RecordKey,
        by: u64,
        ceiling: u64,
        window: Duration,
    ) -> Result<Increment, StoreError> {
        check_increment(by, window)?;
        let key = key.clone();
        self.write(move |table| increment_in(table, &key, by, ceiling, window, now_ms()))
            .await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError> {
        check_transaction(&ops)?;
        self.write(move |table| {
            // One clock reading for the whole transaction: every operation
            // sees the same set of live records.
            let now = now_ms();
            for (op, tx) in ops.iter().enumerate() {
                let failed = match tx {
                    TxOp::Put {
                        key,
                        value,
                        condition,
                        expires_at,
                    } => match put_in(table, key, value, *condition, *expires_at, now)? {
                        Applied::Done(_) => None,
                        Applied::Failed(why) => Some(format!("{} {why}", describe(key))),
                    },
                    TxOp::Delete { key, condition } => {
                        match delete_in(table, key, *condition, now)? {
                            Applied::Done(_) => None,
                            Applied::Failed(why) => Some(format!("{} {why}", describe(key))),
                        }
                    }
                    TxOp::Check { key, condition } => {
                        match check_in(table, key, *condition, now)? {
                            Applied::Done(()) => None,
                            Applied::Failed(why) => Some(format!("{} {why}", describe(key))),
                        }
                    }
                    TxOp::Increment {
                        key,
                        by,
                        ceiling,
                        window,
                    } => match increment_in(table, key, *by, *ceiling, *window, now)? {
                        Increment::Applied { .. } => None,
                        Increment::Refused { current, .. } => Some(format!(
                            "counter {} is at {current}; adding {by} would pass {ceiling}",
                            describe(key)
                        )),
                    },
                };
                // Returning an error drops the write transaction uncommitted,
                // which undoes the operations before this one.
                if let Some(reason) = failed {
                    return Err(StoreError::TransactionConflict { op, reason });
                }
            }
            Ok(())
        })
        .await
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
        let (scope, prefix, order) = (scope.clone(), query.id_prefix.clone(), query.order);
        self.blocking(move |store| {
            let txn = store.db.begin_read().map_err(engine("beginning a read"))?;
            let table = txn.open_table(RECORDS).map_err(engine("opening records"))?;
            let (owner, collection) = (scope.owner().as_str(), scope.collection());
            // Collection names are ASCII without NUL, so appending one gives
            // a name above every id of this collection.
            let collection_end = format!("{collection}\0");
            let end = prefix_end(&prefix);
            let upper_of_prefix = match &end {
                Some(e) => Bound::Excluded((owner, collection, e.as_str())),
                None => Bound::Excluded((owner, collection_end.as_str(), "")),
            };
            let (lower, upper) = match (order, &after) {
                (Order::Ascending, Some(a)) => (
                    Bound::Excluded((owner, collection, a.as_str())),
                    upper_of_prefix,
                ),
                (Order::Descending, Some(a)) => (
                    Bound::Included((owner, collection, prefix.as_str())),
                    Bound::Excluded((owner, collection, a.as_str())),
                ),
                (_, None) => (
                    Bound::Included((owner, collection, prefix.as_str())),
                    upper_of_prefix,
                ),
            };
            let range = table
                .range::<(&str, &str, &str)>((lower, upper))
                .map_err(engine("scanning records"))?;
            let entries: Box<dyn Iterator<Item = _>> = match order {
                Order::Ascending => Box::new(range),
                Order::Descending => Box::new(range.rev()),
            };
            let now = now_ms();
            let (mut records, mut bytes, mut more) = (Vec::new(), 0usize, false);
            for entry in entries {
                let (k, v) = entry.map_err(engine("scanning records"))?;
                if records.len() >= limit || bytes >= MAX_PAGE_BYTES {
                    more = true;
                    break;
                }
                let stored = StoredRecord::decode(v.value())?;
                if stored.is_live(now) {
                    let record = stored.into_record(k.value().2);
                    bytes = bytes.saturating_add(record.value.len());
                    records.push(record);
                }
            }
            let next_cursor = more
                .then(|| records.last().map(|r: &Record| list_cursor(order, &r.id)))
                .flatten();
            Ok(RecordPage {
                records,
                next_cursor,
            })
        })
        .await
    }
}

impl EmbeddedStore {
    /// One write transaction around `job`; an error aborts it.
    async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Records<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.blocking(move |store| {
            let txn = store
                .db
                .begin_write()
                .map_err(engine("beginning a write"))?;
            let out = {
                let mut table = txn.open_table(RECORDS).map_err(engine("opening records"))?;
                job(&mut table)?
            };
            txn.commit().map_err(engine("committing records"))?;
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_above_every_extension() {
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        let max = char::MAX.to_string();
        assert_eq!(prefix_end(&format!("a{max}")).as_deref(), Some("b"));
        assert_eq!(prefix_end(&max), None);
        // The surrogate gap is skipped.
        assert_eq!(prefix_end("\u{d7ff}").as_deref(), Some("\u{e000}"));
    }
}
