"""Ingesting again and ingesting damage (session 18): a changed copy of a file replaces its
parts, a truncated or corrupt input is named, a corrupt part in the store is flagged and named,
a file named twice counts once. Inputs are copies (or cut copies) of the recorded files in
shared/data (origins in its README)."""

import json
import shutil

import pytest

from conftest import shared_data
from sequence_core.errors import ConfigError, UsageError
from sequence_core.ingest import ingest
from sequence_core.store import Store

SHARED = shared_data()
pytestmark = pytest.mark.skipif(SHARED is None, reason="recorded data (shared/data) not found")
TRADES = "binance-futures_trades_BTCUSDT_2020-02-22.csv"        # tardis-2020-02-22: 9,999 trades
DAY_US = 86_400 * 1_000_000


def _tardis_trades(tmp_path, folder: str, lines: int | None = None, next_day: int = 0):
    """A copy of the recorded Tardis trades file (its first *lines* rows), in *folder*; with
    *next_day*, that many of its rows copied again one day later (a file spanning two dates)."""
    text = (SHARED / "market" / "tardis-2020-02-22" / TRADES).read_text().splitlines(keepends=True)
    rows = text[1:] if lines is None else text[1:lines + 1]
    extra = []
    for r in rows[:next_day]:
        f = r.split(",")
        f[2], f[3] = str(int(f[2]) + DAY_US), str(int(f[3]) + DAY_US)
        extra.append(",".join(f))
    path = tmp_path / folder / TRADES
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text[0] + "".join(rows + extra))
    return path


def _rows(store, table="trades"):
    return sum(c.rows for c in store.coverage() if c.table == table)


def test_a_changed_copy_of_a_file_replaces_its_parts_instead_of_adding_rows(tmp_path):
    """Re-ingesting a truncated, then an extended copy of a file added rows (9,999 -> 10,099):
    its part name hashed the content. Same name in the same venue/symbol: its parts are replaced
    on the dates the new copy writes; a date it no longer covers keeps the old part (a file of
    the same name for another day is another file: see the next test)."""
    store = Store(tmp_path / "store")
    ingest([str(_tardis_trades(tmp_path, "full", next_day=5))], store)
    assert _rows(store) == 9_999 + 5 and len(store.partitions("trades")) == 2
    ingest([str(_tardis_trades(tmp_path, "cut", lines=100))], store)           # truncated, first day
    assert _rows(store) == 100 + 5 and len(store.partitions("trades")) == 2
    ingest([str(_tardis_trades(tmp_path, "full"))], store)                       # extended again
    assert _rows(store) == 9_999 + 5


def test_files_of_one_name_in_folders_per_day_keep_each_others_rows(tmp_path):
    """One name per day's folder (d1/trades.csv, d2/trades.csv) are different files: the second
    ingest deleted the first's rows (2 files, 10,000 rows said; 5,000 kept)."""
    store = Store(tmp_path / "store")
    first = _tardis_trades(tmp_path, "d1", lines=50)
    second = _tardis_trades(tmp_path, "d2", lines=50, next_day=50)
    second.write_text("".join(second.read_text().splitlines(keepends=True)[:1] + second.read_text().splitlines(keepends=True)[51:]))
    ingest([str(first), str(second)], store)
    assert _rows(store) == 100 and len(store.partitions("trades")) == 2


def test_parts_named_before_session_18_are_replaced_too(tmp_path):
    """Parts were `<stem>-<12 hex of content hash>.parquet`: re-ingesting must not keep them."""
    store = Store(tmp_path / "store")
    path = _tardis_trades(tmp_path, "src", lines=50)
    ingest([str(path)], store)
    (written,) = store.files("trades")
    written.rename(written.with_name(written.stem + "-0123456789ab.parquet"))
    ingest([str(path)], store)
    assert [p.name for p in store.files("trades")] == [written.name] and _rows(store) == 50


def test_files_sharing_a_name_in_hive_folders_are_different_files(tmp_path):
    """Polymarket's `quotes/dt=<day>/data_0.parquet` repeats its file name every day: one day's
    ingest must not replace another's parts (CC BY 4.0 data, D. Gopalakrishnan)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    source = SHARED / "market" / "polymarket-top-of-book" / "quotes" / "dt=2026-07-10" / "data_0.parquet"
    quotes = pq.read_table(source, columns=["ts", "slug", "bid", "ask"])
    slug = quotes.column("slug")[0].as_py()
    one = quotes.filter(pc.equal(quotes.column("slug"), slug))
    for day, table in (("2026-07-10", one.slice(0, 3)), ("2026-08-01", one.slice(3, 2))):
        (tmp_path / f"dt={day}").mkdir()
        pq.write_table(table, tmp_path / f"dt={day}" / "data_0.parquet")
    store = Store(tmp_path / "store")
    ingest([str(tmp_path / "dt=2026-07-10")], store)
    ingest([str(tmp_path / "dt=2026-08-01")], store)
    assert store.read("bbo", venue="polymarket", symbol=slug)[0].num_rows == 5


def test_json_summary_of_a_polymarket_ingest_is_valid_json(sequence, tmp_path):
    """`--output json data ingest` of the Polymarket quotes wrote everything, then failed with
    "Encoding objects of type numpy.int64 is unsupported" (a slice of the July file here)."""
    import pyarrow.parquet as pq

    source = SHARED / "market" / "polymarket-top-of-book" / "quotes" / "dt=2026-07-10" / "data_0.parquet"
    folder = tmp_path / "quotes" / "dt=2026-07-10"
    folder.mkdir(parents=True)
    pq.write_table(pq.read_table(source).slice(0, 500), folder / "data_0.parquet")
    r = sequence("--output", "json", "data", "ingest", str(folder))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"] == {"bbo": 500}


def _cut(src, dst, keep: float = 0.5):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


@pytest.mark.parametrize("source", ["hyperliquid/hyperliquid_btcusd_20250126.gz", "bybit/xrpusdt-ob500.data.zip",
                                    "binance/btcusdt-trades.parquet", f"tardis-2020-02-22/{TRADES}",
                                    "binance-multi-2024-08-08/spot_btcusdt_20240809.gz"])
def test_a_truncated_input_file_is_named_and_nothing_is_written(sequence, tmp_path, source):
    """A cut gzip said "Error: aborted", a CSV and a Parquet "internal error (...)", a zip
    "format not recognised": none named the file."""
    src = SHARED / "market" / source
    bad = _cut(src, tmp_path / src.name, 0.6)
    r = sequence("data", "ingest", str(bad))
    assert r.returncode == 1 and r.stderr.startswith(f"Error: {bad}: "), r.stderr
    assert "format not recognised" not in r.stderr and "internal error" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not list((sequence.home / "data").rglob("*.parquet"))


def test_a_bad_file_in_a_folder_says_what_was_written_before_it(tmp_path):
    store = Store(tmp_path / "store")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SHARED / "market" / "tardis" / "bitmex_trades_XBTUSD.csv", folder / "a_bitmex_trades_XBTUSD.csv")
    _cut(SHARED / "market" / "tardis-2020-02-22" / TRADES, folder / ("z" + TRADES), 0.5)
    with pytest.raises(UsageError) as err:
        ingest([str(folder)], store)
    message = str(err.value)
    assert message.startswith(f"{folder / ('z' + TRADES)}: ") and "nothing from it was written" in message
    assert "1 file(s) before it were ingested and kept (a_bitmex_trades_XBTUSD.csv)" in message
    assert [c.symbol for c in store.coverage()] == ["BTC-USD-PERP"]


def _corrupt_store(root):
    store = Store(root)
    ingest([str(SHARED / "market" / "tardis-2020-02-22" / TRADES)], store)
    (part,) = store.files("trades")
    _cut(part, part.with_name("broken.parquet"), 0.5)
    return store, part.with_name("broken.parquet")


def test_a_corrupt_part_is_flagged_by_coverage_and_named_by_readers(tmp_path):
    """`data coverage` showed the partition's rows with no word of it; `research coverage`
    dropped it; backtest and research profile failed with an unnamed ArrowInvalid."""
    from sequence_core.research.coverage import coverage
    from sequence_core.research.profile import busiest_venue
    from sequence_core.sim.events import _first_recv

    store, broken = _corrupt_store(tmp_path / "store")
    (info,) = store.coverage()
    assert info.rows == 9_999 and len(info.corrupt) == 1 and info.corrupt[0].startswith(f"{broken}: unreadable Parquet")
    (research,) = coverage(store)
    assert research.corrupt_parts == list(info.corrupt)
    for read in (lambda: _first_recv([broken]), lambda: busiest_venue(store, "BTC-USDT-PERP")):
        with pytest.raises(ConfigError, match=f"{broken}: unreadable Parquet.*re-ingest its source or delete it"):
            read()


def test_data_coverage_shows_a_corrupt_part_by_path(sequence):
    _, broken = _corrupt_store(sequence.home / "data")
    r = sequence("data", "coverage")
    assert r.returncode == 0, r.stderr
    assert f"corrupt part (rows not counted): {broken}: unreadable Parquet" in r.stdout


def test_a_file_named_several_times_counts_once(tmp_path):
    store = Store(tmp_path / "store")
    path = _tardis_trades(tmp_path, "src", lines=40)
    summary = ingest([str(path), str(path), str(path.parent), str(path.parent / ".." / "src" / TRADES)], store)
    assert summary.rows == {"trades": 40} and summary.files == [str(path)]


def test_an_empty_or_blank_path_or_symbol_is_refused(sequence, tmp_path, monkeypatch):
    """Path("") is ".": `ingest([""])` ingested the current folder."""
    monkeypatch.chdir(tmp_path)
    _tardis_trades(tmp_path, "here", lines=3)
    for blank in ("", "  "):
        with pytest.raises(UsageError, match="an empty path was given"):
            ingest([blank], Store(tmp_path / "store"))
    assert not (tmp_path / "store").exists()
    r = sequence("data", "coverage", "--symbol", " ")
    assert r.returncode == 1 and r.stderr.startswith("Error: --symbol is empty"), r.stderr


def test_a_killed_writers_temp_part_is_removed_by_the_next_write(tmp_path):
    """kill -9 of an ingest left `.<part>.<random>.tmp` beside the part for ever; a young one
    may be another writer's and stays."""
    import os
    import time

    from sequence_core.home import ORPHAN_AGE_S, atomic_write

    part = tmp_path / "trades.parquet"
    old, young = tmp_path / ".trades.parquet.abc123.tmp", tmp_path / ".trades.parquet.def456.tmp"
    for f in (old, young):
        f.write_bytes(b"half")
    past = time.time() - ORPHAN_AGE_S - 60
    os.utime(old, (past, past))
    atomic_write(part, b"whole")
    assert part.read_bytes() == b"whole" and not old.exists() and young.exists()
