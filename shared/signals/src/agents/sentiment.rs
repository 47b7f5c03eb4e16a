//! News and social tone as a vote: the recency-weighted mean of the scored
//! items published before a bar closed. The caller supplies the scores (the
//! signals crate reads no text); an item counts only from its own time on,
//! so the signal at a bar never sees later news.

use chrono::{DateTime, Duration, Utc};

use crate::agent::{Action, Agent, AgentOutcome, AgentSignal, Evaluator, out_of_range};
use crate::error::SignalError;
use crate::market::Market;

/// One scored item: when it was published and its compound tone in [-1, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneItem {
    pub time: DateTime<Utc>,
    pub compound: f64,
}

/// BUY when the weighted tone of the items in the lookback before a bar's
/// close is at least `threshold`, SELL at `-threshold` or below, HOLD in
/// between; abstains without items. Confidence grows with |tone| (full at
/// 0.6) and with the number of items (full at 5).
#[derive(Debug, Clone)]
pub struct SentimentAgent {
    items: Vec<ToneItem>,
    /// Items older than this (before the bar's close) are not read.
    pub lookback: Duration,
    /// Half-life of the recency weights.
    pub half_life: Duration,
    pub threshold: f64,
}

impl SentimentAgent {
    /// Items in any order; non-finite scores are dropped, the rest clamped to [-1, 1].
    pub fn new(mut items: Vec<ToneItem>) -> Self {
        items.retain(|i| i.compound.is_finite());
        for i in &mut items {
            i.compound = i.compound.clamp(-1.0, 1.0);
        }
        items.sort_by_key(|i| i.time);
        Self {
            items,
            lookback: Duration::hours(72),
            half_life: Duration::hours(24),
            threshold: 0.15,
        }
    }

    pub fn items(&self) -> usize {
        self.items.len()
    }
}

struct SentimentEval {
    cfg: SentimentAgent,
    /// Close time of each bar.
    closes_at: Vec<DateTime<Utc>>,
}

impl Agent for SentimentAgent {
    fn name(&self) -> &'static str {
        "sentiment"
    }
    fn description(&self) -> &'static str {
        "Recency-weighted tone of the news and posts published in the 72 hours before each bar's close: >= 0.15 BUY, <= -0.15 SELL."
    }
    fn prepare(&self, market: &Market<'_>) -> Result<Box<dyn Evaluator>, SignalError> {
        let width = market.timeframe().duration();
        let closes_at = market
            .bars()
            .iter()
            .map(|b| b.time().checked_add_signed(width).unwrap_or(b.time()))
            .collect();
        Ok(Box::new(SentimentEval {
            cfg: self.clone(),
            closes_at,
        }))
    }
}

const NAME: &str = "sentiment";
const FULL_TONE: f64 = 0.6;
const FULL_ITEMS: f64 = 5.0;

impl Evaluator for SentimentEval {
    fn evaluate(&self, t: usize) -> AgentOutcome {
        let Some(&as_of) = self.closes_at.get(t) else {
            return out_of_range(NAME, t, self.closes_at.len());
        };
        let from = as_of.checked_sub_signed(self.cfg.lookback).unwrap_or(as_of);
        // Items strictly before the close, within the lookback.
        let end = self.cfg.items.partition_point(|i| i.time < as_of);
        let start = self.cfg.items.partition_point(|i| i.time < from);
        let window = self.cfg.items.get(start..end).unwrap_or_default();
        if window.is_empty() {
            return AgentOutcome::abstain(
                NAME,
                format!(
                    "no news or posts in the {} hours before this bar's close",
                    self.cfg.lookback.num_hours()
                ),
            );
        }
        let half_life_ms = self.cfg.half_life.num_milliseconds().max(1) as f64;
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for i in window {
            let age_ms = as_of
                .timestamp_millis()
                .saturating_sub(i.time.timestamp_millis())
                .max(0) as f64;
            let w = 0.5f64.powf(age_ms / half_life_ms);
            num += w * i.compound;
            den += w;
        }
        let tone = if den > 0.0 { num / den } else { 0.0 };
        let n = window.len() as f64;
        let action = if tone >= self.cfg.threshold {
            Action::Buy
        } else if tone <= -self.cfg.threshold {
            Action::Sell
        } else {
            Action::Hold
        };
        let strength = (tone.abs() / FULL_TONE).min(1.0) * (n / FULL_ITEMS).min(1.0);
        let confidence = match action {
            Action::Hold => 1.0 - (tone.abs() / self.cfg.threshold).min(1.0) * 0.5,
            _ => strength,
        };
        AgentSignal::new(NAME, action, confidence)
            .reason(format!(
                "{} item{} in the {} hours before the close, recency-weighted tone {tone:+.3} (threshold ±{})",
                window.len(),
                if window.len() == 1 { "" } else { "s" },
                self.cfg.lookback.num_hours(),
                self.cfg.threshold
            ))
            .metric("tone", tone)
            .metric("items", n)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use gs_domain::{Bar, Timeframe};

    fn bars(n: usize) -> Vec<Bar> {
        (0..n)
            .map(|i| {
                let t =
                    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() + Duration::days(i as i64);
                Bar::new(t, 10.0, 11.0, 9.0, 10.0, 100.0).unwrap()
            })
            .collect()
    }

    fn at(day: i64, hour: u32, compound: f64) -> ToneItem {
        ToneItem {
            time: Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0).unwrap() + Duration::days(day),
            compound,
        }
    }

    fn outcome(items: Vec<ToneItem>, t: usize) -> AgentOutcome {
        let b = bars(10);
        let market = Market::new(&b, Timeframe::D1).unwrap();
        SentimentAgent::new(items)
            .prepare(&market)
            .unwrap()
            .evaluate(t)
    }

    #[test]
    fn tone_votes_and_silence_abstains() {
        let good: Vec<ToneItem> = (0..5).map(|h| at(2, h, 0.8)).collect();
        let s = outcome(good.clone(), 2);
        assert_eq!(s.signal().unwrap().action, Action::Buy);
        assert!((s.signal().unwrap().confidence - 1.0).abs() < 1e-12);
        let bad: Vec<ToneItem> = good
            .iter()
            .map(|i| ToneItem {
                compound: -0.8,
                ..*i
            })
            .collect();
        assert_eq!(outcome(bad, 2).signal().unwrap().action, Action::Sell);
        assert!(
            outcome(good.clone(), 8).signal().is_none(),
            "72 hours later nothing is read"
        );
        assert!(
            outcome(good, 1).signal().is_none(),
            "the day before the items"
        );
    }

    #[test]
    fn no_look_ahead() {
        // Items after a bar's close never change its signal.
        let past = vec![at(1, 12, 0.5), at(2, 3, -0.2)];
        let mut with_future = past.clone();
        with_future.push(at(3, 1, -1.0));
        with_future.push(at(3, 0, -1.0)); // at day 2's close: not before it
        for t in 0..3 {
            assert_eq!(
                outcome(past.clone(), t),
                outcome(with_future.clone(), t),
                "bar {t}"
            );
        }
        assert_ne!(outcome(past, 3), outcome(with_future, 3));
    }
}
