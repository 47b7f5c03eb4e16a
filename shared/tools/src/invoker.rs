//! The invoker port: a serialisable tool call in, a serialisable reply out.
//! The local engine runs the registry in-process; the AWS issue adds an
//! engine that sends the same call to the tool's own Lambda.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use gs_auth::{Permissions, Policy, Scope};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::context::{ComputePool, ProgressSink, Stores, ToolContext, panic_text};
use crate::error::{ErrorKind, ToolError};
use crate::registry::{ToolSpec, find, registry};

/// Longest deadline a call may ask for.
pub const MAX_DEADLINE: Duration = Duration::from_secs(300);

/// Who is calling, as the edge verified it: enough for the tool side to
/// check the scope again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    pub subject: String,
    /// Effective scopes (token scopes plus the caller's roles).
    pub scopes: Vec<String>,
    /// The caller's groups, for limits and field rules (roles come from the policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl CallerIdentity {
    pub fn new(subject: impl Into<String>, permissions: &Permissions) -> Self {
        Self {
            subject: subject.into(),
            scopes: permissions
                .scopes()
                .map(|s| s.as_str().to_string())
                .collect(),
            groups: Vec::new(),
        }
    }

    pub fn with_groups(mut self, groups: Vec<String>) -> Self {
        self.groups = groups;
        self
    }

    /// Scopes that do not parse grant nothing.
    pub fn permissions(&self) -> Permissions {
        self.scopes
            .iter()
            .filter_map(|s| Scope::parse(s).ok())
            .collect()
    }
}

/// One tool call, as it crosses the invoker.
#[derive(Debug, Serialize, Deserialize)]
pub struct ToolCall {
    pub tool: String,
    /// The JSON object of arguments (or `null`).
    pub arguments: Box<RawValue>,
    pub caller: CallerIdentity,
    pub request_id: String,
    /// Absolute deadline, milliseconds since the Unix epoch.
    pub deadline_ms: u64,
}

impl ToolCall {
    pub fn new(
        tool: impl Into<String>,
        arguments: Box<RawValue>,
        caller: CallerIdentity,
        request_id: impl Into<String>,
        timeout: Duration,
    ) -> Self {
        let deadline = SystemTime::now()
            .checked_add(timeout.min(MAX_DEADLINE))
            .unwrap_or_else(SystemTime::now);
        Self {
            tool: tool.into(),
            arguments,
            caller,
            request_id: request_id.into(),
            deadline_ms: epoch_ms(deadline),
        }
    }

    /// The deadline as a local instant (never later than [`MAX_DEADLINE`] from now).
    pub fn deadline(&self) -> Instant {
        let now_ms = epoch_ms(SystemTime::now());
        let left = Duration::from_millis(self.deadline_ms.saturating_sub(now_ms)).min(MAX_DEADLINE);
        Instant::now()
            .checked_add(left)
            .unwrap_or_else(Instant::now)
    }
}

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The outcome of a call. On the wire (between Lambda functions) it is an
/// object tagged by `status`: `{"status":"ok","structured":…,"summary":…}`
/// or `{"status":"error","kind":…,"message":…}`.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ToolReply {
    Ok {
        structured: Box<RawValue>,
        summary: String,
    },
    Error {
        kind: ErrorKind,
        /// Safe to show the caller.
        message: String,
    },
}

/// serde's derived internally tagged enums buffer their content, which
/// `RawValue` cannot come out of; this reads the same shape directly.
impl<'de> Deserialize<'de> for ToolReply {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Status {
            Ok,
            Error,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            status: Status,
            structured: Option<Box<RawValue>>,
            summary: Option<String>,
            kind: Option<ErrorKind>,
            message: Option<String>,
        }
        let wire = Wire::deserialize(deserializer)?;
        match wire.status {
            Status::Ok => Ok(Self::Ok {
                structured: wire
                    .structured
                    .ok_or_else(|| serde::de::Error::missing_field("structured"))?,
                summary: wire
                    .summary
                    .ok_or_else(|| serde::de::Error::missing_field("summary"))?,
            }),
            Status::Error => Ok(Self::Error {
                kind: wire
                    .kind
                    .ok_or_else(|| serde::de::Error::missing_field("kind"))?,
                message: wire
                    .message
                    .ok_or_else(|| serde::de::Error::missing_field("message"))?,
            }),
        }
    }
}

impl ToolReply {
    pub fn is_error(&self) -> bool {
        matches!(self, Self::Error { .. })
    }

    fn error(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::Error {
            kind,
            message: message.into(),
        }
    }
}

/// Runs tool calls somewhere: in-process, or in another Lambda.
#[async_trait]
pub trait Invoker: Send + Sync {
    async fn invoke(&self, call: ToolCall, progress: Option<ProgressSink>) -> ToolReply;
}

/// The in-process engine: the registry, the stores and a compute pool.
pub struct LocalInvoker {
    stores: Stores,
    pool: Arc<ComputePool>,
    policy: Arc<Policy>,
    live: Option<Arc<crate::portfolio::live::LiveTrading>>,
}

impl LocalInvoker {
    /// With the built-in role policy; see [`LocalInvoker::with_policy`].
    pub fn new(stores: Stores, pool: Arc<ComputePool>) -> Self {
        Self {
            stores,
            pool,
            policy: Arc::new(Policy::default_policy()),
            live: None,
        }
    }

    /// Turns live trading on: `broker: live` orders go to this broker.
    pub fn with_live(mut self, live: Option<crate::portfolio::live::LiveTrading>) -> Self {
        self.live = live.map(Arc::new);
        self
    }

    pub fn with_policy(mut self, policy: Arc<Policy>) -> Self {
        self.policy = policy;
        self
    }

    pub fn tools(&self) -> &'static [ToolSpec] {
        registry()
    }
}

#[async_trait]
impl Invoker for LocalInvoker {
    async fn invoke(&self, call: ToolCall, progress: Option<ProgressSink>) -> ToolReply {
        let started = Instant::now();
        let Some(spec) = find(&call.tool) else {
            let known: Vec<&str> = registry().iter().map(|t| t.name).collect();
            return ToolReply::error(
                ErrorKind::UnknownTool,
                format!(
                    "unknown tool {:?}; available: {}",
                    call.tool,
                    known.join(", ")
                ),
            );
        };
        let permissions = call.caller.permissions();
        if !permissions.allows(spec.server, spec.name) {
            return ToolReply::error(
                ErrorKind::Forbidden,
                format!(
                    "permission denied: {tool} needs scope {server}:{tool} (or {server}:*); ask an administrator for a token or group with that scope",
                    tool = spec.name,
                    server = spec.server
                ),
            );
        }
        let deadline = call.deadline();
        let ctx = ToolContext {
            subject: call.caller.subject.clone(),
            permissions: Arc::new(permissions),
            groups: call.caller.groups.clone(),
            policy: self.policy.clone(),
            request_id: call.request_id.clone(),
            stores: self.stores.clone(),
            deadline,
            pool: self.pool.clone(),
            progress,
            live: self.live.clone(),
        };
        // The body, argument parsing included, runs in its own task: a panic
        // there is caught as a JoinError instead of killing the request
        // without an answer.
        // In the request's span, so the body's log lines carry its fields.
        let task = tokio::spawn(tracing::Instrument::in_current_span(
            spec.call(ctx, call.arguments),
        ));
        let left = deadline.saturating_duration_since(Instant::now());
        let outcome = match tokio::time::timeout(left, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) if join.is_panic() => Err(ToolError::Internal(format!(
                "tool body panicked: {}",
                panic_text(join.into_panic())
            ))),
            Ok(Err(join)) => Err(ToolError::Internal(format!("tool task failed: {join}"))),
            Err(_) => Err(ToolError::Timeout(format!(
                "{} did not finish before the request's deadline; ask for less data or retry",
                spec.name
            ))),
        };
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Ok(output) => {
                tracing::info!(request_id = %call.request_id, subject = %call.caller.subject, tool = spec.name, elapsed_ms, "tool call");
                ToolReply::Ok {
                    structured: output.structured,
                    summary: output.summary,
                }
            }
            Err(e) => {
                match e.kind() {
                    ErrorKind::Unavailable | ErrorKind::Internal => {
                        tracing::error!(request_id = %call.request_id, subject = %call.caller.subject, tool = spec.name, error = %e, elapsed_ms, "tool call failed");
                    }
                    _ => {
                        tracing::info!(request_id = %call.request_id, subject = %call.caller.subject, tool = spec.name, error = %e, elapsed_ms, "tool call refused");
                    }
                }
                ToolReply::error(e.kind(), e.public_message(&call.request_id))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_cross_the_wire_unchanged() {
        let ok = ToolReply::Ok {
            structured: RawValue::from_string(r#"{"price":1.5,"rows":[1,null]}"#.into()).unwrap(),
            summary: "AAPL last 1.5".into(),
        };
        let text = serde_json::to_string(&ok).unwrap();
        match serde_json::from_str::<ToolReply>(&text).unwrap() {
            ToolReply::Ok {
                structured,
                summary,
            } => {
                assert_eq!(structured.get(), r#"{"price":1.5,"rows":[1,null]}"#);
                assert_eq!(summary, "AAPL last 1.5");
            }
            other => panic!("{other:?}"),
        }
        let error = ToolReply::error(ErrorKind::Forbidden, "needs scope x");
        let text = serde_json::to_string(&error).unwrap();
        assert!(matches!(
            serde_json::from_str::<ToolReply>(&text).unwrap(),
            ToolReply::Error { kind: ErrorKind::Forbidden, message } if message == "needs scope x"
        ));
        for bad in [
            r#"{"status":"ok","summary":"s"}"#,
            r#"{"status":"maybe"}"#,
            r#"{"status":"error","kind":"forbidden","message":"m","extra":1}"#,
        ] {
            assert!(serde_json::from_str::<ToolReply>(bad).is_err(), "{bad}");
        }
    }
}
