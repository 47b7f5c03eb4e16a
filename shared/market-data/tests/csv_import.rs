//! `parse_csv` against files shaped like real exports (fixtures/) and
//! small inline cases for each time and number format.

use chrono::{DateTime, Utc};
use gs_market_data::{CsvError, CsvOptions, ParsedCsv, RowError, parse_csv};

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
