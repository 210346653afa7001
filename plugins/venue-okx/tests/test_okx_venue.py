"""okx: the conformance kit plus what is specific to this venue."""

from decimal import Decimal

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance
from sequence_venue_okx.symbols import INSTRUMENTS
from sequence_venue_okx.venue import OkxVenue

VENUE = OkxVenue()


class TestOkxVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"api_key": "k123", "api_secret": "s3cret", "passphrase": "pass phrase"}


def test_passphrase_is_required():
    with pytest.raises(CredentialError, match="passphrase is required"):
        VENUE.validate_credentials({"api_key": "k", "api_secret": "s"})


def test_perps_use_the_swap_schedule():
    btc_perp = next(i for i in INSTRUMENTS if i.symbol == "BTC-USDT-PERP")
    assert VENUE.fee(btc_perp, Decimal("90000"), Decimal("1"), "taker") == Decimal("45.0000")
