//! Storage ports. Engines (embedded redb locally, DynamoDB in the cloud)
//! implement these; the contract tests in each engine crate hold them to the
//! same behaviour.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{Bar, Symbol, Timeframe};

/// Identifies one stored series.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
}

impl SeriesKey {
    pub fn new(symbol: Symbol, timeframe: Timeframe) -> Self {
        Self { symbol, timeframe }
    }
}

/// Where a series came from. Anything derived from `Synthetic` data must say
/// so in its output, so nobody mistakes demo prices for the market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    Synthetic { generator: String, seed: u64 },
    Imported { file: String },
}

impl DataSource {
    pub fn is_synthetic(&self) -> bool {
        matches!(self, Self::Synthetic { .. })
    }
}

/// What is stored for one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesInfo {
    pub key: SeriesKey,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub source: DataSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Ascending,
    Descending,
}

/// A range read. Bounds are inclusive; `limit` caps the rows returned, counted
/// from the start for `Ascending` and from the end for `Descending`.
/// Results are always returned oldest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarQuery {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
    pub order: Order,
}

/// Outcome of an upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PutReport {
    pub inserted: u64,
    pub updated: u64,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("storage engine failure: {message}")]
    Engine {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request to the store: {0}")]
    Invalid(String),
}

impl StoreError {
    pub fn engine(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Engine {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// Time series of bars.
#[async_trait]
pub trait BarStore: Send + Sync {
    /// Inserts or replaces bars (keyed by time) atomically: either every bar of
    /// the call is stored and the series metadata updated, or nothing is.
    /// `bars` must be in strictly increasing time order.
    async fn put_bars(
        &self,
        key: &SeriesKey,
        bars: &[Bar],
        source: &DataSource,
    ) -> Result<PutReport, StoreError>;

    async fn get_bars(&self, key: &SeriesKey, query: &BarQuery) -> Result<Vec<Bar>, StoreError>;

    async fn series_info(&self, key: &SeriesKey) -> Result<Option<SeriesInfo>, StoreError>;

    /// Every stored series, ordered by symbol then timeframe.
    async fn list_series(&self) -> Result<Vec<SeriesInfo>, StoreError>;
}

/// Application data (portfolios, alerts, settings...) as opaque documents in
/// named collections, with a version for optimistic concurrency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub version: u64,
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutCondition {
    Always,
    IfAbsent,
    IfVersion(u64),
}

#[async_trait]
pub trait RecordStore: Send + Sync {
    async fn get(&self, collection: &str, id: &str) -> Result<Option<Record>, StoreError>;

    /// Writes `value` if `condition` holds (else `StoreError::Conflict`) and
    /// returns the new version (1 for a new record).
    async fn put(
        &self,
        collection: &str,
        id: &str,
        value: &[u8],
        condition: PutCondition,
    ) -> Result<u64, StoreError>;

    async fn delete(&self, collection: &str, id: &str) -> Result<bool, StoreError>;

    /// Records of a collection ordered by id, starting after `after`.
    async fn list(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError>;
}
