//! How a file is written, before any column is looked at: the byte order
//! mark, the field separator and the decimal mark.

use std::fmt;

/// What [`parse_csv`](super::parse_csv) found out about the file's shape, so
/// the import summary can say how it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialect {
    /// `,`, `;` or a tab.
    pub delimiter: char,
    /// Numbers were read with `,` as the decimal mark (`185,64`).
    pub decimal_comma: bool,
    /// Rows before the first data row: 0 without a header, 1 for a plain
    /// header, 2 or 3 for yfinance's `Price` / `Ticker` / `Date` rows.
    pub header_rows: usize,
    /// The ticker a yfinance `Ticker` row names, so the caller can check it
    /// against the symbol it imports under.
    pub ticker: Option<String>,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let delimiter = match self.delimiter {
            '\t' => "tab",
            ';' => "';'",
            _ => "','",
        };
        write!(f, "{delimiter}-separated")?;
        if self.decimal_comma {
            write!(f, ", decimal commas")?;
        }
        let plural = if self.header_rows == 1 { "row" } else { "rows" };
        write!(f, ", {} header {plural}", self.header_rows)?;
        if let Some(ticker) = &self.ticker {
            write!(f, " (yfinance, ticker {ticker})")?;
        }
        Ok(())
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Excel and Windows tools start UTF-8 files with a byte order mark; it is
/// not part of the first field.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// The separator of the first non-blank line, counted outside quotes.
///
/// `;` or a tab wins as soon as it splits that line into the five fields a
/// bar needs, even when commas are as frequent: a `;` file with decimal
/// commas (`2024-01-02;185,64;186,1;...`) has about as many of each.
/// Otherwise the most frequent one wins, `,` on a tie.
pub(crate) fn detect_delimiter(bytes: &[u8]) -> u8 {
    let line = bytes
        .split(|b| *b == b'\n')
        .find(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .unwrap_or_default();
    let (mut comma, mut semicolon, mut tab) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => comma = comma.saturating_add(1),
            b';' if !quoted => semicolon = semicolon.saturating_add(1),
            b'\t' if !quoted => tab = tab.saturating_add(1),
            _ => {}
        }
    }
    // Five fields are four separators.
    const ENOUGH: usize = 4;
    if semicolon >= ENOUGH || tab >= ENOUGH {
        if tab > semicolon { b'\t' } else { b';' }
    } else if semicolon > comma && semicolon >= tab {
        b';'
    } else if tab > comma {
        b'\t'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_comes_from_the_first_line() {
        assert_eq!(detect_delimiter(b"Date,Open,High,Low,Close\n"), b',');
        assert_eq!(detect_delimiter(b"Date;Open;High;Low;Close\n"), b';');
        assert_eq!(detect_delimiter(b"Date\tOpen\tHigh\tLow\tClose\n"), b'\t');
        assert_eq!(
            detect_delimiter(b"\n\n  \nDate;Open;High;Low;Close\n"),
            b';'
        );
        // Decimal commas outnumber the separators, which still win.
        assert_eq!(
            detect_delimiter(b"2024-01-02;185,64;186,10;184,00;185,00;1000,5\n"),
            b';'
        );
        // Separators inside quotes do not count.
        assert_eq!(
            detect_delimiter(b"Date,\"a;b;c;d;e\",Open,High,Low,Close\n"),
            b','
        );
        assert_eq!(detect_delimiter(b"Date;Close\n"), b';');
        assert_eq!(detect_delimiter(b""), b',');
    }

    #[test]
    fn bom_is_dropped_once() {
        assert_eq!(strip_bom(b"\xEF\xBB\xBFDate"), b"Date");
        assert_eq!(strip_bom(b"Date"), b"Date");
    }
}
