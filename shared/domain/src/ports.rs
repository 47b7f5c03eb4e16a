//! What every storage port shares: the error kinds and the read order.
//! The ports themselves are [`crate::BarStore`] (`bar_store.rs`) and
//! [`crate::RecordStore`] (`record_store.rs`). Engines (embedded redb locally,
//! DynamoDB in the cloud) implement them, and the `gs-store-contract` suite
//! holds every engine to the same behaviour, so these doc comments are the
//! contract: an engine that cannot keep a promise written here is wrong.
//!
//! The limits are DynamoDB's (400 KB items, 100-item / 4 MB transactions,
//! 1 MB query pages) and every engine enforces them, so code that works on a
//! laptop keeps working in the cloud.

use thiserror::Error;

/// Direction of a read. Pages are always returned oldest (or lowest id)
/// first; the order says from which end the page is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Ascending,
    Descending,
}

#[derive(Debug, Error)]
pub enum StoreError {
    /// The engine failed in a way the port cannot classify (I/O, a bug).
    #[error("storage engine failure: {message}")]
    Engine {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Stored data does not decode into valid domain values.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A condition did not hold (a record's version, `IfAbsent`, a counter's
    /// ceiling in a transaction, or another writer switching a bar series
    /// first). Re-read, then decide whether to try again.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A condition of operation `op` (its index in the `transact` call) did
    /// not hold; nothing of the transaction was applied.
    #[error("conflict in transaction operation {op}: {reason}")]
    TransactionConflict { op: usize, reason: String },
    /// The request can never succeed as sent (bad names, bad cursor, bars out
    /// of order).
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    /// A value, a transaction or a bucket is over a documented size limit.
    #[error("too large for the store: {0}")]
    TooLarge(String),
    /// The engine asked us to slow down (DynamoDB throughput exceeded).
    #[error("storage is throttled, retry after a short wait: {0}")]
    Throttled(String),
    /// The engine could not be reached or answered late; the request may or
    /// may not have been applied (conditional writes make a retry safe).
    #[error("storage is unavailable, retry shortly: {0}")]
    Unavailable(String),
}

impl StoreError {
    pub fn engine(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Engine {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// True when sending the same call again, after a backoff, may succeed
    /// without anything else changing first. Conflicts are not retryable in
    /// this sense: the caller must re-read (a `put_bars` that lost a race
    /// re-reads by itself, so it may simply be called again).
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Throttled(_) | Self::Unavailable(_))
    }

    /// Any failed condition, inside a transaction or not.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict(_) | Self::TransactionConflict { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_throttling_and_unavailability_are_retryable_as_sent() {
        assert!(StoreError::Throttled("x".into()).retryable());
        assert!(StoreError::Unavailable("x".into()).retryable());
        for e in [
            StoreError::Conflict("x".into()),
            StoreError::TransactionConflict {
                op: 1,
                reason: "x".into(),
            },
            StoreError::TooLarge("x".into()),
            StoreError::Invalid("x".into()),
            StoreError::Corrupt("x".into()),
        ] {
            assert!(!e.retryable(), "{e}");
        }
        assert!(
            StoreError::TransactionConflict {
                op: 3,
                reason: "r".into()
            }
            .is_conflict()
        );
        assert!(
            StoreError::TransactionConflict {
                op: 3,
                reason: "r".into()
            }
            .to_string()
            .contains("operation 3")
        );
    }
}
