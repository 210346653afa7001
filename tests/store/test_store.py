"""The Parquet store: exact decimals, atomic parts, pruning, corrupt files, other tools."""

import numpy as np
import pytest

from sequence_core.errors import ConfigError, UsageError
from sequence_core.store import SCALE, Store, fixed_point

DAY = 86_400 * SCALE


def rows(n, start_ns):
    return {"ts_exchange": np.arange(n, dtype=np.int64) + start_ns, "ts_recv": np.arange(n, dtype=np.int64) + start_ns + 5,
            "seq": np.arange(n, dtype=np.int64), "side": np.where(np.arange(n) % 2, 1, -1).astype(np.int8),
            "price": np.full(n, fixed_point("61837.63")), "size": np.full(n, fixed_point("0.00105")),
            "flags": np.ones(n, dtype=np.uint8)}


def test_fixed_point_is_exact():
    assert fixed_point("61837.63000000") == 61_837_630_000_000
    assert fixed_point("0.000000001") == 1 and fixed_point("-1.5") == -1_500_000_000 and fixed_point("7") == 7 * SCALE


def test_write_splits_by_receive_date_and_reads_back_exactly(tmp_path):
    store = Store(tmp_path)
    data = rows(10, 19_944 * DAY - 10)                     # receive times straddle midnight
    written = store.write("book_deltas", "binance", "BTC-USDT", "part-a", data)
    assert [p.parent.name for p in written] == ["date=2024-08-08", "date=2024-08-09"]
    arr = store.arrays("book_deltas", venue="binance", symbol="BTC-USDT")
    assert arr["price"].dtype == np.int64 and (arr["price"] == 61_837_630_000_000).all()
    assert list(arr["ts_recv"]) == sorted(arr["ts_recv"])
    only = store.arrays("book_deltas", symbol="BTC-USDT", start="2024-08-09")
    assert len(only["ts_recv"]) < 10                       # pruned by date


def test_same_part_replaces_instead_of_adding(tmp_path):
    store = Store(tmp_path)
    store.write("book_deltas", "binance", "BTC-USDT", "p", rows(5, 19_943 * DAY))
    store.write("book_deltas", "binance", "BTC-USDT", "p", rows(5, 19_943 * DAY))
    assert store.read("book_deltas")[0].num_rows == 5


def test_empty_store_says_how_to_fill_it(tmp_path):
    with pytest.raises(UsageError, match="sequence data ingest"):
        Store(tmp_path).read("trades")


def test_corrupt_file_is_named_and_the_rest_stays_readable(tmp_path):
    store = Store(tmp_path)
    good = store.write("book_deltas", "binance", "BTC-USDT", "good", rows(5, 19_943 * DAY))[0]
    bad = good.parent / "truncated.parquet"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(ConfigError, match="truncated.parquet: unreadable Parquet"):
        store.read("book_deltas")
    tbl, problems = store.read("book_deltas", skip_corrupt=True)
    assert tbl.num_rows == 5 and len(problems) == 1 and "truncated.parquet" in problems[0]


def test_files_open_in_duckdb_without_this_project(tmp_path):
    import duckdb

    store = Store(tmp_path)
    store.write("book_deltas", "binance", "BTC-USDT", "p", rows(4, 19_943 * DAY))
    got = duckdb.sql(f"SELECT venue, symbol, price, size FROM read_parquet('{tmp_path}/book_deltas/**/*.parquet', "
                     "hive_partitioning = true) LIMIT 1").fetchall()
    from decimal import Decimal

    assert got == [("binance", "BTC-USDT", Decimal("61837.630000000"), Decimal("0.001050000"))]


def test_coverage_lists_partitions(tmp_path):
    store = Store(tmp_path)
    store.write("trades", "binance", "BTC-USDT", "p", {"ts_exchange": [1, 2], "ts_recv": [19_943 * DAY, 19_943 * DAY + 9],
                                                       "trade_id": ["a", "b"], "side": [1, -1], "price": [1, 2], "size": [3, 4]})
    cov = store.coverage()
    assert [(c.table, c.venue, c.symbol, c.date, c.rows) for c in cov] == [("trades", "binance", "BTC-USDT", "2024-08-08", 2)]
    assert cov[0].first_ts_recv == 19_943 * DAY and cov[0].last_ts_recv == 19_943 * DAY + 9
