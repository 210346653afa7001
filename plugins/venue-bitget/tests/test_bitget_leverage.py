"""``[venues.bitget] leverage``: set once per perp symbol per session before its first order,
on the Classic (v2) and unified (v3) paths; never without the setting, never for spot; the
contract's maximum refused clearly before the order is sent; a bad setting refused when the
session is built."""

import asyncio
import functools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_bitget import FakeBitget, unified_account  # noqa: E402
from sequence_core.errors import ConfigError, InvalidOrder  # noqa: E402
from sequence_venue_bitget.execution import BitgetSession  # noqa: E402
from sequence_venue_bitget.http import BitgetClient  # noqa: E402
from sequence_venue_bitget.symbols import INSTRUMENTS  # noqa: E402
from sequence_venue_bitget.venue import BitgetVenue  # noqa: E402
from sequence_core.testing import child_order, running  # noqa: E402

KEY, SECRET, PASS = "bitget-lev-key", "bitget-lev-secret", "lev pass"
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT")
PERP = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")
V2_SET, V3_SET = ("POST", "/api/v2/mix/account/set-leverage"), ("POST", "/api/v3/account/set-leverage")
V2_PLACE, V3_PLACE = ("POST", "/api/v2/mix/order/place-order"), ("POST", "/api/v3/trade/place-order")


@pytest.fixture
def classic():
    yield from running(FakeBitget(KEY, SECRET, PASS))


@pytest.fixture
def uta():
    with unified_account(KEY, SECRET, PASS) as server:
        yield server


node = functools.partial(child_order, price="91000.0")


def trade(fake, settings, *orders):
    async def work():
        s = BitgetSession(BitgetClient(KEY, SECRET, PASS, fake.url), settings)
        try:
            return [await s.place(node(n, inst, **kw), inst) for n, (inst, kw) in enumerate(orders)]
        finally:
            await s.close()
    return asyncio.run(work())


@pytest.mark.parametrize("world,account,set_call,place", [("classic", "auto", V2_SET, V2_PLACE), ("uta", "uta", V3_SET, V3_PLACE)])
def test_leverage_is_set_once_per_perp_symbol_before_its_first_order(request, world, account, set_call, place):
    fake = request.getfixturevalue(world)
    states = trade(fake, {"leverage": 5, "account": account}, (PERP, {}), (PERP, {"side": "sell", "price": "90990.0"}),
                   (BTC, {"price": "91000.00"}))
    assert [s.status for s in states] == ["FILLED"] * 3
    assert fake.leverage == {"BTCUSDT": 5}
    assert fake.requests.count(set_call) == 1                      # once per symbol per session, not for spot
    assert fake.requests.index(set_call) < fake.requests.index(place)


@pytest.mark.parametrize("world,account", [("classic", "auto"), ("uta", "uta")])
def test_without_the_setting_or_for_spot_nothing_is_set(request, world, account):
    fake = request.getfixturevalue(world)
    trade(fake, {"account": account}, (PERP, {}))
    trade(fake, {"leverage": 5, "account": account}, (BTC, {"price": "91000.00"}))
    assert fake.leverage == {} and not [r for r in fake.requests if r[1].endswith("/set-leverage")]


@pytest.mark.parametrize("world,account", [("classic", "auto"), ("uta", "uta")])
def test_above_the_contract_maximum_is_refused_clearly_and_no_order_is_sent(request, world, account):
    fake = request.getfixturevalue(world)
    fake.max_lever = 20
    with pytest.raises(InvalidOrder, match=r"leverage 50 refused for BTCUSDT \(BTC-USDT-PERP\): .*\(40797\); Bitget allows at most 20x"):
        trade(fake, {"leverage": 50, "account": account}, (PERP, {}))
    assert fake.perp_places == [] and fake.leverage == {}


@pytest.mark.parametrize("value", [0, -2, 2.5, "5", True])
def test_a_leverage_that_is_not_a_positive_integer_is_refused_when_the_session_is_built(value):
    creds = {"api_key": KEY, "api_secret": SECRET, "passphrase": PASS}
    with pytest.raises(ConfigError, match=r"\[venues.bitget\] leverage"):
        BitgetVenue().execution_session(creds, {"leverage": value})
