"""Recorded data has gaps: a gap is no data, never a flat market; amounts of data are the
seconds actually covered; windows (--days, --start/--end) bound every field."""

from __future__ import annotations

import json

import numpy as np
import pytest
from simtools import T0, make_market

S = 1_000_000_000
DAY_NS = 86_400 * S
SCALE = 10**9


def _bbo(store, venue, symbol, times, spreads_bps, part="q", mid=50_000.0):
    times = np.asarray(times, np.int64)
    half = mid * np.asarray(spreads_bps, float) / 2e4
    n = len(times)
    store.write("bbo", venue, symbol, part, {
        "ts_exchange": times, "ts_recv": times, "seq": np.arange(n),
        "bid_price": ((mid - half) * SCALE).astype(np.int64), "bid_size": np.full(n, SCALE),
        "ask_price": ((mid + half) * SCALE).astype(np.int64), "ask_size": np.full(n, SCALE)})


def _trades(store, venue, symbol, times, part="t", price=50_000.0):
    n = len(times)
    store.write("trades", venue, symbol, part, {
        "ts_exchange": times, "ts_recv": times, "trade_id": [str(i) for i in range(n)],
        "side": [1 if i % 2 else -1 for i in range(n)], "price": [int(price * SCALE)] * n, "size": [SCALE // 10] * n})


@pytest.fixture
def store(home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    return Store(ensure_home() / "data")


def test_profile_leaves_gaps_out_instead_of_carrying_the_last_value(sequence, store):
    # two ~1-minute stretches of market two days apart
    make_market(store, steps=60_000, part="a")
    make_market(store, steps=60_000, t0=T0 + 2 * DAY_NS, part="b")
    both = json.loads(sequence("research", "profile", "BTC-USD", "--days", "30", "--output", "json").stdout)["body"]
    one = json.loads(sequence("research", "profile", "BTC-USD", "--days", "1", "--output", "json").stdout)["body"]
    assert both["covered_s"] < 200                                    # seconds recorded, not the 2-day span
    # 1 s volatility is the market's, not diluted by two days of a flat carried price
    assert both["volatility_bps"]["1s"] == pytest.approx(one["volatility_bps"]["1s"], rel=0.25)
    assert "not classified" in both["regime_detail"] and both["regime"].split(",")[0] == "unclassified"
    # ADV: traded notional per UTC day with trades (2 here), not scaled from the first-to-last span
    assert both["trade_days"] == 2 and both["adv_usd"] == pytest.approx(both["notional"] / 2, rel=1e-6)
    assert one["trade_days"] == 1 and one["adv_usd"] == pytest.approx(one["notional"], rel=1e-6)


def test_a_stretch_of_quotes_is_not_held_flat_through_hours_without_them(store):
    from sequence_core.research.profile import profile

    # 200 s of quotes, 1 bps and 3 bps in alternate seconds, then 2 hours of trades without quotes
    times = T0 + np.arange(2_000) * (S // 10)
    _bbo(store, "binance", "BTC-USDT", times, [1.0 if i // 10 % 2 else 3.0 for i in range(2_000)])
    _trades(store, "binance", "BTC-USDT", T0 + np.arange(720) * 10 * S)
    p = profile(store, "BTC-USDT")
    assert p.spread_bps["p25"] == pytest.approx(1.0, abs=0.01) and p.spread_bps["p75"] == pytest.approx(3.0, abs=0.01)
    assert 200 <= p.covered_s <= 210                                  # the quotes' 200 s and at most 5 s of staleness


def test_a_window_far_longer_than_the_data_costs_what_the_data_covers(store):
    from sequence_core.research.profile import profile

    make_market(store, steps=20_000, t0=T0 - 3000 * DAY_NS, part="old")
    make_market(store, steps=20_000, part="new")
    p = profile(store, "BTC-USD", days=3100)                          # ~8 years of calendar, ~40 s of data
    assert p.covered_s < 200 and p.volatility_bps["1s"] is not None     # at most a minute carried per stretch


def test_scan_takes_no_sharpe_from_minutes_spread_over_days(store):
    from sequence_core.research.scan import StoreScanner

    for d in range(3):                                                 # three ~1-minute stretches, a day apart
        make_market(store, steps=60_000, t0=T0 + d * DAY_NS, part=f"p{d}")
    row = StoreScanner().scan(store, 7)["BTC-USD"]
    assert row["sharpe"] is None and row["trade_days"] == 3 and isinstance(row["trades"], int)


def test_feature_eval_counts_only_pairs_where_both_are_defined(sequence, store):
    make_market(store, steps=60_000, part="a")                        # 22:13 and 23:13 the same day: an hour apart
    make_market(store, steps=60_000, t0=T0 + 3600 * S, part="b")
    art = json.loads(sequence("research", "feature-eval", "--feature", "ofi_1s", "--label", "fwd_ret_10s",
                              "--start", "2023-11-14", "--end", "2023-11-14", "--folds", "2", "--output", "json").stdout)
    pairs = sum(f["n"] for f in art["body"][0]["folds"])
    assert 50 < pairs < 300                   # ~2 × 63 s recorded (+ a trade price carried ≤ 60 s), not the hour
    too_many = sequence("research", "feature-eval", "--feature", "ofi_1s", "--label", "fwd_ret_10s",
                        "--start", "2023-11-14", "--end", "2023-11-14", "--folds", "1000")
    assert too_many.returncode == 1 and "--folds 1000" in too_many.stderr and "too few" in too_many.stderr


def test_feature_eval_takes_the_busiest_venue_within_the_window(sequence, store):
    make_market(store, steps=60_000, venue="okx", t0=T0 - 10 * DAY_NS, part="old")    # busiest of all time
    make_market(store, steps=20_000, venue="kraken", part="new")                      # the only one on the 14th
    proc = sequence("research", "feature-eval", "--feature", "ofi_1s", "--label", "fwd_ret_1s",
                    "--start", "2023-11-14", "--end", "2023-11-14", "--folds", "2", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    assert sum(f["n"] for f in json.loads(proc.stdout)["body"][0]["folds"]) > 0


def test_scan_venues_and_spread_are_of_the_trailing_days(store):
    from sequence_core.research.scan import StoreScanner

    for d in range(3):                                     # okx: three old days (more files), 10 bps quotes
        make_market(store, steps=2_000, venue="okx", symbol="BTC-USDT", t0=T0 + d * DAY_NS, part=f"o{d}")
        _bbo(store, "okx", "BTC-USDT", T0 + d * DAY_NS + np.arange(100) * S, [10.0] * 100)
    recent = T0 + 10 * DAY_NS                               # binance: the last day only, 2 bps; 50 bps before it
    make_market(store, steps=3_000, venue="binance", symbol="BTC-USDT", t0=recent, part="b")
    _bbo(store, "binance", "BTC-USDT", recent + np.arange(100) * S, [2.0] * 100, part="now")
    _bbo(store, "binance", "BTC-USDT", T0 + np.arange(100) * S, [50.0] * 100, part="then")
    row = StoreScanner().scan(store, 1)["BTC-USDT"]
    assert row["venues"] == ["binance"] and row["spread_bps"] == pytest.approx(2.0, abs=0.01)
    assert StoreScanner().scan(store, 30)["BTC-USDT"]["venues"] == ["binance", "okx"]


def test_scan_refuses_days_that_are_not_positive(sequence, store):
    make_market(store, steps=500)
    for days in ("0", "-1"):
        proc = sequence("research", "scan", "--days", days)
        assert proc.returncode == 1 and f"--days {days} must be positive" in proc.stderr, proc.stderr


def test_feature_eval_on_too_little_data_does_not_advise_zero_folds(sequence, store):
    make_market(store, steps=40, part="tiny")                          # a few seconds of data
    r = sequence("research", "feature-eval", "--feature", "ofi_1s", "--label", "fwd_ret_10s",
                 "--start", "2023-11-14", "--end", "2023-11-14", "--folds", "5")
    assert r.returncode == 1 and "use a longer window" in r.stderr and "at most 0 folds" not in r.stderr, r.stderr


def test_feature_eval_refuses_folds_that_a_gap_leaves_empty(sequence, store):
    make_market(store, steps=60_000, part="a")                          # a minute on the 14th
    make_market(store, steps=60_000, t0=T0 + 2 * DAY_NS, part="b")     # and one on the 16th
    args = ("research", "feature-eval", "--feature", "ofi_1s", "--label", "fwd_ret_1s",
            "--start", "2023-11-14", "--end", "2023-11-16")
    r = sequence(*args, "--folds", "3")                                 # the middle fold falls in the gap
    assert r.returncode == 1, r.stdout
    assert "--folds 3: fold 2 (2023-11-15" in r.stderr and "has 0 seconds with a defined mid" in r.stderr, r.stderr
    ok = sequence(*args, "--folds", "2", "--output", "json")             # one stretch in each fold
    assert ok.returncode == 0, ok.stderr
    assert all(f["n"] >= 10 for f in json.loads(ok.stdout)["body"][0]["folds"])


@pytest.mark.parametrize("flag, value", [("--start", "2023-11-14T12:00"), ("--end", "2023-11-14 23:00"),
                                         ("--start", "20231114")])
def test_feature_eval_takes_only_dates(sequence, store, flag, value):
    make_market(store, steps=60_000)
    dates = {"--start": "2023-11-14", "--end": "2023-11-14", flag: value}
    r = sequence("research", "feature-eval", "--feature", "ofi_1s", "--label", "fwd_ret_1s",
                 "--start", dates["--start"], "--end", dates["--end"], "--folds", "2")
    assert r.returncode == 1 and f"{flag} '{value}' is not a date (YYYY-MM-DD)" in r.stderr, r.stderr


def test_profile_keeps_the_significant_digits_of_tiny_spreads(sequence, store):
    from sequence_core.research.profile import profile, sig

    times = T0 + np.arange(2_000) * (S // 10)                            # 0.0016198 and 0.0016221 bps in turn
    _bbo(store, "binance", "BTC-USDT", times, [0.0016198 if i // 10 % 2 else 0.0016221 for i in range(2_000)])
    _trades(store, "binance", "BTC-USDT", T0 + np.arange(200) * S)
    p = profile(store, "BTC-USDT")
    assert p.spread_bps["p25"] == pytest.approx(0.0016198, rel=1e-4) and p.spread_bps["p75"] == pytest.approx(0.0016221, rel=1e-4)
    assert p.spread_bps["p25"] != p.spread_bps["p75"]
    text = sequence("research", "profile", "BTC-USDT").stdout
    assert "p25 0.001620," in text and "p75 0.001622)" in text, text
    assert sig(123_456_789.123) == 123_457_000 and sig(0.00012345678) == 0.000123457


def test_a_rolling_volatility_over_an_undefined_return_is_undefined():
    """vol_60s read an undefined return (a gap) as 0: a gap looked like a flat market."""
    import numpy as np

    from sequence_core.research.features import _rolling_std

    out = _rolling_std(np.array([np.nan, 1, 2, 3, 4, 5.0, np.nan, 1, 1, 1]), 3)
    assert np.isnan(out[:3]).all() and np.allclose(out[3:6], np.std([1, 2, 3]))
    assert np.isnan(out[6:9]).all() and out[9] == 0.0        # defined again once the gap left the window
