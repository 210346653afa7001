"""kraken: the conformance kit plus what is specific to this venue."""

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance
from sequence_venue_kraken.symbols import SYMBOLS
from sequence_venue_kraken.venue import KrakenVenue

VENUE = KrakenVenue()


class TestKrakenVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"api_key": "k123", "api_secret": "c2VjcmV0LWJ5dGVz"}


def test_secret_must_be_base64():
    with pytest.raises(CredentialError, match="base64"):
        VENUE.validate_credentials({"api_key": "k", "api_secret": "not base64!"})


def test_btc_is_xbt_on_kraken():
    assert SYMBOLS.to_venue("BTC-USD") == "XBT/USD" and SYMBOLS.to_canonical("XBT/USD") == "BTC-USD"
