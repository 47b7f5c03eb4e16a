//! The handler of a tool function: verify the signed context, then run the
//! call with the in-process invoker (which checks the scope again).

use std::sync::Arc;

use gs_tools::{Invoker, LocalInvoker, ToolReply};
use lambda_runtime::Diagnostic;
use serde_json::value::RawValue;

use crate::signed::{Refusal, SignedCall, Verifier};

/// A call the function would not run. Its Lambda diagnostic says whether a
/// retry can help: `Refused.NotRetryable` or `Unavailable.Retryable`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct CallRefused(#[from] pub Refusal);

impl CallRefused {
    /// The Lambda error type: its suffix says whether a retry can help.
    pub fn error_type(&self) -> &'static str {
        if self.0.is_retryable() {
            "Unavailable.Retryable"
        } else {
            "Refused.NotRetryable"
        }
    }
}

impl From<CallRefused> for Diagnostic {
    fn from(e: CallRefused) -> Self {
        Diagnostic {
            error_type: e.error_type().into(),
            error_message: e.0.to_string(),
        }
    }
}

/// One tool function: the verifier and the registry in-process.
pub struct ToolFunction {
    verifier: Verifier,
    invoker: Arc<LocalInvoker>,
}

impl std::fmt::Debug for ToolFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolFunction")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl ToolFunction {
    pub fn new(verifier: Verifier, invoker: Arc<LocalInvoker>) -> Self {
        Self { verifier, invoker }
    }

    /// Handles one invocation payload (a [`SignedCall`]).
    pub async fn handle(&self, payload: &RawValue) -> Result<ToolReply, CallRefused> {
        let signed: SignedCall = serde_json::from_str(payload.get()).map_err(|_| {
            Refusal::BadSignature("the payload is not a signed call from the gateway".into())
        })?;
        let call = self.verifier.verify(signed).await.map_err(|refusal| {
            tracing::warn!(error = %refusal, "refused a call");
            refusal
        })?;
        let server = gs_tools::find(&call.tool).map_or("", |spec| spec.server);
        let span = tracing::info_span!(
            "request",
            request_id = %call.request_id,
            user = %call.caller.subject,
            server,
            tool = %call.tool,
        );
        Ok(tracing::Instrument::instrument(self.invoker.invoke(call, None), span).await)
    }
}
