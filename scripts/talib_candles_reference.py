#!/usr/bin/env python3
"""Record TA-Lib's candlestick-pattern outputs as parity fixtures for gs-candles.

Run from the repository root with the project venv (ta-lib 0.8.2 wheel, which
bundles TA-Lib C 0.8.1, plus numpy):

    .venv/bin/python scripts/talib_candles_reference.py

It writes shared/candles/tests/data/talib_candles.json and prints, per
pattern, how many bars fired across all series. The output is deterministic
(fixed seeds), so re-running it only changes the file when TA-Lib changes.

Why the series look the way they do: most of the 61 patterns never fire on a
plain random walk, and parity on an all-zero output proves nothing. So the
fixtures mix
  * random candles drawn from a mixture (dojis, small bodies, marubozu-like
    bodies, long shadows, body gaps, trending stretches), once on a 0.01 tick
    grid (many exact ties, which exercise the >= / > edges and the "80"
    variants of engulfing and harami) and once at full precision and a
    different price scale;
  * a "planted" series: calm background candles with hand-built sequences of
    the rare patterns (concealing baby swallow, ladder bottom, mat hold, ...),
    each repeated at several scales with a little noise;
  * edge cases: leading NaNs (the Python wrapper skips them), a NaN in the
    middle (it poisons TA-Lib's running sums), flat zero-range bars, and a
    series shorter than most lookbacks.

JSON layout: NaN inputs are written as null; outputs are stored sparsely as
[index, value] pairs for the nonzero bars (every other bar is 0), which keeps
the file small while still pinning every bar.
"""

import json
import os
import sys

import numpy as np
import talib

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "shared",
    "candles",
    "tests",
    "data",
    "talib_candles.json",
)

PENETRATION_FUNCS = {
    "CDLABANDONEDBABY",
    "CDLDARKCLOUDCOVER",
    "CDLEVENINGDOJISTAR",
    "CDLEVENINGSTAR",
    "CDLMATHOLD",
    "CDLMORNINGDOJISTAR",
    "CDLMORNINGSTAR",
}
NON_DEFAULT_PENETRATION = 0.1


def random_candles(seed, n, price, tick):
    """Random walk of candles drawn from a mixture of shapes."""
    rng = np.random.default_rng(seed)
    o = np.empty(n)
    h = np.empty(n)
    lo = np.empty(n)
    c = np.empty(n)
    prev_close = price
    scale = price * 0.01
    drift = 0.0
    for i in range(n):
        if rng.random() < 0.03:
            # Start a trending stretch (or end one) so runs of same-colour candles appear.
            drift = rng.choice([-1.0, 0.0, 0.0, 1.0]) * scale * rng.uniform(0.3, 0.9)
        kind = rng.random()
        if kind < 0.18:
            body = rng.uniform(0.0, 0.05) * scale  # doji-like
        elif kind < 0.45:
            body = rng.uniform(0.05, 0.6) * scale  # small
        elif kind < 0.8:
            body = rng.uniform(0.6, 1.5) * scale  # normal
        else:
            body = rng.uniform(1.5, 4.0) * scale  # long
        direction = np.sign(drift) if drift != 0 and rng.random() < 0.7 else rng.choice([-1.0, 1.0])
        gap = 0.0
        g = rng.random()
        if g < 0.12:
            gap = rng.uniform(0.2, 2.0) * scale
        elif g < 0.24:
            gap = -rng.uniform(0.2, 2.0) * scale
        elif g < 0.5:
            gap = rng.normal(0.0, 0.3) * scale
        op = prev_close + gap
        cl = op + direction * body + drift * 0.2
        s = rng.random()
        if s < 0.2:
            up, dn = 0.0, 0.0  # marubozu
        elif s < 0.35:
            up, dn = 0.0, rng.uniform(0.5, 4.0) * scale  # hammer-ish
        elif s < 0.5:
            up, dn = rng.uniform(0.5, 4.0) * scale, 0.0  # shooting-star-ish
        elif s < 0.62:
            up, dn = rng.uniform(1.0, 4.0) * scale, rng.uniform(1.0, 4.0) * scale  # high wave
        else:
            up, dn = rng.exponential(0.3) * scale, rng.exponential(0.3) * scale
        hi = max(op, cl) + up
        lw = min(op, cl) - dn
        o[i], h[i], lo[i], c[i] = op, hi, lw, cl
        prev_close = cl
    if tick:
        o, h, lo, c = (np.round(x / tick) * tick for x in (o, h, lo, c))
        o, h, lo, c = (np.round(x, 2) for x in (o, h, lo, c))
    return o, h, lo, c


# Hand-built sequences, as (open, high, low, close) around a price of 100 with
# calm background candles of body ~1 and range ~2 before them. Each is written
# so the TA-Lib rule of its pattern holds with some margin.
TEMPLATES = {
    "concealbabyswall": [
        (100, 100, 97, 97),
        (96.5, 96.5, 94, 94),
        (93.5, 95, 92.3, 92.5),
        (95.2, 95.5, 92, 92.1),
    ],
    "kicking_bull": [(101, 101, 98, 98), (102, 105, 102, 105)],
    "kicking_bear": [(98, 101, 98, 101), (97, 97, 94, 94)],
    "kicking_bull_longer_first": [(104, 104, 98, 98), (105, 108, 105, 108)],
    "breakaway_bull": [
        (100, 100.1, 96.9, 97),
        (96.5, 96.7, 95.8, 96),
        (96.2, 96.4, 95.5, 95.7),
        (96.0, 96.1, 95.2, 95.3),
        (95.4, 96.9, 95.3, 96.8),
    ],
    "breakaway_bear": [
        (97, 100.1, 96.9, 100),
        (100.5, 101.2, 100.3, 101),
        (100.8, 101.5, 100.6, 101.3),
        (101.0, 101.8, 100.9, 101.7),
        (101.6, 101.7, 100.1, 100.2),
    ],
    "mathold": [
        (100, 103.1, 99.9, 103),
        (104, 104.2, 103.5, 103.6),
        (103.3, 103.5, 102.8, 102.9),
        (103.1, 103.3, 102.75, 102.8),
        (102.9, 104.8, 102.8, 104.6),
    ],
    "mathold_shallow": [
        (100, 103.1, 99.9, 103),
        (103.6, 103.8, 103.3, 103.4),
        (103.3, 103.4, 102.85, 102.95),
        (103.1, 103.2, 102.8, 102.9),
        (103.1, 104.4, 103.0, 104.2),
    ],
    "rising3methods": [
        (100, 103.2, 99.8, 103),
        (102.8, 102.9, 102.3, 102.4),
        (102.5, 102.6, 101.9, 102.0),
        (102.1, 102.2, 101.5, 101.6),
        (101.8, 104.6, 101.7, 104.5),
    ],
    "falling3methods": [
        (103, 103.2, 99.8, 100),
        (100.2, 100.7, 100.1, 100.6),
        (100.5, 101.1, 100.4, 101.0),
        (100.9, 101.5, 100.8, 101.4),
        (101.2, 101.3, 98.4, 98.5),
    ],
    "unique3river": [
        (103, 103.1, 99.5, 100),
        (101.5, 101.6, 99.0, 100.5),
        (99.5, 100.0, 99.4, 99.9),
    ],
    "ladderbottom": [
        (104, 104.1, 102.9, 103),
        (103.5, 103.6, 102.4, 102.5),
        (103, 103.1, 101.9, 102),
        (102.2, 103.0, 101.4, 101.5),
        (102.4, 103.6, 102.3, 103.5),
    ],
    "abandonedbaby_bull": [
        (103, 103.1, 99.9, 100),
        (99.0, 99.3, 98.7, 99.02),
        (99.6, 101.6, 99.5, 101.5),
    ],
    "abandonedbaby_bear": [
        (100, 103.1, 99.9, 103),
        (104.0, 104.3, 103.7, 103.98),
        (103.4, 103.5, 101.4, 101.5),
    ],
    "3starsinsouth": [
        (104, 104.1, 97.5, 101),
        (102, 102.1, 99, 100),
        (100.5, 100.52, 100.08, 100.1),
    ],
    "identical3crows": [
        (104, 104.1, 102.45, 102.5),
        (102.5, 102.55, 100.97, 101),
        (101.02, 101.05, 99.48, 99.5),
    ],
    "3blackcrows": [
        (102, 104.8, 101.9, 104.5),
        (104.4, 104.5, 102.95, 103),
        (103.5, 103.6, 101.97, 102),
        (102.5, 102.6, 100.98, 101),
    ],
    "3whitesoldiers": [
        (100, 101.55, 99.9, 101.5),
        (101, 102.65, 100.9, 102.6),
        (102.1, 103.72, 102.0, 103.7),
    ],
    "advanceblock": [
        (100, 103.1, 99.9, 103),
        (102.5, 103.9, 102.4, 103.7),
        (103.2, 104.5, 103.1, 104.0),
    ],
    "stalledpattern": [
        (100, 102.6, 99.9, 102.5),
        (102.3, 104.82, 102.2, 104.8),
        (104.7, 105.2, 104.6, 105.0),
    ],
    "gapsidesidewhite_up": [
        (100, 101.1, 99.9, 101),
        (101.5, 102.6, 101.4, 102.5),
        (101.55, 102.7, 101.45, 102.6),
    ],
    "gapsidesidewhite_down": [
        (103, 103.1, 101.9, 102),
        (100.5, 101.6, 100.4, 101.5),
        (100.55, 101.7, 100.45, 101.6),
    ],
    "tasukigap_up": [
        (100, 101.1, 99.9, 101),
        (101.5, 102.6, 101.4, 102.5),
        (102.2, 102.3, 101.1, 101.2),
    ],
    "tasukigap_down": [
        (102, 102.1, 100.9, 101),
        (100.5, 100.6, 99.4, 99.5),
        (99.8, 100.9, 99.7, 100.8),
    ],
    "upsidegap2crows": [
        (100, 103.1, 99.9, 103),
        (104, 104.1, 103.5, 103.6),
        (104.3, 104.4, 103.2, 103.3),
    ],
    "2crows": [
        (100, 103.1, 99.9, 103),
        (104.2, 104.3, 103.5, 103.6),
        (104, 104.1, 101.4, 101.5),
    ],
    "xsidegap3methods": [
        (100, 101.6, 99.9, 101.5),
        (102, 103.1, 101.9, 103),
        (102.5, 102.6, 100.9, 101),
    ],
    "hikkakemod_bull": [
        (100, 105, 95, 101),
        (99, 104, 96, 96.2),
        (98, 103, 97, 99),
        (100, 102, 96.5, 97),
        (98, 103.8, 97.5, 103.5),
    ],
    "hikkakemod_bear": [
        (100, 105, 95, 99),
        (101, 104, 96, 103.8),
        (100, 103, 97, 101),
        (101, 104, 98, 103),
        (101, 102, 96.5, 96.8),
    ],
    "onneck": [(103, 103.1, 99.8, 100), (99, 99.9, 98.8, 99.82)],
    "inneck": [(103, 103.1, 99.8, 100), (99, 100.1, 98.8, 100.05)],
    "thrusting": [(103, 103.1, 99.8, 100), (99, 101.1, 98.8, 101)],
    "piercing": [(103, 103.1, 99.8, 100), (99, 102.1, 98.8, 102)],
    "darkcloud": [(100, 103.2, 99.9, 103), (103.5, 103.6, 100.9, 101)],
    "counterattack_bull": [(103, 103.1, 99.9, 100), (97, 100.1, 96.9, 100.02)],
    "counterattack_bear": [(100, 103.1, 99.9, 103), (106, 106.1, 102.9, 103.03)],
    "separatinglines_bull": [(100, 100.1, 97.9, 98), (100.02, 102.6, 100.0, 102.5)],
    "separatinglines_bear": [(98, 100.1, 97.9, 100), (97.98, 98.0, 95.4, 95.5)],
    "matchinglow": [(102, 102.1, 99.9, 100), (101, 101.1, 99.9, 100.03)],
    "homingpigeon": [(103, 103.1, 99.9, 100), (102, 102.1, 100.9, 101)],
    "sticksandwich": [
        (102, 102.1, 99.9, 100),
        (100.5, 101.9, 100.3, 101.8),
        (102, 102.1, 99.9, 100.02),
    ],
    "tristar_bear": [
        (100, 100.5, 99.5, 100),
        (101, 101.5, 100.5, 101),
        (100.4, 100.9, 99.9, 100.4),
    ],
    "tristar_bull": [
        (100, 100.5, 99.5, 100),
        (99, 99.5, 98.5, 99),
        (99.6, 100.1, 99.1, 99.6),
    ],
    "3linestrike_bear": [
        (100, 101.1, 99.9, 101),
        (100.8, 102.1, 100.7, 102),
        (101.7, 103.1, 101.6, 103),
        (103.3, 103.4, 99.4, 99.5),
    ],
    "3linestrike_bull": [
        (103, 103.1, 101.9, 102),
        (102.2, 102.3, 100.9, 101),
        (101.3, 101.4, 99.9, 100),
        (99.7, 103.6, 99.6, 103.5),
    ],
    "morningstar": [(103, 103.1, 99.9, 100), (99.5, 99.7, 99.1, 99.3), (99.6, 102.1, 99.5, 102)],
    "morningdojistar": [(103, 103.1, 99.9, 100), (99.5, 99.8, 99.2, 99.51), (99.6, 102.1, 99.5, 102)],
    "eveningstar": [(100, 103.1, 99.9, 103), (103.5, 103.9, 103.3, 103.7), (103.4, 103.5, 100.9, 101)],
    "eveningdojistar": [(100, 103.1, 99.9, 103), (103.5, 103.8, 103.2, 103.51), (103.4, 103.5, 100.9, 101)],
    "3inside_up": [(103, 103.1, 99.9, 100), (101, 101.6, 100.8, 101.5), (101.6, 103.6, 101.5, 103.5)],
    "3outside_down": [(100, 101.1, 99.9, 101), (101.5, 101.6, 99.4, 99.5), (99.4, 99.5, 98.4, 98.5)],
    "takuri": [(100, 100.02, 96, 100.01)],
    "rickshawman": [(100, 102, 98, 100.01)],
    "belthold_bull": [(100, 103.1, 100, 103)],
    "closingmarubozu_bear": [(103, 103.4, 100, 100)],
}


def planted_series(seed, copies=4):
    rng = np.random.default_rng(seed)
    rows = []
    price = 100.0

    def background(count):
        nonlocal price
        for _ in range(count):
            body = rng.uniform(0.7, 1.2) * rng.choice([-1.0, 1.0])
            op = price + rng.normal(0.0, 0.1)
            cl = op + body
            hi = max(op, cl) + rng.uniform(0.3, 0.6)
            lw = min(op, cl) - rng.uniform(0.3, 0.6)
            rows.append((op, hi, lw, cl))
            price = cl
            # Pull the walk back towards 100 so the templates' absolute numbers stay sensible.
            price += (100.0 - price) * 0.3

    names = sorted(TEMPLATES)
    for copy in range(copies):
        for name in names:
            background(12)
            scale = [1.0, 0.5, 2.0, 1.3][copy % 4]
            base = 100.0 + rng.uniform(-5, 5)
            for (o, h, lw, c) in TEMPLATES[name]:
                noise = rng.normal(0.0, 0.002, size=4) if copy > 0 else np.zeros(4)
                bar = [base + (v - 100.0) * scale + n for v, n in zip((o, h, lw, c), noise)]
                bar[1] = max(bar)  # noise must not break high >= everything
                bar[2] = min(bar)
                rows.append(tuple(bar))
            # Confirmation bars matter for the hikkake family; plain background follows.
    background(12)
    arr = np.array(rows, dtype=float)
    return arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), arr[:, 3].copy()


def edge_series():
    o, h, lo, c = random_candles(7, 320, 50.0, 0.01)
    o, h, lo, c = (x.astype(float).copy() for x in (o, h, lo, c))
    for x in (o, h, lo, c):
        x[:5] = np.nan  # leading NaNs: the wrapper starts after them
    h[200] = np.nan  # a NaN in the middle poisons the running sums from then on
    for i in range(60, 75):  # flat, zero-range bars
        o[i] = h[i] = lo[i] = c[i] = 50.0
    for i in range(120, 130):  # identical repeated candles
        o[i], h[i], lo[i], c[i] = 50.0, 50.5, 49.5, 50.2
    return o, h, lo, c


def to_json_list(x):
    return [None if np.isnan(v) else float(v) for v in x]


def main():
    funcs = talib.get_function_groups()["Pattern Recognition"]
    assert len(funcs) == 61, len(funcs)

    series = [
        ("random_tick", *random_candles(1, 2500, 100.0, 0.01)),
        ("random_precise", *random_candles(2, 2500, 5000.0, None)),
        ("planted", *planted_series(3)),
        ("edge_nan_flat", *edge_series()),
        ("short", *random_candles(4, 8, 20.0, 0.01)),
    ]

    hits = {f.lower(): 0 for f in funcs}
    hits_nd = {f.lower(): 0 for f in funcs if f in PENETRATION_FUNCS}
    compared = 0
    doc = {
        "generator": "scripts/talib_candles_reference.py",
        "talib_python": talib.__version__,
        "talib_c": talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes) else str(talib.__ta_version__),
        "series": [],
    }
    for name, o, h, lo, c in series:
        entry = {
            "name": name,
            "open": to_json_list(o),
            "high": to_json_list(h),
            "low": to_json_list(lo),
            "close": to_json_list(c),
            "results": [],
        }
        runs = [(f, None) for f in funcs] + [
            (f, NON_DEFAULT_PENETRATION) for f in funcs if f in PENETRATION_FUNCS
        ]
        for f, pen in runs:
            fn = getattr(talib, f)
            out = fn(o, h, lo, c) if pen is None else fn(o, h, lo, c, penetration=pen)
            nz = [[int(i), int(out[i])] for i in np.nonzero(out)[0]]
            res = {"pattern": f.lower(), "nonzero": nz}
            if pen is not None:
                res["params"] = {"penetration": pen}
                hits_nd[f.lower()] += len(nz)
            else:
                hits[f.lower()] += len(nz)
            compared += len(out)
            entry["results"].append(res)
        doc["series"].append(entry)

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))

    print(f"wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT) / 1e6:.2f} MB), {compared} values")
    for f in funcs:
        k = f.lower()
        extra = f"  (penetration={NON_DEFAULT_PENETRATION}: {hits_nd[k]})" if k in hits_nd else ""
        print(f"{k:22s} {hits[k]:6d}{extra}")
    counts = sorted(hits.values())
    print(f"min {counts[0]}  median {counts[len(counts) // 2]}  max {counts[-1]}")
    weak = [k for k, v in hits.items() if v < 3]
    if weak:
        print("fewer than 3 hits:", ", ".join(weak))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
