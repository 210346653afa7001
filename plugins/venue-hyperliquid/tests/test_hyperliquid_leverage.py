"""``[venues.hyperliquid] leverage``: ``updateLeverage`` (cross) signed as the fake verifies it, once
per perp per session before its first order; never without the setting, never for spot; a
leverage above the coin's ``maxLeverage`` refused clearly before the order is sent; a bad
setting refused when the session is built."""

import asyncio
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_hyperliquid import FakeHyperliquid  # noqa: E402
from sequence_core.errors import ConfigError, InvalidOrder  # noqa: E402
from sequence_core.keys import evm_address_of  # noqa: E402
from sequence_core.testing import child_order  # noqa: E402
from sequence_venue_hyperliquid.execution import HyperliquidSession  # noqa: E402
from sequence_venue_hyperliquid.http import HyperliquidClient  # noqa: E402
from sequence_venue_hyperliquid.symbols import INSTRUMENTS  # noqa: E402
from sequence_venue_hyperliquid.venue import HyperliquidVenue  # noqa: E402

KEY = "0x" + "5d" * 32
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDC-PERP")
HYPE = next(i for i in INSTRUMENTS if i.symbol == "HYPE-USDC")


@pytest.fixture
def fake():
    server = FakeHyperliquid(evm_address_of(bytes.fromhex(KEY[2:])))
    server.url = server.start()
    server.spot_usdc = Decimal("1000")
    yield server
    server.stop()


node = child_order


def trade(fake, settings, *orders):
    async def work():
        s = HyperliquidSession(HyperliquidClient(KEY, "", "", fake.url), settings)
        try:
            return [await s.place(node(n, inst, **kw), inst) for n, (inst, kw) in enumerate(orders)]
        finally:
            await s.close()
    return asyncio.run(work())


def test_leverage_is_set_once_per_perp_signed_and_cross_before_its_first_order(fake):
    states = trade(fake, {"leverage": 5}, (BTC, {}), (BTC, {"side": "sell", "price": "90990"}),
                   (HYPE, {"qty": "1", "price": "30.01"}))
    assert [s.status for s in states] == ["FILLED"] * 3
    assert fake.leverage == {"BTC": (5, True)}                      # verified signer, cross
    assert [a["type"] for a in fake.actions] == ["updateLeverage", "order", "order", "order"]


def test_without_the_setting_or_for_spot_nothing_is_set(fake):
    trade(fake, {}, (BTC, {}))
    trade(fake, {"leverage": 5}, (HYPE, {"qty": "1", "price": "30.01"}))
    assert fake.leverage == {} and "updateLeverage" not in [a["type"] for a in fake.actions]


def test_above_the_coins_max_leverage_is_refused_clearly_and_no_order_is_sent(fake):
    fake.max_leverage = 20
    with pytest.raises(InvalidOrder, match=r"leverage 50 refused for BTC \(BTC-USDC-PERP\): Invalid leverage value \(invalid_leverage\); Hyperliquid allows at most 20x"):
        trade(fake, {"leverage": 50}, (BTC, {}))
    assert [a["type"] for a in fake.actions] == ["updateLeverage"] and fake.leverage == {}


@pytest.mark.parametrize("value", [0, -1, 3.5, "5", True])
def test_a_leverage_that_is_not_a_positive_integer_is_refused_when_the_session_is_built(value):
    with pytest.raises(ConfigError, match=r"\[venues.hyperliquid\] leverage"):
        HyperliquidVenue().execution_session({"private_key": KEY}, {"leverage": value})
