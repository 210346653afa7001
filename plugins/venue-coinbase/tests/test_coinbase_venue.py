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


def test_cdp_ed25519_key_in_base64_is_stored_as_pem():
    # the form the CDP portal shows (coinbase-advanced-py tests/constants.py TEST_ED25519_API_SECRET)
    secret = "k0BUni0p0vZG1BdpVjS6ogBJ7kxm630AJ2dN+tuputDOKsRAwgyrpEQLeBtS1znTmzPX6Xr2eOWpzx6nW8knkA=="
    clean = VENUE.validate_credentials({"api_key_name": "organizations/o/apiKeys/k", "private_key": secret})
    assert clean["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert "MC4CAQAwBQYDK2VwBCIEIJNAVJ4tKdL2RtQXaVY0uqIASe5MZut9ACdnTfrbqbrQ" in clean["private_key"]   # the SDK's PKCS#8 form


def test_a_malformed_key_is_refused_without_echoing_it():
    bad = "bm90LWEta2V5LWF0LWFsbC1qdXN0LXRleHQ="
    with pytest.raises(CredentialError, match="private_key") as err:
        VENUE.validate_credentials({"api_key_name": "organizations/o/apiKeys/k", "private_key": bad})
    assert bad not in str(err.value)
