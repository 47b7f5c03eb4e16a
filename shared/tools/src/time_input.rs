//! Times as callers write them: RFC 3339, a bare date, or epoch seconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::error::ToolError;

pub fn parse_time(field: &str, raw: &str) -> Result<DateTime<Utc>, ToolError> {
    let s = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(Utc.from_utc_datetime(&t));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Ok(Utc.from_utc_datetime(&t));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)));
    }
    if let Ok(secs) = s.parse::<i64>() {
        return epoch(field, secs);
    }
    Err(ToolError::invalid(format!(
        "{field} {raw:?} is not a time: use RFC 3339 (2024-01-02T15:30:00Z), a date (2024-01-02) or epoch seconds"
    )))
}

pub(crate) fn epoch(field: &str, secs: i64) -> Result<DateTime<Utc>, ToolError> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .ok_or_else(|| ToolError::invalid(format!("{field} {secs} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_forms() {
        let want = Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap();
        assert_eq!(parse_time("start", "2024-01-02").unwrap(), want);
        assert_eq!(parse_time("start", "2024-01-02T00:00:00Z").unwrap(), want);
        assert_eq!(
            parse_time("start", "2024-01-02T01:00:00+01:00").unwrap(),
            want
        );
        assert_eq!(
            parse_time("start", &want.timestamp().to_string()).unwrap(),
            want
        );
        let err = parse_time("start", "yesterday").unwrap_err().to_string();
        assert!(err.contains("start") && err.contains("RFC 3339"), "{err}");
    }
}
