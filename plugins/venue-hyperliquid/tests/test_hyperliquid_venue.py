"""hyperliquid: the conformance kit plus what is specific to this venue."""

from decimal import Decimal

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance
from sequence_venue_hyperliquid.symbols import INSTRUMENTS
from sequence_venue_hyperliquid.venue import HyperliquidVenue

VENUE = HyperliquidVenue()


class TestHyperliquidVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"private_key": "0x" + "22" * 32}


def test_invalid_private_key():
    with pytest.raises(CredentialError, match="64 hex digits"):
        VENUE.validate_credentials({"private_key": "0xabc"})


def test_perps_fee():
    btc = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDC-PERP")
    assert VENUE.fee(btc, Decimal("90000"), Decimal("0.1"), "taker") == Decimal("4.050000")
