//! Who is calling, and what may they call: verification of bearer access tokens (Cognito's, or
//! the local [`DevIssuer`]'s) into a [`Caller`], and the permission model that maps the caller's
//! scopes and groups to the MCP tools it may use ([`Scope`], [`Policy`], [`Permissions`]).
//!
//! This crate knows nothing about MCP, HTTP servers, Lambda or DynamoDB: it takes a token string
//! and answers with a caller or an [`AuthError`]. Its only I/O is fetching an issuer's JWKS (with
//! `reqwest`) and reading or creating local files (the policy, the dev signing key, the dev token
//! file). It never logs tokens or key material.
//!
//! # Verification rules
//! A token is accepted only if all of these hold:
//! - it is a compact JWS whose header `alg` is one of [`VerifierConfig::algorithms`] (so `none`
//!   and HMAC tokens signed with a public key are refused before any key is looked up), and
//!   whose header has a `kid` naming a key of the issuer's JWKS of the same key type;
//! - the signature verifies; `iss` equals the configured issuer; `exp` and `nbf` hold within
//!   [`VerifierConfig::leeway_secs`];
//! - `token_use`, when present, is `access` (Cognito id tokens are refused);
//! - `aud` names one of the configured audiences, or, when there is no `aud` (Cognito access
//!   tokens), `client_id` does;
//! - `sub` is present.
//!
//! A JWKS URL is fetched on first use and cached by `kid`. A token naming an unknown `kid`
//! triggers a refetch, at most once per [`Verifier::DEFAULT_MIN_REFETCH_INTERVAL`], so a flood of
//! made-up kids cannot hammer the issuer; concurrent verifications share one fetch. Fetched keys
//! expire (`Cache-Control: max-age`, bounded; an hour without it), are refetched before use
//! once expired, and outlive a failed refetch only by a bounded grace ([`JwksCachePolicy`]).
//! JWKS bodies are read up to [`JwksCachePolicy::max_body_bytes`] and refused beyond.
//!
//! Scopes: see [`VerifierConfig::resource_server_ids`]; only our resource servers' prefixes
//! are stripped, and scopes of other APIs never count.
//!
//! # Policy document
//! `infra/auth-policy.json` (compiled in as [`Policy::default_policy`]) has this shape:
//! ```json
//! {
//!   "$comment": "free text, ignored",
//!   "groups": { "<cognito group>": ["<role>", ...] },
//!   "roles": {
//!     "<role>": {
//!       "description": "optional",
//!       "includes": ["<role whose scopes this role also gets>", ...],
//!       "scopes": ["market-data:*", "portfolio:get_positions", "*", ...]
//!     }
//!   }
//! }
//! ```
//! Unknown fields, undefined roles, include cycles and invalid scopes are refused on load. A
//! caller's [`Permissions`] are its token's scopes plus the scopes of the roles its groups map to.

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

mod caller;
mod dev_issuer;
mod error;
mod jwks;
mod limits;
mod policy;
mod scope;
mod ttl;
mod verifier;

pub use caller::Caller;
pub use dev_issuer::DevIssuer;
pub use error::AuthError;
pub use jwks::JwksCachePolicy;
pub use limits::{CallLimits, FieldRule, RateLimits};
pub use policy::{Policy, Role};
pub use scope::{Permissions, SERVERS, Scope};
pub use ttl::parse_ttl;
pub use verifier::{JwksSource, Verifier, VerifierConfig};
