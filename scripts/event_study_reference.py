#!/usr/bin/env python3
"""Record a numpy reference for the market-model event study.

Consumed by shared/sentiment/tests/event_study.rs, which reads the closes
from the JSON written here, runs the Rust event study on them and checks every
figure below to 1e-10. This script is an independent, deliberately plain
numpy implementation of the same definitions; it shares no code with the
crate.

Run from the repository root (only numpy is needed):

    python3 -m venv /tmp/es
    /tmp/es/bin/pip install numpy
    /tmp/es/bin/python scripts/event_study_reference.py

It writes shared/sentiment/tests/data/event_study_reference.json. The data is
seeded, so a re-run writes an identical file.

Data (np.random.default_rng(7), drawn in this order):
    n = 600 daily closes, date indices 0..599.
    market: close[0] = 100; log returns at t = 1..599 are normal(0.0003, 0.01)
            (599 draws).
    stock:  close[0] = 50; log return at t = 0.0002 + 1.3 * market log return
            at t + normal(0, 0.015) (599 draws, after the market's).
    Abnormal jumps are added to the stock's log return at date index
    200 (+0.04), 320 (-0.05), 450 (+0.03) and 560 (-0.02); these are the
    events. (The log return "at t" is log(close[t] / close[t-1]).)
    Every close is rounded to 6 decimals; the ROUNDED closes are both written
    and used for all computation below (the Rust side reads them).

Conventions:
    Simple returns: r[t] = close[t] / close[t-1] - 1 for t >= 1, i.e. the
        return at date index t.
    Estimation window: offsets [-120, -11] inclusive relative to the event
        index e, i.e. returns at t = e-120 .. e-11 (L = 110 observations).
    OLS market model on that window (ri = stock, rm = market):
        beta   = sum((rm - mean rm) * (ri - mean ri)) / sum((rm - mean rm)^2)
        alpha  = mean(ri) - beta * mean(rm)
        eps    = ri - alpha - beta * rm
        sigma2 = sum(eps^2) / (L - 2);  sigma = sqrt(sigma2)
    Abnormal return: AR[t] = ri[t] - alpha - beta * rm[t].
        "ar" in the output holds AR at offsets -5..5 (11 values).
    Event windows (offsets, inclusive): [-1, 1], [0, 5], [-5, 5].
        CAR = sum of AR over the window; K = end - start + 1;
        var_car = K * sigma2; t_stat = CAR / sqrt(var_car).
    Across the N events, per window:
        caar     = mean(CAR)
        t_pooled = caar / (sqrt(sum(var_car_i)) / N)
        t_cross  = caar / (std(CAR, ddof=1) / sqrt(N))

Floats are written with Python's json module (repr), which round-trips
every double exactly.
"""

import json
import pathlib

import numpy as np

SEED = 7
N_CLOSES = 600
MARKET_START = 100.0
STOCK_START = 50.0
MARKET_MU = 0.0003
MARKET_SD = 0.01
STOCK_ALPHA = 0.0002
STOCK_BETA = 1.3
STOCK_NOISE_SD = 0.015
JUMPS = {200: 0.04, 320: -0.05, 450: 0.03, 560: -0.02}
EVENTS = [200, 320, 450, 560]
ESTIMATION = (-120, -11)
WINDOWS = [(-1, 1), (0, 5), (-5, 5)]
AR_OFFSETS = (-5, 5)

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "shared" / "sentiment" / "tests" / "data" / "event_study_reference.json"


def make_closes():
    rng = np.random.default_rng(SEED)
    m = N_CLOSES - 1
    market_lr = rng.normal(MARKET_MU, MARKET_SD, m)
    stock_noise = rng.normal(0.0, STOCK_NOISE_SD, m)
    stock_lr = STOCK_ALPHA + STOCK_BETA * market_lr + stock_noise
    # Index k of the draws is the log return at date index t = k + 1.
    for t, jump in JUMPS.items():
        stock_lr[t - 1] += jump
    market = MARKET_START * np.exp(np.concatenate(([0.0], np.cumsum(market_lr))))
    stock = STOCK_START * np.exp(np.concatenate(([0.0], np.cumsum(stock_lr))))
    return np.round(stock, 6), np.round(market, 6)


def simple_returns(close):
    """r[t] = close[t]/close[t-1] - 1, r[0] = NaN so r is indexed by date."""
    r = np.full(close.shape, np.nan)
    r[1:] = close[1:] / close[:-1] - 1.0
    return r


def market_model(ri, rm):
    """OLS of ri on rm; returns alpha, beta, sigma2."""
    L = ri.size
    dm = rm - rm.mean()
    di = ri - ri.mean()
    beta = np.sum(dm * di) / np.sum(dm * dm)
    alpha = ri.mean() - beta * rm.mean()
    eps = ri - alpha - beta * rm
    sigma2 = np.sum(eps * eps) / (L - 2)
    return alpha, beta, sigma2


def main():
    stock, market = make_closes()
    ri_all = simple_returns(stock)
    rm_all = simple_returns(market)

    results = []
    cars = {w: [] for w in WINDOWS}
    var_cars = {w: [] for w in WINDOWS}
    for e in EVENTS:
        lo, hi = e + ESTIMATION[0], e + ESTIMATION[1]
        assert lo >= 1
        ri = ri_all[lo:hi + 1]
        rm = rm_all[lo:hi + 1]
        assert ri.size == ESTIMATION[1] - ESTIMATION[0] + 1 == 110
        alpha, beta, sigma2 = market_model(ri, rm)
        sigma = np.sqrt(sigma2)

        def ar_slice(a, b):
            t = np.arange(e + a, e + b + 1)
            assert t[-1] < N_CLOSES
            return ri_all[t] - alpha - beta * rm_all[t]

        windows = []
        for (a, b) in WINDOWS:
            car = np.sum(ar_slice(a, b))
            k = b - a + 1
            var_car = k * sigma2
            windows.append({
                "start": a,
                "end": b,
                "car": float(car),
                "t_stat": float(car / np.sqrt(var_car)),
            })
            cars[(a, b)].append(car)
            var_cars[(a, b)].append(var_car)

        results.append({
            "event": e,
            "alpha": float(alpha),
            "beta": float(beta),
            "sigma": float(sigma),
            "ar": [float(x) for x in ar_slice(*AR_OFFSETS)],
            "windows": windows,
        })

    aggregate = []
    n = len(EVENTS)
    for w in WINDOWS:
        c = np.array(cars[w])
        v = np.array(var_cars[w])
        caar = c.mean()
        aggregate.append({
            "start": w[0],
            "end": w[1],
            "caar": float(caar),
            "t_pooled": float(caar / (np.sqrt(v.sum()) / n)),
            "t_cross": float(caar / (c.std(ddof=1) / np.sqrt(n))),
        })

    doc = {
        "generator": "scripts/event_study_reference.py",
        "estimation": list(ESTIMATION),
        "windows": [list(w) for w in WINDOWS],
        "stock": [float(x) for x in stock],
        "market": [float(x) for x in market],
        "events": EVENTS,
        "results": results,
        "aggregate": aggregate,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
