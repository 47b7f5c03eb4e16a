//! Where a per-bar tool's bars come from: stored data (`symbol` +
//! `timeframe`, optional `start`/`end`/`lookback`) or inline `bars`, and the
//! window of rows it returns.
//!
//! Inline bars are parsed straight into validated [`Bar`]s as the JSON
//! streams by: no intermediate value tree, no per-bar buffering.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use gs_domain::{Bar, BarColumns, BarStore, Symbol, Timeframe};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::market_data::{HistoryRequest, load_history};
use crate::time_input::{epoch, parse_time};

pub const DEFAULT_LOOKBACK: usize = 500;
pub const MAX_LOOKBACK: usize = 20_000;
pub const DEFAULT_OUTPUT_ROWS: usize = 1_000;
pub const MAX_OUTPUT_ROWS: usize = 5_000;

/// Declares a tool's argument struct with the data-source fields first
/// (`symbol`, `timeframe`, `start`, `end`, `lookback`, `bars`) and the
/// tool's own after them. Spelled out rather than `#[serde(flatten)]`:
/// flatten buffers the whole argument object (5,000 inline bars included)
/// before deserialising it a second time.
macro_rules! with_data_source {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Ticker symbol of stored data (e.g. AAPL); use either this or `bars`.
            pub symbol: Option<String>,
            /// Bar width: 1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w (default 1d). For inline bars it names their width.
            pub timeframe: Option<String>,
            /// First bar time to load (RFC 3339, YYYY-MM-DD or epoch seconds).
            pub start: Option<String>,
            /// Last bar time to load (default: the latest stored bar).
            pub end: Option<String>,
            /// Number of stored bars to load (1 to 20000, default depends on the tool): the latest ones up to `end`, or the first ones from `start`.
            pub lookback: Option<u32>,
            /// Inline OHLCV bars in time order (at most 20000); use either this or `symbol`.
            pub bars: Option<$crate::data_source::InlineBars>,
            $( $(#[$fmeta])* pub $field : $ty, )*
        }

        impl $name {
            /// Moves the data-source fields out of the arguments.
            pub fn take_data(&mut self) -> $crate::data_source::DataSourceArgs {
                $crate::data_source::DataSourceArgs {
                    symbol: self.symbol.take(),
                    timeframe: self.timeframe.take(),
                    start: self.start.take(),
                    end: self.end.take(),
                    lookback: self.lookback.take(),
                    bars: self.bars.take(),
                }
            }
        }
    };
}
pub(crate) use with_data_source;

/// The data-source arguments of a per-bar tool.
#[derive(Debug, Default)]
pub struct DataSourceArgs {
    pub symbol: Option<String>,
    pub timeframe: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub lookback: Option<u32>,
    pub bars: Option<InlineBars>,
}

impl DataSourceArgs {
    /// Loads `lookback` bars when the caller named neither a lookback nor a start.
    pub fn with_default_lookback(mut self, lookback: u32) -> Self {
        if self.lookback.is_none() && self.start.is_none() {
            self.lookback = Some(lookback);
        }
        self
    }
}

/// Inline bars, validated (`Bar::new`, strictly increasing times, at most
/// [`MAX_LOOKBACK`]) while they are parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InlineBars(pub Vec<Bar>);

// Only its schema is used; parsing goes through `BarSeed`.
/// One OHLCV bar given inline.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct InlineBar {
    /// Bar time: RFC 3339 string, YYYY-MM-DD, or epoch seconds.
    time: BarTime,
    /// Opening price.
    open: f64,
    /// Highest price.
    high: f64,
    /// Lowest price.
    low: f64,
    /// Closing price.
    close: f64,
    /// Traded volume (default 0).
    #[serde(default)]
    volume: f64,
}

/// A bar time.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum BarTime {
    Epoch(i64),
    Text(String),
}

impl JsonSchema for InlineBars {
    fn schema_name() -> Cow<'static, str> {
        "InlineBars".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let item = generator.subschema_for::<InlineBar>();
        json_schema!({
            "type": "array",
            "items": item,
            "maxItems": MAX_LOOKBACK,
        })
    }
}

impl<'de> Deserialize<'de> for InlineBars {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(BarsVisitor)
    }
}

struct BarsVisitor;

impl<'de> Visitor<'de> for BarsVisitor {
    type Value = InlineBars;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of bars {time, open, high, low, close, volume}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<InlineBars, A::Error> {
        let hint = seq.size_hint().unwrap_or(0).min(MAX_LOOKBACK);
        let mut bars: Vec<Bar> = Vec::with_capacity(hint);
        while let Some(bar) = seq.next_element_seed(BarSeed { index: bars.len() })? {
            if bars.len() >= MAX_LOOKBACK {
                return Err(de::Error::custom(format!(
                    "too many inline bars; send at most {MAX_LOOKBACK}"
                )));
            }
            if bars.last().is_some_and(|p| p.time() >= bar.time()) {
                return Err(de::Error::custom(format!(
                    "bars[{}]: times must be strictly increasing",
                    bars.len()
                )));
            }
            bars.push(bar);
        }
        Ok(InlineBars(bars))
    }
}

/// Parses and validates bar number `index`.
struct BarSeed {
    index: usize,
}

#[derive(Clone, Copy)]
enum BarField {
    Time,
    Open,
    High,
    Low,
    Close,
    Volume,
}

const BAR_FIELDS: &[&str] = &["time", "open", "high", "low", "close", "volume"];

impl<'de> Deserialize<'de> for BarField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = BarField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bar field")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BarField, E> {
                Ok(match v {
                    "time" => BarField::Time,
                    "open" => BarField::Open,
                    "high" => BarField::High,
                    "low" => BarField::Low,
                    "close" => BarField::Close,
                    "volume" => BarField::Volume,
                    other => return Err(E::unknown_field(other, BAR_FIELDS)),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> DeserializeSeed<'de> for BarSeed {
    type Value = Bar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Bar, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BarSeed {
    type Value = Bar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bars[{}] as {{time, open, high, low, close, volume}}",
            self.index
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bar, A::Error> {
        let i = self.index;
        let mut time = None;
        let mut ohlcv: [Option<f64>; 5] = [None; 5];
        while let Some(field) = map.next_key::<BarField>()? {
            let slot = match field {
                BarField::Time => {
                    let raw = map.next_value_seed(TimeSeed { index: i })?;
                    if time.replace(raw).is_some() {
                        return Err(de::Error::custom(format!(
                            "bars[{i}]: duplicate field time"
                        )));
                    }
                    continue;
                }
                BarField::Open => &mut ohlcv[0],
                BarField::High => &mut ohlcv[1],
                BarField::Low => &mut ohlcv[2],
                BarField::Close => &mut ohlcv[3],
                BarField::Volume => &mut ohlcv[4],
            };
            if slot.replace(map.next_value::<f64>()?).is_some() {
                return Err(de::Error::custom(format!("bars[{i}]: duplicate field")));
            }
        }
        let missing = |name: &str| de::Error::custom(format!("bars[{i}]: missing field {name}"));
        let time = time.ok_or_else(|| missing("time"))?;
        let [open, high, low, close, volume] = ohlcv;
        Bar::new(
            time,
            open.ok_or_else(|| missing("open"))?,
            high.ok_or_else(|| missing("high"))?,
            low.ok_or_else(|| missing("low"))?,
            close.ok_or_else(|| missing("close"))?,
            volume.unwrap_or(0.0),
        )
        .map_err(|e| de::Error::custom(format!("bars[{i}]: {e}")))
    }
}

/// A bar time: RFC 3339 / date text or whole epoch seconds.
struct TimeSeed {
    index: usize,
}

impl<'de> DeserializeSeed<'de> for TimeSeed {
    type Value = DateTime<Utc>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Visitor<'_> for TimeSeed {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bars[{}].time as an RFC 3339 string or epoch seconds",
            self.index
        )
    }

    // The field name is formatted only for an error: this runs once a bar.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_time("time", v).map_err(|_| {
            E::custom(
                parse_time(&format!("bars[{}].time", self.index), v)
                    .err()
                    .map_or_else(String::new, |e| e.to_string()),
            )
        })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        epoch("time", v)
            .map_err(|_| E::custom(format!("bars[{}].time {v} is out of range", self.index)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let secs = i64::try_from(v)
            .map_err(|_| E::custom(format!("bars[{}].time {v} is out of range", self.index)))?;
        self.visit_i64(secs)
    }
}

/// Per-bar results return the latest rows only; this says which, so every
/// such tool reports its window the same way.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RowWindow {
    /// Symbol of stored data, absent for inline bars.
    pub symbol: Option<String>,
    /// Timeframe of stored data, absent for inline bars.
    pub timeframe: Option<String>,
    /// True when the bars are synthetic demo data.
    pub synthetic: bool,
    /// Bars the computation ran over.
    pub bars_used: usize,
    /// Rows returned (the most recent ones).
    pub rows: usize,
    /// True when fewer rows were returned than bars used.
    pub truncated: bool,
    /// Bar time of each returned row (RFC 3339, UTC).
    pub time: Times,
}

/// Times written as chrono writes them (`2024-01-02T15:30:00Z`, fractions
/// only when there are any), formatted directly for whole-second times
/// inside years 0-9999: one row's time costs a few nanoseconds, not a trip
/// through `fmt`.
#[derive(Debug, Default)]
pub struct Times(pub Vec<DateTime<Utc>>);

impl Times {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl JsonSchema for Times {
    fn schema_name() -> Cow<'static, str> {
        "Times".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "items": {"type": "string", "format": "date-time"}
        })
    }
}

impl Serialize for Times {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        let mut buf = [0u8; 20];
        for t in &self.0 {
            match rfc3339_seconds(t, &mut buf) {
                Some(text) => seq.serialize_element(text)?,
                None => seq.serialize_element(t)?,
            }
        }
        seq.end()
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a whole-second time in years 0-9999.
fn rfc3339_seconds<'b>(t: &DateTime<Utc>, buf: &'b mut [u8; 20]) -> Option<&'b str> {
    use chrono::{Datelike, Timelike};
    let t = t.naive_utc();
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    if t.nanosecond() != 0 {
        return None;
    }
    let digit = |n: u32| char::from_digit(n % 10, 10).map_or(b'0', |c| c as u8);
    let parts = [
        (0, year / 1000),
        (1, year / 100),
        (2, year / 10),
        (3, year),
        (5, t.month() / 10),
        (6, t.month()),
        (8, t.day() / 10),
        (9, t.day()),
        (11, t.hour() / 10),
        (12, t.hour()),
        (14, t.minute() / 10),
        (15, t.minute()),
        (17, t.second() / 10),
        (18, t.second()),
    ];
    *buf = *b"0000-00-00T00:00:00Z";
    for (at, n) in parts {
        if let Some(slot) = buf.get_mut(at) {
            *slot = digit(n);
        }
    }
    std::str::from_utf8(buf).ok()
}

/// The first returned row's index and the window description for a result
/// over `loaded` capped at `output_rows` (default 1000, at most 5000).
pub fn row_window(
    loaded: &LoadedBars,
    output_rows: Option<u32>,
) -> Result<(usize, RowWindow), ToolError> {
    let output_rows = output_rows.map_or(Ok(DEFAULT_OUTPUT_ROWS), usize::try_from);
    let output_rows = match output_rows {
        Ok(n) if (1..=MAX_OUTPUT_ROWS).contains(&n) => n,
        _ => {
            return Err(ToolError::invalid(format!(
                "output_rows must be between 1 and {MAX_OUTPUT_ROWS}"
            )));
        }
    };
    let n = loaded.bars.len();
    let skip = n.saturating_sub(output_rows);
    let time = Times(loaded.bars.iter().skip(skip).map(Bar::time).collect());
    Ok((
        skip,
        RowWindow {
            symbol: loaded.symbol.as_ref().map(ToString::to_string),
            timeframe: loaded.timeframe.map(|t| t.to_string()),
            synthetic: loaded.synthetic,
            bars_used: n,
            rows: time.len(),
            truncated: time.len() < n,
            time,
        },
    ))
}

/// Bars resolved from [`DataSourceArgs`], with their provenance.
pub struct LoadedBars {
    pub symbol: Option<Symbol>,
    pub timeframe: Option<Timeframe>,
    pub synthetic: bool,
    pub bars: Vec<Bar>,
}

impl LoadedBars {
    /// Runs CPU-heavy `work` over the bars on the compute pool (see
    /// [`ToolContext::compute`]) and gets the bars back.
    pub async fn compute<T, F>(&mut self, ctx: &ToolContext, work: F) -> Result<T, ToolError>
    where
        T: Send + 'static,
        F: FnOnce(&[Bar]) -> Result<T, ToolError> + Send + 'static,
    {
        let bars = std::mem::take(&mut self.bars);
        let (out, bars) = ctx
            .compute(move || {
                let out = work(&bars);
                Ok((out, bars))
            })
            .await?;
        self.bars = bars;
        out
    }

    /// "500 1d bars of AAPL" or "500 inline bars", for summaries.
    pub fn describe(&self) -> String {
        match (&self.symbol, self.timeframe) {
            (Some(s), Some(tf)) => format!("{} {tf} bars of {s}", self.bars.len()),
            _ => format!("{} inline bars", self.bars.len()),
        }
    }

    /// The bars' timeframe: stored data knows it; inline bars take the
    /// `timeframe` argument (default 1d).
    pub fn timeframe_or(&self, given: Option<&str>) -> Result<Timeframe, ToolError> {
        match self.timeframe {
            Some(tf) => Ok(tf),
            None => Ok(Timeframe::parse(given.unwrap_or("1d"))?),
        }
    }
}

pub async fn load_bars(
    store: &dyn BarStore,
    args: DataSourceArgs,
) -> Result<LoadedBars, ToolError> {
    match (args.symbol, args.bars) {
        (Some(_), Some(_)) => Err(ToolError::invalid(
            "give either symbol (stored data) or bars (inline data), not both",
        )),
        (None, None) => Err(ToolError::invalid(
            "no data: give symbol (and optionally timeframe, start, end, lookback) or inline bars",
        )),
        (None, Some(InlineBars(bars))) => Ok(LoadedBars {
            symbol: None,
            timeframe: None,
            synthetic: false,
            bars,
        }),
        (Some(symbol), None) => {
            let lookback = args
                .lookback
                .map_or(Ok(DEFAULT_LOOKBACK), usize::try_from)
                .ok()
                .filter(|l| (1..=MAX_LOOKBACK).contains(l))
                .ok_or_else(|| {
                    ToolError::invalid(format!(
                        "lookback must be between 1 and {MAX_LOOKBACK} bars"
                    ))
                })?;
            let req = HistoryRequest {
                symbol: Symbol::parse(&symbol)?,
                timeframe: Timeframe::parse(args.timeframe.as_deref().unwrap_or("1d"))?,
                start: args
                    .start
                    .as_deref()
                    .map(|s| parse_time("start", s))
                    .transpose()?,
                end: args
                    .end
                    .as_deref()
                    .map(|s| parse_time("end", s))
                    .transpose()?,
                days: None,
                limit: lookback,
            };
            let h = load_history(store, &req).await?;
            Ok(LoadedBars {
                symbol: Some(h.symbol),
                timeframe: Some(h.timeframe),
                synthetic: h.source.source.is_synthetic(),
                bars: h.bars,
            })
        }
    }
}

/// The columns of `bars` as the analytics crate reads them.
pub fn ohlcv(cols: &BarColumns) -> gs_analytics::Ohlcv<'_> {
    gs_analytics::Ohlcv {
        open: cols.open(),
        high: cols.high(),
        low: cols.low(),
        close: cols.close(),
        volume: cols.volume(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<InlineBars, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn times_are_written_exactly_as_chrono_writes_them() {
        use chrono::TimeZone;
        let times = vec![
            Utc.with_ymd_and_hms(2024, 1, 2, 15, 30, 5).unwrap(),
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap()
                + chrono::Duration::milliseconds(250),
            Utc.with_ymd_and_hms(12345, 6, 7, 8, 9, 10).unwrap(),
            DateTime::<Utc>::MIN_UTC,
        ];
        let ours = serde_json::to_string(&Times(times.clone())).unwrap();
        let chrono = serde_json::to_string(&times).unwrap();
        assert_eq!(ours, chrono);
        assert!(
            ours.starts_with(r#"["2024-01-02T15:30:05Z","1970-01-01T00:00:00Z""#),
            "{ours}"
        );
    }

    #[test]
    fn inline_bars_parse_and_validate_as_they_stream() {
        let bars = parse(
            r#"[{"time":"2024-01-02","open":1,"high":2,"low":0.5,"close":1.5},
                {"time":1704240000,"open":1.5,"high":2,"low":1,"close":1.8,"volume":10}]"#,
        )
        .unwrap();
        assert_eq!(bars.0.len(), 2);
        assert_eq!(bars.0[1].volume(), 10.0);
        assert_eq!(bars.0[1].time().timestamp(), 1_704_240_000);

        let err = parse(r#"[{"time":"2024-01-02","open":1,"high":0.5,"low":0.4,"close":1}]"#)
            .unwrap_err();
        assert!(err.contains("bars[0]"), "{err}");
        let err = parse(
            r#"[{"time":"2024-01-03","open":1,"high":2,"low":0.5,"close":1.5},
                {"time":"2024-01-02","open":1,"high":2,"low":0.5,"close":1.5}]"#,
        )
        .unwrap_err();
        assert!(
            err.contains("bars[1]") && err.contains("increasing"),
            "{err}"
        );
        let err = parse(r#"[{"time":"2024-01-02","open":1,"high":2,"low":0.5,"close":1,"vol":3}]"#)
            .unwrap_err();
        assert!(err.contains("vol"), "{err}");
        let err = parse(r#"[{"open":1,"high":2,"low":0.5,"close":1}]"#).unwrap_err();
        assert!(err.contains("missing field time"), "{err}");
        let err = parse(r#"[{"time":true,"open":1,"high":2,"low":0.5,"close":1}]"#).unwrap_err();
        assert!(err.contains("bars[0].time"), "{err}");
        let err = parse(r#"[{"time":99999999999999999,"open":1,"high":2,"low":0.5,"close":1}]"#)
            .unwrap_err();
        assert!(err.contains("out of range"), "{err}");
    }
}
