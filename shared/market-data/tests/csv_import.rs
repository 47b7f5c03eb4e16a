//! `parse_csv` against files shaped like real exports (fixtures/) and
//! small inline cases for each time and number format.

use chrono::{DateTime, Utc};
use gs_market_data::{CsvError, CsvOptions, ParsedCsv, RowError, parse_csv, parse_csv_str};

const STRICT: CsvOptions = CsvOptions { skip_bad: false };
const LENIENT: CsvOptions = CsvOptions { skip_bad: true };

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(text: &str) -> ParsedCsv {
    parse_csv(text.as_bytes(), &STRICT).unwrap_or_else(|e| panic!("{e}"))
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn times(parsed: &ParsedCsv) -> Vec<DateTime<Utc>> {
    parsed.bars.iter().map(|b| b.time()).collect()
}

fn lines(rows: &[RowError]) -> Vec<u64> {
    rows.iter().map(|r| r.line).collect()
}

#[test]
fn yahoo_export_newest_first_is_sorted_and_uses_close_not_adj_close() {
    let parsed = parse_csv(&fixture("yahoo_newest_first.csv")[..], &STRICT).unwrap();
    assert_eq!(
        times(&parsed),
        [
            "2024-01-02",
            "2024-01-03",
            "2024-01-04",
            "2024-01-05",
            "2024-01-08"
        ]
        .map(|d| utc(&format!("{d}T00:00:00Z")))
    );
    let first = parsed.bars[0];
    assert_eq!(
        (
            first.open(),
            first.high(),
            first.low(),
            first.close(),
            first.volume()
        ),
        (187.15, 188.44, 183.89, 185.64, 82_488_700.0)
    );
    let cols = &parsed.columns;
    assert!(cols.has_header);
    assert_eq!(cols.close.header.as_deref(), Some("Close"));
    assert_eq!(cols.adj_close.as_ref().map(|c| c.index), Some(5));
    assert_eq!(cols.volume.as_ref().map(|c| c.index), Some(6));
    assert!(parsed.skipped.is_empty());
    let summary = cols.to_string();
    assert!(
        summary.contains("\"Adj Close\" (column 6) noted, not applied"),
        "{summary}"
    );
}

#[test]
fn short_aliases_with_epoch_milliseconds() {
    let parsed = parse(
        "timestamp,o,h,l,c,v\n\
         1704209700000,10.5,11,10.25,10.75,1200\n\
         1704209400000,10,10.8,9.9,10.5,1500\n",
    );
    assert_eq!(
        times(&parsed),
        [utc("2024-01-02T15:30:00Z"), utc("2024-01-02T15:35:00Z")]
    );
    assert_eq!(parsed.bars[1].close(), 10.75);
    assert_eq!(parsed.columns.time.header.as_deref(), Some("timestamp"));
}

#[test]
fn headerless_rows_are_time_open_high_low_close_volume() {
    let parsed = parse(
        "2024-01-02T15:30:00Z,10,11,9,10.5,100\n2024-01-02T15:35:00Z,10.5,10.6,10.1,10.2,80\n",
    );
    assert!(!parsed.columns.has_header);
    assert_eq!(parsed.bars.len(), 2);
    assert_eq!(parsed.bars[0].volume(), 100.0);

    // Without a sixth column, volume is 0.
    let parsed = parse("2024-01-02,10,11,9,10.5\n");
    assert_eq!(parsed.bars[0].volume(), 0.0);
    assert!(parsed.columns.volume.is_none());
}

#[test]
fn every_time_format_reads_to_the_same_instant() {
    let instant = utc("2024-01-02T15:30:00Z");
    for time in [
        "2024-01-02 15:30:00",
        "2024-01-02T15:30:00",
        "2024-01-02T15:30:00Z",
        "2024-01-02T15:30:00.000Z",
        "2024-01-02T17:30:00+02:00",
        "2024-01-02 10:30:00-05:00",
        "2024-01-02 15:30",
        "1704209400",
        "1704209400000",
    ] {
        let parsed = parse(&format!("time,open,high,low,close\n{time},10,11,9,10\n"));
        assert_eq!(parsed.bars[0].time(), instant, "{time}");
    }
    for date in ["2024-01-02", "2024/01/02", "20240102"] {
        let parsed = parse(&format!("date,open,high,low,close\n{date},10,11,9,10\n"));
        assert_eq!(parsed.bars[0].time(), utc("2024-01-02T00:00:00Z"), "{date}");
    }
}

#[test]
fn slash_dates_are_read_when_the_file_decides_the_order() {
    // 01/13 can only be month-first, so 01/02 is the 2nd of January.
    let parsed = parse("Date,Open,High,Low,Close\n01/02/2024,10,11,9,10\n01/13/2024,10,11,9,10\n");
    assert_eq!(parsed.bars[0].time(), utc("2024-01-02T00:00:00Z"));
    // 13/01 can only be day-first, so 01/02 is the 1st of February.
    let parsed = parse("Date,Open,High,Low,Close\n01/02/2024,10,11,9,10\n13/01/2024,10,11,9,10\n");
    assert_eq!(parsed.bars[1].time(), utc("2024-02-01T00:00:00Z"));
    // Nothing decides: refused rather than guessed.
    let err = parse_csv(
        "Date,Open,High,Low,Close\n01/02/2024,10,11,9,10\n02/01/2024,10,11,9,10\n".as_bytes(),
        &STRICT,
    )
    .unwrap_err();
    let CsvError::BadRows(rows) = err else {
        panic!("expected BadRows, got {err:?}")
    };
    assert_eq!(lines(&rows), [2, 3]);
    assert!(
        rows[0].message.contains("YYYY-MM-DD"),
        "{}",
        rows[0].message
    );
}

#[test]
fn nasdaq_export_with_dollars_and_close_last() {
    let parsed = parse_csv(&fixture("nasdaq_newest_first.csv")[..], &STRICT).unwrap();
    assert_eq!(parsed.bars.len(), 3);
    assert_eq!(parsed.bars[0].time(), utc("2023-12-29T00:00:00Z"));
    assert_eq!(parsed.bars[0].low(), 191.725);
    assert_eq!(parsed.bars[2].close(), 184.25);
}

#[test]
fn metatrader_date_and_time_columns_are_joined() {
    let parsed = parse_csv(&fixture("metatrader_m5.csv")[..], &STRICT).unwrap();
    assert_eq!(
        times(&parsed),
        [utc("2024-01-02T15:30:00Z"), utc("2024-01-02T15:35:00Z")]
    );
    assert_eq!(
        parsed.columns.time_of_day.as_ref().map(|c| c.index),
        Some(1)
    );
    assert_eq!(parsed.columns.ignored, ["<TICKVOL>", "<SPREAD>"]);
}

#[test]
fn quoted_thousands_separators_and_empty_volume() {
    let parsed = parse(
        "Date,Open,High,Low,Close,Volume\n2024-01-02,\"1,234.5\",\"1,240\",\"1,230.25\",\"1,238\",\n",
    );
    let b = parsed.bars[0];
    assert_eq!(
        (b.open(), b.high(), b.low(), b.close(), b.volume()),
        (1234.5, 1240.0, 1230.25, 1238.0, 0.0)
    );
}

#[test]
fn missing_prices_are_row_errors() {
    let text = "Date,Open,High,Low,Close,Volume\n\
                2024-01-02,10,11,9,10,5\n\
                2024-01-03,null,null,null,null,null\n\
                2024-01-04,10,11,9,NaN,5\n\
                2024-01-05,10,11,,10,5\n";
    let CsvError::BadRows(rows) = parse_csv(text.as_bytes(), &STRICT).unwrap_err() else {
        panic!()
    };
    assert_eq!(lines(&rows), [3, 4, 5]);
    assert!(rows[0].message.starts_with("open "), "{}", rows[0].message);
    assert!(rows[1].message.starts_with("close "), "{}", rows[1].message);
    assert_eq!(rows[2].message, "low is empty");
}

#[test]
fn malformed_file_is_refused_with_line_numbers_and_no_bars() {
    let err = parse_csv(&fixture("malformed.csv")[..], &STRICT).unwrap_err();
    let CsvError::BadRows(rows) = &err else {
        panic!("expected BadRows, got {err:?}")
    };
    assert_eq!(lines(rows), [3, 5, 6, 8]);
    assert_eq!(rows[0].to_string(), "line 3: high \"abc\" is not a number");
    assert_eq!(
        rows[1].to_string(),
        "line 5: high 98 is below max(open, close) = 100"
    );
    assert!(
        rows[2].message.starts_with("no close value"),
        "{}",
        rows[2].message
    );
    assert_eq!(
        rows[3].to_string(),
        "line 8: duplicate time 2024-01-04T00:00:00+00:00 (already on line 4)"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("4 rows could not be read, so nothing was imported:"),
        "{message}"
    );
    assert!(message.contains("\n  line 5: high 98"), "{message}");
    assert!(message.contains("--skip-bad"), "{message}");
}

#[test]
fn skip_bad_keeps_the_good_rows_and_reports_the_rest() {
    let parsed = parse_csv(&fixture("malformed.csv")[..], &LENIENT).unwrap();
    assert_eq!(
        times(&parsed),
        ["2024-01-02", "2024-01-04", "2024-01-09", "2024-01-10"]
            .map(|d| utc(&format!("{d}T00:00:00Z")))
    );
    // The first 2024-01-04 (line 4) is kept, the duplicate on line 8 is reported.
    assert_eq!(parsed.bars[1].close(), 100.2);
    assert_eq!(lines(&parsed.skipped), [3, 5, 6, 8]);
}

#[test]
fn skip_bad_still_refuses_a_file_with_no_good_row() {
    let err = parse_csv(
        "Date,Open,High,Low,Close\n2024-01-02,x,1,1,1\n".as_bytes(),
        &LENIENT,
    )
    .unwrap_err();
    assert!(matches!(err, CsvError::BadRows(rows) if rows.len() == 1));
}

#[test]
fn long_error_lists_twenty_rows_and_counts_the_rest() {
    let mut text = String::from("Date,Open,High,Low,Close\n");
    for day in 1..=25 {
        text.push_str(&format!("2024-03-{day:02},10,9,8,10\n"));
    }
    let message = parse_csv(text.as_bytes(), &STRICT).unwrap_err().to_string();
    assert!(message.contains("line 21:"), "{message}");
    assert!(!message.contains("line 22:"), "{message}");
    assert!(message.contains("... and 5 more"), "{message}");
}

#[test]
fn unknown_or_incomplete_columns_are_named() {
    let err = parse_csv(
        "Date,Open,High,Close,Adj Close\n2024-01-02,1,2,1.5,1.4\n".as_bytes(),
        &STRICT,
    )
    .unwrap_err();
    let CsvError::UnrecognisedColumns { found, missing } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(missing, &["low"]);
    assert_eq!(found, &["Date", "Open", "High", "Close", "Adj Close"]);
    assert!(err.to_string().contains("no column for low"), "{err}");

    let err = parse_csv("2024-01-02,1,2\n".as_bytes(), &STRICT).unwrap_err();
    assert!(
        matches!(&err, CsvError::UnrecognisedColumns { found, missing } if found.is_empty() && missing == &["low", "close"]),
        "{err:?}"
    );
}

#[test]
fn empty_files_are_refused() {
    assert!(matches!(
        parse_csv("".as_bytes(), &STRICT),
        Err(CsvError::Empty)
    ));
    assert!(matches!(
        parse_csv("\n\n".as_bytes(), &STRICT),
        Err(CsvError::Empty)
    ));
    assert!(matches!(
        parse_csv("Date,Open,High,Low,Close\n,,,,\n".as_bytes(), &STRICT),
        Err(CsvError::Empty)
    ));
}

#[test]
fn byte_order_mark_and_crlf_are_tolerated() {
    let parsed = parse("\u{feff}Date,Open,High,Low,Close\r\n2024-01-02,10,11,9,10\r\n");
    assert_eq!(parsed.columns.time.header.as_deref(), Some("Date"));
    assert_eq!(parsed.bars.len(), 1);
}

#[test]
fn read_failures_are_io_errors() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = parse_csv(Broken, &STRICT).unwrap_err();
    assert!(matches!(err, CsvError::Io(_)), "{err:?}");
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert_eq!(cause.as_deref(), Some("disk on fire"));
}

/// yfinance's float64 text, read the way the parser reads it.
fn num(text: &str) -> f64 {
    text.parse().unwrap()
}

fn parse_fixture(name: &str) -> ParsedCsv {
    parse_csv(&fixture(name)[..], &STRICT).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn ohlcv(parsed: &ParsedCsv, i: usize) -> (f64, f64, f64, f64, f64) {
    let b = parsed.bars[i];
    (b.open(), b.high(), b.low(), b.close(), b.volume())
}

fn days(dates: &[&str]) -> Vec<DateTime<Utc>> {
    dates
        .iter()
        .map(|d| utc(&format!("{d}T00:00:00Z")))
        .collect()
}

const AAPL_2024_01_02: (f64, f64, f64, f64, f64) = (187.15, 188.44, 183.89, 185.64, 82_488_700.0);
const FIRST_DAYS: [&str; 3] = ["2024-01-02", "2024-01-03", "2024-01-04"];

#[test]
fn pandas_unnamed_datetime_index_is_the_time() {
    let parsed = parse_fixture("pandas_unnamed_index.csv");
    assert_eq!(times(&parsed), days(&FIRST_DAYS));
    assert_eq!(ohlcv(&parsed, 0), AAPL_2024_01_02);
    assert_eq!(parsed.columns.time.index, 0);
    assert_eq!(parsed.columns.time.header, None);
    assert!(parsed.columns.ignored.is_empty(), "{}", parsed.columns);
    assert_eq!(parsed.dialect.header_rows, 1);
}

#[test]
fn pandas_range_index_is_ignored_for_the_date_column() {
    let parsed = parse_fixture("pandas_range_index.csv");
    assert_eq!(times(&parsed), days(&FIRST_DAYS));
    assert_eq!(ohlcv(&parsed, 0), AAPL_2024_01_02);
    assert_eq!(parsed.columns.time.header.as_deref(), Some("Date"));
    assert_eq!(parsed.columns.ignored, ["column 1 (unnamed)"]);

    let parsed = parse(",timestamp,open,high,low,close\n0,1704209400,10,11,9,10\n");
    assert_eq!(parsed.bars[0].time(), utc("2024-01-02T15:30:00Z"));
}

#[test]
fn pandas_range_index_without_dates_is_refused_not_read_as_1970() {
    let err = parse_csv(&fixture("pandas_range_index_no_dates.csv")[..], &STRICT).unwrap_err();
    let CsvError::RowNumbersNotTimes { line, value } = &err else {
        panic!("expected RowNumbersNotTimes, got {err:?}")
    };
    assert_eq!((*line, value.as_str()), (2, "0"));
    let message = err.to_string();
    assert!(message.contains("row numbers"), "{message}");
    assert!(message.contains("set_index"), "{message}");
}

#[test]
fn yfinance_header_rows_with_close_only() {
    let parsed = parse_fixture("yfinance_aapl_1d.csv");
    assert_eq!(times(&parsed), days(&FIRST_DAYS));
    assert_eq!(
        ohlcv(&parsed, 0),
        (
            num("185.78914184570312"),
            num("187.07009887695312"),
            num("182.55300903320312"),
            num("184.29042053222656"),
            82_488_700.0
        )
    );
    let cols = &parsed.columns;
    assert_eq!(cols.time.header.as_deref(), Some("Date"));
    assert_eq!(cols.close.header.as_deref(), Some("Close"));
    assert_eq!(
        (
            cols.close.index,
            cols.high.index,
            cols.low.index,
            cols.open.index
        ),
        (1, 2, 3, 4)
    );
    assert!(cols.adj_close.is_none());
    assert!(cols.ignored.is_empty(), "{cols}");
    assert_eq!(parsed.dialect.header_rows, 3);
    assert_eq!(parsed.dialect.ticker.as_deref(), Some("AAPL"));
}

#[test]
fn yfinance_with_adj_close_uses_close() {
    let parsed = parse_fixture("yfinance_aapl_1d_adj_close.csv");
    assert_eq!(times(&parsed), days(&FIRST_DAYS));
    let b = parsed.bars[0];
    assert_eq!(b.close(), num("185.63999938964844"));
    assert_eq!(parsed.columns.close.index, 2);
    assert_eq!(parsed.columns.adj_close.as_ref().map(|c| c.index), Some(1));
    let summary = parsed.columns.to_string();
    assert!(summary.contains("noted, not applied"), "{summary}");
}

#[test]
fn adj_close_is_the_close_when_it_is_the_only_one() {
    let parsed = parse(
        "Price,Adj Close,High,Low,Open,Volume\n\
         Ticker,AAPL,AAPL,AAPL,AAPL,AAPL\n\
         Date,,,,,\n\
         2024-01-02,184.29,187.07,182.55,185.79,82488700\n",
    );
    assert_eq!(parsed.bars[0].close(), 184.29);
    assert_eq!(parsed.columns.close.header.as_deref(), Some("Adj Close"));
    assert!(parsed.columns.adj_close.is_none());
}

#[test]
fn yfinance_grouped_by_ticker_puts_the_ticker_row_first() {
    let parsed = parse_fixture("yfinance_group_by_ticker.csv");
    assert_eq!(times(&parsed), days(&FIRST_DAYS[..2]));
    assert_eq!(parsed.bars[1].close(), num("182.91050720214844"));
    assert_eq!(parsed.columns.open.index, 1);
    assert_eq!(parsed.dialect.ticker.as_deref(), Some("AAPL"));
}

#[test]
fn yfinance_without_the_index_name_row() {
    // An unnamed index makes pandas write an empty third row.
    let parsed = parse(
        "Price,Close,High,Low,Open,Volume\n\
         Ticker,AAPL,AAPL,AAPL,AAPL,AAPL\n\
         ,,,,,\n\
         2024-01-02,184.29,187.07,182.55,185.79,82488700\n\
         2024-01-03,182.91,184.53,182.10,182.88,58414500\n",
    );
    assert_eq!(times(&parsed), days(&FIRST_DAYS[..2]));
    assert_eq!(parsed.dialect.header_rows, 2);
}

#[test]
fn yfinance_with_several_tickers_is_refused_naming_them() {
    let err = parse_csv(&fixture("yfinance_two_tickers.csv")[..], &STRICT).unwrap_err();
    let CsvError::SeveralTickers(tickers) = &err else {
        panic!("expected SeveralTickers, got {err:?}")
    };
    assert_eq!(tickers, &["AAPL", "MSFT"]);
    let message = err.to_string();
    assert!(message.contains("(AAPL, MSFT)"), "{message}");
    assert!(
        message.contains("df.xs(\"AAPL\", axis=1, level=\"Ticker\")"),
        "{message}"
    );
}

#[test]
fn yfinance_line_numbers_count_the_three_header_rows() {
    let err = parse_csv(&fixture("yfinance_bad_rows.csv")[..], &STRICT).unwrap_err();
    let CsvError::BadRows(rows) = &err else {
        panic!("expected BadRows, got {err:?}")
    };
    assert_eq!(lines(rows), [5, 7]);
    assert_eq!(rows[0].to_string(), "line 5: high \"abc\" is not a number");

    let parsed = parse_csv(&fixture("yfinance_bad_rows.csv")[..], &LENIENT).unwrap();
    assert_eq!(times(&parsed), days(&["2024-01-02", "2024-01-04"]));
    assert_eq!(lines(&parsed.skipped), [5, 7]);

    // The first data row is line 4.
    let err = parse_csv_str(
        "Price,Close,High,Low,Open,Volume\nTicker,AAPL,AAPL,AAPL,AAPL,AAPL\nDate,,,,,\n2024-01-02,x,1,1,1,1\n",
        &STRICT,
    )
    .unwrap_err();
    assert!(
        matches!(&err, CsvError::BadRows(rows) if lines(rows) == [4]),
        "{err:?}"
    );
}

#[test]
fn time_zone_offsets_become_utc() {
    let parsed = parse_fixture("pandas_tz_new_york_5m.csv");
    assert_eq!(
        times(&parsed),
        [
            utc("2024-01-02T14:30:00Z"),
            utc("2024-01-02T14:35:00Z"),
            utc("2024-01-02T14:40:00Z")
        ]
    );
    let parsed = parse_fixture("yfinance_aapl_1h_new_york.csv");
    assert_eq!(parsed.columns.time.header.as_deref(), Some("Datetime"));
    assert_eq!(
        times(&parsed),
        [
            utc("2024-01-02T14:30:00Z"),
            utc("2024-01-02T15:30:00Z"),
            utc("2024-01-02T20:30:00Z")
        ]
    );
    for (time, instant) in [
        ("2024-01-02T09:30:00+01:00", "2024-01-02T08:30:00Z"),
        ("2024-01-02T09:30:00Z", "2024-01-02T09:30:00Z"),
        ("2024-01-02 21:30:00-05:00", "2024-01-03T02:30:00Z"),
        // No offset: already UTC, never the exchange's local time.
        ("2024-01-02 09:30:00", "2024-01-02T09:30:00Z"),
    ] {
        let parsed = parse(&format!(
            "Datetime,Open,High,Low,Close\n{time},10,11,9,10\n"
        ));
        assert_eq!(parsed.bars[0].time(), utc(instant), "{time}");
    }
}

#[test]
fn semicolons_with_decimal_commas_and_a_bom() {
    let parsed = parse_fixture("pandas_semicolon_decimal_comma_bom.csv");
    assert_eq!(times(&parsed), days(&FIRST_DAYS));
    assert_eq!(ohlcv(&parsed, 0), AAPL_2024_01_02);
    assert_eq!(parsed.columns.time.header.as_deref(), Some("Date"));
    assert_eq!(parsed.dialect.delimiter, ';');
    assert!(parsed.dialect.decimal_comma);
}

#[test]
fn semicolons_with_decimal_points_keep_points() {
    let parsed =
        parse("Date;Open;High;Low;Close;Volume\n2024-01-02;187.15;188.44;183.89;185.64;82488700\n");
    assert_eq!(ohlcv(&parsed, 0), AAPL_2024_01_02);
    assert!(!parsed.dialect.decimal_comma);

    // Both marks in one file: read with '.', so the comma number is refused, not guessed.
    let err = parse_csv_str(
        "Date;Open;High;Low;Close\n2024-01-02;187.15;188.44;183.89;185.64\n2024-01-03;184,22;185.88;183.43;184.25\n",
        &STRICT,
    )
    .unwrap_err();
    let CsvError::BadRows(rows) = &err else {
        panic!("expected BadRows, got {err:?}")
    };
    assert_eq!(lines(rows), [3]);
    assert!(
        rows[0].message.starts_with("open \"184,22\""),
        "{}",
        rows[0].message
    );

    // Headerless ';' file with decimal commas.
    let parsed = parse("2024-01-02;187,15;188,44;183,89;185,64;82488700\n");
    assert_eq!(ohlcv(&parsed, 0), AAPL_2024_01_02);
}

#[test]
fn commas_stay_thousands_separators_in_comma_files() {
    let parsed = parse("Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10,\"1,234\"\n");
    assert_eq!(parsed.bars[0].volume(), 1234.0);
    assert!(!parsed.dialect.decimal_comma);
}

#[test]
fn tab_separated_files() {
    let parsed = parse_fixture("pandas_tab.tsv");
    assert_eq!(times(&parsed), days(&FIRST_DAYS));
    assert_eq!(ohlcv(&parsed, 0), AAPL_2024_01_02);
    assert_eq!(parsed.dialect.delimiter, '\t');
}

#[test]
fn bom_before_a_headerless_file_or_a_quoted_header() {
    let parsed = parse("\u{feff}2024-01-02,10,11,9,10.5,100\n");
    assert!(!parsed.columns.has_header);
    assert_eq!(parsed.bars[0].time(), utc("2024-01-02T00:00:00Z"));

    let parsed =
        parse("\u{feff}\"Date\",\"Open\",\"High\",\"Low\",\"Close\"\n2024-01-02,10,11,9,10\n");
    assert_eq!(parsed.columns.time.header.as_deref(), Some("Date"));
}

#[test]
fn parse_csv_str_matches_parse_csv() {
    let text = String::from_utf8(fixture("yahoo_newest_first.csv")).unwrap();
    let from_str = parse_csv_str(&text, &STRICT).unwrap();
    let from_read = parse_csv(text.as_bytes(), &STRICT).unwrap();
    assert_eq!(from_str, from_read);
}
