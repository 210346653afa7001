"""The SDK's own surface: values a script passes (numbers, not flag strings) are checked as
the CLI checks its flags, with the same errors."""

import pytest


@pytest.mark.parametrize("horizon, seconds", [(300, 300.0), (2.5, 2.5), ("5m", 300.0)])
def test_order_horizon_is_a_duration_or_seconds(horizon, seconds):
    from sequence_core.client import order_request

    assert order_request("buy", "BTC-USD", "1", policy="twap", horizon=horizon).horizon_s == seconds


@pytest.mark.parametrize("horizon", [0, -30, float("nan"), True, "5 minutes"])
def test_order_refuses_a_bad_horizon_before_the_engine(home, horizon):
    from sequence_core.client import Sequence
    from sequence_core.errors import UsageError

    with pytest.raises(UsageError, match="--horizon must be a duration like 30s, 5m or 1h"):
        Sequence(sandbox=True).order("buy", "BTC-USD", "1", policy="twap", horizon=horizon)
    assert not (home / "engine.json").exists()           # refused here: no engine started
