//! The risk metrics of a 50-position portfolio over 2 years of daily closes
//! (504 closes each): returns, the 50 x 50 covariance and correlation,
//! performance and drawdowns, historical, parametric and Cornish-Fisher VaR
//! and CVaR at 95% and 99%, beta, concentration.
//! Run: `cargo bench -p gs-portfolio --bench risk`. The target for
//! `get_risk_metrics` (the whole tool) is 20 ms.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gs_portfolio::risk::*;

fn closes(n_assets: usize, days: usize) -> Vec<Vec<f64>> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..=n_assets)
        .map(|_| {
            let mut p = 100.0;
            (0..days)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                    p *= 1.0 + (u - 0.5) * 0.04;
                    p
                })
                .collect()
        })
        .collect()
}

fn metrics(closes: &[Vec<f64>], weights: &[f64]) -> f64 {
    let (bench, assets) = closes.split_first().unwrap();
    let returns: Vec<Vec<f64>> = assets.iter().map(|c| simple_returns(c).unwrap()).collect();
    let b = simple_returns(bench).unwrap();
    let cov = covariance_matrix(&returns);
    let corr = correlation_matrix(&cov);
    let means: Vec<f64> = returns.iter().map(|r| mean(r)).collect();
    let r = portfolio_returns(&returns, weights).unwrap();
    let perf = performance(&r).unwrap();
    let (mu, sigma) = portfolio_moments(&means, &cov, weights);
    let mut acc = perf.sharpe.unwrap_or(0.0) + corr[0][1];
    for a in [0.95, 0.99] {
        acc += historical_var(&r, a).unwrap().0.var;
        acc += parametric_var(mu, sigma, a).unwrap().cvar;
        acc += cornish_fisher_var(&r, a).unwrap().1;
    }
    acc + beta_alpha(&r, &b).unwrap().0 + concentration(weights).hhi
}

fn bench(c: &mut Criterion) {
    let data = closes(50, 504);
    let weights = vec![1.0 / 50.0; 50];
    c.bench_function("risk_metrics_50x504", |bench| {
        bench.iter(|| black_box(metrics(black_box(&data), &weights)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
