//! Market data on its way in: parsing the CSV files users bring to
//! `goldensignals import`, and generating the seeded demo data set that lets
//! the product run without any data feed. Both hand back validated
//! [`gs_domain::Bar`]s; storing them is the caller's business.
//!
//! This crate must never depend on a storage engine, MCP, AWS, an HTTP client
//! or the filesystem: it reads from any `std::io::Read` and computes, so the
//! CLI, the server and the tests can all feed it. The demo generator uses its
//! own PRNG so a seed means the same data forever, whatever our dependencies do.

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

mod csv_import;
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::expect_used,
    reason = "pure simulation maths over fixed specs; inputs are a seed and the clock, never request data"
)]
mod demo;

pub use csv_import::{
    Column, ColumnMap, CsvError, CsvOptions, Dialect, ParsedCsv, RowError, parse_csv, parse_csv_str,
};
pub use demo::{DEMO_GENERATOR, DemoSeries, SeedReport, demo_dataset, demo_source, seed_demo};
