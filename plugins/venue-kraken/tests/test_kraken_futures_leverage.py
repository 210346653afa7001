"""``[venues.kraken] leverage``: ``PUT leveragepreferences`` (``maxLeverage``) signed as Kraken
verifies it, once per perp per session before its first order; never without the setting,
never for spot; a leverage above the contract's margin schedule refused clearly before the
order is sent; a bad setting refused when the session is built."""

import asyncio
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_kraken import FakeKraken  # noqa: E402
from fake_kraken_futures import FakeKrakenFutures  # noqa: E402
from sequence_core.errors import ConfigError, InvalidOrder  # noqa: E402
from sequence_core.testing import child_order, shared_responses  # noqa: E402
from sequence_venue_kraken.execution import KrakenSession  # noqa: E402
from sequence_venue_kraken.futures import KrakenFutures  # noqa: E402
from sequence_venue_kraken.futures_http import KrakenFuturesClient  # noqa: E402
from sequence_venue_kraken.http import KrakenClient  # noqa: E402
from sequence_venue_kraken.symbols import INSTRUMENTS  # noqa: E402
from sequence_venue_kraken.venue import KrakenVenue  # noqa: E402

KEY, SECRET = "kraken-key-0007", "a3Jha2VuLXNwb3Qtc2VjcmV0LTAwMDc="                 # test bytes, not real keys
FKEY, FSECRET = "futures-key-0007", "a3Jha2VuLWZ1dHVyZXMtc2VjcmV0LTAwMDc="
PERP = next(i for i in INSTRUMENTS if i.venue_symbol == "PF_XBTUSD")
BTC = next(i for i in INSTRUMENTS if i.symbol == "BTC-USD")
SET = ("PUT", "/derivatives/api/v3/leveragepreferences")
SEND = ("POST", "/derivatives/api/v3/sendorder")


def recorded_instruments() -> list:
    """The recorded answer, with PF_XBTUSD listed on PF_ETHUSD's margin schedule (first tier 0.02: 50x)."""
    rows = json.loads((shared_responses("kraken") / "http_futures_instruments.json").read_text())["instruments"]
    eth = next(r for r in rows if r["symbol"] == "PF_ETHUSD")
    return rows + [{**eth, "symbol": "PF_XBTUSD", "base": "BTC", "pair": "BTC:USD"}]


@pytest.fixture
def servers():
    spot, futures = FakeKraken(KEY, SECRET), FakeKrakenFutures(FKEY, FSECRET, recorded_instruments())
    spot.url, futures.url = spot.start(), futures.start()
    yield spot, futures
    spot.stop()
    futures.stop()


def trade(servers, settings, *orders):
    spot, fake = servers
    futures = KrakenFutures(KrakenFuturesClient(FKEY, FSECRET, fake.url), settings)
    s = KrakenSession(KrakenClient(KEY, SECRET, spot.url), dict(settings), futures)

    async def work():
        try:
            return [await s.place(node(n, inst, **kw), inst) for n, (inst, kw) in enumerate(orders)]
        finally:
            await s.close()
    return asyncio.run(work())


node = child_order


def test_leverage_is_set_once_per_perp_before_its_first_order(servers):
    _, fake = servers
    states = trade(servers, {"leverage": 5}, (PERP, {}), (PERP, {"side": "sell", "price": "90990"}),
                   (BTC, {"price": "91000.0"}))
    assert [s.status for s in states[:2]] == ["FILLED", "FILLED"]
    assert fake.leverage == {"PF_XBTUSD": 5}
    assert fake.requests.count(SET) == 1 and fake.requests.index(SET) < fake.requests.index(SEND)


def test_without_the_setting_or_for_spot_nothing_is_set(servers):
    _, fake = servers
    trade(servers, {}, (PERP, {}))
    trade(servers, {"leverage": 5}, (BTC, {"price": "91000.0"}))
    assert fake.leverage == {} and SET not in fake.requests


def test_above_the_margin_schedule_is_refused_clearly_and_no_order_is_sent(servers):
    _, fake = servers
    with pytest.raises(InvalidOrder, match=r"leverage 60 refused for PF_XBTUSD \(BTC-USD-PERP\): kraken futures: Leverage exceeds the "
                                         r"market's margin schedule.*; Kraken Futures allows at most 50x on it"):
        trade(servers, {"leverage": 60}, (PERP, {}))
    assert fake.sent == [] and fake.leverage == {}


def test_another_refusal_is_raised_in_krakens_words(servers):
    _, fake = servers
    fake.instruments = [r for r in fake.instruments if r["symbol"] != "PF_XBTUSD"]
    fake.max_leverage = 2                      # refused, and no schedule to say why: Kraken's words as they came
    with pytest.raises(InvalidOrder, match=r"PF_XBTUSD \(BTC-USD-PERP\): kraken futures: Leverage exceeds the market's "
                                           r"margin schedule[^;]*; lower"):
        trade(servers, {"leverage": 3}, (PERP, {}))
    assert fake.sent == []


@pytest.mark.parametrize("value", [0, -5, 1.5, "5", False])
def test_a_leverage_that_is_not_a_positive_integer_is_refused_when_the_session_is_built(value):
    with pytest.raises(ConfigError, match=r"\[venues.kraken\] leverage"):
        KrakenVenue().execution_session({"api_key": KEY, "api_secret": SECRET}, {"leverage": value})
