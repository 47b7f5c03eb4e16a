//! Contrarian readings: oversold/overbought oscillators and stretches away
//! from an average.

use crate::agent::{
    Action, Agent, AgentOutcome, AgentSignal, Evaluator, out_of_range, unit, warming_up,
};
use crate::error::SignalError;
use crate::market::Market;
use crate::series::at;

/// RSI below `oversold` is a BUY, above `overbought` a SELL; confidence grows
/// with the distance past the threshold.
#[derive(Debug, Clone)]
pub struct RsiAgent {
    pub period: usize,
    pub oversold: f64,
    pub overbought: f64,
}

impl Default for RsiAgent {
    fn default() -> Self {
        Self {
            period: 14,
            oversold: 30.0,
            overbought: 70.0,
        }
    }
}

struct RsiEval {
    cfg: RsiAgent,
    rsi: Vec<Option<f64>>,
}

impl Agent for RsiAgent {
    fn name(&self) -> &'static str {
        "rsi"
    }
    fn description(&self) -> &'static str {
        "RSI(14): below 30 oversold (BUY), above 70 overbought (SELL)."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let rsi = market.series("rsi", &[("timeperiod", self.period as f64)])?;
        Ok(Box::new(RsiEval {
            cfg: self.clone(),
            rsi,
        }))
    }
}

impl Evaluator for RsiEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "rsi";
        let (p, lo, hi) = (self.cfg.period, self.cfg.oversold, self.cfg.overbought);
        if t >= self.rsi.len() {
            return out_of_range(NAME, t, self.rsi.len());
        }
        let Some(rsi) = at(&self.rsi, t) else {
            return warming_up(NAME, &format!("RSI({p})"), p.saturating_add(1), t);
        };
        let signal = if rsi < lo {
            AgentSignal::new(NAME, Action::Buy, 0.5 + 0.5 * (lo - rsi) / lo)
                .reason(format!("RSI({p}) = {rsi:.1} < {lo}: oversold"))
        } else if rsi > hi {
            AgentSignal::new(NAME, Action::Sell, 0.5 + 0.5 * (rsi - hi) / (100.0 - hi))
                .reason(format!("RSI({p}) = {rsi:.1} > {hi}: overbought"))
        } else {
            let mid = (lo + hi) / 2.0;
            let half = (hi - lo) / 2.0;
            AgentSignal::new(NAME, Action::Hold, 0.5 * (1.0 - (rsi - mid).abs() / half)).reason(
                format!(
                    "RSI({p}) = {rsi:.1} is between {lo} and {hi}: neither oversold nor overbought"
                ),
            )
        };
        signal.metric("rsi", rsi).into()
    }
}

/// A close outside the Bollinger bands is read as stretched: below the lower
/// band BUY, above the upper band SELL.
#[derive(Debug, Clone)]
pub struct BollingerAgent {
    pub period: usize,
    pub deviations: f64,
}

impl Default for BollingerAgent {
    fn default() -> Self {
        Self {
            period: 20,
            deviations: 2.0,
        }
    }
}

struct BollingerEval {
    cfg: BollingerAgent,
    close: Vec<f64>,
    upper: Vec<Option<f64>>,
    middle: Vec<Option<f64>>,
    lower: Vec<Option<f64>>,
}

impl Agent for BollingerAgent {
    fn name(&self) -> &'static str {
        "bollinger"
    }
    fn description(&self) -> &'static str {
        "Bollinger bands (20, 2): close below the lower band BUY, above the upper band SELL."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let mut bands = market
            .indicator(
                "bbands",
                &[
                    ("timeperiod", self.period as f64),
                    ("nbdevup", self.deviations),
                    ("nbdevdn", self.deviations),
                ],
            )?
            .into_iter();
        let (upper, middle, lower) = (
            bands.next().unwrap_or_default(),
            bands.next().unwrap_or_default(),
            bands.next().unwrap_or_default(),
        );
        Ok(Box::new(BollingerEval {
            cfg: self.clone(),
            close: market.close().to_vec(),
            upper,
            middle,
            lower,
        }))
    }
}

impl Evaluator for BollingerEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "bollinger";
        let (p, k) = (self.cfg.period, self.cfg.deviations);
        let Some(&close) = self.close.get(t) else {
            return out_of_range(NAME, t, self.close.len());
        };
        let (Some(upper), Some(middle), Some(lower)) =
            (at(&self.upper, t), at(&self.middle, t), at(&self.lower, t))
        else {
            return warming_up(NAME, &format!("Bollinger({p}, {k})"), p, t);
        };
        let span = upper - lower;
        if span <= 0.0 || middle <= 0.0 {
            return AgentSignal::new(NAME, Action::Hold, 0.2)
                .reason(format!(
                    "Bollinger({p}, {k}) bands have zero width: price has not moved for {p} bars"
                ))
                .metric("middle", middle)
                .into();
        }
        let percent_b = (close - lower) / span;
        let width = span / middle;
        let signal = if close < lower {
            AgentSignal::new(NAME, Action::Buy, 0.55 + 0.45 * (-percent_b / 0.25)).reason(format!(
                "close {close:.2} < lower band {lower:.2} (%B = {percent_b:.2}): stretched below the range"
            ))
        } else if close > upper {
            AgentSignal::new(NAME, Action::Sell, 0.55 + 0.45 * ((percent_b - 1.0) / 0.25)).reason(
                format!(
                    "close {close:.2} > upper band {upper:.2} (%B = {percent_b:.2}): stretched above the range"
                ),
            )
        } else {
            AgentSignal::new(NAME, Action::Hold, 0.5 * (1.0 - (percent_b - 0.5).abs() * 2.0)).reason(
                format!(
                    "close {close:.2} is inside the bands [{lower:.2}, {upper:.2}] (%B = {percent_b:.2})"
                ),
            )
        };
        signal
            .reason(format!(
                "band width = {:.1}% of the middle band",
                width * 100.0
            ))
            .metric("upper", upper)
            .metric("middle", middle)
            .metric("lower", lower)
            .metric("percent_b", percent_b)
            .metric("bandwidth", width)
            .into()
    }
}

/// Distance of the close from a slow average, in ATRs, traded back towards
/// the average, but only when ADX says the market is not trending: in a
/// trend a stretched price is as likely to keep going.
#[derive(Debug, Clone)]
pub struct MeanReversionAgent {
    pub average_period: usize,
    pub atr_period: usize,
    pub entry_atrs: f64,
    pub max_adx: f64,
}

impl Default for MeanReversionAgent {
    fn default() -> Self {
        Self {
            average_period: 50,
            atr_period: 14,
            entry_atrs: 2.0,
            max_adx: 30.0,
        }
    }
}

struct MeanReversionEval {
    cfg: MeanReversionAgent,
    close: Vec<f64>,
    sma: Vec<Option<f64>>,
    atr: Vec<Option<f64>>,
    adx: Vec<Option<f64>>,
}

impl Agent for MeanReversionAgent {
    fn name(&self) -> &'static str {
        "mean_reversion"
    }
    fn description(&self) -> &'static str {
        "Close more than 2 ATR(14) from SMA(50) with ADX(14) < 30: trade back to the mean."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let p = self.atr_period as f64;
        Ok(Box::new(MeanReversionEval {
            cfg: self.clone(),
            close: market.close().to_vec(),
            sma: market.series("sma", &[("timeperiod", self.average_period as f64)])?,
            atr: market.series("atr", &[("timeperiod", p)])?,
            adx: market.series("adx", &[("timeperiod", p)])?,
        }))
    }
}

impl Evaluator for MeanReversionEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "mean_reversion";
        let c = &self.cfg;
        let (n, a, k) = (c.average_period, c.atr_period, c.entry_atrs);
        let Some(&close) = self.close.get(t) else {
            return out_of_range(NAME, t, self.close.len());
        };
        let (Some(sma), Some(atr), Some(adx)) =
            (at(&self.sma, t), at(&self.atr, t), at(&self.adx, t))
        else {
            let needed = n.max(a.saturating_mul(2));
            return warming_up(NAME, &format!("SMA({n}), ATR({a}) and ADX({a})"), needed, t);
        };
        let deviation = if atr > 0.0 { (close - sma) / atr } else { 0.0 };
        let base = AgentSignal::new(NAME, Action::Hold, 0.0)
            .metric("sma", sma)
            .metric("atr", atr)
            .metric("adx", adx)
            .metric("deviation_atr", deviation);
        let signal = if adx >= c.max_adx {
            AgentSignal {
                confidence: 0.3,
                ..base
            }
            .reason(format!(
                "ADX({a}) = {adx:.1} >= {}: the market is trending, so a stretch from the mean is not faded",
                c.max_adx
            ))
        } else if deviation <= -k {
            AgentSignal {
                action: Action::Buy,
                confidence: unit(0.5 + 0.5 * (-deviation - k) / k),
                ..base
            }
            .reason(format!(
                "close {close:.2} is {:.1} ATR below SMA({n}) {sma:.2} (threshold {k}) with ADX({a}) = {adx:.1} < {}: expect a return to the mean",
                -deviation, c.max_adx
            ))
        } else if deviation >= k {
            AgentSignal {
                action: Action::Sell,
                confidence: unit(0.5 + 0.5 * (deviation - k) / k),
                ..base
            }
            .reason(format!(
                "close {close:.2} is {deviation:.1} ATR above SMA({n}) {sma:.2} (threshold {k}) with ADX({a}) = {adx:.1} < {}: expect a return to the mean",
                c.max_adx
            ))
        } else {
            AgentSignal {
                confidence: unit(0.5 * (1.0 - deviation.abs() / k)),
                ..base
            }
            .reason(format!(
                "close {close:.2} is {deviation:+.1} ATR from SMA({n}) {sma:.2}: within {k} ATR, not stretched"
            ))
        };
        signal.into()
    }
}
