#!/usr/bin/env python3
"""Record an independent reference for a portfolio history with cash flows:
the replayed equity curve, time-weighted returns with flows, money-weighted
returns (scipy's brentq), per-position P&L and the average-cost ledger.

Reads the closes of shared/portfolio/tests/data/risk_reference.json (made by
scripts/portfolio_reference.py) and writes

    shared/portfolio/tests/data/history_reference.json

which shared/portfolio/tests/history_parity.rs checks to 1e-10: it reads the
same history CSV through gs_portfolio::history and replays it with
gs_portfolio::performance. Nothing here shares code with the Rust side; the
conventions are those of shared/portfolio/docs/risk-conventions.md:

- an event belongs to the first date at or after its time (dates are
  midnight UTC), so a deposit at 15:30 is booked at the start of the next day;
- equity at a date is cash plus each position at that date's close;
- time-weighted: r_t = E_t / (E_{t-1} + F_t) - 1 with the day's flow F_t at
  the start of the day, chained over the window's days after its start;
- money-weighted: R with -E_s - sum F_t (1+R)^-tau_t + E_e (1+R)^-1 = 0,
  tau_t = (date_t - date_s) / (date_e - date_s); annualised (1+R)^(365/days)-1;
- a position's P&L over a window: value change minus trade cash (buys plus
  commissions less sells);
- average cost: buys at the position's side move it to the quantity-weighted
  mean; sells realise quantity x (price - average cost).

Run from the repository root (the versions the committed file was made with):

    python3 -m venv /work/pfvenv
    /work/pfvenv/bin/pip install numpy==2.4.6 scipy==1.17.1
    /work/pfvenv/bin/python scripts/portfolio_history_reference.py

Cash is kept in exact decimals (Python's decimal module), values and returns
in doubles; the output is deterministic.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import scipy
from scipy.optimize import brentq

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "shared/portfolio/tests/data"

fx = json.loads((DATA / "risk_reference.json").read_text())
dates = [datetime.strptime(d, "%Y-%m-%d").replace(tzinfo=timezone.utc) for d in fx["inputs"]["dates"]]
assets = fx["inputs"]["assets"]
closes = {a: [Decimal(repr(c)) for c in col] for a, col in zip(assets, fx["inputs"]["closes"])}
n = len(dates)


def px(symbol: str, i: int, markup: str = "1") -> Decimal:
    """A fill price near a close, to the cent."""
    return (closes[symbol][i] * Decimal(markup)).quantize(Decimal("0.01"))


def at(i: int, hour: int = 0, minute: int = 0) -> datetime:
    return dates[i] + timedelta(hours=hour, minutes=minute)


# (time, type, symbol, quantity, price, commission, amount)
events = [
    (at(0), "deposit", "", "", "", "", Decimal("100000")),
    (at(0), "buy", "A01", Decimal(300), px("A01", 0), Decimal("1.00"), ""),
    (at(0), "buy", "A04", Decimal(80), px("A04", 0), Decimal("1.00"), ""),
    (at(0), "buy", "A08", Decimal(200), px("A08", 0), Decimal("1.00"), ""),
    (at(0), "buy", "A11", Decimal(150), px("A11", 0), Decimal("1.00"), ""),
    (at(30, 15, 30), "deposit", "", "", "", "", Decimal("25000")),
    (at(45), "buy", "A06", Decimal(100), px("A06", 45, "1.001"), Decimal("1.25"), ""),
    (at(90), "sell", "A01", Decimal(150), px("A01", 90, "0.999"), Decimal("1.00"), ""),
    (at(120, 20), "sell", "A04", Decimal(80), px("A04", 120), Decimal("1.00"), ""),
    (at(200), "withdrawal", "", "", "", "", Decimal("30000")),
    (at(250), "buy", "A01", Decimal(100), px("A01", 250), Decimal("0.50"), ""),
    (at(300), "buy", "A10", Decimal(400), px("A10", 300), Decimal("2.00"), ""),
    (at(380), "deposit", "", "", "", "", Decimal("10000")),
    (at(420), "sell", "A08", Decimal(200), px("A08", 420), Decimal("1.00"), ""),
    (at(480, 9), "withdrawal", "", "", "", "", Decimal("5000")),
]


def booked(t: datetime) -> int:
    """The first date at or after t (the last date for anything later)."""
    for i, d in enumerate(dates):
        if t <= d:
            return i
    return n - 1


cash = Decimal(0)
qty: dict[str, Decimal] = {}
avg: dict[str, Decimal] = {}
realized: dict[str, Decimal] = {}
trade_cash: dict[str, list[Decimal]] = {}
values: dict[str, list[Decimal]] = {}
running_trade_cash: dict[str, Decimal] = {}
equity = []
flows = []
by_date: dict[int, list] = {}
for e in sorted(events, key=lambda e: e[0]):
    by_date.setdefault(booked(e[0]), []).append(e)
for i in range(n):
    flow = Decimal(0)
    for t, kind, sym, q, p, c, amount in by_date.get(i, []):
        if kind in ("deposit", "withdrawal"):
            a = amount if kind == "deposit" else -amount
            cash += a
            flow += a
            assert cash >= 0, (t, cash)
            continue
        sign = 1 if kind == "buy" else -1
        cash -= sign * q * p + c
        running_trade_cash[sym] = running_trade_cash.get(sym, Decimal(0)) + sign * q * p + c
        old = qty.get(sym, Decimal(0))
        if old == 0 or (old > 0) == (sign > 0):
            avg[sym] = (avg.get(sym, Decimal(0)) * abs(old) + p * q) / abs(old + sign * q)
        else:
            closed = min(q, abs(old))
            realized[sym] = realized.get(sym, Decimal(0)) + (1 if old > 0 else -1) * closed * (p - avg[sym])
            if old + sign * q == 0:
                avg[sym] = Decimal(0)
        qty[sym] = old + sign * q
        values.setdefault(sym, [Decimal(0)] * i)
        trade_cash.setdefault(sym, [Decimal(0)] * i)
        assert cash >= 0, (t, cash)
    e_t = cash
    for sym in values:
        v = qty[sym] * closes[sym][i]
        values[sym].append(v)
        trade_cash[sym].append(running_trade_cash[sym])
        e_t += v
    equity.append(e_t)
    flows.append(flow)

E = np.array([float(x) for x in equity])
F = np.array([float(x) for x in flows])


def window(s: int, e: int) -> dict:
    links = E[s + 1 : e + 1] / (E[s:e] + F[s + 1 : e + 1]) - 1.0
    twr = float(np.prod(1.0 + links) - 1.0)
    span = (dates[e] - dates[s]).days
    cfs = [(0.0, -E[s])] + [((dates[t] - dates[s]).days / span, -F[t]) for t in range(s + 1, e + 1) if F[t] != 0]
    cfs.append((1.0, E[e]))

    def npv(r: float) -> float:
        return sum(c * (1.0 + r) ** (-tau) for tau, c in cfs)

    mwr = brentq(npv, -0.99, 10.0, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    pnl = {
        sym: float((values[sym][e] - values[sym][s]) - (trade_cash[sym][e] - trade_cash[sym][s]))
        for sym in sorted(values)
    }
    return {
        "start_index": s,
        "end_index": e,
        "start_equity": float(equity[s]),
        "end_equity": float(equity[e]),
        "net_flows": float(sum(flows[s + 1 : e + 1])),
        "pnl": float(equity[e] - equity[s] - sum(flows[s + 1 : e + 1])),
        "time_weighted_return": twr,
        "daily_returns_count": int(len(links)),
        "money_weighted_return": float(mwr),
        "money_weighted_annualized": float((1.0 + mwr) ** (365.0 / span) - 1.0),
        "attribution_pnl": pnl,
    }


def cell(x) -> str:
    return "" if x == "" else str(x)


csv = "time,type,symbol,quantity,price,commission,amount\n" + "".join(
    f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{kind},{sym},{cell(q)},{cell(p)},{cell(c)},{cell(a)}\n"
    for t, kind, sym, q, p, c, a in events
)
out = {
    "meta": {
        "made_by": "scripts/portfolio_history_reference.py",
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "closes_from": "risk_reference.json inputs (dates, assets, closes)",
    },
    "history_csv": csv,
    "equity": [float(x) for x in equity],
    "flows": [float(x) for x in flows],
    "windows": [window(0, n - 1), window(100, 400)],
    "ledger": {
        "cash": str(cash),
        "positions": {
            sym: {
                "quantity": str(qty[sym]),
                "average_cost": float(avg.get(sym, 0)),
                "realized_pnl": float(realized.get(sym, 0)),
            }
            for sym in sorted(qty)
        },
        "commissions": str(sum(Decimal(e[5]) for e in events if e[5] != "")),
    },
}
(DATA / "history_reference.json").write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {DATA / 'history_reference.json'}: {len(events)} rows, final equity {equity[-1]}, "
      f"TWR {out['windows'][0]['time_weighted_return']:.6f}, MWR {out['windows'][0]['money_weighted_return']:.6f}")
