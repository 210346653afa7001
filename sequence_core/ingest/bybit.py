"""Bybit v5 ``orderbook.500`` websocket messages, one JSON a line in a zip
(shared/data/market/bybit, from NautilusTrader's test data).

A ``snapshot`` then ``delta`` messages (``data.b``/``data.a`` as [price, size]; size 0
deletes; ``data.u`` the update id, which increases by one per message on this feed:
https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook). A break in ``u`` is
recorded as a gap and deltas stop until the next snapshot. The capture has no receive
time, so ``ts_recv`` is the message's ``ts`` (ms) too. Linear XRPUSDT -> ``XRP-USDT-PERP``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import msgspec

from ..store import fixed_point


def claims(path: Path) -> bool:
    if path.suffix != ".zip" or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        first = z.open(z.namelist()[0]).readline()
    return b'"topic":"orderbook.' in first


def ingest_file(path: Path, store, summary, part: str) -> None:
    from . import Gap

    snap = {k: [] for k in ("ts_exchange", "ts_recv", "seq", "side", "level", "price", "size")}
    deltas = {k: [] for k in ("ts_exchange", "ts_recv", "seq", "side", "price", "size", "flags")}
    last_u = None
    symbol = None
    with zipfile.ZipFile(path) as z:
        lines = z.open(z.namelist()[0]).read().splitlines()
    for raw in lines:
        if not raw.strip():
            continue
        msg = msgspec.json.decode(raw)
        data, ts = msg["data"], msg["ts"] * 1_000_000
        symbol = data["s"]
        if msg["type"] == "snapshot":
            last_u = data["u"]
            for side, levels in ((1, data["b"]), (-1, data["a"])):
                for level, (p, q) in enumerate(levels):
                    for col, v in (("ts_exchange", ts), ("ts_recv", ts), ("seq", data["u"]), ("side", side), ("level", level),
                                   ("price", fixed_point(p)), ("size", fixed_point(q))):
                        snap[col].append(v)
            continue
        if last_u is None:
            continue
        if data["u"] != last_u + 1:
            summary.gaps.append(Gap(f"bybit:{symbol}", ts, last_u + 1, data["u"], "u != previous u + 1"))
            last_u = None
            continue
        last_u = data["u"]
        changes = [(1, p, q) for p, q in data["b"]] + [(-1, p, q) for p, q in data["a"]]
        for i, (side, p, q) in enumerate(changes):
            for col, v in (("ts_exchange", ts), ("ts_recv", ts), ("seq", data["u"]), ("side", side), ("price", fixed_point(p)),
                           ("size", fixed_point(q)), ("flags", 1 if i == len(changes) - 1 else 0)):
                deltas[col].append(v)
    canonical = f"{symbol[:-4]}-USDT-PERP" if symbol and symbol.endswith("USDT") else symbol
    for table, cols in (("book_snapshots", snap), ("book_deltas", deltas)):
        if cols["ts_recv"]:
            for written in store.write(table, "bybit", canonical, part, cols):
                summary.partitions.append(str(written.parent.relative_to(store.root)))
            summary.add_rows(table, len(cols["ts_recv"]))
    summary.files.append(str(path))
