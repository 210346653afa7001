"""Engine throughput: node orders journaled and acknowledged end to end, over the HTTP API.

    .venv/bin/python benchmarks/engine_throughput.py [--orders 2000] [--concurrency 64]

Starts an engine on a temporary home (sandbox, the installed venues on the synthetic
market), then many concurrent clients place small IOC orders pinned to binance BTC-USDT
(one node order each; buys and sells alternate so balances never run out). An order counts
when its HTTP answer says it filled: journaled, sent to the paper venue, acknowledged and
its fill recorded. Target (issue 4): at least 2,000 node orders/s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEQUENCE = str(Path(sys.executable).parent / "sequence")


async def run(port: int, token: str, orders: int, concurrency: int) -> tuple[float, list[float], int]:
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    filled = 0

    async def one(i: int, http) -> None:
        nonlocal filled
        body = {"request": {"symbol": "BTC-USDT", "side": "buy" if i % 2 == 0 else "sell", "qty": "0.0001",
                            "venue": "binance", "urgency": "high"}, "wait_s": 10}
        async with sem:
            t = time.perf_counter()
            async with http.post(f"http://127.0.0.1:{port}/v1/sandbox/orders", json=body,
                                 headers={"Authorization": f"Bearer {token}"}) as resp:
                data = await resp.json()
            latencies.append((time.perf_counter() - t) * 1000)
            if data.get("graph", {}).get("status") == "FILLED":
                filled += len(data["nodes"])

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*(one(i, http) for i in range(50)))          # warm-up
        latencies.clear()
        filled = 0
        start = time.perf_counter()
        await asyncio.gather(*(one(i, http) for i in range(orders)))
        return time.perf_counter() - start, latencies, filled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQUENCE_HOME": tmp + "/home"}
        subprocess.run([SEQUENCE, "engine", "start"], env=env, check=True, capture_output=True)
        try:
            info = json.loads((Path(tmp) / "home" / "engine.json").read_text())
            wall, lat, filled = asyncio.run(run(info["port"], info["token"], opts.orders, opts.concurrency))
        finally:
            subprocess.run([SEQUENCE, "engine", "stop"], env=env, capture_output=True)
    lat.sort()
    print(f"engine: {filled} node orders filled of {opts.orders} in {wall:.2f} s = {filled / wall:.0f} node orders/s "
          f"(concurrency {opts.concurrency}); latency p50 {statistics.median(lat):.1f} ms, p99 {lat[int(0.99 * (len(lat) - 1))]:.1f} ms")


if __name__ == "__main__":
    main()
