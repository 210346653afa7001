"""Fills and positions in the journal (sequence_core/journal.py): buffered until the group
commit, yet counted exactly once, dropped with a failed group, and seen by SQL of one's own."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal

import pytest

from sequence_core.journal import Journal
from sequence_core.ledger import ledger_path
from sequence_core.market import Instrument
from sequence_core.orders import Fill, NodeOrder, OrderGraph, OrderRequest

BTC = Instrument("binance", "BTC-USDT", "BTCUSDT", "crypto", "BTC", "USDT", Decimal("0.01"), Decimal("0.0001"))
GID = "graph_00000000000f1"


def orders(qty="0.3") -> tuple[OrderGraph, NodeOrder]:
    request = OrderRequest("BTC-USDT", "buy", Decimal(qty), venue="binance")
    return (OrderGraph(GID, "sandbox", request, "WORKING", 1, 1),
            NodeOrder(f"{GID}:node_0:0", GID, 0, 0, "binance", "BTC-USDT", "buy", Decimal(qty), None, "market", "NEW", 1, 1))


def fill(fill_id: str, qty="0.1", price="50000") -> Fill:
    return Fill(fill_id, f"{GID}:node_0:0", GID, "binance", "BTC-USDT", "buy", Decimal(price), Decimal(qty),
                Decimal("1"), "USDT", "taker", 10)


def on_disk() -> tuple[int, Decimal | None]:
    conn = sqlite3.connect(ledger_path(True))
    try:
        row = conn.execute("SELECT qty FROM positions WHERE venue='binance' AND instrument='BTC'").fetchone()
        return conn.execute("SELECT COUNT(*) FROM fills").fetchone()[0], Decimal(row[0]) if row else None
    finally:
        conn.close()


def test_a_fill_reported_again_is_counted_once_before_and_after_its_commit_and_after_a_restart(home):
    async def run():
        journal = Journal(True)
        graph, node = orders()
        assert journal.record_fill(fill("t1"), node, graph, BTC)
        assert not journal.record_fill(fill("t1"), node, graph, BTC)        # still in the buffer
        await journal.durable()
        assert on_disk() == (1, Decimal("0.1"))
        assert not journal.record_fill(fill("t1"), node, graph, BTC)        # committed
        assert journal.record_fill(fill("t2"), node, graph, BTC)
        await journal.durable()
        journal.close()
        assert (node.filled_qty, graph.filled_qty) == (Decimal("0.2"), Decimal("0.2"))

        again = Journal(True)                                                # a restarted engine
        node = again.node(node.node_order_id)
        graph = again.graph(GID)
        assert node.filled_qty == Decimal("0.2")
        assert not again.record_fill(fill("t2"), node, graph, BTC)           # looked up: known
        assert again.record_fill(fill("t3"), node, graph, BTC)
        await again.durable()
        assert on_disk() == (3, Decimal("0.3"))
        assert again.positions.get("binance", "USDT")[0] == Decimal("-15003")   # 3 × (5,000 + 1 fee)
        again.close()

    asyncio.run(run())


def test_a_group_that_fails_drops_its_fill_and_position_moves(home):
    async def run():
        journal = Journal(True)
        graph, node = orders()
        assert journal.record_fill(fill("t1"), node, graph, BTC)
        with pytest.raises(RuntimeError):
            with journal.group():
                journal.record_fill(fill("t2"), node, graph, BTC)
                raise RuntimeError("the venue's answer made no sense")
        assert journal.positions.get("binance", "BTC")[0] == Decimal("0.1")
        await journal.durable()
        assert on_disk() == (1, Decimal("0.1"))
        journal.close()

    asyncio.run(run())


def test_sql_of_ones_own_sees_the_buffered_positions_first(home):
    async def run():
        journal = Journal(True)
        graph, node = orders()
        journal.record_fill(fill("t1"), node, graph, BTC)
        with journal.tx() as db:                       # as redeem does: read, then write with SQL
            (qty,) = db.execute("SELECT qty FROM positions WHERE venue='binance' AND instrument='BTC'").fetchone()
            db.execute("UPDATE positions SET qty='0', status='redeemed' WHERE venue='binance' AND instrument='BTC'")
        journal.positions.forget()
        await journal.durable()
        assert Decimal(qty) == Decimal("0.1") and on_disk() == (1, Decimal("0"))
        assert journal.positions.get("binance", "BTC")[0] == 0
        journal.close()

    asyncio.run(run())


def test_a_fee_charged_in_another_asset_is_paid_from_that_holding(home):
    """A BNB/BGB fee discount or a fee in the base moves that holding, not the quote cash."""
    from sequence_core.journal import apply_fill_to_positions

    journal = Journal(True)
    p = journal.positions
    p.put("binance", "BNB", "crypto", Decimal("2"), Decimal("1200"), Decimal(0), Decimal(0))   # avg 600
    p.put("binance", "USDT", "crypto", Decimal("10000"), Decimal("10000"), Decimal(0), Decimal(0))

    def paid_in(asset: str, amount: str, fill_id: str) -> Fill:
        f = fill(fill_id)
        return Fill(f.fill_id, f.node_order_id, f.graph_id, f.venue, f.symbol, f.side, f.price, f.qty,
                    Decimal(amount), asset, f.liquidity, f.ts_ns)

    apply_fill_to_positions(p, paid_in("BNB", "0.01", "b1"), BTC)          # 0.1 BTC at 50,000
    assert p.get("binance", "USDT")[0] == Decimal("5000")                   # the price only
    assert p.get("binance", "BNB")[:2] == (Decimal("1.99"), Decimal("1194"))   # 0.01 BNB at its average cost
    assert p.get("binance", "BNB")[3] == Decimal("6")                         # its fees column: 6 USDT, not 0.01
    assert p.get("binance", "BTC")[0] == Decimal("0.1")
    apply_fill_to_positions(p, paid_in("BTC", "0.0001", "b2"), BTC)         # a fee in the base
    assert p.get("binance", "BTC")[0] == Decimal("0.1999")
    assert p.get("binance", "BTC")[3] == Decimal("5")                         # 0.0001 BTC at 50,000
    assert p.get("binance", "USDT")[0] == Decimal("0")
    apply_fill_to_positions(p, paid_in("USDT", "5", "b3"), BTC)             # in the quote, as before
    assert p.get("binance", "USDT")[0] == Decimal("-5005")
    journal.close()
