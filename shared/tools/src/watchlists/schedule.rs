//! Scan schedules in EventBridge Scheduler's syntax, all in UTC:
//! `rate(N minute|minutes|hour|hours|day|days)` and
//! `cron(minutes hours day-of-month month day-of-week year)` with `*`, `?`,
//! numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month names
//! JAN-DEC and day names SUN-SAT (1-7, Sunday = 1). `L`, `W` and `#` are
//! refused with a message saying so.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

use crate::error::ToolError;

/// The shortest rate: scans faster than this compete with the data feed.
pub const MIN_RATE_MINUTES: i64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Rate(Duration),
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    years: Option<Vec<i32>>,
}

fn invalid(expr: &str, why: &str) -> ToolError {
    ToolError::invalid(format!(
        "schedule {expr:?}: {why}; write rate(15 minutes) or cron(0 21 ? * MON-FRI *) (minutes hours day-of-month month day-of-week year, UTC)"
    ))
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A bad token's message (L, W and # are named as unsupported).
fn bad_value(token: &str) -> String {
    if token.contains(['L', 'W', '#']) && token.len() <= 3 {
        format!("{token:?}: L, W and # are not supported")
    } else {
        format!("bad value {token:?}")
    }
}

fn value(token: &str, names: &[&str], offset: u32) -> Option<u32> {
    if let Ok(n) = token.parse::<u32>() {
        return Some(n);
    }
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(token))
        .and_then(|i| u32::try_from(i).ok())
        .map(|i| i.saturating_add(offset))
}

/// One field as a membership table over `lo..=hi`.
fn field(
    expr: &str,
    text: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
    offset: u32,
) -> Result<Vec<bool>, ToolError> {
    let size = usize::try_from(hi.saturating_add(1)).unwrap_or(0);
    let mut set = vec![false; size];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| invalid(expr, &format!("bad step in {part:?}")))?,
            ),
            None => (part, 1),
        };
        let (a, b) = if range == "*" || range == "?" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, names, offset).ok_or_else(|| invalid(expr, &bad_value(a)))?,
                value(b, names, offset).ok_or_else(|| invalid(expr, &bad_value(b)))?,
            )
        } else {
            let v = value(range, names, offset).ok_or_else(|| invalid(expr, &bad_value(range)))?;
            // `5/15`: from 5 to the end in steps.
            (v, if part.contains('/') { hi } else { v })
        };
        if a < lo || b > hi || a > b {
            return Err(invalid(expr, &format!("{part:?} is outside {lo}-{hi}")));
        }
        let mut v = a;
        while v <= b {
            if let Some(slot) = set.get_mut(usize::try_from(v).unwrap_or(usize::MAX)) {
                *slot = true;
            }
            v = v.saturating_add(step);
        }
    }
    Ok(set)
}

fn is(set: &[bool], v: u32) -> bool {
    set.get(usize::try_from(v).unwrap_or(usize::MAX))
        .copied()
        .unwrap_or(false)
}

impl Schedule {
    pub fn parse(expr: &str) -> Result<Self, ToolError> {
        let text = expr.trim();
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            let (n, unit) = inner
                .trim()
                .split_once(' ')
                .ok_or_else(|| invalid(expr, "a rate is a number and a unit"))?;
            let n: i64 = n
                .parse()
                .map_err(|_| invalid(expr, "the rate is not a whole number"))?;
            let minutes = match unit.trim() {
                "minute" | "minutes" => Some(n),
                "hour" | "hours" => n.checked_mul(60),
                "day" | "days" => n.checked_mul(1440),
                _ => None,
            }
            .ok_or_else(|| invalid(expr, "the unit is minute(s), hour(s) or day(s)"))?;
            if !(MIN_RATE_MINUTES..=366 * 1440).contains(&minutes) {
                return Err(invalid(expr, "a rate is 1 minute to 366 days"));
            }
            return Ok(Self::Rate(Duration::minutes(minutes)));
        }
        let inner = text
            .strip_prefix("cron(")
            .and_then(|t| t.strip_suffix(')'))
            .ok_or_else(|| invalid(expr, "it is neither rate(...) nor cron(...)"))?;
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [mi, h, dom, mon, dow, year] = fields.as_slice() else {
            return Err(invalid(expr, "a cron expression has 6 fields"));
        };
        if *dom != "?" && *dow != "?" && !(*dom == "*" || *dow == "*") {
            return Err(invalid(
                expr,
                "give day-of-month or day-of-week, the other as ?",
            ));
        }
        let years = if *year == "*" {
            None
        } else {
            let set = field(expr, year, 1970, 2199, &[], 0)?;
            Some(
                set.iter()
                    .enumerate()
                    .filter(|(_, on)| **on)
                    .filter_map(|(y, _)| i32::try_from(y).ok())
                    .collect(),
            )
        };
        Ok(Self::Cron(Box::new(Cron {
            minutes: field(expr, mi, 0, 59, &[], 0)?,
            hours: field(expr, h, 0, 23, &[], 0)?,
            days: field(expr, dom, 1, 31, &[], 0)?,
            months: field(expr, mon, 1, 12, &MONTHS, 1)?,
            weekdays: field(expr, dow, 1, 7, &DAYS, 1)?,
            years,
        })))
    }

    /// The first run strictly after `after`: for a cron, the next whole
    /// minute that matches (within five years; `None` when there is none, a
    /// year list in the past); for a rate, `after` plus the rate.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))?
            .checked_add_signed(Duration::minutes(1))?;
        match self {
            Self::Rate(d) => after.checked_add_signed(*d),
            Self::Cron(c) => {
                let limit = start.checked_add_signed(Duration::days(5 * 366))?;
                let mut t = start;
                while t < limit {
                    let year_ok = c.years.as_ref().is_none_or(|ys| ys.contains(&t.year()));
                    let weekday = t.weekday().num_days_from_sunday().saturating_add(1);
                    let day_ok = is(&c.months, t.month())
                        && is(&c.days, t.day())
                        && is(&c.weekdays, weekday);
                    if !year_ok || !day_ok {
                        // The next day at 00:00.
                        t = t.date_naive().succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc();
                        continue;
                    }
                    if !is(&c.hours, t.hour()) {
                        t = t.with_minute(0)?.checked_add_signed(Duration::hours(1))?;
                        continue;
                    }
                    if is(&c.minutes, t.minute()) {
                        return Some(t);
                    }
                    t = t.checked_add_signed(Duration::minutes(1))?;
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn rates_and_crons_give_the_next_run() {
        let s = Schedule::parse("rate(15 minutes)").unwrap();
        assert_eq!(
            s.next_after(at(2026, 1, 1, 10, 0)),
            Some(at(2026, 1, 1, 10, 15))
        );
        // Weekdays at 21:00: Friday 2026-01-02 after 21:00 goes to Monday.
        let s = Schedule::parse("cron(0 21 ? * MON-FRI *)").unwrap();
        assert_eq!(
            s.next_after(at(2026, 1, 2, 21, 0)),
            Some(at(2026, 1, 5, 21, 0))
        );
        assert_eq!(
            s.next_after(at(2026, 1, 5, 20, 59)),
            Some(at(2026, 1, 5, 21, 0))
        );
        let s = Schedule::parse("cron(*/20 9-10 * * ? *)").unwrap();
        assert_eq!(
            s.next_after(at(2026, 1, 1, 9, 41)),
            Some(at(2026, 1, 1, 10, 0))
        );
        assert_eq!(
            s.next_after(at(2026, 1, 1, 10, 40)),
            Some(at(2026, 1, 2, 9, 0))
        );
        let s = Schedule::parse("cron(30 14 1 JAN,JUL ? *)").unwrap();
        assert_eq!(
            s.next_after(at(2026, 1, 1, 15, 0)),
            Some(at(2026, 7, 1, 14, 30))
        );
        let s = Schedule::parse("cron(0 0 1 1 ? 2020)").unwrap();
        assert_eq!(s.next_after(at(2026, 1, 1, 0, 0)), None);
    }

    #[test]
    fn bad_schedules_say_what_to_write() {
        for bad in [
            "every 5 minutes",
            "rate(0 minutes)",
            "rate(5 weeks)",
            "cron(0 21 * * MON-FRI)",
            "cron(0 25 ? * * *)",
            "cron(0 21 L * ? *)",
            "cron(0 21 1 * MON *)",
        ] {
            let err = Schedule::parse(bad).unwrap_err().to_string();
            assert!(err.contains("rate(15 minutes)"), "{bad}: {err}");
        }
    }
}
