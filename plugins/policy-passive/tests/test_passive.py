import asyncio
from decimal import Decimal

from sequence_core.market import BookLevel, OrderBook
from sequence_core.orders import OrderRequest
from sequence_core.testing import FakePolicyContext
from sequence_policy_passive.policy import PassivePolicy


def book(venue, bid, ask):
    return OrderBook(venue, "BTC-USD", 0, 0, (BookLevel(Decimal(bid), Decimal(1)),), (BookLevel(Decimal(ask), Decimal(1)),))


class MovingContext(FakePolicyContext):
    """The touch moves up a tick every 3 seconds; the order fills at second 10."""

    async def sleep(self, seconds):
        await super().sleep(seconds)
        elapsed = (self.clock - self.started_ns) // 1_000_000_000
        bid = Decimal("100.00") + Decimal("0.01") * (elapsed // 3)
        self._books = [book("acme", bid, bid + Decimal("0.02"))]
        if elapsed == 10:
            self.fill_resting()


def test_joins_the_touch_and_pegs_it_never_crossing():
    req = OrderRequest("BTC-USD", "buy", Decimal("0.5"), venue="acme", policy="passive", horizon_s=60)
    ctx = MovingContext(req, books=[book("acme", "100.00", "100.02")])
    asyncio.run(PassivePolicy().run(ctx))
    posts = [a for a in ctx.actions if a[0] == "post"]
    assert posts[0][4] == Decimal("100.00") and posts[0][5] is True          # post-only at the bid
    replaces = [a for a in ctx.actions if a[0] == "replace"]
    assert [r[3] for r in replaces] == [Decimal("100.01"), Decimal("100.02"), Decimal("100.03")]
    assert not [a for a in ctx.actions if a[0] == "take"]                     # never crosses
    assert ctx.graph.filled_qty == Decimal("0.5")


def test_limit_price_caps_the_peg():
    req = OrderRequest("BTC-USD", "buy", Decimal("0.5"), venue="acme", limit_price=Decimal("100.01"), policy="passive", horizon_s=20)
    ctx = MovingContext(req, books=[book("acme", "100.00", "100.02")])
    asyncio.run(PassivePolicy().run(ctx))
    prices = [a[4] for a in ctx.actions if a[0] == "post"] + [a[3] for a in ctx.actions if a[0] == "replace"]
    assert max(prices) == Decimal("100.01")


def test_stops_at_the_horizon():
    req = OrderRequest("BTC-USD", "sell", Decimal("0.5"), venue="acme", policy="passive", horizon_s=5)
    ctx = FakePolicyContext(req, books=[book("acme", "100.00", "100.02")])
    asyncio.run(PassivePolicy().run(ctx))
    assert ctx.actions[0][4] == Decimal("100.02")                            # a sell joins the ask
    assert ctx.actions[-1][0] == "cancel" and ctx.notes[-1][0] == "horizon_reached"
