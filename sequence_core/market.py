"""Market data types and symbol resolution, shared by every source and venue.

Prices and sizes are Decimal here (exact, as the venues publish them); the sim-engine
and the wasm ABI use int64 fixed point at scale 1e9 instead.

Symbols: canonical crypto books are ``BASE-QUOTE`` (``BTC-USDT``), perps add ``-PERP``
(``BTC-USDT-PERP``). A query in USD (``BTC-USD``) matches every book of the USD family
(USD, USDT, USDC), each row naming its real book. Event contracts are Kalshi tickers
(``KXBTCZ-26DEC31-T99000``, optional ``:YES``/``:NO``), Polymarket slugs (optional outcome)
or raw token ids (aliases of the instrument).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import ClassVar

import msgspec

from .errors import UsageError

USD_FAMILY = ("USD", "USDT", "USDC")
KINDS = ("fiat", "crypto", "perp", "event_contract")
_PAIR = re.compile(r"^([A-Z0-9]{2,12})-([A-Z0-9]{2,6})(-PERP)?$")


class Instrument(msgspec.Struct, frozen=True):
    venue: str
    symbol: str                   # canonical name of the real book (BTC-USDT, a ticker, a slug)
    venue_symbol: str             # the venue's own name (BTCUSDT, XBT/USD, a token id)
    kind: str                     # crypto | perp | event_contract
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_notional: Decimal = Decimal(0)   # in quote currency
    min_qty: Decimal = Decimal(0)
    status: str = "trading"
    outcome: str | None = None           # YES / NO for event contracts
    title: str = ""
    aliases: tuple[str, ...] = ()        # other names that resolve here (token ids)


class FeeTier(msgspec.Struct, frozen=True):
    name: str
    maker: Decimal                # fraction of notional (0.001 = 10 bps); negative = rebate
    taker: Decimal
    min_volume_30d_usd: Decimal = Decimal(0)


class FeeSchedule(msgspec.Struct, frozen=True):
    venue: str
    tiers: tuple[FeeTier, ...]
    source: str                   # URL of the venue's published fee page
    as_of: str                    # date the figures were checked
    model: str = "proportional"   # proportional | a venue-specific curve named by the venue
    notes: str = ""
    perp_tiers: tuple[FeeTier, ...] = ()   # perpetuals' schedule where it differs from spot
    curve: str = ""                        # for non-proportional models: the formula, for display

    @property
    def tier0(self) -> FeeTier:
        return self.tiers[0]

    def tier0_for(self, kind: str) -> FeeTier:
        return self.perp_tiers[0] if kind == "perp" and self.perp_tiers else self.tiers[0]


class BookLevel(msgspec.Struct, frozen=True, array_like=True):
    price: Decimal
    size: Decimal


class OrderBook(msgspec.Struct, frozen=True):
    """One venue's book of one instrument at a moment, best level first on each side."""

    venue: str
    symbol: str
    ts_ns: int                    # the venue's time of this state (exchange time)
    received_ns: int              # when we had it (source time)
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    source: str = ""

    @property
    def best_bid(self) -> BookLevel | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> BookLevel | None:
        return self.asks[0] if self.asks else None


class Trade(msgspec.Struct, frozen=True):
    venue: str
    symbol: str
    ts_ns: int
    side: int          # aggressor: +1 buy, -1 sell
    price: Decimal
    size: Decimal


class MarketDataSource:
    """A provider of order books (plugins register these: synthetic, replay, live).

    ``books`` returns the current book of each instrument it can serve (skipping the rest);
    ``now_ns`` is the source's clock (wall time for live and synthetic, replay time for replay).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    needs_network: ClassVar[bool] = False
    live: ClassVar[bool] = False        # the venues' books as they are now: the only kind live orders price on

    def now_ns(self) -> int:
        import time

        return time.time_ns()

    def books(self, instruments: list[Instrument], at_ns: int | None = None, depth: int = 20) -> list[OrderBook]:
        raise NotImplementedError

    def trades(self, instrument: Instrument, start_ns: int, end_ns: int) -> list[Trade]:
        """Trades printed in [start_ns, end_ns), oldest first (sources without trades: none)."""
        return []

    def label(self) -> str:
        return self.name


def outcome_symbol(symbol: str, outcome: str | None) -> str:
    """How the user names a book of one outcome (``TICKER:NO``); other books by their symbol."""
    return f"{symbol}:{outcome}" if outcome else symbol


def traded_outcome(found: list[Instrument]) -> list[Instrument]:
    """What a symbol trades among the instruments it resolves to: a bare ticker or slug trades
    its YES outcome, as both Kalshi and Polymarket present a binary market (say :NO for the
    other side)."""
    if any(i.kind == "event_contract" for i in found) and len({i.outcome for i in found}) > 1:
        return [i for i in found if i.outcome == "YES"]
    return found


def book_keys(instruments) -> set[tuple[str, str, str | None]]:
    """(venue, book, outcome) of each instrument: what orders and fills are matched on."""
    return {(i.venue, i.symbol, i.outcome) for i in instruments}


def symbol_books(symbol: str, pool, traded: bool = False, strict: bool = True) -> set[tuple[str, str, str | None]]:
    """``book_keys`` of what *symbol* names in *pool* (a bare ticker: both outcomes), or with
    *traded* what an order for it trades (a bare ticker: YES). A symbol *pool* does not list is
    an error, unless not *strict*: then no books."""
    try:
        found = resolve(symbol, pool)
    except UsageError:
        if strict:
            raise
        return set()
    return book_keys(traded_outcome(found) if traded else found)


def in_books(keys: set[tuple[str, str, str | None]], venue: str, symbol: str, outcome: str | None) -> bool:
    """Whether an order or fill in (venue, symbol, outcome) is among *keys* (``book_keys``);
    those journaled before orders carried their outcome (None) match either outcome."""
    return (venue, symbol, outcome) in keys or outcome is None and any(k[:2] == (venue, symbol) for k in keys)


def with_outcomes(books: list[OrderBook], instruments) -> list[tuple[OrderBook, str | None]]:
    """Each book with its instrument's outcome: sources answer in the instruments' order,
    leaving out those they have no book for, so each book is the next instrument of its venue
    and symbol (an event contract's YES and NO books carry one symbol)."""
    left = list(instruments)
    out = []
    for book in books:
        n = next((k for k, i in enumerate(left) if (i.venue, i.symbol) == (book.venue, book.symbol)), None)
        out.append((book, left.pop(n).outcome if n is not None else None))
    return out


# -- symbol resolution ---------------------------------------------------------------------
def split_outcome(query: str) -> tuple[str, str | None]:
    head, sep, tail = query.rpartition(":")
    if sep and tail.upper() in ("YES", "NO"):
        return head, tail.upper()
    return query, None


def matches(query: str, inst: Instrument) -> bool:
    """Whether a user's symbol names this instrument (USD queries match the USD family)."""
    name, outcome = split_outcome(query.strip())
    if inst.kind == "event_contract":
        names = {inst.symbol, inst.venue_symbol, *inst.aliases}
        hit = name in names or name.upper() in {n.upper() for n in names}
        if not hit:
            return False
        return outcome is None or inst.outcome is None or inst.outcome == outcome or name in inst.aliases
    m = _PAIR.match(name.upper())
    if not m:
        return name == inst.venue_symbol
    base, quote, perp = m.group(1), m.group(2), bool(m.group(3))
    if base != inst.base or perp != (inst.kind == "perp"):
        return False
    if quote == "USD":
        return inst.quote in USD_FAMILY
    return quote == inst.quote


def resolve(query: str, instruments: list[Instrument]) -> list[Instrument]:
    """Every instrument a query names, or a UsageError suggesting close matches."""
    found = [i for i in instruments if matches(query, i)]
    if found:
        return sorted(found, key=lambda i: (i.venue, i.symbol, i.outcome or ""))
    import difflib

    known = sorted({i.symbol for i in instruments} | {i.venue_symbol for i in instruments})
    close = difflib.get_close_matches(query.upper(), [k.upper() for k in known], n=3, cutoff=0.6)
    originals = [k for k in known if k.upper() in close][:3]
    hint = f"; did you mean {', '.join(originals)}?" if originals else "; run `sequence symbols` for the list"
    raise UsageError(f"unknown symbol '{query}'{hint}")


def parse_kinds(values: tuple[str, ...] | list[str]) -> set[str]:
    """``--kind`` values, repeatable or comma-separated; unknown kinds are an error."""
    kinds = set(parse_names(values))
    bad = sorted(kinds - set(KINDS))
    if bad:
        raise UsageError(f"unknown kind '{bad[0]}'; accepted: {', '.join(KINDS)}")
    return kinds


def parse_names(values: tuple[str, ...] | list[str], unique: bool = True) -> list[str]:
    """Repeatable or comma-separated names (``--venue a,b --venue c``), order kept, each once
    (with *unique*: else as given, for callers that refuse a repeat). An empty item is an
    error: ``--venue ,`` listed every venue, as if no filter had been given."""
    out: list[str] = []
    for v in values:
        for name in v.split(","):
            if not name.strip():
                raise UsageError(f"an empty name in '{v}' (names are comma-separated: a,b)")
            if not unique or name.strip() not in out:
                out.append(name.strip())
    return out


# -- inverse perpetuals: sizes in contracts of a fixed USD value --------------------------------
# The store keeps the venue's own sizes, so a notional needs the contract's value. Sources:
# Binance COIN-M contract specs (BTCUSD_PERP 100 USD, others 10 USD), OKX inverse swaps
# (BTC-USD-SWAP 100 USD, others 10 USD), Huobi coin-margined swaps (same), Bybit inverse and
# BitMEX XBTUSD (1 USD a contract).
INVERSE_CONTRACT_USD = {"binance": {"BTC": 100, "*": 10}, "okx": {"BTC": 100, "*": 10},
                        "huobi": {"BTC": 100, "*": 10}, "bybit": {"*": 1}, "bitmex": {"*": 1}}


def contract_value_usd(venue: str, symbol: str) -> float | None:
    """USD per contract of an inverse perpetual (``<BASE>-USD-PERP``) on *venue*, else None."""
    m = _PAIR.match(symbol)
    if not m or m.group(2) != "USD" or not m.group(3) or venue not in INVERSE_CONTRACT_USD:
        return None
    table = INVERSE_CONTRACT_USD[venue]
    return float(table.get(m.group(1), table["*"]))


def quote_notional(venue: str, symbol: str, price, size):
    """Traded notional in the quote currency (arrays welcome): price × size, or contracts ×
    contract value for inverse perpetuals, whose sizes are contracts rather than base units."""
    cv = contract_value_usd(venue, symbol)
    return size * cv if cv is not None else price * size


# -- declaring a venue's instruments (used by every venue plugin's symbols.py) -------------------
def plain(number: str | Decimal) -> str:
    """A venue's padded decimal ("0.01000000") as its plain shortest form ("0.01")."""
    return format(Decimal(number).normalize(), "f")


def spot(venue: str, base: str, quote: str, venue_symbol: str, tick: str, lot: str,
         min_notional: str = "0", min_qty: str = "0") -> Instrument:
    return Instrument(venue, f"{base}-{quote}", venue_symbol, "crypto", base, quote, Decimal(tick), Decimal(lot),
                      Decimal(min_notional), Decimal(min_qty))


def perp(venue: str, base: str, quote: str, venue_symbol: str, tick: str, lot: str,
         min_notional: str = "0", min_qty: str = "0") -> Instrument:
    """A perpetual swap; quantities are in base units (contract sizes converted by the adapter)."""
    return Instrument(venue, f"{base}-{quote}-PERP", venue_symbol, "perp", base, quote, Decimal(tick), Decimal(lot),
                      Decimal(min_notional), Decimal(min_qty))


def event(venue: str, symbol: str, outcome: str, venue_symbol: str, quote: str, tick: str, lot: str,
          title: str = "", aliases: tuple[str, ...] = (), min_qty: str = "0") -> Instrument:
    """One outcome (YES or NO) of a binary event contract, priced in [0, 1] of ``quote``."""
    return Instrument(venue, symbol, venue_symbol, "event_contract", symbol, quote, Decimal(tick), Decimal(lot),
                      min_qty=Decimal(min_qty), outcome=outcome, title=title, aliases=aliases)


class SymbolMap:
    """Canonical <-> venue naming for one venue, built from its declared instruments."""

    def __init__(self, instruments: tuple[Instrument, ...] | list[Instrument]):
        self.instruments = tuple(instruments)
        self._to_venue = {(i.symbol, i.outcome): i.venue_symbol for i in self.instruments}
        self._to_canonical = {i.venue_symbol: i.symbol for i in self.instruments}

    def to_venue(self, symbol: str) -> str:
        name, outcome = split_outcome(symbol)
        for key in ((name, outcome), (name, None), (name, "YES")):
            if key in self._to_venue:
                return self._to_venue[key]
        raise UsageError(f"no venue symbol for '{symbol}'; known: {', '.join(sorted({s for s, _ in self._to_venue}))}")

    def to_canonical(self, venue_symbol: str) -> str:
        if venue_symbol not in self._to_canonical:
            raise UsageError(f"unknown venue symbol '{venue_symbol}'")
        return self._to_canonical[venue_symbol]
