"""`intel` over one day of one symbol: the real Binance spot capture looped to 24 hours.

    .venv/bin/python benchmarks/intel.py

The 11-minute capture (binance-multi-2024-08-08, spot BTCUSDT) is repeated with shifted
timestamps to fill one UTC day (about 39 M depth rows, 1.3 M trades, 6 M best bid/ask rows;
built once under benchmarks/.data/), then the snapshot is timed (median of 5).
Target (issue 9): under 2 s.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from sequence_core.intel import snapshot
from sequence_core.market import spot
from sequence_core.store import SCALE, Store

HERE = Path(__file__).resolve().parent
CAPTURE = HERE.parents[1] / "shared" / "data" / "market" / "binance-multi-2024-08-08"
DAY0 = 19_944 * 86_400 * SCALE


def build(root: Path) -> Store:
    store = Store(root)
    if store.files("trades", symbol="BTC-USDT"):
        return store
    from sequence_core.ingest import ingest

    seed = Store(root / "_seed")
    ingest([str(CAPTURE / "spot_btcusdt_20240808.gz"), str(CAPTURE / "spot_btcusdt_20240809.gz")], seed)
    for table in ("trades", "bbo", "book_deltas"):
        src = seed.arrays(table, symbol="BTC-USDT")
        t0 = src["ts_recv"].min()
        span = int(src["ts_recv"].max() - t0) + 1
        reps = 86_400 * SCALE // span
        offsets = np.repeat(np.arange(reps, dtype=np.int64) * span, len(src["ts_recv"]))
        cols = {k: (np.tile(v, reps) if not isinstance(v, list) else v * reps) for k, v in src.items()}
        cols["ts_recv"] = DAY0 + (np.tile(src["ts_recv"] - t0, reps) + offsets)
        cols["ts_exchange"] = cols["ts_recv"] + 1_300_000_000
        store.write(table, "binance", "BTC-USDT", "day", cols)
    return store


def main() -> None:
    store = build(HERE / ".data" / "intel-day")
    inst = [spot("binance", "BTC", "USDT", "BTCUSDT", "0.01", "0.00001")]
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        intel = snapshot("BTC-USDT", store, inst)
        runs.append(time.perf_counter() - start)
    v = intel.venues[0]
    print(f"intel over one day of BTC-USDT ({v.trades:,} trades, {v.quote_updates:,} quote updates): "
          f"median {statistics.median(runs):.2f} s (n=5)")


if __name__ == "__main__":
    main()
