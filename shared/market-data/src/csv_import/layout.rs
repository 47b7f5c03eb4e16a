//! Which rows are headers and which column is which: no header, one header
//! row (possibly with pandas' unnamed index first), or yfinance's two or
//! three rows.

use std::iter;

use super::columns::{ColumnMap, Missing, is_header, normalise};
use super::time::looks_like_time;
use super::{CsvError, Record, RowError};

pub(crate) struct Layout {
    pub(crate) columns: ColumnMap,
    /// Records before the first data record.
    pub(crate) header_rows: usize,
    pub(crate) ticker: Option<String>,
}

pub(crate) fn read_layout(records: &[Record]) -> Result<Layout, CsvError> {
    let Some((line, first)) = records.first() else {
        return Err(CsvError::Empty);
    };
    let first = first.as_ref().map_err(|message| {
        CsvError::BadRows(vec![RowError {
            line: *line,
            message: message.clone(),
        }])
    })?;
    if let Some(layout) = yfinance(records)? {
        return Ok(layout);
    }
    if !is_header(first) {
        let columns = ColumnMap::positional(first.len()).map_err(|Missing(missing)| {
            CsvError::UnrecognisedColumns {
                found: Vec::new(),
                missing,
            }
        })?;
        return Ok(Layout {
            columns,
            header_rows: 0,
            ticker: None,
        });
    }
    let columns = from_header(first)?;
    refuse_row_numbers(&columns, records.get(1..).unwrap_or_default())?;
    Ok(Layout {
        columns,
        header_rows: 1,
        ticker: None,
    })
}

fn from_header(fields: &[String]) -> Result<ColumnMap, CsvError> {
    ColumnMap::from_header(fields).map_err(|Missing(missing)| CsvError::UnrecognisedColumns {
        found: fields
            .iter()
            .map(|f| f.trim_start_matches('\u{feff}').to_string())
            .collect(),
        missing,
    })
}

/// `yf.download(...).to_csv()` writes the column index as two rows, price
/// names then tickers (or the other way round with `group_by="ticker"`),
/// then the index name on a row of its own:
///
/// ```text
/// Price,Close,High,Low,Open,Volume
/// Ticker,AAPL,AAPL,AAPL,AAPL,AAPL
/// Date,,,,,
/// 2024-01-02,185.64,188.44,183.89,187.15,82488700
/// ```
///
/// An unnamed index leaves the third row empty, and empty rows are dropped
/// on reading, so it is optional here.
fn yfinance(records: &[Record]) -> Result<Option<Layout>, CsvError> {
    let row = |i: usize| records.get(i).and_then(|(_, r)| r.as_ref().ok());
    let (Some(a), Some(b)) = (row(0), row(1)) else {
        return Ok(None);
    };
    let label = |r: &[String]| r.first().map(|f| normalise(f));
    let (names, tickers) = match (label(a).as_deref(), label(b).as_deref()) {
        (Some("price"), Some("ticker")) => (a, b),
        (Some("ticker"), Some("price")) => (b, a),
        _ => return Ok(None),
    };
    let mut distinct: Vec<String> = Vec::new();
    for ticker in tickers.iter().skip(1).map(|t| t.trim()) {
        if !ticker.is_empty() && !distinct.iter().any(|d| d == ticker) {
            distinct.push(ticker.to_string());
        }
    }
    if distinct.len() > 1 {
        return Err(CsvError::SeveralTickers(distinct));
    }
    let index_name = row(2)
        .filter(|r| r.iter().skip(1).all(|f| f.trim().is_empty()))
        .and_then(|r| r.first())
        .filter(|name| !name.trim().is_empty() && !looks_like_time(name));
    let header_rows = if index_name.is_some() { 3 } else { 2 };
    let header: Vec<String> = iter::once(index_name.cloned().unwrap_or_default())
        .chain(names.iter().skip(1).cloned())
        .collect();
    let columns = from_header(&header)?;
    refuse_row_numbers(&columns, records.get(header_rows..).unwrap_or_default())?;
    Ok(Some(Layout {
        columns,
        header_rows,
        ticker: distinct.pop(),
    }))
}

/// An unnamed first column is taken for the time only when nothing is named
/// like one; if it then holds small integers it is pandas' default
/// `RangeIndex` (0, 1, 2, ...), which would otherwise read as epoch seconds
/// in January 1970.
fn refuse_row_numbers(columns: &ColumnMap, data: &[Record]) -> Result<(), CsvError> {
    if !columns.has_header || columns.time.header.is_some() {
        return Ok(());
    }
    let first = data.iter().find_map(|(line, fields)| {
        let value = fields.as_ref().ok()?.get(columns.time.index)?.trim();
        (!value.is_empty()).then_some((*line, value))
    });
    match first {
        // Eight digits are YYYYMMDD, more an epoch: real times.
        Some((line, value)) if value.len() < 8 && value.bytes().all(|b| b.is_ascii_digit()) => {
            Err(CsvError::RowNumbersNotTimes {
                line,
                value: value.to_string(),
            })
        }
        _ => Ok(()),
    }
}
