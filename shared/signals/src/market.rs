use gs_analytics::{Ohlcv, compute};
use gs_domain::{Bar, BarColumns, Timeframe};

use crate::error::SignalError;

/// The bars an agent reads, in column form, validated once: non-empty and in
/// strictly increasing time order. Agents compute whole indicator series from
/// it once and then read single indices, which is what makes evaluating every
/// bar of a backtest cheap.
#[derive(Debug, Clone)]
pub struct Market<'a> {
    bars: &'a [Bar],
    timeframe: Timeframe,
    columns: BarColumns,
    last: Bar,
}

impl<'a> Market<'a> {
    pub fn new(bars: &'a [Bar], timeframe: Timeframe) -> Result<Self, SignalError> {
        let Some(&last) = bars.last() else {
            return Err(SignalError::NoBars);
        };
        if let Some((index, pair)) = bars
            .windows(2)
            .enumerate()
            .find(|(_, pair)| matches!(pair, [a, b] if b.time() <= a.time()))
        {
            return Err(SignalError::Unordered {
                index: index.saturating_add(1),
                time: pair
                    .last()
                    .map(|b| b.time().to_rfc3339())
                    .unwrap_or_default(),
            });
        }
        Ok(Self {
            bars,
            timeframe,
            columns: BarColumns::from_bars(bars),
            last,
        })
    }

    pub fn bars(&self) -> &'a [Bar] {
        self.bars
    }
    pub fn timeframe(&self) -> Timeframe {
        self.timeframe
    }
    pub fn len(&self) -> usize {
        self.bars.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }
    pub fn open(&self) -> &[f64] {
        self.columns.open()
    }
    pub fn high(&self) -> &[f64] {
        self.columns.high()
    }
    pub fn low(&self) -> &[f64] {
        self.columns.low()
    }
    pub fn close(&self) -> &[f64] {
        self.columns.close()
    }
    pub fn volume(&self) -> &[f64] {
        self.columns.volume()
    }
    /// The bars in column form.
    pub fn columns(&self) -> &BarColumns {
        &self.columns
    }
    /// The last bar (a `Market` is never empty).
    pub fn last(&self) -> &Bar {
        &self.last
    }
    /// Index of the last bar.
    pub fn last_index(&self) -> usize {
        self.bars.len().saturating_sub(1)
    }

    /// Every output series of a gs-analytics indicator over all bars, in
    /// catalogue order. TA-Lib indicators only read past bars, so index `t`
    /// of each series depends on bars `..=t` alone (see the look-ahead tests).
    pub fn indicator(
        &self,
        name: &str,
        params: &[(&str, f64)],
    ) -> Result<Vec<Vec<Option<f64>>>, SignalError> {
        let params: Vec<(String, f64)> = params.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let input = Ohlcv {
            open: self.columns.open(),
            high: self.columns.high(),
            low: self.columns.low(),
            close: self.columns.close(),
            volume: self.columns.volume(),
        };
        let out = compute(name, &params, &input)?;
        Ok(out.outputs.into_iter().map(|(_, series)| series).collect())
    }

    /// The first output of an indicator (the only one for most).
    pub fn series(
        &self,
        name: &str,
        params: &[(&str, f64)],
    ) -> Result<Vec<Option<f64>>, SignalError> {
        Ok(self
            .indicator(name, params)?
            .into_iter()
            .next()
            .unwrap_or_default())
    }
}
