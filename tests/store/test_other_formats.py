"""The other recorded formats in shared/data: Tardis CSV, Hyperliquid, Bybit."""

from decimal import Decimal

import numpy as np
import pytest

from conftest import shared_data
from sequence_core.errors import UsageError
from sequence_core.ingest import ingest
from sequence_core.store import SCALE, Store

SHARED = shared_data()
pytestmark = pytest.mark.skipif(SHARED is None, reason="recorded data (shared/data) not found")


def test_tardis_quotes_and_trades_keep_both_clocks_exactly(tmp_path):
    store = Store(tmp_path)
    folder = SHARED / "market" / "tardis-2020-02-22"
    summary = ingest([str(folder)], store)
    assert summary.rows == {"bbo": 9999, "trades": 9999}
    bbo = store.arrays("bbo", venue="binance", symbol="BTC-USDT-PERP")
    # first row of the file: 1582329601096000 (µs), local 1582329603502092, ask 0.84 @ 9682, bid 9681.92 x 0.67
    assert bbo["ts_exchange"][0] == 1582329601096000 * 1000 and bbo["ts_recv"][0] == 1582329603502092 * 1000
    assert (bbo["bid_price"][0], bbo["bid_size"][0], bbo["ask_price"][0], bbo["ask_size"][0]) == (
        int(Decimal("9681.92") * SCALE), int(Decimal("0.67") * SCALE), 9682 * SCALE, int(Decimal("0.84") * SCALE))
    trades = store.arrays("trades", symbol="BTC-USDT-PERP")
    assert set(np.unique(trades["side"])) == {-1, 1}


def test_tardis_snapshots_and_other_venues(tmp_path):
    store = Store(tmp_path)
    ingest([str(SHARED / "market" / "tardis")], store)
    snaps = store.arrays("book_snapshots", venue="binance", symbol="BTC-USDT-PERP")
    first = snaps["ts_recv"] == snaps["ts_recv"][0]
    assert set(snaps["level"][first & (snaps["side"] == 1)]) >= set(range(5))
    venues = {(c.venue, c.symbol) for c in store.coverage()}
    assert {("bitmex", "BTC-USD-PERP"), ("deribit", "BTC-USD-PERP"), ("huobi", "BTC-USD-PERP")} <= venues


def test_hyperliquid_books_and_trades(tmp_path):
    store = Store(tmp_path)
    ingest([str(SHARED / "market" / "hyperliquid")], store)
    snaps = store.arrays("book_snapshots", venue="hyperliquid", symbol="BTC-USDC-PERP")
    one = snaps["ts_recv"] == snaps["ts_recv"][0]
    bids, asks = snaps["price"][one & (snaps["side"] == 1)], snaps["price"][one & (snaps["side"] == -1)]
    assert len(bids) == len(asks) == 20 and bids.max() < asks.min()
    assert bids[0] == 105_055 * SCALE                      # the capture's first best bid
    assert len(store.arrays("trades", venue="hyperliquid")["ts_recv"]) > 0


def test_bybit_book_replays_without_ever_crossing(tmp_path):
    store = Store(tmp_path)
    summary = ingest([str(SHARED / "market" / "bybit")], store)
    assert summary.gaps == []
    snaps = store.arrays("book_snapshots", venue="bybit", symbol="XRP-USDT-PERP")
    deltas = store.arrays("book_deltas", venue="bybit", symbol="XRP-USDT-PERP")
    book = {1: {}, -1: {}}
    for side, price, size in zip(snaps["side"], snaps["price"], snaps["size"]):
        book[int(side)][int(price)] = int(size)
    messages = 0
    for side, price, size, flags in zip(deltas["side"], deltas["price"], deltas["size"], deltas["flags"]):
        if size == 0:
            book[int(side)].pop(int(price), None)
        else:
            book[int(side)][int(price)] = int(size)
        if flags & 1:
            messages += 1
            assert max(book[1]) < min(book[-1])
    assert messages >= 40


def test_unrecognised_file_is_named(tmp_path):
    odd = tmp_path / "mystery.bin"
    odd.write_bytes(b"\x00\x01")
    with pytest.raises(UsageError, match="mystery.bin: format not recognised"):
        ingest([str(odd)], Store(tmp_path / "s"))


def test_polymarket_top_of_book_becomes_exact_bbo_per_market(tmp_path):
    """A real subset of the Polymarket Order Book Dataset (CC BY 4.0, D. Gopalakrishnan)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    source = SHARED / "market" / "polymarket-top-of-book"
    quotes = ds.dataset(source / "quotes", partitioning="hive")
    slugs = ["aachc-fifa-wc-2026-07-19-esp-gs-fwcalegri"]
    subset = quotes.to_table(filter=pc.field("slug").isin(slugs) & (pc.field("dt") == "2026-07-10")).drop_columns(["dt"])
    folder = tmp_path / "polymarket-top-of-book"
    (folder / "quotes" / "dt=2026-07-10").mkdir(parents=True)
    pq.write_table(subset, folder / "quotes" / "dt=2026-07-10" / "data_0.parquet")
    pq.write_table(pq.read_table(source / "markets.parquet").slice(0, 5), folder / "markets.parquet")
    store = Store(tmp_path / "store")
    summary = ingest([str(folder)], store)
    assert summary.rows == {"bbo": subset.num_rows}
    assert any("markets.parquet: not market data" in s for s in summary.skipped)
    tbl, _ = store.read("bbo", venue="polymarket", symbol=slugs[0])
    first = tbl.slice(0, 1).to_pylist()[0]
    assert first["bid_price"] == Decimal("0.02") and first["ask_price"] == Decimal("0.51")
    assert first["bid_size"] is None and first["ts_recv"] == first["ts_exchange"]


def test_lean_minute_bars_and_quote_closes(tmp_path):
    store = Store(tmp_path)
    folder = SHARED / "market" / "cross-venue-minute-2022-12-13"
    summary = ingest([str(folder)], store)
    assert summary.rows["bars"] > 0 and summary.rows["bbo"] > 0
    bars = store.arrays("bars", venue="bybit", symbol="BTC-USDT")
    # first trade bar of the file: 0,17208.86,17212.99,17205,17205,1.549151 (00:00 UTC 2022-12-13)
    assert bars["ts_exchange"][0] == 1670889600 * SCALE and bars["ts_recv"][0] - bars["ts_exchange"][0] == 60 * SCALE
    assert (bars["open"][0], bars["close"][0], bars["volume"][0]) == (int(Decimal("17208.86") * SCALE), 17205 * SCALE,
                                                                        int(Decimal("1.549151") * SCALE))
    quotes = store.arrays("bbo", venue="bybit", symbol="BTC-USDT")
    # first quote bar closes at 00:01 with bid 17205.01 (size 0.00531) and ask 17206.77 (0.00416)
    assert quotes["ts_recv"][0] == (1670889600 + 60) * SCALE
    assert (quotes["bid_price"][0], quotes["ask_price"][0]) == (int(Decimal("17205.01") * SCALE), int(Decimal("17206.77") * SCALE))
    venues = {(c.venue, c.symbol) for c in store.coverage()}
    assert {("binance", "BTC-USD-PERP"), ("bybit", "BTC-USDT-PERP"), ("bybit", "BTC-USD-PERP")} <= venues


def test_nautilus_binance_samples(tmp_path):
    store = Store(tmp_path)
    summary = ingest([str(SHARED / "market" / "binance")], store)
    assert summary.gaps == [] and summary.rows["book_snapshots"] == 100 and summary.rows["book_deltas"] == 100
    trades = store.arrays("trades", venue="binance", symbol="BTC-USDT")
    # the first trade: 39432.48 x 0.000263, buyer_maker True -> a sell
    assert (trades["price"][0], trades["size"][0], trades["side"][0]) == (int(Decimal("39432.48") * SCALE), 263_000, -1)
    assert any("instrument" in p for p in summary.files) is False      # the instrument .txt files are not data


def test_bitfinex_l3_is_skipped_with_a_reason(tmp_path):
    summary = ingest([str(SHARED / "market" / "bitfinex-l3")], Store(tmp_path))
    assert summary.rows == {} and any("without timestamps" in s for s in summary.skipped)


def test_every_recorded_file_has_a_converter_or_a_stated_reason():
    from sequence_core.ingest import IngestSummary, expand, plan

    files = expand([str(SHARED / "market")])
    summary = IngestSummary()
    groups, singles = plan(files, summary)              # raises on anything unrecognised
    handled = {f for g in groups for f in g.files} | {f for _, f in singles}
    reasons = " ".join(summary.skipped)
    for f in files:
        assert f in handled or str(f) in reasons or f.suffix in (".md", ".txt") or f.name in ("LICENSE", "NOTICE"), f
