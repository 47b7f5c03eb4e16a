use std::time::Duration;

use crate::AuthError;

/// Parses a token lifetime such as `90s`, `15m`, `1h` or `7d`: a positive whole number and one
/// unit, nothing else, so that `1.5h` or `15` (minutes? seconds?) cannot be misread.
pub fn parse_ttl(s: &str) -> Result<Duration, AuthError> {
    let bad = |reason: &str| AuthError::BadTtl {
        input: s.to_owned(),
        reason: reason.to_owned(),
    };
    const EXPECTED: &str =
        "expected a whole number followed by s, m, h or d, e.g. 90s, 15m, 1h, 7d";

    let Some(unit) = s.chars().last() else {
        return Err(bad(EXPECTED));
    };
    let seconds_per_unit: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 60 * 60,
        'd' => 24 * 60 * 60,
        _ => return Err(bad(EXPECTED)),
    };
    let Some(digits) = s.strip_suffix(unit) else {
        return Err(bad(EXPECTED));
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(EXPECTED));
    }
    let count: u64 = digits.parse().map_err(|_| bad("number too large"))?;
    if count == 0 {
        return Err(bad("a lifetime must be longer than zero"));
    }
    let seconds = count
        .checked_mul(seconds_per_unit)
        .ok_or_else(|| bad("number too large"))?;
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("15m").unwrap(), Duration::from_secs(15 * 60));
        assert_eq!(parse_ttl("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse_ttl("007m").unwrap(), Duration::from_secs(7 * 60));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "s",
            "15",
            "0s",
            "0d",
            "-5m",
            "+5m",
            "1.5h",
            "15 m",
            " 15m",
            "15m ",
            "15M",
            "1w",
            "15ms",
            "1h30m",
            "m15",
            "٣s",
            "99999999999999999999s",
            "213503982334602d",
        ] {
            let err = parse_ttl(bad).expect_err(bad);
            assert!(matches!(err, AuthError::BadTtl { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn error_tells_the_expected_format() {
        let message = parse_ttl("1w").unwrap_err().to_string();
        assert!(
            message.contains("`1w`") && message.contains("15m"),
            "{message}"
        );
    }
}
