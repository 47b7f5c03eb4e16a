//! The DynamoDB engine of GoldenSignals' storage ports: `BarStore` (OHLCV
//! series as packed binary buckets, switched between generations by one
//! conditional write) and `RecordStore` (owned, versioned documents with
//! TTLs, counters and transactions) on one table, through the AWS SDK. It is
//! what the Lambda functions and `goldensignals serve --store dynamodb` use.
//!
//! This crate knows the domain ports and DynamoDB, nothing about MCP, HTTP or
//! Lambda. The key design and its access patterns are in `ARCHITECTURE.md`
//! ("The DynamoDB table") and in [`table`]; the port contract it passes lives
//! in `gs-store-contract`, run against a moto server by `tests/contract.rs`.

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
mod error;
mod records;
pub mod table;

use aws_sdk_dynamodb::Client;

/// Both storage ports on one DynamoDB table. Cheap to clone (the SDK client
/// is shared).
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoStore {
    /// A store on `table`, which must exist with the layout of
    /// [`table::create`] (string `pk` and `sk`, TTL on `ttl`).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// From the SDK's shared configuration (region, credentials and
    /// `AWS_ENDPOINT_URL` as the SDK reads them).
    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}
