//! Chain and trade imports: good files, every error with its line number,
//! the all-or-nothing rule, stable ids and duplicates.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use gs_options::import::{
    ImportFailure, MAX_LISTED_ERRORS, MAX_ROWS, OptionsFileKind, parse_chain_csv, parse_time,
    parse_trades_csv,
};
use gs_options::{ExerciseStyle, Right, occ};

const CHAIN: &str = include_str!("data/import_chain.csv");
const TRADES: &str = include_str!("data/import_trades.csv");

const CHAIN_HEADER: &str = "as_of,underlying,underlying_price,symbol,bid,ask,volume,open_interest";
const TRADE_HEADER: &str = "time,symbol,price,size,exchange";

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The one error of a file that must fail on exactly one line.
fn one_error(result: Result<impl std::fmt::Debug, ImportFailure>) -> (usize, String) {
    let failure = result.unwrap_err();
    assert_eq!(failure.total_errors, 1, "{failure}");
    assert_eq!(failure.errors.len(), 1, "{failure}");
    let e = &failure.errors[0];
    (e.line, e.message.clone())
}

fn chain_error(rows: &str) -> (usize, String) {
    one_error(parse_chain_csv(&format!("{CHAIN_HEADER}\n{rows}")))
}

fn trade_error(rows: &str) -> (usize, String) {
    one_error(parse_trades_csv(&format!("{TRADE_HEADER}\n{rows}")))
}

fn assert_error(got: (usize, String), line: usize, needle: &str) {
    assert_eq!(got.0, line, "{}", got.1);
    assert!(got.1.contains(needle), "{:?} lacks {needle:?}", got.1);
}

// ------------------------------------------------------------------ chains

#[test]
fn a_good_chain_file() {
    let snaps = parse_chain_csv(CHAIN).unwrap();
    let keys: Vec<(&str, DateTime<Utc>, usize)> = snaps
        .iter()
        .map(|s| (s.underlying.as_str(), s.as_of, s.quotes.len()))
        .collect();
    assert_eq!(
        keys,
        [
            ("AAPL", utc(2025, 1, 10, 20, 0, 0), 4),
            ("AAPL", utc(2025, 1, 10, 21, 0, 0), 1),
            // 15:00-05:00 is 20:00 UTC: the same snapshot as the SPX call.
            ("SPX", utc(2025, 1, 10, 20, 0, 0), 2),
        ]
    );
    let aapl = &snaps[0];
    assert_eq!(aapl.underlying_price, 236.85);
    let order: Vec<String> = aapl
        .quotes
        .iter()
        .map(|q| occ::format(&q.contract))
        .collect();
    assert_eq!(
        order,
        [
            "AAPL  250117C00230000",
            "AAPL  250117P00230000",
            "AAPL  250117C00240000",
            "AAPL  250221P00220000",
        ]
    );
    let q = &aapl.quotes[2];
    assert_eq!((q.bid, q.ask, q.last), (1.10, 1.15, Some(1.12)));
    assert_eq!((q.volume, q.open_interest), (15234, 40211));
    assert_eq!(q.contract.multiplier, 100);
    assert_eq!(q.contract.style, ExerciseStyle::American);
    assert_eq!(aapl.quotes[1].last, None);

    let spx = &snaps[2];
    assert_eq!(spx.underlying_price, 5827.04);
    assert_eq!(spx.quotes[0].contract.right, Right::Call);
    assert_eq!(spx.quotes[0].contract.style, ExerciseStyle::European);
    assert_eq!(spx.quotes[0].contract.expiry, date(2025, 1, 17));
    assert_eq!(spx.quotes[0].contract.strike, 5800.0);
    assert_eq!(spx.quotes[1].contract.right, Right::Put);
    assert_eq!(snaps[1].underlying_price, 237.10);
}

#[test]
fn bom_crlf_blank_lines_and_header_case() {
    let text = "\u{feff}AS_OF,Underlying,UNDERLYING_PRICE, Symbol ,Bid,Ask,Volume,Open_Interest\r\n\
                \r\n\
                1736539200,msft,420.5,MSFT250117C00420000,5.1,5.3,10,20\r\n\
                ,,,,,,,\r\n\
                \x20\x20\r\n\
                1736539200000,MSFT,420.5,MSFT250117P00420000,4.9,5.0,0,0\r\n";
    let snaps = parse_chain_csv(text).unwrap();
    assert_eq!(snaps.len(), 1);
    assert_eq!(snaps[0].underlying, "MSFT");
    assert_eq!(snaps[0].as_of, utc(2025, 1, 10, 20, 0, 0));
    assert_eq!(snaps[0].quotes.len(), 2);

    // Line numbers count the blank lines.
    let bad = text.replace("4.9,5.0", "5.9,5.0");
    assert_error(
        one_error(parse_chain_csv(&bad)),
        6,
        "bid 5.9 is above ask 5",
    );
}

#[test]
fn chain_row_errors_name_their_line() {
    let ok = "2025-01-10T20:00:00Z,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20";
    let with = |bad: &str| format!("{ok}\n{bad}");
    let cases: &[(&str, &str)] = &[
        (
            "yesterday,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20",
            "as_of: time \"yesterday\" is not RFC 3339",
        ),
        (
            "1900-01-01,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20",
            "in the year 1900",
        ),
        (
            "2200-01-01,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20",
            "in the year 2200",
        ),
        (
            ",AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20",
            "as_of is empty",
        ),
        (
            "2025-01-10,AAPL-X,236.85,AAPL250117C00240000,1.1,1.15,10,20",
            "underlying \"AAPL-X\" is not 1 to 6",
        ),
        (
            "2025-01-10,TOOLONG,236.85,AAPL250117C00240000,1.1,1.15,10,20",
            "underlying \"TOOLONG\"",
        ),
        (
            "2025-01-10,AAPL,0,AAPL250117C00240000,1.1,1.15,10,20",
            "underlying_price 0 must be above 0",
        ),
        (
            "2025-01-10,AAPL,-3,AAPL250117C00240000,1.1,1.15,10,20",
            "underlying_price -3 must be above 0",
        ),
        (
            "2025-01-10,AAPL,,AAPL250117C00240000,1.1,1.15,10,20",
            "underlying_price is empty",
        ),
        (
            "2025-01-10,AAPL,abc,AAPL250117C00240000,1.1,1.15,10,20",
            "underlying_price \"abc\" is not a number",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,-0.1,1.15,10,20",
            "bid -0.1 is negative",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,NaN,10,20",
            "ask \"NaN\" is not a finite number",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,inf,10,20",
            "ask \"inf\" is not a finite number",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.2,1.15,10,20",
            "bid 1.2 is above ask 1.15",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,,1.15,10,20",
            "bid is empty",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,1.15,1.5,20",
            "volume \"1.5\" is not a whole number",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,1.15,-2,20",
            "volume \"-2\" is negative",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,1e3",
            "open_interest \"1e3\" is not a whole number",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,",
            "open_interest is empty",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,99999999999999999999999",
            "open_interest \"99999999999999999999999\" is too large",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250230C00240000,1.1,1.15,10,20",
            "is not a date",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117X00240000,1.1,1.15,10,20",
            "expected C or P",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00000000,1.1,1.15,10,20",
            "the strike is 0",
        ),
        ("2025-01-10,AAPL,236.85,AAPL,1.1,1.15,10,20", "too short"),
        (
            "2025-01-10,AAPL,236.85,MSFT250117C00240000,1.1,1.15,10,20",
            "has the root MSFT but underlying is AAPL",
        ),
        (
            "2025-01-10,AAPL,236.85,,1.1,1.15,10,20",
            "no symbol, and expiry, strike, right empty",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10",
            "7 fields, but the header has 8 columns",
        ),
        (
            "2025-01-10,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20,9",
            "9 fields",
        ),
    ];
    for (bad, needle) in cases {
        assert_error(chain_error(&with(bad)), 3, needle);
    }
}

#[test]
fn chain_contract_column_errors() {
    let header = "as_of,underlying,underlying_price,symbol,expiry,strike,right,bid,ask,volume,open_interest,multiplier,style";
    let row = |cells: &str| one_error(parse_chain_csv(&format!("{header}\n{cells}")));
    let cases: &[(&str, &str)] = &[
        (
            "2025-01-10,AAPL,236,,2025-13-01,230,call,1,2,0,0,,",
            "expiry \"2025-13-01\" is not a date YYYY-MM-DD",
        ),
        (
            "2025-01-10,AAPL,236,,01/17/2025,230,call,1,2,0,0,,",
            "expiry \"01/17/2025\" is not a date",
        ),
        (
            "2025-01-10,AAPL,236,,2125-01-17,230,call,1,2,0,0,,",
            "outside 2000-2099",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,0,call,1,2,0,0,,",
            "strike \"0\" must be above 0",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,x,call,1,2,0,0,,",
            "strike \"x\" is not a number",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,230.0005,call,1,2,0,0,,",
            "more than 3 decimals",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,100000,call,1,2,0,0,,",
            "the largest an OCC symbol can name",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,230,straddle,1,2,0,0,,",
            "right \"straddle\" is not call, put, c or p",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,,call,1,2,0,0,,",
            "no symbol, and strike empty",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,230,call,1,2,0,0,0,",
            "multiplier \"0\" must be 1 to",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,230,call,1,2,0,0,ten,",
            "multiplier \"ten\" is not a whole number",
        ),
        (
            "2025-01-10,AAPL,236,,2025-01-17,230,call,1,2,0,0,,bermudan",
            "style \"bermudan\" is not american or european",
        ),
        (
            "2025-01-10,AAPL,236,AAPL250117C00230000,2025-01-24,,,1,2,0,0,,",
            "expiry 2025-01-24 differs from 2025-01-17",
        ),
        (
            "2025-01-10,AAPL,236,AAPL250117C00230000,,235,,1,2,0,0,,",
            "strike 235 differs from 230",
        ),
        (
            "2025-01-10,AAPL,236,AAPL250117C00230000,,,put,1,2,0,0,,",
            "right P differs from C",
        ),
    ];
    for (cells, needle) in cases {
        assert_error(row(cells), 2, needle);
    }
    // Symbol and columns that agree, a multiplier and a style.
    let snaps = parse_chain_csv(&format!(
        "{header}\n2025-01-10,AAPL,236,AAPL250117C00230000,2025-01-17,230.000,c,1,2,0,0,10,european"
    ))
    .unwrap();
    let c = &snaps[0].quotes[0].contract;
    assert_eq!((c.multiplier, c.style), (10, ExerciseStyle::European));
    // A bare date is midnight UTC.
    assert_eq!(snaps[0].as_of, utc(2025, 1, 10, 0, 0, 0));
}

#[test]
fn chain_duplicates_and_underlying_prices() {
    let (line, msg) = chain_error(
        "2025-01-10T20:00:00Z,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20\n\
         2025-01-10T20:00:00Z,AAPL,236.85,AAPL250117P00240000,1.1,1.15,10,20\n\
         2025-01-10T15:00:00-05:00,AAPL,236.85,AAPL  250117C00240000,1.2,1.25,10,20",
    );
    assert_eq!(line, 4, "{msg}");
    assert!(
        msg.contains("AAPL  250117C00240000 is quoted twice"),
        "{msg}"
    );
    assert!(msg.contains("first on line 2"), "{msg}");

    // The same contract at another time, or of another underlying, is fine.
    parse_chain_csv(&format!(
        "{CHAIN_HEADER}\n\
         2025-01-10T20:00:00Z,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20\n\
         2025-01-10T20:01:00Z,AAPL,236.90,AAPL250117C00240000,1.1,1.15,10,20"
    ))
    .unwrap();

    let (line, msg) = chain_error(
        "2025-01-10T20:00:00Z,AAPL,236.85,AAPL250117C00240000,1.1,1.15,10,20\n\
         2025-01-10T20:00:00Z,AAPL,236.90,AAPL250117P00240000,1.1,1.15,10,20",
    );
    assert_eq!(line, 3, "{msg}");
    assert!(
        msg.contains("underlying_price 236.9 differs from 236.85 on line 2"),
        "{msg}"
    );
}

#[test]
fn chain_header_errors() {
    let (line, msg) = one_error(parse_chain_csv(
        "as_of,underlying,underlying_price,symbol,bid,ask,volume,open_interest,delta,Gamma\n",
    ));
    assert_eq!(line, 1);
    assert!(
        msg.contains("unknown columns \"delta\", \"gamma\""),
        "{msg}"
    );
    assert!(
        msg.contains("the known columns are as_of, underlying, underlying_price, symbol, expiry"),
        "{msg}"
    );

    let (line, msg) = one_error(parse_chain_csv("as_of,underlying,bid,ask\nx,y,1,2\n"));
    assert_eq!(line, 1);
    assert!(
        msg.contains("lacks the columns underlying_price, volume, open_interest, symbol (or expiry, strike and right)"),
        "{msg}"
    );

    let (_, msg) = one_error(parse_chain_csv(&format!("{CHAIN_HEADER},bid\n")));
    assert!(msg.contains("column bid is given twice"), "{msg}");
    let (_, msg) = one_error(parse_chain_csv(&format!("{CHAIN_HEADER},\n")));
    assert!(msg.contains("column 9 has no name"), "{msg}");

    let (line, msg) = one_error(parse_chain_csv(""));
    assert_eq!(line, 1);
    assert!(msg.contains("the file is empty"), "{msg}");
    let (_, msg) = one_error(parse_chain_csv("\u{feff}\n\n"));
    assert!(msg.contains("the file is empty"), "{msg}");
    let (line, msg) = one_error(parse_chain_csv(&format!("\n\n{CHAIN_HEADER}\n\n")));
    assert_eq!(line, 3);
    assert!(msg.contains("a header but no quotes"), "{msg}");
}

// ------------------------------------------------------------------ trades

#[test]
fn a_good_trades_file() {
    let prints = parse_trades_csv(TRADES).unwrap();
    let times: Vec<DateTime<Utc>> = prints.iter().map(|p| p.time).collect();
    let ms = |h, m, s, ms| utc(2025, 1, 10, h, m, s) + chrono::Duration::milliseconds(ms);
    assert_eq!(
        times,
        [
            ms(14, 45, 0, 0),
            ms(15, 0, 0, 0),
            ms(15, 30, 0, 0),
            ms(15, 30, 0, 250),
            ms(15, 30, 0, 250),
        ]
    );
    let spx = &prints[0];
    assert_eq!(spx.id, "X-1001");
    assert_eq!(spx.contract.underlying, "SPXW");
    assert_eq!(spx.contract.strike, 5800.0);
    assert_eq!(spx.condition.as_deref(), Some("SLAN"));
    assert_eq!(
        (spx.bid, spx.ask, spx.underlying_price),
        (Some(62.10), Some(63.40), Some(5827.04))
    );
    assert_eq!(spx.premium(), 62.5 * 10.0 * 100.0);

    let phlx = &prints[1];
    assert_eq!(phlx.exchange, "PHLX");
    assert_eq!(
        (phlx.bid, phlx.ask, phlx.condition.as_deref()),
        (None, None, None)
    );

    let ise = &prints[2];
    assert_eq!(ise.exchange, "ISE", "upper-cased");
    assert_eq!(ise.contract.right, Right::Put);
    assert_eq!(ise.size, 25);

    // The two identical prints (lines 2 and 5) keep file order and get
    // distinct computed ids.
    let (a, b) = (&prints[3], &prints[4]);
    assert_eq!((a.price, a.size, a.exchange.as_str()), (1.12, 50, "CBOE"));
    assert_eq!(
        (&a.contract, a.time, a.price),
        (&b.contract, b.time, b.price)
    );
    assert_ne!(a.id, b.id);
    for p in &prints[1..] {
        assert_eq!(p.id.len(), 32, "{}", p.id);
        assert!(
            p.id.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}

#[test]
fn computed_ids_are_stable_and_documented() {
    let first = parse_trades_csv(TRADES).unwrap();
    let again = parse_trades_csv(TRADES).unwrap();
    assert_eq!(first, again);

    // The id of the first identical print is the hash of its canonical
    // fields and occurrence 0; the second, occurrence 1.
    let hex = |fields: &str| -> String {
        let d = ring::digest::digest(&ring::digest::SHA256, fields.as_bytes());
        d.as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let base = "AAPL  250117C00240000\u{1f}1736523000250\u{1f}1.12\u{1f}50\u{1f}CBOE\u{1f}ISOI";
    assert_eq!(first[3].id, hex(&format!("{base}\u{1f}0")));
    assert_eq!(first[4].id, hex(&format!("{base}\u{1f}1")));
    let phlx = "AAPL  250117C00240000\u{1f}1736521200000\u{1f}1.05\u{1f}5\u{1f}PHLX\u{1f}\u{1f}0";
    assert_eq!(first[1].id, hex(phlx));

    // Ids do not depend on the columns' spelling or order, nor on the NBBO.
    let reordered = "SIZE,Exchange,price,time,symbol,bid\n\
                     5,phlx,1.050,2025-01-10 15:00:00,O:AAPL250117C00240000,1.00\n";
    let p = parse_trades_csv(reordered).unwrap();
    assert_eq!(p[0].id, first[1].id);

    // A different condition is a different print; occurrences count in
    // file order, so the print on line 5 is now the first of its kind and
    // takes the id line 2 had.
    let other = TRADES.replacen("CBOE,ISOI", "CBOE,ISOP", 1);
    let changed = parse_trades_csv(&other).unwrap();
    assert_eq!(changed[3].condition.as_deref(), Some("ISOP"));
    assert_ne!(changed[3].id, first[3].id);
    assert_ne!(changed[3].id, first[4].id);
    assert_eq!(changed[4].id, first[3].id);
}

#[test]
fn trades_with_contract_columns() {
    let text = "time,underlying,expiry,strike,right,price,size,exchange,multiplier,style\n\
                2025-01-10T16:00:00Z,spx,2025-01-17,5800,c,62.5,3,C2,100,european\n\
                2025-01-10T16:00:01Z,SPX,2025-01-17,5800,P,35,1,CBOE,,\n";
    let p = parse_trades_csv(text).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(occ::format(&p[0].contract), "SPX   250117C05800000");
    assert_eq!(p[0].contract.style, ExerciseStyle::European);
    assert_eq!(p[1].contract.style, ExerciseStyle::American);
    assert_eq!(p[0].exchange, "C2");

    let (line, msg) = one_error(parse_trades_csv(
        "time,symbol,underlying,price,size,exchange\n\
         2025-01-10T16:00:00Z,AAPL250117C00240000,MSFT,1,1,CBOE\n",
    ));
    assert_eq!(line, 2);
    assert!(
        msg.contains("has the root AAPL but underlying is MSFT"),
        "{msg}"
    );

    let (line, msg) = one_error(parse_trades_csv(
        "time,symbol,underlying,expiry,strike,right,price,size,exchange\n\
         2025-01-10T16:00:00Z,,MSFT,2025-01-17,,,1,1,CBOE\n",
    ));
    assert_eq!(line, 2);
    assert!(msg.contains("no symbol, and strike, right empty"), "{msg}");

    let (line, msg) = one_error(parse_trades_csv(
        "time,expiry,strike,right,price,size,exchange\n",
    ));
    assert_eq!(line, 1);
    assert!(
        msg.contains("lacks the column symbol (or underlying, expiry, strike and right)"),
        "{msg}"
    );
}

#[test]
fn trade_row_errors_name_their_line() {
    let ok = "2025-01-10T15:30:00Z,AAPL250117C00240000,1.12,50,CBOE";
    let with = |bad: &str| format!("{ok}\n{ok}\n{bad}");
    let cases: &[(&str, &str)] = &[
        (
            "soon,AAPL250117C00240000,1.12,50,CBOE",
            "time: time \"soon\" is not RFC 3339",
        ),
        (
            "99999999999,AAPL250117C00240000,1.12,50,CBOE",
            "in the year 5138",
        ),
        ("-1,AAPL250117C00240000,1.12,50,CBOE", "in the year 1969"),
        (
            "2025-01-10,AAPL250117C00240000,0,50,CBOE",
            "price 0 must be above 0",
        ),
        ("2025-01-10,AAPL250117C00240000,,50,CBOE", "price is empty"),
        (
            "2025-01-10,AAPL250117C00240000,1.12,0,CBOE",
            "size 0: a print is of at least 1 contract",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1.12,2.5,CBOE",
            "size \"2.5\" is not a whole number",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1.12,-5,CBOE",
            "size \"-5\" is negative",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1.12,5000000000,CBOE",
            "size \"5000000000\" is too large",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1.12,50,CB-OE",
            "exchange \"CB-OE\" is not 1 to 16 of A-Z and 0-9",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1.12,50,ABCDEFGHIJKLMNOPQ",
            "exchange \"ABCDEFGHIJKLMNOPQ\"",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1.12,50,",
            "exchange is empty",
        ),
        (
            "2025-01-10,,1.12,50,CBOE",
            "no symbol, and underlying, expiry, strike, right empty",
        ),
        (
            "2025-01-10,AAPL250117C0024000,1.12,50,CBOE",
            "OCC symbol \"AAPL250117C0024000\"",
        ),
    ];
    for (bad, needle) in cases {
        assert_error(trade_error(&with(bad)), 4, needle);
    }
}

#[test]
fn trade_optional_column_errors() {
    let header = "time,symbol,price,size,exchange,condition,bid,ask,underlying_price,trade_id";
    let row = |cells: &str| one_error(parse_trades_csv(&format!("{header}\n{cells}")));
    let long_id = "i".repeat(65);
    let cases: [(String, &str); 8] = [
        (
            "2025-01-10,AAPL250117C00240000,1,1,CBOE,,1.2,1.1,,".into(),
            "bid 1.2 is above ask 1.1",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1,1,CBOE,,-1,,,".into(),
            "bid -1 is negative",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1,1,CBOE,,,x,,".into(),
            "ask \"x\" is not a number",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1,1,CBOE,,,,0,".into(),
            "underlying_price 0 must be above 0",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1,1,CBOE,\"IS\u{7}O\",,,,".into(),
            "condition \"IS\\u{7}O\" holds a control character",
        ),
        (
            format!(
                "2025-01-10,AAPL250117C00240000,1,1,CBOE,{},,,,",
                "c".repeat(65)
            ),
            "has 65 characters; at most 64",
        ),
        (
            format!("2025-01-10,AAPL250117C00240000,1,1,CBOE,,,,,{long_id}"),
            "trade_id \"iiiiiiiiii",
        ),
        (
            "2025-01-10,AAPL250117C00240000,1,1,CBOE,,,,,\"a\tb\"".into(),
            "trade_id \"a\\tb\" holds a control character",
        ),
    ];
    for (cells, needle) in &cases {
        assert_error(row(cells), 2, needle);
    }
    // Only a bid, or only an ask, is fine.
    let p = parse_trades_csv(&format!(
        "{header}\n2025-01-10,AAPL250117C00240000,1,1,CBOE,,0.9,,,\n2025-01-10,AAPL250117C00240000,1,1,CBOE,,,1.1,,"
    ))
    .unwrap();
    assert_eq!(
        (p[0].bid, p[0].ask, p[1].bid, p[1].ask),
        (Some(0.9), None, None, Some(1.1))
    );
}

#[test]
fn duplicate_trade_ids_are_refused() {
    let text = "time,symbol,price,size,exchange,trade_id\n\
                2025-01-10T15:30:00Z,AAPL250117C00240000,1.12,50,CBOE,T1\n\
                2025-01-10T15:30:01Z,AAPL250117C00240000,1.13,50,CBOE,T2\n\
                2025-01-10T15:30:02Z,AAPL250117C00240000,1.14,50,CBOE,\n\
                2025-01-10T15:30:03Z,AAPL250117C00240000,1.15,50,CBOE,T1\n";
    let (line, msg) = one_error(parse_trades_csv(text));
    assert_eq!(line, 5);
    assert!(
        msg.contains("trade_id \"T1\" is already used on line 2"),
        "{msg}"
    );

    // Identical prints without ids are not duplicates: each gets its own id.
    let same = "2025-01-10T15:30:00Z,AAPL250117C00240000,1.12,50,CBOE";
    let text = format!("{TRADE_HEADER}\n{same}\n{same}\n{same}\n");
    let p = parse_trades_csv(&text).unwrap();
    assert_eq!(p.len(), 3);
    assert!(p[0].id != p[1].id && p[1].id != p[2].id && p[0].id != p[2].id);
    assert_eq!(parse_trades_csv(&text).unwrap(), p);
}

// ------------------------------------------------------- all or nothing

#[test]
fn one_bad_line_fails_the_whole_file() {
    let bad_chain = CHAIN.replacen("8123", "lots", 1);
    let failure = parse_chain_csv(&bad_chain).unwrap_err();
    assert_eq!(failure.total_errors, 1);
    assert_eq!(failure.errors[0].line, 3);
    assert!(failure.errors[0].message.contains("volume \"lots\""));

    let bad_trades = TRADES.replacen("PHLX", "PH LX", 1);
    let failure = parse_trades_csv(&bad_trades).unwrap_err();
    assert_eq!(failure.total_errors, 1);
    assert_eq!(failure.errors[0].line, 6);
    let shown = failure.to_string();
    assert!(
        shown.starts_with("1 bad line; nothing was imported"),
        "{shown}"
    );
    assert!(shown.contains("line 6: exchange \"PH LX\""), "{shown}");
}

#[test]
fn errors_list_the_first_twenty_and_count_the_rest() {
    let mut text = String::from(TRADE_HEADER);
    for i in 0..25 {
        text.push_str(&format!("\n2025-01-10,AAPL250117C00240000,{i}.5,0,CBOE"));
    }
    text.push_str("\n2025-01-10,AAPL250117C00240000,1.5,1,CBOE\n");
    let failure = parse_trades_csv(&text).unwrap_err();
    assert_eq!(failure.total_errors, 25);
    assert_eq!(failure.errors.len(), MAX_LISTED_ERRORS);
    let lines: Vec<usize> = failure.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, (2..22).collect::<Vec<_>>());
    let shown = failure.to_string();
    assert!(shown.starts_with("25 bad lines;"), "{shown}");
    assert!(shown.contains("line 2: size 0"), "{shown}");
    assert!(shown.contains("line 21: size 0"), "{shown}");
    assert!(!shown.contains("line 22:"), "{shown}");
    assert!(shown.ends_with("; and 5 more"), "{shown}");
}

#[test]
fn quoted_values_are_cut_and_escaped() {
    let long = format!("{}\u{1b}[31m", "Q".repeat(100));
    let (_, msg) = trade_error(&format!("{long},AAPL250117C00240000,1,1,CBOE"));
    assert!(msg.contains('…'), "{msg}");
    assert!(!msg.contains(&"Q".repeat(61)), "{msg}");
    assert!(!msg.contains('\u{1b}'), "{msg}");
}

#[test]
fn multi_line_cells_keep_line_numbers() {
    // A cell spanning lines 2 and 3: the row is named by line 2, and the
    // next row is line 4.
    let text = "time,symbol,price,size,exchange,condition\n\
                2025-01-10,AAPL250117C00240000,1,1,CBOE,\"two\nlines\"\n\
                2025-01-10,AAPL250117C00240000,0,1,CBOE,\n";
    let failure = parse_trades_csv(text).unwrap_err();
    let lines: Vec<usize> = failure.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4], "{failure}");
    assert!(
        failure.errors[0].message.contains("control character"),
        "{failure}"
    );
    assert!(failure.errors[1].message.contains("price 0"), "{failure}");

    let text = "time,symbol,price,size,exchange,trade_id\n\
                2025-01-10,AAPL250117C00240000,1,1,CBOE,\"A\"\n\
                \"2025-01-10\",\"AAPL250117C00240000\",\"0\",\"1\",\"CBOE\",\"B\"\n";
    assert_error(one_error(parse_trades_csv(text)), 3, "price 0");
}

#[test]
fn row_cap() {
    let row = "2025-01-10,AAPL250117C00240000,1,1,CBOE\n";
    let mut text = String::with_capacity(row.len() * (MAX_ROWS + 2) + 64);
    text.push_str(TRADE_HEADER);
    text.push('\n');
    for _ in 0..=MAX_ROWS {
        text.push_str(row);
    }
    let (line, msg) = one_error(parse_trades_csv(&text));
    assert_eq!(line, MAX_ROWS + 2);
    assert!(msg.contains("more than 200000 rows"), "{msg}");
}

// ------------------------------------------------------------ detection

#[test]
fn file_kinds() {
    assert_eq!(OptionsFileKind::detect(CHAIN), Some(OptionsFileKind::Chain));
    assert_eq!(
        OptionsFileKind::detect(TRADES),
        Some(OptionsFileKind::Trades)
    );
    assert_eq!(
        OptionsFileKind::detect("\u{feff}\n Time ,SYMBOL,Price,Size,exchange\n"),
        Some(OptionsFileKind::Trades)
    );
    assert_eq!(
        OptionsFileKind::detect("symbol,bid,ask,open_interest,price"),
        Some(OptionsFileKind::Chain)
    );
    // A size column makes bid/ask/open_interest not a chain, and without a
    // price not trades either.
    assert_eq!(
        OptionsFileKind::detect("symbol,bid,ask,open_interest,size"),
        None
    );
    assert_eq!(OptionsFileKind::detect("time,headline"), None);
    assert_eq!(OptionsFileKind::detect(""), None);

    assert_eq!(
        OptionsFileKind::parse("Chain"),
        Some(OptionsFileKind::Chain)
    );
    assert_eq!(
        OptionsFileKind::parse("snapshots"),
        Some(OptionsFileKind::Chain)
    );
    assert_eq!(
        OptionsFileKind::parse("TRADES"),
        Some(OptionsFileKind::Trades)
    );
    assert_eq!(
        OptionsFileKind::parse("prints"),
        Some(OptionsFileKind::Trades)
    );
    assert_eq!(OptionsFileKind::parse("news"), None);
    assert_eq!(OptionsFileKind::Chain.name(), "chain");
    assert_eq!(OptionsFileKind::Trades.name(), "trades");
}

#[test]
fn times_in_every_accepted_spelling() {
    let want = utc(2025, 1, 10, 14, 30, 0);
    for t in [
        "2025-01-10T14:30:00Z",
        "2025-01-10T09:30:00-05:00",
        "2025-01-10 14:30:00",
        "2025-01-10T14:30:00",
        "2025-01-10 14:30",
        " 1736519400 ",
        "1736519400000",
    ] {
        assert_eq!(parse_time(t).unwrap(), want, "{t}");
    }
    assert_eq!(
        parse_time("2025-01-10 14:30:00.250").unwrap(),
        want + chrono::Duration::milliseconds(250)
    );
    assert_eq!(parse_time("2025-01-10").unwrap(), utc(2025, 1, 10, 0, 0, 0));
    // Below 1e11 is seconds, from 1e11 on milliseconds.
    assert_eq!(
        parse_time("99999999999").unwrap_err(),
        "time \"99999999999\" is in the year 5138; times must lie between 1970 and 2200"
    );
    assert_eq!(
        parse_time("100000000000").unwrap(),
        DateTime::from_timestamp(100_000_000, 0).unwrap()
    );
    assert_eq!(parse_time("0").unwrap(), DateTime::UNIX_EPOCH);
    assert!(parse_time("2199-12-31T23:59:59Z").is_ok());
    assert!(
        parse_time("2200-01-01T00:00:00Z")
            .unwrap_err()
            .contains("year 2200")
    );
    assert!(
        parse_time("1969-12-31T23:59:59Z")
            .unwrap_err()
            .contains("year 1969")
    );
    assert!(
        parse_time("10/01/2025")
            .unwrap_err()
            .contains("is not RFC 3339")
    );
}

// ------------------------------------------------------------ occ symbols
// The same cases as the unit tests in `occ.rs`, run from here as well.

#[test]
fn occ_symbols_round_trip() {
    use gs_options::Contract;
    use gs_options::occ::{OCC_SYMBOL_LEN, OccSymbol, format, parse};
    let s = parse("AAPL  250117C00150000").unwrap();
    assert_eq!(
        s,
        OccSymbol {
            underlying: "AAPL".into(),
            expiry: date(2025, 1, 17),
            right: Right::Call,
            strike: 150.0
        }
    );
    for form in [
        "AAPL250117C00150000",
        "O:AAPL250117C00150000",
        "O:AAPL  250117C00150000",
        "  aapl250117c00150000 ",
        "AAPL 250117C00150000",
    ] {
        assert_eq!(parse(form).unwrap(), s, "{form}");
    }
    let cases = [
        ("SPXW", date(2024, 12, 31), Right::Put, 5_825.0),
        ("BRK.B", date(2026, 6, 18), Right::Call, 462.5),
        ("F", date(2025, 3, 21), Right::Put, 12.345),
        ("GOOGL1", date(2099, 12, 31), Right::Call, 99_999.999),
        ("X", date(2000, 1, 1), Right::Call, 0.001),
    ];
    for (root, expiry, right, strike) in cases {
        let c = Contract {
            underlying: root.into(),
            expiry,
            strike,
            right,
            multiplier: 100,
            style: ExerciseStyle::American,
        };
        let text = format(&c);
        assert_eq!(text.len(), OCC_SYMBOL_LEN, "{text}");
        let back = parse(&text).unwrap();
        assert_eq!(back.to_string(), text);
        assert_eq!(back.into_contract(100, ExerciseStyle::American), c);
        assert_eq!(parse(&text.replace(' ', "")).unwrap().to_string(), text);
    }
    let c = |strike| Contract {
        underlying: "AAPL".into(),
        expiry: date(2025, 1, 17),
        strike,
        right: Right::Call,
        multiplier: 100,
        style: ExerciseStyle::American,
    };
    assert_eq!(format(&c(150.0004)), "AAPL  250117C00150000");
    assert_eq!(format(&c(150.0006)), "AAPL  250117C00150001");
    assert_eq!(format(&c(f64::NAN)), "AAPL  250117C00000000");
    assert_eq!(format(&c(1e9)), "AAPL  250117C99999999");
}

#[test]
fn occ_symbol_errors() {
    use gs_options::occ::{OccError, parse};
    let e = |s: &str| parse(s).unwrap_err();
    assert!(matches!(e(""), OccError::Empty { .. }));
    assert!(matches!(e("O:"), OccError::Empty { .. }));
    assert!(matches!(
        e("250117C00150000"),
        OccError::TooShort { len: 15, .. }
    ));
    assert!(matches!(
        e("AAPLXYZ250117C00150000"),
        OccError::TooLong { len: 22, .. }
    ));
    assert!(matches!(
        e("O:  250117C00150000"),
        OccError::MissingRoot { .. }
    ));
    assert!(matches!(
        e("AAPL  250117X00150000"),
        OccError::BadRight { found: 'X', .. }
    ));
    assert!(matches!(
        e("AAPL  250117C0015000x"),
        OccError::BadStrike { .. }
    ));
    assert!(matches!(
        e("AAPL  250117C00000000"),
        OccError::ZeroStrike { .. }
    ));
    assert!(matches!(
        e("AAPL  25O117C00150000"),
        OccError::BadExpiry { .. }
    ));
    assert!(matches!(
        e("AAPL  250230C00150000"),
        OccError::InvalidDate { .. }
    ));
    assert!(matches!(
        e("AA-PL 250117C00150000"),
        OccError::BadRoot { found: '-', .. }
    ));
    assert!(matches!(
        e("A APL 250117C00150000"),
        OccError::BadRoot { found: ' ', .. }
    ));

    let msg = e("AAPL  250230C00150000").to_string();
    assert!(
        msg.contains("\"AAPL  250230C00150000\"") && msg.contains("\"250230\""),
        "{msg}"
    );
    let msg = e(&format!("{}\u{7}", "Z".repeat(200))).to_string();
    assert!(
        msg.contains('…') && !msg.contains(&"Z".repeat(61)) && !msg.contains('\u{7}'),
        "{msg}"
    );
}
