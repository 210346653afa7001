"""TCA over 100,000 fills: the vectorised analysis, median of 5.

    .venv/bin/python benchmarks/tca.py [--fills 100000]

Fills are generated across 6 venues, 3 policies and 1,000 parent orders; mids come from a
recorded-style mid series looked up with numpy searchsorted (as a replayed store provides).
Target (issue 9): under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sequence_core.tca import analyse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fills", type=int, default=100_000)
    opts = parser.parse_args()
    rng = np.random.default_rng(7)
    n = opts.fills
    t0 = 1_700_000_000_000_000_000
    series_t = t0 + np.arange(0, 3_600_000_000_000, 100_000_000)                  # a mid every 100 ms for 1 h
    series_m = 91_000 * np.exp(np.cumsum(rng.normal(0, 2e-5, len(series_t))))
    ts = np.sort(rng.integers(t0, t0 + 3_500_000_000_000, n))
    mids = series_m[np.searchsorted(series_t, ts, side="right") - 1]
    side = rng.choice([-1, 1], n)
    price = mids * (1 + side * rng.uniform(0, 3e-4, n))
    qty = rng.lognormal(-5, 1.5, n)
    graphs = rng.integers(0, 1000, n).astype(str)
    fills = {"ts_ns": ts, "price": price, "qty": qty, "fee": price * qty * 5e-4, "side": side,
             "venue": rng.choice([f"v{i}" for i in range(6)], n), "book": np.full(n, "BTC"),
             "policy": rng.choice(["sor", "twap", "vwap"], n), "graph": graphs}
    info = {str(g): (91_000.0, 10.0, "sor") for g in range(1000)}

    def mid(book, times):
        return series_m[np.searchsorted(series_t, times, side="right") - 1]

    runs = []
    for _ in range(5):
        start = time.perf_counter()
        rows = analyse(fills, info, mid, now_ns=int(ts[-1]))
        runs.append(time.perf_counter() - start)
    print(f"tca over {n:,} fills ({len(rows)} groups): median {statistics.median(runs) * 1000:.0f} ms (n=5)")


if __name__ == "__main__":
    main()
