"""Helpers for the sim-engine tests: a small deterministic market in a store, and WAT
strategies compiled with wasmtime (no Rust toolchain needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

TICK = 10_000_000          # 0.01
LOT = 1_000_000            # 0.001
T0 = 1_700_000_000_000_000_000   # 2023-11-14 22:13:20 UTC
DAY = "2023-11-14"


def make_market(store, steps: int = 20_000, seed: int = 7, venue: str = "sim", symbol: str = "BTC-USD",
                t0: int = T0, part: str = "test", buy_share: float = 0.5, trade_share: float = 0.1,
                early_every: int = 0, recv_jitter_ns: int = 0, lot: int = LOT) -> int:
    """A random-walk book around 50,000.00: 10 levels a side to start, then depth updates and
    trades (each trade followed by the depth update of the level it hit); ``buy_share`` of the
    trades are buys (above 0.5: a market trending up). Every ``early_every``-th depth update is
    received 1 ms before its exchange time (a recorder's clock behind the venue's), too few for
    the sim's clock shift to absorb. ``recv_jitter_ns`` adds to each step's 2 ms receive gap a
    draw of 0 to that many ns (from a generator of its own: the market is the same), so the
    default per-venue latency model draws varied latencies. Returns events."""
    rng = np.random.default_rng(seed)
    jitter = np.random.default_rng([seed, 1]) if recv_jitter_ns else None
    gap = [2_000_000]
    mid = 5_000_000   # ticks
    bids = {mid - i: int(rng.integers(1, 500)) for i in range(10)}
    asks = {mid + 1 + i: int(rng.integers(1, 500)) for i in range(10)}
    d = {k: [] for k in ("ts_exchange", "ts_recv", "side", "price", "size")}
    tr = {k: [] for k in ("ts_exchange", "ts_recv", "side", "price", "size")}
    t = t0

    def depth(side, p, q):
        d["ts_exchange"].append(t)
        early = early_every and len(d["side"]) % early_every == early_every - 1
        d["ts_recv"].append(t - 1_000_000 if early else t + gap[0])
        d["side"].append(side)
        d["price"].append(p * TICK)
        d["size"].append(q * lot)

    for p, q in bids.items():
        depth(1, p, q)
    for p, q in asks.items():
        depth(-1, p, q)
    for _ in range(steps):
        t += int(rng.integers(100_000, 2_000_000))
        if jitter is not None:
            gap[0] = 2_000_000 + int(jitter.integers(0, recv_jitter_ns))
        bb, ba = max(bids), min(asks)
        u = rng.random()
        if u < trade_share:
            side = 1 if rng.random() < buy_share else -1      # aggressor
            book, p = (asks, ba) if side > 0 else (bids, bb)
            if len(book) <= 3:
                continue
            q = min(book[p], int(rng.integers(1, 60)))
            tr["ts_exchange"].append(t)
            tr["ts_recv"].append(t + gap[0])
            tr["side"].append(side)
            tr["price"].append(p * TICK)
            tr["size"].append(q * lot)
            book[p] -= q
            if book[p] == 0:
                del book[p]
            depth(-side, p, book.get(p, 0))
        else:
            side = 1 if rng.random() < 0.5 else -1
            dist = int(rng.integers(0, 8))
            if side > 0:
                p = min(bb + 1 - dist, ba - 1)
                book = bids
            else:
                p = max(ba - 1 + dist, bb + 1)
                book = asks
            if p in book and rng.random() < 0.3 and len(book) > 3:
                del book[p]
                depth(side, p, 0)
            else:
                book[p] = int(rng.integers(1, 500))
                depth(side, p, book[p])
    n = len(d["side"])
    store.write("book_deltas", venue, symbol, part, {
        "ts_exchange": np.array(d["ts_exchange"]), "ts_recv": np.array(d["ts_recv"]), "seq": np.full(n, -1),
        "side": np.array(d["side"], np.int8), "price": np.array(d["price"]), "size": np.array(d["size"]),
        "flags": np.ones(n, np.uint8)})
    m = len(tr["side"])
    store.write("trades", venue, symbol, part, {
        "ts_exchange": np.array(tr["ts_exchange"]), "ts_recv": np.array(tr["ts_recv"]), "trade_id": [""] * m,
        "side": np.array(tr["side"], np.int8), "price": np.array(tr["price"]), "size": np.array(tr["size"])})
    return n + m


HEADER = """
  (import "seq" "set_timer" (func $set_timer (param i64)))
  (import "seq" "place" (func $place (param i32 i32 i64 i64 i32) (result i64)))
  (import "seq" "cancel" (func $cancel (param i64) (result i32)))
  (import "seq" "book" (func $book (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "seq_abi_version") (result i32) (i32.const 1))
"""

# Every 100 ms: cancel the last quotes, then join the touch on both sides (post-only, 0.01).
QUOTER = "(module" + HEADER + """
  (global $bid (mut i64) (i64.const 0))
  (global $ask (mut i64) (i64.const 0))
  (func (export "on_start") (result i32) (call $set_timer (i64.const 100000000)) (i32.const 0))
  (func (export "on_timer") (param i64) (result i32)
    (local $bb i64) (local $ba i64)
    (if (i64.ne (global.get $bid) (i64.const 0)) (then (drop (call $cancel (global.get $bid)))))
    (if (i64.ne (global.get $ask) (i64.const 0)) (then (drop (call $cancel (global.get $ask)))))
    (local.set $bb (call $book (i32.const 0) (i32.const 0)))
    (local.set $ba (call $book (i32.const 0) (i32.const 2)))
    (if (i32.and (i64.gt_s (local.get $bb) (i64.const 0)) (i64.gt_s (local.get $ba) (i64.const 0)))
      (then
        (global.set $bid (call $place (i32.const 0) (i32.const 1) (local.get $bb) (i64.const 10000000) (i32.const 1)))
        (global.set $ask (call $place (i32.const 0) (i32.const -1) (local.get $ba) (i64.const 10000000) (i32.const 1)))))
    (i32.const 0)))
"""

LOOPER = "(module" + HEADER + """
  (func (export "on_start") (result i32) (call $set_timer (i64.const 100000000)) (i32.const 0))
  (func (export "on_timer") (param i64) (result i32) (loop $forever (br $forever)) (i32.const 0)))
"""

TRAPPER = "(module" + HEADER + """
  (func (export "on_start") (result i32) (unreachable))
  (func (export "on_timer") (param i64) (result i32) (i32.const 0)))
"""

FAILER = "(module" + HEADER + """
  (func (export "on_start") (result i32) (i32.const 7)))
"""

# asks for 128 MiB more memory (over the 64 MiB cap) and traps when refused
GROWER = "(module" + HEADER + """
  (func (export "on_start") (result i32)
    (if (i32.eq (memory.grow (i32.const 2048)) (i32.const -1)) (then (unreachable)))
    (i32.const 0)))
"""

NO_ABI = """(module (memory (export "memory") 1)
  (func (export "on_start") (result i32) (i32.const 0)))"""

# subscribes to book and trade callbacks and does nothing with them
SUBSCRIBER = """(module
  (import "seq" "subscribe" (func $subscribe (param i32)))
  (memory (export "memory") 1)
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_start") (result i32) (call $subscribe (i32.const 3)) (i32.const 0))
  (func (export "on_book") (param i32) (result i32) (i32.const 0))
  (func (export "on_trade") (param i32 i32 i64 i64) (result i32) (i32.const 0)))"""

BAD_SIGNATURE = """(module (memory (export "memory") 1)
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_timer") (param i32) (result i32) (i32.const 0)))"""

UNKNOWN_IMPORT = """(module (import "seq" "teleport" (func (param i64)))
  (memory (export "memory") 1)
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_start") (result i32) (i32.const 0)))"""


def wasm(tmp: Path, name: str, wat: str) -> Path:
    import wasmtime

    path = Path(tmp) / f"{name}.wasm"
    path.write_bytes(wasmtime.wat2wasm(wat))
    return path
