"""kraken: the conformance kit plus what is specific to this venue."""

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance
from sequence_venue_kraken.symbols import SYMBOLS, asset, rest_pair
from sequence_venue_kraken.venue import KrakenVenue

VENUE = KrakenVenue()


class TestKrakenVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"api_key": "k123", "api_secret": "c2VjcmV0LWJ5dGVz"}


def test_secret_must_be_base64():
    with pytest.raises(CredentialError, match="base64"):
        VENUE.validate_credentials({"api_key": "k", "api_secret": "not base64!"})


def test_btc_is_btc_on_websocket_v2_and_xbt_on_rest():
    # v2 names BTC/USD (https://docs.kraken.com/exchange/api-reference/spot-websocket); REST
    # takes the altname XBTUSD and balances say XXBT / ZUSD
    assert SYMBOLS.to_venue("BTC-USD") == "BTC/USD" and SYMBOLS.to_canonical("BTC/USD") == "BTC-USD"
    assert [rest_pair(s) for s in ("BTC/USD", "ETH/USD", "BTC/USDT", "DOGE/USD")] == ["XBTUSD", "ETHUSD", "XBTUSDT", "XDGUSD"]
    assert [asset(a) for a in ("XXBT", "ZUSD", "XETH", "USDT", "SOL")] == ["BTC", "USD", "ETH", "USDT", "SOL"]
