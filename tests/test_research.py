"""`sequence research coverage`: days present and missing, density, gaps, last ingest."""

from __future__ import annotations

import json

import pytest
from simtools import T0, make_market

DAY_NS = 86_400 * 1_000_000_000


def test_coverage_finds_missing_days_and_silences(sequence, home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=2_000, part="a")                                  # 2023-11-14, ~2 s of data
    make_market(store, steps=2_000, t0=T0 + 600 * 1_000_000_000, part="b")      # same day, 10 min later
    make_market(store, steps=2_000, t0=T0 + 2 * DAY_NS, part="c")              # 2023-11-16: the 15th is missing
    make_market(store, steps=500, symbol="ETH-USD", part="e")
    proc = sequence("research", "coverage", "--symbol", "BTC-USD", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["table"]: r for r in json.loads(proc.stdout)}
    deltas = rows["book_deltas"]
    assert (deltas["first_day"], deltas["last_day"], deltas["days"]) == ("2023-11-14", "2023-11-16", 2)
    assert deltas["missing_days"] == ["2023-11-15"]
    assert deltas["gaps"] == 1 and 590 < deltas["longest_gap_s"] < 600     # the 10-minute silence, not the missing day
    assert deltas["rows_per_day"] == deltas["rows"] / 2
    assert deltas["last_ingest_ns"] > 0 and set(rows) == {"book_deltas", "trades"}
    text = sequence("research", "coverage")
    assert text.returncode == 0
    assert "ETH-USD" in text.stdout and "2023-11-15" in text.stdout and "LAST INGEST" in text.stdout


def test_coverage_of_an_empty_store(sequence):
    proc = sequence("research", "coverage", "--symbol", "NOPE")
    assert proc.returncode == 0 and "No recorded data for NOPE" in proc.stdout


def test_data_coverage_of_an_unknown_symbol_and_ingest_of_an_unknown_file(sequence, home, tmp_path):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"), steps=500)
    nope = sequence("data", "coverage", "--symbol", "NOPE")
    assert nope.returncode == 0 and "No recorded data for NOPE" in nope.stdout and "empty" not in nope.stdout
    junk = tmp_path / "junk.txt"
    junk.write_text("not market data\n")
    named = sequence("data", "ingest", str(junk))                  # asked for by name: never silently skipped
    assert named.returncode == 1 and f"Error: {junk}: format not recognised" in named.stderr, named.stderr
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "README.md").write_text("about the data\n")
    listed = sequence("data", "ingest", str(folder))               # inside a folder: skipped, and said so
    assert listed.returncode == 0 and "skipped: " in listed.stdout and "README.md" in listed.stdout


def test_sqrt_impact_fit_matches_numpy_least_squares():
    import numpy as np

    from sequence_core.research.profile import fit_sqrt_impact

    rng = np.random.default_rng(3)
    q = rng.exponential(2.0, 500)
    adv, sigma = 1_000.0, 300.0
    x = sigma * np.sqrt(q / adv)
    impact = 0.8 * x + rng.normal(0, 2.0, 500)
    y, se, r2 = fit_sqrt_impact(q, adv, sigma, impact)
    ref, res, *_ = np.linalg.lstsq(x[:, None], impact, rcond=None)
    assert y == pytest.approx(float(ref[0]), rel=1e-12)
    assert r2 == pytest.approx(1 - float(res[0]) / float(impact @ impact), rel=1e-9)
    assert se == pytest.approx(np.sqrt(float(res[0]) / 499 / float(x @ x)), rel=1e-9)
    assert 0.7 < y < 0.9


def test_profile_of_a_recorded_book_is_stored_as_an_artifact(sequence, home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"), steps=150_000)    # ~2.6 minutes of market
    proc = sequence("research", "profile", "BTC-USD", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    art = json.loads(proc.stdout)
    p = art["body"]
    assert art["type"] == "profile" and art["subject"] == "BTC-USD@sim" and art["params"] == {"days": 7}
    assert p["trades"] > 1000 and p["venue"] == "sim"
    assert p["trade_notional"]["median"] <= p["trade_notional"]["p90"] <= p["trade_notional"]["p99"]
    assert p["volatility_bps"]["1s"] is not None and p["volatility_bps"]["10s"] >= p["volatility_bps"]["1s"] * 0.5
    assert p["impact"]["model"] == "sqrt" and p["impact"]["buckets"] >= 20 and p["impact"]["r2"] is not None
    assert p["regime"].split(",")[0] in ("calm", "normal", "volatile", "unclassified")
    text = sequence("research", "profile", "BTC-USD")
    for label in ("spread", "volatility", "impact", "regime", art["id"]):
        assert label in text.stdout
    listed = json.loads(sequence("research", "artifacts", "--type", "profile", "--output", "json").stdout)
    assert [a["id"] for a in listed] == [art["id"]]           # same data, same content: one artifact
    shown = json.loads(sequence("research", "artifact", art["id"], "--output", "json").stdout)
    assert shown["body"] == p


@pytest.mark.parametrize("args, message", [
    (["profile", "ETH-USD"], "no recorded trades for ETH-USD"),
    (["profile", "BTC-USD", "--venue", "okx"], "no recorded trades for BTC-USD on okx; recorded on: sim"),
    (["profile", "BTC-USD", "--days", "0"], "--days 0 must be positive"),
    (["artifact", "prof-000"], "unknown research artifact 'prof-000'"),
    (["artifacts", "--type", "poem"], "--type 'poem' is not one of profile, feature-eval, drift"),
])
def test_research_bad_input(sequence, home, args, message):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"), steps=500)
    proc = sequence("research", *args)
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr


def test_spearman_and_ranks_match_scipy():
    import numpy as np
    from scipy import stats

    from sequence_core.research.features import rank, spearman

    rng = np.random.default_rng(5)
    a = rng.normal(size=400)
    b = 0.3 * a + rng.normal(size=400)
    a[::7] = a[0]                                      # ties
    b[::11] = np.round(b[::11], 1)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    assert np.allclose(rank(a), stats.rankdata(a))
    c = b.copy()
    c[:5] = np.nan                                     # NaN pairs are left out
    ok = np.isfinite(c)
    assert spearman(a, c) == pytest.approx(stats.spearmanr(a[ok], c[ok]).statistic, abs=1e-12)


def test_feature_eval_walk_forward(sequence, home):
    import numpy as np

    from sequence_core.home import ensure_home
    from sequence_core.research.features import summarize
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"), steps=150_000)
    proc = sequence("research", "feature-eval", "--feature", "ofi_1s", "--feature", "mom_10s",
                    "--label", "fwd_ret_10s", "--start", "2023-11-14", "--end", "2023-11-14", "--folds", "4",
                    "--output", "json")
    assert proc.returncode == 0, proc.stderr
    art = json.loads(proc.stdout)
    assert art["type"] == "feature-eval" and art["params"]["folds"] == 4
    ev = {(e["feature"], e["label"]): e for e in art["body"]}
    e = ev[("ofi_1s", "fwd_ret_10s")]
    assert len(e["folds"]) == 4 and all(f["n"] > 10 for f in e["folds"])
    ics = [f["ic"] for f in e["folds"]]
    mean, sd, ir, t = summarize(ics)
    assert e["ic_mean"] == pytest.approx(np.mean(ics), abs=1e-6) and e["ic_ir"] == pytest.approx(ir, abs=1e-5)
    assert e["t_stat"] == pytest.approx(np.mean(ics) / (np.std(ics, ddof=1) / 2), abs=1e-4)
    assert set(e["decay"]) == {"1s", "5s", "10s", "30s", "60s"}
    text = sequence("research", "feature-eval", "--feature", "vol_60s", "--label", "fwd_ret_1s",
                    "--start", "2023-11-14", "--end", "2023-11-14")
    assert text.returncode == 0 and "IC MEAN" in text.stdout and "vol_60s" in text.stdout


@pytest.mark.parametrize("args, message", [
    (["--feature", "magic", "--label", "fwd_ret_1s"], "unknown feature 'magic'; features: mom_10s, mom_60s, ofi_1s"),
    (["--feature", "ofi_1s", "--label", "tomorrow"], "unknown label 'tomorrow'; labels: fwd_ret_10s"),
    (["--feature", "ofi_1s"], "give at least one --feature and one --label"),
    (["--feature", "ofi_1s", "--label", "fwd_ret_1s", "--folds", "1"], "--folds 1 must be at least 2"),
])
def test_feature_eval_bad_input(sequence, home, args, message):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"), steps=500)
    proc = sequence("research", "feature-eval", *args, "--start", "2023-11-14", "--end", "2023-11-14")
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr


def test_hourly_volume_profile_is_the_mean_per_recorded_day(tmp_path):
    """Two days of trades on two books: each UTC hour's weight is its notional over the days it
    was recorded; with an hour never recorded there is no curve (it would starve that hour)."""
    import numpy as np

    from sequence_core.research.profile import hourly_volume_profile
    from sequence_core.store import Store

    day, hour, scale = 86_400 * 10**9, 3600 * 10**9, 10**9
    store = Store(tmp_path)

    def trades(venue, symbol, times, prices, sizes):
        n = len(times)
        store.write("trades", venue, symbol, "p", {"ts_exchange": times, "ts_recv": times, "trade_id": [str(i) for i in range(n)],
                                                   "side": [1] * n, "price": [p * scale for p in prices],
                                                   "size": [int(s * scale) for s in sizes]})

    d0 = 19_943 * day
    # day 1: every hour, 1 unit at price 100 (+ hour 13 trades 3 more); day 2: hours 0-11 only, 1 unit
    trades("binance", "BTC-USDT", [d0 + h * hour + 5 for h in range(24)] + [d0 + 13 * hour + 9],
           [100] * 25, [1] * 24 + [3])
    trades("okx", "BTC-USDT", [d0 + day + h * hour for h in range(12)], [100] * 12, [1] * 12)
    profile = hourly_volume_profile(store, [("binance", "BTC-USDT"), ("okx", "BTC-USDT")])
    # hours 0-11: 200 over 2 days = 100; hour 13: 400 over 1 day; other hours: 100 over 1 day
    assert profile == [100.0] * 13 + [400.0] + [100.0] * 10
    part = Store(tmp_path / "part")
    part.write("trades", "binance", "BTC-USDT", "p", {"ts_exchange": [d0], "ts_recv": [d0], "trade_id": ["a"], "side": [1],
                                                       "price": [100 * scale], "size": [scale]})
    assert hourly_volume_profile(part, [("binance", "BTC-USDT")]) is None
    assert hourly_volume_profile(part, [("kraken", "BTC-USD")]) is None      # nothing recorded
    assert np.isfinite(profile).all()


def test_coverage_counts_the_missing_days_it_does_not_list(sequence, home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=500, part="a")
    make_market(store, steps=500, t0=T0 + 6 * DAY_NS, part="b")              # 5 days missing between
    text = sequence("research", "coverage", "--symbol", "BTC-USD").stdout
    assert "2023-11-15, 2023-11-16, 2023-11-17 ... (5 days)" in text, text
