"""`research coverage`: how complete the recorded data is, per book and table: which days are
there and which are missing inside the span, rows per day, gaps in receive time inside the
data, and when it was last ingested."""

from __future__ import annotations

import datetime as dt

import msgspec

from ..errors import ConfigError
from ..store import Store, read_part

GAP_NS = 60 * 1_000_000_000          # a silence longer than this inside the data is a gap


class Coverage(msgspec.Struct):
    venue: str
    symbol: str
    table: str
    first_day: str
    last_day: str
    days: int                        # days with data
    missing_days: list[str]          # days inside [first_day, last_day] without data
    rows: int
    rows_per_day: float
    gaps: int                        # silences > 60 s between consecutive receive times
    longest_gap_s: float
    first_ts_recv: int
    last_ts_recv: int
    last_ingest_ns: int
    corrupt_parts: list[str] = []    # "<path>: <why>": unreadable parts, left out of every figure


def coverage(store: Store, symbol: str | None = None) -> list[Coverage]:
    import numpy as np

    parts = store.coverage(symbol)
    books: dict[tuple[str, str, str], list] = {}
    for p in parts:
        books.setdefault((p.venue, p.symbol, p.table), []).append(p)
    out = []
    for (venue, sym, table), ps in sorted(books.items()):
        ps.sort(key=lambda p: p.date)
        days = [p.date for p in ps]
        d0, d1 = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
        have = set(days)
        missing = [(d0 + dt.timedelta(days=i)).isoformat() for i in range((d1 - d0).days + 1)
                   if (d0 + dt.timedelta(days=i)).isoformat() not in have]
        gaps, longest, prev = 0, 0, None
        corrupt = [c for p in ps for c in p.corrupt]
        for f in store.files(table, venue, sym):
            try:
                ts = read_part(f, columns=["ts_recv"]).column(0).to_numpy()
            except ConfigError as exc:      # listed in corrupt_parts (store.coverage found most)
                corrupt.append(str(exc))
                continue
            if not len(ts):
                continue
            ts = np.sort(ts)
            if prev is not None:
                # the step between days: only a gap when the days are consecutive
                if dt.datetime.fromtimestamp(ts[0] / 1e9, dt.timezone.utc).date() - \
                        dt.datetime.fromtimestamp(prev / 1e9, dt.timezone.utc).date() <= dt.timedelta(days=1):
                    ts = np.concatenate([[prev], ts])
            d = np.diff(ts)
            big = d[d > GAP_NS]
            gaps += int(len(big))
            longest = max(longest, int(big.max()) if len(big) else 0)
            prev = int(ts[-1])
        rows = sum(p.rows for p in ps)
        out.append(Coverage(venue, sym, table, days[0], days[-1], len(days), missing, rows,
                            round(rows / len(days), 1), gaps, round(longest / 1e9, 3),
                            min(p.first_ts_recv for p in ps if p.first_ts_recv) if any(p.first_ts_recv for p in ps) else 0,
                            max(p.last_ts_recv or 0 for p in ps), max(p.written_ns for p in ps),
                            sorted(set(corrupt))))
    return out
