"""`sequence research materialize`: daily profiles written back to the research store,
resumable, parallel in processes or on a local Dask cluster; `scan` reads them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from simtools import T0, make_market

DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture
def three_days(home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    for d in range(3):                                   # 2023-11-14 .. 2023-11-16
        make_market(store, steps=3_000, t0=T0 + d * DAY_NS, part="p")
        make_market(store, steps=2_000, t0=T0 + d * DAY_NS, symbol="ETH-USD", seed=d + 11, part="p")
    return store


def _rows(home: Path) -> dict:
    from sequence_core.research.materialize import read_profiles, research_root

    return {(r["symbol"], r["date"]): r for r in read_profiles(research_root(home))}


def test_materialize_writes_one_profile_per_book_day_and_resumes(sequence, home, three_days):
    from sequence_core.research.profile import profile

    proc = sequence("research", "materialize", "--start", "2023-11-14", "--end", "2023-11-16", "--workers", "2",
                    "--output", "json")
    assert proc.returncode == 0, proc.stderr
    art = json.loads(proc.stdout)
    s = art["body"]
    assert art["type"] == "materialize" and art["subject"] == "2023-11-14..2023-11-16"
    assert sorted(r["status"] for r in s["results"]) == ["written"] * 6
    assert (s["tasks"], s["written"], s["skipped"], s["failed"], s["workers"]) == (6, 6, 0, 0, 2)
    assert s["rows"] > 0 and s["rows_per_s"] > 0
    rows = _rows(home)
    assert sorted(rows) == [(sym, f"2023-11-{d}") for sym in ("BTC-USD", "ETH-USD") for d in (14, 15, 16)]
    # each row is that day's profile, computed from that day's partition only
    ref = profile(three_days, "ETH-USD", "sim", start_date="2023-11-15", end_date="2023-11-15")
    row = rows[("ETH-USD", "2023-11-15")]
    assert (row["trades"], row["notional"], row["volatility_bps_1s"]) == (ref.trades, ref.notional, ref.volatility_bps["1s"])
    assert row["start_ns"] >= T0 + DAY_NS - 10**12 and row["trades"] < sum(r["trades"] for k, r in rows.items() if k[0] == "ETH-USD")

    again_art = json.loads(sequence("research", "materialize", "--start", "2023-11-14", "--end", "2023-11-16",
                                    "--output", "json").stdout)
    again = again_art["body"]
    assert (again["written"], again["skipped"]) == (0, 6)         # nothing changed: nothing redone
    # an interrupted run (one row missing) and a re-ingested partition are redone, nothing else
    from sequence_core.research.materialize import research_root

    (research_root(home) / "profiles" / "venue=sim" / "symbol=BTC-USD" / "date=2023-11-14" / "profile.parquet").unlink()
    make_market(three_days, steps=2_500, t0=T0 + 2 * DAY_NS, symbol="ETH-USD", seed=99, part="p")
    resumed_art = json.loads(sequence("research", "materialize", "--start", "2023-11-14", "--end", "2023-11-16",
                                      "--output", "json").stdout)
    resumed = resumed_art["body"]
    assert (resumed["written"], resumed["skipped"]) == (2, 4)
    assert _rows(home)[("ETH-USD", "2023-11-16")]["trades"] != rows[("ETH-USD", "2023-11-16")]["trades"]
    forced_art = json.loads(sequence("research", "materialize", "--start", "2023-11-15", "--end", "2023-11-15",
                                     "--symbol", "BTC-USD", "--force", "--output", "json").stdout)
    forced = forced_art["body"]
    assert (forced["tasks"], forced["written"]) == (1, 1)
    text = sequence("research", "materialize", "--start", "2023-11-14", "--end", "2023-11-16")
    assert text.returncode == 0 and "6 already up to date" in text.stdout and "rows/s" in text.stdout
    listed = json.loads(sequence("research", "artifacts", "--type", "materialize", "--output", "json").stdout)
    # every run is listed, and nothing else; artifacts are content-addressed, so two no-op runs
    # that took the same rounded time are one artifact (that made a count of 5 flaky)
    runs = {a["id"] for a in (art, again_art, resumed_art, forced_art)} | set(re.findall(r"artifact (\S+)", text.stdout))
    assert len(runs) >= 4 and {a["id"] for a in listed} == runs


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_rows(home, three_days):
    from sequence_core.research.materialize import materialize, research_root

    procs = materialize(three_days, research_root(home), "2023-11-14", "2023-11-16", workers=1)
    before = {k: {f: v for f, v in r.items() if f != "materialized_ns"} for k, r in _rows(home).items()}
    s = materialize(three_days, research_root(home), "2023-11-14", "2023-11-16", workers=2, executor="dask", force=True)
    after = {k: {f: v for f, v in r.items() if f != "materialized_ns"} for k, r in _rows(home).items()}
    assert (procs.written, s.written, s.failed, s.executor) == (6, 6, 0, "dask")
    assert after == before


def test_scan_uses_materialized_profiles(sequence, home, three_days):
    before = json.loads(sequence("research", "scan", "--evidence", "--output", "json").stdout)
    assert all(r["fields"].get("profile_days") is None for r in before)     # nothing materialized yet
    assert sequence("research", "materialize", "--start", "2023-11-14", "--end", "2023-11-16").returncode == 0
    proc = sequence("research", "scan", "--where", "profile_days >= 3", "--where", "quote_to_trade >= 0",
                    "--rank-by", "impact_r2", "--evidence", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["symbol"] for r in rows] and all(r["fields"]["profile_days"] == 3 for r in rows)
    assert {"impact_y", "depth_usd", "regime"} <= set(rows[0]["fields"])
    two = json.loads(sequence("research", "scan", "--where", "profile_days >= 3", "--days", "2", "--output", "json").stdout)
    assert two == []                                       # a 2-day window holds 2 materialized days


def test_inverse_perp_notional_counts_contracts_at_their_usd_value(home):
    import numpy as np

    from sequence_core.home import ensure_home
    from sequence_core.market import contract_value_usd, quote_notional
    from sequence_core.research.scan import StoreScanner
    from sequence_core.store import Store

    assert contract_value_usd("binance", "BTC-USD-PERP") == 100 and contract_value_usd("binance", "ETH-USD-PERP") == 10
    assert contract_value_usd("bybit", "BTC-USD-PERP") == 1
    assert contract_value_usd("binance", "BTC-USDT-PERP") is None and contract_value_usd("binance", "BTC-USD") is None
    assert quote_notional("binance", "BTC-USDT", 50_000.0, 2.0) == 100_000.0
    assert quote_notional("binance", "BTC-USD-PERP", 50_000.0, 2.0) == 200.0          # 2 contracts of 100 USD
    store = Store(ensure_home() / "data")
    make_market(store, steps=3_000, venue="binance", symbol="BTC-USD-PERP")
    tr = store.arrays("trades", symbol="BTC-USD-PERP")
    row = StoreScanner().scan(store, 7)["BTC-USD-PERP"]
    assert row["trade_days"] == 1          # seconds of one day: ADV is that day's notional, not scaled up
    assert row["adv_usd"] == pytest.approx(float(np.sum(tr["size"] / 1e9)) * 100, rel=1e-9)


def test_an_unreachable_dask_scheduler_is_an_error_naming_it(home, three_days, monkeypatch):
    pytest.importorskip("dask.distributed")
    from sequence_core.errors import SequenceError
    from sequence_core.home import ensure_home
    from sequence_core.research import materialize as m
    from sequence_core.store import Store

    monkeypatch.setattr(m, "SCHEDULER_TIMEOUT_S", 1)
    with pytest.raises(SequenceError, match="--scheduler tcp://127.0.0.1:1: cannot reach the Dask scheduler"):
        m.materialize(Store(ensure_home() / "data"), m.research_root(ensure_home()), "2023-11-14", "2023-11-16",
                      executor="dask", scheduler="tcp://127.0.0.1:1", force=True)


@pytest.mark.parametrize("args, message", [
    (["--start", "2023-13-01", "--end", "2023-11-16"], "--start '2023-13-01' is not a date"),
    (["--start", "2023-11-16", "--end", "2023-11-14"], "--end 2023-11-14 is before --start 2023-11-16"),
    (["--start", "2020-01-01", "--end", "2020-01-02"], "no recorded trades between 2020-01-01 and 2020-01-02"),
    (["--start", "2023-11-14", "--end", "2023-11-16", "--symbol", "NOPE"], "for NOPE"),
    (["--start", "2023-11-14", "--end", "2023-11-16", "--workers", "0"], "--workers 0 must be at least 1"),
    (["--start", "2023-11-14", "--end", "2023-11-16", "--scheduler", "tcp://127.0.0.1:1"], "it needs --executor dask"),
])
def test_materialize_bad_input(sequence, home, three_days, args, message):
    proc = sequence("research", "materialize", *args)
    assert proc.returncode == 1 and proc.stderr.startswith("Error: ") and message in proc.stderr, proc.stderr
