"""TCA on hand-computed examples, and on a sandbox TWAP against a recomputation from scratch."""

import json
import time

import numpy as np
import pytest

from sequence_core.tca import analyse


def test_hand_computed_buy():
    """One buy of 2 @ 101 with fee 0.202; arrival mid 100; mid at fill 100.5; 1 s later 102."""
    fills = {"ts_ns": [0], "price": [101.0], "qty": [2.0], "fee": [0.202], "side": [1], "venue": ["a"], "book": ["a|X"],
             "policy": ["sor"], "graph": ["g"]}
    mids = {0: 100.5, 1_000_000_000: 102.0, 10_000_000_000: 99.0}
    rows = analyse(fills, {"g": (100.0, 4.0, "sor")}, lambda book, t: np.array([mids[int(x)] for x in t]),
                   now_ns=10_000_000_000, horizons=(1, 10, 60))
    total = rows[0]
    assert total.group == "total" and total.fills == 1 and total.notional == 202.0
    assert total.shortfall_bps == pytest.approx(100.0)                     # (101 - 100) / 100
    assert total.shortfall_ccy == pytest.approx(2.0 + 0.202)               # 1 x 2 + fees
    assert total.effective_spread_bps == pytest.approx(2 * 0.5 / 100.5 * 1e4)
    assert total.realized_spread_bps["1s"] == pytest.approx(2 * (101 - 102) / 100.5 * 1e4)
    assert total.markout_bps["1s"] == pytest.approx((102 - 101) / 101 * 1e4)   # moved our way
    assert total.markout_bps["10s"] == pytest.approx((99 - 101) / 101 * 1e4)
    assert total.markout_bps["60s"] is None                                # not yet observable
    assert total.fees_bps == pytest.approx(10.0) and total.fill_rate == 0.5


def test_sell_signs_and_notional_weighting():
    fills = {"ts_ns": [0, 0], "price": [99.0, 98.0], "qty": [1.0, 3.0], "fee": [0.0, 0.0], "side": [-1, -1],
             "venue": ["a", "b"], "book": ["a|X", "b|X"], "policy": ["twap", "twap"], "graph": ["g", "g"]}
    rows = analyse(fills, {"g": (100.0, 4.0, "twap")}, lambda book, t: np.full(len(t), 100.0), now_ns=0, horizons=(1,))
    total = next(r for r in rows if r.group == "total")
    avg = (99 + 3 * 98) / 4
    assert total.shortfall_bps == pytest.approx((100 - avg) / 100 * 1e4)   # sold below arrival: a cost
    assert total.effective_spread_bps == pytest.approx((2 * 1 * 99 + 2 * 2 * 294) / (99 + 294) * 1e4 / 100)
    assert {r.group for r in rows} == {"total", "venue:a", "venue:b", "policy:twap"}


def test_sandbox_twap_matches_a_recomputation(trader, home):
    """TCA of a sandbox TWAP equals the same numbers recomputed from the fills and the market."""
    json.loads(trader("--sandbox", "buy", "BTC-USD", "0.04", "--policy", "twap", "--horizon", "2s", "--output", "json").stdout)
    deadline = time.time() + 20
    while time.time() < deadline:
        views = json.loads(trader("--sandbox", "orders", "--output", "json").stdout)
        if views[0]["graph"]["status"] == "FILLED":
            break
        time.sleep(0.3)
    report = json.loads(trader("--sandbox", "tca", "--output", "json").stdout)
    total = report["rows"][0]
    fills = json.loads(trader("--sandbox", "fills", "--output", "json").stdout)
    graph = views[0]["graph"]
    qty = sum(float(f["qty"]) for f in fills)
    avg = sum(float(f["qty"]) * float(f["price"]) for f in fills) / qty
    arrival = float(graph["arrival_mid"])
    assert total["fills"] == len(fills) and total["shortfall_bps"] == pytest.approx((avg - arrival) / arrival * 1e4)
    fees = sum(float(f["fee"]) for f in fills)
    assert total["fees_ccy"] == pytest.approx(fees) and total["fees_bps"] == pytest.approx(fees / (avg * qty) * 1e4)
    assert total["fill_rate"] == pytest.approx(1.0)
    assert any(r["group"] == "policy:twap" for r in report["rows"])
    bad = trader("--sandbox", "tca", "my-strategy")
    assert bad.returncode == 1 and "no sandbox deployment named 'my-strategy'" in bad.stderr


def test_fees_count_in_the_quote_whatever_asset_paid_them():
    from decimal import Decimal

    from sequence_core.market import Instrument
    from sequence_core.tca import fee_in_quote

    btc = Instrument("bitget", "BTC-USDT", "BTCUSDT", "crypto", "BTC", "USDT", Decimal("0.01"), Decimal("0.0001"))
    price = Decimal("50000")
    assert fee_in_quote(Decimal("5"), "USDT", price, btc) == 5.0
    assert fee_in_quote(Decimal("0.0001"), "BTC", price, btc) == 5.0      # in the base, at the fill price
    assert fee_in_quote(Decimal("0.02"), "BGB", price, btc) == 0.0        # a discount asset: no price here


def test_orders_that_never_filled_count_in_the_fill_rate():
    """Two parents of 4: one filled 2, one cancelled unfilled: 2 of 8 filled, not 2 of 4."""
    fills = {"ts_ns": [0], "price": [100.0], "qty": [2.0], "fee": [0.0], "side": [1], "venue": ["a"], "book": ["a|X"],
             "policy": ["sor"], "graph": ["g1"]}
    graphs = {"g1": (100.0, 4.0, "sor"), "g2": (100.0, 4.0, "sor"), "g3": (None, 4.0, "twap")}
    rows = {r.group: r for r in analyse(fills, graphs, lambda book, t: np.full(len(t), 100.0), now_ns=0, horizons=(1,),
                                        routed={("g1", "a"): 4.0})}
    assert rows["total"].fill_rate == pytest.approx(2 / 12)              # every parent, filled or not
    assert rows["policy:sor"].fill_rate == pytest.approx(2 / 8)          # the sor parents only
    assert rows["venue:a"].fill_rate == pytest.approx(2 / 4)             # a venue: what was routed there
    assert "policy:twap" not in rows                                     # no fills: no row of its own


def test_a_venue_row_fills_against_what_was_routed_there():
    """One parent of 4 routed 1 to a (filled 1) and 3 to b (filled 2): a 1/1, b 2/3, total 3/4."""
    from sequence_core.tca import routed_qty

    fills = {"ts_ns": [0, 0], "price": [100.0, 100.0], "qty": [1.0, 2.0], "fee": [0.0, 0.0], "side": [1, 1],
             "venue": ["a", "b"], "book": ["a|X", "b|X"], "policy": ["sor", "sor"], "graph": ["g", "g"]}
    routed = {("g", "a"): 1.0, ("g", "b"): 3.0, ("other", "b"): 5.0}     # another parent's route: not counted
    rows = {r.group: r for r in analyse(fills, {"g": (100.0, 4.0, "sor")}, lambda book, t: np.full(len(t), 100.0),
                                        now_ns=0, horizons=(1,), routed=routed)}
    assert rows["total"].fill_rate == pytest.approx(3 / 4)
    assert rows["venue:a"].fill_rate == pytest.approx(1.0) and rows["venue:b"].fill_rate == pytest.approx(2 / 3)

    class Node:                                  # a child of 3 at b that filled 1, replaced by the remaining 2
        def __init__(self, seq, qty, filled):
            self.graph_id, self.node, self.seq, self.venue, self.qty, self.filled_qty = "g", 0, seq, "b", qty, filled
    assert routed_qty([Node(1, 2, 1), Node(0, 3, 1)]) == {("g", "b"): 3.0}


def test_tca_of_a_symbol_takes_its_parents_whole(home, monkeypatch):
    """A BTC-USD parent of 1 filled 0.4 on okx BTC-USDT and 0.6 on coinbase BTC-USD: in the BTC-USDT
    report it is in with both fills (fill rate 1), not 0.4 of 1; okx filled all it was sent."""
    from decimal import Decimal
    from types import SimpleNamespace

    import sequence_core.journal as journal_mod
    from sequence_core.client import Sequence
    from sequence_core.orders import Fill, NodeOrder, OrderGraph, OrderRequest

    gid = "graph_0000000000a1"
    graph = OrderGraph(gid, "sandbox", OrderRequest("BTC-USD", "buy", Decimal("1")), "FILLED", 1, 2,
                       arrival_mid=Decimal("50000"))
    legs = [("okx", "BTC-USDT", "0.4"), ("coinbase", "BTC-USD", "0.6")]
    nodes = [NodeOrder(f"{gid}:node_{i}:0", gid, i, 0, v, s, "buy", Decimal(q), None, "market", "FILLED", 1, 2,
                       filled_qty=Decimal(q)) for i, (v, s, q) in enumerate(legs)]
    fills = [Fill(f"t{i}", n.node_order_id, gid, n.venue, n.symbol, "buy", Decimal("50000"), n.qty, Decimal(0), "USD",
                  "taker", 10) for i, n in enumerate(nodes)]

    class FakeJournal:
        def __init__(self, sandbox):
            pass

        def fills(self, limit=None):
            return fills

        def graphs(self, limit=None):
            return [graph]

        def nodes(self):
            return nodes

        def close(self):
            pass

    monkeypatch.setattr(journal_mod, "Journal", FakeJournal)
    src = SimpleNamespace(books=lambda insts, t, depth: [], now_ns=lambda: 10, label=lambda: "test")
    monkeypatch.setattr(Sequence, "source", lambda self, name=None: src)
    report = Sequence(sandbox=True).tca(symbol="BTC-USDT")
    rows = {r.group: r for r in report.rows}
    assert report.graphs == 1 and rows["total"].fills == 2 and rows["total"].fill_rate == pytest.approx(1.0)
    assert rows["venue:okx"].fill_rate == pytest.approx(1.0) and rows["venue:coinbase"].fill_rate == pytest.approx(1.0)
    assert Sequence(sandbox=True).tca(symbol="ETH-USDT").rows == []                  # not of ETH: out as a whole
