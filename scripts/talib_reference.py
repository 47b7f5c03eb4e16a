#!/usr/bin/env python3
"""Record TA-Lib reference outputs for the gs-analytics parity tests.

The Rust crate `gs-analytics` (shared/analytics) promises TA-Lib-exact
indicators. This script is the only source of the numbers it is checked
against: it builds a fixed set of synthetic OHLCV series (seeded, so a re-run
writes identical files), runs the real TA-Lib through its Python wrapper on
each of them, and writes JSON under shared/analytics/tests/data/.

Run from the repository root:

    python3 -m venv .venv
    .venv/bin/pip install ta-lib==0.8.2 numpy
    .venv/bin/python scripts/talib_reference.py

Files written:
    inputs.json        every series: open/high/low/close/volume (NaN -> null)
    <indicator>.json   one file per indicator: its TA-Lib metadata and one case
                       per (parameter set, series) with every output array
                       (NaN -> null, i.e. warm-up bars)

Default parameters run on every series; the non-default sets run on a subset
(NON_DEFAULT_SERIES, SWEEP_SERIES) to keep the committed data small.

TA-Lib's Hilbert-transform functions (MAMA, HT_*) have an "unstable period"
set globally; it is left at the wrapper's default, 0, and recorded in each
file's header.

Indicators TA-Lib lacks (CUSTOM: vwap, ichimoku, keltner, donchian,
supertrend) are recorded from the small reference implementations at the end
of this file: plain Python loops that recompute every window from scratch,
a different code path from the Rust crate's running sums and deques. Their
files carry "source": "independent" instead of TA-Lib metadata; the
definitions are the ones stated in the crate's catalogue descriptions.
"""

import json
import math
import pathlib
import sys

import numpy as np
import talib
from talib import abstract

OUT_DIR = pathlib.Path(__file__).resolve().parent.parent / "shared" / "analytics" / "tests" / "data"
SEED = 20260705

# (indicator, [non-default parameter sets]). Defaults always run in addition.
# Parameter sets are chosen to hit TA-Lib's quirks: swapped fast/slow periods,
# period 1, periods longer than the short series, every MA type.
INDICATORS = [
    ("sma", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("ema", [{"timeperiod": 9}, {"timeperiod": 1}]),
    ("rsi", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("macd", [{"fastperiod": 5, "slowperiod": 35, "signalperiod": 5},
              {"fastperiod": 26, "slowperiod": 12, "signalperiod": 1}]),
    ("bbands", [{"timeperiod": 5},
                {"timeperiod": 10, "nbdevup": 1.5, "nbdevdn": 2.5, "matype": 1}]
     + [{"timeperiod": 9, "nbdevup": 2.0, "nbdevdn": 1.0, "matype": m, "sweep": True} for m in range(2, 9)]),
    ("atr", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("wma", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("stddev", [{"timeperiod": 10, "nbdev": 2.0}]),
    ("var", [{"timeperiod": 10, "nbdev": 2.0}, {"timeperiod": 1}]),
    ("trange", []),
    ("natr", [{"timeperiod": 5}]),
    ("obv", []),
    ("ad", []),
    ("adosc", [{"fastperiod": 5, "slowperiod": 20}, {"fastperiod": 10, "slowperiod": 3}]),
    ("mom", [{"timeperiod": 1}, {"timeperiod": 20}]),
    ("roc", [{"timeperiod": 1}, {"timeperiod": 20}]),
    ("rocp", [{"timeperiod": 1}, {"timeperiod": 20}]),
    ("rocr", [{"timeperiod": 1}, {"timeperiod": 20}]),
    ("willr", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("cci", [{"timeperiod": 5}, {"timeperiod": 20}]),
    ("stoch", [{"fastk_period": 14, "slowk_period": 3, "slowk_matype": 1, "slowd_period": 5, "slowd_matype": 1},
               {"fastk_period": 9, "slowk_period": 1, "slowk_matype": 0, "slowd_period": 1, "slowd_matype": 0}]
     + [{"fastk_period": 7, "slowk_period": 4, "slowk_matype": m, "slowd_period": 3, "slowd_matype": m,
         "sweep": True} for m in range(2, 9)]),
    ("stochf", [{"fastk_period": 14, "fastd_period": 3, "fastd_matype": 1},
                {"fastk_period": 1, "fastd_period": 1, "fastd_matype": 0}]
     + [{"fastk_period": 5, "fastd_period": 3, "fastd_matype": 7, "sweep": True}]),
    ("adx", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("adxr", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("dx", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("plus_di", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("minus_di", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("plus_dm", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("minus_dm", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("aroon", [{"timeperiod": 5}, {"timeperiod": 25}]),
    ("aroonosc", [{"timeperiod": 5}, {"timeperiod": 25}]),
    ("mfi", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("bop", []),
    ("cmo", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("apo", [{"fastperiod": 5, "slowperiod": 20, "matype": 0},
             {"fastperiod": 26, "slowperiod": 12, "matype": 2},
             {"fastperiod": 12, "slowperiod": 26, "matype": 7, "sweep": True}]),
    ("ppo", [{"fastperiod": 5, "slowperiod": 20, "matype": 0},
             {"fastperiod": 26, "slowperiod": 12, "matype": 2},
             {"fastperiod": 12, "slowperiod": 26, "matype": 7, "sweep": True}]),
    ("trix", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("ultosc", [{"timeperiod1": 3, "timeperiod2": 6, "timeperiod3": 12},
                {"timeperiod1": 20, "timeperiod2": 10, "timeperiod3": 5}]),
    ("dema", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("tema", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("trima", [{"timeperiod": 5}, {"timeperiod": 6}, {"timeperiod": 1}]),
    ("kama", [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("t3", [{"timeperiod": 10, "vfactor": 0.0}, {"timeperiod": 3, "vfactor": 1.0}]),
    ("midpoint", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("midprice", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("linearreg", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("linearreg_slope", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("linearreg_angle", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("linearreg_intercept", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("tsf", [{"timeperiod": 5}, {"timeperiod": 2}]),
    ("beta", [{"timeperiod": 10}, {"timeperiod": 1}]),
    ("correl", [{"timeperiod": 10}, {"timeperiod": 2}]),
    ("sar", [{"acceleration": 0.05, "maximum": 0.3}, {"acceleration": 0.02, "maximum": 0.01}]),
    ("mama", [{"fastlimit": 0.3, "slowlimit": 0.1}, {"fastlimit": 0.99, "slowlimit": 0.01}]),
    ("ht_trendline", []),
    ("ma", [{"timeperiod": 5, "matype": 7}, {"timeperiod": 1, "matype": 7}]
     + [{"timeperiod": 10, "matype": m, "sweep": True} for m in range(9)]),
    ("macdext", [{"fastperiod": 5, "fastmatype": 1, "slowperiod": 20, "slowmatype": 2,
                  "signalperiod": 4, "signalmatype": 3},
                 # Swapped periods carry their MA types along; MAMA seeded at an odd bar
                 # (the SMA(40) lookback moves its start to bar 7).
                 {"fastperiod": 40, "fastmatype": 0, "slowperiod": 12, "slowmatype": 7,
                  "signalperiod": 1, "signalmatype": 0}]
     + [{"fastperiod": 12, "fastmatype": 1, "slowperiod": 26, "slowmatype": 1,
         "signalperiod": 9, "signalmatype": 1, "sweep": True},
        {"fastperiod": 3, "fastmatype": 7, "slowperiod": 7, "slowmatype": 8,
         "signalperiod": 5, "signalmatype": 7, "sweep": True},
        {"fastperiod": 9, "fastmatype": 6, "slowperiod": 21, "slowmatype": 5,
         "signalperiod": 6, "signalmatype": 4, "sweep": True}]),
    ("macdfix", [{"signalperiod": 1}, {"signalperiod": 20}]),
    ("stochrsi", [{"timeperiod": 5, "fastk_period": 3, "fastd_period": 3, "fastd_matype": 1},
                  {"timeperiod": 2, "fastk_period": 14, "fastd_period": 1, "fastd_matype": 0}]
     + [{"timeperiod": 14, "fastk_period": 5, "fastd_period": 3, "fastd_matype": 7, "sweep": True}]),
    ("sarext", [{"startvalue": 0.0, "offsetonreverse": 0.01, "accelerationinitlong": 0.01,
                 "accelerationlong": 0.03, "accelerationmaxlong": 0.25, "accelerationinitshort": 0.04,
                 "accelerationshort": 0.01, "accelerationmaxshort": 0.1},
                # Forced short start, and starts/steps above their caps (TA-Lib clamps them).
                {"startvalue": -1.0e9, "offsetonreverse": 0.0, "accelerationinitlong": 0.5,
                 "accelerationlong": 0.3, "accelerationmaxlong": 0.2, "accelerationinitshort": 0.02,
                 "accelerationshort": 0.5, "accelerationmaxshort": 0.15}]
     + [{"startvalue": 90.0, "offsetonreverse": 0.02, "accelerationinitlong": 0.02,
         "accelerationlong": 0.02, "accelerationmaxlong": 0.2, "accelerationinitshort": 0.02,
         "accelerationshort": 0.02, "accelerationmaxshort": 0.2, "sweep": True}]),
]

NON_DEFAULT_SERIES = ["trend_up", "tiny", "short"]
# Sets that only sweep the MA type run on one series: the MA code paths are
# already checked on every series through the MA indicators themselves.
SWEEP_SERIES = ["trend_up"]


def ohlc_from_close(rng, close, spread):
    """Derive open/high/low around a close path so that low <= open,close <= high."""
    prev = np.concatenate(([close[0]], close[:-1]))
    open_ = prev + rng.normal(0.0, spread * 0.3, close.size)
    top = np.maximum(open_, close)
    bottom = np.minimum(open_, close)
    high = top + np.abs(rng.normal(0.0, spread, close.size))
    low = bottom - np.abs(rng.normal(0.0, spread, close.size))
    return open_, high, low


def random_walk(rng, n, start, drift, vol):
    steps = rng.normal(drift, vol, n)
    return start * np.exp(np.cumsum(steps))


def make_series():
    rng = np.random.default_rng(SEED)
    series = {}

    def add(name, close, spread, volume):
        open_, high, low = ohlc_from_close(rng, close, spread)
        series[name] = {"open": open_, "high": high, "low": low, "close": close, "volume": volume}

    def volume(n, mean=1.0e5, whole=True):
        v = rng.lognormal(math.log(mean), 0.5, n)
        return np.round(v) if whole else v

    # The main series is longer so that long warm-ups (TEMA/TRIX at period 30)
    # still leave plenty of values; the others stay shorter to keep data small.
    add("trend_up", random_walk(rng, 300, 100.0, 0.002, 0.015), 0.8, volume(300))
    n = 175
    add("trend_down", random_walk(rng, n, 100.0, -0.002, 0.015), 0.8, volume(n))

    flat = np.full(n, 50.0)
    series["flat"] = {"open": flat.copy(), "high": flat.copy(), "low": flat.copy(),
                      "close": flat.copy(), "volume": np.full(n, 1000.0)}

    gapped = random_walk(rng, n, 40.0, 0.0, 0.01)
    for at in rng.choice(np.arange(20, n), 8, replace=False):
        gapped[at:] *= rng.choice([0.85, 1.15])
    add("gapped", gapped, 0.3, volume(n))

    add("tiny", random_walk(rng, n, 1.0e-4, 0.0, 0.02), 1.0e-6, volume(n))
    add("huge", random_walk(rng, n, 1.0e6, 0.0005, 0.01), 5.0e3, volume(n, 1.0e9))

    zero_vol = volume(n)
    zero_vol[40:70] = 0.0
    zero_vol[150:155] = 0.0
    zero_vol[0:3] = 0.0
    add("zero_volume", random_walk(rng, n, 20.0, 0.0, 0.012), 0.15, zero_vol)
    # Bars with no range at all (high == low == open == close) while volume is zero.
    for key in ("open", "high", "low"):
        series["zero_volume"][key][40:50] = series["zero_volume"]["close"][40:50]

    lead = random_walk(rng, n, 75.0, 0.001, 0.01)
    add("leading_nan", lead, 0.5, volume(n))
    for key in series["leading_nan"]:
        series["leading_nan"][key][:7] = np.nan

    add("short", random_walk(rng, 12, 10.0, 0.0, 0.02), 0.1, volume(12))
    # Far below any fixed epsilon: shows which of TA-Lib's zero tests are
    # absolute (1e-14) and which only catch an exact zero.
    add("micro", random_walk(rng, 120, 1.0e-12, 0.0, 0.02), 1.0e-14, volume(120, 1.0e-3, whole=False))
    # Bars around 1e6 whose moves and ranges are a few hundred ulps at most:
    # TA-Lib treats a difference as zero relative to the operands' size in
    # some functions and only exact zeros in others, and this tells them apart.
    ulp = np.spacing(1.0e6)
    steps = rng.integers(-300, 301, 60) * ulp
    base = 1.0e6 + np.cumsum(steps)
    top = base + rng.integers(0, 400, 60) * ulp
    bottom = base - rng.integers(0, 400, 60) * ulp
    series["near_tie"] = {"open": base.copy(), "high": top, "low": bottom,
                          "close": base + (top - base) * rng.random(60) * 0.5,
                          "volume": volume(60)}
    return series


def to_json_list(values):
    out = []
    for v in values:
        v = float(v)
        if math.isnan(v):
            out.append(None)
        elif math.isinf(v):
            sys.exit("TA-Lib produced an infinity; the data format has no place for it")
        else:
            out.append(v)
    return out


def run(name, params, data):
    fn = abstract.Function(name.upper())
    fn.set_parameters(params)
    fn.set_input_arrays(data)
    result = fn.outputs
    if not isinstance(result, list):
        result = [result]
    return dict(zip(fn.output_names, (to_json_list(r) for r in result)))


# ---------------------------------------------------------------------------
# Indicators TA-Lib lacks: independent reference implementations.
#
# Each takes one series (dict of numpy arrays) and its parameters and returns
# {output name: list of floats, NaN in the warm-up}. Like TA-Lib's wrapper and
# the crate's `compute`, they run from the first bar where every input is a
# number and pad the bars before it. Every window is recomputed from scratch
# with plain Python floats.

NAN = float("nan")


def trimmed(data, inputs, fn):
    """Runs fn on the bars from the first all-number bar on; pads the rest."""
    cols = [[float(v) for v in data[k]] for k in inputs]
    n = len(cols[0])
    begin = next((i for i in range(n) if not any(math.isnan(c[i]) for c in cols)), max(n - 1, 0))
    outputs = fn(*[c[begin:] for c in cols])
    return {name: [NAN] * begin + values for name, values in outputs.items()}


def ref_atr(high, low, close, period):
    """TA-Lib's ATR: no value on bar 0; the mean of the first `period` true
    ranges on bar `period`, then Wilder smoothing."""
    n = len(close)
    tr = [NAN] + [max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))
                  for i in range(1, n)]
    if period <= 1:
        return tr
    out = [NAN] * n
    if n <= period:
        return out
    out[period] = sum(tr[1:period + 1]) / period
    for i in range(period + 1, n):
        out[i] = (out[i - 1] * (period - 1) + tr[i]) / period
    return out


def ref_ema(x, period):
    """TA-Lib's EMA: seeded with the mean of the first `period` values."""
    n = len(x)
    out = [NAN] * n
    if n < period:
        return out
    k = 2.0 / (period + 1)
    out[period - 1] = sum(x[:period]) / period
    for i in range(period, n):
        out[i] = out[i - 1] + k * (x[i] - out[i - 1])
    return out


def ref_midpoint(high, low, period):
    n = len(high)
    return [NAN if i + 1 < period else
            (max(high[i + 1 - period:i + 1]) + min(low[i + 1 - period:i + 1])) / 2.0
            for i in range(n)]


def ref_vwap(p, high, low, close, volume):
    period = p["timeperiod"]
    out = []
    for i in range(len(close)):
        if period > 0 and i + 1 < period:
            out.append(NAN)
            continue
        first = 0 if period == 0 else i + 1 - period
        window = range(first, i + 1)
        total = sum(volume[j] for j in window)
        weighted = sum((high[j] + low[j] + close[j]) / 3.0 * volume[j] for j in window)
        out.append(NAN if total == 0 else weighted / total)
    return {"real": out}


def ref_ichimoku(p, high, low, close):
    tenkan = ref_midpoint(high, low, p["tenkan_period"])
    kijun = ref_midpoint(high, low, p["kijun_period"])
    return {
        "tenkan": tenkan,
        "kijun": kijun,
        "senkou_a": [(t + k) / 2.0 for t, k in zip(tenkan, kijun)],
        "senkou_b": ref_midpoint(high, low, p["senkou_b_period"]),
        "chikou": list(close),
    }


def ref_keltner(p, high, low, close):
    n = len(close)
    middle = ref_ema(close, p["timeperiod"])
    atr = ref_atr(high, low, close, p["atr_period"])
    upper, mid, lower = [NAN] * n, [NAN] * n, [NAN] * n
    for i in range(n):
        if not (math.isnan(middle[i]) or math.isnan(atr[i])):
            upper[i] = middle[i] + p["multiplier"] * atr[i]
            mid[i] = middle[i]
            lower[i] = middle[i] - p["multiplier"] * atr[i]
    return {"upperband": upper, "middleband": mid, "lowerband": lower}


def ref_donchian(p, high, low):
    period = p["timeperiod"]
    upper = [NAN if i + 1 < period else max(high[i + 1 - period:i + 1]) for i in range(len(high))]
    lower = [NAN if i + 1 < period else min(low[i + 1 - period:i + 1]) for i in range(len(low))]
    return {"upperband": upper, "middleband": [(u + l) / 2.0 for u, l in zip(upper, lower)],
            "lowerband": lower}


def ref_supertrend(p, high, low, close):
    """TradingView's ta.supertrend, read literally (the previous line is
    compared with the previous upper band to know the trend), except that
    the first bar's final bands are its basic bands and direction is +1 up."""
    n = len(close)
    atr = ref_atr(high, low, close, p["timeperiod"])
    line, direction = [NAN] * n, [NAN] * n
    upper = lower = NAN
    for i in range(n):
        if math.isnan(atr[i]):
            continue
        hl2 = (high[i] + low[i]) / 2.0
        basic_upper = hl2 + p["multiplier"] * atr[i]
        basic_lower = hl2 - p["multiplier"] * atr[i]
        if math.isnan(line[i - 1]) if i > 0 else True:
            upper, lower = basic_upper, basic_lower
            down = True
        else:
            prev_upper, prev_lower = upper, lower
            lower = basic_lower if basic_lower > prev_lower or close[i - 1] < prev_lower else prev_lower
            upper = basic_upper if basic_upper < prev_upper or close[i - 1] > prev_upper else prev_upper
            if line[i - 1] == prev_upper:
                down = not close[i] > upper
            else:
                down = close[i] < lower
        line[i] = upper if down else lower
        direction[i] = -1.0 if down else 1.0
    return {"supertrend": line, "direction": direction}


# (name, inputs, defaults in parameter order, outputs, implementation, [non-default sets])
CUSTOM = [
    ("vwap", ["high", "low", "close", "volume"], {"timeperiod": 0}, ["real"], ref_vwap,
     [{"timeperiod": 20}, {"timeperiod": 1}]),
    ("ichimoku", ["high", "low", "close"],
     {"tenkan_period": 9, "kijun_period": 26, "senkou_b_period": 52},
     ["tenkan", "kijun", "senkou_a", "senkou_b", "chikou"], ref_ichimoku,
     [{"tenkan_period": 5, "kijun_period": 10, "senkou_b_period": 20}]),
    ("keltner", ["high", "low", "close"], {"timeperiod": 20, "atr_period": 10, "multiplier": 2.0},
     ["upperband", "middleband", "lowerband"], ref_keltner,
     [{"timeperiod": 10, "atr_period": 20, "multiplier": 1.5},
      {"timeperiod": 1, "atr_period": 1, "multiplier": 2.5}]),
    ("donchian", ["high", "low"], {"timeperiod": 20}, ["upperband", "middleband", "lowerband"],
     ref_donchian, [{"timeperiod": 5}, {"timeperiod": 1}]),
    ("supertrend", ["high", "low", "close"], {"timeperiod": 10, "multiplier": 3.0},
     ["supertrend", "direction"], ref_supertrend,
     [{"timeperiod": 7, "multiplier": 2.0}, {"timeperiod": 1, "multiplier": 1.0}]),
]


def runs_for(extra, series):
    runs = [({}, list(series))]
    for p in extra:
        p = dict(p)
        runs.append((p, SWEEP_SERIES if p.pop("sweep", False) else NON_DEFAULT_SERIES))
    return runs


def main():
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    series = make_series()
    inputs = {name: {k: to_json_list(v) for k, v in cols.items()} for name, cols in series.items()}
    header = {
        "generator": "scripts/talib_reference.py",
        "talib_python": talib.__version__,
        "talib_c": talib.__ta_version__.decode(),
        "seed": SEED,
        "unstable_periods": {f: talib.get_unstable_period(f) for f in ("MAMA", "HT_TRENDLINE")},
    }
    (OUT_DIR / "inputs.json").write_text(json.dumps({**header, "series": inputs}, separators=(",", ":")))

    total_values = 0
    for name, extra in INDICATORS:
        fn = abstract.Function(name.upper())
        defaults = dict(fn.parameters)
        cases = []
        for params, series_names in runs_for(extra, series):
            full = {**defaults, **params}
            for sname in series_names:
                outputs = run(name, full, series[sname])
                total_values += sum(len(v) for v in outputs.values())
                cases.append({"params": full, "series": sname, "outputs": outputs})
        doc = {
            **header,
            "indicator": name,
            "defaults": defaults,
            # JSON objects carry no order; TA-Lib's parameter order is part of the API.
            "param_names": list(defaults),
            "output_names": list(fn.output_names),
            "cases": cases,
        }
        (OUT_DIR / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")))

    for name, inputs, defaults, output_names, fn, extra in CUSTOM:
        cases = []
        for params, series_names in runs_for(extra, series):
            full = {**defaults, **params}
            for sname in series_names:
                raw = trimmed(series[sname], inputs, lambda *cols: fn(full, *cols))
                outputs = {k: to_json_list(raw[k]) for k in output_names}
                total_values += sum(len(v) for v in outputs.values())
                cases.append({"params": full, "series": sname, "outputs": outputs})
        doc = {
            **header,
            "indicator": name,
            "source": "independent",
            "defaults": defaults,
            "param_names": list(defaults),
            "output_names": output_names,
            "cases": cases,
        }
        (OUT_DIR / f"{name}.json").write_text(json.dumps(doc, separators=(",", ":")))

    size = sum(p.stat().st_size for p in OUT_DIR.glob("*.json"))
    print(f"wrote {len(INDICATORS) + len(CUSTOM)} indicators, {total_values} output values, {size / 1e6:.2f} MB to {OUT_DIR}")


if __name__ == "__main__":
    main()
