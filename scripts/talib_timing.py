#!/usr/bin/env python3
"""Time TA-Lib (Python wrapper on numpy float64 arrays) for the indicators
that `shared/analytics/benches/indicators.rs` benchmarks, to compare the
crate's speed with TA-Lib's.

Run from the repository root (same environment as talib_reference.py):

    .venv/bin/python scripts/talib_timing.py [bars] [runs]

Prints the median of `runs` calls (default 7) on a seeded random walk of
`bars` bars (default 1,000,000), in milliseconds, for each function with its
default parameters. It also times each function on 10 bars: that figure is
almost all wrapper overhead (argument checks, output allocation, the
ctypes-free Cython call), so it shows how much of the 1M-bar figure is TA-Lib's
C code itself. The random walk mirrors the Rust benchmark's (log-normal
steps of 1%, high/low 0-0.5% outside open/close, volume around 1e5) but is
not bit-identical to it; timings do not depend on the exact values.
"""

import statistics
import sys
import time

import numpy as np
import talib

SEED = 20260705
FUNCTIONS = ["SMA", "EMA", "RSI", "MACD", "BBANDS", "ATR", "STOCH", "ADX"]


def random_walk(n, seed=SEED):
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1.0 + 0.005 * rng.random(n))
    low = np.minimum(open_, close) * (1.0 - 0.005 * rng.random(n))
    volume = np.round(1e5 * (0.5 + rng.random(n)))
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def call(name, bars):
    fn = getattr(talib, name)
    if name in ("ATR", "STOCH", "ADX"):
        return lambda: fn(bars["high"], bars["low"], bars["close"])
    return lambda: fn(bars["close"])


def median_ms(thunk, runs):
    thunk()  # warm caches and page in the output allocation
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        thunk()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    big = random_walk(n)
    small = random_walk(10)
    print(f"TA-Lib {talib.__version__} (C {talib.__ta_version__.decode()}), "
          f"median of {runs} runs, default parameters")
    print(f"{'function':<10}{f'{n:,} bars (ms)':>20}{'10 bars (us)':>16}")
    for name in FUNCTIONS:
        big_ms = median_ms(call(name, big), runs)
        small_us = median_ms(call(name, small), max(runs, 1000)) * 1e3
        print(f"{name:<10}{big_ms:>20.3f}{small_us:>16.2f}")


if __name__ == "__main__":
    main()
