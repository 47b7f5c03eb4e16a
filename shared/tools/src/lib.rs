//! The tool bodies of every GoldenSignals MCP server, and the one registry
//! they are published from.
//!
//! A tool is a type implementing [`Tool`]: typed arguments (with a JSON
//! schema), a typed output (with its schema), annotations, and an async body
//! that takes a [`ToolContext`] (caller, stores, deadline, compute pool,
//! progress). [`registry()`] lists them all; [`Invoker`] carries a
//! serialisable [`ToolCall`] to wherever the body runs ([`LocalInvoker`]
//! runs it in-process).
//!
//! This crate knows nothing of MCP's wire format, rmcp, HTTP or Lambda: the
//! edge (gs-mcp) turns requests into calls and replies into responses. It
//! never logs tokens.

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

pub mod alerts;
pub mod bus;
pub mod candlesticks;
pub mod chart_patterns;
mod context;
pub mod data_source;
pub mod database;
mod digest;
mod error;
pub mod guard;
pub mod import;
mod invoker;
pub mod logs;
pub mod market_data;
pub mod monitoring;
pub mod options;
mod paging;
pub mod portfolio;
mod registry;
pub mod scheduler;
pub mod sentiment;
pub mod signals;
pub mod technical;
mod time_input;
pub mod watchlists;

pub use context::{ComputePool, ProgressSink, Stores, ToolContext};
pub use error::{ErrorKind, ToolError};
pub use invoker::{CallerIdentity, Invoker, LocalInvoker, MAX_DEADLINE, ToolCall, ToolReply};
pub use registry::{Annotations, Tool, ToolOutput, ToolSpec, find, registry};
