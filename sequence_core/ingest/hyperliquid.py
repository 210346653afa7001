"""Hyperliquid websocket captures (shared/data/market/hyperliquid, from hftbacktest):
``<receive ns> <json>`` lines, gzip, channels ``l2Book`` and ``trades``.

Every ``l2Book`` message is a full book (20 levels a side), so each becomes a snapshot in
book_snapshots (ts_exchange = its ``time``). Trades: ``side`` "B" is a buy aggressor, "A"
a sell; ``time`` in ms. BTC perps are margined in USDC: canonical ``BTC-USDC-PERP``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import msgspec

from ..store import fixed_point


def claims(path: Path) -> bool:
    return path.name.startswith("hyperliquid_") and path.name.endswith(".gz")


def ingest_file(path: Path, store, summary, part: str) -> None:
    snap = {k: [] for k in ("ts_exchange", "ts_recv", "seq", "side", "level", "price", "size")}
    trades = {k: [] for k in ("ts_exchange", "ts_recv", "trade_id", "side", "price", "size")}
    coin = None
    decoder = msgspec.json.Decoder()
    with gzip.open(path, "rb") as fh:
        for raw in fh:
            head, _, body = raw.partition(b" ")
            if not body.strip():
                continue
            recv, msg = int(head), decoder.decode(body)
            data = msg.get("data")
            if msg.get("channel") == "l2Book":
                coin = data["coin"]
                ts = data.get("time", recv // 1_000_000) * 1_000_000
                for side, levels in ((1, data["levels"][0]), (-1, data["levels"][1])):
                    for level, lv in enumerate(levels):
                        for col, v in (("ts_exchange", ts), ("ts_recv", recv), ("seq", -1), ("side", side), ("level", level),
                                       ("price", fixed_point(lv["px"])), ("size", fixed_point(lv["sz"]))):
                            snap[col].append(v)
            elif msg.get("channel") == "trades":
                for t in data:
                    coin = t["coin"]
                    for col, v in (("ts_exchange", t["time"] * 1_000_000), ("ts_recv", recv), ("trade_id", str(t["tid"])),
                                   ("side", 1 if t["side"] == "B" else -1), ("price", fixed_point(t["px"])), ("size", fixed_point(t["sz"]))):
                        trades[col].append(v)
    symbol = f"{coin or 'BTC'}-USDC-PERP"
    for table, cols in (("book_snapshots", snap), ("trades", trades)):
        if cols["ts_recv"]:
            for written in store.write(table, "hyperliquid", symbol, part, cols):
                summary.partitions.append(str(written.parent.relative_to(store.root)))
            summary.add_rows(table, len(cols["ts_recv"]))
    summary.files.append(str(path))
