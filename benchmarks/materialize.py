"""`research materialize` throughput over 30 symbol-days, with 1 and 2 worker processes.

    .venv/bin/python benchmarks/materialize.py [--symbols 5] [--days 6] [--rows-per-day 1000000] [--runs 3]

Builds (once, cached under benchmarks/.data/materialize) a store of ``symbols × days`` book-days
of synthetic full-day markets (a random-walk mid quoted every ~0.35 s as best bid/ask rows, and
trades at the touch; 5/6 of the rows are quotes), then times ``materialize --force`` over the
window with the process executor at 1 and 2 workers (median of ``--runs``) and prints input
rows/s and the speed-up. Synthetic because the recorded captures span minutes, not days; the
profile's work per row does not depend on where the prices came from.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np

from sequence_core.store import SCALE, Store

HERE = Path(__file__).resolve().parent
DAY0 = 19_700                          # 2023-12-09


def build(root: Path, symbols: int, days: int, rows_per_day: int) -> Store:
    store = Store(root)
    if len(store.files("trades")) == symbols * days:
        return store
    rng = np.random.default_rng(5)
    n_trades = rows_per_day // 6
    n_quotes = rows_per_day - n_trades
    for s in range(symbols):
        sym = f"SYM{s}-USDT"
        for d in range(days):
            t0 = (DAY0 + d) * 86_400 * SCALE
            q_ts = np.sort(rng.integers(t0, t0 + 86_400 * SCALE, n_quotes))
            mid = 100.0 * (s + 1) * np.exp(np.cumsum(rng.normal(0, 2e-5, n_quotes)))
            half = np.maximum(0.01, np.abs(rng.normal(0.02, 0.01, n_quotes)) * (s + 1))
            bid, ask = np.round(mid - half, 2), np.round(mid + half, 2)
            bsz, asz = rng.integers(1, 5_000, n_quotes), rng.integers(1, 5_000, n_quotes)
            store.write("bbo", "synth", sym, "bench", {
                "ts_exchange": q_ts, "ts_recv": q_ts, "seq": np.arange(n_quotes),
                "bid_price": (bid * SCALE).astype(np.int64), "ask_price": (ask * SCALE).astype(np.int64),
                "bid_size": bsz * (SCALE // 1000), "ask_size": asz * (SCALE // 1000)})
            pick = np.sort(rng.integers(0, n_quotes, n_trades))
            side = np.where(rng.random(n_trades) < 0.5, 1, -1).astype(np.int8)
            price = np.where(side > 0, ask[pick], bid[pick])
            t_ts = q_ts[pick] + 1
            store.write("trades", "synth", sym, "bench", {
                "ts_exchange": t_ts, "ts_recv": t_ts, "trade_id": [str(i) for i in range(n_trades)], "side": side,
                "price": (price * SCALE).astype(np.int64),
                "size": rng.integers(1, 2_000, n_trades) * (SCALE // 1000)})
    return store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=5)
    ap.add_argument("--days", type=int, default=6)
    ap.add_argument("--rows-per-day", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from sequence_core.research.materialize import materialize

    root = HERE / ".data" / "materialize" / f"{args.symbols}x{args.days}x{args.rows_per_day}"
    store = build(root, args.symbols, args.days, args.rows_per_day)
    import datetime as dt

    start = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + DAY0).isoformat()
    end = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + DAY0 + args.days - 1).isoformat()
    print(f"machine: {os.cpu_count()} cores; store: {args.symbols * args.days} symbol-days, "
          f"{args.rows_per_day:,} rows per day ({args.symbols * args.days * args.rows_per_day:,} rows)")
    medians = {}
    with tempfile.TemporaryDirectory() as out:
        for workers in (1, 2):
            figures = []
            for _ in range(args.runs):
                s = materialize(store, Path(out), start, end, workers=workers, force=True)
                assert s.failed == 0 and s.written == args.symbols * args.days, s.failures
                figures.append((s.seconds, s.rows_per_s))
            med = statistics.median(f[0] for f in figures)
            medians[workers] = med
            print(f"workers={workers}: median {med:.2f} s, {s.rows / med:,.0f} input rows/s "
                  f"(runs: {', '.join(f'{f[0]:.2f}s' for f in figures)})")
    print(f"speed-up 2 vs 1 worker: {medians[1] / medians[2]:.2f}x")


if __name__ == "__main__":
    main()
