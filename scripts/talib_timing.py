#!/usr/bin/env python3
"""Time TA-Lib (Python wrapper on numpy float64 arrays) for the indicators
that `shared/analytics/benches/indicators.rs` benchmarks, to compare the
crate's speed with TA-Lib's.

Run from the repository root (same environment as talib_reference.py):

    .venv/bin/python scripts/talib_timing.py [bars] [runs]

Prints the median and the fastest of `runs` calls (default 21) on a seeded
random walk of `bars` bars (default 1,000,000), in milliseconds, for each
function with its default parameters. Each call allocates its outputs, as
`compute_series` does on the Rust side; compare with the Rust benchmark run
in the same sitting (on a shared machine the fastest run is the steadier
figure). It also times each function on 10 bars: that figure is
almost all wrapper overhead (argument checks, output allocation, the
ctypes-free Cython call), so it shows how much of the 1M-bar figure is TA-Lib's
C code itself. The random walk mirrors the Rust benchmark's (log-normal
steps of 1%, high/low 0-0.5% outside open/close, volume around 1e5) but is
not bit-identical to it; timings do not depend on the exact values.

Allocation differs in one way the kernels do not: numpy asks the kernel for
transparent huge pages on arrays of 4 MB and more, and Rust's `Vec` does not,
so at a million bars the Rust side takes a page fault per 4 KB of output
where numpy takes one per 2 MB. glibc keeps up to about 16 MB of freed heap
for reuse; indicators with more output than that (MACD and BBANDS: three
8 MB outputs) give it back and fault it in again on every call. To compare
the kernels without that, run both sides with the same allocator settings:

    export GLIBC_TUNABLES=glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=1073741824
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


def times_ms(thunk, runs):
    """(median, fastest) of `runs` calls, in milliseconds."""
    thunk()  # warm caches and page in the output allocation
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        thunk()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, min(times) * 1e3


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    big = random_walk(n)
    small = random_walk(10)
    print(f"TA-Lib {talib.__version__} (C {talib.__ta_version__.decode()}), "
          f"{runs} runs, default parameters")
    print(f"{'function':<10}{f'{n:,} bars median (ms)':>28}{'fastest (ms)':>14}"
          f"{'10 bars (us)':>14}")
    for name in FUNCTIONS:
        big_ms, fastest_ms = times_ms(call(name, big), runs)
        small_us = times_ms(call(name, small), max(runs, 1000))[0] * 1e3
        print(f"{name:<10}{big_ms:>28.3f}{fastest_ms:>14.3f}{small_us:>14.2f}")


if __name__ == "__main__":
    main()
