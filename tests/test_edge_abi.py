"""The deployment edge answers the strategy ABI (docs/wasm-abi.md) as the backtest does
(sequence_core/sim/kernel.py): return codes of place/cancel/amend, the on_order events and
what order(id, 0) says inside them. Unit level on EdgeRuntime, as in tests/test_deployments.py:
what it would send is recorded, the engine's replies and pushes are fed in."""

from __future__ import annotations

import asyncio
from collections import deque
from decimal import Decimal
from types import SimpleNamespace

import pytest

from sequence_core.deploy import edge as e
from sequence_core.deploy import registry

S = e.SCALE
TICK, LOT = S // 100, S // 100_000                 # 0.01, 0.00001
BID, ASK = 60_000 * S, 60_000 * S + TICK
EV_ACK, EV_REJECTED, EV_CANCELLED, EV_AMENDED, EV_REFUSED = 1, 2, 4, 5, 6     # on_order events (docs/wasm-abi.md)


class Edge:
    """An EdgeRuntime without its engine: ``sent`` what it would send, ``told`` every callback
    with order(id, 0) as the strategy would read it inside the callback, ``logs`` its log."""

    def __init__(self):
        rt = self.rt = object.__new__(e.EdgeRuntime)
        rt.name, rt.label, rt.origin = "mm", "edge-1", "deploy:mm/edge-1"
        rt.instruments = [SimpleNamespace(venue="binance", symbol="BTC-USDT", tick_size=Decimal("0.01"),
                                          lot_size=Decimal("0.00001"))]
        rt.dep = SimpleNamespace(risk=registry.Risk(), baseline={}, since_ns=0)
        rt.orders, rt.working, rt.by_graph, rt.parents, rt.parent_by_graph = {}, {}, {}, {}, {}
        rt._adopted_parents, rt._early, rt.outside, rt.outside_cost = [], {}, {}, 0.0
        rt.next_id, rt.placed, rt.positions, rt.cash, rt.fills = 1, 0, [0], 0.0, 0
        rt.sent_times, rt._refused, rt.replies, rt.md_latency_us = deque(), {}, set(), deque()
        rt.queue = asyncio.Queue(e.QUEUE_MAX)
        rt.current_md_ns, rt.tops = 0, [(BID, S, ASK, S)]
        self.sent, self.told, self.logs, self.graphs = [], [], [], 0
        rt._submit = self.sent.append
        rt._write_log = self.logs.append
        rt._fail = lambda exc: pytest.fail(f"a callback failed: {exc!r}")
        rt._call = lambda cb, *a: self.told.append((cb, *a, rt.order(a[0], 0)))

    def placed(self, oid: int) -> str:
        """The engine journaled *oid*'s place: its reply (the ack)."""
        self.graphs += 1
        graph_id = f"graph_{self.graphs}"
        self.rt._done(("place", oid), SimpleNamespace(graph_id=graph_id, journaled_ns=0))
        return graph_id

    def pushed(self, graph_id: str, status: str, nodes=(), fills=()):
        self.rt._apply_detail(graph_id, {"graph": {"status": status}, "nodes": [{"status": n} for n in nodes],
                                         "fills": list(fills)})


def _in_loop(fn):
    """Run *fn* inside an event loop (place schedules on it), then one more loop turn."""
    async def run():
        out = fn()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return out
    return asyncio.run(run())


def _fill(fid, qty, price="60000"):
    return {"fill_id": fid, "qty": qty, "price": price, "fee": "0.01", "liquidity": "maker"}


def test_amend_after_cancel_is_refused_and_nothing_is_re_placed():
    t = Edge()
    oid = _in_loop(lambda: t.rt.place(0, 1, BID - 100 * TICK, LOT, 1))
    t.pushed(t.placed(oid), "WORKING", ["NEW"])                   # resting at the venue
    assert t.rt.cancel(oid) == 0
    assert t.rt.amend(oid, BID - 101 * TICK, LOT) == -2          # already being cancelled (backtest: -2)
    assert t.sent == [("place", oid), ("cancel", oid)]


@pytest.mark.parametrize("flags, price, told", [
    (5, 0, [(EV_REJECTED, e.REJECTED, e.REJECTED)]),                                    # market + post-only
    (3, ASK, [(EV_REJECTED, e.REJECTED, e.REJECTED)]),                                  # IOC + post-only, crossing
    (3, BID - 100 * TICK, [(EV_ACK, e.OPEN, e.OPEN), (EV_CANCELLED, e.CANCELLED, e.CANCELLED)]),   # not crossing
])
def test_post_only_with_ioc_or_market_never_trades_as_in_the_backtest(flags, price, told):
    t = Edge()
    oid = _in_loop(lambda: t.rt.place(0, 1, price, LOT, flags))
    assert oid > 0 and t.sent == []                              # never sent as a plain IOC/market
    assert [x[2:] for x in t.told] == told and {x[1] for x in t.told} == {oid}
    assert not list(t.rt._working()) and t.rt.placed == 0


def test_an_ioc_that_expires_unfilled_ends_with_cancelled():
    t = Edge()
    ids = _in_loop(lambda: [t.rt.place(0, 1, BID - 100 * TICK, LOT, 2) for _ in range(3)])
    a, b, c = (t.placed(oid) for oid in ids)
    t.pushed(a, "EXPIRED")                                       # no node was ever sent
    t.pushed(b, "WORKING", ["EXPIRED"])                          # the node ended first: wait for the graph
    t.pushed(b, "EXPIRED", ["EXPIRED"])
    t.pushed(c, "PARTIALLY_FILLED", ["CANCELLED"], [_fill("f1", "0.000005")])
    t.pushed(a, "EXPIRED")                                       # the same word again: told once
    ends = [x for x in t.told if x[0] == "on_order" and x[2] != EV_ACK]
    assert ends == [("on_order", oid, EV_CANCELLED, e.CANCELLED, e.CANCELLED) for oid in ids]
    assert [t.rt.order(oid, 0) for oid in ids] == [e.CANCELLED] * 3
    assert not list(t.rt._working())                             # no longer counted by max_position


def test_amend_checks_its_arguments_before_sending():
    t = Edge()
    oid = _in_loop(lambda: t.rt.place(0, 1, BID - 100 * TICK, 2 * LOT, 1))
    t.placed(oid)
    p = BID - 100 * TICK
    assert [t.rt.amend(oid, 0, LOT), t.rt.amend(oid, -p, LOT), t.rt.amend(oid, p + 1, LOT),
            t.rt.amend(oid, p, -LOT), t.rt.amend(oid, p, 0), t.rt.amend(oid, p, LOT + 1)] == [-4, -4, -4, -3, -3, -3]
    assert t.sent == [("place", oid)] and t.rt.order(oid, 1) == p
    assert t.rt.amend(oid, p - TICK, LOT) == 0 and t.sent[-1] == ("amend", oid, p - TICK, LOT)


def test_order_status_is_set_before_each_callback_reports_it():
    t = Edge()
    oid = _in_loop(lambda: t.rt.place(0, 1, BID - 100 * TICK, 2 * LOT, 1))
    g = t.placed(oid)
    t.pushed(g, "WORKING", ["PARTIALLY_FILLED"], [_fill("f1", "0.00001")])
    t.pushed(g, "FILLED", ["FILLED"], [_fill("f1", "0.00001"), _fill("f2", "0.00001")])
    assert [(x[0], x[-1]) for x in t.told] == [("on_order", e.OPEN), ("on_fill", e.PARTIAL), ("on_fill", e.FILLED)]
    assert t.told[0][2:4] == (EV_ACK, e.OPEN)


def test_cancelling_a_pending_order_comes_back_cancelled_not_rejected():
    t = Edge()
    oid = _in_loop(lambda: t.rt.place(0, 1, BID - 100 * TICK, LOT, 1))
    assert t.rt.cancel(oid) == 0 and t.rt.cancel(oid) == -2
    g = t.placed(oid)
    assert t.sent == [("place", oid), ("cancel", oid)]
    t.pushed(g, "CANCELLED", ["REJECTED"])                       # the venue never had it
    assert t.told[-1] == ("on_order", oid, EV_CANCELLED, e.CANCELLED, e.CANCELLED)


def test_amend_of_a_pending_order_is_sent_after_its_ack():
    t = Edge()
    p = BID - 100 * TICK
    oid = _in_loop(lambda: t.rt.place(0, 1, p, LOT, 1))
    assert t.rt.amend(oid, p - TICK, 2 * LOT) == 0                # the backtest accepts it too
    assert t.sent == [("place", oid)]
    t.placed(oid)
    assert t.sent == [("place", oid), ("amend", oid, p - TICK, 2 * LOT)]
    t.rt._done(t.sent[-1], SimpleNamespace(graph_id="graph_1"))
    assert t.told[-1] == ("on_order", oid, EV_AMENDED, e.OPEN, e.OPEN) and t.rt.order(oid, 1) == p - TICK
    # a place the engine refuses: the amend that waited for it is refused after the rejection
    other = _in_loop(lambda: t.rt.place(0, 1, p, LOT, 1))
    assert t.rt.amend(other, p - TICK, LOT) == 0
    t.rt._refused_action(("place", other), "refused")
    assert t.told[-2:] == [("on_order", other, EV_REJECTED, e.REJECTED, e.REJECTED),
                           ("on_order", other, EV_REFUSED, e.REJECTED, e.REJECTED)]


def test_orders_counts_what_the_engine_journaled_and_refusals_are_logged_once_per_10s(monkeypatch):
    t = Edge()
    clock = [1000.0]
    monkeypatch.setattr(e.time, "monotonic", lambda: clock[0])
    ids = _in_loop(lambda: [t.rt.place(0, 1, BID - 100 * TICK, LOT, 0) for _ in range(20)])
    t.placed(ids[0])
    for oid in ids[1:]:
        t.rt._refused_action(("place", oid), "order notional 0.60 is under the minimum 5 for BTC-USDT")
        clock[0] += 0.1
    assert t.rt.placed == 1                                      # the refused 19 were never journaled
    assert len(t.logs) == 1 and "place of order 2 failed" in t.logs[0]
    clock[0] += 10
    t.rt._flush_refusals()
    assert len(t.logs) == 2 and "18 more refusal(s)" in t.logs[1]


def _reconcile(t: Edge, journal: dict, baseline=None, since_ns=0):
    t.rt.dep = SimpleNamespace(risk=registry.Risk(), baseline={"edge-1": baseline} if baseline else {}, since_ns=since_ns)
    details = {f"/orders/{v['graph']['graph_id']}": {"fills": []} for v in journal["working"]}

    async def api(method, path, body=None):
        return journal if path.endswith("/journal") else details[path]

    t.rt._api = api
    asyncio.run(t.rt._reconcile())


def _working(graph_id, created_ns):
    return {"graph": {"graph_id": graph_id, "filled_qty": "0", "created_ns": created_ns, "request": {
        "venue": "binance", "symbol": "BTC-USDT", "side": "buy", "qty": "0.01", "limit_price": "1000",
        "order_type": "post_only", "parent_id": ""}}, "nodes": [{"symbol": "BTC-USDT"}]}


def test_a_new_version_that_trades_other_books_keeps_the_old_books_inventory_in_status():
    t = Edge()
    _reconcile(t, {"orders": 10, "fills": 8, "parents": [], "working": [], "books": [
        {"venue": "binance", "symbol": "BTC-USDT", "qty": "0.001", "notional": "60", "fees": "0.1"},
        {"venue": "binance", "symbol": "ETH-USDT", "qty": "0.5", "notional": "1500", "fees": "0.4"}]})
    assert t.rt.positions == [S // 1000] and t.rt.outside == {"binance:ETH-USDT": 0.5}
    t.rt.tops = [(60_000 * S, S, 60_000 * S, S)]
    assert t.rt._mark() == pytest.approx(-0.5)                  # ETH at its cost: only the fees are lost
    assert any("binance:ETH-USDT 0.5" in line for line in t.logs)


def test_a_fresh_deployment_does_not_adopt_an_undeployed_namesakes_history():
    t = Edge()
    old = {"orders": 7, "fills": 5, "books": [{"venue": "binance", "symbol": "BTC-USDT", "qty": "0.002",
                                                "notional": "120", "fees": "0.2"}]}
    _reconcile(t, {"orders": 9, "fills": 6, "parents": [], "working": [_working("graph_old", 100), _working("graph_new", 300)],
                   "books": [{"venue": "binance", "symbol": "BTC-USDT", "qty": "0.003", "notional": "180", "fees": "0.3"}]},
               baseline=old, since_ns=200)
    assert (t.rt.placed, t.rt.fills) == (2, 1) and t.rt.positions == [S // 1000]
    assert t.rt.cash == pytest.approx(-60.1)
    assert list(t.rt.by_graph) == ["graph_new"]                 # the old one's resting order is not adopted


def test_on_trade_reports_each_print_once_after_subscribe():
    """A deployed strategy that subscribed to trades (bit 1) was never called: the edge polled
    tops only. Prints since the last poll come oldest first, none from before subscribe."""
    from sequence_core.market import Trade

    class Source:
        now = 100

        def now_ns(self):
            return self.now

        def trades(self, inst, start, end):
            prints = [Trade("binance", "BTC-USDT", ts, side, Decimal("60000.01"), Decimal("0.002"))
                      for ts, side in ((50, 1), (150, -1), (250, 1))]
            return [p for p in prints if start <= p.ts_ns < end]

    t = Edge()
    t.rt.source, t.rt.mask, t.rt.trades_from = Source(), 0, 0
    t.rt._call = lambda cb, *a: t.told.append((cb, *a))
    t.rt.subscribe(3)
    t.rt._prints(200)
    t.rt._prints(300)
    t.rt._prints(300)
    assert t.told == [("on_trade", 0, -1, 60000 * S + TICK, 200 * LOT),      # 0.002 at 60,000.01
                      ("on_trade", 0, 1, 60000 * S + TICK, 200 * LOT)]
