//! Tools of the `market-data` server: symbols, quotes and OHLCV history.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use gs_domain::{
    Bar, BarQuery, BarStore, Order, Quote, SeriesInfo, Symbol, Timeframe, read_bars, read_series,
    resample,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::registry::{Annotations, Tool};
use crate::time_input::parse_time;

pub const DEFAULT_HISTORY_LIMIT: usize = 500;
pub const MAX_HISTORY_LIMIT: usize = 5_000;
/// Longest relative lookback `days` accepts: 100 years.
pub const MAX_DAYS: u32 = 36_600;
/// Bounds the finer bars read to build one page of resampled bars, so a
/// request for weekly bars from minute data cannot scan millions of rows.
const MAX_SOURCE_BARS: usize = 400_000;

// ---------------------------------------------------------------- list_symbols

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSymbolsArgs {
    /// Optional case-insensitive filter: only symbols that start with this text.
    pub prefix: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SeriesSummary {
    /// Bar width of the stored series (1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w).
    pub timeframe: String,
    /// Number of stored bars.
    pub bars: u64,
    /// Time of the first stored bar (RFC 3339, UTC).
    pub first: DateTime<Utc>,
    /// Time of the last stored bar (RFC 3339, UTC).
    pub last: DateTime<Utc>,
    /// True when the series is demo data from the seeded generator, not market data.
    pub synthetic: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SymbolEntry {
    pub symbol: String,
    /// Stored series of this symbol; coarser timeframes can be requested and are resampled.
    pub series: Vec<SeriesSummary>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListSymbolsOutput {
    pub symbols: Vec<SymbolEntry>,
    /// True when any listed series is synthetic demo data.
    pub synthetic: bool,
}

pub async fn list_symbols(
    ctx: &ToolContext,
    args: ListSymbolsArgs,
) -> Result<(ListSymbolsOutput, String), ToolError> {
    let store = ctx.bars();
    let prefix = args.prefix.map(|p| p.trim().to_ascii_uppercase());
    let mut by_symbol: BTreeMap<String, Vec<SeriesSummary>> = BTreeMap::new();
    for info in read_series(store, prefix.as_deref()).await? {
        let sym = info.key.symbol.as_str();
        if prefix.as_deref().is_some_and(|p| !sym.starts_with(p)) {
            continue;
        }
        by_symbol
            .entry(sym.to_string())
            .or_default()
            .push(SeriesSummary {
                timeframe: info.key.timeframe.to_string(),
                bars: info.count,
                first: info.first,
                last: info.last,
                synthetic: info.source.is_synthetic(),
            });
    }
    let synthetic = by_symbol.values().flatten().any(|s| s.synthetic);
    let symbols: Vec<SymbolEntry> = by_symbol
        .into_iter()
        .map(|(symbol, series)| SymbolEntry { symbol, series })
        .collect();
    let summary = if symbols.is_empty() {
        "No symbols are stored yet. Import bars with `goldensignals import --symbol SYM --timeframe 1d FILE.csv`.".to_string()
    } else {
        let names: Vec<&str> = symbols.iter().map(|s| s.symbol.as_str()).collect();
        format!(
            "{} symbols available: {}.{}",
            symbols.len(),
            names.join(", "),
            if synthetic {
                " Some series are synthetic demo data, not real market prices."
            } else {
                ""
            }
        )
    };
    Ok((ListSymbolsOutput { symbols, synthetic }, summary))
}

// ------------------------------------------------------------------- get_quote

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetQuoteArgs {
    /// Ticker symbol, e.g. AAPL. Call list_symbols to see what is available.
    pub symbol: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct QuoteOutput {
    pub symbol: String,
    /// Time of the latest bar the quote is taken from (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    /// Last traded price (close of the latest bar).
    pub price: f64,
    /// Session open, high, low and volume so far (the latest daily bucket).
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub volume: f64,
    /// Close of the previous session, when stored.
    pub previous_close: Option<f64>,
    /// Price minus previous close.
    pub change: Option<f64>,
    /// Change as a percentage of the previous close.
    pub change_percent: Option<f64>,
    /// Timeframe of the stored series the quote was derived from.
    pub source_timeframe: String,
    /// True when derived from synthetic demo data.
    pub synthetic: bool,
}

pub async fn get_quote(
    ctx: &ToolContext,
    args: GetQuoteArgs,
) -> Result<(QuoteOutput, String), ToolError> {
    let store = ctx.bars();
    let symbol = Symbol::parse(&args.symbol)?;
    let quote = quote_for(store, &symbol).await?;
    let (q, info) = quote;
    let change = match (q.change, q.change_percent) {
        (Some(c), Some(p)) => format!(", {c:+.4} ({p:+.2}%) vs previous close"),
        _ => String::new(),
    };
    let summary = format!(
        "{} last {:.4} at {}{}; session range {:.4}-{:.4}, volume {:.0}.{}",
        q.symbol,
        q.price,
        q.time.to_rfc3339(),
        change,
        q.low,
        q.high,
        q.volume,
        synthetic_note(info.source.is_synthetic())
    );
    Ok((
        QuoteOutput {
            symbol: q.symbol.to_string(),
            time: q.time,
            price: q.price,
            open: q.open,
            high: q.high,
            low: q.low,
            volume: q.volume,
            previous_close: q.previous_close,
            change: q.change,
            change_percent: q.change_percent,
            source_timeframe: info.key.timeframe.to_string(),
            synthetic: info.source.is_synthetic(),
        },
        summary,
    ))
}

/// The quote is the latest bar of the finest stored series, with the session
/// (daily bucket) it belongs to and the previous session's close.
pub async fn quote_for(
    store: &dyn BarStore,
    symbol: &Symbol,
) -> Result<(Quote, SeriesInfo), ToolError> {
    let series = series_of(store, symbol).await?;
    let finest = series
        .first()
        .cloned()
        .ok_or_else(|| unknown_symbol(symbol))?;
    let tf = finest.key.timeframe;
    // Enough bars to cover the current and the previous session, counting
    // overnight gaps: two days of this timeframe plus a margin.
    let per_day =
        usize::try_from(86_400_i64.checked_div(tf.seconds()).unwrap_or(1).max(1)).unwrap_or(1);
    let bars = read_bars(
        store,
        &finest.key,
        &BarQuery {
            limit: Some(per_day.saturating_mul(2).saturating_add(2)),
            order: Order::Descending,
            ..BarQuery::default()
        },
    )
    .await?;
    let last = *bars.last().ok_or_else(|| unknown_symbol(symbol))?;
    let sessions = if tf.is_multiple_of(Timeframe::D1) {
        bars
    } else {
        resample(&bars, tf, Timeframe::D1)?
    };
    let today = *sessions.last().ok_or_else(|| unknown_symbol(symbol))?;
    let previous = sessions
        .len()
        .checked_sub(2)
        .and_then(|i| sessions.get(i))
        .copied();
    let mut quote = Quote::from_bars(symbol.clone(), &today, previous.as_ref());
    quote.time = last.time();
    quote.price = last.close();
    Ok((quote, finest))
}

// --------------------------------------------------------- get_historical_data

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetHistoricalDataArgs {
    /// Ticker symbol, e.g. AAPL. Call list_symbols to see what is available.
    pub symbol: String,
    /// Bar width: 1m, 5m, 15m, 30m, 1h, 4h, 1d or 1w (default 1d). Coarser
    /// timeframes than the stored ones are resampled from finer stored bars.
    pub timeframe: Option<String>,
    /// First bar time to include (RFC 3339, YYYY-MM-DD or epoch seconds).
    pub start: Option<String>,
    /// Last bar time to include (RFC 3339, YYYY-MM-DD or epoch seconds). Defaults to the latest bar.
    pub end: Option<String>,
    /// Relative lookback in calendar days before `end` (or before the latest
    /// bar), 1 to 36600; ignored when `start` is given.
    pub days: Option<u32>,
    /// Maximum bars to return (default 500, at most 5000). Without `start`
    /// or `days`, the latest `limit` bars are returned.
    pub limit: Option<u32>,
    /// Opaque cursor from a previous response's `next_cursor`, to fetch the next
    /// page; repeat the other arguments unchanged.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BarOut {
    /// Bar start time (RFC 3339, UTC).
    pub time: DateTime<Utc>,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl From<&Bar> for BarOut {
    fn from(b: &Bar) -> Self {
        Self {
            time: b.time(),
            open: b.open(),
            high: b.high(),
            low: b.low(),
            close: b.close(),
            volume: b.volume(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoricalDataOutput {
    pub symbol: String,
    /// Timeframe of the returned bars.
    pub timeframe: String,
    /// Timeframe of the stored series the bars were read from.
    pub source_timeframe: String,
    /// True when the bars were built by resampling finer stored bars.
    pub resampled: bool,
    /// True when derived from synthetic demo data, not market prices.
    pub synthetic: bool,
    pub count: usize,
    pub bars: Vec<BarOut>,
    /// Pass as `cursor` (with the same other arguments) to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// True when more bars matched than were returned.
    pub truncated: bool,
}

pub struct History {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub source: SeriesInfo,
    pub bars: Vec<Bar>,
    pub next_start: Option<DateTime<Utc>>,
    pub truncated: bool,
}

/// What to read: resolved from tool arguments, shared by every tool that
/// works on stored bars.
pub struct HistoryRequest {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub days: Option<u32>,
    pub limit: usize,
}

pub async fn get_historical_data(
    ctx: &ToolContext,
    args: GetHistoricalDataArgs,
) -> Result<(HistoricalDataOutput, String), ToolError> {
    let store = ctx.bars();
    let symbol = Symbol::parse(&args.symbol)?;
    let timeframe = Timeframe::parse(args.timeframe.as_deref().unwrap_or("1d"))?;
    let limit = args.limit.map_or(DEFAULT_HISTORY_LIMIT, |l| l as usize);
    if limit == 0 || limit > MAX_HISTORY_LIMIT {
        return Err(ToolError::invalid(format!(
            "limit must be between 1 and {MAX_HISTORY_LIMIT}; page through longer ranges with cursor"
        )));
    }
    if let Some(days) = args.days
        && !(1..=MAX_DAYS).contains(&days)
    {
        return Err(ToolError::invalid(format!(
            "days must be between 1 and {MAX_DAYS} (100 years); for a fixed range give start and end"
        )));
    }
    let mut start = args
        .start
        .as_deref()
        .map(|s| parse_time("start", s))
        .transpose()?;
    if let Some(cursor) = &args.cursor {
        start = Some(decode_cursor(cursor)?);
    }
    let end = args
        .end
        .as_deref()
        .map(|s| parse_time("end", s))
        .transpose()?;
    let req = HistoryRequest {
        symbol,
        timeframe,
        start,
        end,
        days: args.days,
        limit,
    };
    let h = load_history(store, &req).await?;
    let bars: Vec<BarOut> = h.bars.iter().map(BarOut::from).collect();
    let resampled = h.source.key.timeframe != h.timeframe;
    let summary = match (bars.first(), bars.last()) {
        (Some(first), Some(last)) => {
            let change = (last.close / first.open - 1.0) * 100.0;
            let hi = bars.iter().map(|b| b.high).fold(f64::MIN, f64::max);
            let lo = bars.iter().map(|b| b.low).fold(f64::MAX, f64::min);
            format!(
                "{} {} bars of {} from {} to {}{}: close {:.4}, {:+.2}% over the period, range {:.4}-{:.4}.{}{}",
                bars.len(),
                h.timeframe,
                h.symbol,
                first.time.to_rfc3339(),
                last.time.to_rfc3339(),
                if resampled {
                    format!(" (resampled from {})", h.source.key.timeframe)
                } else {
                    String::new()
                },
                last.close,
                change,
                lo,
                hi,
                if h.next_start.is_some() {
                    " More bars follow: call again with next_cursor."
                } else if h.truncated {
                    " Earlier bars exist: pass start or days to page through them."
                } else {
                    ""
                },
                synthetic_note(h.source.source.is_synthetic())
            )
        }
        _ => format!(
            "No {} bars of {} in the requested range (stored: {} to {}).",
            h.timeframe,
            h.symbol,
            h.source.first.to_rfc3339(),
            h.source.last.to_rfc3339()
        ),
    };
    Ok((
        HistoricalDataOutput {
            symbol: h.symbol.to_string(),
            timeframe: h.timeframe.to_string(),
            source_timeframe: h.source.key.timeframe.to_string(),
            resampled,
            synthetic: h.source.source.is_synthetic(),
            count: bars.len(),
            bars,
            next_cursor: h.next_start.map(encode_cursor),
            truncated: h.truncated,
        },
        summary,
    ))
}

/// Reads bars of `req.timeframe`, resampling the best stored series when the
/// timeframe itself is not stored. With a start (or `days`) it pages forward
/// from there; without, it returns the latest `limit` bars.
pub async fn load_history(
    store: &dyn BarStore,
    req: &HistoryRequest,
) -> Result<History, ToolError> {
    let series = series_of(store, &req.symbol).await?;
    if series.is_empty() {
        return Err(unknown_symbol(&req.symbol));
    }
    let source = pick_source(&series, req.timeframe).ok_or_else(|| {
        let stored: Vec<String> = series.iter().map(|s| s.key.timeframe.to_string()).collect();
        ToolError::NotFound(format!(
            "{} has no series that can make {} bars (stored: {}); request one of those or a coarser multiple",
            req.symbol,
            req.timeframe,
            stored.join(", ")
        ))
    })?;
    let src_tf = source.key.timeframe;
    let ratio = usize::try_from(
        req.timeframe
            .seconds()
            .checked_div(src_tf.seconds())
            .unwrap_or(1),
    )
    .unwrap_or(1)
    .max(1);
    let end = req.end;
    let start = match (req.start, req.days) {
        (Some(s), _) => Some(s),
        (None, Some(days)) => {
            let from = end.unwrap_or(source.last);
            // Past the earliest representable time there is nothing stored anyway.
            Some(
                from.checked_sub_signed(Duration::days(i64::from(days)))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC),
            )
        }
        (None, None) => None,
    };
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(ToolError::invalid(format!(
            "start {} is after end {}",
            s.to_rfc3339(),
            e.to_rfc3339()
        )));
    }
    // One extra output bar tells us whether another page exists; with
    // resampling, `ratio` source bars per output bar is an upper bound
    // because sessions have gaps, never extra bars.
    let fetch = req
        .limit
        .saturating_add(1)
        .saturating_mul(ratio)
        .min(MAX_SOURCE_BARS);
    let query = BarQuery {
        start: start.map(|s| req.timeframe.bucket_start(s)),
        end,
        limit: Some(fetch),
        order: if start.is_some() {
            Order::Ascending
        } else {
            Order::Descending
        },
        cursor: None,
    };
    let raw = read_bars(store, &source.key, &query).await?;
    let full_fetch = raw.len() == fetch;
    let mut bars = if ratio > 1 {
        resample(&raw, src_tf, req.timeframe)?
    } else {
        raw
    };
    let mut next_start = None;
    let mut truncated = false;
    if start.is_some() {
        if let Some(next) = bars.get(req.limit) {
            next_start = Some(next.time());
            bars.truncate(req.limit);
            truncated = true;
        } else if ratio > 1 && full_fetch {
            // The read stopped at the source cap inside the last output
            // bucket: that bar is partial, so it starts the next page.
            if let Some(partial) = bars.pop() {
                next_start = Some(partial.time());
                truncated = true;
            }
        }
    } else {
        // Reading backwards, the oldest bucket may be cut off at the fetch limit.
        if ratio > 1 && full_fetch && !bars.is_empty() {
            bars.remove(0);
        }
        if let Some(excess) = bars.len().checked_sub(req.limit).filter(|e| *e > 0) {
            bars.drain(..excess);
            truncated = true;
        } else {
            truncated = full_fetch;
        }
    }
    Ok(History {
        symbol: req.symbol.clone(),
        timeframe: req.timeframe,
        source: source.clone(),
        bars,
        next_start,
        truncated,
    })
}

/// The stored series of a symbol, finest timeframe first.
pub async fn series_of(
    store: &dyn BarStore,
    symbol: &Symbol,
) -> Result<Vec<SeriesInfo>, ToolError> {
    Ok(store.series_of(symbol).await?)
}

/// The stored series to serve `want` from: the series itself when stored,
/// else the coarsest finer series that divides it (fewest rows to read).
fn pick_source(series: &[SeriesInfo], want: Timeframe) -> Option<&SeriesInfo> {
    series
        .iter()
        .filter(|s| want.is_multiple_of(s.key.timeframe))
        .max_by_key(|s| s.key.timeframe.seconds())
}

pub fn unknown_symbol(symbol: &Symbol) -> ToolError {
    ToolError::NotFound(format!(
        "unknown symbol {symbol}: no bars are stored for it; call list_symbols to see what is available, or import bars with `goldensignals import --symbol {symbol} --timeframe 1d FILE.csv`"
    ))
}

pub fn synthetic_note(synthetic: bool) -> &'static str {
    if synthetic {
        " Note: synthetic demo data, not real market prices."
    } else {
        ""
    }
}

fn encode_cursor(t: DateTime<Utc>) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{}", t.timestamp()))
}

fn decode_cursor(cursor: &str) -> Result<DateTime<Utc>, ToolError> {
    let bad = || {
        ToolError::invalid(
            "cursor is not valid: pass next_cursor from a previous response unchanged",
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let secs: i64 = text
        .strip_prefix("v1:")
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    DateTime::from_timestamp(secs, 0).ok_or_else(bad)
}

// ------------------------------------------------------------- registry entries

/// `list_symbols` of the `market-data` server.
#[derive(Debug)]
pub struct ListSymbols;

impl Tool for ListSymbols {
    const NAME: &'static str = "list_symbols";
    const SERVER: &'static str = "market-data";
    const TITLE: &'static str = "List symbols";
    const DESCRIPTION: &'static str = "List the symbols with stored price history, with each stored series' timeframe, bar count, date range and whether it is synthetic demo data. Call this first to learn what get_quote, get_historical_data and calculate_indicators can be asked about.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = ListSymbolsArgs;
    type Output = ListSymbolsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        list_symbols(&ctx, args).await
    }
}

/// `get_quote` of the `market-data` server.
#[derive(Debug)]
pub struct GetQuote;

impl Tool for GetQuote {
    const NAME: &'static str = "get_quote";
    const SERVER: &'static str = "market-data";
    const TITLE: &'static str = "Get quote";
    const DESCRIPTION: &'static str = "Latest price of a symbol with the session's open, high, low and volume, and the change against the previous session's close. Derived from the finest stored bars.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetQuoteArgs;
    type Output = QuoteOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        get_quote(&ctx, args).await
    }
}

/// `get_historical_data` of the `market-data` server.
#[derive(Debug)]
pub struct GetHistoricalData;

impl Tool for GetHistoricalData {
    const NAME: &'static str = "get_historical_data";
    const SERVER: &'static str = "market-data";
    const TITLE: &'static str = "Get historical OHLCV bars";
    const DESCRIPTION: &'static str = "OHLCV bars of a symbol for a timeframe (1m to 1w). Give start/end or a relative lookback in days; without either, the latest bars are returned. Coarser timeframes than stored are resampled from finer bars. At most 5000 bars per call: page with next_cursor.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetHistoricalDataArgs;
    type Output = HistoricalDataOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        get_historical_data(&ctx, args).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(decode_cursor(&encode_cursor(t)).unwrap(), t);
        assert!(decode_cursor("not-a-cursor!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("v2:5")).is_err());
    }
}
