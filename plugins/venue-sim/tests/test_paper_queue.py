"""The paper venue's queue model, driven by a controlled market-data source."""

import asyncio
from decimal import Decimal as D

from sequence_core.market import BookLevel, FeeSchedule, FeeTier, Instrument, MarketDataSource, OrderBook, Trade
from sequence_core.orders import NodeOrder
from sequence_core.venues import Venue
from sequence_venue_sim.paper import PaperExchange, PaperSession

INST = Instrument("acme", "BTC-USD", "BTCUSD", "crypto", "BTC", "USD", D("0.01"), D("0.001"))


class Acme(Venue):
    name = "acme"

    def fee_schedule(self):
        return FeeSchedule("acme", (FeeTier("0", D("0.001"), D("0.002")),), "https://acme.example", "2026")


class Controlled(MarketDataSource):
    name = "controlled"

    def __init__(self):
        self.clock = 1_700_000_000_000_000_000
        self.prints: list[Trade] = []
        self.bid, self.ask = D("100.00"), D("100.02")

    def now_ns(self):
        return self.clock

    def books(self, instruments, at_ns=None, depth=20):
        return [OrderBook("acme", "BTC-USD", self.clock, self.clock, (BookLevel(self.bid, D("2")),), (BookLevel(self.ask, D("1")),))]

    def trades(self, instrument, start_ns, end_ns):
        return [t for t in self.prints if start_ns <= t.ts_ns < end_ns]


def node(qty="1", price="100.00", cid="1"):
    return NodeOrder(f"graph_00000000000{cid}:node_0:0", f"graph_00000000000{cid}", 0, 0, "acme", "BTC-USD", "buy",
                     D(qty), D(price), "limit", "PENDING_NEW", 0, 0)


def test_a_resting_bid_fills_only_after_the_queue_ahead_trades(tmp_path):
    src = Controlled()
    session = PaperSession(Acme(), PaperExchange(tmp_path / "paper.db"), src)
    n = node()
    state = asyncio.run(session.place(n, INST))
    assert state.status == "NEW"                                  # joins behind 2 BTC shown at 100.00
    src.clock += 1_000_000_000
    src.prints = [Trade("acme", "BTC-USD", src.clock - 500_000_000, -1, D("100.00"), D("1.5"))]
    assert asyncio.run(session.poll([(n, INST)]))[0].status == "NEW"     # 0.5 still ahead
    src.clock += 1_000_000_000
    src.prints.append(Trade("acme", "BTC-USD", src.clock - 500_000_000, 1, D("100.02"), D("5")))   # buys don't count
    src.prints.append(Trade("acme", "BTC-USD", src.clock - 400_000_000, -1, D("100.00"), D("0.8")))
    state = asyncio.run(session.poll([(n, INST)]))[0]
    assert state.status == "PARTIALLY_FILLED" and state.filled_qty == D("0.3")      # 0.8 - 0.5 ahead
    assert state.fills[0].liquidity == "maker" and state.fills[0].fee == D("0.3") * D("100.00") * D("0.001")


def test_trading_through_fills_everything_at_our_price(tmp_path):
    src = Controlled()
    session = PaperSession(Acme(), PaperExchange(tmp_path / "paper.db"), src)
    n = node(cid="2")
    asyncio.run(session.place(n, INST))
    src.clock += 1_000_000_000
    src.bid, src.ask = D("99.90"), D("99.98")                     # the ask dropped through our bid
    state = asyncio.run(session.poll([(n, INST)]))[0]
    assert state.status == "FILLED" and state.fills[-1].price == D("100.00")


def test_cancel_loses_to_a_fill_that_happened_first(tmp_path):
    src = Controlled()
    session = PaperSession(Acme(), PaperExchange(tmp_path / "paper.db"), src)
    n = node(cid="3")
    asyncio.run(session.place(n, INST))
    src.clock += 1_000_000_000
    src.prints = [Trade("acme", "BTC-USD", src.clock - 1, -1, D("100.00"), D("10"))]
    state = asyncio.run(session.cancel(n, INST))
    assert state.status == "FILLED"


def test_the_venue_answers_only_what_it_has_committed(tmp_path):
    """Concurrent places share one commit, and each is on disk when answered."""
    import sqlite3

    src = Controlled()
    session = PaperSession(Acme(), PaperExchange(tmp_path / "paper.db"), src)

    def on_disk():
        conn = sqlite3.connect(tmp_path / "paper.db")
        try:
            return {r[0] for r in conn.execute("SELECT client_order_id FROM orders")}
        finally:
            conn.close()

    async def place(cid):
        n = node(cid=cid)
        state = await session.place(n, INST)
        return state.client_order_id, n.client_order_id in on_disk()

    async def run():
        return await asyncio.gather(*(place(str(k)) for k in range(1, 6)))

    answers = asyncio.run(run())
    assert all(durable for _, durable in answers)
    assert len(on_disk()) == 5
    # outside an event loop a put commits at once
    session.exchange.put("acme", session.exchange.get("acme", answers[0][0]))
    assert len(on_disk()) == 5 and not session.exchange._pending


class Deep(Controlled):
    """Five levels a side, 100.00 / 100.02 at the touch, ten ticks apart; records the depths asked."""

    def __init__(self):
        super().__init__()
        self.asked: list[int] = []

    def books(self, instruments, at_ns=None, depth=20):
        self.asked.append(depth)
        bids = tuple(BookLevel(self.bid - D("0.10") * i, D(1 + i)) for i in range(5))[:depth]
        asks = tuple(BookLevel(self.ask + D("0.10") * i, D(1 + i)) for i in range(5))[:depth]
        return [OrderBook("acme", "BTC-USD", self.clock, self.clock, bids, asks)]


def test_a_place_reads_only_as_deep_a_book_as_its_answer_needs(tmp_path, monkeypatch):
    """Most places need only the touch (a synthetic 50-level book costs ~13x its top); the
    answer, fills and queue are those the full book gives."""
    import sequence_venue_sim.paper as paper

    monkeypatch.setattr(paper, "ENTRY_LATENCY_MS", 0)
    cases = [  # (side, qty, price, type, reads the full book)
        ("buy", "0.5", None, "market", False), ("buy", "2.5", None, "market", True),
        ("buy", "0.5", "100.01", "ioc", False), ("sell", "3", "99.95", "ioc", True),
        ("buy", "1.5", "100.12", "limit", True), ("buy", "1", "100.00", "post_only", False),
        ("buy", "1", "99.80", "post_only", True), ("buy", "1", "100.01", "post_only", False),
        ("buy", "1", "100.02", "post_only", False), ("sell", "1", "100.12", "limit", True)]

    def place(tmp, full: bool):
        src = Deep()
        session = PaperSession(Acme(), PaperExchange(tmp / "paper.db"), src)
        if full:
            monkeypatch.setattr(session, "_book_for", lambda order, inst, at: session._book(inst, at))
        out = []
        for k, (side, qty, price, kind, _) in enumerate(cases):
            n = NodeOrder(f"graph_0000000000{k:02d}:node_0:0", f"graph_0000000000{k:02d}", 0, 0, "acme", "BTC-USD", side,
                          D(qty), D(price) if price else None, kind, "PENDING_NEW", 0, 0)
            src.asked.clear()
            session.source._taken.clear()   # each case on the book as shown (what takers took stays taken otherwise)
            state = asyncio.run(session.place(n, INST))
            out.append((state.status, state.filled_qty, state.fills, session.exchange.get("acme", n.client_order_id).queue_ahead,
                        max(src.asked) > 1))
        return out

    (tmp_path / "lean").mkdir(), (tmp_path / "full").mkdir()
    lean, full = place(tmp_path / "lean", False), place(tmp_path / "full", True)
    assert [x[:4] for x in lean] == [x[:4] for x in full]
    assert [x[4] for x in lean] == [c[4] for c in cases]
    assert [x[0] for x in lean] == ["FILLED", "FILLED", "EXPIRED", "EXPIRED", "FILLED", "NEW", "NEW", "NEW", "REJECTED", "NEW"]
    assert [x[3] for x in lean][5:8] + [lean[9][3]] == [D(1), D(3), D(0), D(2)]   # queue: at the touch, at 99.80, inside the spread, 100.12


def test_orders_the_store_cannot_commit_yet_are_kept_and_answered_once_on_disk(tmp_path):
    """A full disk: the venue holds its answers until its store has the orders, loses none,
    and picks up by itself once the disk takes them."""
    import sqlite3

    from conftest import FullDisk

    session = PaperSession(Acme(), PaperExchange(tmp_path / "paper.db"), Controlled())
    disk = session.exchange.db = FullDisk(session.exchange.db, "COMMIT", times=3)

    async def run():
        return await asyncio.wait_for(asyncio.gather(*(session.place(node(cid=str(k)), INST) for k in range(1, 4))), 10)

    states = asyncio.run(run())
    assert disk.left == 0 and [s.status for s in states] == ["NEW"] * 3
    conn = sqlite3.connect(tmp_path / "paper.db")
    try:
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 3
    finally:
        conn.close()


def taker(qty, cid, side="buy", kind="market", price=None):
    return NodeOrder(f"graph_0000000001{cid}:node_0:0", f"graph_0000000001{cid}", 0, 0, "acme", "BTC-USD", side,
                     D(qty), D(price) if price else None, kind, "PENDING_NEW", 0, 0)


def test_liquidity_a_taker_took_is_gone_until_the_source_refreshes_the_level(tmp_path, monkeypatch):
    """The source never sees paper trades: a second order on the same book must not take the
    same displayed size again, and routing (which reads the same PaperMarket) must not see it."""
    import sequence_venue_sim.paper as paper

    monkeypatch.setattr(paper, "ENTRY_LATENCY_MS", 0)
    src = Deep()                                  # asks 1 @ 100.02, 2 @ 100.12, 3 @ 100.22, ...
    session = PaperSession(Acme(), PaperExchange(tmp_path / "paper.db"), src)
    first = asyncio.run(session.place(taker("1.5", 1), INST))
    assert [(f.price, f.qty) for f in first.fills] == [(D("100.02"), D("1")), (D("100.12"), D("0.5"))]
    # the book as routing sees it: 100.02 gone, 1.5 left at 100.12, still two levels at depth 2
    shown = session.source.books([INST], src.clock, depth=2)[0]
    assert shown.asks == (BookLevel(D("100.12"), D("1.5")), BookLevel(D("100.22"), D("3")))
    assert shown.bids == src.books([INST], src.clock, depth=2)[0].bids          # the other side untouched
    second = asyncio.run(session.place(taker("2", 2), INST))
    assert [(f.price, f.qty) for f in second.fills] == [(D("100.12"), D("1.5")), (D("100.22"), D("0.5"))]
    # an IOC limited at the emptied touch finds nothing there
    assert asyncio.run(session.place(taker("0.5", 3, kind="ioc", price="100.02"), INST)).status == "EXPIRED"
    # the source shows the touch with another size (it refreshed): all of it is there again
    src.ask, src.clock = src.ask, src.clock + 100_000_000
    monkeypatch.setattr(Deep, "books", lambda self, instruments, at_ns=None, depth=20: [OrderBook(
        "acme", "BTC-USD", self.clock, self.clock, (BookLevel(self.bid, D("1")),),
        tuple(BookLevel(self.ask + D("0.10") * i, D("1.25") + i) for i in range(5))[:depth])])
    third = asyncio.run(session.place(taker("1.25", 4, kind="ioc", price="100.02"), INST))
    assert third.status == "FILLED" and third.fills[0].price == D("100.02")


def test_a_level_whose_size_never_changes_is_whole_again_after_the_keep_time(tmp_path, monkeypatch):
    import sequence_venue_sim.paper as paper

    monkeypatch.setattr(paper, "ENTRY_LATENCY_MS", 0)
    src = Controlled()                            # 1 @ 100.02, forever
    session = PaperSession(Acme(), PaperExchange(tmp_path / "paper.db"), src)
    assert asyncio.run(session.place(taker("1", 1, kind="ioc", price="100.02"), INST)).status == "FILLED"
    assert asyncio.run(session.place(taker("1", 2, kind="ioc", price="100.02"), INST)).status == "EXPIRED"
    assert session.source.books([INST], src.clock, depth=1)[0].asks == ()
    src.clock += (paper.TAKEN_KEEP_S + 1) * 1_000_000_000
    assert asyncio.run(session.place(taker("1", 3, kind="ioc", price="100.02"), INST)).status == "FILLED"
    assert [t.at_ns for t in session.source._taken[("acme", "BTC-USD", None, True)].values()] == [src.clock]   # taken anew
    src.clock += (paper.TAKEN_KEEP_S + 1) * 1_000_000_000
    assert session.source.books([INST], src.clock, depth=1)[0].asks and not session.source._taken   # nothing kept


def test_what_a_yes_taker_took_is_not_hidden_from_the_no_book():
    """An event contract's YES and NO books carry one symbol: what was taken is kept per
    outcome, so a YES ask taken at 0.50 does not hide the NO ask quoted at 0.50 too."""
    from sequence_venue_sim.paper import PaperMarket

    yes = Instrument("acme", "KXT-1", "KXT-1", "event_contract", "KXT-1", "USD", D("0.01"), D("1"), outcome="YES")
    no = Instrument("acme", "KXT-1", "KXT-1", "event_contract", "KXT-1", "USD", D("0.01"), D("1"), outcome="NO")

    class Binary(Controlled):
        def books(self, instruments, at_ns=None, depth=20):
            return [OrderBook("acme", "KXT-1", self.clock, self.clock, (BookLevel(D("0.49"), D("10")),),
                              (BookLevel(D("0.50"), D("10")),)) for _ in instruments]

    market = PaperMarket(Binary())
    level = market.books([yes], None, 1)[0].asks[0]
    market.take(yes, True, level, D("10"), market.now_ns())
    shown_yes, shown_no = market.books([yes, no], None, 1)
    assert shown_yes.asks == () and shown_no.asks == (BookLevel(D("0.50"), D("10")),)
    assert market.books([no], None, 1)[0].asks == (BookLevel(D("0.50"), D("10")),)
