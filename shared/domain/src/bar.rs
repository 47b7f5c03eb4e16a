use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, Timeframe};

/// One OHLCV bar. Fields are private so that every bar in the system has
/// passed [`Bar::new`]: finite, non-negative prices with `low <= open, close <= high`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawBar", into = "RawBar")]
pub struct Bar {
    time: DateTime<Utc>,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

#[derive(Serialize, Deserialize)]
struct RawBar {
    time: DateTime<Utc>,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

impl Bar {
    pub fn new(
        time: DateTime<Utc>,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Result<Self, DomainError> {
        let fail = |reason: String| DomainError::InvalidBar {
            time: time.to_rfc3339(),
            reason,
        };
        for (name, v) in [
            ("open", open),
            ("high", high),
            ("low", low),
            ("close", close),
            ("volume", volume),
        ] {
            if !v.is_finite() {
                return Err(fail(format!("{name} is not a finite number")));
            }
            if v < 0.0 {
                return Err(fail(format!("{name} is negative ({v})")));
            }
        }
        if high < open.max(close) {
            return Err(fail(format!(
                "high {high} is below max(open, close) = {}",
                open.max(close)
            )));
        }
        if low > open.min(close) {
            return Err(fail(format!(
                "low {low} is above min(open, close) = {}",
                open.min(close)
            )));
        }
        Ok(Self {
            time,
            open,
            high,
            low,
            close,
            volume,
        })
    }

    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }
    pub fn open(&self) -> f64 {
        self.open
    }
    pub fn high(&self) -> f64 {
        self.high
    }
    pub fn low(&self) -> f64 {
        self.low
    }
    pub fn close(&self) -> f64 {
        self.close
    }
    pub fn volume(&self) -> f64 {
        self.volume
    }
}

impl TryFrom<RawBar> for Bar {
    type Error = DomainError;
    fn try_from(r: RawBar) -> Result<Self, Self::Error> {
        Bar::new(r.time, r.open, r.high, r.low, r.close, r.volume)
    }
}

impl From<Bar> for RawBar {
    fn from(b: Bar) -> Self {
        RawBar {
            time: b.time,
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: b.volume,
        }
    }
}

/// Groups time-ordered `bars` of timeframe `from` into bars of the coarser
/// timeframe `to`. A result bar is stamped with its bucket start and is
/// partial when the source does not cover the whole bucket (the last one often is).
pub fn resample(bars: &[Bar], from: Timeframe, to: Timeframe) -> Result<Vec<Bar>, DomainError> {
    if !to.is_multiple_of(from) {
        return Err(DomainError::InvalidResample {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let mut out: Vec<Bar> = Vec::new();
    let mut prev: Option<DateTime<Utc>> = None;
    for bar in bars {
        if prev.is_some_and(|p| p >= bar.time) {
            return Err(DomainError::Unordered(bar.time.to_rfc3339()));
        }
        prev = Some(bar.time);
        let bucket = to.bucket_start(bar.time);
        match out.last_mut() {
            Some(acc) if acc.time == bucket => {
                acc.high = acc.high.max(bar.high);
                acc.low = acc.low.min(bar.low);
                acc.close = bar.close;
                acc.volume += bar.volume;
            }
            _ => out.push(Bar {
                time: bucket,
                ..*bar
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 2, h, m, 0).unwrap()
    }

    #[test]
    fn refuses_inconsistent_bars() {
        assert!(Bar::new(at(0, 0), 10.0, 9.0, 8.0, 9.5, 1.0).is_err()); // high < open
        assert!(Bar::new(at(0, 0), 10.0, 11.0, 10.5, 10.2, 1.0).is_err()); // low > open
        assert!(Bar::new(at(0, 0), 10.0, 11.0, 9.0, f64::NAN, 1.0).is_err());
        assert!(Bar::new(at(0, 0), 10.0, 11.0, 9.0, 10.0, -1.0).is_err());
        assert!(Bar::new(at(0, 0), 10.0, 11.0, 9.0, 10.0, 0.0).is_ok());
    }

    #[test]
    fn deserialising_validates_too() {
        let b = Bar::new(at(0, 0), 10.0, 11.0, 9.0, 10.5, 100.0).unwrap();
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Bar>(&json).unwrap(), b);
        let bad =
            r#"{"time":"2024-01-02T00:00:00Z","open":10,"high":9,"low":8,"close":9,"volume":1}"#;
        assert!(serde_json::from_str::<Bar>(bad).is_err());
    }

    #[test]
    fn resamples_ohlcv_by_bucket() {
        let m = |h, mi, o, hi, lo, c, v| Bar::new(at(h, mi), o, hi, lo, c, v).unwrap();
        let bars = [
            m(9, 30, 10.0, 10.5, 9.9, 10.2, 100.0),
            m(9, 45, 10.2, 10.8, 10.1, 10.7, 150.0),
            m(10, 0, 10.7, 10.9, 10.3, 10.4, 120.0),
            m(10, 15, 10.4, 10.6, 10.0, 10.1, 80.0),
        ];
        let h = resample(&bars, Timeframe::M15, Timeframe::H1).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].time(), at(9, 0));
        assert_eq!(
            (
                h[0].open(),
                h[0].high(),
                h[0].low(),
                h[0].close(),
                h[0].volume()
            ),
            (10.0, 10.8, 9.9, 10.7, 250.0)
        );
        assert_eq!(
            (
                h[1].open(),
                h[1].high(),
                h[1].low(),
                h[1].close(),
                h[1].volume()
            ),
            (10.7, 10.9, 10.0, 10.1, 200.0)
        );
        assert!(resample(&bars, Timeframe::H1, Timeframe::M15).is_err());
        let mut unordered = bars;
        unordered.swap(0, 1);
        assert!(resample(&unordered, Timeframe::M15, Timeframe::H1).is_err());
    }
}
