#!/usr/bin/env python3
"""End-to-end checks of a running GoldenSignals MCP endpoint with the official Python SDK.

The Rust integration tests drive the server with rmcp, the same library it is
built on; this script is the outside view: what a third-party client (`mcp`
2.3.0 on PyPI) sees over Streamable HTTP with a bearer token. Every check runs
twice, once per way the SDK negotiates:

    auto    server/discover, expected to settle on 2026-07-28
    legacy  the initialize handshake, expected to settle on 2025-11-25

It needs a server started with the demo data set (`goldensignals serve`) and
the binary itself, to mint tokens with narrower scopes from the same data
directory (same signing key). `./scripts/test` starts the server and runs this;
to run it by hand against a server of your own:

    .venv/bin/python tests/python/test_mcp_sdk.py \\
        --url http://127.0.0.1:PORT/mcp --token DEV_TOKEN \\
        --data-dir DATA_DIR --bin target/debug/goldensignals

(or set GS_MCP_URL, GS_TOKEN, GS_DATA_DIR, GS_BIN). It prints one line per
check and a closing "N passed, N failed" line, and exits 1 if any check failed.

Named test_* so it is easy to find, but it is a plain asyncio script, not a
pytest module: it defines no test functions to collect.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

EXPECTED_PROTOCOL = {"auto": "2026-07-28", "legacy": "2025-11-25"}
# The tools these checks exercise. Servers keep gaining tools (the Rust snapshot test
# pins the full list), so listings are checked to contain these, not to equal them.
MARKET_DATA_TOOLS = {"list_symbols", "get_quote", "get_historical_data"}
CORE_TOOLS = MARKET_DATA_TOOLS | {"calculate_indicators"}
CASE_TIMEOUT_S = 60

# TA-Lib output names per function, as the tool description promises.
INDICATOR_OUTPUTS = {
    "sma": {"real"},
    "ema": {"real"},
    "rsi": {"real"},
    "macd": {"macd", "macdsignal", "macdhist"},
    "bbands": {"upperband", "middleband", "lowerband"},
    "atr": {"real"},
}


class Env:
    """What every check needs: where the server is and how to get tokens for it."""

    def __init__(self, url: str, token: str, data_dir: str, binary: str) -> None:
        self.url = url
        self.token = token
        self.data_dir = data_dir
        self.binary = binary

    def mint(self, sub: str, scopes: str, data_dir: str | None = None) -> str:
        out = subprocess.run(
            [self.binary, "token", "--sub", sub, "--scopes", scopes, "--ttl", "15m",
             "--data-dir", data_dir or self.data_dir],
            capture_output=True, text=True, timeout=60, check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"`goldensignals token` failed ({out.returncode}): {out.stderr.strip()}")
        token = out.stdout.strip()
        assert token.count(".") == 2 and "\n" not in token, f"token output is not one JWT: {out.stdout!r}"
        return token


@asynccontextmanager
async def connect(env: Env, mode: str, token: str | None, statuses: list[httpx2.Response] | None = None):
    """An SDK client for `env.url`, sending `token` as a bearer token (none if None)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response)

    async with httpx2.AsyncClient(headers=headers, timeout=30, event_hooks={"response": [record]}) as http:
        # max_sse_event_size=None: large results may come as one SSE event above the 1 MiB default.
        transport = streamable_http_client(env.url, http_client=http, max_sse_event_size=None)
        # cache=None: every listing must come from the server, never from the SDK's response cache.
        async with Client(transport, mode=mode, cache=None, read_timeout_seconds=30) as client:
            yield client


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", None) == "text")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def call_ok(client: Client, tool: str, args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, f"{tool}({args}) returned an error result: {text_of(result)}"
    assert isinstance(result.structured_content, dict), f"{tool} returned no structuredContent"
    return result.structured_content, text_of(result)


def check_bars(bars: list[dict[str, Any]], where: str) -> None:
    previous: datetime | None = None
    for bar in bars:
        o, h, lo, c, v = (bar[k] for k in ("open", "high", "low", "close", "volume"))
        assert all(math.isfinite(x) for x in (o, h, lo, c, v)), f"{where}: non-finite value in {bar}"
        assert lo <= min(o, c) and h >= max(o, c) and lo <= h, f"{where}: OHLC inconsistent: {bar}"
        assert lo > 0 and v >= 0, f"{where}: non-positive price or negative volume: {bar}"
        t = parse_time(bar["time"])
        assert previous is None or t > previous, f"{where}: bar times not strictly increasing at {bar['time']}"
        previous = t


# --------------------------------------------------------------------------- checks, full dev token


async def check_handshake(env: Env, mode: str) -> str:
    async with connect(env, mode, env.token) as client:
        assert client.protocol_version == EXPECTED_PROTOCOL[mode], (
            f"negotiated {client.protocol_version}, expected {EXPECTED_PROTOCOL[mode]}"
        )
        info = client.server_info
        assert info is not None and info.name == "goldensignals", f"server info: {info}"
        assert client.server_capabilities.tools is not None, "server does not declare the tools capability"
        return f"protocol {client.protocol_version}, server {info.name} {info.version}"


async def check_tools_full(env: Env, mode: str) -> str:
    async with connect(env, mode, env.token) as client:
        listing = await client.list_tools()
        names = [tool.name for tool in listing.tools]
        assert CORE_TOOLS <= set(names), f"missing {sorted(CORE_TOOLS - set(names))}; tools listed: {names}"
        assert len(names) == len(set(names)), f"a tool is listed twice: {names}"
        assert listing.next_cursor is None, "tool listing is paginated unexpectedly"
        for tool in listing.tools:
            assert tool.output_schema, f"{tool.name} publishes no output schema"
        others = sorted(set(names) - CORE_TOOLS)
        return f"the {len(CORE_TOOLS)} core tools" + (f", plus {', '.join(others)}" if others else " and no others")


async def check_historical_latest(env: Env, mode: str) -> str:
    async with connect(env, mode, env.token) as client:
        data, text = await call_ok(client, "get_historical_data", {"symbol": "AAPL", "timeframe": "1d", "limit": 10})
        assert data["symbol"] == "AAPL" and data["timeframe"] == "1d", f"wrong series: {data['symbol']} {data['timeframe']}"
        assert data["count"] == 10 and len(data["bars"]) == 10, f"count {data['count']}, bars {len(data['bars'])}"
        check_bars(data["bars"], "AAPL 1d limit 10")
        assert data["synthetic"] is True, "demo data not flagged synthetic"
        assert "AAPL" in text and "10" in text, f"text summary does not describe the result: {text!r}"
        return f"10 bars {data['bars'][0]['time']} .. {data['bars'][-1]['time']}; summary {text[:60]!r}..."


async def check_historical_paging(env: Env, mode: str) -> str:
    async with connect(env, mode, env.token) as client:
        listing, _ = await call_ok(client, "list_symbols", {"prefix": "AAPL"})
        series = {s["timeframe"]: s for entry in listing["symbols"] if entry["symbol"] == "AAPL" for s in entry["series"]}
        assert "1d" in series, f"AAPL has no 1d series: {listing}"
        first = parse_time(series["1d"]["first"])
        args = {"symbol": "AAPL", "timeframe": "1d",
                "start": first.strftime("%Y-%m-%d"), "end": (first + timedelta(days=45)).strftime("%Y-%m-%d")}

        pages: list[list[dict[str, Any]]] = []
        cursor: str | None = None
        for _ in range(20):
            page, _ = await call_ok(client, "get_historical_data", {**args, "limit": 10, "cursor": cursor})
            assert 0 < len(page["bars"]) <= 10 and page["count"] == len(page["bars"]), f"page of {len(page['bars'])} bars"
            pages.append(page["bars"])
            cursor = page.get("next_cursor")
            if cursor is None:
                break
        else:
            raise AssertionError("next_cursor never ran out after 20 pages of a 45-day range")
        assert len(pages) >= 3, f"expected at least 3 pages of 10 over 45 days, got {len(pages)}"

        for i in range(1, len(pages)):
            prev_last, next_first = parse_time(pages[i - 1][-1]["time"]), parse_time(pages[i][0]["time"])
            assert next_first > prev_last, f"page {i + 1} starts at {next_first}, not after page {i}'s end {prev_last}"
        paged = [bar for page in pages for bar in page]
        check_bars(paged, "paged AAPL 1d")

        whole, _ = await call_ok(client, "get_historical_data", {**args, "limit": 5000})
        assert whole.get("next_cursor") is None, "one 5000-bar call over 45 days still has a next_cursor"
        assert paged == whole["bars"], (
            f"pages ({len(paged)} bars) differ from one call over the same range ({len(whole['bars'])} bars)"
        )
        return f"{len(pages)} pages ({'+'.join(str(len(p)) for p in pages)} bars), in order, equal to one call"


async def check_indicators(env: Env, mode: str) -> str:
    rows = 60
    request = [
        {"name": "sma", "params": {"timeperiod": 5}},
        {"name": "ema"},
        {"name": "rsi"},
        {"name": "macd"},
        {"name": "bbands"},
        {"name": "atr"},
    ]
    async with connect(env, mode, env.token) as client:
        data, _ = await call_ok(client, "calculate_indicators", {
            "symbol": "AAPL", "timeframe": "1d", "lookback": rows, "output_rows": rows, "indicators": request,
        })
        times = data["time"]
        assert data["bars_used"] == rows and data["rows"] == rows and len(times) == rows, (
            f"bars_used {data['bars_used']}, rows {data['rows']}, time entries {len(times)}"
        )
        results = data["indicators"]
        assert [r["name"] for r in results] == [r["name"] for r in request], f"results: {[r['name'] for r in results]}"
        by_name = {r["name"]: r["outputs"] for r in results}
        for name, outputs in by_name.items():
            assert set(outputs) == INDICATOR_OUTPUTS[name], f"{name} outputs {sorted(outputs)}"
            for output, values in outputs.items():
                assert len(values) == len(times), f"{name}.{output}: {len(values)} values for {len(times)} times"
                assert values[-1] is not None, f"{name}.{output}: last value is null after {rows} bars"

        # Recompute SMA(5) from the same bars as returned by get_historical_data.
        hist, _ = await call_ok(client, "get_historical_data", {"symbol": "AAPL", "timeframe": "1d", "limit": rows})
        hist_times = [parse_time(b["time"]) for b in hist["bars"]]
        assert hist_times == [parse_time(t) for t in times], "calculate_indicators and get_historical_data read different bars"
        closes = [b["close"] for b in hist["bars"]]
        expected_sma = [None] * 4 + [sum(closes[i - 4:i + 1]) / 5 for i in range(4, rows)]
        sma = by_name["sma"]["real"]
        worst = 0.0
        for i, (got, want) in enumerate(zip(sma, expected_sma)):
            if want is None:
                assert got is None, f"sma[{i}] = {got} during the 4-bar warm-up"
                continue
            assert got is not None, f"sma[{i}] is null after warm-up"
            worst = max(worst, abs(got - want))
            assert abs(got - want) <= 1e-9, f"sma[{i}] at {times[i]}: server {got!r}, recomputed {want!r}"

        # Relations that must hold between outputs of one indicator.
        macd = by_name["macd"]
        for m, s, h in zip(macd["macd"], macd["macdsignal"], macd["macdhist"]):
            assert (m is None) == (s is None) == (h is None), "macd outputs warm up differently"
            assert m is None or abs(h - (m - s)) <= 1e-9, f"macdhist {h} != macd {m} - macdsignal {s}"
        # With matype 0 the middle band is the SMA over the band's own period (TA-Lib's default: 20).
        bbands = next(r for r in results if r["name"] == "bbands")
        period = int(bbands["params"]["timeperiod"])
        assert bbands["params"]["matype"] == 0, f"bbands default matype is {bbands['params']['matype']}, not SMA"
        bands = bbands["outputs"]
        for i, (up, mid, low) in enumerate(zip(bands["upperband"], bands["middleband"], bands["lowerband"])):
            assert (mid is None) == (i < period - 1), f"bbands({period}) warm-up wrong at row {i}: {mid}"
            if mid is not None:
                assert low <= mid <= up, f"bbands out of order at {times[i]}: {low} {mid} {up}"
                want = sum(closes[i - period + 1:i + 1]) / period
                assert abs(mid - want) <= 1e-9, f"bbands middleband {mid} != SMA({period}) {want} at {times[i]}"
        assert all(v is None or 0 <= v <= 100 for v in by_name["rsi"]["real"]), "rsi outside [0, 100]"
        assert all(v is None or v > 0 for v in by_name["atr"]["real"]), "atr not positive"
        return f"6 indicators x {rows} rows; SMA(5) matches recomputation (max diff {worst:.1e})"


def inline_bars(n: int) -> list[dict[str, Any]]:
    """`n` daily bars of a seeded random walk (xorshift), as a client would send them inline."""
    state, price, bars = 0x9E3779B97F4A7C15, 100.0, []
    for i in range(n):
        state ^= (state << 13) & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 7
        state ^= (state << 17) & 0xFFFFFFFFFFFFFFFF
        u = (state >> 11) / float(1 << 53)
        open_, price = price, price * (1 + (u - 0.5) * 0.04)
        bars.append({"time": 1_704_153_600 + i * 86_400, "open": open_, "high": max(open_, price) * (1 + u * 0.01),
                     "low": min(open_, price) * (1 - u * 0.01), "close": price, "volume": 1_000_000 + u * 500_000})
    return bars


# Valid arguments per tool, on stored and inline bars. Every tool tools/list shows must have an entry:
# a new tool fails check_every_tool until it is added here.
BARS = inline_bars(260)
TOOL_ARGUMENTS: dict[str, list[dict[str, Any]]] = {
    "list_symbols": [{}, {"prefix": "A"}],
    "get_quote": [{"symbol": "AAPL"}],
    "get_historical_data": [{"symbol": "AAPL", "timeframe": "1d", "limit": 30}, {"symbol": "AAPL", "timeframe": "4h", "days": 10}],
    "calculate_indicators": [
        {"symbol": "AAPL", "lookback": 300, "output_rows": 20, "indicators": [{"name": "rsi"}, {"name": "macd"}]},
        {"bars": BARS, "indicators": [{"name": "sma", "params": {"timeperiod": 5}}]},
    ],
    "detect_candlestick_patterns": [{"symbol": "AAPL", "lookback": 200, "output_rows": 20},
                                    {"bars": BARS, "patterns": ["cdlengulfing", "cdldoji"]}],
    "analyze_pattern": [{"symbol": "AAPL", "lookback": 500, "min_confidence": 0.3}, {"bars": BARS}],
    "analyze_timeframes": [{"symbol": "AAPL", "timeframe": "1h"}, {"bars": BARS, "timeframes": ["1d", "1w"]}],
    "generate_signals": [{"symbol": "AAPL"}, {"bars": BARS, "agents": ["rsi", "macd"], "use_consensus": False}],
    "backtest_signals": [{"symbol": "AAPL", "lookback": 400, "n_splits": 3},
                         {"bars": BARS, "n_splits": 2, "hit_rate_weighting": True}],
    "import_bars": [{"symbol": "PYIMPORT", "timeframe": "1d", "file_name": "sdk.csv",
                     "csv": "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,11,10,10.8,120\n"}],
    "list_series": [{}, {"symbol": "AAPL", "timeframe": "1d"}],
    "query_timeseries": [{"symbol": "AAPL", "timeframe": "1d", "aggregates": ["ohlc", "vwap", "returns"], "limit": 30},
                         {"symbol": "AAPL", "timeframe": "1h", "resample": "1d", "aggregates": ["mean"], "field": "volume"}],
    "aggregate_series": [{"symbols": ["AAPL", "MSFT"], "mode": "equal_weighted", "limit": 20},
                         {"symbols": ["AAPL", "MSFT", "NVDA"], "mode": "correlation"}],
    "health_check": [{}],
    "get_usage": [{}],
    "get_metrics": [{"window_minutes": 60}],
    "get_recent_errors": [{}],
    "query_audit_log": [{"limit": 5}],
    "verify_audit_chain": [{}],
    "get_logs": [{"level": "info", "limit": 10}],
    "import_news": [{"file_name": "sdk.jsonl",
                     "text": '{"time":"2026-03-02T12:00:00Z","headline":"Apple beats estimates","url":"https://sdk.example/1"}\n'}],
    "import_posts": [{"text": '{"time":"2026-03-02T14:00:00Z","text":"$AAPL looking strong","likes":3}\n'}],
    "analyze_sentiment": [{"texts": ["Acme crushes estimates", "Acme cuts guidance"]}],
    "get_news_sentiment": [{"symbol": "AAPL", "days": 90, "limit": 5}],
    "get_social_sentiment": [{"symbol": "TSLA", "days": 30, "limit": 5}],
    "get_market_sentiment": [{}, {"symbols": ["AAPL", "MSFT", "SPY"]}],
    "analyze_event_impact": [{"symbol": "NVDA", "kind": "earnings_beat"}],
    "import_options": [{"file_name": "sdk-chain.csv",
                        "text": "as_of,underlying,underlying_price,symbol,bid,ask,volume,open_interest\n"
                                "2026-11-30T21:00:00Z,PYOPT,100,PYOPT 261218C00100000,4.1,4.3,120,1500\n"
                                "2026-11-30T21:00:00Z,PYOPT,100,PYOPT 261218P00100000,3.6,3.8,80,1200\n"}],
    "get_option_chain": [{"symbol": "AAPL", "max_expiries": 2, "strikes_around": 3},
                         {"symbol": "PYOPT", "as_of": "2026-12-01"}],
    "calculate_greeks": [{"right": "call", "underlying_price": 100, "strike": 105, "days": 45, "vol": 0.3},
                         {"right": "put", "underlying_price": 100, "strike": 95, "days": 90, "vol": 0.25,
                          "style": "american", "model": "binomial", "steps": 200}],
    "implied_volatility": [{"price": 2.5, "right": "call", "underlying_price": 100, "strike": 105, "days": 45}],
    "get_put_call_ratio": [{"symbol": "AAPL", "days": 5}],
    "detect_unusual_activity": [{"symbol": "NVDA", "kinds": ["sweep", "block"]}],
    "analyze_options_flow": [{"symbol": "SPY"}],
    # "$PORTFOLIO" is the caller's sample portfolio (create_portfolio is listed first).
    "create_portfolio": [{"name": "sdk", "idempotency_key": "sdk-portfolio"}],
    "list_portfolios": [{}],
    "get_portfolio": [{"portfolio_id": "$PORTFOLIO"}],
    "place_order": [{"portfolio_id": "$PORTFOLIO", "symbol": "AAPL", "side": "buy", "quantity": 5,
                     "order_type": "limit", "limit_price": 1, "time_in_force": "gtc",
                     "idempotency_key": "sdk-order"},
                    {"portfolio_id": "$PORTFOLIO", "symbol": "MSFT", "side": "buy", "quantity": 5, "dry_run": True}],
    "cancel_order": [{"portfolio_id": "$PORTFOLIO", "order_id": "$ORDER"}],
    "get_orders": [{"portfolio_id": "$PORTFOLIO"}],
    "get_fills": [{"portfolio_id": "$PORTFOLIO"}],
    "check_trade_risk": [{"portfolio_id": "$PORTFOLIO", "trades": [{"symbol": "AAPL", "side": "buy", "quantity": 10}]}],
    "get_risk_metrics": [{"portfolio_id": "$PORTFOLIO"}],
    "get_performance": [{"portfolio_id": "$PORTFOLIO"}],
    "rebalance_preview": [{"portfolio_id": "$PORTFOLIO", "targets": {"AAPL": 0.5}}],
    # Watchlists in list order: made, listed, changed, scanned, read, deleted.
    "create_watchlist": [{"name": "sdk", "symbols": ["AAPL", "MSFT"], "schedule": "rate(1 day)"}],
    "list_watchlists": [{}],
    "update_watchlist": [{"name": "sdk", "add_symbols": ["NVDA"]}],
    "run_scan": [{"name": "sdk"}],
    "get_signal_history": [{"watchlist": "sdk"}, {"watchlist": "sdk", "symbol": "AAPL"}],
    "delete_watchlist": [{"name": "sdk"}],
    # "$RULE" is the rule create_alert_rule makes, "$SILENCE" the silence.
    "create_alert_rule": [{"name": "sdk", "symbol": "AAPL", "condition": {"kind": "price_crosses_above", "value": 1000},
                           "idempotency_key": "sdk-rule"}],
    "list_alert_rules": [{}],
    "update_alert_rule": [{"rule_id": "$RULE", "cooldown_minutes": 5}],
    "pause_alert_rule": [{"rule_id": "$RULE"}],
    "resume_alert_rule": [{"rule_id": "$RULE"}],
    "get_alert_history": [{}],
    "acknowledge_alert": [{"rule_id": "$RULE"}],
    "delete_alert_rule": [{"rule_id": "$RULE"}],
    "create_silence": [{"symbol": "AAPL", "duration_minutes": 30, "idempotency_key": "sdk-silence"}],
    "list_silences": [{}],
    "delete_silence": [{"silence_id": "$SILENCE"}],
    "get_events": [{"limit": 5}],
}


async def check_every_tool(env: Env, mode: str) -> str:
    async with connect(env, mode, env.token) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        missing = sorted(set(names) - set(TOOL_ARGUMENTS))
        assert not missing, f"no arguments known for {missing}: add them to TOOL_ARGUMENTS"
        calls = 0
        samples: dict[str, str] = {}
        for name in names:
            for args in TOOL_ARGUMENTS[name]:
                args = {k: samples.get(v, v) if isinstance(v, str) else v for k, v in args.items()}
                result = await client.call_tool(name, args)
                data = result.structured_content or {}
                if name == "create_portfolio":
                    samples["$PORTFOLIO"] = data.get("portfolio_id", "")
                if name == "create_alert_rule":
                    samples["$RULE"] = data.get("rule", {}).get("rule_id", "")
                if name == "create_silence":
                    samples["$SILENCE"] = data.get("silence", {}).get("silence_id", "")
                if name == "place_order" and data.get("order"):
                    samples.setdefault("$ORDER", data["order"]["order_id"])
                where = f"{name}({', '.join(sorted(args))})"
                assert result.is_error is False, f"{where}: isError {result.is_error!r}: {text_of(result)[:300]}"
                assert isinstance(result.structured_content, dict) and result.structured_content, (
                    f"{where}: no structuredContent"
                )
                assert text_of(result).strip(), f"{where}: no text summary"
                calls += 1
        return f"{len(names)} tools, {calls} calls, every one with structuredContent and isError false"


async def check_unknown_symbol(env: Env, mode: str) -> str:
    async with connect(env, mode, env.token) as client:
        result = await client.call_tool("get_quote", {"symbol": "ZZZZ"})
        text = text_of(result)
        assert result.is_error, f"get_quote ZZZZ did not fail: {text}"
        assert "ZZZZ" in text and "list_symbols" in text, f"error does not say what to do: {text!r}"
        return f"isError: {text[:70]!r}..."


# --------------------------------------------------------------------------- checks, scoped and missing tokens


async def list_tool_names(env: Env, mode: str, token: str) -> set[str]:
    async with connect(env, mode, token) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


async def check_market_data_scope(env: Env, mode: str) -> str:
    token = env.mint("bob", "market-data:*")
    everything = await list_tool_names(env, mode, env.token)
    technical = await list_tool_names(env, mode, env.mint("ted", "technical-analysis:*"))
    assert "calculate_indicators" in technical, f"technical-analysis:* token lists {sorted(technical)}"
    async with connect(env, mode, token) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        assert MARKET_DATA_TOOLS <= set(names), f"market-data:* token lists {names}"
        assert not set(names) & technical, f"market-data:* token sees technical-analysis tools {sorted(set(names) & technical)}"
        assert set(names) <= everything, f"market-data:* token sees tools the dev token does not: {sorted(set(names) - everything)}"
        result = await client.call_tool("calculate_indicators", {
            "symbol": "AAPL", "indicators": [{"name": "sma"}],
        })
        text = text_of(result)
        assert result.is_error, f"calculate_indicators succeeded without its scope: {text[:200]}"
        assert "technical-analysis:calculate_indicators" in text, f"error does not name the missing scope: {text!r}"
        await call_ok(client, "get_quote", {"symbol": "AAPL"})
        return f"lists {', '.join(names)}; calculate_indicators -> isError {text[:60]!r}..."


async def check_indicators_only_scope(env: Env, mode: str) -> str:
    token = env.mint("carol", "technical-analysis:calculate_indicators")
    async with connect(env, mode, token) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        assert names == ["calculate_indicators"], f"technical-analysis:calculate_indicators token lists {names}"
        result = await client.call_tool("get_quote", {"symbol": "AAPL"})
        assert result.is_error, "get_quote succeeded without its scope"
        assert "market-data:get_quote" in text_of(result), f"error does not name the missing scope: {text_of(result)!r}"
        return "lists only calculate_indicators; get_quote -> isError naming market-data:get_quote"


async def expect_unauthorized(env: Env, mode: str, token: str | None) -> httpx2.Response:
    responses: list[httpx2.Response] = []
    connected_with: str | None = None
    try:
        async with connect(env, mode, token, responses) as client:
            connected_with = client.protocol_version
    except Exception:  # the SDK reports an HTTP error as an MCPError inside exception groups
        pass
    assert connected_with is None, f"connected without a valid token (protocol {connected_with})"
    assert responses, "no HTTP response was received at all"
    assert all(r.status_code == 401 for r in responses), f"HTTP statuses: {[r.status_code for r in responses]}"
    challenge = responses[0].headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer ") and "resource_metadata=" in challenge, f"WWW-Authenticate: {challenge!r}"
    return responses[0]


async def check_no_token(env: Env, mode: str) -> str:
    await expect_unauthorized(env, mode, None)
    return "connect fails: HTTP 401 with a Bearer resource_metadata challenge"


async def check_foreign_token(env: Env, mode: str) -> str:
    with tempfile.TemporaryDirectory(prefix="gs-other-key-") as other:
        token = env.mint("mallory", "*", data_dir=other)
    response = await expect_unauthorized(env, mode, token)
    assert 'error="invalid_token"' in response.headers.get("www-authenticate", ""), "no invalid_token error in challenge"
    return "token signed by another key: HTTP 401 invalid_token"


CHECKS: list[tuple[str, Callable[[Env, str], Awaitable[str]]]] = [
    ("handshake", check_handshake),
    ("tools/list with the dev token", check_tools_full),
    ("get_historical_data AAPL 1d limit 10", check_historical_latest),
    ("get_historical_data paging with next_cursor", check_historical_paging),
    ("calculate_indicators AAPL 1d", check_indicators),
    ("every listed tool with valid arguments", check_every_tool),
    ("unknown symbol is an error result", check_unknown_symbol),
    ("token with market-data:*", check_market_data_scope),
    ("token with technical-analysis:calculate_indicators", check_indicators_only_scope),
    ("no token", check_no_token),
    ("token from another signing key", check_foreign_token),
]


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside the task-group wrappers the SDK's transport raises through."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def describe(error: BaseException) -> str:
    found = leaves(error)
    if all(isinstance(leaf, AssertionError) for leaf in found):
        return "; ".join(str(leaf) or "assertion failed" for leaf in found)
    return "\n".join("".join(traceback.format_exception(leaf)).rstrip() for leaf in found)


async def run(env: Env, modes: list[str]) -> int:
    passed = failed = 0
    for mode in modes:
        for title, check in CHECKS:
            started = time.monotonic()
            try:
                detail = await asyncio.wait_for(check(env, mode), CASE_TIMEOUT_S)
            except Exception as error:  # noqa: BLE001 - any failure of a check is reported, the rest still run
                failed += 1
                print(f"FAIL [{mode}] {title}: {describe(error)}", flush=True)
            else:
                passed += 1
                print(f"PASS [{mode}] {title} ({time.monotonic() - started:.1f}s): {detail}", flush=True)
    print(f"python-sdk: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("GS_MCP_URL"), help="MCP endpoint, e.g. http://127.0.0.1:8787/mcp")
    parser.add_argument("--token", default=os.environ.get("GS_TOKEN"), help="dev token with every scope")
    parser.add_argument("--data-dir", default=os.environ.get("GS_DATA_DIR"), help="the server's data directory")
    parser.add_argument("--bin", default=os.environ.get("GS_BIN"), help="path of the goldensignals binary")
    parser.add_argument("--mode", choices=["auto", "legacy", "both"], default="both")
    args = parser.parse_args()
    missing = [name for name in ("url", "token", "data_dir", "bin") if not getattr(args, name)]
    if missing:
        parser.error("missing " + ", ".join("--" + m.replace("_", "-") for m in missing))
    env = Env(args.url, args.token, args.data_dir, args.bin)
    modes = ["auto", "legacy"] if args.mode == "both" else [args.mode]
    return asyncio.run(run(env, modes))


if __name__ == "__main__":
    sys.exit(main())
