//! Unusual options activity over a set of trade prints of one underlying,
//! and the premium split by inferred side.
//!
//! # Side
//!
//! Each print's side is inferred from its price against the NBBO at the
//! print: the print's own `bid`/`ask` when both are present, else a fallback
//! quote (the contract's [`ContractContext`] `bid`/`ask`). With spread
//! `s = ask - bid`, mid `m` and tolerance `tol = max(10% of s, 1 cent)`:
//!
//! - `price > m` and `price >= ask - tol` → [`Side::Bought`] (at or above the ask);
//! - `price < m` and `price <= bid + tol` → [`Side::Sold`] (at or below the bid);
//! - anything else (at the mid, or inside the spread away from both edges) → [`Side::Mid`];
//! - no usable NBBO (missing, negative bid, non-positive ask, crossed) or a
//!   non-finite price → [`Side::Unknown`].
//!
//! The "strictly beyond the mid" requirement keeps the two edges apart on
//! one- and two-cent spreads, and makes a print at a locked market's price
//! `Mid`.
//!
//! # Detection ([`detect`])
//!
//! Prints are grouped by OCC symbol ([`crate::occ::format`]) and ordered by
//! time (then id). Per contract:
//!
//! - **Sweep**: starting at each print not yet in a sweep, the prints of the
//!   same side (bought or sold only) no later than
//!   [`FlowConfig::sweep_window_ms`] after it form a candidate; it is a
//!   sweep when it spans at least [`FlowConfig::sweep_min_exchanges`]
//!   distinct exchanges and at least [`FlowConfig::sweep_min_size`]
//!   contracts. Its prints are then taken (one hit per sweep) and the scan
//!   goes on. Prints of the other side, `Mid` or `Unknown` never join a sweep.
//! - **Block**: one print of at least [`FlowConfig::block_min_size`]
//!   contracts or [`FlowConfig::block_min_premium`] dollars. A print that is
//!   part of a sweep is reported in the sweep only, never also as a block
//!   (the sweep's reasons mention a block-sized leg).
//! - **Volume over open interest** (needs the contract's context): session
//!   volume `v = max(context.volume, contracts in the given prints)`;
//!   a hit when `v > open_interest`, `v >= voi_min_volume`, and, when the
//!   average volume is known, `v >= voi_average_multiple x average_volume`
//!   (an unknown average does not block the hit; the reasons say it is
//!   unknown).
//! - **Large premium**: total premium of one contract on one UTC day at least
//!   [`FlowConfig::large_premium`].
//! - **IV jump** (needs context): `iv - previous_iv >= iv_jump` (decimal vol:
//!   0.05 = 5 vol points).
//!
//! A hit's `time` is its first print's time (for volume/OI and IV jumps, the
//! last print's: when the condition is seen). Volume/OI, large-premium and
//! IV-jump hits carry the side that holds more than half of their premium
//! (bought or sold), else `Mid`.
//!
//! # Score
//!
//! `score = base(kind) + size + premium + open interest + aggression`, at
//! most 100, rounded to 0.1:
//!
//! - base: sweep 25, block 20, volume/OI 15, large premium 15, IV jump 10;
//! - size: `25 x min(1, contracts / 2,000)`;
//! - premium: `25 x clamp(log10(premium / $10,000) / 2, 0, 1)` (0 at $10k, full at $1M);
//! - open interest: `15 x min(1, contracts / open interest)` (full when the
//!   open interest is 0, nothing without context);
//! - aggression: bought or sold 10, mid 3, unknown 0.
//!
//! Hits are sorted by score (highest first), then time, kind and symbol.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::chain::{Contract, Right, TradePrint};

/// Fraction of the spread, inside each edge, that still counts as at the edge.
pub const SIDE_EDGE_FRACTION: f64 = 0.10;
/// The smallest edge tolerance, in price (one cent).
pub const SIDE_MIN_TOLERANCE: f64 = 0.01;

/// Score weights (see the module docs).
pub const SCORE_BASE_SWEEP: f64 = 25.0;
pub const SCORE_BASE_BLOCK: f64 = 20.0;
pub const SCORE_BASE_VOLUME_OI: f64 = 15.0;
pub const SCORE_BASE_LARGE_PREMIUM: f64 = 15.0;
pub const SCORE_BASE_IV_JUMP: f64 = 10.0;
pub const SCORE_SIZE: f64 = 25.0;
/// Contracts for the full size score.
pub const SCORE_SIZE_FULL: f64 = 2_000.0;
pub const SCORE_PREMIUM: f64 = 25.0;
/// Premium (dollars) at which the premium score starts; full at 100x this.
pub const SCORE_PREMIUM_FLOOR: f64 = 10_000.0;
pub const SCORE_OPEN_INTEREST: f64 = 15.0;
pub const SCORE_AGGRESSIVE: f64 = 10.0;
pub const SCORE_MID: f64 = 3.0;

const EPS: f64 = 1e-9;

/// The side of a print, inferred from its price against the NBBO.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// At or above the ask: a buyer paid up.
    Bought,
    /// At or below the bid: a seller hit the bid.
    Sold,
    /// Between the edges.
    Mid,
    /// No usable quote.
    Unknown,
}

impl Side {
    fn word(self) -> &'static str {
        match self {
            Side::Bought => "bought",
            Side::Sold => "sold",
            Side::Mid => "traded at mid",
            Side::Unknown => "traded (side unknown)",
        }
    }
}

/// The side of a trade at `price` against a `bid`/`ask` (rules in the module docs).
pub fn infer_side(price: f64, bid: f64, ask: f64) -> Side {
    if !price.is_finite()
        || !bid.is_finite()
        || !ask.is_finite()
        || bid < 0.0
        || ask <= 0.0
        || bid > ask
    {
        return Side::Unknown;
    }
    let spread = ask - bid;
    let tol = (SIDE_EDGE_FRACTION * spread).max(SIDE_MIN_TOLERANCE);
    let mid = 0.5 * (bid + ask);
    if price > mid + EPS && price >= ask - tol - EPS {
        Side::Bought
    } else if price < mid - EPS && price <= bid + tol + EPS {
        Side::Sold
    } else {
        Side::Mid
    }
}

/// The side of a print: against its own NBBO when it has both sides, else
/// against `fallback` (bid, ask), else [`Side::Unknown`].
pub fn print_side(print: &TradePrint, fallback: Option<(f64, f64)>) -> Side {
    let quote = match (print.bid, print.ask) {
        (Some(b), Some(a)) => Some((b, a)),
        _ => fallback,
    };
    match quote {
        Some((b, a)) => infer_side(print.price, b, a),
        None => Side::Unknown,
    }
}

/// What is known about one contract besides its prints, keyed by OCC symbol.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContractContext {
    /// Open interest at the start of the session.
    pub open_interest: u64,
    /// Session volume so far.
    pub volume: u64,
    /// Typical daily volume (e.g. the 20-day mean), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_volume: Option<f64>,
    /// Implied volatility now (decimal: 0.25 = 25%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iv: Option<f64>,
    /// Implied volatility at the previous close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_iv: Option<f64>,
    /// Current bid, the fallback NBBO for prints without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid: Option<f64>,
    /// Current ask.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<f64>,
}

impl ContractContext {
    /// The fallback quote, when both sides are known.
    pub fn nbbo(&self) -> Option<(f64, f64)> {
        match (self.bid, self.ask) {
            (Some(b), Some(a)) => Some((b, a)),
            _ => None,
        }
    }
}

/// Detection thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct FlowConfig {
    /// Distinct exchanges a sweep must reach. Default 3.
    pub sweep_min_exchanges: usize,
    /// Milliseconds from a sweep's first print within which its prints fall. Default 500.
    pub sweep_window_ms: i64,
    /// Contracts a sweep must total. Default 100.
    pub sweep_min_size: u64,
    /// Contracts that make one print a block. Default 500.
    pub block_min_size: u32,
    /// Premium (dollars) that makes one print a block. Default 250,000.
    pub block_min_premium: f64,
    /// Session volume a volume-over-open-interest hit needs. Default 500.
    pub voi_min_volume: u64,
    /// Multiple of the average volume a volume-over-open-interest hit needs. Default 5.
    pub voi_average_multiple: f64,
    /// Premium (dollars) per contract and day for a large-premium hit. Default 1,000,000.
    pub large_premium: f64,
    /// Rise of implied volatility (decimal) for an IV-jump hit. Default 0.05 (5 vol points).
    pub iv_jump: f64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            sweep_min_exchanges: 3,
            sweep_window_ms: 500,
            sweep_min_size: 100,
            block_min_size: 500,
            block_min_premium: 250_000.0,
            voi_min_volume: 500,
            voi_average_multiple: 5.0,
            large_premium: 1_000_000.0,
            iv_jump: 0.05,
        }
    }
}

/// What made a hit unusual.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    Sweep,
    Block,
    VolumeOverOi,
    LargePremium,
    IvJump,
}

/// One piece of unusual activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnusualHit {
    pub kind: HitKind,
    /// OCC symbol of the contract.
    pub occ: String,
    pub contract: Contract,
    /// First print's time (last print's for volume/OI and IV jumps).
    pub time: DateTime<Utc>,
    /// The prints behind the hit, in time order.
    pub print_ids: Vec<String>,
    /// Distinct exchanges of those prints, sorted.
    pub exchanges: Vec<String>,
    /// Contracts (session volume for volume/OI hits).
    pub size: u64,
    /// Dollars paid in the hit's prints.
    pub premium: f64,
    /// Volume-weighted average price of the hit's prints (0 without prints).
    pub vwap: f64,
    pub side: Side,
    /// 0-100 (see the module docs).
    pub score: f64,
    /// Milliseconds from first to last print.
    pub duration_ms: i64,
    /// Open interest from the context, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_interest: Option<u64>,
    /// Underlying price at the first print that reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub underlying_price: Option<f64>,
    /// Why, in words.
    pub reasons: Vec<String>,
}

/// Prints, contracts and premium of one bucket of the split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FlowBucket {
    pub prints: u64,
    pub contracts: u64,
    pub premium: f64,
}

impl FlowBucket {
    fn add(&mut self, p: &TradePrint) {
        self.prints += 1;
        self.contracts += u64::from(p.size);
        self.premium += p.premium();
    }
}

/// Premium by direction: bullish = bought calls + sold puts, bearish =
/// bought puts + sold calls, neutral = mid and unknown sides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FlowSplit {
    pub bullish: FlowBucket,
    pub bearish: FlowBucket,
    pub neutral: FlowBucket,
    pub bought_calls: FlowBucket,
    pub sold_calls: FlowBucket,
    pub bought_puts: FlowBucket,
    pub sold_puts: FlowBucket,
    pub call_premium: f64,
    pub put_premium: f64,
    pub total_premium: f64,
    /// (bullish - bearish) / total premium, in [-1, 1]; 0 without premium.
    pub net: f64,
}

/// The premium split of `prints`, sides inferred as in [`print_side`] with
/// each contract's context quote as the fallback.
pub fn premium_split(
    prints: &[TradePrint],
    context: &HashMap<String, ContractContext>,
) -> FlowSplit {
    let mut s = FlowSplit::default();
    for p in prints {
        let fallback = context
            .get(&crate::occ::format(&p.contract))
            .and_then(ContractContext::nbbo);
        let side = print_side(p, fallback);
        let prem = p.premium();
        s.total_premium += prem;
        match p.contract.right {
            Right::Call => s.call_premium += prem,
            Right::Put => s.put_premium += prem,
        }
        match (p.contract.right, side) {
            (Right::Call, Side::Bought) => {
                s.bought_calls.add(p);
                s.bullish.add(p);
            }
            (Right::Put, Side::Sold) => {
                s.sold_puts.add(p);
                s.bullish.add(p);
            }
            (Right::Put, Side::Bought) => {
                s.bought_puts.add(p);
                s.bearish.add(p);
            }
            (Right::Call, Side::Sold) => {
                s.sold_calls.add(p);
                s.bearish.add(p);
            }
            _ => s.neutral.add(p),
        }
    }
    s.net = if s.total_premium > 0.0 {
        ((s.bullish.premium - s.bearish.premium) / s.total_premium).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    s
}

struct Leg<'a> {
    print: &'a TradePrint,
    side: Side,
}

/// Unusual activity in `prints` (one underlying), sorted by score then time.
pub fn detect(
    prints: &[TradePrint],
    context: &HashMap<String, ContractContext>,
    config: &FlowConfig,
) -> Vec<UnusualHit> {
    let mut by_contract: BTreeMap<String, Vec<&TradePrint>> = BTreeMap::new();
    for p in prints {
        by_contract
            .entry(crate::occ::format(&p.contract))
            .or_default()
            .push(p);
    }
    let mut hits = Vec::new();
    for (occ, mut ps) in by_contract {
        ps.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
        let ctx = context.get(&occ);
        let fallback = ctx.and_then(ContractContext::nbbo);
        let legs: Vec<Leg<'_>> = ps
            .iter()
            .map(|p| Leg {
                print: p,
                side: print_side(p, fallback),
            })
            .collect();
        let in_sweep = sweeps(&occ, &legs, ctx, config, &mut hits);
        blocks(&occ, &legs, &in_sweep, ctx, config, &mut hits);
        volume_over_oi(&occ, &legs, ctx, config, &mut hits);
        large_premium(&occ, &legs, ctx, config, &mut hits);
        iv_jump(&occ, &legs, ctx, config, &mut hits);
    }
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.occ.cmp(&b.occ))
    });
    hits
}

/// Finds the sweeps of one contract, pushes their hits and returns which
/// legs (by index) they took.
fn sweeps(
    occ: &str,
    legs: &[Leg<'_>],
    ctx: Option<&ContractContext>,
    config: &FlowConfig,
    hits: &mut Vec<UnusualHit>,
) -> Vec<bool> {
    let mut taken = vec![false; legs.len()];
    for i in 0..legs.len() {
        let Some(first) = legs.get(i) else { continue };
        if taken.get(i).copied().unwrap_or(true) || !matches!(first.side, Side::Bought | Side::Sold)
        {
            continue;
        }
        let mut members = Vec::new();
        for (j, leg) in legs.iter().enumerate().skip(i) {
            if (leg.print.time - first.print.time).num_milliseconds() > config.sweep_window_ms {
                break;
            }
            if leg.side == first.side && !taken.get(j).copied().unwrap_or(true) {
                members.push(j);
            }
        }
        let chosen: Vec<&Leg<'_>> = members.iter().filter_map(|&j| legs.get(j)).collect();
        let exchanges: BTreeSet<&str> = chosen.iter().map(|l| l.print.exchange.as_str()).collect();
        let size: u64 = chosen.iter().map(|l| u64::from(l.print.size)).sum();
        if exchanges.len() < config.sweep_min_exchanges.max(1) || size < config.sweep_min_size {
            continue;
        }
        for &j in &members {
            if let Some(t) = taken.get_mut(j) {
                *t = true;
            }
        }
        let mut hit = hit_from(HitKind::Sweep, occ, &chosen, first.side, ctx);
        let mut reasons = vec![format!(
            "{} contracts {} across {} exchanges ({}) in {}",
            thousands(size),
            first.side.word(),
            exchanges.len(),
            exchanges.iter().copied().collect::<Vec<_>>().join(", "),
            seconds(hit.duration_ms)
        )];
        reasons.push(format!(
            "premium {} at a VWAP of {:.2}",
            dollars(hit.premium),
            hit.vwap
        ));
        let iso = chosen
            .iter()
            .filter(|l| {
                l.print
                    .condition
                    .as_deref()
                    .is_some_and(|c| c.to_ascii_uppercase().starts_with("ISO"))
            })
            .count();
        if iso > 0 {
            reasons.push(format!(
                "{iso} of {} prints flagged ISO (intermarket sweep)",
                chosen.len()
            ));
        }
        let big = chosen
            .iter()
            .filter(|l| {
                l.print.size >= config.block_min_size
                    || l.print.premium() >= config.block_min_premium
            })
            .count();
        if big > 0 {
            reasons.push(format!(
                "includes {big} block-sized print(s), reported in this sweep only"
            ));
        }
        finish(&mut hit, reasons, ctx);
        hits.push(hit);
    }
    taken
}

fn blocks(
    occ: &str,
    legs: &[Leg<'_>],
    in_sweep: &[bool],
    ctx: Option<&ContractContext>,
    config: &FlowConfig,
    hits: &mut Vec<UnusualHit>,
) {
    for (i, leg) in legs.iter().enumerate() {
        if in_sweep.get(i).copied().unwrap_or(false) {
            continue;
        }
        let p = leg.print;
        let prem = p.premium();
        if p.size < config.block_min_size && prem < config.block_min_premium {
            continue;
        }
        let mut hit = hit_from(HitKind::Block, occ, &[leg], leg.side, ctx);
        let edge = match leg.side {
            Side::Bought => "at or near the ask (bought)",
            Side::Sold => "at or near the bid (sold)",
            Side::Mid => "between bid and ask",
            Side::Unknown => "with no quote to tell the side",
        };
        let reasons = vec![format!(
            "single print of {} contracts ({} premium) on {} at {:.2}, {edge}",
            thousands(u64::from(p.size)),
            dollars(prem),
            p.exchange,
            p.price
        )];
        finish(&mut hit, reasons, ctx);
        hits.push(hit);
    }
}

fn volume_over_oi(
    occ: &str,
    legs: &[Leg<'_>],
    ctx: Option<&ContractContext>,
    config: &FlowConfig,
    hits: &mut Vec<UnusualHit>,
) {
    let Some(c) = ctx else { return };
    if legs.is_empty() {
        return;
    }
    let traded: u64 = legs.iter().map(|l| u64::from(l.print.size)).sum();
    let volume = c.volume.max(traded);
    if volume <= c.open_interest || volume < config.voi_min_volume {
        return;
    }
    let avg = c.average_volume.filter(|a| a.is_finite() && *a >= 0.0);
    if let Some(a) = avg
        && (volume as f64) < config.voi_average_multiple * a
    {
        return;
    }
    let all: Vec<&Leg<'_>> = legs.iter().collect();
    let mut hit = hit_from(HitKind::VolumeOverOi, occ, &all, dominant_side(&all), ctx);
    if let Some(last) = legs.last() {
        hit.time = last.print.time;
    }
    hit.size = volume;
    let ratio = if c.open_interest > 0 {
        format!(
            "{:.1}x open interest of {}",
            volume as f64 / c.open_interest as f64,
            thousands(c.open_interest)
        )
    } else {
        "no open interest before today".to_string()
    };
    let avg_text = match avg {
        Some(a) if a > 0.0 => format!(
            "{:.1}x the average volume of {}",
            volume as f64 / a,
            thousands(a.round() as u64)
        ),
        Some(_) => "against an average volume of 0".to_string(),
        None => "average volume unknown".to_string(),
    };
    let reasons = vec![format!(
        "session volume {} is {ratio}; {avg_text}",
        thousands(volume)
    )];
    finish(&mut hit, reasons, ctx);
    hits.push(hit);
}

fn large_premium(
    occ: &str,
    legs: &[Leg<'_>],
    ctx: Option<&ContractContext>,
    config: &FlowConfig,
    hits: &mut Vec<UnusualHit>,
) {
    let mut by_day: BTreeMap<NaiveDate, Vec<&Leg<'_>>> = BTreeMap::new();
    for l in legs {
        by_day.entry(l.print.time.date_naive()).or_default().push(l);
    }
    for (day, day_legs) in by_day {
        let prem: f64 = day_legs.iter().map(|l| l.print.premium()).sum();
        if prem < config.large_premium {
            continue;
        }
        let mut hit = hit_from(
            HitKind::LargePremium,
            occ,
            &day_legs,
            dominant_side(&day_legs),
            ctx,
        );
        let reasons = vec![format!(
            "{} premium on {day} across {} prints ({} contracts), mostly {}",
            dollars(prem),
            day_legs.len(),
            thousands(hit.size),
            hit.side.word()
        )];
        finish(&mut hit, reasons, ctx);
        hits.push(hit);
    }
}

fn iv_jump(
    occ: &str,
    legs: &[Leg<'_>],
    ctx: Option<&ContractContext>,
    config: &FlowConfig,
    hits: &mut Vec<UnusualHit>,
) {
    let Some(c) = ctx else { return };
    let (Some(iv), Some(prev)) = (c.iv, c.previous_iv) else {
        return;
    };
    if legs.is_empty() || !iv.is_finite() || !prev.is_finite() || iv - prev < config.iv_jump - EPS {
        return;
    }
    let all: Vec<&Leg<'_>> = legs.iter().collect();
    let mut hit = hit_from(HitKind::IvJump, occ, &all, dominant_side(&all), ctx);
    if let Some(last) = legs.last() {
        hit.time = last.print.time;
    }
    let reasons = vec![format!(
        "implied volatility up {:.1} vol points to {:.1}% (from {:.1}%)",
        (iv - prev) * 100.0,
        iv * 100.0,
        prev * 100.0
    )];
    finish(&mut hit, reasons, ctx);
    hits.push(hit);
}

/// Bought or sold when that side holds more than half the premium, else mid.
fn dominant_side(legs: &[&Leg<'_>]) -> Side {
    let total: f64 = legs.iter().map(|l| l.print.premium()).sum();
    let of = |s: Side| -> f64 {
        legs.iter()
            .filter(|l| l.side == s)
            .map(|l| l.print.premium())
            .sum()
    };
    if total <= 0.0 {
        return Side::Unknown;
    }
    if of(Side::Bought) > 0.5 * total {
        Side::Bought
    } else if of(Side::Sold) > 0.5 * total {
        Side::Sold
    } else {
        Side::Mid
    }
}

/// A hit's common fields from its legs (score and reasons come in `finish`).
fn hit_from(
    kind: HitKind,
    occ: &str,
    legs: &[&Leg<'_>],
    side: Side,
    ctx: Option<&ContractContext>,
) -> UnusualHit {
    let size: u64 = legs.iter().map(|l| u64::from(l.print.size)).sum();
    let premium: f64 = legs.iter().map(|l| l.print.premium()).sum();
    let notional: f64 = legs
        .iter()
        .map(|l| l.print.price * f64::from(l.print.size))
        .sum();
    let vwap = if size > 0 {
        notional / size as f64
    } else {
        0.0
    };
    let first = legs.first().map(|l| l.print);
    let last = legs.last().map(|l| l.print);
    let exchanges: BTreeSet<String> = legs.iter().map(|l| l.print.exchange.clone()).collect();
    let (contract, time) = match first {
        Some(p) => (p.contract.clone(), p.time),
        None => (
            Contract {
                underlying: String::new(),
                expiry: NaiveDate::MIN,
                strike: 0.0,
                right: Right::Call,
                multiplier: crate::chain::DEFAULT_MULTIPLIER,
                style: crate::chain::ExerciseStyle::American,
            },
            DateTime::<Utc>::MIN_UTC,
        ),
    };
    let duration_ms = match (first, last) {
        (Some(a), Some(b)) => (b.time - a.time).num_milliseconds(),
        _ => 0,
    };
    UnusualHit {
        kind,
        occ: occ.to_string(),
        contract,
        time,
        print_ids: legs.iter().map(|l| l.print.id.clone()).collect(),
        exchanges: exchanges.into_iter().collect(),
        size,
        premium,
        vwap,
        side,
        score: 0.0,
        duration_ms,
        open_interest: ctx.map(|c| c.open_interest),
        underlying_price: legs.iter().find_map(|l| {
            l.print
                .underlying_price
                .filter(|u| u.is_finite() && *u > 0.0)
        }),
        reasons: Vec::new(),
    }
}

/// Adds the shared reasons (open interest, direction, moneyness, expiry) and the score.
fn finish(hit: &mut UnusualHit, mut reasons: Vec<String>, ctx: Option<&ContractContext>) {
    if hit.kind != HitKind::VolumeOverOi
        && let Some(c) = ctx
    {
        if c.open_interest > 0 {
            let r = hit.size as f64 / c.open_interest as f64;
            if r >= 0.5 {
                reasons.push(format!(
                    "{r:.1}x open interest of {}",
                    thousands(c.open_interest)
                ));
            }
        } else if hit.size > 0 {
            reasons.push("no open interest before today: new positions".to_string());
        }
    }
    let direction = match (hit.contract.right, hit.side) {
        (Right::Call, Side::Bought) => Some("calls bought: bullish"),
        (Right::Call, Side::Sold) => Some("calls sold: bearish (or call writing against stock)"),
        (Right::Put, Side::Bought) => Some("puts bought: bearish (or a hedge)"),
        (Right::Put, Side::Sold) => Some("puts sold: bullish (or put writing for income)"),
        (_, Side::Mid) => Some("traded between bid and ask: direction unclear"),
        (_, Side::Unknown) => None,
    };
    if let Some(d) = direction {
        reasons.push(d.to_string());
    }
    if let Some(s) = hit.underlying_price {
        let k = hit.contract.strike;
        let pct = (k / s - 1.0) * 100.0;
        let otm = match hit.contract.right {
            Right::Call => k > s,
            Right::Put => k < s,
        };
        let word = if (k - s).abs() <= 0.01 * s {
            "at the money"
        } else if otm {
            "out of the money"
        } else {
            "in the money"
        };
        reasons.push(format!(
            "strike {:.2} is {:.1}% {} spot {s:.2} ({word})",
            k,
            pct.abs(),
            if pct >= 0.0 { "above" } else { "below" }
        ));
    }
    let days = (hit.contract.expiry - hit.time.date_naive()).num_days();
    reasons.push(format!("expires {} ({days} days)", hit.contract.expiry));
    hit.reasons = reasons;
    hit.score = score(
        hit.kind,
        hit.size,
        hit.premium,
        ctx.map(|c| c.open_interest),
        hit.side,
    );
}

/// The 0-100 score of a hit (weights in the module docs).
pub fn score(
    kind: HitKind,
    size: u64,
    premium: f64,
    open_interest: Option<u64>,
    side: Side,
) -> f64 {
    let base = match kind {
        HitKind::Sweep => SCORE_BASE_SWEEP,
        HitKind::Block => SCORE_BASE_BLOCK,
        HitKind::VolumeOverOi => SCORE_BASE_VOLUME_OI,
        HitKind::LargePremium => SCORE_BASE_LARGE_PREMIUM,
        HitKind::IvJump => SCORE_BASE_IV_JUMP,
    };
    let size_f = size as f64;
    let size_pts = SCORE_SIZE * (size_f / SCORE_SIZE_FULL).min(1.0);
    let prem_pts = if premium > 0.0 && premium.is_finite() {
        SCORE_PREMIUM * ((premium / SCORE_PREMIUM_FLOOR).log10() / 2.0).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let oi_pts = match open_interest {
        Some(0) if size > 0 => SCORE_OPEN_INTEREST,
        Some(oi) if oi > 0 => SCORE_OPEN_INTEREST * (size_f / oi as f64).min(1.0),
        _ => 0.0,
    };
    let aggr = match side {
        Side::Bought | Side::Sold => SCORE_AGGRESSIVE,
        Side::Mid => SCORE_MID,
        Side::Unknown => 0.0,
    };
    ((base + size_pts + prem_pts + oi_pts + aggr).clamp(0.0, 100.0) * 10.0).round() / 10.0
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Whole dollars with separators: `$294,000`.
fn dollars(x: f64) -> String {
    if x.is_finite() && x >= 0.0 {
        format!("${}", thousands(x.round() as u64))
    } else {
        format!("${x:.0}")
    }
}

fn seconds(ms: i64) -> String {
    if ms < 100 {
        "under 0.1 s".to_string()
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_200), "1,200");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(dollars(294_000.4), "$294,000");
        assert_eq!(seconds(300), "0.3 s");
    }

    #[test]
    fn score_bounds() {
        let top = score(HitKind::Sweep, 10_000, 1e9, Some(1), Side::Bought);
        assert!((top - 100.0).abs() < 1e-9);
        let low = score(HitKind::IvJump, 0, 0.0, None, Side::Unknown);
        assert!((low - 10.0).abs() < 1e-9);
    }
}
