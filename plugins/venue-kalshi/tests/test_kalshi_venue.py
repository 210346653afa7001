"""kalshi: the conformance kit plus what is specific to this venue."""

from decimal import Decimal

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance, make_pem
from sequence_venue_kalshi.symbols import INSTRUMENTS
from sequence_venue_kalshi.venue import KalshiVenue

VENUE = KalshiVenue()


class TestKalshiVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"key_id": "a952bcbe-ec3b-4b5b-b8f9-11dae589608c", "private_key": make_pem("rsa")}


@pytest.mark.parametrize("price,qty,expected", [
    ("0.50", "100", "1.75"),   # 0.07 x 100 x 0.25 = 1.75 exactly
    ("0.01", "1", "0.01"),     # 0.000693 rounds up to one cent
    ("0.99", "1", "0.01"),
    ("0.30", "10", "0.15"),    # 0.147 -> 0.15
    ("0.50", "1", "0.02"),     # 0.0175 -> 0.02
])
def test_published_taker_fee_with_rounding(price, qty, expected):
    assert VENUE.fee(INSTRUMENTS[0], Decimal(price), Decimal(qty), "taker") == Decimal(expected)


def test_makers_pay_nothing_by_default():
    assert VENUE.fee(INSTRUMENTS[0], Decimal("0.5"), Decimal("100"), "maker") == 0


def test_ed25519_keys_are_accepted_and_ec_refused():
    VENUE.validate_credentials({"key_id": "k", "private_key": make_pem("ed25519")})
    with pytest.raises(CredentialError, match="not accepted"):
        VENUE.validate_credentials({"key_id": "k", "private_key": make_pem("ec")})


def test_unreadable_pem():
    with pytest.raises(CredentialError, match="unreadable PEM"):
        VENUE.validate_credentials({"key_id": "k", "private_key": "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----"})


def test_yes_and_no_are_both_listed():
    outcomes = {(i.symbol, i.outcome) for i in INSTRUMENTS}
    assert ("KXBTCZ-26DEC31-T99000", "YES") in outcomes and ("KXBTCZ-26DEC31-T99000", "NO") in outcomes
