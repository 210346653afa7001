import asyncio
from decimal import Decimal

import pytest

from sequence_core.errors import UsageError
from sequence_core.orders import OrderRequest
from sequence_core.testing import FakePolicyContext
from sequence_policy_twap.policy import TwapPolicy, schedule

REQ = OrderRequest("BTC-USD", "buy", Decimal("1.2"), policy="twap", horizon_s=60)


def test_needs_a_horizon():
    with pytest.raises(UsageError, match="--horizon"):
        TwapPolicy().validate(OrderRequest("BTC-USD", "buy", Decimal("1"), policy="twap"))


def test_even_slices_spread_over_the_horizon():
    ctx = FakePolicyContext(REQ)
    asyncio.run(TwapPolicy().run(ctx))
    takes = [a for a in ctx.actions if a[0] == "take"]
    assert len(takes) == 6                                    # 60 s / 10 s
    assert all(a[2] == Decimal("0.2") for a in takes)          # equal slices
    times = [a[1] for a in takes]
    # the first at once, the last at the horizon: worked over all of it (it was done at 50 s)
    assert times == sorted(times) and (times[-1] - times[0]) / 1e9 == pytest.approx(60, abs=0.01)
    assert ctx.graph.filled_qty == REQ.qty


def test_jitter_is_deterministic_per_graph_and_bounded():
    a, b = schedule("graph_a", 0, 600), schedule("graph_a", 0, 600)
    assert a == b and a != schedule("graph_b", 0, 600)
    spacing = 600 / (len(a) - 1)
    for i, (t, _) in enumerate(a):
        assert abs(t / 1e9 - i * spacing) <= 0.2 * spacing + 1e-9


def test_resumes_after_a_restart_without_redoing_slices():
    """Half the horizon passed while the engine was down with 0.2 filled: the catch-up takes
    exactly what the schedule says should be done by now, then continues."""
    ctx = FakePolicyContext(REQ)
    ctx.graph.filled_qty = Decimal("0.2")
    ctx.clock = ctx.started_ns + int(31e9)
    asyncio.run(TwapPolicy().run(ctx))
    takes = [a for a in ctx.actions if a[0] == "take"]
    assert takes[0][2] == Decimal("0.4")                      # 3/6 of 1.2 is due (slices 12 s apart), 0.2 done
    assert ctx.graph.filled_qty == REQ.qty


def test_partial_fills_are_swept_at_the_end():
    ctx = FakePolicyContext(REQ, take_fill_ratio=Decimal("0.5"))
    asyncio.run(TwapPolicy().run(ctx))
    last = [a for a in ctx.actions if a[0] == "take"][-1]
    assert last[4] == "high" and ("final_sweep" in [k for k, _ in ctx.notes])


def test_slices_are_not_written_with_28_digits():
    ctx = FakePolicyContext(OrderRequest("BTC-USD", "buy", Decimal("0.5"), policy="twap", horizon_s=30))
    asyncio.run(TwapPolicy().run(ctx))
    first = [a for a in ctx.actions if a[0] == "take"][0][2]
    assert first == Decimal("0.166666666666")                          # was 0.1666666666666666666666666667
