"""Market event → journal latency of a deployed strategy, in sandbox.

    .venv/bin/python benchmarks/deploy_latency.py [--seconds 30]

Makes a throwaway home and project, deploys a WAT strategy that subscribes to book updates
and, on every change of its book's top, re-places a post-only bid 1% under the touch (cancel
+ place), then reads the edge's own figures after ``--seconds``: p50/p99 from the book change
that entered ``on_book`` to the engine's durable admission of the order it placed, and the
strategy callback time. Target (issue 8): p50 < 250 µs, p99 < 2 ms.
"""

from __future__ import annotations

import argparse
import json
import os
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


def main() -> None:
    import wasmtime

    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SEQUENCE_HOME": str(Path(tmp) / "home")}

        def run(*a, cwd=tmp):
            out = subprocess.run([str(SEQUENCE), *a], cwd=cwd, env=env, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr)
            return out.stdout

        run("init", "lat")
        root = Path(tmp) / "lat"
        toml = root / "Sequence.toml"
        toml.write_text(toml.read_text().replace('symbols = ["BTC-USDT"]', 'symbols = ["BTC-USDT"]\nvenues = ["binance"]')
                        .replace("max_order_rate = 20 ", "max_order_rate = 10000 "))
        wasm = root / "target" / "wasm32-unknown-unknown" / "release" / "lat.wasm"
        wasm.parent.mkdir(parents=True)
        wasm.write_bytes(wasmtime.wat2wasm(ON_BOOK))
        try:
            run("--sandbox", "deploy", "--skip-build", cwd=root)
            time.sleep(args.seconds)
            st = json.loads(run("--sandbox", "status", "--output", "json", cwd=root))[0]["status"]
        finally:
            subprocess.run([str(SEQUENCE), "engine", "stop"], env=env, capture_output=True)
        print(f"machine: {os.cpu_count()} cores; {args.seconds:g} s of sandbox trading; {st['orders']} orders, "
              f"{st['callbacks']} callbacks")
        print(f"market event -> journal: p50 {st['md_to_journal_p50_us']} µs, p99 {st['md_to_journal_p99_us']} µs "
              "(target p50 < 250, p99 < 2,000)")
        print(f"strategy callback (wasm + host imports): p50 {st['callback_p50_us']} µs, p99 {st['callback_p99_us']} µs")


if __name__ == "__main__":
    main()
