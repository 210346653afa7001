"""Binance raw websocket captures: ``<local receive time> <json>`` lines, gzip.

Sources: shared/data/market/binance-multi-2024-08-08 (ns receive times) and
binance-history (``.dat.gz``: µs receive times). Each file holds one book's combined
streams: ``depthUpdate`` diffs, ``trade``, ``bookTicker`` and (in the first file of a
connection) one REST depth snapshot ``{"lastUpdateId", "bids", "asks"}``. Files of one
connection continue each other (``*_20240808`` then ``*_20240809``) and are read in order.

The book is rebuilt as Binance documents
(https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly,
and the USD-M / COIN-M "How to manage a local order book correctly" pages):
buffer diffs until the snapshot; drop diffs with ``u <= lastUpdateId`` (the buffered ones that
remain are stored at the snapshot's receive time, as they apply from it on); the first diff
applied must straddle the snapshot (spot: ``U <= lastUpdateId + 1 <= u``; futures:
``U <= lastUpdateId <= u``); after that each diff must continue the previous one (spot:
``U == previous u + 1``; futures: ``pu == previous u``). A break is a gap: it is recorded
(time, expected, got) and no more deltas are written for that book until a new snapshot,
because a book past a gap is wrong. Trades and bookTicker are kept regardless.

Timestamps: ``ts_exchange`` is the event time ``E`` (trades: the trade time ``T``;
snapshot and spot bookTicker carry none, so their receive time is used); ``ts_recv`` is
the capture's local receive time. The recorder's clock runs ~1.3 s behind Binance's.
Symbols: spot BTCUSDT -> BTC-USDT, USD-M BTCUSDT -> BTC-USDT-PERP, COIN-M BTCUSD_PERP ->
BTC-USD-PERP (COIN-M sizes are contracts of 100 USD).
"""

from __future__ import annotations

import gzip
import re
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import msgspec

from ..store import fixed_point

_FILE = re.compile(r"^(spot|usdm|cm)_([a-z0-9_]+?)_(\d{8})(\.dat)?\.gz$")
VENUE = "binance"


@dataclass
class Group:
    market: str            # spot | usdm | cm
    raw_symbol: str
    files: list[Path]
    micros: bool

    @property
    def label(self) -> str:
        return f"binance {self.market} {self.raw_symbol}: " + ", ".join(f.name for f in self.files)

    @property
    def symbol(self) -> str:
        s = self.raw_symbol.upper()
        if self.market == "cm":
            return s.replace("USD_PERP", "") + "-USD-PERP"
        for quote in ("USDT", "USDC", "BUSD", "USD"):
            if s.endswith(quote):
                return f"{s[:-len(quote)]}-{quote}" + ("-PERP" if self.market == "usdm" else "")
        return s


def group(files: list[Path]) -> list[Group]:
    """Files of one book (market + symbol + time unit) in date order; a different date with a
    new snapshot still belongs to the same book's history."""
    groups: dict[tuple, Group] = {}
    for f in sorted(files, key=lambda p: p.name):
        m = _FILE.match(f.name)
        if not m:
            continue
        key = (m.group(1), m.group(2), bool(m.group(4)))
        groups.setdefault(key, Group(m.group(1), m.group(2), [], bool(m.group(4)))).files.append(f)
    return list(groups.values())


class _Rows:
    def __init__(self, *names):
        self.cols = {n: [] for n in names}

    def add(self, **values):
        for k, v in values.items():
            self.cols[k].append(v)

    def __len__(self):
        return len(next(iter(self.cols.values())))


def ingest_group(g: Group, store, summary) -> None:
    from . import part_name, replace_stale

    futures = g.market in ("usdm", "cm")
    book = f"{VENUE}:{g.symbol}"
    buffered: list = []             # diffs before the snapshot: (recv, data)
    last_u: int | None = None       # None until synced; -1 after a gap
    snap_id: int | None = None
    decoder = msgspec.json.Decoder()
    previous_day = None
    for path in g.files:
        stamp = _FILE.match(path.name).group(3)
        day = dt.date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))
        if previous_day is not None and day != previous_day + dt.timedelta(days=1):
            # not the next day: another capture (a new connection), not a continuation
            buffered, last_u, snap_id = [], None, None
        previous_day = day
        deltas = _Rows("ts_exchange", "ts_recv", "seq", "side", "price", "size", "flags")
        snaps = _Rows("ts_exchange", "ts_recv", "seq", "side", "level", "price", "size")
        trades = _Rows("ts_exchange", "ts_recv", "trade_id", "side", "price", "size")
        bbo = _Rows("ts_exchange", "ts_recv", "seq", "bid_price", "bid_size", "ask_price", "ask_size")

        def emit_diff(recv: int, d: dict) -> None:
            changes = [(1, p, q) for p, q in d["b"]] + [(-1, p, q) for p, q in d["a"]]
            for i, (side, p, q) in enumerate(changes):
                deltas.add(ts_exchange=d["E"] * 1_000_000, ts_recv=recv, seq=d["u"], side=side, price=fixed_point(p),
                           size=fixed_point(q), flags=1 if i == len(changes) - 1 else 0)

        def apply_diff(recv: int, d: dict) -> None:
            nonlocal last_u
            if last_u == -1:        # after a gap: nothing more until a new snapshot
                return
            if d["u"] <= snap_id:
                return
            if last_u is None:      # the first diff after the snapshot must straddle it
                ok = d["U"] <= snap_id <= d["u"] if futures else d["U"] <= snap_id + 1 <= d["u"]
                if not ok:
                    summary.gaps.append(_gap(book, recv, snap_id + (0 if futures else 1), d["U"], "first diff does not straddle the snapshot"))
                    last_u = -1
                    return
            else:
                expected = last_u if futures else last_u + 1
                got = d.get("pu") if futures else d["U"]
                if got != expected:
                    summary.gaps.append(_gap(book, recv, expected, got, "pu != previous u" if futures else "U != previous u + 1"))
                    last_u = -1
                    return
            emit_diff(recv, d)
            last_u = d["u"]

        opener = gzip.open(path, "rb")
        with opener as fh:
            for raw in fh:
                head, _, body = raw.partition(b" ")
                if not body.strip():
                    continue
                recv = int(head) * (1000 if g.micros else 1)
                msg = decoder.decode(body)
                d = msg.get("data", msg)
                if "lastUpdateId" in d:
                    snap_id = d["lastUpdateId"]
                    ts = d.get("E", 0) * 1_000_000 or recv
                    for side, levels in ((1, d["bids"]), (-1, d["asks"])):
                        for level, (p, q) in enumerate(levels):
                            snaps.add(ts_exchange=ts, ts_recv=recv, seq=snap_id, side=side, level=level,
                                      price=fixed_point(p), size=fixed_point(q))
                    last_u = None
                    for _, bd in buffered:
                        # applied on top of the snapshot, so stored at its receive time: a
                        # consumer replaying "snapshot, then the deltas received since" in
                        # receive order would otherwise drop them (a level one of them removed
                        # stayed in the book for good: a crossed replay of the real capture)
                        apply_diff(recv, bd)
                    buffered = []
                    continue
                kind = d.get("e")
                if kind == "depthUpdate":
                    if snap_id is None:
                        buffered.append((recv, d))
                    else:
                        apply_diff(recv, d)
                elif kind == "trade":
                    trades.add(ts_exchange=d["T"] * 1_000_000, ts_recv=recv, trade_id=str(d["t"]), side=-1 if d["m"] else 1,
                               price=fixed_point(d["p"]), size=fixed_point(d["q"]))
                elif kind == "bookTicker" or ("b" in d and "B" in d and "u" in d and kind is None):
                    bbo.add(ts_exchange=d.get("E", 0) * 1_000_000 or recv, ts_recv=recv, seq=d["u"],
                            bid_price=fixed_point(d["b"]), bid_size=fixed_point(d["B"]),
                            ask_price=fixed_point(d["a"]), ask_size=fixed_point(d["A"]))
        part, parts = part_name(path), []
        for table, rows in (("book_deltas", deltas), ("book_snapshots", snaps), ("trades", trades), ("bbo", bbo)):
            if len(rows):
                parts += store.write(table, VENUE, g.symbol, part, rows.cols)
                summary.add_rows(table, len(rows))
        summary.partitions += [str(p.parent.relative_to(store.root)) for p in parts]
        replace_stale(store, path, parts)
        summary.files.append(str(path))
    if snap_id is None:
        summary.skipped.append(f"{book}: no depth snapshot in {', '.join(f.name for f in g.files)}; "
                               "book deltas skipped (trades and best bid/ask kept)")
    summary.partitions = sorted(set(summary.partitions))


def _gap(book, recv, expected, got, detail):
    from . import Gap

    return Gap(book, recv, expected, got if got is not None else -1, detail)
