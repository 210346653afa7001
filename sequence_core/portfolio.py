"""The unified positions view: ledger rows valued at marks from the market-data source."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from .ledger import Position, cash_kind
from .market import USD_FAMILY, Instrument, MarketDataSource, with_outcomes


class PositionRow(msgspec.Struct, frozen=True):
    instrument: str
    venue: str
    kind: str
    qty: Decimal
    entry: Decimal
    mark: Decimal | None         # None: no price available for this instrument
    unrealized_pnl: Decimal
    value_usd: Decimal
    status: str
    label: str = ""              # where the holding is, as the venue names it (dex:arb); default venue


class PortfolioSummary(msgspec.Struct, frozen=True):
    nav: Decimal
    cash: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    fees: Decimal


class Positions(msgspec.Struct, frozen=True):
    mode: str                    # live | sandbox
    source: str
    rows: list[PositionRow]
    summary: PortfolioSummary


def _mark_instrument(pos: Position, instruments: list[Instrument]) -> Instrument | None:
    """The book that prices a holding: the contract itself, else the asset's USD-family book
    on the same venue, else on any venue (deterministic order)."""
    if pos.kind in ("perp", "event_contract"):
        from .journal import position_key

        return next((i for i in instruments if i.venue == pos.venue and position_key(i) == pos.instrument), None)
    candidates = [i for i in instruments if i.kind == "crypto" and i.base == pos.instrument and i.quote in USD_FAMILY]
    same = [i for i in candidates if i.venue == pos.venue]
    return (same or sorted(candidates, key=lambda i: (i.venue, i.symbol)) or [None])[0]


def asset_price(source: MarketDataSource, instruments: list[Instrument], venue: str, asset: str) -> Decimal | None:
    """Mid of ``asset`` against the USD family on ``venue`` (else on any venue), from the first
    such book the source serves (a replay source serves only the books it recorded)."""
    books = [i for i in instruments if i.kind == "crypto" and i.base == asset and i.quote in USD_FAMILY]
    ordered = sorted(books, key=lambda i: (i.venue != venue, i.venue, i.symbol))
    for book in source.books(ordered, source.now_ns(), 1) if ordered else ():
        if book.best_bid is not None and book.best_ask is not None:
            return (book.best_bid.price + book.best_ask.price) / 2
    return None


def reported_positions(venues: dict, store, timeout_s: float = 5.0) -> dict[str, list[Position]]:
    """Live: positions as each connected venue reports them (perps, event contracts), for the
    venues whose execution session can tell; a venue that cannot, or does not answer in time,
    is left out (its rows stay the ledger's)."""
    import asyncio
    import logging

    from .feeds import _run_sync
    from .journal import position_key
    from .venues import live_session

    async def one(name, v):
        session = live_session(name, v, store)
        if session is None:
            return name, None
        try:
            return name, await asyncio.wait_for(session.positions(), timeout_s)
        except Exception as exc:  # noqa: BLE001 - the ledger's view stands; say why in the log
            logging.getLogger("sequence.positions").warning("%s positions: %s", name, exc)
            return name, None
        finally:
            await session.close()

    async def every():
        return await asyncio.gather(*(one(n, v) for n, v in venues.items()))

    out: dict[str, list[Position]] = {}
    for name, reported in _run_sync(every, timeout_s + 2):
        if reported is None:
            continue
        by_symbol = {i.venue_symbol: i for i in venues[name].instruments()}
        out[name] = [Position(name, position_key(inst), inst.kind, p.qty, (p.entry_price or Decimal(0)) * p.qty,
                              Decimal(0), Decimal(0), "open")
                     for p in reported if p.qty and (inst := by_symbol.get(p.venue_symbol)) is not None]
    return out


def merge_reported(rows: list[Position], reported: dict[str, list[Position]]) -> list[Position]:
    """The venue's word replaces the ledger's for its perps and event contracts (realized
    P&L and fees stay the ledger's: the journal saw every fill); cash and spot stay as kept."""
    ledger = {(p.venue, p.instrument): p for p in rows}
    kept = [p for p in rows if not (p.venue in reported and p.kind in ("perp", "event_contract"))]
    for venue_rows in reported.values():
        for p in venue_rows:
            known = ledger.get((p.venue, p.instrument))
            kept.append(msgspec.structs.replace(p, realized=known.realized, fees=known.fees) if known else p)
    return kept


def value(positions: list[Position], instruments: list[Instrument], source: MarketDataSource, mode: str) -> Positions:
    at = source.now_ns()
    wanted = {id(p): _mark_instrument(p, instruments) for p in positions if cash_kind(p.instrument) is None}
    unique = {(i.venue, i.symbol, i.outcome): i for i in wanted.values() if i is not None}
    marks = {}
    for book, outcome in with_outcomes(source.books(list(unique.values()), at, depth=1), unique.values()):
        if book.best_bid and book.best_ask:
            marks[(book.venue, book.symbol, outcome)] = (book.best_bid.price + book.best_ask.price) / 2
    rows = []
    cash = unreal = realized = fees = nav = Decimal(0)
    for p in positions:
        realized += p.realized
        fees += p.fees
        if cash_kind(p.instrument):
            rows.append(PositionRow(p.instrument, p.venue, p.kind, p.qty, Decimal(1), Decimal(1), Decimal(0), p.qty, p.status))
            cash += p.qty
            nav += p.qty
            continue
        inst = wanted.get(id(p))
        mark = marks.get((inst.venue, inst.symbol, inst.outcome)) if inst else None
        entry = p.entry
        pnl = (mark - entry) * p.qty if mark is not None and p.qty else Decimal(0)
        worth = mark * p.qty if mark is not None and p.kind != "perp" else pnl
        rows.append(PositionRow(p.instrument, p.venue, p.kind, p.qty, entry, mark, pnl, worth, p.status))
        unreal += pnl
        nav += worth
    return Positions(mode, source.label(), rows, PortfolioSummary(nav, cash, unreal, realized, fees))
