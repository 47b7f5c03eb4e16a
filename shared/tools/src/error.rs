use gs_domain::{DomainError, StoreError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A failure a tool reports to its caller. It reaches the model as a tool
/// error (`isError: true`) whose text says what to do next, rather than as an
/// opaque JSON-RPC error.
///
/// Storage and internal failures carry their detail for the log only: the
/// caller sees a generic message with the request id (see [`ToolError::public_message`]).
#[derive(Debug, Error)]
pub enum ToolError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// An engine failure, corrupt data, throttling or an unreachable
    /// engine: nothing the caller can fix but wait (see `From<StoreError>`).
    #[error("storage failure: {0}")]
    Store(StoreError),
    /// Another writer got there first; the same call again re-reads and retries.
    #[error("{0}")]
    Conflict(String),
    #[error("deadline exceeded: {0}")]
    Timeout(String),
    #[error("server busy: {0}")]
    Busy(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What kind of failure a reply reports; travels with the reply across an
/// invoker so the edge can map it (tool error, JSON-RPC error, HTTP status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    InvalidInput,
    NotFound,
    Forbidden,
    UnknownTool,
    Unavailable,
    Timeout,
    Busy,
    /// Over a rate limit: nothing ran; the message says when to retry.
    RateLimited,
    Internal,
}

impl ToolError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::Store(_) => ErrorKind::Unavailable,
            Self::Conflict(_) => ErrorKind::Busy,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Busy(_) => ErrorKind::Busy,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The text the caller sees. Input, lookup, permission, deadline and
    /// load errors explain themselves; storage and internal errors never
    /// reveal their detail (paths, engine messages), only the request id to
    /// quote, while the detail goes to the log.
    pub fn public_message(&self, request_id: &str) -> String {
        match self {
            Self::Store(_) => {
                format!("storage is unavailable, try again shortly (request id {request_id})")
            }
            Self::Internal(_) => format!(
                "internal error; the server logged the details under request id {request_id}"
            ),
            other => other.to_string(),
        }
    }
}

/// Requests the store refuses as sent (too large, invalid) are the caller's
/// to fix and say why; a lost race says to call again; the rest (engine,
/// corruption, throttling, unavailability) is reported generically and logged.
impl From<StoreError> for ToolError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) | StoreError::TooLarge(m) => {
                Self::InvalidInput(format!("the store refused the request: {m}"))
            }
            StoreError::Conflict(_) | StoreError::TransactionConflict { .. } => Self::Conflict(
                "another writer changed the same data at the same moment; call again".into(),
            ),
            other => Self::Store(other),
        }
    }
}

impl From<DomainError> for ToolError {
    fn from(e: DomainError) -> Self {
        Self::InvalidInput(e.to_string())
    }
}

impl From<gs_analytics::IndicatorError> for ToolError {
    fn from(e: gs_analytics::IndicatorError) -> Self {
        Self::InvalidInput(e.to_string())
    }
}

impl From<gs_signals::SignalError> for ToolError {
    fn from(e: gs_signals::SignalError) -> Self {
        Self::InvalidInput(e.to_string())
    }
}
