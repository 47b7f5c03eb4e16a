//! The layout every `BarStore` engine shares: bars packed as binary rows in
//! time buckets (see [`crate::bar_store`] for why), the steps that plan a put
//! (check, encode, group by bucket, merge), and the cursor formats. Engines
//! differ only in where the bytes go, so a bucket written by one engine's
//! code reads the same in another's, and the contract suite checks both.
//!
//! Decoding never trusts storage: anything that does not decode into a valid
//! domain value is `StoreError::Corrupt`, never a panic.

use chrono::{DateTime, TimeZone, Utc};

use crate::{
    Bar, BarPage, BarQuery, MAX_BARS_PER_BUCKET, MAX_BARS_PER_PAGE, MAX_SERIES_PER_PAGE, Order,
    PutReport, SeriesInfo, SeriesKey, SeriesPage, SeriesQuery, StoreError, Symbol, Timeframe,
    bucket_start,
};

/// open, high, low, close, volume as little-endian f64: fixed width, so a
/// bar costs 40 bytes and decoding needs no allocation.
pub const BAR_VALUE_LEN: usize = 5 * 8;
/// A bar inside a bucket: its time (i64 LE epoch seconds) then its values.
pub const BUCKET_ROW_LEN: usize = 8 + BAR_VALUE_LEN;
/// First byte of every bucket blob, so a future layout can be told apart.
pub const BUCKET_FORMAT: u8 = 1;

pub type BarRow = (i64, [u8; BAR_VALUE_LEN]);

pub fn encode_bar(bar: &Bar) -> [u8; BAR_VALUE_LEN] {
    let mut out = [0u8; BAR_VALUE_LEN];
    let fields = [bar.open(), bar.high(), bar.low(), bar.close(), bar.volume()];
    for (chunk, v) in out.chunks_exact_mut(8).zip(fields) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

pub fn le_u64(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_le_bytes)
}

pub fn le_i64(bytes: &[u8]) -> Option<i64> {
    bytes.try_into().ok().map(i64::from_le_bytes)
}

pub fn decode_bar(time: i64, bytes: &[u8]) -> Result<Bar, StoreError> {
    let at = time_from_key(time)?;
    if bytes.len() != BAR_VALUE_LEN {
        return Err(StoreError::Corrupt(format!(
            "bar at {at} has {} bytes, expected {BAR_VALUE_LEN}",
            bytes.len()
        )));
    }
    let mut f = [0f64; 5];
    for (v, chunk) in f.iter_mut().zip(bytes.chunks_exact(8)) {
        *v = le_u64(chunk).map_or(f64::NAN, f64::from_bits);
    }
    let [open, high, low, close, volume] = f;
    // Re-validating costs little and keeps a damaged file from feeding
    // impossible prices (NaN, high < low) into the analytics.
    Bar::new(at, open, high, low, close, volume)
        .map_err(|e| StoreError::Corrupt(format!("stored bar is invalid: {e}")))
}

/// A bucket: the format byte, then rows of time + values in rising time order.
pub fn encode_bucket(rows: &[BarRow]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len().saturating_mul(BUCKET_ROW_LEN).saturating_add(1));
    out.push(BUCKET_FORMAT);
    for (t, value) in rows {
        out.extend_from_slice(&t.to_le_bytes());
        out.extend_from_slice(value);
    }
    out
}

/// The rows of a bucket, checked for format, whole rows and rising times.
pub fn decode_bucket_rows(bytes: &[u8]) -> Result<Vec<BarRow>, StoreError> {
    let Some((&BUCKET_FORMAT, body)) = bytes.split_first() else {
        return Err(StoreError::Corrupt(
            "bar bucket has an unknown format".into(),
        ));
    };
    if body.len().checked_rem(BUCKET_ROW_LEN) != Some(0) {
        return Err(StoreError::Corrupt(format!(
            "bar bucket of {} bytes is not whole bars",
            bytes.len()
        )));
    }
    let mut rows: Vec<BarRow> = Vec::with_capacity(body.len() / BUCKET_ROW_LEN);
    for chunk in body.chunks_exact(BUCKET_ROW_LEN) {
        let (time, value) = chunk.split_at(8);
        let t = le_i64(time).ok_or_else(|| StoreError::Corrupt("bar time".into()))?;
        let value: [u8; BAR_VALUE_LEN] = value
            .try_into()
            .map_err(|_| StoreError::Corrupt("bar values".into()))?;
        if rows.last().is_some_and(|(prev, _)| *prev >= t) {
            return Err(StoreError::Corrupt(format!(
                "bar bucket is out of time order at {t}"
            )));
        }
        rows.push((t, value));
    }
    Ok(rows)
}

/// Bars are keyed by whole epoch seconds. A sub-second time is refused rather
/// than truncated: truncation would silently move the bar and could merge two
/// bars of one batch into the same key.
pub fn time_key(time: DateTime<Utc>) -> Result<i64, StoreError> {
    if time.timestamp_subsec_nanos() != 0 {
        return Err(StoreError::Invalid(format!(
            "bar time {} has a fractional second; bar times must be whole seconds",
            time.to_rfc3339()
        )));
    }
    Ok(time.timestamp())
}

pub fn time_from_key(secs: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("stored time {secs} is out of range")))
}

/// Timeframes are stored as explicit codes, not enum positions, so that
/// reordering the domain enum can never reinterpret existing data. The codes
/// rise with bar width so key order matches `Timeframe`'s `Ord`.
pub fn timeframe_code(tf: Timeframe) -> u8 {
    match tf {
        Timeframe::M1 => 1,
        Timeframe::M5 => 2,
        Timeframe::M15 => 3,
        Timeframe::M30 => 4,
        Timeframe::H1 => 5,
        Timeframe::H4 => 6,
        Timeframe::D1 => 7,
        Timeframe::W1 => 8,
    }
}

pub fn timeframe_from_code(code: u8) -> Result<Timeframe, StoreError> {
    Timeframe::ALL
        .into_iter()
        .find(|tf| timeframe_code(*tf) == code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown stored timeframe code {code}")))
}

pub fn series_key_from_parts(symbol: &str, code: u8) -> Result<SeriesKey, StoreError> {
    let symbol = Symbol::parse(symbol)
        .map_err(|e| StoreError::Corrupt(format!("stored series has a bad symbol: {e}")))?;
    Ok(SeriesKey::new(symbol, timeframe_from_code(code)?))
}

/// A bar put, checked and encoded before anything is read or written.
pub fn encode_batch(bars: &[Bar]) -> Result<Vec<BarRow>, StoreError> {
    let mut rows: Vec<BarRow> = Vec::with_capacity(bars.len());
    for bar in bars {
        let t = time_key(bar.time())?;
        if rows.last().is_some_and(|(prev, _)| *prev >= t) {
            return Err(StoreError::Invalid(format!(
                "bars must be in strictly increasing time order; {} does not follow the bar before it",
                bar.time().to_rfc3339()
            )));
        }
        rows.push((t, encode_bar(bar)));
    }
    Ok(rows)
}

/// Splits time-ordered rows into their buckets, in time order.
pub fn group_by_bucket(tf: Timeframe, rows: Vec<BarRow>) -> Vec<(i64, Vec<BarRow>)> {
    let mut groups: Vec<(i64, Vec<BarRow>)> = Vec::new();
    for row in rows {
        let start = bucket_start(tf, row.0);
        match groups.last_mut() {
            Some((s, group)) if *s == start => group.push(row),
            _ => groups.push((start, vec![row])),
        }
    }
    groups
}

pub fn too_many_in_bucket(key: &SeriesKey, start: i64, n: usize) -> StoreError {
    StoreError::Invalid(format!(
        "{n} bars of {} {} fall in one storage bucket (starting at epoch second {start}); at most \
         {MAX_BARS_PER_BUCKET} fit, so bars of timeframe {} must be about {} seconds apart",
        key.symbol,
        key.timeframe,
        key.timeframe,
        key.timeframe.seconds()
    ))
}

/// Merges new rows into stored ones (new wins at equal times), counting
/// inserted and replaced rows.
pub fn merge(old: Vec<BarRow>, new: Vec<BarRow>, report: &mut PutReport) -> Vec<BarRow> {
    let mut out = Vec::with_capacity(old.len().saturating_add(new.len()));
    let mut old = old.into_iter().peekable();
    for row in new {
        while let Some(o) = old.next_if(|o| o.0 < row.0) {
            out.push(o);
        }
        if old.next_if(|o| o.0 == row.0).is_some() {
            report.updated = report.updated.saturating_add(1);
        } else {
            report.inserted = report.inserted.saturating_add(1);
        }
        out.push(row);
    }
    out.extend(old);
    out
}

pub fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Inclusive query bounds in key seconds, narrowed by the cursor, or `None`
/// when no key can match. A fractional start rounds up and a fractional end
/// rounds down, so the bounds stay inclusive of exactly the bars inside them.
pub fn key_bounds(query: &BarQuery) -> Result<Option<(i64, i64)>, StoreError> {
    let mut lo = query.start.map_or(i64::MIN, |s| {
        s.timestamp()
            .saturating_add(i64::from(s.timestamp_subsec_nanos() > 0))
    });
    let mut hi = query.end.map_or(i64::MAX, |e| e.timestamp());
    if let Some(cursor) = &query.cursor {
        let after = parse_bar_cursor(cursor, query.order)?;
        match query.order {
            Order::Ascending => match after.checked_add(1) {
                Some(next) => lo = lo.max(next),
                None => return Ok(None),
            },
            Order::Descending => match after.checked_sub(1) {
                Some(next) => hi = hi.min(next),
                None => return Ok(None),
            },
        }
    }
    Ok((lo <= hi).then_some((lo, hi)))
}

pub fn order_tag(order: Order) -> char {
    match order {
        Order::Ascending => 'a',
        Order::Descending => 'd',
    }
}

pub fn bar_cursor(order: Order, last_secs: i64) -> String {
    format!("b1{}:{last_secs}", order_tag(order))
}

pub fn parse_bar_cursor(cursor: &str, order: Order) -> Result<i64, StoreError> {
    let bad = || {
        StoreError::Invalid(format!(
            "bar cursor {cursor:?} is not a next_cursor of a read in this order; start again without a cursor"
        ))
    };
    let rest = cursor
        .strip_prefix("b1")
        .and_then(|r| r.strip_prefix(order_tag(order)))
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(bad)?;
    rest.parse().map_err(|_| bad())
}

pub fn series_cursor(key: &SeriesKey) -> String {
    format!("s1:{}:{}", key.symbol, timeframe_code(key.timeframe))
}

pub fn parse_series_cursor(cursor: &str) -> Result<(String, u8), StoreError> {
    let bad = || {
        StoreError::Invalid(format!(
            "series cursor {cursor:?} is not a next_cursor of list_series; start again without a cursor"
        ))
    };
    let (symbol, code) = cursor
        .strip_prefix("s1:")
        .and_then(|r| r.rsplit_once(':'))
        .ok_or_else(bad)?;
    Ok((symbol.to_string(), code.parse().map_err(|_| bad())?))
}

/// A put checked and grouped before anything is read or written.
pub struct PlannedPut {
    /// Times of the first and last bar of the put.
    pub first: i64,
    pub last: i64,
    /// The put's rows by bucket start, in time order.
    pub groups: Vec<(i64, Vec<BarRow>)>,
}

/// Checks and groups a put; `None` for an empty one (which writes nothing).
pub fn plan_put(key: &SeriesKey, bars: &[Bar]) -> Result<Option<PlannedPut>, StoreError> {
    let rows = encode_batch(bars)?;
    let (Some(&(first, _)), Some(&(last, _))) = (rows.first(), rows.last()) else {
        return Ok(None);
    };
    let groups = group_by_bucket(key.timeframe, rows);
    if let Some((start, g)) = groups.iter().find(|(_, g)| g.len() > MAX_BARS_PER_BUCKET) {
        return Err(too_many_in_bucket(key, *start, g.len()));
    }
    Ok(Some(PlannedPut {
        first,
        last,
        groups,
    }))
}

/// Bar count, first and last time of a series after a put that inserted
/// `inserted` bars between `first` and `last` into `old` (count, first,
/// last; `None` for a new series).
pub fn series_stats_after(
    key: &SeriesKey,
    old: Option<(u64, i64, i64)>,
    inserted: u64,
    (first, last): (i64, i64),
) -> Result<(u64, i64, i64), StoreError> {
    match old {
        None => Ok((inserted, first, last)),
        Some((count, old_first, old_last)) => Ok((
            count.checked_add(inserted).ok_or_else(|| {
                StoreError::Corrupt(format!("{} bar count overflows", key.symbol))
            })?,
            old_first.min(first),
            old_last.max(last),
        )),
    }
}

/// Adds the rows of one bucket that fall in `[lo, hi]` to a page being
/// filled in `order`, up to `want` rows in all.
pub fn take_rows(
    picked: &mut Vec<BarRow>,
    rows: Vec<BarRow>,
    (lo, hi): (i64, i64),
    want: usize,
    order: Order,
) {
    let inside = rows.into_iter().filter(|(t, _)| (lo..=hi).contains(t));
    let room = want.saturating_sub(picked.len());
    match order {
        Order::Ascending => picked.extend(inside.take(room)),
        Order::Descending => picked.extend(inside.rev().take(room)),
    }
}

/// The page from rows picked in `order` (up to `limit + 1` of them: one past
/// the limit says another page exists), oldest first.
pub fn finish_page(
    mut picked: Vec<BarRow>,
    limit: usize,
    order: Order,
) -> Result<BarPage, StoreError> {
    let more = picked.len() > limit;
    picked.truncate(limit);
    let next_cursor = more
        .then(|| picked.last().map(|(t, _)| bar_cursor(order, *t)))
        .flatten();
    if order == Order::Descending {
        picked.reverse();
    }
    let bars = picked
        .iter()
        .map(|(t, v)| decode_bar(*t, v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BarPage { bars, next_cursor })
}

/// The effective page size of a bar query (0: nothing to read).
pub fn bar_page_limit(query: &BarQuery) -> usize {
    query
        .limit
        .unwrap_or(MAX_BARS_PER_PAGE)
        .min(MAX_BARS_PER_PAGE)
}

/// A `list_series` query checked: its prefix, its page size (`None`: an
/// empty page) and the series its cursor points after.
pub struct SeriesListing {
    pub prefix: String,
    pub limit: usize,
    pub after: Option<(String, u8)>,
}

pub fn series_listing(query: &SeriesQuery) -> Result<Option<SeriesListing>, StoreError> {
    let prefix = query.symbol_prefix.clone().unwrap_or_default();
    let limit = query
        .limit
        .unwrap_or(MAX_SERIES_PER_PAGE)
        .min(MAX_SERIES_PER_PAGE);
    if limit == 0 {
        return Ok(None);
    }
    let after = query
        .cursor
        .as_deref()
        .map(parse_series_cursor)
        .transpose()?;
    if let Some((symbol, _)) = &after
        && !symbol.starts_with(prefix.as_str())
    {
        return Err(StoreError::Invalid(format!(
            "series cursor after {symbol} does not belong to a listing of prefix {prefix:?}; start again without a cursor"
        )));
    }
    Ok(Some(SeriesListing {
        prefix,
        limit,
        after,
    }))
}

/// The page of a listing that read up to `limit + 1` series.
pub fn finish_series_page(mut series: Vec<SeriesInfo>, limit: usize) -> SeriesPage {
    let more = series.len() > limit;
    series.truncate(limit);
    let next_cursor = more
        .then(|| series.last().map(|i| series_cursor(&i.key)))
        .flatten();
    SeriesPage {
        series,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_round_trip_bit_for_bit() {
        let t = Utc.with_ymd_and_hms(1969, 7, 20, 20, 17, 0).unwrap();
        let bar = Bar::new(t, 0.1 + 0.2, 1e300, 1e-300, 0.3, 0.0).unwrap();
        let rows = decode_bucket_rows(&encode_bucket(&[(time_key(t).unwrap(), encode_bar(&bar))]))
            .unwrap();
        let back = decode_bar(rows[0].0, &rows[0].1).unwrap();
        assert_eq!(back, bar);
        assert_eq!(back.open().to_bits(), (0.1f64 + 0.2).to_bits());
    }

    #[test]
    fn damaged_bars_and_buckets_are_corrupt_not_panics() {
        assert!(matches!(
            decode_bar(0, &[1, 2, 3]),
            Err(StoreError::Corrupt(_))
        ));
        let mut nan = encode_bar(&Bar::new(Utc::now(), 1.0, 2.0, 0.5, 1.5, 10.0).unwrap());
        nan[..8].copy_from_slice(&f64::NAN.to_le_bytes());
        assert!(matches!(decode_bar(0, &nan), Err(StoreError::Corrupt(_))));
        assert!(matches!(
            decode_bar(i64::MAX, &nan),
            Err(StoreError::Corrupt(_))
        ));
        let row = (5, [0u8; BAR_VALUE_LEN]);
        for bad in [
            vec![],
            vec![9],
            vec![BUCKET_FORMAT, 1, 2],
            encode_bucket(&[row, row]),
        ] {
            assert!(matches!(
                decode_bucket_rows(&bad),
                Err(StoreError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn sub_second_times_are_refused() {
        let t = Utc.timestamp_opt(1_700_000_000, 500_000_000).unwrap();
        assert!(matches!(time_key(t), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn timeframe_codes_are_unique_and_follow_timeframe_order() {
        let codes: Vec<u8> = Timeframe::ALL.into_iter().map(timeframe_code).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        for tf in Timeframe::ALL {
            assert_eq!(timeframe_from_code(timeframe_code(tf)).unwrap(), tf);
        }
        assert!(matches!(
            timeframe_from_code(0),
            Err(StoreError::Corrupt(_))
        ));
    }
}
