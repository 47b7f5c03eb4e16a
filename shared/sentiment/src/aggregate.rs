//! Tone over many items: plain and recency-weighted means, the bullish and
//! bearish split, and how busy the window is against its own past.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use crate::score::POSITIVE_THRESHOLD;

/// One scored item, for aggregation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoredPoint {
    pub time: DateTime<Utc>,
    pub compound: f64,
    /// Engagement (posts); 0 for news.
    pub engagement: f64,
}

/// Aggregate tone of a window.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ToneSummary {
    pub items: usize,
    /// Mean compound; absent without items.
    pub mean: Option<f64>,
    /// Mean compound with weights 0.5^(age / half-life), age from `as_of`.
    pub recency_weighted: Option<f64>,
    pub half_life_hours: f64,
    /// Mean compound weighted by 1 + ln(1 + engagement) (posts).
    pub engagement_weighted: Option<f64>,
    /// Items with compound ≥ 0.05.
    pub bullish: usize,
    /// Items with compound ≤ −0.05.
    pub bearish: usize,
    pub neutral: usize,
    /// bullish / bearish; absent when nothing is bearish.
    pub bull_bear_ratio: Option<f64>,
    /// bullish / (bullish + bearish); absent when nothing is either.
    pub bullish_share: Option<f64>,
}

fn weighted(points: &[ScoredPoint], weight: impl Fn(&ScoredPoint) -> f64) -> Option<f64> {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for p in points {
        let w = weight(p);
        num += w * p.compound;
        den += w;
    }
    (den > 0.0).then(|| num / den)
}

pub fn summarise(
    points: &[ScoredPoint],
    as_of: DateTime<Utc>,
    half_life_hours: f64,
) -> ToneSummary {
    let bullish = points
        .iter()
        .filter(|p| p.compound >= POSITIVE_THRESHOLD)
        .count();
    let bearish = points
        .iter()
        .filter(|p| p.compound <= -POSITIVE_THRESHOLD)
        .count();
    let neutral = points.len().saturating_sub(bullish).saturating_sub(bearish);
    let recency = |p: &ScoredPoint| {
        let age_ms = as_of
            .timestamp_millis()
            .saturating_sub(p.time.timestamp_millis());
        let age_hours = age_ms.max(0) as f64 / 3_600_000.0;
        0.5f64.powf(age_hours / half_life_hours)
    };
    let polar = bullish.saturating_add(bearish);
    ToneSummary {
        items: points.len(),
        mean: weighted(points, |_| 1.0),
        recency_weighted: weighted(points, recency),
        half_life_hours,
        engagement_weighted: weighted(points, |p| 1.0 + p.engagement.max(0.0).ln_1p()),
        bullish,
        bearish,
        neutral,
        bull_bear_ratio: (bearish > 0).then(|| bullish as f64 / bearish as f64),
        bullish_share: (polar > 0).then(|| bullish as f64 / polar as f64),
    }
}

/// How busy a window is against its own past.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VolumeReading {
    /// Items in the window.
    pub items: usize,
    pub per_day: f64,
    /// Items per day over the baseline before the window.
    pub baseline_per_day: f64,
    pub baseline_days: f64,
    /// per_day / baseline_per_day; absent when the baseline is empty.
    pub ratio: Option<f64>,
}

pub fn volume(
    items: usize,
    window_days: f64,
    baseline_items: usize,
    baseline_days: f64,
) -> VolumeReading {
    let per_day = if window_days > 0.0 {
        items as f64 / window_days
    } else {
        0.0
    };
    let baseline_per_day = if baseline_days > 0.0 {
        baseline_items as f64 / baseline_days
    } else {
        0.0
    };
    VolumeReading {
        items,
        per_day,
        baseline_per_day,
        baseline_days,
        ratio: (baseline_per_day > 0.0).then(|| per_day / baseline_per_day),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn recency_halves_per_half_life() {
        let now = Utc::now();
        let pts = [
            ScoredPoint {
                time: now,
                compound: 1.0,
                engagement: 0.0,
            },
            ScoredPoint {
                time: now - Duration::hours(24),
                compound: -1.0,
                engagement: 0.0,
            },
        ];
        let s = summarise(&pts, now, 24.0);
        assert_eq!(s.mean, Some(0.0));
        // weights 1 and 0.5: (1 - 0.5) / 1.5
        assert!((s.recency_weighted.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((s.bullish, s.bearish, s.neutral), (1, 1, 0));
        assert_eq!(s.bull_bear_ratio, Some(1.0));
        assert_eq!(summarise(&[], now, 24.0).mean, None);
        let v = volume(10, 2.0, 30, 30.0);
        assert_eq!(v.ratio, Some(5.0));
    }
}
