//! `analyze_timeframes`: the same instrument read on several bar widths.

use chrono::{DateTime, Utc};
use gs_domain::{Bar, Timeframe, resample};
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::SignalError;
use crate::market::Market;
use crate::series::at;

/// The base timeframe and the next two coarser standard ones that it divides
/// evenly (1h gives 1h, 4h, 1d; 1d gives 1d, 1w).
pub fn default_timeframes(base: Timeframe) -> Vec<Timeframe> {
    let mut out = vec![base];
    out.extend(
        Timeframe::ALL
            .into_iter()
            .filter(|tf| *tf > base && tf.is_multiple_of(base))
            .take(2),
    );
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    Up,
    Down,
    Sideways,
}

impl TrendDirection {
    fn sign(self) -> f64 {
        match self {
            Self::Up => 1.0,
            Self::Down => -1.0,
            Self::Sideways => 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TrendView {
    /// Up when SMA(20) rose by at least 0.25 ATR(14) over 5 bars and the
    /// close is at or above it; down for the mirror image; else sideways.
    pub direction: TrendDirection,
    /// In [0, 1]: half from the SMA slope (2 ATR over 5 bars = full), half
    /// from ADX(14) (50 = full).
    pub strength: f64,
    pub sma20: f64,
    /// SMA(20) change over the last 5 bars, in ATR(14).
    pub sma_slope_atr: f64,
    /// SMA(20) change per bar, in percent of the SMA.
    pub sma_slope_pct_per_bar: f64,
    pub adx: Option<f64>,
    pub plus_di: Option<f64>,
    pub minus_di: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MomentumView {
    pub rsi14: Option<f64>,
    pub macd_histogram: Option<f64>,
    /// Mean of (RSI - 50) / 50 and the MACD histogram's sign, over those
    /// available; in [-1, 1].
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VolatilityView {
    pub atr14: Option<f64>,
    /// ATR(14) in percent of the close.
    pub atr_pct: Option<f64>,
    /// Bollinger(20, 2) width (upper - lower) in percent of the middle band.
    pub bollinger_width_pct: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LevelKind {
    /// A high that is the highest of the 2 bars either side.
    SwingHigh,
    /// A low that is the lowest of the 2 bars either side.
    SwingLow,
    /// The highest high of the last 20 bars.
    RangeHigh,
    /// The lowest low of the last 20 bars.
    RangeLow,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Level {
    pub price: f64,
    pub kind: LevelKind,
    #[schemars(with = "String")]
    pub time: DateTime<Utc>,
    /// Distance from the last close, in percent (positive above).
    pub distance_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct KeyLevels {
    /// Up to 3 levels below the close, nearest first.
    pub support: Vec<Level>,
    /// Up to 3 levels above the close, nearest first.
    pub resistance: Vec<Level>,
}

/// One timeframe's reading at its last bar.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TimeframeView {
    #[schemars(with = "String")]
    pub timeframe: Timeframe,
    pub bars: usize,
    /// Start of the last bar; for a resampled timeframe that bar may still
    /// be forming.
    #[schemars(with = "String")]
    pub last_time: DateTime<Utc>,
    pub close: f64,
    pub trend: Option<TrendView>,
    pub momentum: Option<MomentumView>,
    pub volatility: VolatilityView,
    pub levels: KeyLevels,
    /// 0.6 x trend sign x strength + 0.4 x momentum score, in [-1, 1];
    /// absent when there is too little history for a trend.
    pub score: Option<f64>,
    /// What could not be computed and why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TimeframeAnalysis {
    #[schemars(with = "String")]
    pub base: Timeframe,
    pub timeframes: Vec<TimeframeView>,
    /// Mean of the timeframe scores that exist, in [-1, 1]: +1 every
    /// timeframe in a strong uptrend with bullish momentum, -1 the reverse.
    pub alignment: f64,
    /// Up above +0.2, down below -0.2, sideways between.
    pub direction: TrendDirection,
    /// True when every timeframe has a trend and all point the same way (not sideways).
    pub aligned: bool,
    pub summary: String,
}

const TREND_MIN_SLOPE_ATR: f64 = 0.25;
const SLOPE_BARS: usize = 5;
const SWING_SPAN: usize = 2;
const LEVEL_WINDOW: usize = 120;
const RANGE_WINDOW: usize = 20;

/// Reads `bars` of timeframe `base` on each of `timeframes` (default
/// [`default_timeframes`]); every entry must be `base` or a coarser multiple.
pub fn analyze_timeframes(
    bars: &[Bar],
    base: Timeframe,
    timeframes: Option<&[Timeframe]>,
) -> Result<TimeframeAnalysis, SignalError> {
    Market::new(bars, base)?;
    let mut list = match timeframes {
        Some(given) => given.to_vec(),
        None => default_timeframes(base),
    };
    list.sort();
    list.dedup();
    if list.is_empty() {
        return Err(SignalError::InvalidTimeframes(format!(
            "the list is empty; give {base} and/or coarser timeframes, or omit it for the default"
        )));
    }
    if let Some(bad) = list.iter().find(|tf| !tf.is_multiple_of(base)) {
        return Err(SignalError::InvalidTimeframes(format!(
            "{bad} cannot be built from {base} bars; use {base} or a coarser multiple of it ({})",
            Timeframe::ALL
                .iter()
                .filter(|tf| tf.is_multiple_of(base))
                .map(|tf| tf.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut views = Vec::with_capacity(list.len());
    for tf in list {
        let resampled;
        let series: &[Bar] = if tf == base {
            bars
        } else {
            resampled = resample(bars, base, tf)?;
            &resampled
        };
        views.push(view(&Market::new(series, tf)?)?);
    }
    let scores: Vec<f64> = views.iter().filter_map(|v| v.score).collect();
    let alignment = if scores.is_empty() {
        0.0
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    let direction = if alignment > 0.2 {
        TrendDirection::Up
    } else if alignment < -0.2 {
        TrendDirection::Down
    } else {
        TrendDirection::Sideways
    };
    let trends: Vec<TrendDirection> = views
        .iter()
        .filter_map(|v| v.trend.as_ref().map(|t| t.direction))
        .collect();
    let aligned = trends.len() == views.len()
        && trends
            .first()
            .is_some_and(|&d| d != TrendDirection::Sideways && trends.iter().all(|&x| x == d));
    let summary = format!(
        "{}; alignment {alignment:+.2} ({})",
        views
            .iter()
            .map(|v| match &v.trend {
                Some(t) => format!(
                    "{}: {:?} (strength {:.2})",
                    v.timeframe, t.direction, t.strength
                )
                .to_lowercase(),
                None => format!("{}: not enough bars for a trend", v.timeframe),
            })
            .collect::<Vec<_>>()
            .join(", "),
        if aligned {
            "timeframes agree"
        } else {
            "timeframes disagree or are flat"
        }
    );
    Ok(TimeframeAnalysis {
        base,
        timeframes: views,
        alignment,
        direction,
        aligned,
        summary,
    })
}

fn view(market: &Market<'_>) -> Result<TimeframeView, SignalError> {
    let n = market.len();
    let t = market.last_index();
    let close = market.last().close();
    let mut notes = Vec::new();
    let hlc14 = [("timeperiod", 14.0)];
    let atr = at(&market.series("atr", &hlc14)?, t);
    let adx = at(&market.series("adx", &hlc14)?, t);
    let plus_di = at(&market.series("plus_di", &hlc14)?, t);
    let minus_di = at(&market.series("minus_di", &hlc14)?, t);
    let sma = market.series("sma", &[("timeperiod", 20.0)])?;
    let rsi = at(&market.series("rsi", &hlc14)?, t);
    let macd_hist = market.indicator("macd", &[])?.get(2).and_then(|h| at(h, t));
    let bands = market.indicator("bbands", &[("timeperiod", 20.0)])?;
    let band = |i: usize| bands.get(i).and_then(|b| at(b, t));

    let trend = match (
        at(&sma, t),
        t.checked_sub(SLOPE_BARS).and_then(|p| at(&sma, p)),
        atr,
    ) {
        (Some(now), Some(before), Some(atr)) => {
            let change = now - before;
            let slope_atr = if atr > 0.0 { change / atr } else { 0.0 };
            let direction = if slope_atr >= TREND_MIN_SLOPE_ATR && close >= now {
                TrendDirection::Up
            } else if slope_atr <= -TREND_MIN_SLOPE_ATR && close <= now {
                TrendDirection::Down
            } else {
                TrendDirection::Sideways
            };
            let slope_part = (slope_atr.abs() / 2.0).min(1.0);
            let strength = match adx {
                Some(adx) => 0.5 * slope_part + 0.5 * (adx / 50.0).min(1.0),
                None => slope_part,
            };
            Some(TrendView {
                direction,
                strength,
                sma20: now,
                sma_slope_atr: slope_atr,
                sma_slope_pct_per_bar: if before > 0.0 {
                    change / before / SLOPE_BARS as f64 * 100.0
                } else {
                    0.0
                },
                adx,
                plus_di,
                minus_di,
            })
        }
        _ => {
            notes.push(format!(
                "trend needs SMA(20) {SLOPE_BARS} bars back and ATR(14): at least {} bars, have {n}",
                20 + SLOPE_BARS
            ));
            None
        }
    };
    let momentum_parts: Vec<f64> = [
        rsi.map(|r| ((r - 50.0) / 50.0).clamp(-1.0, 1.0)),
        macd_hist.map(|h| {
            if h > 0.0 {
                1.0
            } else if h < 0.0 {
                -1.0
            } else {
                0.0
            }
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let momentum = if momentum_parts.is_empty() {
        notes.push(format!(
            "momentum needs RSI(14) (15 bars) or MACD (34 bars); have {n}"
        ));
        None
    } else {
        Some(MomentumView {
            rsi14: rsi,
            macd_histogram: macd_hist,
            score: momentum_parts.iter().sum::<f64>() / momentum_parts.len() as f64,
        })
    };
    let volatility = VolatilityView {
        atr14: atr,
        atr_pct: atr.filter(|_| close > 0.0).map(|a| a / close * 100.0),
        bollinger_width_pct: match (band(0), band(1), band(2)) {
            (Some(u), Some(m), Some(l)) if m > 0.0 => Some((u - l) / m * 100.0),
            _ => None,
        },
    };
    let score = trend.as_ref().map(|tr| {
        let m = momentum.as_ref().map_or(0.0, |m| m.score);
        (0.6 * tr.direction.sign() * tr.strength + 0.4 * m).clamp(-1.0, 1.0)
    });
    Ok(TimeframeView {
        timeframe: market.timeframe(),
        bars: n,
        last_time: market.last().time(),
        close,
        trend,
        momentum,
        volatility,
        levels: key_levels(market, atr),
        score,
        notes,
    })
}

/// `x[from..]`, empty when `from` is past the end.
fn from_index(x: &[f64], from: usize) -> &[f64] {
    x.get(from..).unwrap_or_default()
}

/// Swing highs and lows of the last `LEVEL_WINDOW` bars plus the recent
/// range; levels closer than half an ATR (0.5% without one) are merged, since
/// a trader reads them as one zone. Swings need `SWING_SPAN` bars on each
/// side, so this describes the past and is not used for signals.
fn key_levels(market: &Market<'_>, atr: Option<f64>) -> KeyLevels {
    let (high, low, bars) = (market.high(), market.low(), market.bars());
    let n = market.len();
    let close = market.last().close();
    let from = n.saturating_sub(LEVEL_WINDOW);
    let recent = |x| from_index(x, from);
    let span = 2 * SWING_SPAN + 1;
    let mut candidates: Vec<(f64, LevelKind, usize)> = Vec::new();
    for (offset, (h, l)) in recent(high)
        .windows(span)
        .zip(recent(low).windows(span))
        .enumerate()
    {
        let i = from.saturating_add(offset).saturating_add(SWING_SPAN);
        if let Some(&top) = h.get(SWING_SPAN)
            && h.iter().all(|&x| x <= top)
        {
            candidates.push((top, LevelKind::SwingHigh, i));
        }
        if let Some(&bottom) = l.get(SWING_SPAN)
            && l.iter().all(|&x| x >= bottom)
        {
            candidates.push((bottom, LevelKind::SwingLow, i));
        }
    }
    // The first bar of the last `RANGE_WINDOW` with the most extreme value.
    let range_from = n.saturating_sub(RANGE_WINDOW);
    let extreme = |x: &[f64], better: fn(f64, f64) -> bool| {
        x.iter()
            .enumerate()
            .skip(range_from)
            .fold(None, |best: Option<(usize, f64)>, (j, &v)| match best {
                Some((_, b)) if !better(v, b) => best,
                _ => Some((j, v)),
            })
    };
    if let Some((i, price)) = extreme(high, |a, b| a > b) {
        candidates.push((price, LevelKind::RangeHigh, i));
    }
    if let Some((i, price)) = extreme(low, |a, b| a < b) {
        candidates.push((price, LevelKind::RangeLow, i));
    }

    let merge = atr.filter(|a| *a > 0.0).map_or(close * 0.005, |a| a * 0.5);
    let pick = |above: bool| {
        let mut side: Vec<&(f64, LevelKind, usize)> = candidates
            .iter()
            .filter(|(p, _, _)| if above { *p > close } else { *p < close })
            .collect();
        // Nearest first; the later bar first among equals, so ties are stable.
        side.sort_by(|a, b| {
            (a.0 - close)
                .abs()
                .total_cmp(&(b.0 - close).abs())
                .then(b.2.cmp(&a.2))
        });
        let mut kept: Vec<Level> = Vec::new();
        for &&(price, kind, i) in &side {
            if kept.len() == 3 {
                break;
            }
            if kept.iter().all(|k| (k.price - price).abs() >= merge) {
                kept.push(Level {
                    price,
                    kind,
                    time: bars.get(i).unwrap_or(market.last()).time(),
                    distance_pct: if close > 0.0 {
                        (price - close) / close * 100.0
                    } else {
                        0.0
                    },
                });
            }
        }
        kept
    };
    KeyLevels {
        support: pick(false),
        resistance: pick(true),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn bars(closes: &[f64], step: Duration) -> Vec<Bar> {
        let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let mut prev = closes[0];
        closes
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let o = prev;
                prev = c;
                Bar::new(
                    t0 + step * i as i32,
                    o,
                    o.max(c) * 1.002,
                    o.min(c) * 0.998,
                    c,
                    10.0,
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn default_ladder_is_base_and_two_coarser() {
        use Timeframe::*;
        assert_eq!(default_timeframes(H1), [H1, H4, D1]);
        assert_eq!(default_timeframes(M5), [M5, M15, M30]);
        assert_eq!(default_timeframes(D1), [D1, W1]);
        assert_eq!(default_timeframes(W1), [W1]);
    }

    #[test]
    fn an_hourly_uptrend_is_up_and_aligned_on_every_timeframe() {
        let closes: Vec<f64> = (0..24 * 40).map(|i| 100.0 * 1.001_f64.powi(i)).collect();
        let a =
            analyze_timeframes(&bars(&closes, Duration::hours(1)), Timeframe::H1, None).unwrap();
        let names: Vec<_> = a.timeframes.iter().map(|v| v.timeframe).collect();
        assert_eq!(names, [Timeframe::H1, Timeframe::H4, Timeframe::D1]);
        assert_eq!(a.timeframes[2].bars, 40);
        for v in &a.timeframes {
            let t = v.trend.as_ref().unwrap();
            assert_eq!(t.direction, TrendDirection::Up, "{}", v.timeframe);
            assert!(v.momentum.as_ref().unwrap().score > 0.0);
            assert!(v.volatility.atr_pct.unwrap() > 0.0);
            assert!(v.score.unwrap() > 0.0 && v.score.unwrap() <= 1.0);
        }
        assert!(a.aligned);
        assert_eq!(a.direction, TrendDirection::Up);
        assert!(a.alignment > 0.2 && a.alignment <= 1.0);
    }

    #[test]
    fn a_daily_downtrend_is_down_and_levels_bracket_the_close() {
        // A falling zigzag: swings on both sides of the last close.
        let closes: Vec<f64> = (0..200)
            .map(|i| 300.0 - i as f64 + 6.0 * ((i as f64) * 0.6).sin())
            .collect();
        let a = analyze_timeframes(&bars(&closes, Duration::days(1)), Timeframe::D1, None).unwrap();
        assert_eq!(a.direction, TrendDirection::Down);
        let d = &a.timeframes[0];
        assert_eq!(d.trend.as_ref().unwrap().direction, TrendDirection::Down);
        let close = d.close;
        assert!(!d.levels.resistance.is_empty());
        assert!(
            d.levels
                .resistance
                .iter()
                .all(|l| l.price > close && l.distance_pct > 0.0)
        );
        assert!(d.levels.support.iter().all(|l| l.price < close));
        let r = &d.levels.resistance;
        assert!(
            r.windows(2).all(|w| w[0].price <= w[1].price),
            "nearest first"
        );
    }

    #[test]
    fn short_history_is_noted_not_an_error() {
        let a = analyze_timeframes(
            &bars(&[100.0, 101.0, 102.0], Duration::days(1)),
            Timeframe::D1,
            None,
        )
        .unwrap();
        assert!(a.timeframes[0].trend.is_none());
        assert!(!a.timeframes[0].notes.is_empty());
        assert_eq!(a.alignment, 0.0);
        assert!(!a.aligned);
    }

    #[test]
    fn timeframes_must_be_coarser_multiples() {
        let b = bars(&[100.0; 30], Duration::hours(4));
        let err = analyze_timeframes(&b, Timeframe::H4, Some(&[Timeframe::H1])).unwrap_err();
        assert!(err.to_string().contains("4h, 1d, 1w"), "{err}");
        assert!(analyze_timeframes(&b, Timeframe::H4, Some(&[])).is_err());
        let a = analyze_timeframes(
            &b,
            Timeframe::H4,
            Some(&[Timeframe::D1, Timeframe::H4, Timeframe::D1]),
        )
        .unwrap();
        assert_eq!(a.timeframes.len(), 2);
        assert!(analyze_timeframes(&[], Timeframe::H4, None).is_err());
    }
}
