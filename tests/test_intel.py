"""intel: each metric on a hand-computed example, and a snapshot of the real Binance capture."""

import numpy as np
import pytest

from conftest import shared_data
from sequence_core.intel import percentile_of, regime, vpin


def test_vpin_hand_computed():
    # 4 trades of 1: buy, buy, sell, buy -> total 4; with 2 buckets of 2:
    # bucket 1: buy+buy -> |2-0|/2 = 1; bucket 2: sell+buy -> 0 -> VPIN 0.5
    value, v, used = vpin([1, 1, 1, 1], [1, 1, -1, 1], buckets=2)
    assert (value, v, used) == (0.5, 2.0, 2)


def test_vpin_splits_a_trade_across_buckets():
    # one buy of 3 then a sell of 1, 2 buckets of 2: bucket 1 = 2 buy -> 1; bucket 2 = 1 buy + 1 sell -> 0
    assert vpin([3, 1], [1, -1], buckets=2)[0] == 0.5


def test_one_sided_flow_is_maximally_toxic():
    assert vpin([1] * 100, [1] * 100, buckets=10)[0] == 1.0


def test_spread_percentile_and_regime():
    sample = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert percentile_of(2, sample) == 15.0 and regime(15.0) == "tight"      # mid-rank: (1 + 2) / 2 / 10
    assert percentile_of(5, sample) == 45.0 and regime(45.0) == "normal"
    assert percentile_of(9, sample) == 85.0 and regime(85.0) == "wide"
    assert percentile_of(3, [3, 3, 3, 3]) == 50.0                           # all tied: the middle
    assert regime(None) == "unknown"


def test_snapshot_of_the_real_binance_capture(tmp_path):
    shared = shared_data()
    if shared is None:
        pytest.skip("recorded data (shared/data) not found")
    from sequence_core.ingest import ingest
    from sequence_core.intel import snapshot
    from sequence_core.market import Instrument
    from sequence_core.store import Store
    from decimal import Decimal

    store = Store(tmp_path)
    capture = shared / "market" / "binance-multi-2024-08-08"
    ingest([str(capture / "spot_btcusdt_20240808.gz"), str(capture / "usdm_btcusdt_20240808.gz")], store)
    instruments = [Instrument("binance", "BTC-USDT", "BTCUSDT", "crypto", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001")),
                   Instrument("binance", "BTC-USDT-PERP", "BTCUSDT_PERP", "perp", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"))]
    intel = snapshot("BTC-USDT", store, instruments)
    spot = intel.venues[0]
    assert spot.book == "BTC-USDT" and spot.share == 1.0 and spot.trades > 5000
    # recomputed from the stored rows: notional and quote-to-trade
    t = store.arrays("trades", symbol="BTC-USDT")
    assert spot.notional == pytest.approx(float(np.sum(t["price"] / 1e9 * t["size"] / 1e9)))
    assert spot.quote_to_trade == pytest.approx(spot.quote_updates / spot.trades)
    assert intel.spread.regime in ("tight", "normal", "wide") and intel.spread.p50_bps > 0
    assert 0 <= intel.toxicity.value <= 1 and intel.toxicity.buckets == 50


def test_intel_cli_on_ingested_data(sequence):
    shared = shared_data()
    if shared is None:
        pytest.skip("recorded data (shared/data) not found")
    import json

    capture = shared / "market" / "binance-multi-2024-08-08" / "usdm_btcusdt_20240808.gz"
    assert sequence("data", "ingest", str(capture)).returncode == 0
    r = sequence("intel", "BTC-USDT-PERP", "--window", "5m", "--output", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["venues"][0]["venue"] == "binance" and data["venues"][0]["share"] == 1.0
    assert (data["window_end_ns"] - data["window_start_ns"]) == 300 * 10**9
    assert data["spread"]["regime"] in ("tight", "normal", "wide")
    text = sequence("intel", "BTC-USDT-PERP")
    assert "spread regime:" in text.stdout and "VPIN" in text.stdout
    missing = sequence("intel", "SOL-USD")
    assert missing.returncode == 1 and "no recorded trades or quotes for 'SOL-USD'" in missing.stderr
    bad = sequence("intel", "BTC-USDT-PERP", "--window", "a while")
    assert bad.returncode == 1 and "duration" in bad.stderr


def test_a_one_tick_spread_all_window_is_normal_even_at_the_days_low():
    """Ranked in bps, a spread of one tick grows as the price falls: a book quoted one tick
    wide all window read "wide" at its lowest price. In ticks it is one tick every time."""
    from decimal import Decimal

    from sequence_core.intel import _spread_regime
    from sequence_core.market import Instrument

    inst = Instrument("binance", "BTC-USDT", "BTCUSDT", "crypto", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
    bids = np.linspace(61_850, 61_600, 1000)                     # falling all window, one tick wide
    bbo = {"bid_price": (bids * 1e9).astype(np.int64), "ask_price": ((bids + 0.01) * 1e9).astype(np.int64),
           "ts_recv": np.arange(1000, dtype=np.int64)}
    wider = dict(bbo, ask_price=bbo["ask_price"] + np.where(np.arange(1000) % 10 == 0, 10**7, 0))   # every 10th: two ticks
    books = {("binance", "BTC-USDT"): inst}
    same = _spread_regime({("binance", "BTC-USDT"): bbo}, lambda arr: slice(None), books, None)
    assert (same.regime, same.percentile) == ("normal", 50.0)
    mostly = _spread_regime({("binance", "BTC-USDT"): wider}, lambda arr: slice(None), books, None)
    assert mostly.regime == "normal" and mostly.percentile == 45.0    # 90% at one tick: the middle of those
    last_wide = dict(wider, ask_price=np.append(wider["ask_price"][:-1], wider["ask_price"][-1] + 10**7))
    assert _spread_regime({("binance", "BTC-USDT"): last_wide}, lambda arr: slice(None), books, None).regime == "wide"


def test_intel_refuses_a_bad_window_or_an_unknown_source_by_their_flags(sequence):
    bad = sequence("intel", "BTC-USDT", "--window", "abc")
    assert bad.returncode == 1 and "--window must be a duration" in bad.stderr and "--horizon" not in bad.stderr
    huge = sequence("intel", "BTC-USDT", "--window", "99999999d")            # was an internal error (no such date)
    assert huge.returncode == 1 and "--window 99999999d is longer than 3,650 days" in huge.stderr, huge.stderr
    nope = sequence("intel", "BTC-USDT", "--source", "nope")
    assert nope.returncode == 1 and "unknown market-data source 'nope'" in nope.stderr


def test_a_venue_with_nothing_in_the_window_gets_no_row(tmp_path):
    """A venue recorded only long before the window was listed with 0 trades and 0% share."""
    from decimal import Decimal

    from sequence_core.intel import snapshot
    from sequence_core.market import Instrument
    from sequence_core.store import Store

    store = Store(tmp_path)
    day = 86_400 * 10**9
    for venue, t0 in (("binance", 1_700_000_000 * 10**9), ("bybit", 1_700_000_000 * 10**9 - 30 * day)):
        times = np.array([t0, t0 + 10**9])
        store.write("trades", venue, "BTC-USDT", "t", {"ts_exchange": times, "ts_recv": times, "trade_id": ["1", "2"],
                                                       "side": np.array([1, -1], np.int8), "price": np.full(2, 50_000 * 10**9),
                                                       "size": np.full(2, 10**8)})
    instruments = [Instrument(v, "BTC-USDT", "BTCUSDT", "crypto", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
                   for v in ("binance", "bybit")]
    assert [v.venue for v in snapshot("BTC-USDT", store, instruments).venues] == ["binance"]


def test_a_recorded_book_no_plugin_lists_is_part_of_the_market(tmp_path):
    """Binance's COIN-M BTC-USD-PERP is ingested but no plugin lists it: intel left it out (and
    an inverse perp's notional is contracts x 100 USD, not price x contracts)."""
    from sequence_core.intel import snapshot
    from sequence_core.market import perp
    from sequence_core.store import Store

    store = Store(tmp_path / "store")
    t0, fp = 1_700_000_000 * 10**9, 10**9
    for venue, book, size in (("binance", "BTC-USD-PERP", 3), ("okx", "BTC-USDT-PERP", 1)):
        store.write("trades", venue, book, "t", {
            "ts_exchange": np.array([t0, t0 + fp]), "ts_recv": np.array([t0, t0 + fp]), "trade_id": ["a", "b"],
            "side": np.array([1, -1], np.int8), "price": np.array([50_000 * fp] * 2), "size": np.array([size * fp] * 2)})
    listed = [perp("okx", "BTC", "USDT", "BTC-USDT-SWAP", "0.1", "0.01")]
    rows = {(v.venue, v.book): v for v in snapshot("BTC-USD-PERP", store, listed).venues}
    assert rows[("binance", "BTC-USD-PERP")].notional == 600.0             # 6 contracts of 100 USD
    assert rows[("okx", "BTC-USDT-PERP")].notional == 100_000.0
