//! Signed call contexts: how a tool function knows a call came from its
//! gateway. Lambda does not tell a function who invoked it, so the gateway
//! signs what matters about the call (tool, a hash of the arguments, the
//! caller and their scopes, the request id, an expiry and a nonce) with a MAC
//! key only it may sign with; the tool verifies the signature, checks that
//! the call matches what was signed, that it has not expired and that its
//! nonce is new, and only then runs it (and checks the scope again).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use gs_crypto::{CryptoError, MacKey};
use gs_domain::{Owner, RecordKey, RecordStore, StoreError, WriteCondition};
use gs_tools::ToolCall;
use serde::{Deserialize, Serialize};

/// Format version of [`CallContext`].
pub const CONTEXT_VERSION: u32 = 1;
/// Longest a signed context stays valid, whatever the call's deadline.
pub const MAX_CONTEXT_AGE_MS: u64 = 5 * 60 * 1000;
/// Where used nonces are kept (system-owned records, expiring with their
/// context).
pub const NONCE_COLLECTION: &str = "call-nonces";

/// What the gateway signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallContext {
    pub v: u32,
    pub tool: String,
    /// SHA-256 of the exact argument bytes, hex.
    pub arguments_sha256: String,
    pub subject: String,
    pub scopes: Vec<String>,
    /// The caller's groups (limits and field rules on the tool side), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    pub request_id: String,
    pub deadline_ms: u64,
    /// After this the context is refused.
    pub expires_ms: u64,
    /// 128 random bits, hex: each context is accepted once.
    pub nonce: String,
}

/// The payload a tool function receives: the call, the signed context as
/// the exact text that was signed, and the signature.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCall {
    pub call: ToolCall,
    pub context: String,
    /// Base64 of the MAC over `context`'s bytes.
    pub mac: String,
}

/// Why a tool function refused a call before running it.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the call carries no valid signature from the gateway: {0}")]
    BadSignature(String),
    #[error("the call does not match its signed context: {0}")]
    Mismatch(&'static str),
    #[error("the signed context expired {0} ms ago")]
    Expired(u64),
    #[error("this signed context was already used (replay refused)")]
    Replayed,
    #[error("this function serves {serves}, not {asked}")]
    WrongTool { serves: String, asked: String },
    /// The key service or the nonce store could not answer: retrying may help.
    #[error("cannot verify the call right now: {0}")]
    Unavailable(String),
}

impl Refusal {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn nonce() -> Result<String, CryptoError> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CryptoError::Unavailable("the system random source failed".into()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn now_ms() -> u64 {
    u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0)
}

/// The context of `call`, signed with `key`.
pub async fn sign(key: &dyn MacKey, call: ToolCall) -> Result<SignedCall, CryptoError> {
    let mut scopes = call.caller.scopes.clone();
    scopes.sort();
    let mut groups = call.caller.groups.clone();
    groups.sort();
    let context = CallContext {
        v: CONTEXT_VERSION,
        tool: call.tool.clone(),
        arguments_sha256: sha256_hex(call.arguments.get().as_bytes()),
        subject: call.caller.subject.clone(),
        scopes,
        groups,
        request_id: call.request_id.clone(),
        deadline_ms: call.deadline_ms,
        expires_ms: call
            .deadline_ms
            .min(now_ms().saturating_add(MAX_CONTEXT_AGE_MS)),
        nonce: nonce()?,
    };
    let text = serde_json::to_string(&context)
        .map_err(|e| CryptoError::KeyService(format!("encoding a call context: {e}")))?;
    let mac = key.sign(text.as_bytes()).await?;
    Ok(SignedCall {
        call,
        context: text,
        mac: B64.encode(mac),
    })
}

/// What a tool function checks before it runs a call.
pub struct Verifier {
    key: Arc<dyn MacKey>,
    nonces: Arc<dyn RecordStore>,
    /// The one tool this function serves (`GS_TOOL`), or every tool.
    only: Option<String>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("only", &self.only)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    pub fn new(key: Arc<dyn MacKey>, nonces: Arc<dyn RecordStore>, only: Option<String>) -> Self {
        Self { key, nonces, only }
    }

    /// The call, if the signature, the match, the expiry, the tool and the
    /// nonce all hold. The nonce is spent only after everything else held.
    pub async fn verify(&self, signed: SignedCall) -> Result<ToolCall, Refusal> {
        let mac = B64
            .decode(&signed.mac)
            .map_err(|_| Refusal::BadSignature("the signature is not base64".into()))?;
        self.key
            .verify(signed.context.as_bytes(), &mac)
            .await
            .map_err(|e| match e {
                CryptoError::Refused(why) => Refusal::BadSignature(why),
                other if other.is_retryable() => Refusal::Unavailable(other.to_string()),
                other => Refusal::BadSignature(other.to_string()),
            })?;
        let context: CallContext = serde_json::from_str(&signed.context)
            .map_err(|_| Refusal::Mismatch("the signed context is not a version 1 context"))?;
        let call = signed.call;
        if context.v != CONTEXT_VERSION {
            return Err(Refusal::Mismatch("unknown context version"));
        }
        if context.tool != call.tool {
            return Err(Refusal::Mismatch("tool"));
        }
        if context.arguments_sha256 != sha256_hex(call.arguments.get().as_bytes()) {
            return Err(Refusal::Mismatch("arguments"));
        }
        let mut scopes = call.caller.scopes.clone();
        scopes.sort();
        let mut groups = call.caller.groups.clone();
        groups.sort();
        if context.subject != call.caller.subject
            || context.scopes != scopes
            || context.groups != groups
        {
            return Err(Refusal::Mismatch("caller"));
        }
        if context.request_id != call.request_id || context.deadline_ms != call.deadline_ms {
            return Err(Refusal::Mismatch("request id or deadline"));
        }
        let now = now_ms();
        if now >= context.expires_ms {
            return Err(Refusal::Expired(now.saturating_sub(context.expires_ms)));
        }
        if let Some(only) = &self.only
            && only != &call.tool
        {
            return Err(Refusal::WrongTool {
                serves: only.clone(),
                asked: call.tool.clone(),
            });
        }
        self.spend(&context).await?;
        Ok(call)
    }

    async fn spend(&self, context: &CallContext) -> Result<(), Refusal> {
        let key = RecordKey::new(Owner::system(), NONCE_COLLECTION, &context.nonce)
            .map_err(|_| Refusal::Mismatch("nonce"))?;
        let expires = i64::try_from(context.expires_ms)
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_millis);
        match self
            .nonces
            .put(&key, b"", WriteCondition::IfAbsent, expires)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict(_)) => Err(Refusal::Replayed),
            Err(e) => Err(Refusal::Unavailable(format!("recording the nonce: {e}"))),
        }
    }
}
