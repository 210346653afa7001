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


class RefusingContext(FakePolicyContext):
    """A venue that refuses every post (the account cannot pay for it), or only the first
    ``refusals`` of them (a post-only that crossed a touch that moved)."""

    def __init__(self, *args, refusals=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refusals = refusals

    async def post(self, venue, qty, price, post_only=True):
        node = await super().post(venue, qty, price, post_only)
        if self.refusals is None or self.refusals > 0:
            node.status, node.reason = "REJECTED", "insufficient balance"
            self.refusals = None if self.refusals is None else self.refusals - 1
        return node


def test_a_venue_refusing_every_post_stops_it_after_three():
    req = OrderRequest("BTC-USD", "buy", Decimal("0.5"), venue="acme", policy="passive", horizon_s=300)
    ctx = RefusingContext(req, books=[book("acme", "100.00", "100.02")])
    asyncio.run(PassivePolicy().run(ctx))
    assert len([a for a in ctx.actions if a[0] == "post"]) == 3              # not one a second for 5 minutes
    assert ctx.notes[-1] == ("stopped", {"reason": "acme refused 3 posts in a row: insufficient balance"})


def test_a_post_refused_twice_then_taken_keeps_working():
    req = OrderRequest("BTC-USD", "buy", Decimal("0.5"), venue="acme", policy="passive", horizon_s=20)
    ctx = RefusingContext(req, books=[book("acme", "100.00", "100.02")], refusals=2)
    asyncio.run(PassivePolicy().run(ctx))
    assert len([a for a in ctx.actions if a[0] == "post"]) == 3 and ctx.notes[-1][0] == "horizon_reached"


def test_rests_on_the_best_venue_that_can_pay_for_it():
    req = OrderRequest("BTC-USD", "buy", Decimal("0.5"), policy="passive", horizon_s=3)
    books = [book("acme", "100.01", "100.03"), book("zeta", "100.00", "100.02")]
    ctx = FakePolicyContext(req, books=books)
    ctx.unfunded = frozenset({"acme"})                                       # best bid, but cannot pay
    asyncio.run(PassivePolicy().run(ctx))
    assert [a[2] for a in ctx.actions if a[0] == "post"] == ["zeta"]
    nobody = FakePolicyContext(req, books=books)
    nobody.unfunded = frozenset({"acme", "zeta"})                           # none can: the best, to say why
    asyncio.run(PassivePolicy().run(nobody))
    assert [a[2] for a in nobody.actions if a[0] == "post"] == ["acme"]
