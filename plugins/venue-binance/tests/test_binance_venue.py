import pytest

from sequence_core.errors import CredentialError
from sequence_venue_binance.venue import BinanceVenue


def test_asks_for_key_and_secret():
    assert [f.name for f in BinanceVenue.credential_fields] == ["api_key", "api_secret"]


def test_rejects_secret_with_whitespace():
    with pytest.raises(CredentialError, match="api_secret"):
        BinanceVenue().validate_credentials({"api_key": "abc", "api_secret": "has space"})
