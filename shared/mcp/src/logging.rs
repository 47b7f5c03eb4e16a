//! `logging/setLevel` and the `notifications/message` a caller asked for.
//! Stateless: the level is remembered per caller in the record store, so
//! whichever instance serves the next request sees it.

#![allow(deprecated)] // logging/setLevel is deprecated by SEP-2577 but still in the versions we serve.

use gs_domain::{Owner, RecordKey, StoreError, WriteCondition};
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam, SetLevelRequestParams};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};

use crate::Principal;
use crate::server::GoldenSignals;

/// Record collection holding each caller's `logging/setLevel` choice.
const LOGGING_LEVELS: &str = "logging-level";

/// The caller's own logging-level record.
fn level_key(subject: &str) -> Result<RecordKey, StoreError> {
    RecordKey::new(Owner::user(subject)?, LOGGING_LEVELS, "level")
}

pub(crate) async fn set_level(
    server: &GoldenSignals,
    who: &Principal,
    request: SetLevelRequestParams,
) -> Result<(), McpError> {
    let level = serde_json::to_vec(&request.level)
        .map_err(|e| McpError::internal_error(e.to_string(), None))?;
    let stored = match level_key(&who.subject) {
        Ok(key) => {
            server
                .records()
                .put(&key, &level, WriteCondition::Always, None)
                .await
        }
        Err(e) => Err(e),
    };
    stored.map_err(|e| {
        tracing::error!(request_id = %who.request_id, error = %e, "cannot store the logging level");
        McpError::internal_error(
            format!(
                "the logging level could not be stored; retry shortly (request id {})",
                who.request_id
            ),
            None,
        )
    })?;
    Ok(())
}

/// Whether the caller has asked for log messages (or whether that cannot be
/// told, in which case the answer is yes: the general path handles both).
pub(crate) async fn wants_messages(server: &GoldenSignals, who: &Principal) -> bool {
    let Ok(key) = level_key(&who.subject) else {
        return true;
    };
    !matches!(server.records().get(&key).await, Ok(None))
}

/// Sends the caller a `notifications/message` about the call when it has
/// asked for messages of that severity with `logging/setLevel`. Callers
/// that never set a level get plain JSON responses, with no extra stream.
pub(crate) async fn log_to_client(
    server: &GoldenSignals,
    who: &Principal,
    ctx: &RequestContext<RoleServer>,
    tool: &str,
    is_error: bool,
    elapsed_ms: f64,
) {
    let Ok(key) = level_key(&who.subject) else {
        return;
    };
    let Ok(Some(record)) = server.records().get(&key).await else {
        return;
    };
    let Ok(wanted) = serde_json::from_slice::<LoggingLevel>(&record.value) else {
        return;
    };
    let level = if is_error {
        LoggingLevel::Error
    } else {
        LoggingLevel::Info
    };
    if severity(level) < severity(wanted) {
        return;
    }
    let data = serde_json::json!({
        "tool": tool,
        "is_error": is_error,
        "elapsed_ms": (elapsed_ms * 10.0).round() / 10.0,
        "request_id": who.request_id,
    });
    let message = LoggingMessageNotificationParam::new(level, data).with_logger("goldensignals");
    if let Err(e) = ctx.peer.notify_logging_message(message).await {
        tracing::debug!(error = %e, "could not send a log message to the client");
    }
}

fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}
