//! The GoldenSignals domain: validated market-data types (symbols, timeframes,
//! bars, quotes), resampling, and the storage ports every engine implements.
//!
//! This crate must never depend on an engine (redb, DynamoDB), a transport
//! (MCP, JSON-RPC, HTTP, Lambda) or a runtime: values that exist here have
//! already passed validation, and the ports say what storage must guarantee
//! without saying how.

mod bar;
mod columns;
mod error;
mod ports;
mod quote;
mod symbol;
mod timeframe;

pub use bar::{Bar, resample};
pub use columns::BarColumns;
pub use error::DomainError;
pub use ports::{
    BarQuery, BarStore, DataSource, Order, PutCondition, PutReport, Record, RecordStore,
    SeriesInfo, SeriesKey, StoreError,
};
pub use quote::Quote;
pub use symbol::Symbol;
pub use timeframe::Timeframe;
