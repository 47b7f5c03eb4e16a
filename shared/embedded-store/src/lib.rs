//! The embedded storage engine of GoldenSignals' local mode: one redb file in a
//! data directory that implements the domain's `BarStore` (OHLCV series in
//! time buckets, switched between generations) and `RecordStore` (owned,
//! versioned documents with TTLs, counters and transactions) ports, so a
//! laptop runs the whole product with no server and no cloud account. It
//! keeps the ports' DynamoDB limits (item, transaction and page sizes) so
//! what works locally works in the cloud. Work runs on tokio's blocking pool.
//!
//! This crate must never depend on MCP, AWS or HTTP: it knows the domain ports
//! and its engine, nothing about who calls it or what runs in the cloud. The
//! port contract it passes lives in `gs-store-contract` (run by
//! `tests/contract.rs`).

// This crate handles request data: nothing in it may panic or overflow.
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

mod bars;
mod bus;
mod codec;
mod records;
mod store;

pub use bus::{DEFAULT_MAX_RECEIVES, EmbeddedBus};
pub use store::EmbeddedStore;
