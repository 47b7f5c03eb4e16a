use gs_analytics::{Ohlcv, compute};
use gs_domain::{Bar, Timeframe};

use crate::SignalError;

/// The bars an agent reads, in column form, validated once: non-empty and in
/// strictly increasing time order. Agents compute whole indicator series from
/// it once and then read single indices, which is what makes evaluating every
/// bar of a backtest cheap.
#[derive(Debug, Clone)]
pub struct Market<'a> {
    bars: &'a [Bar],
    timeframe: Timeframe,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl<'a> Market<'a> {
    pub fn new(bars: &'a [Bar], timeframe: Timeframe) -> Result<Self, SignalError> {
        if bars.is_empty() {
            return Err(SignalError::NoBars);
        }
        if let Some(i) = (1..bars.len()).find(|&i| bars[i].time() <= bars[i - 1].time()) {
            return Err(SignalError::Unordered {
                index: i,
                time: bars[i].time().to_rfc3339(),
            });
        }
        Ok(Self {
            bars,
            timeframe,
            open: bars.iter().map(Bar::open).collect(),
            high: bars.iter().map(Bar::high).collect(),
            low: bars.iter().map(Bar::low).collect(),
            close: bars.iter().map(Bar::close).collect(),
            volume: bars.iter().map(Bar::volume).collect(),
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
            open: &self.open,
            high: &self.high,
            low: &self.low,
            close: &self.close,
            volume: &self.volume,
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

/// `period`-bar simple moving average of `x` ending at each index, `None`
/// until `period` values exist. Used where an average of a derived series
/// (not a bar column) is needed.
pub(crate) fn trailing_mean(x: &[f64], period: usize) -> Vec<Option<f64>> {
    let mut out = vec![None; x.len()];
    if period == 0 {
        return out;
    }
    let mut sum = 0.0;
    for i in 0..x.len() {
        sum += x[i];
        if i >= period {
            sum -= x[i - period];
        }
        if i + 1 >= period {
            out[i] = Some(sum / period as f64);
        }
    }
    out
}
