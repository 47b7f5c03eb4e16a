//! Numbers as spreadsheets and data vendors write them.

/// The decimal mark of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decimal {
    Point,
    /// European spreadsheets (`185,64`), recognised only in `;`-separated
    /// files: a `,`-separated file cannot hold an unquoted decimal comma.
    Comma,
}

impl Decimal {
    /// Decimal commas only when the file leaves no doubt: some number has a
    /// `,` and none has a `.` (a file with both is read with `.` decimals,
    /// so its `185,64` is refused rather than guessed at).
    pub(crate) fn detect<'a>(numbers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut comma = false;
        for n in numbers {
            if n.contains('.') {
                return Self::Point;
            }
            comma |= n.contains(',');
        }
        if comma { Self::Comma } else { Self::Point }
    }
}

/// A price: must be present and finite. Thousands separators are accepted
/// because a comma inside a field can only come from a quoted field
/// (`"1,234.5"`), which is how Excel and Investing.com write large values;
/// a leading `$` because Nasdaq.com exports carry one.
/// With [`Decimal::Comma`], a number has at most one `,`, its decimal mark.
pub(crate) fn parse_price(s: &str, decimal: Decimal) -> Result<f64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("is empty".to_string());
    }
    let s = s.strip_prefix('$').unwrap_or(s);
    let plain = match decimal {
        Decimal::Point => strip_thousands(s)?,
        Decimal::Comma => match s.matches(',').count() {
            0 | 1 => s.replacen(',', ".", 1),
            _ => {
                return Err(format!(
                    "{s:?} is not a number (this file writes decimals with ',', so a number has at most one ',')"
                ));
            }
        },
    };
    // Rust's float parser accepts "NaN", "inf" and "infinity": those are
    // missing data here, not numbers.
    let v: f64 = plain
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{s:?} is not a finite number"));
    }
    Ok(v)
}

/// A volume: empty means "not reported" and reads as 0, because indices and
/// some FX files leave it blank. `K`/`M`/`B` suffixes (Investing.com's
/// `12.5M`) are expanded.
pub(crate) fn parse_volume(s: &str, decimal: Decimal) -> Result<f64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(0.0);
    }
    let (digits, scale) = [('K', 1e3), ('M', 1e6), ('B', 1e9)]
        .into_iter()
        .find_map(|(suffix, scale)| {
            s.strip_suffix([suffix, suffix.to_ascii_lowercase()])
                .map(|digits| (digits, scale))
        })
        .unwrap_or((s, 1.0));
    parse_price(digits, decimal).map(|v| v * scale)
}

/// True when `s` reads as a number with either decimal mark, for telling a
/// header row from data.
pub(crate) fn is_number(s: &str) -> bool {
    parse_price(s, Decimal::Point).is_ok() || parse_price(s, Decimal::Comma).is_ok()
}

/// Removes thousands separators only where they group digits by three, so a
/// decimal comma (`1,5`, European style) is refused instead of being read as 15.
fn strip_thousands(s: &str) -> Result<String, String> {
    if !s.contains(',') {
        return Ok(s.to_string());
    }
    let unsigned = s.trim_start_matches(['-', '+']);
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let groups: Vec<&str> = integer.split(',').collect();
    let well_grouped = !fraction.contains(',')
        && groups.first().is_some_and(|g| (1..=3).contains(&g.len()))
        && groups.iter().skip(1).all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if !well_grouped {
        return Err(format!(
            "{s:?} is not a number (use '.' for decimals; ',' is only accepted between groups of three digits)"
        ));
    }
    Ok(s.replace(',', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_price(s: &str) -> Result<f64, String> {
        super::parse_price(s, Decimal::Point)
    }

    fn parse_volume(s: &str) -> Result<f64, String> {
        super::parse_volume(s, Decimal::Point)
    }

    #[test]
    fn accepts_plain_grouped_and_dollar_prices() {
        assert_eq!(parse_price("185.64"), Ok(185.64));
        assert_eq!(parse_price(" 1,234.5 "), Ok(1234.5));
        assert_eq!(parse_price("1,234,567"), Ok(1_234_567.0));
        assert_eq!(parse_price("$185.64"), Ok(185.64));
        assert_eq!(parse_price("1e3"), Ok(1000.0));
    }

    #[test]
    fn refuses_missing_and_ambiguous_prices() {
        for bad in [
            "", "null", "NaN", "nan", "inf", "-", "1,5", "12,34.5", "1.234,5", "abc",
        ] {
            assert!(parse_price(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn volume_defaults_to_zero_and_expands_suffixes() {
        assert_eq!(parse_volume(""), Ok(0.0));
        assert_eq!(parse_volume("12.5M"), Ok(12_500_000.0));
        assert_eq!(parse_volume("3k"), Ok(3_000.0));
        assert_eq!(parse_volume("1,000"), Ok(1_000.0));
        assert!(parse_volume("null").is_err());
    }

    #[test]
    fn decimal_commas_only_when_no_number_has_a_point() {
        assert_eq!(Decimal::detect(["185,64", "186", "1000"]), Decimal::Comma);
        assert_eq!(Decimal::detect(["185,64", "186.1"]), Decimal::Point);
        assert_eq!(Decimal::detect(["185", "186"]), Decimal::Point);
        let comma = |s| super::parse_price(s, Decimal::Comma);
        assert_eq!(comma("185,64"), Ok(185.64));
        assert_eq!(comma("-0,5"), Ok(-0.5));
        assert_eq!(comma("$185"), Ok(185.0));
        assert!(comma("1,234,5").is_err());
        assert_eq!(
            super::parse_volume("12,5M", Decimal::Comma),
            Ok(12_500_000.0)
        );
        assert!(is_number("185,64"));
    }
}
