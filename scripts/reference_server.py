#!/usr/bin/env python3
"""The comparison server for `scripts/measure.py --compare`: the same
`calculate_indicators` call on inline bars, written the way a Python team
would write it with the official MCP SDK (`mcp` 2.3.0, `MCPServer`) and
TA-Lib's C library through its Python wrapper (`ta-lib` 0.8.2, numpy).

Stateless Streamable HTTP with JSON responses, like ours; no authentication
(ours verifies a bearer token on every call, so the comparison favours this
server slightly).

    .venv/bin/python scripts/reference_server.py PORT
"""

import math
import sys
from typing import Any

import numpy as np
import talib
from talib import abstract
from pydantic import BaseModel, Field

from mcp.server.mcpserver import MCPServer


class InlineBar(BaseModel):
    time: str | int = Field(description="Bar time: RFC 3339 or epoch seconds")
    open: float = Field(description="Opening price")
    high: float = Field(description="Highest price")
    low: float = Field(description="Lowest price")
    close: float = Field(description="Closing price")
    volume: float = Field(0.0, description="Traded volume")


class IndicatorRequest(BaseModel):
    name: str = Field(description="TA-Lib function name, lower case")
    params: dict[str, float] = Field(default_factory=dict, description="TA-Lib parameters")


class IndicatorResult(BaseModel):
    name: str
    params: dict[str, Any]
    outputs: dict[str, list[float | None]]


class CalculateIndicatorsOutput(BaseModel):
    bars_used: int
    rows: int
    truncated: bool
    time: list[str | int]
    indicators: list[IndicatorResult]


server = MCPServer("talib-reference")


@server.tool()
def calculate_indicators(
    bars: list[InlineBar], indicators: list[IndicatorRequest], output_rows: int = 1000
) -> CalculateIndicatorsOutput:
    """Compute TA-Lib indicators on inline OHLCV bars."""
    inputs = {
        "open": np.array([b.open for b in bars], dtype=float),
        "high": np.array([b.high for b in bars], dtype=float),
        "low": np.array([b.low for b in bars], dtype=float),
        "close": np.array([b.close for b in bars], dtype=float),
        "volume": np.array([b.volume for b in bars], dtype=float),
    }
    skip = max(0, len(bars) - output_rows)
    results = []
    for req in indicators:
        fn = abstract.Function(req.name.upper())
        params = {k: (int(v) if float(v).is_integer() else v) for k, v in req.params.items()}
        out = fn(inputs, **params)
        arrays = out if isinstance(out, list) else [out]
        outputs = {
            name: [None if math.isnan(x) else float(x) for x in arr[skip:]]
            for name, arr in zip(fn.output_names, arrays)
        }
        results.append(IndicatorResult(name=req.name, params=dict(fn.parameters), outputs=outputs))
    return CalculateIndicatorsOutput(
        bars_used=len(bars),
        rows=len(bars) - skip,
        truncated=skip > 0,
        time=[b.time for b in bars[skip:]],
        indicators=results,
    )


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8799
    server.run(
        "streamable-http",
        host="127.0.0.1",
        port=port,
        json_response=True,
        stateless_http=True,
    )
