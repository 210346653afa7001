"""SOR decision latency: a parent across 6 venues with 50 levels each, in-process.

    .venv/bin/python benchmarks/sor_decision.py [--runs 5000]

Target (issue 4): p50 under 200 µs, p99 under 1 ms. Books are seeded random with realistic
BTC-like prices (tick 0.01), different fees per venue; the parent needs about half of the
total visible depth so most levels are walked.
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal as D

from sequence_core.market import BookLevel, Instrument, OrderBook
from sequence_core.router import route


def books(seed: int = 1):
    rnd = random.Random(seed)
    out = []
    for v in range(6):
        inst = Instrument(f"venue{v}", "BTC-USD", "BTCUSD", "crypto", "BTC", "USD", D("0.01"), D("0.0001"))
        mid = D("91000") + D(rnd.randint(-50, 50)) / 100
        bids = tuple(BookLevel(mid - D(k + 1) / 10, D(rnd.randint(1, 5000)) / 1000) for k in range(50))
        asks = tuple(BookLevel(mid + D(k + 1) / 10, D(rnd.randint(1, 5000)) / 1000) for k in range(50))
        out.append((OrderBook(f"venue{v}", "BTC-USD", 0, 0, bids, asks), inst, D("0.0005") * (v % 4 + 1)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5000)
    opts = parser.parse_args()
    b = books()
    qty = D("180")            # about half the visible ask depth of the six venues
    for _ in range(200):
        route("buy", qty, b)
    samples = []
    for i in range(opts.runs):
        side = "buy" if i % 2 == 0 else "sell"
        t = time.perf_counter_ns()
        route(side, qty, b, max_slippage_bps=100)
        samples.append((time.perf_counter_ns() - t) / 1000)
    samples.sort()
    p = lambda q: samples[int(q * (len(samples) - 1))]
    print(f"SOR decision, 6 venues x 50 levels: p50 {p(0.5):.0f} us  p99 {p(0.99):.0f} us  (n={len(samples)})")


if __name__ == "__main__":
    main()
