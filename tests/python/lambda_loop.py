"""The local Lambda loop, seen by a real MCP client: the official Python SDK
(`mcp` 2.3.0) against the gateway function served by `cargo lambda watch`,
which dispatches every tools/call to the tool function (a second
`cargo lambda watch`) through the Lambda Invoke API, on a DynamoDB table and
KMS keys on the AWS emulator (`goldensignals dev bootstrap`).

    .venv/bin/python tests/python/lambda_loop.py --url URL/lambda-url/gateway/mcp --token TOKEN

`./scripts/test` sets it all up (stage lambda-loop) and runs this. Exits 1 if
any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

EXPECTED_TOOLS = {
    "list_symbols", "get_quote", "get_historical_data", "calculate_indicators",
    "detect_candlestick_patterns", "analyze_pattern", "analyze_timeframes",
    "generate_signals", "backtest_signals", "import_bars",
    "list_series", "query_timeseries", "aggregate_series",
    "health_check", "get_usage", "get_metrics", "get_recent_errors",
    "query_audit_log", "verify_audit_chain", "get_logs",
    "import_news", "import_posts", "analyze_sentiment", "get_news_sentiment",
    "get_social_sentiment", "get_market_sentiment", "analyze_event_impact",
    "import_options", "get_option_chain", "calculate_greeks", "implied_volatility",
    "get_put_call_ratio", "detect_unusual_activity", "analyze_options_flow",
    "create_portfolio", "list_portfolios", "get_portfolio", "place_order", "cancel_order",
    "get_orders", "get_fills", "check_trade_risk", "get_risk_metrics", "get_performance",
    "rebalance_preview",
    "create_watchlist", "list_watchlists", "update_watchlist", "delete_watchlist",
    "run_scan", "get_signal_history",
    "create_alert_rule", "list_alert_rules", "update_alert_rule", "delete_alert_rule",
    "pause_alert_rule", "resume_alert_rule", "get_alert_history", "acknowledge_alert",
    "create_silence", "list_silences", "delete_silence", "get_events",
}


async def check(url: str, token: str, mode: str, tag: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=120) as http:
        transport = streamable_http_client(url, http_client=http, max_sse_event_size=None)
        async with Client(transport, mode=mode, cache=None, read_timeout_seconds=120) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert tools == EXPECTED_TOOLS, f"tools/list: {sorted(tools)}"

            quote = await client.call_tool("get_quote", {"symbol": "AAPL"})
            assert not quote.is_error, quote
            data = quote.structured_content
            assert data["symbol"] == "AAPL" and data["synthetic"] is True, data
            assert data["low"] <= data["price"] <= data["high"], data

            rsi = await client.call_tool("calculate_indicators", {
                "symbol": "AAPL", "timeframe": "1d", "output_rows": 5,
                "indicators": [{"name": "rsi", "params": {"timeperiod": 14}}],
            })
            assert not rsi.is_error, rsi
            values = rsi.structured_content["indicators"][0]["outputs"]["real"]
            assert len(values) == 5 and all(0 <= v <= 100 for v in values), values

            # A tool error crosses both functions as a tool error a model can act on.
            unknown = await client.call_tool("get_quote", {"symbol": "ZZZZ"})
            assert unknown.is_error, unknown
            text = " ".join(getattr(c, "text", "") for c in unknown.content)
            assert "list_symbols" in text, text

            resource = await client.read_resource("market://quotes/realtime/MSFT")
            body = json.loads(resource.contents[0].text)
            assert body["symbol"] == "MSFT", body
            # The gateway counted those calls in the table; the get_usage
            # function reads the same counters.
            usage = await client.call_tool("get_usage", {"server": "market-data"})
            assert not usage.is_error, usage
            limit = usage.structured_content["limits"][0]
            assert limit["counter"] == "server:market-data" and limit["used"] >= 3, limit
            assert limit["remaining"] == limit["limit"] - limit["used"], limit
            # The audit entries the gateway wrote, read by their own function.
            audit = await client.call_tool("query_audit_log", {"tool": "get_quote", "limit": 10})
            assert not audit.is_error, audit
            entries = audit.structured_content["entries"]
            assert {e["outcome"] for e in entries} >= {"ok", "error"}, entries
            chain = await client.call_tool("verify_audit_chain", {})
            assert chain.structured_content["ok"] is True, chain.structured_content

            # News imported through one function is scored by another.
            news = ('{"time":"2026-03-02T12:00:00Z","headline":"Apple crushes estimates",'
                    '"url":"https://loop.example/1"}\n')
            imported = await client.call_tool("import_news", {"text": news})
            assert not imported.is_error, imported
            assert imported.structured_content["parsed"] == 1, imported.structured_content
            scored = await client.call_tool("get_news_sentiment", {
                "symbol": "AAPL", "end": "2026-03-03T00:00:00Z", "days": 2})
            assert not scored.is_error, scored
            items = scored.structured_content["items"]
            assert any(i["item"]["url"] == "https://loop.example/1" and i["score"]["label"] == "positive"
                       and i["external_text"] is True for i in items), items

            # An option chain imported through one function is priced by another.
            chain = ("as_of,underlying,underlying_price,symbol,bid,ask,volume,open_interest\n"
                     "2026-11-30T21:00:00Z,LOOPX,100,LOOPX 261218C00100000,4.1,4.3,120,1500\n"
                     "2026-11-30T21:00:00Z,LOOPX,100,LOOPX 261218P00100000,3.6,3.8,80,1200\n")
            imported = await client.call_tool("import_options", {"text": chain})
            assert not imported.is_error, imported
            assert imported.structured_content["contracts"] == 2, imported.structured_content
            priced = await client.call_tool("get_option_chain", {"symbol": "LOOPX", "as_of": "2026-12-01"})
            assert not priced.is_error, priced
            rows = priced.structured_content["contracts"]
            assert len(rows) == 2 and all(0.05 < r["iv"] < 1.0 for r in rows), rows

            # A portfolio made by one function takes an order through a second
            # and shows it through a third; a repeat of the key is the same order.
            made = await client.call_tool("create_portfolio", {"name": "loop", "idempotency_key": f"loop-{tag}"})
            assert not made.is_error, made
            pf = made.structured_content["portfolio_id"]
            order = {"portfolio_id": pf, "symbol": "AAPL", "side": "buy", "quantity": 3,
                     "order_type": "limit", "limit_price": 1, "time_in_force": "gtc",
                     "idempotency_key": f"loop-order-{tag}"}
            first = await client.call_tool("place_order", order)
            again = await client.call_tool("place_order", order)
            assert not first.is_error and not again.is_error, (first, again)
            assert first.structured_content["outcome"] == "placed", first.structured_content
            assert again.structured_content["outcome"] == "repeat", again.structured_content
            shown = await client.call_tool("get_portfolio", {"portfolio_id": pf})
            assert not shown.is_error, shown
            opened = shown.structured_content["open_orders"]
            assert [o["order_id"] for o in opened] == [first.structured_content["order"]["order_id"]], opened


def timed_calls(url: str, token: str, calls: int) -> list[float]:
    """Seconds per get_quote tools/call, sequential, on one kept-alive connection."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "get_quote", "arguments": {"symbol": "AAPL"}}}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-11-25"}
    samples = []
    with httpx2.Client(headers=headers, timeout=60) as http:
        for _ in range(calls + 3):
            started = time.perf_counter()
            reply = http.post(url, json=body)
            samples.append(time.perf_counter() - started)
            assert reply.status_code == 200 and "structuredContent" in reply.text, reply.text
    return sorted(samples[3:])


def median(xs: list[float]) -> float:
    return xs[len(xs) // 2]


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--measure", type=int, default=0,
                        help="also time N get_quote calls here and against --direct-url")
    parser.add_argument("--direct-url", help="an in-process server on the same store (serve --store dynamodb)")
    parser.add_argument("--direct-token")
    args = parser.parse_args()
    if args.measure:
        loop = timed_calls(args.url, args.token, args.measure)
        print(f"dispatched (gateway -> tool function): median {median(loop) * 1000:.1f} ms over {len(loop)}")
        if args.direct_url:
            direct = timed_calls(args.direct_url, args.direct_token, args.measure)
            print(f"in-process (serve --store dynamodb):   median {median(direct) * 1000:.1f} ms over {len(direct)}")
            print(f"added by dispatch: {(median(loop) - median(direct)) * 1000:.1f} ms")
        return 0
    failed = 0
    for mode in ("legacy", "auto"):
        # One CI run saw the auto mode's first tools/list fail once and pass
        # on every run since; a second attempt tells a lost request from a
        # broken endpoint, and the first failure is printed in full either way.
        for attempt in (1, 2):
            started = time.monotonic()
            try:
                await asyncio.wait_for(check(args.url, args.token, mode, f"{mode}-{attempt}"), timeout=600)
                print(f"ok    lambda loop ({mode}) in {time.monotonic() - started:.1f} s"
                      + (" (second attempt)" if attempt == 2 else ""))
                break
            except Exception as e:  # noqa: BLE001 - report every failure
                word = "FAIL " if attempt == 2 else "RETRY"
                print(f"{word} lambda loop ({mode}): {type(e).__name__}: {e}")
                # A task group wraps the failure: say what each part was,
                # innermost cause last.
                for sub in getattr(e, "exceptions", ()) or (e,):
                    print("".join(traceback.format_exception(sub)).rstrip()[-4000:])
                if attempt == 2:
                    failed += 1
    print(f"{2 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
