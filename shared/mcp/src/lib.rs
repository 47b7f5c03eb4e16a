//! The MCP edge of GoldenSignals: rmcp's `ServerHandler` (tools, resources,
//! prompts, completions, logging, progress) over the tool registry and
//! invoker of gs-tools, and the HTTP layer in front of it (host check,
//! bearer-token authentication, RFC 9728 metadata).
//!
//! The same router serves the local endpoint and, later, the Lambda gateway.
//! This crate translates between MCP and the tools; it must never contain
//! analytics or storage logic of its own, it never calls a tool body except
//! through the invoker, and it never logs tokens.

#![cfg_attr(
    not(test),
    deny(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod completions;
mod fast_call;
mod guard;
mod http_layer;
mod logging;
mod progress;
mod prompts;
mod resources;
mod server;
mod tools;

pub use guard::{ClientIp, Guardrails};
pub use http_layer::{HttpConfig, router};
pub use server::{DEFAULT_CALL_TIMEOUT, GoldenSignals};
pub use tools::{ToolEntry, tools};

use gs_auth::{Caller, Permissions};

/// The authenticated caller of one request and what it may do.
#[derive(Debug)]
pub struct Principal {
    pub subject: String,
    pub caller: Caller,
    pub permissions: Permissions,
    /// The caller's roles (from its groups, includes resolved).
    pub roles: std::collections::BTreeSet<String>,
    /// Names this request in logs and in error messages the caller sees.
    pub request_id: String,
    /// What the request's tool calls did, for the audit entry.
    pub(crate) ledger: std::sync::Mutex<guard::Ledger>,
}

impl Principal {
    pub fn new(caller: Caller, permissions: Permissions) -> Self {
        Self {
            subject: caller.subject.clone(),
            caller,
            permissions,
            roles: Default::default(),
            request_id: new_request_id(),
            ledger: Default::default(),
        }
    }

    pub fn with_roles(mut self, roles: std::collections::BTreeSet<String>) -> Self {
        self.roles = roles;
        self
    }
}

/// A process-unique, unguessable-enough id: a random prefix per process and a counter.
fn new_request_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        nanos ^ std::process::id().rotate_left(16)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("req-{prefix:08x}-{n:x}")
}
