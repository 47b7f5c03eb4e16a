//! Per-user call-rate limits: fixed-window counters in the `RecordStore`,
//! one per server and one per capped tool, moved by the store's atomic
//! increment (a conditional update in DynamoDB, one write transaction in the
//! embedded engine), never a read then a write. A refused call consumes
//! nothing: both counters move together or neither does.

use std::time::Duration;

use chrono::{DateTime, Utc};
use gs_auth::CallLimits;
use gs_domain::{Increment, Owner, RecordKey, RecordScope, RecordStore, StoreError, TxOp};

pub const RATE_COLLECTION: &str = "rate-limits";

/// Whether a call may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    Limited {
        /// `server:<name>` or `tool:<name>`.
        counter: String,
        limit: u64,
        window: Duration,
        /// When the window resets; the caller may retry then.
        resets_at: DateTime<Utc>,
    },
}

impl Admission {
    /// Whole seconds until `resets_at`, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        match self {
            Self::Admitted => 0,
            Self::Limited { resets_at, .. } => {
                let ms = resets_at
                    .signed_duration_since(Utc::now())
                    .num_milliseconds();
                u64::try_from(ms).map_or(1, |ms| ms.div_ceil(1000).max(1))
            }
        }
    }
}

fn counter_key(subject: &str, counter: &str) -> Result<RecordKey, StoreError> {
    RecordScope::new(Owner::user(subject)?, RATE_COLLECTION)?.key(counter)
}

/// Counts one call of `subject` against `limits`, or refuses it.
pub async fn admit(
    records: &dyn RecordStore,
    subject: &str,
    limits: &CallLimits,
) -> Result<Admission, StoreError> {
    match limits.counters.as_slice() {
        [] => Ok(Admission::Admitted),
        [(counter, limit)] => {
            let key = counter_key(subject, counter)?;
            match records.increment(&key, 1, *limit, limits.window).await? {
                Increment::Applied { .. } => Ok(Admission::Admitted),
                Increment::Refused { resets_at, .. } => Ok(Admission::Limited {
                    counter: counter.clone(),
                    limit: *limit,
                    window: limits.window,
                    resets_at,
                }),
            }
        }
        counters => {
            let mut ops = Vec::with_capacity(counters.len());
            for (counter, limit) in counters {
                ops.push(TxOp::Increment {
                    key: counter_key(subject, counter)?,
                    by: 1,
                    ceiling: *limit,
                    window: limits.window,
                });
            }
            match records.transact(ops).await {
                Ok(()) => Ok(Admission::Admitted),
                Err(StoreError::TransactionConflict { op, .. }) => {
                    let Some((counter, limit)) = counters.get(op) else {
                        return Err(StoreError::Corrupt(format!(
                            "the store named operation {op} of a {}-operation transaction",
                            counters.len()
                        )));
                    };
                    let key = counter_key(subject, counter)?;
                    let resets_at = records
                        .get(&key)
                        .await?
                        .and_then(|r| r.expires_at)
                        .unwrap_or_else(|| {
                            Utc::now()
                                .checked_add_signed(chrono::Duration::seconds(1))
                                .unwrap_or_else(Utc::now)
                        });
                    Ok(Admission::Limited {
                        counter: counter.clone(),
                        limit: *limit,
                        window: limits.window,
                        resets_at,
                    })
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// A counter as it stands: calls used in the current window and when it resets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub used: u64,
    pub resets_at: Option<DateTime<Utc>>,
}

/// Reads one counter (absent or expired: nothing used).
pub async fn usage(
    records: &dyn RecordStore,
    subject: &str,
    counter: &str,
) -> Result<Usage, StoreError> {
    let key = counter_key(subject, counter)?;
    Ok(match records.get(&key).await? {
        Some(record) => Usage {
            used: std::str::from_utf8(&record.value)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0),
            resets_at: record.expires_at,
        },
        None => Usage {
            used: 0,
            resets_at: None,
        },
    })
}
