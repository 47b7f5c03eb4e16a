//! Seeded synthetic option chains and trade prints for one underlying, from
//! its daily closes: a chain snapshot at each of the last few closes and a
//! few days of trade prints with **planted** sweeps and blocks, whose ids
//! are returned as the ground truth ([`Planted`]) so the detector in
//! [`crate::flow`] can be measured. Nothing here is market data: the caller
//! must mark every output synthetic. The same input and seed always give
//! the same output (own PRNG, no hash-order dependence).
//!
//! # Volatility surface ([`VolSurface`])
//!
//! - short vol = [`realised_vol`] of the last [`SHORT_WINDOW`] log returns,
//!   long vol = that of the last [`LONG_WINDOW`] (or all there are), each
//!   floored at [`VOL_FLOOR`] (10%);
//! - at the money: `atm(T) = long + (short - long) x exp(-T / 0.25)`: the
//!   short end follows recent realised vol, the long end the longer one;
//! - with `z = ln(K / F) / (atm(T) x sqrt(max(T, 1 week)))` (standardised
//!   log-moneyness, clamped to ±4) and `F = S e^((r - q) T)`:
//!   `vol = atm(T) x (1 + SKEW z + SMILE z²)` with `SKEW = -0.12` (puts
//!   richer) and `SMILE = 0.06` (convexity; the bracket is at least 0.94),
//!   clamped to [`VOL_MIN`]–[`VOL_MAX`] (5%–300%).
//!
//! # Listing
//!
//! Expiries ([`list_expiries`]) after the snapshot date: the next 4
//! Fridays, the 3rd Fridays of the next 6 months, and the 3rd Friday of
//! January of the next 2 years (holidays ignored). Strikes
//! ([`list_strikes`]) step 1 below $50, 2.5 to $200, 5 above, within ±30% of
//! spot up to 60 days, ±50% to a year, ±70% beyond. Calls and puts,
//! multiplier 100, American.
//!
//! # Quotes
//!
//! The model price is BSM ([`crate::european::bsm_price`]) at the surface
//! vol, `t` = calendar time to 21:00 UTC of expiry / 365 days (snapshots
//! are at 21:00 UTC, so whole days / 365). Spread = `$0.02 + rel x model`
//! with `rel = 3% + 6% x min(|z|, 3) / 3` (3% at the money to 9% far from
//! it; the $0.02 floor makes cheap options relatively wide). Bid = model -
//! spread/2 rounded down to its tick (0 when under one tick), ask = model +
//! spread/2 rounded up; tick 0.01 below $3, 0.05 from $3 (per side).
//!
//! Activity `a = exp(-z²/2) x w x round` where `w` runs smoothly from 0.35
//! (in the money) to 1 (out of the money) and `round` is 2 for strikes that
//! are multiples of 50, 1.6 of 10, 1.25 of 5, 1 of 1, 0.85 otherwise. Mean
//! volume `2,500 a e^(-T/0.12)`, mean new open interest `8,000 a (0.3 +
//! 0.7 e^(-T))`, both times lognormal noise. Open interest then evolves:
//! `OI(d) = max(0, OI(d-1) + volume(d-1) x U(-0.25, 0.6))`. A day's volume
//! includes its generated prints.
//!
//! # Prints
//!
//! For each of the last `print_days` closes, during 14:30–21:00 UTC, on an
//! intraday Brownian bridge from the previous close to the close (daily vol
//! = short vol / √252), each print carrying the NBBO (re-quoted at the
//! print's spot and time) and the underlying price. Contracts are those
//! listed at that day's close.
//!
//! - Planted sweeps: a near-term (≤ 60 days) contract worth ≥ $0.10, 3–6
//!   distinct exchanges, legs within 200 ms, all at the ask, 300–2,000
//!   contracts in total, condition `ISOI`.
//! - Planted blocks: one print of 800–5,000 contracts at or a cent inside
//!   the ask (bought) or the bid (sold).
//! - Background prints: contracts weighted by mean volume, sizes mostly
//!   1–50 (never 100 or more), premium under half the default block premium,
//!   one exchange, price at the ask, at the bid or at the mid.
//!
//! No two events (a background print, a sweep, a block) on one contract
//! come within [`MIN_GAP_MS`] (2 s) of each other, so with the default
//! [`FlowConfig`] (and any sweep window up to 2 s) background prints can
//! form neither sweeps nor blocks, and each planted event is found alone.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc, Weekday};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::chain::{
    ChainSnapshot, Contract, DEFAULT_MULTIPLIER, ExerciseStyle, OptionQuote, Right, TradePrint,
};
use crate::european::{BlackInputs, bsm_price};
use crate::flow::FlowConfig;

/// Names this generator (bump when its output for a seed changes).
pub const DEMO_GENERATOR: &str = "gs-options-demo-v1";
/// Exchanges prints are spread over.
pub const EXCHANGES: [&str; 15] = [
    "CBOE", "ISE", "PHLX", "AMEX", "BOX", "MIAX", "NSDQ", "ARCA", "BATS", "EDGX", "C2", "GEMX",
    "MRX", "PEARL", "EMLD",
];
/// Closes the generator needs at least.
pub const MIN_CLOSES: usize = 30;
/// Log returns behind the short (base) vol.
pub const SHORT_WINDOW: usize = 20;
/// Log returns behind the long vol (fewer when there are fewer).
pub const LONG_WINDOW: usize = 120;
pub const VOL_FLOOR: f64 = 0.10;
pub const VOL_MIN: f64 = 0.05;
pub const VOL_MAX: f64 = 3.0;
/// Vol change per unit of standardised log-moneyness (negative: puts richer).
pub const SKEW: f64 = -0.12;
/// Convexity in standardised log-moneyness.
pub const SMILE: f64 = 0.06;
/// Years over which the short-end vol gives way to the long one.
pub const TERM_DECAY_YEARS: f64 = 0.25;
/// The least time between two events on one contract.
pub const MIN_GAP_MS: i64 = 2_000;

const SESSION_MS: i64 = 23_400_000; // 14:30 to 21:00
const MINUTES: usize = 390;
const YEAR_MS: f64 = 365.0 * 86_400_000.0;
const NEAR_TERM_YEARS: f64 = 60.0 / 365.0;
const SWEEP_SPAN_MS: i64 = 200;

/// One underlying's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DemoUnderlying {
    /// Upper case, 1-6 letters or digits (the OCC root).
    pub symbol: String,
    /// Daily closes, ascending by date, at least [`MIN_CLOSES`].
    pub closes: Vec<(NaiveDate, f64)>,
    /// Continuously compounded risk-free rate.
    pub rate: f64,
    /// Continuous dividend yield.
    pub dividend: f64,
}

/// How much to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DemoConfig {
    pub seed: u64,
    /// Chain snapshots for the last N closes. Default 10.
    pub snapshot_days: usize,
    /// Days of trade prints (the last N closes). Default 3.
    pub print_days: usize,
    /// Background prints per day. Default 300.
    pub prints_per_day: usize,
    /// Planted sweeps per day. Default 2.
    pub sweeps_per_day: usize,
    /// Planted blocks per day. Default 2.
    pub blocks_per_day: usize,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            snapshot_days: 10,
            print_days: 3,
            prints_per_day: 300,
            sweeps_per_day: 2,
            blocks_per_day: 2,
        }
    }
}

/// What was planted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlantedKind {
    Sweep,
    Block,
}

/// Ground truth: one planted event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Planted {
    pub kind: PlantedKind,
    /// OCC symbol of its contract.
    pub occ: String,
    /// Its prints, in time order.
    pub print_ids: Vec<String>,
    /// Its first print's time.
    pub time: DateTime<Utc>,
}

/// The generator's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DemoOptions {
    /// One per snapshot day, oldest first.
    pub snapshots: Vec<ChainSnapshot>,
    /// All prints, in time order, ids `demo-{SYMBOL}-{n}` from 1.
    pub prints: Vec<TradePrint>,
    /// Planted sweeps and blocks, in time order.
    pub planted: Vec<Planted>,
}

/// Why the generator refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DemoError {
    #[error("symbol {0:?} is not 1-6 letters or digits")]
    BadSymbol(String),
    #[error("{have} closes given, {need} needed")]
    TooFewCloses { have: usize, need: usize },
    #[error("close {index} ({date}) is {value}: closes must be positive and finite")]
    BadClose {
        index: usize,
        date: NaiveDate,
        value: f64,
    },
    #[error("close {index} ({date}) is not after the close before it")]
    NotAscending { index: usize, date: NaiveDate },
    #[error("{0}")]
    BadParameter(String),
    #[error("pricing failed: {0}")]
    Pricing(String),
}

/// Annualised (√252) sample standard deviation of the last `window` daily
/// log returns (so the last `window + 1` closes). `None` for a window under
/// 2, too few closes, or a non-positive or non-finite close among them.
pub fn realised_vol(closes: &[f64], window: usize) -> Option<f64> {
    if window < 2 || closes.len() < window + 1 {
        return None;
    }
    let tail = closes.get(closes.len() - window - 1..)?;
    let mut rets = Vec::with_capacity(window);
    for w in tail.windows(2) {
        let [a, b] = w else { return None };
        if !(a.is_finite() && b.is_finite() && *a > 0.0 && *b > 0.0) {
            return None;
        }
        rets.push((b / a).ln());
    }
    let n = rets.len() as f64;
    let mean = rets.iter().sum::<f64>() / n;
    let var = rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((var * 252.0).sqrt())
}

/// The demo's implied volatility surface on one day (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VolSurface {
    /// Floored realised vol of the last [`SHORT_WINDOW`] returns: the short end.
    pub short_vol: f64,
    /// Floored realised vol of the last [`LONG_WINDOW`] returns: the long end.
    pub long_vol: f64,
}

impl VolSurface {
    /// From the closes up to and including the day.
    pub fn from_closes(closes: &[f64]) -> Option<Self> {
        let short = realised_vol(closes, SHORT_WINDOW)?.clamp(VOL_FLOOR, VOL_MAX);
        let long_window = LONG_WINDOW.min(closes.len().saturating_sub(1));
        let long = realised_vol(closes, long_window)
            .unwrap_or(short)
            .clamp(VOL_FLOOR, VOL_MAX);
        Some(Self {
            short_vol: short,
            long_vol: long,
        })
    }

    /// At-the-money vol for `t` years.
    pub fn atm(&self, t: f64) -> f64 {
        let t = if t.is_finite() { t.max(0.0) } else { 0.0 };
        (self.long_vol + (self.short_vol - self.long_vol) * (-t / TERM_DECAY_YEARS).exp())
            .clamp(VOL_MIN, VOL_MAX)
    }

    /// Standardised log-moneyness `ln(K/F) / (atm(T) sqrt(max(T, 1 week)))`, clamped to ±4.
    pub fn moneyness(&self, spot: f64, strike: f64, t: f64, rate: f64, dividend: f64) -> f64 {
        let forward = spot * ((rate - dividend) * t).exp();
        let z = (strike / forward).ln() / (self.atm(t) * t.max(7.0 / 365.0).sqrt());
        if z.is_finite() {
            z.clamp(-4.0, 4.0)
        } else {
            0.0
        }
    }

    /// The vol of a strike, within [`VOL_MIN`]–[`VOL_MAX`].
    pub fn vol(&self, spot: f64, strike: f64, t: f64, rate: f64, dividend: f64) -> f64 {
        let z = self.moneyness(spot, strike, t, rate, dividend);
        (self.atm(t) * (1.0 + SKEW * z + SMILE * z * z)).clamp(VOL_MIN, VOL_MAX)
    }
}

/// Expiries listed on `date`, ascending, all after it (see the module docs).
pub fn list_expiries(date: NaiveDate) -> Vec<NaiveDate> {
    let mut out = BTreeSet::new();
    let ahead =
        (7 + Weekday::Fri.num_days_from_monday() - date.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    for k in 0..4u32 {
        if let Some(d) = date.checked_add_days(Days::new(u64::from(ahead + 7 * k))) {
            out.insert(d);
        }
    }
    let (mut year, mut month) = (date.year(), date.month());
    let mut monthlies = 0;
    for _ in 0..24 {
        if monthlies == 6 {
            break;
        }
        if let Some(d) = NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Fri, 3)
            && d > date
        {
            out.insert(d);
            monthlies += 1;
        }
        month += 1;
        if month > 12 {
            month = 1;
            year += 1;
        }
    }
    for dy in 1..=2 {
        if let Some(d) = NaiveDate::from_weekday_of_month_opt(date.year() + dy, 1, Weekday::Fri, 3)
        {
            out.insert(d);
        }
    }
    out.into_iter().filter(|d| *d > date).collect()
}

/// Strike spacing at a price level: 1 below 50, 2.5 to 200, 5 above.
pub fn strike_step(spot: f64) -> f64 {
    if spot < 50.0 {
        1.0
    } else if spot < 200.0 {
        2.5
    } else {
        5.0
    }
}

/// Strikes listed around `spot` for an expiry `t` years away, ascending.
pub fn list_strikes(spot: f64, t: f64) -> Vec<f64> {
    if !(spot.is_finite() && spot > 0.0) {
        return Vec::new();
    }
    let step = strike_step(spot);
    let width = if t <= NEAR_TERM_YEARS {
        0.30
    } else if t <= 1.0 {
        0.50
    } else {
        0.70
    };
    let lo = ((spot * (1.0 - width) / step).ceil() as i64).max(1);
    let hi = (spot * (1.0 + width) / step).floor() as i64;
    (lo..=hi).map(|i| cents(i as f64 * step)).collect()
}

/// Quote tick at a price: 0.01 below $3, 0.05 from $3.
pub fn tick_size(price: f64) -> f64 {
    if price >= 3.0 { 0.05 } else { 0.01 }
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A quote from the model (see the module docs).
#[derive(Debug, Clone, Copy)]
struct Quote {
    bid: f64,
    ask: f64,
    model: f64,
    z: f64,
}

#[derive(Debug, Clone, Copy)]
struct Market {
    rate: f64,
    dividend: f64,
    surface: VolSurface,
}

impl Market {
    fn quote(&self, spot: f64, strike: f64, right: Right, t: f64) -> Result<Quote, DemoError> {
        let vol = self.surface.vol(spot, strike, t, self.rate, self.dividend);
        let inputs = BlackInputs {
            right,
            spot,
            strike,
            t,
            rate: self.rate,
            dividend: self.dividend,
            vol,
        };
        let model = bsm_price(&inputs)
            .map_err(|e| DemoError::Pricing(e.to_string()))?
            .max(0.0);
        let z = self
            .surface
            .moneyness(spot, strike, t, self.rate, self.dividend);
        let rel = 0.03 + 0.06 * (z.abs().min(3.0) / 3.0);
        let spread = 0.02 + rel * model;
        let bid_raw = model - 0.5 * spread;
        let ask_raw = model + 0.5 * spread;
        let bid_tick = tick_size(bid_raw);
        let bid = if bid_raw < bid_tick {
            0.0
        } else {
            cents((bid_raw / bid_tick + 1e-9).floor() * bid_tick)
        };
        let ask_tick = tick_size(ask_raw);
        let ask = cents((ask_raw / ask_tick - 1e-9).ceil() * ask_tick)
            .max(0.01)
            .max(bid);
        Ok(Quote { bid, ask, model, z })
    }
}

/// Smoothly 0.35 in the money to 1 out of it, then the strike's roundness.
fn activity(z: f64, right: Right, strike: f64) -> f64 {
    let otm = 0.35 + 0.65 / (1.0 + (-4.0 * right.sign() * z).exp());
    (-0.5 * z * z).exp() * otm * round_bonus(strike)
}

fn round_bonus(strike: f64) -> f64 {
    let multiple = |m: f64| ((strike / m).round() * m - strike).abs() < 1e-6;
    if multiple(50.0) {
        2.0
    } else if multiple(10.0) {
        1.6
    } else if multiple(5.0) {
        1.25
    } else if multiple(1.0) {
        1.0
    } else {
        0.85
    }
}

fn mean_volume(activity: f64, t: f64) -> f64 {
    2_500.0 * activity * (-t / 0.12).exp()
}

fn mean_open_interest(activity: f64, t: f64) -> f64 {
    8_000.0 * activity * (0.3 + 0.7 * (-t).exp())
}

type Key = (NaiveDate, i64, Right);

fn key(c: &Contract) -> Key {
    (c.expiry, (c.strike * 100.0).round() as i64, c.right)
}

struct Listed {
    contract: Contract,
    expiry_close: DateTime<Utc>,
    t: f64,
    quote: Quote,
    activity: f64,
}

fn at(date: NaiveDate, h: u32, m: u32) -> Result<DateTime<Utc>, DemoError> {
    date.and_hms_opt(h, m, 0)
        .map(|d| d.and_utc())
        .ok_or_else(|| DemoError::BadParameter(format!("no {h:02}:{m:02} on {date}")))
}

fn years_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / YEAR_MS
}

/// The chain listed at a close.
fn list_chain(
    symbol: &str,
    date: NaiveDate,
    spot: f64,
    market: &Market,
) -> Result<Vec<Listed>, DemoError> {
    let as_of = at(date, 21, 0)?;
    let mut out = Vec::new();
    for expiry in list_expiries(date) {
        let expiry_close = at(expiry, 21, 0)?;
        let t = years_between(as_of, expiry_close);
        for strike in list_strikes(spot, t) {
            for right in [Right::Call, Right::Put] {
                let quote = market.quote(spot, strike, right, t)?;
                out.push(Listed {
                    contract: Contract {
                        underlying: symbol.to_string(),
                        expiry,
                        strike,
                        right,
                        multiplier: DEFAULT_MULTIPLIER,
                        style: ExerciseStyle::American,
                    },
                    expiry_close,
                    t,
                    quote,
                    activity: activity(quote.z, right, strike),
                });
            }
        }
    }
    Ok(out)
}

/// Picks an index with probability proportional to `weights` (cumulative).
fn pick(rng: &mut Rng, cumulative: &[f64]) -> Option<usize> {
    let total = *cumulative.last()?;
    if total <= 0.0 {
        return None;
    }
    let x = rng.uniform() * total;
    Some(
        cumulative
            .partition_point(|c| *c <= x)
            .min(cumulative.len() - 1),
    )
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .map(|w| {
            acc += if w.is_finite() && w > 0.0 { w } else { 0.0 };
            acc
        })
        .collect()
}

fn is_free(busy: &[(i64, i64)], a: i64, b: i64) -> bool {
    busy.iter()
        .all(|&(s, e)| b + MIN_GAP_MS < s || a > e + MIN_GAP_MS)
}

struct Event {
    kind: PlantedKind,
    occ: String,
    prints: Vec<usize>,
}

/// One day's prints: what the day needs to know.
struct Day<'a> {
    open: DateTime<Utc>,
    path: Vec<f64>,
    market: Market,
    listed: &'a [Listed],
}

impl Day<'_> {
    fn spot_at(&self, ms: i64) -> f64 {
        let pos = (ms.clamp(0, SESSION_MS) as f64 / 60_000.0).min(MINUTES as f64);
        let i = (pos.floor() as usize).min(MINUTES - 1);
        let frac = pos - i as f64;
        match (self.path.get(i), self.path.get(i + 1)) {
            (Some(a), Some(b)) => a + (b - a) * frac,
            (Some(a), None) => *a,
            _ => 0.0,
        }
    }

    fn time(&self, ms: i64) -> Result<DateTime<Utc>, DemoError> {
        self.open
            .checked_add_signed(Duration::milliseconds(ms))
            .ok_or_else(|| DemoError::BadParameter("print time out of range".to_string()))
    }

    /// The NBBO of a listed contract `ms` into the session.
    fn quote(&self, l: &Listed, ms: i64) -> Result<(Quote, f64, DateTime<Utc>), DemoError> {
        let time = self.time(ms)?;
        let spot = self.spot_at(ms);
        let t = years_between(time, l.expiry_close).max(1.0 / YEAR_MS);
        Ok((
            self.market
                .quote(spot, l.contract.strike, l.contract.right, t)?,
            spot,
            time,
        ))
    }

    fn print(
        &self,
        l: &Listed,
        ms: i64,
        price: f64,
        size: u32,
        exchange: &str,
        condition: Option<&str>,
    ) -> Result<TradePrint, DemoError> {
        let (q, spot, time) = self.quote(l, ms)?;
        Ok(TradePrint {
            id: String::new(),
            contract: l.contract.clone(),
            time,
            price: cents(price).max(0.01),
            size,
            exchange: exchange.to_string(),
            condition: condition.map(str::to_string),
            bid: Some(q.bid),
            ask: Some(q.ask),
            underlying_price: Some(cents(spot)),
        })
    }
}

/// The intraday path: a Brownian bridge in log price from `from` to `to`.
fn bridge(rng: &mut Rng, from: f64, to: f64, daily_vol: f64) -> Vec<f64> {
    let mut walk = Vec::with_capacity(MINUTES + 1);
    let mut w = 0.0;
    walk.push(0.0);
    let step = (1.0 / MINUTES as f64).sqrt();
    for _ in 0..MINUTES {
        w += rng.normal() * step;
        walk.push(w);
    }
    let end = w;
    let drift = (to / from).ln();
    walk.iter()
        .enumerate()
        .map(|(k, wk)| {
            let u = k as f64 / MINUTES as f64;
            from * (drift * u + daily_vol * (wk - u * end)).exp()
        })
        .collect()
}

struct Generated {
    prints: Vec<TradePrint>,
    events: Vec<Event>,
}

fn day_prints(
    day: &Day<'_>,
    rng: &mut Rng,
    config: &DemoConfig,
    out: &mut Generated,
) -> Result<(), DemoError> {
    let flow = FlowConfig::default();
    let bg_max_size = (flow
        .sweep_min_size
        .min(u64::from(flow.block_min_size))
        .saturating_sub(1))
    .min(u64::from(u32::MAX)) as u32;
    let bg_max_premium = 0.5 * flow.block_min_premium;
    let mut busy: HashMap<Key, Vec<(i64, i64)>> = HashMap::new();

    // Planted sweeps.
    let sweepable: Vec<usize> = (0..day.listed.len())
        .filter(|&i| {
            day.listed.get(i).is_some_and(|l| {
                l.t <= NEAR_TERM_YEARS && l.quote.model >= 0.10 && l.quote.z.abs() <= 2.0
            })
        })
        .collect();
    let sweep_cum = cumulative(
        sweepable
            .iter()
            .filter_map(|&i| day.listed.get(i))
            .map(|l| l.activity),
    );
    for _ in 0..config.sweeps_per_day {
        for _attempt in 0..50 {
            let Some(l) = pick(rng, &sweep_cum)
                .and_then(|j| sweepable.get(j))
                .and_then(|&i| day.listed.get(i))
            else {
                break;
            };
            let t0 = 60_000 + rng.below((SESSION_MS - 120_000) as u64) as i64;
            let k = key(&l.contract);
            if !is_free(
                busy.get(&k).map_or(&[][..], Vec::as_slice),
                t0,
                t0 + SWEEP_SPAN_MS,
            ) {
                continue;
            }
            let legs = 3 + rng.below(4) as usize;
            let mut venues: Vec<&str> = EXCHANGES.to_vec();
            rng.shuffle(&mut venues);
            let mut offsets: Vec<i64> = (1..legs)
                .map(|_| 1 + rng.below(SWEEP_SPAN_MS as u64) as i64)
                .collect();
            offsets.push(0);
            offsets.sort_unstable();
            let total = 300 + rng.below(1_701) as u32;
            let sizes = split(rng, total, legs);
            let (q0, _, _) = day.quote(l, t0)?;
            let mut ids = Vec::with_capacity(legs);
            for ((off, size), venue) in offsets.iter().zip(sizes).zip(venues) {
                let p = day.print(l, t0 + off, q0.ask, size, venue, Some("ISOI"))?;
                // Same NBBO for every leg: the sweep takes the offer standing at its start.
                let p = TradePrint {
                    bid: Some(q0.bid),
                    ask: Some(q0.ask),
                    ..p
                };
                ids.push(out.prints.len());
                out.prints.push(p);
            }
            busy.entry(k).or_default().push((t0, t0 + SWEEP_SPAN_MS));
            out.events.push(Event {
                kind: PlantedKind::Sweep,
                occ: crate::occ::format(&l.contract),
                prints: ids,
            });
            break;
        }
    }

    // Planted blocks.
    let blockable: Vec<usize> = (0..day.listed.len())
        .filter(|&i| {
            day.listed
                .get(i)
                .is_some_and(|l| l.t <= 1.0 && l.quote.model >= 0.20)
        })
        .collect();
    let block_cum = cumulative(
        blockable
            .iter()
            .filter_map(|&i| day.listed.get(i))
            .map(|l| l.activity),
    );
    for _ in 0..config.blocks_per_day {
        for _attempt in 0..50 {
            let Some(l) = pick(rng, &block_cum)
                .and_then(|j| blockable.get(j))
                .and_then(|&i| day.listed.get(i))
            else {
                break;
            };
            let t0 = 60_000 + rng.below((SESSION_MS - 120_000) as u64) as i64;
            let k = key(&l.contract);
            if !is_free(busy.get(&k).map_or(&[][..], Vec::as_slice), t0, t0) {
                continue;
            }
            let (q, _, _) = day.quote(l, t0)?;
            let size = 800 + rng.below(4_201) as u32;
            let inside = rng.chance(0.3) && q.ask - q.bid >= 0.05;
            let price = if rng.chance(0.5) || q.bid <= 0.0 {
                if inside { q.ask - 0.01 } else { q.ask }
            } else if inside {
                q.bid + 0.01
            } else {
                q.bid
            };
            let venue = rng.choose(&EXCHANGES).unwrap_or("CBOE");
            let p = day.print(l, t0, price, size, venue, None)?;
            busy.entry(k).or_default().push((t0, t0));
            out.events.push(Event {
                kind: PlantedKind::Block,
                occ: crate::occ::format(&l.contract),
                prints: vec![out.prints.len()],
            });
            out.prints.push(p);
            break;
        }
    }

    // Background prints.
    let bg_cum = cumulative(day.listed.iter().map(|l| mean_volume(l.activity, l.t)));
    for _ in 0..config.prints_per_day {
        for _attempt in 0..20 {
            let Some(l) = pick(rng, &bg_cum).and_then(|i| day.listed.get(i)) else {
                break;
            };
            let ms = rng.below(SESSION_MS as u64) as i64;
            let k = key(&l.contract);
            if !is_free(busy.get(&k).map_or(&[][..], Vec::as_slice), ms, ms) {
                continue;
            }
            let (q, _, _) = day.quote(l, ms)?;
            let r = rng.uniform();
            let price = if r < 0.38 || q.bid <= 0.0 {
                q.ask
            } else if r < 0.76 {
                q.bid
            } else {
                cents(0.5 * (q.bid + q.ask))
            }
            .max(0.01);
            let wanted = if rng.chance(0.93) {
                (1.0 - 8.0 * rng.uniform().ln()).floor().min(50.0) as u32
            } else {
                51 + rng.below(49) as u32
            };
            let by_premium =
                ((bg_max_premium - 1.0) / (price * f64::from(DEFAULT_MULTIPLIER))).floor();
            let cap = if by_premium >= f64::from(bg_max_size) {
                bg_max_size
            } else {
                by_premium.max(0.0) as u32
            };
            let size = wanted.clamp(1, bg_max_size.max(1)).min(cap);
            if size == 0 {
                continue;
            }
            let venue = rng.choose(&EXCHANGES).unwrap_or("CBOE");
            out.prints.push(day.print(l, ms, price, size, venue, None)?);
            busy.entry(k).or_default().push((ms, ms));
            break;
        }
    }
    Ok(())
}

/// Splits `total` into `parts` positive sizes with random weights.
fn split(rng: &mut Rng, total: u32, parts: usize) -> Vec<u32> {
    let parts = parts.max(1);
    let weights: Vec<f64> = (0..parts).map(|_| 0.5 + rng.uniform()).collect();
    let sum: f64 = weights.iter().sum();
    let mut sizes: Vec<u32> = weights
        .iter()
        .map(|w| ((f64::from(total) * w / sum).floor() as u32).max(1))
        .collect();
    let assigned: u32 = sizes.iter().sum();
    if let Some(first) = sizes.first_mut() {
        *first = (i64::from(*first) + i64::from(total) - i64::from(assigned)).max(1) as u32;
    }
    sizes
}

fn validate(u: &DemoUnderlying, config: &DemoConfig) -> Result<String, DemoError> {
    let symbol = u.symbol.trim().to_ascii_uppercase();
    if symbol.is_empty() || symbol.len() > 6 || !symbol.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(DemoError::BadSymbol(u.symbol.clone()));
    }
    let days = config.snapshot_days.max(config.print_days);
    let need = MIN_CLOSES.max(days + SHORT_WINDOW);
    if u.closes.len() < need {
        return Err(DemoError::TooFewCloses {
            have: u.closes.len(),
            need,
        });
    }
    for (index, (date, value)) in u.closes.iter().enumerate() {
        if !(value.is_finite() && *value > 0.0) {
            return Err(DemoError::BadClose {
                index,
                date: *date,
                value: *value,
            });
        }
        if index > 0 && u.closes.get(index - 1).is_some_and(|(d, _)| d >= date) {
            return Err(DemoError::NotAscending { index, date: *date });
        }
    }
    if !(u.rate.is_finite() && u.rate.abs() <= 1.0) {
        return Err(DemoError::BadParameter(format!(
            "rate {} is not within ±100%",
            u.rate
        )));
    }
    if !(u.dividend.is_finite() && u.dividend.abs() <= 1.0) {
        return Err(DemoError::BadParameter(format!(
            "dividend yield {} is not within ±100%",
            u.dividend
        )));
    }
    Ok(symbol)
}

/// The demo chains and prints of one underlying (see the module docs).
pub fn generate(u: &DemoUnderlying, config: &DemoConfig) -> Result<DemoOptions, DemoError> {
    let symbol = validate(u, config)?;
    let prices: Vec<f64> = u.closes.iter().map(|(_, c)| *c).collect();
    let n = prices.len();
    let days = config.snapshot_days.max(config.print_days);
    let sym_id = fnv1a(&symbol);
    let mut state: HashMap<Key, (u64, u64)> = HashMap::new();
    let mut snapshots = Vec::new();
    let mut generated = Generated {
        prints: Vec::new(),
        events: Vec::new(),
    };

    for idx in n - days..n {
        let (Some(&(date, close)), Some(history)) = (u.closes.get(idx), prices.get(..=idx)) else {
            continue;
        };
        let surface = VolSurface::from_closes(history)
            .ok_or_else(|| DemoError::BadParameter(format!("no realised vol on {date}")))?;
        let market = Market {
            rate: u.rate,
            dividend: u.dividend,
            surface,
        };
        let listed = list_chain(&symbol, date, close, &market)?;
        let day_no = idx as u64;

        let first_print = generated.prints.len();
        if idx >= n - config.print_days {
            let prev = idx
                .checked_sub(1)
                .and_then(|i| prices.get(i))
                .copied()
                .unwrap_or(close);
            let mut rng = Rng::new(derive_seed(&[config.seed, sym_id, day_no, 2]));
            let path = bridge(&mut rng, prev, close, surface.short_vol / 252f64.sqrt());
            let day = Day {
                open: at(date, 14, 30)?,
                path,
                market,
                listed: &listed,
            };
            day_prints(&day, &mut rng, config, &mut generated)?;
        }
        let mut traded: HashMap<Key, u64> = HashMap::new();
        for p in generated.prints.get(first_print..).unwrap_or(&[]) {
            *traded.entry(key(&p.contract)).or_default() += u64::from(p.size);
        }

        let mut rng = Rng::new(derive_seed(&[config.seed, sym_id, day_no, 1]));
        let mut next_state = HashMap::with_capacity(listed.len());
        let mut quotes = Vec::with_capacity(listed.len());
        for l in &listed {
            let k = key(&l.contract);
            let oi = match state.get(&k) {
                Some(&(oi, vol)) => (oi as f64 + vol as f64 * (-0.25 + 0.85 * rng.uniform()))
                    .round()
                    .max(0.0) as u64,
                None => (mean_open_interest(l.activity, l.t) * rng.lognormal(0.6)).round() as u64,
            };
            let volume = (mean_volume(l.activity, l.t) * rng.lognormal(0.6)).round() as u64
                + traded.get(&k).copied().unwrap_or(0);
            next_state.insert(k, (oi, volume));
            quotes.push(OptionQuote {
                contract: l.contract.clone(),
                bid: l.quote.bid,
                ask: l.quote.ask,
                last: (volume > 0).then(|| cents(l.quote.model).max(0.01)),
                volume,
                open_interest: oi,
            });
        }
        state = next_state;
        if idx >= n - config.snapshot_days {
            snapshots.push(ChainSnapshot {
                underlying: symbol.clone(),
                as_of: at(date, 21, 0)?,
                underlying_price: close,
                quotes,
            });
        }
    }

    // Time order and ids.
    let Generated { prints, events } = generated;
    let mut order: Vec<usize> = (0..prints.len()).collect();
    order.sort_by(|&a, &b| {
        let ta = prints.get(a).map(|p| p.time);
        let tb = prints.get(b).map(|p| p.time);
        ta.cmp(&tb).then(a.cmp(&b))
    });
    let mut rank = vec![0usize; prints.len()];
    for (r, &i) in order.iter().enumerate() {
        if let Some(slot) = rank.get_mut(i) {
            *slot = r;
        }
    }
    let id = |r: usize| format!("demo-{symbol}-{}", r + 1);
    let mut slots: Vec<Option<TradePrint>> = prints.into_iter().map(Some).collect();
    let mut sorted = Vec::with_capacity(slots.len());
    for (r, &i) in order.iter().enumerate() {
        if let Some(mut p) = slots.get_mut(i).and_then(Option::take) {
            p.id = id(r);
            sorted.push(p);
        }
    }
    let mut planted: Vec<Planted> = events
        .into_iter()
        .filter_map(|e| {
            let mut ranks: Vec<usize> = e
                .prints
                .iter()
                .filter_map(|&i| rank.get(i).copied())
                .collect();
            ranks.sort_unstable();
            let time = sorted.get(*ranks.first()?)?.time;
            Some(Planted {
                kind: e.kind,
                occ: e.occ,
                print_ids: ranks.into_iter().map(id).collect(),
                time,
            })
        })
        .collect();
    planted.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.print_ids.cmp(&b.print_ids))
    });
    Ok(DemoOptions {
        snapshots,
        prints: sorted,
        planted,
    })
}

// ---- PRNG: xoshiro256** seeded through SplitMix64 ----

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for the independent stream named by `parts`.
fn derive_seed(parts: &[u64]) -> u64 {
    let mut state = 0x6A09_E667_F3BC_C908;
    let mut out = 0;
    for part in parts {
        state ^= *part;
        out = splitmix64(&mut state);
        state = out;
    }
    out
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

struct Rng {
    s: [u64; 4],
    spare: Option<f64>,
}

impl Rng {
    fn new(seed: u64) -> Self {
        let mut sm = seed;
        Self {
            s: [
                splitmix64(&mut sm),
                splitmix64(&mut sm),
                splitmix64(&mut sm),
                splitmix64(&mut sm),
            ],
            spare: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..n (0 when n is 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64().checked_rem(n).unwrap_or(0)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let theta = std::f64::consts::TAU * self.uniform();
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }

    /// Lognormal with mean 1 and log-stdev `sigma`.
    fn lognormal(&mut self, sigma: f64) -> f64 {
        (sigma * self.normal() - 0.5 * sigma * sigma).exp()
    }

    fn choose<'a>(&mut self, items: &[&'a str]) -> Option<&'a str> {
        let i = self.below(items.len() as u64) as usize;
        items.get(i).copied()
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn xoshiro_reference() {
        let mut x = Rng {
            s: [1, 2, 3, 4],
            spare: None,
        };
        let out: Vec<u64> = (0..4).map(|_| x.next_u64()).collect();
        assert_eq!(out, [11_520, 0, 1_509_978_240, 1_215_971_899_390_074_240]);
    }

    #[test]
    fn expiries_of_a_wednesday() {
        // 2025-01-08 is a Wednesday; January's 3rd Friday is the 17th.
        let e = list_expiries(d(2025, 1, 8));
        assert_eq!(e.first(), Some(&d(2025, 1, 10)));
        assert!(e.contains(&d(2025, 1, 31)));
        assert!(!e.contains(&d(2025, 2, 7)));
        assert!(e.contains(&d(2025, 6, 20)));
        assert!(!e.contains(&d(2025, 7, 18)));
        assert!(e.contains(&d(2026, 1, 16)));
        assert!(e.contains(&d(2027, 1, 15)));
        assert!(e.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn expiries_of_a_friday_skip_the_day() {
        let e = list_expiries(d(2025, 1, 17));
        assert_eq!(e.first(), Some(&d(2025, 1, 24)));
        assert!(!e.contains(&d(2025, 1, 17)));
        assert!(e.contains(&d(2025, 7, 18)));
    }

    #[test]
    fn strike_grid() {
        let k = list_strikes(100.0, 0.05);
        assert_eq!(k.first(), Some(&70.0));
        assert_eq!(k.last(), Some(&130.0));
        assert!(k.windows(2).all(|w| (w[1] - w[0] - 2.5).abs() < 1e-9));
        assert_eq!(strike_step(49.0), 1.0);
        assert_eq!(strike_step(250.0), 5.0);
        assert!(list_strikes(100.0, 2.0).len() > k.len());
    }

    #[test]
    fn realised_vol_basics() {
        assert_eq!(realised_vol(&[1.0, 2.0], 2), None);
        let flat = vec![100.0; 30];
        assert_eq!(realised_vol(&flat, 20), Some(0.0));
        let alt: Vec<f64> = (0..30)
            .map(|i| if i % 2 == 0 { 100.0 } else { 101.0 })
            .collect();
        let v = realised_vol(&alt, 20).unwrap();
        assert!(v > 0.1 && v < 0.3, "{v}");
    }
}
