import asyncio
from decimal import Decimal

import pytest

from sequence_core.errors import UsageError
from sequence_core.orders import OrderRequest
from sequence_core.testing import FakePolicyContext
from sequence_policy_iceberg.policy import IcebergPolicy

REQ = OrderRequest("BTC-USD", "buy", Decimal("1"), venue="acme", limit_price=Decimal("90000"), policy="iceberg", horizon_s=30)


def test_needs_a_limit_price():
    with pytest.raises(UsageError, match="--limit-price"):
        IcebergPolicy().validate(OrderRequest("BTC-USD", "buy", Decimal("1"), policy="iceberg"))


class FillingContext(FakePolicyContext):
    """Fills the visible clip one second after it is posted."""

    async def sleep(self, seconds):
        await super().sleep(seconds)
        self.max_visible = max(getattr(self, "max_visible", 0), len(self.open_nodes()))
        self.fill_resting()


def test_one_clip_at_a_time_until_filled():
    ctx = FillingContext(REQ)
    asyncio.run(IcebergPolicy().run(ctx))
    posts = [a for a in ctx.actions if a[0] == "post"]
    assert len(posts) == 10 and all(p[3] == Decimal("0.1") and p[4] == Decimal("90000") for p in posts)
    assert ctx.max_visible == 1 and ctx.graph.filled_qty == Decimal("1")


def test_stops_at_the_horizon_and_cancels_the_clip():
    ctx = FakePolicyContext(REQ)                       # nothing ever fills
    asyncio.run(IcebergPolicy().run(ctx))
    assert [a[0] for a in ctx.actions].count("post") == 1
    assert ctx.actions[-1][0] == "cancel" and ctx.notes[-1][0] == "horizon_reached"


def test_resumes_with_a_clip_already_showing():
    ctx = FillingContext(REQ)
    ctx.nodes.append(ctx._node("acme", Decimal("0.1"), Decimal("90000"), "limit"))
    asyncio.run(IcebergPolicy().run(ctx))
    assert [a[0] for a in ctx.actions].count("post") == 9       # the resting clip was not doubled


def test_a_venue_refusing_every_clip_stops_it_after_three():
    class Refusing(FakePolicyContext):
        async def post(self, venue, qty, price, post_only=True):
            node = await super().post(venue, qty, price, post_only)
            node.status, node.reason = "REJECTED", "insufficient balance"
            return node

    req = OrderRequest("BTC-USD", "buy", Decimal("1"), venue="acme", limit_price=Decimal("90000"), policy="iceberg")
    ctx = Refusing(req)
    asyncio.run(IcebergPolicy().run(ctx))
    assert len([a for a in ctx.actions if a[0] == "post"]) == 3             # no horizon: it used to post forever
    assert ctx.notes[-1][0] == "stopped" and "refused 3 posts in a row" in ctx.notes[-1][1]["reason"]


def test_rests_its_clips_on_the_best_venue_that_can_pay_for_the_order():
    from sequence_core.market import BookLevel, OrderBook

    def book(venue, bid):
        return OrderBook(venue, "BTC-USD", 0, 0, (BookLevel(Decimal(bid), Decimal(1)),), (BookLevel(Decimal("99999"), Decimal(1)),))

    req = OrderRequest("BTC-USD", "buy", Decimal("1"), limit_price=Decimal("90000"), policy="iceberg", horizon_s=2)
    ctx = FakePolicyContext(req, books=[book("acme", "89990"), book("zeta", "89980")])
    ctx.unfunded = frozenset({"acme"})
    asyncio.run(IcebergPolicy().run(ctx))
    assert {a[2] for a in ctx.actions if a[0] == "post"} == {"zeta"}
