use gs_domain::{DomainError, StoreError};
use thiserror::Error;

/// A failure a tool reports to its caller. It reaches the model as a tool
/// error (`isError: true`) whose text says what to do next, rather than as an
/// opaque JSON-RPC error.
#[derive(Debug, Error)]
pub enum ToolError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("storage is unavailable, try again shortly ({0})")]
    Store(#[from] StoreError),
}

impl ToolError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
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
