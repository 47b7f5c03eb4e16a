//! Numbers as spreadsheets and data vendors write them.

/// A price: must be present and finite. Thousands separators are accepted
/// because a comma inside a field can only come from a quoted field
/// (`"1,234.5"`), which is how Excel and Investing.com write large values;
/// a leading `$` because Nasdaq.com exports carry one.
pub(crate) fn parse_price(s: &str) -> Result<f64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("is empty".to_string());
    }
    let s = s.strip_prefix('$').unwrap_or(s);
    let plain = strip_thousands(s)?;
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
pub(crate) fn parse_volume(s: &str) -> Result<f64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(0.0);
    }
    let (digits, scale) = match s.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&s[..s.len() - 1], 1e3),
        Some(b'M') => (&s[..s.len() - 1], 1e6),
        Some(b'B') => (&s[..s.len() - 1], 1e9),
        _ => (s, 1.0),
    };
    parse_price(digits).map(|v| v * scale)
}

/// True when `s` reads as a number, for telling a header row from data.
pub(crate) fn is_number(s: &str) -> bool {
    parse_price(s).is_ok()
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
        && groups[1..].iter().all(|g| g.len() == 3)
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
}
