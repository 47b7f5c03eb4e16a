//! The embedded storage engine of GoldenSignals' local mode: one redb file in a
//! data directory that implements the domain's `BarStore` (OHLCV series) and
//! `RecordStore` (versioned application documents) ports, so a laptop runs the
//! whole product with no server and no cloud account. Every call is one redb
//! transaction, run on tokio's blocking pool.
//!
//! This crate must never depend on MCP, AWS or HTTP: it knows the domain ports
//! and its engine, nothing about who calls it or what runs in the cloud.
//!
//! With the `contract-tests` feature it also exposes [`contract`], the
//! engine-independent test suite every engine of the ports must pass.

mod codec;
mod store;

#[cfg(feature = "contract-tests")]
pub mod contract;

pub use store::EmbeddedStore;
