"""`research monitor` / `research recalibrate` and the sor and assignment bundles they check;
the promotion drift gate is the monitor."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from simtools import DAY, QUOTER, T0, make_market, wasm

DAY_NS = 86_400 * 1_000_000_000


@pytest.fixture
def world(sequence, home, tmp_path):
    """Day 1 and day 3 carry the same market; the quoter is compiled into an edge bundle and
    evaluated on day 1."""
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=60_000, part="a")
    make_market(store, steps=60_000, t0=T0 + 2 * DAY_NS, part="b")
    sequence.env["SEQUENCE_LOAD_PLUGINS"] = "sim,queue-models,latency-models,fee-models,vwap"
    module = wasm(tmp_path, "quoter", QUOTER)
    made = sequence("bundle", "compile-edge", "--wasm", str(module), "--artifact", "quoter-v1", "--output", "json")
    bid = json.loads(made.stdout)["id"]
    run = sequence("backtest", "BTC-USD", "--start", DAY, "--end", DAY, "--bundle", bid, "--output", "json", timeout=300)
    assert run.returncode == 0, run.stderr
    return sequence, store, bid, json.loads(run.stdout)["run_id"]


def _trend(store, day: int):
    make_market(store, steps=60_000, seed=3, t0=T0 + day * DAY_NS, part="trend", buy_share=0.95, trade_share=0.3)


def test_edge_monitor_within_tolerance_then_drift_when_the_market_trends(world, home):
    sequence, store, bid, eval_run = world
    proc = sequence("research", "monitor", "--bundle", bid[:12], "--days", "1", "--output", "json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    art = json.loads(proc.stdout)
    r = art["body"]
    assert art["type"] == "drift" and r["verdict"] == "within-tolerance", r["reasons"]
    assert r["baseline"]["eval_run"] == eval_run and r["current"]["window"] == ["2023-11-16", "2023-11-16"]
    perf = r["comparisons"][0]
    assert perf["metric"] == "pnl_per_fill" and perf["psi"] < 0.1 and perf["n_current"] >= 30
    assert (home / "backtests" / r["current"]["run"] / "fills.parquet").exists()     # the replay is kept
    _trend(store, 4)                                                               # 2023-11-18 trends up
    drift = sequence("research", "monitor", "--bundle", bid, "--days", "1", timeout=300)
    assert drift.returncode == 0, drift.stderr
    assert "DRIFT" in drift.stdout and "pnl_per_fill" in drift.stdout and "PSI" in drift.stdout
    listed = json.loads(sequence("research", "artifacts", "--type", "drift", "--output", "json").stdout)
    assert len(listed) == 2 and all(a["body"]["bundle"] == bid for a in listed)
    # the same check against another store root sees that store's data
    other = home / "other-store"
    from sequence_core.store import Store

    make_market(Store(other), steps=60_000, t0=T0 + 9 * DAY_NS, part="x")
    elsewhere = json.loads(sequence("research", "monitor", "--bundle", bid, "--store-root", str(other),
                                    "--output", "json", timeout=300).stdout)["body"]
    assert elsewhere["current"]["store"] == str(other) and elsewhere["current"]["window"][1] == "2023-11-23"
    assert elsewhere["verdict"] == "within-tolerance"


def test_pnl_per_fill_realizes_fifo_net_of_fees(tmp_path):
    import msgspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sequence_core.research.monitor import pnl_per_fill

    # buy 2 @ 100, sell 1 @ 103 (+3), sell 2 @ 99 (1 closes at -1, 1 opens short), buy 1 @ 97 (+2)
    pq.write_table(pa.table({"ts": [1, 2, 3, 4], "order_id": [1, 2, 3, 4], "instrument": ["v:X"] * 4,
                             "side": pa.array([1, -1, -1, 1], pa.int8()), "price": [100.0, 103.0, 99.0, 97.0],
                             "size": [2.0, 1.0, 2.0, 1.0], "maker": [True] * 4}), tmp_path / "fills.parquet")
    volume = 200 + 103 + 198 + 97
    (tmp_path / "summary.json").write_bytes(msgspec.json.encode(
        {"venues": [{"venue": "v", "symbol": "X", "fees": volume * 0.001, "volume": volume}]}))
    got = pnl_per_fill(tmp_path)
    assert got.tolist() == pytest.approx([-0.2, 3 - 0.103, -1 - 0.198, 2 - 0.097])


def test_gate_refuses_pilot_on_drift_and_recalibrate_promotes_within_tolerance(world, home):
    sequence, store, bid, eval_run = world
    base = ["bundle", "promote", "--bundle", bid, "--target", "mm", "--eval-run", eval_run, "--approver", "ops@example.com"]
    assert sequence(*base, "--stage", "canary").returncode == 0
    _trend(store, 4)
    gated = sequence(*base, "--stage", "pilot", timeout=300)
    assert gated.returncode == 1 and "drift gate: drift (pnl_per_fill: PSI" in gated.stderr, gated.stderr
    assert "drift report drif-" in gated.stderr
    # recalibrate: the drift check fails, so no auto-promotion; the re-profile still happens
    rc = json.loads(sequence("research", "recalibrate", "--bundle", bid, "--days", "1", "--auto-promote-to", "pilot",
                             "--output", "json", timeout=300).stdout)
    assert rc["verdict"] == "drift" and rc["promoted"] is None and "--force promotes anyway" in rc["not_promoted"]
    assert rc["recalibrated_bundle"] == bid and rc["eval_run"].startswith("mon-") and len(rc["profiles"]) == 1
    # --force: promoted although the check failed, and the audit record says so
    forced = json.loads(sequence("research", "recalibrate", "--bundle", bid, "--days", "1", "--auto-promote-to", "pilot",
                                 "--force", "--output", "json", timeout=300).stdout)
    assert forced["promoted"] == {"target": "mm", "stage": "pilot", "audit_seq": 2, "break_glass": True}
    from sequence_core import bundles

    rec = bundles.audit(home)[-1]
    assert rec.approver == "recalibrate@sequence.local" and rec.break_glass and forced["drift_report"] in rec.notes
    # pinned to the replay of the trending day itself, the same day is within tolerance
    text = sequence("research", "recalibrate", "--bundle", bid, "--days", "1", "--baseline-eval", forced["eval_run"],
                    timeout=300)
    assert text.returncode == 0 and "WITHIN-TOLERANCE" in text.stdout and "re-profiled: prof-" in text.stdout


def test_sor_bundle_compile_monitor_and_recalibrate(sequence, home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=150_000, part="a")
    make_market(store, steps=150_000, t0=T0 + 2 * DAY_NS, part="b")
    sequence.env["SEQUENCE_LOAD_PLUGINS"] = "vwap"
    prof = json.loads(sequence("research", "profile", "BTC-USD", "--output", "json").stdout)
    made = sequence("bundle", "compile-sor", "--routing-model", "book-walk", "--impact-model", prof["id"], "--output", "json")
    assert made.returncode == 0, made.stderr
    sor = json.loads(made.stdout)
    assert sor["kind"] == "sor" and sor["slicing_policy"] == "vwap" and sor["impact_models"] == ["BTC-USD@sim"]
    from sequence_core import bundles

    model = bundles.payload_of(bundles.load(home, sor["id"]))
    assert model.impact[0].y == prof["body"]["impact"]["y"] and model.impact[0].source == prof["id"]
    assert model.impact[0].impact_bps(model.impact[0].adv) == pytest.approx(model.impact[0].y * model.impact[0].sigma_day_bps)
    ok = json.loads(sequence("research", "monitor", "--bundle", sor["id"], "--target-kind", "sor", "--days", "1",
                             "--output", "json").stdout)["body"]
    assert ok["verdict"] == "within-tolerance" and ok["comparisons"][0]["metric"] == "impact_y BTC-USD@sim"
    make_market(store, steps=150_000, seed=3, t0=T0 + 4 * DAY_NS, part="c", buy_share=0.8, trade_share=0.4)
    drift = json.loads(sequence("research", "monitor", "--bundle", sor["id"], "--target-kind", "sor", "--days", "1",
                                "--output", "json").stdout)["body"]
    assert drift["verdict"] == "drift" and "beyond ±3" in drift["reasons"][0]
    rc = json.loads(sequence("research", "recalibrate", "--bundle", sor["id"], "--target-kind", "sor", "--days", "1",
                             "--output", "json").stdout)
    new = bundles.payload_of(bundles.load(home, rc["recalibrated_bundle"]))
    assert rc["recalibrated_bundle"] != sor["id"] and new.impact[0].source == rc["profiles"][0]
    assert new.impact[0].y == pytest.approx(drift["comparisons"][0]["mean_current"])
    # a sor bundle is evaluated by a drift report of it: canary with the recalibrated one's
    promote = sequence("bundle", "promote", "--bundle", rc["recalibrated_bundle"], "--target", "desk", "--stage", "canary",
                       "--eval-run", rc["eval_run"], "--approver", "ops@example.com")
    assert promote.returncode == 0, promote.stderr
    wrong = sequence("bundle", "promote", "--bundle", rc["recalibrated_bundle"], "--target", "desk2", "--stage", "canary",
                     "--eval-run", rc["drift_report"], "--approver", "ops@example.com")
    assert wrong.returncode == 1 and "is not a drift report of bundle" in wrong.stderr


def test_compile_sor_takes_repeated_impact_models(sequence, home):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    store = Store(ensure_home() / "data")
    make_market(store, steps=100_000, part="a")
    make_market(store, steps=100_000, symbol="ETH-USD", seed=5, part="e")
    sequence.env["SEQUENCE_LOAD_PLUGINS"] = "vwap"
    ids = [json.loads(sequence("research", "profile", sym, "--output", "json").stdout)["id"]
           for sym in ("BTC-USD", "ETH-USD")]
    repeated = sequence("bundle", "compile-sor", "--routing-model", "book-walk", "--impact-model", ids[0],
                        "--impact-model", ids[1], "--output", "json")
    assert repeated.returncode == 0, repeated.stderr
    assert json.loads(repeated.stdout)["impact_models"] == ["BTC-USD@sim", "ETH-USD@sim"]
    comma = sequence("bundle", "compile-sor", "--routing-model", "book-walk", "--impact-model", ",".join(ids),
                     "--output", "json")
    assert json.loads(comma.stdout)["id"] == json.loads(repeated.stdout)["id"]


def test_assignment_bundle_thresholds_and_order_flow_drift(sequence, home):
    from sequence_core.journal import Journal
    from sequence_core.orders import OrderGraph, OrderRequest

    j = Journal(sandbox=True)
    now = time.time_ns()
    for i in range(60):                                   # $100 .. $6,000 orders
        req = OrderRequest("BTC-USD", "buy", Decimal("0.01"), limit_price=Decimal(10_000 * (i + 1)))
        j.save(OrderGraph(f"g{i}", "sandbox", req, "FILLED", now - i * 1_000_000, now))
    j.close()
    made = sequence("bundle", "compile-assignment", "--artifact", "flow-v1", "--edge-threshold", "2500000000000",
                    "--output", "json")
    assert made.returncode == 0, made.stderr
    a = json.loads(made.stdout)
    assert (a["edge_threshold"], a["sor_threshold"], a["min_venues"], a["baseline_orders"]) == (2_500_000_000_000,
                                                                                                1_000_000_000_000, 2, 60)
    from sequence_core import bundles

    pol = bundles.payload_of(bundles.load(home, a["id"]))
    assert pol.uses_edge(2_500.0) and not pol.uses_edge(2_499.99)
    assert pol.fan_out({"a": 1_500.0, "b": 999.0, "c": 1_000.0}) == ["a", "c"]
    assert pol.fan_out({"a": 1_500.0, "b": 999.0}) == []                 # one venue left: no SOR
    same = json.loads(sequence("research", "monitor", "--bundle", a["id"], "--target-kind", "assignment",
                               "--output", "json").stdout)["body"]
    assert same["verdict"] == "within-tolerance" and same["comparisons"][0]["psi"] == 0
    j = Journal(sandbox=True)
    for i in range(200):                                   # the flow moves to large orders
        req = OrderRequest("BTC-USD", "buy", Decimal("1"), limit_price=Decimal(50_000 + i))
        j.save(OrderGraph(f"h{i}", "sandbox", req, "FILLED", now, now))
    j.close()
    moved = json.loads(sequence("research", "monitor", "--bundle", a["id"], "--target-kind", "assignment",
                                "--output", "json").stdout)["body"]
    assert moved["verdict"] == "drift"
    shares = {c["metric"].split(" ")[0]: c for c in moved["comparisons"][1:]}
    assert shares["share_at_or_above_edge_threshold"]["mean_baseline"] == pytest.approx(36 / 60)
    assert shares["share_at_or_above_edge_threshold"]["mean_current"] == pytest.approx(236 / 260)


@pytest.mark.parametrize("args, message", [
    (["research", "monitor", "--bundle", "0123456789abcdef"], "unknown bundle '0123456789abcdef'"),
    (["research", "monitor", "--bundle", "{bid}", "--target-kind", "sor"], "is an edge bundle, not sor"),
    (["research", "monitor", "--bundle", "{bid}", "--days", "0"], "--days 0 must be positive"),
    (["research", "monitor", "--bundle", "{bid}", "--store-root", "/nonexistent/x"], "is not a folder"),
    (["research", "monitor", "--bundle", "{bid}", "--baseline-eval", "bt-nope"], "is not a saved backtest run"),
    (["research", "recalibrate", "--bundle", "{bid}", "--auto-promote-to", "pilot"], "has never been promoted"),
    (["bundle", "compile-sor", "--routing-model", "magic", "--impact-model", "prof-x"], "is not a routing model"),
    (["bundle", "compile-sor", "--routing-model", "book-walk", "--impact-model", "prof-x"], "unknown research artifact"),
    (["bundle", "compile-sor", "--routing-model", "book-walk", "--impact-model", "x", "--slicing-policy", "nope"],
     "is not an installed policy"),
    (["research", "recalibrate", "--bundle", "{bid}", "--auto-promote-to", "pilot", "--approver", "not an email"],
     "--approver 'not an email' is not an email address"),
    (["bundle", "compile-assignment", "--artifact", "a", "--min-venues", "0"], "--min-venues 0 must be from 1 to 1000"),
    (["bundle", "compile-assignment", "--artifact", "a", "--edge-threshold", "-1"], "must be zero or more"),
])
def test_bad_input(sequence, home, tmp_path, args, message):
    from sequence_core.home import ensure_home
    from sequence_core.store import Store

    make_market(Store(ensure_home() / "data"), steps=2_000)
    module = wasm(tmp_path, "quoter", QUOTER)
    bid = json.loads(sequence("bundle", "compile-edge", "--wasm", str(module), "--artifact", "q",
                              "--output", "json").stdout)["id"]
    proc = sequence(*[a.replace("{bid}", bid) for a in args])
    assert proc.returncode == 1 and proc.stderr.startswith("Error: ") and message in proc.stderr, proc.stderr
