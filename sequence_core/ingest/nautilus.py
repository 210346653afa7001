"""The small Binance samples NautilusTrader ships as test data (shared/data/market/binance):

- ``btcusdt-depth-snap.csv`` / ``btcusdt-depth-update.csv`` (USD-M futures BTCUSDT): symbol,
  timestamp (ms), first_update_id, last_update_id, side (b/a), update_type (snap/set), price,
  qty (0 deletes), pu. Snapshots -> book_snapshots; updates -> book_deltas with ``pu``
  continuity checked as Binance documents for futures (a break is a gap, nothing after it).
- ``btcusdt-trades.parquet`` / ``btcusdt-quotes.parquet`` (spot BTC/USDT, 2021-01-08): trades
  (``buyer_maker`` True = a sell aggressor) and best bid/ask. Their prices are doubles in the
  source and are rounded to 1e-8 (Binance's finest increment) before becoming exact.
None of these recorded a receive time, so ``ts_recv`` = the venue timestamp.
"""

from __future__ import annotations

from pathlib import Path

from ..store import fixed_point

CSV_HEADER = "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu"


def claims(path: Path) -> bool:
    if path.suffix == ".csv":
        with open(path, encoding="utf-8") as fh:
            return fh.readline().strip() == CSV_HEADER
    if path.suffix == ".parquet" and path.name.startswith("btcusdt-"):
        import pyarrow.parquet as pq

        names = set(pq.read_schema(path).names)
        return {"timestamp", "trade_id", "buyer_maker"} <= names or {"timestamp", "bid", "ask", "bid_size"} <= names
    return False


def _exact(values) -> list[int]:
    import numpy as np

    return list((np.round(np.asarray(values, dtype=float) * 1e8).astype(np.int64)) * 10)


def ingest_file(path: Path, store, summary, part: str) -> None:
    from . import Gap

    tables: dict[str, dict] = {}
    if path.suffix == ".csv":
        from . import read_csv

        rows = read_csv(path)
        symbol = rows[0]["symbol"].upper()
        canonical = f"{symbol[:-4]}-USDT-PERP" if symbol.endswith("USDT") else symbol
        snap = {k: [] for k in ("ts_exchange", "ts_recv", "seq", "side", "level", "price", "size")}
        deltas = {k: [] for k in ("ts_exchange", "ts_recv", "seq", "side", "price", "size", "flags")}
        last_u, broken = None, False
        levels = {1: 0, -1: 0}
        for i, r in enumerate(rows):
            ts, side = int(r["timestamp"]) * 1_000_000, 1 if r["side"] == "b" else -1
            u = int(r["last_update_id"])
            if r["update_type"] == "snap":
                for col, v in (("ts_exchange", ts), ("ts_recv", ts), ("seq", u), ("side", side), ("level", levels[side]),
                               ("price", fixed_point(r["price"])), ("size", fixed_point(r["qty"]))):
                    snap[col].append(v)
                levels[side] += 1
                continue
            new_message = i == 0 or rows[i - 1]["last_update_id"] != r["last_update_id"]
            if new_message and last_u is not None and int(r["pu"]) != last_u and not broken:
                summary.gaps.append(Gap(f"binance:{canonical}", ts, last_u, int(r["pu"]), "pu != previous u"))
                broken = True
            if broken:
                continue
            last = i + 1 == len(rows) or rows[i + 1]["last_update_id"] != r["last_update_id"]
            for col, v in (("ts_exchange", ts), ("ts_recv", ts), ("seq", u), ("side", side), ("price", fixed_point(r["price"])),
                           ("size", fixed_point(r["qty"])), ("flags", 1 if last else 0)):
                deltas[col].append(v)
            last_u = u
        tables = {"book_snapshots": snap, "book_deltas": deltas}
    else:
        import pyarrow.parquet as pq

        t = pq.read_table(path)
        ts = list(t.column("timestamp").cast("int64").to_numpy() * 1_000_000)
        canonical = "BTC-USDT"
        if "trade_id" in t.column_names:
            tables["trades"] = {"ts_exchange": ts, "ts_recv": ts, "trade_id": [str(x) for x in t.column("trade_id").to_pylist()],
                                "side": [-1 if str(m) == "True" else 1 for m in t.column("buyer_maker").to_pylist()],
                                "price": _exact(t.column("price")), "size": _exact(t.column("quantity"))}
        else:
            tables["bbo"] = {"ts_exchange": ts, "ts_recv": ts, "seq": [-1] * len(ts), "bid_price": _exact(t.column("bid")),
                             "bid_size": _exact(t.column("bid_size")), "ask_price": _exact(t.column("ask")),
                             "ask_size": _exact(t.column("ask_size"))}
    for table, cols in tables.items():
        if cols["ts_recv"]:
            for written in store.write(table, "binance", canonical, part, cols):
                summary.partitions.append(str(written.parent.relative_to(store.root)))
            summary.add_rows(table, len(cols["ts_recv"]))
    summary.files.append(str(path))
