//! The assembled risk report (`report::risk_report`, what `get_risk_metrics`
//! returns) and the replayed money-weighted return (`performance::window`,
//! what `get_performance` returns) against the numpy/scipy/quantstats
//! reference of `tests/data/risk_reference.json`, to 1e-10 (relative above
//! 1, absolute below).

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use gs_portfolio::Decimal;
use gs_portfolio::paper::Ledger;
use gs_portfolio::performance::{Replay, window};
use gs_portfolio::report::{Holdings, risk_report};
use gs_portfolio::risk::simple_returns;
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

fn close(what: &str, ours: f64, theirs: f64) {
    let diff = (ours - theirs).abs() / theirs.abs().max(1.0);
    assert!(
        diff <= 1e-10,
        "{what}: ours {ours:e}, reference {theirs:e} (diff {diff:e})"
    );
}

#[test]
fn the_report_matches_the_reference_for_both_portfolios() {
    let fx = fixture();
    let symbols: Vec<String> = fx["inputs"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let returns: Vec<Vec<f64>> = fx["inputs"]["closes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| simple_returns(&nums(c)).unwrap())
        .collect();
    let bench = simple_returns(&nums(&fx["inputs"]["benchmark"]["closes"])).unwrap();
    for name in ["long_only", "long_short"] {
        let p = &fx["portfolios"][name];
        let weights = nums(&p["weights"]);
        let r = risk_report(
            &Holdings {
                symbols: &symbols,
                weights: &weights,
                returns: &returns,
                benchmark: Some(&bench),
            },
            true,
        )
        .unwrap();
        let what = |f: &str| format!("{name} {f}");
        assert_eq!(r.observations, 503);
        close(&what("mean"), r.daily_mean, num(&p["mean"]));
        close(&what("std"), r.daily_std, num(&p["std"]));
        close(&what("ann_vol"), r.annual_volatility, num(&p["ann_vol"]));
        close(&what("sharpe"), r.sharpe.unwrap(), num(&p["sharpe"]));
        close(&what("sortino"), r.sortino.unwrap(), num(&p["sortino"]));
        close(
            &what("downside"),
            r.downside_deviation,
            num(&p["downside_deviation"]),
        );
        close(&what("twr"), r.total_return, num(&p["total_return_twr"]));
        close(&what("cagr"), r.cagr.unwrap(), num(&p["cagr"]));
        close(
            &what("max_drawdown"),
            r.max_drawdown,
            num(&p["max_drawdown"]),
        );
        close(&what("calmar"), r.calmar.unwrap(), num(&p["calmar"]));
        close(&what("sigma_p"), r.parametric_sigma, num(&p["sigma_p"]));
        close(&what("skew"), r.skewness, num(&p["moments"]["skew_biased"]));
        close(
            &what("kurtosis"),
            r.excess_kurtosis,
            num(&p["moments"]["excess_kurtosis_biased"]),
        );
        assert_eq!(
            r.max_drawdown_episode.as_ref().unwrap().trading_days as u64,
            p["max_drawdown_episode"]["trading_days"].as_u64().unwrap()
        );
        for (v, key) in r.var.iter().zip(["95", "99"]) {
            let x = &p["var"][key];
            close(
                &what("historical_var"),
                v.historical_var,
                num(&x["historical_var"]),
            );
            close(
                &what("historical_cvar"),
                v.historical_cvar,
                num(&x["historical_cvar"]),
            );
            assert_eq!(
                v.tail_observations as u64,
                x["historical_tail_count"].as_u64().unwrap()
            );
            close(
                &what("parametric_var"),
                v.parametric_var,
                num(&x["parametric_var"]),
            );
            close(
                &what("parametric_cvar"),
                v.parametric_cvar,
                num(&x["parametric_cvar"]),
            );
            close(
                &what("cornish_fisher_var"),
                v.cornish_fisher_var.unwrap(),
                num(&x["cornish_fisher_var"]),
            );
        }
        let rel = r.relative.as_ref().unwrap();
        close(&what("beta"), rel.beta, num(&p["beta"]));
        close(&what("alpha"), rel.alpha, num(&p["qs_greeks"]["alpha"]));
        close(&what("hhi"), r.concentration.hhi, num(&p["hhi"]));
        close(
            &what("effective_n"),
            r.concentration.effective_n,
            num(&p["effective_n"]),
        );
        close(
            &what("gross"),
            r.concentration.gross,
            num(&p["gross_exposure"]),
        );
        close(&what("net"), r.concentration.net, num(&p["net_exposure"]));
        let corr = &fx["asset_stats"]["correlation"];
        for (i, row) in r.correlation.iter().enumerate() {
            for (j, c) in row.iter().enumerate() {
                close(&what("correlation"), *c, num(&corr[i][j]));
            }
        }
    }
}

/// The reference's account (value growing with the portfolio's returns, with
/// deposits and a withdrawal on their dates) as a replayed history: the
/// window's money-weighted return, annualised, is scipy's IRR.
#[test]
fn the_money_weighted_return_matches_the_reference() {
    let fx = fixture();
    let mw = &fx["money_weighted"];
    let dates: Vec<_> = fx["inputs"]["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let day = NaiveDate::parse_from_str(d.as_str().unwrap(), "%Y-%m-%d").unwrap();
            Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
        })
        .collect();
    let r = nums(&fx["portfolios"][mw["portfolio"].as_str().unwrap()]["returns"]);
    let mut flows = vec![0.0; dates.len()];
    for f in mw["flows"].as_array().unwrap() {
        flows[f["date_index"].as_u64().unwrap() as usize] = num(&f["amount"]);
    }
    // V_0 = initial; V_t = V_{t-1} (1 + r_t) + flow_t, as the reference has it.
    let mut v = vec![num(&mw["initial"]["amount"])];
    for t in 1..dates.len() {
        v.push(v[t - 1] * (1.0 + r[t - 1]) + flows[t]);
    }
    close("final value", *v.last().unwrap(), num(&mw["final_value"]));
    let dec = |x: f64| Decimal::from_f64_retain(x).unwrap();
    let replay = Replay {
        dates: dates.clone(),
        equity: v.iter().map(|x| dec(*x)).collect(),
        flows: flows.iter().map(|x| dec(*x)).collect(),
        values: BTreeMap::new(),
        trade_cash: BTreeMap::new(),
        ledger: Ledger::default(),
    };
    let w = window(&replay, 0, dates.len() - 1).unwrap();
    close(
        "irr_annual",
        w.money_weighted_annualized.unwrap(),
        num(&mw["irr_annual"]),
    );
}
