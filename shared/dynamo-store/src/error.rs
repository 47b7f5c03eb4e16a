//! SDK errors to the port's error kinds, so callers can tell a retry that may
//! help (throttled, unavailable) from one that cannot.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use gs_domain::StoreError;

/// Classifies a failed SDK call. `doing` says what was being done, for the
/// message (it never includes item values).
pub(crate) fn sdk<E, R>(doing: &str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            StoreError::Unavailable(format!("{doing}: {detail}"))
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            let message = service.err().message().unwrap_or_default();
            match code {
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded" => StoreError::Throttled(format!("{doing}: {message}")),
                "ItemCollectionSizeLimitExceededException" => {
                    StoreError::TooLarge(format!("{doing}: {message}"))
                }
                "ValidationException" if message.contains("size") => {
                    StoreError::TooLarge(format!("{doing}: {message}"))
                }
                "InternalServerError" | "ServiceUnavailable" => {
                    StoreError::Unavailable(format!("{doing}: {message}"))
                }
                _ => StoreError::engine(format!("{doing}: {code} {message}"), err),
            }
        }
        _ => StoreError::engine(format!("{doing}: {detail}"), err),
    }
}

/// A stored attribute that is missing or of the wrong type.
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("DynamoDB item has a missing or malformed {what}"))
}
