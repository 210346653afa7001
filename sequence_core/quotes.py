"""NBBO and per-venue BBO for one symbol, from the active market-data source."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from .errors import UsageError
from .market import Instrument, MarketDataSource, OrderBook, outcome_symbol, resolve, with_outcomes


class VenueQuote(msgspec.Struct, frozen=True):
    venue: str
    book: str                    # the real book (BTC-USDT, a ticker, a slug)
    bid: Decimal | None
    ask: Decimal | None
    bid_size: Decimal | None
    ask_size: Decimal | None
    age_ms: float                # how old the venue's state is at the source's clock
    ts_ns: int


class Nbbo(msgspec.Struct, frozen=True):
    bid: Decimal | None
    ask: Decimal | None
    spread_bps: Decimal | None
    bid_venue: str | None
    ask_venue: str | None


class Quote(msgspec.Struct, frozen=True):
    symbol: str
    source: str
    at_ns: int
    nbbo: Nbbo
    venues: list[VenueQuote]
    tick: Decimal                # finest tick among the books, for display


def spread_bps(bid: Decimal, ask: Decimal) -> Decimal:
    mid = (bid + ask) / 2
    return ((ask - bid) / mid * 10_000).quantize(Decimal("0.01")) if mid else Decimal(0)


def from_books(symbol: str, source: MarketDataSource, at_ns: int, books: list[OrderBook], tick: Decimal) -> Quote:
    rows = []
    for b in books:
        bb, ba = b.best_bid, b.best_ask
        # age from the venue's time of the state; a venue clock that reads later than our
        # receipt (clock skew: not an age) gives way to our receipt, on the source's own clock
        rows.append(VenueQuote(b.venue, b.symbol, bb.price if bb else None, ba.price if ba else None,
                               bb.size if bb else None, ba.size if ba else None,
                               round((at_ns - min(b.ts_ns, b.received_ns)) / 1e6, 1), b.ts_ns))
    bids = [r for r in rows if r.bid is not None]
    asks = [r for r in rows if r.ask is not None]
    best_bid = max(bids, key=lambda r: (r.bid, r.bid_size)) if bids else None
    best_ask = min(asks, key=lambda r: (r.ask, -r.ask_size)) if asks else None
    nbbo = Nbbo(best_bid.bid if best_bid else None, best_ask.ask if best_ask else None,
                spread_bps(best_bid.bid, best_ask.ask) if best_bid and best_ask else None,
                best_bid.venue if best_bid else None, best_ask.venue if best_ask else None)
    return Quote(symbol, source.label(), at_ns, nbbo, sorted(rows, key=lambda r: (r.venue, r.book)), tick)


def quote(symbol: str, instruments: list[Instrument], source: MarketDataSource) -> Quote:
    found = resolve(symbol, instruments)
    at = source.now_ns()
    books = source.books(found, at, depth=1)
    if not books:
        errors = getattr(source, "errors", None)      # the live source says why each venue gave none
        why = "; ".join(e if str(e).startswith(f"{v}:") else f"{v}: {e}" for v, e in sorted(errors.items())) if errors else ""
        raise UsageError(f"the {source.label()} source has no book for '{symbol}'" + (f" ({why})" if why else ""))
    books = [msgspec.structs.replace(b, symbol=outcome_symbol(b.symbol, outcome)) for b, outcome in with_outcomes(books, found)]
    # the quote's moment is when its books were in hand: a live source reads them after `at`
    # (a REST snapshot), and an age counted from before that read came out negative
    at = max([at] + [b.received_ns for b in books])
    return from_books(symbol, source, at, books, min(i.tick_size for i in found))
