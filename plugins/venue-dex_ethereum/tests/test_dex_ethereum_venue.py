"""dex_ethereum: the conformance kit plus what is specific to this venue."""

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance
from sequence_venue_dex_ethereum.venue import DexEthereumVenue

VENUE = DexEthereumVenue()


class TestDexEthereumVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"private_key": "0x" + "33" * 32, "rpc_url_arbitrum": "http://127.0.0.1:8545"}


def test_rpc_urls_must_be_urls():
    with pytest.raises(CredentialError, match="URL"):
        VENUE.validate_credentials({"private_key": "0x" + "33" * 32, "rpc_url_arbitrum": "localhost:8545"})


def test_a_swap_pays_the_pool_fee_and_gas():
    from decimal import Decimal

    from sequence_venue_dex_ethereum.symbols import INSTRUMENTS

    eth = INSTRUMENTS[0]
    assert VENUE.fee(eth, Decimal("3000"), Decimal("1"), "taker") == Decimal("1.5") + Decimal("0.30")
    assert VENUE.fee(eth, Decimal("3000"), Decimal("0.001"), "taker") > Decimal("0.30")   # gas dominates small swaps
