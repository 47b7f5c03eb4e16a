//! The risk and performance figures against numpy, scipy and quantstats
//! 0.0.86 on the committed portfolio of `tests/data/risk_reference.json`
//! (written by `scripts/portfolio_reference.py`): every figure within 1e-10
//! (relative above 1, absolute below). The worst differences are printed
//! (`cargo test -p gs-portfolio --test risk_parity -- --nocapture`).

use gs_portfolio::risk::*;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/risk_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

#[derive(Default)]
struct Worst {
    worst: f64,
    what: String,
    checked: usize,
}

impl Worst {
    fn check(&mut self, what: &str, ours: f64, theirs: f64) {
        let diff = (ours - theirs).abs() / theirs.abs().max(1.0);
        assert!(
            diff <= 1e-10,
            "{what}: ours {ours:e}, reference {theirs:e} (diff {diff:e})"
        );
        if diff > self.worst {
            self.worst = diff;
            self.what = what.to_string();
        }
        self.checked += 1;
    }
}

#[test]
fn every_figure_matches_the_reference() {
    let fx = fixture();
    let closes: Vec<Vec<f64>> = fx["inputs"]["closes"]
        .as_array()
        .unwrap()
        .iter()
        .map(nums)
        .collect();
    let assets: Vec<Vec<f64>> = closes.iter().map(|c| simple_returns(c).unwrap()).collect();
    let bench = simple_returns(&nums(&fx["inputs"]["benchmark"]["closes"])).unwrap();
    let mut w = Worst::default();

    let stats = &fx["asset_stats"];
    let cov = covariance_matrix(&assets);
    let corr = correlation_matrix(&cov);
    let means: Vec<f64> = assets.iter().map(|a| mean(a)).collect();
    for i in 0..assets.len() {
        w.check("asset mean", means[i], num(&stats["mean"][i]));
        w.check("asset std", std(&assets[i]), num(&stats["std"][i]));
        for j in 0..assets.len() {
            w.check("covariance", cov[i][j], num(&stats["covariance"][i][j]));
            w.check("correlation", corr[i][j], num(&stats["correlation"][i][j]));
        }
    }
    for (t, b) in nums(&fx["benchmark_stats"]["returns"]).iter().enumerate() {
        w.check("benchmark return", bench[t], *b);
    }

    for name in ["long_only", "long_short"] {
        let p = &fx["portfolios"][name];
        let weights = nums(&fx["inputs"]["weights"][name]);
        let r = portfolio_returns(&assets, &weights).unwrap();
        for (t, x) in nums(&p["returns"]).iter().enumerate() {
            w.check("portfolio return", r[t], *x);
        }
        let perf = performance(&r).unwrap();
        w.check("mean", perf.mean, num(&p["mean"]));
        w.check("std", perf.std, num(&p["std"]));
        w.check(
            "annual volatility",
            perf.annual_volatility,
            num(&p["ann_vol"]),
        );
        w.check("sharpe", perf.sharpe.unwrap(), num(&p["sharpe"]));
        w.check(
            "downside deviation",
            perf.downside_deviation,
            num(&p["downside_deviation"]),
        );
        w.check("sortino", perf.sortino.unwrap(), num(&p["sortino"]));
        w.check(
            "total return",
            perf.total_return,
            num(&p["total_return_twr"]),
        );
        w.check("cagr years", perf.years, num(&p["cagr_years"]));
        w.check("cagr", perf.cagr.unwrap(), num(&p["cagr"]));
        w.check("max drawdown", perf.max_drawdown, num(&p["max_drawdown"]));
        w.check("calmar", perf.calmar.unwrap(), num(&p["calmar"]));
        let longest = perf.longest_drawdown.as_ref().unwrap();
        assert_eq!(
            longest.trading_days as u64,
            p["longest_drawdown_trading_days"].as_u64().unwrap(),
            "{name}: longest drawdown"
        );
        assert_eq!(
            perf.drawdown_episodes,
            p["drawdown_episodes_numpy"].as_array().unwrap().len(),
            "{name}: drawdown episodes"
        );
        assert_eq!(
            perf.max_drawdown_episode
                .as_ref()
                .unwrap()
                .recovery
                .is_some(),
            p["max_drawdown_episode"]["recovered"].as_bool().unwrap(),
            "{name}"
        );

        let (mu, sigma) = portfolio_moments(&means, &cov, &weights);
        w.check("mu_p", mu, num(&p["mu_p"]));
        w.check("sigma_p (covariance)", sigma, num(&p["sigma_p"]));
        let (skew, kurt) = moments(&r);
        w.check("skew", skew, num(&p["moments"]["skew_biased"]));
        w.check(
            "excess kurtosis",
            kurt,
            num(&p["moments"]["excess_kurtosis_biased"]),
        );
        for (key, a) in [("95", 0.95), ("99", 0.99)] {
            let v = &p["var"][key];
            let (hist, tail) = historical_var(&r, a).unwrap();
            assert_eq!(tail as u64, v["historical_tail_count"].as_u64().unwrap());
            w.check("historical VaR", hist.var, num(&v["historical_var"]));
            w.check("historical CVaR", hist.cvar, num(&v["historical_cvar"]));
            w.check("z", normal_quantile(1.0 - a).unwrap(), num(&v["z"]));
            let par = parametric_var(mu, sigma, a).unwrap();
            w.check("parametric VaR", par.var, num(&v["parametric_var"]));
            w.check("parametric CVaR", par.cvar, num(&v["parametric_cvar"]));
            // quantstats' own (negative returns, on the portfolio series).
            let qs = parametric_var(perf.mean, perf.std, a).unwrap();
            w.check(
                "quantstats value_at_risk",
                -qs.var,
                num(&v["qs_value_at_risk"]),
            );
            w.check(
                "quantstats CVaR",
                -qs.cvar,
                num(&v["qs_conditional_value_at_risk"]),
            );
            let (zcf, cf) = cornish_fisher_var(&r, a).unwrap();
            w.check("Cornish-Fisher z", zcf, num(&v["cornish_fisher_z"]));
            w.check("Cornish-Fisher VaR", cf, num(&v["cornish_fisher_var"]));
        }
        let (beta, alpha) = beta_alpha(&r, &bench).unwrap();
        w.check("beta", beta, num(&p["beta"]));
        w.check(
            "alpha (quantstats greeks)",
            alpha,
            num(&p["qs_greeks"]["alpha"]),
        );
        let c = concentration(&weights);
        w.check("gross", c.gross, num(&p["gross_exposure"]));
        w.check("net", c.net, num(&p["net_exposure"]));
        w.check("hhi", c.hhi, num(&p["hhi"]));
        w.check("effective n", c.effective_n, num(&p["effective_n"]));
    }

    let mw = &fx["money_weighted"];
    let flows: Vec<(f64, f64)> = mw["investor_cash_flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (num(&f["year_fraction"]), num(&f["amount"])))
        .collect();
    let rate = irr(&flows).unwrap();
    w.check("money-weighted return (IRR)", rate, num(&mw["irr_annual"]));
    println!(
        "{} figures within 1e-10; worst {:.2e} ({})",
        w.checked, w.worst, w.what
    );
}

#[test]
fn bad_inputs_are_refused() {
    assert!(simple_returns(&[1.0, 0.0, 2.0]).is_err());
    assert!(portfolio_returns(&[vec![0.1, 0.2]], &[0.5, 0.5]).is_err());
    assert!(performance(&[0.01]).is_err());
    assert!(historical_var(&[0.01, -0.02], 1.2).is_err());
    assert!(normal_quantile(0.0).is_err());
    assert!(
        irr(&[(0.0, 100.0), (1.0, 50.0)]).is_err(),
        "money only in: no rate"
    );
    assert!(beta_alpha(&[0.1, 0.2], &[0.0, 0.0]).is_err());
}
