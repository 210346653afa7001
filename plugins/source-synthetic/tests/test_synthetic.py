import math
import statistics
from decimal import Decimal

from sequence_core.market import Instrument
from sequence_source_synthetic.source import SyntheticSource, value_noise

T0 = 1_764_000_000_000_000_000
BINANCE = Instrument("binance", "BTC-USDT", "BTCUSDT", "crypto", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
KRAKEN = Instrument("kraken", "BTC-USD", "XBT/USD", "crypto", "BTC", "USD", Decimal("0.1"), Decimal("0.00000001"))
ETH = Instrument("binance", "ETH-USDT", "ETHUSDT", "crypto", "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"))


def test_deterministic_for_seed_and_time():
    a, b = SyntheticSource(7).book(BINANCE, T0), SyntheticSource(7).book(BINANCE, T0)
    assert a == b
    assert SyntheticSource(8).book(BINANCE, T0) != a


def test_a_long_lived_source_answers_what_a_fresh_one_does():
    """Its remembered draws (one source serves the engine for days) never change a value."""
    import random

    warm, rnd = SyntheticSource(7), random.Random(3)
    for _ in range(400):
        at = T0 + rnd.randrange(0, 3 * 86_400 * 10**9)
        inst, depth = rnd.choice([BINANCE, KRAKEN, ETH]), rnd.choice([1, 7, 50])
        assert warm.book(inst, at, depth) == SyntheticSource(7).book(inst, at, depth)


def test_books_are_well_formed_and_on_tick():
    book = SyntheticSource().book(KRAKEN, T0, depth=20)
    assert len(book.bids) == len(book.asks) == 20
    assert book.bids[0].price < book.asks[0].price
    assert all(x.price > y.price for x, y in zip(book.bids, book.bids[1:]))
    assert all(x.price < y.price for x, y in zip(book.asks, book.asks[1:]))
    assert all((lvl.price / KRAKEN.tick_size) % 1 == 0 for lvl in book.bids + book.asks)
    assert all(lvl.size > 0 and (lvl.size / KRAKEN.lot_size) % 1 == 0 for lvl in book.bids + book.asks)


def test_binance_spread_matches_the_recorded_sample():
    """Recorded Binance spot BTCUSDT: median spread one 0.01 tick, median top size ~1 BTC."""
    src = SyntheticSource()
    books = [src.book(BINANCE, T0 + k * 7_000_000_000) for k in range(300)]
    spreads = [(b.asks[0].price - b.bids[0].price) for b in books]
    assert statistics.median(spreads) == Decimal("0.01")
    top = statistics.median(float(b.bids[0].size) for b in books)
    assert 0.3 < top < 3.0


def test_daily_volatility_is_as_configured():
    src = SyntheticSource()
    rets = [src.log_price("BTC", T0 / 1e9 + k * 86_400 * 3.7 + 86_400) - src.log_price("BTC", T0 / 1e9 + k * 86_400 * 3.7)
            for k in range(400)]
    assert 0.015 < statistics.pstdev(rets) < 0.04          # configured 2.5 %/day


def test_assets_are_correlated():
    src = SyntheticSource()
    btc = [src.log_price("BTC", T0 / 1e9 + k * 600 + 600) - src.log_price("BTC", T0 / 1e9 + k * 600) for k in range(500)]
    eth = [src.log_price("ETH", T0 / 1e9 + k * 600 + 600) - src.log_price("ETH", T0 / 1e9 + k * 600) for k in range(500)]
    assert statistics.correlation(btc, eth) > 0.4


def test_venues_agree_on_price_within_a_few_bps():
    src = SyntheticSource()
    for k in range(50):
        t = T0 + k * 13_000_000_000
        a, b = src.book(BINANCE, t), src.book(KRAKEN, t)
        mid_a = (a.bids[0].price + a.asks[0].price) / 2
        mid_b = (b.bids[0].price + b.asks[0].price) / 2
        assert abs(mid_a - mid_b) / mid_a < Decimal("0.0005")


def test_update_clock_and_age():
    src = SyntheticSource()
    for k in range(200):
        at = T0 + k * 37_000_000
        ts = src.last_update_ns("binance", at)
        assert ts <= at - 20_000_000 and at - ts < 20_000_000 + 2 * 100_000_000


def test_noise_is_continuous():
    assert abs(value_noise(b"k", 1000.0) - value_noise(b"k", 1000.001)) < 0.01
    assert math.isfinite(value_noise(b"k", 1e9))


def test_trade_flow_matches_the_recorded_binance_sample():
    """Binance spot BTCUSDT 2024-08-08: ~28 trades/s; size median 0.0006 BTC, mean 0.022 BTC."""
    src = SyntheticSource()
    trades = src.trades(BINANCE, T0, T0 + 60 * 1_000_000_000)
    rate = len(trades) / 60
    assert 20 < rate < 36
    sizes = sorted(float(t.size) for t in trades)
    median = statistics.median(sizes)
    assert 0.0002 < median < 0.0015 and statistics.mean(sizes) > 5 * median      # heavy right tail
    assert {t.side for t in trades} == {1, -1}
    for t in trades[:50]:
        book = src.book(BINANCE, t.ts_ns, depth=1)
        assert t.price == (book.best_ask.price if t.side == 1 else book.best_bid.price)   # prints at the touch


def test_trades_are_the_same_whatever_the_window():
    src = SyntheticSource()
    whole = src.trades(BINANCE, T0, T0 + 4_000_000_000)
    parts = src.trades(BINANCE, T0, T0 + 1_500_000_000) + src.trades(BINANCE, T0 + 1_500_000_000, T0 + 4_000_000_000)
    assert whole == parts and [t.ts_ns for t in whole] == sorted(t.ts_ns for t in whole)


def test_the_venue_clock_answers_the_same_whatever_was_asked_before():
    """last_update_ns remembers the slot it last answered; any order of questions gets the
    answers a fresh source gives."""
    import random

    from sequence_source_synthetic.source import SyntheticSource

    warm = SyntheticSource()
    rnd = random.Random(7)
    base = 1_750_000_000 * 10**9
    times = sorted(base + rnd.randrange(0, 2 * 10**9) for _ in range(400)) + [base + rnd.randrange(0, 2 * 10**9) for _ in range(400)]
    for venue in ("binance", "kraken"):
        for t in times:
            assert warm.last_update_ns(venue, t) == SyntheticSource().last_update_ns(venue, t)
            assert warm.last_update_ns(venue, t) <= t


def test_a_book_is_the_same_whatever_depth_was_asked_before():
    """Only the levels asked for are built: a shallow read, then a deeper one (and the other
    way round, in a fresh source) at the same instant give the same levels."""
    src, fresh = SyntheticSource(7), SyntheticSource(7)
    top_first = (src.book(BINANCE, T0, 1), src.book(BINANCE, T0, 20), src.book(BINANCE, T0, 5))
    deep_first = (fresh.book(BINANCE, T0, 20), fresh.book(BINANCE, T0, 1))
    assert len(top_first[1].bids) == 20 and len(top_first[0].bids) == 1
    assert top_first[1] == deep_first[0]
    assert top_first[0] == deep_first[1] and top_first[0].bids == top_first[1].bids[:1]
    assert top_first[2].asks == top_first[1].asks[:5]
