//! One entry point for every model: price, Greeks and implied volatility,
//! so tools choose a model by name.

use std::cell::RefCell;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::american::{self, Baw, FD_METHOD, fd_greeks};
use crate::chain::{ExerciseStyle, Right};
use crate::error::PricingError;
use crate::european::{self, BlackInputs, ForwardInputs, Greeks};
use crate::iv;

/// Pricing model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Black-Scholes-Merton, European exercise, continuous dividend yield (analytic Greeks).
    BlackScholes,
    /// Black-76 on a forward or future, European (analytic Greeks; the underlying is the forward).
    Black76,
    /// Bachelier (normal volatility in price units), European, on a forward.
    Bachelier,
    /// Barone-Adesi-Whaley quadratic approximation, American exercise.
    BaroneAdesiWhaley,
    /// Bjerksund-Stensland 2002, American exercise.
    BjerksundStensland,
    /// Cox-Ross-Rubinstein binomial tree (American or European), `steps` time steps.
    Binomial,
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::BlackScholes => "black_scholes",
            Model::Black76 => "black76",
            Model::Bachelier => "bachelier",
            Model::BaroneAdesiWhaley => "barone_adesi_whaley",
            Model::BjerksundStensland => "bjerksund_stensland",
            Model::Binomial => "binomial",
        }
    }

    /// The model used when none is asked for: Black-Scholes for European
    /// exercise, Barone-Adesi-Whaley for American.
    pub fn default_for(style: ExerciseStyle) -> Self {
        match style {
            ExerciseStyle::European => Model::BlackScholes,
            ExerciseStyle::American => Model::BaroneAdesiWhaley,
        }
    }

    /// Whether the model prices early exercise.
    pub fn is_american(self) -> bool {
        matches!(
            self,
            Model::BaroneAdesiWhaley | Model::BjerksundStensland | Model::Binomial
        )
    }

    /// Whether `underlying` is a forward (Black-76, Bachelier) rather than a spot.
    pub fn on_forward(self) -> bool {
        matches!(self, Model::Black76 | Model::Bachelier)
    }

    /// How this model's Greeks are computed, in words.
    pub fn greeks_method(self) -> &'static str {
        match self {
            Model::BlackScholes | Model::Black76 | Model::Bachelier => "analytic (closed form)",
            Model::Binomial => {
                "delta and gamma from the tree's nodes at steps 1 and 2, theta from the Black-Scholes equation (as QuantLib); the others by central differences of tree prices: spot +-0.1%, vol +-0.001, time +-1 calendar day, rate and dividend yield +-1 bp"
            }
            Model::BaroneAdesiWhaley | Model::BjerksundStensland => FD_METHOD,
        }
    }
}

/// Default binomial steps.
pub const DEFAULT_STEPS: usize = 200;

/// Inputs of any model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelInputs {
    pub right: Right,
    /// Spot, or the forward for Black-76 and Bachelier.
    pub underlying: f64,
    pub strike: f64,
    pub t: f64,
    pub rate: f64,
    /// Dividend yield (ignored by the forward models).
    pub dividend: f64,
    /// Black volatility, or the normal volatility for Bachelier.
    pub vol: f64,
    /// Binomial steps (others ignore it).
    pub steps: usize,
    /// Binomial only: American (true) or European exercise.
    pub american: bool,
}

impl ModelInputs {
    fn black(&self) -> BlackInputs {
        BlackInputs {
            right: self.right,
            spot: self.underlying,
            strike: self.strike,
            t: self.t,
            rate: self.rate,
            dividend: self.dividend,
            vol: self.vol,
        }
    }

    fn forward(&self) -> ForwardInputs {
        ForwardInputs {
            right: self.right,
            forward: self.underlying,
            strike: self.strike,
            t: self.t,
            rate: self.rate,
            vol: self.vol,
        }
    }
}

/// A Barone-Adesi-Whaley pricer that reuses its critical price while only
/// the spot moves (the finite-difference Greeks bump the spot most).
fn baw_cached() -> impl Fn(&BlackInputs) -> Result<f64, PricingError> {
    let cache: RefCell<Vec<([u64; 4], Baw)>> = RefCell::new(Vec::with_capacity(8));
    move |i: &BlackInputs| {
        i.validate()?;
        let key = [
            i.t.to_bits(),
            i.rate.to_bits(),
            i.dividend.to_bits(),
            i.vol.to_bits(),
        ];
        let hit = cache
            .borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, b)| *b);
        let baw = match hit {
            Some(b) => b,
            None => {
                let b = Baw::new(i.right, i.strike, i.t, i.rate, i.dividend, i.vol)?;
                let mut c = cache.borrow_mut();
                if c.len() >= 8 {
                    c.remove(0);
                }
                c.push((key, b));
                b
            }
        };
        baw.price(i.spot)
    }
}

/// Price under `model`; an error rather than a non-finite price.
pub fn price(model: Model, inputs: &ModelInputs) -> Result<f64, PricingError> {
    let p = price_unchecked(model, inputs)?;
    if p.is_finite() {
        Ok(p)
    } else {
        Err(PricingError::NoConvergence(format!(
            "{} gives no finite price for these inputs; check them or try another model",
            model.name()
        )))
    }
}

fn price_unchecked(model: Model, inputs: &ModelInputs) -> Result<f64, PricingError> {
    match model {
        Model::BlackScholes => european::bsm_price(&inputs.black()),
        Model::Black76 => Ok(european::black76(&inputs.forward())?.price),
        Model::Bachelier => Ok(european::bachelier(&inputs.forward())?.price),
        Model::BaroneAdesiWhaley => american::baw_price(&inputs.black()),
        Model::BjerksundStensland => american::bjs_price(&inputs.black()),
        Model::Binomial => Ok(american::crr(&inputs.black(), inputs.american, inputs.steps)?.price),
    }
}

/// Price and Greeks under `model` (see [`Model::greeks_method`]); an error
/// rather than a non-finite figure.
pub fn greeks(model: Model, inputs: &ModelInputs) -> Result<Greeks, PricingError> {
    greeks_unchecked(model, inputs)?.check_finite()
}

fn greeks_unchecked(model: Model, inputs: &ModelInputs) -> Result<Greeks, PricingError> {
    match model {
        Model::BlackScholes => european::bsm(&inputs.black()),
        Model::Black76 => european::black76(&inputs.forward()),
        Model::Bachelier => european::bachelier(&inputs.forward()),
        Model::BaroneAdesiWhaley => fd_greeks(&inputs.black(), &baw_cached()),
        Model::BjerksundStensland => fd_greeks(&inputs.black(), &american::bjs_price),
        Model::Binomial => {
            let (american, steps) = (inputs.american, inputs.steps);
            let tree = american::crr(&inputs.black(), american, steps)?;
            let mut g = fd_greeks(&inputs.black(), &|i| {
                Ok(american::crr(i, american, steps)?.price)
            })?;
            g.price = tree.price;
            g.delta = tree.delta;
            g.gamma = tree.gamma;
            g.theta = tree.theta;
            g.theta_per_day = tree.theta / 365.0;
            Ok(g)
        }
    }
}

/// Implied volatility of `market_price` under `model` (the inputs' `vol`
/// is ignored).
pub fn implied_vol(
    model: Model,
    inputs: &ModelInputs,
    market_price: f64,
) -> Result<f64, PricingError> {
    let i = *inputs;
    match model {
        Model::BlackScholes => iv::implied_bsm_vol(
            i.right,
            market_price,
            i.underlying,
            i.strike,
            i.t,
            i.rate,
            i.dividend,
        ),
        Model::Black76 => {
            european::check_rate("rate", i.rate)?;
            let discount = (-i.rate * i.t).exp();
            iv::implied_black_vol(i.right, market_price, i.underlying, i.strike, i.t, discount)
        }
        Model::Bachelier => {
            european::check_rate("rate", i.rate)?;
            let discount = (-i.rate * i.t).exp();
            iv::implied_normal_vol(i.right, market_price, i.underlying, i.strike, i.t, discount)
        }
        Model::BaroneAdesiWhaley | Model::BjerksundStensland | Model::Binomial => {
            let mut probe = i;
            probe.vol = 0.2;
            probe.black().validate()?;
            let (lower, upper) = bounds(model, &i);
            let at = |vol: f64| {
                let mut x = i;
                x.vol = vol;
                price(model, &x)
            };
            // The tree's probabilities stay in [0, 1] only above a floor
            // volatility: about |r - q| sqrt(dt).
            let floor = if model == Model::Binomial {
                let dt = i.t / i.steps.max(1) as f64;
                2.0 * (i.rate - i.dividend).abs() * dt.sqrt()
            } else {
                0.0
            };
            let bracket = (iv::VOL_BRACKET.0.max(floor), iv::VOL_BRACKET.1);
            iv::implied_vol_bracketed(market_price, lower, upper, bracket, &at)
        }
    }
}

/// Whether `model` prices these inputs with early exercise (the tree
/// follows the inputs' `american` flag; the approximations always do).
pub fn exercises_early(model: Model, inputs: &ModelInputs) -> bool {
    match model {
        Model::Binomial => inputs.american,
        m => m.is_american(),
    }
}

/// No-arbitrage bounds of a price under `model`: below, the discounted
/// intrinsic value of the forward (and, with early exercise, the value of
/// exercising now); above, the underlying (a call) or the strike (a put),
/// discounted without early exercise. For the forward models the
/// underlying is the forward.
pub fn bounds(model: Model, i: &ModelInputs) -> (f64, f64) {
    let discount = (-i.rate * i.t).exp();
    let forward = if model.on_forward() {
        i.underlying
    } else {
        i.underlying * ((i.rate - i.dividend) * i.t).exp()
    };
    let european_floor = (i.right.sign() * (forward - i.strike)).max(0.0) * discount;
    if exercises_early(model, i) {
        let intrinsic = (i.right.sign() * (i.underlying - i.strike)).max(0.0);
        let upper = match i.right {
            Right::Call => i.underlying,
            Right::Put => i.strike,
        };
        (european_floor.max(intrinsic), upper)
    } else {
        let upper = match i.right {
            Right::Call => forward * discount,
            Right::Put => i.strike * discount,
        };
        (european_floor, upper)
    }
}
