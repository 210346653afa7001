"""The floor of issue 8's latency path on this machine: the least that "market event in an
edge process → the strategy's order committed to the engine's journal" takes with the
project's stack, measured with none of Sequence's own code on the path.

    .venv/bin/python benchmarks/latency_floor.py [--events 300] [--gaps-ms 100,10,1]

Two processes, as in a deployment. The "edge" takes the time of each event, calls the same
re-quoting module deploy_latency.py deploys (wasmtime; its ``book`` import answers a
constant, ``cancel``/``place`` only note the order) and writes the orders as one msgpack
frame to a unix socket. The "engine" runs an asyncio loop whose protocol decodes the frame
and commits one row to a SQLite journal in WAL mode with ``synchronous=NORMAL`` (as
sequence_core/journal.py does), then takes the time. No risk check, no validation, no order
graph, no reply: what is left is what any implementation of the path has to do. Events come
``--gaps-ms`` apart; deploy_latency.py's strategy re-quotes ~10 times a second (100 ms).

Each gap is measured four ways: the path as described; without the commit; with an engine
that never sleeps (a non-blocking read in a loop, a core kept busy) and commits; and the
edge's part alone (event to frame written). Figures are µs, p50 and p99 of ``--events``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from deploy_latency import ON_BOOK  # noqa: E402  (the module deploy_latency.py deploys)


def edge(sock_path: str, events: int, gap_s: float) -> None:
    import msgspec
    import wasmtime

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    orders: list[tuple] = []
    i32, i64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()
    linker = wasmtime.Linker(engine)
    linker.define_func("seq", "subscribe", wasmtime.FuncType([i32], []), lambda mask: None)
    linker.define_func("seq", "book", wasmtime.FuncType([i32, i32], [i64]), lambda inst, field: 1_000_000)
    linker.define_func("seq", "cancel", wasmtime.FuncType([i64], [i32]), lambda oid: orders.append(("cancel", oid)) or 0)
    linker.define_func("seq", "place", wasmtime.FuncType([i32, i32, i64, i64, i32], [i64]),
                       lambda *a: orders.append(("place", *a)) or 7)
    on_book = linker.instantiate(store, wasmtime.Module(engine, ON_BOOK)).exports(store)["on_book"]
    encode = msgspec.msgpack.Encoder().encode
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(sock_path)
    for _ in range(events):
        time.sleep(gap_s)
        t0 = time.monotonic_ns()
        orders.clear()
        on_book(store, 0)
        t1 = time.monotonic_ns()
        body = encode([t0, t1, orders])
        sock.sendall(len(body).to_bytes(4, "little") + body)
    sock.close()


def _journal(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, at INTEGER, body BLOB)")
    return db


def engine(sock_path: str, journal: str, how: str) -> None:
    """Serve one edge; print [[event→committed ns, event→frame written ns], ...] as JSON."""
    import msgspec

    decode = msgspec.msgpack.Decoder().decode
    db = _journal(journal) if how != "nocommit" else None
    seen: list[tuple[int, int]] = []

    def handle(body: bytes) -> None:
        t0, t1, _orders = decode(body)
        if db is not None:
            db.execute("BEGIN")
            db.execute("INSERT INTO orders (at, body) VALUES (?, ?)", (t0, body))
            db.execute("COMMIT")
        seen.append((time.monotonic_ns() - t0, t1 - t0))

    def frames(buffer: bytearray):
        while len(buffer) >= 4 and len(buffer) >= 4 + (n := int.from_bytes(buffer[:4], "little")):
            yield bytes(buffer[4:4 + n])
            del buffer[:4 + n]

    server = socket.socket(socket.AF_UNIX)
    server.bind(sock_path)
    server.listen(1)
    print("ready", flush=True)
    if how == "spin":
        conn, _ = server.accept()
        conn.setblocking(False)
        buffer = bytearray()
        while True:
            try:
                data = conn.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                break
            buffer += data
            for body in frames(buffer):
                handle(body)
    else:
        async def main() -> None:
            done = asyncio.Event()

            class Edge(asyncio.Protocol):
                buffer = bytearray()

                def data_received(self, data: bytes) -> None:
                    self.buffer += data
                    for body in frames(self.buffer):
                        handle(body)

                def connection_lost(self, exc) -> None:
                    done.set()

            await asyncio.get_running_loop().create_unix_server(Edge, sock=server)
            await done.wait()

        asyncio.run(main())
    print(json.dumps(seen), flush=True)


def measure(how: str, events: int, gap_ms: float) -> list[tuple[int, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        sock_path, journal = str(Path(tmp) / "e.sock"), str(Path(tmp) / "journal.db")
        server = subprocess.Popen([sys.executable, __file__, "--role", "engine", "--how", how,
                                   "--sock", sock_path, "--journal", journal],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout.readline().strip() == "ready"
            subprocess.run([sys.executable, __file__, "--role", "edge", "--sock", sock_path,
                            "--events", str(events), "--gap-ms", str(gap_ms)], check=True)
            out, _ = server.communicate(timeout=60)
        finally:
            server.kill()
    return json.loads(out.strip().splitlines()[-1])


def _pct(values: list[int], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["edge", "engine"])
    ap.add_argument("--how", default="asyncio")
    ap.add_argument("--sock")
    ap.add_argument("--journal")
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--gap-ms", type=float, default=100)
    ap.add_argument("--gaps-ms", default="100,10,1")
    a = ap.parse_args()
    if a.role == "edge":
        return edge(a.sock, a.events, a.gap_ms / 1000)
    if a.role == "engine":
        return engine(a.sock, a.journal, a.how)
    print(f"machine: {os.cpu_count()} cores; {a.events} events per row; µs; target p50 < 250")
    print(f"{'gap ms':>6}  {'path':<40} {'p50':>6} {'p99':>6}")
    for gap in (float(g) for g in a.gaps_ms.split(",")):
        rows = {how: measure(how, a.events, gap) for how in ("asyncio", "nocommit", "spin")}
        for how, label in (("asyncio", "event -> committed (asyncio engine)"),
                           ("nocommit", "event -> decoded, no commit"),
                           ("spin", "event -> committed, engine never sleeps")):
            total = [t for t, _ in rows[how]]
            print(f"{gap:>6g}  {label:<40} {_pct(total, .5):>6.0f} {_pct(total, .99):>6.0f}")
        edge_part = [e for how in rows for _, e in rows[how]]
        print(f"{gap:>6g}  {'edge alone: event -> frame written':<40} {statistics.median(edge_part) / 1000:>6.0f} {_pct(edge_part, .99):>6.0f}")


if __name__ == "__main__":
    main()
