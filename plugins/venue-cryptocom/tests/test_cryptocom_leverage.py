"""``[venues.cryptocom] leverage``: ``private/change-account-leverage`` (account-wide on Crypto.com)
signed as the exchange verifies it, for the account ``private/get-accounts`` names, once per
session before the first perp order; never without the setting, never for spot; a leverage
above the account maximum (100) refused clearly before the order is sent; a bad setting
refused when the session is built."""

import asyncio
import functools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_cryptocom import FakeCryptocom  # noqa: E402
from sequence_core.errors import ConfigError, InvalidOrder  # noqa: E402
from sequence_venue_cryptocom.execution import CryptocomSession  # noqa: E402
from sequence_venue_cryptocom.http import CryptocomClient  # noqa: E402
from sequence_venue_cryptocom.symbols import INSTRUMENTS  # noqa: E402
from sequence_venue_cryptocom.venue import CryptocomVenue  # noqa: E402
from sequence_core.testing import child_order, running  # noqa: E402

KEY, SECRET = "cdc-lev-key", "cdc-lev-secret"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
BTC_PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD-PERP")
ETH_PERP = next(i for i in INSTRUMENTS if i.symbol == "ETH-USD-PERP")


@pytest.fixture
def fake():
    yield from running(FakeCryptocom(KEY, SECRET))


node = functools.partial(child_order, price="91000.0")


def trade(fake, settings, *orders):
    async def work():
        s = CryptocomSession(CryptocomClient(KEY, SECRET, fake.url + "/exchange/v1"), settings)
        try:
            return [await s.place(node(n, inst, **kw), inst) for n, (inst, kw) in enumerate(orders)]
        finally:
            await s.close()
    return asyncio.run(work())


def methods(fake) -> list[str]:
    return [b["method"] for b in fake.bodies]


def test_leverage_is_set_once_a_session_before_the_first_perp_order(fake):
    states = trade(fake, {"leverage": 5}, (BTC_PERP, {}), (ETH_PERP, {}), (BTC_PERP, {"side": "sell", "price": "90990.0"}),
                   (BTC, {"price": "91000.00"}))
    assert [s.status for s in states] == ["FILLED"] * 4
    assert fake.leverage_sets == [5] and fake.account_leverage == 5          # account-wide: once, whatever the perp
    calls = methods(fake)
    assert calls.index("private/change-account-leverage") < calls.index("private/create-order")


def test_without_the_setting_or_for_spot_nothing_is_set(fake):
    trade(fake, {}, (BTC_PERP, {}))
    trade(fake, {"leverage": 5}, (BTC, {"price": "91000.00"}))
    assert fake.leverage_sets == [] and "private/change-account-leverage" not in methods(fake)


def test_above_the_account_maximum_is_refused_clearly_and_no_order_is_sent(fake):
    with pytest.raises(InvalidOrder, match=r"leverage 150 refused for the account \(account-wide, before the first BTCUSD-PERP order\): "
                                         r".*\(40003\); Crypto.com allows at most 100x"):
        trade(fake, {"leverage": 150}, (BTC_PERP, {}))
    assert "private/create-order" not in methods(fake) and fake.account_leverage is None


@pytest.mark.parametrize("value", [0, -3, 2.0, "10", True])
def test_a_leverage_that_is_not_a_positive_integer_is_refused_when_the_session_is_built(value):
    with pytest.raises(ConfigError, match=r"\[venues.cryptocom\] leverage"):
        CryptocomVenue().execution_session({"api_key": KEY, "api_secret": SECRET}, {"leverage": value})
