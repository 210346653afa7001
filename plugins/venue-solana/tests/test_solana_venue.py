"""solana: the conformance kit plus what is specific to this venue."""

import json

import base58
import pytest

from sequence_core.errors import CredentialError
from sequence_core.testing import VenueConformance, make_solana_keypair
from sequence_venue_solana.symbols import INSTRUMENTS, SYMBOLS, TOKENS
from sequence_venue_solana.venue import SolanaVenue

VENUE = SolanaVenue()


class TestSolanaVenue(VenueConformance):
    venue = VENUE

    def valid_credentials(self):
        return {"keypair": make_solana_keypair()}


def test_a_wallet_export_in_base58_is_accepted_and_a_mismatched_half_is_not():
    raw = bytes(json.loads(make_solana_keypair()))
    assert VENUE.validate_credentials({"keypair": base58.b58encode(raw).decode(), "api_key": "k"})["api_key"] == "k"
    with pytest.raises(CredentialError, match="public half does not match"):
        VENUE.validate_credentials({"keypair": base58.b58encode(raw[:32] + bytes(32)).decode()})


def test_symbols_are_the_two_mints_and_lots_are_one_token_unit():
    sol = next(i for i in INSTRUMENTS if i.symbol == "SOL-USDC")
    assert SYMBOLS.to_canonical(f"{TOKENS['SOL'][0]}/{TOKENS['USDC'][0]}") == "SOL-USDC"
    assert str(sol.lot_size) == "1E-9" and {i.symbol for i in INSTRUMENTS} == {"SOL-USDC", "JUP-USDC", "BONK-USDC"}
    assert next(i for i in INSTRUMENTS if i.base == "BONK").lot_size == sol.lot_size * 10**4


def test_positions_are_labelled_by_chain():
    assert VENUE.label({}) == "solana"


def test_keypair_halves_must_match():
    raw = list(bytes(range(64)))
    with pytest.raises(CredentialError, match="public half"):
        VENUE.validate_credentials({"keypair": json.dumps(raw)})
