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
    rows = {r.group: r for r in analyse(fills, graphs, lambda book, t: np.full(len(t), 100.0), now_ns=0, horizons=(1,))}
    assert rows["total"].fill_rate == pytest.approx(2 / 12)              # every parent, filled or not
    assert rows["policy:sor"].fill_rate == pytest.approx(2 / 8)          # the sor parents only
    assert rows["venue:a"].fill_rate == pytest.approx(2 / 4)             # a venue: the parents it filled
    assert "policy:twap" not in rows                                     # no fills: no row of its own
