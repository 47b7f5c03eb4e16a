//! The `RecordStore` port: small application documents (portfolios, alerts,
//! settings, rate-limit counters, idempotency keys) owned by one caller or by
//! the server, with versions, TTLs, counters and transactions that map one to
//! one onto DynamoDB (`GetItem`/`PutItem`/`DeleteItem` with conditions,
//! `UpdateItem ADD`, `TransactWriteItems`, `Query` on the key prefix).
//!
//! Consistency: every read is strongly consistent (DynamoDB
//! `ConsistentRead`), so a read that starts after a write returned sees it.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Order, StoreError};

/// Largest record value (bytes). Leaves room for the key and attributes in
/// DynamoDB's 400 KB item; every engine refuses more with `TooLarge`.
pub const MAX_RECORD_VALUE_BYTES: usize = 350 * 1024;
/// Most operations in one `transact` call (DynamoDB's limit).
pub const MAX_TRANSACTION_OPS: usize = 100;
/// Most bytes (keys plus values) in one `transact` call (DynamoDB's limit).
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// Most records in one `list` page.
pub const MAX_RECORDS_PER_PAGE: usize = 1_000;
/// A `list` page stops once its values reach this many bytes (DynamoDB's
/// 1 MB query page), so a page of large records holds fewer than `limit`.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

const MAX_SUBJECT_BYTES: usize = 256;
const MAX_COLLECTION_BYTES: usize = 64;
const MAX_ID_BYTES: usize = 512;

/// Whose a record is. Every key carries one and there is no read without a
/// key or a scope, so a user can never reach another's records by guessing
/// ids. The system owner holds server-wide data; no user subject can map to
/// it (user owners are prefixed `u#`, the system owner is `#system`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner(String);

impl Owner {
    /// The server itself, for data no single user owns.
    pub fn system() -> Self {
        Self("#system".into())
    }

    /// The user a verified token names (its `sub`): 1-256 bytes, no control
    /// characters.
    pub fn user(subject: &str) -> Result<Self, StoreError> {
        if subject.is_empty()
            || subject.len() > MAX_SUBJECT_BYTES
            || subject.chars().any(char::is_control)
        {
            return Err(StoreError::Invalid(format!(
                "owner subject {subject:?} must be 1-{MAX_SUBJECT_BYTES} bytes without control characters"
            )));
        }
        Ok(Self(format!("u#{subject}")))
    }

    pub fn is_system(&self) -> bool {
        self.0 == "#system"
    }

    /// The owner as engines store it (partition-key material).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The records of one owner in one collection: what `list` reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordScope {
    owner: Owner,
    collection: String,
}

impl RecordScope {
    /// `collection`: 1-64 bytes of `A-Z a-z 0-9 _ - .`.
    pub fn new(owner: Owner, collection: &str) -> Result<Self, StoreError> {
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if collection.is_empty()
            || collection.len() > MAX_COLLECTION_BYTES
            || !collection.chars().all(ok)
        {
            return Err(StoreError::Invalid(format!(
                "collection name {collection:?} must be 1-{MAX_COLLECTION_BYTES} characters from A-Z a-z 0-9 _ - ."
            )));
        }
        Ok(Self {
            owner,
            collection: collection.to_string(),
        })
    }

    pub fn owner(&self) -> &Owner {
        &self.owner
    }

    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// The key of record `id` in this scope: 1-512 bytes, no control
    /// characters.
    pub fn key(&self, id: &str) -> Result<RecordKey, StoreError> {
        if id.is_empty() || id.len() > MAX_ID_BYTES || id.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!(
                "record id {id:?} in {:?} must be 1-{MAX_ID_BYTES} bytes without control characters",
                self.collection
            )));
        }
        Ok(RecordKey {
            scope: self.clone(),
            id: id.to_string(),
        })
    }
}

/// Owner + collection + id: the only way to name a record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKey {
    scope: RecordScope,
    id: String,
}

impl RecordKey {
    pub fn new(owner: Owner, collection: &str, id: &str) -> Result<Self, StoreError> {
        RecordScope::new(owner, collection)?.key(id)
    }

    pub fn scope(&self) -> &RecordScope {
        &self.scope
    }

    pub fn owner(&self) -> &Owner {
        &self.scope.owner
    }

    pub fn collection(&self) -> &str {
        &self.scope.collection
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Bytes the key counts for in a transaction's size.
    pub fn size_bytes(&self) -> usize {
        self.owner()
            .as_str()
            .len()
            .saturating_add(self.collection().len())
            .saturating_add(self.id.len())
    }
}

/// A live record. Counters (see [`RecordStore::increment`]) read as records
/// whose value is the count in decimal ASCII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub version: u64,
    pub value: Vec<u8>,
    /// When the record stops being visible (millisecond precision).
    pub expires_at: Option<DateTime<Utc>>,
}

/// When a write (or a transaction's check) applies. `IfVersion` and
/// `IfAbsent` look only at live records: an expired or deleted record is
/// absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCondition {
    Always,
    IfAbsent,
    IfVersion(u64),
}

/// What an `increment` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Increment {
    /// The counter now holds `value`; its window ends at `resets_at`.
    Applied {
        value: u64,
        resets_at: DateTime<Utc>,
    },
    /// Adding would have passed the ceiling; nothing changed.
    Refused {
        current: u64,
        resets_at: DateTime<Utc>,
    },
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxOp {
    Put {
        key: RecordKey,
        value: Vec<u8>,
        condition: WriteCondition,
        expires_at: Option<DateTime<Utc>>,
    },
    Delete {
        key: RecordKey,
        condition: WriteCondition,
    },
    /// Writes nothing; the transaction applies only if `condition` holds.
    Check {
        key: RecordKey,
        condition: WriteCondition,
    },
    /// Fails the transaction (instead of being `Refused`) at the ceiling.
    Increment {
        key: RecordKey,
        by: u64,
        ceiling: u64,
        window: Duration,
    },
}

impl TxOp {
    pub fn key(&self) -> &RecordKey {
        match self {
            Self::Put { key, .. }
            | Self::Delete { key, .. }
            | Self::Check { key, .. }
            | Self::Increment { key, .. } => key,
        }
    }

    /// Bytes this operation counts for against [`MAX_TRANSACTION_BYTES`].
    pub fn size_bytes(&self) -> usize {
        let value = match self {
            Self::Put { value, .. } => value.len(),
            _ => 0,
        };
        self.key().size_bytes().saturating_add(value)
    }
}

/// Refuses a value over [`MAX_RECORD_VALUE_BYTES`]. Engines call it first.
pub fn check_record_value(key: &RecordKey, value: &[u8]) -> Result<(), StoreError> {
    if value.len() > MAX_RECORD_VALUE_BYTES {
        return Err(StoreError::TooLarge(format!(
            "record {:?} in {:?} is {} bytes; values may be at most {MAX_RECORD_VALUE_BYTES} bytes",
            key.id(),
            key.collection(),
            value.len()
        )));
    }
    Ok(())
}

/// Refuses an increment that can never apply meaningfully.
pub fn check_increment(by: u64, window: Duration) -> Result<(), StoreError> {
    if by == 0 || window.is_zero() {
        return Err(StoreError::Invalid(
            "an increment needs by >= 1 and a window longer than zero".into(),
        ));
    }
    Ok(())
}

/// The checks every engine makes before a transaction touches anything:
/// 1-100 operations, at most 4 MB, each key at most once (as DynamoDB
/// requires), values and increments valid.
pub fn check_transaction(ops: &[TxOp]) -> Result<(), StoreError> {
    if ops.is_empty() {
        return Err(StoreError::Invalid(
            "a transaction needs at least one operation".into(),
        ));
    }
    if ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::TooLarge(format!(
            "a transaction has {} operations; at most {MAX_TRANSACTION_OPS} are allowed",
            ops.len()
        )));
    }
    let total = ops
        .iter()
        .fold(0usize, |sum, op| sum.saturating_add(op.size_bytes()));
    if total > MAX_TRANSACTION_BYTES {
        return Err(StoreError::TooLarge(format!(
            "a transaction carries {total} bytes; at most {MAX_TRANSACTION_BYTES} are allowed"
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for op in ops {
        if !seen.insert(op.key()) {
            return Err(StoreError::Invalid(format!(
                "record {:?} in {:?} appears twice in one transaction",
                op.key().id(),
                op.key().collection()
            )));
        }
        match op {
            TxOp::Put { key, value, .. } => check_record_value(key, value)?,
            TxOp::Increment { by, window, .. } => check_increment(*by, *window)?,
            TxOp::Delete { .. } | TxOp::Check { .. } => {}
        }
    }
    Ok(())
}

/// One page of `list`: live records whose id starts with `id_prefix`
/// (byte-wise), in id byte order, taken from the low end (`Ascending`) or the
/// high end (`Descending`). `limit` is capped at [`MAX_RECORDS_PER_PAGE`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    pub id_prefix: String,
    pub order: Order,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// Records of a page, in the query's order (ids rising for `Ascending`,
/// falling for `Descending`). A page may be short, even empty, while
/// `next_cursor` is `Some` (expired records and [`MAX_PAGE_BYTES`] end pages
/// early); only `None` means the listing is complete.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordPage {
    pub records: Vec<Record>,
    pub next_cursor: Option<String>,
}

/// Why `condition` fails against the live version (`None`: absent), if it
/// does: the message every engine gives, for `Conflict` or
/// `TransactionConflict`.
pub fn condition_failure(condition: WriteCondition, live: Option<u64>) -> Option<String> {
    match (condition, live) {
        (WriteCondition::IfAbsent, Some(v)) => Some(format!(
            "already exists at version {v}; read it and update with its version"
        )),
        (WriteCondition::IfVersion(want), None) => Some(format!(
            "does not exist (expected version {want}); create it with IfAbsent"
        )),
        (WriteCondition::IfVersion(want), Some(v)) if v != want => Some(format!(
            "is at version {v}, not {want}; read it again and retry"
        )),
        _ => None,
    }
}

/// The effective page size of a listing (0: nothing to read).
pub fn list_page_limit(query: &ListQuery) -> usize {
    query
        .limit
        .unwrap_or(MAX_RECORDS_PER_PAGE)
        .min(MAX_RECORDS_PER_PAGE)
}

/// The cursor after record `id` of a listing in `order`.
pub fn list_cursor(order: Order, id: &str) -> String {
    let tag = match order {
        Order::Ascending => 'a',
        Order::Descending => 'd',
    };
    format!("r1{tag}:{id}")
}

/// The id a cursor of [`list_cursor`] points after, checked against the
/// query's order and prefix.
pub fn parse_list_cursor(cursor: &str, query: &ListQuery) -> Result<String, StoreError> {
    let tag = match query.order {
        Order::Ascending => "r1a:",
        Order::Descending => "r1d:",
    };
    cursor
        .strip_prefix(tag)
        .filter(|id| id.starts_with(query.id_prefix.as_str()))
        .map(str::to_string)
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "record cursor {cursor:?} is not a next_cursor of a listing with this prefix and order; start again without a cursor"
            ))
        })
}

/// Versioned documents keyed by [`RecordKey`].
///
/// Versions: a record is created at version 1 and every write (put,
/// increment) adds 1. Versions never restart after a `delete`: the engine
/// keeps a tombstone with the last version, so a record re-created after a
/// delete continues from it and a stale `IfVersion` can never match a newer
/// record (no ABA). Expiry is a delete the engine makes by itself: the
/// embedded engine continues versions after it too, while DynamoDB removes
/// expired items outright (TTL) and a re-created record may start again at
/// 1; do not hold versions of TTL records past their expiry.
///
/// TTL: a record whose `expires_at` has passed is invisible to `get`,
/// `list`, conditions and `increment`, even while the engine has not removed
/// it yet.
///
/// Consistency: every method is strongly consistent. Reads (`get`, `list`)
/// see every write that returned before they started (DynamoDB
/// `ConsistentRead` on `GetItem` and `Query`); conditions are evaluated by
/// the engine against the latest state, atomically with the write they
/// guard.
#[async_trait]
pub trait RecordStore: Send + Sync {
    async fn get(&self, key: &RecordKey) -> Result<Option<Record>, StoreError>;

    /// Writes `value` (at most [`MAX_RECORD_VALUE_BYTES`], else `TooLarge`)
    /// if `condition` holds (else `Conflict`) and returns the new version.
    /// `expires_at: None` keeps the record until it is deleted.
    async fn put(
        &self,
        key: &RecordKey,
        value: &[u8],
        condition: WriteCondition,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError>;

    /// Deletes the record if `condition` holds (else `Conflict`); returns
    /// whether a live record was deleted. `Always` on an absent record and
    /// `IfAbsent` (which only checks absence) return `Ok(false)`.
    async fn delete(&self, key: &RecordKey, condition: WriteCondition) -> Result<bool, StoreError>;

    /// Adds `by` to the counter at `key` in one atomic step (never a read
    /// then a write) unless the result would pass `ceiling`, in which case
    /// nothing changes and the current count comes back as `Refused`. A
    /// counter that does not exist or has expired starts from 0 with a window
    /// of `window`, which later increments do not extend: this is a
    /// fixed-window rate limiter. A live non-counter record at `key` is
    /// `Invalid`; `by == 0` or a zero window is `Invalid`.
    async fn increment(
        &self,
        key: &RecordKey,
        by: u64,
        ceiling: u64,
        window: Duration,
    ) -> Result<Increment, StoreError>;

    /// Applies every operation or none. A failed condition (or an increment
    /// that would pass its ceiling) is `TransactionConflict { op, .. }` with
    /// the index of the first failing operation. At most
    /// [`MAX_TRANSACTION_OPS`] operations and [`MAX_TRANSACTION_BYTES`]
    /// (`TooLarge`); one key at most once (`Invalid`). Returns nothing, as
    /// DynamoDB transactions do: read afterwards for versions or counts.
    async fn transact(&self, ops: Vec<TxOp>) -> Result<(), StoreError>;

    /// One page of the scope's live records; see [`ListQuery`] and
    /// [`RecordPage`]. Following `next_cursor` (with the same scope, prefix
    /// and order) visits every matching record once. A cursor from another
    /// order or scope is `Invalid` where the engine can tell.
    async fn list(&self, scope: &RecordScope, query: &ListQuery) -> Result<RecordPage, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_user_can_be_the_system_owner() {
        assert!(Owner::system().is_system());
        for s in ["#system", "system", "u##system"] {
            let user = Owner::user(s).unwrap();
            assert!(!user.is_system());
            assert_ne!(user, Owner::system());
        }
        assert!(Owner::user("").is_err());
        assert!(Owner::user("a\nb").is_err());
        assert!(Owner::user(&"x".repeat(257)).is_err());
    }

    #[test]
    fn names_are_checked() {
        let scope = RecordScope::new(Owner::system(), "alerts").unwrap();
        assert!(scope.key("").is_err());
        assert!(scope.key(&"i".repeat(513)).is_err());
        assert_eq!(scope.key("a b").unwrap().id(), "a b");
        for bad in ["", "a#b", "a b", &"c".repeat(65)] {
            assert!(RecordScope::new(Owner::system(), bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn transactions_are_checked_before_anything_runs() {
        let key = |id: &str| RecordKey::new(Owner::system(), "c", id).unwrap();
        let check = |id: &str| TxOp::Check {
            key: key(id),
            condition: WriteCondition::Always,
        };
        assert!(matches!(
            check_transaction(&[]),
            Err(StoreError::Invalid(_))
        ));
        let many: Vec<TxOp> = (0..101).map(|n| check(&n.to_string())).collect();
        assert!(matches!(
            check_transaction(&many),
            Err(StoreError::TooLarge(_))
        ));
        assert!(check_transaction(many.get(..100).unwrap()).is_ok());
        assert!(matches!(
            check_transaction(&[check("a"), check("a")]),
            Err(StoreError::Invalid(_))
        ));
    }
}
