//! OCC option symbols (the Options Symbology Initiative form): the root
//! padded with spaces to 6 characters, the expiry as `yymmdd`, `C` or `P`,
//! and the strike times 1000 in 8 digits.
//!
//! `AAPL  250117C00150000` is the AAPL call expiring 2025-01-17 struck at
//! 150.0. [`parse`] also takes the compact form without the padding
//! (`AAPL250117C00150000`) and Polygon's `O:` prefix
//! (`O:AAPL250117C00150000`); [`format`] always writes the padded
//! 21-character form.

use chrono::{Datelike, NaiveDate};

use crate::chain::{Contract, ExerciseStyle, Right};
use crate::import::cut;

/// Characters of the padded form.
pub const OCC_SYMBOL_LEN: usize = 21;
/// Longest root.
pub const MAX_ROOT_LEN: usize = 6;
/// Largest strike the 8 strike digits hold: 99,999.999.
pub const MAX_STRIKE: f64 = 99_999.999;

/// Characters after the root: `yymmdd`, the right, 8 strike digits.
const TAIL_LEN: usize = 15;

/// The fields of one OCC symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct OccSymbol {
    /// The root, upper case: 1 to 6 of `A-Z`, `0-9` and `.`.
    pub underlying: String,
    /// Expiry; the two-digit year `yy` is read as `20yy`.
    pub expiry: NaiveDate,
    pub right: Right,
    /// Strike, a multiple of 0.001, above 0.
    pub strike: f64,
}

impl OccSymbol {
    /// The contract this symbol names, with the given shares per contract
    /// and exercise style (neither is part of the symbol).
    pub fn into_contract(self, multiplier: u32, style: ExerciseStyle) -> Contract {
        Contract {
            underlying: self.underlying,
            expiry: self.expiry,
            strike: self.strike,
            right: self.right,
            multiplier,
            style,
        }
    }
}

impl std::fmt::Display for OccSymbol {
    /// The padded 21-character form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&write_symbol(
            &self.underlying,
            self.expiry,
            self.right,
            self.strike,
        ))
    }
}

impl std::str::FromStr for OccSymbol {
    type Err = OccError;

    /// As [`parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Why a text is not an OCC symbol. Each variant quotes the input as given,
/// cut to 60 characters (`input`, shown escaped: it is untrusted text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OccError {
    #[error(
        "OCC symbol {input:?} is empty; expected a root, yymmdd, C or P and the strike x 1000 in 8 digits, as in \"AAPL  250117C00150000\""
    )]
    Empty { input: String },
    #[error(
        "OCC symbol {input:?} is {len} characters, too short: it needs a root of 1 to 6 characters, then yymmdd, C or P and the strike x 1000 in 8 digits (at least 16 characters, as in \"AAPL250117C00150000\")"
    )]
    TooShort { input: String, len: usize },
    #[error(
        "OCC symbol {input:?} is {len} characters, too long: the padded form has 21 (a root padded to 6, yymmdd, C or P, 8 strike digits)"
    )]
    TooLong { input: String, len: usize },
    #[error("OCC symbol {input:?} has no root before the expiry")]
    MissingRoot { input: String },
    #[error(
        "OCC symbol {input:?}: the root {root:?} holds {found:?}; a root is 1 to 6 of A-Z, 0-9 and '.'"
    )]
    BadRoot {
        input: String,
        root: String,
        found: char,
    },
    #[error("OCC symbol {input:?}: the expiry {field:?} is not 6 digits (yymmdd)")]
    BadExpiry { input: String, field: String },
    #[error("OCC symbol {input:?}: the expiry {field:?} (yymmdd) is not a date")]
    InvalidDate { input: String, field: String },
    #[error("OCC symbol {input:?}: expected C or P after the expiry, found {found:?}")]
    BadRight { input: String, found: char },
    #[error("OCC symbol {input:?}: the strike {field:?} is not 8 digits (the strike x 1000)")]
    BadStrike { input: String, field: String },
    #[error("OCC symbol {input:?}: the strike is 0; it must be above 0")]
    ZeroStrike { input: String },
}

/// Writes the padded 21-character OCC symbol of a contract.
///
/// Infallible, so it writes what fits: the strike is rounded to the nearest
/// 1/1000 and kept within the 8 digits (a strike that is not finite or not
/// above 0 writes as `00000000`, one above 99,999.999 as `99999999`); the
/// year is written as its last two digits (only 2000-2099 read back the
/// same); a root longer than 6 characters is written whole, giving a longer
/// text that [`parse`] refuses. Contracts from [`parse`] and from the
/// imports always fit, and round-trip exactly.
pub fn format(contract: &Contract) -> String {
    write_symbol(
        &contract.underlying,
        contract.expiry,
        contract.right,
        contract.strike,
    )
}

fn write_symbol(root: &str, expiry: NaiveDate, right: Right, strike: f64) -> String {
    format!(
        "{root:<6}{:02}{:02}{:02}{}{:08}",
        expiry.year().rem_euclid(100),
        expiry.month(),
        expiry.day(),
        right.letter(),
        strike_thousandths(strike),
    )
}

/// The strike in thousandths, rounded and clamped to 0..=99,999,999.
pub(crate) fn strike_thousandths(strike: f64) -> i64 {
    if !strike.is_finite() || strike <= 0.0 {
        return 0;
    }
    let t = (strike * 1000.0).round();
    if t >= 99_999_999.0 {
        99_999_999
    } else {
        // In range and whole: the cast is exact.
        t as i64
    }
}

/// Whether a text is a root: 1 to 6 of `A-Z`, `0-9` and `.` (upper case).
pub fn valid_root(root: &str) -> bool {
    (1..=MAX_ROOT_LEN).contains(&root.len())
        && root
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.')
}

/// Parses an OCC symbol: the padded form (`AAPL  250117C00150000`), the
/// compact form (`AAPL250117C00150000`), either with an optional `O:`
/// prefix. Surrounding whitespace is ignored, and lower-case letters are
/// read as upper case. The root may be followed by spaces as long as root
/// and spaces take at most 6 characters.
pub fn parse(symbol: &str) -> Result<OccSymbol, OccError> {
    let input = || cut(symbol);
    let trimmed = symbol.trim();
    let body = trimmed
        .strip_prefix("O:")
        .or_else(|| trimmed.strip_prefix("o:"))
        .unwrap_or(trimmed);
    let chars: Vec<char> = body.chars().collect();
    let len = chars.len();
    if len == 0 {
        return Err(OccError::Empty { input: input() });
    }
    if len <= TAIL_LEN {
        return Err(OccError::TooShort {
            input: input(),
            len,
        });
    }
    if len > OCC_SYMBOL_LEN {
        return Err(OccError::TooLong {
            input: input(),
            len,
        });
    }
    let split = len.saturating_sub(TAIL_LEN);
    let (head, tail) = chars.split_at(split);
    let (date_field, rest) = tail.split_at(6);
    let (right_field, strike_field) = rest.split_at(1);

    if !strike_field.iter().all(char::is_ascii_digit) {
        return Err(OccError::BadStrike {
            input: input(),
            field: strike_field.iter().collect(),
        });
    }
    let thousandths = digits_value(strike_field);
    if thousandths == 0 {
        return Err(OccError::ZeroStrike { input: input() });
    }

    let right = match right_field.first() {
        Some('C' | 'c') => Right::Call,
        Some('P' | 'p') => Right::Put,
        Some(other) => {
            return Err(OccError::BadRight {
                input: input(),
                found: *other,
            });
        }
        None => {
            return Err(OccError::TooShort {
                input: input(),
                len,
            });
        }
    };

    if !date_field.iter().all(char::is_ascii_digit) {
        return Err(OccError::BadExpiry {
            input: input(),
            field: date_field.iter().collect(),
        });
    }
    let (yy, md) = date_field.split_at(2);
    let (mm, dd) = md.split_at(2);
    let year = i32::try_from(digits_value(yy))
        .unwrap_or(0)
        .saturating_add(2000);
    let month = u32::try_from(digits_value(mm)).unwrap_or(0);
    let day = u32::try_from(digits_value(dd)).unwrap_or(0);
    let Some(expiry) = NaiveDate::from_ymd_opt(year, month, day) else {
        return Err(OccError::InvalidDate {
            input: input(),
            field: date_field.iter().collect(),
        });
    };

    let root: String = head
        .iter()
        .collect::<String>()
        .trim_end_matches(' ')
        .to_ascii_uppercase();
    if root.is_empty() {
        return Err(OccError::MissingRoot { input: input() });
    }
    if let Some(found) = root
        .chars()
        .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '.'))
    {
        return Err(OccError::BadRoot {
            input: input(),
            root: cut(&root),
            found,
        });
    }

    // At most 8 digits: exact in an f64, and so is the division's rounding.
    let strike = thousandths as f64 / 1000.0;
    Ok(OccSymbol {
        underlying: root,
        expiry,
        right,
        strike,
    })
}

/// The value of ASCII digits (at most 8 here, so no overflow).
fn digits_value(digits: &[char]) -> i64 {
    digits.iter().fold(0i64, |acc, c| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(c.to_digit(10).unwrap_or(0)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn contract(root: &str, expiry: NaiveDate, right: Right, strike: f64) -> Contract {
        Contract {
            underlying: root.into(),
            expiry,
            strike,
            right,
            multiplier: 100,
            style: ExerciseStyle::American,
        }
    }

    #[test]
    fn the_standard_example() {
        let s = parse("AAPL  250117C00150000").unwrap();
        assert_eq!(
            s,
            OccSymbol {
                underlying: "AAPL".into(),
                expiry: date(2025, 1, 17),
                right: Right::Call,
                strike: 150.0,
            }
        );
        assert_eq!(s.to_string(), "AAPL  250117C00150000");
        assert_eq!("AAPL250117C00150000".parse::<OccSymbol>().unwrap(), s);
        let c = s.into_contract(100, ExerciseStyle::American);
        assert_eq!(c, contract("AAPL", date(2025, 1, 17), Right::Call, 150.0));
        assert_eq!(format(&c), "AAPL  250117C00150000");
    }

    #[test]
    fn compact_prefixed_and_lower_case_forms() {
        let want = parse("AAPL  250117C00150000").unwrap();
        for s in [
            "AAPL250117C00150000",
            "O:AAPL250117C00150000",
            "O:AAPL  250117C00150000",
            "  aapl250117c00150000 ",
            "o:AAPL250117C00150000",
            "AAPL 250117C00150000",
        ] {
            assert_eq!(parse(s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn round_trips() {
        let cases = [
            ("SPXW", date(2024, 12, 31), Right::Put, 5_825.0),
            ("BRK.B", date(2026, 6, 18), Right::Call, 462.5),
            ("F", date(2025, 3, 21), Right::Put, 12.345),
            ("GOOGL1", date(2099, 12, 31), Right::Call, 99_999.999),
            ("X", date(2000, 1, 1), Right::Call, 0.001),
            ("QQQ", date(2028, 2, 29), Right::Put, 1.5),
        ];
        for (root, expiry, right, strike) in cases {
            let c = contract(root, expiry, right, strike);
            let text = format(&c);
            assert_eq!(text.len(), OCC_SYMBOL_LEN, "{text}");
            let back = parse(&text).unwrap();
            assert_eq!(back.clone().into_contract(100, ExerciseStyle::American), c);
            assert_eq!(back.to_string(), text);
            let compact = text.replace(' ', "");
            assert_eq!(parse(&compact).unwrap(), back);
        }
        assert_eq!(
            format(&contract("F", date(2025, 3, 21), Right::Put, 12.345)),
            "F     250321P00012345"
        );
    }

    #[test]
    fn format_rounds_and_clamps_the_strike() {
        let d = date(2025, 1, 17);
        let f = |strike| format(&contract("AAPL", d, Right::Call, strike));
        assert_eq!(f(150.0004), "AAPL  250117C00150000");
        assert_eq!(f(150.0006), "AAPL  250117C00150001");
        assert_eq!(f(-1.0), "AAPL  250117C00000000");
        assert_eq!(f(f64::NAN), "AAPL  250117C00000000");
        assert_eq!(f(1e9), "AAPL  250117C99999999");
        assert_eq!(
            format(&contract("TOOLONGX", d, Right::Put, 1.0)),
            "TOOLONGX250117P00001000"
        );
    }

    #[test]
    fn each_error() {
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
            e("      250117C00150000"),
            OccError::TooShort { .. }
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
            e("AAPL  251301C00150000"),
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
        assert!(matches!(
            e("ÄAPL  250117C00150000"),
            OccError::BadRoot { found: 'Ä', .. }
        ));
        assert!(matches!(e(" O:250117C00150000"), OccError::TooShort { .. }));
        assert!(matches!(
            e("O:  250117C00150000"),
            OccError::MissingRoot { .. }
        ));
    }

    #[test]
    fn errors_say_what_is_wrong_and_quote_the_input() {
        let msg = parse("AAPL  250230C00150000").unwrap_err().to_string();
        assert!(msg.contains("\"AAPL  250230C00150000\""), "{msg}");
        assert!(msg.contains("\"250230\""), "{msg}");
        assert!(msg.contains("not a date"), "{msg}");

        let msg = parse("AAPL  250117Q00150000").unwrap_err().to_string();
        assert!(msg.contains("expected C or P"), "{msg}");
        assert!(msg.contains("'Q'"), "{msg}");

        // Long input is cut to 60 characters; control characters are escaped.
        let long = format!("{}\u{7}", "Z".repeat(200));
        let msg = parse(&long).unwrap_err().to_string();
        assert!(msg.contains('…'), "{msg}");
        assert!(!msg.contains(&"Z".repeat(61)), "{msg}");
        let msg = parse("AA\u{1b}PL250117C00150000").unwrap_err().to_string();
        assert!(msg.contains("\\u{1b}"), "{msg}");
        assert!(!msg.contains('\u{1b}'), "{msg}");
    }
}
