//! CSV parsing for `goldensignals import` and for CSV text sent to the
//! server: one file of OHLCV rows in, bars that passed [`Bar::new`] out, all
//! or nothing unless the caller opts in to skipping bad rows.

mod columns;
mod dialect;
mod layout;
mod number;
mod time;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use chrono::{DateTime, Utc};
use gs_domain::{Bar, DomainError};
use thiserror::Error;

pub use columns::{Column, ColumnMap};
pub use dialect::Dialect;
use dialect::{detect_delimiter, strip_bom};
use layout::{Layout, read_layout};
use number::{Decimal, parse_price, parse_volume};
use time::{SlashOrder, parse_time};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Import the valid rows and report the others in [`ParsedCsv::skipped`]
    /// instead of refusing the whole file.
    pub skip_bad: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCsv {
    /// Oldest first, one bar per time.
    pub bars: Vec<Bar>,
    /// Rows left out under `skip_bad`, in file order.
    pub skipped: Vec<RowError>,
    pub columns: ColumnMap,
    /// Separator, decimal mark and header rows, as detected.
    pub dialect: Dialect,
}

/// A row that could not become a bar. `line` is the 1-based line in the file
/// (the header is line 1; yfinance's three header rows are lines 1-3), so
/// users can jump straight to it in an editor.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// How many bad rows an error message lists before summarising the rest.
const LISTED_ROWS: usize = 20;

#[derive(Debug, Error)]
pub enum CsvError {
    #[error("{}", unrecognised_message(found, missing))]
    UnrecognisedColumns {
        /// The header names, or empty when the file has no header row.
        found: Vec<String>,
        missing: Vec<&'static str>,
    },
    #[error("{}", BadRowsMessage(.0))]
    BadRows(Vec<RowError>),
    #[error("the file has no data rows")]
    Empty,
    /// A yfinance download of several tickers: one series per import.
    #[error("{}", several_tickers_message(.0))]
    SeveralTickers(Vec<String>),
    /// pandas' default index (0, 1, 2, ...) is the only candidate for the time.
    #[error(
        "the first column has no name and holds row numbers ({value:?} on line {line}), not times, \
         and no column is named date, time, timestamp or datetime; name the time column, \
         or write the file with the dates as its index (pandas: df.set_index(\"Date\").to_csv(path))"
    )]
    RowNumbersNotTimes { line: u64, value: String },
    /// The cause is the `source`, not repeated in the message, so error
    /// chains print it once.
    #[error("could not read the CSV file")]
    Io(#[from] std::io::Error),
}

fn unrecognised_message(found: &[String], missing: &[&str]) -> String {
    let accepted = "accepted names (any case, spaces and punctuation ignored): \
                    date/time/timestamp/datetime, open/o, high/h, low/l, close/c/last/price, \
                    adj close, volume/vol/v";
    if found.is_empty() {
        format!(
            "the file has no header row and too few fields: rows must be time,open,high,low,close[,volume] \
             (missing {}), or start with a header row; {accepted}",
            missing.join(", ")
        )
    } else {
        format!(
            "no column for {} in the header [{}]; {accepted}",
            missing.join(", "),
            found.join(", ")
        )
    }
}

fn several_tickers_message(tickers: &[String]) -> String {
    let first = tickers.first().map_or("AAPL", String::as_str);
    format!(
        "the file holds bars of {} tickers ({}) side by side, and an import is one symbol; \
         write one file per ticker, e.g. in pandas df.xs(\"{first}\", axis=1, level=\"Ticker\").to_csv(\"{first}.csv\"), \
         or download them one at a time with yf.download(\"{first}\")",
        tickers.len(),
        tickers.join(", ")
    )
}

struct BadRowsMessage<'a>(&'a [RowError]);

impl fmt::Display for BadRowsMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = self.0;
        let plural = if rows.len() == 1 { "row" } else { "rows" };
        write!(
            f,
            "{} {plural} could not be read, so nothing was imported:",
            rows.len()
        )?;
        for row in rows.iter().take(LISTED_ROWS) {
            write!(f, "\n  {row}")?;
        }
        if rows.len() > LISTED_ROWS {
            write!(
                f,
                "\n  ... and {} more",
                rows.len().saturating_sub(LISTED_ROWS)
            )?;
        }
        write!(
            f,
            "\nFix these rows, or pass --skip-bad to import the valid rows and list the others."
        )
    }
}

/// Reads a whole CSV file of bars.
///
/// Accepted:
/// - **Encoding and separators**: UTF-8, with or without a leading byte
///   order mark; fields separated by `,`, `;` or a tab, detected from the
///   first line (see [`Dialect`]).
/// - **Header row** (detected when the first row names a known column, or
///   has no field that reads as a number or a time). Names match ignoring
///   case, spaces and punctuation: `date`/`time`/`timestamp`/`datetime`/
///   `Date Time`, or separate `date` + `time` columns (MetaTrader's
///   `<DATE>,<TIME>`); `open`/`o`; `high`/`h`; `low`/`l`; `close`/`c`/`last`/
///   `Close/Last` (or `price` when there is no close); `adj close`;
///   `volume`/`vol`/`v` (optional). Other columns are ignored and listed.
/// - **Adj Close** is ignored when the file has a close (it is noted in
///   [`ColumnMap::adj_close`], never applied: adjusting only the close would
///   break bars against the unadjusted high and low), and used as the close
///   when it is the only one.
/// - **pandas' `df.to_csv()`**: an unnamed first column (header `,Open,...`)
///   is the time when no column is named like one; when one is (`,Date,...`)
///   the unnamed column is pandas' row number and is ignored. An unnamed
///   first column of small integers with no named time column is refused
///   ([`CsvError::RowNumbersNotTimes`]) rather than read as 1970 epochs.
/// - **yfinance's `yf.download(...).to_csv()`**: the `Price,Close,High,...` /
///   `Ticker,AAPL,...` / `Date,,,...` header rows (either of the first two
///   first; the third may be absent), with or without `Adj Close`. Several
///   tickers side by side are refused ([`CsvError::SeveralTickers`]); the
///   one ticker is reported in [`Dialect::ticker`]. Line numbers count the
///   header rows: the first bar is line 4.
/// - **No header**: `time,open,high,low,close[,volume]`.
/// - **Times**, all converted to UTC: `2024-01-02` (also `/` or `.`
///   separated, or `20240102`), ISO datetimes with `T` or a space, optional
///   seconds and fraction, optional `Z`/`UTC`/`+02:00`/`+0200`/`-05` (as
///   pandas writes a tz-aware index: `2024-01-02 09:30:00-05:00` is 14:30
///   UTC). A time without an offset is taken to be UTC, never the
///   exchange's local time. Epoch seconds, milliseconds, microseconds or
///   nanoseconds, told apart by magnitude. `MM/DD/YYYY` and `DD/MM/YYYY`
///   only when some date in the file settles which (a part above 12);
///   otherwise those rows are refused rather than guessed.
/// - **Numbers**: plain or scientific, thousands separators in quoted fields
///   (`"1,234.5"`), a leading `$`; `K`/`M`/`B` suffixes on volume. Decimal
///   commas (`185,64`) only in a `;`-separated file where no price or volume
///   has a `.`; then a number has at most one `,`. Empty, `null` or `NaN`
///   prices are row errors; an empty volume is 0.
///
/// Every row must become a valid bar, or the result is [`CsvError::BadRows`]
/// listing them all; with `skip_bad`, bad rows are reported in
/// [`ParsedCsv::skipped`] instead (but a file with no valid row at all is
/// still refused). A time seen twice is an error on the later line. Bars are
/// returned oldest first whatever the file's order.
///
/// The whole input is read before parsing (the result holds every bar
/// anyway), so any `Read` works: a file, a socket, or bytes in memory.
pub fn parse_csv(mut reader: impl std::io::Read, opts: &CsvOptions) -> Result<ParsedCsv, CsvError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    parse_bytes(&bytes, opts)
}

/// [`parse_csv`] on text already in memory, such as CSV sent in a request.
pub fn parse_csv_str(text: &str, opts: &CsvOptions) -> Result<ParsedCsv, CsvError> {
    parse_bytes(text.as_bytes(), opts)
}

fn parse_bytes(bytes: &[u8], opts: &CsvOptions) -> Result<ParsedCsv, CsvError> {
    let bytes = strip_bom(bytes);
    let delimiter = detect_delimiter(bytes);
    let records = read_records(bytes, delimiter)?;
    let Layout {
        columns,
        header_rows,
        ticker,
    } = read_layout(&records)?;
    let data = records.get(header_rows..).unwrap_or_default();
    if data.is_empty() {
        return Err(CsvError::Empty);
    }

    let valid_rows = || data.iter().filter_map(|(_, r)| r.as_ref().ok());
    let slash = SlashOrder::detect(
        valid_rows().filter_map(|fields| fields.get(columns.time.index).map(String::as_str)),
    );
    let decimal = if delimiter == b';' {
        let numeric = [
            Some(&columns.open),
            Some(&columns.high),
            Some(&columns.low),
            Some(&columns.close),
            columns.volume.as_ref(),
        ];
        Decimal::detect(valid_rows().flat_map(|fields| {
            numeric
                .iter()
                .flatten()
                .filter_map(|c| fields.get(c.index).map(String::as_str))
        }))
    } else {
        Decimal::Point
    };

    let mut bars = Vec::with_capacity(data.len());
    let mut bad = Vec::new();
    let mut seen: HashMap<DateTime<Utc>, u64> = HashMap::with_capacity(data.len());
    for (line, fields) in data {
        let line = *line;
        let parsed = fields
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|fields| parse_row(&columns, fields, slash, decimal));
        let bar = match parsed {
            Ok(bar) => bar,
            Err(message) => {
                bad.push(RowError { line, message });
                continue;
            }
        };
        match seen.entry(bar.time()) {
            // The first occurrence stays, so `skip_bad` imports what the file said first.
            Entry::Occupied(earlier) => bad.push(RowError {
                line,
                message: format!(
                    "duplicate time {} (already on line {})",
                    bar.time().to_rfc3339(),
                    earlier.get()
                ),
            }),
            Entry::Vacant(slot) => {
                slot.insert(line);
                bars.push(bar);
            }
        }
    }

    if !bad.is_empty() && (!opts.skip_bad || bars.is_empty()) {
        return Err(CsvError::BadRows(bad));
    }
    // Exports are often newest first (Yahoo, Investing.com); times are unique by now.
    bars.sort_unstable_by_key(Bar::time);
    Ok(ParsedCsv {
        bars,
        skipped: bad,
        columns,
        dialect: Dialect {
            delimiter: char::from(delimiter),
            decimal_comma: decimal == Decimal::Comma,
            header_rows,
            ticker,
        },
    })
}

/// A non-blank record: its 1-based line and its fields, or why they are unreadable.
pub(crate) type Record = (u64, Result<Vec<String>, String>);

/// Every non-blank record with its line number. Fields that are not UTF-8
/// make that row bad rather than the whole file unreadable, since one stray
/// Latin-1 character in a comment column should not hide the other errors.
fn read_records(bytes: &[u8], delimiter: u8) -> Result<Vec<Record>, CsvError> {
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let more = csv.read_byte_record(&mut record).map_err(|e| {
            // With flexible byte records only I/O can fail; keep any other cause anyway.
            if !e.is_io_error() {
                return CsvError::Io(std::io::Error::other(e));
            }
            match e.into_kind() {
                csv::ErrorKind::Io(io) => CsvError::Io(io),
                other => CsvError::Io(std::io::Error::other(format!("{other:?}"))),
            }
        })?;
        if !more {
            break;
        }
        // Spreadsheets pad files with rows of empty cells (",,,,,").
        if record.iter().all(<[u8]>::is_empty) {
            continue;
        }
        let line = record.position().map_or(0, csv::Position::line);
        let fields = record
            .iter()
            .map(|f| String::from_utf8(f.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "the row is not valid UTF-8 text (save the file as UTF-8)".to_string());
        out.push((line, fields));
    }
    Ok(out)
}

fn parse_row(
    columns: &ColumnMap,
    fields: &[String],
    slash: SlashOrder,
    decimal: Decimal,
) -> Result<Bar, String> {
    let field = |column: &Column, name: &str| {
        fields.get(column.index).map(String::as_str).ok_or_else(|| {
            format!(
                "no {name} value: the row has {} fields and {name} is {column}",
                fields.len()
            )
        })
    };
    let time_text = match &columns.time_of_day {
        Some(clock) => format!(
            "{} {}",
            field(&columns.time, "date")?,
            field(clock, "time")?
        ),
        None => field(&columns.time, "time")?.to_string(),
    };
    let time = parse_time(&time_text, slash)?;
    let price = |column: &Column, name: &str| {
        parse_price(field(column, name)?, decimal).map_err(|why| format!("{name} {why}"))
    };
    let open = price(&columns.open, "open")?;
    let high = price(&columns.high, "high")?;
    let low = price(&columns.low, "low")?;
    let close = price(&columns.close, "close")?;
    let volume = match &columns.volume {
        // A row cut short before the volume is read like an empty volume.
        Some(column) => parse_volume(fields.get(column.index).map_or("", String::as_str), decimal)
            .map_err(|why| format!("volume {why}"))?,
        None => 0.0,
    };
    Bar::new(time, open, high, low, close, volume).map_err(|e| match e {
        // The domain message repeats the time, which the line number already locates.
        DomainError::InvalidBar { reason, .. } => reason,
        other => other.to_string(),
    })
}
