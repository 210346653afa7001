"""Replay: the Parquet store's books at a chosen moment, for reproducible demos.

Configure in config.toml (or use the defaults)::

    [market_data]
    source = "replay"

    [market_data.replay]
    at = "2024-08-09T00:00:00Z"   # the replay clock; default: the latest recorded moment
    speed = 1.0                   # optional: the clock advances at this speed ...
    anchor_ns = 1764000000000000000   # ... from this wall time (both needed to move)

A book at time t is the latest snapshot at or before t with every later delta up to t
applied: vectorised as "the last row per (side, price) level", so replaying a day costs
one sort, not a Python loop. Instruments without recorded deltas fall back to the last
recorded best bid/ask (one level); instruments with no data are left out.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal


from sequence_core.errors import UsageError
from sequence_core.market import BookLevel, Instrument, MarketDataSource, OrderBook

SCALE = 1_000_000_000


def parse_time(value) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * SCALE)
    except ValueError:
        raise UsageError(f"[market_data.replay] at: expected an ISO time like 2024-08-09T00:00:00Z, got '{value}'") from None


def _levels(prices, sizes, depth: int) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(Decimal(int(p)).scaleb(-9).normalize(), Decimal(int(s)).scaleb(-9).normalize())
                 for p, s in zip(prices[:depth], sizes[:depth]))


class ReplaySource(MarketDataSource):
    name = "replay"
    description = "the Parquet store replayed at a chosen time"

    def __init__(self, at_ns: int | None = None, speed: float | None = None, anchor_ns: int | None = None, root=None):
        self.at_ns, self.speed, self.anchor_ns, self.root = at_ns, speed, anchor_ns, root
        self._store = None
        self._cache: dict = {}

    def configure(self, settings: dict) -> "ReplaySource":
        return ReplaySource(parse_time(settings["at"]) if "at" in settings else None, settings.get("speed"),
                            settings.get("anchor_ns"), settings.get("root"))

    @property
    def store(self):
        if self._store is None:
            from pathlib import Path

            from sequence_core.store import Store

            self._store = Store(Path(self.root) if self.root else None)
        return self._store

    def now_ns(self) -> int:
        base = self.at_ns if self.at_ns is not None else self._latest()
        if self.speed and self.anchor_ns:
            return base + int((time.time_ns() - self.anchor_ns) * self.speed)
        return base

    def label(self) -> str:
        when = dt.datetime.fromtimestamp(self.now_ns() / 1e9, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return f"replay ({when}Z)"

    def _latest(self) -> int:
        latest = max((c.last_ts_recv or 0 for c in self.store.coverage() if c.table in ("book_deltas", "bbo")), default=0)
        if not latest:
            raise UsageError(f"the replay source has no recorded books in {self.store.root}; ingest some with `sequence data ingest`")
        return latest

    def _arrays(self, table: str, inst: Instrument):
        key = (table, inst.venue, inst.symbol)
        if key not in self._cache:
            try:
                self._cache[key] = self.store.arrays(table, venue=inst.venue, symbol=inst.symbol)
            except UsageError:
                self._cache[key] = None
        return self._cache[key]

    def book(self, inst: Instrument, at_ns: int, depth: int = 20) -> OrderBook | None:
        import numpy as np

        snaps, deltas = self._arrays("book_snapshots", inst), self._arrays("book_deltas", inst)
        if snaps is not None and deltas is not None:
            snap_times = np.unique(snaps["ts_recv"][snaps["ts_recv"] <= at_ns])
            if len(snap_times):
                t0 = snap_times[-1]
                s = snaps["ts_recv"] == t0
                d = (deltas["ts_recv"] >= t0) & (deltas["ts_recv"] <= at_ns)
                side = np.concatenate([snaps["side"][s], deltas["side"][d]])
                price = np.concatenate([snaps["price"][s], deltas["price"][d]])
                size = np.concatenate([snaps["size"][s], deltas["size"][d]])
                order = np.arange(len(side))
                # the last row per (side, price) level is its state at at_ns
                idx = np.lexsort((order, price, side))
                last = np.ones(len(idx), bool)
                last[:-1] = (side[idx][1:] != side[idx][:-1]) | (price[idx][1:] != price[idx][:-1])
                keep = idx[last]
                keep = keep[size[keep] > 0]
                bids = keep[side[keep] == 1]
                asks = keep[side[keep] == -1]
                bids = bids[np.argsort(-price[bids])]
                asks = asks[np.argsort(price[asks])]
                ts = int(deltas["ts_exchange"][d][-1]) if d.any() else int(snaps["ts_exchange"][s][0])
                return OrderBook(inst.venue, inst.symbol, ts, at_ns, _levels(price[bids], size[bids], depth),
                                 _levels(price[asks], size[asks], depth), self.label())
        bbo = self._arrays("bbo", inst)
        if bbo is None:
            return None
        i = int(np.searchsorted(bbo["ts_recv"], at_ns, side="right")) - 1
        if i < 0:
            return None
        return OrderBook(inst.venue, inst.symbol, int(bbo["ts_exchange"][i]), at_ns,
                         _levels(bbo["bid_price"][i:i + 1], bbo["bid_size"][i:i + 1], 1),
                         _levels(bbo["ask_price"][i:i + 1], bbo["ask_size"][i:i + 1], 1), self.label())

    def books(self, instruments, at_ns=None, depth=20):
        at = self.now_ns() if at_ns is None else at_ns
        return [b for b in (self.book(i, at, depth) for i in instruments) if b is not None]
