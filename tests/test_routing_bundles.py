"""SOR and assignment bundles promoted on the engine's target steer its router: the
admission records which bundle (and stage) an order got, the decision carries the impact
model's estimate and the assignment thresholds, and an order predicted to cost more than its
slippage budget is handed to the bundle's slicing policy."""

from __future__ import annotations

import json
import time

import msgspec
import pytest
from conftest import promote_to_production


def j(r):
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture
def routed(trader, home):
    from sequence_core import bundles
    from sequence_core.home import ensure_home

    h = ensure_home()
    models = tuple(bundles.ImpactModel("BTC-USD", v, 1.0, 0.1, 0.5, 100, 100.0, 1.0, 0, 1, "prof-test")
                   for v in ("acme", "zeta"))
    sor = bundles.create(h, "sor", "test-sor", msgspec.msgpack.encode(bundles.SorModel("book-walk", models, "twap")))
    asg = bundles.compile_assignment(h, "test-asg", edge_threshold=10**15, sor_threshold=500 * 10**9, min_venues=2)
    promote_to_production(h, sor.id)
    promote_to_production(h, asg.id)
    return trader, sor.id, asg.id


def _events(seq, graph_id):
    t = j(seq("--sandbox", "trace", graph_id, "--output", "json"))
    return [(s["kind"], s.get("detail") or {}) for s in t["steps"]]


def test_the_router_records_and_uses_the_promoted_bundles(routed):
    seq, sor_id, asg_id = routed
    d = j(seq("--sandbox", "buy", "BTC-USD", "0.05", "--output", "json"))
    assert d["graph"]["status"] == "FILLED"
    events = _events(seq, d["graph"]["graph_id"])
    admission = next(detail for kind, detail in events if kind == "sor_admission")
    assert (admission["sor_bundle"], admission["sor_stage"]) == (sor_id, "production")
    assert (admission["assignment_bundle"], admission["assignment_stage"]) == (asg_id, "production")
    decision = next(detail for kind, detail in events if kind == "sor_decision")
    impact = decision["sor_bundle"]["impact_bps"]
    assert impact and all(v == pytest.approx(100 * (float(leg["qty"])) ** 0.5, rel=1e-3)
                          for leg in decision["legs"] if float(leg["qty"]) > 0 for v in [impact[leg["venue"]]])
    a = decision["assignment"]
    assert a["sor_threshold_usd"] == 500 and all(a["shares_usd"][v] >= 500 for v in a["kept"])
    # only acme quotes inside the cap in this world: one venue is under --min-venues 2, so no SOR fan-out
    assert a["kept"] == ["acme"] and a["why"].startswith("fewer than 2 venues")


def test_an_expensive_order_with_a_horizon_is_sliced_by_the_bundles_policy(routed):
    seq, sor_id, _ = routed
    d = j(seq("--sandbox", "buy", "BTC-USD", "0.5", "--horizon", "2s", "--output", "json"))
    graph_id = d["graph"]["graph_id"]
    deadline = time.time() + 20
    while time.time() < deadline:
        views = j(seq("--sandbox", "orders", "--output", "json"))
        g = next(v for v in views if v["graph"]["graph_id"] == graph_id)
        if g["graph"]["status"] not in ("ADMITTED", "WORKING"):
            break
        time.sleep(0.3)
    events = _events(seq, graph_id)
    sliced = [detail for kind, detail in events if kind == "slice"]
    assert sliced and sliced[0]["policy"] == "twap" and sliced[0]["impact_bps"] > sliced[0]["cap_bps"] == 50
    assert sliced[0]["bundle"] == sor_id
    assert len([k for k, _ in events if k == "sor_decision"]) >= 2      # worked in slices, not at once


def test_without_a_horizon_the_order_is_taken_now(routed):
    seq, _, _ = routed
    d = j(seq("--sandbox", "buy", "BTC-USD", "0.5", "--output", "json"))
    ev = _events(seq, d["graph"]["graph_id"])
    assert not [k for k, _ in ev if k == "slice"]


def test_stage_shares_pick_canary_for_five_percent_of_orders(home):
    from sequence_core import bundles
    from sequence_core.home import ensure_home

    h = ensure_home()
    a = bundles.compile_assignment(h, "a", 1, 1, 1)
    b = bundles.compile_assignment(h, "b", 2, 2, 1)
    promote_to_production(h, a.id)
    from sequence_core.research import artifacts

    rep = artifacts.save(h, "drift", "t", {}, {"bundle": b.id})
    bundles.promote(h, b.id, "sandbox", "canary", rep.id, "ops@example.com")
    active = bundles.ActiveBundles(h, "sandbox")
    picks = [active.for_order(f"graph_{i:012d}").assignment_stage for i in range(4_000)]
    share = picks.count("canary") / len(picks)
    assert 0.035 < share < 0.065 and set(picks) == {"canary", "production"}
    assert active.for_order("graph_000000000007") == active.for_order("graph_000000000007")    # stable
    assert bundles.ActiveBundles(h, "live").for_order("graph_000000000007") == bundles.Routing()


def test_over_the_edge_threshold_without_a_strategy_to_take_it_the_sor_routes_it(trader, home):
    from sequence_core import bundles
    from sequence_core.home import ensure_home

    asg = bundles.compile_assignment(ensure_home(), "test-asg", edge_threshold=10**9, sor_threshold=0, min_venues=1)
    promote_to_production(ensure_home(), asg.id)
    d = j(trader("--sandbox", "buy", "BTC-USD", "0.05", "--output", "json"))
    assert d["graph"]["status"] == "FILLED" and d["graph"]["handler"] == ""
    admission = next(detail for kind, detail in _events(trader, d["graph"]["graph_id"]) if kind == "sor_admission")
    assert admission["path"] == "sor" and admission["edge_threshold_usd"] == 1
    assert "no running sandbox deployment takes parent orders of BTC-USD" in admission["why"]
