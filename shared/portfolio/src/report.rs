//! The risk report of a set of holdings: their current weights held
//! constant over the aligned daily returns of the lookback (rebalanced
//! daily, cash earning nothing), with every figure of `risk`.

use schemars::JsonSchema;
use serde::Serialize;

use crate::risk::{
    self, Concentration, DrawdownEpisode, RiskError, VarCvar, beta_alpha, concentration,
    correlation_matrix, covariance_matrix, historical_var, parametric_var, portfolio_moments,
    portfolio_returns,
};

/// Confidence levels of every VaR figure.
pub const CONFIDENCES: [f64; 2] = [0.95, 0.99];

/// The inputs: one aligned daily return series per holding.
#[derive(Debug, Clone, PartialEq)]
pub struct Holdings<'a> {
    pub symbols: &'a [String],
    /// Position value / equity (negative for shorts).
    pub weights: &'a [f64],
    pub returns: &'a [Vec<f64>],
    /// The benchmark's returns on the same dates.
    pub benchmark: Option<&'a [f64]>,
}

/// VaR and CVaR at one confidence level, by each method, as positive
/// fractions of equity lost in one day.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct VarFigures {
    pub confidence: f64,
    pub historical_var: f64,
    pub historical_cvar: f64,
    /// Returns in the historical tail.
    pub tail_observations: usize,
    /// Normal with the portfolio sigma from the full covariance matrix.
    pub parametric_var: f64,
    pub parametric_cvar: f64,
    /// Normal quantile corrected for skewness and excess kurtosis.
    pub cornish_fisher_var: Option<f64>,
}

/// Beta and alpha against the benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Relative {
    pub beta: f64,
    /// Annualised: (mean(r) - beta mean(b)) x 252.
    pub alpha: f64,
    /// Correlation of the daily returns.
    pub correlation: f64,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RiskReport {
    pub observations: usize,
    pub daily_mean: f64,
    pub daily_std: f64,
    pub annual_volatility: f64,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
    pub downside_deviation: f64,
    pub calmar: Option<f64>,
    pub cagr: Option<f64>,
    pub total_return: f64,
    pub max_drawdown: f64,
    pub max_drawdown_episode: Option<DrawdownEpisode>,
    pub longest_drawdown: Option<DrawdownEpisode>,
    pub var: Vec<VarFigures>,
    /// Portfolio sigma from the covariance matrix (daily).
    pub parametric_sigma: f64,
    pub skewness: f64,
    pub excess_kurtosis: f64,
    pub relative: Option<Relative>,
    pub concentration: Concentration,
    /// Sample correlation matrix of the holdings, in `symbols` order.
    pub correlation: Vec<Vec<f64>>,
}

/// The report of `h`; `cornish_fisher` adds the corrected VaR.
pub fn risk_report(h: &Holdings<'_>, cornish_fisher: bool) -> Result<RiskReport, RiskError> {
    let r = portfolio_returns(h.returns, h.weights)?;
    if r.len() < 20 {
        return Err(RiskError::Invalid(format!(
            "{} aligned daily returns; risk figures need at least 20",
            r.len()
        )));
    }
    let perf = risk::performance(&r)?;
    let cov = covariance_matrix(h.returns);
    let means: Vec<f64> = h.returns.iter().map(|a| risk::mean(a)).collect();
    let (mu, sigma) = portfolio_moments(&means, &cov, h.weights);
    let mut var = Vec::new();
    for a in CONFIDENCES {
        let (hist, tail): (VarCvar, usize) = historical_var(&r, a)?;
        let p = parametric_var(mu, sigma, a)?;
        var.push(VarFigures {
            confidence: a,
            historical_var: hist.var,
            historical_cvar: hist.cvar,
            tail_observations: tail,
            parametric_var: p.var,
            parametric_cvar: p.cvar,
            cornish_fisher_var: if cornish_fisher {
                Some(risk::cornish_fisher_var(&r, a)?.1)
            } else {
                None
            },
        });
    }
    let (skewness, excess_kurtosis) = risk::moments(&r);
    let relative = match h.benchmark {
        Some(b) => {
            let (beta, alpha) = beta_alpha(&r, b)?;
            let corr = risk::covariance(&r, b) / (risk::std(&r) * risk::std(b));
            Some(Relative {
                beta,
                alpha,
                correlation: corr,
            })
        }
        None => None,
    };
    Ok(RiskReport {
        observations: r.len(),
        daily_mean: perf.mean,
        daily_std: perf.std,
        annual_volatility: perf.annual_volatility,
        sharpe: perf.sharpe,
        sortino: perf.sortino,
        downside_deviation: perf.downside_deviation,
        calmar: perf.calmar,
        cagr: perf.cagr,
        total_return: perf.total_return,
        max_drawdown: perf.max_drawdown,
        max_drawdown_episode: perf.max_drawdown_episode,
        longest_drawdown: perf.longest_drawdown,
        var,
        parametric_sigma: sigma,
        skewness,
        excess_kurtosis,
        relative,
        concentration: concentration(h.weights),
        correlation: correlation_matrix(&cov),
    })
}
