"""The venue protocol: what every venue plugin declares and implements.

A venue plugin registers one :class:`Venue` per venue through ``register_venues``.
Foundation level: name, the credential fields it asks for, local validation of those
credentials, and an optional heartbeat. Later levels add instruments, fees, a REST/WS
client and the ``live`` market-data source on the same class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import msgspec

from .errors import CredentialError

FIELD_KINDS = (
    "text",           # any non-empty text (API key ids, names)
    "secret",         # opaque secret text (HMAC secrets)
    "passphrase",     # an API passphrase chosen at key creation (OKX, Bitget)
    "base64",         # base64 secret (Kraken)
    "pem",            # PEM private key; Venue.pem_key_types says which types
    "evm_private_key",
    "evm_address",
    "solana_keypair",
    "url",
)


class CredentialField(msgspec.Struct, frozen=True):
    """One value ``sequence connect`` asks for."""

    name: str                 # key in the credentials store and env var suffix
    label: str                # prompt text
    kind: str = "secret"      # one of FIELD_KINDS; drives validation and prompting
    secret: bool = True       # hidden prompt, never printed
    optional: bool = False
    help: str = ""


class Heartbeat(msgspec.Struct, frozen=True):
    """Result of a venue health check, as ``sequence venues`` shows it."""

    state: str                       # ok | stale | down | unchecked
    checked_at_ns: int | None = None
    latency_ms: float | None = None
    detail: str = ""


class Venue:
    """Base class for venue plugins. Subclasses set the class attributes."""

    name: ClassVar[str]
    title: ClassVar[str] = ""
    docs_url: ClassVar[str] = ""
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    pem_key_types: ClassVar[tuple[str, ...]] = ("rsa", "ed25519", "ec")
    sandbox_only: ClassVar[bool] = False   # paper venues that exist only in sandbox
    # fees that differ by market and are read from the venue (ExecutionSession.prepare):
    # live ``fees`` and ``preview()`` read them first, and show ``fee_schedule_for(instrument)``
    fees_by_market: ClassVar[bool] = False

    def validate_credentials(self, creds: Mapping[str, str]) -> dict[str, str]:
        """Check every declared field locally; return the normalised values.

        Raises CredentialError naming the field (never the value). Override to add
        venue-specific checks, calling ``super()`` first.
        """
        from . import keys

        out: dict[str, str] = {}
        known = {f.name for f in self.credential_fields}
        unknown = sorted(set(creds) - known)
        if unknown:
            raise CredentialError(f"unknown field(s) for {self.name}: {', '.join(unknown)} (expected: {', '.join(sorted(known))})")
        for field in self.credential_fields:
            value = (creds.get(field.name) or "").strip()
            if not value:
                if field.optional:
                    continue
                raise CredentialError(f"{field.name} is required for {self.name}")
            if field.kind == "pem":
                keys.load_private_key_pem(field.name, value, self.pem_key_types)
                value = value.replace("\\n", "\n").strip() + "\n"
            elif field.kind == "evm_private_key":
                value = "0x" + keys.parse_evm_private_key(field.name, value).hex()
            elif field.kind == "evm_address":
                value = keys.parse_evm_address(field.name, value)
            elif field.kind == "solana_keypair":
                keys.parse_solana_keypair(field.name, value)
            elif field.kind == "base64":
                keys.parse_base64_secret(field.name, value)
            elif field.kind == "url" and not value.startswith(("http://", "https://", "ws://", "wss://")):
                raise CredentialError(f"{field.name}: expected an http(s):// or ws(s):// URL")
            elif any(ch.isspace() for ch in value) and field.kind in ("text", "secret"):
                raise CredentialError(f"{field.name}: must not contain spaces or line breaks")
            out[field.name] = value
        return out

    # -- market description (static declarations; adapters may refresh them live) -----------
    #: the declared instruments and fee schedule; plugins set these from symbols.py / fees.py
    declared_instruments: ClassVar[tuple] = ()
    declared_fees: ClassVar[object] = None

    def instruments(self) -> list:
        """The instruments this venue lists (:class:`sequence_core.market.Instrument`)."""
        return list(self.declared_instruments)

    def fee_schedule(self):
        """The venue's published fee schedule (:class:`sequence_core.market.FeeSchedule`), or None."""
        return self.declared_fees

    def fee_schedule_for(self, instrument):
        """The schedule that applies to *instrument* (``sequence fees`` shows it): the venue's
        published one, unless its fees differ by market (``fees_by_market``)."""
        return self.fee_schedule()

    def fee(self, instrument, price, qty, liquidity: str):
        """Fee in quote currency for one fill (liquidity ``maker`` or ``taker``), or None if unknown.

        The default is proportional to notional at tier 0; venues with a fee curve (Kalshi's
        binary-contract formula, Polymarket's) override it.
        """
        schedule = self.fee_schedule()
        if schedule is None:
            return None
        tier = schedule.tier0_for(instrument.kind)
        return price * qty * (tier.maker if liquidity == "maker" else tier.taker)

    def funding_asset(self) -> str:
        """The cash asset a paper account of this venue is funded in (most common quote)."""
        from collections import Counter

        quotes = Counter(i.quote for i in self.instruments())
        return quotes.most_common(1)[0][0] if quotes else "USD"

    def label(self, settings: Mapping) -> str:
        """How ``positions`` names this venue's holdings: the plugin name, or a narrower place
        (an on-chain venue's chain: ``dex:arb``). Filters still take the plugin name."""
        return self.name

    def market_data(self, settings: Mapping):
        """The adapter's :class:`sequence_core.feeds.VenueFeed` (public REST books and the
        websocket), which the ``live`` source uses; None when the plugin has none yet."""
        return None

    def market_data_feeds(self, settings: Mapping) -> list:
        """Every feed of the venue, where its books live on more than one websocket (Binance
        spot and USD-M perps, Bybit spot and linear): a book streams on the first feed whose
        ``streams(inst)`` claims it, each feed on a socket of its own. Default: market_data."""
        feed = self.market_data(settings)
        return [feed] if feed is not None else []

    async def heartbeat(self, credentials: Mapping[str, str], config: Mapping) -> Heartbeat | None:
        """A cheap real call proving the venue answers (and, with credentials, accepts them).

        Return None when the plugin has no check yet: ``sequence venues`` then says
        ``unchecked`` instead of inventing a state.
        """
        return None


async def probe(rest_check, detail: str, feed=None, instrument=None) -> Heartbeat:
    """A heartbeat from real calls: ``rest_check()`` (a coroutine function making the venue's
    cheap public and signed calls), then, given a feed, its websocket (subscribe one book)."""
    import time

    start = time.perf_counter()
    await rest_check()
    rest_ms = round((time.perf_counter() - start) * 1000, 1)
    if feed is not None and instrument is not None:
        from .feeds import ws_probe

        detail += f"; websocket {await ws_probe(feed, instrument)} ms"
    return Heartbeat("ok", checked_at_ns=time.time_ns(), latency_ms=rest_ms, detail=detail)


MARKET_FEES_TIMEOUT_S = 10.0


def read_market_fees(venues: dict, instruments, store, timeout_s: float = MARKET_FEES_TIMEOUT_S) -> dict[str, str]:
    """Live: have each venue whose fees differ by market (``Venue.fees_by_market``) read those
    of *instruments* through its session (``ExecutionSession.prepare``), so that
    ``fee_schedule_for`` and ``fee`` answer for those markets. Returns, per venue that could
    not, why (its general schedule then stands)."""
    import asyncio

    from .feeds import _run_sync

    wanted: dict[str, list] = {}
    for inst in instruments:
        if inst.venue in venues and venues[inst.venue].fees_by_market:
            wanted.setdefault(inst.venue, []).append(inst)
    if not wanted:
        return {}

    async def one(name: str, markets: list) -> tuple[str, str | None]:
        session = live_session(name, venues[name], store)
        if session is None:
            return name, f"{name} is not connected: `sequence connect {name}`"
        try:
            async with asyncio.timeout(timeout_s):
                for inst in markets:
                    await session.prepare(inst)
            return name, None
        except Exception as exc:  # noqa: BLE001 - the published schedule stands; the caller says why
            return name, str(exc) or type(exc).__name__
        finally:
            try:
                await session.close()
            except Exception:  # noqa: BLE001 - closing a client after a failed read
                pass

    async def every():
        return await asyncio.gather(*(one(n, m) for n, m in wanted.items()))

    return {name: why for name, why in _run_sync(every, timeout_s + 5) if why}


def live_session(name: str, venue: Venue, store):
    """The venue's live execution session with its stored credentials and ``[venues.<name>]``
    settings, or None when the plugin has no execution client or the venue is not connected."""
    from .config import venue_settings

    factory = getattr(venue, "execution_session", None)
    creds = store.get(name, [f.name for f in venue.credential_fields])
    return factory(creds[0], venue_settings(name)) if factory and creds else None
