import asyncio
from decimal import Decimal

import pytest

from sequence_core.errors import UsageError
from sequence_core.orders import OrderRequest
from sequence_core.testing import FakePolicyContext
from sequence_policy_vwap.policy import DEFAULT_PROFILE, VwapPolicy, schedule

HOUR = 3_600_000_000_000


def test_needs_a_horizon():
    with pytest.raises(UsageError, match="--horizon"):
        VwapPolicy().validate(OrderRequest("BTC-USD", "buy", Decimal("1"), policy="vwap"))


def test_busy_hours_get_bigger_slices():
    """A 2-hour horizon from 12:00 UTC spans a quiet and a busy hour (US open)."""
    start = 20_000 * 24 * HOUR + 12 * HOUR
    points = schedule(start, 7200, DEFAULT_PROFILE)
    fractions = [f for _, f in points]
    half = len(points) // 2
    first_hour, second_hour = fractions[half - 1], Decimal(1) - fractions[half - 1]
    assert second_hour > first_hour                           # 13:00-14:00 is busier than 12:00-13:00
    assert fractions[-1] == 1 and fractions == sorted(fractions)


def test_flat_profile_is_twap():
    points = schedule(0, 60, [1.0] * 24)
    assert [f for _, f in points] == [Decimal(repr((i + 1) / 6)) if i < 5 else Decimal(1) for i in range(6)]


def test_fills_the_parent_and_uses_a_learned_profile_when_given():
    req = OrderRequest("BTC-USD", "sell", Decimal("3"), policy="vwap", horizon_s=120)
    ctx = FakePolicyContext(req)
    ctx.volume_profile = lambda: [1.0] * 24
    asyncio.run(VwapPolicy().run(ctx))
    assert ctx.graph.filled_qty == Decimal("3")
    assert len([a for a in ctx.actions if a[0] == "take"]) == 12
