//! An optional write mirror of bar series to Amazon Timestream for
//! LiveAnalytics, for accounts that still have it (the service closed to new
//! customers on 2025-06-20, so DynamoDB is the primary store and this is off
//! unless configured).
//!
//! [`Mirrored`] is a `BarStore` that writes to its primary store and then,
//! once the put has landed there, copies the bars to Timestream as
//! multi-measure records (`open`, `high`, `low`, `close`, `volume`;
//! dimensions `symbol` and `timeframe`; time in seconds), 100 per
//! `WriteRecords`. Reads always come from the primary store. A mirror
//! failure is logged and counted, never turned into a failed put: the
//! primary store already holds the bars, and a retried put would rewrite
//! them all.
//!
//! Production needs Timestream's endpoint discovery
//! ([`TimestreamMirror::discovered`]); against an emulator it must stay off
//! ([`TimestreamMirror::at_endpoint`]), or writes would go to the real
//! service's discovered host.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use aws_sdk_timestreamwrite::Client;
use aws_sdk_timestreamwrite::types::{Dimension, MeasureValue, MeasureValueType, Record, TimeUnit};
use gs_domain::{
    Bar, BarPage, BarQuery, BarStore, DataSource, PutReport, SeriesInfo, SeriesKey, SeriesPage,
    SeriesQuery, StoreError, Symbol,
};

/// Timestream's limit per `WriteRecords` call.
const RECORDS_PER_WRITE: usize = 100;

/// Where mirrored bars go.
#[derive(Debug, Clone)]
pub struct TimestreamMirror {
    client: Client,
    database: String,
    table: String,
    failures: Arc<AtomicU64>,
}

impl TimestreamMirror {
    /// For an emulator or a fixed endpoint: no endpoint discovery.
    pub fn at_endpoint(config: &aws_config::SdkConfig, database: &str, table: &str) -> Self {
        Self::with_client(Client::new(config), database, table)
    }

    /// For the real service: the SDK discovers the account's endpoint and
    /// refreshes it in the background.
    pub async fn discovered(
        config: &aws_config::SdkConfig,
        database: &str,
        table: &str,
    ) -> Result<Self, StoreError> {
        let (client, reload) = Client::new(config)
            .with_endpoint_discovery_enabled()
            .await
            .map_err(|e| StoreError::Unavailable(format!("Timestream endpoint discovery: {e}")))?;
        tokio_spawn_reload(reload);
        Ok(Self::with_client(client, database, table))
    }

    fn with_client(client: Client, database: &str, table: &str) -> Self {
        Self {
            client,
            database: database.to_string(),
            table: table.to_string(),
            failures: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Mirror writes that failed since start (each is logged).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    fn record(key: &SeriesKey, bar: &Bar) -> Record {
        let value = |name: &str, v: f64| {
            MeasureValue::builder()
                .name(name)
                .value(v.to_string())
                .r#type(MeasureValueType::Double)
                .build()
                .ok()
        };
        let dimension = |name: &str, v: &str| Dimension::builder().name(name).value(v).build().ok();
        Record::builder()
            .set_dimensions(Some(
                [
                    dimension("symbol", key.symbol.as_str()),
                    dimension("timeframe", key.timeframe.as_str()),
                ]
                .into_iter()
                .flatten()
                .collect(),
            ))
            .measure_name("bar")
            .measure_value_type(MeasureValueType::Multi)
            .set_measure_values(Some(
                [
                    value("open", bar.open()),
                    value("high", bar.high()),
                    value("low", bar.low()),
                    value("close", bar.close()),
                    value("volume", bar.volume()),
                ]
                .into_iter()
                .flatten()
                .collect(),
            ))
            .time(bar.time().timestamp().to_string())
            .time_unit(TimeUnit::Seconds)
            .build()
    }

    /// Writes the bars of one put; returns how many records were written.
    pub async fn write(&self, key: &SeriesKey, bars: &[Bar]) -> Result<usize, StoreError> {
        let mut written = 0usize;
        for chunk in bars.chunks(RECORDS_PER_WRITE) {
            let records: Vec<Record> = chunk.iter().map(|b| Self::record(key, b)).collect();
            self.client
                .write_records()
                .database_name(&self.database)
                .table_name(&self.table)
                .set_records(Some(records))
                .send()
                .await
                .map_err(|e| {
                    StoreError::Unavailable(format!(
                        "mirroring to Timestream {}.{}: {}",
                        self.database,
                        self.table,
                        aws_sdk_timestreamwrite::error::DisplayErrorContext(&e)
                    ))
                })?;
            written = written.saturating_add(chunk.len());
        }
        Ok(written)
    }
}

fn tokio_spawn_reload(reload: aws_sdk_timestreamwrite::endpoint_discovery::ReloadEndpoint) {
    tokio::spawn(reload.reload_task());
}

/// A bar store whose puts are mirrored to Timestream.
pub struct Mirrored {
    primary: Arc<dyn BarStore>,
    mirror: TimestreamMirror,
}

impl std::fmt::Debug for Mirrored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirrored")
            .field("mirror", &self.mirror)
            .finish_non_exhaustive()
    }
}

impl Mirrored {
    pub fn new(primary: Arc<dyn BarStore>, mirror: TimestreamMirror) -> Self {
        Self { primary, mirror }
    }
}

#[async_trait]
impl BarStore for Mirrored {
    async fn put_bars(
        &self,
        key: &SeriesKey,
        bars: &[Bar],
        source: &DataSource,
    ) -> Result<PutReport, StoreError> {
        let report = self.primary.put_bars(key, bars, source).await?;
        if let Err(e) = self.mirror.write(key, bars).await {
            self.mirror.failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(symbol = %key.symbol, timeframe = %key.timeframe, error = %e,
                "the bars are stored, but mirroring them to Timestream failed");
        }
        Ok(report)
    }

    async fn get_bars(&self, key: &SeriesKey, query: &BarQuery) -> Result<BarPage, StoreError> {
        self.primary.get_bars(key, query).await
    }

    async fn series_info(&self, key: &SeriesKey) -> Result<Option<SeriesInfo>, StoreError> {
        self.primary.series_info(key).await
    }

    async fn series_of(&self, symbol: &Symbol) -> Result<Vec<SeriesInfo>, StoreError> {
        self.primary.series_of(symbol).await
    }

    async fn list_series(&self, query: &SeriesQuery) -> Result<SeriesPage, StoreError> {
        self.primary.list_series(query).await
    }
}
