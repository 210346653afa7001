#!/usr/bin/env python
"""Run the reference strategy in hftbacktest 2.4.4 over events exported from Sequence's store.

Runs in the peer's own virtual environment (hftbacktest pins numpy<2.3 and numba 0.61, which
the project's environment does not use): scripts/install-peer.sh makes it.

    python hbt_events.py events.npz --tick 0.01 --lot 0.00001 --qty 0.01 [--latency-ns 0]
        [--queue power3n|...] [--partial]

events.npz holds the merged stream the sim-engine replays (one instrument): ts_exch, ts_recv,
kind (0 depth, 1 trade, 2 first row of a snapshot), side, price, size (floats). Prints one JSON
line: submits, cancels, fills, position, checks.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
from hftbacktest.types import (
    BUY_EVENT,
    DEPTH_CLEAR_EVENT,
    DEPTH_EVENT,
    DEPTH_SNAPSHOT_EVENT,
    EXCH_EVENT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    event_dtype,
)

sys.path.insert(0, os.environ.get("SEQUENCE_BENCH_DIR", ""))
from bench_hbt import ORDER_QTY, REQUOTE_TICKS, INTERVAL_NS, strategy  # noqa: E402,F401


def to_events(d) -> np.ndarray:
    kind, side = d["kind"], d["side"]
    n = len(kind)
    clears = kind == 2
    rows = n + int(clears.sum())
    out = np.zeros(rows, dtype=event_dtype)
    # each snapshot is preceded by a clear of the whole book
    pos = np.arange(n) + np.cumsum(clears)
    clear_pos = pos[clears] - 1
    flags = np.uint64(EXCH_EVENT | LOCAL_EVENT)
    ev = np.where(kind == 1, np.uint64(TRADE_EVENT),
                  np.where(kind == 2, np.uint64(DEPTH_SNAPSHOT_EVENT), np.uint64(DEPTH_EVENT)))
    ev |= np.where(side > 0, np.uint64(BUY_EVENT), np.uint64(SELL_EVENT))
    out["ev"][pos] = ev | flags
    out["exch_ts"][pos] = d["ts_exch"]
    out["local_ts"][pos] = d["ts_recv"]
    out["px"][pos] = d["price"]
    out["qty"][pos] = d["size"]
    out["ev"][clear_pos] = np.uint64(DEPTH_CLEAR_EVENT) | flags
    out["exch_ts"][clear_pos] = d["ts_exch"][clears]
    out["local_ts"][clear_pos] = d["ts_recv"][clears]
    # hftbacktest needs exchange-time order on its exchange side: make the exchange clock a
    # running maximum in receive order (what the sim-engine's exchange clock does)
    out["exch_ts"] = np.maximum.accumulate(out["exch_ts"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("events")
    ap.add_argument("--tick", type=float, required=True)
    ap.add_argument("--lot", type=float, required=True)
    ap.add_argument("--qty", type=float, default=ORDER_QTY)
    ap.add_argument("--latency-ns", type=int, default=0)
    ap.add_argument("--n", type=float, default=3.0)
    ap.add_argument("--partial", action="store_true")
    ap.add_argument("--timing", action="store_true",
                    help="run twice in this process and time the second run (the first compiles)")
    args = ap.parse_args()
    d = np.load(args.events)
    data = to_events(d)

    def build(events):
        asset = (BacktestAsset().data(events).linear_asset(1.0)
                 .constant_order_latency(args.latency_ns, args.latency_ns)
                 .power_prob_queue_model(args.n)
                 .trading_value_fee_model(0.0, 0.0)
                 .tick_size(args.tick).lot_size(args.lot).last_trades_capacity(0))
        asset = asset.partial_fill_exchange() if args.partial else asset.no_partial_fill_exchange()
        return HashMapMarketDepthBacktest([asset])

    if args.timing:
        # a slice of a Binance capture as warm-up never ends its elapse loop: compile on the
        # whole data instead
        warm = build(data)
        strategy(warm, INTERVAL_NS, REQUOTE_TICKS, args.qty)
        warm.close()
    hbt = build(data)
    t = time.perf_counter()
    checks, submits, cancels = strategy(hbt, INTERVAL_NS, REQUOTE_TICKS, args.qty)
    run = time.perf_counter() - t
    sv = hbt.state_values(0)
    print(json.dumps({"checks": int(checks), "submits": int(submits), "cancels": int(cancels),
                      "fills": int(sv.num_trades), "position": round(float(sv.position), 9),
                      "events": len(data), "t_run": run, "ev_per_s_run": len(data) / run}))
    hbt.close()


if __name__ == "__main__":
    main()
