"""polymarket: the conformance kit plus what is specific to this venue."""

from decimal import Decimal

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance
from sequence_venue_polymarket.symbols import INSTRUMENTS
from sequence_venue_polymarket.venue import PolymarketVenue

VENUE = PolymarketVenue()


class TestPolymarketVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"private_key": "0x" + "11" * 32, "signature_type": "2", "funder": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}


def test_fee_curve_takers_only():
    from sequence_venue_polymarket.fees import fee

    # 100 shares at 0.40, rate 0.02, exponent 2: 100 x 0.02 x (0.24)^2 = 0.1152
    assert fee(Decimal("0.40"), Decimal("100"), "taker", Decimal("0.02"), 2) == Decimal("0.11520")
    # exponent 1: 100 x 0.02 x 0.24 = 0.48
    assert fee(Decimal("0.40"), Decimal("100"), "taker", Decimal("0.02"), 1) == Decimal("0.48000")
    assert fee(Decimal("0.40"), Decimal("100"), "maker", Decimal("0.02"), 2) == 0
    # floored to 5 decimals: 3 x 0.02 x 0.2475 = 0.01485
    assert fee(Decimal("0.55"), Decimal("3"), "taker", Decimal("0.02"), 1) == Decimal("0.01485")


def test_default_markets_are_fee_free():
    assert VENUE.fee(INSTRUMENTS[0], Decimal("0.55"), Decimal("10"), "taker") == 0


@pytest.mark.parametrize("payload,message", [
    ({"signature_type": "4"}, "signature_type"),
    ({"signature_type": "1"}, "funder: required"),
    ({"builder_api_key": "b"}, "builder credentials need all three"),
])
def test_bad_combinations(payload, message):
    with pytest.raises(CredentialError, match=message):
        VENUE.validate_credentials({"private_key": "0x" + "11" * 32, **payload})


def test_token_ids_resolve_to_the_market():
    from sequence_core.market import resolve

    yes = next(i for i in INSTRUMENTS if i.symbol == "fed-decision-in-october" and i.outcome == "YES")
    assert resolve(yes.aliases[0], list(INSTRUMENTS)) == [yes]
