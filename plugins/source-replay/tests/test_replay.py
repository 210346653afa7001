"""The replay source on the real Binance USD-M capture: the book it rebuilds at any moment
matches Binance's own recorded bookTicker at that moment's update id."""

from decimal import Decimal

import pytest

from conftest import require_shared_data
from sequence_core.ingest import ingest
from sequence_core.market import Instrument
from sequence_core.store import Store
from sequence_source_replay.source import ReplaySource, parse_time

PERP = Instrument("binance", "BTC-USDT-PERP", "BTCUSDT_PERP", "perp", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    capture = require_shared_data() / "market" / "binance-multi-2024-08-08" / "usdm_btcusdt_20240808.gz"
    path = tmp_path_factory.mktemp("store")
    ingest([str(capture)], Store(path))
    return path


def test_book_at_a_moment_matches_the_recorded_ticker(root):
    store = Store(root)
    bbo = store.arrays("bbo", symbol="BTC-USDT-PERP")
    deltas = store.arrays("book_deltas", symbol="BTC-USDT-PERP")
    ends = deltas["flags"] & 1 == 1
    ids = dict(zip(deltas["seq"][ends].tolist(), deltas["ts_recv"][ends].tolist()))
    rows = {int(u): k for k, u in enumerate(bbo["seq"]) if int(u) in ids}
    checked = 0
    for u in sorted(rows)[:: max(1, len(rows) // 25)]:
        k, at = rows[u], int(ids[u])
        book = ReplaySource(at_ns=at, root=str(root)).book(PERP, at, depth=5)
        assert book.bids[0].price == Decimal(int(bbo["bid_price"][k])).scaleb(-9)
        assert book.asks[0].price == Decimal(int(bbo["ask_price"][k])).scaleb(-9)
        assert book.bids[0].size == Decimal(int(bbo["bid_size"][k])).scaleb(-9)
        assert all(a.price > b.price for a, b in zip(book.bids, book.bids[1:]))
        checked += 1
    assert checked >= 10


def test_default_clock_is_the_latest_recorded_moment_and_label_says_so(root):
    src = ReplaySource(root=str(root))
    assert src.now_ns() > parse_time("2024-08-08T23:59:00Z")
    assert src.label().startswith("replay (2024-08-0")


def test_no_data_for_an_instrument_is_left_out(root):
    other = Instrument("kraken", "BTC-USD", "XBT/USD", "crypto", "BTC", "USD", Decimal("0.1"), Decimal("0.0001"))
    assert ReplaySource(root=str(root)).books([other]) == []


def test_bad_time_setting():
    from sequence_core.errors import UsageError

    with pytest.raises(UsageError, match="ISO time"):
        ReplaySource().configure({"at": "yesterday"})
