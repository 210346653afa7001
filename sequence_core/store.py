"""The Parquet market-data store (docs/data.md has every column).

Layout: ``<root>/<table>/venue=<v>/symbol=<s>/date=<YYYY-MM-DD>/<part>.parquet``, zstd,
hive-partitioned, readable by any Arrow tool. Timestamps are int64 ns UTC, both the
venue's (``ts_exchange``) and ours (``ts_recv``); partitions are by the UTC date of
``ts_recv``, the order replay uses. Prices and sizes are ``decimal64(18, 9)``: exact, shown
as decimals by DuckDB and polars, and stored as the int64 of value × 1e9, which is what the
reader hands the sim-engine without conversion (:meth:`Store.arrays`).

Writes are atomic (temp file + rename) and a part's name is derived from its source file's
name, so ingesting the same file again (also a changed copy of it) replaces its parts instead
of adding rows: :meth:`Store.drop_stale` removes the parts the new version no longer has.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import msgspec

from .errors import ConfigError, UsageError

SCALE = 1_000_000_000
TABLES = ("book_deltas", "book_snapshots", "trades", "bbo", "bars")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")


def _schema(table: str):
    import pyarrow as pa

    dec = pa.decimal64(18, 9)
    common = [("ts_exchange", pa.int64()), ("ts_recv", pa.int64())]
    return pa.schema({
        "book_deltas": common + [("seq", pa.int64()), ("side", pa.int8()), ("price", dec), ("size", dec), ("flags", pa.uint8())],
        "book_snapshots": common + [("seq", pa.int64()), ("side", pa.int8()), ("level", pa.int16()), ("price", dec), ("size", dec)],
        "trades": common + [("trade_id", pa.string()), ("side", pa.int8()), ("price", dec), ("size", dec)],
        "bbo": common + [("seq", pa.int64()), ("bid_price", dec), ("bid_size", dec), ("ask_price", dec), ("ask_size", dec)],
        # OHLCV bars where only bars were recorded: ts_exchange = bar start, ts_recv = bar end
        "bars": common + [("interval_ns", pa.int64()), ("open", dec), ("high", dec), ("low", dec), ("close", dec), ("volume", dec)],
    }[table])


def decimal_column(nanos, null_mask=None):
    """An Arrow decimal64(18, 9) array over int64 value×1e9 numbers, without copying."""
    import numpy as np
    import pyarrow as pa

    values = np.ascontiguousarray(nanos, dtype=np.int64)
    validity = None
    if null_mask is not None and null_mask.any():
        validity = pa.array(~null_mask).buffers()[1]
    return pa.Array.from_buffers(pa.decimal64(18, 9), len(values), [validity, pa.py_buffer(values)],
                                 null_count=int(null_mask.sum()) if null_mask is not None else 0)


def fixed_point(text: str) -> int:
    """'61837.63000000' -> 61837630000000 (value × 1e9) without a float or a Decimal."""
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    n = int(whole or 0) * SCALE + int((frac + "000000000")[:9])
    return -n if neg else n


def _ordered(column) -> bool:
    import numpy as np

    values = column.to_numpy()
    return bool(len(values) < 2 or (np.diff(values) >= 0).all())


class PartitionInfo(msgspec.Struct, frozen=True):
    table: str
    venue: str
    symbol: str
    date: str
    files: int
    rows: int
    bytes: int
    first_ts_recv: int | None
    last_ts_recv: int | None
    written_ns: int
    corrupt: tuple[str, ...] = ()    # parts that cannot be read: "<path>: <why>"


def open_part(path):
    """A part as a ``pyarrow.parquet.ParquetFile``; a corrupt or truncated one raises ConfigError
    naming it and saying what to do (a bare ArrowInvalid names no file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(_unreadable(path, exc) + "; re-ingest its source or delete it") from None


def read_part(path, columns: list[str] | None = None):
    """A part's rows as a pyarrow Table; failures name the part, as :func:`open_part`."""
    import pyarrow as pa

    part = open_part(path)
    try:
        return part.read(columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(_unreadable(path, exc) + "; re-ingest its source or delete it") from None


def _unreadable(path, exc) -> str:
    return f"{path}: unreadable Parquet ({(str(exc).splitlines() or [type(exc).__name__])[0]})"


class Store:
    def __init__(self, root: Path | None = None):
        if root is None:
            from .home import ensure_home

            root = ensure_home() / "data"
        self.root = Path(root)
        self.written: list[Path] = []     # every part this object wrote, in order (ingest's record)

    def partition_dir(self, table: str, venue: str, symbol: str, date: str) -> Path:
        if table not in TABLES:
            raise UsageError(f"unknown table '{table}'; tables: {', '.join(TABLES)}")
        for what, value in (("venue", venue), ("symbol", symbol)):
            if not _NAME.match(value):
                raise UsageError(f"{what} '{value}' cannot be a partition name")
        return self.root / table / f"venue={venue}" / f"symbol={symbol}" / f"date={date}"

    # -- writing ---------------------------------------------------------------------------
    def write(self, table: str, venue: str, symbol: str, part: str, columns: dict) -> list[Path]:
        """Write rows (a dict of columns; prices/sizes as int64 value×1e9 arrays) split by
        the UTC date of ts_recv; returns the files written."""
        import io

        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .home import atomic_write

        schema = _schema(table)
        recv = np.asarray(columns["ts_recv"], dtype=np.int64)
        if len(recv) == 0:
            return []
        days = recv // (86_400 * SCALE)
        written = []
        for day in np.unique(days):
            mask = days == day
            arrays = []
            for field in schema:
                col = columns[field.name]
                if pa.types.is_decimal(field.type):
                    col = np.asarray(col, dtype=np.int64)[mask]
                    nulls = columns.get(f"{field.name}__null")
                    arrays.append(decimal_column(col, None if nulls is None else np.asarray(nulls)[mask]))
                elif pa.types.is_string(field.type):
                    arrays.append(pa.array([v for v, m in zip(col, mask) if m], field.type))
                else:
                    arrays.append(pa.array(np.asarray(col)[mask], field.type))
            tbl = pa.Table.from_arrays(arrays, schema=schema)
            order = np.argsort(tbl.column("ts_recv").to_numpy(), kind="stable")
            tbl = tbl.take(pa.array(order))
            date = dt.datetime.fromtimestamp(int(day) * 86_400, dt.timezone.utc).strftime("%Y-%m-%d")
            path = self.partition_dir(table, venue, symbol, date) / f"{part}.parquet"
            buf = io.BytesIO()
            pq.write_table(tbl, buf, compression="zstd", row_group_size=1 << 20)
            atomic_write(path, buf.getvalue(), mode=0o644)
            written.append(path)
        self.written.extend(written)
        return written

    def drop_stale(self, part: str, written: list[Path], legacy: str | None = None) -> list[Path]:
        """After a source file was ingested again: remove its parts (named *part*, or *legacy*
        followed by the 12-hex content hash of names before session 18) that this ingest did not
        rewrite, in every table, on the (venue, symbol, date)s it wrote. Only those dates: files
        of one name in folders per day are different files, and removing the name on every date
        deleted the other days' rows (a copy that now covers fewer dates leaves the old parts of
        the dates it lacks). Rewritten parts were replaced by rename, so readers never see half
        a part; only parts the new version lacks are removed, after it is complete. Returns them."""
        keep = set(written)
        legacy_name = re.compile(re.escape(legacy) + r"-[0-9a-f]{12}\.parquet") if legacy else None
        days = {(p.parent.parent.parent.name, p.parent.parent.name, p.parent.name) for p in written}
        removed = []
        for venue_dir, symbol_dir, date_dir in sorted(days):
            for table in TABLES:
                for f in (self.root / table / venue_dir / symbol_dir / date_dir).glob("*.parquet"):
                    ours = f.name == f"{part}.parquet" or (legacy_name is not None and legacy_name.fullmatch(f.name))
                    if ours and f not in keep:
                        f.unlink(missing_ok=True)
                        removed.append(f)
        return removed

    # -- reading ---------------------------------------------------------------------------
    def files(self, table: str, venue: str | None = None, symbol: str | None = None,
              start: str | None = None, end: str | None = None) -> list[Path]:
        """Parquet files of a table, pruned by venue, symbol and date range (inclusive)."""
        base = self.root / table
        if not base.exists():
            return []
        out = []
        for vdir in sorted(base.glob(f"venue={venue}" if venue else "venue=*")):
            for sdir in sorted(vdir.glob(f"symbol={symbol}" if symbol else "symbol=*")):
                for ddir in sorted(sdir.glob("date=*")):
                    date = ddir.name[5:]
                    if (start and date < start) or (end and date > end):
                        continue
                    out.extend(sorted(p for p in ddir.glob("*.parquet")))
        return out

    def partitions(self, table: str, venue: str | None = None, symbol: str | None = None,
                   start: str | None = None, end: str | None = None) -> list[tuple[str, str, str]]:
        """Sorted (venue, symbol, date) of the partitions holding files of a table."""
        return sorted({(p.parent.parent.parent.name[6:], p.parent.parent.name[7:], p.parent.name[5:])
                       for p in self.files(table, venue, symbol, start, end)})

    def read(self, table: str, venue: str | None = None, symbol: str | None = None, start: str | None = None,
             end: str | None = None, columns: list[str] | None = None, skip_corrupt: bool = False):
        """(pyarrow Table sorted by ts_recv, problems). A corrupt file raises ConfigError naming
        it, or with ``skip_corrupt`` is left out and reported; the rest stays readable."""
        import pyarrow as pa
        import pyarrow.dataset as ds

        files = self.files(table, venue, symbol, start, end)
        if not files:
            where = ", ".join(f"{k}={v}" for k, v in (("venue", venue), ("symbol", symbol), ("from", start), ("to", end)) if v)
            raise UsageError(f"no {table} data in the store at {self.root}" + (f" for {where}" if where else "")
                             + "; ingest some with `sequence data ingest <path>`")
        good, problems = [], []
        for path in files:
            try:
                open_part(path).metadata
                good.append(str(path))
            except ConfigError as exc:
                if not skip_corrupt:
                    raise
                problems.append(str(exc))
        if not good:
            return pa.Table.from_batches([], _schema(table)), problems
        dataset = ds.dataset(good, format="parquet", schema=_schema(table))
        tbl = dataset.to_table(columns=columns)
        if len(good) > 1 and "ts_recv" in tbl.column_names and tbl.num_rows and not _ordered(tbl.column("ts_recv")):
            tbl = tbl.sort_by([("ts_recv", "ascending")])   # parts are sorted; only a merge needs this
        return tbl, problems

    def arrays(self, table: str, **kwargs) -> dict:
        """Columns as numpy arrays; decimals as int64 value×1e9 (a view, no conversion)."""
        import numpy as np
        import pyarrow as pa

        tbl, _ = self.read(table, **kwargs)
        out = {}
        for name in tbl.column_names:
            col = tbl.column(name).combine_chunks()
            if pa.types.is_decimal(col.type):
                out[name] = np.frombuffer(col.buffers()[1], dtype=np.int64, count=len(col), offset=col.offset * 8)
            elif pa.types.is_string(col.type):
                out[name] = col.to_pylist()
            else:
                out[name] = col.to_numpy(zero_copy_only=False)
        return out

    def coverage(self, symbol: str | None = None) -> list[PartitionInfo]:
        """Every partition's parts, rows and receive-time range (from Parquet metadata); a part
        that cannot be read is listed in ``corrupt`` (its rows are unknown, so not counted)."""
        rows = []
        for table in TABLES:
            for path_dir in sorted({p.parent for p in self.files(table, symbol=symbol)}):
                parts = sorted(path_dir.glob("*.parquet"))
                n = size = 0
                first = last = None
                written = 0
                corrupt = []
                for p in parts:
                    try:
                        meta = open_part(p).metadata
                    except ConfigError as exc:
                        corrupt.append(str(exc))
                        continue
                    n += meta.num_rows
                    size += p.stat().st_size
                    written = max(written, p.stat().st_mtime_ns)
                    for rg in range(meta.num_row_groups):
                        stats = meta.row_group(rg).column(1).statistics   # column 1 is ts_recv
                        if stats is not None and stats.has_min_max:
                            first = stats.min if first is None else min(first, stats.min)
                            last = stats.max if last is None else max(last, stats.max)
                venue = path_dir.parent.parent.name[6:]
                rows.append(PartitionInfo(table, venue, path_dir.parent.name[7:], path_dir.name[5:], len(parts), n, size,
                                          first, last, written, tuple(corrupt)))
        return rows
