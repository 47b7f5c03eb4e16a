#!/usr/bin/env python3
"""Record a numpy/scipy/quantstats reference for the portfolio-risk crate.

Written for a future Rust crate (shared/portfolio) whose tests will read

    shared/portfolio/tests/data/risk_reference.json

and check every figure in it, to 1e-10 at least. Everything the Rust test
needs (dates, closes, benchmark, weights, quantities, cash, cash flows) is in
that file, so the test never runs Python. The definitions are written up,
with formulas, in shared/portfolio/docs/risk-conventions.md.

Run from the repository root:

    python3 -m venv /work/pfvenv
    /work/pfvenv/bin/pip install numpy==2.4.6 scipy==1.17.1 quantstats==0.0.86
    /work/pfvenv/bin/python scripts/portfolio_reference.py          # writes the JSON
    /work/pfvenv/bin/python scripts/portfolio_reference.py --timing # also times numpy

Versions the committed file was made with (also in its "meta" block):
    Python 3.11.7, numpy 2.4.6, scipy 1.17.1, quantstats 0.0.86, pandas 3.1.1
    (pandas comes in with quantstats).

Determinism: the data is drawn from np.random.default_rng(SEED) using only
Generator.standard_normal and Generator.random (the t-like tails are built
from normals, not Generator.standard_t, whose gamma sampler is more likely to
change between numpy releases). NumPy guarantees the PCG64 bit stream but not
the Generator's distribution algorithms across versions, so a numpy other than
2.4.6 could, in principle, draw different data; the committed JSON, not the
script, is then the source of truth. With the same versions a re-run writes a
byte-identical file (the --timing figure is printed, never written).

Quantstats is called exactly as stated in the JSON's "meta.conventions" (rf=0,
periods=252, smart=False) on a pandas Series of the portfolio's daily simple
returns indexed by the 503 return dates. Where a figure is also re-derived
here in plain numpy, the script asserts the two agree (to 1e-15 relative, most
of them bit for bit), so the numpy recipe in the docs is the quantstats one.

Floats are written with Python's json module (repr), which round-trips every
double exactly.
"""

import argparse
import datetime as dt
import json
import math
import pathlib
import platform
import sys
import time
import warnings

import numpy as np
import scipy
from scipy.optimize import brentq
from scipy.stats import norm

try:
    import pandas as pd
    import quantstats as qs
except Exception as exc:  # pragma: no cover - documented fallback
    sys.exit(f"quantstats is required for this reference ({exc!r})")

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "shared" / "portfolio" / "tests" / "data" / "risk_reference.json"

SEED = 20240102
N_ASSETS = 12
N_CLOSES = 504  # 503 returns
FIRST_DATE = dt.date(2024, 1, 2)
PERIODS = 252
CONFIDENCES = [0.95, 0.99]

ASSETS = [f"A{i + 1:02d}" for i in range(N_ASSETS)]
START_PRICES = [48.5, 112.25, 23.8, 310.0, 67.4, 154.9,
                15.35, 88.0, 205.6, 39.75, 129.3, 72.1]
ALPHAS = [0.0002, 0.0001, 0.0003, 0.0000, 0.0002, 0.0001,
          -0.0001, 0.0004, 0.0001, 0.0000, 0.0002, 0.0003]
BETAS = [1.10, 0.85, 1.35, 0.70, 1.00, 1.20,
         0.60, 1.45, 0.95, 0.80, 1.15, 1.05]
SECTOR = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
SECTOR_LOADING = [0.9, 1.1, 0.8, 1.2, 1.0, 0.7,
                  1.0, 0.9, 1.3, 0.6, 1.1, 0.8]
IDIO_SD = [0.008, 0.006, 0.012, 0.005, 0.009, 0.010,
           0.007, 0.014, 0.006, 0.008, 0.009, 0.011]

MARKET_MU = 0.0004
MARKET_SD = 0.009
T_DF = 5                 # market shocks: Student-t(5) built from normals
JUMP_PROB = 0.012        # market crash days
JUMP_SIZE = -0.03
SECTOR_SD = 0.005
IDIO_MIX_PROB = 0.1      # idiosyncratic: scale mixture of normals
IDIO_MIX_SCALE = 3.0
BENCH_START = 4750.0
BENCH_NOISE_SD = 0.002

WEIGHTS = {
    "long_only": [0.12, 0.10, 0.08, 0.09, 0.07, 0.11,
                  0.06, 0.05, 0.10, 0.08, 0.09, 0.05],
    "long_short": [0.25, 0.20, -0.15, 0.15, -0.10, 0.10,
                   0.15, -0.20, 0.10, -0.05, 0.05, -0.10],
}
QUANTITIES = [120.0, 85.0, 300.0, 40.0, 210.0, 150.0,
              60.0, 500.0, 95.0, 250.0, 180.0, 75.0]
CASH = 12500.0

# Money-weighted return: an account that holds the long-only portfolio.
MWR_PORTFOLIO = "long_only"
MWR_INITIAL = 100000.0                    # deposited at the close of dates[0]
MWR_FLOWS = [(126, 25000.0), (252, -40000.0), (378, 15000.0)]  # (date index, amount)


# ----------------------------------------------------------------- data

def weekdays(start, n):
    out, d = [], start
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def make_data():
    rng = np.random.default_rng(SEED)
    n = N_CLOSES - 1
    # 1. market factor: unit-variance t(5) from normals, plus crash jumps
    z = rng.standard_normal(n)
    chi = rng.standard_normal((n, T_DF))
    chi2 = np.sum(chi * chi, axis=1)
    t = z / np.sqrt(chi2 / T_DF) * math.sqrt((T_DF - 2) / T_DF)
    u = rng.random(n)
    market = MARKET_MU + MARKET_SD * t + np.where(u < JUMP_PROB, JUMP_SIZE, 0.0)
    # 2. two sector factors
    sectors = SECTOR_SD * rng.standard_normal((2, n))
    # 3. idiosyncratic: normal, scaled by IDIO_MIX_SCALE with prob IDIO_MIX_PROB
    e = rng.standard_normal((n, N_ASSETS))
    v = rng.random((n, N_ASSETS))
    e = e * np.where(v < IDIO_MIX_PROB, IDIO_MIX_SCALE, 1.0)
    # 4. benchmark tracking noise
    bnoise = BENCH_NOISE_SD * rng.standard_normal(n)

    closes = []
    for i in range(N_ASSETS):
        r = (ALPHAS[i] + BETAS[i] * market
             + SECTOR_LOADING[i] * sectors[SECTOR[i]] + IDIO_SD[i] * e[:, i])
        path = START_PRICES[i] * np.concatenate(([1.0], np.cumprod(1.0 + r)))
        closes.append([round(float(x), 4) for x in path])
    rb = market + bnoise
    bpath = BENCH_START * np.concatenate(([1.0], np.cumprod(1.0 + rb)))
    bench = [round(float(x), 4) for x in bpath]
    return closes, bench


# -------------------------------------------------------------- helpers

def f(x):
    """A plain Python float (so json writes its repr); refuse NaN/inf."""
    x = float(x)
    assert math.isfinite(x), x
    return x


def fl(xs):
    return [f(x) for x in xs]


def close_enough(a, b, rel=1e-15, what=""):
    a, b = float(a), float(b)
    assert abs(a - b) <= rel * max(abs(a), abs(b), 1e-300), (what, a, b, a - b)


def simple_returns(close):
    c = np.asarray(close, dtype=float)
    return c[1:] / c[:-1] - 1.0


def portfolio_returns(R, w):
    """r_p,t = sum_i w_i r_i,t, summed in asset order 0..N-1 (no FMA)."""
    rp = np.zeros(R.shape[0])
    for i in range(R.shape[1]):
        rp = rp + w[i] * R[:, i]
    return rp


def equity_curve(r):
    """quantstats' rebuilt prices: 1 + (cumprod(1 + r) - 1), with the phantom
    baseline 1.0 prepended (index 0 = dates[0], before the first return)."""
    c = np.cumprod(1.0 + r)          # sequential, like pandas cumprod
    return np.concatenate(([1.0], 1.0 + (c - 1.0)))


def drawdowns_numpy(r, dates):
    """Drawdown series and episodes on the equity curve with baseline."""
    eq = equity_curve(r)
    peak = np.maximum.accumulate(eq)
    dd = eq / peak - 1.0
    in_dd = dd < 0
    # no equity point comes within 1e-12 (relative) of the running peak before
    # it, so last-bit differences cannot move an episode's boundaries
    prev_peak = peak[:-1]
    assert np.min(np.abs(eq[1:] - prev_peak) / prev_peak) > 1e-12
    episodes = []
    k = 1
    last = len(eq) - 1
    while k <= last:
        if in_dd[k]:
            s = k
            while k <= last and in_dd[k]:
                k += 1
            e = k - 1
            p = s - 1
            rec = e + 1 if e + 1 <= last else None
            valley = s + int(np.argmin(dd[s:e + 1]))
            episodes.append({
                "peak": dates[p].isoformat(),
                "start": dates[s].isoformat(),
                "valley": dates[valley].isoformat(),
                "end": dates[e].isoformat(),
                "recovery": dates[rec].isoformat() if rec is not None else None,
                "recovered": rec is not None,
                "trading_days": (rec if rec is not None else last) - p,
                "qs_days": (dates[e] - dates[s]).days + 1,
                "max_drawdown": f(dd[s:e + 1].min()),
            })
        else:
            k += 1
    return eq, dd, episodes


def hist_var_cvar(rp, a):
    q = 100 * (1 - a)
    thr = np.percentile(rp, q)
    var = -thr
    tail = rp[rp <= -var]
    cvar = -np.mean(tail)
    # the tail is the first k order statistics; make sure no return sits so
    # close to the threshold that a last-bit difference could flip membership
    gap = np.min(np.abs(rp - thr))
    assert gap > 1e-9, gap
    return var, cvar, int(tail.size), q


def moments(r):
    d = r - np.mean(r)
    d2 = d * d
    m2 = np.mean(d2)
    m3 = np.mean(d2 * d)
    m4 = np.mean(d2 * d2)
    S = m3 / m2 ** 1.5
    K = m4 / (m2 * m2) - 3.0
    return m2, m3, m4, S, K


# ----------------------------------------------------------------- risk

def risk_block(name, R, rb, w, dates, mu_assets, cov_assets):
    n = R.shape[0]
    rdates = dates[1:]
    idx = pd.DatetimeIndex([pd.Timestamp(d) for d in rdates])
    rp = portfolio_returns(R, w)
    s = pd.Series(rp, index=idx)
    b = pd.Series(rb, index=idx)

    mean = np.mean(rp)
    std = np.std(rp, ddof=1)
    ann_vol = std * np.sqrt(PERIODS)
    close_enough(ann_vol, qs.stats.volatility(s, periods=PERIODS), what="vol")

    sharpe = qs.stats.sharpe(s, rf=0, periods=PERIODS, annualize=True, smart=False)
    sharpe_np = mean / std * np.sqrt(PERIODS)
    close_enough(sharpe, sharpe_np, what="sharpe")

    sortino = qs.stats.sortino(s, rf=0, periods=PERIODS, annualize=True, smart=False)
    neg = rp[rp < 0]
    downside = np.sqrt(np.sum(neg * neg) / n)
    sortino_np = mean / downside * np.sqrt(PERIODS)
    close_enough(sortino, sortino_np, what="sortino")

    eq, dd, episodes = drawdowns_numpy(rp, dates)
    mdd = qs.stats.max_drawdown(s)
    assert float(mdd) == float(dd.min()), (mdd, dd.min())
    qs_dd = qs.stats.to_drawdown_series(s)
    assert np.array_equal(qs_dd.to_numpy(), dd[1:]), "drawdown series"
    details = qs.stats.drawdown_details(qs_dd)
    qs_eps = [{"start": row["start"], "valley": row["valley"], "end": row["end"],
               "days": int(row["days"]), "max_drawdown_pct": f(row["max drawdown"])}
              for _, row in details.iterrows()]
    # numpy episodes reproduce quantstats' start/valley/end/days
    assert len(qs_eps) == len(episodes)
    for a_, b_ in zip(qs_eps, episodes):
        assert (a_["start"], a_["valley"], a_["end"], a_["days"]) == \
            (b_["start"], b_["valley"], b_["end"], b_["qs_days"]), (a_, b_)
        close_enough(a_["max_drawdown_pct"], b_["max_drawdown"] * 100, what="dd%")
    worst = min(range(len(episodes)), key=lambda i: episodes[i]["max_drawdown"])
    longest_qs = max(range(len(qs_eps)), key=lambda i: qs_eps[i]["days"])
    longest_td = max(range(len(episodes)), key=lambda i: episodes[i]["trading_days"])

    cagr = qs.stats.cagr(s, rf=0.0, compounded=True, periods=PERIODS)
    wealth = (np.prod(1.0 + rp) - 1.0) + 1.0
    cagr_np = abs(wealth) ** (1.0 / (n / PERIODS)) - 1.0
    close_enough(cagr, cagr_np, what="cagr")
    calmar = qs.stats.calmar(s, prepare_returns=True, compounded=True, periods=PERIODS)
    close_enough(calmar, cagr_np / abs(dd.min()), what="calmar")

    twr = np.prod(1.0 + rp) - 1.0
    close_enough(twr, float(eq[-1]) - 1.0, rel=1e-14, what="twr")

    m2, m3, m4, S, K = moments(rp)
    G1 = math.sqrt(n * (n - 1)) / (n - 2) * S
    G2 = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * K + 6.0)
    qs_skew = qs.stats.skew(s)
    qs_kurt = qs.stats.kurtosis(s)
    close_enough(qs_skew, G1, rel=1e-12, what="skew")
    close_enough(qs_kurt, G2, rel=1e-12, what="kurt")

    var = {}
    mu_p = 0.0
    for i in range(len(w)):
        mu_p = mu_p + w[i] * mu_assets[i]
    wSw = 0.0
    for i in range(len(w)):
        for j in range(len(w)):
            wSw = wSw + w[i] * cov_assets[i, j] * w[j]
    sigma_p = math.sqrt(wSw)
    close_enough(mu_p, mean, rel=1e-12, what="mu_p")
    close_enough(sigma_p, std, rel=1e-12, what="sigma_p")
    for a in CONFIDENCES:
        key = f"{round(a * 100)}"
        hv, hc, ntail, q = hist_var_cvar(rp, a)
        z = norm.ppf(1 - a)
        pv = -(mu_p + z * sigma_p)
        pc = -(mu_p - sigma_p * norm.pdf(z) / (1 - a))
        zcf = (z + (z * z - 1) * S / 6 + (z ** 3 - 3 * z) * K / 24
               - (2 * z ** 3 - 5 * z) * S * S / 36)
        cfv = -(mean + zcf * std)
        qs_var = qs.stats.value_at_risk(s, sigma=1, confidence=a)
        qs_cvar = qs.stats.conditional_value_at_risk(s, sigma=1, confidence=a,
                                                     method="parametric")
        qs_cvar_h = qs.stats.conditional_value_at_risk(s, sigma=1, confidence=a,
                                                       method="historical")
        close_enough(qs_var, mean + std * norm.ppf(1 - a), rel=1e-14, what="qsvar")
        close_enough(qs_cvar, mean - std * norm.pdf(norm.ppf(1 - a)) / (1 - a),
                     rel=1e-14, what="qscvar")
        close_enough(qs_cvar_h, -hc, rel=1e-14, what="qscvar_h")
        var[key] = {
            "confidence": a,
            "percentile_q": f(q),
            "historical_var": f(hv),
            "historical_cvar": f(hc),
            "historical_tail_count": ntail,
            "z": f(z),
            "parametric_var": f(pv),
            "parametric_cvar": f(pc),
            "cornish_fisher_z": f(zcf),
            "cornish_fisher_var": f(cfv),
            "qs_value_at_risk": f(qs_var),
            "qs_conditional_value_at_risk": f(qs_cvar),
            "qs_conditional_value_at_risk_historical": f(qs_cvar_h),
        }

    g = qs.stats.greeks(s, b, periods=252.0)
    C = np.cov(rp, rb)
    beta_np = C[0, 1] / C[1, 1]
    alpha_np = (mean - beta_np * np.mean(rb)) * 252.0
    close_enough(g["beta"], beta_np, rel=1e-14, what="beta")
    close_enough(g["alpha"], alpha_np, rel=1e-13, what="alpha")

    aw = [abs(x) for x in w]
    gross = 0.0
    for x in aw:
        gross = gross + x
    net = 0.0
    for x in w:
        net = net + x
    hhi = 0.0
    for x in aw:
        hhi = hhi + (x / gross) ** 2
    return {
        "weights": fl(w),
        "returns": fl(rp),
        "n_returns": n,
        "mean": f(mean),
        "std": f(std),
        "ann_vol": f(ann_vol),
        "sharpe": f(sharpe),
        "downside_deviation": f(downside),
        "sortino": f(sortino),
        "total_return_twr": f(twr),
        "final_equity": f(eq[-1]),
        "cagr": f(cagr),
        "cagr_years": f(n / PERIODS),
        "max_drawdown": f(mdd),
        "max_drawdown_episode": episodes[worst],
        "longest_drawdown_qs_days": qs_eps[longest_qs]["days"],
        "longest_drawdown_qs_episode": qs_eps[longest_qs],
        "longest_drawdown_trading_days": episodes[longest_td]["trading_days"],
        "longest_drawdown_trading_episode": episodes[longest_td],
        "calmar": f(calmar),
        "drawdown_episodes_numpy": episodes,
        "drawdown_details_qs": qs_eps,
        "moments": {"m2": f(m2), "m3": f(m3), "m4": f(m4),
                    "skew_biased": f(S), "excess_kurtosis_biased": f(K),
                    "qs_skew": f(qs_skew), "qs_kurtosis": f(qs_kurt)},
        "mu_p": f(mu_p),
        "sigma_p": f(sigma_p),
        "var": var,
        "beta": f(beta_np),
        "qs_greeks": {"beta": f(g["beta"]), "alpha": f(g["alpha"])},
        "cov_with_benchmark": f(C[0, 1]),
        "benchmark_var": f(C[1, 1]),
        "gross_exposure": f(gross),
        "net_exposure": f(net),
        "hhi": f(hhi),
        "effective_n": f(1.0 / hhi),
    }


def money_weighted(rp, dates):
    flows = dict(MWR_FLOWS)
    v = MWR_INITIAL
    for t in range(1, len(dates)):
        v = v * (1.0 + rp[t - 1])
        if t in flows:
            v = v + flows[t]
    final = v
    cfs = [(0, -MWR_INITIAL)] + [(t, -a) for t, a in MWR_FLOWS] + [(len(dates) - 1, final)]
    yf = [(dates[t] - dates[0]).days / 365.0 for t, _ in cfs]

    def npv(rate):
        tot = 0.0
        for (t, c), y in zip(cfs, yf):
            tot = tot + c * (1.0 + rate) ** (-y)
        return tot

    irr = brentq(npv, -0.9, 10.0, xtol=1e-16, rtol=4 * np.finfo(float).eps,
                 maxiter=200)
    daily = (1.0 + irr) ** (1.0 / 365.0) - 1.0
    return {
        "portfolio": MWR_PORTFOLIO,
        "convention": "account value V_0 = initial at close of dates[0]; "
                      "V_t = V_{t-1}*(1+r_p,t), then + flow_t if a flow is dated t; "
                      "investor cash flows: -initial, -flow_k, +V_T; "
                      "NPV(r) = sum c_k*(1+r)^(-(d_k-d_0)/365) = 0 (ACT/365, annual "
                      "effective rate; daily-compounded equivalent (1+r)^(1/365)-1)",
        "initial": {"date": dates[0].isoformat(), "date_index": 0, "amount": MWR_INITIAL},
        "flows": [{"date": dates[t].isoformat(), "date_index": t, "amount": a}
                  for t, a in MWR_FLOWS],
        "final_value": f(final),
        "investor_cash_flows": [{"date": dates[t].isoformat(), "amount": f(c),
                                 "year_fraction": f(y)} for (t, c), y in zip(cfs, yf)],
        "irr_annual": f(irr),
        "irr_daily_equivalent": f(daily),
        "npv_at_irr": f(npv(irr)),
    }


def compute():
    closes, bench = make_data()
    dates = weekdays(FIRST_DATE, N_CLOSES)
    R = np.column_stack([simple_returns(c) for c in closes])   # (503, 12)
    rb = simple_returns(bench)
    mu = np.mean(R, axis=0)
    cov = np.cov(R, rowvar=False, ddof=1)
    corr = np.corrcoef(R, rowvar=False)
    std = np.std(R, axis=0, ddof=1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ports = {k: risk_block(k, R, rb, w, dates, mu, cov) for k, w in WEIGHTS.items()}

    last = [c[-1] for c in closes]
    values = [q * p for q, p in zip(QUANTITIES, last)]
    invested = 0.0
    for x in values:
        invested = invested + x
    total = invested + CASH
    w_inv = [x / invested for x in values]
    hhi = 0.0
    for x in w_inv:
        hhi = hhi + x * x

    meta = {
        "generator": "scripts/portfolio_reference.py",
        "consumer": "shared/portfolio tests (future Rust portfolio-risk crate)",
        "docs": "shared/portfolio/docs/risk-conventions.md",
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": scipy.__version__, "quantstats": qs.__version__,
                     "pandas": pd.__version__},
        "seed": SEED,
        "generator_params": {
            "market": f"{MARKET_MU} + {MARKET_SD}*t{T_DF} (unit-variance t from normals)"
                      f" + {JUMP_SIZE} on days with uniform < {JUMP_PROB}",
            "sector_sd": SECTOR_SD, "idio_sd": IDIO_SD,
            "idio_mixture": f"normal * {IDIO_MIX_SCALE} with prob {IDIO_MIX_PROB}",
            "alphas": ALPHAS, "betas": BETAS, "sector": SECTOR,
            "sector_loading": SECTOR_LOADING, "start_prices": START_PRICES,
            "benchmark": f"start {BENCH_START}, r_b = market + {BENCH_NOISE_SD}*normal",
            "rounding": "closes rounded to 4 decimals (Python round); the rounded closes are used",
        },
        "conventions": {
            "returns": "r_t = close_t/close_{t-1} - 1, t = 1..503, dated dates[t]",
            "portfolio_return": "r_p,t = sum_i w_i*r_i,t, accumulated in asset order from 0.0",
            "std": "ddof=1 (two-pass: mean, then sum((r-mean)^2)/(n-1))",
            "ann_vol": "std * sqrt(252)",
            "sharpe": "qs.stats.sharpe(rf=0, periods=252, annualize=True, smart=False) = mean/std*sqrt(252)",
            "sortino": "qs.stats.sortino(rf=0, periods=252, smart=False) = mean/sqrt(sum(r[r<0]^2)/n)*sqrt(252), n = all returns",
            "max_drawdown": "qs.stats.max_drawdown(returns): equity 1+(cumprod(1+r)-1) with phantom baseline 1.0 before the first return; min(E/cummax(E)) - 1",
            "drawdown_details": "qs.stats.drawdown_details(qs.stats.to_drawdown_series(r)): start = first day under water, end = last day under water (not the recovery day), days = calendar (end-start).days + 1",
            "trading_days_duration": "numpy: recovery index (or last index if open) - peak index on the 504-point equity curve, peak may be dates[0] (baseline)",
            "cagr": "qs.stats.cagr: ((prod(1+r)-1)+1)^(1/(n/252)) - 1, n = 503 returns (count-based, not dates)",
            "calmar": "qs.stats.calmar = cagr / |max_drawdown|",
            "historical_var": "-np.percentile(r_p, 100*(1-a)) (linear); CVaR = -mean(r_p[r_p <= -VaR])",
            "qs_value_at_risk": "norm.ppf(1-a, mean, std) (parametric, a return: negative = loss)",
            "qs_conditional_value_at_risk": "mean - std*pdf(ppf(1-a))/(1-a) (parametric, quantstats >= 0.0.83; a return: negative = loss)",
            "qs_conditional_value_at_risk_historical": "method='historical': mean(r[r <= quantile(1-a)]) (pandas linear quantile)",
            "parametric": "Sigma = np.cov(R, ddof=1), mu = mean(R); mu_p = w.mu, sigma_p = sqrt(w'Sigma w); VaR = -(mu_p + z sigma_p), CVaR = -(mu_p - sigma_p*phi(z)/(1-a)), z = norm.ppf(1-a)",
            "cornish_fisher": "z_cf = z + (z^2-1)S/6 + (z^3-3z)K/24 - (2z^3-5z)S^2/36, S,K biased (K excess); VaR = -(mean + z_cf*std)",
            "beta": "np.cov(r_p, r_b)[0,1]/[1,1] (ddof=1)",
            "qs_greeks": "beta as above, alpha = (mean(r_p) - beta*mean(r_b))*252",
            "concentration": "HHI = sum((|w_i|/sum|w|)^2), effective_n = 1/HHI",
            "twr": "prod(1+r_p) - 1",
            "signs": "VaR/CVaR fields without the qs_ prefix are positive losses; qs_ fields are quantstats' own (negative) returns",
            "floats": "Python repr (exact round trip)",
        },
        "tolerance_note": "generated values agree with independent numpy re-derivations to <=1e-15 relative (most bit for bit); 1e-10 absolute is safe",
    }
    return {
        "meta": meta,
        "inputs": {
            "dates": [d.isoformat() for d in dates],
            "assets": ASSETS,
            "closes": closes,
            "benchmark": {"name": "BENCH", "closes": bench},
            "weights": WEIGHTS,
            "positions": {"quantities": QUANTITIES, "cash": CASH},
        },
        "asset_stats": {
            "returns_count": int(R.shape[0]),
            "mean": fl(mu),
            "std": fl(std),
            "covariance": [fl(row) for row in cov],
            "correlation": [fl(row) for row in corr],
        },
        "benchmark_stats": {"returns": fl(rb), "mean": f(np.mean(rb)),
                            "std": f(np.std(rb, ddof=1))},
        "portfolios": ports,
        "value_view": {
            "last_closes": fl(last),
            "market_values": fl(values),
            "invested": f(invested),
            "cash": CASH,
            "total_value": f(total),
            "weights_of_invested": fl(w_inv),
            "weights_of_total": fl([x / total for x in values]),
            "cash_weight": f(CASH / total),
            "hhi_invested": f(hhi),
            "effective_n_invested": f(1.0 / hhi),
        },
        "money_weighted": money_weighted(portfolio_returns(R, WEIGHTS[MWR_PORTFOLIO]), dates),
    }


# --------------------------------------------------------------- timing

def timing(n_assets=50, reps=200):
    """numpy-only risk metrics of a 50-asset, 504-close portfolio."""
    rng = np.random.default_rng(1)
    n = N_CLOSES - 1
    m = 0.0004 + 0.009 * rng.standard_normal(n)
    R0 = 0.0002 + m[:, None] * rng.uniform(0.6, 1.4, n_assets) \
        + 0.01 * rng.standard_normal((n, n_assets))
    closes = 50.0 * np.vstack([np.ones(n_assets), np.cumprod(1 + R0, axis=0)])
    closes = np.round(closes, 4)
    bench = np.round(4750 * np.concatenate(([1.0], np.cumprod(1 + m))), 4)
    w = np.full(n_assets, 1.0 / n_assets)

    def metrics():
        R = closes[1:] / closes[:-1] - 1.0
        rb = bench[1:] / bench[:-1] - 1.0
        rp = R @ w
        mean, std = rp.mean(), rp.std(ddof=1)
        out = [std * np.sqrt(252), mean / std * np.sqrt(252)]
        out.append(mean / np.sqrt(np.sum(np.minimum(rp, 0) ** 2) / n) * np.sqrt(252))
        eq = np.concatenate(([1.0], np.cumprod(1 + rp)))
        out.append((eq / np.maximum.accumulate(eq) - 1).min())
        for a in CONFIDENCES:
            v = -np.percentile(rp, 100 * (1 - a))
            out += [v, -rp[rp <= -v].mean()]
        S = np.cov(R, rowvar=False)
        mu = R.mean(axis=0)
        sp = np.sqrt(w @ S @ w)
        for a in CONFIDENCES:
            z = norm.ppf(1 - a)
            out += [-(w @ mu + z * sp), -(w @ mu - sp * norm.pdf(z) / (1 - a))]
        C = np.cov(rp, rb)
        out.append(C[0, 1] / C[1, 1])
        out.append(np.corrcoef(R, rowvar=False))
        out.append(np.prod(1 + rp) - 1)
        return out

    metrics()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        metrics()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2], ts[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timing", action="store_true")
    args = ap.parse_args()
    data = compute()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1) + "\n"
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text)} bytes)")
    if args.timing:
        med, best = timing()
        print(f"numpy risk metrics, 50 assets x 504 closes: median {med * 1e3:.3f} ms, "
              f"best {best * 1e3:.3f} ms (200 runs)")


if __name__ == "__main__":
    main()
