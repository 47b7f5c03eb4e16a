use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Bar width. Buckets are aligned to the Unix epoch in UTC (4h bars start at
/// 00:00, 04:00, ...), and weekly bars start on Monday 00:00 UTC as ISO weeks do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Timeframe {
    M1,
    M5,
    M15,
    M30,
    H1,
    H4,
    D1,
    W1,
}

impl Timeframe {
    pub const ALL: [Timeframe; 8] = [
        Self::M1,
        Self::M5,
        Self::M15,
        Self::M30,
        Self::H1,
        Self::H4,
        Self::D1,
        Self::W1,
    ];

    /// Accepts the canonical names and the spellings data vendors commonly use.
    /// `1M` is refused on purpose: it means a month to some and a minute to others.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        let tf = match s {
            "1m" | "1min" => Self::M1,
            "5m" | "5min" => Self::M5,
            "15m" | "15min" => Self::M15,
            "30m" | "30min" => Self::M30,
            "1h" | "1H" | "60m" | "60min" | "hourly" => Self::H1,
            "4h" | "4H" | "240m" => Self::H4,
            "1d" | "1D" | "d" | "D" | "daily" | "1day" => Self::D1,
            "1w" | "1W" | "w" | "W" | "weekly" | "1wk" => Self::W1,
            _ => return Err(DomainError::InvalidTimeframe(raw.to_string())),
        };
        Ok(tf)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::M1 => "1m",
            Self::M5 => "5m",
            Self::M15 => "15m",
            Self::M30 => "30m",
            Self::H1 => "1h",
            Self::H4 => "4h",
            Self::D1 => "1d",
            Self::W1 => "1w",
        }
    }

    pub fn seconds(self) -> i64 {
        match self {
            Self::M1 => 60,
            Self::M5 => 300,
            Self::M15 => 900,
            Self::M30 => 1_800,
            Self::H1 => 3_600,
            Self::H4 => 14_400,
            Self::D1 => 86_400,
            Self::W1 => 604_800,
        }
    }

    pub fn duration(self) -> Duration {
        Duration::seconds(self.seconds())
    }

    /// True when bars of `self` can be built from bars of `finer` by grouping.
    pub fn is_multiple_of(self, finer: Timeframe) -> bool {
        self.seconds() >= finer.seconds() && self.seconds().checked_rem(finer.seconds()) == Some(0)
    }

    /// Start of the bucket of this timeframe that contains `t`.
    pub fn bucket_start(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::W1 => {
                let day = self_floor(t, 86_400);
                let back = i64::from(day.weekday().num_days_from_monday());
                day.checked_sub_signed(Duration::days(back)).unwrap_or(day)
            }
            other => self_floor(t, other.seconds()),
        }
    }
}

fn self_floor(t: DateTime<Utc>, width: i64) -> DateTime<Utc> {
    t.timestamp()
        .checked_div_euclid(width)
        .and_then(|n| n.checked_mul(width))
        .and_then(|secs| Utc.timestamp_opt(secs, 0).single())
        .unwrap_or(t)
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Timeframe {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Timeframe {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Timeframe> for String {
    fn from(value: Timeframe) -> Self {
        value.as_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn parses_canonical_names_and_round_trips() {
        for tf in Timeframe::ALL {
            assert_eq!(Timeframe::parse(tf.as_str()).unwrap(), tf);
        }
        assert_eq!(Timeframe::parse("daily").unwrap(), Timeframe::D1);
        assert!(Timeframe::parse("1M").is_err());
        assert!(Timeframe::parse("2h").is_err());
    }

    #[test]
    fn buckets_align_to_utc_and_iso_weeks() {
        let x = t("2024-03-07T13:47:12Z"); // a Thursday
        assert_eq!(Timeframe::M15.bucket_start(x), t("2024-03-07T13:45:00Z"));
        assert_eq!(Timeframe::H4.bucket_start(x), t("2024-03-07T12:00:00Z"));
        assert_eq!(Timeframe::D1.bucket_start(x), t("2024-03-07T00:00:00Z"));
        assert_eq!(Timeframe::W1.bucket_start(x), t("2024-03-04T00:00:00Z"));
        let monday = t("2024-03-04T00:00:00Z");
        assert_eq!(Timeframe::W1.bucket_start(monday), monday);
    }

    #[test]
    fn multiples() {
        assert!(Timeframe::H4.is_multiple_of(Timeframe::H1));
        assert!(Timeframe::W1.is_multiple_of(Timeframe::D1));
        assert!(!Timeframe::M5.is_multiple_of(Timeframe::H1));
        assert!(Timeframe::D1.is_multiple_of(Timeframe::D1));
    }
}
