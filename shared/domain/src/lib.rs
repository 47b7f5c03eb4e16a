//! The GoldenSignals domain: validated market-data types (symbols, timeframes,
//! bars, quotes), resampling, and the storage ports every engine implements.
//!
//! This crate must never depend on an engine (redb, DynamoDB), a transport
//! (MCP, JSON-RPC, HTTP, Lambda) or a runtime: values that exist here have
//! already passed validation, and the ports say what storage must guarantee
//! without saying how.

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

mod bar;
pub mod bar_layout;
mod bar_store;
pub mod bus;
mod columns;
mod error;
mod ports;
mod quote;
mod record_store;
mod symbol;
mod timeframe;

pub use bar::{Bar, resample};
pub use bar_store::{
    BarPage, BarQuery, BarStore, DataSource, MAX_BARS_PER_BUCKET, MAX_BARS_PER_PAGE,
    MAX_SERIES_PER_PAGE, PutReport, SeriesInfo, SeriesKey, SeriesPage, SeriesQuery,
    bucket_span_seconds, bucket_start, read_bars, read_series,
};
pub use bus::{Delivery, Event, EventBus, EventType, Route};
pub use columns::BarColumns;
pub use error::DomainError;
pub use ports::{Order, StoreError};
pub use quote::Quote;
pub use record_store::{
    Increment, ListQuery, MAX_PAGE_BYTES, MAX_RECORD_VALUE_BYTES, MAX_RECORDS_PER_PAGE,
    MAX_TRANSACTION_BYTES, MAX_TRANSACTION_OPS, Owner, Record, RecordKey, RecordPage, RecordScope,
    RecordStore, TxOp, WriteCondition, check_increment, check_record_value, check_transaction,
    condition_failure, list_cursor, list_page_limit, parse_list_cursor,
};
pub use symbol::Symbol;
pub use timeframe::Timeframe;
