"""Tardis.dev CSV exports (shared/data/market/tardis*, from NautilusTrader's test data).

Header ``exchange,symbol,timestamp,local_timestamp,...``; ``timestamp`` is the exchange time
and ``local_timestamp`` the receive time, both in µs. Files: ``quotes`` (-> bbo), ``trades``
(-> trades; ``side`` is the aggressor), ``book_snapshot_N`` (-> book_snapshots, one snapshot
a row) and ``incremental_book_L2`` (-> book_snapshots for rows flagged is_snapshot, else
book_deltas; amount 0 deletes the level). Tardis exchange and symbol names map to this
project's venue and canonical symbol names below; unknown ones keep a lower-cased name.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..store import fixed_point

VENUES = {"binance-futures": ("binance", "perp"), "binance": ("binance", "spot"), "bitmex": ("bitmex", "perp"),
          "deribit": ("deribit", "perp"), "huobi-dm-swap": ("huobi", "perp"), "bybit": ("bybit", "perp")}
_HEADER = "exchange,symbol,timestamp,local_timestamp"


def claims(path: Path) -> bool:
    if path.suffix != ".csv":
        return False
    with open(path, encoding="utf-8") as fh:
        return fh.readline().startswith(_HEADER)


def canonical(exchange: str, symbol: str) -> tuple[str, str]:
    venue, kind = VENUES.get(exchange, (exchange.split("-")[0].lower(), "spot"))
    s = symbol.upper().replace("XBT", "BTC")
    if s.endswith("-PERPETUAL"):
        return venue, s.removesuffix("-PERPETUAL") + "-USD-PERP"
    if "-" in s:
        base, quote = s.split("-", 1)
    else:
        m = re.match(r"^([A-Z0-9]+?)(USDT|USDC|USD|BTC|ETH)$", s)
        base, quote = (m.group(1), m.group(2)) if m else (s, "USD")
    return venue, f"{base}-{quote}" + ("-PERP" if kind == "perp" else "")


def ingest_file(path: Path, store, summary, part: str) -> None:
    from . import read_csv

    rows = read_csv(path)
    if not rows:
        return
    venue, symbol = canonical(rows[0]["exchange"], rows[0]["symbol"])
    name = path.name
    us = lambda r, k: int(r[k]) * 1000  # noqa: E731 - µs -> ns
    tables: dict[str, dict] = {}
    if "_quotes_" in name:
        tables["bbo"] = {"ts_exchange": [us(r, "timestamp") for r in rows], "ts_recv": [us(r, "local_timestamp") for r in rows],
                         "seq": [-1] * len(rows), "bid_price": [fixed_point(r["bid_price"]) for r in rows],
                         "bid_size": [fixed_point(r["bid_amount"]) for r in rows], "ask_price": [fixed_point(r["ask_price"]) for r in rows],
                         "ask_size": [fixed_point(r["ask_amount"]) for r in rows]}
    elif "_trades_" in name:
        tables["trades"] = {"ts_exchange": [us(r, "timestamp") for r in rows], "ts_recv": [us(r, "local_timestamp") for r in rows],
                            "trade_id": [r["id"] for r in rows], "side": [1 if r["side"] == "buy" else -1 for r in rows],
                            "price": [fixed_point(r["price"]) for r in rows], "size": [fixed_point(r["amount"]) for r in rows]}
    elif "_book_snapshot_" in name:
        snap = {k: [] for k in ("ts_exchange", "ts_recv", "seq", "side", "level", "price", "size")}
        depth = sum(1 for k in rows[0] if k.startswith("asks[") and k.endswith(".price"))
        for r in rows:
            for side, key in ((1, "bids"), (-1, "asks")):
                for level in range(depth):
                    price = r.get(f"{key}[{level}].price")
                    if not price:
                        continue
                    for col, v in (("ts_exchange", us(r, "timestamp")), ("ts_recv", us(r, "local_timestamp")), ("seq", -1),
                                   ("side", side), ("level", level), ("price", fixed_point(price)),
                                   ("size", fixed_point(r[f"{key}[{level}].amount"]))):
                        snap[col].append(v)
        tables["book_snapshots"] = snap
    elif "_incremental_book_L2_" in name:
        snap = {k: [] for k in ("ts_exchange", "ts_recv", "seq", "side", "level", "price", "size")}
        deltas = {k: [] for k in ("ts_exchange", "ts_recv", "seq", "side", "price", "size", "flags")}
        for i, r in enumerate(rows):
            side = 1 if r["side"] == "bid" else -1
            last = i + 1 == len(rows) or rows[i + 1]["local_timestamp"] != r["local_timestamp"]
            if r["is_snapshot"] == "true":
                for col, v in (("ts_exchange", us(r, "timestamp")), ("ts_recv", us(r, "local_timestamp")), ("seq", -1),
                               ("side", side), ("level", -1), ("price", fixed_point(r["price"])), ("size", fixed_point(r["amount"]))):
                    snap[col].append(v)
            else:
                for col, v in (("ts_exchange", us(r, "timestamp")), ("ts_recv", us(r, "local_timestamp")), ("seq", -1),
                               ("side", side), ("price", fixed_point(r["price"])), ("size", fixed_point(r["amount"])),
                               ("flags", 1 if last else 0)):
                    deltas[col].append(v)
        tables["book_snapshots"], tables["book_deltas"] = snap, deltas
    else:
        summary.skipped.append(f"{path}: a Tardis file of a kind not converted yet")
        return
    for table, cols in tables.items():
        if cols["ts_recv"]:
            for written in store.write(table, venue, symbol, part, cols):
                summary.partitions.append(str(written.parent.relative_to(store.root)))
            summary.add_rows(table, len(cols["ts_recv"]))
    summary.files.append(str(path))
