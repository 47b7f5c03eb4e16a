use thiserror::Error;

/// Why an indicator could not be computed. Every message names the valid
/// choices, so a caller (often a model) can correct the request in one step.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum IndicatorError {
    #[error("unknown indicator `{name}`; valid indicators are: {valid}")]
    UnknownIndicator { name: String, valid: String },

    #[error("indicator `{indicator}` has no parameter `{name}`; valid parameters are: {valid}")]
    UnknownParameter {
        indicator: &'static str,
        name: String,
        valid: String,
    },

    #[error("parameter `{name}` of `{indicator}` was given more than once; give it once")]
    DuplicateParameter {
        indicator: &'static str,
        name: &'static str,
    },

    #[error(
        "parameter `{name}` of `{indicator}` must be between {min} and {max} (inclusive); got {value}"
    )]
    ParameterOutOfRange {
        indicator: &'static str,
        name: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },

    #[error(
        "parameter `{name}` of `{indicator}` must be a whole number (between {min} and {max}); got {value}"
    )]
    NotAnInteger {
        indicator: &'static str,
        name: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },

    #[error(
        "input length mismatch for `{indicator}`: `{first}` has {first_len} bars but `{other}` has {other_len}; every series must have one value per bar"
    )]
    LengthMismatch {
        indicator: &'static str,
        first: &'static str,
        first_len: usize,
        other: &'static str,
        other_len: usize,
    },

    /// No longer returned: every TA-Lib MA type (MAMA included) is
    /// implemented. Kept so that callers matching on it still compile.
    #[error(
        "parameter `{name}` of `{indicator}` asks for MA type {value} ({label}), which is not supported yet; supported MA types are: {supported}"
    )]
    UnsupportedMaType {
        indicator: &'static str,
        name: &'static str,
        value: u32,
        label: &'static str,
        supported: String,
    },
}
