//! The risk and performance figures. Conventions (see
//! `docs/risk-conventions.md`): simple daily returns; sample statistics
//! with n - 1; annualisation by sqrt(252) (volatility, Sharpe, Sortino) and
//! by 252 (alpha); CAGR over count / 252 years; VaR and CVaR reported as
//! positive losses.

use schemars::JsonSchema;
use serde::Serialize;

/// Trading days per year.
pub const PERIODS: f64 = 252.0;

/// Why a figure cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RiskError {
    #[error("{0}")]
    Invalid(String),
}

fn invalid(m: impl Into<String>) -> RiskError {
    RiskError::Invalid(m.into())
}

/// Simple returns close[t] / close[t-1] - 1.
pub fn simple_returns(closes: &[f64]) -> Result<Vec<f64>, RiskError> {
    if closes.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
        return Err(invalid("closes must be positive finite numbers"));
    }
    Ok(closes.windows(2).map(|w| w[1] / w[0] - 1.0).collect())
}

/// Daily portfolio returns with constant weights, rebalanced daily:
/// sum_i w_i r_i,t, accumulated in asset order from 0.
pub fn portfolio_returns(assets: &[Vec<f64>], weights: &[f64]) -> Result<Vec<f64>, RiskError> {
    if assets.len() != weights.len() || assets.is_empty() {
        return Err(invalid(format!(
            "{} return series for {} weights: one series per weight",
            assets.len(),
            weights.len()
        )));
    }
    let n = assets[0].len();
    if assets.iter().any(|a| a.len() != n) {
        return Err(invalid(
            "every asset needs the same number of returns (aligned dates)",
        ));
    }
    Ok((0..n)
        .map(|t| {
            let mut s = 0.0;
            for (a, w) in assets.iter().zip(weights) {
                s += w * a[t];
            }
            s
        })
        .collect())
}

pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Two-pass sample standard deviation (n - 1).
pub fn std(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

/// Sample covariance (n - 1) of two aligned series.
pub fn covariance(x: &[f64], y: &[f64]) -> f64 {
    let (mx, my) = (mean(x), mean(y));
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / (x.len() as f64 - 1.0)
}

/// The sample covariance matrix of the assets' returns (numpy `cov`, ddof 1).
pub fn covariance_matrix(assets: &[Vec<f64>]) -> Vec<Vec<f64>> {
    assets
        .iter()
        .map(|a| assets.iter().map(|b| covariance(a, b)).collect())
        .collect()
}

/// Correlations from a covariance matrix (numpy `corrcoef`), clipped to [-1, 1].
pub fn correlation_matrix(cov: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d: Vec<f64> = (0..cov.len()).map(|i| cov[i][i].sqrt()).collect();
    cov.iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(j, c)| (c / d[i] / d[j]).clamp(-1.0, 1.0))
                .collect()
        })
        .collect()
}

/// The standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// The standard normal distribution, from erfc (accurate in both tails).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// The inverse of the standard normal distribution to machine precision:
/// Abramowitz-Stegun 26.2.23 as the seed, then Newton steps on the erfc
/// distribution until the step is below 1e-16 relative.
pub fn normal_quantile(p: f64) -> Result<f64, RiskError> {
    if !(p > 0.0 && p < 1.0) {
        return Err(invalid(format!(
            "a probability strictly between 0 and 1 is needed; got {p}"
        )));
    }
    let q = p.min(1.0 - p);
    let t = (-2.0 * q.ln()).sqrt();
    let seed = t
        - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
            / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t * t * t);
    let mut z = if p < 0.5 { -seed } else { seed };
    for _ in 0..50 {
        let step = (normal_cdf(z) - p) / normal_pdf(z);
        z -= step;
        if step.abs() <= 1e-16 * z.abs().max(1e-300) {
            break;
        }
    }
    Ok(z)
}

/// One drawdown episode on the equity curve with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DrawdownEpisode {
    /// Index of the peak on the curve (0 = the baseline before the first return).
    pub peak: usize,
    /// Index of the lowest point (first one).
    pub valley: usize,
    /// Index of the recovery (first point back at the peak), if recovered.
    pub recovery: Option<usize>,
    /// Trading days from the peak to the recovery (or to the last point).
    pub trading_days: usize,
    /// Lowest equity / peak - 1 (negative).
    pub max_drawdown: f64,
}

/// Performance of a daily return series.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Performance {
    pub returns: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1) of daily returns.
    pub std: f64,
    /// std x sqrt(252).
    pub annual_volatility: f64,
    /// mean / std x sqrt(252) (risk-free rate 0).
    pub sharpe: Option<f64>,
    /// sqrt(sum of squared negative returns / n): the Sortino denominator.
    pub downside_deviation: f64,
    /// mean / downside deviation x sqrt(252).
    pub sortino: Option<f64>,
    /// prod(1 + r) - 1: the time-weighted return.
    pub total_return: f64,
    /// Years: returns / 252.
    pub years: f64,
    /// |1 + total|^(1 / years) - 1.
    pub cagr: Option<f64>,
    /// Lowest equity / running peak - 1 over the curve with a 1.0 baseline before the first return.
    pub max_drawdown: f64,
    /// cagr / |max drawdown|.
    pub calmar: Option<f64>,
    /// The episode with the deepest drawdown.
    pub max_drawdown_episode: Option<DrawdownEpisode>,
    /// The longest episode in trading days (peak to recovery, or to the end).
    pub longest_drawdown: Option<DrawdownEpisode>,
    pub drawdown_episodes: usize,
}

/// Equity curve 1 + (prod(1 + r) - 1), with the baseline 1.0 first.
fn equity(r: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(r.len() + 1);
    out.push(1.0);
    let mut c = 1.0;
    for x in r {
        c *= 1.0 + x;
        out.push(1.0 + (c - 1.0));
    }
    out
}

fn episodes(e: &[f64]) -> Vec<DrawdownEpisode> {
    let mut out = Vec::new();
    let mut peak_i = 0;
    let mut peak = e.first().copied().unwrap_or(1.0);
    let mut open: Option<(usize, usize, f64)> = None; // (peak index, valley, ratio)
    for (i, v) in e.iter().enumerate() {
        if *v >= peak {
            if let Some((p, valley, dd)) = open.take() {
                out.push(DrawdownEpisode {
                    peak: p,
                    valley,
                    recovery: Some(i),
                    trading_days: i - p,
                    max_drawdown: dd,
                });
            }
            peak = *v;
            peak_i = i;
        } else {
            let dd = v / peak - 1.0;
            match &mut open {
                Some((_, valley, low)) => {
                    if dd < *low {
                        *low = dd;
                        *valley = i;
                    }
                }
                None => open = Some((peak_i, i, dd)),
            }
        }
    }
    if let Some((p, valley, dd)) = open {
        out.push(DrawdownEpisode {
            peak: p,
            valley,
            recovery: None,
            trading_days: e.len() - 1 - p,
            max_drawdown: dd,
        });
    }
    out
}

/// quantstats-style performance of daily returns (at least 2).
pub fn performance(r: &[f64]) -> Result<Performance, RiskError> {
    if r.len() < 2 || r.iter().any(|x| !x.is_finite()) {
        return Err(invalid("at least 2 finite returns are needed"));
    }
    let n = r.len() as f64;
    let m = mean(r);
    let s = std(r);
    let downside = (r.iter().filter(|x| **x < 0.0).map(|x| x * x).sum::<f64>() / n).sqrt();
    let total = r.iter().fold(1.0, |acc, x| acc * (1.0 + x)) - 1.0;
    let years = n / PERIODS;
    let cagr = (total + 1.0 >= 0.0).then(|| (total + 1.0).abs().powf(1.0 / years) - 1.0);
    let e = equity(r);
    let mut running = f64::MIN;
    let mut mdd = 0.0_f64;
    for v in &e {
        running = running.max(*v);
        mdd = mdd.min(v / running - 1.0);
    }
    let eps = episodes(&e);
    let deepest = eps
        .iter()
        .min_by(|a, b| a.max_drawdown.total_cmp(&b.max_drawdown))
        .cloned();
    let longest = eps
        .iter()
        .fold(None::<&DrawdownEpisode>, |best, x| match best {
            Some(b) if b.trading_days >= x.trading_days => Some(b),
            _ => Some(x),
        })
        .cloned();
    Ok(Performance {
        returns: r.len(),
        mean: m,
        std: s,
        annual_volatility: s * PERIODS.sqrt(),
        sharpe: (s > 0.0).then(|| m / s * PERIODS.sqrt()),
        downside_deviation: downside,
        sortino: (downside > 0.0).then(|| m / downside * PERIODS.sqrt()),
        total_return: total,
        years,
        cagr,
        max_drawdown: mdd,
        calmar: cagr.filter(|_| mdd < 0.0).map(|c| c / mdd.abs()),
        max_drawdown_episode: deepest,
        longest_drawdown: longest,
        drawdown_episodes: eps.len(),
    })
}

/// numpy's linear percentile of sorted data at q percent.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() as f64 - 1.0) * (q / 100.0);
    let i = (h.floor() as usize).min(sorted.len().saturating_sub(1));
    let g = h - h.floor();
    let a = sorted[i];
    let b = sorted[(i + 1).min(sorted.len() - 1)];
    if g < 0.5 {
        a + (b - a) * g
    } else {
        b - (b - a) * (1.0 - g)
    }
}

/// Value at risk and expected shortfall at one confidence level, as
/// positive losses of one day's return.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct VarCvar {
    pub confidence: f64,
    pub var: f64,
    pub cvar: f64,
}

/// Historical: VaR = -percentile(r, 100 (1 - a)) (linear), CVaR = -mean of
/// the returns at or below that percentile.
pub fn historical_var(r: &[f64], confidence: f64) -> Result<(VarCvar, usize), RiskError> {
    check_confidence(confidence)?;
    if r.is_empty() {
        return Err(invalid("no returns"));
    }
    let mut sorted = r.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut = percentile(&sorted, 100.0 * (1.0 - confidence));
    let tail: Vec<f64> = r.iter().copied().filter(|x| *x <= cut).collect();
    Ok((
        VarCvar {
            confidence,
            var: -cut,
            cvar: -mean(&tail),
        },
        tail.len(),
    ))
}

fn check_confidence(a: f64) -> Result<(), RiskError> {
    if a > 0.5 && a < 1.0 {
        Ok(())
    } else {
        Err(invalid(format!(
            "confidence must be above 0.5 and below 1 (0.95, 0.99); got {a}"
        )))
    }
}

/// Parametric (normal) VaR and CVaR of a return with mean `mu` and
/// standard deviation `sigma`: VaR = -(mu + z sigma), CVaR = -(mu - sigma
/// phi(z) / (1 - a)), z = the normal quantile at 1 - a.
pub fn parametric_var(mu: f64, sigma: f64, confidence: f64) -> Result<VarCvar, RiskError> {
    check_confidence(confidence)?;
    let z = normal_quantile(1.0 - confidence)?;
    Ok(VarCvar {
        confidence,
        var: -(mu + z * sigma),
        cvar: -(mu - sigma * normal_pdf(z) / (1.0 - confidence)),
    })
}

/// Portfolio mean and standard deviation from the asset means and the full
/// covariance matrix: w'mu and sqrt(w' Sigma w).
pub fn portfolio_moments(means: &[f64], cov: &[Vec<f64>], w: &[f64]) -> (f64, f64) {
    let mut mu = 0.0;
    for (m, x) in means.iter().zip(w) {
        mu += x * m;
    }
    let mut var = 0.0;
    for (i, wi) in w.iter().enumerate() {
        for (j, wj) in w.iter().enumerate() {
            var += wi * cov[i][j] * wj;
        }
    }
    (mu, var.max(0.0).sqrt())
}

/// Skewness and excess kurtosis from biased central moments.
pub fn moments(r: &[f64]) -> (f64, f64) {
    let m = mean(r);
    let n = r.len() as f64;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for x in r {
        let d = x - m;
        m2 += d * d;
        m3 += d * d * d;
        m4 += (d * d) * (d * d);
    }
    let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
    (m3 / m2.powf(1.5), m4 / (m2 * m2) - 3.0)
}

/// Cornish-Fisher VaR: the normal quantile corrected for the sample's
/// skewness and excess kurtosis; returns (z_cf, VaR).
pub fn cornish_fisher_var(r: &[f64], confidence: f64) -> Result<(f64, f64), RiskError> {
    check_confidence(confidence)?;
    let z = normal_quantile(1.0 - confidence)?;
    let (s, k) = moments(r);
    let zcf = z + (z * z - 1.0) * s / 6.0 + (z * z * z - 3.0 * z) * k / 24.0
        - (2.0 * z * z * z - 5.0 * z) * s * s / 36.0;
    Ok((zcf, -(mean(r) + zcf * std(r))))
}

/// Beta against a benchmark (sample covariance / sample variance) and
/// alpha = (mean(r) - beta mean(b)) x 252.
pub fn beta_alpha(r: &[f64], benchmark: &[f64]) -> Result<(f64, f64), RiskError> {
    if r.len() != benchmark.len() || r.len() < 2 {
        return Err(invalid(
            "the benchmark needs the portfolio's dates (aligned returns)",
        ));
    }
    let var_b = covariance(benchmark, benchmark);
    if var_b <= 0.0 {
        return Err(invalid("the benchmark does not move: beta is undefined"));
    }
    let beta = covariance(r, benchmark) / var_b;
    Ok((beta, (mean(r) - beta * mean(benchmark)) * PERIODS))
}

/// Concentration of weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct Concentration {
    /// Sum of |w|.
    pub gross: f64,
    /// Sum of w.
    pub net: f64,
    /// Herfindahl-Hirschman index of |w| / gross.
    pub hhi: f64,
    /// 1 / HHI.
    pub effective_n: f64,
}

pub fn concentration(w: &[f64]) -> Concentration {
    let gross: f64 = w.iter().map(|x| x.abs()).sum();
    let net: f64 = w.iter().sum();
    let hhi: f64 = if gross > 0.0 {
        w.iter()
            .map(|x| (x.abs() / gross) * (x.abs() / gross))
            .sum()
    } else {
        0.0
    };
    Concentration {
        gross,
        net,
        hhi,
        effective_n: if hhi > 0.0 { 1.0 / hhi } else { 0.0 },
    }
}

/// Money-weighted return: the annual effective rate r with
/// sum_k c_k (1 + r)^(-y_k) = 0 (y in ACT/365 years from the first flow),
/// by bisection on [-0.9, 10] to full precision.
pub fn irr(flows: &[(f64, f64)]) -> Result<f64, RiskError> {
    let npv = |r: f64| {
        flows
            .iter()
            .map(|(y, c)| c * (1.0 + r).powf(-y))
            .sum::<f64>()
    };
    let (mut lo, mut hi) = (-0.9_f64, 10.0_f64);
    let (mut flo, fhi) = (npv(lo), npv(hi));
    if !(flo.is_finite() && fhi.is_finite()) || flo.signum() == fhi.signum() {
        return Err(invalid(
            "the cash flows have no rate of return between -90% and 1000% a year (they need money in and money out)",
        ));
    }
    for _ in 0..400 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        let f = npv(mid);
        if f == 0.0 {
            return Ok(mid);
        }
        if f.signum() == flo.signum() {
            lo = mid;
            flo = f;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}
