//! Chain analytics: put/call ratios, max pain, dealer gamma exposure and the
//! gamma flip, the expected move, IV rank and percentile, the ATM term
//! structure and the 25-delta skew.
//!
//! Every function is pure and total: inputs that cannot be used (a missing
//! or non-finite implied volatility or Greek, a non-positive strike, time or
//! spot) are skipped rather than turned into NaN, and a result that cannot
//! be formed is `None`. Each function's doc comment states its convention.
//!
//! The caller computes implied volatilities and Greeks (with whatever model
//! suits the contract) and hands them in through [`ContractView`]; only
//! [`gamma_flip`] reprices, with Black-Scholes-Merton
//! ([`crate::european::bsm`]), because it needs gammas at hypothetical spots.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;

use crate::chain::{OptionQuote, Right};
use crate::european::{BlackInputs, bsm};

/// One contract of a chain together with what the caller computed for it.
#[derive(Debug, Clone, Copy)]
pub struct ContractView<'a> {
    /// The quote (contract, bid/ask, volume, open interest).
    pub quote: &'a OptionQuote,
    /// Years to expiry (ACT/365).
    pub t: f64,
    /// Implied volatility (annualised, decimal), if it could be solved.
    pub iv: Option<f64>,
    /// Delta per share (calls in (0, 1), puts in (-1, 0)), if known.
    pub delta: Option<f64>,
    /// Gamma per share (per unit of underlying price), if known.
    pub gamma: Option<f64>,
}

// ---------------------------------------------------------------------------
// Put/call ratios
// ---------------------------------------------------------------------------

/// Put and call volume and open interest of a set of quotes, and their ratios.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct PutCallTotals {
    /// Call contracts traded in the session.
    pub call_volume: u64,
    /// Put contracts traded in the session.
    pub put_volume: u64,
    /// Call open interest (contracts).
    pub call_open_interest: u64,
    /// Put open interest (contracts).
    pub put_open_interest: u64,
    /// Put volume / call volume; null when call volume is 0.
    pub volume_ratio: Option<f64>,
    /// Put open interest / call open interest; null when call open interest is 0.
    pub open_interest_ratio: Option<f64>,
}

impl PutCallTotals {
    fn add(&mut self, quote: &OptionQuote) {
        match quote.contract.right {
            Right::Call => {
                self.call_volume = self.call_volume.saturating_add(quote.volume);
                self.call_open_interest =
                    self.call_open_interest.saturating_add(quote.open_interest);
            }
            Right::Put => {
                self.put_volume = self.put_volume.saturating_add(quote.volume);
                self.put_open_interest = self.put_open_interest.saturating_add(quote.open_interest);
            }
        }
    }

    fn finish(&mut self) {
        self.volume_ratio = ratio(self.put_volume, self.call_volume);
        self.open_interest_ratio = ratio(self.put_open_interest, self.call_open_interest);
    }
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Put/call ratios of a chain, overall and per expiry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct PutCallRatios {
    /// Sums and ratios over every quote.
    pub overall: PutCallTotals,
    /// Sums and ratios per expiry date (ISO dates as keys), earliest first.
    pub by_expiry: BTreeMap<NaiveDate, PutCallTotals>,
}

/// Put/call ratios: put volume / call volume and put open interest / call
/// open interest, in contracts (not weighted by multiplier or premium),
/// overall and per expiry, with the raw sums. A ratio is `None` when its
/// denominator (the call side) is 0. Sums saturate at `u64::MAX`.
pub fn put_call_ratios(quotes: &[OptionQuote]) -> PutCallRatios {
    let mut out = PutCallRatios::default();
    for quote in quotes {
        out.overall.add(quote);
        out.by_expiry
            .entry(quote.contract.expiry)
            .or_default()
            .add(quote);
    }
    out.overall.finish();
    for totals in out.by_expiry.values_mut() {
        totals.finish();
    }
    out
}

// ---------------------------------------------------------------------------
// Max pain
// ---------------------------------------------------------------------------

/// Most rows of [`MaxPain::curve`]: a window of strikes centred on the
/// max-pain strike.
pub const MAX_PAIN_CURVE_ROWS: usize = 100;

/// Total intrinsic value paid to option holders if the underlying settles at
/// one strike.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PayoutPoint {
    /// Hypothetical settlement price (a listed strike).
    pub strike: f64,
    /// Paid to call holders: sum of OI x max(0, S - K) x multiplier.
    pub call_payout: f64,
    /// Paid to put holders: sum of OI x max(0, K - S) x multiplier.
    pub put_payout: f64,
    /// call_payout + put_payout.
    pub total: f64,
}

/// The max-pain strike of one expiry and the payout curve around it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MaxPain {
    /// The expiry the quotes belong to.
    pub expiry: NaiveDate,
    /// The listed strike at which the total payout to holders is smallest.
    pub strike: f64,
    /// Total payout to holders (currency units) at that strike.
    pub total_payout: f64,
    /// Distinct listed strikes evaluated.
    pub strikes_evaluated: usize,
    /// Payout at each listed strike, ascending by strike; at most 100 rows
    /// centred on the max-pain strike.
    pub curve: Vec<PayoutPoint>,
    /// True when the curve was cut to its row cap.
    pub curve_truncated: bool,
}

/// Max pain of ONE expiry: the listed strike S minimising the total intrinsic
/// value paid to holders at expiry,
/// `sum_calls OI x max(0, S - K) x multiplier + sum_puts OI x max(0, K - S) x multiplier`,
/// evaluated at each distinct listed strike (the payout is piecewise linear
/// and convex in S with kinks at the strikes, so this is also its minimum
/// over all S). Ties (within a relative 1e-12) go to the lowest strike.
/// Quotes with a non-finite or non-positive strike are ignored.
///
/// `None` when there are no usable quotes, when no quote has open interest,
/// or when the quotes span more than one expiry.
pub fn max_pain(quotes: &[OptionQuote]) -> Option<MaxPain> {
    let usable: Vec<&OptionQuote> = quotes
        .iter()
        .filter(|q| q.contract.strike.is_finite() && q.contract.strike > 0.0)
        .collect();
    let expiry = usable.first()?.contract.expiry;
    if usable.iter().any(|q| q.contract.expiry != expiry) {
        return None;
    }
    if usable
        .iter()
        .all(|q| q.open_interest == 0 || q.contract.multiplier == 0)
    {
        return None;
    }
    // Open interest x multiplier per (strike, right).
    let mut calls: BTreeMap<StrikeKey, f64> = BTreeMap::new();
    let mut puts: BTreeMap<StrikeKey, f64> = BTreeMap::new();
    for q in &usable {
        let weight = q.open_interest as f64 * f64::from(q.contract.multiplier);
        let side = match q.contract.right {
            Right::Call => &mut calls,
            Right::Put => &mut puts,
        };
        *side.entry(StrikeKey::new(q.contract.strike)).or_insert(0.0) += weight;
    }
    let mut strikes: Vec<StrikeKey> = calls.keys().chain(puts.keys()).copied().collect();
    strikes.sort();
    strikes.dedup();

    let curve: Vec<PayoutPoint> = strikes
        .iter()
        .map(|s| {
            let settle = s.value();
            let call_payout: f64 = calls
                .iter()
                .map(|(k, w)| w * (settle - k.value()).max(0.0))
                .sum();
            let put_payout: f64 = puts
                .iter()
                .map(|(k, w)| w * (k.value() - settle).max(0.0))
                .sum();
            PayoutPoint {
                strike: settle,
                call_payout,
                put_payout,
                total: call_payout + put_payout,
            }
        })
        .collect();

    let mut best = 0usize;
    for (i, point) in curve.iter().enumerate().skip(1) {
        let incumbent = curve[best].total;
        if point.total < incumbent - 1e-12 * incumbent.abs().max(1.0) {
            best = i;
        }
    }
    let strike = curve[best].strike;
    let total_payout = curve[best].total;
    let strikes_evaluated = curve.len();
    let (start, end) = centred_window(curve.len(), best, MAX_PAIN_CURVE_ROWS);
    let curve_truncated = end - start < curve.len();
    let curve = curve[start..end].to_vec();
    Some(MaxPain {
        expiry,
        strike,
        total_payout,
        strikes_evaluated,
        curve,
        curve_truncated,
    })
}

/// `[start, end)` of at most `cap` rows of `len` around index `centre`.
fn centred_window(len: usize, centre: usize, cap: usize) -> (usize, usize) {
    if len <= cap {
        return (0, len);
    }
    let start = centre.saturating_sub(cap / 2).min(len - cap);
    (start, start + cap)
}

/// A positive finite strike as a totally ordered map key (the bit patterns of
/// positive finite `f64`s sort like the numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct StrikeKey(u64);

impl StrikeKey {
    fn new(strike: f64) -> Self {
        StrikeKey(strike.to_bits())
    }
    fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

// ---------------------------------------------------------------------------
// Gamma exposure
// ---------------------------------------------------------------------------

/// Dealer gamma exposure at one strike (all expiries).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct StrikeGex {
    /// Strike price.
    pub strike: f64,
    /// GEX of the calls at this strike ($ per 1% move, >= 0).
    pub call_gex: f64,
    /// GEX of the puts at this strike ($ per 1% move, <= 0).
    pub put_gex: f64,
    /// call_gex + put_gex.
    pub net: f64,
}

/// Dealer gamma exposure of one expiry (all strikes).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ExpiryGex {
    /// Expiry date.
    pub expiry: NaiveDate,
    /// GEX of the calls of this expiry ($ per 1% move, >= 0).
    pub call_gex: f64,
    /// GEX of the puts of this expiry ($ per 1% move, <= 0).
    pub put_gex: f64,
    /// call_gex + put_gex.
    pub net: f64,
}

/// Dealer gamma exposure of a chain.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct GammaExposure {
    /// Underlying price the exposure is computed at.
    pub spot: f64,
    /// Net GEX of the whole chain ($ change in dealer delta per 1% move).
    pub total: f64,
    /// GEX of all calls (>= 0).
    pub call_total: f64,
    /// GEX of all puts (<= 0).
    pub put_total: f64,
    /// Per strike, ascending.
    pub by_strike: Vec<StrikeGex>,
    /// Per expiry, earliest first.
    pub by_expiry: Vec<ExpiryGex>,
    /// Contracts that contributed (had a usable gamma).
    pub contracts_used: usize,
    /// Contracts skipped (no gamma, or a non-finite or negative gamma, or a bad strike).
    pub contracts_skipped: usize,
}

/// Dollar gamma of one contract for a 1% move, signed by the dealer convention.
fn contract_gex(right: Right, gamma: f64, open_interest: u64, multiplier: u32, spot: f64) -> f64 {
    right.sign() * gamma * open_interest as f64 * f64::from(multiplier) * spot * spot * 0.01
}

fn usable_strike(quote: &OptionQuote) -> bool {
    quote.contract.strike.is_finite() && quote.contract.strike > 0.0
}

/// Dealer gamma exposure (GEX), the "SqueezeMetrics / SpotGamma" convention:
/// dealers are assumed long the calls (customers overwrite) and short the
/// puts (customers buy protection), so per contract
/// `GEX = sign x gamma x OI x multiplier x S^2 x 0.01`, with sign +1 for
/// calls and -1 for puts. That is the dollar value of the change in the
/// dealers' hedge (delta) for a 1% move in the underlying: gamma x OI x
/// multiplier shares per $1, times 0.01·S dollars, times S. Positive total
/// GEX means dealer hedging damps moves (they sell rallies, buy dips);
/// negative means it amplifies them.
///
/// Uses each view's `gamma` as given (the caller's model, at `spot`); views
/// without a finite, non-negative gamma or with a bad strike are skipped and
/// counted. A non-finite or non-positive `spot` skips every view.
pub fn gamma_exposure(views: &[ContractView<'_>], spot: f64) -> GammaExposure {
    let spot_ok = spot.is_finite() && spot > 0.0;
    let mut by_strike: BTreeMap<StrikeKey, (f64, f64)> = BTreeMap::new();
    let mut by_expiry: BTreeMap<NaiveDate, (f64, f64)> = BTreeMap::new();
    let (mut used, mut skipped) = (0usize, 0usize);
    for view in views {
        let gamma = match view.gamma {
            Some(g) if spot_ok && g.is_finite() && g >= 0.0 && usable_strike(view.quote) => g,
            _ => {
                skipped += 1;
                continue;
            }
        };
        let c = &view.quote.contract;
        let gex = contract_gex(c.right, gamma, view.quote.open_interest, c.multiplier, spot);
        if !gex.is_finite() {
            skipped += 1;
            continue;
        }
        used += 1;
        let strike_row = by_strike
            .entry(StrikeKey::new(c.strike))
            .or_insert((0.0, 0.0));
        let expiry_row = by_expiry.entry(c.expiry).or_insert((0.0, 0.0));
        match c.right {
            Right::Call => {
                strike_row.0 += gex;
                expiry_row.0 += gex;
            }
            Right::Put => {
                strike_row.1 += gex;
                expiry_row.1 += gex;
            }
        }
    }
    let by_strike: Vec<StrikeGex> = by_strike
        .into_iter()
        .map(|(k, (call_gex, put_gex))| StrikeGex {
            strike: k.value(),
            call_gex,
            put_gex,
            net: call_gex + put_gex,
        })
        .collect();
    let by_expiry: Vec<ExpiryGex> = by_expiry
        .into_iter()
        .map(|(expiry, (call_gex, put_gex))| ExpiryGex {
            expiry,
            call_gex,
            put_gex,
            net: call_gex + put_gex,
        })
        .collect();
    let call_total: f64 = by_expiry.iter().map(|e| e.call_gex).sum();
    let put_total: f64 = by_expiry.iter().map(|e| e.put_gex).sum();
    GammaExposure {
        spot,
        total: call_total + put_total,
        call_total,
        put_total,
        by_strike,
        by_expiry,
        contracts_used: used,
        contracts_skipped: skipped,
    }
}

/// Spots on the [`gamma_flip`] scan grid over [0.5·S, 1.5·S].
pub const GAMMA_FLIP_GRID_POINTS: usize = 201;

/// One contract as the gamma-flip scan reprices it.
struct FlipLeg {
    right: Right,
    strike: f64,
    t: f64,
    vol: f64,
    /// sign x OI x multiplier.
    weight: f64,
}

/// Total dealer GEX (convention of [`gamma_exposure`]) at a hypothetical
/// spot, each leg's gamma from BSM at that spot with its IV held fixed.
fn total_gex_at(legs: &[FlipLeg], spot: f64, rate: f64, dividend: f64) -> f64 {
    let gamma_sum: f64 = legs
        .iter()
        .map(|leg| {
            let inputs = BlackInputs {
                right: leg.right,
                spot,
                strike: leg.strike,
                t: leg.t,
                rate,
                dividend,
                vol: leg.vol,
            };
            match bsm(&inputs) {
                Ok(g) if g.gamma.is_finite() => leg.weight * g.gamma,
                _ => 0.0,
            }
        })
        .sum();
    gamma_sum * spot * spot * 0.01
}

/// The gamma flip: the underlying level at which total dealer GEX (the
/// convention of [`gamma_exposure`]) changes sign.
///
/// Total GEX is recomputed at hypothetical spots X: every view with a
/// finite positive `iv` and `t`, a positive strike and open interest is
/// repriced with Black-Scholes-Merton ([`crate::european::bsm`]: European
/// gamma, also for American contracts) at spot X with its IV held fixed
/// (sticky strike) and the given `rate` and `dividend` (continuous, decimal);
/// the views' own `gamma` is not used. X is scanned on a grid of
/// [`GAMMA_FLIP_GRID_POINTS`] evenly spaced spots over [0.5·S, 1.5·S]; of
/// the sign changes between consecutive non-zero grid values, the one whose
/// bracket is nearest S (zero distance when it contains S; ties to the lower
/// bracket) is refined by bisection until the bracket is narrower than 1e-6
/// of its midpoint, and the midpoint is returned (or a point where the total
/// is exactly zero, if bisection lands on one).
///
/// `None` when no usable contract, invalid `spot`/`rate`/`dividend`, or no
/// sign change on the grid.
pub fn gamma_flip(views: &[ContractView<'_>], spot: f64, rate: f64, dividend: f64) -> Option<f64> {
    if !(spot.is_finite() && spot > 0.0 && rate.is_finite() && dividend.is_finite()) {
        return None;
    }
    let legs: Vec<FlipLeg> = views
        .iter()
        .filter_map(|v| {
            let c = &v.quote.contract;
            let vol = v.iv.filter(|iv| iv.is_finite() && *iv > 0.0)?;
            let ok = v.t.is_finite()
                && v.t > 0.0
                && usable_strike(v.quote)
                && v.quote.open_interest > 0
                && c.multiplier > 0;
            ok.then(|| FlipLeg {
                right: c.right,
                strike: c.strike,
                t: v.t,
                vol,
                weight: c.right.sign() * v.quote.open_interest as f64 * f64::from(c.multiplier),
            })
        })
        .collect();
    if legs.is_empty() {
        return None;
    }
    let total = |x: f64| total_gex_at(&legs, x, rate, dividend);

    let n = GAMMA_FLIP_GRID_POINTS;
    let step = spot / (n - 1) as f64;
    let mut brackets: Vec<(f64, f64)> = Vec::new();
    let mut previous: Option<(f64, f64)> = None;
    for i in 0..n {
        let x = 0.5 * spot + step * i as f64;
        let fx = total(x);
        if !fx.is_finite() || fx == 0.0 {
            continue;
        }
        if let Some((px, pf)) = previous
            && (pf < 0.0) != (fx < 0.0)
        {
            brackets.push((px, x));
        }
        previous = Some((x, fx));
    }
    let distance = |(lo, hi): (f64, f64)| {
        if lo <= spot && spot <= hi {
            0.0
        } else {
            (lo - spot).abs().min((hi - spot).abs())
        }
    };
    let mut chosen = *brackets.first()?;
    for &b in brackets.iter().skip(1) {
        if distance(b) < distance(chosen) {
            chosen = b;
        }
    }

    let (mut lo, mut hi) = chosen;
    let lo_negative = total(lo) < 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if hi - lo <= 1e-6 * mid {
            break;
        }
        let fm = total(mid);
        if fm == 0.0 {
            return Some(mid);
        }
        if (fm < 0.0) == lo_negative {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

// ---------------------------------------------------------------------------
// Expected move
// ---------------------------------------------------------------------------

/// The market's expected move to one expiry, from the ATM straddle.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ExpectedMove {
    /// Expiry used (the nearest at least one day out).
    pub expiry: NaiveDate,
    /// Years to that expiry (ACT/365).
    pub t: f64,
    /// Calendar days to that expiry (t x 365).
    pub days: f64,
    /// Underlying price used.
    pub spot: f64,
    /// Straddle strike: the listed strike nearest spot with both a call and a put mid.
    pub strike: f64,
    /// Call mid at that strike.
    pub call_mid: f64,
    /// Put mid at that strike.
    pub put_mid: f64,
    /// Straddle price (call mid + put mid): the expected move in $.
    pub straddle: f64,
    /// Straddle as % of spot.
    pub straddle_pct: f64,
    /// spot - straddle.
    pub lower: f64,
    /// spot + straddle.
    pub upper: f64,
    /// ATM IV: mean of the call and put IVs at the straddle strike (either alone if one is missing); null if neither.
    pub atm_iv: Option<f64>,
    /// Implied one-standard-deviation move S x atm_iv x sqrt(t), in $; null without atm_iv.
    pub implied_move: Option<f64>,
    /// implied_move as % of spot; null without atm_iv.
    pub implied_move_pct: Option<f64>,
    /// spot - implied_move; null without atm_iv.
    pub implied_lower: Option<f64>,
    /// spot + implied_move; null without atm_iv.
    pub implied_upper: Option<f64>,
}

/// Expected move from the ATM straddle of the nearest expiry at least one
/// day out (`t >= 1/365`; the function picks it from `views`, so the views of
/// several expiries may be passed). The straddle strike is the listed
/// strike nearest `spot` (ties to the lower strike) having both a call and a
/// put with a positive finite mid ([`OptionQuote::mid`]); the straddle price
/// (call mid + put mid) is the expected move in $ (for an ATM-forward
/// straddle about sqrt(2/pi) ~ 0.80 of the one-sigma move, i.e. the expected
/// absolute move), also as % of spot, with the range spot ± straddle. Also
/// returned: the implied one-sigma move `S·σ_atm·√t` and its range, where
/// σ_atm is the mean of the call and put IVs at the straddle strike; `t` is
/// that of the straddle's call.
///
/// `None` when `spot` is not finite and positive, no expiry is at least a
/// day out, or that expiry has no strike with both mids.
pub fn expected_move(views: &[ContractView<'_>], spot: f64) -> Option<ExpectedMove> {
    if !(spot.is_finite() && spot > 0.0) {
        return None;
    }
    let min_t = 1.0 / 365.0 - 1e-12;
    let expiry = views
        .iter()
        .filter(|v| v.t.is_finite() && v.t >= min_t)
        .map(|v| v.quote.contract.expiry)
        .min()?;
    let good_mid = |v: &ContractView<'_>| {
        let m = v.quote.mid();
        (m.is_finite() && m > 0.0).then_some(m)
    };
    // First usable call and put per strike.
    let mut rows: BTreeMap<StrikeKey, (Option<ContractView<'_>>, Option<ContractView<'_>>)> =
        BTreeMap::new();
    for v in views
        .iter()
        .filter(|v| v.quote.contract.expiry == expiry && v.t.is_finite() && v.t >= min_t)
    {
        if !usable_strike(v.quote) || good_mid(v).is_none() {
            continue;
        }
        let row = rows
            .entry(StrikeKey::new(v.quote.contract.strike))
            .or_insert((None, None));
        let slot = match v.quote.contract.right {
            Right::Call => &mut row.0,
            Right::Put => &mut row.1,
        };
        if slot.is_none() {
            *slot = Some(*v);
        }
    }
    let mut best: Option<(f64, ContractView<'_>, ContractView<'_>)> = None;
    for (k, (call, put)) in &rows {
        let (Some(call), Some(put)) = (call, put) else {
            continue;
        };
        let d = (k.value() - spot).abs();
        if best.as_ref().is_none_or(|(bd, _, _)| d < *bd) {
            best = Some((d, *call, *put));
        }
    }
    let (_, call, put) = best?;
    let call_mid = good_mid(&call)?;
    let put_mid = good_mid(&put)?;
    let straddle = call_mid + put_mid;
    let t = call.t;
    let ivs: Vec<f64> = [call.iv, put.iv]
        .into_iter()
        .flatten()
        .filter(|iv| iv.is_finite() && *iv > 0.0)
        .collect();
    let atm_iv = (!ivs.is_empty()).then(|| ivs.iter().sum::<f64>() / ivs.len() as f64);
    let implied_move = atm_iv
        .map(|iv| spot * iv * t.sqrt())
        .filter(|m| m.is_finite());
    Some(ExpectedMove {
        expiry,
        t,
        days: t * 365.0,
        spot,
        strike: call.quote.contract.strike,
        call_mid,
        put_mid,
        straddle,
        straddle_pct: straddle / spot * 100.0,
        lower: spot - straddle,
        upper: spot + straddle,
        atm_iv,
        implied_move,
        implied_move_pct: implied_move.map(|m| m / spot * 100.0),
        implied_lower: implied_move.map(|m| spot - m),
        implied_upper: implied_move.map(|m| spot + m),
    })
}

// ---------------------------------------------------------------------------
// IV rank and percentile
// ---------------------------------------------------------------------------

/// Where the current implied volatility sits in its history.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct IvRank {
    /// The current IV.
    pub current: f64,
    /// IV rank, 0-100: (current - low) / (high - low) x 100, low and high over the history and current; null when high = low.
    pub rank: Option<f64>,
    /// IV percentile, 0-100: share of history observations strictly below current, x 100.
    pub percentile: f64,
    /// Lowest of the history and current.
    pub low: f64,
    /// Highest of the history and current.
    pub high: f64,
    /// History observations used (finite values).
    pub observations: usize,
}

/// IV rank and IV percentile of `current` against `history` (for example a
/// year of daily ATM IVs; the order does not matter). Non-finite history
/// values are dropped.
///
/// - Rank = (current − low) / (high − low) × 100, where low and high are the
///   extremes of the history *together with current* (so a new high ranks
///   100, a new low 0, and the rank always lies in [0, 100]); `None` when
///   high = low.
/// - Percentile = (number of history observations strictly below current) /
///   (number of history observations) × 100; current itself is not counted.
///
/// `None` when `current` is not finite or the history has no finite value.
pub fn iv_rank_percentile(history: &[f64], current: f64) -> Option<IvRank> {
    if !current.is_finite() {
        return None;
    }
    let values: Vec<f64> = history.iter().copied().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return None;
    }
    let low = values.iter().copied().fold(current, f64::min);
    let high = values.iter().copied().fold(current, f64::max);
    let range = high - low;
    let rank = (range > 0.0 && range.is_finite())
        .then(|| ((current - low) / range * 100.0).clamp(0.0, 100.0));
    let below = values.iter().filter(|v| **v < current).count();
    Some(IvRank {
        current,
        rank,
        percentile: below as f64 / values.len() as f64 * 100.0,
        low,
        high,
        observations: values.len(),
    })
}

// ---------------------------------------------------------------------------
// Term structure and skew
// ---------------------------------------------------------------------------

/// ATM implied volatility of one expiry.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TermPoint {
    /// Expiry date.
    pub expiry: NaiveDate,
    /// Years to expiry (ACT/365).
    pub t: f64,
    /// ATM implied volatility (decimal), interpolated in strike at spot.
    pub atm_iv: f64,
}

/// Linear interpolation of `y` in `x` at `at` over `points` (any order).
/// Points sharing an `x` are averaged first; an exact hit returns that
/// point's value; no extrapolation (`None` outside the range).
fn interpolate(points: &[(f64, f64)], at: f64) -> Option<f64> {
    let mut sorted: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64, usize)> = Vec::with_capacity(sorted.len());
    for (x, y) in sorted {
        match merged.last_mut() {
            Some(last) if last.0 == x => {
                last.1 += y;
                last.2 += 1;
            }
            _ => merged.push((x, y, 1)),
        }
    }
    let merged: Vec<(f64, f64)> = merged
        .into_iter()
        .map(|(x, sum, n)| (x, sum / n as f64))
        .collect();
    if let Some(hit) = merged.iter().find(|p| p.0 == at) {
        return Some(hit.1);
    }
    let below = merged.iter().rev().find(|p| p.0 < at)?;
    let above = merged.iter().find(|p| p.0 > at)?;
    let value = below.1 + (above.1 - below.1) * (at - below.0) / (above.0 - below.0);
    value.is_finite().then_some(value)
}

fn usable_iv(view: &ContractView<'_>) -> Option<f64> {
    view.iv.filter(|iv| iv.is_finite() && *iv > 0.0)
}

/// ATM IV term structure: one point per expiry, earliest first.
///
/// Per strike the IV is that of the out-of-the-money side — the put for
/// strikes below `spot`, the call for strikes at or above it — falling back
/// to the other side when that one has no IV. The ATM IV is then linearly
/// interpolated in strike between the two listed strikes around **spot**
/// (not the forward: the function takes no rate or dividend; for near
/// expiries the difference is small), or taken directly when a strike equals
/// spot. Expiries whose strikes with IV do not bracket spot (no
/// extrapolation), or with a non-positive `t`, are left out, as are views
/// without a finite positive IV.
pub fn term_structure(views: &[ContractView<'_>], spot: f64) -> Vec<TermPoint> {
    if !(spot.is_finite() && spot > 0.0) {
        return Vec::new();
    }
    // expiry -> (t, strike -> (call iv, put iv))
    type Row = (Option<f64>, Option<f64>);
    let mut by_expiry: BTreeMap<NaiveDate, (f64, BTreeMap<StrikeKey, Row>)> = BTreeMap::new();
    for v in views {
        let Some(iv) = usable_iv(v) else { continue };
        if !(usable_strike(v.quote) && v.t.is_finite() && v.t > 0.0) {
            continue;
        }
        let c = &v.quote.contract;
        let entry = by_expiry
            .entry(c.expiry)
            .or_insert_with(|| (v.t, BTreeMap::new()));
        let row = entry
            .1
            .entry(StrikeKey::new(c.strike))
            .or_insert((None, None));
        let slot = match c.right {
            Right::Call => &mut row.0,
            Right::Put => &mut row.1,
        };
        if slot.is_none() {
            *slot = Some(iv);
        }
    }
    by_expiry
        .into_iter()
        .filter_map(|(expiry, (t, strikes))| {
            let points: Vec<(f64, f64)> = strikes
                .into_iter()
                .filter_map(|(k, (call, put))| {
                    let strike = k.value();
                    let iv = if strike < spot {
                        put.or(call)
                    } else {
                        call.or(put)
                    };
                    iv.map(|iv| (strike, iv))
                })
                .collect();
            let atm_iv = interpolate(&points, spot)?;
            Some(TermPoint { expiry, t, atm_iv })
        })
        .collect()
}

/// The 25-delta skew of one expiry.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Skew {
    /// The expiry the views belong to.
    pub expiry: NaiveDate,
    /// 25-delta risk reversal: call25_iv - put25_iv (negative when puts are bid, as usual for equities).
    pub rr25: f64,
    /// 25-delta butterfly: (call25_iv + put25_iv) / 2 - atm_iv.
    pub bf25: f64,
    /// IV at call delta +0.25, interpolated linearly in delta.
    pub call25_iv: f64,
    /// IV at put delta -0.25, interpolated linearly in delta.
    pub put25_iv: f64,
    /// ATM IV: mean of the IV at call delta +0.50 and at put delta -0.50 (either alone if only one can be interpolated).
    pub atm_iv: f64,
}

/// 25-delta skew of ONE expiry. IVs are interpolated linearly in delta
/// (the views' `delta`, per share, as the caller computed it): calls at
/// delta +0.25, puts at −0.25; no extrapolation. The ATM IV is the mean of
/// the call IV at +0.50 and the put IV at −0.50 (whichever exists if only
/// one side brackets its 50 delta). Risk reversal `rr25 = call25 − put25`;
/// butterfly `bf25 = (call25 + put25)/2 − atm`. Views without a finite
/// positive IV or a finite delta of the right sign (calls in (0, 1], puts in
/// [−1, 0)) are skipped.
///
/// `None` when the views span more than one expiry or any of the three IVs
/// cannot be interpolated.
pub fn skew(views: &[ContractView<'_>]) -> Option<Skew> {
    let expiry = views.first()?.quote.contract.expiry;
    if views.iter().any(|v| v.quote.contract.expiry != expiry) {
        return None;
    }
    let mut calls: Vec<(f64, f64)> = Vec::new();
    let mut puts: Vec<(f64, f64)> = Vec::new();
    for v in views {
        let (Some(iv), Some(delta)) = (usable_iv(v), v.delta.filter(|d| d.is_finite())) else {
            continue;
        };
        match v.quote.contract.right {
            Right::Call if delta > 0.0 && delta <= 1.0 => calls.push((delta, iv)),
            Right::Put if (-1.0..0.0).contains(&delta) => puts.push((delta, iv)),
            _ => {}
        }
    }
    let call25_iv = interpolate(&calls, 0.25)?;
    let put25_iv = interpolate(&puts, -0.25)?;
    let atm_iv = match (interpolate(&calls, 0.5), interpolate(&puts, -0.5)) {
        (Some(c), Some(p)) => 0.5 * (c + p),
        (Some(c), None) => c,
        (None, Some(p)) => p,
        (None, None) => return None,
    };
    Some(Skew {
        expiry,
        rr25: call25_iv - put25_iv,
        bf25: 0.5 * (call25_iv + put25_iv) - atm_iv,
        call25_iv,
        put25_iv,
        atm_iv,
    })
}
