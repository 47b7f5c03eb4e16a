//! Trend-following readings: the direction of averages, of momentum and of
//! directional movement.

use crate::agent::{
    Action, Agent, AgentOutcome, AgentSignal, Evaluator, out_of_range, unit, warming_up,
};
use crate::error::SignalError;
use crate::market::Market;
use crate::series::at;

/// MACD histogram sign gives the direction; a crossover in the last few bars
/// and a histogram large against ATR raise the confidence.
#[derive(Debug, Clone)]
pub struct MacdAgent {
    pub fast: usize,
    pub slow: usize,
    pub signal: usize,
    /// A crossover this many bars ago or fewer counts as fresh.
    pub fresh_bars: usize,
}

impl Default for MacdAgent {
    fn default() -> Self {
        Self {
            fast: 12,
            slow: 26,
            signal: 9,
            fresh_bars: 3,
        }
    }
}

struct MacdEval {
    cfg: MacdAgent,
    macd: Vec<Option<f64>>,
    signal: Vec<Option<f64>>,
    hist: Vec<Option<f64>>,
    atr: Vec<Option<f64>>,
}

impl Agent for MacdAgent {
    fn name(&self) -> &'static str {
        "macd"
    }
    fn description(&self) -> &'static str {
        "MACD(12, 26, 9): histogram above zero BUY, below zero SELL; fresh crossovers count more."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let mut out = market
            .indicator(
                "macd",
                &[
                    ("fastperiod", self.fast as f64),
                    ("slowperiod", self.slow as f64),
                    ("signalperiod", self.signal as f64),
                ],
            )?
            .into_iter();
        Ok(Box::new(MacdEval {
            cfg: self.clone(),
            macd: out.next().unwrap_or_default(),
            signal: out.next().unwrap_or_default(),
            hist: out.next().unwrap_or_default(),
            atr: market.series("atr", &[("timeperiod", 14.0)])?,
        }))
    }
}

impl Evaluator for MacdEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "macd";
        let c = &self.cfg;
        let label = format!("MACD({}, {}, {})", c.fast, c.slow, c.signal);
        if t >= self.hist.len() {
            return out_of_range(NAME, t, self.hist.len());
        }
        let (Some(macd), Some(signal), Some(hist)) =
            (at(&self.macd, t), at(&self.signal, t), at(&self.hist, t))
        else {
            return warming_up(
                NAME,
                &label,
                c.slow
                    .max(c.fast)
                    .saturating_add(c.signal)
                    .saturating_sub(1),
                t,
            );
        };
        // A histogram within rounding of zero (a perfectly linear trend makes
        // MACD and its signal converge) is no crossover either way.
        let scale = macd.abs().max(signal.abs()).max(1.0);
        if hist.abs() <= 1e-9 * scale {
            return AgentSignal::new(NAME, Action::Hold, 0.3)
                .reason(format!("{label}: MACD equals its signal line ({macd:.4})"))
                .metric("macd", macd)
                .metric("signal", signal)
                .metric("histogram", hist)
                .into();
        }
        let up = hist > 0.0;
        // Bars since the histogram last had the other sign, looking back at
        // most `fresh_bars` bars.
        let crossed_ago = (1..=c.fresh_bars.min(t)).find(|&k| {
            at(&self.hist, t.saturating_sub(k))
                .is_some_and(|h| if up { h <= 0.0 } else { h >= 0.0 })
        });
        let strength = match at(&self.atr, t) {
            Some(atr) if atr > 0.0 => (hist.abs() / (0.25 * atr)).min(1.0),
            _ => 1.0,
        };
        let fresh = if crossed_ago.is_some() { 1.0 } else { 0.0 };
        let action = if up { Action::Buy } else { Action::Sell };
        let mut out = AgentSignal::new(NAME, action, 0.35 + 0.35 * strength + 0.3 * fresh).reason(
            format!(
                "{label} histogram = {hist:.4} {} 0: MACD {macd:.4} is {} its signal line {signal:.4}",
                if up { ">" } else { "<" },
                if up { "above" } else { "below" }
            ),
        );
        if let Some(k) = crossed_ago {
            out = out.reason(format!(
                "{} crossover {k} bar{} ago",
                if up { "bullish" } else { "bearish" },
                if k == 1 { "" } else { "s" }
            ));
        }
        out.metric("macd", macd)
            .metric("signal", signal)
            .metric("histogram", hist)
            .metric("histogram_atr_strength", strength)
            .into()
    }
}

/// Fast SMA above slow SMA is an uptrend (golden cross), below a downtrend
/// (death cross); a recent cross and a wide gap raise the confidence.
#[derive(Debug, Clone)]
pub struct MaCrossoverAgent {
    pub fast: usize,
    pub slow: usize,
    pub fresh_bars: usize,
}

impl Default for MaCrossoverAgent {
    fn default() -> Self {
        Self {
            fast: 20,
            slow: 50,
            fresh_bars: 5,
        }
    }
}

struct MaCrossoverEval {
    cfg: MaCrossoverAgent,
    fast: Vec<Option<f64>>,
    slow: Vec<Option<f64>>,
}

impl Agent for MaCrossoverAgent {
    fn name(&self) -> &'static str {
        "ma_crossover"
    }
    fn description(&self) -> &'static str {
        "SMA(20) versus SMA(50): above BUY (golden cross), below SELL (death cross)."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        Ok(Box::new(MaCrossoverEval {
            cfg: self.clone(),
            fast: market.series("sma", &[("timeperiod", self.fast as f64)])?,
            slow: market.series("sma", &[("timeperiod", self.slow as f64)])?,
        }))
    }
}

impl Evaluator for MaCrossoverEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "ma_crossover";
        let c = &self.cfg;
        if t >= self.fast.len() {
            return out_of_range(NAME, t, self.fast.len());
        }
        let (Some(fast), Some(slow)) = (at(&self.fast, t), at(&self.slow, t)) else {
            return warming_up(NAME, &format!("SMA({})", c.slow), c.slow.max(c.fast), t);
        };
        let gap_pct = if slow > 0.0 {
            (fast - slow) / slow * 100.0
        } else {
            0.0
        };
        let base = AgentSignal::new(NAME, Action::Hold, 0.3)
            .metric("sma_fast", fast)
            .metric("sma_slow", slow)
            .metric("gap_pct", gap_pct);
        if fast == slow {
            return base
                .reason(format!(
                    "SMA({}) equals SMA({}) at {fast:.2}",
                    c.fast, c.slow
                ))
                .into();
        }
        let up = fast > slow;
        let crossed_ago = (1..=c.fresh_bars.min(t)).find(|&k| {
            match (
                at(&self.fast, t.saturating_sub(k)),
                at(&self.slow, t.saturating_sub(k)),
            ) {
                (Some(f), Some(s)) => {
                    if up {
                        f <= s
                    } else {
                        f >= s
                    }
                }
                _ => false,
            }
        });
        let fresh = if crossed_ago.is_some() { 1.0 } else { 0.0 };
        let action = if up { Action::Buy } else { Action::Sell };
        let mut out = AgentSignal {
            action,
            confidence: unit(0.4 + 0.3 * (gap_pct.abs() / 3.0).min(1.0) + 0.3 * fresh),
            ..base
        }
        .reason(format!(
            "SMA({}) = {fast:.2} is {} SMA({}) = {slow:.2} by {gap_pct:+.2}%: {}",
            c.fast,
            if up { "above" } else { "below" },
            c.slow,
            if up { "uptrend" } else { "downtrend" }
        ));
        if let Some(k) = crossed_ago {
            out = out.reason(format!(
                "{} {k} bar{} ago",
                if up { "golden cross" } else { "death cross" },
                if k == 1 { "" } else { "s" }
            ));
        }
        out.into()
    }
}

/// The `lookback`-bar price change measured in ATRs scaled by the square
/// root of the horizon, so that the threshold means the same on a quiet and a
/// volatile instrument: about one "typical move" or more is momentum.
#[derive(Debug, Clone)]
pub struct MomentumAgent {
    pub lookback: usize,
    pub atr_period: usize,
    pub threshold: f64,
}

impl Default for MomentumAgent {
    fn default() -> Self {
        Self {
            lookback: 10,
            atr_period: 14,
            threshold: 1.0,
        }
    }
}

struct MomentumEval {
    cfg: MomentumAgent,
    close: Vec<f64>,
    atr: Vec<Option<f64>>,
}

impl Agent for MomentumAgent {
    fn name(&self) -> &'static str {
        "momentum"
    }
    fn description(&self) -> &'static str {
        "10-bar change in units of ATR(14) x sqrt(10): above +1 BUY, below -1 SELL."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        Ok(Box::new(MomentumEval {
            cfg: self.clone(),
            close: market.close().to_vec(),
            atr: market.series("atr", &[("timeperiod", self.atr_period as f64)])?,
        }))
    }
}

impl Evaluator for MomentumEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "momentum";
        let c = &self.cfg;
        let n = c.lookback;
        let Some(&now) = self.close.get(t) else {
            return out_of_range(NAME, t, self.close.len());
        };
        let (Some(&then), Some(atr)) = (
            t.checked_sub(n).and_then(|i| self.close.get(i)),
            at(&self.atr, t),
        ) else {
            let needed = n.max(c.atr_period).saturating_add(1);
            return warming_up(
                NAME,
                &format!("a {n}-bar change and ATR({})", c.atr_period),
                needed,
                t,
            );
        };
        let change = now - then;
        let roc = if then > 0.0 {
            change / then * 100.0
        } else {
            0.0
        };
        let scale = atr * (n as f64).sqrt();
        // Zero volatility with a move is the strongest possible reading, not a
        // division by zero.
        let score = if scale > 0.0 {
            (change / scale).clamp(-3.0, 3.0)
        } else {
            if change == 0.0 {
                0.0
            } else {
                3.0 * change.signum()
            }
        };
        let k = c.threshold;
        let (action, confidence, verdict) = if score >= k {
            (
                Action::Buy,
                0.4 + 0.6 * ((score - k) / 2.0).min(1.0),
                "upward momentum",
            )
        } else if score <= -k {
            (
                Action::Sell,
                0.4 + 0.6 * ((-score - k) / 2.0).min(1.0),
                "downward momentum",
            )
        } else {
            (
                Action::Hold,
                0.5 * (1.0 - score.abs() / k),
                "no clear momentum",
            )
        };
        AgentSignal::new(NAME, action, confidence)
            .reason(format!(
                "{n}-bar change {change:+.2} ({roc:+.2}%) = {score:+.2} x ATR({})*sqrt({n}) (threshold {k}): {verdict}",
                c.atr_period
            ))
            .metric("change", change)
            .metric("roc_pct", roc)
            .metric("atr", atr)
            .metric("score", score)
            .into()
    }
}

/// ADX says whether there is a trend, +DI/-DI which way it goes.
#[derive(Debug, Clone)]
pub struct TrendStrengthAgent {
    pub period: usize,
    pub min_adx: f64,
}

impl Default for TrendStrengthAgent {
    fn default() -> Self {
        Self {
            period: 14,
            min_adx: 20.0,
        }
    }
}

struct TrendStrengthEval {
    cfg: TrendStrengthAgent,
    adx: Vec<Option<f64>>,
    plus_di: Vec<Option<f64>>,
    minus_di: Vec<Option<f64>>,
}

impl Agent for TrendStrengthAgent {
    fn name(&self) -> &'static str {
        "trend_strength"
    }
    fn description(&self) -> &'static str {
        "ADX(14) >= 20 with +DI above -DI BUY, below SELL; ADX < 20 means no trend (HOLD)."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let p = [("timeperiod", self.period as f64)];
        Ok(Box::new(TrendStrengthEval {
            cfg: self.clone(),
            adx: market.series("adx", &p)?,
            plus_di: market.series("plus_di", &p)?,
            minus_di: market.series("minus_di", &p)?,
        }))
    }
}

impl Evaluator for TrendStrengthEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "trend_strength";
        let (p, min_adx) = (self.cfg.period, self.cfg.min_adx);
        if t >= self.adx.len() {
            return out_of_range(NAME, t, self.adx.len());
        }
        let (Some(adx), Some(pdi), Some(mdi)) = (
            at(&self.adx, t),
            at(&self.plus_di, t),
            at(&self.minus_di, t),
        ) else {
            return warming_up(NAME, &format!("ADX({p})"), p.saturating_mul(2), t);
        };
        let rising = t
            .checked_sub(1)
            .and_then(|prev| at(&self.adx, prev))
            .is_some_and(|prev| adx > prev);
        let di = format!("+DI = {pdi:.1}, -DI = {mdi:.1}");
        let signal = if adx < min_adx {
            AgentSignal::new(NAME, Action::Hold, 0.5 + 0.5 * (min_adx - adx) / min_adx)
                .reason(format!("ADX({p}) = {adx:.1} < {min_adx}: no trend ({di})"))
        } else if (pdi - mdi).abs() < 1.0 {
            // Includes the degenerate case of no directional movement at all,
            // where TA-Lib's ADX can read high from 0/0 ratios.
            AgentSignal::new(NAME, Action::Hold, 0.3)
                .reason(format!("ADX({p}) = {adx:.1} but {di}: no side dominates"))
        } else {
            let up = pdi > mdi;
            let separation = ((pdi - mdi).abs() / 20.0).min(1.0);
            let strength = ((adx - min_adx) / 30.0).min(1.0);
            AgentSignal::new(
                NAME,
                if up { Action::Buy } else { Action::Sell },
                (0.4 + 0.6 * strength) * (0.5 + 0.5 * separation),
            )
            .reason(format!(
                "ADX({p}) = {adx:.1} >= {min_adx}{}: {} trend ({di})",
                if rising { " and rising" } else { "" },
                if up { "up" } else { "down" }
            ))
        };
        signal
            .metric("adx", adx)
            .metric("plus_di", pdi)
            .metric("minus_di", mdi)
            .into()
    }
}
