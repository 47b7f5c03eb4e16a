//! Coverage of a stored series: which expected bars are missing.
//!
//! The rule, as `list_series` publishes it: bars are expected every
//! timeframe width. A series with no bar on a Saturday or Sunday (UTC) is on
//! a **weekday** calendar: weekends are not expected, and for intraday bars
//! the overnight close is not either: between two bars of the same UTC date
//! every missing width counts, across dates only whole weekdays with no bar
//! count (each as the most bars the series holds on one date). Any series
//! with weekend bars, and every weekly series, is **continuous**: every
//! missing width counts. A stretch between two consecutive bars is a gap
//! when more than `threshold` expected bars are missing in it.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use gs_domain::Timeframe;
use schemars::JsonSchema;
use serde::Serialize;

/// The calendar the expected bars follow, inferred from the series itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Calendar {
    /// No weekend bars: Saturdays, Sundays and overnight closes are not expected.
    Weekdays,
    /// Bars every width, weekends included (crypto, weekly bars).
    Continuous,
}

/// One missing stretch.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Gap {
    /// Time of the last bar before the gap (RFC 3339, UTC).
    pub after: DateTime<Utc>,
    /// Time of the first bar after the gap (RFC 3339, UTC).
    pub before: DateTime<Utc>,
    /// Expected bars missing between the two.
    pub missing_bars: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Coverage {
    pub calendar: Calendar,
    /// Bars the calendar expects from the first scanned bar to the last.
    pub expected: u64,
    pub missing: u64,
    pub gaps: u64,
    /// The largest gaps, largest first, at most `keep`.
    pub largest: Vec<Gap>,
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Weekdays strictly between two dates (`0` unless `a < b`).
fn weekdays_between(a: NaiveDate, b: NaiveDate) -> u64 {
    let days = b.signed_duration_since(a).num_days().saturating_sub(1);
    let Ok(days) = u64::try_from(days) else {
        return 0;
    };
    let weeks = days.checked_div(7).unwrap_or(0);
    let rest = days.checked_rem(7).unwrap_or(0);
    let mut count = weeks.saturating_mul(5);
    // The remaining (< 7) days follow `a` after the whole weeks, whose
    // weekdays repeat `a`'s: walk them from `a`.
    let mut d = a;
    for _ in 0..rest {
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
        if !is_weekend(d) {
            count = count.saturating_add(1);
        }
    }
    count
}

/// Expected bars missing between consecutive bars `a < b` of width `step` seconds.
fn missing_between(a: DateTime<Utc>, b: DateTime<Utc>, step: i64) -> u64 {
    let delta = b.timestamp().saturating_sub(a.timestamp());
    let slots = delta.checked_div(step).unwrap_or(0).saturating_sub(1);
    u64::try_from(slots).unwrap_or(0)
}

/// Scans time-ordered bar times of one series; `threshold` as in the module doc.
pub(crate) fn scan(
    times: &[DateTime<Utc>],
    timeframe: Timeframe,
    threshold: u64,
    keep: usize,
) -> Coverage {
    let calendar = if timeframe == Timeframe::W1 || times.iter().any(|t| is_weekend(t.date_naive()))
    {
        Calendar::Continuous
    } else {
        Calendar::Weekdays
    };
    let step = timeframe.seconds();
    // Bars on one date, at most: what a missing weekday of intraday bars costs.
    let per_session = if timeframe.seconds() < Timeframe::D1.seconds() {
        times
            .chunk_by(|a, b| a.date_naive() == b.date_naive())
            .map(<[DateTime<Utc>]>::len)
            .max()
            .unwrap_or(1)
    } else {
        1
    };
    let per_session = u64::try_from(per_session).unwrap_or(u64::MAX);
    let mut missing_total = 0_u64;
    let mut gaps = 0_u64;
    let mut largest: Vec<Gap> = Vec::new();
    for pair in times.windows(2) {
        let [a, b] = pair else { continue };
        let missing = match calendar {
            Calendar::Continuous => missing_between(*a, *b, step),
            Calendar::Weekdays => {
                let (da, db) = (a.date_naive(), b.date_naive());
                if timeframe == Timeframe::D1 {
                    weekdays_between(da, db)
                } else if da == db {
                    missing_between(*a, *b, step)
                } else {
                    weekdays_between(da, db).saturating_mul(per_session)
                }
            }
        };
        missing_total = missing_total.saturating_add(missing);
        if missing > threshold {
            gaps = gaps.saturating_add(1);
            let gap = Gap {
                after: *a,
                before: *b,
                missing_bars: missing,
            };
            let at = largest
                .iter()
                .position(|g| g.missing_bars < missing)
                .unwrap_or(largest.len());
            if at < keep {
                largest.insert(at, gap);
                largest.truncate(keep);
            }
        }
    }
    let count = u64::try_from(times.len()).unwrap_or(u64::MAX);
    Coverage {
        calendar,
        expected: count.saturating_add(missing_total),
        missing: missing_total,
        gaps,
        largest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn weekday_counting_spans_weeks() {
        let d = |m, dd| NaiveDate::from_ymd_opt(2024, m, dd).unwrap();
        assert_eq!(weekdays_between(d(1, 5), d(1, 8)), 0); // Fri → Mon
        assert_eq!(weekdays_between(d(1, 5), d(1, 9)), 1); // Fri → Tue
        assert_eq!(weekdays_between(d(1, 1), d(1, 31)), 21);
        assert_eq!(weekdays_between(d(1, 8), d(1, 8)), 0);
        assert_eq!(weekdays_between(d(1, 9), d(1, 8)), 0);
    }

    #[test]
    fn daily_weekday_series_skips_weekends_and_tolerates_one_holiday() {
        // Mon 1 .. Fri 5, Mon 8, (Tue 9 holiday), Wed 10, then nothing until Mon 22.
        let times = [
            day(2024, 1, 1),
            day(2024, 1, 2),
            day(2024, 1, 3),
            day(2024, 1, 4),
            day(2024, 1, 5),
            day(2024, 1, 8),
            day(2024, 1, 10),
            day(2024, 1, 22),
        ];
        let c = scan(&times, Timeframe::D1, 1, 5);
        assert_eq!(c.calendar, Calendar::Weekdays);
        assert_eq!(c.missing, 1 + 7);
        assert_eq!(c.gaps, 1);
        assert_eq!(c.expected, 8 + 8);
        assert_eq!(c.largest[0].after, day(2024, 1, 10));
        assert_eq!(c.largest[0].missing_bars, 7);
        let strict = scan(&times, Timeframe::D1, 0, 5);
        assert_eq!(strict.gaps, 2);
    }

    #[test]
    fn continuous_series_count_every_missing_width() {
        let times = [day(2024, 1, 5), day(2024, 1, 6), day(2024, 1, 10)];
        let c = scan(&times, Timeframe::D1, 0, 5);
        assert_eq!(c.calendar, Calendar::Continuous);
        assert_eq!((c.missing, c.gaps), (3, 1));
    }

    #[test]
    fn intraday_overnight_is_not_a_gap_but_a_missing_session_is() {
        let h = |d, hh| Utc.with_ymd_and_hms(2024, 1, d, hh, 0, 0).unwrap();
        // Tue 14-16h, Wed 14-16h minus 15h, Fri 14-16h (Thursday missing).
        let times = [
            h(2, 14),
            h(2, 15),
            h(2, 16),
            h(3, 14),
            h(3, 16),
            h(5, 14),
            h(5, 15),
            h(5, 16),
        ];
        let c = scan(&times, Timeframe::H1, 0, 1);
        assert_eq!(c.calendar, Calendar::Weekdays);
        assert_eq!(c.missing, 1 + 3);
        assert_eq!(c.gaps, 2);
        assert_eq!(c.largest.len(), 1);
        assert_eq!(c.largest[0].missing_bars, 3);
    }
}
