//! American exercise: Barone-Adesi-Whaley (1987), Bjerksund-Stensland
//! (2002) and a Cox-Ross-Rubinstein binomial tree, each computed the way
//! QuantLib 1.44's engine of the same name computes it, so prices agree
//! with `BaroneAdesiWhaleyApproximationEngine`,
//! `BjerksundStenslandApproximationEngine` and
//! `BinomialVanillaEngine<CoxRossRubinstein>` to 1e-8 or better.
//!
//! Greeks: the tree gives delta and gamma from its own nodes and theta from
//! the Black-Scholes equation, as QuantLib does; every other Greek (and all
//! of them for the two approximations) comes from the central finite
//! differences in [`FD_BUMPS`].

use crate::chain::Right;
use crate::error::PricingError;
use crate::european::{BlackInputs, Greeks, bsm_price};
use crate::normal::{cdf, pdf};

/// Bumps of the finite-difference Greeks, stated in outputs.
#[derive(Debug, Clone, Copy)]
pub struct Bumps {
    /// Relative spot bump (delta, gamma, speed, and the spot leg of vanna).
    pub spot_rel: f64,
    /// Absolute volatility bump.
    pub vol: f64,
    /// Time bump in years (theta, charm, colour): one calendar day.
    pub t: f64,
    /// Rate and dividend-yield bump.
    pub rate: f64,
}

pub const FD_BUMPS: Bumps = Bumps {
    spot_rel: 1e-3,
    vol: 1e-3,
    t: 1.0 / 365.0,
    rate: 1e-4,
};

/// How the finite differences are taken, in words for outputs.
pub const FD_METHOD: &str = "central differences of the model price: spot +-0.1% (delta, gamma, speed), vol +-0.001 (vega, vomma; vanna and zomma with the spot bumps), time +-1 calendar day (theta, charm, colour; one-sided when less than 2 days remain), rate and dividend yield +-1 bp (rho, dividend rho; one-sided where one side leaves the model's domain)";

/// QuantLib's `close(x, y, n)`: equal within n ulps of both magnitudes.
fn close_n(x: f64, y: f64, n: f64) -> bool {
    if x == y {
        return true;
    }
    let diff = (x - y).abs();
    let tolerance = n * f64::EPSILON;
    if x == 0.0 || y == 0.0 {
        return diff < tolerance * tolerance;
    }
    diff <= tolerance * x.abs() && diff <= tolerance * y.abs()
}

/// QuantLib's `blackFormula(type, strike, forward, stdDev, discount)`.
pub fn black_formula(right: Right, strike: f64, forward: f64, std_dev: f64, discount: f64) -> f64 {
    let w = right.sign();
    if std_dev == 0.0 {
        return ((forward - strike) * w).max(0.0) * discount;
    }
    if strike == 0.0 {
        return if right == Right::Call {
            forward * discount
        } else {
            0.0
        };
    }
    let d1 = (forward / strike).ln() / std_dev + 0.5 * std_dev;
    let d2 = d1 - std_dev;
    let result = discount * w * (forward * cdf(w * d1) - strike * cdf(w * d2));
    result.max(0.0)
}

// ---------------------------------------------------------------- BAW

/// The parts of a Barone-Adesi-Whaley price that do not depend on the spot.
#[derive(Debug, Clone, Copy)]
pub struct Baw {
    right: Right,
    strike: f64,
    t: f64,
    rate: f64,
    dividend: f64,
    vol: f64,
    /// The critical price; `None` when early exercise is never optimal
    /// (a call without dividends), so the price is European.
    critical: Option<f64>,
    /// Variance below machine epsilon: max(European, intrinsic).
    vanishing: bool,
    q_exp: f64,
    a: f64,
}

/// Tolerance of QuantLib's critical-price iteration (relative to the strike).
const BAW_TOLERANCE: f64 = 1e-6;
const MAX_ITERATIONS: usize = 1_000;

impl Baw {
    pub fn new(
        right: Right,
        strike: f64,
        t: f64,
        rate: f64,
        dividend: f64,
        vol: f64,
    ) -> Result<Self, PricingError> {
        BlackInputs {
            right,
            spot: strike,
            strike,
            t,
            rate,
            dividend,
            vol,
        }
        .validate()?;
        let variance = vol * vol * t;
        let dd = 1.0 / (dividend * t).exp();
        let rd = 1.0 / (rate * t).exp();
        let mut baw = Self {
            right,
            strike,
            t,
            rate,
            dividend,
            vol,
            critical: None,
            vanishing: false,
            q_exp: 0.0,
            a: 0.0,
        };
        // Early exercise never pays (QuantLib 1.44): a call with q <= 0 and
        // q <= r, a put with r <= 0 and q >= 0. The price is European.
        let never = match right {
            Right::Call => dd >= 1.0 && dd >= rd,
            Right::Put => rd >= 1.0 && dd <= 1.0,
        };
        if never {
            return Ok(baw);
        }
        if variance < f64::EPSILON {
            baw.vanishing = true;
            return Ok(baw);
        }
        if rd > 1.0 {
            return Err(PricingError::Invalid(format!(
                "Barone-Adesi-Whaley does not apply with a negative rate ({rate}) here; use the binomial or Bjerksund-Stensland model"
            )));
        }
        let sk = baw_critical_price(right, strike, rd, dd, variance)?;
        let forward_sk = sk * dd / rd;
        let sd = variance.sqrt();
        let d1 = ((forward_sk / strike).ln() + 0.5 * variance) / sd;
        let n = 2.0 * (dd / rd).ln() / variance;
        let k = if close_n(rd, 1.0, 1000.0) {
            2.0 / variance
        } else {
            -2.0 * rd.ln() / (variance * (1.0 - rd))
        };
        let root = ((n - 1.0) * (n - 1.0) + 4.0 * k).sqrt();
        let (q, a) = match right {
            Right::Call => {
                let q = (-(n - 1.0) + root) / 2.0;
                (q, (sk / q) * (1.0 - dd * cdf(d1)))
            }
            Right::Put => {
                let q = (-(n - 1.0) - root) / 2.0;
                (q, -(sk / q) * (1.0 - dd * cdf(-d1)))
            }
        };
        baw.critical = Some(sk);
        baw.q_exp = q;
        baw.a = a;
        Ok(baw)
    }

    /// The early-exercise boundary today, if early exercise can pay.
    pub fn critical_price(&self) -> Option<f64> {
        self.critical
    }

    pub fn price(&self, spot: f64) -> Result<f64, PricingError> {
        let european = bsm_price(&BlackInputs {
            right: self.right,
            spot,
            strike: self.strike,
            t: self.t,
            rate: self.rate,
            dividend: self.dividend,
            vol: self.vol,
        })?;
        let intrinsic = (self.right.sign() * (spot - self.strike)).max(0.0);
        if self.vanishing {
            return Ok(european.max(intrinsic));
        }
        let Some(sk) = self.critical else {
            return Ok(european);
        };
        Ok(match self.right {
            Right::Call if spot < sk => european + self.a * (spot / sk).powf(self.q_exp),
            Right::Call => spot - self.strike,
            Right::Put if spot > sk => european + self.a * (spot / sk).powf(self.q_exp),
            Right::Put => self.strike - spot,
        })
    }
}

/// QuantLib's `BaroneAdesiWhaleyApproximationEngine::criticalPrice`: a
/// seed from the perpetual boundary, then Newton steps until
/// |LHS - RHS| / K <= 1e-6.
fn baw_critical_price(
    right: Right,
    strike: f64,
    rd: f64,
    dd: f64,
    variance: f64,
) -> Result<f64, PricingError> {
    let sd = variance.sqrt();
    let n = 2.0 * (dd / rd).ln() / variance;
    let m = -2.0 * rd.ln() / variance;
    let bt = (dd / rd).ln();
    let mut si = match right {
        Right::Call => {
            let qu = (-(n - 1.0) + ((n - 1.0) * (n - 1.0) + 4.0 * m).sqrt()) / 2.0;
            let su = strike / (1.0 - 1.0 / qu);
            let h = -(bt + 2.0 * sd) * strike / (su - strike);
            strike + (su - strike) * (1.0 - h.exp())
        }
        Right::Put => {
            let qu = (-(n - 1.0) - ((n - 1.0) * (n - 1.0) + 4.0 * m).sqrt()) / 2.0;
            let su = strike / (1.0 - 1.0 / qu);
            let h = (bt - 2.0 * sd) * strike / (strike - su);
            let s = su + (strike - su) * h.exp();
            if s.is_finite() { s } else { su }
        }
    };
    let k = if close_n(rd, 1.0, 1000.0) {
        2.0 / variance
    } else {
        -2.0 * rd.ln() / (variance * (1.0 - rd))
    };
    let q = match right {
        Right::Call => (-(n - 1.0) + ((n - 1.0) * (n - 1.0) + 4.0 * k).sqrt()) / 2.0,
        Right::Put => (-(n - 1.0) - ((n - 1.0) * (n - 1.0) + 4.0 * k).sqrt()) / 2.0,
    };
    let step = |si: f64| {
        let forward_si = si * dd / rd;
        if !(forward_si > 0.0 && forward_si.is_finite()) {
            return None;
        }
        let d1 = ((forward_si / strike).ln() + 0.5 * variance) / sd;
        let temp = black_formula(right, strike, forward_si, sd, 1.0) * rd;
        match right {
            Right::Call => {
                let lhs = si - strike;
                let rhs = temp + (1.0 - dd * cdf(d1)) * si / q;
                let bi = dd * cdf(d1) * (1.0 - 1.0 / q) + (1.0 - dd * pdf(d1) / sd) / q;
                Some((lhs, rhs, bi))
            }
            Right::Put => {
                let lhs = strike - si;
                let rhs = temp - (1.0 - dd * cdf(-d1)) * si / q;
                let bi = -dd * cdf(-d1) * (1.0 - 1.0 / q) - (1.0 + dd * pdf(-d1) / sd) / q;
                Some((lhs, rhs, bi))
            }
        }
    };
    let diverged = || {
        PricingError::NoConvergence(format!(
            "the Barone-Adesi-Whaley critical price diverges here (strike {strike}, total variance {variance:.3e}); use the binomial or Bjerksund-Stensland model"
        ))
    };
    let (mut lhs, mut rhs, mut bi) = step(si).ok_or_else(diverged)?;
    let mut iterations = 0;
    while (lhs - rhs).abs() / strike > BAW_TOLERANCE {
        iterations += 1;
        if iterations > MAX_ITERATIONS {
            return Err(diverged());
        }
        si = match right {
            Right::Call => (strike + rhs - bi * si) / (1.0 - bi),
            Right::Put => (strike - rhs + bi * si) / (1.0 + bi),
        };
        (lhs, rhs, bi) = step(si).ok_or_else(diverged)?;
    }
    if !(lhs - rhs).is_finite() {
        return Err(diverged());
    }
    Ok(si)
}

/// Barone-Adesi-Whaley American price.
pub fn baw_price(inputs: &BlackInputs) -> Result<f64, PricingError> {
    inputs.validate()?;
    Baw::new(
        inputs.right,
        inputs.strike,
        inputs.t,
        inputs.rate,
        inputs.dividend,
        inputs.vol,
    )?
    .price(inputs.spot)
}

// ---------------------------------------------------------------- CRR

/// Cox-Ross-Rubinstein tree result: QuantLib's value, delta, gamma, theta.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TreeResult {
    pub price: f64,
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
}

/// Most tree steps accepted.
pub const MAX_STEPS: usize = 20_000;

/// QuantLib's `BinomialVanillaEngine<CoxRossRubinstein>` with `steps` time
/// steps: ln-spot jumps of vol sqrt(dt), up probability
/// 1/2 + (r - q - vol^2/2) sqrt(dt) / (2 vol), discount exp(-r dt) per step,
/// exercise checked at every node including today's for American options;
/// delta and gamma from the nodes at steps 1 and 2, theta from the
/// Black-Scholes equation.
pub fn crr(inputs: &BlackInputs, american: bool, steps: usize) -> Result<TreeResult, PricingError> {
    inputs.validate()?;
    if !(2..=MAX_STEPS).contains(&steps) {
        return Err(PricingError::Invalid(format!(
            "steps must be 2 to {MAX_STEPS}; got {steps}"
        )));
    }
    let BlackInputs {
        right,
        spot,
        strike,
        t,
        rate,
        dividend,
        vol,
    } = *inputs;
    if vol * t.sqrt() < 1e-10 {
        return Err(PricingError::Invalid(
            "the binomial tree needs a volatility above 0 (use a European or approximation model for vol 0)".into(),
        ));
    }
    // QuantLib rebuilds flat curves at the zero rates r~ = ln(1 / P(T)) / T
    // and takes the drift from their forward rates over [0, 1e-4].
    let zero = |x: f64, t: f64| {
        let compound = 1.0 / (1.0 / (x * t).exp());
        if compound == 1.0 {
            0.0
        } else {
            compound.ln() / t
        }
    };
    let (r_tilde, q_tilde) = (zero(rate, t), zero(dividend, t));
    let (f_r, f_q) = (zero(r_tilde, 1e-4), zero(q_tilde, 1e-4));
    let dt = t / steps as f64;
    let dx = (vol * vol * dt).sqrt();
    let drift_per_step = (f_r - f_q - 0.5 * vol * vol) * dt;
    let pu = 0.5 + 0.5 * drift_per_step / dx;
    let pd = 1.0 - pu;
    if !(0.0..=1.0).contains(&pu) {
        return Err(PricingError::Invalid(format!(
            "the tree's up probability is {pu:.4}, outside [0, 1]: use more steps"
        )));
    }
    let discount = (-r_tilde * dt).exp();
    let w = right.sign();
    let underlying = |i: usize, j: usize| spot * ((2.0 * j as f64 - i as f64) * dx).exp();
    let payoff = |s: f64| (w * (s - strike)).max(0.0);
    let mut values: Vec<f64> = (0..=steps).map(|j| payoff(underlying(steps, j))).collect();
    let mut at2 = [0.0; 3];
    if steps == 2 {
        at2.copy_from_slice(&values);
    }
    let mut at1 = [0.0; 2];
    for i in (0..steps).rev() {
        for j in 0..=i {
            let (down, up) = match (values.get(j), values.get(j + 1)) {
                (Some(d), Some(u)) => (*d, *u),
                _ => return Err(PricingError::Invalid("tree index out of range".into())),
            };
            let mut v = (pd * down + pu * up) * discount;
            if american {
                v = v.max(payoff(underlying(i, j)));
            }
            if let Some(slot) = values.get_mut(j) {
                *slot = v;
            }
        }
        values.truncate(i + 1);
        if i == 2 {
            at2.copy_from_slice(&values);
        } else if i == 1 {
            at1.copy_from_slice(&values);
        }
    }
    let price = values.first().copied().unwrap_or(f64::NAN);
    let (s2u, s2m, s2d) = (underlying(2, 2), underlying(2, 1), underlying(2, 0));
    let [p2d, p2m, p2u] = at2;
    let delta2u = (p2u - p2m) / (s2u - s2m);
    let delta2d = (p2m - p2d) / (s2m - s2d);
    let gamma = (delta2u - delta2d) / ((s2u - s2d) / 2.0);
    let [p1d, p1u] = at1;
    let delta = (p1u - p1d) / (underlying(1, 1) - underlying(1, 0));
    let (r0, q0) = (zero(rate, 1e-4), zero(dividend, 1e-4));
    let theta = r0 * price - (r0 - q0) * spot * delta - 0.5 * vol * vol * spot * spot * gamma;
    Ok(TreeResult {
        price,
        delta,
        gamma,
        theta,
    })
}

// ------------------------------------------------- finite-difference Greeks

/// Price and Greeks of `price` by the central differences of [`FD_BUMPS`].
/// `price(inputs)` must be defined around `inputs`.
pub fn fd_greeks(
    inputs: &BlackInputs,
    price: &dyn Fn(&BlackInputs) -> Result<f64, PricingError>,
) -> Result<Greeks, PricingError> {
    inputs.validate()?;
    let b = FD_BUMPS;
    let at = |f: &dyn Fn(&mut BlackInputs)| {
        let mut i = *inputs;
        f(&mut i);
        price(&i)
    };
    let p0 = price(inputs)?;
    let h = inputs.spot * b.spot_rel;
    let (pu, pd) = (at(&|i| i.spot += h)?, at(&|i| i.spot -= h)?);
    let (puu, pdd) = (at(&|i| i.spot += 2.0 * h)?, at(&|i| i.spot -= 2.0 * h)?);
    let delta = (pu - pd) / (2.0 * h);
    let gamma = (pu - 2.0 * p0 + pd) / (h * h);
    let speed = (puu - 2.0 * pu + 2.0 * pd - pdd) / (2.0 * h * h * h);
    let k = b.vol.min(inputs.vol * 0.5).max(1e-6);
    let (pv_u, pv_d) = (at(&|i| i.vol += k)?, at(&|i| i.vol -= k)?);
    let vega = (pv_u - pv_d) / (2.0 * k);
    let vomma = (pv_u - 2.0 * p0 + pv_d) / (k * k);
    let cross = |ds: f64, dv: f64| {
        at(&|i| {
            i.spot += ds;
            i.vol += dv;
        })
    };
    let (puu_v, pud_v, pdu_v, pdd_v) = (cross(h, k)?, cross(h, -k)?, cross(-h, k)?, cross(-h, -k)?);
    let vanna = (puu_v - pud_v - pdu_v + pdd_v) / (4.0 * h * k);
    // d gamma / d vol: gamma at vol +- k.
    let gamma_at = |dv: f64| -> Result<f64, PricingError> {
        Ok((cross(h, dv)? - 2.0 * at(&|i| i.vol += dv)? + cross(-h, dv)?) / (h * h))
    };
    let zomma = (gamma_at(k)? - gamma_at(-k)?) / (2.0 * k);
    // Time passing: t falls.
    let dt = b.t;
    let two_sided = inputs.t > 2.0 * dt;
    let shift = |sign: f64, ds: f64| {
        at(&|i| {
            i.t -= sign * dt;
            i.spot += ds;
        })
    };
    let (theta, charm, colour) = if two_sided {
        let theta = (shift(1.0, 0.0)? - shift(-1.0, 0.0)?) / (2.0 * dt);
        let delta_at = |sign: f64| -> Result<f64, PricingError> {
            Ok((shift(sign, h)? - shift(sign, -h)?) / (2.0 * h))
        };
        let gamma_t = |sign: f64| -> Result<f64, PricingError> {
            Ok((shift(sign, h)? - 2.0 * shift(sign, 0.0)? + shift(sign, -h)?) / (h * h))
        };
        (
            theta,
            (delta_at(1.0)? - delta_at(-1.0)?) / (2.0 * dt),
            (gamma_t(1.0)? - gamma_t(-1.0)?) / (2.0 * dt),
        )
    } else {
        // Less than two days left: step back in time (t grows) only.
        let back = |ds: f64| shift(-1.0, ds);
        let theta = (p0 - back(0.0)?) / dt;
        let delta_back = (back(h)? - back(-h)?) / (2.0 * h);
        let gamma_back = (back(h)? - 2.0 * back(0.0)? + back(-h)?) / (h * h);
        (theta, (delta - delta_back) / dt, (gamma - gamma_back) / dt)
    };
    let r = b.rate;
    // One-sided where one side leaves the model's domain (a bump across a
    // zero rate into a case the model does not price).
    let slope = |up: Result<f64, PricingError>, down: Result<f64, PricingError>| match (up, down) {
        (Ok(u), Ok(d)) => Ok((u - d) / (2.0 * r)),
        (Ok(u), Err(_)) => Ok((u - p0) / r),
        (Err(_), Ok(d)) => Ok((p0 - d) / r),
        (Err(e), Err(_)) => Err(e),
    };
    let rho = slope(at(&|i| i.rate += r), at(&|i| i.rate -= r))?;
    let dividend_rho = slope(at(&|i| i.dividend += r), at(&|i| i.dividend -= r))?;
    Ok(Greeks {
        price: p0,
        delta,
        gamma,
        vega,
        theta,
        theta_per_day: theta / 365.0,
        rho,
        dividend_rho,
        vanna,
        charm,
        vomma,
        speed,
        zomma,
        colour,
    })
}

// ---------------------------------------------------- Bjerksund-Stensland

/// Bjerksund-Stensland's phi, QuantLib's form (without the S^gamma factor):
/// exp(lambda) [N(d) - (I/S)^kappa N(d - 2 ln(I/S) / sqrt(v))].
fn bjs_phi(s: f64, gamma: f64, h: f64, i: f64, rt: f64, bt: f64, v: f64) -> f64 {
    let sd = v.sqrt();
    let lambda = -rt + gamma * bt + 0.5 * gamma * (gamma - 1.0) * v;
    let d = -((s / h).ln() + (bt + (gamma - 0.5) * v)) / sd;
    let kappa = 2.0 * bt / v + (2.0 * gamma - 1.0);
    lambda.exp() * (cdf(d) - (i / s).powf(kappa) * cdf(d - 2.0 * (i / s).ln() / sd))
}

/// The transformed inputs: a put is priced as a call with spot and strike
/// swapped and rate and dividend yield swapped (McDonald-Schroder).
struct CallView {
    s: f64,
    x: f64,
    dr: f64,
    dq: f64,
    v: f64,
}

fn call_view(inputs: &BlackInputs) -> CallView {
    let v = inputs.vol * inputs.vol * inputs.t;
    let dr = 1.0 / (inputs.rate * inputs.t).exp();
    let dq = 1.0 / (inputs.dividend * inputs.t).exp();
    match inputs.right {
        Right::Call => CallView {
            s: inputs.spot,
            x: inputs.strike,
            dr,
            dq,
            v,
        },
        Right::Put => CallView {
            s: inputs.strike,
            x: inputs.spot,
            dr: dq,
            dq: dr,
            v,
        },
    }
}

/// The European call of the transformed inputs, as QuantLib's engine
/// computes its fallback.
fn european_call(c: &CallView) -> f64 {
    let forward = c.s * c.dq / c.dr;
    crate::european::black_call_value(forward, c.x, c.v.sqrt(), c.dr)
}

/// Bjerksund-Stensland (1993) American price: one flat exercise boundary,
/// QuantLib's `BjerksundStenslandApproximationEngine`.
pub fn bjs1993_price(inputs: &BlackInputs) -> Result<f64, PricingError> {
    inputs.validate()?;
    let c = call_view(inputs);
    if c.dq > 1.0 && c.dr > c.dq {
        return Err(PricingError::Invalid(
            "Bjerksund-Stensland does not price this double-boundary case (rate < dividend yield < 0 for the call, or its mirror for the put); use the binomial model".into(),
        ));
    }
    let european = european_call(&c);
    if c.dq >= 1.0 && c.dq >= c.dr {
        return Ok(european);
    }
    let CallView { s, x, dr, dq, v } = c;
    let bt = (dq / dr).ln();
    let rt = (1.0 / dr).ln();
    let beta = (0.5 - bt / v) + ((bt / v - 0.5) * (bt / v - 0.5) + 2.0 * rt / v).sqrt();
    let b_inf = beta / (beta - 1.0) * x;
    let b0 = if bt == rt {
        x
    } else {
        x.max(rt / (rt - bt) * x)
    };
    let ht = (-(bt + 2.0 * v.sqrt())) * b0 / (b_inf - b0);
    let i = b0 + (b_inf - b0) * (1.0 - ht.exp());
    let value = if s >= i {
        (s - x).max(0.0)
    } else {
        let fwd = s * dq / dr;
        let q_hat = (i / fwd).ln() / v.sqrt();
        if q_hat > 12.5 {
            european
        } else {
            let phi = |gamma: f64, h: f64| bjs_phi(s, gamma, h, i, rt, bt, v);
            (i - x) * (s / i).powf(beta) * (1.0 - phi(beta, i)) + s * phi(1.0, i)
                - s * phi(1.0, x)
                - x * phi(0.0, i)
                + x * phi(0.0, x)
        }
    };
    // Never below the European value (also in the exercise region).
    let value = if value < european { european } else { value };
    if !value.is_finite() {
        return Err(PricingError::NoConvergence(
            "Bjerksund-Stensland is numerically unstable here (its boundary exponent is within rounding of 1); use the binomial model".into(),
        ));
    }
    if value < (s - x) * (1.0 + 10.0 * f64::EPSILON) {
        return Ok((s - x).max(0.0));
    }
    Ok(value)
}

/// The generalised phi of Bjerksund-Stensland with the S^gamma factor, over
/// time `t` (years), cost of carry `b`, rate `r`.
#[allow(clippy::too_many_arguments)]
fn phi2002(s: f64, t: f64, gamma: f64, h: f64, i: f64, r: f64, b: f64, vol: f64) -> f64 {
    let v2 = vol * vol;
    let sd = vol * t.sqrt();
    let lambda = (-r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2) * t;
    let d = -((s / h).ln() + (b + (gamma - 0.5) * v2) * t) / sd;
    let kappa = 2.0 * b / v2 + (2.0 * gamma - 1.0);
    lambda.exp() * s.powf(gamma) * (cdf(d) - (i / s).powf(kappa) * cdf(d - 2.0 * (i / s).ln() / sd))
}

/// Bjerksund-Stensland 2002's psi: the two-period term, with the bivariate
/// normal.
#[allow(clippy::too_many_arguments)]
fn psi2002(
    s: f64,
    t2: f64,
    gamma: f64,
    h: f64,
    i2: f64,
    i1: f64,
    t1: f64,
    r: f64,
    b: f64,
    vol: f64,
) -> f64 {
    let v2 = vol * vol;
    let mu = b + (gamma - 0.5) * v2;
    let (sd1, sd2) = (vol * t1.sqrt(), vol * t2.sqrt());
    let e1 = ((s / i1).ln() + mu * t1) / sd1;
    let e2 = ((i2 * i2 / (s * i1)).ln() + mu * t1) / sd1;
    let e3 = ((s / i1).ln() - mu * t1) / sd1;
    let e4 = ((i2 * i2 / (s * i1)).ln() - mu * t1) / sd1;
    let f1 = ((s / h).ln() + mu * t2) / sd2;
    let f2 = ((i2 * i2 / (s * h)).ln() + mu * t2) / sd2;
    let f3 = ((i1 * i1 / (s * h)).ln() + mu * t2) / sd2;
    let f4 = ((s * i1 * i1 / (h * i2 * i2)).ln() + mu * t2) / sd2;
    let rho = (t1 / t2).sqrt();
    let lambda = -r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2;
    let kappa = 2.0 * b / v2 + (2.0 * gamma - 1.0);
    let m = crate::normal::bivariate_cdf;
    (lambda * t2).exp()
        * s.powf(gamma)
        * (m(-e1, -f1, rho)
            - (i2 / s).powf(kappa) * m(-e2, -f2, rho)
            - (i1 / s).powf(kappa) * m(-e3, -f3, -rho)
            + (i1 / i2).powf(kappa) * m(-e4, -f4, -rho))
}

/// Bjerksund-Stensland (2002) American price: a two-step exercise boundary
/// (flat over [0, t1] and [t1, T], t1 = (sqrt(5) - 1) / 2 T, as the paper
/// recommends), with the bivariate normal; puts through the put-call
/// transformation. Tighter than the 1993 boundary (its price is never
/// lower), checked against a 5,000-step tree in the tests.
pub fn bjs_price(inputs: &BlackInputs) -> Result<f64, PricingError> {
    inputs.validate()?;
    // Call inputs: S, X, r, b = r - q (a put swaps S and X, r and q).
    let (s, x, r, q) = match inputs.right {
        Right::Call => (inputs.spot, inputs.strike, inputs.rate, inputs.dividend),
        Right::Put => (inputs.strike, inputs.spot, inputs.dividend, inputs.rate),
    };
    let (t, vol) = (inputs.t, inputs.vol);
    let b = r - q;
    let european = european_call(&CallView {
        s,
        x,
        dr: 1.0 / (r * t).exp(),
        dq: 1.0 / (q * t).exp(),
        v: vol * vol * t,
    });
    if q <= 0.0 && q <= r {
        return Ok(european);
    }
    if r < 0.0 && r < q && q < 0.0 {
        return Err(PricingError::Invalid(
            "Bjerksund-Stensland does not price this double-boundary case; use the binomial model"
                .into(),
        ));
    }
    if vol * t.sqrt() < 1e-8 {
        return Ok(european.max(s - x));
    }
    let v2 = vol * vol;
    let beta = (0.5 - b / v2) + ((b / v2 - 0.5).powi(2) + 2.0 * r / v2).sqrt();
    let b_inf = beta / (beta - 1.0) * x;
    let b0 = if r - b <= 0.0 {
        x
    } else {
        x.max(r / (r - b) * x)
    };
    let t1 = 0.5 * (5.0_f64.sqrt() - 1.0) * t;
    let h = |tau: f64| -(b * tau + 2.0 * vol * tau.sqrt()) * (x * x) / ((b_inf - b0) * b0);
    let i1 = b0 + (b_inf - b0) * (1.0 - h(t1).exp());
    let i2 = b0 + (b_inf - b0) * (1.0 - h(t).exp());
    if s >= i2 {
        return Ok(s - x);
    }
    let alpha1 = (i1 - x) * i1.powf(-beta);
    let alpha2 = (i2 - x) * i2.powf(-beta);
    let phi = |tau: f64, gamma: f64, hh: f64, ii: f64| phi2002(s, tau, gamma, hh, ii, r, b, vol);
    let psi = |gamma: f64, hh: f64| psi2002(s, t, gamma, hh, i2, i1, t1, r, b, vol);
    let value = alpha2 * s.powf(beta) - alpha2 * phi(t1, beta, i2, i2) + phi(t1, 1.0, i2, i2)
        - phi(t1, 1.0, i1, i2)
        - x * phi(t1, 0.0, i2, i2)
        + x * phi(t1, 0.0, i1, i2)
        + alpha1 * phi(t1, beta, i1, i2)
        - alpha1 * psi(beta, i1)
        + psi(1.0, i1)
        - psi(1.0, x)
        - x * psi(0.0, i1)
        + x * psi(0.0, x);
    if !value.is_finite() {
        return Err(PricingError::NoConvergence(
            "Bjerksund-Stensland 2002 is numerically unstable here; use the binomial model".into(),
        ));
    }
    Ok(value.max(european).max(s - x))
}
