//! Market sentiment from prices across a universe: advance/decline, the
//! share above their 50- and 200-day averages, new 52-week highs against
//! lows, the realised-volatility regime, and a 0-100 composite of them.
//!
//! Each symbol is read at its own last bar at or before the as-of time
//! (the caller cuts the closes). Conventions: a 52-week high is a close at
//! or above every close of the last 252 bars; realised volatility is the
//! sample standard deviation of the last 20 log returns times √252; its
//! regime is the percentile of today's value among the last 252 daily
//! values of the same measure.

use schemars::JsonSchema;
use serde::Serialize;

pub const SHORT_AVERAGE: usize = 50;
pub const LONG_AVERAGE: usize = 200;
pub const YEAR: usize = 252;
pub const VOL_WINDOW: usize = 20;

/// One component of the composite.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Component {
    pub name: String,
    /// The reading, in its own unit.
    pub value: Option<f64>,
    /// Its 0-100 score (100 most bullish); absent when not available.
    pub score: Option<f64>,
    /// Symbols that had enough history for it.
    pub symbols: usize,
    pub note: String,
}

/// Market sentiment of a universe.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Breadth {
    pub symbols: usize,
    pub advancing: usize,
    pub declining: usize,
    pub unchanged: usize,
    pub above_sma50: usize,
    pub above_sma200: usize,
    pub new_highs: usize,
    pub new_lows: usize,
    /// Median across symbols of the realised-volatility percentile (0-100).
    pub volatility_percentile: Option<f64>,
    pub components: Vec<Component>,
    /// Mean of the available components' scores, 0-100.
    pub composite: Option<f64>,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn realised_vol(closes: &[f64]) -> Option<f64> {
    if closes.len() < VOL_WINDOW.saturating_add(1) {
        return None;
    }
    let tail = closes.get(closes.len().saturating_sub(VOL_WINDOW.saturating_add(1))..)?;
    let rets: Vec<f64> = tail
        .windows(2)
        .filter_map(|w| match w {
            [a, b] if *a > 0.0 && *b > 0.0 => Some((b / a).ln()),
            _ => None,
        })
        .collect();
    if rets.len() < 2 {
        return None;
    }
    let m = mean(&rets);
    let var = rets.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (rets.len() as f64 - 1.0);
    Some(var.sqrt() * (YEAR as f64).sqrt())
}

/// Percentile (0-100) of today's realised volatility among the last year's.
fn vol_percentile(closes: &[f64]) -> Option<f64> {
    let today = realised_vol(closes)?;
    let mut history = Vec::new();
    for back in 0..YEAR {
        let end = closes.len().checked_sub(back)?;
        match closes.get(..end).and_then(realised_vol) {
            Some(v) => history.push(v),
            None => break,
        }
    }
    if history.len() < VOL_WINDOW {
        return None;
    }
    let below = history.iter().filter(|v| **v <= today).count();
    Some(100.0 * below as f64 / history.len() as f64)
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len().is_multiple_of(2) {
        Some((xs.get(mid.saturating_sub(1))? + xs.get(mid)?) / 2.0)
    } else {
        xs.get(mid).copied()
    }
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// Breadth of a universe; each entry is one symbol's closes, oldest first,
/// ending at its last bar at or before the as-of time.
pub fn breadth(universe: &[&[f64]]) -> Breadth {
    let (mut adv, mut dec, mut unch) = (0usize, 0usize, 0usize);
    let (mut above50, mut have50, mut above200, mut have200) = (0usize, 0usize, 0usize, 0usize);
    let (mut highs, mut lows, mut have_year) = (0usize, 0usize, 0usize);
    let mut vol_pcts = Vec::new();
    for closes in universe {
        let n = closes.len();
        let (Some(&last), Some(&prev)) =
            (closes.last(), n.checked_sub(2).and_then(|i| closes.get(i)))
        else {
            continue;
        };
        match last.partial_cmp(&prev) {
            Some(std::cmp::Ordering::Greater) => adv = adv.saturating_add(1),
            Some(std::cmp::Ordering::Less) => dec = dec.saturating_add(1),
            _ => unch = unch.saturating_add(1),
        }
        if let Some(tail) = closes
            .get(n.saturating_sub(SHORT_AVERAGE)..)
            .filter(|t| t.len() == SHORT_AVERAGE)
        {
            have50 = have50.saturating_add(1);
            if last > mean(tail) {
                above50 = above50.saturating_add(1);
            }
        }
        if let Some(tail) = closes
            .get(n.saturating_sub(LONG_AVERAGE)..)
            .filter(|t| t.len() == LONG_AVERAGE)
        {
            have200 = have200.saturating_add(1);
            if last > mean(tail) {
                above200 = above200.saturating_add(1);
            }
        }
        if let Some(tail) = closes
            .get(n.saturating_sub(YEAR)..)
            .filter(|t| t.len() == YEAR)
        {
            have_year = have_year.saturating_add(1);
            if tail.iter().all(|c| last >= *c) {
                highs = highs.saturating_add(1);
            }
            if tail.iter().all(|c| last <= *c) {
                lows = lows.saturating_add(1);
            }
        }
        if let Some(p) = vol_percentile(closes) {
            vol_pcts.push(p);
        }
    }
    let moved = adv.saturating_add(dec);
    let hl = highs.saturating_add(lows);
    let vol_symbols = vol_pcts.len();
    let vol = median(vol_pcts);
    let components = vec![
        Component {
            name: "advance_decline".into(),
            value: share(adv, moved).map(|s| s / 100.0),
            score: share(adv, moved),
            symbols: moved.saturating_add(unch),
            note: format!("{adv} advancing, {dec} declining, {unch} unchanged at their last bar"),
        },
        Component {
            name: "above_sma50".into(),
            value: share(above50, have50),
            score: share(above50, have50),
            symbols: have50,
            note: format!("{above50} of {have50} close above their 50-bar average"),
        },
        Component {
            name: "above_sma200".into(),
            value: share(above200, have200),
            score: share(above200, have200),
            symbols: have200,
            note: format!("{above200} of {have200} close above their 200-bar average"),
        },
        Component {
            name: "highs_lows".into(),
            value: (have_year > 0).then_some(highs as f64 - lows as f64),
            score: if have_year == 0 { None } else { Some(share(highs, hl).unwrap_or(50.0)) },
            symbols: have_year,
            note: format!("{highs} new 52-week highs, {lows} new lows (score 50 when neither)"),
        },
        Component {
            name: "volatility_regime".into(),
            value: vol,
            score: vol.map(|p| 100.0 - p),
            symbols: vol_symbols,
            note: "median percentile of 20-day realised volatility within its last year; calm scores high".into(),
        },
    ];
    let scores: Vec<f64> = components.iter().filter_map(|c| c.score).collect();
    Breadth {
        symbols: universe.len(),
        advancing: adv,
        declining: dec,
        unchanged: unch,
        above_sma50: above50,
        above_sma200: above200,
        new_highs: highs,
        new_lows: lows,
        volatility_percentile: vol,
        composite: (!scores.is_empty()).then(|| mean(&scores)),
        components,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_and_a_falling_symbol() {
        let up: Vec<f64> = (0..300).map(|i| 100.0 + f64::from(i)).collect();
        let down: Vec<f64> = (0..300).map(|i| 400.0 - f64::from(i)).collect();
        let b = breadth(&[&up, &down]);
        assert_eq!((b.advancing, b.declining), (1, 1));
        assert_eq!((b.above_sma50, b.above_sma200), (1, 1));
        assert_eq!((b.new_highs, b.new_lows), (1, 1));
        let ad = &b.components[0];
        assert_eq!(ad.score, Some(50.0));
        assert!(b.composite.is_some());
    }

    #[test]
    fn short_histories_leave_components_out() {
        let short = [1.0, 2.0, 3.0];
        let b = breadth(&[&short]);
        assert_eq!(b.components[1].score, None);
        assert_eq!(
            b.composite,
            Some(100.0),
            "only advance/decline is available"
        );
    }
}
