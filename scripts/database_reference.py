#!/usr/bin/env python3
"""Writes shared/tools/tests/data/database_reference.json: a small
deterministic set of daily bars for three symbols and, computed from them
with numpy only, every number the `database` tools derive (field
statistics, VWAP, simple and log returns, equal-, value- and fixed-weighted
indices, the correlation matrix of simple returns, cumulative returns).

The bars are written into the JSON, so the Rust tests read exactly the
inputs numpy saw. Conventions (the same as gs-tools' database module):
  * VWAP = sum(typical * volume) / sum(volume), typical = (high + low + close) / 3.
  * Returns are close-to-close; the standard deviation uses ddof=1.
  * Multi-symbol maths runs on the timestamps common to every symbol.
  * Indices start at 100 and rebalance every bar: I_t = I_{t-1} * (1 + sum w r / sum w),
    with w = 1 (equal), w = close_{t-1} * volume_{t-1} (value), or fixed weights.
  * Correlation is numpy.corrcoef (Pearson) of the aligned simple returns.

Run: python3 scripts/database_reference.py (needs numpy).
"""

import json
import pathlib

import numpy as np

OUT = (
    pathlib.Path(__file__).resolve().parent.parent
    / "shared/tools/tests/data/database_reference.json"
)
SEED = 20240102
DAY = 86_400
# 2024-01-01, a Monday.
ORIGIN = 1_704_067_200


def weekdays(n):
    """The first n weekday midnights (UTC) from ORIGIN."""
    out, t = [], ORIGIN
    while len(out) < n:
        if ((t // DAY) + 3) % 7 < 5:  # 1970-01-01 was a Thursday
            out.append(t)
        t += DAY
    return out


def make_bars(rng, times, level, vol, volume):
    closes = level * np.exp(np.cumsum(rng.normal(0.0, vol, len(times))))
    opens = np.concatenate([[level], closes[:-1]]) * np.exp(rng.normal(0.0, vol / 4, len(times)))
    highs = np.maximum(opens, closes) * (1 + rng.uniform(0.0, vol, len(times)))
    lows = np.minimum(opens, closes) * (1 - rng.uniform(0.0, vol, len(times)))
    vols = np.round(volume * rng.uniform(0.5, 1.5, len(times)))
    bars = []
    for t, o, h, lo, c, v in zip(times, opens, highs, lows, closes, vols):
        o, c = round(float(o), 4), round(float(c), 4)
        # Rounded, the bar must still satisfy low <= open, close <= high.
        h = max(round(float(h), 4), o, c)
        lo = min(round(float(lo), 4), o, c)
        bars.append(
            {"time": int(t), "open": o, "high": h, "low": lo, "close": c, "volume": float(v)}
        )
    return bars


def stats(x):
    return {
        "mean": float(np.mean(x)),
        "min": float(np.min(x)),
        "max": float(np.max(x)),
        "sum": float(np.sum(x)),
    }


def main():
    rng = np.random.default_rng(SEED)
    days = weekdays(45)
    symbols = ["AAA", "BBB", "CCC"]
    times = {
        # BBB misses two sessions; CCC has a Saturday bar nobody else has.
        "AAA": days,
        "BBB": [t for i, t in enumerate(days) if i not in (7, 30)],
        "CCC": sorted(days + [days[4] + DAY]),
    }
    specs = {"AAA": (100.0, 0.02, 1e6), "BBB": (50.0, 0.03, 3e6), "CCC": (250.0, 0.015, 4e5)}
    bars = {s: make_bars(rng, times[s], *specs[s]) for s in symbols}

    per_symbol = {}
    for s in symbols:
        b = bars[s]
        c = np.array([x["close"] for x in b])
        h = np.array([x["high"] for x in b])
        lo = np.array([x["low"] for x in b])
        v = np.array([x["volume"] for x in b])
        r = c[1:] / c[:-1] - 1.0
        per_symbol[s] = {
            "close": stats(c),
            "volume": stats(v),
            "vwap": float(np.sum((h + lo + c) / 3.0 * v) / np.sum(v)),
            "simple_returns": r.tolist(),
            "log_returns": np.log(c[1:] / c[:-1]).tolist(),
            "mean_return": float(np.mean(r)),
            "std_return": float(np.std(r, ddof=1)),
        }

    common = sorted(set.intersection(*(set(times[s]) for s in symbols)))
    C = np.array([[x["close"] for x in bars[s] if x["time"] in common] for s in symbols])
    V = np.array([[x["volume"] for x in bars[s] if x["time"] in common] for s in symbols])
    R = C[:, 1:] / C[:, :-1] - 1.0

    def index(steps):
        return (100.0 * np.cumprod(np.concatenate([[1.0], 1.0 + steps]))).tolist()

    W = C[:, :-1] * V[:, :-1]
    fixed = np.array([0.5, 0.3, 0.2])
    reference = {
        "generator": "scripts/database_reference.py",
        "seed": SEED,
        "numpy": np.__version__,
        "symbols": symbols,
        "bars": bars,
        "per_symbol": per_symbol,
        "common_times": [int(t) for t in common],
        "equal_weighted_index": index(R.mean(axis=0)),
        "value_weighted_index": index((W * R).sum(axis=0) / W.sum(axis=0)),
        "fixed_weights": fixed.tolist(),
        "fixed_weighted_index": index((fixed[:, None] * R).sum(axis=0) / fixed.sum()),
        "correlation": np.corrcoef(R).tolist(),
        "cumulative_returns": (C[:, -1] / C[:, 0] - 1.0).tolist(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(OUT.parent.parent.parent.parent.parent)}")


if __name__ == "__main__":
    main()
