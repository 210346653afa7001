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
    from sequence_core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"config.toml: \[market_data.replay\] at: expected an ISO time"):
        ReplaySource().configure({"at": "yesterday"})


def test_a_replay_time_after_the_recorded_books_is_an_error_naming_their_range(root):
    """A day after the capture: no day-old book served as current, an error saying what is recorded."""
    from sequence_core.errors import ConfigError

    last = ReplaySource(root=str(root)).now_ns()
    with pytest.raises(ConfigError, match=r"config.toml: \[market_data.replay\] at: 2024-08-09T23:5.* is after the last "
                                          r"recorded book \(the store .* has books from 2024-08-08T23:5.* to 2024-08-08T23:59"):
        ReplaySource(at_ns=last + 86_400 * 10**9, root=str(root)).books([PERP])


def test_a_replay_time_before_the_recorded_books_is_an_error(root):
    from sequence_core.errors import ConfigError

    src = ReplaySource().configure({"at": "2024-08-08T12:00:00Z", "root": str(root)})
    with pytest.raises(ConfigError, match="2024-08-08T12:00:00.000000Z is before the first recorded book"):
        src.label()


def test_a_book_past_the_end_of_its_own_recording_is_left_out(root):
    """Asked for a moment after this instrument's recording ended, the source has no book for
    it (it used to serve the last one it had as current)."""
    src = ReplaySource(root=str(root))
    end = src.recorded_until(PERP)
    assert [b.symbol for b in src.books([PERP], end)] == ["BTC-USDT-PERP"]
    assert src.books([PERP], end + 60 * 10**9) == []


@pytest.mark.parametrize("settings,message", [
    ({"speed": "fast"}, r"\[market_data.replay\] speed: \"fast\" is not a number above 0"),
    ({"anchor_ns": 1.5}, r"\[market_data.replay\] anchor_ns: 1.5 is not a whole number"),
    ({"at": True}, r"\[market_data.replay\] at: expected an ISO time"),
    ({"sped": 2}, r"\[market_data.replay\] sped: unknown key; expected at, speed, anchor_ns, root"),
])
def test_bad_replay_settings_name_the_file_and_key(settings, message):
    from sequence_core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"config.toml: " + message):
        ReplaySource().configure(settings)


def test_a_book_with_a_gap_in_its_recording_is_left_out_inside_the_gap(tmp_path):
    """Two captures a day apart: between them the last recorded book is a day old, and was
    served as current (a sandbox order then filled at a year-old price)."""
    import numpy as np

    day, t0 = 86_400 * 10**9, 1_700_000_000 * 10**9
    times = np.array([t0, t0 + 10**9, t0 + day, t0 + day + 10**9])
    n = len(times)
    px = lambda v: np.full(n, int(v * 10**9))                           # noqa: E731
    Store(tmp_path).write("bbo", "binance", "BTC-USDT-PERP", "t", {
        "ts_exchange": times, "ts_recv": times, "seq": np.arange(n), "bid_price": px(100), "bid_size": px(1),
        "ask_price": px(100.1), "ask_size": px(1)})
    src = ReplaySource(root=str(tmp_path))
    assert [b.symbol for b in src.books([PERP], t0 + 61 * 10**9)] == ["BTC-USDT-PERP"]     # a minute old: minute quotes
    assert src.books([PERP], t0 + day // 2) == []                                           # half a day old: unknown
    assert [b.symbol for b in src.books([PERP], t0 + day + 10**9)] == ["BTC-USDT-PERP"]
