//! Implied volatility.
//!
//! - Black-type models (Black-Scholes-Merton through its forward, Black-76):
//!   Jäckel's "Let's Be Rational" (the `implied-vol` crate, pinned, with its
//!   `solver::Jaeckel`), on the undiscounted price.
//! - Bachelier: the same crate's implied normal volatility.
//! - American models: a bracketed solver (Brent) on the model price.
//!
//! Every input is validated and the price is checked against the
//! no-arbitrage bounds first; an error names the bound that was broken. A
//! panic inside the solver never escapes: it becomes an error.

use std::panic::{AssertUnwindSafe, catch_unwind};

use implied_vol::{DefaultSpecialFn, ImpliedBlackVolatility, ImpliedNormalVolatility, solver};

use crate::chain::Right;
use crate::error::PricingError;
use crate::european::{check_finite, check_positive, check_rate};

/// Volatilities the bracketed solver searches (0.01% to 1000%).
pub const VOL_BRACKET: (f64, f64) = (1e-4, 10.0);

fn guarded<T>(what: &str, f: impl FnOnce() -> Option<T>) -> Result<Option<T>, PricingError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| {
        PricingError::NoConvergence(format!(
            "the {what} solver failed on these inputs; check them or try another model"
        ))
    })
}

fn check_price(price: f64) -> Result<(), PricingError> {
    check_finite("price", price)?;
    if price < 0.0 {
        return Err(PricingError::Arbitrage(format!(
            "price {price} is negative: an option is worth at least 0"
        )));
    }
    Ok(())
}

/// Lower and upper no-arbitrage bounds of a European option on a forward
/// (discounted): max(w (F - K), 0) D <= price < (F for a call, K for a put) D.
fn european_bounds(
    right: Right,
    price: f64,
    forward: f64,
    strike: f64,
    discount: f64,
) -> Result<(), PricingError> {
    let intrinsic = (right.sign() * (forward - strike)).max(0.0) * discount;
    let (upper, upper_name) = match right {
        Right::Call => (
            forward * discount,
            "the discounted forward (a call is worth less than the underlying)",
        ),
        Right::Put => (
            strike * discount,
            "the discounted strike (a put is worth less than its strike)",
        ),
    };
    if price < intrinsic * (1.0 - 1e-14) {
        return Err(PricingError::Arbitrage(format!(
            "price {price} is below the lower bound {intrinsic:.10}, the discounted intrinsic value {} x discount with forward {forward} and strike {strike}: no volatility gives it",
            if right == Right::Call {
                "max(F - K, 0)"
            } else {
                "max(K - F, 0)"
            }
        )));
    }
    if price >= upper {
        return Err(PricingError::Arbitrage(format!(
            "price {price} is at or above the upper bound {upper:.10}, {upper_name}: no volatility gives it"
        )));
    }
    Ok(())
}

/// Black implied volatility of a discounted European price on a forward.
pub fn implied_black_vol(
    right: Right,
    price: f64,
    forward: f64,
    strike: f64,
    t: f64,
    discount: f64,
) -> Result<f64, PricingError> {
    check_price(price)?;
    check_positive("forward", forward)?;
    check_positive("strike", strike)?;
    check_positive("t (years to expiry)", t)?;
    check_positive("discount", discount)?;
    european_bounds(right, price, forward, strike, discount)?;
    let undiscounted = price / discount;
    let intrinsic = (right.sign() * (forward - strike)).max(0.0);
    if undiscounted <= intrinsic {
        return Ok(0.0);
    }
    let solved = guarded("Let's Be Rational", || {
        ImpliedBlackVolatility::builder()
            .option_price(undiscounted)
            .forward(forward)
            .strike(strike)
            .expiry(t)
            .is_call(right == Right::Call)
            .build()?
            .calculate_with::<solver::Jaeckel<DefaultSpecialFn>>()
    })?;
    match solved {
        Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(PricingError::NoConvergence(format!(
            "no Black volatility reproduces price {price} (forward {forward}, strike {strike}, t {t}); the price may be too close to a bound"
        ))),
    }
}

/// Black-Scholes-Merton implied volatility from a spot.
pub fn implied_bsm_vol(
    right: Right,
    price: f64,
    spot: f64,
    strike: f64,
    t: f64,
    rate: f64,
    dividend: f64,
) -> Result<f64, PricingError> {
    check_positive("spot", spot)?;
    check_rate("rate", rate)?;
    check_rate("dividend", dividend)?;
    check_positive("t (years to expiry)", t)?;
    let discount = (-rate * t).exp();
    let forward = spot * (-dividend * t).exp() / discount;
    implied_black_vol(right, price, forward, strike, t, discount)
}

/// Bachelier (normal) implied volatility, in price units per sqrt(year).
pub fn implied_normal_vol(
    right: Right,
    price: f64,
    forward: f64,
    strike: f64,
    t: f64,
    discount: f64,
) -> Result<f64, PricingError> {
    check_price(price)?;
    check_finite("forward", forward)?;
    check_finite("strike", strike)?;
    check_positive("t (years to expiry)", t)?;
    check_positive("discount", discount)?;
    let intrinsic = (right.sign() * (forward - strike)).max(0.0) * discount;
    if price < intrinsic * (1.0 - 1e-14) {
        return Err(PricingError::Arbitrage(format!(
            "price {price} is below the lower bound {intrinsic:.10}, the discounted intrinsic value: no volatility gives it"
        )));
    }
    if price <= intrinsic {
        return Ok(0.0);
    }
    let undiscounted = price / discount;
    let solved = guarded("implied normal volatility", || {
        ImpliedNormalVolatility::builder()
            .option_price(undiscounted)
            .forward(forward)
            .strike(strike)
            .expiry(t)
            .is_call(right == Right::Call)
            .build()?
            .calculate::<DefaultSpecialFn>()
    })?;
    match solved {
        Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(PricingError::NoConvergence(format!(
            "no normal volatility reproduces price {price} (forward {forward}, strike {strike}, t {t})"
        ))),
    }
}

/// Volatility at which `price_at(vol)` equals `target`, by Brent's method on
/// `bracket` (normally [`VOL_BRACKET`]); `bounds` are the American no-arbitrage bounds
/// (intrinsic value below, spot or strike above), checked first.
pub fn implied_vol_bracketed(
    target: f64,
    lower_bound: f64,
    upper_bound: f64,
    bracket: (f64, f64),
    price_at: &dyn Fn(f64) -> Result<f64, PricingError>,
) -> Result<f64, PricingError> {
    check_price(target)?;
    if target < lower_bound * (1.0 - 1e-14) {
        return Err(PricingError::Arbitrage(format!(
            "price {target} is below the lower bound {lower_bound:.10} (the value of exercising now, or the European lower bound): no volatility gives it"
        )));
    }
    if target >= upper_bound {
        return Err(PricingError::Arbitrage(format!(
            "price {target} is at or above the upper bound {upper_bound:.10} (a call is worth less than the spot, a put less than its strike): no volatility gives it"
        )));
    }
    let (mut a, mut b) = bracket;
    let mut fa = price_at(a)? - target;
    let mut fb = price_at(b)? - target;
    if fa >= 0.0 {
        // Even 0.01% volatility prices at or above the target.
        return Ok(if fa.abs() <= 1e-12 * target.max(1.0) {
            a
        } else {
            0.0
        });
    }
    if fb < 0.0 {
        return Err(PricingError::NoConvergence(format!(
            "price {target} needs a volatility above {b} (1000%)"
        )));
    }
    let mut c = a;
    let mut fc = fa;
    let mut d = b - a;
    let mut e = d;
    for _ in 0..200 {
        if (fb > 0.0) == (fc > 0.0) {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 1e-15;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qq = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * m * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = price_at(b)? - target;
    }
    Err(PricingError::NoConvergence(format!(
        "the implied volatility search for price {target} did not converge in 200 steps"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_the_solver_becomes_an_error() {
        let out: Result<Option<f64>, PricingError> = guarded("test", || panic!("solver bug"));
        assert!(
            matches!(out, Err(PricingError::NoConvergence(_))),
            "{out:?}"
        );
    }

    #[test]
    fn bounds_are_named() {
        // A call worth less than its discounted intrinsic value.
        let e = implied_black_vol(Right::Call, 5.0, 110.0, 100.0, 1.0, 0.97).unwrap_err();
        assert!(
            e.to_string().contains("lower bound") && e.to_string().contains("max(F - K, 0)"),
            "{e}"
        );
        // A put worth its discounted strike.
        let e = implied_black_vol(Right::Put, 97.0, 110.0, 100.0, 1.0, 0.97).unwrap_err();
        assert!(
            e.to_string().contains("upper bound") && e.to_string().contains("strike"),
            "{e}"
        );
        let e = implied_black_vol(Right::Put, -1.0, 110.0, 100.0, 1.0, 0.97).unwrap_err();
        assert!(e.to_string().contains("negative"), "{e}");
        // At intrinsic: zero volatility.
        assert_eq!(
            implied_black_vol(Right::Call, 9.7, 110.0, 100.0, 1.0, 0.97).unwrap(),
            0.0
        );
        // Bachelier round trip.
        let price = crate::european::bachelier(&crate::european::ForwardInputs {
            right: Right::Put,
            forward: 100.0,
            strike: 104.0,
            t: 0.5,
            rate: 0.02,
            vol: 12.0,
        })
        .unwrap()
        .price;
        let v = implied_normal_vol(
            Right::Put,
            price,
            100.0,
            104.0,
            0.5,
            (-0.02_f64 * 0.5).exp(),
        )
        .unwrap();
        assert!((v - 12.0).abs() < 1e-9, "{v}");
    }
}
