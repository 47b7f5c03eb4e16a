//! European options: Black-Scholes-Merton on a spot with a continuous
//! dividend yield, Black-76 on a forward or future, and Bachelier (normal
//! volatility), with analytic Greeks up to third order.
//!
//! Price and first-order Greeks follow QuantLib 1.44's `BlackCalculator`
//! step for step (forward, standard deviation and discount; alpha and beta
//! with their derivatives), so the figures agree with
//! `AnalyticEuropeanEngine` to the last few bits.
//!
//! Conventions (every model):
//! - `t` is in years (ACT/365 calendar days: days / 365).
//! - `vega` is per 1.00 of volatility (divide by 100 for a vol point);
//!   `rho` and `dividend_rho` per 1.00 of rate.
//! - `theta` is the change in value per year of calendar time passing
//!   (negative when the option decays); `theta_per_day` is `theta / 365`.
//! - `charm` (delta) and `colour` (gamma) are per year of calendar time
//!   passing, like `theta`; `vanna` = d delta / d vol, `vomma` = d vega /
//!   d vol, `speed` = d gamma / d underlying, `zomma` = d gamma / d vol.
//! - Black-76 and Bachelier Greeks are with respect to the forward; their
//!   `rho` moves the discount only, and `dividend_rho` is 0.

use schemars::JsonSchema;
use serde::Serialize;

use crate::chain::Right;
use crate::error::PricingError;
use crate::normal::{cdf, pdf};

/// Inputs of a Black-Scholes-Merton price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlackInputs {
    pub right: Right,
    /// Spot price of the underlying (> 0).
    pub spot: f64,
    /// Strike (> 0).
    pub strike: f64,
    /// Years to expiry (> 0).
    pub t: f64,
    /// Continuously compounded risk-free rate.
    pub rate: f64,
    /// Continuous dividend yield.
    pub dividend: f64,
    /// Black volatility (>= 0).
    pub vol: f64,
}

/// Inputs of a Black-76 or Bachelier price, on a forward.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForwardInputs {
    pub right: Right,
    /// Forward or futures price (> 0 for Black-76; any finite value for Bachelier).
    pub forward: f64,
    pub strike: f64,
    pub t: f64,
    /// Rate that discounts the payoff.
    pub rate: f64,
    /// Black (lognormal) volatility, or for Bachelier the normal volatility
    /// in price units per sqrt(year).
    pub vol: f64,
}

/// Price and Greeks. See the module documentation for units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct Greeks {
    /// Value per unit of the underlying (multiply by the contract multiplier for a contract).
    pub price: f64,
    /// d price / d underlying.
    pub delta: f64,
    /// d delta / d underlying.
    pub gamma: f64,
    /// d price / d volatility, per 1.00 of volatility.
    pub vega: f64,
    /// Value change per year of calendar time passing.
    pub theta: f64,
    /// theta / 365: value change per calendar day.
    pub theta_per_day: f64,
    /// d price / d rate, per 1.00 of rate.
    pub rho: f64,
    /// d price / d dividend yield, per 1.00 (0 for forward models).
    pub dividend_rho: f64,
    /// d delta / d volatility.
    pub vanna: f64,
    /// Delta change per year of calendar time passing.
    pub charm: f64,
    /// d vega / d volatility.
    pub vomma: f64,
    /// d gamma / d underlying.
    pub speed: f64,
    /// d gamma / d volatility.
    pub zomma: f64,
    /// Gamma change per year of calendar time passing.
    pub colour: f64,
}

pub(crate) fn check_finite(name: &str, v: f64) -> Result<(), PricingError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(PricingError::Invalid(format!(
            "{name} must be a finite number; got {v}"
        )))
    }
}

pub(crate) fn check_positive(name: &str, v: f64) -> Result<(), PricingError> {
    check_finite(name, v)?;
    if v > 0.0 {
        Ok(())
    } else {
        Err(PricingError::Invalid(format!(
            "{name} must be greater than 0; got {v}"
        )))
    }
}

/// Rates and yields beyond +-100% are refused as input mistakes (a percent
/// given as a number, 5 for 0.05).
pub(crate) fn check_rate(name: &str, v: f64) -> Result<(), PricingError> {
    check_finite(name, v)?;
    if v.abs() <= 1.0 {
        Ok(())
    } else {
        Err(PricingError::Invalid(format!(
            "{name} is {v}: rates and yields are decimals (0.05 for 5%), between -1 and 1"
        )))
    }
}

/// Volatility in [0, 10] (0 to 1000%).
pub(crate) fn check_vol(v: f64) -> Result<(), PricingError> {
    check_finite("vol", v)?;
    if (0.0..=10.0).contains(&v) {
        Ok(())
    } else {
        Err(PricingError::Invalid(format!(
            "vol is {v}: volatility is a decimal per year (0.25 for 25%), between 0 and 10"
        )))
    }
}

/// Largest price level accepted (an input mistake beyond it, and the
/// Greeks' squares would overflow).
pub const MAX_PRICE: f64 = 1e12;

pub(crate) fn check_price_level(name: &str, v: f64) -> Result<(), PricingError> {
    if v.abs() > MAX_PRICE {
        return Err(PricingError::Invalid(format!(
            "{name} is {v}: at most {MAX_PRICE:e}"
        )));
    }
    Ok(())
}

impl Greeks {
    /// Every figure finite: what a model must return.
    pub fn check_finite(self) -> Result<Self, PricingError> {
        let all = [
            self.price,
            self.delta,
            self.gamma,
            self.vega,
            self.theta,
            self.theta_per_day,
            self.rho,
            self.dividend_rho,
            self.vanna,
            self.charm,
            self.vomma,
            self.speed,
            self.zomma,
            self.colour,
        ];
        if all.iter().all(|v| v.is_finite()) {
            Ok(self)
        } else {
            Err(PricingError::NoConvergence(
                "the Greeks overflow for these inputs (a price, time or volatility far outside market ranges); check them".into(),
            ))
        }
    }
}

impl BlackInputs {
    pub fn validate(&self) -> Result<(), PricingError> {
        check_positive("spot", self.spot)?;
        check_price_level("spot", self.spot)?;
        check_positive("strike", self.strike)?;
        check_price_level("strike", self.strike)?;
        check_positive("t (years to expiry)", self.t)?;
        if self.t > 100.0 {
            return Err(PricingError::Invalid(format!(
                "t is {} years: at most 100",
                self.t
            )));
        }
        check_rate("rate", self.rate)?;
        check_rate("dividend", self.dividend)?;
        check_vol(self.vol)
    }
}

/// QuantLib's `BlackCalculator` for a plain vanilla payoff.
#[derive(Debug, Clone, Copy)]
struct Calculator {
    strike: f64,
    forward: f64,
    std_dev: f64,
    discount: f64,
    variance: f64,
    d1: f64,
    d2: f64,
    alpha: f64,
    beta: f64,
    dalpha_dd1: f64,
    dbeta_dd2: f64,
}

impl Calculator {
    fn new(right: Right, forward: f64, strike: f64, std_dev: f64, discount: f64) -> Self {
        let variance = std_dev * std_dev;
        let (d1, d2, cum_d1, cum_d2, n_d1, n_d2);
        if std_dev >= f64::EPSILON {
            d1 = (forward / strike).ln() / std_dev + 0.5 * std_dev;
            d2 = d1 - std_dev;
            cum_d1 = cdf(d1);
            cum_d2 = cdf(d2);
            n_d1 = pdf(d1);
            n_d2 = pdf(d2);
        } else if close(forward, strike) {
            d1 = 0.0;
            d2 = 0.0;
            cum_d1 = 0.5;
            cum_d2 = 0.5;
            n_d1 = pdf(0.0);
            n_d2 = n_d1;
        } else if forward > strike {
            d1 = f64::MAX;
            d2 = f64::MAX;
            cum_d1 = 1.0;
            cum_d2 = 1.0;
            n_d1 = 0.0;
            n_d2 = 0.0;
        } else {
            d1 = f64::MIN;
            d2 = f64::MIN;
            cum_d1 = 0.0;
            cum_d2 = 0.0;
            n_d1 = 0.0;
            n_d2 = 0.0;
        }
        let (alpha, beta, dalpha_dd1, dbeta_dd2) = match right {
            Right::Call => (cum_d1, -cum_d2, n_d1, -n_d2),
            Right::Put => (-1.0 + cum_d1, 1.0 - cum_d2, n_d1, -n_d2),
        };
        Self {
            strike,
            forward,
            std_dev,
            discount,
            variance,
            d1,
            d2,
            alpha,
            beta,
            dalpha_dd1,
            dbeta_dd2,
        }
    }

    fn value(&self) -> f64 {
        self.discount * (self.forward * self.alpha + self.strike * self.beta)
    }

    /// d value / d spot, where the forward moves in proportion to the spot.
    fn delta(&self, spot: f64) -> f64 {
        let dforward_ds = self.forward / spot;
        let temp = self.std_dev * spot;
        let dalpha_ds = self.dalpha_dd1 / temp;
        let dbeta_ds = self.dbeta_dd2 / temp;
        let temp2 = dalpha_ds * self.forward + self.alpha * dforward_ds + dbeta_ds * self.strike;
        self.discount * temp2
    }

    fn gamma(&self, spot: f64) -> f64 {
        let dforward_ds = self.forward / spot;
        let temp = self.std_dev * spot;
        let dalpha_ds = self.dalpha_dd1 / temp;
        let dbeta_ds = self.dbeta_dd2 / temp;
        let d2alpha_ds2 = -dalpha_ds / spot * (1.0 + self.d1 / self.std_dev);
        let d2beta_ds2 = -dbeta_ds / spot * (1.0 + self.d2 / self.std_dev);
        let temp2 =
            d2alpha_ds2 * self.forward + 2.0 * dalpha_ds * dforward_ds + d2beta_ds2 * self.strike;
        self.discount * temp2
    }

    fn vega(&self, t: f64) -> f64 {
        let temp = (self.strike / self.forward).ln() / self.variance;
        let dalpha_dsigma = self.dalpha_dd1 * (temp + 0.5);
        let dbeta_dsigma = self.dbeta_dd2 * (temp - 0.5);
        let temp2 = dalpha_dsigma * self.forward + dbeta_dsigma * self.strike;
        self.discount * t.sqrt() * temp2
    }

    fn rho(&self, t: f64) -> f64 {
        let dalpha_dr = self.dalpha_dd1 / self.std_dev;
        let dbeta_dr = self.dbeta_dd2 / self.std_dev;
        let temp = dalpha_dr * self.forward + self.alpha * self.forward + dbeta_dr * self.strike;
        t * (self.discount * temp - self.value())
    }

    fn dividend_rho(&self, t: f64) -> f64 {
        let dalpha_dq = -self.dalpha_dd1 / self.std_dev;
        let dbeta_dq = -self.dbeta_dd2 / self.std_dev;
        let temp = dalpha_dq * self.forward - self.alpha * self.forward + dbeta_dq * self.strike;
        t * self.discount * temp
    }

    fn theta(&self, spot: f64, t: f64) -> f64 {
        if close(t, 0.0) {
            return 0.0;
        }
        -(self.discount.ln() * self.value()
            + (self.forward / spot).ln() * spot * self.delta(spot)
            + 0.5 * self.variance * spot * spot * self.gamma(spot))
            / t
    }
}

/// QuantLib's `close`: equal within 42 ulps of the larger magnitude.
fn close(x: f64, y: f64) -> bool {
    if x == y {
        return true;
    }
    let diff = (x - y).abs();
    let tolerance = 42.0 * f64::EPSILON;
    if x == 0.0 || y == 0.0 {
        return diff < tolerance * tolerance;
    }
    diff <= tolerance * x.abs() && diff <= tolerance * y.abs()
}

/// Higher-order Greeks of the generalised Black-Scholes model with cost of
/// carry `b` (b = r - q on a spot, 0 on a forward), closed form.
#[allow(clippy::too_many_arguments)]
fn higher_order(
    right: Right,
    s: f64,
    t: f64,
    r: f64,
    b: f64,
    vol: f64,
    d1: f64,
    d2: f64,
    gamma: f64,
    vega: f64,
) -> (f64, f64, f64, f64, f64, f64) {
    if vol * t.sqrt() < f64::EPSILON || vol.is_nan() {
        return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    }
    let carry = ((b - r) * t).exp();
    let sqrt_t = t.sqrt();
    let v = vol * sqrt_t;
    let n1 = pdf(d1);
    let vanna = -carry * n1 * d2 / vol;
    let common = n1 * (b / v - d2 / (2.0 * t));
    let charm = match right {
        Right::Call => -carry * (common + (b - r) * cdf(d1)),
        Right::Put => -carry * (common - (b - r) * cdf(-d1)),
    };
    let vomma = vega * d1 * d2 / vol;
    let speed = -gamma / s * (d1 / v + 1.0);
    let zomma = gamma * (d1 * d2 - 1.0) / vol;
    let colour = carry * n1 / (2.0 * s * t * v)
        * (2.0 * (r - b) * t + 1.0 + d1 * (2.0 * b * t - d2 * v) / v);
    (vanna, charm, vomma, speed, zomma, colour)
}

/// `BlackCalculator`'s value of a call on a forward (the European fallback
/// of the American approximations).
pub(crate) fn black_call_value(forward: f64, strike: f64, std_dev: f64, discount: f64) -> f64 {
    Calculator::new(Right::Call, forward, strike, std_dev, discount).value()
}

/// Black-Scholes-Merton price and Greeks (QuantLib's `AnalyticEuropeanEngine`).
pub fn bsm(inputs: &BlackInputs) -> Result<Greeks, PricingError> {
    inputs.validate()?;
    let BlackInputs {
        right,
        spot,
        strike,
        t,
        rate,
        dividend,
        vol,
    } = *inputs;
    // QuantLib's flat curves discount by 1 / exp(r t) (not exp(-r t)).
    let risk_free_discount = 1.0 / (rate * t).exp();
    let dividend_discount = 1.0 / (dividend * t).exp();
    let forward = spot * dividend_discount / risk_free_discount;
    let std_dev = (vol * vol * t).sqrt();
    let c = Calculator::new(right, forward, strike, std_dev, risk_free_discount);
    let price = c.value();
    let delta = c.delta(spot);
    let gamma = c.gamma(spot);
    let vega = c.vega(t);
    let theta = c.theta(spot, t);
    let (vanna, charm, vomma, speed, zomma, colour) = higher_order(
        right,
        spot,
        t,
        rate,
        rate - dividend,
        vol,
        c.d1,
        c.d2,
        gamma,
        vega,
    );
    Ok(Greeks {
        price,
        delta,
        gamma,
        vega,
        theta,
        theta_per_day: theta / 365.0,
        rho: c.rho(t),
        dividend_rho: c.dividend_rho(t),
        vanna,
        charm,
        vomma,
        speed,
        zomma,
        colour,
    })
}

/// Black-Scholes-Merton price alone.
pub fn bsm_price(inputs: &BlackInputs) -> Result<f64, PricingError> {
    inputs.validate()?;
    let discount = 1.0 / (inputs.rate * inputs.t).exp();
    let forward = inputs.spot * (1.0 / (inputs.dividend * inputs.t).exp()) / discount;
    let std_dev = (inputs.vol * inputs.vol * inputs.t).sqrt();
    Ok(Calculator::new(inputs.right, forward, inputs.strike, std_dev, discount).value())
}

impl ForwardInputs {
    fn validate(&self, normal: bool) -> Result<(), PricingError> {
        if normal {
            check_finite("forward", self.forward)?;
            check_finite("strike", self.strike)?;
            check_finite("vol", self.vol)?;
            if self.vol < 0.0 {
                return Err(PricingError::Invalid(format!(
                    "vol (normal, price units per sqrt(year)) must be >= 0; got {}",
                    self.vol
                )));
            }
        } else {
            check_positive("forward", self.forward)?;
            check_positive("strike", self.strike)?;
            check_vol(self.vol)?;
        }
        check_price_level("forward", self.forward)?;
        check_price_level("strike", self.strike)?;
        check_positive("t (years to expiry)", self.t)?;
        if self.t > 100.0 {
            return Err(PricingError::Invalid(format!(
                "t is {} years: at most 100",
                self.t
            )));
        }
        check_rate("rate", self.rate)
    }
}

/// Black-76 price and Greeks of an option on a forward or future
/// (QuantLib's `blackFormula` with discount exp(-r t)).
pub fn black76(inputs: &ForwardInputs) -> Result<Greeks, PricingError> {
    inputs.validate(false)?;
    let ForwardInputs {
        right,
        forward,
        strike,
        t,
        rate,
        vol,
    } = *inputs;
    let discount = (-rate * t).exp();
    let std_dev = vol * t.sqrt();
    let c = Calculator::new(right, forward, strike, std_dev, discount);
    // The price as QuantLib's `blackFormula` (N(+-d), no 1 - N cancellation).
    let price = crate::american::black_formula(right, strike, forward, std_dev, discount);
    // The forward is the underlying: its "spot" derivatives with no carry.
    let delta = c.delta(forward);
    let gamma = c.gamma(forward);
    let vega = c.vega(t);
    // d/dT of D(T) * undiscounted(T): theta = r V - D * F n(d1) vol / (2 sqrt t).
    let theta = if std_dev >= f64::EPSILON {
        rate * price - discount * forward * pdf(c.d1) * vol / (2.0 * t.sqrt())
    } else {
        rate * price
    };
    let (vanna, charm, vomma, speed, zomma, colour) =
        higher_order(right, forward, t, rate, 0.0, vol, c.d1, c.d2, gamma, vega);
    Ok(Greeks {
        price,
        delta,
        gamma,
        vega,
        theta,
        theta_per_day: theta / 365.0,
        rho: -t * price,
        dividend_rho: 0.0,
        vanna,
        charm,
        vomma,
        speed,
        zomma,
        colour,
    })
}

/// Bachelier (normal model) price and Greeks (QuantLib's
/// `bachelierBlackFormula` with discount exp(-r t)); `vol` is the normal
/// volatility in price units per sqrt(year).
pub fn bachelier(inputs: &ForwardInputs) -> Result<Greeks, PricingError> {
    inputs.validate(true)?;
    let ForwardInputs {
        right,
        forward,
        strike,
        t,
        rate,
        vol,
    } = *inputs;
    let discount = (-rate * t).exp();
    let w = right.sign();
    let sd = vol * t.sqrt();
    let intrinsic = (w * (forward - strike)).max(0.0);
    if sd < f64::EPSILON {
        let price = discount * intrinsic;
        let delta = if intrinsic > 0.0 { w * discount } else { 0.0 };
        return Ok(Greeks {
            price,
            delta,
            gamma: 0.0,
            vega: 0.0,
            theta: rate * price,
            theta_per_day: rate * price / 365.0,
            rho: -t * price,
            dividend_rho: 0.0,
            vanna: 0.0,
            charm: rate * delta,
            vomma: 0.0,
            speed: 0.0,
            zomma: 0.0,
            colour: 0.0,
        });
    }
    let d = (forward - strike) / sd;
    let n = pdf(d);
    // As QuantLib's `bachelierBlackFormula`: D (sd n(h) + d N(h)), d = w (F - K).
    let price = discount * (sd * n + w * (forward - strike) * cdf(w * d));
    let delta = match right {
        Right::Call => discount * cdf(d),
        Right::Put => discount * (cdf(d) - 1.0),
    };
    let gamma = discount * n / sd;
    let vega = discount * t.sqrt() * n;
    let theta = rate * price - discount * vol * n / (2.0 * t.sqrt());
    Ok(Greeks {
        price,
        delta,
        gamma,
        vega,
        theta,
        theta_per_day: theta / 365.0,
        rho: -t * price,
        dividend_rho: 0.0,
        vanna: -discount * n * d / vol,
        charm: rate * delta + discount * n * d / (2.0 * t),
        vomma: vega * d * d / vol,
        speed: -discount * d * n / (sd * sd),
        zomma: discount * n * (d * d - 1.0) / (vol * sd),
        colour: rate * gamma - gamma * (d * d - 1.0) / (2.0 * t),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(right: Right) -> BlackInputs {
        BlackInputs {
            right,
            spot: 100.0,
            strike: 110.0,
            t: 0.75,
            rate: 0.04,
            dividend: 0.015,
            vol: 0.3,
        }
    }

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-3)
    }

    #[test]
    fn put_call_parity() {
        let c = bsm(&inputs(Right::Call)).unwrap();
        let p = bsm(&inputs(Right::Put)).unwrap();
        let i = inputs(Right::Call);
        let parity = i.spot * (-i.dividend * i.t).exp() - i.strike * (-i.rate * i.t).exp();
        assert!((c.price - p.price - parity).abs() < 1e-12);
    }

    /// Every Greek against a central difference of the price or of a lower Greek.
    #[test]
    fn greeks_match_finite_differences() {
        for right in [Right::Call, Right::Put] {
            let base = inputs(right);
            let g = bsm(&base).unwrap();
            let at = |f: &dyn Fn(&mut BlackInputs)| {
                let mut i = base;
                f(&mut i);
                bsm(&i).unwrap()
            };
            let h = 1e-4;
            let up = at(&|i| i.spot += h);
            let dn = at(&|i| i.spot -= h);
            assert!(rel(g.delta, (up.price - dn.price) / (2.0 * h)) < 1e-6);
            assert!(rel(g.gamma, (up.delta - dn.delta) / (2.0 * h)) < 1e-6);
            assert!(rel(g.speed, (up.gamma - dn.gamma) / (2.0 * h)) < 1e-5);
            let up = at(&|i| i.vol += h);
            let dn = at(&|i| i.vol -= h);
            assert!(rel(g.vega, (up.price - dn.price) / (2.0 * h)) < 1e-6);
            assert!(rel(g.vanna, (up.delta - dn.delta) / (2.0 * h)) < 1e-5);
            assert!(rel(g.vomma, (up.vega - dn.vega) / (2.0 * h)) < 1e-5);
            assert!(rel(g.zomma, (up.gamma - dn.gamma) / (2.0 * h)) < 1e-5);
            // Calendar time passing = t falling.
            let up = at(&|i| i.t -= h);
            let dn = at(&|i| i.t += h);
            assert!(rel(g.theta, (up.price - dn.price) / (2.0 * h)) < 1e-6);
            assert!(rel(g.charm, (up.delta - dn.delta) / (2.0 * h)) < 1e-5);
            assert!(rel(g.colour, (up.gamma - dn.gamma) / (2.0 * h)) < 1e-5);
            let up = at(&|i| i.rate += h);
            let dn = at(&|i| i.rate -= h);
            assert!(rel(g.rho, (up.price - dn.price) / (2.0 * h)) < 1e-6);
            let up = at(&|i| i.dividend += h);
            let dn = at(&|i| i.dividend -= h);
            assert!(rel(g.dividend_rho, (up.price - dn.price) / (2.0 * h)) < 1e-6);
        }
    }

    #[test]
    fn forward_models_match_finite_differences() {
        for (normal, vol) in [(false, 0.3), (true, 25.0)] {
            for right in [Right::Call, Right::Put] {
                let base = ForwardInputs {
                    right,
                    forward: 100.0,
                    strike: 95.0,
                    t: 0.5,
                    rate: 0.03,
                    vol,
                };
                let f = |i: &ForwardInputs| if normal { bachelier(i) } else { black76(i) }.unwrap();
                let g = f(&base);
                let at = |m: &dyn Fn(&mut ForwardInputs)| {
                    let mut i = base;
                    m(&mut i);
                    f(&i)
                };
                let h = 1e-4;
                let (up, dn) = (at(&|i| i.forward += h), at(&|i| i.forward -= h));
                assert!(rel(g.delta, (up.price - dn.price) / (2.0 * h)) < 1e-6);
                assert!(rel(g.gamma, (up.delta - dn.delta) / (2.0 * h)) < 1e-5);
                assert!(rel(g.speed, (up.gamma - dn.gamma) / (2.0 * h)) < 1e-4);
                let (up, dn) = (at(&|i| i.vol += h), at(&|i| i.vol -= h));
                assert!(rel(g.vega, (up.price - dn.price) / (2.0 * h)) < 1e-6);
                assert!(rel(g.vanna, (up.delta - dn.delta) / (2.0 * h)) < 1e-5);
                assert!(rel(g.vomma, (up.vega - dn.vega) / (2.0 * h)) < 1e-4);
                assert!(rel(g.zomma, (up.gamma - dn.gamma) / (2.0 * h)) < 1e-4);
                let (up, dn) = (at(&|i| i.t -= h), at(&|i| i.t += h));
                assert!(rel(g.theta, (up.price - dn.price) / (2.0 * h)) < 1e-6);
                assert!(rel(g.charm, (up.delta - dn.delta) / (2.0 * h)) < 1e-5);
                assert!(rel(g.colour, (up.gamma - dn.gamma) / (2.0 * h)) < 1e-4);
                let (up, dn) = (at(&|i| i.rate += h), at(&|i| i.rate -= h));
                assert!(rel(g.rho, (up.price - dn.price) / (2.0 * h)) < 1e-6);
            }
        }
    }

    #[test]
    fn bad_inputs_are_named() {
        let mut i = inputs(Right::Call);
        i.vol = 25.0;
        assert!(bsm(&i).unwrap_err().to_string().contains("0.25 for 25%"));
        i.vol = 0.2;
        i.t = 0.0;
        assert!(bsm(&i).unwrap_err().to_string().contains("t (years"));
        i.t = 1.0;
        i.spot = f64::NAN;
        assert!(bsm(&i).unwrap_err().to_string().contains("spot"));
    }
}
