use thiserror::Error;

/// Why a request could not be understood. Messages name the valid choices so
/// a caller (often a model) can correct the request in one step.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChartPatternError {
    #[error("unknown chart pattern `{given}`; valid patterns are: {valid}")]
    UnknownPatternType { given: String, valid: String },
}
