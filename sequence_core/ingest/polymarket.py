"""Polymarket Order Book Dataset (2026), Dinesh Gopalakrishnan, CC BY 4.0
(github.com/DineshKumar8399/polymarket-orderbook-dataset): ``quotes/dt=*/*.parquet`` with
ts, slug, category, bid, ask, mid, spread, volume24hr, segment, polled about every 2 minutes.

Each row becomes a ``bbo`` row of venue ``polymarket`` under the market's slug (the YES
side's top of book). The source stores prices as binary doubles; they are rounded to
Polymarket's finest tick grid (0.0001) before becoming exact decimals. Sizes were not
recorded (null). The recording has one clock, so ``ts_exchange`` = ``ts_recv`` = ``ts``.
The dataset's ``markets``, ``labels`` and ``data_quality`` tables are not market data and
are skipped. Its README lists known gaps (a four-day outage among them): read it first.
"""

from __future__ import annotations

from pathlib import Path

QUOTE_COLUMNS = {"ts", "slug", "bid", "ask"}
OTHER_TABLES = ("markets.parquet", "labels.parquet", "data_quality.parquet")


def _columns(path: Path) -> set[str]:
    import pyarrow.parquet as pq

    try:
        return set(pq.read_schema(path).names)
    except Exception:  # noqa: BLE001 - not a readable Parquet file: not ours to claim
        return set()


def claims(path: Path) -> bool:
    return path.suffix == ".parquet" and QUOTE_COLUMNS <= _columns(path)


def ignores(path: Path) -> bool:
    return path.name in OTHER_TABLES and "polymarket" in str(path)


def ingest_file(path: Path, store, summary, part: str) -> None:
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tbl = pq.read_table(path, columns=["ts", "slug", "bid", "ask"])
    tbl = tbl.sort_by([("slug", "ascending"), ("ts", "ascending")])
    ts = tbl.column("ts").cast("int64").to_numpy() * 1000                   # µs -> ns
    slugs = tbl.column("slug").to_numpy(zero_copy_only=False)

    def exact(name):
        col = tbl.column(name)
        values = col.to_numpy(zero_copy_only=False)
        missing = np.asarray(pc.is_null(col, nan_is_null=True).to_numpy(zero_copy_only=False))
        nanos = (np.round(np.nan_to_num(values.astype(float)) * 10_000).astype(np.int64)) * 100_000
        return nanos, missing

    bid, bid_missing = exact("bid")
    ask, ask_missing = exact("ask")
    starts = np.flatnonzero(np.r_[True, slugs[1:] != slugs[:-1]])
    ends = np.r_[starts[1:], len(slugs)]
    no_size = np.ones(len(ts), bool)
    written_rows = 0
    for a, b in zip(starts, ends):
        slug = str(slugs[a])
        cols = {"ts_exchange": ts[a:b], "ts_recv": ts[a:b], "seq": np.full(b - a, -1, np.int64),
                "bid_price": bid[a:b], "bid_price__null": bid_missing[a:b], "bid_size": np.zeros(b - a, np.int64),
                "bid_size__null": no_size[a:b], "ask_price": ask[a:b], "ask_price__null": ask_missing[a:b],
                "ask_size": np.zeros(b - a, np.int64), "ask_size__null": no_size[a:b]}
        try:
            for written in store.write("bbo", "polymarket", slug, part, cols):
                summary.partitions.append(str(written.parent.relative_to(store.root)))
            written_rows += int(b - a)      # numpy ints: the summary is encoded as JSON
        except Exception as exc:  # noqa: BLE001 - one odd slug must not stop 27,000 others
            summary.skipped.append(f"polymarket {slug}: {exc}")
    summary.add_rows("bbo", written_rows)
    summary.files.append(str(path))
