//! Reading CSV option chains and CSV trade prints, all or nothing: any bad
//! line fails the whole file, and the error names every bad line (the first
//! 20) by its line number in the file (the header is line 1).
//!
//! Both formats: a header line, names in any case, in any order; columns
//! this module does not know are refused (with the list of known ones); a
//! byte order mark, blank lines and lines of empty cells are skipped; empty
//! cells of optional columns mean "not given". Values quoted in errors come
//! from the file: they are escaped and cut to 60 characters, and are
//! untrusted text.
//!
//! Contracts are named either by an OCC `symbol` (see [`crate::occ`]) or
//! by `underlying`, `expiry` (YYYY-MM-DD), `strike` and `right` (call, put,
//! c or p, any case); a row may give both if they agree. Since contracts
//! must have an OCC symbol, expiries lie in 2000-2099 and strikes are
//! multiples of 0.001 in (0, 99,999.999]. The OCC root must equal the
//! `underlying` when both are given.
//!
//! Times (`as_of`, `time`): see [`parse_time`]. A bare date is midnight
//! UTC, also for chains (not the 16:00 New York close): give the time when
//! it matters.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

use crate::chain::{
    ChainSnapshot, Contract, DEFAULT_MULTIPLIER, ExerciseStyle, OptionQuote, Right, TradePrint,
};
use crate::occ;

/// Data rows a file may hold, at most.
pub const MAX_ROWS: usize = 200_000;
/// Bad lines an error lists, at most.
pub const MAX_LISTED_ERRORS: usize = 20;
/// Times must lie in [1970-01-01, 2200-01-01).
pub const EARLIEST_YEAR: i32 = 1970;
pub const LATEST_YEAR: i32 = 2200;
/// Longest `trade_id`, and longest `condition`, in characters.
pub const MAX_TRADE_ID_CHARS: usize = 64;
pub const MAX_CONDITION_CHARS: usize = 64;
/// Longest `exchange` code.
pub const MAX_EXCHANGE_CHARS: usize = 16;
/// Largest `multiplier`.
pub const MAX_MULTIPLIER: u32 = 1_000_000;
/// Largest price (option or underlying, per share) a file may give, so that
/// premiums (price x size x multiplier) and their sums stay finite.
pub const MAX_PRICE: f64 = 1e7;

/// Columns of a chain file. Required: `as_of`, `underlying`,
/// `underlying_price`, `bid`, `ask`, `volume`, `open_interest`, and `symbol`
/// or all of `expiry`, `strike` and `right`.
pub const CHAIN_COLUMNS: &[&str] = &[
    "as_of",
    "underlying",
    "underlying_price",
    "symbol",
    "expiry",
    "strike",
    "right",
    "bid",
    "ask",
    "last",
    "volume",
    "open_interest",
    "multiplier",
    "style",
];

/// Columns of a trades file. Required: `time`, `price`, `size`,
/// `exchange`, and `symbol` or all of `underlying`, `expiry`, `strike` and
/// `right`.
pub const TRADE_COLUMNS: &[&str] = &[
    "time",
    "symbol",
    "underlying",
    "expiry",
    "strike",
    "right",
    "price",
    "size",
    "exchange",
    "condition",
    "bid",
    "ask",
    "underlying_price",
    "multiplier",
    "style",
    "trade_id",
];

/// What an options CSV file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionsFileKind {
    /// Chain snapshots: [`parse_chain_csv`].
    Chain,
    /// Trade prints: [`parse_trades_csv`].
    Trades,
}

impl OptionsFileKind {
    /// From a name: `chain` (`chains`, `snapshot`, `snapshots`, `quotes`) or
    /// `trades` (`trade`, `prints`, `tape`), any case.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "chain" | "chains" | "snapshot" | "snapshots" | "quotes" => Some(Self::Chain),
            "trades" | "trade" | "prints" | "tape" => Some(Self::Trades),
            _ => None,
        }
    }

    /// `chain` or `trades`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chain => "chain",
            Self::Trades => "trades",
        }
    }

    /// From the header line: `price` and `size` mean trades; `bid`, `ask`
    /// and `open_interest` without `size` mean a chain; anything else is
    /// not known.
    pub fn detect(text: &str) -> Option<Self> {
        let names = header_names(text)?;
        let has = |n: &str| names.iter().any(|h| h == n);
        if has("price") && has("size") {
            Some(Self::Trades)
        } else if has("bid") && has("ask") && has("open_interest") && !has("size") {
            Some(Self::Chain)
        } else {
            None
        }
    }
}

/// One bad line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// Line in the file, from 1 (the header); a row spanning several lines
    /// (a quoted cell holding line breaks) is named by its first.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why a file was refused; nothing of it is to be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailure {
    /// The first bad lines, in file order (at most [`MAX_LISTED_ERRORS`]).
    pub errors: Vec<LineError>,
    /// Bad lines in all.
    pub total_errors: usize,
}

impl std::fmt::Display for ImportFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let listed: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{} bad line{}; nothing was imported (quoted values come from the file: untrusted text): {}",
            self.total_errors,
            if self.total_errors == 1 { "" } else { "s" },
            listed.join("; ")
        )?;
        let more = self.total_errors.saturating_sub(self.errors.len());
        if more > 0 {
            write!(f, "; and {more} more")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportFailure {}

#[derive(Default)]
struct Errors {
    listed: Vec<LineError>,
    total: usize,
}

impl Errors {
    fn push(&mut self, line: usize, message: impl Into<String>) {
        self.total = self.total.saturating_add(1);
        if self.listed.len() < MAX_LISTED_ERRORS {
            self.listed.push(LineError {
                line,
                message: message.into(),
            });
        }
    }

    fn finish(self) -> Result<(), ImportFailure> {
        if self.total > 0 {
            Err(ImportFailure {
                errors: self.listed,
                total_errors: self.total,
            })
        } else {
            Ok(())
        }
    }
}

/// A value from the file cut to 60 characters (with `…` when cut).
pub(crate) fn cut(value: &str) -> String {
    let mut out: String = value.chars().take(60).collect();
    if value.chars().nth(60).is_some() {
        out.push('…');
    }
    out
}

/// A value from the file, as quoted in an error: cut, then escaped.
fn quote(value: &str) -> String {
    format!("{:?}", cut(value))
}

/// Parses a time: RFC 3339 (`2025-01-10T15:30:00Z`, any offset),
/// `YYYY-MM-DD HH:MM[:SS[.fff]]` or the same with `T` (UTC), `YYYY-MM-DD`
/// (midnight UTC), Unix seconds, or Unix milliseconds (from 1e11 on:
/// seconds that large are past the year 5000). It must lie in
/// [1970, 2200).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let t = parse_any_time(text)?;
    let year = t.year();
    if !(EARLIEST_YEAR..LATEST_YEAR).contains(&year) {
        return Err(format!(
            "time {} is in the year {year}; times must lie between {EARLIEST_YEAR} and {LATEST_YEAR}",
            quote(text.trim())
        ));
    }
    Ok(t)
}

fn parse_any_time(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(d.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(n) = t.parse::<i64>() {
        let d = if n >= 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        };
        if let Some(d) = d {
            return Ok(d);
        }
    }
    Err(format!(
        "time {} is not RFC 3339 (2025-01-10T15:30:00Z), YYYY-MM-DD[ HH:MM:SS[.fff]] (UTC) or Unix seconds or milliseconds",
        quote(t)
    ))
}

fn show_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

// ------------------------------------------------------------------ reading

/// The columns of a file, by known name.
struct Header {
    cols: HashMap<&'static str, usize>,
    width: usize,
}

impl Header {
    fn has(&self, name: &str) -> bool {
        self.cols.contains_key(name)
    }
}

/// One data row.
struct Row<'a> {
    header: &'a Header,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    /// The trimmed cell of a column; `None` when the column is absent or
    /// the cell empty.
    fn get(&self, name: &str) -> Option<&str> {
        let i = *self.header.cols.get(name)?;
        let v = self.record.get(i)?.trim();
        (!v.is_empty()).then_some(v)
    }

    fn require(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("{name} is empty"))
    }
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes())
}

fn is_blank(record: &csv::StringRecord) -> bool {
    record.iter().all(|f| f.trim().is_empty())
}

/// Line numbers of increasing byte offsets, counting each byte once.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    newlines: usize,
}

impl LineCounter {
    /// The line of the first byte at or after `pos` that is not a line
    /// break. The reader puts a record's start right after the previous
    /// record, before any empty lines it skipped (and, with CRLF, before
    /// the LF): skipping the breaks finds the record's first line.
    fn line_of_record(&mut self, text: &str, pos: usize) -> usize {
        let bytes = text.as_bytes();
        let mut pos = pos.min(bytes.len());
        while bytes.get(pos).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            pos = pos.saturating_add(1);
        }
        if pos < self.pos {
            *self = Self::default();
        }
        let more = bytes
            .get(self.pos..pos)
            .map_or(0, |s| s.iter().filter(|b| **b == b'\n').count());
        self.newlines = self.newlines.saturating_add(more);
        self.pos = pos;
        self.newlines.saturating_add(1)
    }

    fn line_at(&mut self, text: &str, position: Option<&csv::Position>) -> usize {
        let pos = position
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(self.pos);
        self.line_of_record(text, pos)
    }
}

/// The header names, trimmed and lower case, or `None` for a file with no
/// header line.
fn header_names(text: &str) -> Option<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv_reader(text);
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) if is_blank(&record) => {}
            Ok(true) => {
                return Some(
                    record
                        .iter()
                        .map(|h| h.trim().to_ascii_lowercase())
                        .collect(),
                );
            }
            Ok(false) | Err(_) => return None,
        }
    }
}

/// Reads the header against the known columns: unknown, duplicate or
/// unnamed columns are refused.
fn read_header(names: &[String], known: &[&'static str]) -> Result<Header, String> {
    let mut cols = HashMap::new();
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let number = i.saturating_add(1);
        if name.is_empty() {
            problems.push(format!("column {number} has no name"));
            continue;
        }
        match known.iter().find(|k| **k == name.as_str()) {
            Some(k) => {
                if cols.insert(*k, i).is_some() {
                    problems.push(format!("column {k} is given twice"));
                }
            }
            None => unknown.push(quote(name)),
        }
    }
    if !unknown.is_empty() {
        problems.insert(
            0,
            format!(
                "unknown column{} {}; the known columns are {}",
                if unknown.len() == 1 { "" } else { "s" },
                unknown.join(", "),
                known.join(", ")
            ),
        );
    }
    if problems.is_empty() {
        Ok(Header {
            cols,
            width: names.len(),
        })
    } else {
        Err(problems.join("; "))
    }
}

/// Reads a CSV file: the header (checked by `known` and `missing`, which
/// names the required columns it lacks), then each data row through `each`,
/// in file order. All or nothing: any error fails the file.
fn read_rows(
    text: &str,
    what: &str,
    known: &[&'static str],
    missing: impl Fn(&Header) -> Vec<&'static str>,
    mut each: impl FnMut(usize, &Row<'_>) -> Result<(), String>,
) -> Result<(), ImportFailure> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Errors::default();
    let mut reader = csv_reader(text);
    let mut record = csv::StringRecord::new();
    let mut header: Option<Header> = None;
    let mut header_line = 1usize;
    let mut rows = 0usize;
    let mut lines = LineCounter::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = lines.line_at(text, e.position());
                errors.push(line, format!("not readable as CSV: {e}"));
                break;
            }
        }
        if is_blank(&record) {
            continue;
        }
        let line = lines.line_at(text, record.position());
        let Some(h) = header.as_ref() else {
            let names: Vec<String> = record
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect();
            match read_header(&names, known) {
                Ok(h) => {
                    let lacking = missing(&h);
                    if lacking.is_empty() {
                        header = Some(h);
                        header_line = line;
                        continue;
                    }
                    errors.push(
                        line,
                        format!(
                            "the header lacks the column{} {}",
                            if lacking.len() == 1 { "" } else { "s" },
                            lacking.join(", ")
                        ),
                    );
                }
                Err(message) => errors.push(line, message),
            }
            // Rows cannot be read against a bad header.
            return errors.finish();
        };
        rows = rows.saturating_add(1);
        if rows > MAX_ROWS {
            errors.push(
                line,
                format!("the file has more than {MAX_ROWS} rows; split it"),
            );
            break;
        }
        if record.len() != h.width {
            errors.push(
                line,
                format!(
                    "{} field{}, but the header has {} columns",
                    record.len(),
                    if record.len() == 1 { "" } else { "s" },
                    h.width
                ),
            );
            continue;
        }
        let row = Row {
            header: h,
            record: &record,
        };
        if let Err(message) = each(line, &row) {
            errors.push(line, message);
        }
    }
    if header.is_none() && errors.total == 0 {
        errors.push(
            1,
            format!(
                "the file is empty; expected a header line naming the columns ({})",
                known.join(", ")
            ),
        );
    } else if rows == 0 && errors.total == 0 {
        errors.push(header_line, format!("the file has a header but no {what}"));
    }
    errors.finish()
}

// ------------------------------------------------------------------- values

fn number(row: &Row<'_>, name: &str) -> Result<Option<f64>, String> {
    let Some(v) = row.get(name) else {
        return Ok(None);
    };
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x.abs() <= MAX_PRICE => Ok(Some(x)),
        Ok(x) if x.is_finite() => Err(format!(
            "{name} {} is beyond {MAX_PRICE:e}: prices are per share",
            quote(v)
        )),
        Ok(_) => Err(format!("{name} {} is not a finite number", quote(v))),
        Err(_) => Err(format!("{name} {} is not a number", quote(v))),
    }
}

/// A price: finite and at least 0.
fn nonneg(row: &Row<'_>, name: &str) -> Result<Option<f64>, String> {
    match number(row, name)? {
        Some(x) if x < 0.0 => Err(format!("{name} {x} is negative; it must be 0 or more")),
        other => Ok(other),
    }
}

/// A price above 0.
fn positive(row: &Row<'_>, name: &str) -> Result<Option<f64>, String> {
    match number(row, name)? {
        Some(x) if x <= 0.0 => Err(format!("{name} {x} must be above 0")),
        other => Ok(other),
    }
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("{name} is empty"))
}

/// A whole number of 0 or more, in digits (`12`, `+12` or `12.0`).
fn whole(name: &str, v: &str) -> Result<u64, String> {
    let s = v.strip_prefix('+').unwrap_or(v);
    if s.starts_with('-') {
        return Err(if s.parse::<f64>().is_ok() {
            format!("{name} {} is negative; it must be 0 or more", quote(v))
        } else {
            format!("{name} {} is not a whole number", quote(v))
        });
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b == b'0')
    {
        return Err(format!("{name} {} is not a whole number", quote(v)));
    }
    int.parse::<u64>()
        .map_err(|_| format!("{name} {} is too large", quote(v)))
}

fn count(row: &Row<'_>, name: &str) -> Result<u64, String> {
    whole(name, row.require(name)?)
}

fn underlying(v: &str) -> Result<String, String> {
    let u = v.to_ascii_uppercase();
    if occ::valid_root(&u) {
        Ok(u)
    } else {
        Err(format!(
            "underlying {} is not 1 to 6 characters of A-Z, 0-9 and '.' (an OCC root)",
            quote(v)
        ))
    }
}

fn expiry(v: &str) -> Result<NaiveDate, String> {
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| format!("expiry {} is not a date YYYY-MM-DD", quote(v)))?;
    check_expiry_year(d)?;
    Ok(d)
}

fn check_expiry_year(d: NaiveDate) -> Result<(), String> {
    if (2000..2100).contains(&d.year()) {
        Ok(())
    } else {
        Err(format!(
            "expiry {d} is outside 2000-2099, the years an OCC symbol can name"
        ))
    }
}

fn strike(v: &str) -> Result<f64, String> {
    let s = match v.parse::<f64>() {
        Ok(x) if x.is_finite() => x,
        _ => return Err(format!("strike {} is not a number", quote(v))),
    };
    if s <= 0.0 {
        return Err(format!("strike {} must be above 0", quote(v)));
    }
    if s > occ::MAX_STRIKE {
        return Err(format!(
            "strike {} is above {}, the largest an OCC symbol can name",
            quote(v),
            occ::MAX_STRIKE
        ));
    }
    let thousandths = s * 1000.0;
    if (thousandths - thousandths.round()).abs() > 1e-6 {
        return Err(format!(
            "strike {} has more than 3 decimals; OCC strikes are in steps of 0.001",
            quote(v)
        ));
    }
    Ok(s)
}

fn right(v: &str) -> Result<Right, String> {
    match v.to_ascii_lowercase().as_str() {
        "call" | "c" => Ok(Right::Call),
        "put" | "p" => Ok(Right::Put),
        _ => Err(format!("right {} is not call, put, c or p", quote(v))),
    }
}

fn style(row: &Row<'_>) -> Result<ExerciseStyle, String> {
    match row.get("style") {
        None => Ok(ExerciseStyle::default()),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "american" => Ok(ExerciseStyle::American),
            "european" => Ok(ExerciseStyle::European),
            _ => Err(format!("style {} is not american or european", quote(v))),
        },
    }
}

fn multiplier(row: &Row<'_>) -> Result<u32, String> {
    let Some(v) = row.get("multiplier") else {
        return Ok(DEFAULT_MULTIPLIER);
    };
    let m = whole("multiplier", v)?;
    match u32::try_from(m) {
        Ok(m) if (1..=MAX_MULTIPLIER).contains(&m) => Ok(m),
        _ => Err(format!(
            "multiplier {} must be 1 to {MAX_MULTIPLIER}",
            quote(v)
        )),
    }
}

/// The contract of a row: from `symbol`, checked against whichever of
/// `underlying`, `expiry`, `strike` and `right` are given too, or from
/// those four.
fn contract(row: &Row<'_>, underlying: Option<String>) -> Result<Contract, String> {
    let given_expiry = row.get("expiry").map(expiry).transpose()?;
    let given_strike = row.get("strike").map(strike).transpose()?;
    let given_right = row.get("right").map(right).transpose()?;
    let (root, exp, k, r) = if let Some(symbol) = row.get("symbol") {
        let s = occ::parse(symbol).map_err(|e| e.to_string())?;
        if let Some(u) = &underlying
            && *u != s.underlying
        {
            return Err(format!(
                "symbol {} has the root {} but underlying is {u}; they must be equal",
                quote(symbol),
                s.underlying
            ));
        }
        if let Some(e) = given_expiry
            && e != s.expiry
        {
            return Err(format!(
                "expiry {e} differs from {} in symbol {}",
                s.expiry,
                quote(symbol)
            ));
        }
        if let Some(k) = given_strike
            && occ::strike_thousandths(k) != occ::strike_thousandths(s.strike)
        {
            return Err(format!(
                "strike {k} differs from {} in symbol {}",
                s.strike,
                quote(symbol)
            ));
        }
        if let Some(r) = given_right
            && r != s.right
        {
            return Err(format!(
                "right {} differs from {} in symbol {}",
                r.letter(),
                s.right.letter(),
                quote(symbol)
            ));
        }
        (s.underlying, s.expiry, s.strike, s.right)
    } else {
        match (underlying, given_expiry, given_strike, given_right) {
            (Some(u), Some(e), Some(k), Some(r)) => (u, e, k, r),
            (u, e, k, r) => {
                let lacking: Vec<&str> = [
                    ("underlying", u.is_none()),
                    ("expiry", e.is_none()),
                    ("strike", k.is_none()),
                    ("right", r.is_none()),
                ]
                .into_iter()
                .filter_map(|(n, none)| none.then_some(n))
                .collect();
                return Err(format!(
                    "no symbol, and {} empty: give symbol, or underlying, expiry, strike and right",
                    lacking.join(", ")
                ));
            }
        }
    };
    Ok(Contract {
        underlying: root,
        expiry: exp,
        strike: k,
        right: r,
        multiplier: multiplier(row)?,
        style: style(row)?,
    })
}

/// What the header lacks to name contracts: `symbol`, or else `expiry`,
/// `strike` and `right` (and `underlying`, when `with_underlying`: trades
/// need it only without a symbol).
fn missing_contract_columns(h: &Header, with_underlying: bool) -> Vec<&'static str> {
    let fields: &[&str] = if with_underlying {
        &["underlying", "expiry", "strike", "right"]
    } else {
        &["expiry", "strike", "right"]
    };
    if h.has("symbol") || fields.iter().all(|c| h.has(c)) {
        Vec::new()
    } else if with_underlying {
        vec!["symbol (or underlying, expiry, strike and right)"]
    } else {
        vec!["symbol (or expiry, strike and right)"]
    }
}

fn required_columns(h: &Header, names: &[&'static str]) -> Vec<&'static str> {
    names.iter().copied().filter(|c| !h.has(c)).collect()
}

/// Contract identity within a snapshot: expiry, strike in 1/1000, right.
type ContractKey = (NaiveDate, i64, Right);

fn key_of(c: &Contract) -> ContractKey {
    (c.expiry, occ::strike_thousandths(c.strike), c.right)
}

// ------------------------------------------------------------------- chains

struct Group {
    underlying_price: f64,
    price_line: usize,
    seen: HashMap<ContractKey, usize>,
    quotes: Vec<OptionQuote>,
}

/// Parses a chain file into snapshots, one per (underlying, as_of), sorted
/// by underlying then time, each with its quotes sorted by expiry, strike
/// and right (calls first).
///
/// Columns (see [`CHAIN_COLUMNS`]): `as_of` (a time, see [`parse_time`]),
/// `underlying`, `underlying_price` (above 0), `symbol` or `expiry` +
/// `strike` + `right`, `bid` and `ask` (finite, 0 or more, bid at most ask),
/// `last` (optional, 0 or more), `volume` and `open_interest` (whole
/// numbers, 0 or more), `multiplier` (optional, default 100), `style`
/// (optional, american or european, default american).
///
/// Refused as well: a contract quoted twice in one snapshot, and a snapshot
/// whose rows give different underlying prices.
pub fn parse_chain_csv(text: &str) -> Result<Vec<ChainSnapshot>, ImportFailure> {
    let mut groups: BTreeMap<(String, DateTime<Utc>), Group> = BTreeMap::new();
    read_rows(
        text,
        "quotes",
        CHAIN_COLUMNS,
        |h| {
            let mut lacking = required_columns(
                h,
                &[
                    "as_of",
                    "underlying",
                    "underlying_price",
                    "bid",
                    "ask",
                    "volume",
                    "open_interest",
                ],
            );
            lacking.extend(missing_contract_columns(h, false));
            lacking
        },
        |line, row| {
            let as_of = parse_time(row.require("as_of")?).map_err(|e| format!("as_of: {e}"))?;
            let under = underlying(row.require("underlying")?)?;
            let under_price = required(positive(row, "underlying_price")?, "underlying_price")?;
            let contract = contract(row, Some(under.clone()))?;
            let bid = required(nonneg(row, "bid")?, "bid")?;
            let ask = required(nonneg(row, "ask")?, "ask")?;
            if bid > ask {
                return Err(format!("bid {bid} is above ask {ask}"));
            }
            let last = nonneg(row, "last")?;
            let volume = count(row, "volume")?;
            let open_interest = count(row, "open_interest")?;

            let key = key_of(&contract);
            let group = groups
                .entry((under.clone(), as_of))
                .or_insert_with(|| Group {
                    underlying_price: under_price,
                    price_line: line,
                    seen: HashMap::new(),
                    quotes: Vec::new(),
                });
            if group.underlying_price != under_price {
                return Err(format!(
                    "underlying_price {under_price} differs from {} on line {} for {under} at {}; a snapshot has one underlying price",
                    group.underlying_price,
                    group.price_line,
                    show_time(as_of)
                ));
            }
            if let Some(first) = group.seen.get(&key) {
                return Err(format!(
                    "{} is quoted twice in the {under} snapshot at {}: first on line {first}",
                    occ::format(&contract),
                    show_time(as_of)
                ));
            }
            group.seen.insert(key, line);
            group.quotes.push(OptionQuote {
                contract,
                bid,
                ask,
                last,
                volume,
                open_interest,
            });
            Ok(())
        },
    )?;
    Ok(groups
        .into_iter()
        .map(|((underlying, as_of), mut g)| {
            g.quotes.sort_by(|a, b| {
                a.contract
                    .expiry
                    .cmp(&b.contract.expiry)
                    .then(a.contract.strike.total_cmp(&b.contract.strike))
                    .then(a.contract.right.cmp(&b.contract.right))
            });
            ChainSnapshot {
                underlying,
                as_of,
                underlying_price: g.underlying_price,
                quotes: g.quotes,
            }
        })
        .collect())
}

// ------------------------------------------------------------------- trades

fn exchange(v: &str) -> Result<String, String> {
    let e = v.to_ascii_uppercase();
    let ok = (1..=MAX_EXCHANGE_CHARS).contains(&e.len())
        && e.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(e)
    } else {
        Err(format!(
            "exchange {} is not 1 to {MAX_EXCHANGE_CHARS} of A-Z and 0-9",
            quote(v)
        ))
    }
}

/// Free text of at most `max` characters without control characters.
fn plain_text(name: &str, v: &str, max: usize) -> Result<String, String> {
    let n = v.chars().count();
    if n > max {
        return Err(format!(
            "{name} {} has {n} characters; at most {max}",
            quote(v)
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{name} {} holds a control character", quote(v)));
    }
    Ok(v.to_string())
}

/// The fields of a print an id is computed from, in a fixed spelling:
/// OCC symbol, time in Unix milliseconds, price, size, exchange, condition,
/// separated by U+001F (which no field can hold).
fn canonical(p: &TradePrint) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        occ::format(&p.contract),
        p.time.timestamp_millis(),
        p.price,
        p.size,
        p.exchange,
        p.condition.as_deref().unwrap_or("")
    )
}

/// Id of a print without a trade id: hex of the first 16 bytes of the
/// SHA-256 of its canonical fields and its occurrence number (0 for the
/// first print with these fields in the file, 1 for the next...).
fn computed_id(canonical: &str, occurrence: u64) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{canonical}\u{1f}{occurrence}").as_bytes(),
    );
    d.as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses a trades file into prints, sorted by time (prints at the same
/// time keep their file order).
///
/// Columns (see [`TRADE_COLUMNS`]): `time` (see [`parse_time`]), `symbol`
/// or `underlying` + `expiry` + `strike` + `right`, `price` (above 0),
/// `size` (a whole number of contracts, at least 1), `exchange` (1 to 16 of
/// A-Z and 0-9, upper-cased); optional: `condition` (at most 64
/// characters, no control characters), `bid` and `ask` (the NBBO at the
/// print; 0 or more, bid at most ask), `underlying_price` (above 0),
/// `multiplier` (default 100), `style` (default american), `trade_id`.
///
/// Ids: the `trade_id` when given (1 to 64 characters, no control
/// characters; each at most once in the file); otherwise the hex of the
/// first 16 bytes of the SHA-256 of the print's OCC symbol, time in
/// milliseconds, price, size, exchange and condition, and of its occurrence
/// number among identical prints of the file: identical prints get distinct
/// ids, and importing the file again gives the same ids.
pub fn parse_trades_csv(text: &str) -> Result<Vec<TradePrint>, ImportFailure> {
    let mut prints: Vec<TradePrint> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut occurrences: HashMap<String, u64> = HashMap::new();
    read_rows(
        text,
        "prints",
        TRADE_COLUMNS,
        |h| {
            let mut lacking = required_columns(h, &["time", "price", "size", "exchange"]);
            lacking.extend(missing_contract_columns(h, true));
            lacking
        },
        |line, row| {
            let time = parse_time(row.require("time")?).map_err(|e| format!("time: {e}"))?;
            let under = row.get("underlying").map(underlying).transpose()?;
            let contract = contract(row, under)?;
            let price = required(positive(row, "price")?, "price")?;
            let size_text = row.require("size")?;
            let size = match u32::try_from(whole("size", size_text)?) {
                Ok(0) => {
                    return Err("size 0: a print is of at least 1 contract".to_string());
                }
                Ok(s) => s,
                Err(_) => return Err(format!("size {} is too large", quote(size_text))),
            };
            let exchange = exchange(row.require("exchange")?)?;
            let condition = row
                .get("condition")
                .map(|v| plain_text("condition", v, MAX_CONDITION_CHARS))
                .transpose()?;
            let bid = nonneg(row, "bid")?;
            let ask = nonneg(row, "ask")?;
            if let (Some(b), Some(a)) = (bid, ask)
                && b > a
            {
                return Err(format!("bid {b} is above ask {a}"));
            }
            let underlying_price = positive(row, "underlying_price")?;
            let trade_id = row
                .get("trade_id")
                .map(|v| plain_text("trade_id", v, MAX_TRADE_ID_CHARS))
                .transpose()?;

            let mut print = TradePrint {
                id: String::new(),
                contract,
                time,
                price,
                size,
                exchange,
                condition,
                bid,
                ask,
                underlying_price,
            };
            let id = match trade_id {
                Some(id) => id,
                None => {
                    let fields = canonical(&print);
                    let n = occurrences.entry(fields.clone()).or_insert(0);
                    let id = computed_id(&fields, *n);
                    *n = n.saturating_add(1);
                    id
                }
            };
            if let Some(first) = ids.get(&id) {
                return Err(format!(
                    "trade_id {} is already used on line {first}; ids must be unique in a file",
                    quote(&id)
                ));
            }
            ids.insert(id.clone(), line);
            print.id = id;
            prints.push(print);
            Ok(())
        },
    )?;
    prints.sort_by_key(|p| p.time);
    Ok(prints)
}
