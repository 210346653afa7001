"""Market event → journal latency of a deployed strategy, in sandbox.

    .venv/bin/python benchmarks/deploy_latency.py [--seconds 30] [--deployments 1,2,4,8]

Makes a throwaway home and project, deploys a WAT strategy that subscribes to book updates
and, on every change of its book's top, re-places a post-only bid 1% under the touch (cancel
+ place), then reads the edge's own figures after ``--seconds``: p50/p99 from the book change
that entered ``on_book`` to the engine's commit of the order it placed (the time the edge
channel's reply carries), and the
strategy callback time. Target (issue 8): p50 < 250 µs, p99 < 2 ms. With
``--deployments 1,2,4,8`` it repeats with that many concurrent deployments under one engine
(each its own book and edge process) — the capacity figure: how many before p99 doubles.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEQUENCE = Path(sys.executable).parent / "sequence"
ON_BOOK = """(module
  (import "seq" "subscribe" (func $subscribe (param i32)))
  (import "seq" "place" (func $place (param i32 i32 i64 i64 i32) (result i64)))
  (import "seq" "cancel" (func $cancel (param i64) (result i32)))
  (import "seq" "book" (func $book (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (global $bid (mut i64) (i64.const 0))
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_start") (result i32) (call $subscribe (i32.const 1)) (i32.const 0))
  (func (export "on_book") (param $inst i32) (result i32)
    (local $bb i64)
    (if (i32.ne (local.get $inst) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $bb (call $book (i32.const 0) (i32.const 0)))
    (if (i64.gt_s (global.get $bid) (i64.const 0)) (then (drop (call $cancel (global.get $bid)))))
    (global.set $bid (call $place (i32.const 0) (i32.const 1)
      (i64.sub (local.get $bb) (i64.mul (i64.const 100000) (call $book (i32.const 0) (i32.const 4))))
      (i64.mul (i64.const 100) (call $book (i32.const 0) (i32.const 5))) (i32.const 1)))
    (i32.const 0)))"""


BOOKS = [(v, s) for s in ("BTC-USDT", "ETH-USDT", "SOL-USDT") for v in ("binance", "bybit", "okx", "bitget")]


def measure(n: int, seconds: float) -> list[dict]:
    """Deploy *n* copies of the strategy (each on its own book, so none conflicts) under one
    fresh engine; after *seconds*, every edge's status."""
    import wasmtime

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQUENCE_HOME": str(Path(tmp) / "home")}

        def run(*a, cwd=tmp):
            out = subprocess.run([str(SEQUENCE), *a], cwd=cwd, env=env, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr)
            return out.stdout

        try:
            for k, (venue, symbol) in enumerate(BOOKS[:n]):
                name = f"lat{k}"
                run("init", name)
                root = Path(tmp) / name
                toml = root / "Sequence.toml"
                toml.write_text(toml.read_text().replace('symbols = ["BTC-USDT"]', f'symbols = ["{symbol}"]\nvenues = ["{venue}"]')
                                .replace("max_order_rate = 20 ", "max_order_rate = 10000 ")
                                .replace("max_position = 0.01 ", "max_position = 1000 ")
                                .replace("max_notional = 1000 ", "max_notional = 1000000 "))
                wasm = root / "target" / "wasm32-unknown-unknown" / "release" / f"{name}.wasm"
                wasm.parent.mkdir(parents=True)
                wasm.write_bytes(wasmtime.wat2wasm(ON_BOOK))
                run("--sandbox", "deploy", "--skip-build", cwd=root)
            time.sleep(seconds)
            return [v["status"] for v in json.loads(run("--sandbox", "status", "--output", "json"))]
        finally:
            subprocess.run([str(SEQUENCE), "engine", "stop"], env=env, capture_output=True)


def _median(xs):
    found = [x for x in xs if x is not None]
    return statistics.median_high(found) if found else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--deployments", default="1",
                    help="comma-separated counts of concurrent deployments to measure, e.g. 1,2,4,8 (capacity)")
    args = ap.parse_args()
    counts = [int(x) for x in args.deployments.split(",")]
    print(f"machine: {os.cpu_count()} cores; {args.seconds:g} s of sandbox trading per row; target p50 < 250 µs, "
          "p99 < 2,000 µs")
    print("deployments  orders  md->journal p50 µs  p99 µs (median over edges)  callback p50 µs  p99 µs")
    base = None
    for n in counts:
        sts = measure(n, args.seconds)
        p50, p99 = _median(s["md_to_journal_p50_us"] for s in sts), _median(s["md_to_journal_p99_us"] for s in sts)
        base = base or p99
        print(f"{n:11d}  {sum(s['orders'] for s in sts):6d}  {p50:18}  {p99:8}{'  (p99 doubled)' if base and p99 and p99 >= 2 * base else '':16}"
              f"  {_median(s['callback_p50_us'] for s in sts):15}  {_median(s['callback_p99_us'] for s in sts)}")


if __name__ == "__main__":
    main()
