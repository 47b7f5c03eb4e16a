//! Trend alignment across the bar timeframe and coarser ones.

use gs_domain::Timeframe;

use crate::agent::{Action, Agent, AgentOutcome, AgentSignal, Evaluator, out_of_range, unit};
use crate::error::SignalError;
use crate::market::Market;
use crate::timeframes::default_timeframes;

/// On each timeframe (the bars' own and the next coarser ones that divide
/// it), the trend is up when the close is above its SMA and the SMA has risen
/// over the last `slope_bars` bars, down for the mirror image, and flat
/// otherwise. The signal is the mean of those votes.
///
/// A coarser bar that is still forming at `t` is represented by the close at
/// `t`, never by its final close: the bucket's later bars are the future.
#[derive(Debug, Clone)]
pub struct MultiTimeframeAgent {
    pub period: usize,
    pub slope_bars: usize,
    /// Minimum |mean vote| for BUY or SELL.
    pub min_alignment: f64,
}

impl Default for MultiTimeframeAgent {
    fn default() -> Self {
        Self {
            period: 20,
            slope_bars: 3,
            min_alignment: 0.5,
        }
    }
}

/// One timeframe's closes, arranged so the SMA at any bar costs O(1).
struct Ladder {
    timeframe: Timeframe,
    /// Index of the coarse bucket each base bar falls in.
    bucket: Vec<usize>,
    /// `prefix[j]` = sum of the final closes of buckets `0..j` (only ever read
    /// for buckets that ended before the bar being evaluated).
    prefix: Vec<f64>,
}

impl Ladder {
    fn new(market: &Market<'_>, timeframe: Timeframe) -> Self {
        let bars = market.bars();
        let mut bucket = Vec::with_capacity(bars.len());
        let mut finals: Vec<f64> = Vec::new();
        let mut current = None;
        for bar in bars {
            let start = timeframe.bucket_start(bar.time());
            if current != Some(start) {
                current = Some(start);
                finals.push(bar.close());
            }
            if let Some(last) = finals.last_mut() {
                *last = bar.close();
            }
            bucket.push(finals.len().saturating_sub(1));
        }
        let mut prefix = Vec::with_capacity(finals.len().saturating_add(1));
        prefix.push(0.0);
        for c in &finals {
            prefix.push(prefix.last().copied().unwrap_or(0.0) + c);
        }
        Self {
            timeframe,
            bucket,
            prefix,
        }
    }

    /// SMA(period) of the coarse closes as seen at base bar `t`, ending
    /// `back` coarse bars before the current (forming) one; `None` without
    /// enough coarse bars.
    fn sma(&self, t: usize, close_t: f64, period: usize, back: usize) -> Option<f64> {
        let k = *self.bucket.get(t)?; // the forming bucket; buckets < k are final
        let end = k.checked_sub(back)?; // index of the last coarse bar used
        let after_end = end.checked_add(1)?;
        let start = after_end.checked_sub(period)?;
        let prefix = |j: usize| self.prefix.get(j).copied();
        let sum = if back == 0 {
            prefix(k)? - prefix(start)? + close_t
        } else {
            prefix(after_end)? - prefix(start)?
        };
        Some(sum / period as f64)
    }
}

struct MultiTimeframeEval {
    cfg: MultiTimeframeAgent,
    close: Vec<f64>,
    ladders: Vec<Ladder>,
}

impl Agent for MultiTimeframeAgent {
    fn name(&self) -> &'static str {
        "multi_timeframe"
    }
    fn description(&self) -> &'static str {
        "Trend (close vs rising/falling SMA(20)) on the bar timeframe and the next two coarser ones: BUY/SELL when they align."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let ladders = default_timeframes(market.timeframe())
            .into_iter()
            .map(|tf| Ladder::new(market, tf))
            .collect();
        Ok(Box::new(MultiTimeframeEval {
            cfg: self.clone(),
            close: market.close().to_vec(),
            ladders,
        }))
    }
}

impl Evaluator for MultiTimeframeEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        const NAME: &str = "multi_timeframe";
        let (n, s) = (self.cfg.period, self.cfg.slope_bars);
        let Some(&close) = self.close.get(t) else {
            return out_of_range(NAME, t, self.close.len());
        };
        let mut signal = AgentSignal::new(NAME, Action::Hold, 0.0);
        let mut votes = Vec::new();
        let mut skipped = Vec::new();
        for ladder in &self.ladders {
            let tf = ladder.timeframe;
            let (Some(now), Some(before)) =
                (ladder.sma(t, close, n, 0), ladder.sma(t, close, n, s))
            else {
                skipped.push(format!(
                    "{tf} (has {} bars, needs {})",
                    ladder.bucket.get(t).map_or(0, |b| b.saturating_add(1)),
                    n.saturating_add(s)
                ));
                continue;
            };
            let vote = if close > now && now > before {
                1.0
            } else if close < now && now < before {
                -1.0
            } else {
                0.0
            };
            let word = match vote {
                v if v > 0.0 => "up",
                v if v < 0.0 => "down",
                _ => "flat",
            };
            signal = signal
                .reason(format!(
                    "{tf}: close {close:.2} vs SMA({n}) {now:.2} ({} over {s} bars): {word}",
                    if now > before {
                        "rising"
                    } else if now < before {
                        "falling"
                    } else {
                        "unchanged"
                    }
                ))
                .metric(&format!("trend_{tf}"), vote)
                .metric(&format!("sma_{tf}"), now);
            votes.push(vote);
        }
        if self.ladders.len() < 2 {
            return AgentOutcome::abstain(
                NAME,
                format!(
                    "no coarser standard timeframe than {} to compare with",
                    self.ladders
                        .first()
                        .map_or("this one", |l| l.timeframe.as_str())
                ),
            );
        }
        if votes.len() < 2 {
            return AgentOutcome::abstain(
                NAME,
                format!(
                    "needs a trend on at least two timeframes; not enough history on {}",
                    skipped.join(", ")
                ),
            );
        }
        let alignment = votes.iter().sum::<f64>() / votes.len() as f64;
        let m = self.cfg.min_alignment;
        let (action, confidence, verdict) = if alignment > m {
            (Action::Buy, alignment, "timeframes align up")
        } else if alignment < -m {
            (Action::Sell, -alignment, "timeframes align down")
        } else {
            (
                Action::Hold,
                0.5 * (1.0 - alignment.abs()),
                "timeframes do not align",
            )
        };
        if !skipped.is_empty() {
            signal = signal.reason(format!(
                "skipped for lack of history: {}",
                skipped.join(", ")
            ));
        }
        AgentSignal {
            action,
            confidence: unit(confidence),
            ..signal
        }
        .reason(format!(
            "alignment {alignment:+.2} over {} timeframes: {verdict}",
            votes.len()
        ))
        .metric("alignment", alignment)
        .into()
    }
}
