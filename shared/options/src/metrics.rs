//! Implied volatility and Greeks for every quote of a chain snapshot: what
//! `get_option_chain` shows and the analytics read.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};

use crate::chain::{ChainSnapshot, OptionQuote};
use crate::error::PricingError;
use crate::european::Greeks;
use crate::model::{self, DEFAULT_STEPS, Model, ModelInputs};

/// Seconds in the ACT/365 year.
const YEAR_SECONDS: f64 = 365.0 * 86_400.0;

/// The US close (16:00 New York) in UTC hours on `day`: 20 under daylight
/// saving time (second Sunday of March to first Sunday of November), else 21.
pub fn us_close_hour_utc(day: NaiveDate) -> u32 {
    let nth_sunday = |month: u32, n: u8| {
        NaiveDate::from_weekday_of_month_opt(day.year(), month, Weekday::Sun, n)
    };
    match (nth_sunday(3, 2), nth_sunday(11, 1)) {
        (Some(start), Some(end)) if day >= start && day < end => 20,
        _ => 21,
    }
}

/// When a contract expiring on `expiry` stops trading: 16:00 New York.
pub fn expiry_time(expiry: NaiveDate) -> DateTime<Utc> {
    let hour = us_close_hour_utc(expiry);
    expiry
        .and_hms_opt(hour, 0, 0)
        .map_or(DateTime::<Utc>::UNIX_EPOCH, |t| t.and_utc())
}

/// Years (ACT/365, to the second) from `as_of` to the expiry's close; 0 or
/// less once expired.
pub fn years_to_expiry(as_of: DateTime<Utc>, expiry: NaiveDate) -> f64 {
    (expiry_time(expiry) - as_of).num_seconds() as f64 / YEAR_SECONDS
}

/// How a chain is priced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainPricing {
    /// `None`: each contract's default (Barone-Adesi-Whaley for American,
    /// Black-Scholes for European exercise).
    pub model: Option<Model>,
    pub rate: f64,
    pub dividend: f64,
    /// Binomial steps.
    pub steps: usize,
}

/// The risk-free rate assumed when a caller gives none (continuous).
pub const DEFAULT_RATE: f64 = 0.04;

impl Default for ChainPricing {
    fn default() -> Self {
        Self {
            model: None,
            rate: DEFAULT_RATE,
            dividend: 0.0,
            steps: DEFAULT_STEPS,
        }
    }
}

/// One quote's implied volatility (from its mid) and Greeks at it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteMetrics {
    pub model: Model,
    /// Years to expiry.
    pub t: f64,
    pub iv: Result<f64, PricingError>,
    pub greeks: Option<Greeks>,
}

/// The model inputs of `quote` at volatility `vol`.
pub fn inputs_for(
    quote: &OptionQuote,
    model: Model,
    spot: f64,
    t: f64,
    pricing: &ChainPricing,
    vol: f64,
) -> ModelInputs {
    let underlying = if model.on_forward() {
        spot * ((pricing.rate - pricing.dividend) * t).exp()
    } else {
        spot
    };
    ModelInputs {
        right: quote.contract.right,
        underlying,
        strike: quote.contract.strike,
        t,
        rate: pricing.rate,
        dividend: pricing.dividend,
        vol,
        steps: pricing.steps,
        american: quote.contract.style == crate::ExerciseStyle::American,
    }
}

/// Implied volatility from the mid and the Greeks at it.
pub fn price_quote(
    quote: &OptionQuote,
    spot: f64,
    as_of: DateTime<Utc>,
    pricing: &ChainPricing,
) -> QuoteMetrics {
    let model = pricing
        .model
        .unwrap_or_else(|| Model::default_for(quote.contract.style));
    let t = years_to_expiry(as_of, quote.contract.expiry);
    let mid = quote.mid();
    let iv = if t <= 0.0 {
        Err(PricingError::Invalid(format!(
            "expired: the contract stopped trading at {}",
            expiry_time(quote.contract.expiry)
        )))
    } else if mid.is_nan() || mid <= 0.0 {
        Err(PricingError::Invalid(
            "no bid or ask to take a mid from".into(),
        ))
    } else {
        model::implied_vol(model, &inputs_for(quote, model, spot, t, pricing, 0.0), mid)
    };
    let greeks = match &iv {
        Ok(vol) if *vol > 0.0 => {
            model::greeks(model, &inputs_for(quote, model, spot, t, pricing, *vol)).ok()
        }
        _ => None,
    };
    QuoteMetrics {
        model,
        t,
        iv,
        greeks,
    }
}

/// [`price_quote`] for every quote of `snapshot`, in its order.
pub fn price_chain(snapshot: &ChainSnapshot, pricing: &ChainPricing) -> Vec<QuoteMetrics> {
    snapshot
        .quotes
        .iter()
        .map(|q| price_quote(q, snapshot.underlying_price, snapshot.as_of, pricing))
        .collect()
}

/// Greeks at given volatilities (no implied-volatility search): the cost of
/// Greeks alone for a chain.
pub fn greeks_at(
    snapshot: &ChainSnapshot,
    pricing: &ChainPricing,
    vols: &[f64],
) -> Vec<Result<Greeks, PricingError>> {
    snapshot
        .quotes
        .iter()
        .zip(vols)
        .map(|(q, vol)| {
            let model = pricing
                .model
                .unwrap_or_else(|| Model::default_for(q.contract.style));
            let t = years_to_expiry(snapshot.as_of, q.contract.expiry);
            model::greeks(
                model,
                &inputs_for(q, model, snapshot.underlying_price, t, pricing, *vol),
            )
        })
        .collect()
}
