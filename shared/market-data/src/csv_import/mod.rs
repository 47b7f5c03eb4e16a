//! CSV parsing for `goldensignals import`: one file of OHLCV rows in, bars
//! that passed [`Bar::new`] out, all or nothing unless the caller opts in to
//! skipping bad rows.

mod columns;
mod number;
mod time;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use chrono::{DateTime, Utc};
use gs_domain::{Bar, DomainError};
use thiserror::Error;

pub use columns::{Column, ColumnMap};
use columns::{Missing, is_header};
use number::{parse_price, parse_volume};
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
}

/// A row that could not become a bar. `line` is the 1-based line in the file
/// (the header is line 1), so users can jump straight to it in an editor.
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
            write!(f, "\n  ... and {} more", rows.len() - LISTED_ROWS)?;
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
/// - **Header row** (detected when the first row names a known column, or
///   has no field that reads as a number or a time). Names match ignoring
///   case, spaces and punctuation: `date`/`time`/`timestamp`/`datetime`/
///   `Date Time`, or separate `date` + `time` columns (MetaTrader's
///   `<DATE>,<TIME>`); `open`/`o`; `high`/`h`; `low`/`l`; `close`/`c`/`last`/
///   `Close/Last` (or `price` when there is no close); `adj close` (noted in
///   [`ColumnMap`], never applied); `volume`/`vol`/`v` (optional). Other
///   columns are ignored and listed.
/// - **No header**: `time,open,high,low,close[,volume]`.
/// - **Times**, all converted to UTC: `2024-01-02` (also `/` or `.`
///   separated, or `20240102`), ISO datetimes with `T` or a space, optional
///   seconds and fraction, optional `Z`/`UTC`/`+02:00`/`+0200` (no offset
///   means UTC); epoch seconds, milliseconds, microseconds or nanoseconds,
///   told apart by magnitude. `MM/DD/YYYY` and `DD/MM/YYYY` only when some
///   date in the file settles which (a part above 12); otherwise those rows
///   are refused rather than guessed.
/// - **Numbers**: plain or scientific, thousands separators in quoted fields
///   (`"1,234.5"`), a leading `$`; `K`/`M`/`B` suffixes on volume. Empty,
///   `null` or `NaN` prices are row errors; an empty volume is 0.
///
/// Every row must become a valid bar, or the result is [`CsvError::BadRows`]
/// listing them all; with `skip_bad`, bad rows are reported in
/// [`ParsedCsv::skipped`] instead (but a file with no valid row at all is
/// still refused). A time seen twice is an error on the later line. Bars are
/// returned oldest first whatever the file's order.
pub fn parse_csv(reader: impl std::io::Read, opts: &CsvOptions) -> Result<ParsedCsv, CsvError> {
    let records = read_records(reader)?;
    let Some((_, first)) = records.first() else {
        return Err(CsvError::Empty);
    };
    let first = first.as_ref().map_err(|message| {
        CsvError::BadRows(vec![RowError {
            line: records[0].0,
            message: message.clone(),
        }])
    })?;
    let has_header = is_header(first);
    let columns = if has_header {
        ColumnMap::from_header(first).map_err(|Missing(missing)| CsvError::UnrecognisedColumns {
            found: first
                .iter()
                .map(|f| f.trim_start_matches('\u{feff}').to_string())
                .collect(),
            missing,
        })?
    } else {
        ColumnMap::positional(first.len()).map_err(|Missing(missing)| {
            CsvError::UnrecognisedColumns {
                found: Vec::new(),
                missing,
            }
        })?
    };
    let data = &records[usize::from(has_header)..];
    if data.is_empty() {
        return Err(CsvError::Empty);
    }

    let slash = SlashOrder::detect(
        data.iter()
            .filter_map(|(_, r)| r.as_ref().ok())
            .filter_map(|fields| fields.get(columns.time.index).map(String::as_str)),
    );

    let mut bars = Vec::with_capacity(data.len());
    let mut bad = Vec::new();
    let mut seen: HashMap<DateTime<Utc>, u64> = HashMap::with_capacity(data.len());
    for (line, fields) in data {
        let line = *line;
        let parsed = fields
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|fields| parse_row(&columns, fields, slash));
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
    })
}

type Record = (u64, Result<Vec<String>, String>);

/// Every non-blank record with its line number. Fields that are not UTF-8
/// make that row bad rather than the whole file unreadable, since one stray
/// Latin-1 character in a comment column should not hide the other errors.
fn read_records(reader: impl std::io::Read) -> Result<Vec<Record>, CsvError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
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

fn parse_row(columns: &ColumnMap, fields: &[String], slash: SlashOrder) -> Result<Bar, String> {
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
        parse_price(field(column, name)?).map_err(|why| format!("{name} {why}"))
    };
    let open = price(&columns.open, "open")?;
    let high = price(&columns.high, "high")?;
    let low = price(&columns.low, "low")?;
    let close = price(&columns.close, "close")?;
    let volume = match &columns.volume {
        // A row cut short before the volume is read like an empty volume.
        Some(column) => parse_volume(fields.get(column.index).map_or("", String::as_str))
            .map_err(|why| format!("volume {why}"))?,
        None => 0.0,
    };
    Bar::new(time, open, high, low, close, volume).map_err(|e| match e {
        // The domain message repeats the time, which the line number already locates.
        DomainError::InvalidBar { reason, .. } => reason,
        other => other.to_string(),
    })
}
