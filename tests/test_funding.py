"""Perp funding payments in the ledger (sequence_core/engine/desk.py poll_funding,
sequence_core/journal.py record_funding): each payment kept once, moving the perp's
realized P&L and the cash it was paid in; read only where the ledger holds a perp."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sequence_core import ledger
from sequence_core.execution import FundingPayment
from sequence_core.market import Instrument

PERP = Instrument("acme", "BTC-USDT-PERP", "BTCUSDT", "perp", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"))
T0 = 1_780_000_000 * 10**9
HOUR = 3_600 * 10**9


class Venue:
    def instruments(self):
        return [PERP]


class Session:
    def __init__(self, payments):
        self.payments, self.asked = payments, []

    async def funding_payments(self, since_ns):
        self.asked.append(since_ns)
        return [p for p in self.payments if p.venue_ts_ns >= since_ns]

    async def close(self):
        pass


def pay(n: int, amount: str, symbol: str = "BTCUSDT") -> FundingPayment:
    return FundingPayment(f"f{n}", symbol, "USDT", Decimal(amount), T0 + n * 8 * HOUR)


def hold_perp(journal, venue: str = "acme", qty: str = "0.5") -> None:
    """The ledger as a perp fill on *venue* leaves it: a fills row and the contract's position."""
    journal.db.execute("INSERT INTO fills VALUES (?,?,?,?,?,?,?)", (venue, "t1", "n1", "g1", PERP.symbol, T0 - HOUR, "{}"))
    journal.positions.put(venue, PERP.symbol, "perp", Decimal(qty), Decimal(qty) * 60000, Decimal(0), Decimal("1.5"))
    journal.positions.put(venue, "USDT", "crypto", Decimal(1000), Decimal(1000), Decimal(0), Decimal(0))
    journal.commit()


def run_desk(home, body):
    from sequence_core.engine.server import Engine

    async def run():
        desk = await Engine("seq_test_token").desk("sandbox")
        try:
            return await body(desk)
        finally:
            desk.venues.pop("acme", None)
            desk.sessions.pop("acme", None)
            await desk.stop()

    return asyncio.run(run())


def held(journal, instrument: str) -> ledger.Position:
    return next(p for p in ledger.positions(journal.db) if p.venue == "acme" and p.instrument == instrument)


def test_each_payment_moves_realized_pnl_and_cash_once(home):
    session = Session([pay(1, "-1.25"), pay(2, "0.40"), pay(3, "-2.05"), pay(4, "9", symbol="DOGEUSDT")])

    async def body(desk):
        desk.venues["acme"], desk.sessions["acme"] = Venue(), session
        hold_perp(desk.journal)
        first = await desk.poll_funding()
        session.payments.append(pay(5, "-0.10"))
        second = await desk.poll_funding()          # repeats 3 (the overlap), adds 5
        return first, second, held(desk.journal, PERP.symbol), held(desk.journal, "USDT"), desk.journal.funding("acme")

    first, second, perp, cash, kept = run_desk(home, body)
    assert (first, second) == (3, 1)                # DOGEUSDT is not a perp this venue lists here: skipped
    assert perp.realized == Decimal("-3.00")        # -1.25 + 0.40 - 2.05 - 0.10
    assert (perp.qty, perp.fees) == (Decimal("0.5"), Decimal("1.5"))      # funding is no fill and no fee
    assert cash.qty == Decimal("997.00")
    assert [(k[1], k[4]) for k in kept] == [("f1", Decimal("-1.25")), ("f2", Decimal("0.40")), ("f3", Decimal("-2.05")),
                                            ("f5", Decimal("-0.10"))]
    assert session.asked == [T0 - HOUR, T0 + 3 * 8 * HOUR - HOUR]   # the first perp fill, then the last payment less an hour


def test_a_venue_where_the_ledger_holds_no_perp_is_not_asked(home):
    session = Session([pay(1, "-1")])

    async def body(desk):
        desk.venues["acme"], desk.sessions["acme"] = Venue(), session
        return await desk.poll_funding()

    assert run_desk(home, body) == 0
    assert session.asked == []


def test_payments_survive_a_restart_without_counting_twice(home):
    from sequence_core.journal import Journal

    session = Session([pay(1, "-1.25")])

    async def first(desk):
        desk.venues["acme"], desk.sessions["acme"] = Venue(), session
        hold_perp(desk.journal)
        return await desk.poll_funding()

    async def again(desk):                          # a restarted engine reads the same payment again
        desk.venues["acme"], desk.sessions["acme"] = Venue(), session
        return await desk.poll_funding()

    assert (run_desk(home, first), run_desk(home, again)) == (1, 0)
    journal = Journal(True)
    try:
        assert held(journal, PERP.symbol).realized == Decimal("-1.25")
        assert held(journal, "USDT").qty == Decimal("998.75")
        assert len(journal.funding("acme")) == 1
    finally:
        journal.close()
