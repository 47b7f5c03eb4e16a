//! The MCP edge of GoldenSignals: the tools, resources, prompts and
//! completions (rmcp's `ServerHandler`), and the HTTP layer in front of them
//! (host check, bearer-token authentication, RFC 9728 metadata).
//!
//! The same router serves the local endpoint and, later, the Lambda gateway.
//! This crate translates between MCP and the domain; it must never contain
//! analytics or storage logic of its own, and it never logs tokens.

mod candlesticks;
mod catalog;
mod chart_patterns;
mod error;
mod handler;
mod http_layer;
pub mod market_data;
mod signals;
pub mod technical;
mod time_input;

pub use catalog::{ToolEntry, tools};
pub use error::ToolError;
pub use handler::GoldenSignals;
pub use http_layer::{HttpConfig, router};

use gs_auth::{Caller, Permissions};

/// The authenticated caller of one request and what it may do.
#[derive(Debug)]
pub struct Principal {
    pub subject: String,
    pub caller: Caller,
    pub permissions: Permissions,
}
