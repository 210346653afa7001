"""Sim-engine vs hftbacktest, side by side in one run, on the same data and strategy.

    .venv/bin/python benchmarks/backtest.py [--sizes 1e6,1e7] [--repeat 3] [--days 10]

Needs: shared/bench beside the checkout (the peer's harness), .venv-peer with hftbacktest
2.4.4 (scripts/install-peer.sh), a Rust toolchain with the wasm32 target (for the reference
strategy, benchmarks/strategies/reference). Prints one table per section:

1. replay of the peer's synthetic stream (reference strategy, power-3 queue, 1 ms latencies,
   no partial fills, no fees): run-phase events/s, fresh-process wall, peak RSS; hftbacktest,
   the numba floor (array-book walk, no orders) and Sequence (cold: first run builds the
   book cache; warm: later runs) in the same run; plus the fills of each.
2. the real Binance BTC-USDT book (shared/data/market/binance-multi-2024-08-08) looped to at
   least 10 M events, both engines, no latency.
3. peak RSS over a 1-day and a 10-day window (streamed partitions, --no-dedup).
4. strategy callback overhead: engine -> wasm -> engine with one order action.
Data goes to benchmarks/.data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / ".data"
BENCH = Path(os.environ.get("SEQUENCE_BENCH_DIR", ROOT.parent / "shared" / "bench"))
SHARED = Path(os.environ.get("SEQUENCE_SHARED_DATA", ROOT.parent / "shared" / "data"))
PEER = Path(os.environ.get("SEQUENCE_PEER_VENV", ROOT / ".venv-peer")) / "bin" / "python"
SEQUENCE = Path(sys.executable).parent / "sequence"
REFERENCE = ROOT / "benchmarks" / "strategies" / "reference"
MODELS = ["--queue-model", "probabilistic:fn=power,n=3", "--latency-model", "constant:entry=1ms,response=1ms",
          "--fee-model", "zero"]


def run_child(cmd, env=None, cwd=None):
    """Like measure(), reaping the child ourselves so its own peak RSS is known."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{err.decode()[-2000:]}")
    return wall, usage.ru_maxrss // 1024, out.decode()


def ensure_synthetic(n: int) -> Path:
    path = DATA / f"l2_{n}.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(BENCH / "gen_data.py"), str(n), str(path)], check=True)
    return path


def ensure_home(name: str, sources: list[Path]) -> Path:
    home = DATA / name
    if not (home / "data").exists():
        env = dict(os.environ, SEQUENCE_HOME=str(home))
        subprocess.run([str(SEQUENCE), "data", "ingest", *map(str, sources)], check=True, env=env, capture_output=True)
    return home


def reference_wasm() -> Path:
    sys.path.insert(0, str(ROOT))
    from sequence_core.sim.project import build_project

    return build_project(REFERENCE)


def ours(home: Path, wasm: Path, symbol: str, start: str, end: str, extra: list[str]) -> tuple[float, int, dict]:
    # run in the reference project: its Sequence.toml has partial_fills = false (as the peer)
    env = dict(os.environ, SEQUENCE_HOME=str(home))
    wall, rss, out = run_child([str(SEQUENCE), "backtest", symbol, "--start", start, "--end", end, "--skip-build",
                                "--no-save", "--output", "json", *extra], env=env, cwd=REFERENCE)
    return wall, rss, json.loads(out)


def hbt(path: Path) -> tuple[float, int, dict]:
    wall, rss, out = run_child([str(PEER), str(BENCH / "bench_hbt.py"), str(path)])
    return wall, rss, json.loads(out.strip().splitlines()[-1])


def floor(path: Path) -> tuple[float, int, str]:
    return run_child([str(PEER), str(BENCH / "bench_floor.py"), str(path)])


def med(xs):
    return statistics.median(xs)


def synthetic(sizes: list[int], repeat: int, wasm: Path) -> None:
    print("\n## 1. The peer's synthetic stream: reference strategy, power-3 queue, 1 ms latencies")
    print("| events | tool | run-phase events/s | process wall s | peak RSS MB | submits | cancels | fills |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        path = ensure_synthetic(n)
        home = ensure_home(f"bench-home-{n}", [path])
        rows = []
        peer = [hbt(path) for _ in range(repeat)]
        p = peer[0][2]
        rows.append(("hftbacktest 2.4.4", med([r[2]["ev_per_s_run"] for r in peer]), med([r[0] for r in peer]),
                     med([r[1] for r in peer]), p["submits"], p["cancels"], p["fills"]))
        fl = [floor(path) for _ in range(repeat)]
        rates = [json.loads(out.strip().splitlines()[-1])["ev_per_s_walk"] for _, _, out in fl]
        rows.append(("floor: numba array-book walk (no orders)", med(rates),
                     med([r[0] for r in fl]), med([r[1] for r in fl]), "", "", ""))
        import shutil

        shutil.rmtree(home / "cache", ignore_errors=True)
        end = "2023-11-15"
        cold = ours(home, wasm, "BTC-USD", "2023-11-14", end, MODELS)
        warm = [ours(home, wasm, "BTC-USD", "2023-11-14", end, MODELS) for _ in range(repeat)]
        for label, runs in (("Sequence (cold: builds the book cache)", [cold]), ("Sequence (warm)", warm)):
            r = runs[0][2]["result"]
            rows.append((label, med([x[2]["result"]["events"] / x[2]["replay_s"] for x in runs]),
                         med([x[0] for x in runs]), med([x[1] for x in runs]), r["submits"], r["cancels"], r["fills"]))
        for tool, rate, wall, rss, s, c, f in rows:
            print(f"| {n:,} | {tool} | {rate / 1e6:.1f} M | {wall:.2f} | {rss:,} | {s} | {c} | {f} |")


def binance_looped(repeat: int, wasm: Path, min_events: int = 10_000_000) -> None:
    """BTC-USDT spot from the 2024-08-08 capture, replayed back to back (each copy shifted
    past the previous one and starting from its own snapshot) until >= 10 M events."""
    sys.path.insert(0, str(ROOT / "benchmarks" / "peer"))
    from export_events import export

    from sequence_core.store import Store

    market = SHARED / "market" / "binance-multi-2024-08-08"
    src_home = ensure_home("binance-home", [market / "spot_btcusdt_20240808.gz", market / "spot_btcusdt_20240809.gz"])
    home = DATA / "binance-loop-home"
    npz = DATA / "binance-loop.npz"
    if not (home / "data").exists():
        src = Store(src_home / "data")
        dst = Store(home / "data")
        tables = {t: src.arrays(t, venue="binance", symbol="BTC-USDT") for t in ("book_snapshots", "book_deltas", "trades")}
        n = sum(len(v["ts_recv"]) for v in tables.values())
        span = max(int(v["ts_recv"].max()) for v in tables.values()) - min(int(v["ts_recv"].min()) for v in tables.values())
        loops = -(-min_events // n)
        shift = span + 1_000_000_000
        for table, cols in tables.items():
            out = {k: (np.concatenate([np.asarray(v) + i * shift for i in range(loops)]) if k in ("ts_recv", "ts_exchange")
                       else (sum([list(v)] * loops, []) if k == "trade_id" else np.concatenate([np.asarray(v)] * loops)))
                   for k, v in cols.items()}
            dst.write(table, "binance", "BTC-USDT", "looped", out)
    days = sorted({p.parent.name[5:] for p in Store(home / "data").files("book_deltas")})
    start, end = days[0], days[-1]
    if not npz.exists():
        export(str(home / "data"), "binance", "BTC-USDT", start, end, str(npz))
    info = export.__globals__["describe"](Store(home / "data"), "binance", "BTC-USDT", start, end)
    print(f"\n## 2. Real Binance BTC-USDT book looped to >= 10 M events ({start}..{end}), no latency")
    print("| tool | run-phase events/s | process wall s | peak RSS MB | submits | cancels | fills |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    env = dict(os.environ, SEQUENCE_BENCH_DIR=str(BENCH))
    # one peer run: hftbacktest's hash-map book scans tick by tick between distant levels of
    # Binance's 1,000-level snapshots, which takes minutes here
    peer = [run_child([str(PEER), str(ROOT / "benchmarks" / "peer" / "hbt_events.py"), str(npz), "--tick",
                       str(info.tick / 1e9), "--lot", str(info.lot / 1e9), "--timing"], env=env)]
    p = json.loads(peer[0][2].strip().splitlines()[-1])
    print(f"| hftbacktest 2.4.4 | {med([json.loads(x[2].strip().splitlines()[-1])['ev_per_s_run'] for x in peer]) / 1e6:.1f} M "
          f"| {med([x[0] for x in peer]):.2f} | {med([x[1] for x in peer]):,} | {p['submits']} | {p['cancels']} | {p['fills']} |")
    extra = ["--queue-model", "probabilistic:fn=power,n=3", "--latency-model",
             "constant:entry=0ns,modify=0ns,cancel=0ns,response=0ns", "--fee-model", "zero"]
    ours(home, wasm, "BTC-USDT", start, end, extra)        # builds the book cache
    runs = [ours(home, wasm, "BTC-USDT", start, end, extra) for _ in range(repeat)]
    r = runs[0][2]["result"]
    print(f"| Sequence (warm) | {med([x[2]['result']['events'] / x[2]['replay_s'] for x in runs]) / 1e6:.1f} M "
          f"| {med([x[0] for x in runs]):.2f} | {med([x[1] for x in runs]):,} | {r['submits']} | {r['cancels']} | {r['fills']} |")


def window_rss(days: int, per_day: int, wasm: Path) -> None:
    """The same synthetic day repeated over *days* dates: peak RSS should not grow."""
    import datetime as dt

    from sequence_core.store import Store

    home = DATA / f"days-home-{per_day}"
    store = Store(home / "data")
    src = ensure_synthetic(per_day)
    d0 = dt.date(2023, 11, 1)
    if not store.files("book_deltas"):
        import pyarrow.parquet as pq

        t = pq.read_table(src)
        cols = {k: t.column(k).to_numpy() for k in t.column_names}
        base = int(dt.datetime(2023, 11, 1, tzinfo=dt.timezone.utc).timestamp()) * 10**9 - int(cols["ts_event"][0])
        price = np.round(cols["price"] * 100).astype(np.int64) * 10**7
        size = np.round(cols["size"] * 1000).astype(np.int64) * 10**6
        depth = cols["kind"] == 0
        for day in range(days):
            off = base + day * 86_400 * 10**9
            store.write("book_deltas", "sim", "BTC-USD", f"d{day}", {
                "ts_exchange": cols["ts_event"][depth] + off, "ts_recv": cols["ts_recv"][depth] + off,
                "seq": np.full(int(depth.sum()), -1), "side": cols["side"][depth], "price": price[depth],
                "size": size[depth], "flags": np.ones(int(depth.sum()), np.uint8)})
            m = int((~depth).sum())
            store.write("trades", "sim", "BTC-USD", f"d{day}", {
                "ts_exchange": cols["ts_event"][~depth] + off, "ts_recv": cols["ts_recv"][~depth] + off,
                "trade_id": [""] * m, "side": cols["side"][~depth], "price": price[~depth], "size": size[~depth]})
    print(f"\n## 3. Peak RSS as the window grows ({per_day:,} events a day, streamed, --no-dedup)")
    print("| window | events | process wall s | peak RSS MB |")
    print("|---|---:|---:|---:|")
    for n_days in (1, days):
        end = (d0 + dt.timedelta(days=n_days - 1)).isoformat()
        wall, rss, out = ours(home, wasm, "BTC-USD", d0.isoformat(), end, MODELS + ["--no-dedup"])
        print(f"| {n_days} day{'s' if n_days > 1 else ''} | {out['result']['events']:,} | {wall:.2f} | {rss:,} |")


CALLBACK_WAT = """(module
  (import "seq" "amend" (func $amend (param i64 i64 i64) (result i32)))
  (memory (export "memory") 1)
  (func (export "seq_abi_version") (result i32) (i32.const 1))
  (func (export "on_timer") (param $now i64) (result i32)
    (drop (call $amend (i64.const 1) (i64.const 50000000000000) (i64.const 10000000)))
    (i32.const 0)))"""


def callback_overhead(repeat: int) -> None:
    """Engine -> wasm -> engine with one order action (an amend through the host import),
    entered from compiled code as the replay loop does; and wasmtime-py's checked call."""
    import wasmtime
    from numba import njit

    from sequence_core.sim import kernel as K
    from sequence_core.sim.engine import BacktestConfig, _State
    from sequence_core.sim.events import InstrumentData
    from sequence_core.sim.host import StrategyInstance, StrategyModule

    path = DATA / "callback.wasm"
    DATA.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wasmtime.wat2wasm(CALLBACK_WAT))
    inst = InstrumentData("sim", "BTC-USD", 10**7, 10**6, 4_000_000, 2_000_000, [])
    st = _State([inst], BacktestConfig(symbols=["BTC-USD"], start="2023-11-14", end="2023-11-14"))
    host = StrategyInstance(StrategyModule(path), int(st.E.ctypes.data))
    st.C[K.C_CALL], st.C[K.C_SET_FUEL], st.C[K.C_CTX] = host.call_address, host.set_fuel_address, host.context_address
    st.FN[:] = host.function_addresses()
    st.O[1, K.O_ID], st.O[1, K.O_STATUS], st.O[1, K.O_INST] = 1, K.ST_OPEN, 0     # the order the strategy amends

    @njit
    def loop(S, C, FN, A, n):
        for i in range(n):
            K._args(C, i, 0, 0, 0, 0, 0)
            if not K._invoke(S, C, FN, K.CB_TIMER, 1):
                return i
            S[K.S_NACT] = 0          # the action was queued; consume it
        return n

    n = 1_000_000
    loop(st.S, st.C, st.FN, st.A, 1000)
    per_call = []
    for _ in range(repeat):
        t = time.perf_counter()
        done = loop(st.S, st.C, st.FN, st.A, n)
        per_call.append((time.perf_counter() - t) / done * 1e9)
    store = host.store
    func = host.functions["on_timer"]
    m = 20_000
    checked = []
    for _ in range(repeat):
        t = time.perf_counter()
        for i in range(m):
            func(store, i)
        checked.append((time.perf_counter() - t) / m * 1e9)
    print("\n## 4. Strategy callback overhead (engine -> wasm -> engine, one order action)")
    print("| path | median ns per call |")
    print("|---|---:|")
    print(f"| compiled loop -> wasmtime_func_call_unchecked, amend via a native host import | {med(per_call):,.0f} |")
    print(f"| wasmtime-py Func.__call__ (checked, from Python), same callback | {med(checked):,.0f} |")
    host.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e6,1e7")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--per-day", type=float, default=2e6)
    ap.add_argument("--only", default="1,2,3,4")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    only = set(args.only.split(","))
    import platform

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.platform()}; median of {args.repeat} fresh processes")
    wasm = reference_wasm() if only & {"1", "2", "3"} else None
    if "1" in only:
        synthetic([int(float(s)) for s in args.sizes.split(",")], args.repeat, wasm)
    if "2" in only:
        binance_looped(args.repeat, wasm)
    if "3" in only:
        window_rss(args.days, int(args.per_day), wasm)
    if "4" in only:
        callback_overhead(args.repeat)


if __name__ == "__main__":
    main()
