//! The guardrail parts of the policy: call-rate limits per role (per server,
//! and per tool where a tool is expensive) and per-field visibility rules.
//!
//! Limits are fixed windows of `window_seconds`. A caller's limit for a
//! server is the most generous of its roles' limits (a role without a
//! `rate_limits` block, and a caller without roles, gets the policy's
//! `default`). Within a role, a server it does not name falls back to its
//! `"*"` entry, then to the default; a tool it does not name falls back to
//! the default's entry for that tool. A tool limit is a second cap on top of
//! the server's: a call counts against both, or against neither.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{AuthError, SERVERS};

/// Calls per window, by server (`"*"`: any server not named) and by tool.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    #[serde(default)]
    pub servers: BTreeMap<String, u64>,
    #[serde(default)]
    pub tools: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateLimitDocument {
    pub window_seconds: u64,
    #[serde(default)]
    pub default: RateLimits,
}

/// One field rule: `field` (an object key, at any depth of the tool's
/// structured output) of the named tools (`"*"`: every tool) is shown only
/// to callers holding one of `visible_to` (roles, includes resolved);
/// everyone else reads `"[REDACTED]"`, in the summary too.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    pub tools: Vec<String>,
    pub field: String,
    pub visible_to: Vec<String>,
}

impl FieldRule {
    pub fn applies_to(&self, tool: &str) -> bool {
        self.tools.iter().any(|t| t == "*" || t == tool)
    }
}

/// The limits that apply to one call: `(counter name, calls per window)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLimits {
    pub window: Duration,
    /// `server:<name>`, then `tool:<name>` when the tool has its own cap.
    pub counters: Vec<(String, u64)>,
}

pub(crate) fn check_rate_limits(
    document: &RateLimitDocument,
    roles: &BTreeMap<String, Option<RateLimits>>,
) -> Result<(), AuthError> {
    let bad = |reason: String| AuthError::BadPolicy {
        reason,
        source: None,
    };
    if document.window_seconds == 0 || document.window_seconds > 86_400 {
        return Err(bad(
            "rate_limits.window_seconds must be between 1 and 86400".to_owned(),
        ));
    }
    let blocks = std::iter::once(("default", &document.default)).chain(
        roles
            .iter()
            .filter_map(|(name, limits)| limits.as_ref().map(|l| (name.as_str(), l))),
    );
    for (owner, limits) in blocks {
        for (server, calls) in &limits.servers {
            if server != "*" && !SERVERS.contains(&server.as_str()) {
                return Err(bad(format!(
                    "rate limits of `{owner}` name unknown server `{server}`; known servers: {}",
                    SERVERS.join(", ")
                )));
            }
            if *calls == 0 {
                return Err(bad(format!(
                    "rate limit `{server}` of `{owner}` is 0; remove the scope instead"
                )));
            }
        }
        for (tool, calls) in &limits.tools {
            if tool.is_empty()
                || !tool
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(bad(format!(
                    "rate limits of `{owner}` name tool `{tool}`, which is not snake_case"
                )));
            }
            if *calls == 0 {
                return Err(bad(format!(
                    "rate limit of tool `{tool}` of `{owner}` is 0; remove the scope instead"
                )));
            }
        }
    }
    Ok(())
}

/// The limits for a caller holding `roles` (their limits, `None` for a role
/// without its own block), for one call of `server`/`tool`.
pub(crate) fn call_limits<'a>(
    document: &RateLimitDocument,
    roles: impl IntoIterator<Item = Option<&'a RateLimits>>,
    server: &str,
    tool: &str,
) -> CallLimits {
    let default = &document.default;
    let server_of = |l: &RateLimits| {
        l.servers
            .get(server)
            .or_else(|| l.servers.get("*"))
            .or_else(|| default.servers.get(server))
            .or_else(|| default.servers.get("*"))
            .copied()
    };
    let tool_of = |l: &RateLimits| {
        l.tools
            .get(tool)
            .or_else(|| default.tools.get(tool))
            .copied()
    };
    let mut server_cap: Option<Option<u64>> = None;
    let mut tool_cap: Option<Option<u64>> = None;
    let mut any = false;
    for limits in roles {
        any = true;
        let limits = limits.unwrap_or(default);
        // `None` inside means unlimited, which beats any number.
        server_cap = Some(most_generous(server_cap, server_of(limits)));
        tool_cap = Some(most_generous(tool_cap, tool_of(limits)));
    }
    if !any {
        server_cap = Some(server_of(default));
        tool_cap = Some(tool_of(default));
    }
    let mut counters = Vec::with_capacity(2);
    if let Some(Some(calls)) = server_cap {
        counters.push((format!("server:{server}"), calls));
    }
    if let Some(Some(calls)) = tool_cap {
        counters.push((format!("tool:{tool}"), calls));
    }
    CallLimits {
        window: Duration::from_secs(document.window_seconds),
        counters,
    }
}

fn most_generous(so_far: Option<Option<u64>>, next: Option<u64>) -> Option<u64> {
    match (so_far, next) {
        (None, next) => next,
        (Some(None), _) | (_, None) => None,
        (Some(Some(a)), Some(b)) => Some(a.max(b)),
    }
}
