"""Replay: the Parquet store's books at a chosen moment, for reproducible demos.

Configure in config.toml (or use the defaults)::

    [market_data]
    source = "replay"

    [market_data.replay]
    at = "2024-08-09T00:00:00Z"   # the replay clock; default: the latest recorded moment
    speed = 1.0                   # optional: the clock advances at this speed ...
    anchor_ns = 1764000000000000000   # ... from this wall time (both needed to move)

The replay clock must stay within the recorded books (the first to the last recorded event
of the store's book tables): an ``at`` outside them, or a clock that ``speed`` moved past
their end, is an error naming the recorded range, never a stale book served as current.
``books()`` serves each book only up to its own last recorded event: past it (its recording
ended, another instrument's went on) the book is unknown and left out, as an instrument
without data (``book()`` itself rebuilds the state at any time, for tools that want it).

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


BOOK_TABLES = ("book_deltas", "book_snapshots", "bbo")
STALE_NS = 300 * SCALE      # a book with no recorded event for this long before the clock is unknown
SETTINGS = ("at", "speed", "anchor_ns", "root")


def parse_time(value) -> int:
    from sequence_core.config import setting_error, show

    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, dt.date):                        # a TOML date or date-time, unquoted
        value = value.isoformat()
    try:
        if not isinstance(value, str):
            raise ValueError
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise setting_error("[market_data.replay] at", f"expected an ISO time like 2024-08-09T00:00:00Z "
                            f"(or integer ns since the epoch), got {show(value)}") from None
    return int((when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp() * SCALE)


def iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / SCALE, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        """``[market_data.replay]``: at (ISO time or ns), speed (a number > 0) with anchor_ns
        (wall-clock ns), root (a store folder); anything else is refused."""
        from sequence_core.config import setting_error, show

        for key in settings:
            if key not in SETTINGS:
                raise setting_error(f"[market_data.replay] {key}", f"unknown key; expected {', '.join(SETTINGS)}")
        speed, anchor, root = settings.get("speed"), settings.get("anchor_ns"), settings.get("root")
        if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float)) or not speed > 0):
            raise setting_error("[market_data.replay] speed", f"{show(speed)} is not a number above 0: write e.g. speed = 1.0")
        if anchor is not None and (isinstance(anchor, bool) or not isinstance(anchor, int)):
            raise setting_error("[market_data.replay] anchor_ns", f"{show(anchor)} is not a whole number of ns since the epoch")
        if root is not None and not isinstance(root, str):
            raise setting_error("[market_data.replay] root", f"{show(root)} is not a folder path")
        return ReplaySource(parse_time(settings["at"]) if "at" in settings else None, speed, anchor, root)

    @property
    def store(self):
        if self._store is None:
            from pathlib import Path

            from sequence_core.store import Store

            self._store = Store(Path(self.root) if self.root else None)
        return self._store

    def now_ns(self) -> int:
        """The replay clock; an error naming the recorded range when it is outside it."""
        from sequence_core.config import setting_error

        base = self.at_ns if self.at_ns is not None else self._latest()
        now = base + int((time.time_ns() - self.anchor_ns) * self.speed) if self.speed and self.anchor_ns else base
        first, last = self._range()
        if first <= now <= last:
            return now
        recorded = f"the store {self.store.root} has books from {iso(first)} to {iso(last)}"
        if now == base:
            where = "before the first recorded book" if now < first else "after the last recorded book"
            raise setting_error("[market_data.replay] at", f"{iso(now)} is {where} ({recorded}); set at within "
                                "that range, or leave it out to replay the latest recorded moment")
        raise setting_error("[market_data.replay] speed", f"the replay clock is at {iso(now)}, "
                            f"{'past the end' if now > last else 'before the start'} of the recorded books ({recorded}); "
                            "set a later anchor_ns or an earlier at")

    def label(self) -> str:
        when = dt.datetime.fromtimestamp(self.now_ns() / 1e9, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return f"replay ({when}Z)"

    def _latest(self) -> int:
        latest = max((c.last_ts_recv or 0 for c in self._coverage() if c.table in ("book_deltas", "bbo")), default=0)
        if not latest:
            raise UsageError(f"the replay source has no recorded books in {self.store.root}; ingest some with `sequence data ingest`")
        return latest

    def _coverage(self):
        if "coverage" not in self._cache:
            self._cache["coverage"] = [c for c in self.store.coverage() if c.table in BOOK_TABLES]
        return self._cache["coverage"]

    def _range(self) -> tuple[int, int]:
        """The first and the last recorded book event of the store (ts_recv ns)."""
        found = [(c.first_ts_recv, c.last_ts_recv) for c in self._coverage() if c.first_ts_recv is not None]
        if not found:
            raise UsageError(f"the replay source has no recorded books in {self.store.root}; ingest some with `sequence data ingest`")
        return min(f for f, _ in found), max(last for _, last in found)

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
        bbo = self._arrays("bbo", inst)
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
                received = int(deltas["ts_recv"][d][-1]) if d.any() else int(t0)   # when the recorder had it
                return OrderBook(inst.venue, inst.symbol, ts, received, _levels(price[bids], size[bids], depth),
                                 _levels(price[asks], size[asks], depth), self.label())
        if bbo is None:
            return None
        i = int(np.searchsorted(bbo["ts_recv"], at_ns, side="right")) - 1
        if i < 0:
            return None
        return OrderBook(inst.venue, inst.symbol, int(bbo["ts_exchange"][i]), int(bbo["ts_recv"][i]),
                         _levels(bbo["bid_price"][i:i + 1], bbo["bid_size"][i:i + 1], 1),
                         _levels(bbo["ask_price"][i:i + 1], bbo["ask_size"][i:i + 1], 1), self.label())

    def recorded_until(self, inst: Instrument) -> int | None:
        """The last recorded book event of *inst* (ts_recv ns), None without any."""
        key = ("until", inst.venue, inst.symbol)
        if key not in self._cache:
            ends = [int(a["ts_recv"].max()) for a in (self._arrays(t, inst) for t in BOOK_TABLES)
                    if a is not None and len(a["ts_recv"])]
            self._cache[key] = max(ends) if ends else None
        return self._cache[key]

    def books(self, instruments, at_ns=None, depth=20):
        """The books at *at_ns* (the replay clock): each as rebuilt by :meth:`book`, except
        one whose recording ended before then (another instrument's went on), or that has no
        recorded event in the STALE_NS (5 minutes) before the clock (a gap in its recording: a
        book from a capture years earlier was served as current): that book then is unknown,
        so it is left out rather than served as current. Minute quotes stay within it."""
        at = self.now_ns() if at_ns is None else at_ns
        return [b for b in (self.book(i, at, depth) for i in instruments
                            if (self.recorded_until(i) or 0) >= at) if b is not None and at - b.received_ns <= STALE_NS]
