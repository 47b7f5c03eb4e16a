//! Tools of the `options-flow` server: option chains with implied
//! volatility and Greeks, Greeks and implied volatility for a stored
//! contract or inline parameters, put/call ratios with history, unusual
//! activity (sweeps, blocks, volume over open interest, IV jumps), and a
//! flow analysis (premium by side, delta and gamma exposure, the gamma flip,
//! max pain, expected move, IV rank, term structure, skew). The import tool
//! (`import_options`) belongs to the `database` server, next to
//! `import_bars`.
//!
//! The maths lives in gs-options (QuantLib-exact models); chains, summaries
//! and prints go through the record store (`store`).

pub mod store;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use gs_domain::{BarQuery, Symbol, Timeframe, read_bars, read_series};
use gs_options::analytics::{
    self, ContractView, ExpectedMove, GammaExposure, IvRank, MaxPain, PutCallTotals, Skew,
    TermPoint,
};
use gs_options::flow::{self, ContractContext, FlowConfig, FlowSplit, HitKind, UnusualHit};
use gs_options::import::{OptionsFileKind, parse_chain_csv, parse_trades_csv};
use gs_options::metrics::{ChainPricing, QuoteMetrics, price_quote, years_to_expiry};
use gs_options::model::{self, DEFAULT_STEPS, Model, ModelInputs};
use gs_options::{ChainSnapshot, ExerciseStyle, Greeks, OptionQuote, Right, TradePrint, occ};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use self::store::{DaySummary, StoredSnapshot};
use crate::context::{Stores, ToolContext};
use crate::error::ToolError;
use crate::market_data::synthetic_note;
use crate::registry::{Annotations, Tool};
use crate::time_input::parse_time;

const SERVER: &str = "options-flow";
/// The risk-free rate assumed when a call gives none (continuous).
pub const DEFAULT_RATE: f64 = gs_options::metrics::DEFAULT_RATE;
const DEFAULT_ROWS: usize = 50;
const MAX_ROWS: usize = 200;
const DEFAULT_HISTORY_DAYS: usize = 20;
/// Snapshots an IV rank or put/call history reads, at most (a year).
pub const MAX_HISTORY_DAYS: usize = 252;
/// Prints one call reads, at most.
pub const MAX_PRINTS: usize = 50_000;
/// Largest file one import call takes.
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;
/// Binomial steps a tool accepts, at most (whole chains are priced).
pub const MAX_TOOL_STEPS: usize = 2_000;
/// Binomial pricing of whole chains: contracts x steps at most (each
/// contract takes some 60 trees: its implied volatility and Greeks).
pub const MAX_TREE_WORK: usize = 100_000;

fn check_tree_work(pricing: &ChainPricing, contracts: usize) -> Result<(), ToolError> {
    if pricing.model == Some(Model::Binomial)
        && contracts.saturating_mul(pricing.steps) > MAX_TREE_WORK
    {
        return Err(ToolError::invalid(format!(
            "the binomial model would price {contracts} contracts with {} steps each; contracts x steps may be at most {MAX_TREE_WORK}: narrow the filters (max_expiries, strikes_around, moneyness), lower steps, or use barone_adesi_whaley or bjerksund_stensland",
            pricing.steps
        )));
    }
    Ok(())
}

/// Snapshots before the day that make a contract's average volume.
const AVERAGE_VOLUME_DAYS: usize = 5;

/// Units and conventions, stated in every pricing output.
pub const CONVENTIONS: &str = "t = calendar days / 365 (ACT/365) to 16:00 New York on the expiry date; rate and dividend yield continuously compounded; vega per 1.00 of volatility (divide by 100 for one vol point); rho and dividend_rho per 1.00 of rate; theta, charm and colour per year of calendar time passing (theta_per_day = theta / 365); Greeks per share (multiply by the multiplier, usually 100, for one contract). Implied volatility is solved from the mid.";

fn symbol_arg(raw: &str) -> Result<String, ToolError> {
    let s = Symbol::parse(raw)?.as_str().to_string();
    if !occ::valid_root(&s) {
        return Err(ToolError::invalid(format!(
            "{s} cannot have listed options here: option roots are 1-6 letters or digits"
        )));
    }
    Ok(s)
}

fn pricing_of(
    model: Option<Model>,
    rate: Option<f64>,
    dividend: Option<f64>,
    steps: Option<usize>,
) -> Result<ChainPricing, ToolError> {
    let rate = rate.unwrap_or(DEFAULT_RATE);
    let dividend = dividend.unwrap_or(0.0);
    for (name, v) in [("rate", rate), ("dividend", dividend)] {
        if !v.is_finite() || v.abs() > 0.5 {
            return Err(ToolError::invalid(format!(
                "{name} is {v}: a continuously compounded decimal between -0.5 and 0.5 (0.04 for 4%)"
            )));
        }
    }
    let steps = steps.unwrap_or(DEFAULT_STEPS);
    if !(2..=MAX_TOOL_STEPS).contains(&steps) {
        return Err(ToolError::invalid(format!(
            "steps must be 2 to {MAX_TOOL_STEPS}; got {steps}"
        )));
    }
    Ok(ChainPricing {
        model,
        rate,
        dividend,
        steps,
    })
}

fn pricing_error(e: gs_options::PricingError) -> ToolError {
    ToolError::invalid(e.to_string())
}

/// The newest snapshot of `symbol` at or before `as_of` (now when `None`),
/// with its summary.
async fn snapshot_at(
    stores: &Stores,
    symbol: &str,
    as_of: Option<DateTime<Utc>>,
) -> Result<(StoredSnapshot, DaySummary), ToolError> {
    let end = as_of.unwrap_or_else(Utc::now);
    let records = stores.records.as_ref();
    let summary = store::summaries(records, symbol, end, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ToolError::NotFound(format!(
                "no option chain of {symbol} is stored at or before {}; import one with import_options (database server), or use a demo symbol (AAPL, MSFT, NVDA, SPY, TSLA, JPM, XOM)",
                end.to_rfc3339()
            ))
        })?;
    let snap = store::read_snapshot(records, symbol, &summary)
        .await?
        .ok_or_else(|| {
            ToolError::Internal(format!(
                "the option-chain summary of {symbol} at {} has no chain records",
                summary.as_of
            ))
        })?;
    Ok((snap, summary))
}

fn bump(n: &mut usize, by: usize) {
    *n = n.saturating_add(by);
}

fn parse_as_of(raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ToolError> {
    raw.map(|s| parse_time("as_of", s)).transpose()
}

fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, ToolError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| ToolError::invalid(format!("{field} {raw:?} is not a date: use YYYY-MM-DD")))
}

use crate::paging::{decode_cursor, encode_cursor, fingerprint};

fn page_limit(limit: Option<usize>) -> Result<usize, ToolError> {
    let n = limit.unwrap_or(DEFAULT_ROWS);
    if n == 0 || n > MAX_ROWS {
        return Err(ToolError::invalid(format!(
            "limit must be 1 to {MAX_ROWS}; got {n}"
        )));
    }
    Ok(n)
}

/// Prices every quote on the compute pool.
async fn price_all(
    ctx: &ToolContext,
    snapshot: ChainSnapshot,
    pricing: ChainPricing,
) -> Result<(ChainSnapshot, Vec<QuoteMetrics>), ToolError> {
    ctx.compute(move || {
        let m = gs_options::metrics::price_chain(&snapshot, &pricing);
        Ok((snapshot, m))
    })
    .await
}

fn views<'a>(snapshot: &'a ChainSnapshot, metrics: &[QuoteMetrics]) -> Vec<ContractView<'a>> {
    snapshot
        .quotes
        .iter()
        .zip(metrics)
        .map(|(q, m)| ContractView {
            quote: q,
            t: m.t,
            iv: m.iv.as_ref().ok().copied().filter(|v| *v > 0.0),
            delta: m.greeks.map(|g| g.delta),
            gamma: m.greeks.map(|g| g.gamma),
        })
        .collect()
}

/// ATM implied volatility 30 calendar days out: interpolated in total
/// variance between the expiries around 30 days, else the nearest.
pub fn atm_iv_30d(term: &[TermPoint]) -> Option<f64> {
    let target = 30.0 / 365.0;
    let mut points: Vec<&TermPoint> = term.iter().filter(|p| p.t > 0.0).collect();
    points.sort_by(|a, b| a.t.total_cmp(&b.t));
    let below = points.iter().rev().find(|p| p.t <= target);
    let above = points.iter().find(|p| p.t >= target);
    match (below, above) {
        (Some(a), Some(b)) if b.t > a.t => {
            let (va, vb) = (a.atm_iv * a.atm_iv * a.t, b.atm_iv * b.atm_iv * b.t);
            let w = (target - a.t) / (b.t - a.t);
            Some(((va + w * (vb - va)) / target).max(0.0).sqrt())
        }
        (Some(a), _) => Some(a.atm_iv),
        (None, Some(b)) => Some(b.atm_iv),
        (None, None) => None,
    }
}

/// The summary stored with a snapshot: volumes, open interest and the
/// 30-day ATM implied volatility (default pricing: Barone-Adesi-Whaley for
/// American contracts, rate 0.04, no dividend; strikes within 10% of the
/// underlying price).
pub fn summarise(snapshot: &ChainSnapshot, synthetic: bool) -> DaySummary {
    let pricing = ChainPricing::default();
    // The ATM volatility needs the strikes around the money only.
    let near = ChainSnapshot {
        quotes: snapshot
            .quotes
            .iter()
            .filter(|q| (q.contract.strike / snapshot.underlying_price - 1.0).abs() <= 0.1)
            .cloned()
            .collect(),
        ..snapshot.clone()
    };
    let metrics = gs_options::metrics::price_chain(&near, &pricing);
    let v = views(&near, &metrics);
    let term = analytics::term_structure(&v, snapshot.underlying_price);
    let totals = analytics::put_call_ratios(&snapshot.quotes).overall;
    let expiries: std::collections::BTreeSet<NaiveDate> =
        snapshot.quotes.iter().map(|q| q.contract.expiry).collect();
    DaySummary {
        as_of: snapshot.as_of,
        underlying_price: snapshot.underlying_price,
        call_volume: totals.call_volume,
        put_volume: totals.put_volume,
        call_open_interest: totals.call_open_interest,
        put_open_interest: totals.put_open_interest,
        atm_iv_30d: atm_iv_30d(&term),
        contracts: snapshot.quotes.len(),
        expiries: expiries.len(),
        synthetic,
        generation: String::new(),
    }
}

// --------------------------------------------------------- get_option_chain

/// Which rights to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RightFilter {
    Call,
    Put,
    #[default]
    Both,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOptionChainArgs {
    /// Underlying symbol (an OCC root: 1-6 letters or digits), e.g. AAPL.
    pub symbol: String,
    /// The newest snapshot at or before this time (RFC 3339, a date or epoch seconds; default now).
    pub as_of: Option<String>,
    /// First expiry to include (YYYY-MM-DD).
    pub expiry_from: Option<String>,
    /// Last expiry to include (YYYY-MM-DD).
    pub expiry_to: Option<String>,
    /// Keep only the N nearest expiries that pass the date filters.
    pub max_expiries: Option<usize>,
    /// Keep the N listed strikes on each side of the underlying price, per expiry.
    pub strikes_around: Option<usize>,
    /// Lowest moneyness strike / underlying price to include (e.g. 0.9).
    pub moneyness_min: Option<f64>,
    /// Highest moneyness strike / underlying price to include (e.g. 1.1).
    pub moneyness_max: Option<f64>,
    /// Lowest absolute delta to include (0-1, e.g. 0.1).
    pub delta_min: Option<f64>,
    /// Highest absolute delta to include (0-1, e.g. 0.6).
    pub delta_max: Option<f64>,
    /// call, put or both (default both).
    pub right: Option<RightFilter>,
    /// Pricing model: black_scholes, black76, bachelier, barone_adesi_whaley, bjerksund_stensland or binomial (default: barone_adesi_whaley for American contracts, black_scholes for European).
    pub model: Option<Model>,
    /// Risk-free rate, continuous decimal (default 0.04).
    pub rate: Option<f64>,
    /// Dividend yield, continuous decimal (default 0).
    pub dividend: Option<f64>,
    /// Binomial steps (default 200, at most 2000).
    pub steps: Option<usize>,
    /// Contracts per page (default 50, at most 200).
    pub limit: Option<usize>,
    /// next_cursor of the previous page (same arguments).
    pub cursor: Option<String>,
}

/// One contract of a chain, priced.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChainRow {
    /// OCC symbol (21 characters, root padded to 6).
    pub occ: String,
    pub expiry: NaiveDate,
    /// Calendar days to the expiry's close.
    pub days_to_expiry: f64,
    pub strike: f64,
    pub right: Right,
    pub style: ExerciseStyle,
    pub multiplier: u32,
    pub bid: f64,
    pub ask: f64,
    pub mid: f64,
    /// ask - bid.
    pub spread: f64,
    /// spread / mid, null without a mid.
    pub spread_pct: Option<f64>,
    pub last: Option<f64>,
    pub volume: u64,
    pub open_interest: u64,
    /// strike / underlying price.
    pub moneyness: f64,
    /// Implied volatility from the mid under `model`; null when none solves (see iv_note).
    pub iv: Option<f64>,
    /// Why there is no implied volatility, if there is none.
    pub iv_note: Option<String>,
    /// Price and Greeks at the implied volatility (see conventions).
    pub greeks: Option<Greeks>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ExpiryCount {
    pub expiry: NaiveDate,
    /// Contracts of this expiry in the snapshot.
    pub contracts: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetOptionChainOutput {
    pub symbol: String,
    /// When the snapshot was taken.
    pub as_of: DateTime<Utc>,
    pub underlying_price: f64,
    /// True for generated demo data (not real quotes).
    pub synthetic: bool,
    /// Model of contracts priced by an explicit model; null when each contract used its default.
    pub model: Option<Model>,
    /// How the Greeks are computed.
    pub greeks_method: String,
    pub rate: f64,
    pub dividend: f64,
    /// Every expiry of the snapshot.
    pub expiries: Vec<ExpiryCount>,
    /// Contracts that pass the filters (all pages).
    pub matching: usize,
    pub contracts: Vec<ChainRow>,
    /// Pass as cursor for the next page; null on the last page.
    pub next_cursor: Option<String>,
    pub conventions: String,
}

fn row(q: &OptionQuote, m: &QuoteMetrics, spot: f64) -> ChainRow {
    let mid = q.mid();
    ChainRow {
        occ: occ::format(&q.contract),
        expiry: q.contract.expiry,
        days_to_expiry: (m.t * 365.0 * 1e4).round() / 1e4,
        strike: q.contract.strike,
        right: q.contract.right,
        style: q.contract.style,
        multiplier: q.contract.multiplier,
        bid: q.bid,
        ask: q.ask,
        mid,
        spread: q.ask - q.bid,
        spread_pct: (mid > 0.0).then(|| (q.ask - q.bid) / mid),
        last: q.last,
        volume: q.volume,
        open_interest: q.open_interest,
        moneyness: q.contract.strike / spot,
        iv: m.iv.as_ref().ok().copied(),
        iv_note: m.iv.as_ref().err().map(ToString::to_string),
        greeks: m.greeks,
    }
}

fn greeks_method(model: Option<Model>) -> String {
    match model {
        Some(m) => m.greeks_method().to_string(),
        None => format!(
            "American contracts: Barone-Adesi-Whaley, {}; European contracts: Black-Scholes, analytic",
            gs_options::american::FD_METHOD
        ),
    }
}

pub async fn get_option_chain(
    ctx: &ToolContext,
    args: GetOptionChainArgs,
) -> Result<(GetOptionChainOutput, String), ToolError> {
    let symbol = symbol_arg(&args.symbol)?;
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let pricing = pricing_of(args.model, args.rate, args.dividend, args.steps)?;
    let limit = page_limit(args.limit)?;
    let from = args
        .expiry_from
        .as_deref()
        .map(|d| parse_date("expiry_from", d))
        .transpose()?;
    let to = args
        .expiry_to
        .as_deref()
        .map(|d| parse_date("expiry_to", d))
        .transpose()?;
    for (name, v) in [
        ("moneyness_min", args.moneyness_min),
        ("moneyness_max", args.moneyness_max),
        ("delta_min", args.delta_min),
        ("delta_max", args.delta_max),
    ] {
        if v.is_some_and(|x| !x.is_finite() || x < 0.0) {
            return Err(ToolError::invalid(format!("{name} must be a number >= 0")));
        }
    }
    let (stored, _) = snapshot_at(&ctx.stores, &symbol, as_of).await?;
    let snap = stored.snapshot;
    let spot = snap.underlying_price;
    let print = fingerprint(&format!(
        "chain|{symbol}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}",
        snap.as_of.timestamp_millis(),
        from,
        to,
        args.max_expiries,
        args.strikes_around,
        args.moneyness_min,
        args.moneyness_max,
        args.delta_min,
        args.delta_max,
        args.right,
        pricing.model,
        pricing.rate,
        pricing.dividend,
        pricing.steps
    ));
    let offset = decode_cursor(args.cursor.as_deref(), &print)?;

    let mut counts: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for q in &snap.quotes {
        bump(counts.entry(q.contract.expiry).or_insert(0), 1);
    }
    let mut wanted: Vec<NaiveDate> = counts
        .keys()
        .copied()
        .filter(|e| from.is_none_or(|f| *e >= f) && to.is_none_or(|t| *e <= t))
        .collect();
    if let Some(n) = args.max_expiries {
        wanted.truncate(n);
    }
    // Strikes around the money, per expiry.
    let mut near: HashMap<NaiveDate, Vec<f64>> = HashMap::new();
    if let Some(n) = args.strikes_around {
        for e in &wanted {
            let mut strikes: Vec<f64> = snap
                .quotes
                .iter()
                .filter(|q| q.contract.expiry == *e)
                .map(|q| q.contract.strike)
                .collect();
            strikes.sort_by(f64::total_cmp);
            strikes.dedup();
            let below: Vec<f64> = strikes.iter().copied().filter(|k| *k < spot).collect();
            let above: Vec<f64> = strikes.iter().copied().filter(|k| *k >= spot).collect();
            let mut keep: Vec<f64> = below.iter().rev().take(n).copied().collect();
            keep.extend(above.iter().take(n));
            near.insert(*e, keep);
        }
    }
    let right = args.right.unwrap_or_default();
    let quotes: Vec<OptionQuote> = snap
        .quotes
        .iter()
        .filter(|q| wanted.contains(&q.contract.expiry))
        .filter(|q| match right {
            RightFilter::Both => true,
            RightFilter::Call => q.contract.right == Right::Call,
            RightFilter::Put => q.contract.right == Right::Put,
        })
        .filter(|q| {
            let m = q.contract.strike / spot;
            args.moneyness_min.is_none_or(|lo| m >= lo)
                && args.moneyness_max.is_none_or(|hi| m <= hi)
        })
        .filter(|q| {
            near.get(&q.contract.expiry)
                .is_none_or(|keep| keep.contains(&q.contract.strike))
        })
        .cloned()
        .collect();
    check_tree_work(&pricing, quotes.len())?;
    let filtered = ChainSnapshot {
        quotes,
        ..snap.clone()
    };
    let (filtered, metrics) = price_all(ctx, filtered, pricing).await?;
    let rows: Vec<ChainRow> = filtered
        .quotes
        .iter()
        .zip(&metrics)
        .filter(|(_, m)| {
            if args.delta_min.is_none() && args.delta_max.is_none() {
                return true;
            }
            m.greeks.is_some_and(|g| {
                let d = g.delta.abs();
                args.delta_min.is_none_or(|lo| d >= lo) && args.delta_max.is_none_or(|hi| d <= hi)
            })
        })
        .map(|(q, m)| row(q, m, spot))
        .collect();
    let matching = rows.len();
    let page: Vec<ChainRow> = rows.into_iter().skip(offset).take(limit).collect();
    let end = offset.saturating_add(page.len());
    let next_cursor = (end < matching).then(|| encode_cursor(end, &print));
    let with_iv = page.iter().filter(|r| r.iv.is_some()).count();
    let summary = format!(
        "{symbol} option chain at {} (underlying {spot}): {matching} contract{} match over {} expir{}; showing {} from #{} ({with_iv} with an implied volatility).{}{}",
        snap.as_of.format("%Y-%m-%d %H:%M UTC"),
        if matching == 1 { "" } else { "s" },
        wanted.len(),
        if wanted.len() == 1 { "y" } else { "ies" },
        page.len(),
        offset.saturating_add(1),
        if next_cursor.is_some() {
            " More with next_cursor."
        } else {
            ""
        },
        synthetic_note(stored.synthetic)
    );
    Ok((
        GetOptionChainOutput {
            symbol,
            as_of: snap.as_of,
            underlying_price: spot,
            synthetic: stored.synthetic,
            model: pricing.model,
            greeks_method: greeks_method(pricing.model),
            rate: pricing.rate,
            dividend: pricing.dividend,
            expiries: counts
                .into_iter()
                .map(|(expiry, contracts)| ExpiryCount { expiry, contracts })
                .collect(),
            matching,
            contracts: page,
            next_cursor,
            conventions: CONVENTIONS.to_string(),
        },
        summary,
    ))
}

// ----------------------------------- calculate_greeks / implied_volatility

/// Which quoted price to solve the implied volatility from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PriceSource {
    #[default]
    Mid,
    Bid,
    Ask,
    Last,
}

/// A contract and market, from a stored chain or given inline.
#[derive(Debug, Clone)]
struct Resolved {
    occ: Option<String>,
    quote: Option<OptionQuote>,
    as_of: Option<DateTime<Utc>>,
    synthetic: bool,
    right: Right,
    spot: f64,
    strike: f64,
    t: f64,
    style: ExerciseStyle,
    multiplier: u32,
}

/// The inline description of a contract, shared by the two tools.
#[derive(Debug, Clone, Default)]
struct Inline<'a> {
    contract: Option<&'a str>,
    as_of: Option<&'a str>,
    right: Option<Right>,
    underlying_price: Option<f64>,
    strike: Option<f64>,
    expiry: Option<&'a str>,
    days: Option<f64>,
    style: Option<ExerciseStyle>,
}

async fn resolve(ctx: &ToolContext, i: Inline<'_>) -> Result<Resolved, ToolError> {
    let as_of = parse_as_of(i.as_of)?;
    if let Some(raw) = i.contract {
        if i.right.is_some() || i.strike.is_some() || i.expiry.is_some() || i.days.is_some() {
            return Err(ToolError::invalid(
                "give either contract (its OCC symbol says right, strike and expiry) or right, strike and expiry/days, not both",
            ));
        }
        let parsed = occ::parse(raw).map_err(|e| ToolError::invalid(e.to_string()))?;
        let (stored, _) = snapshot_at(&ctx.stores, &parsed.underlying, as_of).await?;
        let snap = &stored.snapshot;
        let quote = snap
            .quotes
            .iter()
            .find(|q| {
                q.contract.expiry == parsed.expiry
                    && q.contract.right == parsed.right
                    && (q.contract.strike - parsed.strike).abs() < 5e-4
            })
            .cloned()
            .ok_or_else(|| {
                ToolError::NotFound(format!(
                    "{} is not in the {} chain of {}; list the contracts with get_option_chain",
                    occ::format(&parsed.clone().into_contract(100, ExerciseStyle::American)),
                    parsed.underlying,
                    snap.as_of.to_rfc3339()
                ))
            })?;
        let spot = i.underlying_price.unwrap_or(snap.underlying_price);
        return Ok(Resolved {
            occ: Some(occ::format(&quote.contract)),
            t: years_to_expiry(snap.as_of, quote.contract.expiry),
            right: quote.contract.right,
            strike: quote.contract.strike,
            style: i.style.unwrap_or(quote.contract.style),
            multiplier: quote.contract.multiplier,
            quote: Some(quote),
            as_of: Some(snap.as_of),
            synthetic: stored.synthetic,
            spot,
        });
    }
    let missing = || {
        ToolError::invalid(
            "give either contract (the OCC symbol of a stored contract, e.g. \"AAPL  250117C00150000\") or right, underlying_price, strike and expiry (YYYY-MM-DD) or days",
        )
    };
    let (right, spot, strike) = match (i.right, i.underlying_price, i.strike) {
        (Some(r), Some(s), Some(k)) => (r, s, k),
        _ => return Err(missing()),
    };
    let t = match (i.days, i.expiry) {
        (Some(d), None) => {
            if !(d.is_finite() && d > 0.0 && d <= 36_500.0) {
                return Err(ToolError::invalid(format!(
                    "days must be above 0 and at most 36500; got {d}"
                )));
            }
            d / 365.0
        }
        (None, Some(e)) => {
            let expiry = parse_date("expiry", e)?;
            let t = years_to_expiry(as_of.unwrap_or_else(Utc::now), expiry);
            if t <= 0.0 {
                return Err(ToolError::invalid(format!(
                    "expiry {expiry} is past (as of {}); give a later expiry or as_of",
                    as_of.unwrap_or_else(Utc::now).to_rfc3339()
                )));
            }
            t
        }
        (Some(_), Some(_)) => {
            return Err(ToolError::invalid("give expiry or days, not both"));
        }
        (None, None) => return Err(missing()),
    };
    Ok(Resolved {
        occ: None,
        quote: None,
        as_of,
        synthetic: false,
        right,
        spot,
        strike,
        t,
        style: i.style.unwrap_or(ExerciseStyle::European),
        multiplier: gs_options::DEFAULT_MULTIPLIER,
    })
}

fn model_for(model: Option<Model>, style: ExerciseStyle) -> Model {
    model.unwrap_or_else(|| Model::default_for(style))
}

fn model_inputs(r: &Resolved, model: Model, pricing: &ChainPricing, vol: f64) -> ModelInputs {
    let underlying = if model.on_forward() {
        r.spot * ((pricing.rate - pricing.dividend) * r.t).exp()
    } else {
        r.spot
    };
    ModelInputs {
        right: r.right,
        underlying,
        strike: r.strike,
        t: r.t,
        rate: pricing.rate,
        dividend: pricing.dividend,
        vol,
        steps: pricing.steps,
        american: r.style == ExerciseStyle::American,
    }
}

fn quoted_price(q: &OptionQuote, source: PriceSource) -> Option<f64> {
    let p = match source {
        PriceSource::Mid => Some(q.mid()),
        PriceSource::Bid => Some(q.bid),
        PriceSource::Ask => Some(q.ask),
        PriceSource::Last => q.last,
    };
    p.filter(|p| *p > 0.0)
}

/// The inputs a figure was computed from.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PricedInputs {
    /// OCC symbol, when a stored contract was used.
    pub contract: Option<String>,
    /// The snapshot used, when a stored contract was used.
    pub as_of: Option<DateTime<Utc>>,
    pub right: Right,
    pub style: ExerciseStyle,
    pub underlying_price: f64,
    /// The forward the model priced on (Black-76 and Bachelier), if any.
    pub forward: Option<f64>,
    pub strike: f64,
    /// Years to expiry (ACT/365).
    pub t: f64,
    pub days: f64,
    pub rate: f64,
    pub dividend: f64,
    pub multiplier: u32,
}

fn priced_inputs(r: &Resolved, model: Model, pricing: &ChainPricing) -> PricedInputs {
    PricedInputs {
        contract: r.occ.clone(),
        as_of: r.as_of.filter(|_| r.occ.is_some()),
        right: r.right,
        style: r.style,
        underlying_price: r.spot,
        forward: model
            .on_forward()
            .then(|| r.spot * ((pricing.rate - pricing.dividend) * r.t).exp()),
        strike: r.strike,
        t: r.t,
        days: r.t * 365.0,
        rate: pricing.rate,
        dividend: pricing.dividend,
        multiplier: r.multiplier,
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalculateGreeksArgs {
    /// OCC symbol of a stored contract (e.g. "AAPL  250117C00150000"; the padded or compact form). Or give right, underlying_price, strike and expiry/days instead.
    pub contract: Option<String>,
    /// Snapshot time for a stored contract (default the newest), or the valuation time for an inline expiry (default now).
    pub as_of: Option<String>,
    /// Volatility to price at (decimal, 0.25 = 25%; the normal vol in price units for bachelier). Default for a stored contract: its implied volatility from price_from.
    pub vol: Option<f64>,
    /// For a stored contract without vol: mid (default), bid, ask or last.
    pub price_from: Option<PriceSource>,
    /// Inline: call or put.
    pub right: Option<Right>,
    /// Inline: underlying price (for a stored contract it overrides the snapshot's).
    pub underlying_price: Option<f64>,
    /// Inline: strike.
    pub strike: Option<f64>,
    /// Inline: expiry date (YYYY-MM-DD), priced to its 16:00 New York close.
    pub expiry: Option<String>,
    /// Inline: calendar days to expiry, instead of expiry.
    pub days: Option<f64>,
    /// american or european (inline default european; a stored contract's own style).
    pub style: Option<ExerciseStyle>,
    /// black_scholes, black76, bachelier, barone_adesi_whaley, bjerksund_stensland or binomial (default: barone_adesi_whaley for American, black_scholes for European).
    pub model: Option<Model>,
    /// Risk-free rate, continuous decimal (default 0.04).
    pub rate: Option<f64>,
    /// Dividend yield, continuous decimal (default 0).
    pub dividend: Option<f64>,
    /// Binomial steps (default 200, at most 2000).
    pub steps: Option<usize>,
}

/// Greeks scaled to one contract.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PerContract {
    /// delta x multiplier: shares one contract behaves like.
    pub delta_shares: f64,
    /// delta x multiplier x underlying price.
    pub dollar_delta: f64,
    /// gamma x multiplier x price^2 x 0.01: change of dollar delta for a 1% move.
    pub dollar_gamma_1pct: f64,
    /// vega / 100 x multiplier: value change for one vol point.
    pub vega_per_vol_point: f64,
    /// theta_per_day x multiplier.
    pub theta_per_day: f64,
    /// rho / 100 x multiplier: value change for a 1-point rate move.
    pub rho_per_rate_point: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CalculateGreeksOutput {
    pub model: Model,
    pub greeks_method: String,
    pub inputs: PricedInputs,
    /// The volatility priced at.
    pub vol: f64,
    /// Where vol came from: given, or implied from bid, mid, ask or last.
    pub vol_source: String,
    pub greeks: Greeks,
    pub per_contract: PerContract,
    /// True when the contract comes from generated demo data.
    pub synthetic: bool,
    pub conventions: String,
}

fn check_vol(model: Model, vol: f64) -> Result<(), ToolError> {
    let max = if model == Model::Bachelier {
        f64::MAX
    } else {
        10.0
    };
    if vol.is_finite() && vol > 0.0 && vol <= max {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "vol is {vol}: a positive decimal per year (0.25 for 25%){}",
            if model == Model::Bachelier {
                ""
            } else {
                ", at most 10"
            }
        )))
    }
}

pub async fn calculate_greeks(
    ctx: &ToolContext,
    args: CalculateGreeksArgs,
) -> Result<(CalculateGreeksOutput, String), ToolError> {
    let pricing = pricing_of(args.model, args.rate, args.dividend, args.steps)?;
    let r = resolve(
        ctx,
        Inline {
            contract: args.contract.as_deref(),
            as_of: args.as_of.as_deref(),
            right: args.right,
            underlying_price: args.underlying_price,
            strike: args.strike,
            expiry: args.expiry.as_deref(),
            days: args.days,
            style: args.style,
        },
    )
    .await?;
    let model = model_for(pricing.model, r.style);
    let (vol, vol_source) = match (args.vol, &r.quote) {
        (Some(v), _) => {
            check_vol(model, v)?;
            (v, "given".to_string())
        }
        (None, Some(q)) => {
            let source = args.price_from.unwrap_or_default();
            let price = quoted_price(q, source).ok_or_else(|| {
                ToolError::invalid(format!(
                    "the contract has no {source:?} price to imply a volatility from; pass vol or another price_from"
                ))
            })?;
            let at = model_inputs(&r, model, &pricing, 0.0);
            let iv = ctx
                .compute(move || model::implied_vol(model, &at, price).map_err(pricing_error))
                .await?;
            (
                iv,
                format!(
                    "implied from the {} {price}",
                    format!("{source:?}").to_lowercase()
                ),
            )
        }
        (None, None) => {
            return Err(ToolError::invalid(
                "vol is needed for inline parameters (0.25 for 25%); or use implied_volatility to solve it from a price",
            ));
        }
    };
    let inputs = model_inputs(&r, model, &pricing, vol);
    let greeks = ctx
        .compute(move || model::greeks(model, &inputs).map_err(pricing_error))
        .await?;
    let m = f64::from(r.multiplier);
    let per_contract = PerContract {
        delta_shares: greeks.delta * m,
        dollar_delta: greeks.delta * m * r.spot,
        dollar_gamma_1pct: greeks.gamma * m * r.spot * r.spot * 0.01,
        vega_per_vol_point: greeks.vega / 100.0 * m,
        theta_per_day: greeks.theta_per_day * m,
        rho_per_rate_point: greeks.rho / 100.0 * m,
    };
    let what = r.occ.clone().unwrap_or_else(|| {
        format!(
            "{} {:?} {} expiring in {:.1} days",
            if r.right == Right::Call {
                "call"
            } else {
                "put"
            },
            r.style,
            r.strike,
            r.t * 365.0
        )
    });
    let summary = format!(
        "{what} under {} at vol {:.4} ({vol_source}), underlying {}: price {:.4}, delta {:.4}, gamma {:.6}, vega {:.4} per 1.00 vol, theta {:.4}/day; one contract: {:.1} delta shares, {:.2}/vol point, {:.2}/day.{}",
        model.name(),
        vol,
        r.spot,
        greeks.price,
        greeks.delta,
        greeks.gamma,
        greeks.vega,
        greeks.theta_per_day,
        per_contract.delta_shares,
        per_contract.vega_per_vol_point,
        per_contract.theta_per_day,
        synthetic_note(r.synthetic)
    );
    Ok((
        CalculateGreeksOutput {
            model,
            greeks_method: model.greeks_method().to_string(),
            inputs: priced_inputs(&r, model, &pricing),
            vol,
            vol_source,
            greeks,
            per_contract,
            synthetic: r.synthetic,
            conventions: CONVENTIONS.to_string(),
        },
        summary,
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpliedVolatilityArgs {
    /// OCC symbol of a stored contract: its bid, mid, ask and last are each solved. Or give price, right, underlying_price, strike and expiry/days.
    pub contract: Option<String>,
    /// Snapshot time for a stored contract (default the newest), or the valuation time for an inline expiry (default now).
    pub as_of: Option<String>,
    /// Inline: the option price per share to solve for.
    pub price: Option<f64>,
    /// Inline: call or put.
    pub right: Option<Right>,
    /// Inline: underlying price (for a stored contract it overrides the snapshot's).
    pub underlying_price: Option<f64>,
    /// Inline: strike.
    pub strike: Option<f64>,
    /// Inline: expiry date (YYYY-MM-DD).
    pub expiry: Option<String>,
    /// Inline: calendar days to expiry, instead of expiry.
    pub days: Option<f64>,
    /// american or european (inline default european; a stored contract's own style).
    pub style: Option<ExerciseStyle>,
    /// black_scholes, black76, bachelier, barone_adesi_whaley, bjerksund_stensland or binomial (default by exercise style).
    pub model: Option<Model>,
    /// Risk-free rate, continuous decimal (default 0.04).
    pub rate: Option<f64>,
    /// Dividend yield, continuous decimal (default 0).
    pub dividend: Option<f64>,
    /// Binomial steps (default 200, at most 2000).
    pub steps: Option<usize>,
}

/// One solved price.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IvEstimate {
    /// given, bid, mid, ask or last.
    pub source: String,
    pub price: f64,
    /// Implied volatility (decimal; the normal vol in price units for bachelier); null when none solves.
    pub iv: Option<f64>,
    /// Why not, naming the no-arbitrage bound a price breaks.
    pub error: Option<String>,
    /// The model price at iv (the round trip).
    pub repriced: Option<f64>,
    /// Vega at iv, per 1.00 of volatility.
    pub vega: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ImpliedVolatilityOutput {
    pub model: Model,
    /// Jäckel's Let's Be Rational for Black-type models, the normal-vol inversion for Bachelier, Brent on the model price for American models.
    pub method: String,
    pub inputs: PricedInputs,
    pub estimates: Vec<IvEstimate>,
    /// Lower no-arbitrage bound of the price (discounted intrinsic value, or the exercise value for American).
    pub lower_bound: f64,
    /// Upper bound (the underlying for a call, the discounted strike for a European put, the strike for an American put).
    pub upper_bound: f64,
    pub synthetic: bool,
    pub conventions: String,
}

fn iv_method(model: Model) -> &'static str {
    match model {
        Model::BlackScholes | Model::Black76 => {
            "Jäckel's Let's Be Rational (implied-vol 2.1.0, Jaeckel solver) on the undiscounted Black price"
        }
        Model::Bachelier => "the implied-vol crate's normal-volatility inversion (Jäckel)",
        _ => "Brent's method on the model price over vol 0.0001-10, after the no-arbitrage bounds",
    }
}

pub async fn implied_volatility(
    ctx: &ToolContext,
    args: ImpliedVolatilityArgs,
) -> Result<(ImpliedVolatilityOutput, String), ToolError> {
    let pricing = pricing_of(args.model, args.rate, args.dividend, args.steps)?;
    if args.contract.is_some() && args.price.is_some() {
        return Err(ToolError::invalid(
            "give price for inline parameters only; a stored contract's quotes are solved",
        ));
    }
    let r = resolve(
        ctx,
        Inline {
            contract: args.contract.as_deref(),
            as_of: args.as_of.as_deref(),
            right: args.right,
            underlying_price: args.underlying_price,
            strike: args.strike,
            expiry: args.expiry.as_deref(),
            days: args.days,
            style: args.style,
        },
    )
    .await?;
    let model = model_for(pricing.model, r.style);
    let targets: Vec<(String, f64)> = match (&r.quote, args.price) {
        (Some(q), _) => [
            PriceSource::Bid,
            PriceSource::Mid,
            PriceSource::Ask,
            PriceSource::Last,
        ]
        .into_iter()
        .filter_map(|s| quoted_price(q, s).map(|p| (format!("{s:?}").to_lowercase(), p)))
        .collect(),
        (None, Some(p)) => vec![("given".to_string(), p)],
        (None, None) => {
            return Err(ToolError::invalid(
                "price is needed for inline parameters (the option's price per share)",
            ));
        }
    };
    if targets.is_empty() {
        return Err(ToolError::invalid(
            "the contract has no positive bid, ask or last price to solve",
        ));
    }
    let base = model_inputs(&r, model, &pricing, 0.0);
    let estimates = ctx
        .compute(move || {
            Ok(targets
                .into_iter()
                .map(
                    |(source, price)| match model::implied_vol(model, &base, price) {
                        Ok(iv) => {
                            let at = ModelInputs { vol: iv, ..base };
                            let g = model::greeks(model, &at).ok();
                            IvEstimate {
                                source,
                                price,
                                iv: Some(iv),
                                error: None,
                                repriced: g.map(|g| g.price),
                                vega: g.map(|g| g.vega),
                            }
                        }
                        Err(e) => IvEstimate {
                            source,
                            price,
                            iv: None,
                            error: Some(e.to_string()),
                            repriced: None,
                            vega: None,
                        },
                    },
                )
                .collect::<Vec<_>>())
        })
        .await?;
    if r.quote.is_none()
        && let Some(e) = estimates.first().and_then(|e| e.error.clone())
    {
        return Err(ToolError::invalid(e));
    }
    let (lower_bound, upper_bound) = model::bounds(model, &base);
    let solved: Vec<String> = estimates
        .iter()
        .map(|e| match e.iv {
            Some(v) => format!("{} {} -> {v:.4}", e.source, e.price),
            None => format!("{} {}: no solution", e.source, e.price),
        })
        .collect();
    let summary = format!(
        "Implied volatility under {} of {}: {}.{}",
        model.name(),
        r.occ.clone().unwrap_or_else(|| "the given option".into()),
        solved.join("; "),
        synthetic_note(r.synthetic)
    );
    Ok((
        ImpliedVolatilityOutput {
            model,
            method: iv_method(model).to_string(),
            inputs: priced_inputs(&r, model, &pricing),
            estimates,
            lower_bound,
            upper_bound,
            synthetic: r.synthetic,
            conventions: CONVENTIONS.to_string(),
        },
        summary,
    ))
}

// ------------------------------------------------------ get_put_call_ratio

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetPutCallRatioArgs {
    /// Underlying symbol, e.g. AAPL.
    pub symbol: String,
    /// The newest snapshot at or before this time (default now).
    pub as_of: Option<String>,
    /// Snapshots of history, newest first (default 20, at most 252).
    pub days: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ExpiryRatio {
    pub expiry: NaiveDate,
    #[serde(flatten)]
    pub totals: PutCallTotals,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RatioDay {
    pub as_of: DateTime<Utc>,
    pub call_volume: u64,
    pub put_volume: u64,
    pub call_open_interest: u64,
    pub put_open_interest: u64,
    /// put volume / call volume; null without call volume.
    pub volume_ratio: Option<f64>,
    /// put open interest / call open interest; null without call open interest.
    pub open_interest_ratio: Option<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetPutCallRatioOutput {
    pub symbol: String,
    pub as_of: DateTime<Utc>,
    /// The newest snapshot's totals and ratios.
    pub latest: PutCallTotals,
    /// The newest snapshot's ratios per expiry.
    pub by_expiry: Vec<ExpiryRatio>,
    /// One row per stored snapshot, newest first.
    pub history: Vec<RatioDay>,
    /// Mean of the history's volume ratios.
    pub mean_volume_ratio: Option<f64>,
    /// Where the latest volume ratio falls in the history (0-100, share of days strictly below).
    pub volume_ratio_percentile: Option<f64>,
    pub synthetic: bool,
    /// How to read the ratios.
    pub note: String,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

pub async fn get_put_call_ratio(
    ctx: &ToolContext,
    args: GetPutCallRatioArgs,
) -> Result<(GetPutCallRatioOutput, String), ToolError> {
    let symbol = symbol_arg(&args.symbol)?;
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let days = args.days.unwrap_or(DEFAULT_HISTORY_DAYS);
    if days == 0 || days > MAX_HISTORY_DAYS {
        return Err(ToolError::invalid(format!(
            "days must be 1 to {MAX_HISTORY_DAYS}; got {days}"
        )));
    }
    let (stored, latest_summary) = snapshot_at(&ctx.stores, &symbol, as_of).await?;
    let ratios = analytics::put_call_ratios(&stored.snapshot.quotes);
    let history: Vec<RatioDay> = store::summaries(
        ctx.stores.records.as_ref(),
        &symbol,
        latest_summary.as_of,
        days,
    )
    .await?
    .into_iter()
    .map(|s| RatioDay {
        as_of: s.as_of,
        call_volume: s.call_volume,
        put_volume: s.put_volume,
        call_open_interest: s.call_open_interest,
        put_open_interest: s.put_open_interest,
        volume_ratio: ratio(s.put_volume, s.call_volume),
        open_interest_ratio: ratio(s.put_open_interest, s.call_open_interest),
    })
    .collect();
    let vols: Vec<f64> = history.iter().filter_map(|d| d.volume_ratio).collect();
    let mean_volume_ratio =
        (!vols.is_empty()).then(|| vols.iter().sum::<f64>() / vols.len() as f64);
    let volume_ratio_percentile = ratios.overall.volume_ratio.and_then(|cur| {
        let past: Vec<f64> = vols.iter().skip(1).copied().collect();
        (!past.is_empty())
            .then(|| past.iter().filter(|v| **v < cur).count() as f64 / past.len() as f64 * 100.0)
    });
    let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |x| format!("{x:.2}"));
    let summary = format!(
        "{symbol} put/call at {}: volume {} ({} puts / {} calls), open interest {}; mean volume ratio over {} snapshot{} {}.{}",
        stored.snapshot.as_of.format("%Y-%m-%d"),
        fmt(ratios.overall.volume_ratio),
        ratios.overall.put_volume,
        ratios.overall.call_volume,
        fmt(ratios.overall.open_interest_ratio),
        history.len(),
        if history.len() == 1 { "" } else { "s" },
        fmt(mean_volume_ratio),
        synthetic_note(stored.synthetic)
    );
    Ok((
        GetPutCallRatioOutput {
            symbol,
            as_of: stored.snapshot.as_of,
            latest: ratios.overall,
            by_expiry: ratios
                .by_expiry
                .into_iter()
                .map(|(expiry, totals)| ExpiryRatio { expiry, totals })
                .collect(),
            history,
            mean_volume_ratio,
            volume_ratio_percentile,
            synthetic: stored.synthetic,
            note: "Ratios are puts over calls: above 1 more put than call activity (hedging or bearish positioning), below about 0.7 call-heavy. Compare a symbol with its own history rather than across symbols.".into(),
        },
        summary,
    ))
}

// -------------------------------------------------- detect_unusual_activity

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectUnusualActivityArgs {
    /// Underlying symbol, e.g. AAPL.
    pub symbol: String,
    /// Trading day (YYYY-MM-DD, UTC) whose prints to scan (default the day of the newest print).
    pub date: Option<String>,
    /// Lowest score (0-100) to report (default 0: every hit).
    pub min_score: Option<f64>,
    /// Only these kinds: sweep, block, volume_over_oi, large_premium, iv_jump (default all).
    pub kinds: Option<Vec<HitKind>>,
    /// Distinct exchanges a sweep must reach (default 3).
    pub sweep_min_exchanges: Option<usize>,
    /// Milliseconds within which a sweep's prints fall (default 500).
    pub sweep_window_ms: Option<i64>,
    /// Contracts that make one print a block (default 500).
    pub block_min_size: Option<u32>,
    /// Premium in dollars that makes one print a block (default 250000).
    pub block_min_premium: Option<f64>,
    /// Hits per page (default 50, at most 200).
    pub limit: Option<usize>,
    /// next_cursor of the previous page (same arguments).
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DetectUnusualActivityOutput {
    pub symbol: String,
    pub date: NaiveDate,
    /// Prints read for the day.
    pub prints_scanned: usize,
    /// True when the day had more than 50000 prints (the rest were not read).
    pub truncated: bool,
    /// The chain snapshot that gave open interest, volume and quotes, if any.
    pub context_as_of: Option<DateTime<Utc>>,
    /// Hits that pass min_score and kinds (all pages).
    pub matching: usize,
    /// By kind, over the matching hits.
    pub counts: BTreeMap<String, usize>,
    /// Highest score first.
    pub hits: Vec<UnusualHit>,
    pub next_cursor: Option<String>,
    /// The thresholds applied.
    pub config: FlowConfig,
    pub synthetic: bool,
    /// How hits are scored and sides inferred.
    pub method: String,
}

/// Snapshots older than this before a day are not its context.
const CONTEXT_MAX_AGE_DAYS: i64 = 10;

/// Per-contract context of a day: the newest snapshot at or before its end
/// (at most 10 days old) for open interest, volume, quotes and IV; the one
/// before it for the previous IV; up to five before that one for the average
/// volume. IVs are solved on the compute pool.
async fn flow_context(
    ctx: &ToolContext,
    symbol: &str,
    day_end: DateTime<Utc>,
    wanted: &std::collections::HashSet<String>,
) -> Result<(HashMap<String, ContractContext>, Option<DateTime<Utc>>), ToolError> {
    let records = ctx.stores.records.as_ref();
    let oldest = day_end
        .checked_sub_signed(Duration::days(CONTEXT_MAX_AGE_DAYS))
        .unwrap_or(day_end);
    let days: Vec<DaySummary> = store::summaries(records, symbol, day_end, AVERAGE_VOLUME_DAYS + 1)
        .await?
        .into_iter()
        .filter(|d| d.as_of >= oldest)
        .collect();
    let Some(first) = days.first().map(|d| d.as_of) else {
        return Ok((HashMap::new(), None));
    };
    // (snapshot index, OCC, quote, spot, as_of) of the wanted contracts.
    let mut rows = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let Some(s) = store::read_snapshot(records, symbol, d).await? else {
            continue;
        };
        for q in s.snapshot.quotes {
            let key = occ::format(&q.contract);
            if wanted.contains(&key) {
                rows.push((i, key, q, s.snapshot.underlying_price, s.snapshot.as_of));
            }
        }
    }
    let context = ctx
        .compute(move || {
            let pricing = ChainPricing::default();
            let iv = |q: &OptionQuote, spot: f64, at: DateTime<Utc>| {
                price_quote(q, spot, at, &pricing)
                    .iv
                    .ok()
                    .filter(|v| *v > 0.0)
            };
            let mut context: HashMap<String, ContractContext> = HashMap::new();
            let mut volumes: HashMap<String, Vec<f64>> = HashMap::new();
            for (i, key, q, spot, at) in &rows {
                if *i == 0 {
                    context.insert(
                        key.clone(),
                        ContractContext {
                            open_interest: q.open_interest,
                            volume: q.volume,
                            bid: Some(q.bid),
                            ask: Some(q.ask),
                            iv: iv(q, *spot, *at),
                            ..ContractContext::default()
                        },
                    );
                }
            }
            for (i, key, q, spot, at) in &rows {
                // Only contracts of the day's own snapshot get a context:
                // one missing from it has no known open interest.
                let Some(c) = context.get_mut(key) else {
                    continue;
                };
                if *i == 1 {
                    c.previous_iv = iv(q, *spot, *at);
                }
                if *i >= 1 {
                    volumes
                        .entry(key.clone())
                        .or_default()
                        .push(q.volume as f64);
                }
            }
            for (key, v) in volumes {
                if let Some(c) = context.get_mut(&key) {
                    c.average_volume = Some(v.iter().sum::<f64>() / v.len() as f64);
                }
            }
            Ok(context)
        })
        .await?;
    Ok((context, Some(first)))
}

pub async fn detect_unusual_activity(
    ctx: &ToolContext,
    args: DetectUnusualActivityArgs,
) -> Result<(DetectUnusualActivityOutput, String), ToolError> {
    let symbol = symbol_arg(&args.symbol)?;
    let limit = page_limit(args.limit)?;
    let records = ctx.stores.records.as_ref();
    let date = match args.date.as_deref() {
        Some(d) => parse_date("date", d)?,
        None => store::last_print_time(records, &symbol)
            .await?
            .ok_or_else(|| {
                ToolError::NotFound(format!(
                    "no option trade prints of {symbol} are stored; import some with import_options (kind trades)"
                ))
            })?
            .date_naive(),
    };
    let mut config = FlowConfig::default();
    if let Some(n) = args.sweep_min_exchanges {
        if !(2..=20).contains(&n) {
            return Err(ToolError::invalid("sweep_min_exchanges must be 2 to 20"));
        }
        config.sweep_min_exchanges = n;
    }
    if let Some(ms) = args.sweep_window_ms {
        if !(1..=60_000).contains(&ms) {
            return Err(ToolError::invalid("sweep_window_ms must be 1 to 60000"));
        }
        config.sweep_window_ms = ms;
    }
    if let Some(n) = args.block_min_size {
        if n == 0 {
            return Err(ToolError::invalid("block_min_size must be at least 1"));
        }
        config.block_min_size = n;
    }
    if let Some(p) = args.block_min_premium {
        if !(p.is_finite() && p > 0.0) {
            return Err(ToolError::invalid(
                "block_min_premium must be a positive number",
            ));
        }
        config.block_min_premium = p;
    }
    let min_score = args.min_score.unwrap_or(0.0);
    if !(0.0..=100.0).contains(&min_score) {
        return Err(ToolError::invalid("min_score must be 0 to 100"));
    }
    let start = date.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = start
        .checked_add_signed(Duration::milliseconds(86_399_999))
        .unwrap_or(start);
    let (prints, synthetic, truncated) =
        store::read_prints(records, &symbol, start, end, MAX_PRINTS).await?;
    let wanted: std::collections::HashSet<String> =
        prints.iter().map(|p| occ::format(&p.contract)).collect();
    let (context, context_as_of) = flow_context(ctx, &symbol, end, &wanted).await?;
    // Bound to the prints read too: an import between pages changes the order.
    let print = fingerprint(&format!(
        "unusual|{symbol}|{date}|{min_score}|{:?}|{config:?}|{}|{}",
        args.kinds,
        prints.len(),
        prints.last().map_or("", |p| p.id.as_str())
    ));
    let offset = decode_cursor(args.cursor.as_deref(), &print)?;
    let n_prints = prints.len();
    let cfg = config.clone();
    let hits = ctx
        .compute(move || Ok(flow::detect(&prints, &context, &cfg)))
        .await?;
    let hits: Vec<UnusualHit> = hits
        .into_iter()
        .filter(|h| h.score >= min_score)
        .filter(|h| args.kinds.as_ref().is_none_or(|k| k.contains(&h.kind)))
        .collect();
    let mut counts = BTreeMap::new();
    for h in &hits {
        let key = serde_json::to_value(h.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        bump(counts.entry(key).or_insert(0usize), 1);
    }
    let matching = hits.len();
    let page: Vec<UnusualHit> = hits.into_iter().skip(offset).take(limit).collect();
    let stop = offset.saturating_add(page.len());
    let next_cursor = (stop < matching).then(|| encode_cursor(stop, &print));
    let top = page
        .first()
        .map(|h| {
            format!(
                " Top: {} (score {:.0}).",
                h.reasons.first().cloned().unwrap_or_default(),
                h.score
            )
        })
        .unwrap_or_default();
    let summary = format!(
        "{symbol} options on {date}: {n_prints} prints scanned, {matching} unusual hit{} ({}).{top}{}",
        if matching == 1 { "" } else { "s" },
        if counts.is_empty() {
            "none".to_string()
        } else {
            counts
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        synthetic_note(synthetic)
    );
    Ok((
        DetectUnusualActivityOutput {
            symbol,
            date,
            prints_scanned: n_prints,
            truncated,
            context_as_of,
            matching,
            counts,
            hits: page,
            next_cursor,
            config,
            synthetic,
            method: "Sweeps: one contract's prints on the same side over at least sweep_min_exchanges exchanges within sweep_window_ms. Blocks: one print of at least block_min_size contracts or block_min_premium dollars (a sweep's legs are reported in the sweep). Volume over open interest: session volume above open interest and at least 5x the contract's average volume over the previous 5 snapshots. Side from the print's NBBO (else the snapshot's quote): within 10% of the spread (at least 1 cent) of the ask = bought, of the bid = sold, else mid. Score 0-100: a base by kind plus size, premium (log scale), size against open interest and an aggressive side.".into(),
        },
        summary,
    ))
}

// ------------------------------------------------------ analyze_options_flow

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeOptionsFlowArgs {
    /// Underlying symbol, e.g. AAPL.
    pub symbol: String,
    /// The newest snapshot at or before this time (default now); the flow split reads that day's prints up to it.
    pub as_of: Option<String>,
    /// Pricing model for IVs and Greeks (default by exercise style).
    pub model: Option<Model>,
    /// Risk-free rate, continuous decimal (default 0.04).
    pub rate: Option<f64>,
    /// Dividend yield, continuous decimal (default 0).
    pub dividend: Option<f64>,
    /// Binomial steps (default 200, at most 2000).
    pub steps: Option<usize>,
    /// Strikes of gamma exposure to show, nearest the money (default 30, at most 200).
    pub max_strikes: Option<usize>,
    /// Expiries to give max pain and skew for, nearest first (default 3, at most 12).
    pub expiries: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeltaExposure {
    /// Sum over calls of delta x open interest x multiplier x price: the dollar delta held by call holders.
    pub calls: f64,
    /// The same over puts (negative).
    pub puts: f64,
    /// calls + puts: the net dollar delta of all open interest, holders' side (dealers hold the opposite).
    pub net: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PrintFlow {
    /// Prints of the snapshot's day read.
    pub prints: usize,
    pub split: FlowSplit,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AnalyzeOptionsFlowOutput {
    pub symbol: String,
    pub as_of: DateTime<Utc>,
    pub underlying_price: f64,
    pub synthetic: bool,
    pub model: Option<Model>,
    pub rate: f64,
    pub dividend: f64,
    /// Bullish premium (bought calls, sold puts) against bearish (bought puts, sold calls) of the day's prints; null without prints.
    pub flow: Option<PrintFlow>,
    pub delta_exposure: DeltaExposure,
    /// Dealer gamma exposure ($ per 1% move; dealers long calls, short puts); by_strike holds the strikes nearest the money.
    pub gamma_exposure: GammaExposure,
    /// Underlying price where total gamma exposure changes sign (implied vols held), nearest the current price; null when it does not within +-50%.
    pub gamma_flip: Option<f64>,
    /// Max pain of the nearest expiries (curves cut to 21 strikes around the answer).
    pub max_pain: Vec<MaxPain>,
    /// From the ATM straddle of the nearest expiry at least a day out.
    pub expected_move: Option<ExpectedMove>,
    /// 30-day ATM implied volatility (default pricing: Barone-Adesi-Whaley for American contracts, rate 0.04, no dividend, as each stored snapshot's summary computes it) against its stored history (up to 252 snapshots).
    pub iv_rank: Option<IvRank>,
    /// ATM implied volatility per expiry.
    pub term_structure: Vec<TermPoint>,
    /// 25-delta risk reversal and butterfly of the nearest expiries.
    pub skew: Vec<Skew>,
    /// Contracts whose implied volatility could not be solved (and were left out of IV-based figures).
    pub unpriced_contracts: usize,
    pub conventions: String,
}

pub async fn analyze_options_flow(
    ctx: &ToolContext,
    args: AnalyzeOptionsFlowArgs,
) -> Result<(AnalyzeOptionsFlowOutput, String), ToolError> {
    let symbol = symbol_arg(&args.symbol)?;
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let pricing = pricing_of(args.model, args.rate, args.dividend, args.steps)?;
    let max_strikes = args.max_strikes.unwrap_or(30);
    if max_strikes == 0 || max_strikes > MAX_ROWS {
        return Err(ToolError::invalid(format!(
            "max_strikes must be 1 to {MAX_ROWS}"
        )));
    }
    let n_expiries = args.expiries.unwrap_or(3);
    if n_expiries == 0 || n_expiries > 12 {
        return Err(ToolError::invalid("expiries must be 1 to 12"));
    }
    if pricing.model == Some(Model::Bachelier) {
        return Err(ToolError::invalid(
            "analyze_options_flow needs Black (lognormal) volatilities for its skew, term structure, IV rank and gamma flip; use a Black-type or American model (bachelier's normal vols are in price units)",
        ));
    }
    let (stored, summary_now) = snapshot_at(&ctx.stores, &symbol, as_of).await?;
    let records = ctx.stores.records.as_ref();
    let history = store::summaries(records, &symbol, summary_now.as_of, MAX_HISTORY_DAYS).await?;
    let day_start = summary_now
        .as_of
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let (prints, _, _) =
        store::read_prints(records, &symbol, day_start, summary_now.as_of, MAX_PRINTS).await?;
    let synthetic = stored.synthetic;
    check_tree_work(&pricing, stored.snapshot.quotes.len())?;
    let (snap, metrics) = price_all(ctx, stored.snapshot, pricing).await?;
    let spot = snap.underlying_price;
    let v = views(&snap, &metrics);
    let unpriced_contracts = v.iter().filter(|x| x.iv.is_none()).count();
    let mut delta_exposure = DeltaExposure {
        calls: 0.0,
        puts: 0.0,
        net: 0.0,
    };
    for x in &v {
        if let Some(d) = x.delta {
            let dollars =
                d * x.quote.open_interest as f64 * f64::from(x.quote.contract.multiplier) * spot;
            match x.quote.contract.right {
                Right::Call => delta_exposure.calls += dollars,
                Right::Put => delta_exposure.puts += dollars,
            }
        }
    }
    delta_exposure.net = delta_exposure.calls + delta_exposure.puts;
    let mut gamma_exposure = analytics::gamma_exposure(&v, spot);
    gamma_exposure
        .by_strike
        .sort_by(|a, b| (a.strike - spot).abs().total_cmp(&(b.strike - spot).abs()));
    gamma_exposure.by_strike.truncate(max_strikes);
    gamma_exposure
        .by_strike
        .sort_by(|a, b| a.strike.total_cmp(&b.strike));
    let gamma_flip = analytics::gamma_flip(&v, spot, pricing.rate, pricing.dividend);
    let mut expiries: Vec<NaiveDate> = v
        .iter()
        .filter(|x| x.t >= 1.0 / 365.0)
        .map(|x| x.quote.contract.expiry)
        .collect();
    expiries.sort();
    expiries.dedup();
    expiries.truncate(n_expiries);
    let mut max_pain = Vec::new();
    let mut skew = Vec::new();
    for e in &expiries {
        let quotes: Vec<OptionQuote> = snap
            .quotes
            .iter()
            .filter(|q| q.contract.expiry == *e)
            .cloned()
            .collect();
        if let Some(mut mp) = analytics::max_pain(&quotes) {
            if let Some(i) = mp.curve.iter().position(|p| p.strike == mp.strike) {
                let lo = i.saturating_sub(10);
                let hi = i.saturating_add(11).min(mp.curve.len());
                mp.curve_truncated |= lo > 0 || hi < mp.curve.len();
                mp.curve = mp.curve.get(lo..hi).map(<[_]>::to_vec).unwrap_or_default();
            }
            max_pain.push(mp);
        }
        let of: Vec<ContractView<'_>> = v
            .iter()
            .filter(|x| x.quote.contract.expiry == *e)
            .copied()
            .collect();
        if let Some(s) = analytics::skew(&of) {
            skew.push(s);
        }
    }
    let term_structure = analytics::term_structure(&v, spot);
    let expected_move = analytics::expected_move(&v, spot);
    // Today's 30-day ATM IV as the stored summaries compute it (default
    // pricing), so it compares like with like against their history.
    let current_iv = summary_now.atm_iv_30d;
    let past: Vec<f64> = history
        .iter()
        .skip(1)
        .filter_map(|s| s.atm_iv_30d)
        .collect();
    let iv_rank = current_iv.and_then(|c| analytics::iv_rank_percentile(&past, c));
    let flow = (!prints.is_empty()).then(|| {
        let context: HashMap<String, ContractContext> = snap
            .quotes
            .iter()
            .map(|q| {
                (
                    occ::format(&q.contract),
                    ContractContext {
                        open_interest: q.open_interest,
                        volume: q.volume,
                        bid: Some(q.bid),
                        ask: Some(q.ask),
                        ..ContractContext::default()
                    },
                )
            })
            .collect();
        PrintFlow {
            prints: prints.len(),
            split: flow::premium_split(&prints, &context),
        }
    });
    let money = |x: f64| {
        if x.abs() >= 1e9 {
            format!("{:.2}B", x / 1e9)
        } else if x.abs() >= 1e6 {
            format!("{:.2}M", x / 1e6)
        } else {
            format!("{:.0}", x)
        }
    };
    let summary = format!(
        "{symbol} options at {} (underlying {spot}): {}net gamma exposure {} per 1% ({}), gamma flip {}; max pain {}; expected move {}; IV 30d {}{}; 25-delta risk reversal {}.{}",
        snap.as_of.format("%Y-%m-%d"),
        flow.as_ref().map_or(String::new(), |f| format!(
            "flow {} bullish vs {} bearish premium (net {:+.2}), ",
            money(f.split.bullish.premium),
            money(f.split.bearish.premium),
            f.split.net
        )),
        money(gamma_exposure.total),
        if gamma_exposure.total >= 0.0 {
            "dealers damp moves"
        } else {
            "dealers amplify moves"
        },
        gamma_flip.map_or("none within +-50%".into(), |g| format!("{g:.2}")),
        max_pain
            .first()
            .map_or("n/a".into(), |m| format!("{} for {}", m.strike, m.expiry)),
        expected_move.as_ref().map_or("n/a".into(), |m| format!(
            "+-{:.2} ({:.1}%) to {}",
            m.straddle, m.straddle_pct, m.expiry
        )),
        current_iv.map_or("n/a".into(), |x| format!("{:.1}%", x * 100.0)),
        iv_rank
            .as_ref()
            .and_then(|r| r.rank)
            .map_or(String::new(), |r| format!(" (rank {r:.0})")),
        skew.first()
            .map_or("n/a".into(), |s| format!("{:+.2} vol pts", s.rr25 * 100.0)),
        synthetic_note(synthetic)
    );
    Ok((
        AnalyzeOptionsFlowOutput {
            symbol,
            as_of: snap.as_of,
            underlying_price: spot,
            synthetic,
            model: pricing.model,
            rate: pricing.rate,
            dividend: pricing.dividend,
            flow,
            delta_exposure,
            gamma_exposure,
            gamma_flip,
            max_pain,
            expected_move,
            iv_rank,
            term_structure,
            skew,
            unpriced_contracts,
            conventions: CONVENTIONS.to_string(),
        },
        summary,
    ))
}

// ------------------------------------------------------------ import_options

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportOptionsArgs {
    /// The CSV file's text (at most 8 MiB). Chains: as_of, underlying, underlying_price, then symbol (OCC) or expiry, strike, right; bid, ask, last, volume, open_interest, multiplier, style. Trades: time, symbol (OCC) or underlying, expiry, strike, right; price, size, exchange, condition, bid, ask, underlying_price, trade_id.
    pub text: String,
    /// chain or trades (default: detected from the header).
    pub kind: Option<String>,
    /// Name of the file (recorded in the summary only).
    pub file_name: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ImportOptionsOutput {
    /// chain or trades.
    pub kind: String,
    /// Chain snapshots stored (chains).
    pub snapshots: usize,
    /// Quotes stored (chains).
    pub contracts: usize,
    /// Trade prints stored (trades); re-importing a file rewrites the same prints.
    pub prints: usize,
    /// Rows per underlying.
    pub symbols: BTreeMap<String, usize>,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// Parses and stores an options CSV: the body of `import_options` (with
/// `pool`) and of `goldensignals import-options` (without).
pub async fn import_options(
    stores: &Stores,
    pool: Option<&ToolContext>,
    text: String,
    kind: Option<&str>,
) -> Result<ImportOptionsOutput, ToolError> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(ToolError::invalid(format!(
            "text is {} bytes; send at most {MAX_IMPORT_BYTES} per call (split the file)",
            text.len()
        )));
    }
    let kind = match kind {
        Some(k) => OptionsFileKind::parse(k).ok_or_else(|| {
            ToolError::invalid(format!("kind {k:?} is not one of chain, trades"))
        })?,
        None => OptionsFileKind::detect(&text).ok_or_else(|| {
            ToolError::invalid(
                "cannot tell a chain file from a trades file by its header: a chain has bid, ask and open_interest columns, trades have price and size; or pass kind",
            )
        })?,
    };
    let records = stores.records.as_ref();
    let mut symbols = BTreeMap::new();
    match kind {
        OptionsFileKind::Chain => {
            let run = move || {
                let snaps =
                    parse_chain_csv(&text).map_err(|e| ToolError::invalid(e.to_string()))?;
                Ok(snaps
                    .into_iter()
                    .map(|s| {
                        let summary = summarise(&s, false);
                        (s, summary)
                    })
                    .collect::<Vec<_>>())
            };
            let parsed = match pool {
                Some(ctx) => ctx.compute(run).await?,
                None => run()?,
            };
            let mut contracts = 0usize;
            for (s, summary) in &parsed {
                store::store_snapshot(records, s, summary).await?;
                contracts = contracts.saturating_add(s.quotes.len());
                bump(
                    symbols.entry(s.underlying.clone()).or_insert(0),
                    s.quotes.len(),
                );
            }
            Ok(ImportOptionsOutput {
                kind: "chain".into(),
                snapshots: parsed.len(),
                contracts,
                prints: 0,
                symbols,
                first: parsed.iter().map(|(s, _)| s.as_of).min(),
                last: parsed.iter().map(|(s, _)| s.as_of).max(),
            })
        }
        OptionsFileKind::Trades => {
            let run =
                move || parse_trades_csv(&text).map_err(|e| ToolError::invalid(e.to_string()));
            let prints: Vec<TradePrint> = match pool {
                Some(ctx) => ctx.compute(run).await?,
                None => run()?,
            };
            let n = store::store_prints(records, &prints, false).await?;
            for p in &prints {
                bump(symbols.entry(p.contract.underlying.clone()).or_insert(0), 1);
            }
            Ok(ImportOptionsOutput {
                kind: "trades".into(),
                snapshots: 0,
                contracts: 0,
                prints: n,
                symbols,
                first: prints.iter().map(|p| p.time).min(),
                last: prints.iter().map(|p| p.time).max(),
            })
        }
    }
}

pub fn import_summary(file: &str, out: &ImportOptionsOutput) -> String {
    let symbols = out
        .symbols
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    match out.kind.as_str() {
        "chain" => format!(
            "Imported {} chain snapshot{} ({} quotes) from {file}: {symbols}.",
            out.snapshots,
            if out.snapshots == 1 { "" } else { "s" },
            out.contracts
        ),
        _ => format!(
            "Imported {} trade prints from {file}: {symbols}.",
            out.prints
        ),
    }
}

// ----------------------------------------------------------------- demo data

/// What [`seed_demo_options`] stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoOptionsReport {
    pub symbols: usize,
    pub snapshots: usize,
    pub quotes: usize,
    pub prints: usize,
    pub planted: usize,
}

/// Closes of the stored synthetic daily series that can have options.
async fn demo_underlyings(
    stores: &Stores,
) -> Result<Vec<gs_options::demo::DemoUnderlying>, ToolError> {
    let mut out = Vec::new();
    for info in read_series(stores.bars.as_ref(), None).await? {
        let symbol = info.key.symbol.as_str().to_string();
        if info.key.timeframe != Timeframe::D1
            || !info.source.is_synthetic()
            || !occ::valid_root(&symbol)
        {
            continue;
        }
        let bars = read_bars(stores.bars.as_ref(), &info.key, &BarQuery::default()).await?;
        let closes: Vec<(NaiveDate, f64)> = bars
            .iter()
            .rev()
            .take(200)
            .rev()
            .map(|b| (b.time().date_naive(), b.close()))
            .collect();
        out.push(gs_options::demo::DemoUnderlying {
            symbol,
            closes,
            rate: DEFAULT_RATE,
            dividend: 0.0,
        });
    }
    Ok(out)
}

/// The demo chains and prints [`seed_demo_options`] stores, with their
/// ground truth (the planted sweeps and blocks), one per underlying.
pub async fn generate_demo_options(
    stores: &Stores,
    seed: u64,
) -> Result<Vec<gs_options::demo::DemoOptions>, ToolError> {
    let mut out = Vec::new();
    for (i, u) in demo_underlyings(stores).await?.into_iter().enumerate() {
        let config = gs_options::demo::DemoConfig {
            seed: seed.wrapping_add(i as u64),
            ..gs_options::demo::DemoConfig::default()
        };
        let demo = gs_options::demo::generate(&u, &config)
            .map_err(|e| ToolError::Internal(format!("demo options for {}: {e}", u.symbol)))?;
        out.push(demo);
    }
    Ok(out)
}

/// Writes synthetic option chains (10 daily snapshots) and 3 days of trade
/// prints with planted sweeps and blocks for every stored synthetic daily
/// series with an option root (what `serve` does after the demo bars).
pub async fn seed_demo_options(stores: &Stores, seed: u64) -> Result<DemoOptionsReport, ToolError> {
    let mut report = DemoOptionsReport::default();
    for demo in generate_demo_options(stores, seed).await? {
        for s in &demo.snapshots {
            let summary = summarise(s, true);
            store::store_snapshot(stores.records.as_ref(), s, &summary).await?;
            bump(&mut report.quotes, s.quotes.len());
        }
        store::store_prints(stores.records.as_ref(), &demo.prints, true).await?;
        bump(&mut report.symbols, 1);
        bump(&mut report.snapshots, demo.snapshots.len());
        bump(&mut report.prints, demo.prints.len());
        bump(&mut report.planted, demo.planted.len());
    }
    Ok(report)
}

/// Seeds the demo options when synthetic daily series are stored but the
/// first of them has no option chain (a fresh data directory, or one from
/// before the options-flow server).
pub async fn seed_demo_options_if_missing(
    stores: &Stores,
    seed: u64,
) -> Result<Option<DemoOptionsReport>, ToolError> {
    let Some(first) = demo_underlyings_first(stores).await? else {
        return Ok(None);
    };
    if !store::summaries(stores.records.as_ref(), &first, DateTime::<Utc>::MAX_UTC, 1)
        .await?
        .is_empty()
    {
        return Ok(None);
    }
    seed_demo_options(stores, seed).await.map(Some)
}

async fn demo_underlyings_first(stores: &Stores) -> Result<Option<String>, ToolError> {
    Ok(read_series(stores.bars.as_ref(), None)
        .await?
        .into_iter()
        .find(|s| {
            s.key.timeframe == Timeframe::D1
                && s.source.is_synthetic()
                && occ::valid_root(s.key.symbol.as_str())
        })
        .map(|s| s.key.symbol.as_str().to_string()))
}

/// The put/call volume ratio of each symbol's newest stored snapshot at or
/// before `end` (for market sentiment); symbols without options are left out.
pub async fn put_call_by_symbol(
    stores: &Stores,
    symbols: &[String],
    end: DateTime<Utc>,
) -> Result<Vec<(String, DaySummary)>, ToolError> {
    let mut out = Vec::new();
    for s in symbols {
        if !occ::valid_root(s) {
            continue;
        }
        if let Some(d) = store::summaries(stores.records.as_ref(), s, end, 1)
            .await?
            .into_iter()
            .next()
        {
            out.push((s.clone(), d));
        }
    }
    Ok(out)
}

// --------------------------------------------------------------------- tools

const IMPORT: Annotations = Annotations {
    read_only: false,
    destructive: false,
    idempotent: true,
    open_world: false,
};

/// `get_option_chain` of the `options-flow` server.
#[derive(Debug)]
pub struct GetOptionChain;

impl Tool for GetOptionChain {
    const NAME: &'static str = "get_option_chain";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Option chain with IV and Greeks";
    const DESCRIPTION: &'static str = "The newest stored option chain of a symbol (at or before as_of): each contract with bid, ask, mid, spread, volume, open interest, moneyness, the implied volatility of its mid and its Greeks (price, delta, gamma, vega, theta, rho, dividend rho, vanna, charm, vomma, speed, zomma, colour) under the chosen model (default Barone-Adesi-Whaley for American contracts, Black-Scholes for European). Filter by expiry range, number of expiries, strikes around the money, moneyness (strike / price), absolute delta and call/put. 50 contracts per page by default (at most 200); page with next_cursor. Lists every expiry with its contract count. Units are in conventions.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetOptionChainArgs;
    type Output = GetOptionChainOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        get_option_chain(&ctx, args).await
    }
}

/// `calculate_greeks` of the `options-flow` server.
#[derive(Debug)]
pub struct CalculateGreeks;

impl Tool for CalculateGreeks {
    const NAME: &'static str = "calculate_greeks";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Option price and Greeks";
    const DESCRIPTION: &'static str = "Price and Greeks of one option: a stored contract (OCC symbol; priced at its implied volatility from the mid, or from bid/ask/last, or at a given vol) or inline parameters (right, underlying_price, strike, expiry or days, vol). Models: black_scholes (dividend yield), black76 (on the forward), bachelier (normal vol), barone_adesi_whaley, bjerksund_stensland and binomial (CRR, steps), all matching QuantLib 1.44. European Greeks are analytic up to third order; American ones by the stated finite differences. Also per-contract figures: delta shares, dollar delta, dollar gamma per 1%, value per vol point and per day.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = CalculateGreeksArgs;
    type Output = CalculateGreeksOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        calculate_greeks(&ctx, args).await
    }
}

/// `implied_volatility` of the `options-flow` server.
#[derive(Debug)]
pub struct ImpliedVolatility;

impl Tool for ImpliedVolatility {
    const NAME: &'static str = "implied_volatility";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Implied volatility";
    const DESCRIPTION: &'static str = "Implied volatility of an option price: a stored contract's bid, mid, ask and last (OCC symbol), or an inline price with right, underlying_price, strike and expiry or days. Black-type models by Jäckel's Let's Be Rational (exact to machine precision), Bachelier by its normal-vol inversion, American models by Brent's method on the model price. The no-arbitrage bounds are checked first; a price outside them gets an error naming the bound. Each estimate comes with the repriced value (the round trip) and its vega.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = ImpliedVolatilityArgs;
    type Output = ImpliedVolatilityOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        implied_volatility(&ctx, args).await
    }
}

/// `get_put_call_ratio` of the `options-flow` server.
#[derive(Debug)]
pub struct GetPutCallRatio;

impl Tool for GetPutCallRatio {
    const NAME: &'static str = "get_put_call_ratio";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Put/call ratios";
    const DESCRIPTION: &'static str = "Put/call ratios of a symbol's options from stored chains: volume (put volume / call volume) and open interest, overall and per expiry for the newest snapshot at or before as_of, and a history of one row per snapshot (default 20, at most 252) with its mean and where today's volume ratio falls in it.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = GetPutCallRatioArgs;
    type Output = GetPutCallRatioOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        get_put_call_ratio(&ctx, args).await
    }
}

/// `detect_unusual_activity` of the `options-flow` server.
#[derive(Debug)]
pub struct DetectUnusualActivity;

impl Tool for DetectUnusualActivity {
    const NAME: &'static str = "detect_unusual_activity";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Unusual options activity";
    const DESCRIPTION: &'static str = "Scans one day's stored option trade prints of a symbol (default the newest day) for unusual activity: sweeps (one contract bought or sold across 3+ exchanges within 500 ms), blocks (500+ contracts or $250k+ in one print), volume above open interest and 5x the contract's average, large premium, and implied-volatility jumps. Each hit has a 0-100 score, the side inferred from the quote (at ask = bought, at bid = sold), the prints behind it and its reasons in words. Thresholds can be changed; min_score and kinds filter. Highest score first, 50 per page (at most 200), page with next_cursor.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = DetectUnusualActivityArgs;
    type Output = DetectUnusualActivityOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        detect_unusual_activity(&ctx, args).await
    }
}

/// `analyze_options_flow` of the `options-flow` server.
#[derive(Debug)]
pub struct AnalyzeOptionsFlow;

impl Tool for AnalyzeOptionsFlow {
    const NAME: &'static str = "analyze_options_flow";
    const SERVER: &'static str = SERVER;
    const TITLE: &'static str = "Options flow and positioning";
    const DESCRIPTION: &'static str = "Positioning from a symbol's newest stored chain and that day's prints: bullish premium (bought calls, sold puts) against bearish (bought puts, sold calls), net dollar delta of open interest, dealer gamma exposure (total, by strike, by expiry) with the gamma-flip level, max pain of the nearest expiries, the expected move from the ATM straddle, 30-day ATM IV with its rank and percentile over the stored history, the IV term structure, and the 25-delta risk reversal and butterfly. Each figure states its convention.";
    const ANNOTATIONS: Annotations = Annotations::READ_ONLY;
    type Args = AnalyzeOptionsFlowArgs;
    type Output = AnalyzeOptionsFlowOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        analyze_options_flow(&ctx, args).await
    }
}

/// `import_options` of the `database` server.
#[derive(Debug)]
pub struct ImportOptions;

impl Tool for ImportOptions {
    const NAME: &'static str = "import_options";
    const SERVER: &'static str = "database";
    const TITLE: &'static str = "Import option chains or trades";
    const DESCRIPTION: &'static str = "Stores an options CSV: chain snapshots (as_of, underlying, underlying_price, OCC symbol or expiry/strike/right, bid, ask, volume, open_interest...) or trade prints (time, OCC symbol or expiry/strike/right, price, size, exchange, condition, NBBO...), detected from the header or given as kind. All or nothing: any bad line refuses the whole file, naming each bad line (the first 20). Importing the same file again rewrites the same records, and a corrected chain snapshot replaces the old one whole. Prints without trade_id get an id from their fields and their position among identical prints of the file: give trade_id when one day's prints are split over several files. At most 8 MiB per call.";
    const ANNOTATIONS: Annotations = IMPORT;
    type Args = ImportOptionsArgs;
    type Output = ImportOptionsOutput;

    async fn call(ctx: ToolContext, args: Self::Args) -> Result<(Self::Output, String), ToolError> {
        let file = args.file_name.unwrap_or_else(|| "import".to_string());
        if file.len() > 256 {
            return Err(ToolError::invalid("file_name must be at most 256 bytes"));
        }
        let out = import_options(&ctx.stores, Some(&ctx), args.text, args.kind.as_deref()).await?;
        let summary = import_summary(&file, &out);
        Ok((out, summary))
    }
}
