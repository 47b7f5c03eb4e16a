//! The `BarStore` port: OHLCV series stored in time buckets, switched
//! atomically between generations, read in pages.
//!
//! # Layout every engine uses
//! A series `(symbol, timeframe)` is a set of **buckets**: the bars whose
//! time falls in one epoch-aligned span of [`bucket_span_seconds`] (1440 bar
//! widths: 1m bars per UTC day, 1h bars per 60 days, 1d bars per 1440 days).
//! A bucket is written whole, as packed binary `f64`s, so it holds at most
//! [`MAX_BARS_PER_BUCKET`] bars (about 200 KB, well under DynamoDB's 400 KB
//! item limit).
//!
//! A put is copy-on-write: the engine merges the new bars into the touched
//! buckets and writes each as a new immutable bucket version under a write id
//! nobody else uses; untouched buckets are shared with the previous
//! generation. Then one conditional write of the series metadata (expected:
//! the generation the put started from) switches the series to the new
//! generation, whose directory names the version of every bucket. Readers
//! start from the metadata, so they see the old generation or the new one,
//! never a mix, and never a bucket version the metadata does not name: the
//! buckets of a put that failed or lost the race are invisible.
//!
//! In DynamoDB this is: one metadata item per series (count, first, last,
//! source, generation, and the directory as a binary attribute of about
//! 14 bytes per bucket), one item per bucket version keyed by bucket start
//! and write id (time-based plus random, so concurrent writers never share
//! one), `PutItem`s for the buckets, then one `PutItem` of the metadata with
//! `generation = :expected` (or `attribute_not_exists` for a new series).
//! Superseded and orphaned bucket versions are deleted later (after a grace
//! period longer than any read) by whoever writes the series next; never by
//! TTL, which would have to be lifted at the switch.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Bar, Order, StoreError, Symbol, Timeframe};

/// The most bars one `get_bars` page returns, whatever `limit` asks for.
pub const MAX_BARS_PER_PAGE: usize = 10_000;
/// The most series one `list_series` page returns.
pub const MAX_SERIES_PER_PAGE: usize = 1_000;
/// The most bars one bucket may hold. Bars of a timeframe are about one
/// width apart, so a bucket nominally holds 1440; the margin admits
/// irregular sessions (daylight saving shifts) but not, say, per-second bars
/// stored as `1d`, which `put_bars` refuses as `Invalid`.
pub const MAX_BARS_PER_BUCKET: usize = 4_096;

/// Length of a bucket: 1440 bar widths, aligned to the Unix epoch.
pub fn bucket_span_seconds(timeframe: Timeframe) -> i64 {
    match timeframe {
        Timeframe::M1 => 86_400,
        Timeframe::M5 => 432_000,
        Timeframe::M15 => 1_296_000,
        Timeframe::M30 => 2_592_000,
        Timeframe::H1 => 5_184_000,
        Timeframe::H4 => 20_736_000,
        Timeframe::D1 => 124_416_000,
        Timeframe::W1 => 870_912_000,
    }
}

/// Start (epoch seconds) of the bucket holding a bar at `time_secs`.
pub fn bucket_start(timeframe: Timeframe, time_secs: i64) -> i64 {
    let span = bucket_span_seconds(timeframe);
    // `span` is a positive constant, so neither step can fail for times chrono
    // can represent; saturating keeps the function total anyway.
    time_secs
        .checked_div_euclid(span)
        .and_then(|n| n.checked_mul(span))
        .unwrap_or(i64::MIN)
}

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

/// What is stored for one series (its metadata: one item, read consistently).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesInfo {
    pub key: SeriesKey,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub source: DataSource,
}

/// One page of a range read.
///
/// Bounds are inclusive. `limit` caps the bars of this page (`None` or
/// anything above [`MAX_BARS_PER_PAGE`] means that maximum), counted from
/// `start` for `Ascending` and back from `end` for `Descending`. `cursor` is
/// a page's `next_cursor`, passed back with the same key, bounds and order to
/// continue in the same direction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarQuery {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub limit: Option<usize>,
    pub order: Order,
    pub cursor: Option<String>,
}

/// Bars oldest first. `next_cursor` is `Some` exactly when more bars match
/// the query in its direction (later ones for `Ascending`, earlier ones for
/// `Descending`); a page is shorter than its limit only when it is the last.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarPage {
    pub bars: Vec<Bar>,
    pub next_cursor: Option<String>,
}

/// One page of `list_series`: series whose symbol starts with
/// `symbol_prefix` (byte-wise, case-sensitive; symbols are upper case),
/// ordered by symbol then timeframe. `limit` is capped at
/// [`MAX_SERIES_PER_PAGE`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesQuery {
    pub symbol_prefix: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// `next_cursor` is `Some` exactly when more series match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeriesPage {
    pub series: Vec<SeriesInfo>,
    pub next_cursor: Option<String>,
}

/// Outcome of an upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PutReport {
    pub inserted: u64,
    pub updated: u64,
}

/// Time series of bars.
///
/// Consistency: every read starts from the series metadata, read strongly
/// consistent (DynamoDB `ConsistentRead`), so a read that starts after a
/// `put_bars` returned sees that put. Bucket versions are immutable once
/// named by metadata, so engines may read them eventually consistent, as long
/// as a named version that is not found yet is re-read consistently.
#[async_trait]
pub trait BarStore: Send + Sync {
    /// Merges `bars` (strictly increasing times, whole seconds) into the
    /// series: bars at new times are inserted, bars at stored times replace
    /// the stored ones. The latest put names the series' `source`.
    ///
    /// All or nothing for readers, whatever the size: the put writes new
    /// versions of the touched buckets, then switches the series to them with
    /// one conditional metadata write. If another writer switched the series
    /// first, nothing becomes visible and the result is
    /// `StoreError::Conflict`; calling again re-reads and merges afresh.
    /// Retrying after any failure (a timeout included) is safe: the bars end
    /// up stored once, and a retry of a put that did land reports them as
    /// updated. Refused before anything is written: unordered or sub-second
    /// times (`Invalid`), more than [`MAX_BARS_PER_BUCKET`] bars in one
    /// bucket (`Invalid`).
    ///
    /// Consistency: when it returns `Ok`, every read that starts afterwards
    /// sees the new generation (the switch is a strongly consistent
    /// conditional write of the metadata).
    async fn put_bars(
        &self,
        key: &SeriesKey,
        bars: &[Bar],
        source: &DataSource,
    ) -> Result<PutReport, StoreError>;

    /// One page of bars in `[start, end]`; see [`BarQuery`] and [`BarPage`].
    /// An unknown series reads as an empty last page. A cursor from another
    /// order, or one this engine did not make, is `Invalid`. Every page is
    /// read from one generation; following a cursor across a put continues
    /// by time in whatever generation is current.
    ///
    /// Consistency: the bucket directory comes from a strongly consistent
    /// metadata read; the buckets it names are immutable, so they may be
    /// read eventually consistent (re-read consistently when not found yet).
    async fn get_bars(&self, key: &SeriesKey, query: &BarQuery) -> Result<BarPage, StoreError>;

    /// The metadata of one series, or `None`. Strongly consistent.
    async fn series_info(&self, key: &SeriesKey) -> Result<Option<SeriesInfo>, StoreError>;

    /// Every series of `symbol`, finest timeframe first, in one call (one
    /// DynamoDB `Query` of the symbol's partition). Strongly consistent.
    async fn series_of(&self, symbol: &Symbol) -> Result<Vec<SeriesInfo>, StoreError>;

    /// One page of series; see [`SeriesQuery`]. A cursor from a listing of
    /// another prefix is `Invalid`. Strongly consistent per page.
    async fn list_series(&self, query: &SeriesQuery) -> Result<SeriesPage, StoreError>;
}

/// Reads up to `query.limit` bars (every matching bar when `None`) by
/// following cursors, oldest first: for callers that need more than one page
/// in memory. Prefer paging where the result goes to a client.
pub async fn read_bars<S: BarStore + ?Sized>(
    store: &S,
    key: &SeriesKey,
    query: &BarQuery,
) -> Result<Vec<Bar>, StoreError> {
    let mut remaining = query.limit.unwrap_or(usize::MAX);
    let mut pages: Vec<Vec<Bar>> = Vec::new();
    let mut cursor = query.cursor.clone();
    while remaining > 0 {
        let page = store
            .get_bars(
                key,
                &BarQuery {
                    limit: Some(remaining.min(MAX_BARS_PER_PAGE)),
                    cursor: cursor.take(),
                    ..query.clone()
                },
            )
            .await?;
        remaining = remaining.saturating_sub(page.bars.len());
        pages.push(page.bars);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if query.order == Order::Descending {
        pages.reverse();
    }
    Ok(pages.into_iter().flatten().collect())
}

/// Every series whose symbol starts with `symbol_prefix`, following cursors.
pub async fn read_series<S: BarStore + ?Sized>(
    store: &S,
    symbol_prefix: Option<&str>,
) -> Result<Vec<SeriesInfo>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_series(&SeriesQuery {
                symbol_prefix: symbol_prefix.map(str::to_string),
                limit: None,
                cursor: cursor.take(),
            })
            .await?;
        out.extend(page.series);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_1440_bar_widths_aligned_to_the_epoch() {
        for tf in Timeframe::ALL {
            assert_eq!(bucket_span_seconds(tf), tf.seconds() * 1440);
            let span = bucket_span_seconds(tf);
            assert_eq!(bucket_start(tf, 0), 0);
            assert_eq!(bucket_start(tf, span - 1), 0);
            assert_eq!(bucket_start(tf, span), span);
            assert_eq!(bucket_start(tf, -1), -span);
        }
        // A bucket at the most bars fits DynamoDB's 400 KB item with room.
        let most = MAX_BARS_PER_BUCKET * 48;
        assert!(most < 300 * 1024, "{most}");
    }
}
