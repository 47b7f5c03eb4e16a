//! Timestamps as exporters write them. Everything becomes UTC; a timestamp
//! without an offset is taken to be UTC already, because guessing the
//! exchange's zone from a file would silently shift every bar.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// How `a/b/YYYY` dates read in one file. A single date like `03/04/2024`
/// cannot say whether it is March or April, but a file can: any first part
/// above 12 proves day-first, any second part above 12 proves month-first.
/// Files where neither happens are refused rather than guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlashOrder {
    MonthFirst,
    DayFirst,
    Undecided,
    Conflicting,
}

impl SlashOrder {
    pub(crate) fn detect<'a>(times: impl IntoIterator<Item = &'a str>) -> Self {
        let (mut month_first, mut day_first) = (false, false);
        for t in times {
            if let Some((a, b, _)) = slash_parts(split_date_time(t.trim()).0) {
                day_first |= a > 12;
                month_first |= b > 12;
            }
        }
        match (month_first, day_first) {
            (true, false) => Self::MonthFirst,
            (false, true) => Self::DayFirst,
            (false, false) => Self::Undecided,
            (true, true) => Self::Conflicting,
        }
    }
}

/// True when `s` has the shape of a timestamp this module reads, whatever
/// the file's slash order; used to tell data rows from header rows.
pub(crate) fn looks_like_time(s: &str) -> bool {
    parse_time(s, SlashOrder::MonthFirst).is_ok() || parse_time(s, SlashOrder::DayFirst).is_ok()
}

pub(crate) fn parse_time(raw: &str, slash: SlashOrder) -> Result<DateTime<Utc>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("time is empty".to_string());
    }
    if let Some(t) = parse_epoch(s)? {
        return Ok(t);
    }
    let (date_part, time_part) = split_date_time(s);
    let date = parse_date(date_part, slash).map_err(|e| format!("time {s:?}: {e}"))?;
    let Some(time_part) = time_part else {
        return Ok(Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)));
    };
    let (clock, offset) = split_offset(time_part).map_err(|e| format!("time {s:?}: {e}"))?;
    let clock = ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(clock, f).ok())
        .ok_or_else(|| {
            format!("time {s:?}: {clock:?} is not a time of day (use HH:MM or HH:MM:SS)")
        })?;
    let local = NaiveDateTime::new(date, clock);
    let utc = match offset {
        None => Utc.from_utc_datetime(&local),
        Some(offset) => offset
            .from_local_datetime(&local)
            .single()
            .ok_or_else(|| format!("time {s:?} does not exist"))?
            .with_timezone(&Utc),
    };
    Ok(utc)
}

/// Digits only: `YYYYMMDD` when there are exactly eight (epoch seconds of that
/// size would be 1970-73, which no market file contains), otherwise epoch
/// seconds, milliseconds, microseconds or nanoseconds told apart by magnitude.
/// 1e11 seconds is the year 5138 while 1e11 ms is 1973, so the ranges cannot
/// overlap for any real date.
fn parse_epoch(s: &str) -> Result<Option<DateTime<Utc>>, String> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    if s.len() == 8 {
        let date = NaiveDate::parse_from_str(s, "%Y%m%d").map_err(|_| {
            format!("time {s:?}: 8 digits are read as YYYYMMDD and this is not a valid date")
        })?;
        return Ok(Some(Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))));
    }
    let v: i64 = s
        .parse()
        .map_err(|_| format!("time {s:?} is too large for an epoch timestamp"))?;
    let t = match v {
        0..100_000_000_000 => DateTime::from_timestamp(v, 0),
        100_000_000_000..100_000_000_000_000 => DateTime::from_timestamp_millis(v),
        100_000_000_000_000..100_000_000_000_000_000 => DateTime::from_timestamp_micros(v),
        _ => Some(DateTime::from_timestamp_nanos(v)),
    };
    t.map(Some)
        .ok_or_else(|| format!("time {s:?} is out of range for an epoch timestamp"))
}

/// Splits `2024-01-02T15:30:00Z` or `2024-01-02 15:30` into date and clock.
fn split_date_time(s: &str) -> (&str, Option<&str>) {
    match s.split_once(['T', 't', ' ']) {
        Some((date, rest)) => {
            let rest = rest.trim();
            (date, (!rest.is_empty()).then_some(rest))
        }
        None => (s, None),
    }
}

fn parse_date(s: &str, slash: SlashOrder) -> Result<NaiveDate, String> {
    if let Some((a, b, year)) = slash_parts(s) {
        let (month, day) = match slash {
            SlashOrder::MonthFirst => (a, b),
            SlashOrder::DayFirst => (b, a),
            SlashOrder::Undecided => {
                return Err(format!(
                    "date {s:?} could be MM/DD/YYYY or DD/MM/YYYY and no date in the file tells which; \
                     write dates as YYYY-MM-DD"
                ));
            }
            SlashOrder::Conflicting => {
                return Err(format!(
                    "date {s:?}: the file mixes MM/DD/YYYY and DD/MM/YYYY dates; write dates as YYYY-MM-DD"
                ));
            }
        };
        return NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| format!("{s:?} is not a valid date"));
    }
    // Year first, with '-', '/' or '.' (MetaTrader writes 2024.01.02).
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    if let [y, m, d] = parts[..]
        && y.len() == 4
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse())
    {
        return NaiveDate::from_ymd_opt(y, m, d)
            .ok_or_else(|| format!("{s:?} is not a valid date"));
    }
    Err(format!(
        "{s:?} is not a date (use YYYY-MM-DD, an ISO datetime or epoch seconds/milliseconds)"
    ))
}

/// `a/b/YYYY` with one- or two-digit parts.
fn slash_parts(s: &str) -> Option<(u32, u32, i32)> {
    let parts: Vec<&str> = s.split('/').collect();
    let [a, b, y] = parts[..] else { return None };
    let short = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit());
    if !short(a) || !short(b) || y.len() != 4 || !y.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?, y.parse().ok()?))
}

/// Separates `15:30:00+02:00`, `15:30:00Z` or `15:30 UTC` into clock and offset.
fn split_offset(s: &str) -> Result<(&str, Option<FixedOffset>), String> {
    for utc in ["Z", "z", "UTC", "GMT"] {
        if let Some(clock) = s.strip_suffix(utc) {
            return Ok((clock.trim(), FixedOffset::east_opt(0)));
        }
    }
    let Some((clock, offset)) = s.rfind(['+', '-']).and_then(|i| s.split_at_checked(i)) else {
        return Ok((s, None));
    };
    let malformed = || format!("offset {offset:?} is not +HH:MM, +HHMM or +HH");
    let (sign, rest) = match offset.split_at_checked(1) {
        Some(("-", rest)) => (-1, rest),
        Some((_, rest)) => (1, rest),
        None => return Err(malformed()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let (hh, mm) = match digits.len() {
        2 => (digits.as_str(), "0"),
        4 => digits.split_at_checked(2).ok_or_else(malformed)?,
        _ => return Err(malformed()),
    };
    let (Ok(hh), Ok(mm)) = (hh.parse::<i32>(), mm.parse::<i32>()) else {
        return Err(malformed());
    };
    let seconds = hh
        .checked_mul(3600)
        .zip(mm.checked_mul(60))
        .and_then(|(h, m)| h.checked_add(m))
        .and_then(|v| v.checked_mul(sign));
    let offset = seconds
        .and_then(FixedOffset::east_opt)
        .ok_or_else(|| format!("offset {offset:?} is out of range"))?;
    Ok((clock.trim(), Some(offset)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn parse(s: &str) -> DateTime<Utc> {
        parse_time(s, SlashOrder::Undecided).unwrap()
    }

    #[test]
    fn iso_dates_and_datetimes() {
        assert_eq!(parse("2024-01-02"), utc("2024-01-02T00:00:00Z"));
        assert_eq!(parse("2024-01-02 15:30:00"), utc("2024-01-02T15:30:00Z"));
        assert_eq!(parse("2024-01-02T15:30:00"), utc("2024-01-02T15:30:00Z"));
        assert_eq!(parse("2024-01-02T15:30:00Z"), utc("2024-01-02T15:30:00Z"));
        assert_eq!(
            parse("2024-01-02T15:30:00.250Z"),
            utc("2024-01-02T15:30:00.25Z")
        );
        assert_eq!(parse("2024-01-02 15:30"), utc("2024-01-02T15:30:00Z"));
        assert_eq!(
            parse("2024-01-02T15:30:00+02:00"),
            utc("2024-01-02T13:30:00Z")
        );
        assert_eq!(
            parse("2024-01-02 09:30:00-05:00"),
            utc("2024-01-02T14:30:00Z")
        );
        assert_eq!(
            parse("2024-01-02T15:30:00+0200"),
            utc("2024-01-02T13:30:00Z")
        );
        assert_eq!(
            parse("2024-01-02 15:30:00 UTC"),
            utc("2024-01-02T15:30:00Z")
        );
        assert_eq!(parse("2024.01.02 15:30"), utc("2024-01-02T15:30:00Z"));
        assert_eq!(parse("2024/1/2"), utc("2024-01-02T00:00:00Z"));
        assert_eq!(parse("20240102"), utc("2024-01-02T00:00:00Z"));
    }

    #[test]
    fn offsets_as_pandas_and_iso_write_them_become_utc() {
        assert_eq!(
            parse("2024-01-02 20:00:00-05:00"),
            utc("2024-01-03T01:00:00Z")
        );
        assert_eq!(
            parse("2024-01-02 00:00:00+05:30"),
            utc("2024-01-01T18:30:00Z")
        );
        assert_eq!(
            parse("2024-01-02 09:30:00.500-04:00"),
            utc("2024-01-02T13:30:00.5Z")
        );
        assert_eq!(parse("2024-01-02T09:30:00+01"), utc("2024-01-02T08:30:00Z"));
        assert_eq!(parse("2024-01-02T09:30:00z"), utc("2024-01-02T09:30:00Z"));
    }

    #[test]
    fn epochs_by_magnitude() {
        assert_eq!(parse("1704209400"), utc("2024-01-02T15:30:00Z"));
        assert_eq!(parse("1704209400000"), utc("2024-01-02T15:30:00Z"));
        assert_eq!(parse("1704209400000000"), utc("2024-01-02T15:30:00Z"));
        assert_eq!(parse("1704209400000000000"), utc("2024-01-02T15:30:00Z"));
    }

    #[test]
    fn slash_dates_need_the_file_to_decide() {
        let mdy = parse_time("01/02/2024", SlashOrder::MonthFirst).unwrap();
        let dmy = parse_time("01/02/2024", SlashOrder::DayFirst).unwrap();
        assert_eq!(mdy, utc("2024-01-02T00:00:00Z"));
        assert_eq!(dmy, utc("2024-02-01T00:00:00Z"));
        assert!(parse_time("01/02/2024", SlashOrder::Undecided).is_err());
        assert_eq!(
            SlashOrder::detect(["01/02/2024", "01/13/2024"]),
            SlashOrder::MonthFirst
        );
        assert_eq!(
            SlashOrder::detect(["01/02/2024", "13/01/2024"]),
            SlashOrder::DayFirst
        );
        assert_eq!(
            SlashOrder::detect(["01/02/2024", "02/01/2024"]),
            SlashOrder::Undecided
        );
        assert_eq!(
            SlashOrder::detect(["13/01/2024", "01/13/2024"]),
            SlashOrder::Conflicting
        );
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-02-30",
            "20241301",
            "2024-01-02 25:00",
            "1/2/24",
        ] {
            assert!(
                parse_time(bad, SlashOrder::MonthFirst).is_err(),
                "{bad:?} should be refused"
            );
        }
        // Not ASCII digits in an offset: refused, never a panic on a char boundary.
        assert!(parse_time("2024-01-02 15:30+1\u{e9}1", SlashOrder::MonthFirst).is_err());
        assert!(parse_time("2024-01-02 15:30+", SlashOrder::MonthFirst).is_err());
        assert!(!looks_like_time("Date"));
        assert!(looks_like_time("12/31/2023"));
    }
}
