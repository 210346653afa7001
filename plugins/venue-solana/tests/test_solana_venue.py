"""solana: the conformance kit plus what is specific to this venue."""

import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance, make_solana_keypair
from sequence_venue_solana.venue import SolanaVenue

VENUE = SolanaVenue()


class TestSolanaVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"keypair": make_solana_keypair()}


def test_keypair_halves_must_match():
    import json

    raw = list(bytes(range(64)))
    with pytest.raises(CredentialError, match="public half"):
        VENUE.validate_credentials({"keypair": json.dumps(raw)})
