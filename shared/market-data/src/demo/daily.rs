//! The daily model: one session at a time, from a fixed origin, so a day's
//! bar depends only on the seed and the days before it (never on `end`).

use chrono::NaiveDate;

use super::rng::Rng;
use super::{Market, Spec};

/// GARCH(1,1) reaction to the last shock and persistence; alpha + beta close
/// to 1 gives the long, slowly decaying volatility clusters real prices show.
const GARCH_ALPHA: f64 = 0.07;
const GARCH_BETA: f64 = 0.90;
/// Ceiling on the conditional variance as a multiple of its long-run level
/// (2.5x the volatility): enough for a crash, not for a runaway path.
const MAX_VARIANCE_MULTIPLE: f64 = 6.25;
/// Share of a stock's daily variance that arrives overnight (as the gap).
const OVERNIGHT_SHARE: f64 = 0.2;
/// Chance per session of a news/earnings gap on top of the normal overnight move.
const JUMP_CHANCE: f64 = 0.02;
/// Mean time in a regime before switching, in sessions (about a quarter).
const REGIME_SESSIONS: f64 = 65.0;
/// Pull of the log price back to the symbol's anchor level per session, so
/// years of simulation keep prices plausible for the ticker. It grows with
/// the cube of the log distance: weak near the anchor, so trends run, and
/// stronger than any regime's drift beyond about 1.6x or 1/1.6 of it.
const ANCHOR_PULL: f64 = 1.0 / 750.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Regime {
    Rally,
    Selloff,
    Range,
}

impl Regime {
    /// Annual drift as a multiple of the symbol's annual volatility.
    fn drift(self) -> f64 {
        match self {
            Self::Rally => 0.8,
            Self::Selloff => -0.8,
            Self::Range => 0.0,
        }
    }

    /// Markets fall faster and noisier than they rise.
    fn vol_multiplier(self) -> f64 {
        match self {
            Self::Rally => 0.85,
            Self::Selloff => 1.3,
            Self::Range => 0.9,
        }
    }
}

/// One simulated session, rounded to cents, ready to become a daily bar or to
/// be filled in with intraday bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Session {
    pub date: NaiveDate,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    /// Variance of the log price from open to close, which sizes intraday moves.
    pub session_variance: f64,
}

pub(crate) fn simulate_sessions(spec: &Spec, rng: &mut Rng, dates: &[NaiveDate]) -> Vec<Session> {
    let periods = spec.market.sessions_per_year();
    // Regime multipliers (and, for stocks, jumps) add to the realised
    // volatility; these factors, measured over 10,000 sessions, take it back
    // off so a symbol's realised volatility is close to its `annual_vol`.
    let (calibration, overnight_share) = match spec.market {
        Market::Equity => (0.845, OVERNIGHT_SHARE),
        // Trades through the night: nothing to gap over.
        Market::Crypto => (0.96, 0.0),
    };
    let base_var = (calibration * spec.annual_vol / periods.sqrt()).powi(2);
    let anchor = spec.level.ln();

    let mut regime = Regime::Range;
    let mut variance = base_var;
    let mut prev_close = spec.level;
    let mut out = Vec::with_capacity(dates.len());
    for &date in dates {
        if rng.chance(1.0 / REGIME_SESSIONS) {
            regime = match (regime, rng.chance(0.5)) {
                (Regime::Range, true) | (Regime::Selloff, false) => Regime::Rally,
                (Regime::Range, false) | (Regime::Rally, true) => Regime::Selloff,
                (Regime::Rally, false) | (Regime::Selloff, true) => Regime::Range,
            };
        }
        let long_run_var = base_var * regime.vol_multiplier().powi(2);
        let distance = prev_close.ln() - anchor;
        let drift = regime.drift() * spec.annual_vol / periods
            - ANCHOR_PULL * (distance + 8.0 * distance.powi(3));

        let mut overnight = (overnight_share * variance).sqrt() * rng.fat_tailed();
        if spec.market == Market::Equity && rng.chance(JUMP_CHANCE) {
            let size = (0.015 + 0.045 * rng.uniform()) * spec.annual_vol / 0.30;
            overnight += if rng.chance(0.5) { size } else { -size };
        }
        let session_variance = (1.0 - overnight_share) * variance;
        let intraday = session_variance.sqrt() * rng.fat_tailed();

        let open = cents(prev_close * overnight.exp());
        let close = cents(open * (drift + intraday).exp());
        // The high and low of a Brownian bridge from the open to the close,
        // drawn exactly from its law: P(max > m) = exp(-2 m (m - c) / v).
        let c = (close / open).ln();
        let up = (c + (c * c - 2.0 * session_variance * rng.uniform().ln()).sqrt()) / 2.0;
        let down = (c - (c * c - 2.0 * session_variance * rng.uniform().ln()).sqrt()) / 2.0;
        let high = cents(open * up.exp()).max(open).max(close);
        let low = cents(open * down.exp()).min(open).min(close).max(0.01);

        // Volume grows with the size of the move and with the volatility regime.
        let shock = overnight + intraday;
        let move_factor = 0.6 + 0.5 * shock.abs() / long_run_var.sqrt();
        let volume = (spec.daily_volume * move_factor * (0.25 * rng.normal()).exp()).round();

        out.push(Session {
            date,
            open,
            high,
            low,
            close,
            volume: volume.max(1.0),
            session_variance,
        });

        let omega = long_run_var * (1.0 - GARCH_ALPHA - GARCH_BETA);
        variance = (omega + GARCH_ALPHA * shock * shock + GARCH_BETA * variance)
            .min(MAX_VARIANCE_MULTIPLE * long_run_var);
        prev_close = close;
    }
    out
}

/// Prices are quoted in cents; rounding is monotone, so it never breaks
/// `low <= open, close <= high`.
pub(crate) fn cents(price: f64) -> f64 {
    ((price * 100.0).round() / 100.0).max(0.01)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::SPECS;

    fn long_run(spec: &Spec, seed: u64, sessions: usize) -> Vec<Session> {
        let start = NaiveDate::from_ymd_opt(2000, 1, 3).unwrap();
        let dates: Vec<NaiveDate> = start.iter_days().take(sessions).collect();
        simulate_sessions(spec, &mut Rng::new(seed), &dates)
    }

    fn log_returns(sessions: &[Session]) -> Vec<f64> {
        sessions
            .windows(2)
            .map(|w| (w[1].close / w[0].close).ln())
            .collect()
    }

    fn lag1_autocorrelation(x: &[f64]) -> f64 {
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let var: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
        let cov: f64 = x.windows(2).map(|w| (w[0] - mean) * (w[1] - mean)).sum();
        cov / var
    }

    #[test]
    fn volatility_clusters_on_a_long_series() {
        for seed in 0..3 {
            let r = log_returns(&long_run(&SPECS[0], seed, 10_000));
            let abs: Vec<f64> = r.iter().map(|x| x.abs()).collect();
            let acf = lag1_autocorrelation(&abs);
            // About 0.14-0.17 with GARCH; independent shocks would give ~0 +- 0.02.
            assert!(
                acf > 0.08,
                "seed {seed}: lag-1 autocorrelation of |r| is {acf:.3}"
            );
            // Returns themselves stay close to uncorrelated, as in real markets.
            assert!(lag1_autocorrelation(&r).abs() < 0.05);
        }
    }

    #[test]
    fn realised_volatility_is_close_to_the_spec() {
        for spec in &SPECS {
            let r = log_returns(&long_run(spec, 1, 10_000));
            let mean = r.iter().sum::<f64>() / r.len() as f64;
            let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
            let annual = sd * spec.market.sessions_per_year().sqrt();
            assert!(
                (annual / spec.annual_vol - 1.0).abs() < 0.1,
                "{}: realised {annual:.3} vs {}",
                spec.ticker,
                spec.annual_vol
            );
        }
    }

    #[test]
    fn prices_stay_plausible_for_decades() {
        for spec in &SPECS {
            for s in long_run(spec, 2, 10_000) {
                assert!(
                    s.low > spec.level / 5.0 && s.high < spec.level * 5.0,
                    "{}: {s:?}",
                    spec.ticker
                );
                assert!(s.low <= s.open.min(s.close) && s.high >= s.open.max(s.close));
            }
        }
    }
}
