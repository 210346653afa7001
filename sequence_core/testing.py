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


# -- a fake policy context: what a policy plugin's unit tests drive -------------------------------
class FakePolicyContext:
    """An in-memory PolicyContext: instant fills, a fake clock that ``sleep`` advances.

    ``take_fill_ratio`` is the share of each ``take`` that fills; resting orders fill when
    a test calls :meth:`fill_resting`. Every action is recorded in ``actions``.
    """

    def __init__(self, request, started_ns: int = 1_700_000_000_000_000_000, books=None, take_fill_ratio=Decimal(1),
                 graph_id: str = "graph_00000000abcd", lot: Decimal = Decimal("0.001"), tick: Decimal = Decimal("0.01")):
        from .orders import OrderGraph

        self.request = request
        self.graph = OrderGraph(graph_id, "sandbox", request, "WORKING", started_ns, started_ns)
        self.clock = started_ns
        self._books = books or []
        self.take_fill_ratio = take_fill_ratio
        self.actions: list[tuple] = []
        self.nodes: list = []
        self._lot, self._tick = lot, tick
        self.notes: list[tuple[str, dict]] = []

    # state
    @property
    def remaining(self) -> Decimal:
        working = sum((n.remaining for n in self.open_nodes()), Decimal(0))
        return self.graph.request.qty - self.graph.filled_qty - working

    @property
    def started_ns(self) -> int:
        return self.graph.created_ns

    def now_ns(self) -> int:
        return self.clock

    async def sleep(self, seconds: float) -> None:
        self.clock += int(max(0.0, seconds) * 1e9)

    def books(self, depth: int = 20):
        return self._books

    def tick_size(self, venue: str) -> Decimal:
        return self._tick

    def lot_size(self, venue: str) -> Decimal:
        return self._lot

    def note(self, kind: str, detail: dict) -> None:
        self.notes.append((kind, detail))

    def volume_profile(self):
        return None

    def open_nodes(self):
        return [n for n in self.nodes if n.status in ("NEW", "PARTIALLY_FILLED")]

    # actions
    def _fill(self, qty: Decimal) -> None:
        self.graph.filled_qty += qty

    async def take(self, qty, limit=None, urgency=None, max_slippage_bps=None) -> Decimal:
        got = (qty * self.take_fill_ratio / self._lot).to_integral_value(rounding="ROUND_DOWN") * self._lot
        got = min(got, self.graph.request.qty - self.graph.filled_qty)
        self.actions.append(("take", self.clock, qty, limit, urgency))
        self._fill(got)
        return got

    def _node(self, venue, qty, price, order_type, node=None, seq=0):
        from .orders import NodeOrder, node_order_id

        n = len(self.nodes) if node is None else node
        return NodeOrder(node_order_id(self.graph.graph_id, n, seq), self.graph.graph_id, n, seq, venue,
                         self.request.symbol, self.request.side, qty, price, order_type, "NEW", self.clock, self.clock)

    async def post(self, venue, qty, price, post_only=True):
        node = self._node(venue, qty, price, "post_only" if post_only else "limit")
        self.nodes.append(node)
        self.actions.append(("post", self.clock, venue, qty, price, post_only))
        return node

    async def cancel(self, node):
        node.status = "CANCELLED" if node.filled_qty < node.qty else "FILLED"
        self.actions.append(("cancel", self.clock, node.node_order_id))
        return node

    async def replace(self, node, price=None, qty=None):
        await self.cancel(node)
        left = (qty if qty is not None else node.qty) - node.filled_qty
        new = self._node(node.venue, left, price if price is not None else node.limit_price, node.order_type, node.node, node.seq + 1)
        self.nodes.append(new)
        self.actions.append(("replace", self.clock, node.node_order_id, price, qty))
        return new

    async def refresh(self, node):
        return node

    def fill_resting(self, qty: Decimal | None = None) -> None:
        """Fill the open resting orders (all, or ``qty`` of the first)."""
        for node in self.open_nodes():
            take = node.remaining if qty is None else min(qty, node.remaining)
            node.filled_qty += take
            node.status = "FILLED" if node.filled_qty >= node.qty else "PARTIALLY_FILLED"
            self._fill(take)
            if qty is not None:
                break
