"""Reading one day of one symbol's book deltas from the store into int64 arrays.

    .venv/bin/python benchmarks/store_read.py [--rows 20000000]

Builds (once, cached under benchmarks/.data/) a day of BTC-USDT deltas by looping the real
Binance capture's level changes with shifted timestamps, then times Store.arrays() for
ts_recv, side, price and size (median of 5). Target (issue 3): at least 20 million rows/s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from sequence_core.store import SCALE, Store

HERE = Path(__file__).resolve().parent
CAPTURE = HERE.parents[1] / "shared" / "data" / "market" / "binance-multi-2024-08-08"


def build(root: Path, rows: int) -> Store:
    store = Store(root)
    if store.files("book_deltas", symbol="BTC-USDT"):
        return store
    from sequence_core.ingest import ingest

    seed = Store(root / "_seed")
    ingest([str(CAPTURE / "spot_btcusdt_20240808.gz"), str(CAPTURE / "spot_btcusdt_20240809.gz")], seed)
    src = seed.arrays("book_deltas", symbol="BTC-USDT")
    n = len(src["ts_recv"])
    reps = -(-rows // n)
    day0 = 19_944 * 86_400 * SCALE
    span = int(src["ts_recv"][-1] - src["ts_recv"][0]) + 1
    step = min(span, (86_400 * SCALE) // reps)
    base = src["ts_recv"] - src["ts_recv"][0]
    cols = {k: np.concatenate([v] * reps)[:rows] for k, v in src.items() if k not in ("ts_recv", "ts_exchange")}
    recv = np.concatenate([day0 + r * step + (base * step // span) for r in range(reps)])[:rows]
    cols["ts_recv"] = recv
    cols["ts_exchange"] = recv + 1_300_000_000
    store.write("book_deltas", "binance", "BTC-USDT", "day", cols)
    return store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000_000)
    opts = parser.parse_args()
    store = build(HERE / ".data" / f"store-{opts.rows}", opts.rows)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        arr = store.arrays("book_deltas", symbol="BTC-USDT", start="2024-08-09", end="2024-08-09",
                           columns=["ts_recv", "side", "price", "size"])
        times.append(time.perf_counter() - t)
    n = len(arr["ts_recv"])
    med = statistics.median(times)
    print(f"store read, one day of BTC-USDT deltas: {n:,} rows in {med:.3f} s = {n / med / 1e6:.1f} M rows/s (median of 5)")


if __name__ == "__main__":
    main()
