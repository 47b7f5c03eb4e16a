use chrono::{DateTime, Utc};

use crate::Bar;

/// Bars in column form: one vector per field, all the same length, index `i`
/// of each taken from bar `i`. Indicator kernels and detectors read columns,
/// so this is the one place bars are turned into them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BarColumns {
    time: Vec<DateTime<Utc>>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl BarColumns {
    pub fn from_bars(bars: &[Bar]) -> Self {
        let mut columns = Self::with_capacity(bars.len());
        for bar in bars {
            columns.time.push(bar.time());
            columns.open.push(bar.open());
            columns.high.push(bar.high());
            columns.low.push(bar.low());
            columns.close.push(bar.close());
            columns.volume.push(bar.volume());
        }
        columns
    }

    fn with_capacity(n: usize) -> Self {
        Self {
            time: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
        }
    }

    /// Number of bars.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// The last `n` bars (all of them when there are fewer).
    pub fn tail(&self, n: usize) -> Self {
        let from = self.len().saturating_sub(n);
        let cut = |v: &[f64]| v.get(from..).unwrap_or_default().to_vec();
        Self {
            time: self.time.get(from..).unwrap_or_default().to_vec(),
            open: cut(&self.open),
            high: cut(&self.high),
            low: cut(&self.low),
            close: cut(&self.close),
            volume: cut(&self.volume),
        }
    }

    pub fn time(&self) -> &[DateTime<Utc>] {
        &self.time
    }
    pub fn open(&self) -> &[f64] {
        &self.open
    }
    pub fn high(&self) -> &[f64] {
        &self.high
    }
    pub fn low(&self) -> &[f64] {
        &self.low
    }
    pub fn close(&self) -> &[f64] {
        &self.close
    }
    pub fn volume(&self) -> &[f64] {
        &self.volume
    }
}

impl From<&[Bar]> for BarColumns {
    fn from(bars: &[Bar]) -> Self {
        Self::from_bars(bars)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn bars(n: usize) -> Vec<Bar> {
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        (0..n)
            .map(|i| {
                let x = 10.0 + i as f64;
                Bar::new(
                    start + Duration::days(i as i64),
                    x,
                    x + 2.0,
                    x - 1.0,
                    x + 1.0,
                    100.0 * x,
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn columns_hold_each_field_of_each_bar_in_order() {
        let bars = bars(3);
        let c = BarColumns::from_bars(&bars);
        assert_eq!(c.len(), 3);
        assert!(!c.is_empty());
        assert_eq!(
            c.time(),
            bars.iter().map(Bar::time).collect::<Vec<_>>().as_slice()
        );
        assert_eq!(c.open(), &[10.0, 11.0, 12.0]);
        assert_eq!(c.high(), &[12.0, 13.0, 14.0]);
        assert_eq!(c.low(), &[9.0, 10.0, 11.0]);
        assert_eq!(c.close(), &[11.0, 12.0, 13.0]);
        assert_eq!(c.volume(), &[1000.0, 1100.0, 1200.0]);
        assert_eq!(BarColumns::from(bars.as_slice()), c);
    }

    #[test]
    fn no_bars_give_empty_columns() {
        let c = BarColumns::from_bars(&[]);
        assert_eq!(c.len(), 0);
        assert!(c.is_empty());
        assert!(c.close().is_empty());
        assert_eq!(c, BarColumns::default());
        assert!(c.tail(5).is_empty());
    }

    #[test]
    fn tail_keeps_the_last_bars_of_every_column() {
        let bars = bars(5);
        let c = BarColumns::from_bars(&bars);
        let last2 = c.tail(2);
        assert_eq!(last2, BarColumns::from_bars(&bars[3..]));
        assert_eq!(last2.close(), &[14.0, 15.0]);
        assert_eq!(last2.time()[0], bars[3].time());
        assert_eq!(c.tail(0), BarColumns::default());
        assert_eq!(c.tail(5), c);
        assert_eq!(c.tail(usize::MAX), c);
    }
}
