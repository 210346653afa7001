import asyncio
from decimal import Decimal

from sequence_core.orders import OrderRequest
from sequence_core.testing import FakePolicyContext
from sequence_policy_aggressive.policy import AggressivePolicy

REQ = OrderRequest("ETH-USD", "buy", Decimal("5"), policy="aggressive", max_slippage_bps=10)


def test_takes_everything_at_once_with_high_urgency():
    ctx = FakePolicyContext(REQ)
    asyncio.run(AggressivePolicy().run(ctx))
    takes = [a for a in ctx.actions if a[0] == "take"]
    assert len(takes) == 1 and takes[0][2] == Decimal("5") and takes[0][4] == "high"


def test_reroutes_partial_fills_then_stops_at_the_cap():
    ctx = FakePolicyContext(REQ, take_fill_ratio=Decimal("0.5"))
    asyncio.run(AggressivePolicy().run(ctx))
    takes = [a for a in ctx.actions if a[0] == "take"]
    assert [t[2] for t in takes] == [Decimal("5"), Decimal("2.5"), Decimal("1.25"), Decimal("0.625"), Decimal("0.313")]
    assert ctx.notes[-1][0] == "capped"
