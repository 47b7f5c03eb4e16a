#!/usr/bin/env python3
"""Record QuantLib 1.44 reference prices and Greeks for the options parity tests.

The options crate (shared/options) promises to reproduce QuantLib 1.44. This
script is the only source of the numbers it is checked against: it prices a
fixed grid of vanilla options (plus a seeded sample for the sections that
cannot afford the whole grid) with the real QuantLib, through its Python
wrapper, and writes one JSON file consumed by
shared/options/tests/quantlib_parity.rs:

    shared/options/tests/data/quantlib_reference.json

Run from the repository root:

    python3 -m venv /tmp/ql
    /tmp/ql/bin/pip install QuantLib==1.44
    /tmp/ql/bin/python scripts/quantlib_reference.py

Everything is deterministic (fixed grid, random.Random(SEED) for the sampled
sections, fixed evaluation date), so a re-run writes a byte-identical file.

Conventions (recorded again in the file's "meta" block):
  * evaluation date 2025-01-15 (ql.Settings.instance().evaluationDate);
    maturity = evaluation date + `days` calendar days; t = days / 365.0 as
    Python computes it (Actual365Fixed; QuantLib computes the same double);
  * FlatForward(r) and FlatForward(q), Actual365Fixed, Continuous;
    BlackConstantVol(sigma), Actual365Fixed, NullCalendar;
    BlackScholesMertonProcess; spot S = 100;
  * American exercise = AmericanExercise(evaluation date, maturity);
  * numbers are written with Python's float repr (exact round trip); NaN and
    infinities are never written: a case QuantLib cannot price (it throws or
    returns a non-finite number) is skipped and counted in meta.skipped.

Sections: european, baw, bjs, crr, black76, bachelier, higher_order,
implied_vol. Units and caveats per section are in meta.sections; the maths
behind each engine is written up in shared/options/docs/quantlib-1.44.md.
"""

import itertools
import json
import math
import pathlib
import random
import sys

import QuantLib as ql

OUT = (pathlib.Path(__file__).resolve().parent.parent
       / "shared" / "options" / "tests" / "data" / "quantlib_reference.json")
SEED = 20250115

S0 = 100.0
STRIKES = [50.0, 70.0, 85.0, 95.0, 100.0, 105.0, 115.0, 140.0, 200.0]
DAYS = [1, 7, 30, 91, 182, 365, 730, 1825]
VOLS = [0.01, 0.05, 0.2, 0.5, 1.0, 3.0]
RATES = [-0.01, 0.0, 0.03, 0.08, 0.15]
DIVS = [0.0, 0.02, 0.1]
RIGHTS = ["call", "put"]
RQ = list(itertools.product(RATES, DIVS))  # 15 (r, q) pairs

TODAY = ql.Date(15, ql.January, 2025)
DC = ql.Actual365Fixed()

# The (K, days, vol, right) product; each section pairs every base point with a
# few (r, q) pairs, rotating through all 15 so every pair appears equally often.
BASE = list(itertools.product(STRIKES, DAYS, VOLS, RIGHTS))  # 864 points

EURO_GREEKS = ["delta", "gamma", "vega", "theta", "thetaPerDay", "rho",
               "dividendRho", "elasticity", "strikeSensitivity",
               "itmCashProbability"]
# BjS never sets elasticity / itmCashProbability (the wheel returns garbage).
BJS_GREEKS = ["delta", "gamma", "vega", "theta", "thetaPerDay", "rho",
              "dividendRho", "strikeSensitivity"]
CRR_GREEKS = ["delta", "gamma", "theta"]
CRR_STEPS = [1, 2, 3, 10, 101, 500]

IV_ACCURACY = 1e-12
IV_MAX_EVALS = 500
IV_MIN_VOL = 1e-7
IV_MAX_VOL = 4.0

skipped = {}


def skip(section, reason):
    key = f"{section}: {reason}"
    skipped[key] = skipped.get(key, 0) + 1


def finite(d):
    return all(not isinstance(v, float) or math.isfinite(v) for v in d.values())


def process(spot, r, q, vol):
    rts = ql.YieldTermStructureHandle(
        ql.FlatForward(TODAY, ql.QuoteHandle(ql.SimpleQuote(r)), DC, ql.Continuous))
    qts = ql.YieldTermStructureHandle(
        ql.FlatForward(TODAY, ql.QuoteHandle(ql.SimpleQuote(q)), DC, ql.Continuous))
    vts = ql.BlackVolTermStructureHandle(
        ql.BlackConstantVol(TODAY, ql.NullCalendar(), ql.QuoteHandle(ql.SimpleQuote(vol)), DC))
    return ql.BlackScholesMertonProcess(ql.QuoteHandle(ql.SimpleQuote(spot)), qts, rts, vts)


def option(strike, days, right, american):
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if right == "call" else ql.Option.Put, strike)
    maturity = TODAY + days
    exercise = ql.AmericanExercise(TODAY, maturity) if american else ql.EuropeanExercise(maturity)
    return ql.VanillaOption(payoff, exercise)


def inputs(strike, days, r, q, vol, right, spot=S0):
    return {"S": spot, "K": strike, "days": days, "r": r, "q": q, "vol": vol,
            "right": right, "t": days / 365.0}


def greeks(opt, names):
    """Greeks QuantLib provides for this case ("not provided" ones are left out)."""
    out = {}
    for name in names:
        try:
            value = getattr(opt, name)()
        except RuntimeError:
            continue
        out[name] = value
    return out


def rotated(offset, per_point):
    """(K, days, vol, right, r, q) for every base point and `per_point` (r, q) pairs."""
    for i, (k, d, v, right) in enumerate(BASE):
        for j in range(per_point):
            r, q = RQ[(i * per_point + j + offset) % len(RQ)]
            yield k, d, v, right, r, q


# ---------------------------------------------------------------- european
def european_section():
    cases = []
    for k, d, v, right, r, q in rotated(0, 4):
        opt = option(k, d, right, False)
        opt.setPricingEngine(ql.AnalyticEuropeanEngine(process(S0, r, q, v)))
        try:
            case = inputs(k, d, r, q, v, right)
            case["npv"] = opt.NPV()
            case.update(greeks(opt, EURO_GREEKS))
        except RuntimeError:
            skip("european", "QuantLib error")
            continue
        if not finite(case):
            skip("european", "non-finite result")
            continue
        cases.append(case)
    return cases


# ---------------------------------------------------------------- baw / bjs
def baw_section():
    cases = []
    for k, d, v, right, r, q in rotated(5, 2):
        opt = option(k, d, right, True)
        opt.setPricingEngine(ql.BaroneAdesiWhaleyApproximationEngine(process(S0, r, q, v)))
        case = inputs(k, d, r, q, v, right)
        try:
            case["npv"] = opt.NPV()
        except RuntimeError as e:
            msg = str(e)
            if "negative interest rates" in msg:
                skip("baw", "throws: negative risk-free rate (call with r < 0)")
            elif "must be positive" in msg:
                skip("baw", "throws: critical-price Newton iteration diverged")
            else:
                skip("baw", "throws: other")
            continue
        extra = greeks(opt, EURO_GREEKS)
        # Greeks exist only when early exercise is never optimal and the engine
        # returns the European (BlackCalculator) results.
        case["european_branch"] = bool(extra)
        case.update(extra)
        if not finite(case):
            skip("baw", "non-finite result")
            continue
        cases.append(case)
    return cases


def bjs_section():
    cases = []
    for k, d, v, right, r, q in rotated(10, 2):
        if right == "call" and q == 0.0 and r < 0.0:
            # beta == 1 exactly in theory; QuantLib's value is rounding noise here
            skip("bjs", "degenerate beta~1 class (call, q == 0, r < 0)")
            continue
        opt = option(k, d, right, True)
        opt.setPricingEngine(ql.BjerksundStenslandApproximationEngine(process(S0, r, q, v)))
        case = inputs(k, d, r, q, v, right)
        try:
            case["npv"] = opt.NPV()
            case.update(greeks(opt, BJS_GREEKS))
        except RuntimeError:
            skip("bjs", "QuantLib error")
            continue
        if not finite(case):
            skip("bjs", "non-finite result")
            continue
        cases.append(case)
    return cases


# ---------------------------------------------------------------- crr
def crr_section(rng):
    # (steps, how many draws); the draw is over the whole grid and both exercise
    # styles. Sum of steps^2 over the written cases stays well below 3e7.
    plan = [(1, 10), (2, 100), (3, 100), (10, 100), (101, 80), (500, 40)]
    cases = []
    for steps, count in plan:
        for _ in range(count):
            k = rng.choice(STRIKES)
            d = rng.choice(DAYS)
            v = rng.choice(VOLS)
            r = rng.choice(RATES)
            q = rng.choice(DIVS)
            right = rng.choice(RIGHTS)
            american = rng.random() < 0.5
            opt = option(k, d, right, american)
            try:
                opt.setPricingEngine(ql.BinomialVanillaEngine(process(S0, r, q, v), "crr", steps))
                case = inputs(k, d, r, q, v, right)
                case["steps"] = steps
                case["exercise"] = "american" if american else "european"
                # QuantLib quirk (see meta.sections.crr): for American exercise the
                # payoff is not applied at maturity when (t/steps)*steps < t.
                t = d / 365.0
                case["maturity_payoff_skipped"] = american and not (t <= (t / steps) * steps)
                case["npv"] = opt.NPV()
                case.update(greeks(opt, CRR_GREEKS))
            except RuntimeError as e:
                msg = str(e)
                if "at least 2 time steps" in msg:
                    skip("crr", "throws: steps < 2")
                elif "negative probability" in msg:
                    skip("crr", "throws: negative probability (pu outside [0, 1])")
                else:
                    skip("crr", "throws: other")
                continue
            if not finite(case):
                skip("crr", "non-finite result")
                continue
            cases.append(case)
    return cases


# ---------------------------------------------------------------- black76 / bachelier
def black76_section(rng):
    cases = []
    for _ in range(300):
        fwd = rng.choice([20.0, 80.0, 100.0, 125.0, 400.0])
        k = fwd * rng.choice([0.5, 0.7, 0.85, 0.95, 1.0, 1.05, 1.15, 1.4, 2.0])
        d = rng.choice(DAYS)
        t = d / 365.0
        v = rng.choice(VOLS)
        r = rng.choice(RATES)
        right = rng.choice(RIGHTS)
        std_dev = v * math.sqrt(t)
        discount = math.exp(-r * t)
        kind = ql.Option.Call if right == "call" else ql.Option.Put
        try:
            price = ql.blackFormula(kind, k, fwd, std_dev, discount)
        except RuntimeError:
            skip("black76", "QuantLib error (negative value from rounding)")
            continue
        case = {"F": fwd, "K": k, "days": d, "t": t, "vol": v, "r": r, "right": right,
                "stdDev": std_dev, "discount": discount, "price": price}
        if not finite(case):
            skip("black76", "non-finite result")
            continue
        cases.append(case)
    return cases


def bachelier_section(rng):
    cases = []
    for _ in range(300):
        fwd = rng.choice([-5.0, 0.0, 2.5, 50.0, 100.0, 130.0])
        k = fwd + rng.choice([-60.0, -25.0, -10.0, -2.0, 0.0, 1.0, 5.0, 15.0, 40.0, 80.0])
        d = rng.choice(DAYS)
        t = d / 365.0
        v = rng.choice([5.0, 10.0, 20.0, 40.0])
        r = rng.choice(RATES)
        right = rng.choice(RIGHTS)
        std_dev = v * math.sqrt(t)
        discount = math.exp(-r * t)
        kind = ql.Option.Call if right == "call" else ql.Option.Put
        try:
            price = ql.bachelierBlackFormula(kind, k, fwd, std_dev, discount)
        except RuntimeError:
            skip("bachelier", "QuantLib error (negative value from rounding)")
            continue
        case = {"F": fwd, "K": k, "days": d, "t": t, "vol": v, "r": r, "right": right,
                "stdDev": std_dev, "discount": discount, "price": price}
        if not finite(case):
            skip("bachelier", "non-finite result")
            continue
        cases.append(case)
    return cases


# ---------------------------------------------------------------- higher order
def analytic(spot, k, d, r, q, v, right):
    opt = option(k, d, right, False)
    opt.setPricingEngine(ql.AnalyticEuropeanEngine(process(spot, r, q, v)))
    return opt.delta(), opt.gamma(), opt.vega()


H_VOL = 1e-4    # relative bump of sigma
H_SPOT = 1e-4   # relative bump of S
H_DAYS = 1      # calendar days either side (maturity moved, evaluation date fixed)


def higher_order_section(rng):
    pool = [(k, d, v, right, r, q)
            for k, d, v, right, r, q in itertools.product(
                STRIKES[1:-1], [30, 91, 182, 365, 730], [0.05, 0.2, 0.5, 1.0], RIGHTS,
                RATES, DIVS)]
    cases = []
    for k, d, v, right, r, q in rng.sample(pool, 200):
        delta, gamma, vega = analytic(S0, k, d, r, q, v, right)
        hv = H_VOL * v
        dp, gp, vp = analytic(S0, k, d, r, q, v + hv, right)
        dm, gm, vm = analytic(S0, k, d, r, q, v - hv, right)
        hs = H_SPOT * S0
        _, gsp, _ = analytic(S0 + hs, k, d, r, q, v, right)
        _, gsm, _ = analytic(S0 - hs, k, d, r, q, v, right)
        dtp, gtp, _ = analytic(S0, k, d + H_DAYS, r, q, v, right)
        dtm, gtm, _ = analytic(S0, k, d - H_DAYS, r, q, v, right)
        ht = 2 * H_DAYS / 365.0
        case = inputs(k, d, r, q, v, right)
        case.update({
            "delta": delta, "gamma": gamma, "vega": vega,
            "vanna": (dp - dm) / (2 * hv),
            "vomma": (vp - vm) / (2 * hv),
            "zomma": (gp - gm) / (2 * hv),
            "speed": (gsp - gsm) / (2 * hs),
            # calendar time passing = time to maturity shrinking
            "charm": -(dtp - dtm) / ht,
            "colour": -(gtp - gtm) / ht,
        })
        if not finite(case):
            skip("higher_order", "non-finite result")
            continue
        cases.append(case)
    return cases


# ---------------------------------------------------------------- implied vol
def implied_vol_section(rng):
    cases = []
    euro = [(k, d, v, right, r, q) for k, d, v, right, r, q in itertools.product(
        STRIKES, DAYS[1:], VOLS[1:], RIGHTS, RATES, DIVS)]
    rng.shuffle(euro)
    for k, d, v, right, r, q in euro:
        if sum(1 for c in cases if c["exercise"] == "european") >= 300:
            break
        proc = process(S0, r, q, v)
        opt = option(k, d, right, False)
        opt.setPricingEngine(ql.AnalyticEuropeanEngine(proc))
        price, vega = opt.NPV(), opt.vega()
        if not (vega > 1e-2 and price > 1e-6):
            continue  # not meaningful: skipped silently (selection, not failure)
        try:
            iv = opt.impliedVolatility(price, proc, IV_ACCURACY, IV_MAX_EVALS,
                                       IV_MIN_VOL, IV_MAX_VOL)
        except RuntimeError:
            skip("implied_vol", "european: QuantLib solver error")
            continue
        case = inputs(k, d, r, q, v, right)
        case.update({"exercise": "european", "engine": "AnalyticEuropeanEngine",
                     "price": price, "vega": vega, "implied_vol": iv})
        cases.append(case)

    amer = [(k, d, v, right, r, q) for k, d, v, right, r, q in itertools.product(
        STRIKES[1:-1], [30, 91, 182, 365, 730], [0.05, 0.2, 0.5, 1.0], RIGHTS,
        [0.03, 0.08], [0.0, 0.02, 0.1])]
    rng.shuffle(amer)
    n_amer = 0
    for k, d, v, right, r, q in amer:
        if n_amer >= 100:
            break
        opt = option(k, d, right, True)
        opt.setPricingEngine(ql.BaroneAdesiWhaleyApproximationEngine(process(S0, r, q, v)))
        try:
            price = opt.NPV()
        except RuntimeError:
            continue
        intrinsic = max(S0 - k, 0.0) if right == "call" else max(k - S0, 0.0)
        if price - intrinsic < 1e-3:
            continue  # no time value left: vol not identifiable

        def f(sigma):
            o = option(k, d, right, True)
            o.setPricingEngine(
                ql.BaroneAdesiWhaleyApproximationEngine(process(S0, r, q, sigma)))
            return o.NPV() - price

        try:
            vega = (f(v * 1.01) - f(v * 0.99)) / (0.02 * v)
        except RuntimeError:
            continue
        if not vega > 1e-2:
            continue  # flat in sigma (deep ITM / low vol): vol not identifiable

        solver = ql.Brent()
        solver.setMaxEvaluations(IV_MAX_EVALS)
        try:
            iv = solver.solve(f, IV_ACCURACY, (IV_MIN_VOL + IV_MAX_VOL) / 2.0,
                              IV_MIN_VOL, IV_MAX_VOL)
        except Exception:
            skip("implied_vol", "american: BAW throws or root not bracketed on [1e-7, 4]")
            continue
        case = inputs(k, d, r, q, v, right)
        case.update({"exercise": "american", "engine": "BaroneAdesiWhaleyApproximationEngine",
                     "price": price, "vega_fd": vega, "implied_vol": iv})
        cases.append(case)
        n_amer += 1
    return cases


# ---------------------------------------------------------------- output
META = {
    "generator": "scripts/quantlib_reference.py",
    "consumer": "shared/options/tests/quantlib_parity.rs",
    "quantlib_version": None,  # filled in at run time
    "evaluation_date": "2025-01-15",
    "conventions": {
        "maturity": "evaluation date + days calendar days",
        "t": "days / 365.0 (Actual365Fixed for rate, dividend and vol curves)",
        "curves": "FlatForward(r), FlatForward(q): Actual365Fixed, Continuous; "
                  "discount factor = 1/exp(r t)",
        "vol": "BlackConstantVol(sigma), Actual365Fixed, NullCalendar; variance = sigma*sigma*t",
        "process": "BlackScholesMertonProcess, spot S",
        "american_exercise": "AmericanExercise(evaluation date, maturity), payoff not at expiry",
        "floats": "Python repr (exact round trip); NaN/inf never written",
    },
    "units": {
        "npv": "price units",
        "delta": "d npv / d S",
        "gamma": "d2 npv / d S2",
        "vega": "d npv / d sigma, per 1.00 of vol (not per vol point)",
        "theta": "per year: d npv / d(calendar time) (negative = decay)",
        "thetaPerDay": "theta / 365 (verified: analytic engine divides; BjS American "
                       "branch sets thetaPerDay first and theta = 365 * thetaPerDay)",
        "rho": "d npv / d r, per 1.00 of rate",
        "dividendRho": "d npv / d q, per 1.00 of yield",
        "elasticity": "delta * S / npv (0 or +-DBL_MAX when npv <= eps)",
        "strikeSensitivity": "d npv / d K",
        "itmCashProbability": "N(d2) (undiscounted) for calls AND puts (QuantLib quirk: for a "
                              "put this is P(S_T > K), not the put's ITM probability)",
    },
    "sections": {
        "european": "AnalyticEuropeanEngine; the (K, days, vol, right) grid x 4 of the 15 (r, q) "
                    "pairs each, rotating; all 11 outputs; bit-exact target",
        "baw": "BaroneAdesiWhaleyApproximationEngine, American; grid x 2 (r, q) pairs, rotating; "
               "npv always; Greeks only when european_branch is true (early exercise never "
               "optimal: call with q<=0 and q<=r, or put with r<=0 and q>=0 -- the engine then "
               "returns the European results); otherwise QuantLib gives only the NPV",
        "bjs": "BjerksundStenslandApproximationEngine (1993 flat boundary, analytic Greeks), "
               "American; grid x 2 (r, q) pairs, rotating; npv and the Greeks it sets "
               "(elasticity / itmCashProbability are not set by this engine and are omitted); "
               "calls with q == 0 and r < 0 omitted (degenerate beta == 1, QuantLib output is "
               "rounding noise)",
        "crr": "BinomialVanillaEngine(process, 'crr', steps), European and American; seeded "
               "sample; npv, delta, gamma, theta (the only results the engine sets); steps = 1 "
               "always throws in QuantLib (>= 2 required) -- counted in skipped. QUIRK: for "
               "American exercise QuantLib applies max(continuation, payoff) at every node "
               "including t = 0, but NOT at maturity when (t/steps)*steps < t in floating "
               "point (the maturity time t is then later than the last grid time): the "
               "maturity values stay 0 and the first exercise is at step steps-1. "
               "maturity_payoff_skipped marks those cases",
        "black76": "ql.blackFormula(type, K, F, stdDev, discount) with stdDev = vol*sqrt(t), "
                   "discount = math.exp(-r*t) as Python computed it (use the recorded "
                   "stdDev/discount for a bit-exact check)",
        "bachelier": "ql.bachelierBlackFormula(type, K, F, stdDev, discount); vol is the normal "
                     "(absolute, price-unit) vol; stdDev = vol*sqrt(t); discount = math.exp(-r*t)",
        "higher_order": "APPROXIMATIONS -- compare loosely. Central finite differences of "
                        "QuantLib's analytic (AnalyticEuropeanEngine) delta/gamma/vega: "
                        "vanna = d delta/d sigma, vomma = d vega/d sigma, zomma = d gamma/d sigma "
                        "(sigma bumped +-1e-4*sigma); speed = d gamma/d S (S bumped +-1e-4*S); "
                        "charm = d delta/d(calendar time), colour = d gamma/d(calendar time), "
                        "per year, from maturity moved +-1 day: charm = -(delta(days+1) - "
                        "delta(days-1)) / (2/365) (positive = delta rises as time passes)",
        "implied_vol": "european: VanillaOption.impliedVolatility(price, process, accuracy, "
                       "maxEvaluations, minVol, maxVol) -- Brent on AnalyticEuropeanEngine, "
                       "guess (minVol+maxVol)/2; cases with vega > 1e-2 and price > 1e-6. "
                       "american: QuantLib's impliedVolatility would use an FD engine for "
                       "American exercise, so instead ql.Brent (same guess/bounds/accuracy/"
                       "maxEvaluations) solves BAW NPV(sigma) = price directly; cases with "
                       "time value >= 1e-3 and vega_fd (central difference of the BAW NPV, "
                       "sigma +-1%) > 1e-2",
    },
    "implied_vol_solver": {"accuracy": IV_ACCURACY, "maxEvaluations": IV_MAX_EVALS,
                           "minVol": IV_MIN_VOL, "maxVol": IV_MAX_VOL},
    "finite_difference_bumps": {"sigma_relative": H_VOL, "spot_relative": H_SPOT,
                                "days": H_DAYS},
    "seed": SEED,
}


def main():
    if ql.__version__ != "1.44":
        sys.exit(f"QuantLib 1.44 required, found {ql.__version__}")
    ql.Settings.instance().evaluationDate = TODAY
    rng = random.Random(SEED)

    sections = {
        "european": european_section(),
        "baw": baw_section(),
        "bjs": bjs_section(),
        "crr": crr_section(rng),
        "black76": black76_section(rng),
        "bachelier": bachelier_section(rng),
        "higher_order": higher_order_section(rng),
        "implied_vol": implied_vol_section(rng),
    }

    meta = dict(META)
    meta["quantlib_version"] = ql.__version__
    meta["counts"] = {name: len(cases) for name, cases in sections.items()}
    meta["skipped"] = dict(sorted(skipped.items()))
    meta["crr_sum_steps_squared"] = sum(c["steps"] ** 2 for c in sections["crr"])

    parts = ['{\n"meta": ' + json.dumps(meta, indent=1)]
    for name, cases in sections.items():
        body = ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases)
        parts.append(f'"{name}": [\n{body}\n]')
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(",\n".join(parts) + "\n}\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    for name, n in meta["counts"].items():
        print(f"  {name}: {n}")
    for reason, n in meta["skipped"].items():
        print(f"  skipped {reason}: {n}")


if __name__ == "__main__":
    main()
