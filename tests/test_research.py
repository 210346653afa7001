"""`sequence research coverage`: days present and missing, density, gaps, last ingest."""

from __future__ import annotations

import json

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
