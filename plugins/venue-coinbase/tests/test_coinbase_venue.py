"""coinbase: the conformance kit plus what is specific to this venue."""

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance, make_pem
from sequence_venue_coinbase.venue import CoinbaseVenue

VENUE = CoinbaseVenue()


class TestCoinbaseVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"api_key_name": "organizations/org-1/apiKeys/key-1", "private_key": make_pem("ec")}


def test_rejects_a_key_name_that_is_not_a_cdp_name():
    with pytest.raises(CredentialError, match="api_key_name"):
        VENUE.validate_credentials({"api_key_name": "plainkey", "private_key": make_pem("ec")})


def test_rsa_keys_are_not_accepted():
    with pytest.raises(CredentialError, match="not accepted"):
        VENUE.validate_credentials({"api_key_name": "organizations/o/apiKeys/k", "private_key": make_pem("rsa")})
