"""The peer benchmark's synthetic L2 event files (shared/bench/gen_data.py): columns
``ts_event, ts_recv, kind (0 depth, 1 trade), side (+1 bid/buy, -1 ask/sell), price, size``;
a depth row's size is the level's new absolute size (0 removes it). Ingested as venue
``sim``, symbol ``BTC-USD`` (tick 0.01 and lot 0.001, so the float columns are rounded to
that grid exactly). Every depth row is its own message."""

from __future__ import annotations

from pathlib import Path

COLUMNS = {"ts_event", "ts_recv", "kind", "side", "price", "size"}
VENUE = "sim"
SYMBOL = "BTC-USD"


def claims(path: Path) -> bool:
    if path.suffix != ".parquet":
        return False
    import pyarrow.parquet as pq

    try:
        return COLUMNS <= set(pq.read_schema(path).names)
    except Exception:  # noqa: BLE001 - unreadable: not ours
        return False


def ingest_file(path: Path, store, summary, part: str) -> None:
    import numpy as np
    import pyarrow.parquet as pq

    tbl = pq.read_table(path, columns=sorted(COLUMNS))
    kind = tbl.column("kind").to_numpy()
    side = tbl.column("side").to_numpy().astype(np.int8)
    price = np.round(tbl.column("price").to_numpy() * 100).astype(np.int64) * 10_000_000     # 0.01 grid
    size = np.round(tbl.column("size").to_numpy() * 1000).astype(np.int64) * 1_000_000      # 0.001 grid
    ts_event = tbl.column("ts_event").to_numpy()
    ts_recv = tbl.column("ts_recv").to_numpy()
    del tbl
    depth = kind == 0
    n = int(depth.sum())
    written = store.write("book_deltas", VENUE, SYMBOL, part, {
        "ts_exchange": ts_event[depth], "ts_recv": ts_recv[depth], "seq": np.full(n, -1, np.int64),
        "side": side[depth], "price": price[depth], "size": size[depth], "flags": np.ones(n, np.uint8)})
    summary.add_rows("book_deltas", n)
    trades = ~depth
    m = int(trades.sum())
    written += store.write("trades", VENUE, SYMBOL, part, {
        "ts_exchange": ts_event[trades], "ts_recv": ts_recv[trades], "trade_id": [""] * m,
        "side": side[trades], "price": price[trades], "size": size[trades]})
    summary.add_rows("trades", m)
    summary.files.append(str(path))
    summary.partitions.extend(str(p.parent.relative_to(store.root)) for p in written)
