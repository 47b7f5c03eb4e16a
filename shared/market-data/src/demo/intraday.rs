//! Intraday bars that reproduce the session's daily bar exactly. The session
//! is split into hourly bars, and an hour into 5-minute bars, by the same
//! step: a fat-tailed random walk bent into a bridge from the parent's open to
//! its close and stretched to touch its high and low. So 5m bars aggregate to
//! their hour, hours to the day, and generating 1h bars for six months does
//! not cost six months of 5m bars.

use std::ops::Range;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use gs_domain::{Bar, Timeframe};

use super::Market;
use super::daily::{Session, cents};
use super::rng::Rng;

/// US regular session, 09:30-16:00 New York in winter, kept fixed in UTC all
/// year: the demo has no daylight-saving calendar.
const EQUITY_OPEN_UTC: (u32, u32) = (14, 30);
const SLOT_MINUTES: i64 = 5;

fn slots_per_session(market: Market) -> usize {
    match market {
        Market::Equity => 78, // 6.5 hours
        Market::Crypto => 288,
    }
}

pub(crate) fn session_start(market: Market, date: NaiveDate) -> DateTime<Utc> {
    let clock = match market {
        Market::Equity => NaiveTime::from_hms_opt(EQUITY_OPEN_UTC.0, EQUITY_OPEN_UTC.1, 0),
        Market::Crypto => NaiveTime::from_hms_opt(0, 0, 0),
    }
    .unwrap_or(NaiveTime::MIN);
    Utc.from_utc_datetime(&date.and_time(clock))
}

pub(crate) fn session_end(market: Market, date: NaiveDate) -> DateTime<Utc> {
    session_start(market, date) + Duration::minutes(SLOT_MINUTES * slots_per_session(market) as i64)
}

/// How much of the parent's variance and volume a child bar gets, relative
/// to its siblings.
#[derive(Debug, Clone, Copy)]
struct Share {
    variance: f64,
    volume: f64,
}

/// Activity of each 5-minute slot of a session. Stocks: a U over the day
/// (busy open and close, quiet lunch) with extra volume in the opening and
/// closing auctions. Crypto: a gentle swell while Europe and the US are both
/// awake (about 12:00-20:00 UTC).
fn slot_shares(market: Market) -> Vec<Share> {
    let n = slots_per_session(market);
    (0..n)
        .map(|k| {
            let x = (k as f64 + 0.5) / n as f64;
            match market {
                Market::Equity => {
                    let u = (2.0 * x - 1.0).powi(2);
                    let auction = match k {
                        0 => 1.8,
                        k if k == n - 1 => 2.5,
                        _ => 1.0,
                    };
                    Share {
                        variance: 1.0 + 1.5 * u,
                        volume: (1.0 + 3.0 * u) * auction,
                    }
                }
                Market::Crypto => {
                    let swell =
                        1.0 + 0.4 * (std::f64::consts::TAU * (24.0 * x - 16.0) / 24.0).cos();
                    Share {
                        variance: swell,
                        volume: swell,
                    }
                }
            }
        })
        .collect()
}

/// A bar under construction.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Ohlcv {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

/// The session as 1h bars (stamped at the start of their UTC hour, as
/// [`Timeframe::bucket_start`] aligns them, so the first stock hour covers
/// only 14:30-15:00) and, when `five_minute` is given, as 5m bars too.
/// The two streams are separate so that asking for 5m bars never changes the 1h bars.
pub(crate) fn intraday_bars(
    market: Market,
    session: &Session,
    hourly: &mut Rng,
    five_minute: Option<&mut Rng>,
) -> (Vec<Bar>, Vec<Bar>) {
    let start = session_start(market, session.date);
    let slot_time = |k: usize| start + Duration::minutes(SLOT_MINUTES * k as i64);
    let slots = slot_shares(market);

    let mut hours: Vec<(DateTime<Utc>, Range<usize>)> = Vec::new();
    for k in 0..slots.len() {
        let bucket = Timeframe::H1.bucket_start(slot_time(k));
        match hours.last_mut() {
            Some((hour, range)) if *hour == bucket => range.end = k + 1,
            _ => hours.push((bucket, k..k + 1)),
        }
    }
    let hour_shares: Vec<Share> = hours
        .iter()
        .map(|(_, range)| Share {
            variance: slots[range.clone()].iter().map(|s| s.variance).sum(),
            volume: slots[range.clone()].iter().map(|s| s.volume).sum(),
        })
        .collect();
    let total_variance: f64 = hour_shares.iter().map(|s| s.variance).sum();

    let day = Ohlcv {
        open: session.open,
        high: session.high,
        low: session.low,
        close: session.close,
        volume: session.volume,
    };
    let hour_bars = split(&day, session.session_variance, &hour_shares, hourly);
    let hourly_out = hours
        .iter()
        .zip(&hour_bars)
        .map(|((time, _), b)| to_bar(*time, b))
        .collect();

    let mut five_out = Vec::new();
    if let Some(rng) = five_minute {
        for (((_, range), share), hour) in hours.iter().zip(&hour_shares).zip(&hour_bars) {
            let variance = session.session_variance * share.variance / total_variance;
            let bars = split(hour, variance, &slots[range.clone()], rng);
            five_out.extend(
                range
                    .clone()
                    .zip(&bars)
                    .map(|(k, b)| to_bar(slot_time(k), b)),
            );
        }
    }
    (hourly_out, five_out)
}

fn to_bar(time: DateTime<Utc>, b: &Ohlcv) -> Bar {
    Bar::new(time, b.open, b.high, b.low, b.close, b.volume)
        .expect("child bars are clamped inside their parent's valid range")
}

/// Splits `parent` (whose log price moves with `variance` from open to
/// close) into children that aggregate to it exactly: the first opens at its
/// open, the last closes at its close, one reaches its high and one its low,
/// and the volumes add up to its volume.
fn split(parent: &Ohlcv, variance: f64, shares: &[Share], rng: &mut Rng) -> Vec<Ohlcv> {
    let n = shares.len();
    let total: f64 = shares.iter().map(|s| s.variance).sum();
    let step_variance: Vec<f64> = shares
        .iter()
        .map(|s| variance * s.variance / total)
        .collect();

    // A fat-tailed random walk in log price...
    let mut shocks = Vec::with_capacity(n);
    let mut walk = vec![0.0; n + 1];
    let mut elapsed = vec![0.0; n + 1];
    for k in 0..n {
        let z = rng.fat_tailed();
        shocks.push(z);
        walk[k + 1] = walk[k] + step_variance[k].sqrt() * z;
        elapsed[k + 1] = elapsed[k] + shares[k].variance / total;
    }
    elapsed[n] = 1.0;

    // ...bent into a bridge to the parent's close (in variance time, so busy
    // slots move more), then stretched separately above and below the
    // open-to-close line so that its highest point is the high and its lowest the low.
    let c = (parent.close / parent.open).ln();
    let h = (parent.high / parent.open).ln();
    let l = (parent.low / parent.open).ln();
    let line: Vec<f64> = elapsed.iter().map(|f| f * c).collect();
    let excursion: Vec<f64> = (0..=n).map(|k| walk[k] - elapsed[k] * walk[n]).collect();
    let (mut up, mut down) = (f64::INFINITY, f64::INFINITY);
    for k in 1..n {
        let d = excursion[k];
        if d > 0.0 {
            up = up.min((h - line[k]) / d);
        } else if d < 0.0 {
            down = down.min((l - line[k]) / d);
        }
    }
    let mut prices: Vec<f64> = (0..=n)
        .map(|k| {
            let d = excursion[k];
            let stretch = if d > 0.0 { up } else { down };
            let log = line[k] + stretch.max(0.0) * d;
            cents(parent.open * log.exp()).clamp(parent.low, parent.high)
        })
        .collect();
    prices[0] = parent.open;
    prices[n] = parent.close;

    let volumes = split_volume(parent.volume, shares, &shocks, rng);
    let mut children: Vec<Ohlcv> = (0..n)
        .map(|k| {
            let (open, close) = (prices[k], prices[k + 1]);
            // Wicks: the extremes of a Brownian bridge over the child, half
            // its variance since the walk between slots already moved.
            let v = step_variance[k] * 0.5;
            let m = (close / open).ln();
            let above = (m + (m * m - 2.0 * v * rng.uniform().ln()).sqrt()) / 2.0;
            let below = (m - (m * m - 2.0 * v * rng.uniform().ln()).sqrt()) / 2.0;
            Ohlcv {
                open,
                high: cents(open * above.exp()).clamp(open.max(close), parent.high),
                low: cents(open * below.exp()).clamp(parent.low, open.min(close)),
                close,
                volume: volumes[k],
            }
        })
        .collect();
    // The parent's extremes appear on the children that came closest.
    let highest = argmax(children.iter().map(|b| b.high));
    children[highest].high = parent.high;
    let lowest = argmax(children.iter().map(|b| -b.low));
    children[lowest].low = parent.low;
    children
}

/// Splits a whole-number volume over the children: by their activity share,
/// more where the price moved, with some noise. Cumulative rounding keeps
/// every child a whole number and the total exact.
fn split_volume(total: f64, shares: &[Share], shocks: &[f64], rng: &mut Rng) -> Vec<f64> {
    let weights: Vec<f64> = shares
        .iter()
        .zip(shocks)
        .map(|(s, z)| s.volume * (1.0 + 0.8 * z.abs()) * (0.3 * rng.normal()).exp())
        .collect();
    let sum: f64 = weights.iter().sum();
    let mut cumulative = 0.0;
    let mut allotted = 0.0;
    let mut volumes: Vec<f64> = weights
        .iter()
        .map(|w| {
            cumulative += w / sum;
            let v = ((total * cumulative.min(1.0)).round() - allotted).max(0.0);
            allotted += v;
            v
        })
        .collect();
    if let Some(last) = volumes.last_mut() {
        *last += (total - allotted).max(0.0);
    }
    volumes
}

fn argmax(values: impl Iterator<Item = f64>) -> usize {
    values
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}
