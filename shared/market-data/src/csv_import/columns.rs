//! Which column holds what. Exporters disagree on names (`Date`, `timestamp`,
//! `<DATE>`, `Close/Last`, `Vol.`), so names are compared after lower-casing
//! and dropping spaces and punctuation.

use std::fmt;

use super::number::is_number;
use super::time::looks_like_time;

/// One column of the file: its 0-based position and the name it was found
/// under (none without a header row, or when its header cell is empty, as
/// pandas writes an unnamed index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub index: usize,
    pub header: Option<String>,
}

/// How the columns of a file were understood, so `import` can show the user
/// what it matched before they trust the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    pub has_header: bool,
    /// The timestamp, or the date when the clock is in `time_of_day`.
    pub time: Column,
    /// A separate clock column (MetaTrader-style `<DATE>,<TIME>,...`), joined
    /// to `time` before parsing.
    pub time_of_day: Option<Column>,
    pub open: Column,
    pub high: Column,
    pub low: Column,
    pub close: Column,
    /// Noted but never applied when there is a close: adjusting only the
    /// close would leave it outside the unadjusted high/low range and break
    /// the bar. When `Adj Close` is the only close it is `close` instead,
    /// and this is `None`.
    pub adj_close: Option<Column>,
    /// Missing means every bar gets volume 0.
    pub volume: Option<Column>,
    /// Header names (or `column N` without a header or a name) that matched nothing.
    pub ignored: Vec<String>,
}

/// The required fields, in the order a headerless file must have them.
pub(crate) const REQUIRED: [&str; 5] = ["time", "open", "high", "low", "close"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A column that holds date and clock (or an epoch) by itself.
    Timestamp,
    Date,
    Clock,
    Open,
    High,
    Low,
    Close,
    /// Investing.com calls the close "Price"; only used when nothing is called close.
    Price,
    AdjClose,
    Volume,
}

/// A header name as it is compared: lower case, letters and digits only.
pub(crate) fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn role_of(header: &str) -> Option<Role> {
    let role = match normalise(header).as_str() {
        "timestamp" | "datetime" | "ts" | "unixtime" | "epoch" => Role::Timestamp,
        "date" | "day" => Role::Date,
        "time" => Role::Clock,
        "open" | "o" => Role::Open,
        "high" | "h" => Role::High,
        "low" | "l" => Role::Low,
        "close" | "c" | "last" | "closelast" => Role::Close,
        "price" => Role::Price,
        "adjclose" | "adjustedclose" => Role::AdjClose,
        "volume" | "vol" | "v" => Role::Volume,
        _ => return None,
    };
    Some(role)
}

/// A first row is a header when it names a known column, or when none of its
/// fields reads as a number or a time (an unknown header is still a header,
/// and should be reported as such rather than as a bad data row).
pub(crate) fn is_header(fields: &[String]) -> bool {
    fields.iter().any(|f| role_of(f).is_some())
        || !fields
            .iter()
            .any(|f| !f.trim().is_empty() && (is_number(f) || looks_like_time(f)))
}

/// Why no usable column map could be built.
#[derive(Debug)]
pub(crate) struct Missing(pub Vec<&'static str>);

impl ColumnMap {
    pub(crate) fn from_header(fields: &[String]) -> Result<Self, Missing> {
        let mut first: Vec<(Role, Column)> = Vec::new();
        let mut ignored = Vec::new();
        let mut unnamed_first = false;
        for (index, raw) in fields.iter().enumerate() {
            let name = raw.trim().trim_start_matches('\u{feff}').to_string();
            if name.is_empty() {
                // pandas' unnamed index; kept for the time if nothing is named like one.
                if index == 0 {
                    unnamed_first = true;
                } else {
                    ignored.push(unnamed(index));
                }
                continue;
            }
            let column = Column {
                index,
                header: Some(name.clone()),
            };
            match role_of(&name) {
                // The first column of a role wins; a repeat is most likely a
                // derived column, and is shown as ignored rather than guessed at.
                Some(role) if !first.iter().any(|(r, _)| *r == role) => first.push((role, column)),
                _ => ignored.push(name),
            }
        }
        let mut take = |role| {
            first
                .iter()
                .position(|(r, _)| *r == role)
                .map(|i| first.remove(i).1)
        };
        let timestamp = take(Role::Timestamp);
        let date = take(Role::Date);
        let clock = take(Role::Clock);
        let (time, time_of_day) = match (timestamp, date, clock) {
            (Some(ts), date, clock) => {
                ignored.extend(date.into_iter().chain(clock).filter_map(|c| c.header));
                (Some(ts), None)
            }
            (None, Some(date), clock) => (Some(date), clock),
            (None, None, Some(clock)) => (Some(clock), None),
            (None, None, None) if unnamed_first => {
                unnamed_first = false;
                let index = Column {
                    index: 0,
                    header: None,
                };
                (Some(index), None)
            }
            (None, None, None) => (None, None),
        };
        if unnamed_first {
            ignored.insert(0, unnamed(0));
        }
        let open = take(Role::Open);
        let high = take(Role::High);
        let low = take(Role::Low);
        // Close, else Price (Investing.com), else Adj Close when it is all there is.
        let (close, adj_close) = match (take(Role::Close), take(Role::Price), take(Role::AdjClose))
        {
            (Some(close), price, adj) => {
                ignored.extend(price.and_then(|p| p.header));
                (Some(close), adj)
            }
            (None, Some(price), adj) => (Some(price), adj),
            (None, None, adj) => (adj, None),
        };
        let volume = take(Role::Volume);

        let missing: Vec<&'static str> = REQUIRED
            .iter()
            .zip([&time, &open, &high, &low, &close])
            .filter(|(_, c)| c.is_none())
            .map(|(name, _)| *name)
            .collect();
        match (time, open, high, low, close) {
            (Some(time), Some(open), Some(high), Some(low), Some(close)) => Ok(Self {
                has_header: true,
                time,
                time_of_day,
                open,
                high,
                low,
                close,
                adj_close,
                volume,
                ignored,
            }),
            _ => Err(Missing(missing)),
        }
    }

    /// A file without a header must be `time,open,high,low,close[,volume]`.
    pub(crate) fn positional(width: usize) -> Result<Self, Missing> {
        if width < REQUIRED.len() {
            return Err(Missing(REQUIRED.get(width..).unwrap_or_default().to_vec()));
        }
        let at = |index| Column {
            index,
            header: None,
        };
        Ok(Self {
            has_header: false,
            time: at(0),
            time_of_day: None,
            open: at(1),
            high: at(2),
            low: at(3),
            close: at(4),
            adj_close: None,
            volume: (width > 5).then(|| at(5)),
            ignored: (6..width)
                .map(|i| format!("column {}", ordinal(i)))
                .collect(),
        })
    }
}

/// The 1-based column number users see in a spreadsheet.
fn ordinal(index: usize) -> usize {
    index.saturating_add(1)
}

fn unnamed(index: usize) -> String {
    format!("column {} (unnamed)", ordinal(index))
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.header {
            Some(name) => write!(f, "{name:?} (column {})", ordinal(self.index)),
            None => write!(f, "column {}", ordinal(self.index)),
        }
    }
}

/// One line for the import summary, e.g.
/// `time="Date" (column 1), open="Open" (column 2), ... adj close="Adj Close" (column 6, noted, not applied)`.
impl fmt::Display for ColumnMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "time={}", self.time)?;
        if let Some(clock) = &self.time_of_day {
            write!(f, " + {clock}")?;
        }
        write!(
            f,
            ", open={}, high={}, low={}, close={}",
            self.open, self.high, self.low, self.close
        )?;
        if self
            .close
            .header
            .as_deref()
            .is_some_and(|h| role_of(h) == Some(Role::AdjClose))
        {
            write!(f, " (adjusted: the file has no unadjusted close)")?;
        }
        match &self.volume {
            Some(v) => write!(f, ", volume={v}")?,
            None => write!(f, ", volume=none (0)")?,
        }
        if let Some(adj) = &self.adj_close {
            write!(f, ", adj close={adj} noted, not applied")?;
        }
        if !self.ignored.is_empty() {
            write!(f, "; ignored: {}", self.ignored.join(", "))?;
        }
        if !self.has_header {
            write!(f, " (no header row)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    #[test]
    fn headers_are_told_from_data() {
        assert!(is_header(&row("Date,Open,High,Low,Close,Adj Close,Volume")));
        assert!(is_header(&row("foo,bar,baz")));
        assert!(!is_header(&row("2024-01-02,10,11,9,10.5,100")));
        assert!(!is_header(&row("1704153600,10,11,9,10.5,100")));
        // A data row with missing values is still data.
        assert!(!is_header(&row("2020-04-01,null,null,null,null,null")));
    }

    #[test]
    fn aliases_ignore_case_spaces_and_punctuation() {
        let m = ColumnMap::from_header(&row("<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>"))
            .unwrap();
        assert_eq!(m.time.index, 0);
        assert_eq!(m.time_of_day.as_ref().unwrap().index, 1);
        assert_eq!(m.volume.unwrap().index, 6);

        let m = ColumnMap::from_header(&row("Date,Close/Last,Volume,Open,High,Low")).unwrap();
        assert_eq!((m.close.index, m.open.index, m.low.index), (1, 3, 5));

        let m = ColumnMap::from_header(&row("Date,Price,Open,High,Low,Vol.,Change %")).unwrap();
        assert_eq!(m.close.index, 1);
        assert_eq!(m.volume.unwrap().index, 5);
        assert_eq!(m.ignored, vec!["Change %".to_string()]);

        let m = ColumnMap::from_header(&row("Date Time,Open,High,Low,Close,Adj_Close")).unwrap();
        assert_eq!(m.time.header.as_deref(), Some("Date Time"));
        assert_eq!((m.close.index, m.adj_close.unwrap().index), (4, 5));
        assert!(m.volume.is_none());
    }

    #[test]
    fn close_is_preferred_to_adj_close_which_stands_in_when_alone() {
        let m = ColumnMap::from_header(&row("Date,Adj Close,Close,High,Low,Open")).unwrap();
        assert_eq!((m.close.index, m.adj_close.unwrap().index), (2, 1));
        let m = ColumnMap::from_header(&row("Date,Adj Close,High,Low,Open")).unwrap();
        assert_eq!(m.close.index, 1);
        assert!(m.adj_close.is_none());
        assert!(m.to_string().contains("no unadjusted close"), "{m}");
    }

    #[test]
    fn unnamed_first_column_is_the_time_unless_one_is_named() {
        let m = ColumnMap::from_header(&row(",Open,High,Low,Close,Volume")).unwrap();
        assert_eq!((m.time.index, m.time.header.as_deref()), (0, None));
        assert!(m.ignored.is_empty());
        let m = ColumnMap::from_header(&row(",Date,Open,High,Low,Close,,Volume")).unwrap();
        assert_eq!(m.time.index, 1);
        assert_eq!(m.ignored, ["column 1 (unnamed)", "column 7 (unnamed)"]);
    }

    #[test]
    fn reports_what_is_missing() {
        let err = ColumnMap::from_header(&row("Date,Open,Volume")).unwrap_err();
        assert_eq!(err.0, vec!["high", "low", "close"]);
        // Adj Close stands in for a missing close, so only high and low are missing.
        let err = ColumnMap::from_header(&row("Date,Open,Adj Close,Volume")).unwrap_err();
        assert_eq!(err.0, vec!["high", "low"]);
        assert_eq!(
            ColumnMap::positional(3).unwrap_err().0,
            vec!["low", "close"]
        );
    }
}
