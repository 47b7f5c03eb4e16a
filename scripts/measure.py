#!/usr/bin/env python3
"""Measures, on this machine:

1. time from starting `goldensignals serve` to its first answered MCP request
   (fresh data dir, i.e. including demo seeding, and an existing data dir);
2. latency over HTTP of `calculate_indicators` with 6 indicators on 5,000
   stored bars (median and p90), for the default 1,000 rows and all 5,000;
3. with `--compare`: the same `calculate_indicators` call on 5,000 INLINE
   bars, every row returned, against this server and against the Python SDK
   + TA-Lib server in `scripts/reference_server.py`, side by side in one run
   (calls alternate between the two), with the ratio of the medians. Both
   answers are checked to agree to 1e-9 before anything is timed.

Usage:
    scripts/measure.py [--binary target/release/goldensignals] [--calls 30] [--compare]

Build first (`cargo build --release`). `--compare` needs `.venv` with
`mcp==2.3.0 ta-lib==0.8.2 numpy` (`python3 -m venv .venv && .venv/bin/pip
install mcp==2.3.0 ta-lib==0.8.2 numpy`). The rest is stdlib only.
"""

import argparse
import http.client
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

INDICATORS = [
    {"name": "sma", "params": {"timeperiod": 20}},
    {"name": "ema", "params": {"timeperiod": 50}},
    {"name": "rsi"},
    {"name": "macd"},
    {"name": "bbands"},
    {"name": "atr"},
]
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def post_raw(url, token, data):
    headers = dict(HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read()


def post(url, token, body):
    return json.loads(post_raw(url, token, json.dumps(body).encode()))


INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "measure", "version": "1"},
    },
}


def wait_ready(url, token, proc):
    while True:
        try:
            post(url, token, INIT)
            return
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None:
                sys.exit(f"server at {url} exited with {proc.returncode}")
            time.sleep(0.002)


def start(binary, data_dir):
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = proc.stdout.readline().split(": ", 1)[1].strip()
    # "Data directory: ..." then "Dev token (...) in PATH"; the token itself
    # is printed only to a terminal, so read the owner-only file.
    for _ in range(2):
        proc.stdout.readline()
    token = open(os.path.join(data_dir, "dev-token")).read().strip()
    wait_ready(url, token, proc)
    return proc, url, token, time.perf_counter() - t0


class Connection:
    """One kept-alive HTTP connection, so a timed call is one request and
    its response, without connection set-up."""

    def __init__(self, url, token):
        rest = url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        self.path = "/" + path
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = dict(HEADERS)
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def post(self, data):
        self.conn.request("POST", self.path, body=data, headers=self.headers)
        resp = self.conn.getresponse()
        body = resp.read()
        assert resp.status == 200, (resp.status, body[:300])
        return body


def timed(url, token, data, check, calls):
    samples = []
    conn = Connection(url, token)
    for i in range(calls + 3):
        t0 = time.perf_counter()
        body = conn.post(data)
        samples.append(time.perf_counter() - t0)
        check(json.loads(body))
    samples = sorted(samples[3:])  # the first calls warm caches
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def stored_call(output_rows):
    return {
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


def inline_bars(n=5000, seed=7):
    rng = random.Random(seed)
    price, t = 100.0, 1_700_000_000
    bars = []
    for i in range(n):
        o = price
        c = o * math.exp(rng.gauss(0, 0.01))
        h = max(o, c) * (1 + 0.005 * rng.random())
        lo = min(o, c) * (1 - 0.005 * rng.random())
        bars.append({"time": t + 300 * i, "open": o, "high": h, "low": lo, "close": c,
                     "volume": float(round(1e5 * (0.5 + rng.random())))})
        price = c
    return bars


def inline_call(bars):
    return {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {
            "name": "calculate_indicators",
            "arguments": {"bars": bars, "output_rows": len(bars), "indicators": INDICATORS},
        },
    }


def ok(reply):
    result = reply["result"]
    assert not result.get("isError"), result
    return result["structuredContent"]


def outputs(structured):
    return {(ind["name"], k): v for ind in structured["indicators"] for k, v in ind["outputs"].items()}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compare(url, token, calls):
    bars = inline_bars()
    data = json.dumps(inline_call(bars)).encode()
    port = free_port()
    ref = subprocess.Popen([os.path.join(".venv", "bin", "python"), "scripts/reference_server.py", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ref_url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_ready(ref_url, None, ref)
        ours = outputs(ok(json.loads(post_raw(url, token, data))))
        theirs = outputs(ok(json.loads(post_raw(ref_url, None, data))))
        assert set(ours) == set(theirs), (sorted(ours), sorted(theirs))
        for key in ours:
            for a, b in zip(ours[key], theirs[key]):
                assert (a is None) == (b is None) and (a is None or abs(a - b) <= 1e-9 * max(1, abs(b))), key
        print(f"inline comparison: {len(bars)} bars, {len(ours)} output series agree to 1e-9; "
              f"request {len(data) / 1e6:.2f} MB")
        ours_t, theirs_t = [], []
        ours_c, theirs_c = Connection(url, token), Connection(ref_url, None)
        for _ in range(calls + 3):  # alternate so both see the same machine state
            for target, conn in ((ours_t, ours_c), (theirs_t, theirs_c)):
                t0 = time.perf_counter()
                body = conn.post(data)
                target.append(time.perf_counter() - t0)
                ok(json.loads(body))  # checked outside the timed request
        med_o = statistics.median(sorted(ours_t[3:]))
        med_t = statistics.median(sorted(theirs_t[3:]))
        print(f"calculate_indicators, 6 indicators, 5000 inline bars, every row: "
              f"goldensignals median {med_o * 1000:.1f} ms, Python SDK + TA-Lib median {med_t * 1000:.1f} ms "
              f"over {calls} calls each: {med_t / med_o:.1f}x faster (timed: request sent to response read, one kept-alive connection each)")
    finally:
        ref.terminate()
        ref.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary", nargs="?", default="target/release/goldensignals")
    parser.add_argument("calls", nargs="?", type=int, default=30)
    parser.add_argument("--compare", action="store_true", help="also time the inline call against the Python SDK + TA-Lib server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url, token, fresh = start(args.binary, data_dir)
        print(f"serve -> first answered request, fresh data dir (seeds demo): {fresh * 1000:.0f} ms")
        for rows in (1000, 5000):
            def check(reply):
                assert ok(reply)["bars_used"] == 5000
            med, p90 = timed(url, token, json.dumps(stored_call(rows)).encode(), check, args.calls)
            print(f"calculate_indicators, 6 indicators, 5000 stored bars, {rows} rows returned: "
                  f"median {med * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms over {args.calls} calls")
        if args.compare:
            compare(url, token, args.calls)
        proc.terminate()
        proc.wait()
        proc, _, _, warm = start(args.binary, data_dir)
        print(f"serve -> first answered request, existing data dir: {warm * 1000:.0f} ms")
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
