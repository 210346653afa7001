"""Live ``positions`` shows what the venue holds: Binance's holdings (spot free + locked, plus the
USD-M wallet), read from the fake; and the merge of a venue's holdings over the ledger's cash and
spot rows (sequence_core.portfolio), on its own."""

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_binance import FakeBinance  # noqa: E402
from sequence_core.ledger import Position  # noqa: E402
from sequence_core.market import BookLevel, Instrument, OrderBook  # noqa: E402
from sequence_core.portfolio import VenueReport, merge_reported, value  # noqa: E402
from sequence_venue_binance.execution import BinanceSession  # noqa: E402
from sequence_venue_binance.http import BinanceClient  # noqa: E402

KEY, SECRET = "test-api-key-0003", "test-secret-0003"


@pytest.fixture
def fake():
    server = FakeBinance(KEY, SECRET)
    server.url = server.start()
    yield server
    server.stop()


def test_holdings_are_free_plus_locked_and_the_usdm_wallet(fake):
    fake.spot_locked = {"BTC": "0.25"}

    async def go():
        session = BinanceSession(BinanceClient(KEY, SECRET, fake.url), {"fapi_url": fake.url})
        try:
            return await session.holdings(), await session.balances()
        finally:
            await session.close()
    held, free = asyncio.run(go())
    assert held == {"BTC": Decimal("1.25"), "USDT": Decimal("100000") + fake.f_wallet}
    assert free["BTC"] == Decimal("1.0") and free["USDT"] == Decimal("100000")     # balances stay the free part


def pos(venue, inst, kind, qty, cost, realized="0", fees="0", status="open"):
    return Position(venue, inst, kind, Decimal(qty), Decimal(cost), Decimal(realized), Decimal(fees), status)


class Marks:
    """A market-data source with one BTC-USDT book on binance: mid 91000."""

    def now_ns(self):
        return 1

    def label(self):
        return "test"

    def books(self, instruments, at, depth=1):
        return [OrderBook(i.venue, i.symbol, at, at, (BookLevel(Decimal("90990"), Decimal(1)),),
                          (BookLevel(Decimal("91010"), Decimal(1)),)) for i in instruments]


def test_a_venues_holdings_replace_the_ledgers_cash_and_spot():
    ledger = [pos("binance", "USDT", "crypto", "-910", "-910"),                  # only Sequence's fills: negative
              pos("binance", "BTC", "crypto", "0.00999", "909.09", realized="-0.1", fees="0.00001"),
              pos("binance", "ETH", "crypto", "0", "0", realized="2", status="closed"),
              pos("binance", "BTC-USDT-PERP", "perp", "0.01", "910"),
              pos("binance", "ETH-USDT-PERP", "perp", "0.1", "300", realized="-1.5", fees="0.91"),   # closed at binance
              pos("okx", "USDT", "crypto", "-5", "-5"), pos("okx", "BTC", "crypto", "0.5", "45000")]
    reported = {"binance": VenueReport([pos("binance", "BTC-USDT-PERP", "perp", "0.02", "1820")],
                                       {"USDT": Decimal("99090"), "BTC": Decimal("1.00999"), "DOGE": Decimal(0)}),
                "okx": VenueReport(None, None, "holdings not read (timeout): cash and spot are the ledger's")}
    rows, unknown, notes = merge_reported(ledger, reported)
    got = {(p.venue, p.instrument): p for p in rows}
    assert got[("binance", "USDT")].qty == Decimal("99090") and got[("binance", "USDT")].kind == "crypto"
    btc = got[("binance", "BTC")]
    assert (btc.qty, btc.realized, btc.fees) == (Decimal("1.00999"), Decimal("-0.1"), Decimal("0.00001"))
    assert unknown == {("binance", "BTC")}                               # the ledger holds less: basis unknown
    assert ("binance", "DOGE") not in got                                # zero balances left out
    eth = got[("binance", "ETH")]                                        # held none, realized P&L kept
    assert (eth.qty, eth.realized, eth.status) == (Decimal(0), Decimal(2), "closed")
    assert got[("binance", "BTC-USDT-PERP")].qty == Decimal("0.02")
    closed = got[("binance", "ETH-USDT-PERP")]                           # not reported: closed, its P&L and fees kept
    assert (closed.qty, closed.realized, closed.fees, closed.status) == (Decimal(0), Decimal("-1.5"), Decimal("0.91"), "closed")
    assert got[("okx", "USDT")].qty == Decimal("-5") and got[("okx", "BTC")].qty == Decimal("0.5")   # okx: the ledger's
    assert notes == ["okx: holdings not read (timeout): cash and spot are the ledger's"]

    inst = Instrument("binance", "BTC-USDT", "BTCUSDT", "crypto", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"),
                      Decimal("5"))
    spot = [p for p in rows if p.venue == "binance" and p.instrument in ("USDT", "BTC")]
    result = value(spot, [inst], Marks(), "live", unknown, notes)
    row = next(r for r in result.rows if r.instrument == "BTC")
    assert (row.entry, row.mark, row.unrealized_pnl, row.entry_known) == (Decimal(91000), Decimal(91000), Decimal(0), False)
    assert result.summary.cash == Decimal("99090") and result.notes == notes
    assert result.summary.nav == Decimal("99090") + Decimal("1.00999") * 91000


def test_a_spot_holding_the_ledger_matches_keeps_its_cost_basis():
    ledger = [pos("binance", "BTC", "crypto", "0.5", "45000")]
    rows, unknown, _ = merge_reported(ledger, {"binance": VenueReport(None, {"BTC": Decimal("0.5")})})
    assert rows == [pos("binance", "BTC", "crypto", "0.5", "45000")] and not unknown
