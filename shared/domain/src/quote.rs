use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Bar, Symbol};

/// The latest known price of a symbol with the session's context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub symbol: Symbol,
    pub time: DateTime<Utc>,
    pub price: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub previous_close: Option<f64>,
    pub change: Option<f64>,
    pub change_percent: Option<f64>,
    pub volume: f64,
}

impl Quote {
    /// A quote as of the close of `today`, compared with the previous session.
    pub fn from_bars(symbol: Symbol, today: &Bar, previous: Option<&Bar>) -> Self {
        let previous_close = previous.map(Bar::close);
        let change = previous_close.map(|p| today.close() - p);
        let change_percent = previous_close
            .zip(change)
            .filter(|(p, _)| *p != 0.0)
            .map(|(p, c)| c / p * 100.0);
        Self {
            symbol,
            time: today.time(),
            price: today.close(),
            open: today.open(),
            high: today.high(),
            low: today.low(),
            previous_close,
            change,
            change_percent,
            volume: today.volume(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn change_is_against_previous_close() {
        let t = |d| Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap();
        let y = Bar::new(t(1), 99.0, 101.0, 98.0, 100.0, 10.0).unwrap();
        let x = Bar::new(t(2), 100.0, 106.0, 99.0, 105.0, 20.0).unwrap();
        let q = Quote::from_bars(Symbol::parse("AAPL").unwrap(), &x, Some(&y));
        assert_eq!(q.price, 105.0);
        assert_eq!(q.change, Some(5.0));
        assert!((q.change_percent.unwrap() - 5.0).abs() < 1e-12);
        let first = Quote::from_bars(Symbol::parse("AAPL").unwrap(), &y, None);
        assert_eq!(first.change, None);
    }
}
