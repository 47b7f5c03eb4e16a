//! Volume as confirmation: a price trend carried by volume is trusted, one
//! that volume does not follow is not.

use gs_analytics::{Ohlcv, compute};

use crate::agent::{Action, Agent, AgentOutcome, AgentSignal, Evaluator, out_of_range, warming_up};
use crate::error::SignalError;
use crate::market::Market;
use crate::series::at;
use crate::series::trailing_mean;

/// On-balance volume trend (regression slope over `period` bars, in units of
/// average volume per bar) compared with the price's side of its SMA: both up
/// is accumulation (BUY), both down distribution (SELL), disagreement HOLD.
/// MFI is reported for context but does not vote: money-flow extremes are a
/// contrarian reading, which the oscillator agents already cover.
#[derive(Debug, Clone)]
pub struct VolumeAgent {
    pub period: usize,
    /// Minimum |OBV slope| in average volumes per bar to call a flow.
    pub min_flow: f64,
}

impl Default for VolumeAgent {
    fn default() -> Self {
        Self {
            period: 20,
            min_flow: 0.1,
        }
    }
}

struct VolumeEval {
    cfg: VolumeAgent,
    close: Vec<f64>,
    volume: Vec<f64>,
    obv_slope: Vec<Option<f64>>,
    avg_volume: Vec<Option<f64>>,
    sma: Vec<Option<f64>>,
    mfi: Vec<Option<f64>>,
}

impl Agent for VolumeAgent {
    fn name(&self) -> &'static str {
        "volume"
    }
    fn description(&self) -> &'static str {
        "OBV trend confirming price versus SMA(20): accumulation BUY, distribution SELL."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let p = self.period as f64;
        let obv: Vec<f64> = market
            .series("obv", &[])?
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect();
        let slope = compute(
            "linearreg_slope",
            &[("timeperiod".to_string(), p)],
            &Ohlcv {
                close: &obv,
                ..Ohlcv::default()
            },
        )?;
        Ok(Box::new(VolumeEval {
            cfg: self.clone(),
            close: market.close().to_vec(),
            volume: market.volume().to_vec(),
            obv_slope: slope
                .outputs
                .into_iter()
                .next()
                .map(|o| o.1)
                .unwrap_or_default(),
            avg_volume: trailing_mean(market.volume(), self.period),
            sma: market.series("sma", &[("timeperiod", p)])?,
            mfi: market.series("mfi", &[("timeperiod", 14.0)])?,
        }))
    }
}

impl Evaluator for VolumeEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "volume";
        let (n, k) = (self.cfg.period, self.cfg.min_flow);
        let Some(&close) = self.close.get(t) else {
            return out_of_range(NAME, t, self.close.len());
        };
        let (Some(slope), Some(avg), Some(sma)) = (
            at(&self.obv_slope, t),
            at(&self.avg_volume, t),
            at(&self.sma, t),
        ) else {
            return warming_up(NAME, &format!("OBV slope({n})"), n, t);
        };
        if avg <= 0.0 {
            return AgentOutcome::abstain(
                NAME,
                format!("no volume traded in the last {n} bars: volume cannot confirm anything"),
            );
        }
        let flow = slope / avg;
        let price_up = close > sma;
        let price_down = close < sma;
        let side = format!(
            "close {close:.2} {} SMA({n}) {sma:.2}",
            if price_up {
                "above"
            } else if price_down {
                "below"
            } else {
                "at"
            }
        );
        let obv = format!("OBV slope({n}) = {flow:+.2} average volumes per bar");
        let strength = 0.4 + 0.6 * (flow.abs() / 0.6).min(1.0);
        let mut signal = if flow >= k && price_up {
            AgentSignal::new(NAME, Action::Buy, strength)
                .reason(format!("{obv} and {side}: accumulation confirms the rise"))
        } else if flow <= -k && price_down {
            AgentSignal::new(NAME, Action::Sell, strength)
                .reason(format!("{obv} and {side}: distribution confirms the fall"))
        } else if flow.abs() < k {
            AgentSignal::new(NAME, Action::Hold, 0.4)
                .reason(format!("{obv} (|flow| < {k}): no volume trend; {side}"))
        } else {
            AgentSignal::new(NAME, Action::Hold, 0.5).reason(format!(
                "{obv} but {side}: volume and price disagree, the move is unconfirmed"
            ))
        };
        if let Some(mfi) = at(&self.mfi, t) {
            signal = signal.metric("mfi", mfi);
            if mfi < 20.0 {
                signal = signal.reason(format!("MFI(14) = {mfi:.1} < 20: money flow oversold"));
            } else if mfi > 80.0 {
                signal = signal.reason(format!("MFI(14) = {mfi:.1} > 80: money flow overbought"));
            }
        }
        signal
            .metric("obv_slope_per_avg_volume", flow)
            .metric("average_volume", avg)
            .metric(
                "volume_ratio",
                self.volume.get(t).map_or(f64::NAN, |v| v / avg),
            )
            .metric("sma", sma)
            .into()
    }
}
