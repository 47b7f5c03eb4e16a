//! Tools of the `database` server: typed, read-only access to the stored
//! series. `list_series` says what is stored and how complete it is,
//! `query_timeseries` reads one series (optionally resampled) with per-row
//! aggregates and statistics over the whole range, `aggregate_series` aligns
//! several symbols and builds indices, correlations and relative
//! performance. There is no query language: every argument is typed.
//!
//! The arithmetic lives in `maths` (parity with numpy is tested against
//! `tests/data/database_reference.json`), the gap rule in `gaps`.

mod gaps;
mod maths;

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use gs_domain::{
    Bar, BarQuery, BarStore, Order, SeriesInfo, SeriesKey, Symbol, Timeframe, read_bars,
    read_series, resample,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use gaps::{Calendar, Gap};

use self::maths::finite;
use crate::context::ToolContext;
use crate::error::ToolError;
use crate::market_data::synthetic_note;
use crate::registry::{Annotations, Tool};
use crate::time_input::parse_time;

const SERVER: &str = "database";
/// Series per `list_series` page, at most.
pub const MAX_SERIES_ROWS: usize = 200;
const DEFAULT_SERIES_ROWS: usize = 50;
/// The latest bars of one series `list_series` scans for gaps.
pub const MAX_GAP_SCAN_BARS: usize = 100_000;
/// Bars one `list_series` page scans in all; a page ends early (with a
/// cursor) rather than pass it, but always lists at least one series.
const GAP_SCAN_BUDGET: usize = 400_000;
/// Largest gaps listed per series.
const LARGEST_GAPS: usize = 5;
/// Rows per page of `query_timeseries` and `aggregate_series`, at most.
pub const MAX_ROWS: usize = 5_000;
const DEFAULT_ROWS: usize = 500;
/// Stored bars one call reads for its range (all symbols together for
/// `aggregate_series`): statistics cover the whole range, so a larger
/// range is refused rather than summarised in part.
pub const MAX_RANGE_BARS: usize = 500_000;
pub const MIN_SYMBOLS: usize = 2;
pub const MAX_SYMBOLS: usize = 50;

// ----------------------------------------------------------------- list_series

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSeriesArgs {
    /// Only the series of this symbol (exact ticker, case-insensitive), e.g. AAPL.
    pub symbol: Option<String>,
    /// Only series of this bar width: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w.
    pub timeframe: Option<String>,
    /// A stretch between two consecutive bars counts as a gap when more than
    /// this many expected bars are missing in it (default 1: a single
    /// exchange holiday or one dropped bar is not a gap; 0 reports every
    /// missing bar). At most 1000000.
    pub gap_threshold: Option<u32>,
    /// Series per page (default 50, at most 200).
    pub limit: Option<u32>,
    /// Opaque cursor from a previous response's `next_cursor`, to fetch the
    /// next page; repeat the other arguments unchanged.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SeriesEntry {
    pub symbol: String,
    /// Bar width of the stored series.
    pub timeframe: String,
    /// Number of stored bars.
    pub bars: u64,
    /// Time of the first stored bar (RFC 3339, UTC).
    pub first: DateTime<Utc>,
    /// Time of the last stored bar (RFC 3339, UTC).
    pub last: DateTime<Utc>,
    /// True when the series is demo data from the seeded generator, not market data.
    pub synthetic: bool,
    /// Calendar the expected bars follow, inferred from the bars: weekdays
    /// (no weekend bar stored) or continuous.
    pub calendar: Calendar,
    /// Bars the calendar expects over the scanned stretch.
    pub expected_bars: u64,
    /// Expected bars with no stored bar over the scanned stretch.
    pub missing_bars: u64,
    /// Scanned bars / expected bars, 0 to 1.
    pub coverage: f64,
    /// Stretches with more than `gap_threshold` missing bars.
    pub gaps: u64,
    /// The largest gaps, largest first (at most 5).
    pub largest_gaps: Vec<Gap>,
    /// Bars scanned for gaps: the latest 100000 at most.
    pub scanned_bars: u64,
    /// Time of the first scanned bar; earlier bars were not scanned when
    /// `scan_complete` is false.
    pub scanned_from: Option<DateTime<Utc>>,
    /// True when every stored bar was scanned.
    pub scan_complete: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListSeriesOutput {
    pub series: Vec<SeriesEntry>,
    pub count: usize,
    /// The gap threshold applied.
    pub gap_threshold: u32,
    /// True when any listed series is synthetic demo data.
    pub synthetic: bool,
    /// Pass as `cursor` (with the same other arguments) for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub async fn list_series(
    ctx: &ToolContext,
    args: ListSeriesArgs,
) -> Result<(ListSeriesOutput, String), ToolError> {
    let store = ctx.bars();
    let symbol = args.symbol.as_deref().map(Symbol::parse).transpose()?;
    let timeframe = args
        .timeframe
        .as_deref()
        .map(Timeframe::parse)
        .transpose()?;
    let limit = page_limit(args.limit, DEFAULT_SERIES_ROWS, MAX_SERIES_ROWS)?;
    let gap_threshold = args.gap_threshold.unwrap_or(1);
    if gap_threshold > 1_000_000 {
        return Err(ToolError::invalid(
            "gap_threshold must be between 0 and 1000000 (missing bars a stretch may have before it counts as a gap)",
        ));
    }
    let after = args
        .cursor
        .as_deref()
        .map(decode_series_cursor)
        .transpose()?;
    let mut all = match &symbol {
        Some(s) => store.series_of(s).await?,
        None => read_series(store, None).await?,
    };
    all.retain(|s| timeframe.is_none_or(|tf| s.key.timeframe == tf));
    all.retain(|s| after.as_ref().is_none_or(|a| s.key > *a));
    all.sort_by(|a, b| a.key.cmp(&b.key));

    let mut scanned: Vec<(SeriesInfo, Vec<DateTime<Utc>>)> = Vec::new();
    let mut budget = GAP_SCAN_BUDGET;
    let mut next_cursor = None;
    for (i, info) in all.iter().enumerate() {
        let want = usize::try_from(info.count)
            .unwrap_or(usize::MAX)
            .min(MAX_GAP_SCAN_BARS);
        if i >= limit || (!scanned.is_empty() && want > budget) {
            next_cursor = scanned.last().map(|(s, _)| encode_series_cursor(&s.key));
            break;
        }
        let bars = read_bars(
            store,
            &info.key,
            &BarQuery {
                limit: Some(MAX_GAP_SCAN_BARS),
                order: Order::Descending,
                ..BarQuery::default()
            },
        )
        .await?;
        budget = budget.saturating_sub(bars.len());
        scanned.push((info.clone(), bars.iter().map(Bar::time).collect()));
    }
    let threshold = u64::from(gap_threshold);
    let series: Vec<SeriesEntry> = ctx
        .compute(move || {
            Ok(scanned
                .into_iter()
                .map(|(info, times)| series_entry(&info, &times, threshold))
                .collect())
        })
        .await?;
    let synthetic = series.iter().any(|s| s.synthetic);
    let summary = list_summary(&series, symbol.as_ref(), next_cursor.is_some(), synthetic);
    Ok((
        ListSeriesOutput {
            count: series.len(),
            series,
            gap_threshold,
            synthetic,
            next_cursor,
        },
        summary,
    ))
}

fn series_entry(info: &SeriesInfo, times: &[DateTime<Utc>], threshold: u64) -> SeriesEntry {
    let tf = info.key.timeframe;
    let c = gaps::scan(times, tf, threshold, LARGEST_GAPS);
    let scanned = u64::try_from(times.len()).unwrap_or(u64::MAX);
    SeriesEntry {
        symbol: info.key.symbol.to_string(),
        timeframe: tf.to_string(),
        bars: info.count,
        first: info.first,
        last: info.last,
        synthetic: info.source.is_synthetic(),
        calendar: c.calendar,
        expected_bars: c.expected,
        missing_bars: c.missing,
        coverage: if c.expected == 0 {
            1.0
        } else {
            scanned as f64 / c.expected as f64
        },
        gaps: c.gaps,
        largest_gaps: c.largest,
        scanned_bars: scanned,
        scanned_from: times.first().copied(),
        scan_complete: scanned >= info.count,
    }
}

fn list_summary(
    series: &[SeriesEntry],
    symbol: Option<&Symbol>,
    more: bool,
    synthetic: bool,
) -> String {
    if series.is_empty() {
        return match symbol {
            Some(s) => format!(
                "No series stored for {s}. Call list_series without symbol to see every stored series, or import bars with `goldensignals import --symbol {s} --timeframe 1d FILE.csv`."
            ),
            None => "No series match. Call list_series without filters to see every stored series; import bars with `goldensignals import --symbol SYM --timeframe 1d FILE.csv`.".to_string(),
        };
    }
    let with_gaps: Vec<String> = series
        .iter()
        .filter(|s| s.gaps > 0)
        .map(|s| format!("{} {} ({})", s.symbol, s.timeframe, s.gaps))
        .collect();
    let total: u64 = series.iter().map(|s| s.bars).fold(0, u64::saturating_add);
    format!(
        "{} series, {} bars in all. {}{}{}",
        series.len(),
        total,
        if with_gaps.is_empty() {
            "No gaps found.".to_string()
        } else {
            format!("Gaps found in {}.", with_gaps.join(", "))
        },
        if more {
            " More series follow: call again with next_cursor."
        } else {
            ""
        },
        if synthetic {
            " Some series are synthetic demo data, not real market prices."
        } else {
            ""
        }
    )
}

// ------------------------------------------------------------ query_timeseries

/// What each row of `query_timeseries` carries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// The bar itself: open, high, low, close, volume (resampled when `resample` is set).
    Ohlc,
    /// Mean of `field` over the stored bars in the row.
    Mean,
    /// Minimum of `field` over the stored bars in the row.
    Min,
    /// Maximum of `field` over the stored bars in the row.
    Max,
    /// Sum of `field` over the stored bars in the row.
    Sum,
    /// Volume-weighted average of the typical price (high + low + close) / 3 over the stored bars in the row.
    Vwap,
    /// Simple close-to-close return against the previous row.
    Returns,
    /// Natural log of close over the previous row's close.
    LogReturns,
}

/// A bar field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Open,
    High,
    Low,
    #[default]
    Close,
    Volume,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::High => "high",
            Self::Low => "low",
            Self::Close => "close",
            Self::Volume => "volume",
        }
    }

    fn of(self, bar: &Bar) -> f64 {
        match self {
            Self::Open => bar.open(),
            Self::High => bar.high(),
            Self::Low => bar.low(),
            Self::Close => bar.close(),
            Self::Volume => bar.volume(),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryTimeseriesArgs {
    /// Ticker symbol, e.g. AAPL. Call list_series to see what is stored.
    pub symbol: String,
    /// Stored bar width to read: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w (default 1d).
    /// It must be stored for the symbol (list_series shows which are); use
    /// `resample` for coarser bars.
    pub timeframe: Option<String>,
    /// First bar time to include (RFC 3339, YYYY-MM-DD or epoch seconds);
    /// default the first stored bar. With `resample`, rounded down to the
    /// start of its coarser bucket.
    pub start: Option<String>,
    /// Last bar time to include (RFC 3339, YYYY-MM-DD or epoch seconds); default the last stored bar.
    pub end: Option<String>,
    /// Coarser bar width to group the stored bars into (a multiple of
    /// `timeframe`, e.g. 1w from 1d). Each row is then one bucket.
    pub resample: Option<String>,
    /// What each row carries (default [ohlc]): ohlc, mean, min, max, sum (of
    /// `field`), vwap, returns, log_returns. Without `resample` a row is one
    /// bar, so mean = min = max = sum = the field's value.
    pub aggregates: Option<Vec<Aggregate>>,
    /// Bar field that mean, min, max and sum (per row and in `stats`) are
    /// taken of (default close).
    pub field: Option<Field>,
    /// Rows per page (default 500, at most 5000).
    pub limit: Option<u32>,
    /// Opaque cursor from a previous response's `next_cursor`, to fetch the
    /// next page; repeat the other arguments unchanged.
    pub cursor: Option<String>,
}

/// One row: a stored bar, or a bucket of them when resampled. Fields not
/// asked for are absent; returns are absent on the range's first row and
/// after a zero close; vwap is absent when no volume traded.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Row {
    /// Bar (or bucket) start time (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    /// Stored bars in the row.
    pub bars: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vwap: Option<f64>,
    /// Simple return close / previous row's close − 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simple_return: Option<f64>,
    /// ln(close / previous row's close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_return: Option<f64>,
}

/// Statistics over the whole selected range (every page repeats them).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RangeStats {
    /// Stored bars in the range.
    pub source_bars: usize,
    /// Rows in the range (all pages).
    pub rows: usize,
    /// First and last row times.
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// The field mean, min, max and sum are of.
    pub field: Field,
    /// Mean, min, max and sum of `field` over every stored bar in the range.
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub sum: Option<f64>,
    /// VWAP of the typical price over the range; absent when no volume traded.
    pub vwap: Option<f64>,
    /// Last row's close / first row's close − 1.
    pub total_return: Option<f64>,
    /// Mean and sample standard deviation (n − 1) of the rows' simple returns.
    pub mean_return: Option<f64>,
    pub std_return: Option<f64>,
    /// Mean and sum of the rows' log returns.
    pub mean_log_return: Option<f64>,
    pub sum_log_return: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct QueryTimeseriesOutput {
    pub symbol: String,
    /// Bar width of the rows.
    pub timeframe: String,
    /// Bar width of the stored series read.
    pub source_timeframe: String,
    /// True when rows are buckets of finer stored bars.
    pub resampled: bool,
    /// True when derived from synthetic demo data, not market prices.
    pub synthetic: bool,
    /// What the rows carry.
    pub aggregates: Vec<Aggregate>,
    pub count: usize,
    pub rows: Vec<Row>,
    pub stats: RangeStats,
    /// Pass as `cursor` (with the same other arguments) for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub async fn query_timeseries(
    ctx: &ToolContext,
    args: QueryTimeseriesArgs,
) -> Result<(QueryTimeseriesOutput, String), ToolError> {
    let store = ctx.bars();
    let symbol = Symbol::parse(&args.symbol)?;
    let timeframe = Timeframe::parse(args.timeframe.as_deref().unwrap_or("1d"))?;
    let target = match args.resample.as_deref() {
        None => timeframe,
        Some(raw) => {
            let to = Timeframe::parse(raw)?;
            if !to.is_multiple_of(timeframe) {
                let coarser: Vec<&str> = Timeframe::ALL
                    .iter()
                    .filter(|t| t.is_multiple_of(timeframe) && **t != timeframe)
                    .map(|t| t.as_str())
                    .collect();
                return Err(ToolError::invalid(format!(
                    "cannot resample {timeframe} bars to {to}: resample must be a coarser multiple of timeframe ({})",
                    if coarser.is_empty() {
                        "none exists for 1w".to_string()
                    } else {
                        coarser.join(", ")
                    }
                )));
            }
            to
        }
    };
    let mut aggregates = args.aggregates.unwrap_or_else(|| vec![Aggregate::Ohlc]);
    aggregates.sort_unstable();
    aggregates.dedup();
    if aggregates.is_empty() {
        return Err(ToolError::invalid(
            "aggregates is empty: give at least one of ohlc, mean, min, max, sum, vwap, returns, log_returns",
        ));
    }
    let field = args.field.unwrap_or_default();
    let limit = page_limit(args.limit, DEFAULT_ROWS, MAX_ROWS)?;
    let (start, end) = parse_range(args.start.as_deref(), args.end.as_deref())?;
    let from = args.cursor.as_deref().map(decode_time_cursor).transpose()?;

    let series = store.series_of(&symbol).await?;
    let info = series
        .iter()
        .find(|s| s.key.timeframe == timeframe)
        .cloned()
        .ok_or_else(|| not_stored(&symbol, timeframe, &series))?;
    let bars = read_range(
        store,
        &info,
        start.map(|s| target.bucket_start(s)),
        end,
        MAX_RANGE_BARS,
    )
    .await?;
    let resampled = target != timeframe;
    let wanted = aggregates.clone();
    let (rows, stats) = ctx
        .compute(move || {
            let rows = build_rows(&bars, timeframe, target, &wanted, field)?;
            let stats = range_stats(&bars, &rows, field);
            Ok((rows, stats))
        })
        .await?;
    let (page, next_cursor) = page_of(rows, from, limit, |r| r.time);
    let strip = |mut r: Row| {
        if !aggregates.contains(&Aggregate::Ohlc) {
            r.open = None;
            r.high = None;
            r.low = None;
            r.close = None;
            r.volume = None;
        }
        r
    };
    let page: Vec<Row> = page.into_iter().map(strip).collect();
    let synthetic = info.source.is_synthetic();
    let summary = query_summary(
        &symbol,
        target,
        resampled,
        timeframe,
        &page,
        &stats,
        next_cursor.is_some(),
        synthetic,
        &info,
    );
    Ok((
        QueryTimeseriesOutput {
            symbol: symbol.to_string(),
            timeframe: target.to_string(),
            source_timeframe: timeframe.to_string(),
            resampled,
            synthetic,
            aggregates,
            count: page.len(),
            rows: page,
            stats,
            next_cursor,
        },
        summary,
    ))
}

/// Every row of the range: one per stored bar, or one per `to` bucket. The
/// close is always filled (returns and statistics need it); the caller
/// drops OHLC when not asked for.
fn build_rows(
    bars: &[Bar],
    from: Timeframe,
    to: Timeframe,
    aggregates: &[Aggregate],
    field: Field,
) -> Result<Vec<Row>, ToolError> {
    let ohlc = if to == from {
        bars.to_vec()
    } else {
        resample(bars, from, to)?
    };
    let groups: Vec<&[Bar]> = bars
        .chunk_by(|a, b| to.bucket_start(a.time()) == to.bucket_start(b.time()))
        .collect();
    if groups.len() != ohlc.len() {
        return Err(ToolError::Internal(format!(
            "resampling made {} rows from {} buckets",
            ohlc.len(),
            groups.len()
        )));
    }
    let has = |a: Aggregate| aggregates.contains(&a);
    let mut rows = Vec::with_capacity(ohlc.len());
    let mut prev_close: Option<f64> = None;
    for (bar, group) in ohlc.iter().zip(groups) {
        let s = maths::summarize(group.iter().map(|b| field.of(b)));
        let pick = |a: Aggregate, v: Option<f64>| if has(a) { v } else { None };
        rows.push(Row {
            time: bar.time(),
            bars: group.len(),
            open: Some(bar.open()),
            high: Some(bar.high()),
            low: Some(bar.low()),
            close: Some(bar.close()),
            volume: finite(bar.volume()),
            mean: pick(Aggregate::Mean, s.and_then(|s| finite(s.mean))),
            min: pick(Aggregate::Min, s.map(|s| s.min)),
            max: pick(Aggregate::Max, s.map(|s| s.max)),
            sum: pick(Aggregate::Sum, s.and_then(|s| finite(s.sum))),
            vwap: pick(Aggregate::Vwap, maths::vwap(group)),
            simple_return: pick(
                Aggregate::Returns,
                prev_close.and_then(|p| maths::simple_return(p, bar.close())),
            ),
            log_return: pick(
                Aggregate::LogReturns,
                prev_close.and_then(|p| maths::log_return(p, bar.close())),
            ),
        });
        prev_close = Some(bar.close());
    }
    Ok(rows)
}

fn range_stats(bars: &[Bar], rows: &[Row], field: Field) -> RangeStats {
    let s = maths::summarize(bars.iter().map(|b| field.of(b)));
    let closes: Vec<f64> = rows.iter().filter_map(|r| r.close).collect();
    let simple: Vec<f64> = maths::simple_returns(&closes)
        .into_iter()
        .flatten()
        .collect();
    let logs: Vec<f64> = maths::log_returns(&closes).into_iter().flatten().collect();
    let ms = maths::mean_and_std(&simple);
    let log_s = maths::summarize(logs.iter().copied());
    RangeStats {
        source_bars: bars.len(),
        rows: rows.len(),
        first: rows.first().map(|r| r.time),
        last: rows.last().map(|r| r.time),
        field,
        mean: s.and_then(|s| finite(s.mean)),
        min: s.map(|s| s.min),
        max: s.map(|s| s.max),
        sum: s.and_then(|s| finite(s.sum)),
        vwap: maths::vwap(bars),
        total_return: match (closes.first(), closes.last()) {
            (Some(a), Some(b)) if closes.len() > 1 => maths::simple_return(*a, *b),
            _ => None,
        },
        mean_return: ms.and_then(|m| finite(m.0)),
        std_return: ms.and_then(|m| m.1),
        mean_log_return: log_s.and_then(|s| finite(s.mean)),
        sum_log_return: log_s.and_then(|s| finite(s.sum)),
    }
}

#[allow(clippy::too_many_arguments)]
fn query_summary(
    symbol: &Symbol,
    target: Timeframe,
    resampled: bool,
    source: Timeframe,
    page: &[Row],
    stats: &RangeStats,
    more: bool,
    synthetic: bool,
    info: &SeriesInfo,
) -> String {
    let (Some(first), Some(last)) = (stats.first, stats.last) else {
        return format!(
            "No {source} bars of {symbol} in the requested range (stored: {} to {}).{}",
            info.first.to_rfc3339(),
            info.last.to_rfc3339(),
            synthetic_note(synthetic)
        );
    };
    let fmt = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"));
    let pct =
        |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{:+.2}%", v * 100.0));
    format!(
        "{} rows of {} {}{} from {} to {} ({} on this page); {} mean {}, range {}-{}; VWAP {}; total return {}, mean return {} per bar.{}{}",
        stats.rows,
        symbol,
        target,
        if resampled {
            format!(" (resampled from {source})")
        } else {
            String::new()
        },
        first.to_rfc3339(),
        last.to_rfc3339(),
        page.len(),
        stats.field.as_str(),
        fmt(stats.mean),
        fmt(stats.min),
        fmt(stats.max),
        fmt(stats.vwap),
        pct(stats.total_return),
        pct(stats.mean_return),
        if more {
            " More rows follow: call again with next_cursor."
        } else {
            ""
        },
        synthetic_note(synthetic)
    )
}

// ------------------------------------------------------------ aggregate_series

/// What `aggregate_series` computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggregateMode {
    /// Index rebased to 100, rebalanced to equal weights every bar: each step
    /// grows by the mean of the members' simple returns.
    EqualWeighted,
    /// Index rebased to 100, rebalanced every bar: each step grows by the
    /// weighted mean of the members' simple returns, weighted by close ×
    /// volume of the previous bar (no look-ahead), or by the fixed `weights` given.
    ValueWeighted,
    /// Pearson correlation matrix of the members' simple returns.
    Correlation,
    /// Each member's cumulative return over the range, against the first
    /// symbol and against the equal-weighted index.
    RelativePerformance,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AggregateSeriesArgs {
    /// 2 to 50 distinct ticker symbols, e.g. ["AAPL", "MSFT"]. The first is
    /// the reference for relative_performance. Call list_series to see what is stored.
    pub symbols: Vec<String>,
    /// Bar width: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w (default 1d); resampled
    /// from a finer stored series when not stored itself.
    pub timeframe: Option<String>,
    /// First bar time to include (RFC 3339, YYYY-MM-DD or epoch seconds); default the first stored bar.
    pub start: Option<String>,
    /// Last bar time to include (RFC 3339, YYYY-MM-DD or epoch seconds); default the last stored bar.
    pub end: Option<String>,
    /// equal_weighted, value_weighted, correlation or relative_performance.
    pub mode: AggregateMode,
    /// Fixed weights for value_weighted, by symbol (non-negative, not all
    /// zero; normalised to sum to 1; symbols left out weigh 0). Without it,
    /// value_weighted weighs by close × volume of the previous bar.
    pub weights: Option<BTreeMap<String, f64>>,
    /// Index rows per page (default 500, at most 5000).
    pub limit: Option<u32>,
    /// Opaque cursor from a previous response's `next_cursor`, to fetch the
    /// next page of index rows; repeat the other arguments unchanged.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Member {
    pub symbol: String,
    /// Bar width of the stored series read (finer than `timeframe` when resampled).
    pub source_timeframe: String,
    /// Bars of `timeframe` in the range before alignment.
    pub bars: usize,
    /// Of those, bars at timestamps some other symbol lacks (left out).
    pub dropped: usize,
    /// True when the member is synthetic demo data.
    pub synthetic: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct IndexPoint {
    /// Bar start time (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    /// Index level; 100 at the first common timestamp (null if it overflows).
    pub value: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Correlation {
    /// Row and column order of `matrix`.
    pub symbols: Vec<String>,
    /// Pearson correlation of simple returns; null where a member's returns are constant.
    pub matrix: Vec<Vec<Option<f64>>>,
    /// Return observations per member (common timestamps − 1).
    pub observations: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Performance {
    pub symbol: String,
    /// Close at the first and last common timestamp.
    pub first_close: f64,
    pub last_close: f64,
    /// last_close / first_close − 1.
    pub cumulative_return: f64,
    /// (1 + cumulative_return) / (1 + the first symbol's) − 1.
    pub vs_first: Option<f64>,
    /// (1 + cumulative_return) / (equal-weighted index at the end / 100) − 1.
    pub vs_index: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AggregateSeriesOutput {
    pub mode: AggregateMode,
    /// Bar width the members were aligned at.
    pub timeframe: String,
    pub members: Vec<Member>,
    /// Timestamps every member has: the only ones used.
    pub common_timestamps: usize,
    /// Timestamps some member has but not all (left out).
    pub dropped_timestamps: usize,
    /// First and last common timestamp.
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// How the numbers were computed.
    pub convention: String,
    /// Index rows of this page (equal_weighted, value_weighted).
    pub index: Option<Vec<IndexPoint>>,
    /// Index level at the last common timestamp (equal_weighted, value_weighted, relative_performance).
    pub index_last: Option<f64>,
    /// Normalised fixed weights used (value_weighted with `weights`).
    pub weights: Option<BTreeMap<String, f64>>,
    /// Correlation matrix (correlation).
    pub correlation: Option<Correlation>,
    /// Per-member cumulative returns (relative_performance).
    pub performance: Option<Vec<Performance>>,
    /// True when any member is synthetic demo data.
    pub synthetic: bool,
    /// Pass as `cursor` (with the same other arguments) for the next page of index rows; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Bars of several series kept only at the timestamps all of them have.
#[derive(Debug)]
pub(crate) struct Aligned {
    pub times: Vec<DateTime<Utc>>,
    /// Per input series, its bars at `times`.
    pub members: Vec<Vec<Bar>>,
    /// Per input series, bars left out.
    pub dropped: Vec<usize>,
    /// Timestamps present in some series but not all.
    pub dropped_times: usize,
}

/// Aligns time-ordered series on their common timestamps.
pub(crate) fn align(series: &[Vec<Bar>]) -> Aligned {
    let mut seen: BTreeMap<DateTime<Utc>, usize> = BTreeMap::new();
    for s in series {
        for b in s {
            let n = seen.entry(b.time()).or_default();
            *n = n.saturating_add(1);
        }
    }
    let common: BTreeSet<DateTime<Utc>> = seen
        .iter()
        .filter(|(_, n)| **n == series.len())
        .map(|(t, _)| *t)
        .collect();
    let members: Vec<Vec<Bar>> = series
        .iter()
        .map(|s| {
            s.iter()
                .filter(|b| common.contains(&b.time()))
                .copied()
                .collect()
        })
        .collect();
    let dropped = series
        .iter()
        .zip(&members)
        .map(|(s, m)| s.len().saturating_sub(m.len()))
        .collect();
    Aligned {
        dropped_times: seen.len().saturating_sub(common.len()),
        times: common.into_iter().collect(),
        members,
        dropped,
    }
}

struct Loaded {
    info: SeriesInfo,
    bars: Vec<Bar>,
}

pub async fn aggregate_series(
    ctx: &ToolContext,
    args: AggregateSeriesArgs,
) -> Result<(AggregateSeriesOutput, String), ToolError> {
    let store = ctx.bars();
    if !(MIN_SYMBOLS..=MAX_SYMBOLS).contains(&args.symbols.len()) {
        return Err(ToolError::invalid(format!(
            "symbols must list {MIN_SYMBOLS} to {MAX_SYMBOLS} tickers (got {}); for one symbol call query_timeseries",
            args.symbols.len()
        )));
    }
    let mut symbols: Vec<Symbol> = Vec::with_capacity(args.symbols.len());
    for raw in &args.symbols {
        let s = Symbol::parse(raw)?;
        if symbols.contains(&s) {
            return Err(ToolError::invalid(format!(
                "{s} is listed twice in symbols; list each symbol once"
            )));
        }
        symbols.push(s);
    }
    let timeframe = Timeframe::parse(args.timeframe.as_deref().unwrap_or("1d"))?;
    let (start, end) = parse_range(args.start.as_deref(), args.end.as_deref())?;
    let limit = page_limit(args.limit, DEFAULT_ROWS, MAX_ROWS)?;
    let from = args.cursor.as_deref().map(decode_time_cursor).transpose()?;
    let fixed = match (&args.weights, args.mode) {
        (None, _) => None,
        (Some(w), AggregateMode::ValueWeighted) => Some(fixed_weights(w, &symbols)?),
        (Some(_), _) => {
            return Err(ToolError::invalid(
                "weights apply only to mode value_weighted; drop weights or set mode to value_weighted",
            ));
        }
    };

    let mut loaded: Vec<Loaded> = Vec::with_capacity(symbols.len());
    let mut budget = MAX_RANGE_BARS;
    for symbol in &symbols {
        let series = store.series_of(symbol).await?;
        let info = pick_source(&series, timeframe)
            .cloned()
            .ok_or_else(|| not_stored(symbol, timeframe, &series))?;
        let bars = read_range(
            store,
            &info,
            start.map(|s| timeframe.bucket_start(s)),
            end,
            budget,
        )
        .await?;
        budget = budget.saturating_sub(bars.len());
        loaded.push(Loaded { info, bars });
    }
    let synthetic = loaded.iter().any(|l| l.info.source.is_synthetic());
    let mode = args.mode;
    let names: Vec<String> = symbols.iter().map(ToString::to_string).collect();
    let fixed_for_compute = fixed.clone();
    let computed = ctx
        .compute(move || compute_aggregate(loaded, timeframe, mode, fixed_for_compute.as_deref()))
        .await?;
    let Computed {
        members,
        aligned_times,
        dropped_timestamps,
        index,
        correlation,
        performance,
    } = computed;
    let (Some(first), Some(last)) = (
        aligned_times.first().copied(),
        aligned_times.last().copied(),
    ) else {
        return Err(ToolError::NotFound(format!(
            "{} share fewer than 2 {timeframe} timestamps in the range, so nothing can be aligned; call list_series to compare their stored ranges, or widen start/end",
            names.join(", ")
        )));
    };
    let index_last = index
        .as_ref()
        .and_then(|i| i.last().copied())
        .and_then(finite);
    let index_rows = match mode {
        AggregateMode::EqualWeighted | AggregateMode::ValueWeighted => index.map(|levels| {
            aligned_times
                .iter()
                .zip(levels)
                .map(|(t, value)| IndexPoint {
                    time: *t,
                    value: finite(value),
                })
                .collect::<Vec<_>>()
        }),
        _ => None,
    };
    let (index_page, next_cursor) = match index_rows {
        Some(rows) => {
            let (page, next) = page_of(rows, from, limit, |p| p.time);
            (Some(page), next)
        }
        None => (None, None),
    };
    let weights = fixed.map(|w| names.iter().cloned().zip(w).collect::<BTreeMap<_, _>>());
    let correlation = correlation.map(|matrix| Correlation {
        symbols: names.clone(),
        matrix,
        observations: aligned_times.len().saturating_sub(1),
    });
    let convention = convention(mode, weights.is_some());
    let summary = aggregate_summary(
        mode,
        &names,
        timeframe,
        aligned_times.len(),
        dropped_timestamps,
        index_last,
        correlation.as_ref(),
        performance.as_deref(),
        next_cursor.is_some(),
        synthetic,
    );
    Ok((
        AggregateSeriesOutput {
            mode,
            timeframe: timeframe.to_string(),
            members,
            common_timestamps: aligned_times.len(),
            dropped_timestamps,
            first,
            last,
            convention,
            index: index_page,
            index_last,
            weights,
            correlation,
            performance,
            synthetic,
            next_cursor,
        },
        summary,
    ))
}

struct Computed {
    members: Vec<Member>,
    /// Empty when fewer than 2 timestamps are common.
    aligned_times: Vec<DateTime<Utc>>,
    dropped_timestamps: usize,
    index: Option<Vec<f64>>,
    correlation: Option<Vec<Vec<Option<f64>>>>,
    performance: Option<Vec<Performance>>,
}

fn compute_aggregate(
    loaded: Vec<Loaded>,
    timeframe: Timeframe,
    mode: AggregateMode,
    fixed: Option<&[f64]>,
) -> Result<Computed, ToolError> {
    let mut series = Vec::with_capacity(loaded.len());
    let mut members = Vec::with_capacity(loaded.len());
    for l in loaded {
        let src = l.info.key.timeframe;
        let bars = if src == timeframe {
            l.bars
        } else {
            resample(&l.bars, src, timeframe)?
        };
        members.push(Member {
            symbol: l.info.key.symbol.to_string(),
            source_timeframe: src.to_string(),
            bars: bars.len(),
            dropped: 0,
            synthetic: l.info.source.is_synthetic(),
        });
        series.push(bars);
    }
    let aligned = align(&series);
    for (m, d) in members.iter_mut().zip(&aligned.dropped) {
        m.dropped = *d;
    }
    let mut out = Computed {
        members,
        aligned_times: Vec::new(),
        dropped_timestamps: aligned.dropped_times,
        index: None,
        correlation: None,
        performance: None,
    };
    if aligned.times.len() < 2 {
        return Ok(out);
    }
    let closes: Vec<Vec<f64>> = aligned
        .members
        .iter()
        .map(|m| m.iter().map(Bar::close).collect())
        .collect();
    let volumes: Vec<Vec<f64>> = aligned
        .members
        .iter()
        .map(|m| m.iter().map(Bar::volume).collect())
        .collect();
    match mode {
        AggregateMode::EqualWeighted => {
            out.index = Some(maths::rebalanced_index(
                &closes,
                &volumes,
                &maths::Weighting::Equal,
            ));
        }
        AggregateMode::ValueWeighted => {
            let w = match fixed {
                Some(w) => maths::Weighting::Fixed(w.to_vec()),
                None => maths::Weighting::DollarVolume,
            };
            out.index = Some(maths::rebalanced_index(&closes, &volumes, &w));
        }
        AggregateMode::Correlation => {
            let returns: Vec<Vec<Option<f64>>> =
                closes.iter().map(|c| maths::simple_returns(c)).collect();
            out.correlation = Some(maths::correlation_matrix(&returns));
        }
        AggregateMode::RelativePerformance => {
            let index = maths::rebalanced_index(&closes, &volumes, &maths::Weighting::Equal);
            let growth_of_index = index.last().map(|v| v / 100.0);
            let cumulative: Vec<Option<(f64, f64, f64)>> = closes
                .iter()
                .map(|c| {
                    let (a, b) = (*c.first()?, *c.last()?);
                    Some((a, b, maths::simple_return(a, b)?))
                })
                .collect();
            let first_growth = cumulative.first().copied().flatten().map(|c| 1.0 + c.2);
            let ratio = |growth: f64, base: Option<f64>| {
                base.filter(|b| *b > 0.0)
                    .and_then(|b| finite(growth / b - 1.0))
            };
            out.performance = Some(
                out.members
                    .iter()
                    .zip(&cumulative)
                    .zip(&closes)
                    .map(|((m, c), closes)| {
                        let first_close = closes.first().copied().unwrap_or(0.0);
                        let last_close = closes.last().copied().unwrap_or(0.0);
                        match c {
                            Some((_, _, r)) => Performance {
                                symbol: m.symbol.clone(),
                                first_close,
                                last_close,
                                cumulative_return: *r,
                                vs_first: ratio(1.0 + r, first_growth),
                                vs_index: ratio(1.0 + r, growth_of_index),
                            },
                            // A zero first close: no return is defined.
                            None => Performance {
                                symbol: m.symbol.clone(),
                                first_close,
                                last_close,
                                cumulative_return: 0.0,
                                vs_first: None,
                                vs_index: None,
                            },
                        }
                    })
                    .collect(),
            );
            out.index = Some(index);
        }
    }
    out.aligned_times = aligned.times;
    Ok(out)
}

/// Validated fixed weights in `symbols` order, normalised to sum to 1.
fn fixed_weights(
    weights: &BTreeMap<String, f64>,
    symbols: &[Symbol],
) -> Result<Vec<f64>, ToolError> {
    let mut out = vec![0.0; symbols.len()];
    for (raw, w) in weights {
        let s = Symbol::parse(raw)?;
        let Some(slot) = symbols
            .iter()
            .position(|x| *x == s)
            .and_then(|i| out.get_mut(i))
        else {
            return Err(ToolError::invalid(format!(
                "weights names {s}, which is not in symbols; weigh only the listed symbols"
            )));
        };
        if !w.is_finite() || *w < 0.0 {
            return Err(ToolError::invalid(format!(
                "weight of {s} is {w}: weights must be finite and non-negative"
            )));
        }
        *slot = *w;
    }
    let total: f64 = out.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(ToolError::invalid(
            "weights must not all be zero and must sum to a finite number; give a positive weight to at least one symbol",
        ));
    }
    Ok(out.into_iter().map(|w| w / total).collect())
}

fn convention(mode: AggregateMode, fixed: bool) -> String {
    let base = "Aligned on the timestamps every symbol has; returns are simple close-to-close.";
    let specific = match (mode, fixed) {
        (AggregateMode::EqualWeighted, _) => {
            "Index = 100 at the first common timestamp, rebalanced to equal weights every bar: I_t = I_{t-1} * (1 + mean of the members' returns)."
        }
        (AggregateMode::ValueWeighted, true) => {
            "Index = 100 at the first common timestamp, rebalanced to the given weights (normalised to sum 1) every bar: I_t = I_{t-1} * (1 + sum w_i r_i)."
        }
        (AggregateMode::ValueWeighted, false) => {
            "Index = 100 at the first common timestamp, rebalanced every bar with weights proportional to close * volume of the previous bar: I_t = I_{t-1} * (1 + sum w_i r_i / sum w_i); a step where every member traded zero volume uses equal weights."
        }
        (AggregateMode::Correlation, _) => {
            "Pearson correlation of simple returns over the common timestamps; null for a member whose returns are constant."
        }
        (AggregateMode::RelativePerformance, _) => {
            "cumulative_return = last close / first close - 1 over the common timestamps; vs_first and vs_index are growth ratios against the first symbol and the equal-weighted index: (1 + r) / (1 + r_ref) - 1."
        }
    };
    format!("{base} {specific}")
}

#[allow(clippy::too_many_arguments)]
fn aggregate_summary(
    mode: AggregateMode,
    names: &[String],
    timeframe: Timeframe,
    common: usize,
    dropped: usize,
    index_last: Option<f64>,
    correlation: Option<&Correlation>,
    performance: Option<&[Performance]>,
    more: bool,
    synthetic: bool,
) -> String {
    let head = format!(
        "{} symbols aligned on {common} common {timeframe} timestamps ({dropped} dropped).",
        names.len()
    );
    let body = match mode {
        AggregateMode::EqualWeighted | AggregateMode::ValueWeighted => format!(
            " {} index ends at {:.4} (base 100).",
            if mode == AggregateMode::EqualWeighted {
                "Equal-weighted"
            } else {
                "Value-weighted"
            },
            index_last.unwrap_or(100.0)
        ),
        AggregateMode::Correlation => {
            let mut best: Option<(f64, usize, usize)> = None;
            let mut worst: Option<(f64, usize, usize)> = None;
            if let Some(c) = correlation {
                for (i, row) in c.matrix.iter().enumerate() {
                    for (j, v) in row.iter().enumerate().skip(i.saturating_add(1)) {
                        if let Some(v) = v {
                            if best.is_none_or(|b| *v > b.0) {
                                best = Some((*v, i, j));
                            }
                            if worst.is_none_or(|w| *v < w.0) {
                                worst = Some((*v, i, j));
                            }
                        }
                    }
                }
            }
            let pair = |p: Option<(f64, usize, usize)>| {
                p.and_then(|(v, i, j)| Some(format!("{}/{} {v:+.3}", names.get(i)?, names.get(j)?)))
                    .unwrap_or_else(|| "n/a".into())
            };
            format!(
                " Highest return correlation {}, lowest {}.",
                pair(best),
                pair(worst)
            )
        }
        AggregateMode::RelativePerformance => {
            let list: Vec<String> = performance
                .unwrap_or_default()
                .iter()
                .map(|p| format!("{} {:+.2}%", p.symbol, p.cumulative_return * 100.0))
                .collect();
            format!(
                " Cumulative returns: {}; equal-weighted index {:.4}.",
                list.join(", "),
                index_last.unwrap_or(100.0)
            )
        }
    };
    format!(
        "{head}{body}{}{}",
        if more {
            " More index rows follow: call again with next_cursor."
        } else {
            ""
        },
        synthetic_note(synthetic)
    )
}

// ------------------------------------------------------------------- shared

fn page_limit(raw: Option<u32>, default: usize, max: usize) -> Result<usize, ToolError> {
    let limit = raw.map_or(default, |l| usize::try_from(l).unwrap_or(usize::MAX));
    if limit == 0 || limit > max {
        return Err(ToolError::invalid(format!(
            "limit must be between 1 and {max}; page through more with next_cursor"
        )));
    }
    Ok(limit)
}

/// Optional inclusive start and end.
type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn parse_range(start: Option<&str>, end: Option<&str>) -> Result<TimeRange, ToolError> {
    let start = start.map(|s| parse_time("start", s)).transpose()?;
    let end = end.map(|s| parse_time("end", s)).transpose()?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(ToolError::invalid(format!(
            "start {} is after end {}",
            s.to_rfc3339(),
            e.to_rfc3339()
        )));
    }
    Ok((start, end))
}

/// The whole range `[start, end]` of a series, refused past `cap` bars.
async fn read_range(
    store: &dyn BarStore,
    info: &SeriesInfo,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    cap: usize,
) -> Result<Vec<Bar>, ToolError> {
    let bars = read_bars(
        store,
        &info.key,
        &BarQuery {
            start,
            end,
            limit: Some(cap.saturating_add(1)),
            order: Order::Ascending,
            cursor: None,
        },
    )
    .await?;
    if bars.len() > cap {
        return Err(ToolError::invalid(format!(
            "the range holds more than {MAX_RANGE_BARS} stored bars in all (read from {} {}, stored {} to {}); narrow start/end, or use a coarser stored timeframe",
            info.key.symbol,
            info.key.timeframe,
            info.first.to_rfc3339(),
            info.last.to_rfc3339()
        )));
    }
    Ok(bars)
}

/// The stored series to make `want` bars from: `want` itself, else the
/// coarsest finer series that divides it.
fn pick_source(series: &[SeriesInfo], want: Timeframe) -> Option<&SeriesInfo> {
    series
        .iter()
        .filter(|s| want.is_multiple_of(s.key.timeframe))
        .max_by_key(|s| s.key.timeframe.seconds())
}

fn not_stored(symbol: &Symbol, timeframe: Timeframe, series: &[SeriesInfo]) -> ToolError {
    if series.is_empty() {
        return ToolError::NotFound(format!(
            "unknown symbol {symbol}: no series is stored for it; call list_series to see the stored series, or import bars with `goldensignals import --symbol {symbol} --timeframe 1d FILE.csv`"
        ));
    }
    let stored: Vec<&str> = series.iter().map(|s| s.key.timeframe.as_str()).collect();
    ToolError::NotFound(format!(
        "{symbol} has no stored series that makes {timeframe} bars (stored: {}); use one of those as timeframe (with resample for coarser bars in query_timeseries)",
        stored.join(", ")
    ))
}

/// Rows from the cursor's time on, at most `limit`, and the cursor of the rest.
fn page_of<T>(
    rows: Vec<T>,
    from: Option<DateTime<Utc>>,
    limit: usize,
    time: impl Fn(&T) -> DateTime<Utc>,
) -> (Vec<T>, Option<String>) {
    let mut rest = rows
        .into_iter()
        .skip_while(|r| from.is_some_and(|f| time(r) < f));
    let page: Vec<T> = rest.by_ref().take(limit).collect();
    let next = rest.next().map(|r| encode_time_cursor(time(&r)));
    (page, next)
}

fn bad_cursor() -> ToolError {
    ToolError::invalid("cursor is not valid: pass next_cursor from a previous response unchanged")
}

fn encode_time_cursor(t: DateTime<Utc>) -> String {
    URL_SAFE_NO_PAD.encode(format!("db1:{}", t.timestamp()))
}

fn decode_time_cursor(cursor: &str) -> Result<DateTime<Utc>, ToolError> {
    let raw = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad_cursor())?;
    let text = String::from_utf8(raw).map_err(|_| bad_cursor())?;
    let secs: i64 = text
        .strip_prefix("db1:")
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad_cursor)?;
    DateTime::from_timestamp(secs, 0).ok_or_else(bad_cursor)
}

fn encode_series_cursor(key: &SeriesKey) -> String {
    URL_SAFE_NO_PAD.encode(format!("dbs1:{}|{}", key.symbol, key.timeframe))
}

fn decode_series_cursor(cursor: &str) -> Result<SeriesKey, ToolError> {
    let raw = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad_cursor())?;
    let text = String::from_utf8(raw).map_err(|_| bad_cursor())?;
    let (sym, tf) = text
        .strip_prefix("dbs1:")
        .and_then(|s| s.rsplit_once('|'))
        .ok_or_else(bad_cursor)?;
    let symbol = Symbol::parse(sym).map_err(|_| bad_cursor())?;
    let timeframe = Timeframe::parse(tf).map_err(|_| bad_cursor())?;
    Ok(SeriesKey::new(symbol, timeframe))
}

// ------------------------------------------------------------- registry entries

/// `list_series` of the `database` server.
#[derive(Debug)]
pub struct ListSeries;

impl Tool for ListSeries {
    const NAME: &'static str = "list_series";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "List stored series";
    const DESCRIPTION: &'static str = "Every stored series (symbol, timeframe) with its bar count, first and last bar, whether it is synthetic demo data, and its coverage: expected bars, missing bars and gaps. Expected bars follow the series' own calendar: a series with no weekend bar is on weekdays (Saturdays, Sundays and, for intraday bars, overnight closes are not expected; between dates only whole weekdays without a bar count), otherwise every bar width is expected. A gap is a stretch between two bars with more than gap_threshold (default 1) expected bars missing. The latest 100000 bars of a series are scanned. Filter by symbol or timeframe; at most 200 series per page, page with next_cursor.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = ListSeriesArgs;
    type Output = ListSeriesOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        list_series(&ctx, args).await
    }
}

/// `query_timeseries` of the `database` server.
#[derive(Debug)]
pub struct QueryTimeseries;

impl Tool for QueryTimeseries {
    const NAME: &'static str = "query_timeseries";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Query a time series";
    const DESCRIPTION: &'static str = "Rows of one stored series between start and end, optionally resampled to a coarser timeframe, each carrying the aggregates asked for: ohlc, mean/min/max/sum of a field (open, high, low, close or volume), vwap (of the typical price (high+low+close)/3), simple and log close-to-close returns. Statistics over the whole selected range (field mean/min/max/sum, VWAP, total return, mean and sample std of returns) come with every page. At most 5000 rows per page: page with next_cursor; ranges over 500000 stored bars are refused.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = QueryTimeseriesArgs;
    type Output = QueryTimeseriesOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        query_timeseries(&ctx, args).await
    }
}

/// `aggregate_series` of the `database` server.
#[derive(Debug)]
pub struct AggregateSeries;

impl Tool for AggregateSeries {
    const NAME: &'static str = "aggregate_series";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Aggregate several series";
    const DESCRIPTION: &'static str = "Aligns 2 to 50 symbols on the timestamps they all have (reporting how many were dropped) and computes one of: equal_weighted (index at 100, rebalanced to equal weights every bar), value_weighted (index at 100, rebalanced every bar with weights close x volume of the previous bar, or fixed weights), correlation (Pearson matrix of simple returns) or relative_performance (each symbol's cumulative return, against the first symbol and the equal-weighted index). Index rows: at most 5000 per page, page with next_cursor.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = AggregateSeriesArgs;
    type Output = AggregateSeriesOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        aggregate_series(&ctx, args).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use chrono::TimeZone;
    use gs_domain::DataSource;
    use gs_embedded_store::EmbeddedStore;

    use crate::context::{ComputePool, Stores};

    struct Fixture {
        _dir: tempfile::TempDir,
        ctx: ToolContext,
    }

    async fn fixture(series: &[(&str, Timeframe, Vec<Bar>)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        let source = DataSource::Imported {
            file: "test.csv".into(),
        };
        for (sym, tf, bars) in series {
            let key = SeriesKey::new(Symbol::parse(sym).unwrap(), *tf);
            store.put_bars(&key, bars, &source).await.unwrap();
        }
        let ctx = ToolContext {
            subject: "database-test".into(),
            permissions: Arc::new(gs_auth::Permissions::default()),
            groups: Vec::new(),
            policy: Arc::new(gs_auth::Policy::default_policy()),
            request_id: "req-db".into(),
            stores: Stores {
                bars: store.clone(),
                records: store,
                cipher: None,
                bus: None,
            },
            deadline: Instant::now() + Duration::from_secs(30),
            pool: Arc::new(ComputePool::new(2)),
            progress: None,
            live: None,
        };
        Fixture { _dir: dir, ctx }
    }

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn bar(t: DateTime<Utc>, close: f64, volume: f64) -> Bar {
        Bar::new(t, close, close + 1.0, close - 1.0, close, volume).unwrap()
    }

    /// Weekday bars from 2024-01-01 (a Monday), `n` calendar days, skipping `holes`.
    fn weekday_bars(n: i64, holes: &[i64], base: f64) -> Vec<Bar> {
        (0..n)
            .filter(|i| !holes.contains(i))
            .map(|i| day(2024, 1, 1) + chrono::Duration::days(i))
            .filter(|t| !is_weekend_day(*t))
            .enumerate()
            .map(|(k, t)| bar(t, base + k as f64, 1_000.0 + k as f64))
            .collect()
    }

    fn is_weekend_day(t: DateTime<Utc>) -> bool {
        use chrono::Datelike;
        matches!(t.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun)
    }

    fn list_args() -> ListSeriesArgs {
        ListSeriesArgs::default()
    }

    fn query_args(symbol: &str) -> QueryTimeseriesArgs {
        QueryTimeseriesArgs {
            symbol: symbol.into(),
            timeframe: None,
            start: None,
            end: None,
            resample: None,
            aggregates: None,
            field: None,
            limit: None,
            cursor: None,
        }
    }

    fn aggregate_args(symbols: &[&str], mode: AggregateMode) -> AggregateSeriesArgs {
        AggregateSeriesArgs {
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
            timeframe: None,
            start: None,
            end: None,
            mode,
            weights: None,
            limit: None,
            cursor: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_series_reports_planted_gaps_and_pages_by_series() {
        // AAA: weekdays of January with the week of the 15th (days 14..=18) missing.
        let aaa = weekday_bars(31, &[14, 15, 16, 17, 18], 100.0);
        // BBB: every day, with the 10th missing.
        let bbb: Vec<Bar> = (0..20)
            .filter(|i| *i != 9)
            .map(|i| bar(day(2024, 1, 1) + chrono::Duration::days(i), 50.0, 10.0))
            .collect();
        let f = fixture(&[
            ("AAA", Timeframe::D1, aaa.clone()),
            ("BBB", Timeframe::D1, bbb),
        ])
        .await;

        let (all, summary) = list_series(&f.ctx, list_args()).await.unwrap();
        assert_eq!(all.count, 2, "{summary}");
        let a = &all.series[0];
        assert_eq!((a.symbol.as_str(), a.calendar), ("AAA", Calendar::Weekdays));
        assert_eq!((a.missing_bars, a.gaps, a.bars), (5, 1, aaa.len() as u64));
        assert_eq!(a.largest_gaps[0].after, day(2024, 1, 12));
        assert_eq!(a.largest_gaps[0].before, day(2024, 1, 22));
        assert!(a.scan_complete);
        assert!((a.coverage - aaa.len() as f64 / (aaa.len() + 5) as f64).abs() < 1e-12);
        let b = &all.series[1];
        assert_eq!(b.calendar, Calendar::Continuous);
        // One missing day is within the default threshold of 1.
        assert_eq!((b.missing_bars, b.gaps), (1, 0));
        assert!(summary.contains("Gaps found in AAA 1d (1)"), "{summary}");

        let (first, _) = list_series(
            &f.ctx,
            ListSeriesArgs {
                limit: Some(1),
                gap_threshold: Some(0),
                ..list_args()
            },
        )
        .await
        .unwrap();
        assert_eq!(first.series[0].symbol, "AAA");
        let cursor = first.next_cursor.expect("a second page");
        let (second, _) = list_series(
            &f.ctx,
            ListSeriesArgs {
                limit: Some(1),
                gap_threshold: Some(0),
                cursor: Some(cursor),
                ..list_args()
            },
        )
        .await
        .unwrap();
        assert_eq!(second.series[0].symbol, "BBB");
        assert_eq!(second.series[0].gaps, 1);
        assert!(second.next_cursor.is_none());

        let (filtered, summary) = list_series(
            &f.ctx,
            ListSeriesArgs {
                symbol: Some("zzz".into()),
                ..list_args()
            },
        )
        .await
        .unwrap();
        assert_eq!(filtered.count, 0);
        assert!(summary.contains("without symbol"), "{summary}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn query_timeseries_resamples_aggregates_and_pages_with_whole_range_stats() {
        // Two full weeks of weekday bars: closes 100..=109.
        let bars = weekday_bars(14, &[], 100.0);
        let f = fixture(&[("AAA", Timeframe::D1, bars.clone())]).await;
        let args = || QueryTimeseriesArgs {
            resample: Some("1w".into()),
            aggregates: Some(vec![
                Aggregate::Ohlc,
                Aggregate::Mean,
                Aggregate::Sum,
                Aggregate::Vwap,
                Aggregate::Returns,
                Aggregate::LogReturns,
            ]),
            field: Some(Field::Volume),
            limit: Some(1),
            ..query_args("aaa")
        };
        let (page1, summary) = query_timeseries(&f.ctx, args()).await.unwrap();
        assert!(page1.resampled && page1.count == 1, "{summary}");
        let w1 = &page1.rows[0];
        assert_eq!((w1.time, w1.bars), (day(2024, 1, 1), 5));
        assert_eq!((w1.open, w1.close), (Some(100.0), Some(104.0)));
        assert_eq!(w1.sum, Some(1_000.0 * 5.0 + 10.0));
        assert_eq!(w1.mean, Some(1_002.0));
        assert_eq!(w1.simple_return, None);
        let tp_v: f64 = bars[..5].iter().map(|b| b.close() * b.volume()).sum();
        let v: f64 = bars[..5].iter().map(Bar::volume).sum();
        assert!((w1.vwap.unwrap() - tp_v / v).abs() < 1e-9);
        assert_eq!(page1.stats.rows, 2);
        assert_eq!(page1.stats.source_bars, 10);
        assert_eq!(page1.stats.sum, Some(10_045.0));

        let (page2, _) = query_timeseries(
            &f.ctx,
            QueryTimeseriesArgs {
                cursor: page1.next_cursor.clone(),
                ..args()
            },
        )
        .await
        .unwrap();
        let w2 = &page2.rows[0];
        assert_eq!(w2.time, day(2024, 1, 8));
        assert_eq!(w2.simple_return, Some(109.0 / 104.0 - 1.0));
        assert_eq!(w2.log_return, Some((109.0_f64 / 104.0).ln()));
        assert!(page2.next_cursor.is_none());
        assert_eq!(page2.stats.total_return, page1.stats.total_return);
        assert_eq!(page1.stats.total_return, Some(109.0 / 104.0 - 1.0));

        // Without ohlc the bar fields are absent from the rows.
        let (no_ohlc, _) = query_timeseries(
            &f.ctx,
            QueryTimeseriesArgs {
                aggregates: Some(vec![Aggregate::Returns]),
                ..query_args("AAA")
            },
        )
        .await
        .unwrap();
        assert_eq!(no_ohlc.count, 10);
        let json = serde_json::to_value(&no_ohlc.rows[1]).unwrap();
        assert!(
            json.get("close").is_none() && json.get("simple_return").is_some(),
            "{json}"
        );
        assert_eq!(no_ohlc.stats.mean, Some(104.5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn errors_tell_the_model_what_to_do() {
        let f = fixture(&[("AAA", Timeframe::D1, weekday_bars(10, &[], 10.0))]).await;
        let err = |e: ToolError| e.to_string();
        let e = err(query_timeseries(&f.ctx, query_args("ZZZ"))
            .await
            .unwrap_err());
        assert!(e.contains("list_series"), "{e}");
        let e = err(query_timeseries(
            &f.ctx,
            QueryTimeseriesArgs {
                timeframe: Some("2d".into()),
                ..query_args("AAA")
            },
        )
        .await
        .unwrap_err());
        assert!(e.contains("1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w"), "{e}");
        let e = err(query_timeseries(
            &f.ctx,
            QueryTimeseriesArgs {
                timeframe: Some("1h".into()),
                ..query_args("AAA")
            },
        )
        .await
        .unwrap_err());
        assert!(e.contains("stored: 1d"), "{e}");
        let e = err(query_timeseries(
            &f.ctx,
            QueryTimeseriesArgs {
                resample: Some("1h".into()),
                ..query_args("AAA")
            },
        )
        .await
        .unwrap_err());
        assert!(e.contains("coarser multiple") && e.contains("1w"), "{e}");
        let e = err(
            aggregate_series(&f.ctx, aggregate_args(&["AAA"], AggregateMode::Correlation))
                .await
                .unwrap_err(),
        );
        assert!(e.contains("2 to 50"), "{e}");
        let e = err(aggregate_series(
            &f.ctx,
            aggregate_args(&["AAA", "aaa"], AggregateMode::Correlation),
        )
        .await
        .unwrap_err());
        assert!(e.contains("twice"), "{e}");
        let e = err(aggregate_series(
            &f.ctx,
            aggregate_args(&["AAA", "QQQ"], AggregateMode::Correlation),
        )
        .await
        .unwrap_err());
        assert!(
            e.contains("unknown symbol QQQ") && e.contains("list_series"),
            "{e}"
        );
        let mut with_weights = aggregate_args(&["AAA", "QQQ"], AggregateMode::EqualWeighted);
        with_weights.weights = Some(BTreeMap::from([("AAA".to_string(), 1.0)]));
        let e = err(aggregate_series(&f.ctx, with_weights).await.unwrap_err());
        assert!(e.contains("value_weighted"), "{e}");
        let mut bad = aggregate_args(&["AAA", "QQQ"], AggregateMode::ValueWeighted);
        bad.weights = Some(BTreeMap::from([("MSFT".to_string(), 1.0)]));
        let e = err(aggregate_series(&f.ctx, bad).await.unwrap_err());
        assert!(e.contains("not in symbols"), "{e}");
        let e = err(query_timeseries(
            &f.ctx,
            QueryTimeseriesArgs {
                cursor: Some("garbage!".into()),
                ..query_args("AAA")
            },
        )
        .await
        .unwrap_err());
        assert!(e.contains("next_cursor"), "{e}");
    }

    #[derive(Deserialize)]
    struct RefBar {
        time: i64,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    }

    #[derive(Deserialize)]
    struct Reference {
        symbols: Vec<String>,
        bars: BTreeMap<String, Vec<RefBar>>,
        common_times: Vec<i64>,
        equal_weighted_index: Vec<f64>,
        value_weighted_index: Vec<f64>,
        fixed_weights: Vec<f64>,
        fixed_weighted_index: Vec<f64>,
        correlation: Vec<Vec<f64>>,
        cumulative_returns: Vec<f64>,
    }

    #[track_caller]
    fn close(what: &str, got: f64, want: f64) {
        let scale = got.abs().max(want.abs());
        assert!(
            (got - want).abs() <= 1e-12 * scale || (got - want).abs() <= 1e-15,
            "{what}: got {got:e}, numpy {want:e}"
        );
    }

    /// The whole path, store to output, on the numpy reference bars.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn aggregate_series_matches_the_numpy_reference_end_to_end() {
        let r: Reference =
            serde_json::from_str(include_str!("../tests/data/database_reference.json")).unwrap();
        let series: Vec<(&str, Timeframe, Vec<Bar>)> = r
            .symbols
            .iter()
            .map(|s| {
                let bars = r.bars[s]
                    .iter()
                    .map(|b| {
                        Bar::new(
                            DateTime::from_timestamp(b.time, 0).unwrap(),
                            b.open,
                            b.high,
                            b.low,
                            b.close,
                            b.volume,
                        )
                        .unwrap()
                    })
                    .collect();
                (s.as_str(), Timeframe::D1, bars)
            })
            .collect();
        let f = fixture(&series).await;
        let syms: Vec<&str> = r.symbols.iter().map(String::as_str).collect();

        let (eq, summary) =
            aggregate_series(&f.ctx, aggregate_args(&syms, AggregateMode::EqualWeighted))
                .await
                .unwrap();
        assert_eq!(eq.common_timestamps, r.common_times.len(), "{summary}");
        // BBB misses two sessions, CCC has one extra Saturday.
        assert_eq!(eq.dropped_timestamps, 3);
        let dropped: Vec<usize> = eq.members.iter().map(|m| m.dropped).collect();
        assert_eq!(dropped, [2, 0, 3]);
        let index = eq.index.unwrap();
        for (i, (p, want)) in index.iter().zip(&r.equal_weighted_index).enumerate() {
            assert_eq!(p.time.timestamp(), r.common_times[i]);
            close("equal-weighted", p.value.unwrap(), *want);
        }

        let (vw, _) = aggregate_series(&f.ctx, aggregate_args(&syms, AggregateMode::ValueWeighted))
            .await
            .unwrap();
        for (p, want) in vw.index.unwrap().iter().zip(&r.value_weighted_index) {
            close("value-weighted", p.value.unwrap(), *want);
        }

        let mut fixed = aggregate_args(&syms, AggregateMode::ValueWeighted);
        // Unnormalised on purpose: the tool normalises.
        fixed.weights = Some(
            r.symbols
                .iter()
                .cloned()
                .zip(r.fixed_weights.iter().map(|w| w * 10.0))
                .collect(),
        );
        let (fw, _) = aggregate_series(&f.ctx, fixed).await.unwrap();
        for (p, want) in fw.index.unwrap().iter().zip(&r.fixed_weighted_index) {
            close("fixed-weighted", p.value.unwrap(), *want);
        }

        let (corr, _) = aggregate_series(&f.ctx, aggregate_args(&syms, AggregateMode::Correlation))
            .await
            .unwrap();
        let m = corr.correlation.unwrap();
        for (row, want) in m.matrix.iter().zip(&r.correlation) {
            for (g, w) in row.iter().zip(want) {
                close("correlation", g.unwrap(), *w);
            }
        }

        let (perf, summary) = aggregate_series(
            &f.ctx,
            AggregateSeriesArgs {
                limit: Some(10),
                ..aggregate_args(&syms, AggregateMode::RelativePerformance)
            },
        )
        .await
        .unwrap();
        let p = perf.performance.unwrap();
        for (got, want) in p.iter().zip(&r.cumulative_returns) {
            close("cumulative", got.cumulative_return, *want);
        }
        let first = r.cumulative_returns[0];
        close(
            "vs first",
            p[1].vs_first.unwrap(),
            (1.0 + r.cumulative_returns[1]) / (1.0 + first) - 1.0,
        );
        close("vs first of first", p[0].vs_first.unwrap(), 0.0);
        let idx_growth = r.equal_weighted_index.last().unwrap() / 100.0;
        close(
            "vs index",
            p[2].vs_index.unwrap(),
            (1.0 + r.cumulative_returns[2]) / idx_growth - 1.0,
        );
        assert!(summary.contains("Cumulative returns"), "{summary}");

        // Index rows page with a cursor.
        let (page, _) = aggregate_series(
            &f.ctx,
            AggregateSeriesArgs {
                limit: Some(40),
                ..aggregate_args(&syms, AggregateMode::EqualWeighted)
            },
        )
        .await
        .unwrap();
        assert_eq!(page.index.as_ref().unwrap().len(), 40);
        let (rest, _) = aggregate_series(
            &f.ctx,
            AggregateSeriesArgs {
                limit: Some(40),
                cursor: page.next_cursor,
                ..aggregate_args(&syms, AggregateMode::EqualWeighted)
            },
        )
        .await
        .unwrap();
        assert_eq!(rest.index.unwrap().len(), r.common_times.len() - 40);
        assert!(rest.next_cursor.is_none());
    }

    /// Through the registry's own wrapper: every argument is described, the
    /// JSON arguments parse, and every reply matches the published output schema.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn published_schemas_describe_every_argument_and_hold_for_replies() {
        use crate::registry::ToolSpec;
        use serde_json::{Value, json};

        let f = fixture(&[
            ("AAA", Timeframe::D1, weekday_bars(40, &[10, 11], 100.0)),
            ("BBB", Timeframe::D1, weekday_bars(40, &[20], 30.0)),
        ])
        .await;
        let calls: Vec<(&'static ToolSpec, Value)> = vec![
            (Box::leak(Box::new(ToolSpec::of::<ListSeries>())), json!({})),
            (
                Box::leak(Box::new(ToolSpec::of::<QueryTimeseries>())),
                json!({"symbol": "AAA", "resample": "1w", "limit": 2,
                       "aggregates": ["ohlc", "mean", "min", "max", "sum", "vwap", "returns", "log_returns"]}),
            ),
            (
                Box::leak(Box::new(ToolSpec::of::<AggregateSeries>())),
                json!({"symbols": ["AAA", "BBB"], "mode": "correlation"}),
            ),
            (
                Box::leak(Box::new(ToolSpec::of::<AggregateSeries>())),
                json!({"symbols": ["AAA", "BBB"], "mode": "value_weighted", "weights": {"aaa": 2, "BBB": 1}}),
            ),
            (
                Box::leak(Box::new(ToolSpec::of::<AggregateSeries>())),
                json!({"symbols": ["AAA", "BBB"], "mode": "relative_performance", "start": "2024-01-10"}),
            ),
        ];
        for (spec, args) in calls {
            assert_eq!(spec.server, "database");
            let props = spec.input_schema["properties"].as_object().unwrap();
            for (name, prop) in props {
                assert!(
                    prop.get("description").is_some(),
                    "{}: argument {name} has no description",
                    spec.name
                );
            }
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&Value::Object((*spec.output_schema).clone()))
                .unwrap();
            let raw = serde_json::value::to_raw_value(&args).unwrap();
            let out = spec.call(f.ctx.clone(), raw).await.unwrap();
            let value: Value = serde_json::from_str(out.structured.get()).unwrap();
            let problems: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(
                problems.is_empty(),
                "{}: {problems:?} in {value}",
                spec.name
            );
            assert!(!out.summary.trim().is_empty());
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(decode_time_cursor(&encode_time_cursor(t)).unwrap(), t);
        let key = SeriesKey::new(Symbol::parse("BRK/B").unwrap(), Timeframe::H4);
        assert_eq!(
            decode_series_cursor(&encode_series_cursor(&key)).unwrap(),
            key
        );
        assert!(decode_time_cursor("not-a-cursor!").is_err());
        assert!(decode_series_cursor(&encode_time_cursor(t)).is_err());
    }
}
