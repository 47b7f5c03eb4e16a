#!/usr/bin/env python3
"""Measures the two figures the foundation issue asks for, on this machine:

1. time from starting `goldensignals serve` to its first answered MCP request
   (fresh data dir, i.e. including demo seeding, and an existing data dir);
2. latency over HTTP of `calculate_indicators` with 6 indicators on 5,000
   stored bars (median and p90 of N calls), for the default 1,000 returned
   rows and for all 5,000 rows.

Usage: scripts/measure.py [path/to/goldensignals] [calls]
Build first (`cargo build --release` for deployable figures). Stdlib only.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/goldensignals"
CALLS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
INDICATORS = [
    {"name": "sma", "params": {"timeperiod": 20}},
    {"name": "ema", "params": {"timeperiod": 50}},
    {"name": "rsi"},
    {"name": "macd"},
    {"name": "bbands"},
    {"name": "atr"},
]


def post(url, token, body):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        },
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def start(data_dir):
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [BINARY, "serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines = [proc.stdout.readline() for _ in range(4)]
    url = lines[0].split(": ", 1)[1].strip()
    token = lines[3].strip()
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "measure", "version": "1"},
        },
    }
    while True:
        try:
            post(url, token, init)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.002)
    return proc, url, token, time.perf_counter() - t0


def latency(url, token, output_rows):
    body = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {
            "name": "calculate_indicators",
            "arguments": {
                "symbol": "BTC-USD",
                "timeframe": "5m",
                "lookback": 5000,
                "output_rows": output_rows,
                "indicators": INDICATORS,
            },
        },
    }
    samples = []
    for _ in range(CALLS + 3):
        t0 = time.perf_counter()
        reply = post(url, token, body)
        samples.append(time.perf_counter() - t0)
        result = reply["result"]
        assert not result.get("isError"), result
        assert result["structuredContent"]["bars_used"] == 5000, result["structuredContent"]["bars_used"]
    samples = sorted(samples[3:])  # the first calls warm caches
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def main():
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url, token, fresh = start(data_dir)
        print(f"serve -> first answered request, fresh data dir (seeds demo): {fresh * 1000:.0f} ms")
        for rows in (1000, 5000):
            med, p90 = latency(url, token, rows)
            print(f"calculate_indicators, 6 indicators, 5000 bars, {rows} rows returned: "
                  f"median {med * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms over {CALLS} calls")
        proc.terminate()
        proc.wait()
        proc, _, _, warm = start(data_dir)
        print(f"serve -> first answered request, existing data dir: {warm * 1000:.0f} ms")
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
