"""The venue conformance kit: checks every venue plugin runs in its own tests.

    from sequence_core.testing import check_venue
    def test_conformance():
        check_venue(BinanceVenue())

A venue passes when its declarations are usable by the core: credential fields of known
kinds, instruments with positive ticks and lots and unique names, a symbol map that
round-trips, and a fee schedule with a source (or an explicit None).
"""

from __future__ import annotations

from decimal import Decimal

from .market import KINDS, FeeSchedule, Instrument, SymbolMap
from .venues import FIELD_KINDS, Venue


def check_venue(venue: Venue) -> None:
    assert venue.name and venue.name == venue.name.lower() and " " not in venue.name, "venue names are lower-case words"
    assert venue.title, "a venue has a display title"
    names = [f.name for f in venue.credential_fields]
    assert len(names) == len(set(names)), "credential fields are unique"
    for f in venue.credential_fields:
        assert f.kind in FIELD_KINDS, f"{f.name}: unknown field kind {f.kind}"
        assert f.label, f"{f.name}: needs a prompt label"
    instruments = venue.instruments()
    keys = [(i.symbol, i.outcome) for i in instruments]
    assert len(keys) == len(set(keys)), "instruments are unique per (symbol, outcome)"
    for i in instruments:
        assert isinstance(i, Instrument) and i.venue == venue.name
        assert i.kind in KINDS and i.kind != "fiat"
        for field in ("tick_size", "lot_size", "min_notional", "min_qty"):
            assert isinstance(getattr(i, field), Decimal), f"{i.symbol}.{field} must be a Decimal"
        assert i.tick_size > 0 and i.lot_size > 0 and i.min_notional >= 0 and i.min_qty >= 0
        if i.kind == "event_contract":
            assert i.outcome in ("YES", "NO") and i.tick_size < 1
        else:
            suffix = "-PERP" if i.kind == "perp" else ""
            assert i.symbol == f"{i.base}-{i.quote}{suffix}", f"{i.symbol}: canonical BASE-QUOTE naming"
    symbols = SymbolMap(instruments)
    for i in instruments:
        assert symbols.to_canonical(i.venue_symbol) == i.symbol
        assert symbols.to_venue(i.symbol + (f":{i.outcome}" if i.outcome else "")) == i.venue_symbol
    schedule = venue.fee_schedule()
    if schedule is not None:
        assert isinstance(schedule, FeeSchedule) and schedule.venue == venue.name
        assert schedule.source.startswith("https://") and schedule.as_of, "fee schedules cite their source and date"
        for tier in schedule.tiers + schedule.perp_tiers:
            assert isinstance(tier.maker, Decimal) and isinstance(tier.taker, Decimal)
            if schedule.model == "proportional":
                assert -Decimal("0.01") < tier.maker <= tier.taker < Decimal("0.05"), "rates are fractions of notional"
            else:
                assert schedule.curve, "a fee curve says its formula for display"
        for i in instruments[:3]:
            fee = venue.fee(i, Decimal("0.5") if i.kind == "event_contract" else Decimal(100), i.lot_size * 100, "taker")
            assert fee is not None and fee >= 0


# -- key material for tests (generated fresh; never a real key) -------------------------------------
def make_pem(kind: str) -> str:
    """A new PKCS#8 PEM private key of ``kind``: rsa, ec (P-256) or ed25519."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = {"rsa": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
           "ec": lambda: ec.generate_private_key(ec.SECP256R1()),
           "ed25519": ed25519.Ed25519PrivateKey.generate}[kind]()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def make_solana_keypair() -> str:
    """A new Solana keypair as solana-keygen writes it (JSON array of 64 bytes)."""
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    k = Ed25519PrivateKey.generate()
    raw = k.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()) + k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return json.dumps(list(raw))


class VenueConformance:
    """Base class for a venue plugin's tests: subclass it, set ``venue`` and implement
    ``valid_credentials``; pytest runs these checks for that venue."""

    venue: Venue

    def valid_credentials(self) -> dict[str, str]:
        raise NotImplementedError

    def test_conformance(self):
        check_venue(self.venue)

    def test_valid_credentials_are_accepted(self):
        clean = self.venue.validate_credentials(self.valid_credentials())
        assert {f.name for f in self.venue.credential_fields if not f.optional} <= set(clean)

    def test_missing_required_field_is_named(self):
        import pytest

        from .errors import CredentialError

        first = next(f for f in self.venue.credential_fields if not f.optional)
        with pytest.raises(CredentialError, match=first.name):
            self.venue.validate_credentials({})

    def test_fee_schedule_cites_the_venue(self):
        schedule = self.venue.fee_schedule()
        assert schedule is not None and schedule.source.startswith("https://")
