"""Market events for the sim-engine: the store's book snapshots, book deltas and trades of a
window, merged across instruments into one stream in receive-time order, streamed in bounded
chunks (a window never has to fit in memory), optionally cached on disk so identical book
reconstructions are shared between runs (``--no-dedup`` turns that off)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

import msgspec
import numpy as np

from ..errors import UsageError
from ..store import open_part, read_part
from .kernel import END_OF_MESSAGE, EV_CLEAR, EV_DEPTH, EV_TRADE

# also the tie order at equal receive and exchange times: a snapshot first, and a trade before
# the depth update that shows its effect (queue models count the trade once, not twice)
BOOK_TABLES = ("book_snapshots", "trades", "book_deltas")
SNAPSHOT_PRIO = BOOK_TABLES.index("book_snapshots")
COLUMNS = ("ts_exch", "ts_recv", "inst", "kind", "side", "price", "size", "flags")
DTYPES = {"ts_exch": np.int64, "ts_recv": np.int64, "inst": np.int32, "kind": np.int8, "side": np.int8,
          "price": np.int64, "size": np.int64, "flags": np.uint8}
MAX_CHUNK_ROWS = 1_000_000
CACHE_VERSION = "6"
CACHE_KEEP = 6            # most recent book reconstructions kept


class InstrumentData(msgspec.Struct):
    venue: str
    symbol: str
    tick: int                 # fixed point 1e9
    lot: int
    base: int                 # price in ticks of the first book level tracked
    levels: int               # book levels tracked
    files: list[str]
    gaps_ns: list[int] = []   # sample of exchange-to-receive gaps (after the clock correction)
    clock_shift_ns: int = 0   # added to exchange times: the recorder's clock was behind
    book_from_ns: int = 0     # book deltas received before this (the window's first snapshot) are skipped
    min_notional: int = 0     # the venue's minimum order notional (fixed point, quote), from its plugin


def day_range(start: str, end: str) -> list[str]:
    d0 = dt.date.fromisoformat(start)
    d1 = dt.date.fromisoformat(end)
    return [(d0 + dt.timedelta(days=i)).isoformat() for i in range((d1 - d0).days + 1)]


def _window_ns(start: str, end: str) -> tuple[int, int]:
    t0 = dt.datetime.fromisoformat(start).replace(tzinfo=dt.timezone.utc)
    t1 = dt.datetime.fromisoformat(end).replace(tzinfo=dt.timezone.utc) + dt.timedelta(days=1)
    return int(t0.timestamp()) * 1_000_000_000, int(t1.timestamp()) * 1_000_000_000


def _decimal_ns(value) -> int:
    return int(value.scaleb(9))


def find_instruments(store, symbols: list[str], venues: list[str] | None, start: str, end: str) -> list[tuple[str, str]]:
    """(venue, symbol) pairs with book data in the window; errors say what is missing."""
    out = []
    for symbol in symbols:
        found_any = False
        candidates = sorted({p.parent.parent.parent.name[6:] for table in BOOK_TABLES
                             for p in store.files(table, symbol=symbol)})
        if not candidates:
            have = sorted({p.parent.parent.name[7:] for p in store.files("book_deltas")}
                          | {p.parent.parent.name[7:] for p in store.files("book_snapshots")})
            other = [t for t in ("bbo", "bars") if store.files(t, symbol=symbol)]
            if other:       # recorded, but as nothing a backtest replays: not an empty store
                raise UsageError(f"{symbol} is recorded only as {' and '.join(other)} in the store at {store.root}, which a "
                                 "backtest does not replay (it needs book snapshots or deltas)"
                                 + (f"; books are recorded for {', '.join(have[:10])}{' ...' if len(have) > 10 else ''}" if have else ""))
            raise UsageError(f"no recorded book data for symbol {symbol} in the store at {store.root}; "
                             + (f"it has {', '.join(have)}" if have else "it is empty: ingest data with `sequence data ingest`"))
        trades_only = []
        for venue in candidates:
            if venues and venue not in venues:
                continue
            if any(store.files(table, venue, symbol, start, end) for table in ("book_snapshots", "book_deltas")):
                out.append((venue, symbol))
                found_any = True
            elif store.files("trades", venue, symbol, start, end):
                trades_only.append(venue)   # no book to post against or fill from: 0 orders, no word
        if not found_any:
            where = f" on {', '.join(venues)}" if venues else ""
            if trades_only:
                raise UsageError(f"{symbol} on {', '.join(trades_only)} between {start} and {end} has trades but no order "
                                 f"book (book_snapshots / book_deltas): the sim-engine replays books; `sequence data "
                                 f"coverage --symbol {symbol}` shows what is recorded")
            dates = sorted({p.parent.name[5:] for table in BOOK_TABLES for p in store.files(table, symbol=symbol)
                            if not venues or p.parent.parent.parent.name[6:] in venues})
            other = sorted({t for t in ("bbo", "bars") for venue, _, _ in store.partitions(t, symbol=symbol, start=start, end=end)
                            if not venues or venue in venues})
            missing = ", ".join(f"date={d}" for d in day_range(start, end)[:5])
            more = " ..." if len(day_range(start, end)) > 5 else ""
            raise UsageError(f"no data for {symbol}{where} between {start} and {end}: the partitions "
                             f"{missing}{more} are missing; recorded dates: "
                             f"{', '.join(dates) if dates else 'none'}"
                             + (f" (the window has {' and '.join(other)} only, which a backtest does not replay)" if other else ""))
    idle = sorted(set(venues or ()) - {v for v, _ in out})
    if idle:      # a venue asked for by name that would silently take no part
        raise UsageError(f"no book data for {', '.join(symbols)} on {', '.join(idle)} between {start} and {end}; "
                         f"the window has it on {', '.join(sorted({v for v, _ in out}))}")
    return out


def _first_recv(paths) -> int | None:
    """The earliest receive time in *paths*, from the Parquet statistics (no rows are read)."""
    first = None
    for path in paths:
        meta = open_part(path).metadata
        col = meta.schema.names.index("ts_recv")
        for rg in range(meta.num_row_groups):
            stats = meta.row_group(rg).column(col).statistics
            if stats is not None and stats.has_min_max:
                first = stats.min if first is None else min(first, stats.min)
    return first


def _book_start(store, venue: str, symbol: str, start: str, end: str, files: dict) -> int:
    """Where the window's book can be known from: its first snapshot when deltas precede it
    (the deltas before it change a book whose start is not in the window), else 0. A window
    with deltas and no snapshot, where one was recorded before it, is refused: its book would
    be the levels that happened to change, with nothing to say so. (A book recorded as deltas
    alone, from an empty book, replays as recorded.)"""
    deltas, snap = _first_recv(files["book_deltas"]), _first_recv(files["book_snapshots"])
    if deltas is None:
        return 0
    if snap is None:
        before = sorted({p.parent.name[5:] for p in store.files("book_snapshots", venue, symbol) if p.parent.name[5:] < start})
        if before:
            raise UsageError(f"{venue} {symbol}: no book snapshot between {start} and {end}, only updates to the book "
                             f"snapshotted on {before[-1]}: start the backtest on {before[-1]}")
        return 0
    return snap if snap > deltas else 0


def describe(store, venue: str, symbol: str, start: str, end: str) -> InstrumentData:
    """Tick, lot and the tracked price range of one instrument, from statistics and a sample."""
    files = {t: store.files(t, venue, symbol, start, end) for t in BOOK_TABLES}
    book_from = _book_start(store, venue, symbol, start, end, files)
    lo = hi = None
    for table in ("trades", "book_deltas", "book_snapshots"):
        for path in files[table]:
            meta = open_part(path).metadata
            col = meta.schema.names.index("price")
            for rg in range(meta.num_row_groups):
                stats = meta.row_group(rg).column(col).statistics
                if stats is not None and stats.has_min_max:
                    a, b = _decimal_ns(stats.min), _decimal_ns(stats.max)
                    lo = a if lo is None else min(lo, a)
                    hi = b if hi is None else max(hi, b)
        if lo is not None:
            break       # the traded range when there are trades: far book levels are not tracked
    prices, sizes, gaps = [], [], []
    for table in BOOK_TABLES:
        for path in files[table][:2]:
            batch = next(open_part(path).iter_batches(batch_size=100_000, columns=["ts_exchange", "ts_recv", "price", "size"]), None)
            if batch is None:
                continue
            prices.append(_fixed(batch.column(2)))
            sizes.append(_fixed(batch.column(3)))
            gaps.append(batch.column(1).to_numpy() - batch.column(0).to_numpy())
    if not prices:
        raise UsageError(f"{venue} {symbol}: no rows in the window's partitions")
    p = np.concatenate(prices)
    s = np.concatenate(sizes)
    tick = int(np.gcd.reduce(p[p > 0])) if (p > 0).any() else 1
    s = s[s > 0]
    lot = int(np.gcd.reduce(s)) if len(s) else 1
    margin = max((hi - lo) // 2, hi // 10)
    lo_t = max(0, (lo - margin) // tick)
    hi_t = (hi + margin) // tick + 1
    levels = int(hi_t - lo_t + 1)
    if levels > 20_000_000:
        raise UsageError(f"{venue} {symbol}: the traded range {lo / 1e9:g}..{hi / 1e9:g} at tick {tick / 1e9:g} "
                         f"needs {levels:,} book levels; more than the sim-engine tracks (20,000,000)")
    g = np.concatenate(gaps) if gaps else np.zeros(0, np.int64)
    g = g[(g != 0) & (np.abs(g) < 60_000_000_000)]     # 0: no exchange time was recorded
    # A recording whose receive times precede the venue's own times had a clock running
    # behind: shift exchange times so the fastest 0.1% of messages took no time at all.
    shift = 0
    if len(g):
        low = int(np.percentile(g, 0.1))
        if low < 0:
            shift = low
            g = g - low
    return InstrumentData(venue, symbol, tick, lot, int(lo_t), levels,
                          [str(f) for t in BOOK_TABLES for f in files[t]], g[:20_000].tolist(), shift, book_from)


def _fixed(column) -> np.ndarray:
    col = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    return np.frombuffer(col.buffers()[1], dtype=np.int64, count=len(col), offset=col.offset * 8).copy()


class _Stream:
    """One table of one instrument: its files' rows as event columns, in ts_recv order."""

    def __init__(self, table: str, inst: int, files: list[str], t0: int, t1: int, shift: int = 0):
        self.table = table
        self.shift = shift
        self.inst = inst
        self.files = list(files)
        self.t0, self.t1 = t0, t1
        self.buf: dict[str, np.ndarray] | None = None
        self._batches = self._iter()
        self.done = False

    def _iter(self):
        cols = ["ts_exchange", "ts_recv", "side", "price", "size"]
        if self.table == "book_deltas":
            cols.append("flags")
        if self.table == "book_snapshots":
            cols.append("seq")
        # several parts of one date may interleave: read a date's parts together
        by_date: dict[str, list[str]] = {}
        for f in self.files:
            by_date.setdefault(Path(f).parent.name, []).append(f)
        last_key = None
        for date in sorted(by_date):
            parts = by_date[date]
            if len(parts) == 1:
                batches = open_part(parts[0]).iter_batches(batch_size=1 << 18, columns=cols)
            else:
                import pyarrow as pa

                tbl = pa.concat_tables([read_part(p, columns=cols) for p in parts]).sort_by("ts_recv")
                batches = tbl.to_batches(max_chunksize=1 << 18)
            for batch in batches:
                ev = self._convert(batch, last_key)
                if self.table == "book_snapshots" and len(ev["ts_recv"]):
                    last_key = (int(ev["ts_recv"][-1]), int(batch.column(batch.schema.names.index("seq"))[-1].as_py()))
                yield ev

    def _convert(self, batch, last_key) -> dict[str, np.ndarray]:
        names = batch.schema.names
        n = batch.num_rows
        ts_recv = batch.column(names.index("ts_recv")).to_numpy()
        out = {
            "ts_exch": batch.column(names.index("ts_exchange")).to_numpy(zero_copy_only=False),
            "ts_recv": ts_recv,
            "inst": np.full(n, self.inst, np.int32),
            "side": batch.column(names.index("side")).to_numpy().astype(np.int8),
            "price": _fixed(batch.column(names.index("price"))),
            "size": _fixed(batch.column(names.index("size"))),
        }
        if self.table == "trades":
            out["kind"] = np.full(n, EV_TRADE, np.int8)
            out["flags"] = np.full(n, END_OF_MESSAGE, np.uint8)
        elif self.table == "book_deltas":
            out["kind"] = np.full(n, EV_DEPTH, np.int8)
            out["flags"] = batch.column(names.index("flags")).to_numpy().astype(np.uint8) & END_OF_MESSAGE
        else:
            seq = batch.column(names.index("seq")).to_numpy()
            first = np.ones(n, bool)
            first[1:] = (ts_recv[1:] != ts_recv[:-1]) | (seq[1:] != seq[:-1])
            if n and last_key is not None and (int(ts_recv[0]), int(seq[0])) == last_key:
                first[0] = False
            last = np.ones(n, bool)
            last[:-1] = first[1:]
            out["kind"] = np.where(first, EV_CLEAR, EV_DEPTH).astype(np.int8)
            out["flags"] = last.astype(np.uint8) * END_OF_MESSAGE
        ts_exch = out["ts_exch"]
        bad = ts_exch <= 0
        if bad.any() or self.shift:
            ts_exch = ts_exch + self.shift
            ts_exch[bad] = ts_recv[bad]     # no exchange time recorded: the receive time
            out["ts_exch"] = ts_exch
        keep = (ts_recv >= self.t0) & (ts_recv < self.t1)
        if not keep.all():
            out = {k: v[keep] for k, v in out.items()}
        return out

    def fill_until(self, cutoff: int, max_rows: int) -> None:
        """Read ahead until the buffer reaches *cutoff*, holds *max_rows*, or the stream ends."""
        parts = [self.buf] if self.buf is not None and len(self.buf["ts_recv"]) else []
        rows = sum(len(p["ts_recv"]) for p in parts)
        while not self.done and (not parts or (parts[-1]["ts_recv"][-1] < cutoff and rows < max_rows)):
            nxt = next(self._batches, None)
            if nxt is None:
                self.done = True
                break
            if len(nxt["ts_recv"]):
                parts.append(nxt)
                rows += len(nxt["ts_recv"])
        if len(parts) > 1:
            self.buf = {k: np.concatenate([p[k] for p in parts]) for k in COLUMNS}
        elif parts:
            self.buf = parts[0]

    def first_ts(self):
        if self.buf is not None and len(self.buf["ts_recv"]):
            return int(self.buf["ts_recv"][0])
        return None

    def last_ts(self):
        if self.buf is not None and len(self.buf["ts_recv"]):
            return int(self.buf["ts_recv"][-1])
        return None

    def take_before(self, cutoff: int) -> dict[str, np.ndarray] | None:
        if self.buf is None or not len(self.buf["ts_recv"]):
            return None
        k = int(np.searchsorted(self.buf["ts_recv"], cutoff, side="left"))
        if k == 0:
            return None
        head = {c: self.buf[c][:k] for c in COLUMNS}
        self.buf = {c: self.buf[c][k:] for c in COLUMNS}
        return head


def merged_chunks(instruments: list[InstrumentData], start: str, end: str, scan_buffer_secs: int):
    """Event chunks (dicts of COLUMNS) in receive-time order, each at most MAX_CHUNK_ROWS rows.

    Each stream reads ahead up to ``scan_buffer_secs`` of feed time (and at most
    MAX_CHUNK_ROWS rows), and a chunk ends where the least advanced stream's knowledge ends,
    so memory is bounded by rows, not by the length of the window."""
    t0, t1 = _window_ns(start, end)
    streams = []
    for i, inst in enumerate(instruments):
        for prio, table in enumerate(BOOK_TABLES):
            files = [f for f in inst.files if f"/{table}/" in f]
            if files:
                first = max(t0, inst.book_from_ns) if table == "book_deltas" else t0
                streams.append((prio, _Stream(table, i, files, first, t1, inst.clock_shift_ns)))
    buffer_ns = max(1, int(scan_buffer_secs)) * 1_000_000_000
    for _, s in streams:
        s.fill_until(-1, 1)
    firsts = [s.first_ts() for _, s in streams if s.first_ts() is not None]
    if not firsts:
        return
    cursor = min(firsts)
    while True:
        cutoff = cursor + buffer_ns
        for _, s in streams:
            s.fill_until(cutoff, MAX_CHUNK_ROWS)
        for _, s in streams:
            last = s.last_ts()
            if not s.done and last is not None and last < cutoff:
                cutoff = last          # beyond this, that stream has not been read yet
        counts = [int(np.searchsorted(s.buf["ts_recv"], cutoff)) if s.buf is not None else 0 for _, s in streams]
        if sum(counts) == 0:
            # every buffered row sits at the cutoff itself: take those rows too
            cutoff += 1
            counts = [int(np.searchsorted(s.buf["ts_recv"], cutoff)) if s.buf is not None else 0 for _, s in streams]
        if sum(counts) > MAX_CHUNK_ROWS:
            ts = np.concatenate([s.buf["ts_recv"][:c] for (_, s), c in zip(streams, counts) if c])
            cutoff = max(int(np.partition(ts, MAX_CHUNK_ROWS)[MAX_CHUNK_ROWS]), int(ts.min()) + 1)
            del ts
        parts, prios = [], []
        for prio, s in streams:
            head = s.take_before(cutoff)
            if head is not None:
                parts.append(head)
                prios.append(np.full(len(head["ts_recv"]), prio, np.int8))
        cursor = cutoff
        if not parts:
            if all(s.done and s.first_ts() is None for _, s in streams):
                return
            continue
        if len(parts) == 1:
            yield parts[0]
            continue
        ts = np.concatenate([p["ts_recv"] for p in parts])
        te = np.concatenate([p["ts_exch"] for p in parts])
        prio = np.concatenate(prios)
        # a snapshot first at its receive time (the deltas stamped with it apply on top of it)
        order = np.lexsort((prio, te, prio != SNAPSHOT_PRIO, ts))
        del ts, te
        yield {c: np.concatenate([p[c] for p in parts])[order] for c in COLUMNS}


# -- the cross-run cache of book reconstructions ------------------------------------------------

def cache_key(instruments: list[InstrumentData], start: str, end: str) -> str:
    h = hashlib.sha256(f"v{CACHE_VERSION}|{start}|{end}".encode())
    for inst in instruments:
        h.update(f"|{inst.venue}|{inst.symbol}".encode())
        for f in inst.files:
            st = os.stat(f)
            h.update(f"|{f}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


class BookCache:
    """``<home>/cache/books/<key>/NNNNNN.npz`` chunk files; complete entries only (written to a
    temporary directory, renamed when whole)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def get(self, key: str):
        path = self.root / key
        if not (path / "COMPLETE").exists():
            return None
        os.utime(path)
        files = sorted(path.glob("*.npy"))
        chunks = sorted({f.name.split(".")[0] for f in files})
        return [(lambda c=c: {col: np.load(path / f"{c}.{col}.npy", mmap_mode="r") for col in COLUMNS}) for c in chunks]

    def writer(self, key: str):
        return _CacheWriter(self, key)

    def prune(self) -> None:
        entries = sorted((p for p in self.root.glob("*") if p.is_dir() and not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[CACHE_KEEP:]:
            shutil.rmtree(old, ignore_errors=True)


class _CacheWriter:
    def __init__(self, cache: BookCache, key: str):
        self.cache = cache
        self.key = key
        self.tmp = cache.root / f".{key}.{os.getpid()}"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self.n = 0

    def add(self, chunk: dict) -> None:
        for col in COLUMNS:
            np.save(self.tmp / f"{self.n:06d}.{col}.npy", np.ascontiguousarray(chunk[col], dtype=DTYPES[col]))
        self.n += 1

    def commit(self) -> None:
        (self.tmp / "COMPLETE").write_text("")
        final = self.cache.root / self.key
        shutil.rmtree(final, ignore_errors=True)
        os.replace(self.tmp, final)
        self.cache.prune()

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
