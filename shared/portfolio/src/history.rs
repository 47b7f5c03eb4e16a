//! A portfolio's history from a file: the deposits, withdrawals and
//! executions of an existing account (a broker statement, a spreadsheet),
//! read all or nothing, so the performance and risk tools can start from a
//! real book instead of a fresh paper one.
//!
//! CSV with a header row; columns in any order, names case-insensitive:
//!
//! | column | meaning |
//! |---|---|
//! | `time` | RFC 3339 (`2024-03-01T14:30:00Z`) or a date (`2024-03-01`, midnight UTC) |
//! | `type` | `deposit`, `withdrawal`, `buy` or `sell` |
//! | `symbol` | buys and sells: the instrument |
//! | `quantity` | buys and sells: shares, above 0 |
//! | `price` | buys and sells: the execution price, above 0 |
//! | `commission` | buys and sells: optional, 0 or more (default 0) |
//! | `amount` | deposits and withdrawals: the money moved, above 0 |
//!
//! Rows are booked in time order (rows with the same time in file order).
//! The cash may never fall below zero (there is no margin), and a sell of
//! more than is held opens a short only where short selling is allowed.
//! Every problem is reported with its line number, and one problem means
//! nothing is read.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::paper::{Fill, Ledger, Side};

/// Most rows a history may have.
pub const MAX_ROWS: usize = 5_000;
/// Most deposits and withdrawals (they are kept with the portfolio).
pub const MAX_FLOWS: usize = 1_000;
/// Largest quantity, price, commission and amount a row may have, so that
/// no sum over a history can overflow.
const MAX_QUANTITY: i64 = 1_000_000_000;
const MAX_PRICE: i64 = 10_000_000;
const MAX_COMMISSION: i64 = 1_000_000;
const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// Most problems listed in one error.
const MAX_PROBLEMS: usize = 20;

/// What a history row did.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// Money in (positive) or out (negative).
    Flow(Decimal),
    Fill(Fill),
}

/// One booked row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub time: DateTime<Utc>,
    pub entry: Entry,
}

/// A history read and booked.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// In booking order.
    pub rows: Vec<Row>,
    /// Cash and positions after every row.
    pub ledger: Ledger,
}

/// Why a history was not read: each problem with its line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct HistoryError {
    pub problems: Vec<String>,
}

impl HistoryError {
    fn one(text: impl Into<String>) -> Self {
        Self {
            problems: vec![text.into()],
        }
    }
}

/// How rows are checked.
pub struct Rules<'a> {
    /// Rows after this are refused (a history is what already happened).
    pub now: DateTime<Utc>,
    pub allow_short: bool,
    /// The canonical form of a symbol, or why it is not one.
    pub symbol: &'a dyn Fn(&str) -> Result<String, String>,
}

const COLUMNS: [&str; 7] = [
    "time",
    "type",
    "symbol",
    "quantity",
    "price",
    "commission",
    "amount",
];

fn time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            format!(
                "time {text:?} is neither RFC 3339 (2024-03-01T14:30:00Z) nor a date (2024-03-01)"
            )
        })
}

fn amount(name: &str, text: &str, zero_ok: bool, most: i64) -> Result<Decimal, String> {
    let x = Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| format!("{name} {text:?} is not a number"))?;
    if x.is_sign_negative() && !x.is_zero() || (!zero_ok && x.is_zero()) {
        return Err(format!(
            "{name} must be {} 0; got {text}",
            if zero_ok { "at least" } else { "above" }
        ));
    }
    if x > Decimal::from(most) {
        return Err(format!("{name} must be at most {most}; got {text}"));
    }
    Ok(x)
}

/// Reads `text` (see the module docs) and books it on an empty ledger.
pub fn read(text: &str, rules: &Rules<'_>) -> Result<History, HistoryError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| HistoryError::one(format!("line 1: {e}")))?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let mut at = [None; COLUMNS.len()];
    for (i, name) in header.iter().enumerate() {
        match COLUMNS.iter().position(|c| c == name) {
            Some(c) if at[c].is_none() => at[c] = Some(i),
            Some(_) => {
                return Err(HistoryError::one(format!(
                    "line 1: column {name:?} appears twice"
                )));
            }
            None => {
                return Err(HistoryError::one(format!(
                    "line 1: unknown column {name:?}; the columns are {}",
                    COLUMNS.join(", ")
                )));
            }
        }
    }
    for required in ["time", "type"] {
        if !header.iter().any(|h| h == required) {
            return Err(HistoryError::one(format!(
                "line 1: the header needs a {required:?} column (columns: {})",
                COLUMNS.join(", ")
            )));
        }
    }
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("line {line}: {e}"));
                break;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if rows.len() >= MAX_ROWS {
            return Err(HistoryError::one(format!(
                "line {line}: a history has at most {MAX_ROWS} rows"
            )));
        }
        let fields = Fields {
            at: &at,
            record: &record,
        };
        match row(line, &fields, rules) {
            Ok(r) => rows.push(r),
            Err(e) => problems.push(format!("line {line}: {e}")),
        }
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
    }
    let flows = rows
        .iter()
        .filter(|r| matches!(r.entry, Entry::Flow(_)))
        .count();
    if flows > MAX_FLOWS {
        problems.push(format!(
            "the history has {flows} deposits and withdrawals; at most {MAX_FLOWS} are kept with a portfolio"
        ));
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push("the history has no rows after its header".into());
    }
    if !problems.is_empty() {
        return Err(HistoryError { problems });
    }
    rows.sort_by_key(|r| r.time);
    let ledger = book(&rows, rules.allow_short)?;
    Ok(History { rows, ledger })
}

/// One record's cells by column name (empty where the column is absent).
struct Fields<'r> {
    at: &'r [Option<usize>; COLUMNS.len()],
    record: &'r csv::StringRecord,
}

impl<'r> Fields<'r> {
    fn get(&self, name: &str) -> &'r str {
        COLUMNS
            .iter()
            .position(|c| *c == name)
            .and_then(|c| self.at.get(c).copied().flatten())
            .and_then(|i| self.record.get(i))
            .unwrap_or("")
    }
}

fn row(line: u64, fields: &Fields<'_>, rules: &Rules<'_>) -> Result<Row, String> {
    let field = |name: &str| fields.get(name);
    let t = time(field("time"))?;
    if t.timestamp() < 0 {
        return Err(format!("time {} is before 1970", field("time")));
    }
    if t > rules.now {
        return Err(format!(
            "time {} is in the future; a history holds what already happened",
            field("time")
        ));
    }
    let kind = field("type").to_ascii_lowercase();
    let unused = |names: &[&str]| -> Result<(), String> {
        for n in names {
            if !field(n).is_empty() {
                return Err(format!("a {kind} has no {n} (leave it empty)"));
            }
        }
        Ok(())
    };
    let entry = match kind.as_str() {
        "deposit" | "withdrawal" => {
            unused(&["symbol", "quantity", "price", "commission"])?;
            let a = amount("amount", field("amount"), false, MAX_AMOUNT)?;
            Entry::Flow(if kind == "deposit" { a } else { -a })
        }
        "buy" | "sell" => {
            unused(&["amount"])?;
            let symbol = (rules.symbol)(field("symbol"))?;
            let commission = match field("commission") {
                "" => Decimal::ZERO,
                c => amount("commission", c, true, MAX_COMMISSION)?,
            };
            Entry::Fill(Fill {
                order_id: format!("imp_{line:06}"),
                symbol,
                side: if kind == "buy" { Side::Buy } else { Side::Sell },
                quantity: amount("quantity", field("quantity"), false, MAX_QUANTITY)?,
                price: amount("price", field("price"), false, MAX_PRICE)?,
                commission,
            })
        }
        "" => return Err("type is empty; it is deposit, withdrawal, buy or sell".into()),
        other => {
            return Err(format!(
                "type {other:?} is not deposit, withdrawal, buy or sell"
            ));
        }
    };
    Ok(Row {
        line,
        time: t,
        entry,
    })
}

fn book(rows: &[Row], allow_short: bool) -> Result<Ledger, HistoryError> {
    let mut ledger = Ledger::default();
    for r in rows {
        let at = |text: String| HistoryError::one(format!("line {}: {text}", r.line));
        match &r.entry {
            Entry::Flow(a) => ledger.cash += *a,
            Entry::Fill(f) => {
                let held = ledger
                    .positions
                    .get(&f.symbol)
                    .map_or(Decimal::ZERO, |p| p.quantity);
                if f.side == Side::Sell && !allow_short && f.quantity > held.max(Decimal::ZERO) {
                    return Err(at(format!(
                        "selling {} {} when {held} are held would open a short, and this portfolio does not allow short selling (limits.allow_short)",
                        f.quantity, f.symbol
                    )));
                }
                ledger.apply(f);
            }
        }
        if ledger.cash.is_sign_negative() && !ledger.cash.is_zero() {
            return Err(at(format!(
                "the cash would be {} after this row (as of {}); there is no margin, so a deposit must come first",
                ledger.cash.round_dp(2),
                r.time.format("%Y-%m-%d %H:%M:%S UTC")
            )));
        }
    }
    ledger
        .positions
        .retain(|_, p| !p.quantity.is_zero() || !p.realized_pnl.is_zero());
    Ok(ledger)
}

/// The deposits and withdrawals of a history, in booking order.
pub fn flows(h: &History) -> Vec<(DateTime<Utc>, Decimal)> {
    h.rows
        .iter()
        .filter_map(|r| match r.entry {
            Entry::Flow(a) => Some((r.time, a)),
            Entry::Fill(_) => None,
        })
        .collect()
}

/// The executions of a history, in booking order.
pub fn fills(h: &History) -> Vec<(DateTime<Utc>, Fill)> {
    h.rows
        .iter()
        .filter_map(|r| match &r.entry {
            Entry::Fill(f) => Some((r.time, f.clone())),
            Entry::Flow(_) => None,
        })
        .collect()
}

/// Cash moved by each symbol's trades (buys and commissions less sells).
pub fn trade_cash(h: &History) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for (_, f) in fills(h) {
        *out.entry(f.symbol.clone()).or_insert(Decimal::ZERO) +=
            f.side.sign() * f.quantity * f.price + f.commission;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn upper(s: &str) -> Result<String, String> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            Err(format!("symbol {s:?} is not a ticker"))
        } else {
            Ok(s.to_ascii_uppercase())
        }
    }

    fn rules(allow_short: bool) -> Rules<'static> {
        Rules {
            now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            allow_short,
            symbol: &upper,
        }
    }

    #[test]
    fn a_history_books_flows_and_fills_in_time_order() {
        let text = "Time,Type,Symbol,Quantity,Price,Commission,Amount\n\
                    2025-03-03,buy,aapl,10,100,1,\n\
                    2025-03-01,deposit,,,,,5000\n\
                    2025-03-05T15:00:00Z,sell,AAPL,4,110,1,\n\
                    2025-03-06,withdrawal,,,,,500\n";
        let h = read(text, &rules(false)).unwrap();
        assert_eq!(
            h.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [3, 2, 4, 5]
        );
        // 5000 - 1001 + 439 - 500
        assert_eq!(h.ledger.cash, Decimal::from(3938));
        let p = &h.ledger.positions["AAPL"];
        assert_eq!(p.quantity, Decimal::from(6));
        assert_eq!(p.realized_pnl, Decimal::from(40));
        assert_eq!(h.ledger.commissions, Decimal::from(2));
        assert_eq!(flows(&h).len(), 2);
        assert_eq!(fills(&h)[0].1.order_id, "imp_000002");
        assert_eq!(trade_cash(&h)["AAPL"], Decimal::from(1001 - 439));
    }

    #[test]
    fn every_bad_line_is_named_and_nothing_is_read() {
        let text = "time,type,symbol,quantity,price,amount\n\
                    2025-03-01,deposit,,,,5000\n\
                    2025-13-01,deposit,,,,5\n\
                    2025-03-02,buy,AAPL,-3,100,\n\
                    2025-03-02,dividend,,,,4\n\
                    2025-03-02,deposit,AAPL,,,4\n\
                    2030-01-01,deposit,,,,4\n";
        let e = read(text, &rules(false)).unwrap_err();
        let lines: Vec<&str> = e
            .problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            lines,
            ["line 3", "line 4", "line 5", "line 6", "line 7"],
            "{e}"
        );
        assert!(e.problems[1].contains("quantity must be above 0"), "{e}");
        assert!(e.problems[4].contains("future"), "{e}");
    }

    #[test]
    fn cash_below_zero_and_unallowed_shorts_are_refused_at_their_line() {
        let over = "time,type,symbol,quantity,price,amount\n\
                    2025-03-01,deposit,,,,1000\n\
                    2025-03-02,buy,AAPL,20,100,\n";
        let e = read(over, &rules(false)).unwrap_err();
        assert!(
            e.to_string().starts_with("line 3: the cash would be -1000"),
            "{e}"
        );
        let short = "time,type,symbol,quantity,price,amount\n\
                     2025-03-01,deposit,,,,1000\n\
                     2025-03-02,sell,AAPL,2,100,\n";
        let e = read(short, &rules(false)).unwrap_err();
        assert!(e.to_string().starts_with("line 3: selling 2 AAPL"), "{e}");
        let huge = "time,type,symbol,quantity,price,amount\n\
                    1969-12-31,deposit,,,,1000\n\
                    2025-03-02,buy,AAPL,2000000000,100,\n\
                    2025-03-02,deposit,,,,99999999999999999\n";
        let e = read(huge, &rules(false)).unwrap_err();
        assert!(
            e.problems[0].starts_with("line 2: time 1969-12-31 is before 1970"),
            "{e}"
        );
        assert!(e.problems[1].contains("quantity must be at most"), "{e}");
        assert!(e.problems[2].contains("amount must be at most"), "{e}");
        let h = read(short, &rules(true)).unwrap();
        assert_eq!(h.ledger.positions["AAPL"].quantity, Decimal::from(-2));
        assert_eq!(h.ledger.cash, Decimal::from(1200));
    }

    #[test]
    fn the_header_must_name_known_columns() {
        let e = read("when,type\n2025-01-01,deposit\n", &rules(false)).unwrap_err();
        assert!(e.to_string().contains("unknown column \"when\""), "{e}");
        let e = read("time,type\n", &rules(false)).unwrap_err();
        assert!(e.to_string().contains("no rows"), "{e}");
        let e = read("time,type,amount\n2025-01-01,deposit\n", &rules(false)).unwrap_err();
        assert!(e.to_string().starts_with("line 2:"), "{e}");
    }
}
